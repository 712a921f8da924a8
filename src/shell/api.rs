//! The JS-facing `Session` class: thin methods that validate arguments, hand the core one call
//! through the driver, and turn the answer into a value, a promise or a typed `Error`.

use super::driver::{drive, start, Inner};
use super::errors::{bad_config, session_error, sign_in_error};
use super::promise::{promise, settle, Then};
use super::timer::Timer;
use super::{config, env, http, origin};
use crate::core::base64url;
use crate::core::classify;
use crate::core::protocol::{SignInAnswer, TokenGrant};
use crate::core::session::TokenAnswer;
use crate::core::tokens::Origin;
use crate::core::Millis;
use js_sys::{Function, Object, Promise, Reflect};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// How long a caller waits for a token when it names no deadline.
const DEFAULT_DEADLINE: Millis = 10_000;

/// One signed-in (or signed-out) user session. See the TypeScript declarations for the API.
#[wasm_bindgen(js_name = Session)]
pub struct JsSession {
    inner: Rc<RefCell<Inner>>,
}

/// A re-entrant call (app code running inside the session's own dispatch) cannot be served.
fn busy() -> JsValue {
    bad_config("the session was called re-entrantly from inside one of its own callbacks")
}

#[wasm_bindgen(js_class = Session)]
impl JsSession {
    /// Validates `config`, resumes the session kept in storage (if any) and starts listening to
    /// the page. Throws a `BAD_CONFIG` error for any bad value.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "SessionConfig")] config: JsValue,
    ) -> Result<JsSession, JsValue> {
        let config = config::read(&config)?;
        Ok(JsSession {
            inner: start(config),
        })
    }

    /// A valid access token, or a typed error by `deadlineMs` (default 10 s). While the token is
    /// fresh this returns an already-resolved promise of a cached string.
    #[wasm_bindgen(js_name = getAccessToken, unchecked_return_type = "Promise<string>")]
    pub fn get_access_token(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "TokenOptions")] options: Option<JsValue>,
    ) -> Promise {
        if let Some(ready) = cached_token(&self.inner) {
            return ready;
        }
        match deadline_ms(options.as_ref()) {
            Ok(deadline) => request_token(&self.inner, deadline),
            Err(e) => Promise::reject(&e),
        }
    }

    /// The ID token, under the same rules as `getAccessToken`. Rejects with
    /// `BAD_CONFIG` when the session has no ID token (tokens set without one).
    #[wasm_bindgen(js_name = getIdToken, unchecked_return_type = "Promise<string>")]
    pub fn get_id_token(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "TokenOptions")] options: Option<JsValue>,
    ) -> Promise {
        let deadline = match deadline_ms(options.as_ref()) {
            Ok(d) => d,
            Err(e) => return Promise::reject(&e),
        };
        let access = request_token(&self.inner, deadline);
        let inner = self.inner.clone();
        promise(move |complete| {
            settle(&access, move |access| {
                complete(access.and_then(|_| {
                    let state = inner.try_borrow().map_err(|_| busy())?;
                    match state.core.id_token(env::now()) {
                        Some(id) => Ok(JsValue::from_str(id)),
                        None => Err(bad_config("this session has no ID token")),
                    }
                }))
            })
        })
    }

    /// The claims of the ID token (of the access token when there is none) as a frozen object,
    /// decoded once per token; `null` when signed out. Not verified: for display and routing,
    /// never for authorisation decisions (the API checks the access token).
    #[wasm_bindgen(unchecked_return_type = "Readonly<Record<string, unknown>> | null")]
    pub fn claims(&self) -> JsValue {
        let Ok(mut state) = self.inner.try_borrow_mut() else {
            return JsValue::NULL;
        };
        let Some(tokens) = state.core.tokens() else {
            return JsValue::NULL;
        };
        let token = tokens.id_token.as_ref().unwrap_or(&tokens.access_token);
        if let Some((source, claims)) = &state.claims {
            if source == token {
                return claims.clone();
            }
        }
        let token = token.clone();
        let claims = decode_claims(&token).unwrap_or(JsValue::NULL);
        state.claims = Some((token, claims.clone()));
        claims
    }

    /// Signs in with Cognito `USER_PASSWORD_AUTH`. Resolves `{status: "signedIn"}` or, when
    /// Cognito asks for another step, `{status: "challenge", challengeName, session}`. A refused
    /// user name or password rejects with `NOT_SIGNED_IN` (`providerCode` says why).
    #[wasm_bindgen(js_name = signInWithPassword, unchecked_return_type = "Promise<SignInResult>")]
    pub fn sign_in_with_password(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] username: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] password: JsValue,
    ) -> Promise {
        let (Some(username), Some(password)) = (username.as_string(), password.as_string()) else {
            return Promise::reject(&bad_config("username and password must be strings"));
        };
        let (request, timeout) = match self.inner.try_borrow() {
            Ok(state) => {
                let config = state.core.config();
                let request = config
                    .provider
                    .password_sign_in_request(&username, &password);
                (request, config.request_timeout)
            }
            Err(_) => return Promise::reject(&busy()),
        };
        let request = match request {
            Ok(r) => r,
            Err(e) => return Promise::reject(&bad_config(e.message())),
        };
        let inner = self.inner.clone();
        promise(move |complete| {
            // The same time limit as a refresh: a hung sign-in fails as UNAVAILABLE.
            let controller = web_sys::AbortController::new().ok();
            let guard = controller.clone().map(|c| {
                // setTimeout treats delays past 2^31 - 1 ms as 0.
                let ms = u32::try_from(timeout.min(0x7fff_ffff)).unwrap_or(0x7fff_ffff);
                Timer::new(ms, Box::new(move || c.abort()))
            });
            let done = move |received: http::Answer| {
                drop(guard);
                let mut outcome: Result<JsValue, JsValue> = Err(busy());
                drive(&inner, &mut |s, now| {
                    outcome = match &received {
                        Err(message) => Err(sign_in_error(now, &classify::network_error(message))),
                        Ok(r) => match s
                            .core
                            .config()
                            .provider
                            .parse_sign_in(now, &r.as_response())
                        {
                            Err(e) => Err(sign_in_error(now, &e)),
                            Ok(SignInAnswer::Tokens(grant)) => {
                                match s.core.set_tokens(now, grant, Origin::Fresh) {
                                    Ok(()) => Ok(result("signedIn", None)),
                                    Err(e) => Err(session_error(&e)),
                                }
                            }
                            Ok(SignInAnswer::Challenge { name, session }) => {
                                Ok(result("challenge", Some((name, session))))
                            }
                        },
                    };
                });
                complete(outcome);
            };
            http::send(&request, controller, Box::new(done));
        })
    }

    /// Adopts tokens obtained elsewhere (`{accessToken, idToken?, refreshToken?, expiresIn?}`;
    /// `expiresIn` in seconds, needed only for opaque OAuth2 access tokens). Throws
    /// `BAD_CONFIG` when they are missing, malformed or issued to another client. (An expired
    /// access token is accepted: with a refresh token the next caller refreshes it.)
    #[wasm_bindgen(js_name = setTokens)]
    pub fn set_tokens(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Tokens")] tokens: JsValue,
    ) -> Result<(), JsValue> {
        if !tokens.is_object() {
            return Err(bad_config(
                "setTokens needs {accessToken, idToken?, refreshToken?}",
            ));
        }
        let field = |name: &str| -> Result<Option<String>, JsValue> {
            let v =
                Reflect::get(&tokens, &JsValue::from_str(name)).map_err(|_| bad_config(name))?;
            if v.is_undefined() || v.is_null() {
                return Ok(None);
            }
            v.as_string().map(Some).ok_or_else(|| {
                let mut m = String::from(name);
                m.push_str(" must be a string");
                bad_config(&m)
            })
        };
        let grant = TokenGrant {
            access_token: field("accessToken")?
                .ok_or_else(|| bad_config("accessToken is required"))?,
            id_token: field("idToken")?,
            refresh_token: field("refreshToken")?,
            expires_in: expires_in(&tokens)?,
        };
        let mut grant = Some(grant);
        let mut outcome = Err(busy());
        drive(&self.inner, &mut |s, now| {
            if let Some(grant) = grant.take() {
                outcome = s
                    .core
                    .set_tokens(now, grant, Origin::External)
                    .map_err(|e| session_error(&e));
            }
        });
        outcome
    }

    /// Forgets the tokens here and, for `localStorage` sessions, in every tab. Waiters are
    /// rejected with `NOT_SIGNED_IN`. Does not call the provider.
    #[wasm_bindgen(js_name = signOut, unchecked_return_type = "Promise<void>")]
    pub fn sign_out(&self) -> Promise {
        if drive(&self.inner, &mut |s, now| s.core.sign_out(now)) {
            Promise::resolve(&JsValue::UNDEFINED)
        } else {
            Promise::reject(&busy())
        }
    }

    /// Calls `listener(event)` for every session event; returns the function that unsubscribes.
    /// Also fires `{type: "change"}` when `getSnapshot()` changes without another event, so it
    /// can be passed to React's `useSyncExternalStore` as is.
    #[wasm_bindgen(unchecked_return_type = "() => void")]
    pub fn subscribe(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(event: SessionEvent) => void")] listener: JsValue,
    ) -> Result<JsValue, JsValue> {
        let listener: Function = listener
            .dyn_into()
            .map_err(|_| bad_config("subscribe needs a function"))?;
        let id = self
            .inner
            .try_borrow_mut()
            .map_err(|_| busy())?
            .subscribe(listener);
        let weak = Rc::downgrade(&self.inner);
        let unsubscribe = Closure::<dyn FnMut(JsValue)>::new(move |_: JsValue| {
            if let Some(rc) = weak.upgrade() {
                if let Ok(mut s) = rc.try_borrow_mut() {
                    s.unsubscribe(id);
                }
            }
        });
        Ok(unsubscribe.into_js_value())
    }

    /// A frozen summary (`signedIn`, `expiresAt`, `refreshing`, `retryAt`, `expired`): the same
    /// object until something changes.
    #[wasm_bindgen(js_name = getSnapshot, unchecked_return_type = "SessionSnapshot")]
    pub fn get_snapshot(&self) -> JsValue {
        match self.inner.try_borrow_mut() {
            Ok(mut s) => s.snapshot_object(),
            Err(_) => JsValue::NULL,
        }
    }

    /// After the API answered 401 to a request sent with `refusedToken`: a promise of a newer
    /// valid token to replay the request with once (the session refreshes first when the
    /// refused token is stale), or of `null` when replaying cannot help and the 401 should be
    /// surfaced. `fetch` follows the same rule; adapters for other HTTP clients call this.
    #[wasm_bindgen(js_name = tokenForReplay, unchecked_return_type = "Promise<string | null>")]
    pub fn token_for_replay(
        &self,
        #[wasm_bindgen(js_name = refusedToken)] refused_token: &str,
        #[wasm_bindgen(unchecked_optional_param_type = "TokenOptions")] options: Option<JsValue>,
    ) -> Promise {
        match deadline_ms(options.as_ref()) {
            Ok(deadline) => replay_token(&self.inner, refused_token, deadline),
            Err(e) => Promise::reject(&e),
        }
    }

    /// `fetch` that adds `Authorization: Bearer <access token>` when the URL's origin is the
    /// page's own or in `allowedOrigins`, and only with a valid token (otherwise it rejects with
    /// the typed error and sends nothing). On a 401 it replays once with a newer token when the
    /// session judges the token stale (superseded, or old enough to have expired early: then it
    /// refreshes first); a token just issued is not refreshed again. Other origins get the
    /// request untouched.
    #[wasm_bindgen(unchecked_return_type = "Promise<Response>")]
    pub fn fetch(
        &self,
        #[wasm_bindgen(unchecked_param_type = "RequestInfo | URL")] input: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "RequestInit")] init: Option<JsValue>,
    ) -> Promise {
        let inner = self.inner.clone();
        let init = init.unwrap_or(JsValue::UNDEFINED);
        promise(move |complete| authorized_fetch(inner, input, init, complete))
    }
}

