//! The wire contract, native half: every reply tag and every operation's argument positions,
//! written as golden vectors (`tests/wire/vectors.json`) that `tests/e2e/wire.test.mjs` replays
//! through the shell's `src/shell/js/wire.js`.
//!
//! The expected values below are written by hand, not derived from the encoders: they are the
//! contract. Changing an encoder (or an op number) makes this test fail; regenerating the
//! vectors with `UPDATE_WIRE_VECTORS=1 cargo test --test wire` then makes the JavaScript test fail
//! until `wire.js` agrees.

use std::path::PathBuf;

use cognito_session::engine::config::ProviderOptions;
use cognito_session::engine::error::{AppError, ErrorCode};
use cognito_session::engine::http::{HttpRequest, HttpResponse};
use cognito_session::engine::json::{self, Value};
use cognito_session::engine::machine::{
    Action, Event, LoginReason, RefreshId, SessionError, Snapshot, WaiterId,
};
use cognito_session::engine::protocol::LogoutPage;
use cognito_session::engine::redirect::Callback;
use cognito_session::engine::sign_in::{Secrets, SignedIn};
use cognito_session::engine::sign_out::SignOut;
use cognito_session::engine::tokens::StorageError;
use cognito_session::engine::verify::{Alg, VerifyError};
use cognito_session::wire::{
    self, action_reply, error_reply, sign_in_reply, snapshot_reply, tag, Answer, Call, Dispatcher,
    Op, RawArgs, Reply, WireError, SHAPES,
};

fn vectors_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/wire/vectors.json")
}

/// One reply: a name, the Rust encoder's text, and the object `wire.js` must decode it to (an
/// `error` as the app's Error: `{code, message, retryAt?, providerCode?}`).
struct ReplyVector {
    name: &'static str,
    text: String,
    decoded: &'static str,
}

fn request() -> HttpRequest {
    HttpRequest {
        url: "https://cognito-idp.us-east-1.amazonaws.com/".into(),
        headers: vec![
            ("content-type", "application/x-amz-json-1.1".into()),
            (
                "x-amz-target",
                "AWSCognitoIdentityProviderService.InitiateAuth".into(),
            ),
        ],
        body: "{\"AuthFlow\":\"REFRESH_TOKEN_AUTH\"}".into(),
    }
}

