//! The key-set fleet (issue 14): N browser sessions that check token signatures start at once
//! with cold key caches, and the provider rotates its signing key mid-run. It counts what the
//! key-set endpoint sees: requests per session, how many in the first seconds, the busiest second
//! after the rotation.
//!
//! Each session is the real [`SessionMachine`], configured as the browser configures a user pool
//! (the pool's JWKS URL), in its own browser (its own storage and key cache: the fleet's floor is
//! one key-set request per session at a cold start). It starts with a stored token signed with
//! the first key and issued within the last hour, and its app asks for a token every 1 to 5
//! minutes. The provider answers refreshes with tokens signed by its current key and the key
//! set with every key it has published, `Cache-Control: max-age=3600`; at `rotate_at` it starts
//! signing with a new key, published the same moment (the hard case: a provider that publishes
//! ahead gives sessions that refetched for another reason the key before they need it). The
//! driver plays WebCrypto: a signature passes when the key the session picked is the one that
//! signed (the simulated tokens carry no real signature, only the `kid`). Optionally the key set
//! answers 503 for a while, to see fetches back off.
//!
//! Deterministic: one seeded [`Rng`] for every draw, one event queue ordered by time and then
//! by sequence.

use crate::engine::http::HttpResponse;
use crate::engine::jwt;
use crate::engine::machine::{Action, Event, RefreshId, SessionMachine, TokenAnswer};
use crate::engine::protocol::TokenGrant;
use crate::engine::rng::Rng;
use crate::engine::tokens::Provenance;
use crate::engine::verify::KeyBook;
use crate::engine::Millis;
use crate::sim::fleet::{cognito_config, T0};
use crate::sim::mint::Issuer;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

const SECOND: Millis = 1_000;
const MINUTE: Millis = 60 * SECOND;
/// The pool's key set, as the sessions derive it.
const JWKS_URL: &str =
    "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Sim/.well-known/jwks.json";

/// What one run is made of.
#[derive(Debug, Clone)]
pub struct KeyScenario {
    /// N: browser sessions (one tab each, each its own key cache).
    pub sessions: usize,
    pub seed: u64,
    /// When the provider starts signing with a new key (and publishes it).
    pub rotate_at: Millis,
    /// The key set answers 503 from..until, when given.
    pub outage: Option<(Millis, Millis)>,
    /// The run ends here.
    pub horizon: Millis,
}

impl KeyScenario {
    /// `sessions` sessions for two hours, the key rotating at 30 minutes.
    pub fn new(sessions: usize, seed: u64) -> KeyScenario {
        KeyScenario {
            sessions,
            seed,
            rotate_at: T0 + 30 * MINUTE,
            outage: None,
            horizon: T0 + 120 * MINUTE,
        }
    }
}

/// What the run measured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyReport {
    pub sessions: usize,
    /// Requests to the key-set endpoint, all sessions.
    pub key_requests: u64,
    /// The most any one session made.
    pub max_per_session: u64,
    /// Those made in the first 10 s (the cold start).
    pub at_start: u64,
    /// The busiest second from the rotation on.
    pub peak_after_rotation: u64,
    /// Sessions that fetched the key set again because of the new key (before it expired).
    pub refetched_for_rotation: u64,
    /// Refresh requests, all sessions.
    pub refreshes: u64,
    /// Token requests answered with a token, and answered with an error.
    pub served: u64,
    pub failed: u64,
    /// Tokens a session refused (`tokenRejected`): none should be, all are genuine.
    pub rejected: u64,
    /// Sessions sent to login.
    pub signouts: u64,
}

impl KeyReport {
    /// One line for people.
    pub fn line(&self) -> String {
        format!(
            "key_rotation: N {} | key-set requests {} ({:.2}/session, max {}) | first 10 s {} | \
             refetched for the new kid {} | busiest second after rotation {} | refreshes {} | \
             tokens served {}, failed {}, rejected {} | sign-outs {}",
            self.sessions,
            self.key_requests,
            self.key_requests as f64 / self.sessions.max(1) as f64,
            self.max_per_session,
            self.at_start,
            self.refetched_for_rotation,
            self.peak_after_rotation,
            self.refreshes,
            self.served,
            self.failed,
            self.rejected,
            self.signouts,
        )
    }
}

#[derive(Debug, Clone, Copy)]
enum Ev {
    Wake,
    Caller,
    RefreshAnswer(RefreshId),
    KeysAnswer(RefreshId),
    Verified(RefreshId, bool),
}

