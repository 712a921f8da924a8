//! Deterministic simulation of one session against a misbehaving provider.
//!
//! Each seed builds a random schedule — callers with deadlines, tokens of random lifetimes, a
//! provider clock that disagrees with the local one, the machine asleep for seconds to days (a
//! laptop's lid closed), the local clock set back and forward by seconds to days (by hand, by a
//! time sync), hidden tabs, throttling storms, 5xx, dropped and hung connections, garbage
//! answers, revocations and sign-ins — and drives the real `SessionMachine` through it on a
//! virtual clock, checking the behaviour contract after every step. Odd seeds check token
//! signatures (issue 14): the key set is fetched with random latency and fails with the
//! provider's storms, and WebCrypto's answers come a few ms late (the provider's tokens pass).
//!
//! 1. no caller is ever handed a token that is missing or expired on the provider's clock;
//! 2. at most one refresh request is on the wire at a time;
//! 3. every caller is answered by its deadline, with a token or a typed error;
//! 4. the browser is sent to login at most once per sign-in, and only when the refresh token is
//!    really dead;
//! 5. transient failures never lose the refresh token (no sign-out without a revocation);
//! 6. once the provider is healthy again, a caller gets a token;
//! 7. a caller told when to retry is never told a moment further off than the longest hold the
//!    retry policy sets (5 minutes), whatever the clock did.
//!
//! Time: events are queued on real time, which only moves forward; the session reads the local
//! clock, real time plus an offset that clock changes move; the provider's clock follows real
//! time. Deadlines are held on real time. A session can tell that its clock was set back only
//! when a call reads an earlier time than the call before it; the part of a jump back it could
//! not see (more real time passed unseen than the clock went back) is the one allowance the
//! checks make: waiters pending across it may be answered that much late (1, 3), and a token
//! that arrived before it may be handed out that much past its `exp`. A jump it sees costs
//! neither: the session re-bases its times and refreshes before handing a token out again.
//! One fault is held back while the local clock is far behind the provider's: a token that
//! expired an hour before it was sent is refused only while the clock is less than about 55
//! minutes behind (a fresh token is timed from its arrival, bounded by `exp` plus the tolerated
//! skew on the local clock), so past that the provider sends garbage of another kind instead.
//!
//! `SIM_SCHEDULES=n` (or `SIM_SEEDS=n`) sets how many seeds run (default 10,000, what CI runs);
//! `SIM_SHARD=i/n` runs only the seeds `s` with `s % n == i`, so `scripts/soak.sh` can spread a
//! long run over processes; `SIM_SEED=s` replays one seed and prints its event log. A failing seed
//! prints itself, the others still run, and the run fails at the end with every failing seed. The
//! last line, `SIM_TOTALS schedules=… events=… handed_out=… refreshes=… logins=… violations=…`,
//! is what `scripts/soak.sh` adds up over shards.

use cognito_session::engine::http::HttpResponse;
use cognito_session::engine::jwt;
use cognito_session::engine::machine::{
    Action, SessionError, SessionMachine, TokenAnswer, WaiterId,
};
use cognito_session::engine::protocol::TokenGrant;
use cognito_session::engine::retry::RetryBook;
use cognito_session::engine::rng::Rng;
use cognito_session::engine::tokens::Provenance;
use cognito_session::engine::verify::KeyBook;
use cognito_session::engine::Millis;
use cognito_session::sim::fleet::cognito_config;
use cognito_session::sim::mint::Issuer;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

const SECOND: Millis = 1_000;
const MINUTE: Millis = 60 * SECOND;
const HOUR: Millis = 60 * MINUTE;
const DAY: Millis = 24 * HOUR;
/// How long each schedule runs on the virtual clock.
const HORIZON: Millis = 4 * HOUR;
/// The provider is healthy for this long at the end, so liveness can be checked.
const CALM_TAIL: Millis = 20 * MINUTE;

/// How the provider answers one refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Ok,
    Throttle,
    ThrottleWithRetryAfter,
    Internal,
    BadGateway,
    Unavailable,
    Drop,
    Hang,
    HtmlOk,
    Truncated,
    WrongTypes,
    Huge,
    ExpiredToken,
}

const FAULTS: [Answer; 12] = [
    Answer::Throttle,
    Answer::ThrottleWithRetryAfter,
    Answer::Internal,
    Answer::BadGateway,
    Answer::Unavailable,
    Answer::Drop,
    Answer::Hang,
    Answer::HtmlOk,
    Answer::Truncated,
    Answer::WrongTypes,
    Answer::Huge,
    Answer::ExpiredToken,
];