fn replies() -> Vec<ReplyVector> {
    let v = |name, text: String, decoded| ReplyVector {
        name,
        text,
        decoded,
    };
    let throttled = SessionError::Throttled {
        retry_at: 1_700_000_000_500,
    };
    vec![
        v(
            "acquireLock",
            action_reply(&Action::AcquireRefreshLock { id: RefreshId(7) }),
            r#"{"type":"acquireLock","id":7}"#,
        ),
        v(
            "sendRefresh",
            action_reply(&Action::SendRefresh {
                id: RefreshId(8),
                request: request(),
            }),
            r#"{"type":"sendRefresh","id":8,"url":"https://cognito-idp.us-east-1.amazonaws.com/",
                "body":"{\"AuthFlow\":\"REFRESH_TOKEN_AUTH\"}",
                "headers":[["content-type","application/x-amz-json-1.1"],
                           ["x-amz-target","AWSCognitoIdentityProviderService.InitiateAuth"]]}"#,
        ),
        v(
            "abortRefresh",
            action_reply(&Action::AbortRefresh { id: RefreshId(9) }),
            r#"{"type":"abortRefresh","id":9}"#,
        ),
        v(
            "releaseLock",
            action_reply(&Action::ReleaseRefreshLock { id: RefreshId(10) }),
            r#"{"type":"releaseLock","id":10}"#,
        ),
        v(
            "resolveWaiters",
            action_reply(&Action::ResolveWaiters {
                waiters: vec![WaiterId(1), WaiterId(2), WaiterId(30)],
                access_token: "eyJ.a.b".into(),
            }),
            r#"{"type":"resolveWaiters","token":"eyJ.a.b","waiters":[1,2,30]}"#,
        ),
        v(
            "rejectWaiters",
            action_reply(&Action::RejectWaiters {
                waiters: vec![WaiterId(4)],
                error: throttled.clone(),
            }),
            r#"{"type":"rejectWaiters","waiters":[4],"error":{"code":"THROTTLED",
                "message":"token refresh throttled by the provider","retryAt":1700000000500}}"#,
        ),
        v(
            "persist",
            action_reply(&Action::Persist {
                record: Some("{\"v\":1,\"access\":\"x\\u0000y\"}".into()),
            }),
            r#"{"type":"persist","record":"{\"v\":1,\"access\":\"x\\u0000y\"}"}"#,
        ),
        v(
            "persist nothing (remove)",
            action_reply(&Action::Persist { record: None }),
            r#"{"type":"persist","record":null}"#,
        ),
        v(
            "broadcast",
            action_reply(&Action::Broadcast {
                message: "Bt3,1700000000000".into(),
            }),
            r#"{"type":"broadcast","message":"Bt3,1700000000000"}"#,
        ),
        v(
            "goToLogin",
            action_reply(&Action::GoToLogin {
                reason: LoginReason::RefreshTokenDead {
                    code: "NotAuthorizedException".into(),
                },
            }),
            r#"{"type":"goToLogin","reason":"refreshTokenDead"}"#,
        ),
        v(
            "emit signedIn",
            action_reply(&Action::Emit {
                event: Event::SignedIn { expires_at: 11 },
            }),
            r#"{"type":"emit","event":{"type":"signedIn","expiresAt":11}}"#,
        ),
        v(
            "emit refreshed",
            action_reply(&Action::Emit {
                event: Event::Refreshed { expires_at: 12 },
            }),
            r#"{"type":"emit","event":{"type":"refreshed","expiresAt":12}}"#,
        ),
        v(
            "emit throttled",
            action_reply(&Action::Emit {
                event: Event::Throttled { retry_at: 13 },
            }),
            r#"{"type":"emit","event":{"type":"throttled","retryAt":13}}"#,
        ),
        v(
            "emit retryScheduled",
            action_reply(&Action::Emit {
                event: Event::RetryScheduled { retry_at: 14 },
            }),
            r#"{"type":"emit","event":{"type":"retryScheduled","retryAt":14}}"#,
        ),
        v(
            "emit expired",
            action_reply(&Action::Emit {
                event: Event::Expired {
                    reason: LoginReason::ExpiredElsewhere,
                },
            }),
            r#"{"type":"emit","event":{"type":"expired","reason":"expiredElsewhere"}}"#,
        ),
        v(
            "emit expired, no refresh token",
            action_reply(&Action::Emit {
                event: Event::Expired {
                    reason: LoginReason::NoRefreshToken,
                },
            }),
            r#"{"type":"emit","event":{"type":"expired","reason":"noRefreshToken"}}"#,
        ),
        v(
            "emit signedOut",
            action_reply(&Action::Emit {
                event: Event::SignedOut,
            }),
            r#"{"type":"emit","event":{"type":"signedOut"}}"#,
        ),
        v(
            "emit storageDiscarded",
            action_reply(&Action::Emit {
                event: Event::StorageDiscarded {
                    error: StorageError::UnknownVersion,
                },
            }),
            r#"{"type":"emit","event":{"type":"storageDiscarded","detail":"stored session has an unknown version"}}"#,
        ),
        v(
            "emit tokenRejected",
            action_reply(&Action::Emit {
                event: Event::TokenRejected {
                    error: VerifyError::Signature,
                },
            }),
            r#"{"type":"emit","event":{"type":"tokenRejected","detail":"bad JWT signature"}}"#,
        ),
        v(
            "acquireKeysLock",
            action_reply(&Action::AcquireKeysLock { id: RefreshId(12) }),
            r#"{"type":"acquireKeysLock","id":12}"#,
        ),
        v(
            "fetchKeys",
            action_reply(&Action::FetchKeys {
                id: RefreshId(13),
                url: "https://idp/jwks.json".into(),
            }),
            r#"{"type":"fetchKeys","id":13,"url":"https://idp/jwks.json"}"#,
        ),
        v(
            "persistKeys",
            action_reply(&Action::PersistKeys {
                record: "{\"at\":1}".into(),
            }),
            r#"{"type":"persistKeys","record":"{\"at\":1}"}"#,
        ),
        v(
            "verify",
            action_reply(&Action::Verify {
                id: RefreshId(14),
                alg: Alg::Es256,
                key: "{\"kty\":\"EC\"}".into(),
                input: "h.p".into(),
                signature: "c2ln".into(),
            }),
            r#"{"type":"verify","id":14,"alg":"ES256","key":"{\"kty\":\"EC\"}","input":"h.p","signature":"c2ln"}"#,
        ),
        v(
            "token",
            Reply::new(tag::TOKEN).text("tok\"en").finish(),
            r#"{"type":"token","token":"tok\"en"}"#,
        ),
        v(
            "waiting",
            Reply::new(tag::WAITING).number(5).finish(),
            r#"{"type":"waiting","waiter":5}"#,
        ),
        v(
            "error with everything",
            error_reply(&AppError {
                code: ErrorCode::NotSignedIn,
                retry_at: None,
                message: "NotAuthorizedException: Incorrect username or password.".into(),
                provider_code: Some("NotAuthorizedException".into()),
            }),
            r#"{"type":"error","error":{"code":"NOT_SIGNED_IN",
                "message":"NotAuthorizedException: Incorrect username or password.",
                "providerCode":"NotAuthorizedException"}}"#,
        ),
        v(
            "error unavailable, timed",
            error_reply(&AppError::from(&SessionError::Unavailable {
                retry_at: Some(99),
            })),
            r#"{"type":"error","error":{"code":"UNAVAILABLE","message":"token refresh unavailable","retryAt":99}}"#,
        ),
        v(
            "error of an unknown operation",
            error_reply(&WireError::UnknownOp(42).to_app_error()),
            r#"{"type":"error","error":{"code":"BAD_CONFIG","message":"wire: unknown operation"}}"#,
        ),
        v(
            "moment",
            Reply::new(tag::MOMENT).number(1_700_000_000_000).finish(),
            r#"{"type":"moment","at":1700000000000}"#,
        ),
        v(
            "yes",
            Reply::new(tag::YES).flag(true).finish(),
            r#"{"type":"yes","yes":true}"#,
        ),
        v(
            "no",
            Reply::new(tag::YES).flag(false).finish(),
            r#"{"type":"yes","yes":false}"#,
        ),
        v(
            "cached",
            Reply::new(tag::CACHED)
                .number(77)
                .text("tok")
                .maybe_text(Some("id"))
                .finish(),
            r#"{"type":"cached","until":77,"token":"tok","idToken":"id"}"#,
        ),
        v(
            "cached without an ID token",
            Reply::new(tag::CACHED)
                .number(77)
                .text("tok")
                .maybe_text(None)
                .finish(),
            r#"{"type":"cached","until":77,"token":"tok","idToken":null}"#,
        ),
        v(
            "snapshot",
            snapshot_reply(&Snapshot {
                signed_in: true,
                expires_at: Some(5),
                refreshing: false,
                retry_at: None,
                expired: false,
                verify_tokens: true,
            }),
            r#"{"type":"snapshot","snapshot":{"signedIn":true,"expiresAt":5,"refreshing":false,"retryAt":null,"expired":false,"verifyTokens":true}}"#,
        ),
        v(
            "request",
            Reply::new(tag::REQUEST)
                .number(15_000)
                .text("https://x/")
                .text("b")
                .headers(&[("h", "v".into())])
                .finish(),
            r#"{"type":"request","timeout":15000,"url":"https://x/","body":"b","headers":[["h","v"]]}"#,
        ),
        v(
            "signedIn",
            sign_in_reply(&SignedIn::Tokens),
            r#"{"type":"signedIn","result":{"status":"signedIn"}}"#,
        ),
        v(
            "challenge",
            sign_in_reply(&SignedIn::Challenge("SMS_MFA".into())),
            r#"{"type":"challenge","name":"SMS_MFA"}"#,
        ),
        v(
            "foreign",
            Reply::new(tag::FOREIGN)
                .error(&AppError {
                    code: ErrorCode::BadResponse,
                    retry_at: None,
                    message: "StateMismatch: not this sign-in's state".into(),
                    provider_code: Some("StateMismatch".into()),
                })
                .finish(),
            r#"{"type":"foreign","error":{"code":"BAD_RESPONSE","message":"StateMismatch: not this sign-in's state","providerCode":"StateMismatch"}}"#,
        ),
        v(
            "logout",
            Reply::new(tag::LOGOUT)
                .text("https://auth/logout?client_id=c")
                .finish(),
            r#"{"type":"logout","url":"https://auth/logout?client_id=c"}"#,
        ),
        v(
            "authorization",
            Reply::new(tag::AUTHORIZATION)
                .text("https://auth/?a=1")
                .text("rec")
                .finish(),
            r#"{"type":"authorization","url":"https://auth/?a=1","record":"rec"}"#,
        ),
    ]
}

