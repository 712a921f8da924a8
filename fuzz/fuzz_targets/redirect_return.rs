//! The return from the provider's login page: `redirect::own_record`, `redirect::read_callback`,
//! `Provider::answer_callback` (OAuth2 and both Cognito modes) and, end to end,
//! `SessionMachine::redirect_return` then `sign_in_answer`, over any callback fields, tab record
//! and configured issuer.
//!
//! Input: `code \x1f state \x1f error \x1f error_description \x1f iss \x1f record \x1f issuer \x1f
//! nonce_ok` (see the crate doc; `record` is the tab's `Pending` text, `issuer` the configured
//! one, `nonce_ok` odd when the answer's ID token carries the record's nonce).
//!
//! Checks: a code is exchanged only for this tab's record (it decodes and its `state` is the
//! callback's), never with an `error`, never for another issuer than the configured one, and
//! the exchange proves that record's verifier and redirect URI with that code; a return that is
//! not this tab's leaves the record unused; Cognito refuses every exchange as a caller bug; the
//! answer's ID token must carry the record's nonce.
#![no_main]

use cognito_session::engine::base64url;
use cognito_session::engine::classify::FailureKind;
use cognito_session::engine::error::ErrorCode;
use cognito_session::engine::http::HttpResponse;
use cognito_session::engine::json;
use cognito_session::engine::jwt::MAX_TOKEN_LEN;
use cognito_session::engine::machine::SessionMachine;
use cognito_session::engine::protocol::Provider;
use cognito_session::engine::redirect::{own_record, read_callback, Callback};
use cognito_session::engine::sign_in::SignedIn;
use cognito_session_fuzz::{
    check_error, config, fields, issuer, providers, text, T0, TOKEN_ENDPOINT,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(input) = text(data) else { return };
    let mut f = fields(input);
    let callback = Callback {
        code: f.opt(),
        state: f.opt(),
        error: f.opt(),
        error_description: f.opt(),
        iss: f.opt(),
    };
    let record = f.opt();
    let configured = f.opt();
    let nonce_ok = f.num() % 2 == 1;

    let own = own_record(&callback, record);
    let read = read_callback(&callback, record, configured);
    match (&own, &read) {
        (Err(e), r) => assert_eq!(r.as_ref().map(|_| ()), Err(e)),
        (Ok(p), Ok((q, code))) => {
            assert!(p == q);
            assert_eq!(callback.state, Some(p.state.as_str()));
            assert!(
                callback.error.is_none_or(str::is_empty),
                "an error exchanged"
            );
            assert!(!code.is_empty() && callback.code == Some(*code));
            if let (Some(c), Some(named)) = (configured, callback.iss) {
                assert_eq!(c, named, "exchanged a code from another issuer");
            }
        }
        (Ok(_), Err(_)) => {}
    }
    // An `error` that is `""` names no error (fuzz/regressions/redirect_return/ found it
    // becoming an error with an empty code).
    if let Err(e) = &read {
        check_error(e);
    }

    // `answer_callback` reads this tab's own return (what `own_record` gave).
    if let Ok(own) = &own {
        for provider in providers() {
            let answer = provider.answer_callback(&callback, own.clone(), configured);
            match (&provider, &read, answer) {
                (_, Err(e), answer) => assert_eq!(answer.err().as_ref(), Some(e)),
                (Provider::OAuth2 { client_id, .. }, Ok((pending, code)), Ok((p, request))) => {
                    assert!(p == *pending);
                    assert_eq!(request.url, TOKEN_ENDPOINT);
                    let pairs = form_decode(&request.body);
                    let expected = [
                        ("grant_type", "authorization_code"),
                        ("client_id", client_id.as_str()),
                        ("code", code),
                        ("redirect_uri", pending.redirect_uri.as_str()),
                        ("code_verifier", pending.verifier.as_str()),
                    ]
                    .map(|(k, v)| (k.to_owned(), v.to_owned()));
                    assert_eq!(pairs, expected, "{}", request.body);
                }
                (Provider::OAuth2 { .. }, Ok(_), Err(e)) => {
                    panic!("OAuth2 refused a good return: {e:?}")
                }
                (Provider::Cognito { .. }, Ok(_), answer) => {
                    let e = answer.expect_err("Cognito exchanged a code");
                    assert_eq!(
                        (e.kind, e.code.as_str()),
                        (FailureKind::CallerBug, "NotOAuth2")
                    );
                }
            }
        }
    }

    // End to end, through the session.
    let [_, _, oauth] = providers();
    let mut cfg = config(oauth, false);
    cfg.rules.issuer = configured.map(String::from);
    let mut machine = SessionMachine::new(cfg, 1, T0);
    match machine.redirect_return(T0, &callback, record) {
        Err(refused) => {
            assert!(read.is_err());
            assert_eq!(refused.record_used, own.is_ok(), "{refused:?}");
            assert_eq!(refused.error.provider_code, read.err().map(|e| e.code));
        }
        Ok(outgoing) => {
            let (pending, _) = read.expect("the session exchanged what read_callback refuses");
            let nonce = if nonce_ok {
                pending.nonce.clone()
            } else {
                format!("{}x", pending.nonce)
            };
            let (body, id_token_len) = answer(configured, &nonce);
            assert!(!outgoing.request.body.is_empty());
            let result = machine.sign_in_answer(T0, Ok(&HttpResponse::new(200, &body)));
            match result {
                // A record's nonce long enough makes an ID token no session accepts.
                Err(e) if id_token_len > MAX_TOKEN_LEN => {
                    assert_eq!(e.code, ErrorCode::BadResponse, "{e:?}")
                }
                Ok(SignedIn::Tokens) => {
                    assert!(nonce_ok, "signed in with another sign-in's nonce");
                    assert!(machine.access_token(T0).is_some());
                }
                Ok(SignedIn::Challenge(_)) => panic!("an OAuth2 challenge"),
                Err(e) if !nonce_ok => {
                    assert_eq!(e.provider_code.as_deref(), Some("NonceMismatch"), "{e:?}");
                    assert_eq!(e.code, ErrorCode::BadResponse);
                }
                Err(e) => panic!("refused its own sign-in's answer: {e:?}"),
            }
        }
    }
});

