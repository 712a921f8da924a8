//! Cross-tab plumbing for `localStorage` sessions: the Web Locks refresh lock and the
//! BroadcastChannel the tabs of one session talk over.
//!
//! The lock is held by keeping the promise returned from the `navigator.locks.request` callback
//! pending until the core says `ReleaseRefreshLock`. Web Locks are reached through `Reflect`
//! (web-sys marks the API unstable); where they are missing, the caller grants the lock at once,
//! and the core's own checks (adopting a newer stored record) keep the damage to a duplicate
//! refresh at worst.

use super::promise::settle;
use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

/// Asks for the exclusive lock `name`; `on_granted` runs when it is held and returns the promise
/// whose settling releases it. Returns `false` when Web Locks are unavailable (nothing was
/// requested and `on_granted` was dropped).
pub fn request_lock(name: &str, on_granted: Box<dyn FnOnce() -> Promise>) -> bool {
    let Some(window) = super::window() else {
        return false;
    };
    let locks = Reflect::get(&window, &"navigator".into())
        .and_then(|n| Reflect::get(&n, &"locks".into()))
        .unwrap_or(JsValue::UNDEFINED);
    if !locks.is_object() {
        return false;
    }
    let Ok(request) =
        Reflect::get(&locks, &"request".into()).and_then(|r| r.dyn_into::<Function>())
    else {
        return false;
    };
    let callback =
        Closure::<dyn FnMut(JsValue) -> JsValue>::once_into_js(move |_lock: JsValue| -> JsValue {
            on_granted().into()
        });
    match request.call2(&locks, &JsValue::from_str(name), &callback) {
        Ok(pending) => {
            // A refused request (opaque origin, lock manager shut down) is left to the core's
            // lock timeout; watching the promise settle keeps a rejection from surfacing as
            // unhandled (and, unlike a one-shot `catch` callback, frees itself either way).
            settle(pending.unchecked_ref::<Promise>(), |_| {});
            true
        }
        Err(_) => false,
    }
}

/// A `BroadcastChannel` and the handler its messages go to; closed on drop.
pub struct Channel {
    channel: web_sys::BroadcastChannel,
    _on_message: Closure<dyn FnMut(JsValue)>,
}

impl Channel {
    /// Opens channel `name`; every string message is passed to `on_message`. `None` where
    /// BroadcastChannel is unavailable.
    pub fn open(name: &str, mut on_message: impl FnMut(String) + 'static) -> Option<Channel> {
        let channel = web_sys::BroadcastChannel::new(name).ok()?;
        let handler = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            // `onmessage` is always called with a MessageEvent.
            if let Some(text) = e
                .unchecked_ref::<web_sys::MessageEvent>()
                .data()
                .as_string()
            {
                on_message(text);
            }
        });
        channel.set_onmessage(Some(handler.as_ref().unchecked_ref()));
        Some(Channel {
            channel,
            _on_message: handler,
        })
    }

    /// Sends `message` to the other tabs (never to this one). A closed channel drops it.
    pub fn post(&self, message: &str) {
        let _ = self.channel.post_message(&JsValue::from_str(message));
    }
}

impl Drop for Channel {
    fn drop(&mut self) {
        self.channel.set_onmessage(None);
        self.channel.close();
    }
}