/// The body of [`JsSession::fetch`]: `complete` settles the promise the app holds.
fn authorized_fetch(inner: Rc<RefCell<Inner>>, input: JsValue, init: JsValue, complete: Then) {
    let (window, request, allowed) = match prepare(&inner, &input, init) {
        Ok(prepared) => prepared,
        Err(e) => return complete(Err(e)),
    };
    if !allowed {
        // Resolving with fetch's own promise hands its outcome to the app unchanged.
        return complete(Ok(window.fetch_with_request(&request).into()));
    }
    let token = cached_token(&inner).unwrap_or_else(|| request_token(&inner, DEFAULT_DEADLINE));
    settle(&token, move |token| {
        let token = match token {
            Ok(token) => token,
            Err(e) => return complete(Err(e)),
        };
        let sent = match send_with(&window, &request, &token) {
            Ok(sent) => sent,
            Err(e) => return complete(Err(e)),
        };
        settle(&sent, move |response| {
            let response = match response {
                Ok(response) => response,
                Err(e) => return complete(Err(e)),
            };
            let unauthorized = response
                .dyn_ref::<web_sys::Response>()
                .is_some_and(|r| r.status() == 401);
            if !unauthorized {
                return complete(Ok(response));
            }
            let sent = token.as_string().unwrap_or_default();
            let next = replay_token(&inner, &sent, DEFAULT_DEADLINE);
            settle(&next, move |newer| match newer {
                Err(e) => complete(Err(e)),
                Ok(newer) if newer.is_string() => {
                    complete(send_with(&window, &request, &newer).map(JsValue::from))
                }
                Ok(_) => complete(Ok(response)),
            });
        });
    });
}