/// An OAuth2 token answer: an opaque access token and an ID token for the simulations' client,
/// from `iss` (the configured issuer, or the simulations'), carrying `nonce`; and the ID token's
/// length.
fn answer(iss: Option<&str>, nonce: &str) -> (String, usize) {
    let sim = issuer();
    let mut claims = String::from("{\"sub\":\"alice\",\"iss\":");
    json::write_string(&mut claims, iss.unwrap_or(&sim.iss));
    claims.push_str(",\"aud\":");
    json::write_string(&mut claims, &sim.client_id);
    let iat = T0 / 1000;
    claims.push_str(&format!(",\"iat\":{iat},\"exp\":{},\"nonce\":", iat + 3600));
    json::write_string(&mut claims, nonce);
    claims.push('}');
    let id_token = format!(
        "{}.{}.c2ln",
        base64url::encode(br#"{"alg":"RS256"}"#),
        base64url::encode(claims.as_bytes())
    );
    let body = format!(
        r#"{{"access_token":"opaque-at","id_token":"{id_token}","refresh_token":"rt-1","token_type":"Bearer","expires_in":3600}}"#
    );
    (body, id_token.len())
}

/// `application/x-www-form-urlencoded` pairs.
fn form_decode(body: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        let mut out = Vec::new();
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < b.len() => {
                    let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
                    out.push(u8::from_str_radix(hex, 16).unwrap());
                    i += 2;
                }
                c => out.push(c),
            }
            i += 1;
        }
        String::from_utf8(out).unwrap()
    };
    body.split('&')
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}
