//! The browser shell and its JS-facing `Session`, run inside headless Chromium.
//!
//! These drive the exported class the way a page does (through the same Rust methods the
//! wasm-bindgen glue calls) with no network peer: the token provider and the app's API are a
//! stub installed as `window.fetch`, which records every request and answers from a script of
//! canned responses, exactly as Cognito shapes them. Two `storage: "local"` sessions in one
//! page stand in for two tabs: they share `localStorage`, the Web Locks lock and the
//! BroadcastChannel. Run with:
//!
//! ```text
//! CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
//! CHROMEDRIVER=/usr/bin/chromedriver \
//!     cargo test --target wasm32-unknown-unknown --test shell_browser
//! ```
//!
//! On the host this file compiles to an empty test binary.
#![cfg(target_arch = "wasm32")]

use cognito_session::core::base64url;
use cognito_session::shell::origin::{may_attach, origin_of, parse_origin};
use cognito_session::shell::JsSession as Session;
use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const POOL: &str = "us-east-1_Shell1";

// ----- helpers -----

fn obj(fields: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in fields {
        Reflect::set(&o, &JsValue::from_str(k), v).unwrap();
    }
    o.into()
}

fn s(v: &str) -> JsValue {
    JsValue::from_str(v)
}

fn get(o: &JsValue, key: &str) -> JsValue {
    Reflect::get(o, &JsValue::from_str(key)).unwrap()
}

fn code(error: &JsValue) -> String {
    get(error, "code").as_string().unwrap_or_default()
}

fn message(error: &JsValue) -> String {
    get(error, "message").as_string().unwrap_or_default()
}

/// A base config for client `client`, plus `extra` fields.
fn config(client: &str, extra: &[(&str, JsValue)]) -> JsValue {
    let mut fields = vec![("userPoolId", s(POOL)), ("clientId", s(client))];
    fields.extend(extra.iter().cloned());
    obj(&fields)
}

fn storage_key(client: &str) -> String {
    format!("cognito-session:{POOL}:{client}")
}

fn now_secs() -> u64 {
    (js_sys::Date::now() / 1000.0) as u64
}

fn mint(claims: &str) -> String {
    let header = base64url::encode(br#"{"alg":"RS256","kid":"k1"}"#);
    let payload = base64url::encode(claims.as_bytes());
    format!("{header}.{payload}.c2lnbmF0dXJl")
}

/// An access token for `client` that expires `ttl` seconds from now; `nonce` makes it unique.
fn access(client: &str, ttl: i64, nonce: u32) -> String {
    let iat = now_secs();
    let exp = (iat as i64 + ttl).max(1);
    mint(&format!(
        r#"{{"sub":"u1","token_use":"access","client_id":"{client}","username":"alice","iat":{iat},"exp":{exp},"jti":"{nonce}"}}"#
    ))
}

fn id_token(client: &str, ttl: i64) -> String {
    let iat = now_secs();
    let exp = iat as i64 + ttl;
    mint(&format!(
        r#"{{"sub":"u1","token_use":"id","aud":"{client}","email":"alice@example.com","cognito:username":"alice","iat":{iat},"exp":{exp}}}"#
    ))
}

fn tokens(access: &str, id: Option<&str>, refresh: Option<&str>) -> JsValue {
    let mut fields = vec![("accessToken", s(access))];
    if let Some(id) = id {
        fields.push(("idToken", s(id)));
    }
    if let Some(r) = refresh {
        fields.push(("refreshToken", s(r)));
    }
    obj(&fields)
}

fn cognito_ok(access: &str, id: &str) -> String {
    format!(
        r#"{{"AuthenticationResult":{{"AccessToken":"{access}","IdToken":"{id}","ExpiresIn":3600,"TokenType":"Bearer"}},"ChallengeParameters":{{}}}}"#
    )
}

async fn settle(p: Promise) -> Result<JsValue, JsValue> {
    JsFuture::from(p).await
}

async fn sleep(ms: i32) {
    let p = Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    JsFuture::from(p).await.unwrap();
}

fn session_storage() -> web_sys::Storage {
    web_sys::window()
        .unwrap()
        .session_storage()
        .unwrap()
        .unwrap()
}

fn local_storage() -> web_sys::Storage {
    web_sys::window().unwrap().local_storage().unwrap().unwrap()
}

/// A listener that records every event's `type` into the returned array.
fn recorder() -> (Array, JsValue) {
    let seen = Array::new();
    let sink = seen.clone();
    let f = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
        sink.push(&get(&e, "type"));
    });
    (seen, f.into_js_value())
}

fn types(seen: &Array) -> Vec<String> {
    seen.iter().filter_map(|v| v.as_string()).collect()
}

/// Replaces `window.fetch` with a recorder answering from `globalThis.__responses` (each
/// `{status, headers, body}` or `{network: true}`; the last one repeats). Returns the record
/// array: `{url, auth, target, body}` per request.
fn stub_fetch(responses: &[JsValue]) -> Array {
    let global = js_sys::global();
    if get(&global, "__realFetch").is_undefined() {
        Reflect::set(&global, &s("__realFetch"), &get(&global, "fetch")).unwrap();
    }
    let seen = Array::new();
    let queue = Array::new();
    for r in responses {
        queue.push(r);
    }
    Reflect::set(&global, &s("__seen"), &seen).unwrap();
    Reflect::set(&global, &s("__responses"), &queue).unwrap();
    let stub = Function::new_with_args(
        "input, init",
        r#"
        const req = new Request(input, init);
        return req.text().then((body) => {
          globalThis.__seen.push({ url: req.url, auth: req.headers.get("authorization"),
                                   target: req.headers.get("x-amz-target"), body });
          const q = globalThis.__responses;
          const r = q.length > 1 ? q.shift() : (q[0] || { status: 200, body: "ok" });
          if (r.network) throw new TypeError("Failed to fetch");
          if (r.hook) globalThis.__hook();
          return new Response(r.body, { status: r.status, headers: r.headers || {} });
        });
        "#,
    );
    Reflect::set(&global, &s("fetch"), &stub).unwrap();
    seen
}

fn response(status: u16, error_type: Option<&str>, body: &str) -> JsValue {
    let headers = match error_type {
        Some(t) => obj(&[("x-amzn-ErrorType", s(t))]),
        None => obj(&[]),
    };
    obj(&[
        ("status", JsValue::from_f64(f64::from(status))),
        ("headers", headers),
        ("body", s(body)),
    ])
}

