//! A `Session` for Rust frontends (Leptos, Yew, Dioxus, plain wasm-bindgen): the second driver
//! of the engine, in Rust, behind the cargo feature `web`.
//!
//! It keeps the JavaScript `Session`'s behaviour contract because it drives the same engine
//! ([`crate::engine::machine::SessionMachine`]) the same way the JavaScript shell does: one
//! refresh however many callers and tabs, a proactive jittered refresh, backoff under a budget
//! with `Retry-After`, never a missing or expired token, one login navigation (or callback) on a
//! dead refresh token. Its Web Lock, `BroadcastChannel` and storage record are the JavaScript
//! shell's, so a Rust tab and a JavaScript tab of one app on the same storage key share one
//! session and one refresh.
//!
//! ```no_run
//! use cognito_session::web::{Config, Session, Storage};
//!
//! # async fn app() -> Result<(), cognito_session::web::SessionError> {
//! let session = Session::new(
//!     Config::cognito("eu-west-1_AbC123", "3n4b5urk1ft4fl3mg5e62d9ado")
//!         .storage(Storage::Local)
//!         .allow_origin("https://api.example.com")
//!         .login_url("/login"),
//! )?;
//! session.sign_in_with_password("alice", "correct horse").await?;
//! let request = web_sys::Request::new_with_str("https://api.example.com/orders")
//!     .map_err(cognito_session::web::SessionError::Fetch)?;
//! let response = session.fetch(request).await?; // Authorization: Bearer <a valid token>
//! let _watch = session.subscribe(|event| {
//!     if let cognito_session::web::SessionEvent::Expired { .. } = event { /* show sign-in */ }
//! });
//! # Ok(()) }
//! ```
//!
//! Each crate does its own job: web-sys for fetch (`Request`, `Headers`, `AbortSignal`),
//! `Storage`, `BroadcastChannel`, `Crypto` / `SubtleCrypto` and `Location` (Web Locks through
//! js-sys `Reflect`: web-sys has `LockManager` only as an unstable API); js-sys for promises,
//! `Date.now` and `Reflect`; wasm-bindgen-futures for awaiting them; gloo-timers for the engine's
//! one deadline; serde-wasm-bindgen for [`Session::claims`] and the JavaScript objects of
//! [`SessionEvent::to_js`] and [`Snapshot::to_js`]; base64 for the PKCE secrets.
//!
//! Code map: `driver` (the loop: engine calls in, actions out, the timer, locks, tabs), `http`
//! (sending the engine's requests, the origin rules), `store` (web storage with the fallback to
//! memory), `redirect` (the login page's browser half), `config` ([`Config`]), `error`
//! ([`SessionError`], [`AccessToken`], [`SessionEvent`]).

#![warn(missing_docs)]

mod config;
mod driver;
mod error;
mod http;
mod redirect;
mod store;

use alloc::format;
use alloc::rc::{Rc, Weak};
use alloc::string::String;
use alloc::vec::Vec;
use core::future::{poll_fn, Future};
use core::pin::{pin, Pin};
use core::task::Poll;
use core::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use gloo_timers::callback::Timeout;
use js_sys::Promise;
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, AbortSignal, Request, Response};

use crate::engine::json::{self, write_string, Value};
use crate::engine::protocol::LogoutPage;
use crate::engine::sign_in::{Outgoing, SignedIn};
use crate::engine::sign_out::{SignOut, SignOutStep};
use crate::engine::tokens::Provenance;
use crate::engine::Millis;

pub use crate::engine::machine::LoginReason;
pub use config::{Config, OnLoginRequired, Provider, Storage};
pub use error::{login_reason_name, AccessToken, SessionError, SessionEvent, Tokens};

use driver::{busy, navigate, Inner};
use http::Answer;

/// How long a caller waits for a token unless it says otherwise (the JavaScript default).
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(10);

/// One signed-in (or signed-out) user session. Cloning gives another handle to the same
/// session; when the last handle is dropped, the session stops listening to the page and the
/// other tabs, aborts its refresh and releases its lock.
#[derive(Clone)]
pub struct Session {
    inner: Rc<Inner>,
}

