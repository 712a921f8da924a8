//! A Rust frontend on `cognito_session::web`, in two parts:
//!
//! - [`mount`]: the app a user sees at `/rust/` (www/rust/index.html): sign in with the seeded
//!   user, call the protected API with `session.fetch`, sign out; a status line kept up to date
//!   through `subscribe` + `snapshot`, and the user's name read with `claims::<Claims>()`.
//! - [`Harness`]: the same session's calls as plain JavaScript values, for the end-to-end tests
//!   (tests/e2e/pages/rust-harness.js wraps it in the `window.H` the JavaScript shell's tests
//!   drive, so both drivers are held to the same counts).

use std::cell::RefCell;
use std::rc::Rc;

use cognito_session::web::{
    login_reason_name, Config, Session, SessionError, SessionEvent, SignInStep, Storage,
    Subscription, Tokens,
};
use js_sys::{Array, Object, Promise, Reflect};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};
use web_sys::{HtmlInputElement, Request, Response};

/// The claims the app reads from the ID token: its own type, not a map.
#[derive(Debug, Deserialize, Serialize)]
struct Claims {
    sub: String,
    #[serde(rename = "cognito:username")]
    username: Option<String>,
    token_use: Option<String>,
    exp: u64,
}

/// What the rig says at /rig-config.json (the seeded pool, client and user, its URLs).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RigConfig {
    cognito_url: String,
    api_url: String,
    pool_id: String,
    client_id: String,
    username: String,
    password: String,
}

fn set(target: &JsValue, name: &str, value: impl Into<JsValue>) {
    let _ = Reflect::set(target, &JsValue::from_str(name), &value.into());
}

fn now() -> f64 {
    js_sys::Date::now()
}

/// A typed error as the JavaScript shell's: an object with `code`, `retryAt`, `message`.
fn error_object(e: &SessionError) -> JsValue {
    let out: JsValue = Object::new().into();
    set(&out, "name", "SessionError");
    set(&out, "code", e.code());
    set(&out, "message", e.message());
    set(
        &out,
        "retryAt",
        e.retry_at().map_or(JsValue::NULL, |t| (t as f64).into()),
    );
    if let Some(code) = e.provider_code() {
        set(&out, "providerCode", code);
    }
    out
}

fn sign_in_object(step: &SignInStep) -> JsValue {
    let out: JsValue = Object::new().into();
    match step {
        SignInStep::SignedIn => set(&out, "status", "signedIn"),
        SignInStep::Challenge(c) => {
            set(&out, "status", "challenge");
            set(&out, "challengeName", c.name.as_str());
        }
    }
    out
}

/// `GET url` through `session.fetch`: `{status, body}` (the body as JSON, else null).
async fn api_call(session: &Session, url: &str) -> Result<JsValue, SessionError> {
    let request = Request::new_with_str(url).map_err(SessionError::Fetch)?;
    let response = session.fetch(request).await?;
    let body = match response.json() {
        Ok(p) => JsFuture::from(p).await.unwrap_or(JsValue::NULL),
        Err(_) => JsValue::NULL,
    };
    let out: JsValue = Object::new().into();
    set(&out, "status", response.status());
    set(&out, "body", body);
    Ok(out)
}

/// Resolves with `value`, or rejects with the typed error object.
fn settle(
    future: impl std::future::Future<Output = Result<JsValue, SessionError>> + 'static,
) -> Promise {
    future_to_promise(async move { future.await.map_err(|e| error_object(&e)) })
}

/// The harness's view of one session: the session, every event it emitted and every login
/// request, each with the time it came.
#[wasm_bindgen]
pub struct Harness {
    session: Session,
    events: Rc<RefCell<Vec<JsValue>>>,
    login_required: Rc<RefCell<Vec<JsValue>>>,
    _events: Subscription,
}

/// `new Harness({poolId, clientId, endpoint, allowedOrigins, storage, loginUrl?})` for Cognito,
/// or with `tokenEndpoint` (and `issuer`, `authorizationEndpoint`, `scope`) for OAuth2.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HarnessConfig {
    pool_id: Option<String>,
    client_id: String,
    endpoint: Option<String>,
    token_endpoint: Option<String>,
    issuer: Option<String>,
    authorization_endpoint: Option<String>,
    scope: Option<String>,
    allowed_origins: Vec<String>,
    storage: String,
    login_url: Option<String>,
}

