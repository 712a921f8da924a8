//! The session state machine: one signed-in session, its waiters, and its single refresh.
//!
//! [`SessionMachine`] is driven, never driving: it reads no clock and performs no I/O. A driver (the
//! browser shell, a test, a simulator) feeds it what happened through `handle_*` methods and
//! [`SessionMachine::request_token`], each taking `now`, then:
//!
//! 1. drains [`SessionMachine::poll_action`] until it returns `None`, performing each [`Action`] in
//!    order (persist before broadcast before releasing the lock matters across tabs);
//! 2. arms one timer for [`SessionMachine::poll_timeout`] and calls [`SessionMachine::handle_timeout`] when it
//!    fires. Calling `handle_timeout` early or twice is harmless.
//!
//! What it guarantees (the behaviour contract, checked by `tests/simulation.rs`):
//! - however many callers wait, at most one refresh is in flight; across tabs that share a
//!   session, the refresh happens under a lock and a tab that gets the lock after another tab
//!   refreshed adopts that tab's tokens instead of refreshing again;
//! - a token is handed out only while it stays valid for `min_validity` more;
//! - every waiter is resolved or rejected with a typed [`SessionError`] by its deadline;
//! - throttling, server and network failures back off
//!   ([`BackoffPolicy`](super::backoff::BackoffPolicy): delays proportional to the time spent
//!   failing, a retry budget, `Retry-After`; a refresh nobody waits for holds back longer) and
//!   keep the refresh token; they never sign the user out;
//! - a dead refresh token clears the tokens, rejects every waiter and asks for login once;
//! - the local clock may be set back: a call that reads an earlier time than the one before
//!   re-bases every moment the machine recorded by that much (no backoff, deadline or token age
//!   waits for the clock to make up the jump) and refreshes the tokens before handing them out
//!   again; a moment adopted from storage or another tab holds refreshes back no longer than
//!   the policy's window ([`RetryBook::longest_hold`]).

use super::classify::{self, FailureKind, ProviderError};
pub use super::config::Config;
pub use super::error::SessionError;
use super::http::{HttpRequest, HttpResponse};
use super::protocol::TokenGrant;
use super::retry::RetryBook;
use super::rng::Rng;
use super::tabs::TabMessage;
use super::tokens::{Provenance, StorageError, Stored, TokenError, TokenSet};
use super::verify::{Alg, Check, KeyBook, Need, VerifyError};
use super::Millis;
use alloc::collections::VecDeque;

/// How long after the network comes back a refresh nobody waits for may be put off, at most
/// (uniformly drawn): a network that returns for a whole office or city at once must not bring
/// every device's refresh in the same second.
pub const BACK_ONLINE_SPREAD: Millis = 5_000;
use alloc::{string::String, vec::Vec};

/// Identifies one caller waiting for a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WaiterId(pub u64);

/// Identifies one refresh attempt, from taking the lock to its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RefreshId(pub u64);

/// The answer to [`SessionMachine::request_token`].
#[derive(Debug, PartialEq, Eq)]
pub enum TokenAnswer<'a> {
    /// A valid access token, right now.
    Ready(&'a str),
    /// The caller waits: a later [`Action::ResolveWaiters`] or [`Action::RejectWaiters`] names it.
    Waiting(WaiterId),
    /// No token can come: the caller gets this error now.
    Failed(SessionError),
}

/// A token the API refused younger than this was refused for another reason than its age (the
/// default [`RefusalPolicy`](super::backoff::RefusalPolicy)'s `base`: later forced refreshes
/// need older tokens).
pub const REFUSED_TOKEN_MIN_AGE: Millis = 30_000;

/// Why the session asks for the login page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginReason {
    /// The provider declared the refresh token dead (`code`: e.g. `NotAuthorizedException`).
    RefreshTokenDead { code: String },
    /// The access token expired and there is no refresh token to renew it.
    NoRefreshToken,
    /// Another tab's session expired.
    ExpiredElsewhere,
}

/// What the app is told (the shell turns these into JavaScript events).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    SignedIn {
        expires_at: Millis,
    },
    Refreshed {
        expires_at: Millis,
    },
    /// A refresh was throttled; the next attempt goes no earlier than `retry_at`.
    Throttled {
        retry_at: Millis,
    },
    /// A refresh failed for another transient reason; next attempt no earlier than `retry_at`.
    RetryScheduled {
        retry_at: Millis,
    },
    Expired {
        reason: LoginReason,
    },
    SignedOut,
    /// A stored record could not be read and was discarded.
    StorageDiscarded {
        error: StorageError,
    },
    /// Tokens from storage, another tab or the app failed their signature check: they are not
    /// handed out, and the refresh token (if any) gets new ones.
    TokenRejected {
        error: VerifyError,
    },
    /// Storage holds a record this code must not touch (a newer version's,
    /// [`StorageError::NewerVersion`]): it is left alone and the session is kept in memory until
    /// storage holds a record this code reads, or none.
    StorageUnavailable {
        error: StorageError,
    },
}

/// Something the driver must do, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Take the cross-tab refresh lock, then call [`SessionMachine::handle_refresh_lock`] with what
    /// storage holds at that moment. Drivers without tabs grant it at once.
    AcquireRefreshLock { id: RefreshId },
    /// Send this request; answer with [`SessionMachine::handle_refresh_response`] or
    /// [`SessionMachine::handle_refresh_failure`].
    SendRefresh { id: RefreshId, request: HttpRequest },
    /// Stop waiting for this request (its answer would be ignored anyway).
    AbortRefresh { id: RefreshId },
    /// Release (or stop waiting for) the cross-tab lock `id` (the refresh lock or the key-set
    /// lock).
    ReleaseRefreshLock { id: RefreshId },
    /// Take the cross-tab key-set lock, then call [`SessionMachine::handle_keys_lock`] with the
    /// key-set record storage holds at that moment.
    AcquireKeysLock { id: RefreshId },
    /// GET `url` (the key set or the discovery document naming it); answer with
    /// [`SessionMachine::handle_keys_answer`]. [`Action::AbortRefresh`] with `id` stops it.
    FetchKeys { id: RefreshId, url: String },
    /// Write the key-set record to its storage.
    PersistKeys { record: String },
    /// Verify `signature` (base64url) over `input` with `key` (a public JWK) by `alg`; answer
    /// with [`SessionMachine::handle_verified`].
    Verify {
        id: RefreshId,
        alg: Alg,
        key: String,
        input: String,
        signature: String,
    },
    /// Hand these waiters this access token.
    ResolveWaiters {
        waiters: Vec<WaiterId>,
        access_token: String,
    },
    /// Fail these waiters with this error.
    RejectWaiters {
        waiters: Vec<WaiterId>,
        error: SessionError,
    },
    /// Write this record to storage (`None`: remove it).
    Persist { record: Option<String> },
    /// Send this message to the other tabs of the session ([`SessionMachine::handle_tab_message`]).
    Broadcast { message: String },
    /// Send the browser to the login page. Emitted at most once per sign-in.
    GoToLogin { reason: LoginReason },
    /// Tell the app.
    Emit { event: Event },
}

/// A summary of the session for UIs (`getSnapshot`); equal snapshots mean nothing changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    pub signed_in: bool,
    pub expires_at: Option<Millis>,
    pub refreshing: bool,
    /// Set while refreshes are backing off.
    pub retry_at: Option<Millis>,
    /// Set once a dead refresh token ended the session, until the next sign-in.
    pub expired: bool,
    /// Whether token signatures are checked.
    pub verify_tokens: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Flight {
    Idle,
    Locking {
        id: RefreshId,
        deadline: Millis,
    },
    Sending {
        id: RefreshId,
        deadline: Millis,
        refresh_token: String,
    },
    /// The answer's tokens are being checked (under the lock, not yet stored or shared).
    Verifying {
        id: RefreshId,
        deadline: Millis,
        tokens: TokenSet,
    },
}

/// Fetching the key set: the lock, then the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeysFlight {
    Idle,
    Locking { id: RefreshId, deadline: Millis },
    Fetching { id: RefreshId, deadline: Millis },
}

/// What checking a token set needs next.
enum Step {
    Nothing,
    Passed,
    Failed(VerifyError),
    Verify(Vec<Check>),
    /// `true`: for a key the set lacks.
    Fetch(bool),
    /// A refresh answer whose key set cannot be fetched yet (a backoff, or offline): it is
    /// installed unchecked and its lock released, rather than held until the answer times out.
    Park,
}

#[derive(Debug, Clone, Copy)]
struct Waiter {
    id: WaiterId,
    deadline: Millis,
}

/// One session's state machine. See the module documentation for how to drive it.
#[derive(Debug)]
pub struct SessionMachine {
    config: Config,
    rng: Rng,
    retry: RetryBook,
    tokens: Option<TokenSet>,
    /// The proactive refresh moment of the current tokens.
    refresh_at: Millis,
    /// When the current tokens were installed (a refusal of a younger token is not about age).
    installed_at: Millis,
    /// Refreshes in a row that an API's refusals forced, shared with the other tabs through the
    /// storage record (whose reader holds it to
    /// [`FORCED_COUNTED`](super::backoff::FORCED_COUNTED)).
    forced: u32,
    /// How old the current tokens must be before a refusal forces a refresh: drawn at their
    /// first refusal ([`RefusalPolicy::min_age`](super::backoff::RefusalPolicy::min_age)); 0
    /// until then.
    refused_age: Millis,
    /// The latest `now` any call brought: a call with an earlier one finds the clock set back
    /// ([`SessionMachine::observe_clock`]).
    latest_now: Millis,
    /// The storage record this session last wrote: reading it back finds nothing new.
    written: Option<String>,
    /// Storage holds a newer version's record: nothing is written until it is gone.
    storage_held: bool,
    visible: bool,
    /// The browser says it has no network (`navigator.onLine` false): no refresh starts, and a
    /// refresh that fails for want of a network is no failure of the provider's.
    offline: bool,
    /// After the network came back, a refresh nobody waits for holds back until this moment
    /// (up to [`BACK_ONLINE_SPREAD`] later): devices that come back together do not refresh
    /// together.
    online_gate: Millis,
    flight: Flight,
    waiters: Vec<Waiter>,
    next_id: u64,
    expired: bool,
    login_requested: bool,
    /// The redirect sign-in whose code exchange is under way: its answer is checked against it
    /// ([`super::sign_in`]).
    pub(super) exchanging: Option<super::redirect::Pending>,
    /// The sign-out at the provider under way ([`super::sign_out`]).
    pub(super) signing_out: Option<super::sign_out::SigningOut>,
    /// The key set that checks signatures; `None`: they are not checked.
    keys: Option<KeyBook>,
    keys_flight: KeysFlight,
    /// Whether the current tokens passed their signature check (always, unchecked).
    checked: bool,
    /// The signature checks under way: their id and how many are unanswered.
    verifying: Option<(RefreshId, usize)>,
    actions: VecDeque<Action>,
}

impl SessionMachine {
    /// A signed-out session. `seed` fixes its jitter (the shell draws it from WebCrypto).
    pub fn new(mut config: Config, seed: u64, now: Millis) -> SessionMachine {
        SessionMachine {
            retry: RetryBook::new(&config.backoff, config.budget, now),
            keys: config.keys.take(),
            config,
            rng: Rng::new(seed),
            tokens: None,
            refresh_at: 0,
            installed_at: 0,
            forced: 0,
            refused_age: 0,
            latest_now: now,
            written: None,
            storage_held: false,
            visible: true,
            offline: false,
            online_gate: 0,
            flight: Flight::Idle,
            waiters: Vec::new(),
            next_id: 0,
            expired: false,
            login_requested: false,
            exchanging: None,
            signing_out: None,
            keys_flight: KeysFlight::Idle,
            checked: true,
            verifying: None,
            actions: VecDeque::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The current tokens, valid or not.
    pub fn tokens(&self) -> Option<&TokenSet> {
        self.tokens.as_ref()
    }

    /// The current tokens if they passed their signature check (or none is made): the ones a
    /// driver may cache and hand out while they are valid.
    pub fn checked_tokens(&self) -> Option<&TokenSet> {
        self.tokens.as_ref().filter(|_| self.checked)
    }

    /// The key set held, when signatures are checked.
    pub fn keys(&self) -> Option<&KeyBook> {
        self.keys.as_ref()
    }

    /// The access token if it may be handed out at `now`.
    pub fn access_token(&self, now: Millis) -> Option<&str> {
        self.usable(now).map(|t| t.access_token.as_str())
    }

    /// The ID token if the token set may be handed out at `now`.
    pub fn id_token(&self, now: Millis) -> Option<&str> {
        self.usable(now).and_then(|t| t.id_token.as_deref())
    }

    /// A summary for UIs.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            signed_in: self.tokens.is_some(),
            expires_at: self.tokens.as_ref().map(|t| t.expires_at),
            refreshing: !matches!(self.flight, Flight::Idle),
            retry_at: self.retry.retry_at(),
            expired: self.expired,
            verify_tokens: self.keys.is_some(),
        }
    }

    /// The next action to perform, in order.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When [`SessionMachine::handle_timeout`] must next be called, if ever.
    pub fn poll_timeout(&self) -> Option<Millis> {
        let waiters = self.waiters.iter().map(|w| w.deadline).min();
        let flight = match &self.flight {
            Flight::Idle => None,
            Flight::Locking { deadline, .. }
            | Flight::Sending { deadline, .. }
            | Flight::Verifying { deadline, .. } => Some(*deadline),
        };
        let keys = match self.keys_flight {
            KeysFlight::Idle => None,
            KeysFlight::Locking { deadline, .. } | KeysFlight::Fetching { deadline, .. } => {
                Some(deadline)
            }
        };
        // Tokens waiting for a key set while fetches back off: checked again when that ends.
        let keys_wait = (self.holds_unchecked(self.latest_now)
            && self.verifying.is_none()
            && self.keys_flight == KeysFlight::Idle)
            .then(|| self.retry.not_before())
            .filter(|at| *at > self.latest_now);
        let refresh = match (
            &self.flight,
            self.may_refresh(self.latest_now) && !self.offline,
        ) {
            (Flight::Idle, true) if !self.waiters.is_empty() => Some(self.retry.not_before()),
            (Flight::Idle, true) if self.visible => Some(
                self.refresh_at
                    .max(self.retry.not_before())
                    .max(self.retry.idle_gate())
                    .max(self.online_gate),
            ),
            _ => None,
        };
        [waiters, flight, refresh, keys, keys_wait]
            .into_iter()
            .flatten()
            .min()
    }

