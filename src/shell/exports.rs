//! The export surface of the `.wasm`: one core [`Session`] per `Core` object, driven by the JS
//! shell (`src/shell/js/session.js`) with plain numbers, booleans and strings.
//!
//! Times are `f64` milliseconds since the epoch (converted with a saturating cast, so a NaN or a
//! negative number reads as 0). Ids are the core's counters, small enough to be exact in an
//! `f64`. Everything structured crosses as one string of fields separated by NUL (`\0`), which
//! the JS shell splits; free text from the network has any NUL replaced by U+FFFD, so a field
//! can never spill into the next one. The encodings:
//!
//! - an error: `code \0 retryAt-or-empty \0 message [\0 providerCode]`;
//! - an action ([`Core::poll_action`]): a letter, then its fields:
//!   `L id` take the refresh lock, `S id url body (name value)*` send a refresh,
//!   `A id` abort it, `U id` release the lock, `T token ids` resolve the waiters (ids
//!   comma-separated), `X ids error` reject them, `P [record]` persist (no field: remove),
//!   `B message` broadcast, `G reason` go to login, `E type [value]` emit an event;
//! - a snapshot ([`Core::snapshot`]): `signedIn expiresAt refreshing retryAt expired` with
//!   booleans as `1`/`0` and absent times empty, so equal strings mean equal snapshots.

use crate::core::base64url;
use crate::core::classify::{FailureKind, ProviderError};
use crate::core::protocol::{HttpRequest, HttpResponse, Provider, SignInAnswer, TokenGrant};
use crate::core::session::{
    Action, Config, Event, LoginReason, RefreshId, Session, SessionError, TokenAnswer,
};
use crate::core::tokens::{push_u64, Origin};
use crate::core::Millis;
use alloc::string::String;
use wasm_bindgen::prelude::wasm_bindgen;

/// The field separator of every encoding in this file.
const SEP: char = '\0';

/// Milliseconds from JS: NaN and negatives read as 0, huge values saturate (an `as` cast from
/// a float never panics).
fn millis(ms: f64) -> Millis {
    ms as Millis
}

/// Appends `text` with any NUL replaced, so it stays one field.
fn push_text(out: &mut String, text: &str) {
    for c in text.chars() {
        out.push(if c == SEP { '\u{fffd}' } else { c });
    }
}

/// Appends a separator, then `text`.
fn field(out: &mut String, text: &str) {
    out.push(SEP);
    push_text(out, text);
}

/// Appends a separator, then `n` in decimal.
fn number(out: &mut String, n: u64) {
    out.push(SEP);
    push_u64(out, n);
}

/// Appends `code \0 retryAt \0 message` (no leading separator).
fn push_error(out: &mut String, code: &str, retry_at: Option<Millis>, message: &str) {
    out.push_str(code);
    out.push(SEP);
    if let Some(at) = retry_at {
        push_u64(out, at);
    }
    field(out, message);
}

/// The message a core [`SessionError`] carries to the app (its `Display` text, written without
/// `fmt`).
fn session_error(out: &mut String, e: &SessionError) {
    let (retry_at, message, detail) = match e {
        SessionError::Throttled { retry_at } => (
            Some(*retry_at),
            "token refresh throttled by the provider",
            "",
        ),
        SessionError::Unavailable { retry_at } => (*retry_at, "token refresh unavailable", ""),
        SessionError::SessionExpired => (None, "session expired: sign in again", ""),
        SessionError::NotSignedIn => (None, "not signed in", ""),
        SessionError::BadConfig { detail } => (None, "bad configuration or input: ", &**detail),
        SessionError::BadResponse { detail } => {
            (None, "bad response from the provider: ", &**detail)
        }
    };
    let mut text = String::from(message);
    text.push_str(detail);
    push_error(out, e.code(), retry_at, &text);
}

/// A failed sign-in exchange: a dead credential here means the user name or password was
/// refused (`NOT_SIGNED_IN`); the provider's error name follows as `providerCode`.
fn sign_in_error(out: &mut String, now: Millis, e: &ProviderError) {
    let code = match e.kind {
        FailureKind::Throttled => "THROTTLED",
        FailureKind::ServerError | FailureKind::Network => "UNAVAILABLE",
        FailureKind::CredentialDead => "NOT_SIGNED_IN",
        FailureKind::CallerBug => "BAD_CONFIG",
        FailureKind::BadResponse => "BAD_RESPONSE",
    };
    let mut message = String::new();
    e.describe(&mut message);
    let retry_at = e.retry_after.map(|d| now.saturating_add(d));
    push_error(out, code, retry_at, &message);
    field(out, &e.code);
}

/// `url \0 body (\0 name \0 value)*` (no leading separator).
fn push_request(out: &mut String, request: &HttpRequest) {
    push_text(out, &request.url);
    field(out, &request.body);
    for (name, value) in &request.headers {
        field(out, name);
        field(out, value);
    }
}