#[wasm_bindgen]
impl Harness {
    /// A session on the rig; throws the typed error of a bad config.
    #[wasm_bindgen(constructor)]
    pub fn new(config: JsValue) -> Result<Harness, JsValue> {
        let c: HarnessConfig = serde_wasm_bindgen::from_value(config)
            .map_err(|e| JsValue::from_str(&e.to_string()))?;
        let storage = match c.storage.as_str() {
            "local" => Storage::Local,
            "memory" => Storage::Memory,
            _ => Storage::Session,
        };
        let mut config = match c.token_endpoint {
            Some(token_endpoint) => {
                let mut config = Config::oauth2(token_endpoint, c.client_id);
                if let Some(issuer) = c.issuer {
                    config = config.issuer(issuer);
                }
                if let Some(endpoint) = c.authorization_endpoint {
                    config = config.authorization_endpoint(endpoint);
                }
                if let Some(scope) = c.scope {
                    config = config.scope(scope);
                }
                config
            }
            None => {
                let config = Config::cognito(c.pool_id.unwrap_or_default(), c.client_id);
                match c.endpoint {
                    Some(endpoint) => config.endpoint(endpoint),
                    None => config,
                }
            }
        }
        .storage(storage);
        for origin in c.allowed_origins {
            config = config.allow_origin(origin);
        }
        let login_required = Rc::new(RefCell::new(Vec::new()));
        config = match c.login_url {
            Some(url) => config.login_url(url),
            None => {
                let log = login_required.clone();
                config.on_login_required(move |reason| {
                    let entry: JsValue = Object::new().into();
                    set(&entry, "reason", login_reason_name(reason));
                    set(&entry, "at", now());
                    log.borrow_mut().push(entry);
                })
            }
        };
        let session = Session::new(config).map_err(|e| error_object(&e))?;
        let events = Rc::new(RefCell::new(Vec::new()));
        let log = events.clone();
        let subscription = session.subscribe(move |event: &SessionEvent| {
            let entry = event.to_js();
            set(&entry, "at", now());
            log.borrow_mut().push(entry);
        });
        Ok(Harness {
            session,
            events,
            login_required,
            _events: subscription,
        })
    }

    /// `accessToken` within `deadline_ms`: a promise of the token string.
    pub fn token(&self, deadline_ms: f64) -> Promise {
        let session = self.session.clone();
        let wait = std::time::Duration::from_millis(deadline_ms.max(0.0) as u64);
        settle(async move {
            let token = session.access_token_within(wait).await?;
            Ok(token.as_str().into())
        })
    }

    /// The ID token.
    #[wasm_bindgen(js_name = idToken)]
    pub fn id_token(&self) -> Promise {
        let session = self.session.clone();
        settle(async move { Ok(session.id_token().await?.as_str().into()) })
    }

    /// `session.fetch(url)`: a promise of `{status, body}`.
    #[wasm_bindgen(js_name = apiCall)]
    pub fn api_call(&self, url: String) -> Promise {
        let session = self.session.clone();
        settle(async move { api_call(&session, &url).await })
    }

    /// Password sign-in: a promise of `{status}`.
    #[wasm_bindgen(js_name = signIn)]
    pub fn sign_in(&self, username: String, password: String) -> Promise {
        let session = self.session.clone();
        settle(async move {
            let step = session.sign_in_with_password(&username, &password).await?;
            Ok(sign_in_object(&step))
        })
    }