    /// A caller needs an access token by `deadline`.
    pub fn request_token(&mut self, now: Millis, deadline: Millis) -> TokenAnswer<'_> {
        self.observe_clock(now);
        if self.usable(now).is_some() {
            return match self.usable(now) {
                Some(tokens) => TokenAnswer::Ready(&tokens.access_token),
                None => TokenAnswer::Failed(SessionError::NotSignedIn),
            };
        }
        let Some(tokens) = &self.tokens else {
            return TokenAnswer::Failed(if self.expired {
                SessionError::SessionExpired
            } else {
                SessionError::NotSignedIn
            });
        };
        if tokens.refresh_token.is_none() && !self.holds_unchecked(now) {
            self.expire(LoginReason::NoRefreshToken, true);
            return TokenAnswer::Failed(SessionError::SessionExpired);
        }
        let id = WaiterId(self.take_id());
        self.waiters.push(Waiter { id, deadline });
        self.settle(now);
        TokenAnswer::Waiting(id)
    }

    /// Timers fired (or the driver woke for any reason).
    pub fn handle_timeout(&mut self, now: Millis) {
        self.observe_clock(now);
        match &self.flight {
            Flight::Locking { id, deadline } if *deadline <= now => {
                let id = *id;
                self.on_failure(
                    now,
                    id,
                    classify::network_error("timed out waiting for the refresh lock"),
                );
            }
            Flight::Sending { id, deadline, .. } if *deadline <= now => {
                let id = *id;
                self.actions.push_back(Action::AbortRefresh { id });
                self.on_failure(
                    now,
                    id,
                    classify::network_error("refresh request timed out"),
                );
            }
            Flight::Verifying { id, deadline, .. } if *deadline <= now => {
                let id = *id;
                self.verifying = None;
                self.park_answer(now);
                self.on_failure(now, id, classify::network_error("timed out"));
            }
            _ => {}
        }
        match self.keys_flight {
            KeysFlight::Locking { id, deadline } | KeysFlight::Fetching { id, deadline }
                if deadline <= now =>
            {
                self.actions.push_back(Action::AbortRefresh { id });
                self.keys_failed(now, id, classify::network_error("timed out"));
            }
            _ => {}
        }
        self.settle(now);
    }

    /// The tab became visible or hidden. Hidden tabs refresh only when a caller needs a token.
    pub fn handle_visibility(&mut self, now: Millis, visible: bool) {
        self.observe_clock(now);
        self.visible = visible;
        self.settle(now);
    }

    /// The browser's network went away (`online` false: `navigator.onLine` is false, the
    /// `offline` event) or came back. While it is away no refresh and no key-set request is sent
    /// (a lock granted after it went is released unused) and none of the retry budget is spent;
    /// callers wait until their deadline and are then told `UNAVAILABLE`. When it comes back, a
    /// caller waiting gets its refresh at once; a refresh nobody waits for is spread over
    /// [`BACK_ONLINE_SPREAD`].
    pub fn handle_network(&mut self, now: Millis, online: bool) {
        self.observe_clock(now);
        if online && self.offline {
            self.online_gate = now.saturating_add(self.rng.up_to(BACK_ONLINE_SPREAD));
        }
        self.offline = !online;
        self.settle(now);
    }

    /// The cross-tab lock for refresh `id` is held; `record` is what storage holds now.
    pub fn handle_refresh_lock(&mut self, now: Millis, id: RefreshId, record: Option<&str>) {
        self.observe_clock(now);
        if !matches!(self.flight, Flight::Locking { id: current, .. } if current == id) {
            self.actions.push_back(Action::ReleaseRefreshLock { id });
            return;
        }
        // Another tab may have refreshed, rotated, backed off or signed out while we waited.
        self.absorb_record(now, record, true);
        let fresh = self
            .tokens
            .as_ref()
            .is_some_and(|t| t.usable_at(now, &self.config.rules));
        let still_needed = self.can_refresh()
            && !self.offline
            && now >= self.retry.not_before()
            && (!fresh || (now >= self.refresh_at && !self.waiters_waiting()));
        let refresh_token = self.tokens.as_ref().and_then(|t| t.refresh_token.clone());
        match refresh_token {
            Some(refresh_token) if still_needed && !matches!(self.flight, Flight::Idle) => {
                let request = self.config.provider.refresh_request(&refresh_token);
                self.flight = Flight::Sending {
                    id,
                    deadline: now.saturating_add(self.config.request_timeout),
                    refresh_token,
                };
                self.actions.push_back(Action::SendRefresh { id, request });
            }
            _ => {
                self.flight = Flight::Idle;
                self.actions.push_back(Action::ReleaseRefreshLock { id });
            }
        }
        self.settle(now);
    }

    /// The provider answered refresh `id`.
    pub fn handle_refresh_response(
        &mut self,
        now: Millis,
        id: RefreshId,
        response: &HttpResponse<'_>,
    ) {
        self.observe_clock(now);
        let Flight::Sending {
            id: current,
            refresh_token,
            ..
        } = &self.flight
        else {
            return;
        };
        if *current != id {
            return;
        }
        let used = refresh_token.clone();
        let deadline = now.saturating_add(self.config.request_timeout);
        let parsed = self
            .config
            .provider
            .parse_refresh(response)
            .and_then(|grant| {
                TokenSet::from_grant(
                    now,
                    grant,
                    Some(used),
                    Provenance::Fresh,
                    &self.config.rules,
                )
                .map_err(|e| classify::bad_response("UnusableTokens", &token_error_text(&e)))
            });
        match parsed {
            // Checked before anyone gets them (see `check`).
            Ok(tokens) if self.keys.is_some() => {
                self.flight = Flight::Verifying {
                    id,
                    deadline,
                    tokens,
                }
            }
            Ok(tokens) => self.on_refreshed(now, id, tokens),
            Err(error) => self.on_failure(now, id, error),
        }
        self.settle(now);
    }

    /// The key-set lock `id` is held; `record` is the key-set record storage holds now.
    pub fn handle_keys_lock(&mut self, now: Millis, id: RefreshId, record: Option<&str>) {
        self.observe_clock(now);
        let (KeysFlight::Locking { id: current, .. }, Some(book)) =
            (self.keys_flight, self.keys.as_mut())
        else {
            self.actions.push_back(Action::ReleaseRefreshLock { id });
            return;
        };
        if current != id {
            self.actions.push_back(Action::ReleaseRefreshLock { id });
            return;
        }
        // Another tab fetched while we waited: use its set (checking again decides whether it
        // has what we need, or fetches once more).
        if record.is_some_and(|r| book.adopt(now, r)) {
            self.keys_flight = KeysFlight::Idle;
            self.actions.push_back(Action::ReleaseRefreshLock { id });
        } else {
            self.fetch_keys_now(now, id);
        }
        self.settle(now);
    }

    /// The answer to key-set fetch `id` (`Err`: none came, and why; [`KEYS_NOT_CORS`] when the
    /// URL answers but not to this origin). `max_age` is its `Cache-Control: max-age`.
    pub fn handle_keys_answer(
        &mut self,
        now: Millis,
        id: RefreshId,
        answer: Result<&HttpResponse<'_>, &str>,
        max_age: Option<&str>,
    ) {
        self.observe_clock(now);
        let (KeysFlight::Fetching { id: current, .. }, Some(book)) =
            (self.keys_flight, self.keys.as_mut())
        else {
            return;
        };
        if current != id {
            return;
        }
        let error = match answer {
            Ok(r) if r.status == 200 && book.url.is_empty() => {
                if book.take_discovery(r.body) {
                    self.fetch_keys_now(now, id);
                    return;
                }
                classify::bad_response("BadKeySet", "")
            }
            Ok(r) if r.status == 200 => {
                let age = max_age.and_then(super::text::parse_u64);
                if book.take(now, r.body, age) {
                    let record = book.record();
                    self.keys_flight = KeysFlight::Idle;
                    self.actions.push_back(Action::PersistKeys { record });
                    self.actions.push_back(Action::ReleaseRefreshLock { id });
                    self.settle(now);
                    return;
                }
                classify::bad_response("BadKeySet", "")
            }
            Ok(r) => {
                // Throttling and server failures are retried; any other refusal (403, 404) is
                // the app's configuration.
                let mut e = classify::cognito_error(r);
                if !matches!(e.kind, FailureKind::Throttled | FailureKind::ServerError) {
                    e.kind = FailureKind::CallerBug;
                    e.message = String::from(book.fetch_url());
                }
                e
            }
            Err(KEYS_NOT_CORS) => {
                let mut e = classify::bad_response("KeySetNotCors", "");
                e.kind = FailureKind::CallerBug;
                e.message = String::from(book.fetch_url());
                e
            }
            Err(why) => classify::network_error(why),
        };
        self.keys_failed(now, id, error);
        self.settle(now);
    }

    /// The signature check `id` answered: `ok` when the signature matches.
    pub fn handle_verified(&mut self, now: Millis, id: RefreshId, ok: bool) {
        self.observe_clock(now);
        let Some((current, left)) = &mut self.verifying else {
            return;
        };
        if *current != id {
            return;
        }
        *left = left.saturating_sub(1);
        if !ok {
            self.verifying = None;
            self.rejected(now, VerifyError::Signature);
        } else if *left == 0 {
            self.verifying = None;
            self.passed(now);
        }
        self.settle(now);
    }

    /// Refresh `id` failed without an answer (network error, CORS, aborted).
    pub fn handle_refresh_failure(&mut self, now: Millis, id: RefreshId, message: &str) {
        self.observe_clock(now);
        if matches!(&self.flight, Flight::Sending { id: current, .. } if *current == id) {
            self.on_failure(now, id, classify::network_error(message));
            self.settle(now);
        }
    }

    /// Another tab sent `message` (from its [`Action::Broadcast`]).
    pub fn handle_tab_message(&mut self, now: Millis, message: &str) {
        self.observe_clock(now);
        match TabMessage::decode(message) {
            Some(TabMessage::Record(record)) => self.absorb_record(now, Some(record), false),
            Some(TabMessage::RetryLater { retry, kind }) => {
                self.retry.adopt_broadcast(now, retry, kind)
            }
            Some(TabMessage::SignedOut) => self.clear_signed_out(false),
            Some(TabMessage::Expired) => self.expire(LoginReason::ExpiredElsewhere, false),
            // A message we cannot read: nothing to learn.
            None => {}
        }
        self.settle(now);
    }

    /// Storage changed under us (another tab wrote or removed the record), or is read at start.
    pub fn handle_storage(&mut self, now: Millis, record: Option<&str>) {
        self.observe_clock(now);
        self.absorb_record(now, record, false);
        self.settle(now);
    }

    /// The app signed in (or handed in tokens obtained elsewhere).
    pub fn set_tokens(
        &mut self,
        now: Millis,
        grant: TokenGrant,
        provenance: Provenance,
    ) -> Result<(), SessionError> {
        self.observe_clock(now);
        let tokens = TokenSet::from_grant(now, grant, None, provenance, &self.config.rules)
            .map_err(|e| match provenance {
                Provenance::Fresh => SessionError::BadResponse {
                    detail: token_error_text(&e),
                },
                Provenance::External => SessionError::BadConfig {
                    detail: token_error_text(&e),
                },
            })?;
        self.cancel_flight();
        self.expired = false;
        self.login_requested = false;
        self.retry.clear();
        self.forced = 0;
        let expires_at = tokens.expires_at;
        self.install(now, tokens);
        self.publish();
        self.actions.push_back(Action::Emit {
            event: Event::SignedIn { expires_at },
        });
        self.settle(now);
        Ok(())
    }

    /// An API answered HTTP 401 to a request that carried `access_token`. Returns whether
    /// replaying the request once with the token [`SessionMachine::request_token`] gives next can help.
    ///
    /// A refusal of an older token than the current one: yes, replay with the current one. A
    /// refusal of the current token once it is old enough: it is no longer handed out (here or
    /// in other tabs), the refresh token is kept, and the next caller waits for a refresh. Old
    /// enough is [`REFUSED_TOKEN_MIN_AGE`] for the first refresh forced this way and older for
    /// every next one in a row, up to 10–20 minutes
    /// ([`RefusalPolicy`](super::backoff::RefusalPolicy)). A refusal of a younger token is not
    /// about its age (wrong audience, missing permission), or refreshing did not help the last
    /// times: no, nothing is sent and the app gets its 401, so an API that refuses every token
    /// drives at most 6 refreshes an hour once the ladder is climbed (half an hour in at the
    /// latest), not one per request or per 30 s.
    ///
    /// The count of refreshes forced in a row goes with the storage record to the other tabs, so
    /// they climb one ladder; a refusal of a token already withdrawn (by an earlier refusal, or
    /// the clock set back) adds nothing to it. It starts again at sign-in, sign-out and expiry,
    /// and nowhere else: the engine hears of refusals, never of a token the API accepted, so no
    /// refresh proves the API healthy again (a token that lived its hour unrefused may only mean
    /// the app made no call), and starting again at every refresh not forced would let an app
    /// that calls in bursts climb the ladder again after every quiet hour (5 refreshes in its
    /// first 8 to 16 minutes). A high count delays only refusals of young tokens: a token older
    /// than the cap (20 min) is refreshed at its first refusal.
    pub fn handle_token_refused(&mut self, now: Millis, access_token: &str) -> bool {
        self.observe_clock(now);
        let Some(tokens) = &mut self.tokens else {
            return false;
        };
        if tokens.access_token != access_token {
            return true;
        }
        let forced = self.forced;
        if self.refused_age == 0 {
            self.refused_age = self.config.refusal.min_age(forced, &mut self.rng);
        }
        if now < self.installed_at.saturating_add(self.refused_age)
            || tokens.refresh_token.is_none()
        {
            return false;
        }
        if tokens.usable_at(now, &self.config.rules) {
            self.forced = forced.saturating_add(1);
        }
        tokens.expires_at = tokens.expires_at.min(now);
        self.refresh_at = now;
        self.publish();
        self.settle(now);
        true
    }

    /// The app signed out.
    pub fn sign_out(&mut self, now: Millis) {
        self.observe_clock(now);
        self.clear_signed_out(true);
        self.settle(now);
    }

    // ----- internals -----

    /// Notes the local clock's reading, first thing in every call that brings one. A reading
    /// earlier than the latest one seen means the clock was set back (by hand, by a time sync,
    /// a restored snapshot): see [`SessionMachine::clock_set_back`].
    fn observe_clock(&mut self, now: Millis) {
        let back = self.latest_now.saturating_sub(now);
        self.latest_now = now;
        if back > 0 {
            self.clock_set_back(now, back);
        }
    }

    /// The clock was found set back by `back`: at least that much, since how long passed between
    /// the last reading and the jump cannot be known. Every moment this session recorded on the
    /// old clock moves back by `back`, so each wait keeps what was left of it at the last
    /// reading and each age what it had reached, instead of everything waiting for the clock to
    /// make up the jump:
    /// - the retry books ([`RetryBook::clock_set_back`]): the shared not-before moment, the idle
    ///   hold, the streak's start, the budget's refill moment; callers are not told to come back
    ///   in hours;
    /// - when the tokens were installed, so a 401 on a token that was old enough before the jump
    ///   is still about its age ([`SessionMachine::handle_token_refused`]), and the proactive
    ///   refresh moment;
    /// - the deadlines of the waiters and of the refresh under way: a caller is answered when it
    ///   expects to be, not hours later (a refresh answer whose signatures are being checked is
    ///   distrusted as the tokens are);
    /// - the tokens' expiry, and then some: moved back by `back`, the expiry is still later than
    ///   the real one by however long passed unseen between the last reading and the jump (a
    ///   hidden tab may not have been called for an hour). A token that can be refreshed is
    ///   therefore no longer handed out: the next caller, or a visible tab at once, refreshes,
    ///   and the new token is timed from its arrival on the clock as it reads now. That costs
    ///   one refresh per jump back and never hands out a token past its expiry. Without a
    ///   refresh token that would end the session, so its expiry only moves back (and a 401 from
    ///   the API is the backstop).
    ///
    /// Nothing is written to storage here: the call under way may go on to read storage (a lock
    /// grant), where our own record must still read as ours. Other tabs on this clock find the
    /// jump on their next call; a record this tab reads later with the same token cannot revive
    /// it ([`SessionMachine::absorb_record`]); the refresh writes the new tokens.
    fn clock_set_back(&mut self, now: Millis, back: Millis) {
        self.retry.clock_set_back(back);
        self.installed_at = self.installed_at.saturating_sub(back);
        self.refresh_at = self.refresh_at.saturating_sub(back);
        for waiter in &mut self.waiters {
            waiter.deadline = waiter.deadline.saturating_sub(back);
        }
        match &mut self.flight {
            Flight::Idle => {}
            Flight::Locking { deadline, .. } | Flight::Sending { deadline, .. } => {
                *deadline = deadline.saturating_sub(back);
            }
            // A refresh answer being checked was timed on the old clock: distrusted like the
            // current tokens (below), it is refreshed again once it passes.
            Flight::Verifying {
                deadline, tokens, ..
            } => {
                *deadline = deadline.saturating_sub(back);
                tokens.expires_at = tokens.expires_at.saturating_sub(back).min(now);
            }
        }
        match &mut self.keys_flight {
            KeysFlight::Idle => {}
            KeysFlight::Locking { deadline, .. } | KeysFlight::Fetching { deadline, .. } => {
                *deadline = deadline.saturating_sub(back);
            }
        }
        if let Some(keys) = &mut self.keys {
            keys.clock_set_back(back);
        }
        if let Some(tokens) = &mut self.tokens {
            tokens.expires_at = tokens.expires_at.saturating_sub(back);
        }
        self.distrust_expiry(now);
    }

    /// The tokens' expiry no longer says when they really expire (the clock was set back): if
    /// they can be refreshed they are no longer handed out, and a visible tab refreshes at once.
    fn distrust_expiry(&mut self, now: Millis) {
        let refreshable = self.can_refresh();
        if let Some(tokens) = self.tokens.as_mut().filter(|_| refreshable) {
            if tokens.expires_at > now {
                tokens.expires_at = now;
                self.refresh_at = now;
            }
        }
    }

    fn take_id(&mut self) -> u64 {
        self.next_id = self.next_id.wrapping_add(1);
        self.next_id
    }

    fn usable(&self, now: Millis) -> Option<&TokenSet> {
        self.checked_tokens()
            .filter(|t| t.usable_at(now, &self.config.rules))
    }

    /// Whether the current tokens are valid but not yet checked: they are checked, not
    /// refreshed.
    fn holds_unchecked(&self, now: Millis) -> bool {
        !self.checked
            && matches!(self.flight, Flight::Idle)
            && self
                .tokens
                .as_ref()
                .is_some_and(|t| t.usable_at(now, &self.config.rules))
    }

    /// Whether a refresh may start (a backoff aside).
    fn may_refresh(&self, now: Millis) -> bool {
        self.can_refresh() && !self.holds_unchecked(now)
    }

    fn can_refresh(&self) -> bool {
        !self.expired
            && self
                .tokens
                .as_ref()
                .is_some_and(|t| t.refresh_token.is_some())
    }

    fn waiters_waiting(&self) -> bool {
        !self.waiters.is_empty()
    }

    /// Settles what can be settled at `now` and starts a refresh if one is due.
    fn settle(&mut self, now: Millis) {
        self.check(now);
        if !self.waiters.is_empty() {
            if let Some(token) = self.usable(now).map(|t| t.access_token.clone()) {
                let waiters = self.waiters.drain(..).map(|w| w.id).collect();
                self.actions.push_back(Action::ResolveWaiters {
                    waiters,
                    access_token: token,
                });
            } else {
                // With no refresh under way, no token can come before the backoff ends (ours or
                // one another tab shared): waiters that cannot last until then fail now.
                let busy = !matches!(self.flight, Flight::Idle)
                    || self.verifying.is_some()
                    || self.keys_flight != KeysFlight::Idle;
                let earliest = if busy { now } else { self.retry.not_before() };
                self.reject_due(now, earliest);
            }
        }
        if !matches!(self.flight, Flight::Idle)
            || !self.may_refresh(now)
            || self.offline
            || now < self.retry.not_before()
        {
            return;
        }
        let wanted = !self.waiters.is_empty()
            || (self.visible
                && now >= self.refresh_at
                && now >= self.retry.idle_gate()
                && now >= self.online_gate);
        if !wanted {
            return;
        }
        let jitter = self.config.budget.refill_every;
        if let Err(held) = self.retry.try_spend(now, jitter, &mut self.rng) {
            self.reject_due(now, held);
            return;
        }
        let id = RefreshId(self.take_id());
        self.flight = Flight::Locking {
            id,
            deadline: now.saturating_add(self.config.lock_timeout),
        };
        self.actions.push_back(Action::AcquireRefreshLock { id });
    }

    /// Rejects the waiters whose deadline comes before `horizon` (the earliest moment a token
    /// could arrive): waiting longer would only make them fail later.
    fn reject_due(&mut self, now: Millis, horizon: Millis) {
        let horizon = horizon.max(now);
        let (due, keep): (Vec<Waiter>, Vec<Waiter>) = self
            .waiters
            .iter()
            .partition(|w| w.deadline <= now || (w.deadline < horizon && horizon > now));
        if due.is_empty() {
            return;
        }
        self.waiters = keep;
        let error = if self.offline {
            SessionError::Unavailable { retry_at: None }
        } else {
            self.retry.waiting_error()
        };
        self.actions.push_back(Action::RejectWaiters {
            waiters: due.into_iter().map(|w| w.id).collect(),
            error,
        });
    }

    /// Checks the signatures of the refresh answer under way, else of the current tokens while
    /// they are valid and unchecked: starts the checks, or the key-set fetch they wait for, or
    /// settles them at once (an opaque access token has no signature; an `alg` off the
    /// allow-list or a key the set lacks fails whatever the keys). A key-set fetch that fails
    /// falls back on the set held when it has the keys; without them, the tokens wait (callers
    /// are told when the fetch is retried) and nobody is signed out. A refresh answer that
    /// arrives while the fetch backs off waits installed, unchecked, with its lock released.
    fn check(&mut self, now: Millis) {
        let step = self.next_step(now);
        match step {
            Step::Nothing => {}
            Step::Park => {
                if let Some(id) = self.park_answer(now) {
                    self.actions.push_back(Action::ReleaseRefreshLock { id });
                }
            }
            Step::Passed => self.passed(now),
            Step::Failed(error) => self.rejected(now, error),
            Step::Fetch(unknown) => {
                if let Some(book) = self.keys.as_mut().filter(|_| unknown) {
                    book.refetching();
                }
                let id = RefreshId(self.take_id());
                self.keys_flight = KeysFlight::Locking {
                    id,
                    deadline: now.saturating_add(self.config.lock_timeout),
                };
                self.actions.push_back(Action::AcquireKeysLock { id });
            }
            Step::Verify(checks) => {
                let id = RefreshId(self.take_id());
                let Some(book) = &self.keys else { return };
                for c in &checks {
                    let Some(key) = book.set().find(c) else {
                        return self.rejected(now, VerifyError::UnknownKey);
                    };
                    self.actions.push_back(Action::Verify {
                        id,
                        alg: c.alg,
                        key: key.jwk.clone(),
                        input: c.input.clone(),
                        signature: c.signature.clone(),
                    });
                }
                self.verifying = Some((id, checks.len()));
            }
        }
    }

    fn next_step(&self, now: Millis) -> Step {
        let Some(book) = &self.keys else {
            return Step::Nothing;
        };
        if self.verifying.is_some() || self.keys_flight != KeysFlight::Idle {
            return Step::Nothing;
        }
        let tokens = match &self.flight {
            Flight::Verifying { tokens, .. } => tokens,
            _ if self.holds_unchecked(now) => match &self.tokens {
                Some(tokens) => tokens,
                None => return Step::Nothing,
            },
            _ => return Step::Nothing,
        };
        let mut checks = Vec::new();
        let access = Check::of(&tokens.access_token);
        // An opaque OAuth2 access token has no signature to check.
        if !(self.config.rules.allow_opaque_access && access == Err(VerifyError::Malformed)) {
            match access {
                Ok(c) => checks.push(c),
                Err(e) => return Step::Failed(e),
            }
        }
        if let Some(id_token) = &tokens.id_token {
            match Check::of(id_token) {
                Ok(c) => checks.push(c),
                Err(e) => return Step::Failed(e),
            }
        }
        if checks.is_empty() {
            return Step::Passed;
        }
        match book.need(now, &checks) {
            Need::Use | Need::Fetch { stale_ok: true, .. } if now < self.retry.not_before() => {
                Step::Verify(checks)
            }
            Need::Use => Step::Verify(checks),
            Need::Fetch { .. } if now < self.retry.not_before() || self.offline => {
                if matches!(self.flight, Flight::Verifying { .. }) {
                    Step::Park
                } else {
                    Step::Nothing
                }
            }
            Need::Fetch { unknown, .. } => Step::Fetch(unknown),
            Need::Unknown => Step::Failed(VerifyError::UnknownKey),
        }
    }

    /// Every signature checked passed.
    fn passed(&mut self, now: Millis) {
        match core::mem::replace(&mut self.flight, Flight::Idle) {
            Flight::Verifying { id, tokens, .. } => self.on_refreshed(now, id, tokens),
            other => self.flight = other,
        }
        self.checked = true;
    }

    /// A signature check failed. A refresh answer counts as a bad response (backoff, the
    /// refresh token kept, or the rotated one the answer carried); tokens from anywhere else are
    /// never handed out (an event says so): the refresh token gets new ones, or without one the
    /// session ends.
    fn rejected(&mut self, now: Millis, error: VerifyError) {
        self.verifying = None;
        if let Flight::Verifying { id, tokens, .. } = &self.flight {
            let id = *id;
            if let (Some(current), Some(rotated)) = (&mut self.tokens, &tokens.refresh_token) {
                current.refresh_token = Some(rotated.clone());
            }
            let mut detail = String::new();
            error.describe(&mut detail);
            self.on_failure(now, id, classify::bad_response("UnverifiedToken", &detail));
            return;
        }
        self.actions.push_back(Action::Emit {
            event: Event::TokenRejected { error },
        });
        let Some(tokens) = self.tokens.as_mut().filter(|t| t.refresh_token.is_some()) else {
            self.clear_signed_out(true);
            return;
        };
        tokens.expires_at = tokens.expires_at.min(now);
        self.refresh_at = now;
        self.publish();
    }

    /// Sends the key-set request `id` (its lock is held), unless the browser went offline since
    /// the fetch was decided (the lock is granted asynchronously): then the lock is released and
    /// the fetch waits for the network ([`SessionMachine::handle_network`] checks again).
    fn fetch_keys_now(&mut self, now: Millis, id: RefreshId) {
        let Some(book) = &self.keys else { return };
        if self.offline {
            self.keys_flight = KeysFlight::Idle;
            self.actions.push_back(Action::ReleaseRefreshLock { id });
            return;
        }
        self.keys_flight = KeysFlight::Fetching {
            id,
            deadline: now.saturating_add(self.config.request_timeout),
        };
        self.actions.push_back(Action::FetchKeys {
            id,
            url: String::from(book.fetch_url()),
        });
    }

    /// Key-set fetch `id` failed: it backs off under the refresh policy (shared with the other
    /// tabs, told to callers and the app as a refresh failure would be). A refresh answer
    /// waiting for the keys is kept, unchecked; a refresh still locking or on the wire goes on.
    fn keys_failed(&mut self, now: Millis, id: RefreshId, error: ProviderError) {
        self.keys_flight = KeysFlight::Idle;
        if let Some(refresh) = self.park_answer(now) {
            self.actions
                .push_back(Action::ReleaseRefreshLock { id: refresh });
        }
        self.on_failure(now, id, error);
    }

    /// Installs the tokens of a refresh answer that could not be checked yet, unchecked (never
    /// handed out until they pass), and shares them: a rotated refresh token must not be lost.
    /// Returns the refresh whose lock is still to be released.
    fn park_answer(&mut self, now: Millis) -> Option<RefreshId> {
        match core::mem::replace(&mut self.flight, Flight::Idle) {
            Flight::Verifying { id, tokens, .. } => {
                self.install(now, tokens);
                self.publish();
                Some(id)
            }
            // A refresh still locking or on the wire goes on (the key set was fetched for the
            // current tokens, which it is replacing).
            other => {
                self.flight = other;
                None
            }
        }
    }

    fn on_refreshed(&mut self, now: Millis, id: RefreshId, tokens: TokenSet) {
        self.flight = Flight::Idle;
        self.retry.succeeded(now);
        let expires_at = tokens.expires_at;
        self.install(now, tokens);
        self.publish();
        self.actions.push_back(Action::ReleaseRefreshLock { id });
        self.actions.push_back(Action::Emit {
            event: Event::Refreshed { expires_at },
        });
    }

    /// Refresh or key-set fetch `id` failed: a key-set failure leaves a refresh under way alone.
    fn on_failure(&mut self, now: Millis, id: RefreshId, error: ProviderError) {
        let ours = match &self.flight {
            Flight::Idle => false,
            Flight::Locking { id: current, .. }
            | Flight::Sending { id: current, .. }
            | Flight::Verifying { id: current, .. } => *current == id,
        };
        let used = match ours.then(|| core::mem::replace(&mut self.flight, Flight::Idle)) {
            Some(Flight::Sending { refresh_token, .. }) => Some(refresh_token),
            _ => None,
        };
        if self.offline && error.kind == FailureKind::Network {
            // The browser had said the network was gone: nothing to learn about the provider,
            // nothing to back off from. The next refresh goes when it is back.
            self.actions.push_back(Action::ReleaseRefreshLock { id });
            return;
        }
        if error.kind == FailureKind::CredentialDead {
            let current = self
                .tokens
                .as_ref()
                .and_then(|t| t.refresh_token.as_deref());
            // Only the token we sent is known dead; one adopted since may still be good.
            if used.is_some() && used.as_deref() == current {
                self.expire(LoginReason::RefreshTokenDead { code: error.code }, true);
                self.actions.push_back(Action::ReleaseRefreshLock { id });
                return;
            }
        }
        let backoff = self.config.backoff;
        let retry_at = self.retry.failed(
            now,
            error.kind,
            error.code.clone(),
            error.retry_after,
            &backoff,
            &mut self.rng,
        );
        if error.kind == FailureKind::CallerBug {
            let waiters: Vec<WaiterId> = self.waiters.drain(..).map(|w| w.id).collect();
            if !waiters.is_empty() {
                let mut detail = error.code.clone();
                detail.push_str(": ");
                detail.push_str(&error.message);
                self.actions.push_back(Action::RejectWaiters {
                    waiters,
                    error: SessionError::BadConfig { detail },
                });
            }
        }
        if let Some(record) = self.record() {
            self.persist(Some(record));
        }
        self.actions.push_back(Action::Broadcast {
            message: TabMessage::RetryLater {
                retry: self.retry.shared(),
                kind: error.kind,
            }
            .encode(),
        });
        self.actions.push_back(Action::ReleaseRefreshLock { id });
        let event = if error.kind == FailureKind::Throttled {
            Event::Throttled { retry_at }
        } else {
            Event::RetryScheduled { retry_at }
        };
        self.actions.push_back(Action::Emit { event });
        // Every caller of `on_failure` then calls `settle`, which fails the waiters that cannot
        // last until `retry_at`.
    }

    /// Ends the session because its refresh token is dead (or missing).
    fn expire(&mut self, reason: LoginReason, tell_tabs: bool) {
        self.end(true, tell_tabs.then_some(TabMessage::Expired));
        self.reject_all(SessionError::SessionExpired);
        self.actions.push_back(Action::Emit {
            event: Event::Expired {
                reason: reason.clone(),
            },
        });
        if !self.login_requested {
            self.login_requested = true;
            self.actions.push_back(Action::GoToLogin { reason });
        }
    }

    fn clear_signed_out(&mut self, tell_tabs: bool) {
        let was_signed_in = self.tokens.is_some();
        self.end(false, tell_tabs.then_some(TabMessage::SignedOut));
        self.reject_all(SessionError::NotSignedIn);
        if was_signed_in || tell_tabs {
            self.actions.push_back(Action::Emit {
                event: Event::SignedOut,
            });
        }
    }

    /// Drops the tokens, any refresh under way and the failure and refusal counts; with
    /// `tell`, removes the record and tells the other tabs.
    fn end(&mut self, expired: bool, tell: Option<TabMessage<'_>>) {
        self.cancel_flight();
        self.tokens = None;
        self.expired = expired;
        self.retry.clear();
        self.forced = 0;
        if let Some(message) = tell {
            self.persist(None);
            self.actions.push_back(Action::Broadcast {
                message: message.encode(),
            });
        }
    }

    fn reject_all(&mut self, error: SessionError) {
        if !self.waiters.is_empty() {
            let waiters = self.waiters.drain(..).map(|w| w.id).collect();
            self.actions
                .push_back(Action::RejectWaiters { waiters, error });
        }
    }

    fn cancel_flight(&mut self) {
        if matches!(self.flight, Flight::Verifying { .. }) {
            self.verifying = None;
        }
        match core::mem::replace(&mut self.flight, Flight::Idle) {
            Flight::Idle => {}
            Flight::Locking { id, .. } | Flight::Verifying { id, .. } => {
                self.actions.push_back(Action::ReleaseRefreshLock { id })
            }
            Flight::Sending { id, .. } => {
                self.actions.push_back(Action::AbortRefresh { id });
                self.actions.push_back(Action::ReleaseRefreshLock { id });
            }
        }
    }

    fn install(&mut self, now: Millis, tokens: TokenSet) {
        // Checked anew (a check under way for other tokens is forgotten).
        if !matches!(self.flight, Flight::Verifying { .. }) {
            self.verifying = None;
        }
        self.checked = self.keys.is_none();
        self.installed_at = now;
        self.refused_age = 0;
        self.refresh_at = tokens.refresh_moment(&self.config.rules, &mut self.rng);
        self.tokens = Some(tokens);
    }

    /// Persists the current tokens and tells the other tabs.
    fn publish(&mut self) {
        if let Some(record) = self.record() {
            let message = TabMessage::Record(&record).encode();
            // Storage first: a tab that hears the broadcast and takes the lock reads the record.
            self.persist(Some(record));
            self.actions.push_back(Action::Broadcast { message });
        }
    }

    /// The storage record of the current tokens, the shared retry state and the forced count.
    fn record(&self) -> Option<String> {
        self.tokens
            .as_ref()
            .map(|t| Stored::write(t, self.retry.shared(), self.forced))
    }

    /// Writes `record` to storage (`None`: removes it), remembering it so that reading our own
    /// write back (at every lock grant) costs a comparison, not a parse.
    fn persist(&mut self, record: Option<String>) {
        if self.storage_held {
            return;
        }
        self.written.clone_from(&record);
        self.actions.push_back(Action::Persist { record });
    }

    /// Takes in a storage record another tab wrote. Storage is written by the lock holder, so a
    /// record that differs from ours is newer. `None` while we hold tokens means another tab
    /// signed out. An unreadable record is discarded with an event; ours (if any) replaces it
    /// when `repair` is set (we hold the lock). A newer version's record is left alone: until
    /// it is gone this session writes nothing and is kept in memory.
    fn absorb_record(&mut self, now: Millis, record: Option<&str>, repair: bool) {
        if record.is_some() && record == self.written.as_deref() {
            return;
        }
        let read = record.map(|text| Stored::from_json(text, &self.config.rules));
        if let Some(Err(StorageError::NewerVersion)) = read {
            if !self.storage_held {
                self.storage_held = true;
                self.actions.push_back(Action::Emit {
                    event: Event::StorageUnavailable {
                        error: StorageError::NewerVersion,
                    },
                });
            }
            return;
        }
        self.storage_held = false;
        let Some(read) = read else {
            if self.tokens.is_some() && !self.expired {
                self.clear_signed_out(false);
            }
            return;
        };
        match read {
            Ok(stored) => {
                self.retry.adopt_stored(now, stored.retry);
                self.forced = stored.forced;
                let mut tokens = stored.tokens;
                // The token we hold, read back: its expiry only ever comes down here (a 401, the
                // clock set back), and a record written before must not raise it again.
                if let Some(ours) = self
                    .tokens
                    .as_ref()
                    .filter(|t| t.access_token == tokens.access_token)
                {
                    tokens.expires_at = tokens.expires_at.min(ours.expires_at);
                }
                if self.tokens.as_ref() != Some(&tokens) {
                    let was_signed_in = self.tokens.is_some();
                    let credible = tokens.expiry_credible_at(now, &self.config.rules);
                    self.expired = false;
                    self.login_requested = false;
                    self.install(now, tokens);
                    // Written before the clock went back by more than the token's age.
                    if !credible {
                        self.distrust_expiry(now);
                    }
                    if stored.retry.failures == 0 {
                        self.retry.clear();
                    }
                    let expires_at = self.tokens.as_ref().map_or(now, |t| t.expires_at);
                    let event = if was_signed_in {
                        Event::Refreshed { expires_at }
                    } else {
                        Event::SignedIn { expires_at }
                    };
                    self.actions.push_back(Action::Emit { event });
                }
            }
            Err(error) => {
                self.actions.push_back(Action::Emit {
                    event: Event::StorageDiscarded { error },
                });
                let record = if repair { self.record() } else { None };
                if repair || self.tokens.is_none() {
                    self.persist(record);
                }
            }
        }
    }
}