#[derive(Debug, Clone)]
enum Event {
    Caller {
        deadline_after: Millis,
    },
    Response {
        id: u64,
        status: u16,
        error_type: Option<&'static str>,
        retry_after: Option<&'static str>,
        body: String,
        /// The body holds a token that expired an hour before it was sent.
        expired: bool,
    },
    NetworkFailure {
        id: u64,
    },
    /// The timer armed `n`-th fires (it is current if no other was armed since).
    Timer(u64),
    Visibility(bool),
    Revoke,
    /// The machine sleeps this long: real time passes, nothing runs, then every timer and
    /// answer that came due fires late, a caller wants a token at once (the page's own timer),
    /// and what the app would have done meanwhile comes after.
    Sleep(Millis),
    /// The local clock is set back this much; real time does not move.
    ClockBack(Millis),
    /// The local clock is set forward this much (at most back to real time: a clock far ahead
    /// of the provider's gets its fresh tokens refused as expired, by design).
    ClockForward(Millis),
    SignIn,
    /// The answer to key-set fetch `id`: the set (`ok`) or a 503.
    KeysAnswer {
        id: u64,
        ok: bool,
    },
    /// WebCrypto answered signature check `id` (the provider's tokens are genuine: it passes).
    Verified {
        id: u64,
    },
}

/// The pool's key set, with the key the simulated tokens name.
const JWKS: &str =
    r#"{"keys":[{"kid":"sim","kty":"RSA","alg":"RS256","use":"sig","n":"AQAB","e":"AQAB"}]}"#;

impl Event {
    /// What the app or the user does, as opposed to the network, the timers and the provider.
    fn is_app(&self) -> bool {
        matches!(
            self,
            Event::Caller { .. }
                | Event::Visibility(_)
                | Event::Sleep(_)
                | Event::ClockBack(_)
                | Event::ClockForward(_)
                | Event::SignIn
        )
    }
}

#[derive(Debug, Default)]
struct Totals {
    /// Events taken off the queue and handled.
    events: u64,
    handed_out: u64,
    rejected: BTreeMap<&'static str, u64>,
    refreshes: u64,
    logins: u64,
}

/// The provider: who is signed in, which refresh tokens are live, and what goes wrong when.
struct Provider_ {
    issuer: Issuer,
    /// Provider clock minus real time.
    skew: i64,
    lifetime_s: u64,
    serial: u64,
    live_refresh: Option<String>,
    /// Fault probability per refresh outside storms, in percent.
    fault_percent: u64,
    /// Periods (start, end, answer) of real time during which every refresh gets that answer.
    storms: Vec<(Millis, Millis, Answer)>,
    revoke_at: Option<Millis>,
    /// From this real moment on the provider is healthy.
    calm_from: Millis,
}

impl Provider_ {
    /// The provider's clock at real moment `real`.
    fn clock(&self, real: Millis) -> Millis {
        real.saturating_add_signed(self.skew)
    }

    fn sign_in(&mut self, real: Millis) -> TokenGrant {
        self.serial += 1;
        let refresh = format!("rt-{}", self.serial);
        self.live_refresh = Some(refresh.clone());
        let iat = self.clock(real) / 1_000;
        let exp = iat + self.lifetime_s;
        TokenGrant {
            access_token: self.issuer.access_token("alice", iat, exp, self.serial),
            id_token: Some(self.issuer.id_token("alice", iat, exp, self.serial)),
            refresh_token: Some(refresh),
            expires_in: Some(self.lifetime_s),
        }
    }

    fn answer_for(&self, real: Millis, rng: &mut Rng) -> Answer {
        if real >= self.calm_from {
            return Answer::Ok;
        }
        if let Some((_, _, answer)) = self
            .storms
            .iter()
            .find(|(s, e, _)| (*s..*e).contains(&real))
        {
            return *answer;
        }
        if rng.up_to(99) < self.fault_percent {
            pick(rng, &FAULTS)
        } else {
            Answer::Ok
        }
    }
}