struct Client {
    session: SessionMachine,
    storage: Option<String>,
    keys: Option<String>,
    armed: Option<Millis>,
    key_requests: u64,
    /// When this session last fetched the key set (for telling rotation refetches apart).
    last_fetch: Option<Millis>,
}

struct Sim<'a> {
    scenario: &'a KeyScenario,
    rng: Rng,
    queue: BinaryHeap<Reverse<(Millis, u64, usize, EvKey)>>,
    events: Vec<Ev>,
    seq: u64,
    issuer: Issuer,
    per_second: BTreeMap<Millis, u64>,
    report: KeyReport,
}

/// An index into `Sim::events` (the heap orders by time, then sequence).
type EvKey = usize;

impl Sim<'_> {
    fn push(&mut self, at: Millis, s: usize, ev: Ev) {
        self.seq += 1;
        self.events.push(ev);
        self.queue
            .push(Reverse((at, self.seq, s, self.events.len() - 1)));
    }

    fn latency(&mut self) -> Millis {
        30 + self.rng.up_to(120)
    }

    /// The key the provider signs with at `now`, and the key set it serves.
    fn provider(&self, now: Millis) -> (&'static str, &'static str) {
        if now >= self.scenario.rotate_at {
            (
                "k2",
                r#"{"keys":[{"kid":"k2","kty":"RSA","alg":"RS256","use":"sig","n":"k2n","e":"AQAB"},{"kid":"k1","kty":"RSA","alg":"RS256","use":"sig","n":"k1n","e":"AQAB"}]}"#,
            )
        } else {
            (
                "k1",
                r#"{"keys":[{"kid":"k1","kty":"RSA","alg":"RS256","use":"sig","n":"k1n","e":"AQAB"}]}"#,
            )
        }
    }

    /// Performs session `s`'s actions, then re-arms its timer.
    fn pump(&mut self, clients: &mut [Client], s: usize, now: Millis) {
        let Some(c) = clients.get_mut(s) else { return };
        while let Some(action) = c.session.poll_action() {
            match action {
                Action::AcquireRefreshLock { id } => {
                    let record = c.storage.clone();
                    c.session.handle_refresh_lock(now, id, record.as_deref());
                }
                Action::AcquireKeysLock { id } => {
                    let record = c.keys.clone();
                    c.session.handle_keys_lock(now, id, record.as_deref());
                }
                Action::SendRefresh { id, .. } => {
                    self.report.refreshes += 1;
                    let at = now + self.latency();
                    self.push(at, s, Ev::RefreshAnswer(id));
                }
                Action::FetchKeys { id, .. } => {
                    self.report.key_requests += 1;
                    c.key_requests += 1;
                    if now >= self.scenario.rotate_at
                        && c.last_fetch.is_some_and(|at| {
                            at < self.scenario.rotate_at && now < at + 3_600 * SECOND
                        })
                    {
                        self.report.refetched_for_rotation += 1;
                    }
                    c.last_fetch = Some(now);
                    *self.per_second.entry(now / SECOND).or_default() += 1;
                    let at = now + self.latency();
                    self.push(at, s, Ev::KeysAnswer(id));
                }
                Action::Verify { id, key, input, .. } => {
                    // WebCrypto, played: the signature passes when the key the session picked is
                    // the one named by the token (its `n` is "<kid>n").
                    let mut token = input;
                    token.push_str(".c2ln");
                    let kid = jwt::decode(&token).ok().and_then(|t| t.header.kid);
                    let ok = kid.is_some_and(|kid| key.contains(&format!("\"n\":\"{kid}n\"")));
                    self.push(now + 1, s, Ev::Verified(id, ok));
                }
                Action::ResolveWaiters { waiters, .. } => {
                    self.report.served += waiters.len() as u64
                }
                Action::RejectWaiters { waiters, .. } => self.report.failed += waiters.len() as u64,
                Action::Persist { record } => c.storage = record,
                Action::PersistKeys { record } => c.keys = Some(record),
                Action::GoToLogin { .. } => self.report.signouts += 1,
                Action::Emit {
                    event: Event::TokenRejected { .. },
                } => self.report.rejected += 1,
                Action::Emit { .. }
                | Action::Broadcast { .. }
                | Action::AbortRefresh { .. }
                | Action::ReleaseRefreshLock { .. } => {}
            }
        }
        if let Some(at) = c.session.poll_timeout() {
            let at = at.max(now + 1);
            if c.armed.map_or(true, |armed| at < armed || armed <= now) {
                c.armed = Some(at);
                self.push(at, s, Ev::Wake);
            }
        }
    }
}

