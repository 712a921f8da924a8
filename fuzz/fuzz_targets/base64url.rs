//! `engine::base64url` against the `base64` crate as the oracle (URL-safe alphabet, padding
//! optional but exactly the length the data needs when present, unused trailing bits allowed —
//! the module's documented choices):
//!
//! - `decode` accepts exactly what the oracle accepts, with the same bytes;
//! - what decodes re-encodes to the input without its padding, up to the unused trailing bits
//!   (same length, and decoding that gives the same bytes);
//! - `encode` of the raw input bytes is the oracle's unpadded encoding and decodes back to them.
#![no_main]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use cognito_session::engine::base64url;
use cognito_session_fuzz::base64url_oracle;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let encoded = base64url::encode(data);
    assert_eq!(encoded, URL_SAFE_NO_PAD.encode(data));
    assert_eq!(base64url::decode(&encoded).as_deref(), Ok(data));

    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let ours = base64url::decode(input);
    let theirs = base64url_oracle(input);
    match (&ours, &theirs) {
        (Ok(a), Some(b)) => assert_eq!(a, b, "decoded differently"),
        (Ok(a), None) => panic!("accepted what the oracle refuses: {a:?}"),
        (Err(e), Some(b)) => panic!("refused what the oracle accepts ({e:?}): {b:?}"),
        (Err(_), None) => {}
    }
    if let Ok(bytes) = ours {
        let unpadded = input.trim_end_matches('=');
        let again = base64url::encode(&bytes);
        assert_eq!(again.len(), unpadded.len());
        assert_eq!(base64url::decode(&again), Ok(bytes));
    }
});