/// One operation: the `wire.js` function, its arguments after `core` (JSON), and the raw
/// `[op, now, n, m, a, b, c, d]` it must pass (`null` for `undefined`).
struct CallVector {
    call: &'static str,
    inputs: &'static str,
    raw: &'static str,
    /// What the Rust side reads from `raw`.
    expected: Call<'static>,
}

const SECRETS: Secrets<'static> = Secrets {
    state: "st",
    verifier: "ve",
    challenge: "ch",
    nonce: "no",
};

fn calls() -> Vec<CallVector> {
    let c = |call, inputs, raw, expected| CallVector {
        call,
        inputs,
        raw,
        expected,
    };
    let response = HttpResponse {
        status: 400,
        body: "{}",
        error_type: Some("TooManyRequestsException"),
        retry_after: Some("2"),
        amz_retry_after: None,
    };
    vec![
        c("requestToken", "[1000, 250]", "[0,1000,250,0,null,null,null,null]", Call::RequestToken { wait: 250 }),
        c("timeout", "[1000]", "[1,1000,0,0,null,null,null,null]", Call::Timeout),
        c("visibility", "[1000, false]", "[2,1000,0,0,null,null,null,null]", Call::Visibility { visible: false }),
        c("visibility", "[1000, true]", "[2,1000,1,0,null,null,null,null]", Call::Visibility { visible: true }),
        c("network", "[1000, false]", "[19,1000,0,0,null,null,null,null]", Call::Network { online: false }),
        c("network", "[1000, true]", "[19,1000,1,0,null,null,null,null]", Call::Network { online: true }),
        c("refreshLock", "[1000, 3, \"rec\"]", "[3,1000,3,0,\"rec\",null,null,null]", Call::RefreshLock { id: RefreshId(3), record: Some("rec") }),
        c("refreshLock", "[1000, 3, null]", "[3,1000,3,0,null,null,null,null]", Call::RefreshLock { id: RefreshId(3), record: None }),
        c(
            "refreshAnswer",
            r#"[1000, 4, {"status":400,"body":"{}","errorType":"TooManyRequestsException","retryAfter":"2"}]"#,
            r#"[4,1000,4,400,"{}","TooManyRequestsException","2",null]"#,
            Call::RefreshAnswer { id: RefreshId(4), answer: Answer::Response(response) },
        ),
        c(
            "refreshAnswer",
            r#"[1000, 4, {"status":0,"body":"fetch failed"}]"#,
            r#"[4,1000,4,0,"fetch failed",null,null,null]"#,
            Call::RefreshAnswer { id: RefreshId(4), answer: Answer::None("fetch failed") },
        ),
        c("tabMessage", "[1000, \"O\"]", "[5,1000,0,0,\"O\",null,null,null]", Call::TabMessage { message: "O" }),
        c("storage", "[1000, \"rec\"]", "[6,1000,0,0,\"rec\",null,null,null]", Call::Storage { record: Some("rec") }),
        c("storage", "[1000, null]", "[6,1000,0,0,null,null,null,null]", Call::Storage { record: None }),
        c(
            "setTokens",
            "[1000, \"acc\", \"id\", \"ref\", 3600]",
            "[7,1000,3600,0,\"acc\",\"id\",\"ref\",null]",
            Call::SetTokens { access: "acc", id: Some("id"), refresh: Some("ref"), expires_in: Some(3600) },
        ),
        c(
            "setTokens",
            "[1000, \"acc\", null, null, null]",
            "[7,1000,0,0,\"acc\",null,null,null]",
            Call::SetTokens { access: "acc", id: None, refresh: None, expires_in: None },
        ),
        c("tokenRefused", "[1000, \"tok\"]", "[8,1000,0,0,\"tok\",null,null,null]", Call::TokenRefused { token: "tok" }),
        c(
            "signOut",
            r#"[1000, {"revoke":true,"redirect":true}, false, "https://auth/revoke", "https://auth/end", "https://app/bye"]"#,
            r#"[9,1000,5,0,"https://auth/revoke","https://auth/end","https://app/bye",null]"#,
            Call::SignOut {
                request: SignOut {
                    revoke: true,
                    redirect: true,
                    revocation_endpoint: Some("https://auth/revoke"),
                    logout_page: Some(LogoutPage { endpoint: "https://auth/end", cognito: false, back: Some("https://app/bye") }),
                    ..SignOut::default()
                },
            },
        ),
        c(
            "signOut",
            r#"[1000, {"global":true,"revoke":false}, true, "", "https://auth/logout", ""]"#,
            r#"[9,1000,10,0,"","https://auth/logout","",null]"#,
            Call::SignOut {
                request: SignOut {
                    global: true,
                    logout_page: Some(LogoutPage { endpoint: "https://auth/logout", cognito: true, back: None }),
                    ..SignOut::default()
                },
            },
        ),
        c(
            "signOut",
            "[1000, {}, false, null, null, null]",
            "[9,1000,0,0,null,null,null,null]",
            Call::SignOut { request: SignOut::default() },
        ),
        c("pollAction", "[]", "[10,0,0,0,null,null,null,null]", Call::PollAction),
        c("pollTimeout", "[]", "[11,0,0,0,null,null,null,null]", Call::PollTimeout),
        c("snapshotText", "[]", "[12,0,0,0,null,null,null,null]", Call::Snapshot),
        c("token", "[]", "[13,0,0,0,null,null,null,null]", Call::Token),
        c(
            "signInRequest",
            "[0, \"alice\", \"pw\"]",
            "[14,0,0,0,\"alice\",\"pw\",null,null]",
            Call::PasswordSignIn { username: "alice", password: "pw" },
        ),
        c(
            "signInRequest",
            "[1, \"alice\", \"0a1b\"]",
            "[14,0,1,0,\"alice\",\"0a1b\",null,null]",
            Call::SrpSignIn { username: "alice", srp_a: "0a1b" },
        ),
        c(
            "signInRequest",
            r#"[2, "SMS_MFA", "AYAB", "{\"USERNAME\":\"u\",\"SMS_MFA_CODE\":\"1\"}"]"#,
            r#"[14,0,2,0,"SMS_MFA","AYAB","{\"USERNAME\":\"u\",\"SMS_MFA_CODE\":\"1\"}",null]"#,
            Call::AnswerChallenge { name: "SMS_MFA", session: "AYAB", responses: r#"{"USERNAME":"u","SMS_MFA_CODE":"1"}"# },
        ),
        c(
            "signInAnswer",
            r#"[1000, {"status":400,"body":"{}","errorType":"TooManyRequestsException","retryAfter":"2"}]"#,
            r#"[15,1000,0,400,"{}","TooManyRequestsException","2",null]"#,
            Call::SignInAnswer { answer: Answer::Response(response) },
        ),
        c(
            "signOutAnswer",
            r#"[1000, {"status":0,"body":"fetch failed"}]"#,
            r#"[18,1000,0,0,"fetch failed",null,null,null]"#,
            Call::SignOutAnswer { answer: Answer::None("fetch failed") },
        ),
        c("keysLock", "[1000, 5, \"rec\"]", "[20,1000,5,0,\"rec\",null,null,null]", Call::KeysLock { id: RefreshId(5), record: Some("rec") }),
        c(
            "keysAnswer",
            r#"[1000, 6, {"status":200,"body":"{}","cacheControl":"public, max-age=60"}]"#,
            r#"[21,1000,6,200,"{}","60",null,null]"#,
            Call::KeysAnswer {
                id: RefreshId(6),
                answer: Answer::Response(HttpResponse {
                    status: 200,
                    body: "{}",
                    error_type: Some("60"),
                    retry_after: None,
                    amz_retry_after: None,
                }),
            },
        ),
        c(
            "keysAnswer",
            r#"[1000, 6, {"status":0,"body":"cors"}]"#,
            r#"[21,1000,6,0,"cors",null,null,null]"#,
            Call::KeysAnswer { id: RefreshId(6), answer: Answer::None("cors") },
        ),
        c("verified", "[1000, 7, true]", "[22,1000,7,1,null,null,null,null]", Call::Verified { id: RefreshId(7), ok: true }),
        c("verified", "[1000, 7, false]", "[22,1000,7,0,null,null,null,null]", Call::Verified { id: RefreshId(7), ok: false }),
        c(
            "authorize",
            r#"["https://auth/authorize", "https://app/", "openid", ["st","ve","ch","no"]]"#,
            "[16,0,0,0,\"https://auth/authorize\",\"https://app/\",\"openid\",\"st\\u0000ve\\u0000ch\\u0000no\"]",
            Call::Authorize { endpoint: "https://auth/authorize", redirect_uri: "https://app/", scope: "openid", secrets: SECRETS },
        ),
        c(
            "redirectReturn",
            "[1000, \"code\", \"st\", null, null, null, \"rec\"]",
            "[17,1000,0,0,\"code\",\"st\",\"\\u0000\\u0000\",\"rec\"]",
            Call::RedirectReturn {
                callback: Callback {
                    code: Some("code"),
                    state: Some("st"),
                    error: None,
                    error_description: None,
                    iss: None,
                },
                record: Some("rec"),
            },
        ),
        c(
            "redirectReturn",
            "[1000, null, \"st\", \"access_denied\", \"no thanks\", \"https://auth\", null]",
            "[17,1000,0,0,null,\"st\",\"access_denied\\u0000no thanks\\u0000https://auth\",null]",
            Call::RedirectReturn {
                callback: Callback {
                    code: None,
                    state: Some("st"),
                    error: Some("access_denied"),
                    error_description: Some("no thanks"),
                    iss: Some("https://auth"),
                },
                record: None,
            },
        ),
    ]
}

/// `[op, now, n, m, a, b, c, d]` read back the way wasm-bindgen hands them over: `null` numbers
/// as NaN (JavaScript's `undefined` to `f64`), `null` strings as absent.
fn raw_args(raw: &Value) -> (u32, RawArgs<'_>) {
    let Value::Array(items) = raw else {
        panic!("raw is not an array")
    };
    let number = |v: &Value| match v {
        Value::Null => f64::NAN,
        Value::Number(n) => n.parse::<f64>().expect("a number"),
        other => panic!("not a number: {other:?}"),
    };
    fn text(v: &Value) -> Option<&str> {
        match v {
            Value::Null => None,
            Value::String(s) => Some(s.as_str()),
            other => panic!("not a string: {other:?}"),
        }
    }
    let op = number(&items[0]) as u32;
    let args = RawArgs {
        n: number(&items[2]),
        m: number(&items[3]),
        a: text(&items[4]),
        b: text(&items[5]),
        c: text(&items[6]),
        d: text(&items[7]),
    };
    (op, args)
}

/// The vectors file's text: one object, replies and calls, one vector a line.
fn vectors_text() -> String {
    let mut out = String::from("{\n  \"shapes\": [\n");
    for (i, (t, name, fields)) in SHAPES.iter().enumerate() {
        let fields: Vec<String> = fields.iter().map(|f| format!("\"{f}\"")).collect();
        out.push_str(&format!(
            "    [\"{t}\", \"{name}\", [{}]]{}\n",
            fields.join(", "),
            if i + 1 < SHAPES.len() { "," } else { "" }
        ));
    }
    out.push_str("  ],\n  \"replies\": [\n");
    let replies = replies();
    for (i, r) in replies.iter().enumerate() {
        let decoded: String = r.decoded.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut text = String::new();
        json::write_string(&mut text, &r.text);
        out.push_str(&format!(
            "    {{\"name\": \"{}\", \"text\": {text}, \"decoded\": {decoded}}}{}\n",
            r.name,
            if i + 1 < replies.len() { "," } else { "" }
        ));
    }
    out.push_str("  ],\n  \"calls\": [\n");
    let calls = calls();
    for (i, c) in calls.iter().enumerate() {
        out.push_str(&format!(
            "    {{\"call\": \"{}\", \"inputs\": {}, \"raw\": {}}}{}\n",
            c.call,
            c.inputs,
            c.raw,
            if i + 1 < calls.len() { "," } else { "" }
        ));
    }
    out.push_str("  ]\n}\n");
    out
}

#[test]
fn every_reply_tag_is_one_letter_used_once() {
    let tags = wire::tags();
    let mut unique = tags.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), tags.len(), "two shapes share a tag: {tags:?}");
    let covered: Vec<char> = replies()
        .iter()
        .map(|r| r.text.chars().nth(2).expect("a tag"))
        .collect();
    for t in tags {
        assert!(covered.contains(&t), "no vector exercises tag {t:?}");
    }
}