/// The token to replay a request with after the API refused `refused` with a 401: a promise of
/// a newer valid token, or of `null` when a replay cannot help.
///
/// The core decides whether a replay can help: yes when the token was superseded, or when it
/// was old enough to have expired early (then it is retired and refreshed, single-flight with
/// every other caller); no for a token just issued, so an API that refuses good tokens cannot
/// cause a refresh per request.
fn replay_token(inner: &Rc<RefCell<Inner>>, refused: &str, relative: Millis) -> Promise {
    let mut replay = false;
    drive(inner, &mut |s, now| {
        replay = s.core.handle_token_refused(now, refused);
    });
    if !replay {
        return Promise::resolve(&JsValue::NULL);
    }
    let next = cached_token(inner).unwrap_or_else(|| request_token(inner, relative));
    let refused = refused.to_owned();
    promise(move |complete| {
        settle(&next, move |newer| {
            complete(newer.map(|newer| {
                if newer.as_string().is_some_and(|t| t != refused) {
                    newer
                } else {
                    JsValue::NULL
                }
            }))
        })
    })
}

/// The window, the `Request` built from `fetch`'s arguments, and whether its origin may carry
/// the token.
fn prepare(
    inner: &Rc<RefCell<Inner>>,
    input: &JsValue,
    init: JsValue,
) -> Result<(web_sys::Window, web_sys::Request, bool), JsValue> {
    let window = super::window().ok_or_else(|| bad_config("fetch needs a window"))?;
    let init: web_sys::RequestInit = if init.is_undefined() || init.is_null() {
        web_sys::RequestInit::new()
    } else {
        init.unchecked_into()
    };
    let request = match input.dyn_ref::<web_sys::Request>() {
        Some(r) => web_sys::Request::new_with_request_and_init(r, &init)?,
        None => {
            // A string, or an object with a URL-giving toString (URL, Location).
            let url = input
                .as_string()
                .or_else(|| {
                    input
                        .dyn_ref::<Object>()
                        .and_then(|o| JsValue::from(o.to_string()).as_string())
                })
                .ok_or_else(|| bad_config("fetch needs a URL string, a URL or a Request"))?;
            web_sys::Request::new_with_str_and_init(&url, &init)?
        }
    };
    let page = window.location().origin().ok();
    let allowed = inner
        .try_borrow()
        .map(|s| {
            origin::origin_of(&request.url())
                .is_some_and(|o| origin::may_attach(&o, page.as_deref(), &s.allowed_origins))
        })
        .unwrap_or(false);
    Ok((window, request, allowed))
}