const THROTTLE: &str = r#"{"__type":"TooManyRequestsException","message":"Rate exceeded"}"#;
const REVOKED: &str =
    r#"{"__type":"NotAuthorizedException","message":"Refresh Token has been revoked"}"#;

// ----- configuration -----

#[wasm_bindgen_test]
fn every_bad_config_value_throws_a_bad_config_error_naming_the_problem() {
    let cases: Vec<(JsValue, &str)> = vec![
        (JsValue::UNDEFINED, "object"),
        (s("us-east-1_x"), "object"),
        (obj(&[("userPoolId", s(POOL))]), "clientId"),
        (obj(&[("clientId", s("c"))]), "userPoolId"),
        (
            config("c", &[("clientSecret", s("shh"))]),
            "never ship a client secret",
        ),
        (
            obj(&[
                ("userPoolId", s("https://evil.example/_x")),
                ("clientId", s("c")),
            ]),
            "userPoolId",
        ),
        (config("c", &[("storage", s("cookies"))]), "storage"),
        (
            config("c", &[("storage", JsValue::from_f64(1.0))]),
            "storage",
        ),
        (config("c", &[("endpoint", s("ftp://x"))]), "endpoint"),
        (config("c", &[("endpoint", s("not a url"))]), "endpoint"),
        (config("c", &[("rotation", s("yes"))]), "rotation"),
        (config("c", &[("region", s("eu-west-1"))]), "region"),
        (
            config("c", &[("loginUrl", s("javascript:alert(1)"))]),
            "loginUrl",
        ),
        (
            config("c", &[("loginUrl", s(" JavaScript:alert(1)"))]),
            "loginUrl",
        ),
        (
            config("c", &[("onLoginRequired", s("/login"))]),
            "onLoginRequired",
        ),
        (
            config("c", &[("allowedOrigins", s("https://api.example.com"))]),
            "allowedOrigins",
        ),
        (
            config(
                "c",
                &[(
                    "allowedOrigins",
                    Array::of1(&s("https://api.example.com/v1")).into(),
                )],
            ),
            "allowedOrigins",
        ),
        (
            config(
                "c",
                &[(
                    "allowedOrigins",
                    Array::of1(&s("https://*.example.com")).into(),
                )],
            ),
            "allowedOrigins",
        ),
        (
            config(
                "c",
                &[("allowedOrigins", Array::of1(&JsValue::from_f64(3.0)).into())],
            ),
            "allowedOrigins",
        ),
        (
            config("c", &[("alowedOrigins", Array::new().into())]),
            "alowedOrigins",
        ),
        (config("bad client!", &[]), "clientId"),
        (
            config(
                "c",
                &[
                    ("tokenEndpoint", s("https://auth.example.com/token")),
                    ("rotation", JsValue::TRUE),
                ],
            ),
            "tokenEndpoint",
        ),
    ];
    for (cfg, needle) in cases {
        let Err(error) = Session::new(cfg) else {
            panic!("accepted a config that should fail on {needle}");
        };
        assert!(
            error.is_instance_of::<js_sys::Error>(),
            "{needle}: not an Error"
        );
        assert_eq!(code(&error), "BAD_CONFIG", "{needle}");
        assert!(
            message(&error).contains(needle),
            "{needle}: {}",
            message(&error)
        );
    }
}

#[wasm_bindgen_test]
fn good_configs_for_cognito_an_emulator_and_oauth2_are_accepted() {
    for cfg in [
        config("c1", &[]),
        config(
            "c1",
            &[
                ("endpoint", s("http://127.0.0.1:9229/")),
                ("rotation", JsValue::TRUE),
            ],
        ),
        config(
            "c1",
            &[("region", s("us-east-1")), ("storage", s("memory"))],
        ),
        config(
            "c1",
            &[
                (
                    "allowedOrigins",
                    Array::of2(&s("https://api.example.com"), &s("http://localhost:8080/")).into(),
                ),
                ("loginUrl", s("/login?next=%2F")),
                ("onLoginRequired", Function::new_no_args("").into()),
                ("storage", s("local")),
            ],
        ),
        obj(&[
            ("clientId", s("spa")),
            ("tokenEndpoint", s("https://auth.example.com/oauth2/token")),
        ]),
    ] {
        if let Err(e) = Session::new(cfg) {
            panic!("refused a good config: {}", message(&e));
        }
    }
}

// ----- tokens in, tokens out -----

#[wasm_bindgen_test]
async fn a_signed_out_session_rejects_token_requests_with_not_signed_in() {
    let session = Session::new(config("signedout", &[("storage", s("memory"))])).unwrap();
    let error = settle(session.get_access_token(None)).await.unwrap_err();
    assert_eq!(code(&error), "NOT_SIGNED_IN");
    assert!(session.claims().is_null());
}

#[wasm_bindgen_test]
async fn set_tokens_then_get_access_token_returns_that_token_from_a_ready_promise() {
    let client = "fastpath";
    let session = Session::new(config(client, &[("storage", s("memory"))])).unwrap();
    let token = access(client, 3600, 1);
    session
        .set_tokens(tokens(&token, None, Some("rt")))
        .unwrap();
    let got = settle(session.get_access_token(None)).await.unwrap();
    assert_eq!(got.as_string().as_deref(), Some(token.as_str()));
    let with_deadline = obj(&[("deadlineMs", JsValue::from_f64(50.0))]);
    let got = settle(session.get_access_token(Some(with_deadline)))
        .await
        .unwrap();
    assert_eq!(got.as_string().as_deref(), Some(token.as_str()));

    // The hot path: no JSON, no decoding; print what it costs here (a test build, not the bench).
    let n = 200_000;
    let start = js_sys::Date::now();
    for _ in 0..n {
        let _ = session.get_access_token(None);
    }
    let ns = (js_sys::Date::now() - start) * 1e6 / f64::from(n);
    console_log!("getAccessToken fast path: {ns:.0} ns per call (called from Rust)");
    assert!(ns < 20_000.0, "fast path too slow: {ns} ns");

    // The same from JavaScript, through the generated glue, as an app calls it.
    let js_session = JsValue::from(session);
    let bench = Function::new_with_args(
        "s, n",
        "const t = performance.now(); let p; for (let i = 0; i < n; i++) p = s.getAccessToken(); \
         return [(performance.now() - t) * 1e6 / n, p];",
    );
    let out: Array = bench
        .call2(
            &JsValue::NULL,
            &js_session,
            &JsValue::from_f64(f64::from(n)),
        )
        .unwrap()
        .into();
    let ns = out.get(0).as_f64().unwrap();
    console_log!("getAccessToken fast path: {ns:.0} ns per call (called from JavaScript)");
    let last = settle(out.get(1).into()).await.unwrap();
    assert_eq!(last.as_string().as_deref(), Some(token.as_str()));
}

