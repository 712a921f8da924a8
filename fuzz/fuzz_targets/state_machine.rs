//! `engine::machine::SessionMachine` driven by any sequence of events on any clock: the
//! behaviour contract of `tests/simulation.rs`, checked after every step of a fuzzed script.
//!
//! Input: a byte script (`cognito_session_fuzz::script`): the provider (Cognito, Cognito with
//! rotation, OAuth2 with or without an issuer), the provider's clock skew, the jitter seed,
//! then steps: the clock moving on, jumping hours ahead or going back; callers; timers that fire
//! (or a driver that wakes early); visibility; lock grants (for the refresh in flight or any id)
//! with any storage record; answers with tokens minted by `sim::mint::Issuer` (right, for
//! another client, from another issuer, opaque, expired, ...), with the error bodies of every
//! Cognito and OAuth2 error name, or with any status, body and headers; failures; broadcasts
//! from other tabs; storage events; tokens handed in; refused tokens; sign-outs; sign-ins.
//! After each step the actions are drained with `poll_action`, as a driver does.
//!
//! Checks (the driver's view of the contract):
//! - a caller is handed a token only if it is non-empty and `access_token(now)` would hand out
//!   that very token at that moment, and a JWT one is not past its `exp` + the tolerated skew;
//! - at most one refresh is in flight: no second `AcquireRefreshLock` before the first's
//!   `ReleaseRefreshLock`, `SendRefresh` only for the refresh holding the lock, never a second
//!   request on the wire, never a lock released while its request is unanswered and unaborted;
//!   `snapshot().refreshing` says whether one is in flight; the request carries the refresh token
//!   the session holds;
//! - every waiter is resolved or rejected at most once, and by the time the timer for its
//!   deadline fires; after the script, firing the timers answers every one;
//! - `GoToLogin` at most once per sign-in, for a dead refresh token only after an answer that
//!   says so, for a missing one only when a caller needs a token, "expired elsewhere" only when a
//!   tab says so; the refresh token is never lost but by a dead-credential answer, a sign-out,
//!   another tab or storage, or the app handing in tokens;
//! - every record persisted reads back (`Stored::from_json`), every broadcast decodes;
//! - after the timer fires, `poll_timeout` is not due at once again (a driver would spin);
//! - no panic.
#![no_main]

use std::collections::{BTreeMap, BTreeSet};

use cognito_session::engine::classify::FailureKind;
use cognito_session::engine::http::HttpResponse;
use cognito_session::engine::json;
use cognito_session::engine::jwt;
use cognito_session::engine::machine::{
    Action, Event, LoginReason, RefreshId, SessionMachine, TokenAnswer, WaiterId,
};
use cognito_session::engine::protocol::{Provider, TokenGrant};
use cognito_session::engine::tabs::TabMessage;
use cognito_session::engine::tokens::{Provenance, Stored, TokenRules};
use cognito_session::engine::Millis;
use cognito_session::sim::mint::Issuer;
use cognito_session_fuzz::script::*;
use cognito_session_fuzz::{config, issuer, providers, T0};
use libfuzzer_sys::fuzz_target;

const HOUR: Millis = 3_600_000;

/// What a step was, for the checks of what it may cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Clock,
    Request,
    Wake,
    Fire,
    Visibility,
    Lock,
    /// An answer; `dead`: the provider's parser calls it a dead credential.
    Answer {
        dead: bool,
    },
    Failure,
    Tab,
    Storage,
    SetTokens,
    Refused,
    SignOut,
    SignIn,
}

struct World {
    m: SessionMachine,
    provider: Provider,
    rules: TokenRules,
    issuer: Issuer,
    other_client: Issuer,
    other_issuer: Issuer,
    now: Millis,
    /// Provider clock minus local clock.
    skew: i64,
    serial: u64,
    storage: Option<String>,
    /// The refresh whose lock was asked for and not released.
    in_flight: Option<RefreshId>,
    /// The refresh whose request was sent and neither answered nor aborted.
    on_wire: Option<RefreshId>,
    last_id: Option<RefreshId>,
    /// Waiters not answered yet, with their deadlines; every waiter ever handed out.
    waiters: BTreeMap<WaiterId, Millis>,
    issued: BTreeSet<WaiterId>,
    /// `GoToLogin`s since the last sign-in.
    logins: u32,
    /// Access tokens the session held before its current one.
    old_tokens: Vec<String>,
}

