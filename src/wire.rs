//! The wire between the engine and the JavaScript shell: the one definition of what crosses
//! the `.wasm` boundary, compiled and tested natively.
//!
//! The shell calls [`Dispatcher::call_with_texts`] (exported to JavaScript as `Core.call`) with
//! an operation number ([`Op`]), `now`, two numbers and up to four strings (`a` to `d`, sent as
//! one JSON array); [`Call::decode`] reads them
//! into a typed [`Call`], refusing an unknown operation or a malformed argument with a
//! `BAD_CONFIG` error reply, never silence. Every answer is a [`Reply`]: JSON text of an array
//! whose first element is a one-letter tag, unique across the whole wire, then the fields in a
//! fixed order (absent values are `null`, lists are arrays, numbers are numbers). Events,
//! snapshots and sign-in results are the very objects the app receives. "Nothing to say" is
//! `undefined` (`None`).
//!
//! The JavaScript half is `src/shell/js/wire.js`: one function per operation and one decoder.
//! Neither half can change alone: `tests/wire.rs` writes golden vectors
//! (`tests/wire/vectors.json`) from the encoders here — every tag, every operation's argument
//! positions — and `tests/e2e/wire.test.mjs` replays them through `wire.js`.

use alloc::string::String;
use alloc::vec::Vec;

use crate::engine::config::{Config, ProviderOptions};
use crate::engine::error::AppError;
use crate::engine::http::{HttpRequest, HttpResponse};
use crate::engine::json::{self, write_string, Value};
use crate::engine::machine::{
    Action, Event, LoginReason, RefreshId, SessionMachine, Snapshot, TokenAnswer,
};
use crate::engine::protocol::LogoutPage;
use crate::engine::protocol::{ConfigError, TokenGrant};
use crate::engine::redirect::Callback;
use crate::engine::sign_in::{Outgoing, Secrets, SignedIn};
use crate::engine::sign_out::{SignOut, SignOutStep};
use crate::engine::text::{self, push_u64};
use crate::engine::tokens::Provenance;
use crate::engine::Millis;

/// The operations of [`Dispatcher::call`]. Each variant's doc says what it reads besides `now`
/// (`n`, `m`: numbers; `a` to `d`: strings, `null` when absent, sent as one JSON array: see
/// [`Dispatcher::call_with_texts`]) and what it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Op {
    /// `n` = how long the caller may wait, ms → `token`, `waiting` or `error`.
    RequestToken = 0,
    /// The timer fired.
    Timeout = 1,
    /// The page became visible (`n` = 1) or hidden (`n` = 0).
    Visibility = 2,
    /// The refresh lock `n` is held; `a` = what storage holds now (absent: nothing).
    RefreshLock = 3,
    /// The answer to refresh `n`: `m` = HTTP status (0: none came, `a` says why), `a` = body,
    /// `b`/`c`/`d` = the `x-amzn-errortype`, `retry-after` (seconds: the shell turns an HTTP
    /// date into the seconds left until it) and `x-amz-retry-after` headers.
    RefreshAnswer = 4,
    /// Another tab broadcast `a`.
    TabMessage = 5,
    /// Storage holds `a` (absent: nothing), at start or after another tab changed it.
    Storage = 6,
    /// Adopt tokens: `a` = access, `b` = ID, `c` = refresh token, `n` = expires in, seconds (0:
    /// not given) → `error` when they are unusable.
    SetTokens = 7,
    /// An API answered 401 to a request carrying `a` → `yes` (replaying can help or not).
    TokenRefused = 8,
    /// The app signed out: `n` = what it asked for, a sum of [`sign_out_bits`] (`revoke`,
    /// `global`, `redirect`, and whether `b` is Cognito's `/logout` rather than OpenID
    /// Connect's `end_session_endpoint`); `a` = the OAuth2 revocation endpoint, `b` = the
    /// provider's logout page, `c` = where it sends the browser back (each absent or empty when
    /// not configured) → `request` (send it, answer with `SignOutAnswer`), `logout` (go there),
    /// `error` or nothing.
    SignOut = 9,
    /// → the next action, or nothing when there is none.
    PollAction = 10,
    /// → `moment`: when `Timeout` is next due, or nothing.
    PollTimeout = 11,
    /// → `snapshot`.
    Snapshot = 12,
    /// → `cached`: the access and ID tokens and until when they may be handed out, or nothing.
    Token = 13,
    /// A Cognito sign-in step's request, by `n`: 0 a password sign-in (`a` = user name, `b` =
    /// password), 1 an SRP sign-in (`a` = user name, `b` = SRP `A`, lowercase hex), 2 the answer
    /// to a challenge (`a` = its name, `b` = its `Session`, `c` = the `ChallengeResponses`
    /// object as JSON) → `request` or `error`.
    SignInRequest = 14,
    /// The sign-in answer, read as `RefreshAnswer`'s (`m`, `a` to `d`) → `signedIn`,
    /// `challenge` or `error`.
    SignInAnswer = 15,
    /// Where to sign in: `a` = authorization endpoint, `b` = redirect URI, `c` = scope, `d` =
    /// `state \0 verifier \0 challenge \0 nonce` (drawn by the shell with WebCrypto) →
    /// `authorization` or `error`.
    Authorize = 16,
    /// The browser came back: `a` = code, `b` = state, `c` = `error \0 description \0 iss`
    /// (each empty when absent), `d` = the tab's sign-in record (absent: none) → `request` (the
    /// code exchange, answered with `SignInAnswer`), `foreign` (not this tab's sign-in: its record
    /// stays) or `error` (the record is used up).
    RedirectReturn = 17,
    /// The answer to a sign-out's request, read as `RefreshAnswer`'s (`m`, `a` to `d`) →
    /// `request`, `logout`, `error` or nothing, as `SignOut`.
    SignOutAnswer = 18,
    /// The browser's network came back (`n` = 1: the `online` event) or went away (`n` = 0:
    /// `navigator.onLine` false, the `offline` event).
    Network = 19,
    /// The key-set lock `n` is held; `a` = the key-set record storage holds (absent: none).
    KeysLock = 20,
    /// The answer to key-set fetch `n`, read as `RefreshAnswer`'s (`m`, `a`; `a` = `cors` with
    /// `m` = 0 when the URL answers but not to this origin), with `b` = its `Cache-Control`
    /// `max-age` (seconds).
    KeysAnswer = 21,
    /// Signature check `n` answered: `m` = 1 when the signature matches.
    Verified = 22,
}