struct World {
    seed: u64,
    rng: Rng,
    /// Real time: what the queue runs on. Only moves forward.
    real: Millis,
    /// The local clock minus real time (never above 0: the clock is set back, then maybe forward
    /// again).
    offset: i64,
    /// The local clock's reading: what the session is told.
    now: Millis,
    seq: u64,
    /// Events by real time.
    queue: BinaryHeap<Reverse<(Millis, u64, usize)>>,
    events: Vec<Event>,
    /// The local moment the session's timer is armed for, when that timer fires on real time,
    /// and how many timers were armed so far.
    timer_at: Option<Millis>,
    timer_real: Millis,
    timers: u64,
    session: SessionMachine,
    provider: Provider_,
    storage: Option<String>,
    /// Each waiter's deadline on real time (moved on by the part of a jump back the session
    /// could not see).
    waiters: BTreeMap<WaiterId, Millis>,
    /// Waiters whose deadline passed while the machine slept: they are answered at wake-up.
    slept_through: std::collections::BTreeSet<WaiterId>,
    /// The local time the session read at its last call.
    last_reading: Millis,
    /// How far the clock went back since the session's last call.
    back_since_last_call: Millis,
    /// The total of the jumps back the session could not see at all; a token may be handed out
    /// past its `exp` by what this grew since it arrived ([`World::arrived`]).
    unseen_back: Millis,
    /// `unseen_back` when each token arrived.
    arrived: std::collections::HashMap<String, Millis>,
    /// The furthest a retry moment may lie ahead ([`RetryBook::longest_hold`]).
    longest_hold: Millis,
    /// Where the schedule stops, on real time (moved on by sleeps).
    end: Millis,
    on_wire: Option<u64>,
    revoked: bool,
    logins_this_sign_in: u32,
    signed_in: bool,
    log: Vec<String>,
    verbose: bool,
    totals: Totals,
    /// Odd seeds check signatures (issue 14): the key set's record, and a random stream of its
    /// own for the key set's latencies (so even seeds replay as before).
    keys_storage: Option<String>,
    krng: Rng,
}

impl World {
    fn new(seed: u64, verbose: bool) -> World {
        let mut rng = Rng::new(seed);
        let issuer = Issuer::default();
        let lifetime_s = pick(&mut rng, &[300, 900, 3_600]);
        let skew = rng.up_to(8 * MINUTE) as i64 - 4 * MINUTE as i64;
        let mut storms = Vec::new();
        for _ in 0..rng.up_to(3) {
            let start = rng.up_to(HORIZON - CALM_TAIL - 20 * MINUTE);
            let length = rng.between(5_000, 10 * MINUTE);
            storms.push((start, start + length, pick(&mut rng, &FAULTS)));
        }
        let revoke_at = (rng.up_to(2) == 0).then(|| rng.up_to(HORIZON - CALM_TAIL));
        let provider = Provider_ {
            issuer: issuer.clone(),
            skew,
            lifetime_s,
            serial: 0,
            live_refresh: None,
            fault_percent: rng.up_to(40),
            storms,
            revoke_at,
            calm_from: Millis::MAX,
        };
        let mut config = cognito_config(&issuer);
        if seed % 2 == 1 {
            config.keys = Some(KeyBook::new(String::from("https://keys.example/jwks.json")));
        }
        let longest_hold = RetryBook::longest_hold(&config.backoff, &config.budget);
        let start = 1_700_000_000_000 + rng.up_to(HOUR);
        let session = SessionMachine::new(config, rng.next_u64(), start);
        let mut world = World {
            seed,
            rng,
            real: start,
            offset: 0,
            now: start,
            seq: 0,
            queue: BinaryHeap::new(),
            events: Vec::new(),
            timer_at: None,
            timer_real: 0,
            timers: 0,
            session,
            provider,
            storage: None,
            waiters: BTreeMap::new(),
            slept_through: Default::default(),
            last_reading: start,
            back_since_last_call: 0,
            unseen_back: 0,
            arrived: Default::default(),
            longest_hold,
            end: 0,
            on_wire: None,
            revoked: false,
            logins_this_sign_in: 0,
            signed_in: false,
            log: Vec::new(),
            verbose,
            totals: Totals::default(),
            keys_storage: None,
            krng: Rng::new(seed ^ 0x6b65_7973),
        };
        world.schedule_at(start, Event::SignIn);
        let mut t = start;
        while t < start + HORIZON {
            let gap = pick(&mut world.rng, &[2_000, 30_000, 5 * MINUTE]);
            t += world.rng.between(1, gap);
            let deadline_after = world.rng.between(100, 30_000);
            world.schedule_at(t, Event::Caller { deadline_after });
        }
        for _ in 0..world.rng.up_to(4) {
            let at = start + world.rng.up_to(HORIZON - CALM_TAIL);
            let visible = world.rng.up_to(1) == 0;
            world.schedule_at(at, Event::Visibility(visible));
        }
        for _ in 0..world.rng.up_to(2) {
            let at = start + world.rng.up_to(HORIZON - CALM_TAIL);
            let length = jump(&mut world.rng);
            world.schedule_at(at, Event::Sleep(length));
        }
        for _ in 0..world.rng.up_to(2) {
            let at = start + world.rng.up_to(HORIZON - CALM_TAIL);
            let length = jump(&mut world.rng);
            world.schedule_at(at, Event::ClockBack(length));
        }
        if world.rng.up_to(1) == 0 {
            let at = start + world.rng.up_to(HORIZON - CALM_TAIL);
            let length = jump(&mut world.rng);
            world.schedule_at(at, Event::ClockForward(length));
        }
        if let Some(at) = world.provider.revoke_at {
            world.schedule_at(start + at, Event::Revoke);
        }
        world.provider.storms.iter_mut().for_each(|(s, e, _)| {
            *s += start;
            *e += start;
        });
        world.provider.revoke_at = None;
        world.provider.calm_from = start + HORIZON - CALM_TAIL;
        world
    }