fuzz_target!(|data: &[u8]| {
    let mut r = Reader::new(data);
    let kind = r.u8() % 4;
    let skew = i64::from(r.u16() as i16) * 5_000;
    let seed = r.u8();
    let [cognito, rotating, oauth] = providers();
    let (provider, with_issuer) = match kind {
        0 => (cognito, true),
        1 => (rotating, true),
        2 => (oauth, true),
        _ => (oauth, false),
    };
    let config = config(provider.clone(), with_issuer);
    let sim = issuer();
    let mut world = World {
        m: SessionMachine::new(config.clone(), u64::from(seed), T0),
        rules: config.rules,
        provider,
        other_client: Issuer {
            client_id: "otherclient".into(),
            ..sim.clone()
        },
        other_issuer: Issuer {
            iss: "https://evil.example/pool".into(),
            ..sim.clone()
        },
        issuer: sim,
        now: T0,
        skew,
        serial: 0,
        storage: None,
        in_flight: None,
        on_wire: None,
        last_id: None,
        waiters: BTreeMap::new(),
        issued: BTreeSet::new(),
        logins: 0,
        old_tokens: Vec::new(),
    };
    let mut steps = 0;
    while !r.is_empty() && steps < 2_000 {
        steps += 1;
        world.step(&mut r);
    }
    world.wind_down();
});