impl Op {
    /// Every operation, in number order.
    pub const ALL: [Op; 23] = [
        Op::RequestToken,
        Op::Timeout,
        Op::Visibility,
        Op::RefreshLock,
        Op::RefreshAnswer,
        Op::TabMessage,
        Op::Storage,
        Op::SetTokens,
        Op::TokenRefused,
        Op::SignOut,
        Op::PollAction,
        Op::PollTimeout,
        Op::Snapshot,
        Op::Token,
        Op::SignInRequest,
        Op::SignInAnswer,
        Op::Authorize,
        Op::RedirectReturn,
        Op::SignOutAnswer,
        Op::Network,
        Op::KeysLock,
        Op::KeysAnswer,
        Op::Verified,
    ];

    /// The operation numbered `n`.
    pub fn from_number(n: u32) -> Option<Op> {
        Op::ALL.get(usize::try_from(n).ok()?).copied()
    }
}

/// The raw arguments of one [`Dispatcher::call`], as the shell passed them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RawArgs<'a> {
    pub n: f64,
    pub m: f64,
    pub a: Option<&'a str>,
    pub b: Option<&'a str>,
    pub c: Option<&'a str>,
    pub d: Option<&'a str>,
}

/// An answer from the provider, or why none came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer<'a> {
    Response(HttpResponse<'a>),
    /// No answer (network failure, CORS, timeout); the text says why.
    None(&'a str),
}

/// One call from the shell, read and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call<'a> {
    RequestToken {
        wait: Millis,
    },
    Timeout,
    Visibility {
        visible: bool,
    },
    Network {
        online: bool,
    },
    RefreshLock {
        id: RefreshId,
        record: Option<&'a str>,
    },
    RefreshAnswer {
        id: RefreshId,
        answer: Answer<'a>,
    },
    TabMessage {
        message: &'a str,
    },
    Storage {
        record: Option<&'a str>,
    },
    SetTokens {
        access: &'a str,
        id: Option<&'a str>,
        refresh: Option<&'a str>,
        expires_in: Option<u64>,
    },
    TokenRefused {
        token: &'a str,
    },
    SignOut {
        request: SignOut<'a>,
    },
    PollAction,
    PollTimeout,
    Snapshot,
    Token,
    PasswordSignIn {
        username: &'a str,
        password: &'a str,
    },
    SrpSignIn {
        username: &'a str,
        srp_a: &'a str,
    },
    AnswerChallenge {
        name: &'a str,
        session: &'a str,
        responses: &'a str,
    },
    SignInAnswer {
        answer: Answer<'a>,
    },
    Authorize {
        endpoint: &'a str,
        redirect_uri: &'a str,
        scope: &'a str,
        secrets: Secrets<'a>,
    },
    RedirectReturn {
        callback: Callback<'a>,
        record: Option<&'a str>,
    },
    SignOutAnswer {
        answer: Answer<'a>,
    },
    KeysLock {
        id: RefreshId,
        record: Option<&'a str>,
    },
    KeysAnswer {
        id: RefreshId,
        answer: Answer<'a>,
    },
    Verified {
        id: RefreshId,
        ok: bool,
    },
}