impl core::fmt::Debug for Session {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Session")
            .field("key", &self.inner.checked.key)
            .field("snapshot", &self.snapshot())
            .finish_non_exhaustive()
    }
}

/// A summary of the session for UIs: equal snapshots, nothing changed. Serialised it is the
/// JavaScript `getSnapshot()` object (`{signedIn, expiresAt, refreshing, retryAt, expired}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// Whether the session holds tokens (valid or being refreshed).
    pub signed_in: bool,
    /// Until when the access token is valid, on the local clock (ms).
    pub expires_at: Option<Millis>,
    /// Whether a refresh is under way.
    pub refreshing: bool,
    /// While refreshes back off: the next attempt's earliest moment.
    pub retry_at: Option<Millis>,
    /// Set once a dead refresh token ended the session, until the next sign-in.
    pub expired: bool,
}

impl Snapshot {
    /// The snapshot as the JavaScript object `getSnapshot()` returns.
    pub fn to_js(&self) -> JsValue {
        // `None` as `null`, as the JavaScript object has it (serde-wasm-bindgen's default is
        // `undefined`).
        let serializer = serde_wasm_bindgen::Serializer::new().serialize_missing_as_null(true);
        self.serialize(&serializer).unwrap_or(JsValue::NULL)
    }
}

impl From<crate::engine::machine::Snapshot> for Snapshot {
    fn from(s: crate::engine::machine::Snapshot) -> Snapshot {
        Snapshot {
            signed_in: s.signed_in,
            expires_at: s.expires_at,
            refreshing: s.refreshing,
            retry_at: s.retry_at,
            expired: s.expired,
        }
    }
}

/// How a sign-in step ended well.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInStep {
    /// The session is signed in.
    SignedIn,
    /// Cognito wants another step first: answer it with [`Session::respond_to_challenge`].
    Challenge(Challenge),
}

/// A Cognito challenge (`NEW_PASSWORD_REQUIRED`, `SOFTWARE_TOKEN_MFA`, ...). `Debug` leaves out
/// its `session`, which continues the sign-in.
#[derive(Clone, PartialEq, Eq)]
pub struct Challenge {
    /// `ChallengeName`.
    pub name: String,
    /// Cognito's `Session`, sent back with the answer.
    pub session: String,
    /// Who answers.
    pub username: String,
    /// `ChallengeParameters`, in the order Cognito sent them.
    pub parameters: Vec<(String, String)>,
}

impl core::fmt::Debug for Challenge {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Challenge")
            .field("name", &self.name)
            .field("username", &self.username)
            .field("parameters", &self.parameters)
            .finish_non_exhaustive()
    }
}

impl Challenge {
    /// The challenge named `name` that the engine found in a sign-in answer `body` (which it
    /// checked: a non-empty `Session`, at most 32 string parameters), for the user the step was
    /// for unless Cognito names one (`USERNAME`, else `USER_ID_FOR_SRP`), as the JavaScript
    /// shell's `readChallenge` reads it.
    fn read(name: String, body: &str, username: &str) -> Result<Challenge, SessionError> {
        let malformed = || SessionError::BadResponse {
            message: String::from("bad response from the provider: malformed challenge"),
            provider_code: None,
        };
        let body = json::parse(body).map_err(|_| malformed())?;
        let Some(Value::String(session)) = body.get("Session") else {
            return Err(malformed());
        };
        let mut parameters: Vec<(String, String)> = Vec::new();
        if let Some(Value::Object(members)) = body.get("ChallengeParameters") {
            for (member, value) in members {
                if let Value::String(value) = value {
                    // The last of duplicate members wins, as in `JSON.parse`.
                    parameters.retain(|(m, _)| m != member);
                    parameters.push((member.clone(), value.clone()));
                }
            }
        }
        let named = |key: &str| {
            parameters
                .iter()
                .find(|(m, v)| m == key && !v.is_empty())
                .map(|(_, v)| v.clone())
        };
        let username = named("USERNAME")
            .or_else(|| named("USER_ID_FOR_SRP"))
            .unwrap_or_else(|| String::from(username));
        Ok(Challenge {
            name,
            session: session.clone(),
            username,
            parameters,
        })
    }