impl World {
    fn step(&mut self, r: &mut Reader) {
        let had_refresh = self.refresh_token().is_some();
        let kind = match r.op() {
            Op::Tick => {
                self.now = self.now.saturating_add(u64::from(r.u16()));
                Kind::Clock
            }
            Op::Jump => {
                self.now = self.now.saturating_add(u64::from(r.u8()) * HOUR);
                Kind::Clock
            }
            Op::Back => {
                self.now = self.now.saturating_sub(u64::from(r.u16()) * 1_000);
                Kind::Clock
            }
            Op::Request => {
                let deadline = self.now.saturating_add(u64::from(r.u16()) * 10);
                let now = self.now;
                match self.m.request_token(now, deadline) {
                    TokenAnswer::Ready(token) => {
                        let token = token.to_owned();
                        self.check_handed_out(&token);
                    }
                    TokenAnswer::Waiting(id) => {
                        assert!(self.issued.insert(id), "waiter id {id:?} handed out twice");
                        self.waiters.insert(id, deadline);
                    }
                    TokenAnswer::Failed(_) => {}
                }
                Kind::Request
            }
            Op::Wake => {
                self.m.handle_timeout(self.now);
                Kind::Wake
            }
            Op::Fire => {
                self.fire();
                Kind::Fire
            }
            Op::Visibility => {
                // The page's state: visible or hidden, and (bit 1) the network gone or back.
                let bits = r.u8();
                if bits & 2 == 0 {
                    self.m.handle_visibility(self.now, bits & 1 == 1);
                } else {
                    self.m.handle_network(self.now, bits & 1 == 1);
                }
                Kind::Visibility
            }
            Op::Lock => {
                let id = self.id(r.u8());
                let record = self.record(r);
                // A driver asks for a lock once per `AcquireRefreshLock`, so the lock of the
                // request on the wire is never granted a second time. (The machine would answer
                // such a grant by releasing that lock with the request still out.)
                if self.on_wire != Some(id) {
                    self.m.handle_refresh_lock(self.now, id, record.as_deref());
                }
                Kind::Lock
            }
            Op::Tokens => {
                let id = self.id(r.u8());
                let (body, _) = self.mint(r.mint());
                self.answer(id, HttpResponse::new(200, &body))
            }
            Op::Error => {
                let id = self.id(r.u8());
                let status = STATUSES[usize::from(r.u8()) % STATUSES.len()];
                let name = ERROR_NAMES[usize::from(r.u8()) % ERROR_NAMES.len()];
                let retry_after = RETRY_AFTERS[usize::from(r.u8()) % RETRY_AFTERS.len()];
                let mut body = String::from(if name.contains('_') || name.is_empty() {
                    "{\"error\":"
                } else {
                    "{\"__type\":"
                });
                json::write_string(&mut body, name);
                body.push_str(",\"message\":\"m\",\"error_description\":\"d\"}");
                let error_type = format!("{name}:http://internal.amazon.com/coral/");
                let resp = HttpResponse {
                    status,
                    // The header too, on even statuses.
                    error_type: status.is_multiple_of(2).then_some(error_type.as_str()),
                    retry_after,
                    amz_retry_after: None,
                    body: &body,
                };
                self.answer(id, resp)
            }
            Op::Raw => {
                let id = self.id(r.u8());
                let status = r.u16();
                let body = r.text();
                let (error_type, retry_after, amz) =
                    (r.short_text(), r.short_text(), r.short_text());
                let resp = HttpResponse {
                    status,
                    error_type: error_type.as_deref(),
                    retry_after: retry_after.as_deref(),
                    amz_retry_after: amz.as_deref(),
                    body: &body,
                };
                self.answer(id, resp)
            }
            Op::Failure => {
                let id = self.id(r.u8());
                if self.on_wire == Some(id) {
                    self.on_wire = None;
                }
                self.m
                    .handle_refresh_failure(self.now, id, "connection reset");
                Kind::Failure
            }
            Op::Tab => {
                let message = match r.u8() {
                    TAB_RECORD => format!("R{}", self.record(r).unwrap_or_default()),
                    TAB_BACKOFF => {
                        let kind = b"tsndcb"[usize::from(r.u8()) % 6] as char;
                        let failures = r.u16();
                        let not_before = self.now.saturating_add(u64::from(r.u32()));
                        format!("B{kind}{failures},{not_before}")
                    }
                    TAB_SIGNED_OUT => "O".into(),
                    TAB_EXPIRED => "X".into(),
                    _ => r.text(),
                };
                self.m.handle_tab_message(self.now, &message);
                Kind::Tab
            }
            Op::Storage => {
                let record = self.record(r);
                self.m.handle_storage(self.now, record.as_deref());
                Kind::Storage
            }
            Op::SetTokens => {
                let provenance = if r.u8() % 2 == 1 {
                    Provenance::Fresh
                } else {
                    Provenance::External
                };
                let (_, grant) = self.mint(r.mint());
                let _ = self.m.set_tokens(self.now, grant, provenance);
                Kind::SetTokens
            }
            Op::Refused => {
                let token = match r.u8() {
                    0 => self
                        .m
                        .tokens()
                        .map(|t| t.access_token.clone())
                        .unwrap_or_default(),
                    1 => self.old_tokens.last().cloned().unwrap_or_default(),
                    _ => r.text(),
                };
                self.m.handle_token_refused(self.now, &token);
                Kind::Refused
            }
            Op::SignOut => {
                self.m.sign_out(self.now);
                Kind::SignOut
            }
            Op::SignIn => {
                let (body, _) = self.mint(r.mint());
                let _ = self.m.password_sign_in("alice", "correct horse");
                let _ = self
                    .m
                    .sign_in_answer(self.now, Ok(&HttpResponse::new(200, &body)));
                Kind::SignIn
            }
        };
        self.drain(kind);
        if had_refresh && self.refresh_token().is_none() {
            assert!(
                matches!(
                    kind,
                    Kind::Answer { dead: true }
                        | Kind::SignOut
                        | Kind::Tab
                        | Kind::Storage
                        | Kind::Lock
                        | Kind::SetTokens
                        | Kind::SignIn
                ),
                "the refresh token was lost by {kind:?}"
            );
        }
        if matches!(kind, Kind::Wake | Kind::Fire) {
            if let Some((id, deadline)) = self.waiters.iter().find(|(_, d)| **d <= self.now) {
                panic!(
                    "waiter {id:?} (deadline {deadline}) still waiting at {}",
                    self.now
                );
            }
        }
        if kind == Kind::Fire {
            let next = self.m.poll_timeout();
            assert!(
                next.is_none_or(|t| t > self.now),
                "timer due again at once: {next:?} <= {}",
                self.now
            );
        }
    }

