//! The export surface of the `.wasm`: one core [`Session`] per `Core` object, driven by the JS
//! shell (`src/shell/js/session.js`) through one method, [`Core::call`], with an operation
//! number ([`op`]), plain numbers and strings.
//!
//! Times are `f64` milliseconds since the epoch (converted with a saturating cast, so a NaN or a
//! negative number reads as 0). Ids are the core's counters, small enough to be exact in an
//! `f64`. Everything structured crosses as one string of fields separated by NUL (`\0`), which
//! the JS shell splits; free text from the network has any NUL replaced by U+FFFD, so a field
//! can never spill into the next one. The encodings:
//!
//! - an error: `code \0 retryAt-or-empty \0 message [\0 providerCode]`;
//! - an action (`op::POLL_ACTION`): a letter, then its fields:
//!   `L id` take the refresh lock, `S id url body (name value)*` send a refresh,
//!   `A id` abort it, `U id` release the lock, `T token ids` resolve the waiters (ids
//!   comma-separated), `X ids error` reject them, `P [record]` persist (no field: remove),
//!   `B message` broadcast, `G reason` go to login, `E type [value]` emit an event;
//! - a snapshot (`op::SNAPSHOT`): `signedIn expiresAt refreshing retryAt expired` with
//!   booleans as `1`/`0` and absent times empty, so equal strings mean equal snapshots.

use crate::engine::base64url;
use crate::engine::classify::{FailureKind, ProviderError};
use crate::engine::http::{HttpRequest, HttpResponse};
use crate::engine::machine::{
    Action, Config, Event, LoginReason, RefreshId, SessionError, SessionMachine, TokenAnswer,
};
use crate::engine::protocol::{Provider, SignInAnswer, TokenGrant};
use crate::engine::redirect::{check_nonce, Callback, Pending};
use crate::engine::text;
use crate::engine::text::push_u64;
use crate::engine::tokens::Provenance;
use crate::engine::Millis;
use alloc::string::String;
use wasm_bindgen::prelude::wasm_bindgen;

/// The field separator of every encoding in this file.
const SEP: char = '\0';

/// The operations of [`Core::call`]: what each reads besides `now` (unnamed arguments are
/// ignored) and what it answers (`undefined` unless said). The JS shell
/// (`src/shell/js/session.js`) has a constant of the same name and number for each; `tests/e2e/shell.test.mjs` checks that the
/// two agree. One entry point instead of one export per operation keeps the per-export
/// wasm-bindgen wrappers and glue out of what a page downloads.
pub mod op {
    /// `n` = how long the caller may wait, ms → `T token`, `W waiter id` or `E error`.
    pub const REQUEST_TOKEN: u32 = 0;
    /// The timer fired.
    pub const TIMEOUT: u32 = 1;
    /// The page became visible (`n` = 1) or hidden (`n` = 0).
    pub const VISIBILITY: u32 = 2;
    /// The refresh lock `n` is held; `a` = what storage holds now (absent: nothing).
    pub const REFRESH_LOCK: u32 = 3;
    /// The answer to refresh `n`: `m` = HTTP status (0: none came, `a` says why), `a` = body,
    /// `b`/`c`/`d` = the `x-amzn-errortype`, `retry-after` and `x-amz-retry-after` headers.
    pub const REFRESH_ANSWER: u32 = 4;
    /// Another tab broadcast `a`.
    pub const TAB_MESSAGE: u32 = 5;
    /// Storage holds `a` (absent: nothing), at start or after another tab changed it.
    pub const STORAGE: u32 = 6;
    /// Adopt tokens: `a` = access, `b` = ID, `c` = refresh token, `n` = expires in, seconds (0:
    /// not given) → the error, if any.
    pub const SET_TOKENS: u32 = 7;
    /// An API answered 401 to a request carrying `a` → `1` when a replay with the next token
    /// can help.
    pub const TOKEN_REFUSED: u32 = 8;
    /// The app signed out.
    pub const SIGN_OUT: u32 = 9;
    /// → the next action (see the module doc), or `undefined` when there is none.
    pub const POLL_ACTION: u32 = 10;
    /// → when `TIMEOUT` is next due (ms since the epoch), or `undefined`.
    pub const POLL_TIMEOUT: u32 = 11;
    /// → the snapshot (see the module doc).
    pub const SNAPSHOT: u32 = 12;
    /// → `until \0 token` for the shell's fast path, or `undefined` when signed out.
    pub const TOKEN: u32 = 13;
    /// → the ID token if the tokens may be handed out now.
    pub const ID_TOKEN: u32 = 14;
    /// → the ID token's (else the access token's) payload, JSON text.
    pub const CLAIMS: u32 = 15;
    /// `a` = user name, `b` = password → `R timeout \0 request` or `E error`.
    pub const SIGN_IN_REQUEST: u32 = 16;
    /// The sign-in answer, read as `REFRESH_ANSWER`'s (`m`, `a` to `d`) → `S`, `C name [\0
    /// session]` or `E error`. After `REDIRECT`, the ID token must carry that sign-in's nonce.
    pub const SIGN_IN_ANSWER: u32 = 17;
    /// Where to send the browser to sign in: `a` = authorization endpoint, `b` = redirect URI,
    /// `c` = scope, `d` = `state \0 verifier \0 challenge \0 nonce` (drawn by the shell with
    /// WebCrypto) → `U url \0 pending record` or `E error`.
    pub const AUTHORIZE: u32 = 18;
    /// The browser came back: `a` = code, `b` = state, `c` = `error \0 description` (absent:
    /// none), `d` = the pending record (absent: none) → `R timeout \0 request` (the code
    /// exchange, answered with `SIGN_IN_ANSWER`) or `E error`.
    pub const REDIRECT: u32 = 19;
}