    /// The `ChallengeResponses` object, as JSON: `USERNAME`, then `responses`.
    fn responses(&self, responses: &[(&str, &str)]) -> String {
        let mut out = String::from("{\"USERNAME\":");
        write_string(&mut out, &self.username);
        for (entry, value) in responses {
            out.push(',');
            write_string(&mut out, entry);
            out.push(':');
            write_string(&mut out, value);
        }
        out.push('}');
        out
    }
}

/// What [`Session::sign_out_with`] also does at the provider, after signing out here and in every
/// tab.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SignOutOptions {
    /// Revoke the refresh token (Cognito `RevokeToken`, or RFC 7009 at the revocation endpoint).
    pub revoke: bool,
    /// Cognito `GlobalSignOut`: every session of the user ends, on every device.
    pub global: bool,
    /// Go to the provider's logout page last.
    pub redirect: bool,
}

/// A subscription: dropping it unsubscribes. Keep it as long as the callback should run (in a
/// component's state, or [`Subscription::forever`]).
#[must_use = "dropping a Subscription unsubscribes at once"]
pub struct Subscription {
    inner: Weak<Inner>,
    id: u64,
}

impl Subscription {
    /// Keeps the callback subscribed for the session's lifetime.
    pub fn forever(self) {
        core::mem::forget(self);
    }
}

impl core::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Subscription")
            .field("id", &self.id)
            .finish()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.upgrade() {
            inner.listeners.borrow_mut().remove(&self.id);
        }
    }
}

impl Session {
    /// Validates `config`, resumes the session kept in storage (if any) and starts listening to
    /// the page and the other tabs. `BAD_CONFIG` for anything that cannot work.
    pub fn new(config: Config) -> Result<Session, SessionError> {
        Ok(Session {
            inner: Inner::start(config)?,
        })
    }

    /// A valid access token (valid for at least 30 s more), waiting at most
    /// [`DEFAULT_DEADLINE`] for a refresh; or why none can come by then.
    pub async fn access_token(&self) -> Result<AccessToken, SessionError> {
        self.access_token_within(DEFAULT_DEADLINE).await
    }

    /// A valid access token, waiting at most `wait` for a refresh (the engine's deadline, on
    /// its one timer); or why none can come by then (`THROTTLED` / `UNAVAILABLE` with
    /// `retry_at`, `SESSION_EXPIRED`, `NOT_SIGNED_IN`, ...).
    pub async fn access_token_within(&self, wait: Duration) -> Result<AccessToken, SessionError> {
        self.inner.request(millis(wait)).await
    }

    /// The ID token, under the same rules as [`Session::access_token`].
    pub async fn id_token(&self) -> Result<AccessToken, SessionError> {
        self.access_token().await?;
        self.inner
            .drive(|s, now| s.machine.id_token(now).map(String::from))
            .ok_or_else(busy)?
            .map(AccessToken)
            .ok_or_else(|| SessionError::bad_config("this session has no ID token"))
    }

    /// `fetch` with `Authorization: Bearer <access token>` on requests to the page's own origin
    /// and the allowed origins, only with a valid token, replayed once on a 401 when the engine
    /// finds a newer token helps. Other origins get the request untouched. The request's
    /// `AbortSignal` also ends the wait for a token.
    pub async fn fetch(&self, request: Request) -> Result<Response, SessionError> {
        if !self.attaches_token_to(&request.url()) {
            return send_with(&request, None).await;
        }
        let signal = request.signal();
        let token = until_aborted(self.access_token(), &signal).await?;
        let response = send_with(&request, Some(&token)).await?;
        if response.status() != 401 {
            return Ok(response);
        }
        match until_aborted(self.token_for_replay(&token), &signal).await? {
            Some(newer) => send_with(&request, Some(&newer)).await,
            None => Ok(response),
        }
    }

    /// Whether [`Session::fetch`] puts the token on a request to `url`: its origin is the page's
    /// own or an allowed one, compared exactly. The first time an origin is refused, a
    /// [`SessionEvent::TokenWithheld`] says so.
    pub fn attaches_token_to(&self, url: &str) -> bool {
        let Some(origin) = http::origin_of(url) else {
            return false;
        };
        let own = web_sys::window().and_then(|w| w.location().origin().ok());
        if own.as_deref() == Some(&origin) || self.inner.checked.allowed_origins.contains(&origin) {
            return true;
        }
        self.inner.drive(|s, _| {
            if s.withheld.insert(origin.clone()) {
                s.notices.push(SessionEvent::TokenWithheld { origin });
            }
        });
        false
    }