    fn schedule_at(&mut self, at: Millis, event: Event) {
        self.seq += 1;
        self.events.push(event);
        self.queue
            .push(Reverse((at, self.seq, self.events.len() - 1)));
    }

    /// Moves real time on to `real` (never back) and the local clock with it.
    fn advance_to(&mut self, real: Millis) {
        self.real = self.real.max(real);
        self.set_local();
    }

    fn set_local(&mut self) {
        self.now = self.real.saturating_add_signed(self.offset);
    }

    /// The real moment at which the local clock, reading `self.now` now, reads `local`.
    fn real_for(&self, local: Millis) -> Millis {
        self.real + local.saturating_sub(self.now)
    }

    /// The local reading for a call into the session. The session finds the clock set back only
    /// when a call reads an earlier time than the call before it, and then by that difference;
    /// the rest of the jump it cannot see. Waiters pending across the jump may be answered that
    /// much later than their real deadline. A jump it could not see at all leaves the expiry of
    /// the token it holds that much later than the real one, and the token may be handed out that
    /// much past its `exp`; a jump it sees, however little of it, makes it refresh first.
    fn call_now(&mut self) -> Millis {
        let now = self.now;
        if self.back_since_last_call > 0 {
            let seen = self.last_reading.saturating_sub(now);
            let unseen = self.back_since_last_call.saturating_sub(seen);
            for deadline in self.waiters.values_mut() {
                *deadline += unseen;
            }
            if seen == 0 {
                self.unseen_back += unseen;
            }
            self.back_since_last_call = 0;
        }
        self.last_reading = now;
        now
    }

    /// Notes the token the session holds now as arrived now, if it is new.
    fn note_arrival(&mut self) {
        if let Some(tokens) = self.session.tokens() {
            if !self.arrived.contains_key(&tokens.access_token) {
                self.arrived
                    .insert(tokens.access_token.clone(), self.unseen_back);
            }
        }
    }

    fn note(&mut self, line: impl FnOnce() -> String) {
        if self.verbose {
            let line = format!("{:>10} {:>10} {}", self.real, self.now, line());
            println!("{line}");
            self.log.push(line);
        }
    }

    fn fail(&self, what: &str) -> ! {
        panic!(
            "seed {} violated the contract at t={} (local {}): {what}\nreplay with SIM_SEED={}",
            self.seed, self.real, self.now, self.seed
        );
    }