/// Why a call could not be read: a bug in the shell, answered as a `BAD_CONFIG` error reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireError {
    UnknownOp(u32),
    /// The operation, and the argument (`n`, `m`, `a` to `d`) that is missing or malformed.
    BadArgument(Op, &'static str),
    /// The strings did not come as a JSON array of at most four strings or `null`s.
    Texts,
}

impl WireError {
    /// The error the shell receives. (Which operation and argument is for the Rust side's
    /// tests and `Debug`; the shell's stack names the `wire.js` function that called.)
    pub fn to_app_error(self) -> AppError {
        AppError::bad_config(match self {
            WireError::UnknownOp(_) => "wire: unknown operation",
            WireError::BadArgument(..) | WireError::Texts => {
                "wire: an argument is missing or malformed"
            }
        })
    }
}

/// Largest integer an `f64` holds exactly: ids, moments and counts stay below it.
const MAX_EXACT: f64 = 9_007_199_254_740_991.0;

/// A whole number of `0..=MAX_EXACT` from JavaScript, or `None` (NaN, negative, fractional,
/// infinite).
#[inline(always)]
fn whole(x: f64) -> Option<u64> {
    ((0.0..=MAX_EXACT).contains(&x) && x == (x as u64) as f64).then_some(x as u64)
}

impl<'a> Call<'a> {
    /// Reads operation `op`'s arguments as [`Op`] documents them.
    ///
    /// `inline(always)` here and on `perform`: inlined into [`Dispatcher::call`], the match on
    /// the operation number and the match on the call become one (LLVM threads the jumps), which
    /// makes the `.wasm` 223 B gzip smaller than two separate functions.
    #[inline(always)]
    pub fn decode(op: u32, raw: RawArgs<'a>) -> Result<Call<'a>, WireError> {
        let op = Op::from_number(op).ok_or(WireError::UnknownOp(op))?;
        let bad = |argument| WireError::BadArgument(op, argument);
        let n = || whole(raw.n).ok_or(bad("n"));
        let a = || raw.a.ok_or(bad("a"));
        Ok(match op {
            Op::RequestToken => Call::RequestToken { wait: n()? },
            Op::Timeout => Call::Timeout,
            Op::Network => match n()? {
                0 => Call::Network { online: false },
                1 => Call::Network { online: true },
                _ => return Err(bad("n")),
            },
            Op::Visibility => match n()? {
                0 => Call::Visibility { visible: false },
                1 => Call::Visibility { visible: true },
                _ => return Err(bad("n")),
            },
            Op::RefreshLock => Call::RefreshLock {
                id: RefreshId(n()?),
                record: raw.a,
            },
            Op::KeysLock => Call::KeysLock {
                id: RefreshId(n()?),
                record: raw.a,
            },
            Op::KeysAnswer => Call::KeysAnswer {
                id: RefreshId(n()?),
                answer: answer(op, &raw)?,
            },
            Op::Verified => Call::Verified {
                id: RefreshId(n()?),
                ok: raw.m == 1.0,
            },
            Op::RefreshAnswer => Call::RefreshAnswer {
                id: RefreshId(n()?),
                answer: answer(op, &raw)?,
            },
            Op::TabMessage => Call::TabMessage { message: a()? },
            Op::Storage => Call::Storage { record: raw.a },
            Op::SetTokens => Call::SetTokens {
                access: a()?,
                id: raw.b,
                refresh: raw.c,
                expires_in: Some(n()?).filter(|s| *s > 0),
            },
            Op::TokenRefused => Call::TokenRefused { token: a()? },
            Op::SignOut => {
                let given = |s: Option<&'a str>| s.filter(|s| !s.is_empty());
                let bits = n()?;
                if bits >= 16 {
                    return Err(bad("n"));
                }
                let asked = |bit| bits & bit != 0;
                Call::SignOut {
                    request: SignOut {
                        revoke: asked(sign_out_bits::REVOKE),
                        global: asked(sign_out_bits::GLOBAL),
                        redirect: asked(sign_out_bits::REDIRECT),
                        revocation_endpoint: given(raw.a),
                        logout_page: given(raw.b).map(|endpoint| LogoutPage {
                            endpoint,
                            cognito: asked(sign_out_bits::COGNITO_LOGOUT),
                            back: given(raw.c),
                        }),
                    },
                }
            }
            Op::PollAction => Call::PollAction,
            Op::PollTimeout => Call::PollTimeout,
            Op::Snapshot => Call::Snapshot,
            Op::Token => Call::Token,
            Op::SignInRequest => {
                let (a, b) = (a()?, raw.b.ok_or(bad("b"))?);
                match n()? {
                    0 => Call::PasswordSignIn {
                        username: a,
                        password: b,
                    },
                    1 => Call::SrpSignIn {
                        username: a,
                        srp_a: b,
                    },
                    2 => Call::AnswerChallenge {
                        name: a,
                        session: b,
                        responses: raw.c.ok_or(bad("c"))?,
                    },
                    _ => return Err(bad("n")),
                }
            }
            Op::SignInAnswer => Call::SignInAnswer {
                answer: answer(op, &raw)?,
            },
            Op::SignOutAnswer => Call::SignOutAnswer {
                answer: answer(op, &raw)?,
            },
            Op::Authorize => {
                let mut parts = text::split(raw.d.ok_or(bad("d"))?, b'\0');
                let mut next = || parts.next().filter(|p| !p.is_empty()).ok_or(bad("d"));
                let secrets = Secrets {
                    state: next()?,
                    verifier: next()?,
                    challenge: next()?,
                    nonce: next()?,
                };
                if parts.next().is_some() {
                    return Err(bad("d"));
                }
                Call::Authorize {
                    endpoint: a()?,
                    redirect_uri: raw.b.ok_or(bad("b"))?,
                    scope: raw.c.ok_or(bad("c"))?,
                    secrets,
                }
            }
            Op::RedirectReturn => {
                // `c` = `error \0 description \0 iss`, each part empty when absent.
                let mut parts = text::split(raw.c.unwrap_or_default(), b'\0');
                let mut next = || parts.next().filter(|p| !p.is_empty());
                let (error, error_description, iss) = (next(), next(), next());
                if parts.next().is_some() {
                    return Err(bad("c"));
                }
                Call::RedirectReturn {
                    callback: Callback {
                        code: raw.a,
                        state: raw.b,
                        error,
                        error_description,
                        iss,
                    },
                    record: raw.d,
                }
            }
        })
    }
}

/// An HTTP answer from `m` (status; 0: none came) and `a` to `d`.
#[inline(always)]
fn answer<'a>(op: Op, raw: &RawArgs<'a>) -> Result<Answer<'a>, WireError> {
    let status = whole(raw.m)
        .and_then(|s| u16::try_from(s).ok())
        .filter(|s| *s <= 999)
        .ok_or(WireError::BadArgument(op, "m"))?;
    let body = raw.a.unwrap_or_default();
    Ok(if status == 0 {
        Answer::None(body)
    } else {
        Answer::Response(HttpResponse {
            status,
            body,
            error_type: raw.b,
            retry_after: raw.c,
            amz_retry_after: raw.d,
        })
    })
}

