//! The `.wasm`'s side of the browser shell: the sans-IO [`core`](crate::engine) behind a narrow
//! export surface for the JavaScript shell in `src/shell/js/`.
//!
//! The browser work (fetch, storage, Web Locks, BroadcastChannel, timers, DOM events, promises,
//! the public `Session` class) is hand-written JavaScript; this module only carries numbers,
//! booleans and strings across, so the `.wasm` imports nothing from the page and the
//! wasm-bindgen glue stays a few hundred lines. All policy stays in the core. Code map:
//!
//! - `exports`: the `Core` class (one core `Session`) and `poolError`, with the compact text
//!   encodings of actions, answers and errors that the JS shell decodes.

mod exports;

pub use exports::Core;

/// The `.wasm`'s allocator: talc instead of std's dlmalloc, about 7 KB smaller (the numbers are
/// in Cargo.toml). The shell is wasm32-only, so native builds keep the system allocator.
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

/// Without std (feature `panic-handler`, the shipped build), a panic traps. The core and this
/// module are written not to panic on any input, so reaching this is a bug, never a path; a trap
/// is what `panic = "abort"` would do anyway, minus formatting a message nobody reads.
#[cfg(feature = "panic-handler")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}