#[wasm_bindgen_test]
async fn a_url_object_and_a_request_object_are_accepted_by_fetch() {
    let client = "fetchinputs";
    let seen = stub_fetch(&[response(200, None, "ok")]);
    let session = Session::new(config(client, &[("storage", s("memory"))])).unwrap();
    let token = access(client, 3600, 1);
    session
        .set_tokens(tokens(&token, None, Some("rt")))
        .unwrap();
    let page = web_sys::window().unwrap().location().href().unwrap();
    let url = web_sys::Url::new_with_base("/from-url", &page).unwrap();
    settle(session.fetch(url.into(), None)).await.unwrap();
    let request = web_sys::Request::new_with_str("/from-request").unwrap();
    settle(session.fetch(request.into(), None)).await.unwrap();
    assert_eq!(seen.length(), 2);
    for i in 0..2 {
        let auth = get(&seen.get(i), "auth").as_string().unwrap_or_default();
        assert_eq!(auth, format!("Bearer {token}"));
    }
    let error = settle(session.fetch(JsValue::from_f64(5.0), None))
        .await
        .unwrap_err();
    assert!(error.is_instance_of::<js_sys::Error>());
}

#[wasm_bindgen_test]
async fn failing_web_storage_falls_back_to_memory_with_an_event() {
    let client = "quota";
    let proto = get(&get(&js_sys::global(), "Storage"), "prototype");
    let real = get(&proto, "setItem");
    let throwing = Function::new_no_args(
        "throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');",
    );
    Reflect::set(&proto, &s("setItem"), &throwing).unwrap();
    let session = Session::new(config(client, &[])).unwrap();
    let (seen, listener) = recorder();
    session.subscribe(listener).unwrap();
    let token = access(client, 3600, 1);
    let outcome = session.set_tokens(tokens(&token, None, Some("rt")));
    Reflect::set(&proto, &s("setItem"), &real).unwrap();
    outcome.unwrap();
    assert_eq!(types(&seen), ["signedIn", "storageUnavailable"]);
    let got = settle(session.get_access_token(None)).await.unwrap();
    assert_eq!(got.as_string().as_deref(), Some(token.as_str()));
    assert_eq!(
        session_storage().get_item(&storage_key(client)).unwrap(),
        None
    );
}

#[wasm_bindgen_test]
async fn unusable_tokens_are_refused_with_bad_config_and_change_nothing() {
    let client = "refuse";
    let session = Session::new(config(client, &[("storage", s("memory"))])).unwrap();
    for bad in [
        tokens("null", None, None),
        tokens("", None, None),
        tokens(&access("someone-else", 3600, 1), None, None),
        tokens(
            &access(client, 3600, 1),
            Some(&access(client, 3600, 2)),
            None,
        ),
        obj(&[("accessToken", JsValue::from_f64(5.0))]),
        obj(&[]),
        JsValue::NULL,
    ] {
        let error = session.set_tokens(bad).unwrap_err();
        assert_eq!(code(&error), "BAD_CONFIG", "{}", message(&error));
    }
    assert_eq!(get(&session.get_snapshot(), "signedIn"), JsValue::FALSE);
}

#[wasm_bindgen_test]
async fn an_expired_token_without_a_refresh_token_ends_the_session_and_asks_for_login_once() {
    let client = "norefresh";
    let logins = Array::new();
    let sink = logins.clone();
    let on_login = Closure::<dyn FnMut(JsValue)>::new(move |r: JsValue| {
        sink.push(&r);
    })
    .into_js_value();
    let session = Session::new(config(
        client,
        &[("storage", s("memory")), ("onLoginRequired", on_login)],
    ))
    .unwrap();
    session
        .set_tokens(tokens(&access(client, 10, 1), None, None))
        .unwrap();
    for _ in 0..3 {
        let error = settle(session.get_access_token(None)).await.unwrap_err();
        assert_eq!(code(&error), "SESSION_EXPIRED");
    }
    assert_eq!(logins.length(), 1);
    assert_eq!(logins.get(0).as_string().as_deref(), Some("noRefreshToken"));
}

#[wasm_bindgen_test]
async fn claims_come_from_the_id_token_decoded_once() {
    let client = "claims";
    let session = Session::new(config(client, &[("storage", s("memory"))])).unwrap();
    let id = id_token(client, 3600);
    session
        .set_tokens(tokens(&access(client, 3600, 1), Some(&id), None))
        .unwrap();
    let claims = session.claims();
    assert_eq!(
        get(&claims, "email").as_string().as_deref(),
        Some("alice@example.com")
    );
    assert_eq!(
        get(&claims, "cognito:username").as_string().as_deref(),
        Some("alice")
    );
    assert!(
        Object::is(&claims, &session.claims()),
        "claims decoded again"
    );
    assert!(Object::is_frozen(claims.unchecked_ref::<Object>()));
    let got = settle(session.get_id_token(None)).await.unwrap();
    assert_eq!(got.as_string().as_deref(), Some(id.as_str()));

    let bare = Session::new(config("claims2", &[("storage", s("memory"))])).unwrap();
    bare.set_tokens(tokens(&access("claims2", 3600, 1), None, None))
        .unwrap();
    let error = settle(bare.get_id_token(None)).await.unwrap_err();
    assert_eq!(code(&error), "BAD_CONFIG");
    assert_eq!(
        get(&bare.claims(), "username").as_string().as_deref(),
        Some("alice")
    );
}

// ----- events and snapshots -----