/// The JS name of a login reason (what `onLoginRequired` receives and `expired` events carry).
fn reason_name(reason: &LoginReason) -> &'static str {
    match reason {
        LoginReason::RefreshTokenDead { .. } => "refreshTokenDead",
        LoginReason::NoRefreshToken => "noRefreshToken",
        LoginReason::ExpiredElsewhere => "expiredElsewhere",
    }
}

/// `type [\0 value]` for a core event.
fn push_event(out: &mut String, event: &Event) {
    let (name, at) = match event {
        Event::SignedIn { expires_at } => ("signedIn", Some(*expires_at)),
        Event::Refreshed { expires_at } => ("refreshed", Some(*expires_at)),
        Event::Throttled { retry_at } => ("throttled", Some(*retry_at)),
        Event::RetryScheduled { retry_at } => ("retryScheduled", Some(*retry_at)),
        Event::Expired { reason } => {
            out.push_str("expired");
            field(out, reason_name(reason));
            return;
        }
        Event::SignedOut => ("signedOut", None),
        Event::StorageDiscarded { error } => {
            out.push_str("storageDiscarded");
            let mut detail = String::new();
            error.describe(&mut detail);
            field(out, &detail);
            return;
        }
    };
    out.push_str(name);
    if let Some(at) = at {
        number(out, at);
    }
}

/// Waiter ids, comma-separated.
fn push_ids(out: &mut String, ids: impl Iterator<Item = u64>) {
    out.push(SEP);
    for (i, id) in ids.enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_u64(out, id);
    }
}

/// The encoded form of one action (see the module doc).
fn encode_action(action: &Action) -> String {
    let mut out = String::new();
    match action {
        Action::AcquireRefreshLock { id } => {
            out.push('L');
            number(&mut out, id.0);
        }
        Action::SendRefresh { id, request } => {
            out.push('S');
            number(&mut out, id.0);
            out.push(SEP);
            push_request(&mut out, request);
        }
        Action::AbortRefresh { id } => {
            out.push('A');
            number(&mut out, id.0);
        }
        Action::ReleaseRefreshLock { id } => {
            out.push('U');
            number(&mut out, id.0);
        }
        Action::ResolveWaiters {
            waiters,
            access_token,
        } => {
            out.push('T');
            field(&mut out, access_token);
            push_ids(&mut out, waiters.iter().map(|w| w.0));
        }
        Action::RejectWaiters { waiters, error } => {
            out.push('X');
            push_ids(&mut out, waiters.iter().map(|w| w.0));
            out.push(SEP);
            session_error(&mut out, error);
        }
        Action::Persist { record } => {
            out.push('P');
            if let Some(record) = record {
                field(&mut out, record);
            }
        }
        Action::Broadcast { message } => {
            out.push('B');
            field(&mut out, message);
        }
        Action::GoToLogin { reason } => {
            out.push('G');
            field(&mut out, reason_name(reason));
        }
        Action::Emit { event } => {
            out.push('E');
            out.push(SEP);
            push_event(&mut out, event);
        }
    }
    out
}

/// The parts of an HTTP answer the core reads, from the JS shell's arguments; `status` 0 means
/// no answer came (then `body` says why).
fn response<'a>(
    status: u16,
    body: &'a str,
    error_type: &'a Option<String>,
    retry_after: &'a Option<String>,
    amz_retry_after: &'a Option<String>,
) -> HttpResponse<'a> {
    HttpResponse {
        status,
        error_type: error_type.as_deref(),
        retry_after: retry_after.as_deref(),
        amz_retry_after: amz_retry_after.as_deref(),
        body,
    }
}

/// Why `userPoolId` cannot be used, or `None` when it is a well-formed pool id. The JS shell
/// asks before it constructs a [`Core`].
#[wasm_bindgen(js_name = poolError)]
pub fn pool_error(pool: &str) -> Option<String> {
    Provider::cognito_endpoint_for_pool(pool)
        .err()
        .map(|e| String::from(e.message()))
}

/// One session's core, driven by the JS shell: `handle*` calls in, then `pollAction` until it
/// returns `undefined`, then `pollTimeout` for the one timer.
#[wasm_bindgen]
pub struct Core {
    session: Session,
}