    /// After an API answered 401 to a request sent with `refused`: a newer valid token to replay
    /// with (refreshing first when the engine retired the refused one), or `None` when a replay
    /// cannot help.
    pub async fn token_for_replay(
        &self,
        refused: &AccessToken,
    ) -> Result<Option<AccessToken>, SessionError> {
        let replay = self
            .inner
            .drive(|s, now| s.machine.handle_token_refused(now, refused.as_str()))
            .ok_or_else(busy)?;
        if !replay {
            return Ok(None);
        }
        let token = self.access_token().await?;
        Ok((token != *refused).then_some(token))
    }

    /// Signs in with Cognito `USER_PASSWORD_AUTH`.
    pub async fn sign_in_with_password(
        &self,
        username: &str,
        password: &str,
    ) -> Result<SignInStep, SessionError> {
        let outgoing = self
            .inner
            .drive(|s, _| s.machine.password_sign_in(username, password))
            .ok_or_else(busy)?
            .map_err(SessionError::from)?;
        self.sign_in_with(outgoing, username).await
    }

    /// Answers the challenge a sign-in step ended with (Cognito `RespondToAuthChallenge`) with
    /// `responses`, Cognito's own `ChallengeResponses` entries besides `USERNAME`, which the
    /// session adds: `[("SOFTWARE_TOKEN_MFA_CODE", "123456")]`, `[("NEW_PASSWORD", ..)]`,
    /// `[("ANSWER", "SOFTWARE_TOKEN_MFA")]` for `SELECT_MFA_TYPE`. Cognito judges the values.
    pub async fn respond_to_challenge(
        &self,
        challenge: &Challenge,
        responses: &[(&str, &str)],
    ) -> Result<SignInStep, SessionError> {
        let responses = challenge.responses(responses);
        let outgoing = self
            .inner
            .drive(|s, _| {
                s.machine
                    .challenge_response(&challenge.name, &challenge.session, &responses)
            })
            .ok_or_else(busy)?
            .map_err(SessionError::from)?;
        self.sign_in_with(outgoing, &challenge.username).await
    }

    /// Sends the browser to the provider's login page: the authorization-code flow with PKCE
    /// (S256), a `state` and an OpenID Connect `nonce`, all drawn with WebCrypto. `params` adds
    /// parameters to this one request (`("identity_provider", "Google")`, `("login_hint", ..)`).
    /// The provider sends the browser back to the redirect URI, where
    /// [`Session::handle_redirect`] completes the sign-in.
    pub async fn sign_in(&self, params: &[(&str, &str)]) -> Result<(), SessionError> {
        let endpoint = self.login_page("signIn")?;
        let endpoint = redirect::with_params(&endpoint, params)?;
        let drawn = redirect::Drawn::new().await?;
        let redirect_uri = self
            .inner
            .config
            .redirect_uri
            .clone()
            .unwrap_or_else(redirect::this_page);
        let scope = &self.inner.checked.scope;
        let authorization = self
            .inner
            .drive(|s, _| {
                s.machine
                    .authorize(&endpoint, &redirect_uri, scope, drawn.secrets())
            })
            .ok_or_else(busy)?
            .map_err(SessionError::from)?;
        redirect::keep_record(&self.inner.checked.pending_key, &authorization.record)?;
        navigate(&authorization.url);
        Ok(())
    }

    /// On the page the provider sent the browser back to: completes the sign-in
    /// [`Session::sign_in`] started in this tab. `Ok(None)` when this page load is no such
    /// return. The return's parameters leave the address bar, and the tab's sign-in record is
    /// used up unless the return is not this tab's sign-in.
    pub async fn handle_redirect(&self) -> Result<Option<SignInStep>, SessionError> {
        self.login_page("handleRedirect")?;
        let key = &self.inner.checked.pending_key;
        let Some(back) = redirect::Return::read(key) else {
            return Ok(None);
        };
        let outgoing = self
            .inner
            .drive(|s, now| {
                s.machine
                    .redirect_return(now, &back.callback(), back.record.as_deref())
            })
            .ok_or_else(busy)?;
        match outgoing {
            Ok(outgoing) => {
                redirect::drop_record(key);
                self.sign_in_with(outgoing, "").await.map(Some)
            }
            Err(refused) => {
                if refused.record_used {
                    redirect::drop_record(key);
                }
                Err(refused.error.into())
            }
        }
    }

