//! cognito-session keeps a single-page app signed in with Amazon Cognito or any OAuth2 / OpenID
//! Connect provider.
//!
//! The crate has three layers (see `ARCHITECTURE.md`):
//!
//! - [`engine`]: a deterministic, sans-IO state machine plus the parsers, protocols and policies it
//!   uses. It never reads a clock, draws a random number or touches the network: time and
//!   randomness come in as arguments. It compiles and is tested on the host, and the same code
//!   runs in the browser and in the simulators under `tests/` and `examples/`.
//! - [`wire`]: the contract between the engine and the JavaScript shell: operations in, replies
//!   out, natively compiled and tested against the shell's golden vectors.
//! - the browser shell (wasm32 only): turns browser happenings into core events and performs the
//!   core's actions. Two of them drive the same engine: the JavaScript shell of the npm package
//!   (`src/shell`), and, with the cargo feature `web`, `cognito_session::web`: a `Session` for Rust
//!   frontends.
#![forbid(unsafe_code)]
// The shipped `.wasm` is built without std (scripts/build.sh turns on `panic-handler`): std's
// panic machinery formats messages nobody reads (panic = abort), about 1 KB gzip. Hence the
// `alloc` and `::core` paths throughout; native builds and the wasm tests link std as usual.
#![cfg_attr(all(target_arch = "wasm32", feature = "panic-handler"), no_std)]
extern crate alloc;

pub mod engine;
pub mod wire;

// The npm package's export surface and allocator. Left out of a Rust app's build (feature
// `web`): the app has no use for the JavaScript class `Core` and keeps its own allocator.
#[cfg(all(target_arch = "wasm32", not(feature = "web")))]
pub mod shell;

#[cfg(feature = "web")]
pub mod web;

// The Rust driver needs std (its crates do); `panic-handler` is the npm build's no-std switch.
#[cfg(all(feature = "web", feature = "panic-handler"))]
compile_error!(
    "the features `web` (a Rust app's) and `panic-handler` (the npm .wasm's) exclude each other"
);

#[cfg(not(target_arch = "wasm32"))]
pub mod sim;