/// Sends a copy of `request` (the original stays unread for a replay) with the bearer token.
fn send_with(
    window: &web_sys::Window,
    request: &web_sys::Request,
    token: &JsValue,
) -> Result<Promise, JsValue> {
    let copy = web_sys::Request::clone(request)?;
    let mut value = String::from("Bearer ");
    value.push_str(&token.as_string().unwrap_or_default());
    copy.headers().set("Authorization", &value)?;
    Ok(window.fetch_with_request(&copy))
}

/// `expiresIn` (seconds) from `setTokens`: the only expiry an opaque OAuth2 token has.
fn expires_in(tokens: &JsValue) -> Result<Option<u64>, JsValue> {
    let v = Reflect::get(tokens, &"expiresIn".into()).map_err(|_| bad_config("expiresIn"))?;
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    match v.as_f64() {
        Some(secs) if secs > 0.0 && secs.is_finite() => Ok(Some(secs as u64)),
        _ => Err(bad_config("expiresIn must be a number of seconds > 0")),
    }
}

/// `deadlineMs` from `{deadlineMs}`: how long the caller may wait, in ms.
fn deadline_ms(options: Option<&JsValue>) -> Result<Millis, JsValue> {
    let relative = if let Some(options) = options.filter(|o| !o.is_undefined() && !o.is_null()) {
        let v =
            Reflect::get(options, &"deadlineMs".into()).map_err(|_| bad_config("deadlineMs"))?;
        if v.is_undefined() {
            DEFAULT_DEADLINE
        } else {
            match v.as_f64() {
                Some(ms) if ms >= 0.0 && ms.is_finite() => ms as Millis,
                _ => {
                    return Err(bad_config(
                        "deadlineMs must be a number of milliseconds >= 0",
                    ))
                }
            }
        }
    } else {
        DEFAULT_DEADLINE
    };
    Ok(relative)
}