    /// Forgets the tokens here and, for [`Storage::Local`] sessions, in every tab.
    pub async fn sign_out(&self) -> Result<(), SessionError> {
        self.sign_out_with(SignOutOptions::default()).await
    }

    /// Signs out here and in every tab, then at the provider as `options` ask, with the tokens
    /// held until now (the engine decides what to send). An error after the sign-out here says
    /// the session is signed out here, not at the provider.
    pub async fn sign_out_with(&self, options: SignOutOptions) -> Result<(), SessionError> {
        let config = &self.inner.config;
        let (revocation_endpoint, logout_page, cognito) = match &config.provider {
            Provider::Cognito {
                logout_endpoint, ..
            } => (None, logout_endpoint.as_deref(), true),
            Provider::OAuth2 {
                revocation_endpoint,
                end_session_endpoint,
                ..
            } => (
                revocation_endpoint.as_deref(),
                end_session_endpoint.as_deref(),
                false,
            ),
        };
        let request = SignOut {
            revoke: options.revoke,
            global: options.global,
            redirect: options.redirect,
            revocation_endpoint,
            logout_page: logout_page.map(|endpoint| LogoutPage {
                endpoint,
                cognito,
                back: config.post_logout_redirect_uri.as_deref(),
            }),
        };
        let (chain, step) = self
            .inner
            .drive(|s, now| {
                s.signing_out += 1;
                (s.signing_out, s.machine.sign_out_at_provider(now, &request))
            })
            .ok_or_else(busy)?;
        let mut step = step.map_err(SessionError::from)?;
        // The engine's requests, one at a time; only the latest sign-out's answers reach it.
        loop {
            match step {
                SignOutStep::Send(outgoing) => {
                    let answer = exchange(&outgoing).await;
                    let view = answer.view();
                    step = self
                        .inner
                        .drive(|s, _| match s.signing_out == chain {
                            true => s.machine.sign_out_answer(view.as_ref().map_err(|w| *w)),
                            false => Ok(SignOutStep::Done),
                        })
                        .ok_or_else(busy)?
                        .map_err(SessionError::from)?;
                }
                SignOutStep::Navigate(url) => {
                    navigate(&url);
                    return Ok(());
                }
                SignOutStep::Done => return Ok(()),
            }
        }
    }

    /// Adopts tokens obtained elsewhere (the engine checks them as any provider's).
    /// `BAD_CONFIG` when they cannot be used.
    pub fn set_tokens(&self, tokens: Tokens) -> Result<(), SessionError> {
        let grant = crate::engine::protocol::TokenGrant {
            access_token: tokens.access_token,
            id_token: tokens.id_token,
            refresh_token: tokens.refresh_token,
            expires_in: tokens.expires_in.filter(|s| *s > 0),
        };
        self.inner
            .drive(|s, now| s.machine.set_tokens(now, grant, Provenance::External))
            .ok_or_else(busy)?
            .map_err(|e| SessionError::from(&e))
    }

    /// The (unverified) claims of the ID token, else of the access token, read into the app's
    /// own type (through serde-wasm-bindgen): `Ok(None)` when signed out or the token is no JWT,
    /// `BAD_CONFIG` when the claims do not fit `T`.
    pub fn claims<T: DeserializeOwned>(&self) -> Result<Option<T>, SessionError> {
        let token = self
            .inner
            .state
            .try_borrow()
            .map_err(|_| busy())?
            .machine
            .tokens()
            .map(|t| t.id_token.clone().unwrap_or_else(|| t.access_token.clone()));
        let payload = token
            .as_deref()
            .and_then(|t| t.split('.').nth(1))
            .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .and_then(|text| js_sys::JSON::parse(&text).ok())
            .filter(|v| v.is_object());
        let Some(payload) = payload else {
            return Ok(None);
        };
        serde_wasm_bindgen::from_value(payload)
            .map(Some)
            .map_err(|e| SessionError::bad_config(format!("the claims do not fit the type: {e}")))
    }