/// Runs the key-set fleet.
pub fn run(scenario: &KeyScenario) -> KeyReport {
    let issuer = Issuer {
        kid: String::from("k1"),
        ..Issuer::default()
    };
    let mut config = cognito_config(&issuer);
    config.keys = Some(KeyBook::new(String::from(JWKS_URL)));
    let mut sim = Sim {
        scenario,
        rng: Rng::new(scenario.seed),
        queue: BinaryHeap::new(),
        events: Vec::new(),
        seq: 0,
        issuer,
        per_second: BTreeMap::new(),
        report: KeyReport {
            sessions: scenario.sessions,
            key_requests: 0,
            max_per_session: 0,
            at_start: 0,
            peak_after_rotation: 0,
            refetched_for_rotation: 0,
            refreshes: 0,
            served: 0,
            failed: 0,
            rejected: 0,
            signouts: 0,
        },
    };
    let mut clients = Vec::with_capacity(scenario.sessions);
    for s in 0..scenario.sessions {
        let seed = sim.rng.next_u64();
        let mut session = SessionMachine::new(config.clone(), seed, T0);
        // A stored token from the last hour: every session starts at once, with no key set.
        let iat = T0 / SECOND - 60 - sim.rng.up_to(3_000);
        let sub = format!("user-{s}");
        let grant = TokenGrant {
            access_token: sim.issuer.access_token(&sub, iat, iat + 3_600, s as u64),
            id_token: Some(sim.issuer.id_token(&sub, iat, iat + 3_600, s as u64)),
            refresh_token: Some(format!("refresh-{s}")),
            expires_in: None,
        };
        if session.set_tokens(T0, grant, Provenance::External).is_err() {
            sim.report.rejected += 1;
        }
        clients.push(Client {
            session,
            storage: None,
            keys: None,
            armed: None,
            key_requests: 0,
            last_fetch: None,
        });
        let first_call = T0 + sim.rng.up_to(4 * MINUTE);
        sim.push(first_call, s, Ev::Caller);
        sim.pump(&mut clients, s, T0);
    }
    while let Some(Reverse((now, _, s, key))) = sim.queue.pop() {
        if now > scenario.horizon {
            break;
        }
        let Some(ev) = sim.events.get(key).copied() else {
            continue;
        };
        let Some(c) = clients.get_mut(s) else {
            continue;
        };
        match ev {
            Ev::Wake => {
                if c.armed == Some(now) {
                    c.armed = None;
                }
                c.session.handle_timeout(now);
            }
            Ev::Caller => {
                match c.session.request_token(now, now + 10 * SECOND) {
                    TokenAnswer::Ready(_) => sim.report.served += 1,
                    TokenAnswer::Waiting(_) => {}
                    TokenAnswer::Failed(_) => sim.report.failed += 1,
                }
                let next = now + MINUTE + sim.rng.up_to(4 * MINUTE);
                sim.push(next, s, Ev::Caller);
            }
            Ev::RefreshAnswer(id) => {
                let (kid, _) = sim.provider(now);
                sim.issuer.kid = String::from(kid);
                let body = sim.issuer.cognito_answer(
                    &format!("user-{s}"),
                    now / SECOND,
                    3_600,
                    now + s as u64,
                    None,
                );
                c.session
                    .handle_refresh_response(now, id, &HttpResponse::new(200, &body));
            }
            Ev::KeysAnswer(id) => {
                let down = scenario
                    .outage
                    .is_some_and(|(from, until)| now >= from && now < until);
                let (_, jwks) = sim.provider(now);
                let response = if down {
                    HttpResponse::new(503, "<html>503</html>")
                } else {
                    HttpResponse::new(200, jwks)
                };
                c.session
                    .handle_keys_answer(now, id, Ok(&response), Some("3600"));
            }
            Ev::Verified(id, ok) => c.session.handle_verified(now, id, ok),
        }
        sim.pump(&mut clients, s, now);
    }
    let rotation_second = scenario.rotate_at / SECOND;
    sim.report.at_start = sim
        .per_second
        .range(..T0 / SECOND + 10)
        .map(|(_, n)| n)
        .sum();
    sim.report.peak_after_rotation = sim
        .per_second
        .range(rotation_second..)
        .map(|(_, n)| *n)
        .max()
        .unwrap_or(0);
    sim.report.max_per_session = clients.iter().map(|c| c.key_requests).max().unwrap_or(0);
    sim.report
}