#[test]
fn every_reply_is_json_and_decodes_through_the_shapes_to_the_expected_object() {
    for r in replies() {
        let parsed = json::parse(&r.text).unwrap_or_else(|e| panic!("{}: not JSON: {e}", r.name));
        let Value::Array(items) = parsed else {
            panic!("{}: not an array", r.name)
        };
        let Some(Value::String(t)) = items.first() else {
            panic!("{}: no tag", r.name)
        };
        let (_, name, fields) = SHAPES
            .iter()
            .find(|(c, _, _)| c.to_string() == *t)
            .unwrap_or_else(|| panic!("{}: unknown tag {t}", r.name));
        assert_eq!(items.len(), fields.len() + 1, "{}: field count", r.name);
        let expected =
            json::parse(r.decoded).unwrap_or_else(|e| panic!("{}: bad expectation: {e}", r.name));
        assert_eq!(
            expected.get("type"),
            Some(&Value::String((*name).into())),
            "{}",
            r.name
        );
        for (field, value) in fields.iter().zip(&items[1..]) {
            let want = expected
                .get(field)
                .unwrap_or_else(|| panic!("{}: expected lacks {field}", r.name));
            if *field == "error" {
                // [code, message, retryAt, providerCode] → the app's Error fields.
                let Value::Array(e) = value else {
                    panic!("{}: error is not an array", r.name)
                };
                assert_eq!(want.get("code"), Some(&e[0]), "{}", r.name);
                assert_eq!(want.get("message"), Some(&e[1]), "{}", r.name);
                assert_eq!(
                    want.get("retryAt").unwrap_or(&Value::Null),
                    &e[2],
                    "{}",
                    r.name
                );
                assert_eq!(
                    want.get("providerCode").unwrap_or(&Value::Null),
                    &e[3],
                    "{}",
                    r.name
                );
            } else {
                assert_eq!(want, value, "{}: field {field}", r.name);
            }
        }
    }
}