    /// Calls `listener` with every [`SessionEvent`] until the returned [`Subscription`] is
    /// dropped. Listeners run after the session's own work, never in the middle of it, so they
    /// may call the session. To drive a UI: read [`Session::snapshot`] in the listener and set
    /// a signal (Leptos) or a state handle (Yew) with it.
    pub fn subscribe(&self, listener: impl Fn(&SessionEvent) + 'static) -> Subscription {
        let id = self.inner.next_listener.get() + 1;
        self.inner.next_listener.set(id);
        self.inner
            .listeners
            .borrow_mut()
            .insert(id, Rc::new(listener));
        Subscription {
            inner: Rc::downgrade(&self.inner),
            id,
        }
    }

    /// A summary for UIs; equal snapshots mean nothing changed.
    pub fn snapshot(&self) -> Snapshot {
        self.inner.snapshot.get().into()
    }

    /// The login page, or `BAD_CONFIG` for `method` without one.
    fn login_page(&self, method: &str) -> Result<String, SessionError> {
        match &self.inner.config.provider {
            Provider::OAuth2 {
                authorization_endpoint: Some(endpoint),
                ..
            } => Ok(endpoint.clone()),
            _ => Err(SessionError::bad_config(format!(
                "{method} needs authorizationEndpoint (with tokenEndpoint)"
            ))),
        }
    }

    /// Sends the sign-in request the engine built (a step for `username`) and hands it the
    /// answer.
    async fn sign_in_with(
        &self,
        outgoing: Outgoing,
        username: &str,
    ) -> Result<SignInStep, SessionError> {
        let answer = exchange(&outgoing).await;
        let view = answer.view();
        let signed_in = self
            .inner
            .drive(|s, now| s.machine.sign_in_answer(now, view.as_ref().map_err(|w| *w)))
            .ok_or_else(busy)?
            .map_err(SessionError::from)?;
        Ok(match signed_in {
            SignedIn::Tokens => SignInStep::SignedIn,
            SignedIn::Challenge(name) => {
                let body = view.map(|r| r.body).unwrap_or_default();
                SignInStep::Challenge(Challenge::read(name, body, username)?)
            }
        })
    }
}

/// Milliseconds of `d`, saturating.
fn millis(d: Duration) -> Millis {
    Millis::try_from(d.as_millis()).unwrap_or(Millis::MAX)
}

/// Sends `outgoing` (built by the engine) within its time limit, as a refresh is sent: a hung
/// request ends as no answer.
async fn exchange(outgoing: &Outgoing) -> Answer {
    let Ok(controller) = AbortController::new() else {
        return Answer::None(String::from("fetch failed: no AbortController"));
    };
    let abort = controller.clone();
    let delay = outgoing.timeout.min(0x7fff_ffff) as u32;
    let _timer = Timeout::new(delay, move || abort.abort());
    http::send(&outgoing.request, &controller).await
}

/// Sends a copy of `request` (the original stays unread for a replay), with the bearer token
/// when one is given.
async fn send_with(
    request: &Request,
    token: Option<&AccessToken>,
) -> Result<Response, SessionError> {
    let window =
        web_sys::window().ok_or_else(|| SessionError::bad_config("fetch needs a window"))?;
    let copy = Request::clone(request).map_err(SessionError::Fetch)?;
    if let Some(token) = token {
        copy.headers()
            .set("Authorization", &format!("Bearer {}", token.as_str()))
            .map_err(SessionError::Fetch)?;
    }
    JsFuture::from(window.fetch_with_request(&copy))
        .await
        .map_err(SessionError::Fetch)?
        .dyn_into::<Response>()
        .map_err(SessionError::Fetch)
}