/// The hot path of `getAccessToken`: a resolved promise of the cached JS string while the core
/// would hand that token out (no crossing into the core, no string copy).
fn cached_token(inner: &Rc<RefCell<Inner>>) -> Option<Promise> {
    let state = inner.try_borrow().ok()?;
    let cached = state.token.as_ref()?;
    (env::now() < cached.until).then(|| Promise::resolve(&cached.js))
}

/// The slow path of `getAccessToken`: ask the core, park the caller if it must wait.
fn request_token(inner: &Rc<RefCell<Inner>>, relative: Millis) -> Promise {
    let mut out: Option<Promise> = None;
    drive(inner, &mut |s, now| {
        let deadline = now.saturating_add(relative);
        let answer = match s.core.request_token(now, deadline) {
            TokenAnswer::Ready(token) => Ok(Ok(JsValue::from_str(token))),
            TokenAnswer::Waiting(id) => Ok(Err(id)),
            TokenAnswer::Failed(e) => Err(e),
        };
        out = Some(match answer {
            Ok(Ok(token)) => Promise::resolve(&token),
            Ok(Err(id)) => Promise::new(&mut |resolve, reject| s.park(id, resolve, reject)),
            Err(e) => Promise::reject(&session_error(&e)),
        });
    });
    out.unwrap_or_else(|| Promise::reject(&busy()))
}

/// `{status, challengeName?, session?}` for `signInWithPassword`.
fn result(status: &str, challenge: Option<(String, Option<String>)>) -> JsValue {
    let obj = Object::new();
    let _ = Reflect::set(&obj, &"status".into(), &status.into());
    if let Some((name, session)) = challenge {
        let _ = Reflect::set(&obj, &"challengeName".into(), &name.into());
        if let Some(session) = session {
            let _ = Reflect::set(&obj, &"session".into(), &session.into());
        }
    }
    obj.into()
}

/// The payload of a JWT as a frozen JS object (`JSON.parse` of the decoded text).
fn decode_claims(token: &str) -> Option<JsValue> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64url::decode(payload).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let value = js_sys::JSON::parse(&text).ok()?;
    if !value.is_object() {
        return None;
    }
    Some(Object::freeze(value.unchecked_ref::<Object>()).into())
}