#[wasm_bindgen_test]
async fn the_snapshot_keeps_its_identity_until_something_changes_and_listeners_hear_why() {
    let client = "snapshot";
    let session = Session::new(config(client, &[("storage", s("memory"))])).unwrap();
    let (seen, listener) = recorder();
    let unsubscribe: Function = session.subscribe(listener).unwrap().into();
    let first = session.get_snapshot();
    assert!(Object::is(&first, &session.get_snapshot()));
    assert_eq!(get(&first, "signedIn"), JsValue::FALSE);
    assert!(get(&first, "expiresAt").is_null());

    session
        .set_tokens(tokens(&access(client, 3600, 1), None, Some("rt")))
        .unwrap();
    let second = session.get_snapshot();
    assert!(!Object::is(&first, &second));
    assert!(Object::is(&second, &session.get_snapshot()));
    assert_eq!(get(&second, "signedIn"), JsValue::TRUE);
    assert!(get(&second, "expiresAt").as_f64().unwrap() > js_sys::Date::now());

    settle(session.sign_out()).await.unwrap();
    assert_eq!(get(&session.get_snapshot(), "signedIn"), JsValue::FALSE);
    assert_eq!(types(&seen), ["signedIn", "signedOut"]);

    unsubscribe.call0(&JsValue::UNDEFINED).unwrap();
    session
        .set_tokens(tokens(&access(client, 3600, 2), None, Some("rt")))
        .unwrap();
    assert_eq!(seen.length(), 2, "an unsubscribed listener was called");
    assert_eq!(
        code(&session.subscribe(s("nope")).unwrap_err()),
        "BAD_CONFIG"
    );
}

#[wasm_bindgen_test]
async fn a_listener_that_calls_back_into_the_session_does_not_break_it() {
    let client = "reentrant";
    let session =
        std::rc::Rc::new(Session::new(config(client, &[("storage", s("memory"))])).unwrap());
    let inner = session.clone();
    let snapshots = Array::new();
    let sink = snapshots.clone();
    let listener = Closure::<dyn FnMut(JsValue)>::new(move |_e: JsValue| {
        sink.push(&inner.get_snapshot());
        let _ = inner.get_access_token(None);
    })
    .into_js_value();
    session.subscribe(listener).unwrap();
    session
        .set_tokens(tokens(&access(client, 3600, 1), None, Some("rt")))
        .unwrap();
    assert_eq!(
        snapshots.length(),
        1,
        "events after construction are delivered at once"
    );
    assert_eq!(get(&snapshots.get(0), "signedIn"), JsValue::TRUE);
}

// ----- storage -----

#[wasm_bindgen_test]
async fn tokens_survive_a_reload_in_session_storage_under_a_namespaced_key() {
    let client = "roundtrip";
    let key = storage_key(client);
    session_storage().remove_item(&key).unwrap();
    let token = access(client, 3600, 1);
    {
        let first = Session::new(config(client, &[])).unwrap();
        first.set_tokens(tokens(&token, None, Some("rt"))).unwrap();
    }
    let record = session_storage()
        .get_item(&key)
        .unwrap()
        .expect("record written");
    assert!(record.contains(&token));
    let reloaded = Session::new(config(client, &[])).unwrap();
    let got = settle(reloaded.get_access_token(None)).await.unwrap();
    assert_eq!(got.as_string().as_deref(), Some(token.as_str()));
    // Another client of the same pool does not see it.
    let other = Session::new(config("roundtrip2", &[])).unwrap();
    let error = settle(other.get_access_token(None)).await.unwrap_err();
    assert_eq!(code(&error), "NOT_SIGNED_IN");
    settle(reloaded.sign_out()).await.unwrap();
    assert_eq!(session_storage().get_item(&key).unwrap(), None);
}

#[wasm_bindgen_test]
async fn memory_storage_writes_nothing_to_web_storage() {
    let client = "memonly";
    let session = Session::new(config(client, &[("storage", s("memory"))])).unwrap();
    session
        .set_tokens(tokens(&access(client, 3600, 1), None, Some("rt")))
        .unwrap();
    assert_eq!(
        session_storage().get_item(&storage_key(client)).unwrap(),
        None
    );
    assert_eq!(
        local_storage().get_item(&storage_key(client)).unwrap(),
        None
    );
}

