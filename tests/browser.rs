//! The core's parsers and random source, run inside headless Chromium.
//!
//! The native tests already pin down the behaviour; these check that the same code keeps it when
//! compiled to wasm32 and run by a browser's engine: 32-bit `usize`, 128-bit multiplies lowered
//! to wasm, a stack far smaller than a native thread's, and `panic = abort` (a panic would fail
//! the test run, not unwind). Run with `scripts/test.sh`, or directly:
//!
//! ```text
//! CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
//! CHROMEDRIVER=/usr/bin/chromedriver \
//!     cargo test --target wasm32-unknown-unknown --test browser
//! ```
//!
//! On the host this file compiles to an empty test binary.
#![cfg(target_arch = "wasm32")]

use cognito_session::engine::json::{self, JsonErrorKind, Value, MAX_DEPTH};
use cognito_session::engine::rng::Rng;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// What Cognito's `InitiateAuth` / `GetTokensFromRefreshToken` answers on success.
const COGNITO_RESPONSE: &str = r#"{
  "AuthenticationResult": {
    "AccessToken": "eyJraWQiOiJhIn0.eyJzdWIiOiJ1In0.c2ln",
    "ExpiresIn": 3600,
    "IdToken": "eyJraWQiOiJiIn0.eyJhdWQiOiJjIn0.c2ln",
    "RefreshToken": "eyJjdHkiOiJKV1QifQ.cmVmcmVzaA.aXY",
    "TokenType": "Bearer"
  },
  "ChallengeParameters": {}
}"#;

/// What an OAuth2 `/oauth2/token` endpoint answers on success.
const OAUTH_RESPONSE: &str = r#"{"access_token":"at.\u00e9t\u00e9.\ud83d\ude00","id_token":"it","token_type":"Bearer","expires_in":3600}"#;

#[wasm_bindgen_test]
fn a_cognito_token_response_parses_to_its_fields() {
    let body = json::parse(COGNITO_RESPONSE).expect("valid response");
    let result = body.get("AuthenticationResult").expect("result object");
    assert_eq!(
        result.get("AccessToken").and_then(Value::as_str),
        Some("eyJraWQiOiJhIn0.eyJzdWIiOiJ1In0.c2ln")
    );
    assert_eq!(
        result.get("RefreshToken").and_then(Value::as_str),
        Some("eyJjdHkiOiJKV1QifQ.cmVmcmVzaA.aXY")
    );
    assert_eq!(result.get("ExpiresIn").and_then(Value::as_u64), Some(3600));
    assert_eq!(
        result.get("TokenType").and_then(Value::as_str),
        Some("Bearer")
    );
    assert_eq!(
        body.get("ChallengeParameters"),
        Some(&Value::Object(Vec::new()))
    );
    assert_eq!(body.get("ChallengeName"), None);
}

#[wasm_bindgen_test]
fn an_oauth_token_response_decodes_unicode_escapes_and_surrogate_pairs() {
    let body = json::parse(OAUTH_RESPONSE).expect("valid response");
    assert_eq!(
        body.get("access_token").and_then(Value::as_str),
        Some("at.été.😀")
    );
    assert_eq!(body.get("expires_in").and_then(Value::as_u64), Some(3600));
    assert_eq!(body.get("refresh_token"), None);
}

#[wasm_bindgen_test]
fn fields_of_the_wrong_type_read_as_absent() {
    let body = json::parse(
        r#"{"access_token":42,"expires_in":"3600","token_type":null,"id_token":["x"],
            "a":-1,"b":1e3,"c":18446744073709551616,"d":18446744073709551615}"#,
    )
    .expect("valid JSON");
    assert_eq!(body.get("access_token").and_then(Value::as_str), None);
    assert_eq!(body.get("expires_in").and_then(Value::as_u64), None);
    assert_eq!(body.get("token_type").and_then(Value::as_str), None);
    assert_eq!(body.get("id_token").and_then(Value::as_str), None);
    assert_eq!(body.get("a").and_then(Value::as_u64), None);
    assert_eq!(body.get("a").and_then(Value::as_i64), Some(-1));
    assert_eq!(body.get("b").and_then(Value::as_u64), None);
    assert_eq!(body.get("c").and_then(Value::as_u64), None, "past u64::MAX");
    assert_eq!(body.get("d").and_then(Value::as_u64), Some(u64::MAX));
    assert_eq!(
        Value::String("x".into()).get("x"),
        None,
        "get on a non-object"
    );
}

#[wasm_bindgen_test]
fn every_truncation_of_a_token_response_is_an_unexpected_end() {
    for (cut, _) in COGNITO_RESPONSE.char_indices() {
        let prefix = &COGNITO_RESPONSE[..cut];
        let err = json::parse(prefix).expect_err("a truncated body must not parse");
        assert_eq!(err.kind, JsonErrorKind::UnexpectedEnd, "cut at {cut}");
        assert!(err.offset <= cut, "cut at {cut}: offset {}", err.offset);
    }
    // Cut inside `\ud83d\ude00` the reader reports the unpaired surrogate (BadEscape): still an
    // error, which is what matters here.
    for (cut, _) in OAUTH_RESPONSE.char_indices() {
        assert!(json::parse(&OAUTH_RESPONSE[..cut]).is_err(), "cut at {cut}");
    }
}