impl<'a> Answer<'a> {
    /// The response, or why none came.
    fn as_result(&self) -> Result<&HttpResponse<'a>, &'a str> {
        match self {
            Answer::Response(response) => Ok(response),
            Answer::None(why) => Err(why),
        }
    }
}

/// What `SignOut`'s `n` says, one bit each: what the app asked for, and what kind of logout
/// page the provider has.
pub mod sign_out_bits {
    pub const REVOKE: u64 = 1;
    pub const GLOBAL: u64 = 2;
    pub const REDIRECT: u64 = 4;
    /// The logout page is Cognito's `/logout`, not OpenID Connect's `end_session_endpoint`.
    pub const COGNITO_LOGOUT: u64 = 8;
}

/// The tags of every reply, one letter each, unique across the wire.
pub mod tag {
    pub const ACQUIRE_LOCK: char = 'L';
    pub const SEND_REFRESH: char = 'S';
    pub const ABORT_REFRESH: char = 'A';
    pub const RELEASE_LOCK: char = 'U';
    pub const RESOLVE_WAITERS: char = 'T';
    pub const REJECT_WAITERS: char = 'X';
    pub const PERSIST: char = 'P';
    pub const BROADCAST: char = 'B';
    pub const GO_TO_LOGIN: char = 'G';
    pub const EMIT: char = 'E';
    pub const TOKEN: char = 'k';
    pub const WAITING: char = 'w';
    pub const ERROR: char = 'e';
    pub const MOMENT: char = 'n';
    pub const YES: char = 'y';
    pub const CACHED: char = 'c';
    pub const SNAPSHOT: char = 's';
    pub const REQUEST: char = 'q';
    pub const SIGNED_IN: char = 'i';
    pub const CHALLENGE: char = 'h';
    pub const AUTHORIZATION: char = 'u';
    pub const FOREIGN: char = 'f';
    pub const LOGOUT: char = 'o';
    pub const ACQUIRE_KEYS_LOCK: char = 'K';
    pub const FETCH_KEYS: char = 'F';
    pub const PERSIST_KEYS: char = 'J';
    pub const VERIFY: char = 'V';
}

/// A reply under construction: `[tag, field, ...]` as JSON text.
pub struct Reply(String);

impl Reply {
    /// `[tag`.
    pub fn new(tag: char) -> Reply {
        let mut out = String::from("[\"");
        out.push(tag);
        out.push('"');
        Reply(out)
    }

