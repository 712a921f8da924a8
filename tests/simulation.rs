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
//! The browser goes offline too (issue 16), on a random stream of its own: zero to two periods of a
//! second to hours at random moments, which may overlap; in one schedule in two, one more that ends
//! once the provider is healthy again; in one in two, one that begins as a refresh is on the wire
//! or between its lock request and the grant (Web Locks answers asynchronously), and in one odd
//! seed in two likewise around a key-set fetch; half the sleeps take the network with them until
//! seconds after the wake-up; one schedule in eight opens the page offline. While it is offline
//! every request fails without reaching the provider: one on the wire fails within 100 ms, one sent
//! fails within 30 ms. The driver tells the session as `driver.js` does: `handle_network(false)` at
//! construction when `navigator.onLine` is false, then at each `offline` and `online` event, in
//! order, at once or up to 50 ms after the network changed (requests sent in between fail as any
//! network failure does). A user sent to login signs in again only once the network is back.
//!
//! 1. no caller is ever handed a token that is missing or expired on the provider's clock;
//! 2. at most one refresh request is on the wire at a time, and each lock (the refresh lock, the
//!    key-set lock) is released before the next of its kind is asked for (one never released
//!    would hold every later refresh back, in every tab);
//! 3. every caller is answered by its deadline, with a token or a typed error;
//! 4. the browser is sent to login at most once per sign-in, and only when the refresh token is
//!    really dead;
//! 5. transient failures never lose the refresh token (no sign-out without a revocation);
//! 6. once the provider is healthy again (it answers every request, before the session's request
//!    timeout), a caller gets a token;
//! 7. a caller told when to retry is never told a moment further off than the longest hold the
//!    retry policy sets (5 minutes), whatever the clock did;
//!
//! and for the browser's network, while the session knows it is offline (from
//! `handle_network(false)` to `handle_network(true)`) and as it comes back:
//!
//! 8. no refresh request and no key-set request leaves the session;
//! 9. the failures it sees offline cost nothing: no `Throttled` or `RetryScheduled` is emitted
//!    and the snapshot's `retry_at` never moves later (a clock set back moves it earlier). So a
//!    session that had no backoff when it went offline has none when it comes back (`retry_at`
//!    is set exactly while the retry books count a failure, and the budget is spent only while
//!    they do), and the caller that comes then, if it waits, gets its refresh started at once
//!    (unless the session holds tokens whose signatures are still to be checked);
//! 10. callers are still answered by their deadline (3), and a waiter it rejects gets
//!     `UNAVAILABLE` with no retry moment; none fails at once while signed in;
//! 11. it is not signed out: no login, no `Expired` or `SignedOut`, its record is not removed
//!     and its refresh token stays;
//! 12. once it hears the network is back with the provider healthy, the caller that comes then
//!     gets a token within 10 minutes, unless the network goes again first or the refresh token
//!     was revoked (6, at each return of the network and not only at the end).
//!
//! Time: events are queued on real time, which only moves forward; the session reads the local
//! clock, real time plus an offset that clock changes move; the provider's clock follows real time.
//! Deadlines are held on real time. A session can tell that its clock was set back only when a call
//! reads an earlier time than the call before it; the part of a jump back it could not see (more
//! real time passed unseen than the clock went back) is the one allowance the checks make: waiters
//! pending across it may be answered that much late (1, 3), and a token that arrived before it (in
//! the answer that carried it, however much later its signature check or the network let it be
//! installed) may be handed out that much past its `exp`. A jump it sees costs neither: the session
//! re-bases its times and refreshes before handing a token out again. One fault is held back while
//! the local clock is far behind the provider's: a token that expired an hour before it was sent is
//! refused only while the clock is less than about 55 minutes behind (a fresh token is timed from
//! its arrival, bounded by `exp` plus the tolerated skew on the local clock), so past that the
//! provider sends garbage of another kind instead.
//!
//! `SIM_SCHEDULES=n` (or `SIM_SEEDS=n`) sets how many seeds run (default 10,000, what CI runs);
//! `SIM_SHARD=i/n` runs only the seeds `s` with `s % n == i`, so `scripts/soak.sh` can spread a
//! long run over processes; `SIM_SEED=s` replays one seed and prints its event log. A failing seed
//! prints itself, the others still run, and the run fails at the end with every failing seed. The
//! last line, `SIM_TOTALS schedules=… events=… handed_out=… refreshes=… logins=…
//! offline_periods=… violations=…`, is what `scripts/soak.sh` adds up over shards.

