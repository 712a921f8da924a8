//! The plain JS objects the app receives: events for `subscribe` listeners and the
//! `getSnapshot()` object. Built field by field (no serde), numbers as ms since the epoch.

use crate::core::session::{Event, LoginReason, Snapshot};
use crate::core::Millis;
use js_sys::{Object, Reflect};
use wasm_bindgen::JsValue;

/// `obj[key] = value` on a fresh plain object (which cannot fail, so the result is ignored).
pub fn set(obj: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(obj, &JsValue::from_str(key), value);
}

fn time(at: Millis) -> JsValue {
    JsValue::from_f64(at as f64)
}

/// `{ type, ... }` with the given type and one optional extra field.
pub fn object(kind: &str, extra: Option<(&str, JsValue)>) -> JsValue {
    let obj = Object::new();
    set(&obj, "type", &JsValue::from_str(kind));
    if let Some((key, value)) = extra {
        set(&obj, key, &value);
    }
    obj.into()
}

/// The JS name of a login reason (also what `onLoginRequired` receives).
pub fn reason_name(reason: &LoginReason) -> &'static str {
    match reason {
        LoginReason::RefreshTokenDead { .. } => "refreshTokenDead",
        LoginReason::NoRefreshToken => "noRefreshToken",
        LoginReason::ExpiredElsewhere => "expiredElsewhere",
    }
}

/// The listener object for a core event.
pub fn event(event: &Event) -> JsValue {
    match event {
        Event::SignedIn { expires_at } => {
            object("signedIn", Some(("expiresAt", time(*expires_at))))
        }
        Event::Refreshed { expires_at } => {
            object("refreshed", Some(("expiresAt", time(*expires_at))))
        }
        Event::Throttled { retry_at } => object("throttled", Some(("retryAt", time(*retry_at)))),
        Event::RetryScheduled { retry_at } => {
            object("retryScheduled", Some(("retryAt", time(*retry_at))))
        }
        Event::Expired { reason } => object(
            "expired",
            Some(("reason", JsValue::from_str(reason_name(reason)))),
        ),
        Event::SignedOut => object("signedOut", None),
        Event::StorageDiscarded { error } => {
            let mut detail = String::new();
            error.describe(&mut detail);
            object(
                "storageDiscarded",
                Some(("detail", JsValue::from_str(&detail))),
            )
        }
    }
}

/// The frozen `getSnapshot()` object.
pub fn snapshot(s: &Snapshot) -> JsValue {
    let obj = Object::new();
    let opt = |t: Option<Millis>| t.map_or(JsValue::NULL, time);
    set(&obj, "signedIn", &JsValue::from_bool(s.signed_in));
    set(&obj, "expiresAt", &opt(s.expires_at));
    set(&obj, "refreshing", &JsValue::from_bool(s.refreshing));
    set(&obj, "retryAt", &opt(s.retry_at));
    set(&obj, "expired", &JsValue::from_bool(s.expired));
    Object::freeze(&obj).into()
}