    fn comma(&mut self) -> &mut String {
        self.0.push(',');
        &mut self.0
    }

    pub fn number(&mut self, n: u64) -> &mut Reply {
        push_u64(self.comma(), n);
        self
    }

    pub fn flag(&mut self, b: bool) -> &mut Reply {
        self.comma().push_str(if b { "true" } else { "false" });
        self
    }

    pub fn text(&mut self, s: &str) -> &mut Reply {
        write_string(self.comma(), s);
        self
    }

    pub fn maybe_text(&mut self, s: Option<&str>) -> &mut Reply {
        match s {
            Some(s) => self.text(s),
            None => self.null(),
        }
    }

    pub fn maybe_number(&mut self, n: Option<u64>) -> &mut Reply {
        match n {
            Some(n) => self.number(n),
            None => self.null(),
        }
    }

    pub fn null(&mut self) -> &mut Reply {
        self.comma().push_str("null");
        self
    }

    pub fn numbers(&mut self, ns: impl Iterator<Item = u64>) -> &mut Reply {
        let out = self.comma();
        out.push('[');
        for (i, n) in ns.enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_u64(out, n);
        }
        out.push(']');
        self
    }

    /// `[[name, value], ...]`.
    pub fn headers(&mut self, headers: &[(&str, String)]) -> &mut Reply {
        let out = self.comma();
        out.push('[');
        for (i, (name, value)) in headers.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('[');
            write_string(out, name);
            out.push(',');
            write_string(out, value);
            out.push(']');
        }
        out.push(']');
        self
    }

    /// `[code, message, retryAt|null, providerCode|null]`.
    pub fn error(&mut self, e: &AppError) -> &mut Reply {
        self.comma().push('[');
        write_string(&mut self.0, e.code.as_str());
        let out = self
            .text(&e.message)
            .maybe_number(e.retry_at)
            .maybe_text(e.provider_code.as_deref());
        out.0.push(']');
        out
    }

    /// A JSON object `{"name": value, ...}` built by `f`.
    fn object(&mut self, f: impl FnOnce(&mut Object)) -> &mut Reply {
        let out = self.comma();
        out.push('{');
        let mut object = Object { out, first: true };
        f(&mut object);
        self.0.push('}');
        self
    }

    /// `url, body, headers` of a request.
    fn request(&mut self, request: &HttpRequest) -> &mut Reply {
        self.text(&request.url)
            .text(&request.body)
            .headers(&request.headers)
    }

    /// The JSON text.
    pub fn finish(&mut self) -> String {
        let mut out = core::mem::take(&mut self.0);
        out.push(']');
        out
    }
}

/// The members of a JSON object being written.
struct Object<'a> {
    out: &'a mut String,
    first: bool,
}

impl Object<'_> {
    fn key(&mut self, name: &str) -> &mut String {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        write_string(self.out, name);
        self.out.push(':');
        self.out
    }

    fn text(&mut self, name: &str, value: &str) {
        write_string(self.key(name), value);
    }

    fn number(&mut self, name: &str, value: Option<u64>) {
        match value {
            Some(n) => push_u64(self.key(name), n),
            None => self.key(name).push_str("null"),
        }
    }

    fn flag(&mut self, name: &str, value: bool) {
        self.key(name)
            .push_str(if value { "true" } else { "false" });
    }
}

/// An error reply.
pub fn error_reply(e: &AppError) -> String {
    Reply::new(tag::ERROR).error(e).finish()
}

/// The name the app sees for a login reason (what `onLoginRequired` receives, what `expired`
/// events carry).
pub fn reason_name(reason: &LoginReason) -> &'static str {
    match reason {
        LoginReason::RefreshTokenDead { .. } => "refreshTokenDead",
        LoginReason::NoRefreshToken => "noRefreshToken",
        LoginReason::ExpiredElsewhere => "expiredElsewhere",
    }
}

/// An event as the app receives it: `{type, ...}`.
fn event_object(o: &mut Object, event: &Event) {
    let (name, field, at) = match event {
        Event::SignedIn { expires_at } => ("signedIn", "expiresAt", Some(*expires_at)),
        Event::Refreshed { expires_at } => ("refreshed", "expiresAt", Some(*expires_at)),
        Event::Throttled { retry_at } => ("throttled", "retryAt", Some(*retry_at)),
        Event::RetryScheduled { retry_at } => ("retryScheduled", "retryAt", Some(*retry_at)),
        Event::Expired { reason } => {
            o.text("type", "expired");
            o.text("reason", reason_name(reason));
            return;
        }
        Event::SignedOut => ("signedOut", "", None),
        Event::StorageDiscarded { error } | Event::StorageUnavailable { error } => {
            let discarded = matches!(event, Event::StorageDiscarded { .. });
            o.text(
                "type",
                if discarded {
                    "storageDiscarded"
                } else {
                    "storageUnavailable"
                },
            );
            let mut detail = String::new();
            error.describe(&mut detail);
            o.text("detail", &detail);
            return;
        }
        Event::TokenRejected { error } => {
            o.text("type", "tokenRejected");
            let mut detail = String::new();
            error.describe(&mut detail);
            o.text("detail", &detail);
            return;
        }
    };
    o.text("type", name);
    if at.is_some() {
        o.number(field, at);
    }
}

