//! The errors JavaScript sees: `Error` objects with a stable `code` to switch on.
//!
//! Every failure the shell reports, whether the core's [`SessionError`], a bad config value or
//! a browser API that threw, leaves as one of these. `code` is one of `THROTTLED`,
//! `UNAVAILABLE`, `SESSION_EXPIRED`, `NOT_SIGNED_IN`, `BAD_CONFIG`, `BAD_RESPONSE`; `retryAt`
//! (ms since the epoch) is set when the session knows when trying again can help.

use crate::core::classify::{FailureKind, ProviderError};
use crate::core::session::SessionError;
use crate::core::Millis;
use wasm_bindgen::JsValue;

/// `code` values.
pub const THROTTLED: &str = "THROTTLED";
pub const UNAVAILABLE: &str = "UNAVAILABLE";
pub const NOT_SIGNED_IN: &str = "NOT_SIGNED_IN";
pub const BAD_CONFIG: &str = "BAD_CONFIG";
pub const BAD_RESPONSE: &str = "BAD_RESPONSE";

/// An `Error` with `message`, `code` and, when given, `retryAt`.
pub fn error(code: &'static str, message: &str, retry_at: Option<Millis>) -> JsValue {
    let error = js_sys::Error::new(message);
    // Setting a property on a fresh Error cannot fail; ignore the Result rather than panic.
    let _ = js_sys::Reflect::set(&error, &"code".into(), &code.into());
    if let Some(at) = retry_at {
        let _ = js_sys::Reflect::set(&error, &"retryAt".into(), &(at as f64).into());
    }
    error.into()
}

/// A `BAD_CONFIG` error: the app passed something that cannot work.
pub fn bad_config(message: &str) -> JsValue {
    error(BAD_CONFIG, message, None)
}

/// `message` followed by the JS exception's own message, when it has one.
pub fn with_cause(message: &str, cause: &JsValue) -> String {
    let mut text = String::from(message);
    let detail = js_sys::Reflect::get(cause, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| cause.as_string());
    if let Some(detail) = detail.filter(|d| !d.is_empty()) {
        text.push_str(": ");
        text.push_str(&detail);
    }
    text
}

/// The JS error for a core [`SessionError`].
pub fn session_error(e: &SessionError) -> JsValue {
    let retry_at = match e {
        SessionError::Throttled { retry_at } => Some(*retry_at),
        SessionError::Unavailable { retry_at } => *retry_at,
        _ => None,
    };
    error(e.code(), &e.to_string(), retry_at)
}

/// The JS error for a failed sign-in exchange. A dead credential here means the user name or
/// password was refused: `NOT_SIGNED_IN`. `providerCode` keeps the provider's error name.
pub fn sign_in_error(now: Millis, e: &ProviderError) -> JsValue {
    let retry_at = e.retry_after.map(|d| now.saturating_add(d));
    let code = match e.kind {
        FailureKind::Throttled => THROTTLED,
        FailureKind::ServerError | FailureKind::Network => UNAVAILABLE,
        FailureKind::CredentialDead => NOT_SIGNED_IN,
        FailureKind::CallerBug => BAD_CONFIG,
        FailureKind::BadResponse => BAD_RESPONSE,
    };
    let mut message = String::new();
    e.describe(&mut message);
    let error = error(code, &message, retry_at);
    let _ = js_sys::Reflect::set(&error, &"providerCode".into(), &e.code.as_str().into());
    error
}