    /// Sends the browser to the provider's login page (PKCE) with `params` (`[[name, value]]`).
    #[wasm_bindgen(js_name = signInRedirect)]
    pub fn sign_in_redirect(&self, params: JsValue) -> Promise {
        let session = self.session.clone();
        let params: Vec<(String, String)> =
            serde_wasm_bindgen::from_value(params).unwrap_or_default();
        settle(async move {
            let params: Vec<(&str, &str)> = params
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            session.sign_in(&params).await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Completes a redirect sign-in on the page the provider sent the browser back to: a
    /// promise of `{status}`, or null when this page load is no such return.
    #[wasm_bindgen(js_name = handleRedirect)]
    pub fn handle_redirect(&self) -> Promise {
        let session = self.session.clone();
        settle(async move {
            Ok(match session.handle_redirect().await? {
                Some(step) => sign_in_object(&step),
                None => JsValue::NULL,
            })
        })
    }

    /// Signs out.
    #[wasm_bindgen(js_name = signOut)]
    pub fn sign_out(&self) -> Promise {
        let session = self.session.clone();
        settle(async move {
            session.sign_out().await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Hands in tokens; throws the typed error when they cannot be used.
    #[wasm_bindgen(js_name = setTokens)]
    pub fn set_tokens(&self, access: String, refresh: Option<String>) -> Result<(), JsValue> {
        let tokens = Tokens {
            access_token: access,
            refresh_token: refresh,
            ..Tokens::default()
        };
        self.session
            .set_tokens(tokens)
            .map_err(|e| error_object(&e))
    }

    /// The snapshot, as the JavaScript `getSnapshot()` object.
    pub fn snapshot(&self) -> JsValue {
        self.session.snapshot().to_js()
    }

    /// The ID token's claims, read into the app's own [`Claims`] type (null when signed out).
    pub fn claims(&self) -> Result<JsValue, JsValue> {
        match self.session.claims::<Claims>() {
            Ok(Some(claims)) => serde_wasm_bindgen::to_value(&claims).map_err(Into::into),
            Ok(None) => Ok(JsValue::NULL),
            Err(e) => Err(error_object(&e)),
        }
    }

    /// Every event so far, `{type, ..., at}`.
    pub fn events(&self) -> Array {
        self.events.borrow().iter().collect()
    }

    /// Every login request so far (`{reason, at}`; none with a login URL, which navigates).
    #[wasm_bindgen(js_name = loginRequired)]
    pub fn login_required(&self) -> Array {
        self.login_required.borrow().iter().collect()
    }
}

// --- the app at /rust/ ------------------------------------------------------------------------

fn element(id: &str) -> Option<web_sys::Element> {
    web_sys::window()?.document()?.get_element_by_id(id)
}

fn show(id: &str, text: &str) {
    if let Some(e) = element(id) {
        e.set_text_content(Some(text));
    }
}

fn input(id: &str) -> String {
    element(id)
        .and_then(|e| e.dyn_into::<HtmlInputElement>().ok())
        .map(|e| e.value())
        .unwrap_or_default()
}

/// Calls `f` on every click of the button `id`.
fn on_click(id: &str, f: impl Fn() + 'static) {
    if let Some(button) = element(id) {
        let handler = Closure::<dyn Fn()>::new(f);
        let _ = button.add_event_listener_with_callback("click", handler.as_ref().unchecked_ref());
        handler.forget();
    }
}

/// The status line, from the snapshot and the claims.
fn render(session: &Session) {
    let snapshot = session.snapshot();
    let who = session
        .claims::<Claims>()
        .ok()
        .flatten()
        .and_then(|c| c.username);
    let status = match (snapshot.signed_in, snapshot.expired, who) {
        (true, _, Some(name)) => format!("signed in as {name}"),
        (true, _, None) => String::from("signed in"),
        (false, true, _) => String::from("session expired: sign in again"),
        (false, false, _) => String::from("signed out"),
    };
    show("status", &status);
}

/// Starts the app on www/rust/index.html: reads the rig's config, makes the session (the record
/// in localStorage, shared with the other tabs), and wires the buttons.
#[wasm_bindgen]
pub async fn mount() -> Result<(), JsValue> {
    let window = web_sys::window().ok_or("no window")?;
    let answer = JsFuture::from(window.fetch_with_str("/rig-config.json")).await?;
    let rig: RigConfig = serde_wasm_bindgen::from_value(
        JsFuture::from(answer.dyn_into::<Response>()?.json()?).await?,
    )?;
    let api_origin = web_sys::Url::new(&rig.api_url)?.origin();
    let session = Session::new(
        Config::cognito(&rig.pool_id, &rig.client_id)
            .endpoint(&rig.cognito_url)
            .storage(Storage::Local)
            .allow_origin(api_origin),
    )
    .map_err(|e| error_object(&e))?;
    for (id, value) in [("username", &rig.username), ("password", &rig.password)] {
        if let Some(e) = element(id).and_then(|e| e.dyn_into::<HtmlInputElement>().ok()) {
            e.set_value(value);
        }
    }
    render(&session);
    let watched = session.clone();
    session.subscribe(move |_| render(&watched)).forever();

    let s = session.clone();
    on_click("signin", move || {
        let s = s.clone();
        wasm_bindgen_futures::spawn_local(async move {
            show("result", "signing in…");
            match s
                .sign_in_with_password(&input("username"), &input("password"))
                .await
            {
                Ok(_) => show("result", "signed in"),
                Err(e) => show("result", &e.to_string()),
            }
        });
    });
    let s = session.clone();
    let url = format!("{}api/data", rig.api_url);
    on_click("call", move || {
        let (s, url) = (s.clone(), url.clone());
        wasm_bindgen_futures::spawn_local(async move {
            let text = match api_call(&s, &url).await {
                Ok(out) => {
                    let status = Reflect::get(&out, &"status".into()).unwrap_or_default();
                    let body = Reflect::get(&out, &"body".into()).unwrap_or_default();
                    let body = js_sys::JSON::stringify(&body)
                        .ok()
                        .and_then(|b| b.as_string())
                        .unwrap_or_default();
                    format!("HTTP {} {}", status.as_f64().unwrap_or(0.0), body)
                }
                Err(e) => e.to_string(),
            };
            show("result", &text);
        });
    });
    let s = session.clone();
    on_click("signout", move || {
        let s = s.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let _ = s.sign_out().await;
            show("result", "signed out");
        });
    });
    // The session lives as long as the page.
    std::mem::forget(session);
    Ok(())
}