    fn run(&mut self) {
        self.end = self.real + HORIZON + HOUR;
        while let Some(Reverse((at, seq, index))) = self.queue.pop() {
            if at > self.end {
                self.queue.push(Reverse((at, seq, index)));
                break;
            }
            self.advance_to(at);
            self.check_deadlines();
            let event = self.events[index].clone();
            self.totals.events += 1;
            self.handle(event);
            self.drain();
            self.check_deadlines();
        }
        self.check_liveness();
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::SignIn => {
                let grant = self.provider.sign_in(self.real);
                self.revoked = false;
                self.logins_this_sign_in = 0;
                self.signed_in = true;
                self.note(|| "sign in".into());
                let now = self.call_now();
                if let Err(e) = self.session.set_tokens(now, grant, Provenance::Fresh) {
                    self.fail(&format!("fresh sign-in refused: {e:?}"));
                }
                self.note_arrival();
            }
            Event::Caller { deadline_after } => {
                let now = self.call_now();
                let deadline = now + deadline_after;
                self.note(|| format!("caller, deadline {deadline}"));
                let answer = match self.session.request_token(now, deadline) {
                    TokenAnswer::Ready(token) => Ok(token.to_owned()),
                    TokenAnswer::Waiting(id) => Err(Some(id)),
                    TokenAnswer::Failed(error) => {
                        self.count_rejection(&error);
                        Err(None)
                    }
                };
                match answer {
                    Ok(token) => self.check_token(&token),
                    Err(Some(id)) => {
                        self.waiters.insert(id, self.real + deadline_after);
                    }
                    Err(None) => {}
                }
            }
            Event::Response {
                id,
                status,
                error_type,
                retry_after,
                mut body,
                expired,
            } => {
                if self.on_wire == Some(id) {
                    self.on_wire = None;
                }
                // A fresh token is timed from its arrival, bounded by its exp plus the tolerated
                // skew on the local clock: one that expired an hour ago is refused only while the
                // local clock is less than about 55 minutes behind the provider's. Set back
                // further, the session cannot tell it from a fresh one (it has no other time
                // source), so the provider sends garbage of another kind instead.
                let behind = self.provider.skew - self.offset;
                if expired && behind > 50 * MINUTE as i64 {
                    body = r#"{"AuthenticationResult":{"AccessToken":"ey"#.into();
                }
                let response = HttpResponse {
                    status,
                    error_type,
                    retry_after,
                    amz_retry_after: None,
                    body: &body,
                };
                self.note(|| format!("response {id}: {status}"));
                let now = self.call_now();
                self.session.handle_refresh_response(
                    now,
                    cognito_session::engine::machine::RefreshId(id),
                    &response,
                );
                self.note_arrival();
            }
            Event::KeysAnswer { id, ok } => {
                self.note(|| format!("key set {id}: {ok}"));
                let response = if ok {
                    HttpResponse::new(200, JWKS)
                } else {
                    HttpResponse::new(503, "<html>503</html>")
                };
                let now = self.call_now();
                self.session.handle_keys_answer(
                    now,
                    cognito_session::engine::machine::RefreshId(id),
                    Ok(&response),
                    Some("3600"),
                );
                // A key set that failed installs a refresh answer's tokens unchecked.
                self.note_arrival();
            }
            Event::Verified { id } => {
                self.note(|| format!("verified {id}"));
                let now = self.call_now();
                self.session.handle_verified(
                    now,
                    cognito_session::engine::machine::RefreshId(id),
                    true,
                );
                // A refresh answer's tokens are installed once checked.
                self.note_arrival();
            }
            Event::NetworkFailure { id } => {
                if self.on_wire == Some(id) {
                    self.on_wire = None;
                }
                let now = self.call_now();
                self.session.handle_refresh_failure(
                    now,
                    cognito_session::engine::machine::RefreshId(id),
                    "connection reset",
                );
            }
            Event::Timer(n) => {
                // A browser timer fires after the delay it was armed with, whatever the clock
                // did meanwhile; the session may find it early (the clock went back).
                let at = self.timer_at;
                self.note(|| format!("timer {n} for {at:?}"));
                if n == self.timers && at.is_some() {
                    self.timer_at = None;
                    let now = self.call_now();
                    self.session.handle_timeout(now);
                }
            }
            Event::Visibility(visible) => {
                let now = self.call_now();
                self.session.handle_visibility(now, visible);
            }
            Event::Revoke => {
                self.note(|| "revoke".into());
                self.provider.live_refresh = None;
                self.revoked = true;
            }
            Event::Sleep(by) => {
                // The machine slept: nothing ran in between, every timer and answer that came
                // due fires late, and what the app does next comes after the wake-up.
                self.note(|| format!("sleeps {by} ms"));
                let pending: Vec<_> = self.queue.drain().collect();
                for Reverse((at, seq, index)) in pending {
                    let at = if self.events[index].is_app() {
                        at + by
                    } else {
                        at
                    };
                    self.queue.push(Reverse((at, seq, index)));
                }
                self.advance_to(self.real + by);
                self.end += by;
                self.provider.calm_from = self.provider.calm_from.saturating_add(by);
                let real = self.real;
                let overdue: Vec<WaiterId> = self
                    .waiters
                    .iter()
                    .filter(|(_, d)| **d < real)
                    .map(|(id, _)| *id)
                    .collect();
                self.slept_through.extend(overdue);
                let now = self.call_now();
                self.session.handle_timeout(now);
                // The page's own timers fire late too: a caller wants a token at wake-up.
                let deadline_after = self.rng.between(100, 30_000);
                self.schedule_at(self.real, Event::Caller { deadline_after });
            }
            Event::ClockBack(by) => {
                // Nothing tells the session: it finds out at its next call, if it can.
                self.note(|| format!("clock set back {by} ms"));
                self.offset -= by as i64;
                self.back_since_last_call += by;
                self.set_local();
            }
            Event::ClockForward(by) => {
                let by = by.min(self.offset.unsigned_abs());
                self.note(|| format!("clock set forward {by} ms"));
                self.offset += by as i64;
                self.back_since_last_call = self.back_since_last_call.saturating_sub(by);
                self.set_local();
            }
        }
    }

    /// Performs the session's actions until it has nothing more to say.
    fn drain(&mut self) {
        while let Some(action) = self.session.poll_action() {
            match action {
                Action::AcquireRefreshLock { id } => {
                    let record = self.storage.clone();
                    let now = self.call_now();
                    self.session.handle_refresh_lock(now, id, record.as_deref());
                }
                Action::SendRefresh { id, request } => {
                    if self.on_wire.is_some() {
                        self.fail("a second refresh was sent while one was on the wire");
                    }
                    self.totals.refreshes += 1;
                    self.on_wire = Some(id.0);
                    self.send(id.0, &request.body);
                }
                Action::AbortRefresh { id } => {
                    if self.on_wire == Some(id.0) {
                        self.on_wire = None;
                    }
                }
                Action::ReleaseRefreshLock { .. }
                | Action::Broadcast { .. }
                | Action::Emit { .. } => {}
                Action::AcquireKeysLock { id } => {
                    let record = self.keys_storage.clone();
                    let now = self.call_now();
                    self.session.handle_keys_lock(now, id, record.as_deref());
                }
                Action::FetchKeys { id, .. } => {
                    // The key set fails with the provider's storms.
                    let ok = self.provider.answer_for(self.real, &mut self.krng) == Answer::Ok;
                    let slowest = pick(&mut self.krng, &[200, 2_000, 20_000]);
                    let at = self.real + self.krng.between(5, slowest);
                    self.schedule_at(at, Event::KeysAnswer { id: id.0, ok });
                }
                Action::PersistKeys { record } => self.keys_storage = Some(record),
                Action::Verify { id, .. } => {
                    let at = self.real + self.krng.up_to(5);
                    self.schedule_at(at, Event::Verified { id: id.0 });
                }
                Action::ResolveWaiters {
                    waiters,
                    access_token,
                } => {
                    for id in waiters {
                        let Some(deadline) = self.waiters.remove(&id) else {
                            self.fail("a waiter was answered twice or never existed");
                        };
                        if self.real > deadline && !self.slept_through.contains(&id) {
                            self.fail("a waiter was answered after its deadline");
                        }
                        self.check_token(&access_token);
                    }
                }
                Action::RejectWaiters { waiters, error } => {
                    for id in waiters {
                        let Some(deadline) = self.waiters.remove(&id) else {
                            self.fail("a waiter was answered twice or never existed");
                        };
                        if self.real > deadline && !self.slept_through.contains(&id) {
                            self.fail(&format!("waiter {id:?} rejected after its deadline {deadline} with {error:?}"));
                        }
                        self.count_rejection(&error);
                    }
                }
                Action::Persist { record } => self.storage = record,
                Action::GoToLogin { reason } => {
                    self.totals.logins += 1;
                    self.logins_this_sign_in += 1;
                    self.note(|| format!("go to login: {reason:?}"));
                    if !self.revoked {
                        self.fail("sent to login although the refresh token is alive");
                    }
                    if self.logins_this_sign_in > 1 {
                        self.fail("sent to login twice for one sign-in");
                    }
                    self.signed_in = false;
                    // The user signs in again a little later.
                    let at = self.real + self.rng.between(1_000, 10 * MINUTE);
                    self.schedule_at(at, Event::SignIn);
                }
            }
        }
        if self.signed_in
            && !self.revoked
            && self
                .session
                .tokens()
                .and_then(|t| t.refresh_token.as_ref())
                .is_none()
        {
            self.fail("the refresh token was lost without a revocation");
        }
        // A timer's delay is fixed when it is armed: it is armed again when the moment changes,
        // and when the clock moved forward so that it would fire later than the moment now
        // reads (the moment itself may not have changed: it is overdue).
        let timeout = self.session.poll_timeout();
        let due = timeout.map(|at| self.real_for(at));
        if timeout != self.timer_at || due.is_some_and(|due| due < self.timer_real) {
            self.timer_at = timeout;
            self.timers += 1;
            if let Some(due) = due {
                self.note(|| format!("timer armed for {timeout:?}, real {due}"));
                self.timer_real = due;
                self.schedule_at(due, Event::Timer(self.timers));
            }
        }
    }

    /// The provider receives refresh `id` and its answer is scheduled after some latency.
    fn send(&mut self, id: u64, body: &str) {
        let slowest = pick(&mut self.rng, &[200, 2_000, 20_000]);
        let latency = self.rng.between(5, slowest);
        let at = self.real + latency;
        let answer = self.provider.answer_for(self.real, &mut self.rng);
        let presented = body
            .split("\"REFRESH_TOKEN\":\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_default()
            .to_owned();
        let throttle = r#"{"__type":"TooManyRequestsException","message":"Rate exceeded"}"#;
        let html = "<html><body><h1>502 Bad Gateway</h1></body></html>";
        let event = match answer {
            Answer::Ok => {
                if self.provider.live_refresh.as_deref() != Some(presented.as_str()) {
                    reply(
                        id,
                        400,
                        Some("NotAuthorizedException:"),
                        r#"{"__type":"NotAuthorizedException","message":"Refresh Token has been revoked"}"#,
                    )
                } else {
                    self.provider.serial += 1;
                    let iat = self.provider.clock(at) / 1_000;
                    let body = self.provider.issuer.cognito_answer(
                        "alice",
                        iat,
                        self.provider.lifetime_s,
                        self.provider.serial,
                        None,
                    );
                    reply(id, 200, None, body)
                }
            }
            Answer::Throttle => reply(id, 400, Some("TooManyRequestsException:"), throttle),
            Answer::ThrottleWithRetryAfter => Event::Response {
                id,
                status: 400,
                error_type: Some("TooManyRequestsException:"),
                retry_after: Some("3"),
                body: throttle.into(),
                expired: false,
            },
            Answer::Internal => reply(
                id,
                500,
                Some("InternalErrorException:"),
                r#"{"__type":"InternalErrorException","message":"Internal server error"}"#,
            ),
            Answer::BadGateway => reply(id, 502, None, html),
            Answer::Unavailable => reply(id, 503, None, html.replace("502 Bad Gateway", "503")),
            Answer::Drop => Event::NetworkFailure { id },
            Answer::Hang => return,
            Answer::HtmlOk => reply(id, 200, None, html),
            Answer::Truncated => reply(
                id,
                200,
                None,
                r#"{"AuthenticationResult":{"AccessToken":"ey"#,
            ),
            Answer::WrongTypes => reply(
                id,
                200,
                None,
                r#"{"AuthenticationResult":{"AccessToken":12345,"ExpiresIn":"soon"}}"#,
            ),
            Answer::Huge => reply(id, 200, None, "x".repeat(1 << 20)),
            Answer::ExpiredToken => {
                let exp = self.provider.clock(at) / 1_000 - 3_600;
                let body =
                    self.provider
                        .issuer
                        .cognito_answer("alice", exp - 3_600, 3_600, 0, None);
                Event::Response {
                    id,
                    status: 200,
                    error_type: None,
                    retry_after: None,
                    body,
                    expired: true,
                }
            }
        };
        self.schedule_at(at, event);
    }

    fn check_token(&mut self, token: &str) {
        self.totals.handed_out += 1;
        let claims = match jwt::decode(token) {
            Ok(jwt) => jwt.claims,
            Err(e) => self.fail(&format!("handed out an undecodable token: {e:?}")),
        };
        let provider_now = self.provider.clock(self.real);
        let unseen = match self.arrived.get(token) {
            Some(at_arrival) => self.unseen_back - at_arrival,
            None => self.fail("handed out a token that never arrived"),
        };
        if claims.exp.saturating_mul(1_000) + unseen <= provider_now {
            self.fail(&format!(
                "handed out a token expired on the provider's clock (exp {} <= {provider_now}, \
                 clock set back unseen since it arrived: {unseen} ms)",
                claims.exp * 1_000
            ));
        }
    }

    fn count_rejection(&mut self, error: &SessionError) {
        self.note(|| format!("rejected: {error:?}"));
        if let Some(at) = error.retry_at() {
            if at > self.now + self.longest_hold {
                self.fail(&format!(
                    "told to retry at {at}, more than {} ms from now ({})",
                    self.longest_hold, self.now
                ));
            }
        }
        *self
            .totals
            .rejected
            .entry(error.code().as_str())
            .or_default() += 1;
    }

    /// No waiter may still be waiting past its deadline once time has moved beyond it.
    fn check_deadlines(&self) {
        if let Some((id, deadline)) = self.waiters.iter().find(|(_, d)| **d < self.real) {
            self.fail(&format!(
                "waiter {id:?} still waiting past its deadline {deadline}"
            ));
        }
    }

    /// With the provider healthy, a caller gets a token (after a revocation, a sign-in comes).
    fn check_liveness(&mut self) {
        if !self.signed_in {
            return;
        }
        self.advance_to(self.real + 1);
        let now = self.call_now();
        // Run until the session has settled a final caller with a generous deadline.
        let deadline = self.real + 10 * MINUTE;
        let id = match self.session.request_token(now, now + 10 * MINUTE) {
            TokenAnswer::Ready(token) => {
                let token = token.to_owned();
                self.check_token(&token);
                return;
            }
            TokenAnswer::Waiting(id) => id,
            TokenAnswer::Failed(e) => self.fail(&format!(
                "healthy provider, but a caller failed at once: {e:?}"
            )),
        };
        self.waiters.insert(id, deadline);
        self.drain();
        while let Some(Reverse((at, _, index))) = self.queue.pop() {
            if !self.waiters.contains_key(&id) || at > deadline {
                break;
            }
            self.check_deadlines();
            self.advance_to(at);
            let event = self.events[index].clone();
            if event.is_app() || matches!(event, Event::Revoke) {
                continue;
            }
            self.handle(event);
            self.drain();
        }
        if self.waiters.contains_key(&id) {
            self.fail("healthy provider, but the last caller never got a token");
        }
    }
}