#[wasm_bindgen_test]
async fn unreadable_or_tampered_storage_is_discarded_with_an_event_never_a_crash() {
    let client = "tampered";
    let key = storage_key(client);
    let good = {
        session_storage().remove_item(&key).unwrap();
        let s1 = Session::new(config(client, &[])).unwrap();
        s1.set_tokens(tokens(&access(client, 3600, 1), None, Some("rt")))
            .unwrap();
        session_storage().get_item(&key).unwrap().unwrap()
    };
    let forged = access("attacker-client", 3600, 9);
    let token_start = good.find("\"access\":\"").unwrap() + 10;
    let token_end = token_start + good[token_start..].find('"').unwrap();
    let swapped = format!("{}{}{}", &good[..token_start], forged, &good[token_end..]);
    let mut junk = vec![
        String::from("{not json"),
        String::from("null"),
        String::from(r#"{"v":99}"#),
        String::from(r#"{"v":1,"access":5}"#),
        swapped,
        String::from("\u{0}\u{ffff}"),
    ];
    // Every prefix of a valid record.
    for cut in (1..good.len()).step_by(97) {
        if good.is_char_boundary(cut) {
            junk.push(good[..cut].to_owned());
        }
    }
    for record in junk {
        session_storage().set_item(&key, &record).unwrap();
        let session = Session::new(config(client, &[])).unwrap();
        let (seen, listener) = recorder();
        session.subscribe(listener).unwrap();
        sleep(0).await;
        assert_eq!(types(&seen), ["storageDiscarded"], "record {record:?}");
        assert_eq!(
            session_storage().get_item(&key).unwrap(),
            None,
            "record {record:?} kept"
        );
        let error = settle(session.get_access_token(None)).await.unwrap_err();
        assert_eq!(code(&error), "NOT_SIGNED_IN");
    }
}

// ----- fetch -----

#[wasm_bindgen_test]
async fn fetch_attaches_the_token_only_to_the_page_origin_and_allowed_origins() {
    let client = "origins";
    let seen = stub_fetch(&[response(200, None, "ok")]);
    let session = Session::new(config(
        client,
        &[
            ("storage", s("memory")),
            (
                "allowedOrigins",
                Array::of1(&s("https://api.example.com")).into(),
            ),
        ],
    ))
    .unwrap();
    let token = access(client, 3600, 1);
    session
        .set_tokens(tokens(&token, None, Some("rt")))
        .unwrap();
    let bearer = format!("Bearer {token}");
    let page = web_sys::window().unwrap().location().origin().unwrap();
    for (url, attached) in [
        (String::from("/api/data"), true),
        (format!("{page}/x?y=1"), true),
        (String::from("https://api.example.com/v1/items"), true),
        (String::from("https://api.example.com:443/v1"), true),
        (String::from("https://api.example.com.evil.net/"), false),
        (String::from("http://api.example.com/"), false),
        (String::from("https://api.example.com:8443/"), false),
        (String::from("https://evil.example/"), false),
        (String::from("data:text/plain,hello"), false),
    ] {
        let before = seen.length();
        let answer = settle(session.fetch(s(&url), None)).await;
        assert!(
            answer.is_ok(),
            "{url}: {:?}",
            answer.err().map(|e| message(&e))
        );
        if url.starts_with("data:") {
            continue; // the stub records it like any other request
        }
        assert_eq!(seen.length(), before + 1, "{url}");
        let auth = get(&seen.get(before), "auth");
        if attached {
            assert_eq!(auth.as_string().as_deref(), Some(bearer.as_str()), "{url}");
        } else {
            assert!(auth.is_null(), "{url} got the token");
        }
    }
    // A Request object and an init with a method and body pass through intact.
    let init = obj(&[("method", s("POST")), ("body", s("payload"))]);
    settle(session.fetch(s("/api/post"), Some(init)))
        .await
        .unwrap();
    let last = seen.get(seen.length() - 1);
    assert_eq!(get(&last, "body").as_string().as_deref(), Some("payload"));
    assert_eq!(
        get(&last, "auth").as_string().as_deref(),
        Some(bearer.as_str())
    );
}

#[wasm_bindgen_test]
async fn fetch_to_an_allowed_origin_without_a_token_sends_nothing_and_rejects_typed() {
    let seen = stub_fetch(&[response(200, None, "ok")]);
    let session = Session::new(config("nofetch", &[("storage", s("memory"))])).unwrap();
    let error = settle(session.fetch(s("/api/data"), None))
        .await
        .unwrap_err();
    assert_eq!(code(&error), "NOT_SIGNED_IN");
    assert_eq!(seen.length(), 0, "a request went out without a token");
    // Other origins are not the session's business: they go out untouched.
    settle(session.fetch(s("https://elsewhere.example/"), None))
        .await
        .unwrap();
    assert_eq!(seen.length(), 1);
}

#[wasm_bindgen_test]
fn the_origin_rule_compares_exact_origins() {
    assert_eq!(
        parse_origin("https://API.example.com").as_deref(),
        Some("https://api.example.com")
    );
    assert_eq!(
        parse_origin("https://api.example.com/").as_deref(),
        Some("https://api.example.com")
    );
    assert_eq!(
        parse_origin("http://127.0.0.1:8080").as_deref(),
        Some("http://127.0.0.1:8080")
    );
    for bad in [
        "https://api.example.com/v1",
        "https://api.example.com?x",
        "https://user:pw@api.example.com",
        "https://*.example.com",
        "api.example.com",
        "data:text/plain,x",
        "",
        "null",
    ] {
        assert_eq!(parse_origin(bad), None, "{bad}");
    }
    assert_eq!(origin_of("data:text/plain,x"), None);
    assert_eq!(origin_of("blob:null/1234"), None);
    let allowed = vec![String::from("https://api.example.com")];
    let page = Some("https://app.example.com");
    assert!(may_attach("https://app.example.com", page, &allowed));
    assert!(may_attach("https://api.example.com", page, &allowed));
    assert!(!may_attach("https://api.example.com.evil", page, &allowed));
    assert!(!may_attach("null", Some("null"), &allowed));
}

// ----- refresh through the stubbed provider -----

#[wasm_bindgen_test]
async fn concurrent_callers_with_an_expiring_token_share_one_refresh() {
    let client = "burst";
    let fresh = access(client, 3600, 2);
    let seen = stub_fetch(&[response(
        200,
        None,
        &cognito_ok(&fresh, &id_token(client, 3600)),
    )]);
    let session = Session::new(config(client, &[("storage", s("memory"))])).unwrap();
    let (events, listener) = recorder();
    session.subscribe(listener).unwrap();
    session
        .set_tokens(tokens(&access(client, 10, 1), None, Some("rt-1")))
        .unwrap();
    let waiting: Vec<Promise> = (0..20).map(|_| session.get_access_token(None)).collect();
    for p in waiting {
        assert_eq!(
            settle(p).await.unwrap().as_string().as_deref(),
            Some(fresh.as_str())
        );
    }
    assert_eq!(seen.length(), 1);
    let request = seen.get(0);
    assert_eq!(
        get(&request, "target").as_string().as_deref(),
        Some("AWSCognitoIdentityProviderService.InitiateAuth")
    );
    assert!(get(&request, "body")
        .as_string()
        .unwrap()
        .contains("\"REFRESH_TOKEN\":\"rt-1\""));
    assert!(get(&request, "auth").is_null());
    assert!(types(&events).contains(&String::from("refreshed")));
    assert_eq!(get(&session.get_snapshot(), "refreshing"), JsValue::FALSE);
    settle(session.sign_out()).await.unwrap();
}

#[wasm_bindgen_test]
async fn throttling_rejects_late_waiters_with_throttled_and_retry_at_and_keeps_the_session() {
    let client = "throttled";
    let mut throttle = response(400, Some("TooManyRequestsException:"), THROTTLE);
    Reflect::set(
        &get(&throttle, "headers"),
        &s("x-amz-retry-after"),
        &s("60000"),
    )
    .unwrap();
    throttle = throttle.clone();
    let seen = stub_fetch(&[throttle]);
    let session = Session::new(config(client, &[("storage", s("memory"))])).unwrap();
    let (events, listener) = recorder();
    session.subscribe(listener).unwrap();
    session
        .set_tokens(tokens(&access(client, 10, 1), None, Some("rt-1")))
        .unwrap();
    let before = js_sys::Date::now();
    let error =
        settle(session.get_access_token(Some(obj(&[("deadlineMs", JsValue::from_f64(5_000.0))]))))
            .await
            .unwrap_err();
    assert_eq!(code(&error), "THROTTLED", "{}", message(&error));
    let retry_at = get(&error, "retryAt").as_f64().expect("retryAt");
    assert!(
        retry_at >= before + 59_000.0,
        "Retry-After ignored: {}",
        retry_at - before
    );
    assert!(
        js_sys::Date::now() - before < 4_000.0,
        "waited past the point of hope"
    );
    assert_eq!(seen.length(), 1);
    assert!(types(&events).contains(&String::from("throttled")));
    let snapshot = session.get_snapshot();
    assert_eq!(get(&snapshot, "signedIn"), JsValue::TRUE);
    assert_eq!(get(&snapshot, "retryAt").as_f64(), Some(retry_at));
    // Asking again during the backoff sends nothing.
    let again =
        settle(session.get_access_token(Some(obj(&[("deadlineMs", JsValue::from_f64(10.0))]))))
            .await
            .unwrap_err();
    assert_eq!(code(&again), "THROTTLED");
    assert_eq!(seen.length(), 1);
    settle(session.sign_out()).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_revoked_refresh_token_rejects_every_waiter_and_goes_to_login_exactly_once() {
    let client = "revoked";
    let seen = stub_fetch(&[response(400, Some("NotAuthorizedException"), REVOKED)]);
    let logins = Array::new();
    let sink = logins.clone();
    let on_login = Closure::<dyn FnMut(JsValue)>::new(move |r: JsValue| {
        sink.push(&r);
    })
    .into_js_value();
    let session = Session::new(config(client, &[("onLoginRequired", on_login)])).unwrap();
    let (events, listener) = recorder();
    session.subscribe(listener).unwrap();
    session
        .set_tokens(tokens(&access(client, 10, 1), None, Some("rt-dead")))
        .unwrap();
    let waiting: Vec<Promise> = (0..5).map(|_| session.get_access_token(None)).collect();
    for p in waiting {
        assert_eq!(code(&settle(p).await.unwrap_err()), "SESSION_EXPIRED");
    }
    let later = settle(session.get_access_token(None)).await.unwrap_err();
    assert_eq!(code(&later), "SESSION_EXPIRED");
    assert_eq!(seen.length(), 1);
    assert_eq!(logins.length(), 1);
    assert_eq!(
        logins.get(0).as_string().as_deref(),
        Some("refreshTokenDead")
    );
    assert!(types(&events).contains(&String::from("expired")));
    assert_eq!(
        session_storage().get_item(&storage_key(client)).unwrap(),
        None
    );
    assert_eq!(get(&session.get_snapshot(), "expired"), JsValue::TRUE);
}

#[wasm_bindgen_test]
async fn hostile_refresh_answers_become_typed_errors_and_keep_the_refresh_token() {
    let client = "hostile";
    let html = "<html><body><h1>502 Bad Gateway</h1></body></html>";
    let huge = "x".repeat(1 << 20);
    let cases: Vec<(JsValue, &str)> = vec![
        (response(200, None, html), "BAD_RESPONSE"),
        (
            response(200, None, r#"{"AuthenticationResult":{"AccessToken":"#),
            "BAD_RESPONSE",
        ),
        (
            response(200, None, r#"{"AuthenticationResult":{"AccessToken":5}}"#),
            "BAD_RESPONSE",
        ),
        (response(200, None, &huge), "BAD_RESPONSE"),
        (
            response(
                200,
                None,
                &cognito_ok(&access(client, -7_200, 3), &id_token(client, 3600)),
            ),
            "BAD_RESPONSE",
        ),
        (response(502, None, html), "UNAVAILABLE"),
        (obj(&[("network", JsValue::TRUE)]), "UNAVAILABLE"),
    ];
    for (answer, expected) in cases {
        let seen = stub_fetch(&[answer]);
        let session = Session::new(config(client, &[("storage", s("memory"))])).unwrap();
        session
            .set_tokens(tokens(&access(client, 10, 1), None, Some("rt-keep")))
            .unwrap();
        let error = settle(
            session.get_access_token(Some(obj(&[("deadlineMs", JsValue::from_f64(300.0))]))),
        )
        .await
        .expect_err(expected);
        assert_eq!(code(&error), expected, "{}", message(&error));
        assert!(seen.length() >= 1);
        assert_eq!(
            get(&session.get_snapshot(), "signedIn"),
            JsValue::TRUE,
            "{expected}"
        );
        assert_eq!(get(&session.get_snapshot(), "expired"), JsValue::FALSE);
        settle(session.sign_out()).await.unwrap();
    }
}

#[wasm_bindgen_test]
async fn sign_in_with_password_sends_user_password_auth_and_types_its_failures() {
    let client = "signin";
    let fresh = access(client, 3600, 7);
    let seen = stub_fetch(&[
        response(
            400,
            Some("NotAuthorizedException"),
            r#"{"__type":"NotAuthorizedException","message":"Incorrect username or password."}"#,
        ),
        response(400, Some("TooManyRequestsException"), THROTTLE),
        response(
            200,
            None,
            r#"{"ChallengeName":"NEW_PASSWORD_REQUIRED","Session":"sess-1","ChallengeParameters":{}}"#,
        ),
        response(
            200,
            None,
            &format!(
                r#"{{"AuthenticationResult":{{"AccessToken":"{fresh}","IdToken":"{}","RefreshToken":"rt-new","ExpiresIn":3600,"TokenType":"Bearer"}}}}"#,
                id_token(client, 3600)
            ),
        ),
    ]);
    let session = Session::new(config(client, &[("storage", s("memory"))])).unwrap();
    let wrong = settle(session.sign_in_with_password(s("alice"), s("nope")))
        .await
        .unwrap_err();
    assert_eq!(code(&wrong), "NOT_SIGNED_IN");
    assert_eq!(
        get(&wrong, "providerCode").as_string().as_deref(),
        Some("NotAuthorizedException")
    );
    let throttled = settle(session.sign_in_with_password(s("alice"), s("pw")))
        .await
        .unwrap_err();
    assert_eq!(code(&throttled), "THROTTLED");
    let challenge = settle(session.sign_in_with_password(s("alice"), s("pw")))
        .await
        .unwrap();
    assert_eq!(
        get(&challenge, "status").as_string().as_deref(),
        Some("challenge")
    );
    assert_eq!(
        get(&challenge, "challengeName").as_string().as_deref(),
        Some("NEW_PASSWORD_REQUIRED")
    );
    assert_eq!(
        get(&challenge, "session").as_string().as_deref(),
        Some("sess-1")
    );
    let ok = settle(session.sign_in_with_password(s("alice"), s("pw")))
        .await
        .unwrap();
    assert_eq!(get(&ok, "status").as_string().as_deref(), Some("signedIn"));
    let token = settle(session.get_access_token(None)).await.unwrap();
    assert_eq!(token.as_string().as_deref(), Some(fresh.as_str()));
    assert_eq!(seen.length(), 4);
    let body = get(&seen.get(0), "body").as_string().unwrap();
    assert!(
        body.contains("\"AuthFlow\":\"USER_PASSWORD_AUTH\"")
            && body.contains("\"USERNAME\":\"alice\"")
    );
    let bad = settle(session.sign_in_with_password(JsValue::from_f64(1.0), s("pw")))
        .await
        .unwrap_err();
    assert_eq!(code(&bad), "BAD_CONFIG");
    let oauth = Session::new(obj(&[
        ("clientId", s("spa")),
        ("tokenEndpoint", s("https://auth.example.com/oauth2/token")),
        ("storage", s("memory")),
    ]))
    .unwrap();
    let unsupported = settle(oauth.sign_in_with_password(s("a"), s("b")))
        .await
        .unwrap_err();
    assert_eq!(code(&unsupported), "BAD_CONFIG");
}

// ----- tabs -----

#[wasm_bindgen_test]
async fn two_local_storage_sessions_share_sign_in_refresh_and_sign_out_like_two_tabs() {
    let client = "tabs";
    let key = storage_key(client);
    local_storage().remove_item(&key).unwrap();
    let fresh = access(client, 3600, 2);
    let seen = stub_fetch(&[response(
        200,
        None,
        &cognito_ok(&fresh, &id_token(client, 3600)),
    )]);
    let a = Session::new(config(client, &[("storage", s("local"))])).unwrap();
    let b = Session::new(config(client, &[("storage", s("local"))])).unwrap();
    let (b_events, listener) = recorder();
    b.subscribe(listener).unwrap();

    // A signs in; B hears it over the channel.
    a.set_tokens(tokens(&access(client, 10, 1), None, Some("rt-1")))
        .unwrap();
    sleep(50).await;
    assert!(
        types(&b_events).contains(&String::from("signedIn")),
        "{:?}",
        types(&b_events)
    );

    // Both need a token at once: one refresh under the lock, and both get its token.
    let pa = a.get_access_token(None);
    let pb = b.get_access_token(None);
    assert_eq!(
        settle(pa).await.unwrap().as_string().as_deref(),
        Some(fresh.as_str())
    );
    assert_eq!(
        settle(pb).await.unwrap().as_string().as_deref(),
        Some(fresh.as_str())
    );
    assert_eq!(seen.length(), 1, "both tabs refreshed");

    // A signs out; B follows.
    settle(a.sign_out()).await.unwrap();
    sleep(50).await;
    let error = settle(b.get_access_token(None)).await.unwrap_err();
    assert_eq!(code(&error), "NOT_SIGNED_IN");
    assert_eq!(local_storage().get_item(&key).unwrap(), None);
}

#[wasm_bindgen_test]
async fn bad_deadlines_are_refused_with_bad_config() {
    let session = Session::new(config("deadlines", &[("storage", s("memory"))])).unwrap();
    for bad in [
        obj(&[("deadlineMs", s("10"))]),
        obj(&[("deadlineMs", JsValue::from_f64(-1.0))]),
        obj(&[("deadlineMs", JsValue::from_f64(f64::NAN))]),
        obj(&[("deadlineMs", JsValue::from_f64(f64::INFINITY))]),
        JsValue::from_f64(5.0),
    ] {
        let error = settle(session.get_access_token(Some(bad)))
            .await
            .unwrap_err();
        assert_eq!(code(&error), "BAD_CONFIG", "{}", message(&error));
    }
}

#[wasm_bindgen_test]
async fn a_401_with_no_newer_token_is_returned_after_exactly_one_request() {
    let client = "unauthorized";
    let seen = stub_fetch(&[response(401, None, "denied")]);
    let session = Session::new(config(client, &[("storage", s("memory"))])).unwrap();
    session
        .set_tokens(tokens(&access(client, 3600, 1), None, Some("rt")))
        .unwrap();
    let answer = settle(session.fetch(s("/api/private"), None))
        .await
        .unwrap();
    let answer: web_sys::Response = answer.dyn_into().unwrap();
    assert_eq!(answer.status(), 401);
    assert_eq!(seen.length(), 1, "replayed with the same rejected token");
}

#[wasm_bindgen_test]
async fn another_tabs_storage_writes_and_removals_are_followed() {
    let client = "storageevent";
    let key = storage_key(client);
    local_storage().remove_item(&key).unwrap();
    // A record as another tab would write it (made here through a sessionStorage session).
    session_storage().remove_item(&key).unwrap();
    let token = access(client, 3600, 1);
    let writer = Session::new(config(client, &[])).unwrap();
    writer.set_tokens(tokens(&token, None, Some("rt"))).unwrap();
    let record = session_storage().get_item(&key).unwrap().unwrap();
    settle(writer.sign_out()).await.unwrap();

    let tab = Session::new(config(client, &[("storage", s("local"))])).unwrap();
    let (seen, listener) = recorder();
    tab.subscribe(listener).unwrap();
    let dispatch = Function::new_with_args(
        "key, value",
        "window.dispatchEvent(new StorageEvent('storage', \
         { key, newValue: value, storageArea: localStorage }));",
    );
    let fire = |value: Option<&str>| {
        let value = value.map_or(JsValue::NULL, JsValue::from_str);
        dispatch.call2(&JsValue::NULL, &s(&key), &value).unwrap();
    };
    local_storage().set_item(&key, &record).unwrap();
    fire(Some(&record));
    let got = settle(tab.get_access_token(None)).await.unwrap();
    assert_eq!(got.as_string().as_deref(), Some(token.as_str()));
    // Another key, or another storage area, is none of its business.
    local_storage().remove_item(&key).unwrap();
    dispatch
        .call2(&JsValue::NULL, &s("unrelated"), &JsValue::NULL)
        .unwrap();
    assert!(settle(tab.get_access_token(None)).await.is_ok());
    fire(None);
    let error = settle(tab.get_access_token(None)).await.unwrap_err();
    assert_eq!(code(&error), "NOT_SIGNED_IN");
    assert_eq!(types(&seen), ["signedIn", "signedOut"]);
}

#[wasm_bindgen_test]
async fn a_backoff_one_tab_hears_about_holds_the_other_tab_back_too() {
    let client = "sharedbackoff";
    local_storage().remove_item(&storage_key(client)).unwrap();
    let throttle = response(400, Some("TooManyRequestsException"), THROTTLE);
    Reflect::set(
        &get(&throttle, "headers"),
        &s("x-amz-retry-after"),
        &s("60000"),
    )
    .unwrap();
    let seen = stub_fetch(&[throttle]);
    let a = Session::new(config(client, &[("storage", s("local"))])).unwrap();
    let b = Session::new(config(client, &[("storage", s("local"))])).unwrap();
    a.set_tokens(tokens(&access(client, 10, 1), None, Some("rt-1")))
        .unwrap();
    sleep(20).await;
    let error = settle(a.get_access_token(Some(obj(&[("deadlineMs", JsValue::from_f64(300.0))]))))
        .await
        .unwrap_err();
    assert_eq!(code(&error), "THROTTLED");
    sleep(20).await;
    let error = settle(b.get_access_token(Some(obj(&[("deadlineMs", JsValue::from_f64(20.0))]))))
        .await
        .unwrap_err();
    assert_eq!(code(&error), "THROTTLED", "{}", message(&error));
    assert!(get(&b.get_snapshot(), "retryAt").as_f64().is_some());
    assert_eq!(
        seen.length(),
        1,
        "the second tab ignored the shared backoff"
    );
    settle(a.sign_out()).await.unwrap();
}

#[wasm_bindgen_test]
async fn an_oauth2_session_refreshes_opaque_tokens_with_the_refresh_token_grant() {
    let seen = stub_fetch(&[response(
        200,
        None,
        r#"{"access_token":"opaque-2","expires_in":3600,"token_type":"Bearer"}"#,
    )]);
    let session = Session::new(obj(&[
        ("clientId", s("spa")),
        ("tokenEndpoint", s("https://auth.example.com/oauth2/token")),
        ("storage", s("memory")),
    ]))
    .unwrap();
    let opaque = |token: &str, secs: f64| {
        obj(&[
            ("accessToken", s(token)),
            ("refreshToken", s("rt o/1")),
            ("expiresIn", JsValue::from_f64(secs)),
        ])
    };
    assert_eq!(
        code(
            &session
                .set_tokens(obj(&[("accessToken", s("opaque-0"))]))
                .unwrap_err()
        ),
        "BAD_CONFIG",
        "an opaque token without expiresIn has no known expiry"
    );
    assert_eq!(
        code(&session.set_tokens(opaque("opaque-0", -5.0)).unwrap_err()),
        "BAD_CONFIG"
    );
    session.set_tokens(opaque("opaque-1", 10.0)).unwrap();
    let got = settle(session.get_access_token(None)).await.unwrap();
    assert_eq!(got.as_string().as_deref(), Some("opaque-2"));
    assert_eq!(seen.length(), 1);
    let request = seen.get(0);
    assert_eq!(
        get(&request, "url").as_string().as_deref(),
        Some("https://auth.example.com/oauth2/token")
    );
    assert_eq!(
        get(&request, "body").as_string().as_deref(),
        Some("grant_type=refresh_token&client_id=spa&refresh_token=rt+o%2F1")
    );
}

/// An access token issued an hour minus `left` seconds ago, valid `left` more seconds.
fn aging_access(client: &str, left: u64, nonce: u32) -> String {
    let now = now_secs();
    let exp = now + left;
    let iat = exp - 3600;
    mint(&format!(
        r#"{{"sub":"u1","token_use":"access","client_id":"{client}","iat":{iat},"exp":{exp},"jti":"{nonce}"}}"#
    ))
}

/// Makes `document.hidden` read `hidden` and tells the page.
fn set_hidden(hidden: bool) {
    let f = Function::new_with_args(
        "hidden",
        "Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden }); \
         document.dispatchEvent(new Event('visibilitychange'));",
    );
    f.call1(&JsValue::NULL, &JsValue::from_bool(hidden))
        .unwrap();
}

#[wasm_bindgen_test]
async fn a_visible_tab_refreshes_before_expiry_and_a_hidden_one_waits_for_a_caller() {
    let client = "visibility";
    let fresh = access(client, 3600, 5);
    let seen = stub_fetch(&[response(
        200,
        None,
        &cognito_ok(&fresh, &id_token(client, 3600)),
    )]);

    // Hidden: the token nears its refresh window, and nothing is sent on its own.
    set_hidden(true);
    let hidden = Session::new(config(client, &[("storage", s("memory"))])).unwrap();
    hidden
        .set_tokens(tokens(&aging_access(client, 32, 1), None, Some("rt-h")))
        .unwrap();
    sleep(2_500).await;
    assert_eq!(
        seen.length(),
        0,
        "a hidden tab refreshed with nobody asking"
    );
    // Once a caller needs a token, it refreshes.
    let got = settle(hidden.get_access_token(None)).await.unwrap();
    assert_eq!(got.as_string().as_deref(), Some(fresh.as_str()));
    assert_eq!(seen.length(), 1);
    settle(hidden.sign_out()).await.unwrap();

    // Visible: the proactive refresh happens by itself, before the token expires.
    set_hidden(false);
    let visible = Session::new(config(client, &[("storage", s("memory"))])).unwrap();
    let (events, listener) = recorder();
    visible.subscribe(listener).unwrap();
    visible
        .set_tokens(tokens(&aging_access(client, 32, 2), None, Some("rt-v")))
        .unwrap();
    sleep(2_500).await;
    assert_eq!(seen.length(), 2, "no proactive refresh");
    assert!(types(&events).contains(&String::from("refreshed")));
    let got = settle(visible.get_access_token(None)).await.unwrap();
    assert_eq!(got.as_string().as_deref(), Some(fresh.as_str()));
    settle(visible.sign_out()).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_401_for_a_token_superseded_meanwhile_is_replayed_once_with_the_new_one() {
    let client = "replay";
    let denied = response(401, None, "denied");
    Reflect::set(&denied, &s("hook"), &JsValue::TRUE).unwrap();
    let seen = stub_fetch(&[denied, response(200, None, "ok")]);
    let session =
        std::rc::Rc::new(Session::new(config(client, &[("storage", s("memory"))])).unwrap());
    let old = access(client, 3600, 1);
    let new = access(client, 3600, 2);
    session.set_tokens(tokens(&old, None, Some("rt"))).unwrap();
    // While the first request is out, the session moves on to a new token.
    let (other, newer) = (session.clone(), new.clone());
    let hook = Closure::<dyn FnMut()>::new(move || {
        other.set_tokens(tokens(&newer, None, Some("rt"))).unwrap();
    })
    .into_js_value();
    Reflect::set(&js_sys::global(), &s("__hook"), &hook).unwrap();
    let answer = settle(session.fetch(s("/api/private"), None))
        .await
        .unwrap();
    let answer: web_sys::Response = answer.dyn_into().unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(seen.length(), 2);
    let auths: Vec<String> = (0..2)
        .map(|i| get(&seen.get(i), "auth").as_string().unwrap_or_default())
        .collect();
    assert_eq!(auths, [format!("Bearer {old}"), format!("Bearer {new}")]);
}