/// The reply for one action.
pub fn action_reply(action: &Action) -> String {
    match action {
        Action::AcquireRefreshLock { id } => Reply::new(tag::ACQUIRE_LOCK).number(id.0).finish(),
        Action::SendRefresh { id, request } => Reply::new(tag::SEND_REFRESH)
            .number(id.0)
            .request(request)
            .finish(),
        Action::AbortRefresh { id } => Reply::new(tag::ABORT_REFRESH).number(id.0).finish(),
        Action::ReleaseRefreshLock { id } => Reply::new(tag::RELEASE_LOCK).number(id.0).finish(),
        Action::ResolveWaiters {
            waiters,
            access_token,
        } => Reply::new(tag::RESOLVE_WAITERS)
            .text(access_token)
            .numbers(waiters.iter().map(|w| w.0))
            .finish(),
        Action::RejectWaiters { waiters, error } => Reply::new(tag::REJECT_WAITERS)
            .numbers(waiters.iter().map(|w| w.0))
            .error(&AppError::from(error))
            .finish(),
        Action::Persist { record } => Reply::new(tag::PERSIST)
            .maybe_text(record.as_deref())
            .finish(),
        Action::Broadcast { message } => Reply::new(tag::BROADCAST).text(message).finish(),
        Action::GoToLogin { reason } => Reply::new(tag::GO_TO_LOGIN)
            .text(reason_name(reason))
            .finish(),
        Action::Emit { event } => Reply::new(tag::EMIT)
            .object(|o| event_object(o, event))
            .finish(),
        Action::AcquireKeysLock { id } => Reply::new(tag::ACQUIRE_KEYS_LOCK).number(id.0).finish(),
        Action::FetchKeys { id, url } => {
            Reply::new(tag::FETCH_KEYS).number(id.0).text(url).finish()
        }
        Action::PersistKeys { record } => Reply::new(tag::PERSIST_KEYS).text(record).finish(),
        Action::Verify {
            id,
            alg,
            key,
            input,
            signature,
        } => Reply::new(tag::VERIFY)
            .number(id.0)
            .text(alg.name())
            .text(key)
            .text(input)
            .text(signature)
            .finish(),
    }
}

/// The snapshot as the app receives it (`getSnapshot()`): equal texts, equal snapshots.
pub fn snapshot_reply(s: &Snapshot) -> String {
    Reply::new(tag::SNAPSHOT)
        .object(|o| {
            o.flag("signedIn", s.signed_in);
            o.number("expiresAt", s.expires_at);
            o.flag("refreshing", s.refreshing);
            o.number("retryAt", s.retry_at);
            o.flag("expired", s.expired);
            o.flag("verifyTokens", s.verify_tokens);
        })
        .finish()
}

/// `request`: a sign-in request to send within its timeout, or the error that sends nothing.
fn request_reply(outgoing: Result<Outgoing, AppError>) -> String {
    match outgoing {
        Ok(outgoing) => Reply::new(tag::REQUEST)
            .number(outgoing.timeout)
            .request(&outgoing.request)
            .finish(),
        Err(e) => error_reply(&e),
    }
}

/// A sign-out's next step: `request` (send it), `logout` (go to the provider's logout page),
/// nothing (it is over) or `error`.
fn sign_out_reply(step: Result<SignOutStep, AppError>) -> Option<String> {
    match step {
        Ok(SignOutStep::Send(outgoing)) => Some(request_reply(Ok(outgoing))),
        Ok(SignOutStep::Navigate(url)) => Some(Reply::new(tag::LOGOUT).text(&url).finish()),
        Ok(SignOutStep::Done) => None,
        Err(e) => Some(error_reply(&e)),
    }
}

/// `signedIn` or `challenge`: a sign-in step's good end. `signedIn` is the object the app's
/// promise resolves with, `{status: "signedIn"}`; `challenge` names the challenge, and the shell
/// builds the app's challenge object from the answer the engine approved
/// (src/shell/js/challenge.js).
pub fn sign_in_reply(signed_in: &SignedIn) -> String {
    match signed_in {
        SignedIn::Tokens => Reply::new(tag::SIGNED_IN)
            .object(|o| o.text("status", "signedIn"))
            .finish(),
        SignedIn::Challenge(name) => Reply::new(tag::CHALLENGE).text(name).finish(),
    }
}