    /// The timer fires: at `poll_timeout()` if that is later than now.
    fn fire(&mut self) {
        if let Some(at) = self.m.poll_timeout() {
            self.now = self.now.max(at);
        }
        self.m.handle_timeout(self.now);
    }

    /// After the script: the timers alone answer every waiter.
    fn wind_down(&mut self) {
        for _ in 0..1_000 {
            if self.waiters.is_empty() {
                return;
            }
            assert!(
                self.m.poll_timeout().is_some(),
                "waiters {:?} but no timer",
                self.waiters
            );
            self.fire();
            self.drain(Kind::Fire);
            let next = self.m.poll_timeout();
            assert!(next.is_none_or(|t| t > self.now), "timer due again at once");
        }
        assert!(
            self.waiters.is_empty(),
            "waiters {:?} never answered",
            self.waiters
        );
    }

    fn answer(&mut self, id: RefreshId, resp: HttpResponse) -> Kind {
        let dead = matches!(
            self.provider.parse_refresh(&resp),
            Err(e) if e.kind == FailureKind::CredentialDead
        );
        if self.on_wire == Some(id) {
            self.on_wire = None;
        }
        self.m.handle_refresh_response(self.now, id, &resp);
        Kind::Answer { dead }
    }

    fn refresh_token(&self) -> Option<&str> {
        self.m.tokens().and_then(|t| t.refresh_token.as_deref())
    }

    fn id(&self, choice: u8) -> RefreshId {
        let last = self.last_id.unwrap_or(RefreshId(0));
        match choice {
            ID_CURRENT => self.on_wire.or(self.in_flight).unwrap_or(last),
            ID_LAST => last,
            ID_NEXT => RefreshId(last.0.wrapping_add(1)),
            n => RefreshId(u64::from(n)),
        }
    }

    /// A storage record as a step describes it.
    fn record(&mut self, r: &mut Reader) -> Option<String> {
        match r.u8() % 6 {
            RECORD_NONE => None,
            RECORD_STORED => self.storage.clone(),
            RECORD_MINTED => {
                let (_, grant) = self.mint(r.mint());
                let failures = r.u16();
                let not_before = self.now.saturating_add(u64::from(r.u32()) * 1_000);
                let exp_ms = jwt::decode(&grant.access_token)
                    .map_or(self.now.saturating_add(HOUR), |t| {
                        t.claims.exp.saturating_mul(1_000)
                    });
                let mut out = String::from("{\"v\":1,\"access\":");
                json::write_string(&mut out, &grant.access_token);
                for (key, value) in [("id", &grant.id_token), ("refresh", &grant.refresh_token)] {
                    if let Some(value) = value {
                        out.push_str(&format!(",\"{key}\":"));
                        json::write_string(&mut out, value);
                    }
                }
                let lifetime = grant.expires_in.unwrap_or(3_600) * 1_000;
                out.push_str(&format!(
                    ",\"expiresAt\":{exp_ms},\"lifetime\":{lifetime},\"notBefore\":{not_before},\"failures\":{failures}}}"
                ));
                Some(out)
            }
            RECORD_TEXT => Some(r.text()),
            RECORD_TAMPERED => {
                let stored = self.storage.clone()?;
                let at = stored.find("\"expiresAt\":")? + "\"expiresAt\":".len();
                let end = at + stored[at..].bytes().take_while(u8::is_ascii_digit).count();
                let expires_at: u64 = stored[at..end].parse().ok()?;
                let later = expires_at.saturating_add(365 * 24 * HOUR);
                Some(format!("{}{later}{}", &stored[..at], &stored[end..]))
            }
            _ => {
                let stored = self.storage.clone()?;
                let mut cut = usize::from(r.u16()) % (stored.len() + 1);
                while !stored.is_char_boundary(cut) {
                    cut -= 1;
                }
                Some(stored[..cut].to_owned())
            }
        }
    }