#[test]
fn every_operation_reads_its_arguments_from_the_positions_wire_js_fills() {
    let calls = calls();
    for op in Op::ALL {
        assert!(
            calls.iter().any(|c| {
                let raw = json::parse(c.raw).expect("raw is JSON");
                raw_args(&raw).0 == op as u32
            }),
            "no vector for {op:?}"
        );
    }
    for c in calls {
        let raw = json::parse(c.raw).expect("raw is JSON");
        let (op, args) = raw_args(&raw);
        assert_eq!(
            Call::decode(op, args).as_ref(),
            Ok(&c.expected),
            "{} {}",
            c.call,
            c.inputs
        );
    }
}

#[test]
fn an_unknown_operation_or_a_malformed_argument_is_a_typed_error_never_silence() {
    let mut d = Dispatcher::new(
        &ProviderOptions {
            client_id: "c",
            user_pool_id: "us-east-1_x",
            ..ProviderOptions::default()
        },
        1,
        1_000.0,
    );
    let refused = |reply: Option<String>, why: &str| {
        let text = reply.unwrap_or_else(|| panic!("{why}: no reply"));
        assert!(
            text.starts_with("[\"e\",[\"BAD_CONFIG\",\"wire: "),
            "{why}: {text}"
        );
    };
    refused(
        d.call(Op::ALL.len() as u32, 0.0, RawArgs::default()),
        "the first unknown op",
    );
    refused(d.call(u32::MAX, 0.0, RawArgs::default()), "op max");
    for bad in [f64::NAN, -1.0, 0.5, f64::INFINITY, 2.0] {
        for op in [Op::Visibility, Op::Network] {
            refused(
                d.call(
                    op as u32,
                    0.0,
                    RawArgs {
                        n: bad,
                        ..RawArgs::default()
                    },
                ),
                "a flag",
            );
        }
    }
    for bad in [f64::NAN, -1.0, 1.5, 1e300] {
        refused(
            d.call(
                Op::RequestToken as u32,
                0.0,
                RawArgs {
                    n: bad,
                    ..RawArgs::default()
                },
            ),
            "wait",
        );
    }
    for bad in [f64::NAN, -1.0, 1000.0, 400.5] {
        let raw = RawArgs {
            n: 1.0,
            m: bad,
            a: Some("{}"),
            ..RawArgs::default()
        };
        refused(d.call(Op::RefreshAnswer as u32, 0.0, raw), "status");
    }
    refused(
        d.call(Op::TabMessage as u32, 0.0, RawArgs::default()),
        "no message",
    );
    refused(
        d.call(Op::TokenRefused as u32, 0.0, RawArgs::default()),
        "no token",
    );
    refused(
        d.call(Op::SetTokens as u32, 0.0, RawArgs::default()),
        "no access token",
    );
    refused(
        d.call(
            Op::SignInRequest as u32,
            0.0,
            RawArgs {
                a: Some("u"),
                ..RawArgs::default()
            },
        ),
        "no password",
    );
    for bits in [16.0, -1.0, 0.5, f64::NAN] {
        let raw = RawArgs {
            n: bits,
            ..RawArgs::default()
        };
        refused(d.call(Op::SignOut as u32, 0.0, raw), "sign-out bits");
    }
    // A challenge's answer needs its responses.
    let raw = RawArgs {
        n: 2.0,
        a: Some("SMS_MFA"),
        b: Some("AYAB"),
        ..RawArgs::default()
    };
    refused(d.call(Op::SignInRequest as u32, 0.0, raw), "no responses");
    for kind in [3.0, -1.0, 0.5, f64::NAN] {
        let raw = RawArgs {
            n: kind,
            a: Some("u"),
            b: Some("p"),
            ..RawArgs::default()
        };
        refused(d.call(Op::SignInRequest as u32, 0.0, raw), "sign-in kind");
    }
    for secrets in ["", "a\0b\0c", "a\0b\0c\0d\0e", "a\0\0c\0d"] {
        let raw = RawArgs {
            a: Some("https://a/"),
            b: Some("https://b/"),
            c: Some("openid"),
            d: Some(secrets),
            ..RawArgs::default()
        };
        refused(d.call(Op::Authorize as u32, 0.0, raw), "secrets");
    }
    // Which operation and argument was wrong, as the engine's tests see it.
    assert_eq!(
        Call::decode(23, RawArgs::default()),
        Err(WireError::UnknownOp(23))
    );
    assert_eq!(
        Call::decode(
            Op::Visibility as u32,
            RawArgs {
                n: 2.0,
                ..RawArgs::default()
            }
        ),
        Err(WireError::BadArgument(Op::Visibility, "n"))
    );
    assert_eq!(
        Call::decode(
            Op::RefreshAnswer as u32,
            RawArgs {
                n: 1.0,
                m: 1000.0,
                ..RawArgs::default()
            }
        ),
        Err(WireError::BadArgument(Op::RefreshAnswer, "m"))
    );
    assert_eq!(
        Call::decode(
            Op::SignInRequest as u32,
            RawArgs {
                a: Some("u"),
                ..RawArgs::default()
            }
        ),
        Err(WireError::BadArgument(Op::SignInRequest, "b"))
    );
    assert_eq!(
        Call::decode(
            Op::SignInRequest as u32,
            RawArgs {
                n: 3.0,
                a: Some("u"),
                b: Some("p"),
                ..RawArgs::default()
            }
        ),
        Err(WireError::BadArgument(Op::SignInRequest, "n"))
    );
    // The session itself is untouched by refused calls.
    assert!(!d.machine().expect("a session").snapshot().signed_in);
    assert_eq!(d.call(Op::PollAction as u32, 0.0, RawArgs::default()), None);
}