/// Milliseconds from JavaScript for `now`: NaN and negatives read as 0, huge values saturate
/// (an `as` cast from a float never panics). Only the shell's `Date.now()` arrives here.
fn millis(ms: f64) -> Millis {
    ms as Millis
}

/// One session's engine behind the wire: what the `.wasm` exports as `Core`.
pub struct Dispatcher {
    /// The session, or why the options it was built from cannot work: then every call answers
    /// that error (the shell's first call throws it from `new Session()`).
    machine: Result<SessionMachine, ConfigError>,
}

impl Dispatcher {
    /// A signed-out session for `options`, its jitter seeded with `seed`.
    pub fn new(options: &ProviderOptions<'_>, seed: u64, now: f64) -> Dispatcher {
        Dispatcher {
            machine: Config::from_options(options)
                .map(|config| SessionMachine::new(config, seed, millis(now))),
        }
    }

    /// The state machine (`None` when the options could not work), for tests.
    pub fn machine(&self) -> Option<&SessionMachine> {
        self.machine.as_ref().ok()
    }

    /// Runs operation `op` at `now` with the numbers `n`, `m` and the strings `texts`, as the
    /// shell passes them: a JSON array of up to four strings or `null`s (`a` to `d`; absent:
    /// none). One text instead of four string parameters keeps wasm-bindgen's glue small.
    pub fn call_with_texts(
        &mut self,
        op: u32,
        now: f64,
        n: f64,
        m: f64,
        texts: Option<&str>,
    ) -> Option<String> {
        let parsed = texts.map(json::parse_from_js);
        let items: &[Value] = match &parsed {
            None => &[],
            Some(Ok(Value::Array(items))) if items.len() <= 4 => items,
            Some(_) => return Some(error_reply(&WireError::Texts.to_app_error())),
        };
        let mut text = [None; 4];
        for (slot, item) in text.iter_mut().zip(items) {
            *slot = match item {
                Value::Null => None,
                Value::String(s) => Some(s.as_str()),
                _ => return Some(error_reply(&WireError::Texts.to_app_error())),
            };
        }
        let [a, b, c, d] = text;
        self.call(op, now, RawArgs { n, m, a, b, c, d })
    }

    /// Runs operation `op` at `now` with `raw` arguments; the reply (JSON text), or `None` when
    /// the operation has nothing to say.
    pub fn call(&mut self, op: u32, now: f64, raw: RawArgs<'_>) -> Option<String> {
        Some(match (&mut self.machine, Call::decode(op, raw)) {
            (Ok(machine), Ok(call)) => return perform(machine, millis(now), call),
            (Err(e), _) => error_reply(&AppError::from(*e)),
            (_, Err(e)) => error_reply(&e.to_app_error()),
        })
    }
}

