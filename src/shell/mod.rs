//! The `.wasm`'s side of the browser shell: the engine behind the [`wire`](crate::wire), exported
//! for the JavaScript shell in `src/shell/js/`.
//!
//! The browser work (fetch, storage, Web Locks, BroadcastChannel, timers, DOM events, promises,
//! the public `Session` class) is hand-written JavaScript; this module only lets wasm-bindgen
//! carry the wire's numbers and strings across, so the `.wasm` imports nothing from the page and
//! the glue stays a few hundred lines. It decides nothing. Code map:
//!
//! - `exports`: the `Core` class (one [`wire::Dispatcher`](crate::wire::Dispatcher)).

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