/// `wait`, or [`SessionError::Fetch`] with the signal's reason as soon as `signal` aborts (an
/// aborted signal waits for nothing). What `wait` started goes on and settles unheard.
async fn until_aborted<T>(
    wait: impl Future<Output = Result<T, SessionError>>,
    signal: &AbortSignal,
) -> Result<T, SessionError> {
    if signal.aborted() {
        return Err(SessionError::Fetch(signal.reason()));
    }
    let mut resolve = None;
    let aborted = Promise::new(&mut |r, _| resolve = Some(r));
    let on_abort = resolve.map(|resolve| {
        Closure::<dyn FnMut()>::new(move || {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        })
    });
    if let Some(on_abort) = &on_abort {
        let _ = signal.add_event_listener_with_callback("abort", on_abort.as_ref().unchecked_ref());
    }
    let mut aborted = JsFuture::from(aborted);
    let mut wait = pin!(wait);
    let out = poll_fn(|cx| {
        if let Poll::Ready(out) = wait.as_mut().poll(cx) {
            return Poll::Ready(Some(out));
        }
        match Pin::new(&mut aborted).poll(cx) {
            Poll::Ready(_) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    })
    .await;
    if let Some(on_abort) = &on_abort {
        let _ =
            signal.remove_event_listener_with_callback("abort", on_abort.as_ref().unchecked_ref());
    }
    out.unwrap_or_else(|| Err(SessionError::Fetch(signal.reason())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn challenge() -> Challenge {
        Challenge {
            name: String::from("SOFTWARE_TOKEN_MFA"),
            session: String::from("secret-session"),
            username: String::from("alice"),
            parameters: alloc::vec![(String::from("CODE_DELIVERY"), String::from("\"x\""))],
        }
    }

    #[test]
    fn a_challenges_session_is_not_in_debug_output() {
        let text = format!("{:?}", challenge());
        assert!(!text.contains("secret-session"), "{text}");
        assert!(
            text.contains("SOFTWARE_TOKEN_MFA") && text.contains("alice"),
            "{text}"
        );
    }

    #[test]
    fn a_challenge_is_read_from_the_answer_for_the_user_cognito_names_or_the_one_signing_in() {
        let body = r#"{"ChallengeName":"SOFTWARE_TOKEN_MFA","Session":"s3ss",
            "ChallengeParameters":{"FRIENDLY_DEVICE_NAME":"phone","USER_ID_FOR_SRP":"srp-id"}}"#;
        let Ok(c) = Challenge::read(String::from("SOFTWARE_TOKEN_MFA"), body, "alice") else {
            panic!("a good challenge");
        };
        assert_eq!(
            (c.name.as_str(), c.session.as_str()),
            ("SOFTWARE_TOKEN_MFA", "s3ss")
        );
        assert_eq!(
            c.username, "srp-id",
            "USER_ID_FOR_SRP when Cognito sends no USERNAME"
        );
        assert_eq!(c.parameters.len(), 2);
        let plain = r#"{"Session":"s","ChallengeParameters":{}}"#;
        let named = Challenge::read(String::from("SMS_MFA"), plain, "alice").map(|c| c.username);
        assert_eq!(named.as_deref(), Ok("alice"), "the user the step was for");
        let bad = Challenge::read(String::from("SMS_MFA"), "{\"Session\":1}", "alice");
        assert_eq!(bad.map(|_| ()).map_err(|e| e.code()), Err("BAD_RESPONSE"));
    }

    #[test]
    fn a_challenges_responses_reach_the_engine_with_the_user_and_the_session() {
        use crate::engine::config::{Config, ProviderOptions};
        use crate::engine::machine::SessionMachine;
        let options = ProviderOptions {
            client_id: "client",
            user_pool_id: "eu-west-1_AbC123",
            ..ProviderOptions::default()
        };
        let Ok(config) = Config::from_options(&options) else {
            panic!("a good config");
        };
        let mut machine = SessionMachine::new(config, 1, 0);
        let c = challenge();
        let responses = c.responses(&[("SOFTWARE_TOKEN_MFA_CODE", "123456")]);
        let answer = machine.challenge_response(&c.name, &c.session, &responses);
        let Ok(outgoing) = answer else {
            panic!("refused: {answer:?}");
        };
        let body = &outgoing.request.body;
        assert!(body.contains(r#""Session":"secret-session""#), "{body}");
        assert!(
            body.contains(r#""SOFTWARE_TOKEN_MFA_CODE":"123456""#),
            "{body}"
        );
        assert!(body.contains(r#""USERNAME":"alice""#), "{body}");
    }
}