/// Carries out one call on the session.
#[inline(always)]
fn perform(m: &mut SessionMachine, now: Millis, call: Call<'_>) -> Option<String> {
    match call {
        Call::RequestToken { wait } => Some(match m.request_token(now, now.saturating_add(wait)) {
            TokenAnswer::Ready(token) => Reply::new(tag::TOKEN).text(token).finish(),
            TokenAnswer::Waiting(id) => Reply::new(tag::WAITING).number(id.0).finish(),
            TokenAnswer::Failed(e) => error_reply(&AppError::from(&e)),
        }),
        Call::Timeout => {
            m.handle_timeout(now);
            None
        }
        Call::Visibility { visible } => {
            m.handle_visibility(now, visible);
            None
        }
        Call::Network { online } => {
            m.handle_network(now, online);
            None
        }
        Call::RefreshLock { id, record } => {
            m.handle_refresh_lock(now, id, record);
            None
        }
        Call::RefreshAnswer { id, answer } => {
            match answer {
                Answer::Response(response) => m.handle_refresh_response(now, id, &response),
                Answer::None(why) => m.handle_refresh_failure(now, id, why),
            }
            None
        }
        Call::TabMessage { message } => {
            m.handle_tab_message(now, message);
            None
        }
        Call::Storage { record } => {
            m.handle_storage(now, record);
            None
        }
        Call::KeysLock { id, record } => {
            m.handle_keys_lock(now, id, record);
            None
        }
        Call::KeysAnswer { id, answer } => {
            let max_age = match &answer {
                Answer::Response(r) => r.error_type,
                Answer::None(_) => None,
            };
            m.handle_keys_answer(now, id, answer.as_result(), max_age);
            None
        }
        Call::Verified { id, ok } => {
            m.handle_verified(now, id, ok);
            None
        }
        Call::SetTokens {
            access,
            id,
            refresh,
            expires_in,
        } => {
            let grant = TokenGrant {
                access_token: String::from(access),
                id_token: id.map(String::from),
                refresh_token: refresh.map(String::from),
                expires_in,
            };
            let e = m.set_tokens(now, grant, Provenance::External).err()?;
            Some(error_reply(&AppError::from(&e)))
        }
        Call::TokenRefused { token } => Some(
            Reply::new(tag::YES)
                .flag(m.handle_token_refused(now, token))
                .finish(),
        ),
        Call::SignOut { request } => sign_out_reply(m.sign_out_at_provider(now, &request)),
        Call::SignOutAnswer { answer } => sign_out_reply(m.sign_out_answer(answer.as_result())),
        Call::PollAction => m.poll_action().map(|a| action_reply(&a)),
        Call::PollTimeout => m
            .poll_timeout()
            .map(|at| Reply::new(tag::MOMENT).number(at).finish()),
        Call::Snapshot => Some(snapshot_reply(&m.snapshot())),
        Call::Token => {
            let tokens = m.checked_tokens()?;
            let until = tokens
                .expires_at
                .saturating_sub(m.config().rules.min_validity);
            Some(
                Reply::new(tag::CACHED)
                    .number(until)
                    .text(&tokens.access_token)
                    .maybe_text(tokens.id_token.as_deref())
                    .finish(),
            )
        }
        Call::PasswordSignIn { username, password } => {
            Some(request_reply(m.password_sign_in(username, password)))
        }
        Call::SrpSignIn { username, srp_a } => Some(request_reply(m.srp_sign_in(username, srp_a))),
        Call::AnswerChallenge {
            name,
            session,
            responses,
        } => Some(request_reply(
            m.challenge_response(name, session, responses),
        )),
        Call::SignInAnswer { answer } => Some(match m.sign_in_answer(now, answer.as_result()) {
            Ok(signed_in) => sign_in_reply(&signed_in),
            Err(e) => error_reply(&e),
        }),
        Call::Authorize {
            endpoint,
            redirect_uri,
            scope,
            secrets,
        } => Some(match m.authorize(endpoint, redirect_uri, scope, secrets) {
            Ok(a) => Reply::new(tag::AUTHORIZATION)
                .text(&a.url)
                .text(&a.record)
                .finish(),
            Err(e) => error_reply(&e),
        }),
        Call::RedirectReturn { callback, record } => {
            Some(match m.redirect_return(now, &callback, record) {
                Ok(outgoing) => request_reply(Ok(outgoing)),
                Err(r) if !r.record_used => Reply::new(tag::FOREIGN).error(&r.error).finish(),
                Err(r) => error_reply(&r.error),
            })
        }
    }
}

/// Every tag with the name the JavaScript decoder gives its object and its fields' names, in
/// order: the table `wire.js` must agree with (checked through the golden vectors).
pub const SHAPES: &[(char, &str, &[&str])] = &[
    (tag::ACQUIRE_LOCK, "acquireLock", &["id"]),
    (
        tag::SEND_REFRESH,
        "sendRefresh",
        &["id", "url", "body", "headers"],
    ),
    (tag::ABORT_REFRESH, "abortRefresh", &["id"]),
    (tag::RELEASE_LOCK, "releaseLock", &["id"]),
    (
        tag::RESOLVE_WAITERS,
        "resolveWaiters",
        &["token", "waiters"],
    ),
    (tag::REJECT_WAITERS, "rejectWaiters", &["waiters", "error"]),
    (tag::PERSIST, "persist", &["record"]),
    (tag::BROADCAST, "broadcast", &["message"]),
    (tag::GO_TO_LOGIN, "goToLogin", &["reason"]),
    (tag::EMIT, "emit", &["event"]),
    (tag::TOKEN, "token", &["token"]),
    (tag::WAITING, "waiting", &["waiter"]),
    (tag::ERROR, "error", &["error"]),
    (tag::MOMENT, "moment", &["at"]),
    (tag::YES, "yes", &["yes"]),
    (tag::CACHED, "cached", &["until", "token", "idToken"]),
    (tag::SNAPSHOT, "snapshot", &["snapshot"]),
    (
        tag::REQUEST,
        "request",
        &["timeout", "url", "body", "headers"],
    ),
    (tag::SIGNED_IN, "signedIn", &["result"]),
    (tag::CHALLENGE, "challenge", &["name"]),
    (tag::AUTHORIZATION, "authorization", &["url", "record"]),
    (tag::FOREIGN, "foreign", &["error"]),
    (tag::LOGOUT, "logout", &["url"]),
    (tag::ACQUIRE_KEYS_LOCK, "acquireKeysLock", &["id"]),
    (tag::FETCH_KEYS, "fetchKeys", &["id", "url"]),
    (tag::PERSIST_KEYS, "persistKeys", &["record"]),
    (
        tag::VERIFY,
        "verify",
        &["id", "alg", "key", "input", "signature"],
    ),
];

/// The tags of [`SHAPES`], for checking that no two share a letter.
pub fn tags() -> Vec<char> {
    SHAPES.iter().map(|(t, _, _)| *t).collect()
}