    /// Tokens as a [`Mint`] describes them: the answer body and the grant.
    fn mint(&mut self, m: Mint) -> (String, TokenGrant) {
        self.serial += 1;
        let serial = self.serial;
        let lifetime = LIFETIMES[usize::from(m.lifetime) % LIFETIMES.len()];
        let provider_now = self.now.saturating_add_signed(self.skew) / 1_000;
        let iat = provider_now.saturating_add_signed(i64::from(m.iat_minutes) * 60);
        let exp = iat.saturating_add(lifetime);
        let access = match m.access % 5 {
            0 => self.issuer.access_token("alice", iat, exp, serial),
            1 => self.other_client.access_token("alice", iat, exp, serial),
            2 => self.issuer.id_token("alice", iat, exp, serial),
            3 => format!("opaque-{serial}"),
            _ => self.other_issuer.access_token("alice", iat, exp, serial),
        };
        let id = match m.id % 4 {
            0 => None,
            1 => Some(self.issuer.id_token("alice", iat, exp, serial)),
            2 => Some(self.other_client.id_token("alice", iat, exp, serial)),
            _ => Some(access.clone()),
        };
        let refresh = match m.refresh % 4 {
            0 => None,
            1 => Some(format!("rt-{serial}")),
            2 => Some(String::new()),
            _ => Some(self.refresh_token().unwrap_or("rt-0").to_owned()),
        };
        let expires_in = match m.expires_in % 4 {
            0 => None,
            1 => Some(lifetime),
            2 => Some(lifetime / 2),
            _ => Some(86_400),
        };
        let shape = match m.shape % 4 {
            0 if matches!(self.provider, Provider::OAuth2 { .. }) => 2,
            0 => 1,
            s => s,
        };
        let members = |names: [&str; 4]| {
            let mut out = String::new();
            for (name, value) in names
                .iter()
                .zip([Some(&access), id.as_ref(), refresh.as_ref()])
            {
                if let Some(value) = value {
                    out.push_str(&format!("\"{name}\":"));
                    json::write_string(&mut out, value);
                    out.push(',');
                }
            }
            if let Some(s) = expires_in {
                out.push_str(&format!("\"{}\":{s},", names[3]));
            }
            out
        };
        let body = match shape {
            1 => format!(
                "{{\"AuthenticationResult\":{{{}\"TokenType\":\"Bearer\"}},\"ChallengeParameters\":{{}}}}",
                members(["AccessToken", "IdToken", "RefreshToken", "ExpiresIn"])
            ),
            2 => format!(
                "{{{}\"token_type\":\"Bearer\"}}",
                members(["access_token", "id_token", "refresh_token", "expires_in"])
            ),
            _ => r#"{"ChallengeName":"NEW_PASSWORD_REQUIRED","Session":"s3ss","ChallengeParameters":{}}"#.into(),
        };
        let grant = TokenGrant {
            access_token: access,
            id_token: id,
            refresh_token: refresh,
            expires_in,
        };
        (body, grant)
    }

    /// A token handed to a caller at `now`.
    fn check_handed_out(&self, token: &str) {
        assert!(!token.is_empty(), "handed out an empty token");
        assert_eq!(
            self.m.access_token(self.now),
            Some(token),
            "handed out a token access_token({}) would not",
            self.now
        );
        if let Ok(t) = jwt::decode(token) {
            let until = t
                .claims
                .exp
                .saturating_mul(1_000)
                .saturating_add(self.rules.max_clock_skew);
            assert!(
                self.now.saturating_add(self.rules.min_validity) < until,
                "handed out a token past exp {} + skew at {}",
                t.claims.exp,
                self.now
            );
        }
    }