#[wasm_bindgen]
impl Core {
    /// A signed-out session. `token_endpoint` non-empty selects OAuth2; otherwise Cognito with
    /// `endpoint` (empty: the region's endpoint, derived from `pool`, which the shell checked
    /// with [`pool_error`]). `seed_hi`/`seed_lo` seed the retry jitter.
    #[wasm_bindgen(constructor)]
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        client_id: &str,
        pool: &str,
        endpoint: &str,
        token_endpoint: &str,
        rotation: bool,
        seed_hi: u32,
        seed_lo: u32,
        now: f64,
    ) -> Core {
        let oauth = !token_endpoint.is_empty();
        let provider = if oauth {
            Provider::OAuth2 {
                token_endpoint: String::from(token_endpoint),
                client_id: String::from(client_id),
            }
        } else {
            let endpoint = if endpoint.is_empty() {
                Provider::cognito_endpoint_for_pool(pool).unwrap_or_default()
            } else {
                String::from(endpoint)
            };
            Provider::Cognito {
                endpoint,
                client_id: String::from(client_id),
                rotation,
            }
        };
        let mut config = Config::new(provider);
        // Cognito names the app client in every token. OAuth2 access tokens name the API they
        // are for in `aud` (RFC 9068), so the client check would refuse good tokens there; and
        // some OAuth2 providers issue opaque access tokens, while Cognito's are always JWTs.
        config.rules.client_id = (!oauth).then(|| String::from(client_id));
        config.rules.allow_opaque_access = oauth;
        config.rules.require_token_use = !oauth;
        let seed = (u64::from(seed_hi) << 32) | u64::from(seed_lo);
        Core {
            session: Session::new(config, seed, millis(now)),
        }
    }

    /// A caller needs a token within `wait` ms: `T<token>`, `W<waiter id>` (the answer comes
    /// as a `T` or `X` action) or `E<error>`.
    #[wasm_bindgen(js_name = requestToken)]
    pub fn request_token(&mut self, now: f64, wait: f64) -> String {
        let now = millis(now);
        let mut out = String::new();
        match self
            .session
            .request_token(now, now.saturating_add(millis(wait)))
        {
            TokenAnswer::Ready(token) => {
                out.push('T');
                push_text(&mut out, token);
            }
            TokenAnswer::Waiting(id) => {
                out.push('W');
                push_u64(&mut out, id.0);
            }
            TokenAnswer::Failed(e) => {
                out.push('E');
                session_error(&mut out, &e);
            }
        }
        out
    }

    /// The timer fired.
    #[wasm_bindgen(js_name = handleTimeout)]
    pub fn handle_timeout(&mut self, now: f64) {
        self.session.handle_timeout(millis(now));
    }

    /// The page became visible or hidden.
    #[wasm_bindgen(js_name = handleVisibility)]
    pub fn handle_visibility(&mut self, now: f64, visible: bool) {
        self.session.handle_visibility(millis(now), visible);
    }

    /// The refresh lock `id` is held; `record` is what storage holds now.
    #[wasm_bindgen(js_name = handleRefreshLock)]
    pub fn handle_refresh_lock(&mut self, now: f64, id: f64, record: Option<String>) {
        self.session
            .handle_refresh_lock(millis(now), RefreshId(millis(id)), record.as_deref());
    }

    /// The answer to refresh `id`, or (`status` 0) why none came, in `body`.
    #[wasm_bindgen(js_name = handleRefreshAnswer)]
    #[allow(clippy::too_many_arguments)]
    pub fn handle_refresh_answer(
        &mut self,
        now: f64,
        id: f64,
        status: u16,
        body: &str,
        error_type: Option<String>,
        retry_after: Option<String>,
        amz_retry_after: Option<String>,
    ) {
        let (now, id) = (millis(now), RefreshId(millis(id)));
        if status == 0 {
            self.session.handle_refresh_failure(now, id, body);
        } else {
            let answer = response(status, body, &error_type, &retry_after, &amz_retry_after);
            self.session.handle_refresh_response(now, id, &answer);
        }
    }

    /// Another tab broadcast `message`.
    #[wasm_bindgen(js_name = handleTabMessage)]
    pub fn handle_tab_message(&mut self, now: f64, message: &str) {
        self.session.handle_tab_message(millis(now), message);
    }

    /// Storage holds `record` (at start, or another tab changed it).
    #[wasm_bindgen(js_name = handleStorage)]
    pub fn handle_storage(&mut self, now: f64, record: Option<String>) {
        self.session.handle_storage(millis(now), record.as_deref());
    }

    /// Adopts tokens obtained elsewhere; `expires_in` in seconds. Returns the error, if any.
    #[wasm_bindgen(js_name = setTokens)]
    pub fn set_tokens(
        &mut self,
        now: f64,
        access_token: String,
        id_token: Option<String>,
        refresh_token: Option<String>,
        expires_in: Option<f64>,
    ) -> Option<String> {
        let grant = TokenGrant {
            access_token,
            id_token,
            refresh_token,
            expires_in: expires_in.map(|s| s as u64),
        };
        let e = self
            .session
            .set_tokens(millis(now), grant, Origin::External)
            .err()?;
        let mut out = String::new();
        session_error(&mut out, &e);
        Some(out)
    }

    /// An API answered 401 to a request carrying `access_token`: whether a replay with the next
    /// token can help (see the core's `handle_token_refused`).
    #[wasm_bindgen(js_name = handleTokenRefused)]
    pub fn handle_token_refused(&mut self, now: f64, access_token: &str) -> bool {
        self.session.handle_token_refused(millis(now), access_token)
    }

    /// The app signed out.
    #[wasm_bindgen(js_name = signOut)]
    pub fn sign_out(&mut self, now: f64) {
        self.session.sign_out(millis(now));
    }

    /// The next action, encoded (see the module doc), or `undefined` when there is none.
    #[wasm_bindgen(js_name = pollAction)]
    pub fn poll_action(&mut self) -> Option<String> {
        self.session.poll_action().map(|a| encode_action(&a))
    }

    /// When `handleTimeout` must next be called, if ever.
    #[wasm_bindgen(js_name = pollTimeout)]
    pub fn poll_timeout(&self) -> Option<f64> {
        self.session.poll_timeout().map(|at| at as f64)
    }

    /// The snapshot, encoded (see the module doc).
    pub fn snapshot(&self) -> String {
        let s = self.session.snapshot();
        let flag = |b: bool| if b { "1" } else { "0" };
        let mut out = String::from(flag(s.signed_in));
        out.push(SEP);
        if let Some(at) = s.expires_at {
            push_u64(&mut out, at);
        }
        field(&mut out, flag(s.refreshing));
        out.push(SEP);
        if let Some(at) = s.retry_at {
            push_u64(&mut out, at);
        }
        field(&mut out, flag(s.expired));
        out
    }

    /// `until \0 token`: the current access token and the moment from which the core would no
    /// longer hand it out (expiry minus the minimum validity), for the shell's fast path.
    pub fn token(&self) -> Option<String> {
        let tokens = self.session.tokens()?;
        let min_validity = self.session.config().rules.min_validity;
        let mut out = String::new();
        push_u64(&mut out, tokens.expires_at.saturating_sub(min_validity));
        field(&mut out, &tokens.access_token);
        Some(out)
    }

    /// The ID token if the tokens may be handed out at `now`.
    #[wasm_bindgen(js_name = idToken)]
    pub fn id_token(&self, now: f64) -> Option<String> {
        self.session.id_token(millis(now)).map(String::from)
    }

    /// The decoded payload (JSON text) of the ID token, or of the access token when there is
    /// none; `undefined` when signed out or not a JWT.
    pub fn claims(&self) -> Option<String> {
        let tokens = self.session.tokens()?;
        let token = tokens.id_token.as_ref().unwrap_or(&tokens.access_token);
        let payload = token.split('.').nth(1)?;
        String::from_utf8(base64url::decode(payload).ok()?).ok()
    }

    /// The password sign-in request: `R timeout \0 url \0 body (\0 name \0 value)*`, or
    /// `E<error>` (an OAuth2 provider cannot sign in with a password).
    #[wasm_bindgen(js_name = signInRequest)]
    pub fn sign_in_request(&self, username: &str, password: &str) -> String {
        let config = self.session.config();
        let mut out = String::new();
        match config.provider.password_sign_in_request(username, password) {
            Ok(request) => {
                out.push('R');
                push_u64(&mut out, config.request_timeout);
                out.push(SEP);
                push_request(&mut out, &request);
            }
            Err(e) => {
                out.push('E');
                push_error(&mut out, "BAD_CONFIG", None, e.message());
            }
        }
        out
    }

    /// Reads the sign-in answer (`status` 0: none came, `body` says why) and, with tokens,
    /// signs in: `S`, `C name [\0 session]` for a challenge, or `E<error>`.
    #[wasm_bindgen(js_name = signInAnswer)]
    pub fn sign_in_answer(
        &mut self,
        now: f64,
        status: u16,
        body: &str,
        error_type: Option<String>,
        retry_after: Option<String>,
        amz_retry_after: Option<String>,
    ) -> String {
        let now = millis(now);
        let answer = if status == 0 {
            Err(crate::core::classify::network_error(body))
        } else {
            let answer = response(status, body, &error_type, &retry_after, &amz_retry_after);
            self.session.config().provider.parse_sign_in(now, &answer)
        };
        let mut out = String::new();
        match answer {
            Err(e) => {
                out.push('E');
                sign_in_error(&mut out, now, &e);
            }
            Ok(SignInAnswer::Tokens(grant)) => {
                match self.session.set_tokens(now, grant, Origin::Fresh) {
                    Ok(()) => out.push('S'),
                    Err(e) => {
                        out.push('E');
                        session_error(&mut out, &e);
                    }
                }
            }
            Ok(SignInAnswer::Challenge { name, session }) => {
                out.push('C');
                push_text(&mut out, &name);
                if let Some(session) = session {
                    field(&mut out, &session);
                }
            }
        }
        out
    }
}
