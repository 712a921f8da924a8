//! `redirect::Pending::decode` on any text, and `encode` of any record.
//!
//! Checks: what decodes encodes back to the very text (and decodes again to the same record);
//! a record built from the input's fields (split at `\x1f`) survives `encode` / `decode`
//! exactly when every field is non-empty and has no line break, and otherwise reads as none.
#![no_main]

use cognito_session::engine::redirect::Pending;
use cognito_session_fuzz::{fields, text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(input) = text(data) else { return };
    if let Some(pending) = Pending::decode(input) {
        assert_eq!(pending.encode(), input, "decode/encode changed the text");
        assert_eq!(Pending::decode(&pending.encode()), Some(pending.clone()));
        let _ = pending.wants_id_token();
    }

    let mut f = fields(input);
    let pending = Pending {
        state: f.text().into(),
        verifier: f.text().into(),
        nonce: f.text().into(),
        redirect_uri: f.text().into(),
        scope: f.text().into(),
    };
    let fits = [
        &pending.state,
        &pending.verifier,
        &pending.nonce,
        &pending.redirect_uri,
        &pending.scope,
    ]
    .iter()
    .all(|field| !field.is_empty() && !field.contains('\n'));
    let back = Pending::decode(&pending.encode());
    assert_eq!(
        back.is_some(),
        fits,
        "encode/decode of {:?}",
        pending.encode()
    );
    if let Some(back) = back {
        assert!(back == pending, "encode/decode changed the record");
        assert_eq!(
            back.wants_id_token(),
            pending.scope.split(' ').any(|s| s == "openid")
        );
    }
});