#[wasm_bindgen_test]
fn an_html_error_page_is_an_unexpected_byte_at_its_first_character() {
    let page = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>";
    let err = json::parse(page).expect_err("HTML is not JSON");
    assert_eq!(err.kind, JsonErrorKind::UnexpectedByte(b'<'));
    assert_eq!(err.offset, 0);

    let err = json::parse("\n  <!DOCTYPE html>").expect_err("HTML is not JSON");
    assert_eq!(err.kind, JsonErrorKind::UnexpectedByte(b'<'));
    assert_eq!(err.offset, 3);
}

#[wasm_bindgen_test]
fn nesting_is_accepted_up_to_the_limit_and_refused_past_it() {
    let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    assert!(json::parse(&nested(MAX_DEPTH)).is_ok());
    let err = json::parse(&nested(MAX_DEPTH + 1)).expect_err("too deep");
    assert_eq!(err.kind, JsonErrorKind::TooDeep);
}

#[wasm_bindgen_test]
fn hostile_nesting_does_not_exhaust_the_browser_stack() {
    // A megabyte of openers: recursion without the depth limit would overflow wasm's stack.
    for opener in ["[", "{\"a\":"] {
        let err = json::parse(&opener.repeat(1 << 20)).expect_err("too deep");
        assert_eq!(err.kind, JsonErrorKind::TooDeep);
    }
}

#[wasm_bindgen_test]
fn malformed_bodies_give_the_matching_error_kind() {
    let cases: &[(&str, JsonErrorKind)] = &[
        ("", JsonErrorKind::UnexpectedEnd),
        ("   ", JsonErrorKind::UnexpectedEnd),
        (r#"{"a":1} {"b":2}"#, JsonErrorKind::TrailingCharacters),
        (r#"{"a":"\x"}"#, JsonErrorKind::BadEscape),
        (r#"{"a":"\ud800"}"#, JsonErrorKind::BadEscape),
        ("{\"a\":\"line\nbreak\"}", JsonErrorKind::ControlCharacter),
        (r#"{"a":01}"#, JsonErrorKind::UnexpectedByte(b'1')),
        (r#"{"a":-}"#, JsonErrorKind::BadNumber),
        (r#"{'a':1}"#, JsonErrorKind::UnexpectedByte(b'\'')),
        (r#"{"a":1,}"#, JsonErrorKind::UnexpectedByte(b'}')),
        ("nul", JsonErrorKind::UnexpectedEnd),
    ];
    for (text, kind) in cases {
        let err = json::parse(text).expect_err(text);
        assert_eq!(err.kind, *kind, "{text:?}");
        assert!(err.offset <= text.len(), "{text:?}");
    }
}

#[wasm_bindgen_test]
fn random_bytes_and_mutated_responses_never_panic() {
    let mut rng = Rng::new(0x5eed);
    let alphabet = b"{}[]\":,\\/ut0123456789-+.eEfalsnr \n\x01\xff";
    for _ in 0..2_000 {
        let len = rng.up_to(64) as usize;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                let i = rng.up_to(alphabet.len() as u64 - 1) as usize;
                alphabet.get(i).copied().unwrap_or(b' ')
            })
            .collect();
        let _ = json::parse(&String::from_utf8_lossy(&bytes));
    }
    let original = COGNITO_RESPONSE.as_bytes();
    for _ in 0..2_000 {
        let mut bytes = original.to_vec();
        let at = rng.up_to(bytes.len() as u64 - 1) as usize;
        if let Some(b) = bytes.get_mut(at) {
            *b = rng.up_to(255) as u8;
        }
        let _ = json::parse(&String::from_utf8_lossy(&bytes));
    }
}

#[wasm_bindgen_test]
fn written_strings_parse_back_to_themselves() {
    for s in [
        "",
        "plain",
        "quote \" backslash \\ slash /",
        "\u{0}\u{1f}\n\r\t",
        "été 😀",
    ] {
        let mut out = String::new();
        json::write_string(&mut out, s);
        assert_eq!(json::parse(&out), Ok(Value::String(s.to_owned())), "{out}");
    }
}

#[wasm_bindgen_test]
fn the_rng_gives_the_same_numbers_in_the_browser_as_on_the_host() {
    // SplitMix64's published first outputs for seed 0 and seed 1234567.
    let mut rng = Rng::new(0);
    assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);
    assert_eq!(rng.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    assert_eq!(rng.next_u64(), 0x06C4_5D18_8009_454F);
    let mut rng = Rng::new(1_234_567);
    assert_eq!(rng.next_u64(), 6_457_827_717_110_365_317);
    assert_eq!(rng.next_u64(), 3_203_168_211_198_807_973);

    let (mut a, mut b) = (Rng::new(42), Rng::new(42));
    for _ in 0..1_000 {
        assert_eq!(a.between(100, 30_000), b.between(100, 30_000));
    }
}

#[wasm_bindgen_test]
fn rng_draws_stay_within_their_bounds() {
    let mut rng = Rng::new(7);
    let mut seen_low = false;
    let mut seen_high = false;
    for _ in 0..20_000 {
        let v = rng.between(10, 20);
        assert!((10..=20).contains(&v), "{v}");
        seen_low |= v == 10;
        seen_high |= v == 20;
        assert!(rng.up_to(1_000) <= 1_000);
    }
    assert!(seen_low && seen_high, "both ends are reachable");
    assert_eq!(rng.up_to(0), 0);
    assert_eq!(rng.between(5, 3), 5, "an empty range gives its low end");
    let _ = rng.up_to(u64::MAX);
    let _ = rng.between(0, u64::MAX);
}
