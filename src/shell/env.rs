//! The shell's only window on the clock and on randomness: `Date.now()` and
//! `crypto.getRandomValues`. Everything else receives `now` and the seed from here, so the core
//! stays deterministic and this file is the one place to look when time or jitter misbehaves.

use crate::core::Millis;

/// Milliseconds since the Unix epoch on the browser's clock (`Date.now()`).
///
/// A clock before 1970 or a NaN (impossible in practice) reads as 0: the float-to-int cast
/// saturates, it never panics.
pub fn now() -> Millis {
    js_sys::Date::now() as Millis
}

/// A 64-bit seed for the core's jitter, from `crypto.getRandomValues`.
///
/// Without WebCrypto (very old browsers, some test shells) the seed falls back to
/// `Math.random()` mixed with the clock: jitter then only has to differ between tabs, not be
/// unpredictable, since it spreads load and guards no secret.
pub fn seed() -> u64 {
    let mut bytes = [0u8; 8];
    let filled = super::window()
        .and_then(|w| w.crypto().ok())
        .is_some_and(|c| c.get_random_values_with_u8_array(&mut bytes).is_ok());
    if filled {
        u64::from_le_bytes(bytes)
    } else {
        let random = (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64;
        random ^ now().rotate_left(32)
    }
}