#[test]
fn the_strings_come_as_one_json_array_of_strings_or_nulls() {
    let mut d = Dispatcher::new(
        &ProviderOptions {
            client_id: "c",
            user_pool_id: "us-east-1_x",
            ..ProviderOptions::default()
        },
        1,
        1_000.0,
    );
    let snapshot = d.call_with_texts(Op::Snapshot as u32, 0.0, 0.0, 0.0, None);
    assert!(snapshot.expect("a reply").starts_with("[\"s\","));
    // A tab message read from the array's first string: a sign-out in another tab.
    let none = d.call_with_texts(Op::TabMessage as u32, 0.0, 0.0, 0.0, Some(r#"["O"]"#));
    assert_eq!(none, None, "understood, nothing to say");
    for bad in [
        "",
        "\"O\"",
        "[1]",
        "[\"a\",\"b\",\"c\",\"d\",\"e\"]",
        "[[\"O\"]]",
        "{\"a\":\"O\"}",
        "[\"O\"",
    ] {
        let reply = d
            .call_with_texts(Op::TabMessage as u32, 0.0, 0.0, 0.0, Some(bad))
            .unwrap_or_else(|| panic!("{bad}: no reply"));
        assert!(
            reply.starts_with("[\"e\",[\"BAD_CONFIG\",\"wire: "),
            "{bad}: {reply}"
        );
    }
    // A JavaScript string with a lone surrogate (JSON.stringify escapes it) is read, not
    // refused: storage can hold anything (wasm-bindgen's own passing made it U+FFFD too).
    let discarded = d.call_with_texts(Op::Storage as u32, 0.0, 0.0, 0.0, Some(r#"["x\ud800"]"#));
    assert_eq!(
        discarded, None,
        "read and discarded, as any unreadable record"
    );
    let event = d.call_with_texts(Op::PollAction as u32, 0.0, 0.0, 0.0, None);
    assert!(
        event
            .as_deref()
            .is_some_and(|e| e.contains("storageDiscarded")),
        "{event:?}"
    );
    // Absent strings are `null` (or missing at the end).
    let refused = d.call_with_texts(Op::TabMessage as u32, 0.0, 0.0, 0.0, Some("[null]"));
    assert!(refused
        .expect("a reply")
        .starts_with("[\"e\",[\"BAD_CONFIG\""));
}

#[test]
fn a_bad_pool_id_makes_every_call_answer_why() {
    let mut refused = Dispatcher::new(
        &ProviderOptions {
            client_id: "c",
            user_pool_id: "not-a-pool",
            ..ProviderOptions::default()
        },
        1,
        0.0,
    );
    assert!(refused.machine().is_none());
    for op in Op::ALL {
        let text = refused
            .call(op as u32, 0.0, RawArgs::default())
            .expect("a reply");
        assert!(
            text.starts_with("[\"e\",[\"BAD_CONFIG\",\"userPoolId is not"),
            "{op:?}: {text}"
        );
    }
}

#[test]
fn the_committed_vectors_are_what_the_encoders_write() {
    let text = vectors_text();
    let path = vectors_path();
    if std::env::var_os("UPDATE_WIRE_VECTORS").is_some() {
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(&path, &text).expect("write vectors");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == text,
        "tests/wire/vectors.json is not what src/wire.rs writes: the wire changed. If that is \
         intended, run `UPDATE_WIRE_VECTORS=1 cargo test --test wire`, then make \
         src/shell/js/wire.js agree (tests/e2e/wire.test.mjs replays the vectors)."
    );
    // The vectors file is itself JSON the JavaScript test can read.
    json::parse(&committed).expect("vectors.json is JSON");
}