/// The provider's answer to refresh `id`, with no `Retry-After`.
fn reply(id: u64, status: u16, error_type: Option<&'static str>, body: impl Into<String>) -> Event {
    Event::Response {
        id,
        status,
        error_type,
        retry_after: None,
        body: body.into(),
        expired: false,
    }
}

/// How long a sleep or a clock change lasts: seconds (a time sync's step) to days, spread over
/// the scales so that each is as likely.
fn jump(rng: &mut Rng) -> Millis {
    let scale = pick(rng, &[SECOND, MINUTE, 10 * MINUTE, HOUR, 6 * HOUR, DAY]);
    rng.between(scale, 3 * scale)
}

/// One of `options`, uniformly.
fn pick<T: Copy>(rng: &mut Rng, options: &[T]) -> T {
    options[rng.up_to(options.len() as u64 - 1) as usize]
}

fn seeds() -> Vec<u64> {
    if let Some(seed) = std::env::var("SIM_SEED").ok().and_then(|s| s.parse().ok()) {
        return vec![seed];
    }
    let count: u64 = ["SIM_SCHEDULES", "SIM_SEEDS"]
        .iter()
        .find_map(|name| std::env::var(name).ok())
        .map(|s| {
            s.replace('_', "")
                .parse()
                .unwrap_or_else(|_| panic!("SIM_SCHEDULES is not a number: {s}"))
        })
        .unwrap_or(10_000);
    let (shard, shards) = match std::env::var("SIM_SHARD") {
        Ok(text) => text
            .split_once('/')
            .and_then(|(i, n)| Some((i.parse::<u64>().ok()?, n.parse::<u64>().ok()?)))
            .filter(|(i, n)| i < n)
            .unwrap_or_else(|| panic!("SIM_SHARD is not i/n with i < n: {text}")),
        Err(_) => (0, 1),
    };
    (0..count).filter(|seed| seed % shards == shard).collect()
}