    /// Performs the actions as a driver does, checking each.
    fn drain(&mut self, kind: Kind) {
        let current = self.m.tokens().map(|t| t.access_token.clone());
        while let Some(action) = self.m.poll_action() {
            match action {
                Action::AcquireRefreshLock { id } => {
                    assert!(
                        self.in_flight.is_none(),
                        "lock for {id:?} asked while {:?} is in flight",
                        self.in_flight
                    );
                    self.in_flight = Some(id);
                    self.last_id = Some(id);
                }
                Action::SendRefresh { id, request } => {
                    assert_eq!(self.in_flight, Some(id), "sent {id:?} without its lock");
                    assert!(self.on_wire.is_none(), "second request on the wire");
                    self.on_wire = Some(id);
                    let refresh = self
                        .refresh_token()
                        .expect("refreshing without a refresh token");
                    assert_eq!(request, self.provider.refresh_request(refresh));
                }
                Action::AbortRefresh { id } => {
                    if self.on_wire == Some(id) {
                        self.on_wire = None;
                    }
                }
                // This target's config leaves `keys` None (Config::new): signatures are not
                // checked here (tests/simulation.rs checks them on odd seeds), so the key-set
                // actions must never come.
                Action::AcquireKeysLock { .. }
                | Action::FetchKeys { .. }
                | Action::PersistKeys { .. }
                | Action::Verify { .. } => {
                    panic!("a key-set action without key checks: {action:?}")
                }
                Action::ReleaseRefreshLock { id } => {
                    assert_ne!(
                        self.on_wire,
                        Some(id),
                        "lock released with its request on the wire"
                    );
                    if self.in_flight == Some(id) {
                        self.in_flight = None;
                    }
                }
                Action::ResolveWaiters {
                    waiters,
                    access_token,
                } => {
                    self.check_handed_out(&access_token);
                    for id in waiters {
                        assert!(
                            self.waiters.remove(&id).is_some(),
                            "waiter {id:?} answered twice or never existed"
                        );
                    }
                }
                Action::RejectWaiters { waiters, .. } => {
                    for id in waiters {
                        assert!(
                            self.waiters.remove(&id).is_some(),
                            "waiter {id:?} answered twice or never existed"
                        );
                    }
                }
                Action::Persist { record } => {
                    if let Some(record) = &record {
                        if let Err(e) = Stored::from_json(record, &self.rules) {
                            panic!("persisted a record it cannot read back ({e:?}): {record}");
                        }
                    }
                    self.storage = record;
                }
                Action::Broadcast { message } => {
                    assert!(
                        TabMessage::decode(&message).is_some(),
                        "broadcast {message:?} does not decode"
                    );
                }
                Action::GoToLogin { reason } => {
                    self.logins += 1;
                    assert_eq!(self.logins, 1, "GoToLogin twice for one sign-in");
                    let expected = match reason {
                        LoginReason::RefreshTokenDead { .. } => kind == Kind::Answer { dead: true },
                        LoginReason::NoRefreshToken => kind == Kind::Request,
                        LoginReason::ExpiredElsewhere => kind == Kind::Tab,
                    };
                    assert!(expected, "GoToLogin {reason:?} after {kind:?}");
                }
                Action::Emit { event } => {
                    if let Event::SignedIn { .. } = event {
                        self.logins = 0;
                    }
                }
            }
        }
        if let Some(old) = current {
            if self.m.tokens().map(|t| &t.access_token) != Some(&old) {
                self.old_tokens.push(old);
            }
        }
        assert_eq!(
            self.m.snapshot().refreshing,
            self.in_flight.is_some(),
            "snapshot says refreshing {} with {:?} in flight",
            self.m.snapshot().refreshing,
            self.in_flight
        );
        if let Some(first) = self.waiters.values().min() {
            let timer = self.m.poll_timeout();
            assert!(
                timer.is_some_and(|t| t <= *first),
                "no timer by the deadline {first}: {timer:?}"
            );
        }
    }
}
