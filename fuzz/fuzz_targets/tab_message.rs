//! `tabs::TabMessage::decode` on any text, and `encode` of any message.
//!
//! Checks: what decodes survives `decode(encode(m)) == m`, and a record, sign-out or expiry
//! message encodes to the very text it came from; a backoff message built from the input's
//! numbers (`kind \x1f failures \x1f notBefore`, see the crate doc) survives encode / decode.
#![no_main]

use cognito_session::engine::classify::FailureKind;
use cognito_session::engine::tabs::TabMessage;
use cognito_session::engine::tokens::RetryState;
use cognito_session_fuzz::{fields, text};
use libfuzzer_sys::fuzz_target;

const KINDS: [FailureKind; 6] = [
    FailureKind::Throttled,
    FailureKind::ServerError,
    FailureKind::Network,
    FailureKind::CredentialDead,
    FailureKind::CallerBug,
    FailureKind::BadResponse,
];

fuzz_target!(|data: &[u8]| {
    let Some(input) = text(data) else { return };
    if let Some(message) = TabMessage::decode(input) {
        let encoded = message.encode();
        assert_eq!(
            TabMessage::decode(&encoded),
            Some(message.clone()),
            "{encoded:?}"
        );
        if !matches!(message, TabMessage::RetryLater { .. }) {
            assert_eq!(encoded, input);
        }
    }

    let mut f = fields(input);
    let kind = KINDS[(f.num() % 6) as usize];
    let retry = RetryState {
        failures: f.num() as u32,
        not_before: f.num(),
    };
    let sent = [
        TabMessage::RetryLater { retry, kind },
        TabMessage::Record(input),
        TabMessage::SignedOut,
        TabMessage::Expired,
    ];
    for message in sent {
        let encoded = message.encode();
        assert_eq!(TabMessage::decode(&encoded), Some(message), "{encoded:?}");
    }
});