#[test]
fn every_seeded_schedule_keeps_the_behaviour_contract() {
    let verbose = std::env::var("SIM_SEED").is_ok();
    let mut totals = Totals::default();
    let mut failed = Vec::new();
    let seeds = seeds();
    for &seed in &seeds {
        // A violation panics with the seed; the remaining seeds still run, so one run lists
        // every failing seed (and a soak counts them).
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut world = World::new(seed, verbose);
            world.run();
            world.totals
        }));
        let Ok(world) = run else {
            failed.push(seed);
            continue;
        };
        totals.events += world.events;
        totals.handed_out += world.handed_out;
        totals.refreshes += world.refreshes;
        totals.logins += world.logins;
        for (code, n) in world.rejected {
            *totals.rejected.entry(code).or_default() += n;
        }
    }
    println!("{} schedules: {totals:?}", seeds.len());
    println!(
        "SIM_TOTALS schedules={} events={} handed_out={} refreshes={} logins={} violations={}",
        seeds.len(),
        totals.events,
        totals.handed_out,
        totals.refreshes,
        totals.logins,
        failed.len()
    );
    assert!(
        failed.is_empty(),
        "{} of {} schedules violated the contract; seeds: {failed:?}",
        failed.len(),
        seeds.len()
    );
    // The schedules must actually exercise the contract, or the checks above prove nothing.
    if seeds.len() >= 1_000 {
        assert!(totals.handed_out > seeds.len() as u64 * 10, "{totals:?}");
        assert!(totals.refreshes > seeds.len() as u64 * 5, "{totals:?}");
        assert!(totals.logins > seeds.len() as u64 / 10, "{totals:?}");
        for code in [
            "THROTTLED",
            "UNAVAILABLE",
            "SESSION_EXPIRED",
            "BAD_RESPONSE",
        ] {
            assert!(
                totals.rejected.get(code).copied().unwrap_or(0) > 0,
                "no {code} rejection: {totals:?}"
            );
        }
    }
}