/// What a driver answers [`SessionMachine::handle_keys_answer`] with when the key-set URL is
/// reachable but does not allow this origin to read it (no CORS): a configuration mistake.
pub const KEYS_NOT_CORS: &str = "cors";

fn token_error_text(error: &TokenError) -> String {
    let mut text = String::new();
    error.describe(&mut text);
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::protocol::Provider;
    use crate::sim::mint::Issuer;

    const T0: Millis = 1_700_000_000_000;
    const THROTTLE: &str = r#"{"__type":"TooManyRequestsException","message":"Rate exceeded"}"#;
    const REVOKED: &str =
        r#"{"__type":"NotAuthorizedException","message":"Refresh Token has been revoked"}"#;

    /// A session signed in at `T0` with one-hour tokens, plus a record of what it asked for.
    struct Harness {
        session: SessionMachine,
        issuer: Issuer,
        storage: Option<String>,
        sent: Vec<(RefreshId, HttpRequest)>,
        resolved: Vec<WaiterId>,
        rejected: Vec<(WaiterId, SessionError)>,
        logins: Vec<LoginReason>,
        broadcasts: Vec<String>,
        locks_held: Vec<RefreshId>,
        events: Vec<Event>,
        /// The key-set record storage holds.
        keys_storage: Option<String>,
        /// Key-set requests sent: (id, URL).
        fetches: Vec<(RefreshId, String)>,
        /// Signature checks asked for: (id, the signed text).
        checks: Vec<(RefreshId, String)>,
    }

    impl Harness {
        fn signed_in() -> Harness {
            let mut h = Harness::new_tab(T0);
            let grant = h.grant(T0, None);
            h.session.set_tokens(T0, grant, Provenance::Fresh).unwrap();
            h.drain(T0, true);
            h
        }

        /// A tab opened at `now`, signed out until it reads storage or signs in.
        fn new_tab(now: Millis) -> Harness {
            let issuer = Issuer::default();
            let mut config = Config::new(Provider::Cognito {
                endpoint: "https://cognito-idp.us-east-1.amazonaws.com/".into(),
                client_id: issuer.client_id.clone(),
                rotation: false,
            });
            config.rules.client_id = Some(issuer.client_id.clone());
            Harness {
                session: SessionMachine::new(config, 42, now),
                storage: None,
                sent: vec![],
                resolved: vec![],
                rejected: vec![],
                logins: vec![],
                broadcasts: vec![],
                locks_held: vec![],
                events: vec![],
                keys_storage: None,
                fetches: vec![],
                checks: vec![],
                issuer,
            }
        }

        fn grant(&self, at: Millis, refresh: Option<&str>) -> TokenGrant {
            let iat = at / 1_000;
            TokenGrant {
                access_token: self.issuer.access_token("alice", iat, iat + 3_600, at),
                id_token: None,
                refresh_token: Some(refresh.unwrap_or("rt-1").into()),
                expires_in: Some(3_600),
            }
        }

        /// Performs every action; the refresh lock is granted at once when `grant_lock`.
        fn drain(&mut self, now: Millis, grant_lock: bool) {
            while let Some(action) = self.session.poll_action() {
                match action {
                    Action::AcquireRefreshLock { id } if grant_lock => {
                        let record = self.storage.clone();
                        self.locks_held.push(id);
                        self.session.handle_refresh_lock(now, id, record.as_deref());
                    }
                    Action::AcquireRefreshLock { .. } => {}
                    Action::SendRefresh { id, request } => self.sent.push((id, request)),
                    Action::ReleaseRefreshLock { id } => self.locks_held.retain(|l| *l != id),
                    Action::ResolveWaiters { waiters, .. } => self.resolved.extend(waiters),
                    Action::RejectWaiters { waiters, error } => self
                        .rejected
                        .extend(waiters.into_iter().map(|w| (w, error.clone()))),
                    Action::Persist { record } => self.storage = record,
                    Action::Broadcast { message } => self.broadcasts.push(message),
                    Action::GoToLogin { reason } => self.logins.push(reason),
                    Action::Emit { event } => self.events.push(event),
                    Action::AbortRefresh { .. } => {}
                    Action::AcquireKeysLock { id } if grant_lock => {
                        let record = self.keys_storage.clone();
                        self.locks_held.push(id);
                        self.session.handle_keys_lock(now, id, record.as_deref());
                    }
                    Action::AcquireKeysLock { .. } => {}
                    Action::FetchKeys { id, url } => self.fetches.push((id, url)),
                    Action::PersistKeys { record } => self.keys_storage = Some(record),
                    Action::Verify { id, input, .. } => self.checks.push((id, input)),
                }
            }
        }

        fn wait(&mut self, now: Millis, deadline: Millis) -> WaiterId {
            let answer = self.session.request_token(now, deadline);
            let TokenAnswer::Waiting(id) = answer else {
                panic!("expected to wait, got {answer:?}");
            };
            self.drain(now, true);
            id
        }

        fn answer(&mut self, now: Millis, status: u16, error_type: Option<&str>, body: &str) {
            let (id, _) = self.sent.last().cloned().expect("a refresh was sent");
            let response = HttpResponse {
                error_type,
                ..HttpResponse::new(status, body)
            };
            self.session.handle_refresh_response(now, id, &response);
            self.drain(now, true);
        }

        /// The provider throttles the last refresh, with this `Retry-After` (seconds).
        fn throttle(&mut self, now: Millis, retry_after: &str) {
            let (id, _) = self.sent.last().cloned().expect("a refresh was sent");
            let response = HttpResponse {
                error_type: Some("TooManyRequestsException"),
                retry_after: Some(retry_after),
                ..HttpResponse::new(400, THROTTLE)
            };
            self.session.handle_refresh_response(now, id, &response);
            self.drain(now, true);
        }

        fn answer_ok(&mut self, now: Millis) {
            let body = self
                .issuer
                .cognito_answer("alice", now / 1_000, 3_600, now, None);
            self.answer(now, 200, None, &body);
        }

        fn timeout(&mut self, now: Millis) {
            self.session.handle_timeout(now);
            self.drain(now, true);
        }
    }

    const EXPIRED: Millis = T0 + 3_600_000;
    const MINUTE: Millis = 60_000;
    const HOUR: Millis = 60 * MINUTE;
    const SERVER_ERROR: &str = "<html><body><h1>503 Service Unavailable</h1></body></html>";

    #[test]
    fn offline_no_refresh_is_sent_no_budget_spent_and_callers_get_unavailable_at_their_deadline() {
        let mut h = Harness::signed_in();
        let expired = T0 + 3_600_000;
        h.session.handle_network(T0 + 1, false);
        h.drain(T0 + 1, true);
        // Past the proactive moment and past expiry: nothing goes out while offline.
        assert_eq!(
            h.session.poll_timeout(),
            None,
            "no refresh timer while offline"
        );
        h.session.handle_timeout(expired);
        let w = h.wait(expired, expired + 10_000);
        assert!(h.sent.is_empty(), "a refresh went out offline");
        assert_eq!(h.session.poll_timeout(), Some(expired + 10_000));
        h.session.handle_timeout(expired + 10_000);
        h.drain(expired + 10_000, true);
        assert_eq!(
            h.rejected,
            vec![(w, SessionError::Unavailable { retry_at: None })]
        );
        assert!(h.events.iter().all(|e| !matches!(
            e,
            Event::Throttled { .. } | Event::RetryScheduled { .. } | Event::Expired { .. }
        )));
        // Back online with a caller waiting: its refresh goes at once, and succeeds.
        let back = expired + 60_000;
        h.session.handle_network(back, true);
        let w = h.wait(back, back + 10_000);
        assert_eq!(h.sent.len(), 1);
        h.answer_ok(back + 100);
        assert_eq!(h.resolved, vec![w]);
        assert_eq!(
            h.session.snapshot().retry_at,
            None,
            "no backoff was recorded"
        );
    }

    #[test]
    fn a_refresh_that_fails_for_want_of_a_network_the_browser_reported_is_not_counted() {
        let mut h = Harness::signed_in();
        let at = T0 + 3_600_000;
        let w = h.wait(at, at + 30_000);
        assert_eq!(h.sent.len(), 1);
        h.session.handle_network(at + 10, false);
        let (id, _) = h.sent[0].clone();
        h.session
            .handle_refresh_failure(at + 20, id, "fetch failed");
        h.drain(at + 20, true);
        assert!(h.locks_held.is_empty(), "the lock is released");
        assert_eq!(h.session.snapshot().retry_at, None);
        assert!(
            h.rejected.is_empty(),
            "the caller still waits for its deadline"
        );
        // The network comes back before the deadline: the caller gets its token.
        h.session.handle_network(at + 5_000, true);
        h.drain(at + 5_000, true);
        assert_eq!(h.sent.len(), 2);
        h.answer_ok(at + 5_100);
        assert_eq!(h.resolved, vec![w]);
    }

    #[test]
    fn back_online_a_refresh_nobody_waits_for_is_spread_over_a_few_seconds() {
        let mut spread = Vec::new();
        for seed in 0..200 {
            let mut h = Harness::signed_in();
            h.session.rng = Rng::new(seed);
            h.session.handle_network(T0 + 1, false);
            let back = T0 + 3_600_000;
            h.session.handle_network(back, true);
            h.drain(back, true);
            assert!(h.sent.is_empty(), "not in the second the network came back");
            let at = h.session.poll_timeout().expect("a refresh is due");
            assert!(at > back && at <= back + BACK_ONLINE_SPREAD, "{at}");
            h.session.handle_timeout(at);
            h.drain(at, true);
            assert_eq!(h.sent.len(), 1);
            spread.push(at - back);
        }
        spread.sort_unstable();
        assert!(
            spread[150] - spread[50] > BACK_ONLINE_SPREAD / 4,
            "{spread:?}"
        );
    }

    #[test]
    fn a_newer_versions_record_is_left_alone_and_the_session_kept_in_memory() {
        let mut h = Harness::new_tab(T0);
        let newer = r#"{"v":2,"tokens":"whatever a later release writes"}"#;
        h.storage = Some(newer.into());
        h.session.handle_storage(T0, Some(newer));
        h.drain(T0, true);
        assert_eq!(
            h.events,
            vec![Event::StorageUnavailable {
                error: StorageError::NewerVersion
            }]
        );
        // Signing in, refreshing and signing out all happen in memory only.
        let grant = h.grant(T0, None);
        h.session.set_tokens(T0, grant, Provenance::Fresh).unwrap();
        h.drain(T0, true);
        assert!(h.session.access_token(T0).is_some());
        let at = T0 + 3_600_000;
        h.wait(at, at + 10_000);
        h.answer_ok(at + 100);
        assert!(h.session.access_token(at + 100).is_some());
        h.session.handle_storage(at + 200, Some(newer));
        h.drain(at + 200, true);
        h.session.sign_out(at + 300);
        h.drain(at + 300, true);
        assert_eq!(
            h.storage.as_deref(),
            Some(newer),
            "the newer record was touched"
        );
        let told = h
            .events
            .iter()
            .filter(|e| matches!(e, Event::StorageUnavailable { .. }))
            .count();
        assert_eq!(told, 1, "said once");
        // Once storage holds a record this code reads (or none), it is storage again.
        h.session.handle_storage(at + 400, None);
        let grant = h.grant(at + 400, Some("rt-2"));
        h.session
            .set_tokens(at + 400, grant, Provenance::Fresh)
            .unwrap();
        h.drain(at + 400, true);
        assert!(h
            .storage
            .as_deref()
            .is_some_and(|r| r.starts_with("{\"v\":1")));
    }

    #[test]
    fn a_valid_token_is_handed_out_at_once_without_a_refresh() {
        let mut h = Harness::signed_in();
        assert!(matches!(
            h.session.request_token(T0 + 1_000, T0 + 11_000),
            TokenAnswer::Ready(_)
        ));
        h.drain(T0 + 1_000, true);
        assert!(h.sent.is_empty());
    }

    #[test]
    fn fifty_callers_with_an_expired_token_cause_one_refresh_and_all_get_its_token() {
        let mut h = Harness::signed_in();
        let waiters: Vec<WaiterId> = (0..50).map(|_| h.wait(EXPIRED, EXPIRED + 10_000)).collect();
        assert_eq!(h.sent.len(), 1);
        h.answer_ok(EXPIRED + 300);
        assert_eq!(h.resolved, waiters);
        assert!(matches!(
            h.session.request_token(EXPIRED + 400, EXPIRED + 10_000),
            TokenAnswer::Ready(_)
        ));
        assert_eq!(h.sent.len(), 1);
    }

    #[test]
    fn a_visible_session_refreshes_before_expiry_and_a_hidden_one_waits_for_a_caller() {
        let mut h = Harness::signed_in();
        let at = h
            .session
            .poll_timeout()
            .expect("a proactive refresh is scheduled");
        assert!(
            (EXPIRED - 30_000 - 600_000..EXPIRED - 30_000).contains(&at),
            "{at}"
        );
        h.session.handle_visibility(T0, false);
        assert_eq!(h.session.poll_timeout(), None);
        h.timeout(at);
        assert!(h.sent.is_empty(), "hidden tab refreshed on its own");
        h.wait(EXPIRED, EXPIRED + 5_000);
        assert_eq!(h.sent.len(), 1);
    }

    #[test]
    fn throttling_backs_off_tells_late_waiters_when_to_retry_and_never_signs_out() {
        let mut h = Harness::signed_in();
        let waiter = h.wait(EXPIRED, EXPIRED + 200);
        let mut now = EXPIRED;
        for attempt in 1..=6 {
            now += 50;
            h.answer(now, 400, Some("TooManyRequestsException:"), THROTTLE);
            assert_eq!(h.sent.len(), attempt);
            let retry_at = h.session.snapshot().retry_at.expect("backing off");
            assert!(retry_at >= now);
            h.timeout(retry_at.max(now));
            now = retry_at.max(now);
            if h.sent.len() == attempt {
                // The budget or the backoff holds the next attempt: time moves on.
                now = h.session.poll_timeout().unwrap_or(now);
                h.wait(now, now + 600_000);
                h.timeout(now);
            }
        }
        assert!(h
            .rejected
            .iter()
            .any(|(w, e)| *w == waiter && matches!(e, SessionError::Throttled { .. })));
        assert!(h.logins.is_empty());
        assert!(h
            .session
            .tokens()
            .and_then(|t| t.refresh_token.as_ref())
            .is_some());
        h.answer_ok(now + 10);
        assert!(h.session.access_token(now + 20).is_some());
        assert_eq!(h.session.snapshot().retry_at, None);
    }

    #[test]
    fn a_retry_after_from_the_provider_holds_the_next_attempt_back() {
        let mut h = Harness::signed_in();
        h.wait(EXPIRED, EXPIRED + 3_600_000);
        h.throttle(EXPIRED, "30");
        assert!(h.session.snapshot().retry_at.unwrap() >= EXPIRED + 30_000);
    }

    #[test]
    fn a_revoked_refresh_token_rejects_every_waiter_clears_storage_and_goes_to_login_once() {
        let mut h = Harness::signed_in();
        let waiters: Vec<WaiterId> = (0..5).map(|_| h.wait(EXPIRED, EXPIRED + 10_000)).collect();
        h.answer(EXPIRED + 100, 400, Some("NotAuthorizedException:"), REVOKED);
        assert_eq!(h.rejected.len(), 5);
        assert!(h
            .rejected
            .iter()
            .all(|(w, e)| waiters.contains(w) && *e == SessionError::SessionExpired));
        assert_eq!(h.logins.len(), 1);
        assert_eq!(h.storage, None);
        assert!(h.broadcasts.iter().any(|m| m == "X"));
        // Later callers fail at once; nothing is sent and login is not asked again.
        assert_eq!(
            h.session.request_token(EXPIRED + 200, EXPIRED + 10_000),
            TokenAnswer::Failed(SessionError::SessionExpired)
        );
        h.drain(EXPIRED + 200, true);
        h.timeout(EXPIRED + 3_600_000);
        assert_eq!((h.sent.len(), h.logins.len()), (1, 1));
        // Signing in again starts a new session that may ask for login again.
        let grant = h.grant(EXPIRED + 300_000, Some("rt-2"));
        h.session
            .set_tokens(EXPIRED + 300_000, grant, Provenance::Fresh)
            .unwrap();
        assert!(!h.session.snapshot().expired);
    }

    #[test]
    fn a_caller_bug_rejects_waiters_as_bad_config_without_signing_out() {
        let mut h = Harness::signed_in();
        let waiter = h.wait(EXPIRED, EXPIRED + 10_000);
        let body = r#"{"__type":"InvalidParameterException","message":"Missing required parameter REFRESH_TOKEN"}"#;
        h.answer(EXPIRED + 10, 400, None, body);
        assert!(matches!(&h.rejected[..], [(w, SessionError::BadConfig { .. })] if *w == waiter));
        assert!(h.logins.is_empty() && h.session.tokens().is_some());
    }

    #[test]
    fn waiters_are_answered_by_their_deadline_even_when_the_provider_hangs() {
        let mut h = Harness::signed_in();
        let short = h.wait(EXPIRED, EXPIRED + 1_000);
        let long = h.wait(EXPIRED, EXPIRED + 60_000);
        assert_eq!(h.session.poll_timeout(), Some(EXPIRED + 1_000));
        h.timeout(EXPIRED + 1_000);
        assert_eq!(
            h.rejected,
            vec![(short, SessionError::Unavailable { retry_at: None })]
        );
        // The request times out; the retry succeeds before the long deadline.
        h.timeout(EXPIRED + 15_000);
        let retry_at = h.session.poll_timeout().unwrap();
        h.timeout(retry_at);
        assert_eq!(h.sent.len(), 2);
        h.answer_ok(retry_at + 100);
        assert_eq!(h.resolved, vec![long]);
    }

    #[test]
    fn a_late_answer_to_an_abandoned_request_is_ignored() {
        let mut h = Harness::signed_in();
        h.wait(EXPIRED, EXPIRED + 60_000);
        let (first, _) = h.sent[0].clone();
        h.timeout(EXPIRED + 15_000);
        let body = h
            .issuer
            .cognito_answer("alice", EXPIRED / 1_000, 3_600, 9, None);
        h.session
            .handle_refresh_response(EXPIRED + 16_000, first, &HttpResponse::new(200, &body));
        h.drain(EXPIRED + 16_000, true);
        assert!(h.resolved.is_empty());
    }

    #[test]
    fn a_tab_that_gets_the_lock_after_another_tab_refreshed_adopts_its_tokens() {
        let mut a = Harness::signed_in();
        let mut b = Harness::signed_in();
        b.storage = a.storage.clone();
        // Both tabs need a token; A gets the lock first and refreshes.
        a.wait(EXPIRED, EXPIRED + 10_000);
        b.session.request_token(EXPIRED, EXPIRED + 10_000);
        b.drain(EXPIRED, false);
        a.answer_ok(EXPIRED + 200);
        // A's record is in the shared storage when B finally holds the lock.
        let lock = RefreshId(b.session.next_id);
        let shared = a.storage.clone();
        b.session
            .handle_refresh_lock(EXPIRED + 250, lock, shared.as_deref());
        b.drain(EXPIRED + 250, true);
        assert_eq!(a.sent.len(), 1);
        assert!(b.sent.is_empty(), "second tab refreshed again");
        assert_eq!(b.resolved.len(), 1);
        assert_eq!(
            b.session.access_token(EXPIRED + 300),
            a.session.access_token(EXPIRED + 300)
        );
    }

    #[test]
    fn another_tabs_backoff_and_sign_out_are_respected() {
        let mut a = Harness::signed_in();
        let mut b = Harness::signed_in();
        a.wait(EXPIRED, EXPIRED + 100_000);
        a.answer(
            EXPIRED + 10,
            400,
            Some("TooManyRequestsException"),
            THROTTLE,
        );
        let backoff = a
            .broadcasts
            .iter()
            .find(|m| m.starts_with('B'))
            .unwrap()
            .clone();
        b.session.handle_tab_message(EXPIRED + 20, &backoff);
        b.drain(EXPIRED + 20, true);
        b.session.request_token(EXPIRED + 20, EXPIRED + 100_000);
        b.drain(EXPIRED + 20, true);
        assert!(b.sent.is_empty(), "second tab ignored the shared backoff");
        b.session.handle_tab_message(EXPIRED + 30, "O");
        b.drain(EXPIRED + 30, true);
        assert!(matches!(&b.rejected[..], [(_, SessionError::NotSignedIn)]));
        assert!(b.session.tokens().is_none() && b.logins.is_empty());
    }

    #[test]
    fn a_waiter_that_cannot_outlast_another_tabs_backoff_fails_at_once() {
        let mut a = Harness::signed_in();
        let mut b = Harness::signed_in();
        a.wait(EXPIRED, EXPIRED + 100_000);
        a.throttle(EXPIRED + 10, "20");
        let backoff = a
            .broadcasts
            .iter()
            .find(|m| m.starts_with('B'))
            .unwrap()
            .clone();
        b.session.handle_tab_message(EXPIRED + 20, &backoff);
        b.drain(EXPIRED + 20, true);
        let short = b.wait(EXPIRED + 20, EXPIRED + 5_000);
        assert!(
            matches!(&b.rejected[..], [(w, SessionError::Throttled { retry_at })] if *w == short && *retry_at >= EXPIRED + 20_000)
        );
        assert!(b.sent.is_empty());
    }

    #[test]
    fn garbage_from_other_tabs_or_storage_changes_nothing_it_should_not() {
        let mut h = Harness::signed_in();
        for junk in [
            "",
            "R",
            "R{",
            "Bt",
            "Bx1,2",
            "B t1,",
            "Bt99999999999,1",
            "O extra",
            "Z",
            "é",
        ] {
            h.session.handle_tab_message(T0 + 1, junk);
        }
        h.drain(T0 + 1, true);
        assert!(h.session.access_token(T0 + 1).is_some());
        h.session.handle_storage(T0 + 2, Some("{not json"));
        h.drain(T0 + 2, true);
        assert!(
            h.session.access_token(T0 + 2).is_some(),
            "a corrupt record another tab wrote cost us our tokens"
        );
    }

    #[test]
    fn an_api_refusing_the_current_token_leads_to_one_refresh_but_a_young_token_is_not_refreshed() {
        let mut h = Harness::signed_in();
        let token = h.session.access_token(T0).unwrap().to_owned();
        // Refused right after it was issued: not about its age, no refresh, no replay.
        assert!(!h.session.handle_token_refused(T0 + 1_000, &token));
        h.drain(T0 + 1_000, true);
        assert!(h.sent.is_empty() && h.session.access_token(T0 + 1_000).is_some());
        // Refused later: no longer handed out, the refresh token is kept, one refresh follows.
        let later = T0 + REFUSED_TOKEN_MIN_AGE + 1;
        assert!(h.session.handle_token_refused(later, &token));
        h.drain(later, true);
        assert_eq!(h.session.access_token(later), None);
        let waiter = h.wait(later, later + 10_000);
        assert_eq!(h.sent.len(), 1);
        h.answer_ok(later + 100);
        assert_eq!(h.resolved, vec![waiter]);
        // The stored record agrees, so a tab taking the lock would not revive the refused token.
        assert!(h
            .session
            .access_token(later + 200)
            .is_some_and(|t| t != token));
        // A refusal of the old token now only asks for a replay with the new one.
        assert!(h.session.handle_token_refused(later + 300, &token));
        h.drain(later + 300, true);
        assert_eq!(h.sent.len(), 1);
    }

    // ----- an API that refuses every token (issue 13, item 2) -----

    /// The tabs of one browser sharing a session: one storage, broadcasts between them, the
    /// refresh lock held by one tab at a time (granted with what storage holds then), a provider
    /// that answers every refresh 100 ms after it is sent, and an app in each tab that calls an
    /// API every 5 s. The API refuses every token; the app reports each refusal and replays once
    /// when told it can help, as `session.js` does (a replay's 401 is not reported).
    struct Browser {
        tabs: Vec<SessionMachine>,
        issuer: Issuer,
        storage: Option<String>,
        lock: Option<(usize, RefreshId)>,
        queue: VecDeque<(usize, RefreshId)>,
        inbox: Vec<(usize, String)>,
        /// Refreshes under way: tab, id, when the answer comes.
        flying: Vec<(usize, RefreshId, Millis)>,
        /// Callers waiting for a token: tab, waiter, whether it is a replay.
        callers: Vec<(usize, WaiterId, bool)>,
        /// Tokens handed to first attempts at `now`, to be refused.
        refused: Vec<(usize, String)>,
        /// When each refresh was sent.
        sent: Vec<Millis>,
    }

    impl Browser {
        /// `tabs` tabs of a session signed in at `T0` in tab 0, with this refusal policy; their
        /// jitter seeds are `seed`, `seed + 1`, ...
        fn signed_in(
            tabs: usize,
            refusal: crate::engine::backoff::RefusalPolicy,
            seed: u64,
        ) -> Browser {
            let config = Harness::new_tab(T0).session.config().clone();
            let config = Config { refusal, ..config };
            let mut b = Browser {
                tabs: (0..tabs)
                    .map(|i| SessionMachine::new(config.clone(), seed + i as u64, T0))
                    .collect(),
                issuer: Issuer::default(),
                storage: None,
                lock: None,
                queue: VecDeque::new(),
                inbox: Vec::new(),
                flying: Vec::new(),
                callers: Vec::new(),
                refused: Vec::new(),
                sent: Vec::new(),
            };
            let h = Harness::new_tab(T0);
            let grant = h.grant(T0, None);
            b.tabs[0].set_tokens(T0, grant, Provenance::Fresh).unwrap();
            b.drain(T0);
            b
        }

        /// Performs every action of every tab, delivers broadcasts and grants the lock, until
        /// nothing is left to do at `now`; then the refusals of the tokens handed out.
        fn drain(&mut self, now: Millis) {
            loop {
                let mut busy = false;
                for i in 0..self.tabs.len() {
                    while let Some(action) = self.tabs[i].poll_action() {
                        busy = true;
                        match action {
                            Action::AcquireRefreshLock { id } => self.queue.push_back((i, id)),
                            Action::ReleaseRefreshLock { id } => {
                                if self.lock == Some((i, id)) {
                                    self.lock = None;
                                }
                                self.queue.retain(|q| *q != (i, id));
                            }
                            Action::SendRefresh { id, .. } => {
                                self.sent.push(now);
                                self.flying.push((i, id, now + 100));
                            }
                            Action::AbortRefresh { id } => {
                                self.flying.retain(|f| (f.0, f.1) != (i, id))
                            }
                            Action::Persist { record } => self.storage = record,
                            // These tabs check no signatures.
                            Action::AcquireKeysLock { .. }
                            | Action::FetchKeys { .. }
                            | Action::PersistKeys { .. }
                            | Action::Verify { .. } => {}
                            Action::Broadcast { message } => self.inbox.extend(
                                (0..self.tabs.len())
                                    .filter(|j| *j != i)
                                    .map(|j| (j, message.clone())),
                            ),
                            Action::ResolveWaiters {
                                waiters,
                                access_token,
                            } => {
                                for w in waiters {
                                    let at = self.callers.iter().position(|c| (c.0, c.1) == (i, w));
                                    if let Some(at) = at {
                                        if !self.callers.swap_remove(at).2 {
                                            self.refused.push((i, access_token.clone()));
                                        }
                                    }
                                }
                            }
                            Action::RejectWaiters { waiters, .. } => {
                                self.callers.retain(|c| c.0 != i || !waiters.contains(&c.1))
                            }
                            Action::GoToLogin { .. } | Action::Emit { .. } => {}
                        }
                    }
                }
                for (j, message) in core::mem::take(&mut self.inbox) {
                    busy = true;
                    self.tabs[j].handle_tab_message(now, &message);
                }
                if self.lock.is_none() {
                    if let Some((i, id)) = self.queue.pop_front() {
                        busy = true;
                        self.lock = Some((i, id));
                        let record = self.storage.clone();
                        self.tabs[i].handle_refresh_lock(now, id, record.as_deref());
                    }
                }
                if !busy {
                    match self.refused.pop() {
                        Some((i, token)) => self.refuse(now, i, &token),
                        None => return,
                    }
                }
            }
        }

        /// Tab `i`'s app asks for a token (`replay`: to replay a refused call).
        fn call(&mut self, now: Millis, i: usize, replay: bool) {
            match self.tabs[i].request_token(now, now + 10_000) {
                TokenAnswer::Ready(token) if !replay => {
                    let token = token.to_owned();
                    self.refused.push((i, token));
                }
                TokenAnswer::Waiting(w) => self.callers.push((i, w, replay)),
                _ => {}
            }
        }

        /// The API refused `token`, which tab `i` handed out.
        fn refuse(&mut self, now: Millis, i: usize, token: &str) {
            if self.tabs[i].handle_token_refused(now, token) {
                self.call(now, i, true);
            }
        }

        /// Runs until `until`: each tab's app calls every 5 s (tab `i` from `i` × 2.5 s on),
        /// timers fire when due, answers arrive.
        fn run(&mut self, until: Millis) {
            let mut calls: Vec<Millis> = (0..self.tabs.len() as u64)
                .map(|i| T0 + 5_000 + i * 2_500)
                .collect();
            let mut now = T0;
            for _ in 0..10_000_000 {
                let call = calls.iter().copied().enumerate().min_by_key(|c| c.1);
                let answer = self.flying.iter().copied().min_by_key(|f| f.2);
                let timer = (0..self.tabs.len())
                    .filter_map(|i| Some((i, self.tabs[i].poll_timeout()?.max(now))))
                    .min_by_key(|t| t.1);
                let next = [call.map(|c| c.1), answer.map(|a| a.2), timer.map(|t| t.1)]
                    .into_iter()
                    .flatten()
                    .min()
                    .unwrap();
                if next > until {
                    return;
                }
                now = next;
                if let Some((i, id, _)) = answer.filter(|a| a.2 == now) {
                    self.flying.retain(|f| (f.0, f.1) != (i, id));
                    let body = self
                        .issuer
                        .cognito_answer("alice", now / 1_000, 3_600, now, None);
                    self.tabs[i].handle_refresh_response(now, id, &HttpResponse::new(200, &body));
                } else if let Some((i, _)) = timer.filter(|t| t.1 == now) {
                    self.tabs[i].handle_timeout(now);
                } else if let Some((i, _)) = call {
                    calls[i] += 5_000;
                    self.call(now, i, false);
                }
                self.drain(now);
            }
            panic!("the run did not reach {until}");
        }

        /// Refreshes sent in the first 10 minutes, then in each hour after them.
        fn per_hour(&self, until: Millis) -> (usize, Vec<usize>) {
            let warm = T0 + 10 * MINUTE;
            let first = self.sent.iter().filter(|t| **t < warm).count();
            let hours = (0..(until - warm) / HOUR)
                .map(|h| {
                    let from = warm + h * HOUR;
                    self.sent
                        .iter()
                        .filter(|t| (from..from + HOUR).contains(*t))
                        .count()
                })
                .collect();
            (first, hours)
        }
    }

    #[test]
    fn an_api_refusing_every_token_drives_at_most_six_refreshes_an_hour_in_one_tab_or_two() {
        use crate::engine::backoff::RefusalPolicy;
        let until = T0 + 10 * MINUTE + 3 * HOUR;
        let before = RefusalPolicy {
            cap: REFUSED_TOKEN_MIN_AGE,
            ..RefusalPolicy::default()
        };
        for (tabs, seed) in [1, 2]
            .into_iter()
            .flat_map(|t| (0..8).map(move |s| (t, s * 10)))
        {
            let mut old = Browser::signed_in(tabs, before, seed);
            old.run(until);
            let (old_first, old_hours) = old.per_hour(until);
            let mut new = Browser::signed_in(tabs, RefusalPolicy::default(), seed);
            new.run(until);
            let (first, hours) = new.per_hour(until);
            let numbers = format!(
                "{tabs} tab(s), seed {seed}, refreshes in the first 10 min then per hour: \
                 {first} then {hours:?} (at a refresh per 30 s of refusals: {old_first} then \
                 {old_hours:?})"
            );
            println!("{numbers}");
            assert_eq!(hours.len(), 3, "{numbers}");
            assert!(hours.iter().all(|n| *n <= 6), "{numbers}");
            // It still refreshes: the ladder is climbed, not refreshing given up.
            assert!(first >= 4 && hours.iter().all(|n| *n >= 3), "{numbers}");
            assert!(old_hours.iter().all(|n| *n > 60), "{numbers}");
            // Every tab still holds a token and the session goes on.
            for tab in &new.tabs {
                assert!(tab.tokens().is_some() && !tab.snapshot().expired);
            }
        }
    }

    #[test]
    fn the_forced_refresh_count_is_shared_through_the_record_and_starts_again_at_sign_in() {
        let mut h = Harness::signed_in();
        let mut at = T0;
        // Five refusals, each of a token just old enough: the count climbs to 5.
        for _ in 0..5 {
            let token = h.session.access_token(at).unwrap().to_owned();
            at += 20 * MINUTE;
            assert!(h.session.handle_token_refused(at, &token));
            h.drain(at, true);
            assert!(h.session.handle_token_refused(at, &token), "a replay helps");
            h.answer_ok(at + 100);
        }
        assert_eq!(
            h.sent.len(),
            5,
            "a refusal of a withdrawn token counted again"
        );
        let record = h.storage.clone().unwrap();
        assert!(record.ends_with(",\"forced\":5}"), "{record}");
        // A tab opened now reads the count: a refusal of a 2-minute-old token forces nothing
        // there either (the sixth forced refresh in a row needs a token 8 to 16 minutes old).
        let now = at + 2 * MINUTE;
        let mut tab = Harness::new_tab(at + 200);
        tab.storage = Some(record.clone());
        tab.session.handle_storage(at + 200, Some(&record));
        tab.drain(at + 200, true);
        let token = tab.session.access_token(now).unwrap().to_owned();
        assert!(!tab.session.handle_token_refused(now, &token));
        tab.drain(now, true);
        assert!(tab.sent.is_empty() && tab.session.access_token(now).is_some());
        // A token older than the cap is refreshed at its first refusal, whatever the count.
        let old = at + 100 + 20 * MINUTE;
        let token = h.session.access_token(old).unwrap().to_owned();
        assert!(h.session.handle_token_refused(old, &token));
        h.drain(old, true);
        assert_eq!(h.sent.len(), 6);
        h.answer_ok(old + 100);
        assert!(h.storage.as_deref().unwrap().ends_with(",\"forced\":6}"));
        // Signing in again starts the count again: 30 s is old enough once more.
        let again = old + MINUTE;
        let grant = h.grant(again, Some("rt-2"));
        h.session
            .set_tokens(again, grant, Provenance::Fresh)
            .unwrap();
        h.drain(again, true);
        assert!(h.storage.as_deref().unwrap().ends_with(",\"forced\":0}"));
        let token = h.session.access_token(again).unwrap().to_owned();
        let later = again + REFUSED_TOKEN_MIN_AGE;
        assert!(h.session.handle_token_refused(later, &token));
        h.drain(later, true);
        assert_eq!(h.sent.len(), 7);
        // Signing out forgets it too.
        h.session.sign_out(later + 1);
        h.drain(later + 1, true);
        assert_eq!(h.session.forced, 0);
    }

    #[test]
    fn signing_out_rejects_waiters_and_clears_everything() {
        let mut h = Harness::signed_in();
        let waiter = h.wait(EXPIRED, EXPIRED + 10_000);
        h.session.sign_out(EXPIRED + 1);
        h.drain(EXPIRED + 1, true);
        assert_eq!(h.rejected, vec![(waiter, SessionError::NotSignedIn)]);
        assert_eq!(h.storage, None);
        assert!(h.logins.is_empty());
        assert_eq!(
            h.session.request_token(EXPIRED + 2, EXPIRED + 10_000),
            TokenAnswer::Failed(SessionError::NotSignedIn)
        );
    }

    #[test]
    fn an_expired_token_without_a_refresh_token_ends_the_session() {
        let mut h = Harness::signed_in();
        let mut grant = h.grant(T0, None);
        grant.refresh_token = None;
        h.session
            .set_tokens(T0, grant, Provenance::External)
            .unwrap();
        h.drain(T0, true);
        assert_eq!(
            h.session.request_token(EXPIRED, EXPIRED + 1),
            TokenAnswer::Failed(SessionError::SessionExpired)
        );
        h.drain(EXPIRED, true);
        assert_eq!(h.logins, vec![LoginReason::NoRefreshToken]);
    }

    // ----- the clock going back, and times adopted from storage and other tabs (issue 13) -----

    /// Times the `at` calls of a driver's timer loop until a refresh goes out or `until` passes;
    /// the moment it went out.
    fn run_until_sent(h: &mut Harness, from: Millis, until: Millis) -> Option<Millis> {
        let sent = h.sent.len();
        let mut now = from;
        while h.sent.len() == sent {
            now = h.session.poll_timeout()?.max(now);
            if now > until {
                return None;
            }
            h.timeout(now);
        }
        Some(now)
    }

    #[test]
    fn a_tab_opened_after_the_clock_went_back_is_not_held_back_by_the_stored_backoff() {
        // A tab's refresh failed at `failed_at` and its record holds refreshes back 5 minutes.
        let mut h = Harness::signed_in();
        let failed_at = EXPIRED + 3 * HOUR;
        h.wait(failed_at, failed_at + 1_000);
        h.throttle(failed_at + 100, "300");
        let record = h.storage.clone().expect("a record");
        assert!(record.contains("\"failures\":1"), "{record}");
        // The clock goes back 2 h and a new tab opens: it waits at most the policy's longest
        // hold, not 2 h 5 min.
        let now = failed_at + 200 - 2 * HOUR;
        let mut tab = Harness::new_tab(now);
        tab.storage = Some(record.clone());
        tab.session.handle_storage(now, Some(&record));
        tab.drain(now, true);
        let waiter = tab.wait(now, now + 10 * MINUTE);
        let sent_at =
            run_until_sent(&mut tab, now, now + 10 * MINUTE).expect("no refresh within 10 min");
        assert!(sent_at <= now + 5 * MINUTE, "{sent_at} vs {now}");
        tab.answer_ok(sent_at + 100);
        assert_eq!(tab.resolved, vec![waiter]);
    }

    #[test]
    fn a_tab_message_holding_refreshes_back_forever_holds_them_back_no_longer_than_the_policy() {
        let mut h = Harness::signed_in();
        h.session
            .handle_tab_message(EXPIRED, "Bt1,18446744073709551615");
        h.drain(EXPIRED, true);
        let waiter = h.wait(EXPIRED, EXPIRED + 10 * MINUTE);
        let sent_at = run_until_sent(&mut h, EXPIRED, EXPIRED + 10 * MINUTE)
            .expect("no refresh within 10 min");
        assert!(sent_at <= EXPIRED + 5 * MINUTE, "{sent_at}");
        h.answer_ok(sent_at + 100);
        assert_eq!(h.resolved, vec![waiter]);
    }

    #[test]
    fn a_stored_record_holding_refreshes_back_forever_holds_them_back_no_longer_than_the_policy() {
        let mut h = Harness::signed_in();
        // Another tab wrote this record; it is read again at every lock grant.
        let record = h.storage.clone().unwrap().replace(
            "\"notBefore\":0,\"failures\":0",
            "\"notBefore\":18446744073709551615,\"failures\":4294967295",
        );
        assert!(record.contains("18446744073709551615"));
        h.storage = Some(record.clone());
        h.session.handle_storage(EXPIRED, Some(&record));
        h.drain(EXPIRED, true);
        let waiter = h.wait(EXPIRED, EXPIRED + 10 * MINUTE);
        let sent_at = run_until_sent(&mut h, EXPIRED, EXPIRED + 10 * MINUTE)
            .expect("no refresh within 10 min");
        assert!(sent_at <= EXPIRED + 5 * MINUTE, "{sent_at}");
        h.answer_ok(sent_at + 100);
        assert_eq!(h.resolved, vec![waiter]);
    }

    #[test]
    fn a_clock_set_back_two_hours_after_a_failed_refresh_does_not_hold_callers_back_for_the_jump() {
        let mut h = Harness::signed_in();
        h.session.handle_visibility(T0, false);
        h.drain(T0, true);
        // Hours after the token expired a caller's refresh fails: the next may go within 10 s.
        let failed_at = EXPIRED + 3 * HOUR;
        h.wait(failed_at, failed_at + 1_000);
        h.answer(failed_at + 100, 503, None, SERVER_ERROR);
        let retry_at = h.session.snapshot().retry_at.expect("backing off");
        assert!(retry_at <= failed_at + 100 + 10_000, "{retry_at}");
        // The clock goes back 2 h. A caller then gets a refresh within what was left of the
        // backoff, not an error saying to come back in two hours.
        let now = failed_at + 200 - 2 * HOUR;
        let waiter = h.wait(now, now + 30_000);
        assert!(
            h.rejected.iter().all(|(w, _)| *w != waiter),
            "rejected after the jump: {:?}",
            h.rejected
        );
        let sent_at = run_until_sent(&mut h, now, now + 30_000).expect("no refresh within 30 s");
        assert!(sent_at <= now + 10_000, "{sent_at} vs {now}");
        h.answer_ok(sent_at + 100);
        assert_eq!(h.resolved, vec![waiter]);
        assert_eq!(h.session.snapshot().retry_at, None);
    }

    #[test]
    fn after_a_six_hour_jump_back_a_401_on_a_token_old_enough_by_the_new_clock_forces_a_refresh() {
        let mut h = Harness::signed_in();
        let token = h.session.access_token(T0).unwrap().to_owned();
        // Last seen when the token was 10 s old; then the clock goes back 6 h.
        h.timeout(T0 + 10_000);
        let back = T0 + 10_000 - 6 * HOUR;
        // A refusal 1 s later by the new clock: the token is 11 s old as far as anyone can
        // tell, so the refusal is not about its age.
        assert!(!h.session.handle_token_refused(back + 1_000, &token));
        h.drain(back + 1_000, true);
        // 30 s old by the new clock: a refusal now forces a refresh, and replaying helps.
        let old_enough = back + 1_000 + REFUSED_TOKEN_MIN_AGE - 10_000;
        assert!(h.session.handle_token_refused(old_enough, &token));
        h.drain(old_enough, true);
        assert_eq!(h.sent.len(), 1, "no refresh after the refusal");
        assert_eq!(h.session.access_token(old_enough), None);
        h.answer_ok(old_enough + 100);
        assert!(h
            .session
            .access_token(old_enough + 200)
            .is_some_and(|t| t != token));
    }

    #[test]
    fn after_a_six_hour_jump_back_an_expired_token_is_never_handed_out() {
        let mut h = Harness::signed_in();
        // A caller gets the token 50 minutes into its hour.
        assert!(matches!(
            h.session.request_token(T0 + 50 * MINUTE, T0 + 51 * MINUTE),
            TokenAnswer::Ready(_)
        ));
        h.drain(T0 + 50 * MINUTE, true);
        // 11 minutes later the token has expired, and the clock has been set back 6 hours.
        let now = T0 + 61 * MINUTE - 6 * HOUR;
        let answer = h.session.request_token(now, now + 10_000);
        assert!(
            matches!(answer, TokenAnswer::Waiting(_)),
            "expected a refresh, got {answer:?}"
        );
        h.drain(now, true);
        assert_eq!(h.session.access_token(now), None);
        assert_eq!(h.sent.len(), 1);
        h.answer_ok(now + 100);
        assert_eq!(h.resolved.len(), 1);
        assert!(h.session.access_token(now + 200).is_some());
    }

    #[test]
    fn a_tab_opened_after_a_jump_back_longer_than_the_token_lifetime_does_not_hand_out_its_record()
    {
        // Written at T0 for a token valid one hour; the clock then goes back 6 hours.
        let h = Harness::signed_in();
        let record = h.storage.clone().unwrap();
        let now = T0 + 50 * MINUTE - 6 * HOUR;
        let mut tab = Harness::new_tab(now);
        tab.storage = Some(record.clone());
        tab.session.handle_storage(now, Some(&record));
        tab.drain(now, true);
        assert!(tab.session.tokens().is_some(), "the session is resumed");
        assert_eq!(tab.session.access_token(now), None);
        tab.wait(now, now + 10_000);
        assert_eq!(tab.sent.len(), 1);
    }

    #[test]
    fn after_a_jump_back_another_tabs_older_record_of_the_same_token_does_not_revive_it() {
        // Tab B resumed the session from tab A's record and handed the token out late in its
        // hour; 11 minutes later the token has expired and the clock reads 30 minutes earlier
        // (less than the token's age, so A's record still looks credible on its own).
        let a = Harness::signed_in();
        let record = a.storage.clone().unwrap();
        let mut b = Harness::new_tab(T0 + 50 * MINUTE);
        b.storage = Some(record.clone());
        b.session.handle_storage(T0 + 50 * MINUTE, Some(&record));
        b.drain(T0 + 50 * MINUTE, true);
        assert!(b.session.access_token(T0 + 50 * MINUTE).is_some());
        let now = T0 + 61 * MINUTE - 30 * MINUTE;
        let waiter = b.wait(now, now + 10_000);
        // The lock grant read A's record again: the token is refreshed, not handed out.
        assert_eq!(b.sent.len(), 1);
        assert!(b.resolved.is_empty());
        b.answer_ok(now + 100);
        assert_eq!(b.resolved, vec![waiter]);
    }

    #[test]
    fn the_id_token_is_handed_out_exactly_while_its_access_token_is() {
        let mut h = Harness::new_tab(T0);
        let mut grant = h.grant(T0, None);
        let id_token = h
            .issuer
            .id_token("alice", T0 / 1_000, T0 / 1_000 + 3_600, T0);
        grant.id_token = Some(id_token.clone());
        h.session.set_tokens(T0, grant, Provenance::Fresh).unwrap();
        h.drain(T0, true);
        assert_eq!(h.session.id_token(T0 + MINUTE), Some(id_token.as_str()));
        assert_eq!(h.session.id_token(EXPIRED), None);
        assert_eq!(
            Harness::signed_in().session.id_token(T0),
            None,
            "none was issued"
        );
    }

    #[test]
    fn the_snapshot_says_refreshing_only_while_a_refresh_is_under_way() {
        let mut h = Harness::signed_in();
        assert!(!h.session.snapshot().refreshing);
        h.wait(EXPIRED, EXPIRED + MINUTE);
        assert!(h.session.snapshot().refreshing);
        h.answer_ok(EXPIRED + 100);
        assert!(!h.session.snapshot().refreshing);
    }

    #[test]
    fn a_visible_tab_refreshes_ahead_of_expiry_with_nobody_waiting() {
        let mut h = Harness::signed_in();
        let at = h
            .session
            .poll_timeout()
            .expect("a proactive refresh is scheduled");
        h.timeout(at);
        assert_eq!(h.sent.len(), 1, "no refresh at the proactive moment");
        assert!(
            h.session.access_token(at).is_some(),
            "the old token serves meanwhile"
        );
    }

    #[test]
    fn a_refresh_lock_that_never_comes_fails_over_at_its_deadline_and_not_before() {
        let mut h = Harness::signed_in();
        h.session.request_token(EXPIRED, EXPIRED + HOUR);
        h.drain(EXPIRED, false);
        let deadline = EXPIRED + h.session.config.lock_timeout;
        assert_eq!(h.session.poll_timeout(), Some(deadline));
        h.session.handle_timeout(deadline - 1);
        h.drain(deadline - 1, false);
        assert_eq!(
            h.session.snapshot().retry_at,
            None,
            "gave up on the lock early"
        );
        assert!(h.session.snapshot().refreshing);
        h.session.handle_timeout(deadline);
        h.drain(deadline, false);
        let snapshot = h.session.snapshot();
        assert!(
            !snapshot.refreshing,
            "still waiting for the lock after its deadline"
        );
        assert!(
            snapshot.retry_at.is_some_and(|at| at > deadline),
            "{snapshot:?}"
        );
        assert!(h.sent.is_empty() && h.rejected.is_empty());
    }

    #[test]
    fn a_refresh_that_gets_no_answer_backs_off_and_is_retried() {
        let mut h = Harness::signed_in();
        let waiter = h.wait(EXPIRED, EXPIRED + HOUR);
        let (id, _) = h.sent[0].clone();
        h.session
            .handle_refresh_failure(EXPIRED + 10, id, "Failed to fetch");
        h.drain(EXPIRED + 10, true);
        let snapshot = h.session.snapshot();
        assert!(!snapshot.refreshing);
        let retry_at = snapshot.retry_at.expect("a retry is scheduled");
        assert!(retry_at > EXPIRED + 10);
        h.timeout(retry_at);
        assert_eq!(h.sent.len(), 2);
        h.answer_ok(retry_at + 100);
        assert_eq!(h.resolved, vec![waiter]);
    }

    #[test]
    fn waiters_are_served_by_a_usable_token_found_under_the_lock_before_any_refresh() {
        let mut a = Harness::signed_in();
        let mut b = Harness::signed_in();
        // A refreshed to a token that is still usable but already past its proactive moment.
        let now = EXPIRED + 200;
        let body = a
            .issuer
            .cognito_answer("alice", now / 1_000 - 3_540, 3_600, now, None);
        a.wait(EXPIRED, EXPIRED + 10_000);
        a.answer(now, 200, None, &body);
        assert!(a.session.access_token(now).is_some());
        let TokenAnswer::Waiting(waiter) = b.session.request_token(now, now + 10_000) else {
            panic!("B's token is expired: it must wait");
        };
        b.drain(now, false);
        let lock = RefreshId(b.session.next_id);
        b.session
            .handle_refresh_lock(now, lock, a.storage.as_deref());
        b.drain(now, true);
        assert_eq!(b.resolved, vec![waiter]);
        assert!(b.sent.is_empty(), "refreshed before serving the waiter");
    }

    #[test]
    fn a_waiter_whose_deadline_is_the_end_of_a_backoff_waits_for_it_one_ms_shorter_fails_at_once() {
        let mut a = Harness::signed_in();
        a.wait(EXPIRED, EXPIRED + 100_000);
        a.throttle(EXPIRED + 10, "20");
        let retry_at = a.session.snapshot().retry_at.expect("held back");
        let exact = a.wait(EXPIRED + 20, retry_at);
        assert!(
            a.rejected.is_empty(),
            "rejected a waiter that may still be served at {retry_at}"
        );
        let TokenAnswer::Waiting(short) = a.session.request_token(EXPIRED + 20, retry_at - 1)
        else {
            panic!("expected to wait");
        };
        a.drain(EXPIRED + 20, true);
        assert!(
            matches!(&a.rejected[..], [(w, SessionError::Throttled { .. })] if *w == short),
            "{:?}",
            a.rejected
        );
        assert!(!a.rejected.iter().any(|(w, _)| *w == exact));
    }

    #[test]
    fn throttling_is_told_as_throttled_and_other_failures_as_a_scheduled_retry() {
        let mut h = Harness::signed_in();
        h.wait(EXPIRED, EXPIRED + HOUR);
        h.throttle(EXPIRED + 10, "1");
        assert!(
            matches!(h.events.last(), Some(Event::Throttled { .. })),
            "{:?}",
            h.events
        );
        h.timeout(h.session.poll_timeout().unwrap());
        h.answer(EXPIRED + 5_000, 503, None, SERVER_ERROR);
        assert!(
            matches!(h.events.last(), Some(Event::RetryScheduled { .. })),
            "{:?}",
            h.events
        );
    }

    #[test]
    fn another_tab_removing_the_record_signs_this_one_out_with_an_event() {
        let mut h = Harness::signed_in();
        h.broadcasts.clear();
        h.session.handle_storage(T0 + MINUTE, None);
        h.drain(T0 + MINUTE, true);
        assert!(!h.session.snapshot().signed_in);
        assert_eq!(h.events.last(), Some(&Event::SignedOut));
        assert!(h.broadcasts.is_empty(), "told the tabs what they told it");
    }

    #[test]
    fn signing_out_mid_refresh_aborts_it_releases_the_lock_and_ignores_its_answer() {
        let mut h = Harness::signed_in();
        h.wait(EXPIRED, EXPIRED + HOUR);
        assert_eq!(h.locks_held.len(), 1);
        h.session.sign_out(EXPIRED + 10);
        h.drain(EXPIRED + 10, true);
        assert!(h.locks_held.is_empty(), "the refresh lock is still held");
        h.answer_ok(EXPIRED + 20);
        assert!(
            !h.session.snapshot().signed_in,
            "a late answer signed the user back in"
        );
        assert_eq!(h.session.access_token(EXPIRED + 30), None);
    }

    #[test]
    fn a_refused_refresh_token_does_not_end_a_session_that_took_a_newer_one_meanwhile() {
        let mut a = Harness::signed_in();
        let mut other = Harness::signed_in();
        let waiter = a.wait(EXPIRED, EXPIRED + HOUR);
        // Another tab signed in again (a new refresh token) while A's refresh was out.
        let grant = other.grant(EXPIRED, Some("rt-2"));
        other
            .session
            .set_tokens(EXPIRED, grant, Provenance::Fresh)
            .unwrap();
        other.drain(EXPIRED, true);
        a.session
            .handle_storage(EXPIRED + 10, other.storage.as_deref());
        a.drain(EXPIRED + 10, true);
        assert_eq!(a.resolved, vec![waiter]);
        a.answer(EXPIRED + 20, 400, Some("NotAuthorizedException"), REVOKED);
        assert!(
            a.logins.is_empty(),
            "went to login for the old refresh token"
        );
        assert!(a.session.snapshot().signed_in);
        assert!(a.session.access_token(EXPIRED + 30).is_some());
    }

    #[test]
    fn tokens_handed_in_that_cannot_be_used_are_refused_with_what_is_wrong() {
        let mut h = Harness::new_tab(T0);
        let grant = TokenGrant {
            access_token: "not-a-jwt".into(),
            id_token: None,
            refresh_token: Some("rt-1".into()),
            expires_in: Some(3_600),
        };
        let Err(SessionError::BadConfig { detail }) =
            h.session.set_tokens(T0, grant, Provenance::External)
        else {
            panic!("a malformed token was taken");
        };
        assert!(detail.starts_with("bad access token: "), "{detail}");
        assert!(detail.len() > "bad access token: ".len(), "{detail}");
        h.drain(T0, true);
        assert!(!h.session.snapshot().signed_in);
    }

    #[test]
    fn a_record_from_a_tab_that_refreshed_clears_this_tabs_backoff() {
        let mut a = Harness::signed_in();
        let mut b = Harness::signed_in();
        a.wait(EXPIRED, EXPIRED + HOUR);
        a.throttle(EXPIRED + 10, "20");
        assert!(a.session.snapshot().retry_at.is_some());
        b.wait(EXPIRED + 100, EXPIRED + HOUR);
        b.answer_ok(EXPIRED + 200);
        a.session
            .handle_storage(EXPIRED + 300, b.storage.as_deref());
        a.drain(EXPIRED + 300, true);
        assert_eq!(
            a.session.snapshot().retry_at,
            None,
            "still backing off after B's success"
        );
        assert!(a.session.access_token(EXPIRED + 400).is_some());
    }

    #[test]
    fn an_unreadable_record_is_removed_by_a_signed_out_tab_and_kept_from_a_signed_in_one() {
        let mut fresh = Harness::new_tab(T0);
        fresh.storage = Some("{not json".into());
        fresh.session.handle_storage(T0, Some("{not json"));
        fresh.drain(T0, true);
        assert!(matches!(
            fresh.events.last(),
            Some(Event::StorageDiscarded { .. })
        ));
        assert_eq!(
            fresh.storage, None,
            "the unreadable record was left for the next load"
        );

        let mut signed_in = Harness::signed_in();
        signed_in.storage = Some("{not json".into());
        signed_in.session.handle_storage(T0 + 10, Some("{not json"));
        signed_in.drain(T0 + 10, true);
        assert!(signed_in.session.snapshot().signed_in);
        assert_eq!(
            signed_in.storage.as_deref(),
            Some("{not json"),
            "rewrote storage without the lock"
        );
    }

    // ----- signatures (issue 14) -----

    const KEYS_URL: &str =
        "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Sim/.well-known/jwks.json";
    const JWKS: &str =
        r#"{"keys":[{"kid":"sim","kty":"RSA","alg":"RS256","use":"sig","n":"AQAB","e":"AQAB"}]}"#;

    /// `token` with its header replaced by `header` (JSON).
    fn with_header(token: &str, header: &str) -> String {
        let rest = crate::engine::text::split_once(token, b'.').unwrap().1;
        let mut out = crate::engine::base64url::encode(header.as_bytes());
        out.push('.');
        out.push_str(rest);
        out
    }

    impl Harness {
        /// A tab that checks signatures with the keys at [`KEYS_URL`], signed out.
        fn verifying_tab(now: Millis) -> Harness {
            let mut h = Harness::new_tab(now);
            let mut config = h.session.config.clone();
            config.keys = Some(KeyBook::new(KEYS_URL.into()));
            h.session = SessionMachine::new(config, 42, now);
            h
        }

        /// Answers the last key-set request.
        fn keys_answer(&mut self, now: Millis, status: u16, body: &str, cache: Option<&str>) {
            let (id, _) = self.fetches.last().cloned().expect("no key-set request");
            let response = HttpResponse::new(status, body);
            self.session
                .handle_keys_answer(now, id, Ok(&response), cache);
            self.drain(now, true);
        }

        /// Answers every signature check asked for so far with `ok`.
        fn verify_all(&mut self, now: Millis, ok: bool) {
            for (id, _) in core::mem::take(&mut self.checks) {
                self.session.handle_verified(now, id, ok);
                self.drain(now, true);
            }
        }

        /// Signed in at `T0` with checked tokens (and the key set fetched then).
        fn verified() -> Harness {
            let mut h = Harness::verifying_tab(T0);
            let grant = h.grant(T0, None);
            h.session.set_tokens(T0, grant, Provenance::Fresh).unwrap();
            h.drain(T0, true);
            h.keys_answer(T0, 200, JWKS, Some("86400"));
            h.verify_all(T0, true);
            assert!(h.session.access_token(T0).is_some());
            h
        }
    }

    #[test]
    fn tokens_are_not_handed_out_before_their_signature_passes() {
        let mut h = Harness::verifying_tab(T0);
        let grant = h.grant(T0, None);
        h.session.set_tokens(T0, grant, Provenance::Fresh).unwrap();
        h.drain(T0, true);
        assert_eq!(h.session.access_token(T0), None);
        assert_eq!(h.session.checked_tokens(), None, "a driver could cache it");
        let waiter = h.wait(T0, T0 + 10_000);
        assert_eq!(h.fetches, vec![(h.fetches[0].0, KEYS_URL.to_owned())]);
        assert!(
            h.sent.is_empty(),
            "refreshed a valid token instead of checking it"
        );
        h.keys_answer(T0 + 50, 200, JWKS, Some("600"));
        assert_eq!(h.checks.len(), 1);
        assert!(h.resolved.is_empty());
        h.verify_all(T0 + 60, true);
        assert_eq!(h.resolved, vec![waiter]);
        assert!(h.session.access_token(T0 + 70).is_some());
        assert!(h.session.snapshot().verify_tokens);
        assert!(h.keys_storage.is_some(), "the key set was not stored");
    }

    #[test]
    fn fifty_callers_at_start_cause_one_key_fetch_and_one_refresh() {
        let stored = Harness::signed_in().storage.unwrap();
        let mut h = Harness::verifying_tab(EXPIRED);
        h.storage = Some(stored.clone());
        h.session.handle_storage(EXPIRED, Some(&stored));
        h.drain(EXPIRED, true);
        let waiters: Vec<WaiterId> = (0..50).map(|_| h.wait(EXPIRED, EXPIRED + 10_000)).collect();
        assert_eq!(h.sent.len(), 1);
        h.answer_ok(EXPIRED + 100);
        assert_eq!(h.fetches.len(), 1);
        assert!(h.resolved.is_empty(), "handed out before the check");
        h.keys_answer(EXPIRED + 150, 200, JWKS, None);
        assert_eq!(h.checks.len(), 2, "the access and the ID token");
        h.verify_all(EXPIRED + 160, true);
        assert_eq!(h.resolved, waiters);
        assert_eq!((h.sent.len(), h.fetches.len()), (1, 1));
        assert!(h.locks_held.is_empty(), "a lock was kept");
    }

    #[test]
    fn a_refresh_answer_with_a_bad_signature_is_a_bad_response_and_the_next_answer_is_used() {
        let mut h = Harness::verified();
        let short = h.wait(EXPIRED, EXPIRED + 1_000);
        let long = h.wait(EXPIRED, EXPIRED + HOUR);
        h.answer_ok(EXPIRED + 100);
        h.verify_all(EXPIRED + 110, false);
        assert!(
            matches!(&h.rejected[..], [(w, SessionError::BadResponse { .. })] if *w == short),
            "{:?}",
            h.rejected
        );
        assert!(h.resolved.is_empty());
        assert_eq!(h.session.access_token(EXPIRED + 120), None);
        assert_eq!(
            h.session.tokens().unwrap().refresh_token.as_deref(),
            Some("rt-1"),
            "the refresh token was lost"
        );
        let retry_at = h.session.snapshot().retry_at.expect("no backoff");
        assert!(retry_at > EXPIRED + 110);
        assert!(h.session.poll_timeout().unwrap() >= retry_at);
        h.timeout(retry_at);
        assert_eq!(h.sent.len(), 2);
        assert!(h.sent[1].1.body.contains("rt-1"));
        h.answer_ok(retry_at + 100);
        h.verify_all(retry_at + 110, true);
        assert_eq!(h.resolved, vec![long]);
        assert_eq!(h.fetches.len(), 1, "the key set was fetched again");
    }

    #[test]
    fn a_key_set_lock_granted_after_the_network_went_sends_nothing_until_it_is_back() {
        let mut h = Harness::verifying_tab(T0);
        let grant = h.grant(T0, None);
        h.session.set_tokens(T0, grant, Provenance::Fresh).unwrap();
        let answer = h.session.request_token(T0, T0 + 10_000);
        let TokenAnswer::Waiting(waiter) = answer else {
            panic!("expected to wait, got {answer:?}");
        };
        // Web Locks grants asynchronously: the `offline` event comes before the grant.
        let mut asked = None;
        while let Some(action) = h.session.poll_action() {
            if let Action::AcquireKeysLock { id } = action {
                asked = Some(id);
            }
        }
        let id = asked.expect("the key-set lock was asked for");
        h.session.handle_network(T0 + 5, false);
        h.drain(T0 + 5, true);
        h.locks_held.push(id);
        h.session.handle_keys_lock(T0 + 10, id, None);
        h.drain(T0 + 10, true);
        assert!(h.fetches.is_empty(), "a key-set request went out offline");
        assert!(h.locks_held.is_empty(), "the key-set lock was kept");
        assert_eq!(h.session.poll_timeout(), Some(T0 + 10_000));
        h.timeout(T0 + 10_000);
        assert_eq!(
            h.rejected,
            vec![(waiter, SessionError::Unavailable { retry_at: None })]
        );
        assert_eq!(h.session.snapshot().retry_at, None, "a backoff began");
        // Back online: the key set is fetched, the tokens checked and handed out.
        h.session.handle_network(T0 + MINUTE, true);
        h.drain(T0 + MINUTE, true);
        assert_eq!(h.fetches.len(), 1);
        h.keys_answer(T0 + MINUTE + 50, 200, JWKS, None);
        h.verify_all(T0 + MINUTE + 60, true);
        assert!(h.session.access_token(T0 + MINUTE + 70).is_some());
    }

    #[test]
    fn a_discovery_document_answered_after_the_network_went_fetches_the_key_set_once_back() {
        let mut h = Harness::new_tab(T0);
        let mut config = h.session.config.clone();
        let discovery = "https://idp.example/.well-known/openid-configuration";
        config.keys = Some(KeyBook::discover(discovery.into()));
        h.session = SessionMachine::new(config, 42, T0);
        let grant = h.grant(T0, None);
        h.session.set_tokens(T0, grant, Provenance::Fresh).unwrap();
        h.drain(T0, true);
        assert_eq!(h.fetches.len(), 1, "the discovery document is fetched");
        // Its answer is handled after the `offline` event.
        h.session.handle_network(T0 + 5, false);
        h.drain(T0 + 5, true);
        h.keys_answer(
            T0 + 10,
            200,
            r#"{"jwks_uri":"https://idp.example/jwks"}"#,
            None,
        );
        assert_eq!(h.fetches.len(), 1, "the key set was fetched offline");
        assert!(h.locks_held.is_empty(), "the key-set lock was kept");
        h.session.handle_network(T0 + MINUTE, true);
        h.drain(T0 + MINUTE, true);
        assert_eq!(
            h.fetches.last().map(|(_, url)| url.as_str()),
            Some("https://idp.example/jwks")
        );
        h.keys_answer(T0 + MINUTE + 50, 200, JWKS, None);
        h.verify_all(T0 + MINUTE + 60, true);
        assert!(h.session.access_token(T0 + MINUTE + 70).is_some());
    }

    /// Stored tokens 5 s from unusable: their key-set fetch is slow, and meanwhile they lapse
    /// and a caller's refresh goes out; then, at `later + 100`, the key-set fetch fails (503).
    /// Returns the harness, the caller, the refresh and `later`.
    fn key_set_fails_while_a_refresh_is_on_the_wire() -> (Harness, WaiterId, RefreshId, Millis) {
        let stored = Harness::signed_in().storage.unwrap();
        let start = EXPIRED - 35_000;
        let mut h = Harness::verifying_tab(start);
        h.storage = Some(stored.clone());
        h.session.handle_storage(start, Some(&stored));
        h.drain(start, true);
        assert_eq!(h.fetches.len(), 1);
        let later = start + 10_000;
        let waiter = h.wait(later, later + 60_000);
        assert_eq!(h.sent.len(), 1);
        let (refresh, _) = h.sent[0].clone();
        h.keys_answer(later + 100, 503, "<html>503</html>", None);
        (h, waiter, refresh, later)
    }

    /// The rest of [`key_set_fails_while_a_refresh_is_on_the_wire`]: the key set is fetched
    /// again when its backoff ends at `retry_at`, the refresh answer passes, and the caller gets
    /// it, with no second refresh and no lock kept.
    fn the_key_set_comes_at_the_end_of_its_backoff(
        mut h: Harness,
        waiter: WaiterId,
        retry_at: Millis,
    ) {
        h.timeout(retry_at);
        assert_eq!(h.fetches.len(), 2);
        h.keys_answer(retry_at + 50, 200, JWKS, None);
        h.verify_all(retry_at + 60, true);
        assert_eq!(h.resolved, vec![waiter]);
        assert_eq!(h.sent.len(), 1, "a second refresh was sent");
        assert!(
            h.locks_held.is_empty(),
            "a lock was kept: {:?}",
            h.locks_held
        );
    }

    #[test]
    fn a_key_set_failure_while_a_refresh_is_on_the_wire_leaves_the_refresh_alone() {
        let (mut h, waiter, refresh, later) = key_set_fails_while_a_refresh_is_on_the_wire();
        assert!(
            h.locks_held.contains(&refresh),
            "the refresh lock was dropped without a release: {:?}",
            h.locks_held
        );
        assert!(h.session.snapshot().refreshing, "the refresh was forgotten");
        // Its answer is used: checked once the key set comes, then handed out.
        h.answer_ok(later + 200);
        let retry_at = h
            .session
            .snapshot()
            .retry_at
            .expect("the key set backs off");
        the_key_set_comes_at_the_end_of_its_backoff(h, waiter, retry_at);
    }

    #[test]
    fn a_refresh_answer_that_arrives_while_the_key_set_backs_off_frees_its_lock_at_once() {
        // The refresh answers during the backoff the key set's failure set.
        let (mut h, waiter, refresh, later) = key_set_fails_while_a_refresh_is_on_the_wire();
        let retry_at = h
            .session
            .snapshot()
            .retry_at
            .expect("the key set backs off");
        assert!(
            retry_at > later + 200 + 1_000,
            "a backoff too short to test"
        );
        let failures = h
            .events
            .iter()
            .filter(|e| matches!(e, Event::RetryScheduled { .. }))
            .count();
        h.answer_ok(later + 200);
        assert!(
            !h.locks_held.contains(&refresh),
            "the refresh lock is held while the key set backs off: other tabs cannot refresh"
        );
        assert!(!h.session.snapshot().refreshing);
        assert_eq!(
            h.session.access_token(later + 200),
            None,
            "handed out unchecked"
        );
        // The engine wakes when the backoff ends, not at the answer's 15 s timeout, and the
        // answer is not counted as a failure.
        assert_eq!(h.session.poll_timeout(), Some(retry_at));
        assert_eq!(h.session.snapshot().retry_at, Some(retry_at));
        assert_eq!(
            h.events
                .iter()
                .filter(|e| matches!(e, Event::RetryScheduled { .. }))
                .count(),
            failures
        );
        the_key_set_comes_at_the_end_of_its_backoff(h, waiter, retry_at);
    }

    #[test]
    fn alg_none_and_hmac_tokens_are_refused_without_fetching_keys() {
        for header in [
            r#"{"alg":"HS256","kid":"sim"}"#,
            r#"{"alg":"HS512"}"#,
            r#"{"alg":"RS512","kid":"sim"}"#,
        ] {
            let mut h = Harness::verifying_tab(T0);
            let mut grant = h.grant(T0, None);
            grant.access_token = with_header(&grant.access_token, header);
            h.session
                .set_tokens(T0, grant, Provenance::External)
                .unwrap();
            h.drain(T0, true);
            assert!(
                h.events.contains(&Event::TokenRejected {
                    error: VerifyError::Alg
                }),
                "{header}: {:?}",
                h.events
            );
            assert_eq!(h.session.access_token(T0), None, "{header}");
            assert!(h.fetches.is_empty() && h.checks.is_empty(), "{header}");
            // The refresh token gets new tokens.
            h.wait(T0, T0 + 10_000);
            assert_eq!(h.sent.len(), 1, "{header}");
        }
        // alg none does not even decode: refused as input.
        let mut h = Harness::verifying_tab(T0);
        let mut grant = h.grant(T0, None);
        grant.access_token = with_header(&grant.access_token, r#"{"alg":"none"}"#);
        assert!(h
            .session
            .set_tokens(T0, grant, Provenance::External)
            .is_err());
    }

    #[test]
    fn a_stored_token_with_a_bad_signature_is_discarded_with_an_event_and_refreshed() {
        let stored = Harness::signed_in().storage.unwrap();
        let mut h = Harness::verifying_tab(T0 + MINUTE);
        h.storage = Some(stored.clone());
        h.session.handle_storage(T0 + MINUTE, Some(&stored));
        h.drain(T0 + MINUTE, true);
        let waiter = h.wait(T0 + MINUTE, T0 + 2 * MINUTE);
        h.keys_answer(T0 + MINUTE, 200, JWKS, None);
        h.verify_all(T0 + MINUTE, false);
        assert!(h.events.contains(&Event::TokenRejected {
            error: VerifyError::Signature
        }));
        assert!(h.resolved.is_empty());
        assert_eq!(h.sent.len(), 1, "no refresh for the discarded token");
        h.answer_ok(T0 + MINUTE + 100);
        h.verify_all(T0 + MINUTE + 100, true);
        assert_eq!(h.resolved, vec![waiter]);
        assert_ne!(h.storage.as_deref(), Some(stored.as_str()));
    }

    #[test]
    fn a_stored_token_with_a_bad_signature_and_no_refresh_token_signs_out() {
        let mut h = Harness::verifying_tab(T0);
        let mut grant = h.grant(T0, None);
        grant.refresh_token = None;
        h.session
            .set_tokens(T0, grant, Provenance::External)
            .unwrap();
        h.drain(T0, true);
        h.keys_answer(T0, 200, JWKS, None);
        h.verify_all(T0, false);
        assert!(!h.session.snapshot().signed_in);
        assert_eq!(h.events.last(), Some(&Event::SignedOut));
        assert!(h.logins.is_empty());
    }

    #[test]
    fn an_unknown_kid_fetches_the_keys_again_once_per_window() {
        let mut h = Harness::verified();
        // Key rotation: the next answer is signed with a new key.
        let rotated = |h: &Harness, at: Millis| {
            let mut grant = h.grant(at, Some("rt-1"));
            grant.access_token = with_header(&grant.access_token, r#"{"alg":"RS256","kid":"new"}"#);
            grant
        };
        let grant = rotated(&h, T0 + 10 * MINUTE);
        h.session
            .set_tokens(T0 + 10 * MINUTE, grant, Provenance::External)
            .unwrap();
        h.drain(T0 + 10 * MINUTE, true);
        assert_eq!(
            h.fetches.len(),
            2,
            "an unknown kid did not fetch the keys again"
        );
        let both = r#"{"keys":[{"kid":"sim","kty":"RSA","n":"AQAB","e":"AQAB"},{"kid":"new","kty":"RSA","n":"AQAB","e":"AQAB"}]}"#;
        h.keys_answer(T0 + 10 * MINUTE, 200, both, None);
        h.verify_all(T0 + 10 * MINUTE, true);
        assert!(h.session.access_token(T0 + 10 * MINUTE).is_some());
        // A kid that is nowhere, right after: refused without a fetch.
        let mut grant = h.grant(T0 + 11 * MINUTE, Some("rt-1"));
        grant.access_token = with_header(&grant.access_token, r#"{"alg":"RS256","kid":"made-up"}"#);
        h.session
            .set_tokens(T0 + 11 * MINUTE, grant, Provenance::External)
            .unwrap();
        h.drain(T0 + 11 * MINUTE, true);
        assert_eq!(h.fetches.len(), 2);
        assert!(h.events.contains(&Event::TokenRejected {
            error: VerifyError::UnknownKey
        }));
    }

    #[test]
    fn a_key_set_another_tab_stored_is_used_without_a_fetch() {
        let a = Harness::verified();
        let mut b = Harness::verifying_tab(T0 + 10);
        b.keys_storage = a.keys_storage.clone();
        let stored = a.storage.clone().unwrap();
        b.storage = Some(stored.clone());
        b.session.handle_storage(T0 + 10, Some(&stored));
        b.drain(T0 + 10, true);
        assert!(b.fetches.is_empty());
        assert_eq!(b.checks.len(), 1);
        b.verify_all(T0 + 20, true);
        assert!(b.session.access_token(T0 + 20).is_some());
    }

    #[test]
    fn a_key_set_outage_never_signs_out_and_fetches_are_bounded() {
        let stored = Harness::signed_in().storage.unwrap();
        let mut h = Harness::verifying_tab(T0 + 10);
        h.storage = Some(stored.clone());
        h.session.handle_storage(T0 + 10, Some(&stored));
        h.drain(T0 + 10, true);
        let waiter = h.wait(T0 + 10, T0 + 10 + HOUR);
        let mut now = T0 + 10;
        // The key set answers 503 for 30 s.
        while now < T0 + 30_000 {
            h.keys_answer(now, 503, "busy", None);
            assert!(h.session.snapshot().signed_in);
            let next = h.session.poll_timeout().expect("nothing scheduled");
            assert!(next > now, "{next} <= {now}");
            now = next;
            h.timeout(now);
        }
        // As many as refreshes failing for 30 s would make (the first retry within 10 s, the
        // next ones after 50-70 % of the time spent failing, at least 4 s).
        assert!(h.fetches.len() <= 8, "{} fetches in 30 s", h.fetches.len());
        assert!(h.rejected.is_empty() && h.logins.is_empty());
        // Still failing: a caller that cannot wait for the next attempt is told when it is.
        h.keys_answer(now, 503, "busy", None);
        let short = h.wait(now, now + 1);
        assert!(
            matches!(&h.rejected[..], [(w, SessionError::Unavailable { retry_at: Some(_) })] if *w == short),
            "{:?}",
            h.rejected
        );
        now = h.session.poll_timeout().unwrap();
        h.timeout(now);
        h.keys_answer(now, 200, JWKS, None);
        h.verify_all(now, true);
        assert_eq!(h.resolved, vec![waiter]);
        assert!(h.sent.is_empty(), "refreshed because of the key set");
    }

    #[test]
    fn an_expired_key_set_that_cannot_be_fetched_still_checks_tokens_its_keys_signed() {
        let mut h = Harness::verified();
        // A day later the set is past its lifetime; new tokens need it, and its fetch fails.
        let later = T0 + 25 * HOUR;
        let grant = h.grant(later, Some("rt-2"));
        h.session
            .set_tokens(later, grant, Provenance::Fresh)
            .unwrap();
        h.drain(later, true);
        assert_eq!(h.fetches.len(), 2);
        assert_eq!(h.session.access_token(later), None, "handed out unchecked");
        h.keys_answer(later + 50, 503, "busy", None);
        assert!(
            h.session.snapshot().retry_at.is_some(),
            "the fetch backs off"
        );
        // The set held has the key the tokens name: it checks them, nobody waits for the outage.
        h.verify_all(later + 60, true);
        assert!(h.session.access_token(later + 60).is_some());
        assert_eq!(h.fetches.len(), 2);
        assert!(h.rejected.is_empty() && h.logins.is_empty());
    }

    #[test]
    fn a_key_set_without_cors_is_a_config_error_for_callers() {
        let stored = Harness::signed_in().storage.unwrap();
        let mut h = Harness::verifying_tab(T0 + 10);
        h.storage = Some(stored.clone());
        h.session.handle_storage(T0 + 10, Some(&stored));
        h.drain(T0 + 10, true);
        let waiter = h.wait(T0 + 10, T0 + HOUR);
        let (id, _) = h.fetches[0].clone();
        h.session
            .handle_keys_answer(T0 + 20, id, Err(KEYS_NOT_CORS), None);
        h.drain(T0 + 20, true);
        assert!(
            matches!(&h.rejected[..], [(w, SessionError::BadConfig { detail })] if *w == waiter && detail.contains(KEYS_URL)),
            "{:?}",
            h.rejected
        );
        assert!(h.session.snapshot().signed_in);
    }

    #[test]
    fn a_key_set_that_is_not_there_is_a_config_error_and_a_throttled_one_is_throttling() {
        for (status, error_type, body, expected) in [
            (404, None, "Not Found", "BadConfig"),
            (403, None, "<html>", "BadConfig"),
            (429, None, "", "Throttled"),
            (400, Some("TooManyRequestsException"), THROTTLE, "Throttled"),
        ] {
            let stored = Harness::signed_in().storage.unwrap();
            let mut h = Harness::verifying_tab(T0 + 10);
            h.storage = Some(stored.clone());
            h.session.handle_storage(T0 + 10, Some(&stored));
            h.drain(T0 + 10, true);
            let waiter = h.wait(T0 + 10, T0 + 1_000);
            let (id, _) = h.fetches[0].clone();
            let response = HttpResponse {
                error_type,
                ..HttpResponse::new(status, body)
            };
            h.session
                .handle_keys_answer(T0 + 20, id, Ok(&response), None);
            h.drain(T0 + 20, true);
            let got = match &h.rejected[..] {
                [(w, SessionError::BadConfig { detail })] if *w == waiter => {
                    assert!(detail.contains(KEYS_URL), "{detail}");
                    "BadConfig"
                }
                [(w, SessionError::Throttled { .. })] if *w == waiter => "Throttled",
                other => panic!("{status}: {other:?}"),
            };
            assert_eq!(got, expected, "{status}");
            assert!(h.session.snapshot().signed_in && h.logins.is_empty());
            assert!(h.locks_held.is_empty(), "the key-set lock was kept");
        }
    }

    #[test]
    fn a_key_fetch_failing_under_a_refresh_answer_keeps_its_rotated_refresh_token() {
        let mut h = Harness::verifying_tab(T0);
        let mut grant = h.grant(T0, None);
        grant.expires_in = Some(3_600);
        h.session.set_tokens(T0, grant, Provenance::Fresh).unwrap();
        h.drain(T0, true);
        h.keys_answer(T0, 200, JWKS, None);
        h.verify_all(T0, true);
        // An hour later the keys are stale; the answer carries a rotated refresh token.
        h.wait(EXPIRED, EXPIRED + HOUR);
        let body = h
            .issuer
            .cognito_answer("alice", EXPIRED / 1_000, 3_600, EXPIRED, Some("rt-2"));
        h.answer(EXPIRED + 100, 200, None, &body);
        assert_eq!(h.fetches.len(), 2, "stale keys were not fetched again");
        h.keys_answer(EXPIRED + 200, 503, "", None);
        // The stale set has the key: checked with it.
        assert_eq!(h.checks.len(), 2);
        h.verify_all(EXPIRED + 210, true);
        assert_eq!(h.resolved.len(), 1);
        assert_eq!(
            h.session.tokens().unwrap().refresh_token.as_deref(),
            Some("rt-2")
        );
    }

    #[test]
    fn a_refresh_answer_checked_across_a_clock_set_back_is_refreshed_again_not_handed_out() {
        // Found by tests/simulation.rs (seed 3611 with signatures checked).
        let mut h = Harness::verified();
        let waiter = h.wait(EXPIRED, EXPIRED + HOUR);
        h.answer_ok(EXPIRED + 100);
        assert_eq!(h.checks.len(), 2);
        // The clock goes back 30 minutes before WebCrypto answers.
        let back = EXPIRED + 200 - 30 * MINUTE;
        h.verify_all(back, true);
        assert!(
            h.resolved.is_empty(),
            "handed out a token timed on the old clock"
        );
        assert_eq!(h.sent.len(), 2, "not refreshed again");
        h.answer_ok(back + 100);
        h.verify_all(back + 110, true);
        assert_eq!(h.resolved, vec![waiter]);
    }

    /// A session in OAuth2 mode (opaque access tokens allowed) that checks signatures.
    fn oauth2_session_checking_signatures() -> SessionMachine {
        let mut config = Config::new(Provider::OAuth2 {
            token_endpoint: "https://idp/token".into(),
            client_id: "spa".into(),
        });
        config.keys = Some(KeyBook::new("https://idp/jwks".into()));
        SessionMachine::new(config, 1, T0)
    }

    #[test]
    fn a_jwt_access_token_in_oauth2_mode_is_checked_like_any_other() {
        // Opaque access tokens are allowed in OAuth2 mode; a JWT one still has its signature
        // checked before it is handed out.
        let mut session = oauth2_session_checking_signatures();
        let grant = Harness::new_tab(T0).grant(T0, None);
        session.set_tokens(T0, grant, Provenance::Fresh).unwrap();
        assert_eq!(session.access_token(T0), None, "handed out unchecked");
        let mut key_set_asked = false;
        while let Some(action) = session.poll_action() {
            key_set_asked |= matches!(action, Action::AcquireKeysLock { .. });
        }
        assert!(key_set_asked, "no key set was fetched for the access token");
    }

    #[test]
    fn opaque_access_tokens_need_no_keys() {
        let mut session = oauth2_session_checking_signatures();
        let grant = TokenGrant {
            access_token: "opaque-token".into(),
            id_token: None,
            refresh_token: Some("rt".into()),
            expires_in: Some(600),
        };
        session.set_tokens(T0, grant, Provenance::Fresh).unwrap();
        assert_eq!(session.access_token(T0), Some("opaque-token"));
        while let Some(action) = session.poll_action() {
            assert!(
                !matches!(
                    action,
                    Action::AcquireKeysLock { .. } | Action::Verify { .. }
                ),
                "{action:?}"
            );
        }
    }
}
