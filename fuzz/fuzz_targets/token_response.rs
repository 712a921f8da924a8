//! `Provider::parse_refresh` and `Provider::parse_sign_in` for Cognito (without and with
//! refresh-token rotation) and an OAuth2 token endpoint, over any status, body and headers.
//!
//! Input: `status \x1f body \x1f x-amzn-ErrorType \x1f retry-after \x1f x-amz-retry-after \x1f
//! padding` (see the crate doc; `padding` spaces are appended to the body, which is how a body
//! reaches the 64 KiB cap).
//!
//! Checks: a grant comes only from a 2xx answer within the cap, and its tokens are what the
//! parsers promise (access and ID tokens non-empty visible ASCII, refresh token non-empty); a
//! sign-in's tokens always carry a refresh token and are the refresh parser's grant; challenges
//! only from Cognito; every error is well formed and, for a non-2xx answer, is the provider's
//! classification; rotation changes nothing in what is read; a grant installs as fresh tokens
//! (when it does, at `T0`) valid for `min_validity` more and no longer than `exp` + the tolerated
//! skew.
#![no_main]

use cognito_session::engine::classify::ProviderError;
use cognito_session::engine::http::{HttpResponse, MAX_BODY};
use cognito_session::engine::jwt;
use cognito_session::engine::protocol::{Provider, SignInAnswer, TokenGrant};
use cognito_session::engine::tokens::{Provenance, TokenSet};
use cognito_session_fuzz::{check_error, config, fields, header_safe, providers, text, T0};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(input) = text(data) else { return };
    let mut f = fields(input);
    let status = f.num() as u16;
    let now = T0;
    let mut body = f.text().to_owned();
    let (error_type, retry_after, amz_retry_after) = (f.opt(), f.opt(), f.opt());
    let padding = (f.num() % 70_000) as usize;
    body.extend(std::iter::repeat_n(' ', padding));
    let resp = HttpResponse {
        status,
        error_type,
        retry_after,
        amz_retry_after,
        body: &body,
    };

    let answers: Vec<_> = providers()
        .into_iter()
        .map(|p| {
            let refresh = p.parse_refresh(&resp);
            let sign_in = p.parse_sign_in(&resp);
            check(&p, now, &resp, &refresh, &sign_in);
            (refresh, sign_in)
        })
        .collect();
    assert_eq!(answers[0], answers[1], "rotation changed what is read");
});

fn check(
    p: &Provider,
    now: u64,
    resp: &HttpResponse,
    refresh: &Result<TokenGrant, ProviderError>,
    sign_in: &Result<SignInAnswer, ProviderError>,
) {
    let success = (200..=299).contains(&resp.status) && resp.body.len() <= MAX_BODY;
    match refresh {
        Ok(grant) => {
            assert!(
                success,
                "a grant from status {} / {} B",
                resp.status,
                resp.body.len()
            );
            check_grant(p, now, grant);
        }
        Err(e) => {
            check_error(e);
            if resp.body.len() > MAX_BODY {
                assert_eq!(e.code, "BodyTooLarge");
            } else if !success {
                assert_eq!(*e, p.classify(resp), "not the provider's classification");
            }
        }
    }
    match sign_in {
        Ok(SignInAnswer::Tokens(grant)) => {
            assert!(
                grant.refresh_token.is_some(),
                "a sign-in without a refresh token"
            );
            assert_eq!(
                refresh.as_ref(),
                Ok(grant),
                "sign-in and refresh read different tokens"
            );
        }
        Ok(SignInAnswer::Challenge(name)) => {
            assert!(matches!(p, Provider::Cognito { .. }), "an OAuth2 challenge");
            assert!(success && !name.is_empty());
            // The shell reads Session and the parameters from the same body with JSON.parse:
            // what the engine approved must be what it finds there.
            let body: serde_json::Value =
                serde_json::from_str(resp.body).expect("an approved body is JSON");
            assert!(body["Session"].as_str().is_some_and(|s| !s.is_empty()));
            match &body["ChallengeParameters"] {
                serde_json::Value::Null => {}
                serde_json::Value::Object(p) => {
                    assert!(p.len() <= cognito_session::engine::challenge::MAX_PARAMETERS);
                    assert!(p.values().all(serde_json::Value::is_string));
                }
                other => panic!("approved parameters {other}"),
            }
            assert_eq!(
                refresh.as_ref().map_err(|e| e.code.as_str()),
                Err("UnexpectedChallenge")
            );
        }
        Err(e) => {
            check_error(e);
            match refresh {
                Ok(grant) => {
                    assert!(grant.refresh_token.is_none());
                    assert_eq!(e.code, "MissingRefreshToken");
                }
                Err(r) if r.code == "UnexpectedChallenge" => {
                    assert_eq!(e.code, "BadChallenge", "{r:?} / {e:?}")
                }
                Err(r) => assert_eq!(r, e, "refresh and sign-in read one failure differently"),
            }
        }
    }
}

fn check_grant(p: &Provider, now: u64, grant: &TokenGrant) {
    assert!(
        header_safe(&grant.access_token),
        "access token not header-safe"
    );
    assert!(
        grant.id_token.as_deref().is_none_or(header_safe),
        "ID token not header-safe"
    );
    assert!(grant.refresh_token.as_ref().is_none_or(|t| !t.is_empty()));
    let rules = config(p.clone(), true).rules;
    let Ok(tokens) = TokenSet::from_grant(
        now,
        grant.clone(),
        Some("rt-old".into()),
        Provenance::Fresh,
        &rules,
    ) else {
        return;
    };
    assert!(
        tokens.usable_at(now, &rules),
        "fresh tokens installed already expired"
    );
    assert_eq!(tokens.access_token, grant.access_token);
    let refresh = grant.refresh_token.as_deref().unwrap_or("rt-old");
    assert_eq!(tokens.refresh_token.as_deref(), Some(refresh));
    for token in [Some(&grant.access_token), grant.id_token.as_ref()]
        .into_iter()
        .flatten()
    {
        if let Ok(t) = jwt::decode(token) {
            let bound = t
                .claims
                .exp
                .saturating_mul(1_000)
                .saturating_add(rules.max_clock_skew);
            assert!(tokens.expires_at <= bound, "expiry past exp + skew");
        }
    }
}