/// Milliseconds from JS: NaN and negatives read as 0, huge values saturate (an `as` cast from
/// a float never panics).
fn millis(ms: f64) -> Millis {
    ms as Millis
}

/// Appends `s` with any NUL (the separator) replaced, so it stays one field.
fn push_text(out: &mut String, s: &str) {
    let mut pieces = text::split(s, b'\0');
    if let Some(first) = pieces.next() {
        out.push_str(first);
    }
    for piece in pieces {
        out.push('\u{fffd}');
        out.push_str(piece);
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
    // `retryAt` goes with THROTTLED and UNAVAILABLE only, as on the session's own errors: a
    // refused password stays refused whatever a Retry-After header says.
    let (code, timed) = match e.kind {
        FailureKind::Throttled => ("THROTTLED", true),
        FailureKind::ServerError | FailureKind::Network => ("UNAVAILABLE", true),
        FailureKind::CredentialDead => ("NOT_SIGNED_IN", false),
        FailureKind::CallerBug => ("BAD_CONFIG", false),
        FailureKind::BadResponse => ("BAD_RESPONSE", false),
    };
    let mut message = String::new();
    e.describe(&mut message);
    let retry_at = e
        .retry_after
        .filter(|_| timed)
        .map(|d| now.saturating_add(d));
    push_error(out, code, retry_at, &message);
    field(out, &e.code);
}

/// `R timeout \0 url \0 body (\0 name \0 value)*`: a sign-in request for the shell to send,
/// giving up after `timeout` ms.
fn sign_in_send(timeout: Millis, request: &HttpRequest) -> String {
    let mut out = String::from("R");
    push_u64(&mut out, timeout);
    out.push(SEP);
    push_request(&mut out, request);
    out
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

/// One session's core, driven by the JS shell through [`Core::call`]: an input operation, then
/// `POLL_ACTION` until it answers `undefined`, then `POLL_TIMEOUT` for the one timer.
#[wasm_bindgen]
pub struct Core {
    session: SessionMachine,
    /// The nonce of the redirect sign-in whose code exchange is in flight (`op::REDIRECT` sets
    /// it, the next `op::SIGN_IN_ANSWER` takes it and checks the ID token against it).
    redirect_nonce: Option<String>,
}

#[wasm_bindgen]
impl Core {
    /// A signed-out session. `token_endpoint` non-empty selects OAuth2 (with `issuer` non-empty,
    /// JWTs must name it in `iss`); otherwise Cognito with `endpoint` (empty: the region's
    /// endpoint, derived from `pool`, which the shell checked with [`pool_error`]).
    /// `seed_hi`/`seed_lo` seed the retry jitter.
    #[wasm_bindgen(constructor)]
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        client_id: &str,
        pool: &str,
        endpoint: &str,
        token_endpoint: &str,
        issuer: &str,
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
        // are for in `aud` (RFC 9068), so only ID tokens are held to the client there; and some
        // OAuth2 providers issue opaque access tokens, while Cognito's are always JWTs.
        config.rules.client_id = Some(String::from(client_id));
        config.rules.access_names_client = !oauth;
        config.rules.allow_opaque_access = oauth;
        config.rules.issuer = (oauth && !issuer.is_empty()).then(|| String::from(issuer));
        config.rules.require_token_use = !oauth;
        let seed = (u64::from(seed_hi) << 32) | u64::from(seed_lo);
        Core {
            session: SessionMachine::new(config, seed, millis(now)),
            redirect_nonce: None,
        }
    }

    /// Runs operation `op` (one of [`op`]) at `now`: `n` and `m` are its numbers, `a` to `d` its
    /// texts, as the table in [`op`] says; what it answers comes back as text (`undefined` for
    /// nothing, `"1"` for true). An unknown `op` does nothing and answers `undefined`.
    #[allow(clippy::too_many_arguments)]
    pub fn call(
        &mut self,
        op: u32,
        now: f64,
        n: f64,
        m: f64,
        a: Option<String>,
        b: Option<String>,
        c: Option<String>,
        d: Option<String>,
    ) -> Option<String> {
        let now_ms = millis(now);
        let first = a.as_deref().unwrap_or_default();
        let session = &mut self.session;
        match op {
            op::REQUEST_TOKEN => Some(self.request_token(now, n)),
            op::TIMEOUT => {
                session.handle_timeout(now_ms);
                None
            }
            op::VISIBILITY => {
                session.handle_visibility(now_ms, n != 0.0);
                None
            }
            op::REFRESH_LOCK => {
                session.handle_refresh_lock(now_ms, RefreshId(millis(n)), a.as_deref());
                None
            }
            op::REFRESH_ANSWER => {
                self.handle_refresh_answer(now, n, m as u16, first, b, c, d);
                None
            }
            op::TAB_MESSAGE => {
                session.handle_tab_message(now_ms, first);
                None
            }
            op::STORAGE => {
                session.handle_storage(now_ms, a.as_deref());
                None
            }
            op::SET_TOKENS => self.set_tokens(now, String::from(first), b, c, n),
            op::TOKEN_REFUSED => session
                .handle_token_refused(now_ms, first)
                .then(|| String::from("1")),
            op::SIGN_OUT => {
                session.sign_out(now_ms);
                None
            }
            op::POLL_ACTION => session.poll_action().map(|a| encode_action(&a)),
            op::POLL_TIMEOUT => session.poll_timeout().map(|at| {
                let mut out = String::new();
                push_u64(&mut out, at);
                out
            }),
            op::SNAPSHOT => Some(self.snapshot()),
            op::TOKEN => self.token(),
            op::ID_TOKEN => self.id_token(now),
            op::CLAIMS => self.claims(),
            op::SIGN_IN_REQUEST => {
                Some(self.sign_in_request(first, b.as_deref().unwrap_or_default()))
            }
            op::SIGN_IN_ANSWER => Some(self.sign_in_answer(now, m as u16, first, b, c, d)),
            op::AUTHORIZE => Some(self.authorize(
                first,
                b.as_deref().unwrap_or_default(),
                c.as_deref().unwrap_or_default(),
                d.as_deref().unwrap_or_default(),
            )),
            op::REDIRECT => Some(self.redirect(
                now_ms,
                a.as_deref(),
                b.as_deref(),
                c.as_deref(),
                d.as_deref(),
            )),
            _ => None,
        }
    }
}

impl Core {
    /// A caller needs a token within `wait` ms: `T<token>`, `W<waiter id>` (the answer comes
    /// as a `T` or `X` action) or `E<error>`.
    fn request_token(&mut self, now: f64, wait: f64) -> String {
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

    /// The answer to refresh `id`, or (`status` 0) why none came, in `body`.
    #[allow(clippy::too_many_arguments)]
    fn handle_refresh_answer(
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

    /// Adopts tokens obtained elsewhere; `expires_in` in seconds (0: not given). Returns the
    /// error, if any.
    fn set_tokens(
        &mut self,
        now: f64,
        access_token: String,
        id_token: Option<String>,
        refresh_token: Option<String>,
        expires_in: f64,
    ) -> Option<String> {
        let grant = TokenGrant {
            access_token,
            id_token,
            refresh_token,
            expires_in: (expires_in > 0.0).then_some(expires_in as u64),
        };
        let e = self
            .session
            .set_tokens(millis(now), grant, Provenance::External)
            .err()?;
        let mut out = String::new();
        session_error(&mut out, &e);
        Some(out)
    }

    /// The snapshot, encoded (see the module doc).
    fn snapshot(&self) -> String {
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
    fn token(&self) -> Option<String> {
        let tokens = self.session.tokens()?;
        let min_validity = self.session.config().rules.min_validity;
        let mut out = String::new();
        push_u64(&mut out, tokens.expires_at.saturating_sub(min_validity));
        field(&mut out, &tokens.access_token);
        Some(out)
    }

    /// The ID token if the tokens may be handed out at `now`.
    fn id_token(&self, now: f64) -> Option<String> {
        self.session.id_token(millis(now)).map(String::from)
    }

    /// The decoded payload (JSON text) of the ID token, or of the access token when there is
    /// none; `undefined` when signed out or not a JWT.
    fn claims(&self) -> Option<String> {
        let tokens = self.session.tokens()?;
        let token = tokens.id_token.as_ref().unwrap_or(&tokens.access_token);
        let payload = text::split(token, b'.').nth(1)?;
        String::from_utf8(base64url::decode(payload).ok()?).ok()
    }

    /// The authorization URL and the record to keep until the browser comes back (`U`), or
    /// `E<error>` for a Cognito-API session.
    fn authorize(&self, endpoint: &str, redirect_uri: &str, scope: &str, secrets: &str) -> String {
        let mut parts = text::split(secrets, b'\0');
        let mut next = || String::from(parts.next().unwrap_or_default());
        let (state, verifier, challenge, nonce) = (next(), next(), next(), next());
        let pending = Pending {
            state,
            verifier,
            nonce,
            redirect_uri: String::from(redirect_uri),
        };
        let mut out = String::new();
        match self
            .session
            .config()
            .provider
            .authorization_url(endpoint, scope, &pending, &challenge)
        {
            Ok(url) => {
                out.push('U');
                push_text(&mut out, &url);
                field(&mut out, &pending.encode());
            }
            Err(e) => {
                out.push('E');
                push_error(&mut out, "BAD_CONFIG", None, e.message());
            }
        }
        out
    }

    /// Reads the callback against the pending record: the code exchange request (`R`, as
    /// [`sign_in_request`](Self::sign_in_request) answers), or `E<error>` before anything is
    /// sent.
    fn redirect(
        &mut self,
        now: Millis,
        code: Option<&str>,
        state: Option<&str>,
        error: Option<&str>,
        pending: Option<&str>,
    ) -> String {
        let (error, error_description) = match error.map(|e| text::split_once(e, b'\0')) {
            Some(Some((name, description))) => (Some(name), Some(description)),
            Some(None) => (error, None),
            None => (None, None),
        };
        let callback = Callback {
            code,
            state,
            error,
            error_description,
        };
        let config = self.session.config();
        match config.provider.answer_callback(&callback, pending) {
            Ok((nonce, request)) => {
                self.redirect_nonce = Some(nonce);
                sign_in_send(config.request_timeout, &request)
            }
            Err(e) => {
                let mut out = String::from("E");
                sign_in_error(&mut out, now, &e);
                out
            }
        }
    }

    /// The password sign-in request: `R timeout \0 url \0 body (\0 name \0 value)*`, or
    /// `E<error>` (an OAuth2 provider cannot sign in with a password).
    fn sign_in_request(&self, username: &str, password: &str) -> String {
        let config = self.session.config();
        match config.provider.password_sign_in_request(username, password) {
            Ok(request) => sign_in_send(config.request_timeout, &request),
            Err(e) => {
                let mut out = String::from("E");
                push_error(&mut out, "BAD_CONFIG", None, e.message());
                out
            }
        }
    }

    /// Reads the sign-in answer (`status` 0: none came, `body` says why) and, with tokens,
    /// signs in: `S`, `C name [\0 session]` for a challenge, or `E<error>`.
    fn sign_in_answer(
        &mut self,
        now: f64,
        status: u16,
        body: &str,
        error_type: Option<String>,
        retry_after: Option<String>,
        amz_retry_after: Option<String>,
    ) -> String {
        let now = millis(now);
        let nonce = self.redirect_nonce.take();
        let answer = if status == 0 {
            Err(crate::engine::classify::network_error(body))
        } else {
            let answer = response(status, body, &error_type, &retry_after, &amz_retry_after);
            self.session.config().provider.parse_sign_in(now, &answer)
        };
        let answer = answer.and_then(|a| match (&a, &nonce) {
            (SignInAnswer::Tokens(grant), Some(nonce)) => check_nonce(grant, nonce).map(|()| a),
            _ => Ok(a),
        });
        let mut out = String::new();
        match answer {
            Err(e) => {
                out.push('E');
                sign_in_error(&mut out, now, &e);
            }
            Ok(SignInAnswer::Tokens(grant)) => {
                match self.session.set_tokens(now, grant, Provenance::Fresh) {
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