use cognito_session::engine::http::HttpResponse;
use cognito_session::engine::jwt;
use cognito_session::engine::machine::{
    Action, Event as AppEvent, SessionError, SessionMachine, TokenAnswer, WaiterId,
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
/// The provider is healthy for this long at the end (it answers every request, in time), so
/// liveness can be checked.
const CALM_TAIL: Millis = 20 * MINUTE;
/// How long a caller may wait for a token once the provider is healthy (and the network back).
const LIVENESS_WAIT: Millis = 10 * MINUTE;

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
    /// The machine sleeps `by`: real time passes, nothing runs, then every timer and answer that
    /// came due fires late, a caller wants a token at once (the page's own timer), and what the
    /// app would have done meanwhile comes after. With `offline`, the network goes as the lid
    /// closes and comes back that long after the wake-up (Wi-Fi reconnecting).
    Sleep {
        by: Millis,
        offline: Option<Millis>,
    },
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
    /// The browser's network goes for this long (issue 16): every request on the wire fails, and
    /// so does every request sent until it is back.
    Offline(Millis),
    /// One offline period ends (they may overlap: the network is back when the last one ends).
    Online,
    /// The driver's `online` / `offline` event reaches the session: `handle_network`.
    Notice(bool),
    /// Request `id` (a key-set fetch when `keys`) failed for want of a network: the provider
    /// never saw it, or its answer never comes.
    NoNetwork {
        id: u64,
        keys: bool,
    },
    /// The lock for request `id` (the key-set lock when `keys`) is granted, some ms after it was
    /// asked for (Web Locks answers asynchronously; usually the simulation grants it at once).
    LockGranted {
        id: u64,
        keys: bool,
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
                | Event::Sleep { .. }
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
    /// Offline periods that began.
    offline_periods: u64,
    /// Requests the network failed: on the wire when it went, or sent before the session heard.
    network_failed: u64,
    /// Network failures the session saw while it knew it was offline (they cost nothing).
    failures_seen_offline: u64,
    /// Waiters told `UNAVAILABLE` while the session knew it was offline.
    offline_rejections: u64,
    /// Callers as the network came back (one per offline period that ended), and those of them
    /// that must get a token (the provider healthy by then).
    back_online_callers: u64,
    back_online_healthy: u64,
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

/// The browser's network and what the session was told of it (issue 16).
struct Network {
    /// A random stream of its own: the schedule's callers, storms, sleeps and clock changes are
    /// drawn as they were before the network was simulated.
    rng: Rng,
    /// Offline periods under way (they may overlap): the network is down while this is not 0.
    down: u32,
    /// What the session was told last: `handle_network(false)` came after the last `true`.
    told_offline: bool,
    /// The driver's events reach the session in the order they happened: none before this.
    last_notice: Millis,
    /// Requests the network failed: their provider answers, if any are queued, never come.
    cut: std::collections::BTreeSet<u64>,
    /// The key-set fetch on the wire.
    keys_on_wire: Option<u64>,
    /// The session's `retry_at` when it was told it is offline, then after each step since.
    retry_at: Option<Millis>,
    /// Whether the session had no backoff (`retry_at` unset) when it was told it is offline.
    clean: bool,
    /// The session's refresh token when it was told it is offline.
    refresh_token: Option<String>,
    /// An offline period that begins at the first refresh (key-set fetch when `keys`) asked
    /// for from real moment `from`: `(from, length, at_lock, keys)`. At the lock, it begins
    /// between the lock request and its grant; otherwise while the request is on the wire.
    armed: Vec<(Millis, Millis, bool, bool)>,
    /// Waiters that came as the network came back with the provider healthy: they get a token.
    must_get_token: std::collections::BTreeSet<WaiterId>,
    /// The latest real moment an offline period may last to: 4 hours after the start, plus the
    /// sleeps (the network is back an hour before the schedule ends).
    until: Millis,
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
    net: Network,
    /// The locks the session holds: (the key-set lock, id).
    locks: std::collections::BTreeSet<(bool, u64)>,
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
            net: Network {
                rng: Rng::new(seed ^ 0x6f66_666c),
                down: 0,
                told_offline: false,
                last_notice: start,
                cut: Default::default(),
                keys_on_wire: None,
                retry_at: None,
                clean: true,
                refresh_token: None,
                armed: Vec::new(),
                must_get_token: Default::default(),
                until: start + HORIZON,
            },
            locks: Default::default(),
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
            let by = jump(&mut world.rng);
            let offline =
                (world.net.rng.up_to(1) == 0).then(|| world.net.rng.between(SECOND, 30 * SECOND));
            world.schedule_at(at, Event::Sleep { by, offline });
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
        world.offline_periods(start);
        world
    }

    /// Draws the schedule's offline periods (issue 16) from the network's own random stream.
    fn offline_periods(&mut self, start: Millis) {
        let rng = &mut self.net.rng;
        let mut periods = Vec::new();
        for _ in 0..rng.up_to(2) {
            let at = start + rng.up_to(HORIZON - CALM_TAIL);
            periods.push((at, outage(rng).min(start + HORIZON - at)));
        }
        // Back while the provider is healthy again: the caller then gets a token.
        if rng.up_to(1) == 0 {
            let calm = start + HORIZON - CALM_TAIL;
            let at = calm - rng.between(SECOND, 30 * MINUTE);
            periods.push((at, calm + rng.between(SECOND, 15 * MINUTE) - at));
        }
        // Beginning at a refresh: between its lock request and the grant, or on the wire.
        if rng.up_to(1) == 0 {
            let from = start + rng.up_to(HORIZON - CALM_TAIL);
            self.net
                .armed
                .push((from, outage(rng), rng.up_to(1) == 0, false));
        }
        // Odd seeds fetch a key set: beginning around a fetch.
        if self.seed % 2 == 1 && rng.up_to(1) == 0 {
            let from = start + rng.up_to(HORIZON - CALM_TAIL);
            self.net
                .armed
                .push((from, outage(rng), rng.up_to(1) == 0, true));
        }
        // The page opens offline: the driver tells the session before it reads storage (the
        // first sign-in stands for the session it resumes).
        if rng.up_to(7) == 0 {
            let length = outage(rng);
            self.go_offline(length, true);
        }
        for (at, length) in periods {
            self.schedule_at(at, Event::Offline(length));
        }
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

    /// The network goes for `length` (at most until [`Network::until`]): what is on the wire
    /// fails within 100 ms, and the driver's `offline` event reaches the session at once
    /// (`tell_now`: the page opened offline, and the driver's constructor said so) or up to 50 ms
    /// later, after the events before it, while requests may still go out and fail.
    fn go_offline(&mut self, length: Millis, tell_now: bool) {
        let length = length.min(self.net.until.saturating_sub(self.real));
        if length < SECOND {
            return;
        }
        self.totals.offline_periods += 1;
        self.net.down += 1;
        self.schedule_at(self.real + length, Event::Online);
        if self.net.down > 1 {
            return;
        }
        self.note(|| format!("network down for {length} ms"));
        // The callers that came back online may now be refused (12 holds once back again).
        self.net.must_get_token.clear();
        let on_wire = [(self.on_wire, false), (self.net.keys_on_wire, true)];
        for (id, keys) in on_wire {
            let Some(id) = id.filter(|id| self.net.cut.insert(*id)) else {
                continue;
            };
            self.totals.network_failed += 1;
            let at = self.real + self.net.rng.up_to(100);
            self.schedule_at(at, Event::NoNetwork { id, keys });
        }
        if tell_now {
            self.net.last_notice = self.real;
            self.tell(false);
        } else {
            self.notify(false);
        }
    }

    /// The driver's `online` or `offline` event reaches the session at once or a little later,
    /// never before one that came earlier.
    fn notify(&mut self, online: bool) {
        let delay = match self.net.rng.up_to(1) {
            0 => 0,
            _ => self.net.rng.between(1, 50),
        };
        let at = (self.real + delay).max(self.net.last_notice);
        self.net.last_notice = at;
        self.schedule_at(at, Event::Notice(online));
    }

    /// `handle_network`, as driver.js calls it; once online, a caller wants a token at once (the
    /// app's requests that waited for the network).
    fn tell(&mut self, online: bool) {
        self.note(|| format!("told {}", if online { "online" } else { "offline" }));
        let now = self.call_now();
        self.session.handle_network(now, online);
        self.net.told_offline = !online;
        if !online {
            self.net.retry_at = self.session.snapshot().retry_at;
            self.net.clean = self.net.retry_at.is_none();
            self.net.refresh_token = self.session.tokens().and_then(|t| t.refresh_token.clone());
        }
        self.drain();
        if online {
            self.back_online();
        }
    }

    /// A caller as the session hears the network is back: not held by a backoff that only
    /// offline failures could have caused (9), and given a token when the provider is healthy
    /// (12).
    fn back_online(&mut self) {
        self.totals.back_online_callers += 1;
        let healthy = self.real >= self.provider.calm_from;
        let deadline_after = if healthy {
            LIVENESS_WAIT
        } else {
            self.net.rng.between(100, 30_000)
        };
        let retry_at = self.session.snapshot().retry_at;
        if self.net.clean && retry_at.is_some() {
            self.fail(&format!(
                "(9) back online with a backoff (retry at {retry_at:?}) although there was none \
                 when the session went offline"
            ));
        }
        match self.call(deadline_after) {
            Ok(Some(id)) => {
                self.drain();
                let unchecked =
                    self.session.tokens().is_some() && self.session.checked_tokens().is_none();
                if self.net.clean && !unchecked && !self.session.snapshot().refreshing {
                    self.fail("(9) back online, a caller waits, and no refresh starts for it");
                }
                if healthy && self.net.down == 0 {
                    self.totals.back_online_healthy += 1;
                    self.net.must_get_token.insert(id);
                }
            }
            Err(e) if healthy && self.signed_in => self.fail(&format!(
                "(12) back online with the provider healthy, a caller failed at once: {e:?}"
            )),
            _ => {}
        }
    }

    /// A caller wants a token by `deadline_after` from now: `Ok(None)` handed one at once,
    /// `Ok(Some(id))` waiting, or the error it got at once.
    fn call(&mut self, deadline_after: Millis) -> Result<Option<WaiterId>, SessionError> {
        let now = self.call_now();
        let deadline = now + deadline_after;
        self.note(|| format!("caller, deadline {deadline}"));
        let answer = match self.session.request_token(now, deadline) {
            TokenAnswer::Ready(token) => Ok(token.to_owned()),
            TokenAnswer::Waiting(id) => Err(Ok(id)),
            TokenAnswer::Failed(error) => Err(Err(error)),
        };
        match answer {
            Ok(token) => {
                self.check_token(&token);
                Ok(None)
            }
            Err(Ok(id)) => {
                self.waiters.insert(id, self.real + deadline_after);
                Ok(Some(id))
            }
            Err(Err(error)) => {
                if self.net.told_offline && self.signed_in {
                    self.fail(&format!(
                        "(10) a caller failed at once while offline: {error:?}"
                    ));
                }
                self.count_rejection(&error);
                Err(error)
            }
        }
    }

    /// The checks after every step while the session knows it is offline: its backoff never
    /// moves later (9; a clock set back moves it earlier) and its refresh token stays (11).
    fn check_offline(&mut self) {
        if !self.net.told_offline {
            return;
        }
        let retry_at = self.session.snapshot().retry_at;
        if retry_at > self.net.retry_at && retry_at.is_some() {
            self.fail(&format!(
                "(9) the backoff grew while offline: retry at {:?}, then {retry_at:?}",
                self.net.retry_at
            ));
        }
        self.net.retry_at = retry_at;
        if let Some(kept) = &self.net.refresh_token {
            let held = self.session.tokens().and_then(|t| t.refresh_token.as_ref());
            if held != Some(kept) {
                self.fail("(11) the refresh token changed or was lost while offline");
            }
        }
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
            self.check_offline();
            self.check_deadlines();
        }
        self.check_liveness();
    }

    fn handle(&mut self, event: Event) {
        match event {
            // The login page needs the network: the user signs in once it is back (the first
            // sign-in stands for the session the page resumes, also offline).
            Event::SignIn
                if self.provider.serial > 0 && (self.net.down > 0 || self.net.told_offline) =>
            {
                let at = self.real + self.net.rng.between(SECOND, 10 * MINUTE);
                self.schedule_at(at, Event::SignIn);
            }
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
                let _ = self.call(deadline_after);
            }
            // The network failed it first: this answer never comes.
            Event::Response { id, .. }
            | Event::NetworkFailure { id }
            | Event::KeysAnswer { id, .. }
                if self.net.cut.contains(&id) => {}
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
                // Its token arrives now, whenever it is installed (after its signature check,
                // or unchecked when that times out, maybe after a clock change it did not see).
                let carried = body.split("\"AccessToken\":\"").nth(1);
                if let Some(token) = carried.and_then(|rest| rest.split('"').next()) {
                    let unseen = self.unseen_back;
                    self.arrived.entry(token.to_owned()).or_insert(unseen);
                }
                self.session.handle_refresh_response(
                    now,
                    cognito_session::engine::machine::RefreshId(id),
                    &response,
                );
                self.note_arrival();
            }
            Event::KeysAnswer { id, ok } => {
                if self.net.keys_on_wire == Some(id) {
                    self.net.keys_on_wire = None;
                }
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
            Event::Sleep { by, offline } => {
                // The machine slept: nothing ran in between, every timer and answer that came
                // due fires late, and what the app does next comes after the wake-up.
                self.note(|| format!("sleeps {by} ms"));
                self.net.until += by;
                if let Some(after) = offline {
                    self.go_offline(by + after, false);
                }
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
            Event::Offline(length) => self.go_offline(length, false),
            Event::Online => {
                self.net.down -= 1;
                if self.net.down == 0 {
                    self.note(|| "network back".into());
                    self.notify(true);
                }
            }
            Event::Notice(online) => self.tell(online),
            Event::NoNetwork { id, keys } => {
                self.note(|| format!("request {id} failed: no network"));
                if self.net.told_offline {
                    self.totals.failures_seen_offline += 1;
                }
                let now = self.call_now();
                let id = cognito_session::engine::machine::RefreshId(id);
                if keys {
                    if self.net.keys_on_wire == Some(id.0) {
                        self.net.keys_on_wire = None;
                    }
                    self.session
                        .handle_keys_answer(now, id, Err("Failed to fetch"), None);
                    self.note_arrival();
                } else {
                    if self.on_wire == Some(id.0) {
                        self.on_wire = None;
                    }
                    self.session
                        .handle_refresh_failure(now, id, "Failed to fetch");
                }
            }
            Event::LockGranted { id, keys } => {
                self.note(|| format!("lock {id} granted"));
                self.locks.insert((keys, id));
                let now = self.call_now();
                let id = cognito_session::engine::machine::RefreshId(id);
                if keys {
                    let record = self.keys_storage.clone();
                    self.session.handle_keys_lock(now, id, record.as_deref());
                } else {
                    let record = self.storage.clone();
                    self.session.handle_refresh_lock(now, id, record.as_deref());
                }
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
        // A session that asks for actions without end (a refresh started and given up in a
        // loop) is a violation, not a hang.
        let mut left = 100_000u32;
        while let Some(action) = self.session.poll_action() {
            left -= 1;
            if left == 0 {
                self.fail("the session's actions never end");
            }
            match action {
                Action::AcquireRefreshLock { id } => {
                    self.check_released(false, id.0);
                    if self.offline_at(false, true) {
                        self.grant_later(id.0, false);
                        continue;
                    }
                    self.locks.insert((false, id.0));
                    let record = self.storage.clone();
                    let now = self.call_now();
                    self.session.handle_refresh_lock(now, id, record.as_deref());
                }
                Action::SendRefresh { id, request } => {
                    if self.on_wire.is_some() {
                        self.fail("a second refresh was sent while one was on the wire");
                    }
                    if self.net.told_offline {
                        self.fail("(8) a refresh request left the session while it was offline");
                    }
                    self.totals.refreshes += 1;
                    self.on_wire = Some(id.0);
                    if self.net.down > 0 {
                        self.no_network(id.0, false);
                    } else {
                        self.send(id.0, &request.body);
                        self.offline_at(false, false);
                    }
                }
                Action::AbortRefresh { id } => {
                    if self.on_wire == Some(id.0) {
                        self.on_wire = None;
                    }
                    if self.net.keys_on_wire == Some(id.0) {
                        self.net.keys_on_wire = None;
                    }
                }
                Action::Emit { event } if self.net.told_offline => match event {
                    AppEvent::Throttled { .. } | AppEvent::RetryScheduled { .. } => {
                        self.fail(&format!("(9) a backoff began while offline: {event:?}"));
                    }
                    AppEvent::Expired { .. } | AppEvent::SignedOut => {
                        self.fail(&format!("(11) the session ended while offline: {event:?}"));
                    }
                    _ => {}
                },
                Action::ReleaseRefreshLock { id } => {
                    self.locks.remove(&(false, id.0));
                    self.locks.remove(&(true, id.0));
                }
                Action::Broadcast { .. } | Action::Emit { .. } => {}
                Action::AcquireKeysLock { id } => {
                    self.check_released(true, id.0);
                    if self.offline_at(true, true) {
                        self.grant_later(id.0, true);
                        continue;
                    }
                    self.locks.insert((true, id.0));
                    let record = self.keys_storage.clone();
                    let now = self.call_now();
                    self.session.handle_keys_lock(now, id, record.as_deref());
                }
                Action::FetchKeys { id, .. } => {
                    if self.net.told_offline {
                        self.fail("(8) a key-set request left the session while it was offline");
                    }
                    self.net.keys_on_wire = Some(id.0);
                    if self.net.down > 0 {
                        self.no_network(id.0, true);
                        continue;
                    }
                    // The key set fails with the provider's storms.
                    let ok = self.provider.answer_for(self.real, &mut self.krng) == Answer::Ok;
                    let slowest = pick(&mut self.krng, &[200, 2_000, 20_000]);
                    let latency = self.krng.between(5, slowest);
                    let at = self.real + self.in_time(latency);
                    self.schedule_at(at, Event::KeysAnswer { id: id.0, ok });
                    self.offline_at(true, false);
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
                        self.net.must_get_token.remove(&id);
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
                        if self.net.told_offline {
                            if error != (SessionError::Unavailable { retry_at: None }) {
                                self.fail(&format!(
                                    "(10) waiter {id:?} rejected while offline with {error:?}"
                                ));
                            }
                            self.totals.offline_rejections += 1;
                        }
                        if self.net.must_get_token.remove(&id)
                            && !self.revoked
                            && !self.slept_through.contains(&id)
                        {
                            self.fail(&format!(
                                "(12) back online with the provider healthy, waiter {id:?} was \
                                 refused: {error:?}"
                            ));
                        }
                        self.count_rejection(&error);
                    }
                }
                Action::Persist { record: None } if self.net.told_offline => {
                    self.fail("(11) the session's record was removed while offline");
                }
                Action::Persist { record } => self.storage = record,
                Action::GoToLogin { .. } if self.net.told_offline => {
                    self.fail("(11) sent to login while offline");
                }
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

    /// Whether an armed offline period (refresh or key-set fetch, per `keys`; at its lock per
    /// `at_lock`) begins now: see [`Network::armed`].
    fn offline_at(&mut self, keys: bool, at_lock: bool) -> bool {
        let real = self.real;
        let Some(i) = self
            .net
            .armed
            .iter()
            .position(|&(from, _, lock, k)| k == keys && lock == at_lock && from <= real)
        else {
            return false;
        };
        let (_, length, _, _) = self.net.armed.remove(i);
        if at_lock {
            self.note(|| "the network goes while the lock is asked for".into());
            self.go_offline(length, false);
        } else {
            // While the request is on the wire (its answer may come first).
            let at = self.real + self.net.rng.up_to(300);
            self.schedule_at(at, Event::Offline(length));
        }
        true
    }

    /// Lock `id` (the key-set lock when `keys`) is asked for: the one asked for before it was
    /// released (a lock never released blocks every later request for it, in every tab).
    fn check_released(&mut self, keys: bool, id: u64) {
        if let Some((_, held)) = self.locks.iter().find(|(k, _)| *k == keys) {
            self.fail(&format!(
                "lock {id} asked for while lock {held} is still held (never released)"
            ));
        }
    }

    /// The lock for `id` is granted 1 to 20 ms from now.
    fn grant_later(&mut self, id: u64, keys: bool) {
        let at = self.real + self.net.rng.between(1, 20);
        self.schedule_at(at, Event::LockGranted { id, keys });
    }

    /// Request `id` went out with the network down: it fails within 30 ms, unseen by the
    /// provider.
    fn no_network(&mut self, id: u64, keys: bool) {
        self.totals.network_failed += 1;
        self.net.cut.insert(id);
        let at = self.real + self.net.rng.between(1, 30);
        self.schedule_at(at, Event::NoNetwork { id, keys });
    }

    /// A healthy provider (from [`Provider_::calm_from`] on) answers before the session gives
    /// up waiting; before, an answer may come too late.
    fn in_time(&self, latency: Millis) -> Millis {
        if self.real >= self.provider.calm_from {
            latency.min(self.session.config().request_timeout - SECOND)
        } else {
            latency
        }
    }

    /// The provider receives refresh `id` and its answer is scheduled after some latency.
    fn send(&mut self, id: u64, body: &str) {
        let slowest = pick(&mut self.rng, &[200, 2_000, 20_000]);
        let latency = self.rng.between(5, slowest);
        let at = self.real + self.in_time(latency);
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
        if self.net.down > 0 || self.net.told_offline {
            self.fail("simulation: still offline at the end");
        }
        let deadline = self.real + LIVENESS_WAIT;
        let id = match self.session.request_token(now, now + LIVENESS_WAIT) {
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
            self.check_offline();
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

/// How long the network is gone: a second to hours, each scale as likely.
fn outage(rng: &mut Rng) -> Millis {
    let scale = pick(rng, &[SECOND, 10 * SECOND, MINUTE, 10 * MINUTE, HOUR]);
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
        totals.offline_periods += world.offline_periods;
        totals.network_failed += world.network_failed;
        totals.failures_seen_offline += world.failures_seen_offline;
        totals.offline_rejections += world.offline_rejections;
        totals.back_online_callers += world.back_online_callers;
        totals.back_online_healthy += world.back_online_healthy;
        for (code, n) in world.rejected {
            *totals.rejected.entry(code).or_default() += n;
        }
    }
    println!("{} schedules: {totals:?}", seeds.len());
    println!(
        "SIM_TOTALS schedules={} events={} handed_out={} refreshes={} logins={} \
         offline_periods={} violations={}",
        seeds.len(),
        totals.events,
        totals.handed_out,
        totals.refreshes,
        totals.logins,
        totals.offline_periods,
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
        assert!(totals.offline_periods > seeds.len() as u64, "{totals:?}");
        assert!(
            totals.network_failed > seeds.len() as u64 / 10,
            "{totals:?}"
        );
        assert!(totals.failures_seen_offline > 0, "{totals:?}");
        assert!(totals.offline_rejections > seeds.len() as u64, "{totals:?}");
        assert!(
            totals.back_online_healthy > seeds.len() as u64 / 10,
            "{totals:?}"
        );
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
