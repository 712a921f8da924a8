//! One cancellable `setTimeout`: the driver's single re-armed deadline and the sign-in time
//! limit. Dropping a [`Timer`] cancels it.
//!
//! Written here rather than taken from `gloo-timers` so that its callback shares the one closure
//! shape (`FnMut(JsValue)`) the rest of the shell uses; every distinct shape costs an invoke shim
//! in the `.wasm` and a wrapper in the JS glue.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(callback: &Closure<dyn FnMut(JsValue)>, ms: u32) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(handle: &JsValue);
}

/// A pending `setTimeout`; dropping it cancels the call.
pub struct Timer {
    handle: JsValue,
    _callback: Closure<dyn FnMut(JsValue)>,
}

impl Timer {
    /// Calls `fire` once after `ms` milliseconds (`setTimeout` treats delays past 2^31 - 1 ms as
    /// 0: callers cap them).
    pub fn new(ms: u32, fire: Box<dyn FnOnce()>) -> Timer {
        let mut fire = Some(fire);
        let callback = Closure::<dyn FnMut(JsValue)>::new(move |_: JsValue| {
            if let Some(fire) = fire.take() {
                fire();
            }
        });
        Timer {
            handle: set_timeout(&callback, ms),
            _callback: callback,
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        clear_timeout(&self.handle);
    }
}
