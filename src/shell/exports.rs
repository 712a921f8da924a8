//! The `.wasm`'s export surface: the wire's [`Dispatcher`] as the JavaScript class `Core`.
//!
//! Nothing is decided here: the operations, their arguments and the replies are
//! [`crate::wire`]'s, natively compiled and tested; this file only lets wasm-bindgen carry
//! numbers and strings across. One entry point (`call`) instead of one export per operation keeps
//! the per-export wasm-bindgen wrappers and glue out of what a page downloads.

use alloc::string::String;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::engine::config::ProviderOptions;
use crate::wire::Dispatcher;

/// One session's engine, driven by the JS shell through [`Core::call`].
#[wasm_bindgen]
pub struct Core(Dispatcher);

#[wasm_bindgen]
impl Core {
    /// A signed-out session (see [`ProviderOptions`]; empty strings are "not given").
    /// `seed_hi`/`seed_lo` seed the retry jitter. Options that cannot work make every call
    /// answer the error that says why.
    #[wasm_bindgen(constructor)]
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        client_id: &str,
        user_pool_id: &str,
        endpoint: &str,
        token_endpoint: &str,
        issuer: &str,
        rotation: bool,
        verify_tokens: bool,
        jwks_uri: &str,
        seed_hi: u32,
        seed_lo: u32,
        now: f64,
    ) -> Core {
        let options = ProviderOptions {
            client_id,
            user_pool_id,
            endpoint,
            token_endpoint,
            issuer,
            rotation,
            verify_tokens,
            jwks_uri,
        };
        let seed = (u64::from(seed_hi) << 32) | u64::from(seed_lo);
        Core(Dispatcher::new(&options, seed, now))
    }

    /// Operation `op` at `now` with the numbers `n`, `m` and the strings `texts` (a JSON array,
    /// see [`Dispatcher::call_with_texts`]): its reply, or `undefined`.
    pub fn call(
        &mut self,
        op: u32,
        now: f64,
        n: f64,
        m: f64,
        texts: Option<String>,
    ) -> Option<String> {
        self.0.call_with_texts(op, now, n, m, texts.as_deref())
    }
}
