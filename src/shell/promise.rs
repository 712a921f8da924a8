//! Promise continuations without an async executor: run this Rust code once that promise
//! settles, and make a promise that Rust code settles later.
//!
//! The shell used to `await` promises through `wasm-bindgen-futures`; its executor, wakers and
//! one state machine per `async fn` cost 6 KB of `.wasm` (2 KB gzipped) and 1.3 KB of JS glue.
//! Every wait goes through [`settle`] instead, with one closure shape (`Box<dyn FnOnce(Outcome)>`)
//! for the whole shell. Its continuations always run on a later microtask, never inside the call
//! that registered them, so they may borrow the session state.

use js_sys::{Array, Function, Promise, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};

/// How a promise settled: `Ok(value)` or `Err(reason)`.
pub type Outcome = Result<JsValue, JsValue>;

/// A continuation that receives an [`Outcome`] exactly once.
pub type Then = Box<dyn FnOnce(Outcome)>;

#[wasm_bindgen]
extern "C" {
    /// A promise seen through `then(f)` with `f` a plain JS function (one made by
    /// `Closure::once_into_js`), which js-sys's typed `then` does not take.
    type Thenable;
    #[wasm_bindgen(method)]
    fn then(this: &Thenable, f: &JsValue);
}

/// Runs `then` with the outcome of `promise` once it settles.
///
/// `Promise.allSettled([promise])` always fulfils, so the one-shot callback is always called
/// and frees itself: nothing leaks, whichever way `promise` ends. (A pair of `then`/`catch`
/// one-shot callbacks would leak the one never called.)
pub fn settle(promise: &Promise, then: impl FnOnce(Outcome) + 'static) {
    settle_boxed(promise, Box::new(then));
}

fn settle_boxed(promise: &Promise, then: Then) {
    let all = Promise::all_settled(&Array::of1(promise));
    let callback = Closure::once_into_js(move |settled: JsValue| {
        // `[{status: "fulfilled", value}]` or `[{status: "rejected", reason}]`.
        let entry = Reflect::get_u32(&settled, 0).unwrap_or(JsValue::UNDEFINED);
        let field = |name: &str| Reflect::get(&entry, &JsValue::from_str(name));
        let fulfilled =
            field("status").ok().and_then(|s| s.as_string()).as_deref() == Some("fulfilled");
        let outcome = if fulfilled {
            Ok(field("value").unwrap_or(JsValue::UNDEFINED))
        } else {
            Err(field("reason").unwrap_or(JsValue::UNDEFINED))
        };
        then(outcome);
    });
    all.unchecked_ref::<Thenable>().then(&callback);
}

/// Runs `later` on a later microtask.
pub fn defer(later: impl FnOnce() + 'static) {
    settle(&Promise::resolve(&JsValue::UNDEFINED), move |_| later());
}

/// A new promise, settled by the continuation `start` is handed (resolving it with a promise
/// adopts that promise's outcome).
pub fn promise(start: impl FnOnce(Then)) -> Promise {
    let mut settlers: Option<(Function, Function)> = None;
    let promise = Promise::new(&mut |resolve, reject| settlers = Some((resolve, reject)));
    let complete: Then = match settlers {
        Some((resolve, reject)) => Box::new(move |outcome| {
            let _ = match outcome {
                Ok(value) => resolve.call1(&JsValue::UNDEFINED, &value),
                Err(reason) => reject.call1(&JsValue::UNDEFINED, &reason),
            };
        }),
        // The executor runs synchronously inside `new Promise`; this arm is unreachable.
        None => Box::new(|_| {}),
    };
    start(complete);
    promise
}
