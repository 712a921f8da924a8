//! The fleet simulator: N browser sessions against one Cognito account quota, on a virtual clock.
//!
//! Each shipped session is the real [`SessionMachine`], built with `Config::new(Provider::Cognito{..})`
//! defaults exactly as the browser builds it, driven by the protocol its module doc states:
//! `handle_*` with `now`, drain `poll_action`, re-arm one timer from `poll_timeout`. A session is
//! one browser: one tab, or in the wake-up scenario one to four, sharing storage, hearing each
//! other's broadcasts and storage writes, and taking the refresh lock in turn (granted in request
//! order with what storage holds, as the Web Lock is). Cognito is
//! a [`Quota`] token bucket shared by the fleet: a refresh that reaches it when the bucket is
//! empty is answered `400` with `__type: TooManyRequestsException`, an admitted one `200` with an
//! `InitiateAuth` answer minted by [`Issuer::cognito_answer`].
//!
//! The baselines ([`Policy::Model`]) are models of other clients, run in the same simulator on
//! the same seeds: they are not our code, so each is a few lines of state in
//! [`crate::sim::baselines`].
//!
//! Everything is deterministic: one seeded [`Rng`] for the simulator's own draws (latencies,
//! callers, users), one seed per session derived from it, and one event queue ordered by
//! `(time, sequence)`. The request leg's latency is fixed, so requests reach the quota in the
//! order they were sent and its decision can be taken when the request leaves; only the answer
//! needs an event.
//!
//! What is measured (a [`Report`] per scenario × policy): the calls that reached Cognito each
//! second, admitted and throttled ([`Report::per_second`], drawn by [`crate::sim::chart`]), the makespan (first need to last
//! session holding the token it needed) against the physical limit `N / C`, refresh calls per
//! session, throttled calls, false sign-outs (sent to login with a refresh token that was not
//! revoked), bad-token API calls (an API call made with a token the provider's clock says is
//! expired, or with none), and time-to-token percentiles for sessions with a waiting caller and,
//! separately, for idle ones. In the always-401 scenario (issue 13), where every API call is
//! refused, it measures the refreshes per session per hour after each session's first
//! [`Scenario::warmup`], the mean over the fleet and the largest.

use crate::engine::http::HttpResponse;
use crate::engine::machine::{
    Action, Config, Event, RefreshId, SessionMachine, TokenAnswer, WaiterId,
};
use crate::engine::protocol::{Provider, TokenGrant};
use crate::engine::rng::Rng;
use crate::engine::tokens::Provenance;
use crate::engine::Millis;
use crate::engine::{json, jwt};
use crate::sim::baselines::{Model, ModelKind};
use crate::sim::mint::Issuer;
use crate::sim::quota::{Quota, QuotaConfig};
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::fmt::Write as _;

/// The simulated epoch (local and provider clocks agree in the fleet model).
pub const T0: Millis = 1_700_000_000_000;
const SECOND: Millis = 1_000;
const MINUTE: Millis = 60 * SECOND;
const HOUR: Millis = 60 * MINUTE;
/// Access and ID token lifetime, Cognito's default.
pub const TOKEN_LIFETIME_S: u64 = 3_600;

const THROTTLED_BODY: &str = r#"{"__type":"TooManyRequestsException","message":"Rate exceeded"}"#;
const REVOKED_BODY: &str =
    r#"{"__type":"NotAuthorizedException","message":"Refresh Token has been revoked"}"#;

/// The scenarios of issue 4, issue 13's always-401 and issue 16's wake-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScenarioKind {
    /// Every session needs a refresh at t = 0 and has a caller waiting (after an outage, or a
    /// fleet of laptops waking at 9:00).
    RecoveryStorm,
    /// The recovery storm in which only 20% of sessions have a caller waiting; the rest are idle
    /// visible tabs whose proactive refresh is due.
    MixedStorm,
    /// Sessions signed in within one minute; their tokens all expire an hour later.
    SynchronizedExpiry,
    /// The recovery storm while Cognito rejects everything for the first 60 s.
    LongThrottle,
    /// The recovery storm while new users sign in (password `InitiateAuth`, same quota).
    SigninPressure,
    /// Sessions signed in over ten minutes whose API refuses every token (HTTP 401: a wrong
    /// audience, a misconfigured authorizer); each app calls it every 5 s, reports each refusal
    /// to the session and replays once when told a replay can help, as `session.js` does.
    AlwaysRefused,
    /// A fleet of laptops that slept overnight and wake in the same minute (9:00): every
    /// device's tokens expired hours ago, its timers fire hours late, and each of its one to
    /// four tabs (one visible, the others hidden) calls its API within seconds of waking. The
    /// tabs share storage and the refresh lock, as a browser's do.
    WakeUp,
}

impl ScenarioKind {
    /// Every scenario, in report order.
    pub const ALL: [ScenarioKind; 7] = [
        ScenarioKind::RecoveryStorm,
        ScenarioKind::MixedStorm,
        ScenarioKind::SynchronizedExpiry,
        ScenarioKind::LongThrottle,
        ScenarioKind::SigninPressure,
        ScenarioKind::AlwaysRefused,
        ScenarioKind::WakeUp,
    ];

    /// The name used in reports and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ScenarioKind::RecoveryStorm => "recovery_storm",
            ScenarioKind::MixedStorm => "mixed_storm",
            ScenarioKind::SynchronizedExpiry => "synchronized_expiry",
            ScenarioKind::LongThrottle => "long_throttle",
            ScenarioKind::SigninPressure => "signin_pressure",
            ScenarioKind::AlwaysRefused => "always_401",
            ScenarioKind::WakeUp => "wake_up",
        }
    }

    /// Whether each session's app calls its API every `call_interval` (rather than having one
    /// caller at the start, or none).
    pub fn periodic_calls(self) -> bool {
        matches!(
            self,
            ScenarioKind::SynchronizedExpiry | ScenarioKind::AlwaysRefused
        )
    }

    /// The scenario called `name`.
    pub fn parse(name: &str) -> Option<ScenarioKind> {
        ScenarioKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The fleet size the bench uses when none is given.
    pub fn default_sessions(self) -> usize {
        match self {
            ScenarioKind::SynchronizedExpiry => 20_000,
            _ => 10_000,
        }
    }
}

/// Everything that defines one simulated run but the policy.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Which storm.
    pub kind: ScenarioKind,
    /// N: browser sessions (devices; one tab each but in the wake-up, see `tabs`).
    pub sessions: usize,
    /// Cognito's quota (C = `quota.rate`).
    pub quota: QuotaConfig,
    /// Fixes every random draw of the run.
    pub seed: u64,
    /// One-way latency of a request to Cognito (fixed, so arrival order is send order).
    pub request_latency: Millis,
    /// One-way latency of the answer: uniform in this range.
    pub response_latency: (Millis, Millis),
    /// Sessions with a caller waiting at the start, in thousandths.
    pub waiting_permille: u32,
    /// How long a caller waits for a token before it gives up and asks again.
    pub caller_deadline: Millis,
    /// Sessions whose refresh token has been revoked, in thousandths: they must go to login,
    /// which is not a false sign-out.
    pub revoked_permille: u32,
    /// Synchronized expiry, always-401: sessions sign in uniformly over this window, outside
    /// the quota (for the synchronized expiry an hour before the part that is measured);
    /// wake-up: devices wake uniformly over it.
    pub signin_spread: Millis,
    /// Synchronized expiry, always-401: each session's app makes an API call every
    /// uniform(range).
    pub call_interval: (Millis, Millis),
    /// Always-401: a session's refreshes are counted from this long after its sign-in (the
    /// first forced refreshes come quickly by design: a refusal may be a revoked token).
    pub warmup: Millis,
    /// Sign-in pressure: new users' password sign-ins per second, competing for the quota.
    pub signin_rps: f64,
    /// Tabs per session: uniform in this range (one tab but in the wake-up).
    pub tabs: (usize, usize),
    /// Wake-up: each tab's app calls its API uniform(range) after its device wakes.
    pub resume: (Millis, Millis),
    /// A user whose sign-in was throttled tries again after uniform(range).
    pub user_retry: (Millis, Millis),
    /// The run stops here even if some session still waits (its makespan is then unknown).
    pub horizon: Millis,
}

impl Scenario {
    /// The scenario with the issue's parameters: `sessions` sessions, quota `quota_rps` (burst
    /// equal to one second), latency 50 ms out and 30–150 ms back.
    pub fn new(kind: ScenarioKind, sessions: usize, quota_rps: u32, seed: u64) -> Scenario {
        let mut quota = QuotaConfig::per_second(quota_rps);
        if kind == ScenarioKind::LongThrottle {
            quota.outages.push((T0, T0 + MINUTE));
        }
        Scenario {
            kind,
            sessions,
            quota,
            seed,
            request_latency: 50,
            response_latency: (30, 150),
            waiting_permille: match kind {
                ScenarioKind::MixedStorm => 200,
                // Callers come and go with the app's API calls (`call_interval`).
                ScenarioKind::SynchronizedExpiry | ScenarioKind::AlwaysRefused => 0,
                _ => 1_000,
            },
            caller_deadline: HOUR,
            revoked_permille: 0,
            signin_spread: if kind == ScenarioKind::AlwaysRefused {
                10 * MINUTE
            } else {
                MINUTE
            },
            call_interval: if kind == ScenarioKind::AlwaysRefused {
                (5 * SECOND, 5 * SECOND)
            } else {
                (MINUTE, 5 * MINUTE)
            },
            warmup: 10 * MINUTE,
            signin_rps: if kind == ScenarioKind::SigninPressure {
                f64::from(quota_rps) / 4.0
            } else {
                0.0
            },
            user_retry: (3 * SECOND, 10 * SECOND),
            tabs: if kind == ScenarioKind::WakeUp {
                (1, 4)
            } else {
                (1, 1)
            },
            resume: (0, 5 * SECOND),
            horizon: T0
                + if kind == ScenarioKind::AlwaysRefused {
                    3 * HOUR
                } else {
                    6 * HOUR
                },
        }
    }

    /// The physical limit for `needing` sessions to get a token: `needing / C`, plus any total
    /// outage, with the quota left after background load and new users' sign-ins; for the
    /// wake-up at least the minute over which the devices wake. (For the synchronized expiry it
    /// is the same formula; the refreshes are meant to be spread far wider than that.)
    pub fn limit(&self, needing: usize) -> Millis {
        let rate = f64::from(self.quota.rate) - self.quota.background_rps - self.signin_rps;
        let outage: Millis = self
            .quota
            .outages
            .iter()
            .map(|(s, e)| e.saturating_sub(*s))
            .sum();
        let limit = (needing as f64 / rate.max(1e-3) * 1_000.0) as Millis + outage;
        // Devices that wake over a minute cannot all be served before the last one wakes.
        if self.kind == ScenarioKind::WakeUp {
            limit.max(self.signin_spread)
        } else {
            limit
        }
    }
}

/// A refresh policy under test.
#[derive(Debug, Clone)]
pub enum Policy {
    /// The policy shipped in the browser: the real [`SessionMachine`] with `Config::new` defaults.
    Shipped,
    /// The real [`SessionMachine`] with another configuration (for measuring alternatives).
    Session { name: String, config: Box<Config> },
    /// A model of another client (see [`ModelKind`]).
    Model(ModelKind),
}

impl Policy {
    /// The name in reports; the shipped policy is `cognito-session`.
    pub fn name(&self) -> String {
        match self {
            Policy::Shipped => String::from("cognito-session"),
            Policy::Session { name, .. } => name.clone(),
            Policy::Model(kind) => kind.name(),
        }
    }

    /// The policies the bench runs by default: the shipped one and every baseline.
    pub fn all() -> Vec<Policy> {
        let mut all = vec![Policy::Shipped];
        all.extend(ModelKind::baselines().into_iter().map(Policy::Model));
        all
    }

    /// The shipped session as it was before issue 13: every refusal of a token 30 s old
    /// forces a refresh (its [`RefusalPolicy`](crate::engine::backoff::RefusalPolicy) capped at
    /// its base).
    pub fn no_401_backoff() -> Policy {
        let mut config = cognito_config(&Issuer::default());
        config.refusal.cap = config.refusal.base;
        Policy::Session {
            name: String::from(NO_401_BACKOFF),
            config: Box::new(config),
        }
    }

    /// The policies the bench runs on `kind` by default: [`Policy::all`], or for the always-401
    /// the shipped one and [`Policy::no_401_backoff`] (the models never report a 401: each
    /// refreshes once an hour there whatever the API says).
    pub fn defaults(kind: ScenarioKind) -> Vec<Policy> {
        match kind {
            ScenarioKind::AlwaysRefused => vec![Policy::Shipped, Policy::no_401_backoff()],
            _ => Policy::all(),
        }
    }
}

/// The name of [`Policy::no_401_backoff`].
pub const NO_401_BACKOFF: &str = "no-401-backoff";

/// The provider the shipped sessions are configured with, as the browser configures it for a
/// user pool: the pool's endpoint, app client id and issuer.
pub fn cognito_config(issuer: &Issuer) -> Config {
    let mut config = Config::new(Provider::Cognito {
        endpoint: String::from("https://cognito-idp.us-east-1.amazonaws.com/"),
        client_id: issuer.client_id.clone(),
        rotation: false,
    });
    config.rules.client_id = Some(issuer.client_id.clone());
    config.rules.issuer = Some(issuer.iss.clone());
    config
}

/// What one run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub scenario: ScenarioKind,
    /// The policy's name (`cognito-session` for the shipped one).
    pub policy: String,
    /// N.
    pub sessions: usize,
    /// C.
    pub quota_rps: u32,
    /// From the first need to the last session holding the token it needed; `None` when some
    /// session still had none at the horizon.
    pub makespan: Option<Millis>,
    /// The physical limit ([`Scenario::limit`]) for the sessions that needed a token (all of
    /// them but revoked ones, and idle tabs of a client that never refreshes without a caller).
    pub limit: Millis,
    /// Calls to Cognito made for the sessions (refreshes, and sign-ins after a sign-out).
    pub calls: u64,
    /// Those of `calls` that Cognito throttled.
    pub throttled_calls: u64,
    /// Sessions sent to login while their refresh token was good.
    pub false_signouts: u64,
    /// Sessions sent to login because their refresh token was revoked (expected).
    pub true_signouts: u64,
    /// API calls made with an expired or missing token.
    pub bad_token_calls: u64,
    /// API calls made with a valid token.
    pub api_calls: u64,
    /// Time-to-token of callers (from their first ask to a valid token), sorted.
    pub waiting: Vec<Millis>,
    /// Time-to-token of idle sessions (from the need to a valid token), sorted.
    pub idle: Vec<Millis>,
    /// New users' sign-ins (sign-in pressure): time from the first try to success, sorted.
    pub signins: Vec<Millis>,
    /// New users' sign-in attempts, throttled ones included.
    pub signin_attempts: u64,
    /// Always-401: refresh calls per session per hour from [`Scenario::warmup`] after its
    /// sign-in to the horizon, the mean over sessions and the largest.
    pub refresh_rate: Option<(f64, f64)>,
    /// The fleet's calls to Cognito second by second, by the second they reached it (index 0:
    /// the second from [`T0`]): how many the quota admitted and how many it throttled. New
    /// users' sign-ins (sign-in pressure) and background load are not in it.
    pub per_second: Vec<PerSecond>,
}

/// What reached Cognito from the fleet in one second.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PerSecond {
    /// Calls the quota admitted.
    pub admitted: u32,
    /// Calls it throttled.
    pub throttled: u32,
}

impl PerSecond {
    /// Every call of that second.
    pub fn sent(self) -> u32 {
        self.admitted.saturating_add(self.throttled)
    }
}

impl Report {
    /// Makespan over the physical limit.
    pub fn makespan_ratio(&self) -> Option<f64> {
        self.makespan.map(|m| m as f64 / self.limit.max(1) as f64)
    }

    /// Calls to Cognito per session.
    pub fn calls_per_session(&self) -> f64 {
        self.calls as f64 / self.sessions.max(1) as f64
    }

    /// The `q`-quantile (0..=1) of the callers' time-to-token.
    pub fn waiting_quantile(&self, q: f64) -> Option<Millis> {
        quantile(&self.waiting, q)
    }

    /// The `q`-quantile of the idle sessions' time-to-token.
    pub fn idle_quantile(&self, q: f64) -> Option<Millis> {
        quantile(&self.idle, q)
    }

    /// Time-to-token over callers, or over idle sessions when no caller waited.
    fn ttt(&self, q: f64) -> Option<Millis> {
        self.waiting_quantile(q).or_else(|| self.idle_quantile(q))
    }

    /// One JSON object with exactly the issue's field names. In the mixed storm the time-to-token
    /// fields are the waiting callers'; sessions without a caller are in the table only. An
    /// always-401 line adds `refreshes_per_session_hour` and `max_refreshes_per_session_hour`
    /// ([`Report::refresh_rate`]).
    pub fn to_json(&self) -> String {
        let mut out = String::from("{\"scenario\":\"");
        out.push_str(self.scenario.name());
        out.push_str("\",\"policy\":");
        json::write_string(&mut out, &self.policy);
        let _ = write!(
            out,
            ",\"sessions\":{},\"quota_rps\":{},\"makespan_s\":{},\"makespan_ratio\":{},\
             \"calls_per_session\":{:.3},\"throttled_calls\":{},\"false_signouts\":{},\
             \"bad_token_calls\":{},\"p50_time_to_token_s\":{},\"p99_time_to_token_s\":{}",
            self.sessions,
            self.quota_rps,
            opt_secs(self.makespan),
            self.makespan_ratio()
                .map_or(String::from("null"), |r| format!("{r:.3}")),
            self.calls_per_session(),
            self.throttled_calls,
            self.false_signouts,
            self.bad_token_calls,
            opt_secs(self.ttt(0.5)),
            opt_secs(self.ttt(0.99)),
        );
        if let Some((mean, max)) = self.refresh_rate {
            let _ = write!(
                out,
                ",\"refreshes_per_session_hour\":{mean:.3},\"max_refreshes_per_session_hour\":{max:.3}"
            );
        }
        out.push('}');
        out
    }

    /// The header of [`Report::table_row`].
    pub fn table_header() -> String {
        format!(
            "{:<20} {:<24} {:>7} {:>4} {:>9} {:>6} {:>7} {:>10} {:>6} {:>5} {:>5} {:>8} {:>8} {:>8} {:>8} {:>6} {:>6}",
            "scenario",
            "policy",
            "N",
            "C",
            "makespan",
            "ratio",
            "calls/N",
            "throttled",
            "thr%",
            "fso",
            "bad",
            "p50 ttt",
            "p99 ttt",
            "idle p50",
            "idle p99",
            "rf/h",
            "max"
        )
    }

    /// One human-readable line: times in seconds, `-` where there is nothing to show.
    pub fn table_row(&self) -> String {
        let share = if self.calls == 0 {
            0.0
        } else {
            self.throttled_calls as f64 * 100.0 / self.calls as f64
        };
        let secs = |m: Option<Millis>| {
            m.map_or(String::from("-"), |m| format!("{:.1}", m as f64 / 1_000.0))
        };
        let (p50, p99) = if self.waiting.is_empty() {
            (None, None)
        } else {
            (self.waiting_quantile(0.5), self.waiting_quantile(0.99))
        };
        let (rate, max) = self
            .refresh_rate
            .map_or((String::from("-"), String::from("-")), |r| {
                (format!("{:.2}", r.0), format!("{:.2}", r.1))
            });
        format!(
            "{:<20} {:<24} {:>7} {:>4} {:>9} {:>6} {:>7.2} {:>10} {:>5.1}% {:>5} {:>5} {:>8} {:>8} {:>8} {:>8} {:>6} {:>6}",
            self.scenario.name(),
            self.policy,
            self.sessions,
            self.quota_rps,
            secs(self.makespan),
            self.makespan_ratio().map_or(String::from("-"), |r| format!("{r:.2}")),
            self.calls_per_session(),
            self.throttled_calls,
            share,
            self.false_signouts,
            self.bad_token_calls,
            secs(p50),
            secs(p99),
            secs(self.idle_quantile(0.5)),
            secs(self.idle_quantile(0.99)),
            rate,
            max,
        )
    }
}

fn opt_secs(m: Option<Millis>) -> String {
    m.map_or(String::from("null"), |m| {
        format!("{:.3}", m as f64 / 1_000.0)
    })
}

/// The `q`-quantile of sorted samples (nearest rank).
fn quantile(sorted: &[Millis], q: f64) -> Option<Millis> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

/// Runs `policy` through `scenario`.
pub fn run(scenario: &Scenario, policy: &Policy) -> Report {
    let mut ctx = Ctx::new(scenario);
    let mut report = match policy {
        Policy::Shipped => {
            let config = cognito_config(&ctx.issuer);
            drive(&mut ctx, &mut ShippedFleet::new(config, scenario.sessions))
        }
        Policy::Session { config, .. } => drive(
            &mut ctx,
            &mut ShippedFleet::new((**config).clone(), scenario.sessions),
        ),
        Policy::Model(kind) => drive(&mut ctx, &mut ModelFleet::new(*kind, scenario.sessions)),
    };
    report.policy = policy.name();
    report
}

// ----- the engine -----

/// Something that happens to session `session` at `at` (32 bytes: a hundred thousand sessions
/// keep a few hundred thousand of these in flight).
#[derive(Debug, Clone, Copy)]
struct Ev {
    at: Millis,
    session: u32,
    kind: EvKind,
}

#[derive(Debug, Clone, Copy)]
enum EvKind {
    /// The session begins (signs in, or wakes with its stored tokens).
    Start,
    /// The timer of one of the session's tabs.
    Wake { tab: u8 },
    /// Cognito's answer to request `attempt` (`tag`: the model's bookkeeping), admitted or not
    /// `back` ms before it arrives.
    Response {
        attempt: u32,
        back: u16,
        outcome: Outcome,
        tag: u64,
    },
    /// A caller of the app in tab `tab` asks for a token; it first asked at `since`.
    Caller { since: Millis, tab: u8 },
    /// A new user (not one of the sessions) tries to sign in; first tried at `since`.
    NewUser { since: Millis },
}

/// The event queue: a calendar of one-millisecond buckets over the next [`WHEEL`] ms, and a heap
/// for later events that moves each into its bucket as the window reaches it. Events leave in
/// `(time, sequence)` order, like a binary heap, at a fraction of its cost for a hundred thousand
/// pending events: most pushes and pops touch one bucket.
struct Calendar {
    buckets: Vec<Vec<Ev>>,
    /// The millisecond being served, and how far into its bucket.
    cursor: Millis,
    head: usize,
    /// Events in the buckets.
    in_wheel: usize,
    /// Events beyond the window, ordered by time and then by when they were queued.
    later: BinaryHeap<Reverse<Later>>,
    queued: u64,
}

/// An event beyond the calendar's window.
#[derive(Debug, Clone, Copy)]
struct Later {
    seq: u64,
    ev: Ev,
}

const WHEEL: Millis = 1 << 16;

impl Calendar {
    fn new(start: Millis) -> Calendar {
        Calendar {
            buckets: (0..WHEEL).map(|_| Vec::new()).collect(),
            cursor: start,
            head: 0,
            in_wheel: 0,
            later: BinaryHeap::new(),
            queued: 0,
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.in_wheel + self.later.len()
    }

    fn bucket(&mut self, at: Millis) -> Option<&mut Vec<Ev>> {
        self.buckets.get_mut((at % WHEEL) as usize)
    }

    /// Queues `ev`; its time must not be before the last event popped.
    fn push(&mut self, ev: Ev) {
        let at = ev.at.max(self.cursor);
        if at < self.cursor + WHEEL {
            if let Some(bucket) = self.bucket(at) {
                bucket.push(Ev { at, ..ev });
                self.in_wheel += 1;
            }
        } else {
            self.queued += 1;
            self.later.push(Reverse(Later {
                seq: self.queued,
                ev,
            }));
        }
    }

    fn pop(&mut self) -> Option<Ev> {
        loop {
            let (cursor, head) = (self.cursor, self.head);
            let bucket = self.bucket(cursor)?;
            if let Some(ev) = bucket.get(head).copied() {
                self.head += 1;
                self.in_wheel -= 1;
                return Some(ev);
            }
            bucket.clear();
            self.head = 0;
            if self.in_wheel == 0 {
                // Jump over the empty stretch to the next far event.
                let Reverse(next) = self.later.peek()?;
                self.cursor = next.ev.at.saturating_sub(WHEEL - 1).max(cursor + 1);
            } else {
                self.cursor += 1;
            }
            // The window now reaches `cursor + WHEEL - 1`: bring in what falls inside it.
            let end = self.cursor + WHEEL;
            while self.later.peek().is_some_and(|Reverse(l)| l.ev.at < end) {
                let Some(Reverse(Later { ev, .. })) = self.later.pop() else {
                    break;
                };
                if let Some(bucket) = self.bucket(ev.at) {
                    bucket.push(ev);
                    self.in_wheel += 1;
                }
            }
        }
    }
}

impl PartialEq for Later {
    fn eq(&self, other: &Self) -> bool {
        (self.ev.at, self.seq) == (other.ev.at, other.seq)
    }
}
impl Eq for Later {}
impl PartialOrd for Later {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Later {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.ev.at, self.seq).cmp(&(other.ev.at, other.seq))
    }
}

/// How Cognito answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Ok,
    Throttled,
    Revoked,
}

/// What a session needs from the run, and what it got.
#[derive(Debug, Clone, Default)]
struct Track {
    revoked: bool,
    /// The session had no caller when its need began.
    idle: bool,
    /// When the session began to need a token it did not have.
    need_at: Option<Millis>,
    /// When it got one (after `need_at`).
    got_at: Option<Millis>,
    /// It has finished: holds the token it needed with nobody waiting, or went to login.
    done: bool,
    /// When it began (signed in, or woke with its stored tokens).
    started: Millis,
    /// Refresh calls it made from `Scenario::warmup` after it began.
    late_refreshes: u32,
}

/// The simulator's shared state: clock, queue, quota, counters.
pub(crate) struct Ctx<'a> {
    scenario: &'a Scenario,
    pub(crate) now: Millis,
    queue: Calendar,
    quota: Quota,
    pub(crate) rng: Rng,
    issuer: Issuer,
    tracks: Vec<Track>,
    undone: usize,
    first_need: Option<Millis>,
    last_got: Millis,
    calls: u64,
    throttled: u64,
    false_signouts: u64,
    true_signouts: u64,
    bad_token_calls: u64,
    api_calls: u64,
    waiting: Vec<Millis>,
    idle: Vec<Millis>,
    signins: Vec<Millis>,
    signin_attempts: u64,
    per_second: Vec<PerSecond>,
}

impl<'a> Ctx<'a> {
    fn new(scenario: &'a Scenario) -> Ctx<'a> {
        let mut rng = Rng::new(scenario.seed);
        let quota = Quota::new(scenario.quota.clone(), T0, rng.next_u64());
        Ctx {
            scenario,
            now: T0,
            queue: Calendar::new(T0),
            quota,
            rng,
            issuer: Issuer::default(),
            tracks: vec![Track::default(); scenario.sessions],
            undone: scenario.sessions,
            first_need: None,
            last_got: T0,
            calls: 0,
            throttled: 0,
            false_signouts: 0,
            true_signouts: 0,
            bad_token_calls: 0,
            api_calls: 0,
            waiting: Vec::new(),
            idle: Vec::new(),
            signins: Vec::new(),
            signin_attempts: 0,
            per_second: Vec::new(),
        }
    }

    pub(crate) fn scenario(&self) -> &Scenario {
        self.scenario
    }

    fn push(&mut self, at: Millis, session: usize, kind: EvKind) {
        let ev = Ev {
            at,
            session: u32::try_from(session).unwrap_or(u32::MAX),
            kind,
        };
        self.queue.push(ev);
    }

    /// Schedules the timer of tab `tab` of session `session` (the models have one tab: 0).
    pub(crate) fn wake_at(&mut self, at: Millis, session: usize, tab: usize) {
        let tab = u8::try_from(tab).unwrap_or(u8::MAX);
        self.push(at.max(self.now), session, EvKind::Wake { tab });
    }

    /// A caller in tab `tab` of session `session` (first asked at `since`) asks (again) at `at`.
    pub(crate) fn caller_at(&mut self, at: Millis, session: usize, tab: usize, since: Millis) {
        let tab = u8::try_from(tab).unwrap_or(u8::MAX);
        self.push(at.max(self.now), session, EvKind::Caller { since, tab });
    }

    /// A uniform draw in `range`.
    pub(crate) fn draw(&mut self, range: (Millis, Millis)) -> Millis {
        self.rng.between(range.0, range.1)
    }

    /// Sends one `InitiateAuth` for session `session` (a refresh, or a sign-in when `sign_in`);
    /// its answer comes back as a `Response` event carrying `attempt` and `tag`.
    pub(crate) fn send(&mut self, session: usize, attempt: u64, tag: u64, sign_in: bool) {
        self.calls += 1;
        let warmup = self.scenario.warmup;
        let now = self.now;
        if let Some(t) = self.tracks.get_mut(session) {
            if !sign_in && now >= t.started.saturating_add(warmup) {
                t.late_refreshes += 1;
            }
        }
        let arrived = self.now + self.scenario.request_latency;
        let admitted = self.quota.admit(arrived);
        self.count_second(arrived, admitted);
        let revoked = self.tracks.get(session).is_some_and(|t| t.revoked);
        let outcome = if !admitted {
            self.throttled += 1;
            Outcome::Throttled
        } else if revoked && !sign_in {
            Outcome::Revoked
        } else {
            Outcome::Ok
        };
        let (low, high) = self.scenario.response_latency;
        let back = self.draw((low.min(65_535), high.min(65_535)));
        self.push(
            arrived + back,
            session,
            EvKind::Response {
                // Attempt ids are per-session counters: far below u32::MAX in any run.
                attempt: u32::try_from(attempt).unwrap_or(u32::MAX),
                back: u16::try_from(back).unwrap_or(u16::MAX),
                outcome,
                tag,
            },
        );
    }

    /// Counts a call that reached the quota at `arrived` in [`Report::per_second`].
    fn count_second(&mut self, arrived: Millis, admitted: bool) {
        let Ok(second) = usize::try_from(arrived.saturating_sub(T0) / SECOND) else {
            return;
        };
        if self.per_second.len() <= second {
            self.per_second.resize(second + 1, PerSecond::default());
        }
        if let Some(slot) = self.per_second.get_mut(second) {
            if admitted {
                slot.admitted = slot.admitted.saturating_add(1);
            } else {
                slot.throttled = slot.throttled.saturating_add(1);
            }
        }
    }

    /// Session `session` now needs a token it does not have (first call wins).
    pub(crate) fn need(&mut self, session: usize) {
        let now = self.now;
        if let Some(t) = self.tracks.get_mut(session) {
            if t.need_at.is_none() && !t.done {
                t.need_at = Some(now);
                self.first_need = Some(self.first_need.map_or(now, |f| f.min(now)));
            }
        }
    }

    /// Session `session` holds a valid token from now on.
    pub(crate) fn got_token(&mut self, session: usize) {
        let now = self.now;
        let Some(t) = self.tracks.get_mut(session) else {
            return;
        };
        if let (Some(need), None) = (t.need_at, t.got_at) {
            t.got_at = Some(now);
            self.last_got = self.last_got.max(now);
            if t.idle {
                self.idle.push(now - need);
            }
        }
    }

    /// A caller that first asked at `since` got a token that expires at `exp` (provider clock,
    /// ms; 0 for no token) and makes its API call with it now.
    pub(crate) fn api_call(&mut self, since: Millis, exp: Millis) {
        // The call reaches the API one request leg later; the token must still be valid there.
        if exp > self.now + self.scenario.request_latency {
            self.api_calls += 1;
            self.waiting.push(self.now - since);
        } else {
            self.bad_token_calls += 1;
        }
    }

    /// A caller went ahead without a valid token (a baseline that gave up on refreshing).
    pub(crate) fn api_call_without_token(&mut self) {
        self.bad_token_calls += 1;
    }

    /// Session `session` was sent to login.
    pub(crate) fn signed_out(&mut self, session: usize) {
        let Some(t) = self.tracks.get_mut(session) else {
            return;
        };
        if t.revoked {
            self.true_signouts += 1;
            if !t.done {
                t.done = true;
                self.undone -= 1;
            }
        } else {
            self.false_signouts += 1;
        }
    }

    /// Session `session` has what it needed if it holds a token and nobody waits.
    pub(crate) fn settle(&mut self, session: usize, has_token: bool, callers_waiting: bool) {
        let Some(t) = self.tracks.get_mut(session) else {
            return;
        };
        if !t.done && t.got_at.is_some() && has_token && !callers_waiting {
            t.done = true;
            self.undone -= 1;
        }
    }

    /// A session that will never need anything (a naive client's idle tab).
    pub(crate) fn no_need(&mut self, session: usize) {
        let Some(t) = self.tracks.get_mut(session) else {
            return;
        };
        if !t.done && t.need_at.is_none() {
            t.done = true;
            self.undone -= 1;
        }
    }

    fn revoked(&self, session: usize) -> bool {
        self.tracks.get(session).is_some_and(|t| t.revoked)
    }

    /// The subject of session `session`'s tokens.
    fn sub(session: usize) -> String {
        let mut sub = String::from("user-");
        sub.push_str(&session.to_string());
        sub
    }
}

/// What every client population implements; the engine calls it for each event.
pub(crate) trait Fleet {
    /// Session `s` begins with `tokens` (provider-clock `(iat, exp)` in seconds) and, if
    /// `caller`, one caller asking for a token now.
    fn start(&mut self, ctx: &mut Ctx, s: usize, tokens: (u64, u64), caller: bool);
    /// The timer of tab `tab` of session `s`.
    fn wake(&mut self, ctx: &mut Ctx, s: usize, tab: usize);
    fn response(
        &mut self,
        ctx: &mut Ctx,
        s: usize,
        attempt: u64,
        tag: u64,
        outcome: Outcome,
        arrived: Millis,
    );
    /// A caller in tab `tab` of session `s` asks for a token; it first asked at `since`.
    fn caller(&mut self, ctx: &mut Ctx, s: usize, tab: usize, since: Millis);
}

/// Runs the scenario's events through `fleet` until every session has what it needed (or the
/// horizon), and collects the report.
fn drive(ctx: &mut Ctx, fleet: &mut dyn Fleet) -> Report {
    let scenario = ctx.scenario;
    let n = scenario.sessions;
    let mut assign = Rng::new(scenario.seed ^ 0x5EED_F1EE7);
    // Which sessions are revoked and which have a caller, in exact proportions.
    let revoked = scenario.revoked_permille as usize * n / 1_000;
    let waiting = scenario.waiting_permille as usize * n / 1_000;
    let mut order: Vec<usize> = (0..n).collect();
    shuffle(&mut order, &mut assign);
    let mut callers = vec![false; n];
    for (rank, s) in order.iter().enumerate() {
        if let Some(t) = ctx.tracks.get_mut(*s) {
            t.revoked = rank < revoked;
        }
    }
    shuffle(&mut order, &mut assign);
    for (rank, s) in order.iter().enumerate() {
        if let Some(c) = callers.get_mut(*s) {
            *c = rank < waiting;
        }
        if let Some(t) = ctx.tracks.get_mut(*s) {
            t.idle = rank >= waiting;
        }
    }
    match scenario.kind {
        ScenarioKind::SynchronizedExpiry | ScenarioKind::AlwaysRefused | ScenarioKind::WakeUp => {
            for s in 0..n {
                let at = T0 + assign.up_to(scenario.signin_spread.saturating_sub(1));
                ctx.push(at, s, EvKind::Start);
            }
        }
        _ => {
            for s in 0..n {
                ctx.push(T0, s, EvKind::Start);
            }
        }
    }
    if scenario.signin_rps > 0.0 {
        let first = T0 + poisson_gap(&mut assign, scenario.signin_rps);
        ctx.push(first, usize::MAX, EvKind::NewUser { since: first });
    }
    let mut arrivals = assign;
    // The always-401 runs to its horizon: its measure is a rate, not when everyone was served.
    let to_horizon = scenario.kind == ScenarioKind::AlwaysRefused;
    while ctx.undone > 0 || to_horizon {
        let Some(ev) = ctx.queue.pop() else {
            break;
        };
        if ev.at > scenario.horizon {
            break;
        }
        ctx.now = ev.at;
        let s = ev.session as usize;
        match ev.kind {
            EvKind::Start => {
                let caller = callers.get(s).copied().unwrap_or(false);
                if let Some(t) = ctx.tracks.get_mut(s) {
                    t.started = ev.at;
                }
                let tokens = match scenario.kind {
                    ScenarioKind::SynchronizedExpiry | ScenarioKind::AlwaysRefused => {
                        let iat = ctx.now / SECOND;
                        (iat, iat + TOKEN_LIFETIME_S)
                    }
                    // Issued the evening before (12 h before T0), expired for 11 hours.
                    ScenarioKind::WakeUp => {
                        let iat = T0 / SECOND - 12 * 3_600;
                        (iat, iat + TOKEN_LIFETIME_S)
                    }
                    // Tokens that expired a second before the storm.
                    _ => (T0 / SECOND - TOKEN_LIFETIME_S - 1, T0 / SECOND - 1),
                };
                fleet.start(ctx, s, tokens, caller);
            }
            EvKind::Wake { tab } => fleet.wake(ctx, s, usize::from(tab)),
            EvKind::Response {
                attempt,
                back,
                outcome,
                tag,
            } => {
                let arrived = ev.at.saturating_sub(u64::from(back));
                fleet.response(ctx, s, u64::from(attempt), tag, outcome, arrived);
            }
            EvKind::Caller { since, tab } => fleet.caller(ctx, s, usize::from(tab), since),
            EvKind::NewUser { since } => {
                ctx.signin_attempts += 1;
                let at = ctx.now + scenario.request_latency;
                if ctx.quota.admit(at) {
                    ctx.signins.push(at - since);
                } else {
                    let again = ctx.now + ctx.draw(scenario.user_retry);
                    ctx.push(again, usize::MAX, EvKind::NewUser { since });
                }
                if since == ev.at {
                    let next = ev.at + poisson_gap(&mut arrivals, scenario.signin_rps);
                    ctx.push(next, usize::MAX, EvKind::NewUser { since: next });
                }
            }
        }
    }
    let makespan = (ctx.undone == 0 && !to_horizon)
        .then(|| ctx.last_got.saturating_sub(ctx.first_need.unwrap_or(T0)));
    let refresh_rate = to_horizon.then(|| {
        let rates: Vec<f64> = ctx
            .tracks
            .iter()
            .map(|t| {
                let from = t.started.saturating_add(scenario.warmup);
                let hours = scenario.horizon.saturating_sub(from) as f64 / HOUR as f64;
                f64::from(t.late_refreshes) / hours.max(1e-9)
            })
            .collect();
        let mean = rates.iter().sum::<f64>() / rates.len().max(1) as f64;
        (mean, rates.iter().copied().fold(0.0, f64::max))
    });
    let mut report = Report {
        scenario: scenario.kind,
        policy: String::new(),
        sessions: n,
        quota_rps: scenario.quota.rate,
        makespan,
        limit: scenario.limit(
            ctx.tracks
                .iter()
                .filter(|t| t.need_at.is_some() && !t.revoked)
                .count(),
        ),
        calls: ctx.calls,
        throttled_calls: ctx.throttled,
        false_signouts: ctx.false_signouts,
        true_signouts: ctx.true_signouts,
        bad_token_calls: ctx.bad_token_calls,
        api_calls: ctx.api_calls,
        waiting: std::mem::take(&mut ctx.waiting),
        idle: std::mem::take(&mut ctx.idle),
        signins: std::mem::take(&mut ctx.signins),
        signin_attempts: ctx.signin_attempts,
        refresh_rate,
        per_second: std::mem::take(&mut ctx.per_second),
    };
    report.waiting.sort_unstable();
    report.idle.sort_unstable();
    report.signins.sort_unstable();
    report
}

fn shuffle(items: &mut [usize], rng: &mut Rng) {
    for i in (1..items.len()).rev() {
        let j = rng.up_to(i as u64) as usize;
        items.swap(i, j);
    }
}

/// An exponential gap (ms) of a Poisson process with `rps` arrivals per second.
fn poisson_gap(rng: &mut Rng, rps: f64) -> Millis {
    let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    (-(1.0 - u).ln() * 1_000.0 / rps).round().max(1.0) as Millis
}

// ----- the shipped policy: real sessions -----

/// One browser tab of the shipped policy, and what its driver keeps.
struct Client {
    session: SessionMachine,
    /// The time the pending timer event is for, if one is pending.
    armed: Option<Millis>,
    /// Callers waiting: the session's waiter id and when the caller first asked.
    waiters: Vec<(WaiterId, Millis)>,
    /// Those of `waiters` that wait to replay a refused call (always-401).
    replays: Vec<WaiterId>,
    /// The provider-clock expiry of the last token checked, by a hash of the token.
    checked: (u64, Millis),
}

/// One browser: its tabs (one in every scenario but the wake-up), the storage they share and
/// the refresh lock (the Web Lock: granted in request order, one holder at a time).
struct Device {
    tabs: Vec<Client>,
    /// What the tabs last persisted (handed to the lock holder).
    storage: Option<String>,
    /// The tab holding the refresh lock, and for which refresh.
    lock: Option<(usize, RefreshId)>,
    /// Lock requests waiting, in order.
    queue: std::collections::VecDeque<(usize, RefreshId)>,
}

/// What a tab hears from the others: a `BroadcastChannel` message or a `storage` event.
enum Note {
    Message(String),
    Storage(Option<String>),
}

struct ShippedFleet {
    config: Config,
    devices: Vec<Option<Device>>,
}

impl ShippedFleet {
    fn new(config: Config, n: usize) -> ShippedFleet {
        ShippedFleet {
            config,
            devices: (0..n).map(|_| None).collect(),
        }
    }

    /// Performs every action of every tab of device `s`, delivers what tabs tell each other and
    /// grants the lock, until nothing is left to do now; then re-arms the tabs' timers.
    fn pump(&mut self, ctx: &mut Ctx, s: usize) {
        let Some(device) = self.devices.get_mut(s).and_then(Option::as_mut) else {
            return;
        };
        let now = ctx.now;
        let refusing = ctx.scenario().kind == ScenarioKind::AlwaysRefused;
        let shared = device.tabs.len() > 1;
        let mut inbox: Vec<(usize, Note)> = Vec::new();
        loop {
            let mut busy = false;
            for (t, client) in device.tabs.iter_mut().enumerate() {
                while let Some(action) = client.session.poll_action() {
                    busy = true;
                    match action {
                        Action::AcquireRefreshLock { id } => device.queue.push_back((t, id)),
                        Action::ReleaseRefreshLock { id } => {
                            if device.lock == Some((t, id)) {
                                device.lock = None;
                            }
                            device.queue.retain(|q| *q != (t, id));
                        }
                        Action::SendRefresh { id, .. } => {
                            ctx.need(s);
                            ctx.send(s, id.0, t as u64, false);
                        }
                        Action::AbortRefresh { .. } => {}
                        // The fleet's sessions check no signatures (src/sim/key_fleet.rs does).
                        Action::AcquireKeysLock { .. }
                        | Action::FetchKeys { .. }
                        | Action::PersistKeys { .. }
                        | Action::Verify { .. } => {}
                        Action::Broadcast { message } => {
                            if shared {
                                inbox.push((t, Note::Message(message)));
                            }
                        }
                        Action::ResolveWaiters {
                            waiters,
                            access_token,
                        } => {
                            let exp = token_exp(&mut client.checked, &access_token);
                            for id in waiters {
                                if let Some(pos) = client.waiters.iter().position(|(w, _)| *w == id)
                                {
                                    let (_, since) = client.waiters.swap_remove(pos);
                                    ctx.api_call(since, exp);
                                    if refusing && !take(&mut client.replays, id) {
                                        api_refused(ctx, client, &access_token, since);
                                    }
                                }
                            }
                        }
                        Action::RejectWaiters { waiters, error } => {
                            for id in waiters {
                                if let Some(pos) = client.waiters.iter().position(|(w, _)| *w == id)
                                {
                                    let (_, since) = client.waiters.swap_remove(pos);
                                    // A replay that gets no token: the app has its 401.
                                    if take(&mut client.replays, id) {
                                        continue;
                                    }
                                    if error.is_retryable() {
                                        // The app asks again when told to (or in a second).
                                        let again = match error {
                                            crate::engine::machine::SessionError::Throttled {
                                                retry_at,
                                            } => retry_at,
                                            crate::engine::machine::SessionError::Unavailable {
                                                retry_at: Some(at),
                                            } => at,
                                            _ => now + SECOND,
                                        };
                                        ctx.caller_at(again.max(now + 1), s, t, since);
                                    }
                                }
                            }
                        }
                        Action::Persist { record } => {
                            if shared {
                                inbox.push((t, Note::Storage(record.clone())));
                            }
                            match (record, &mut device.storage) {
                                // Copy into the buffer kept for this device: the long-lived heap
                                // stays put and the short-lived record is freed at once (far less
                                // fragmentation with a hundred thousand sessions).
                                (Some(record), Some(stored)) => {
                                    stored.clear();
                                    stored.push_str(&record);
                                }
                                (record, stored) => *stored = record,
                            }
                        }
                        Action::GoToLogin { .. } => ctx.signed_out(s),
                        Action::Emit { event } => {
                            if matches!(event, Event::Refreshed { .. }) {
                                ctx.got_token(s);
                            }
                        }
                    }
                }
            }
            // Every other tab hears what a tab broadcast or stored, in the order it happened.
            for (from, note) in std::mem::take(&mut inbox) {
                busy = true;
                for (t, client) in device.tabs.iter_mut().enumerate() {
                    if t == from {
                        continue;
                    }
                    match &note {
                        Note::Message(message) => client.session.handle_tab_message(now, message),
                        Note::Storage(record) => {
                            client.session.handle_storage(now, record.as_deref())
                        }
                    }
                }
            }
            if device.lock.is_none() {
                if let Some((t, id)) = device.queue.pop_front() {
                    busy = true;
                    device.lock = Some((t, id));
                    // Hand the holder what storage holds (lent, not copied).
                    let record = device.storage.take();
                    if let Some(client) = device.tabs.get_mut(t) {
                        client
                            .session
                            .handle_refresh_lock(now, id, record.as_deref());
                    }
                    device.storage = record;
                }
            }
            if !busy {
                break;
            }
        }
        let has_token = device
            .tabs
            .iter()
            .all(|c| c.session.access_token(now).is_some());
        let waiting = device.tabs.iter().any(|c| !c.waiters.is_empty());
        ctx.settle(s, has_token, waiting);
        for (t, client) in device.tabs.iter_mut().enumerate() {
            if let Some(at) = client.session.poll_timeout() {
                let at = at.max(now + 1);
                if client
                    .armed
                    .map_or(true, |armed| at < armed || armed <= now)
                {
                    client.armed = Some(at);
                    ctx.wake_at(at, s, t);
                }
            }
        }
    }

    fn client(&mut self, s: usize, tab: usize) -> Option<&mut Client> {
        self.devices
            .get_mut(s)
            .and_then(Option::as_mut)
            .and_then(|d| d.tabs.get_mut(tab))
    }
}

impl Fleet for ShippedFleet {
    fn start(&mut self, ctx: &mut Ctx, s: usize, tokens: (u64, u64), caller: bool) {
        let now = ctx.now;
        let (iat, exp) = tokens;
        let scenario = ctx.scenario();
        let wake_up = scenario.kind == ScenarioKind::WakeUp;
        let tabs = if scenario.tabs.0 < scenario.tabs.1 {
            ctx.draw((scenario.tabs.0 as u64, scenario.tabs.1 as u64)) as usize
        } else {
            scenario.tabs.0
        }
        .max(1);
        // A wake-up: the tabs were opened and the tokens stored before the laptop went to
        // sleep, 30 minutes after they were issued; now every timer is hours late.
        let opened = if wake_up {
            (iat * SECOND + 30 * MINUTE).min(now)
        } else {
            now
        };
        let mut device = Device {
            tabs: Vec::with_capacity(tabs),
            storage: None,
            lock: None,
            queue: std::collections::VecDeque::new(),
        };
        for _ in 0..tabs {
            let seed = ctx.rng.next_u64();
            device.tabs.push(Client {
                session: SessionMachine::new(self.config.clone(), seed, opened),
                armed: None,
                waiters: Vec::new(),
                replays: Vec::new(),
                checked: (0, 0),
            });
        }
        let sub = Ctx::sub(s);
        let serial = s as u64;
        let grant = TokenGrant {
            access_token: ctx.issuer.access_token(&sub, iat, exp, serial),
            id_token: Some(ctx.issuer.id_token(&sub, iat, exp, serial)),
            refresh_token: Some(format!("refresh-{s}")),
            expires_in: Some(exp.saturating_sub(iat)),
        };
        // A storm: the tokens were stored before; a sign-in: they were just issued.
        let provenance = if exp * SECOND > opened {
            Provenance::Fresh
        } else {
            Provenance::External
        };
        if exp * SECOND <= now {
            ctx.need(s);
        }
        if let Some(first) = device.tabs.first_mut() {
            let _ = first.session.set_tokens(opened, grant, provenance);
        }
        if wake_up {
            // Before the sleep, outside the run: the first tab stores the tokens, the others
            // read them, and every tab but the one in front is hidden.
            for (t, client) in device.tabs.iter_mut().enumerate() {
                if t > 0 {
                    client
                        .session
                        .handle_storage(opened, device.storage.as_deref());
                    client.session.handle_visibility(opened, false);
                }
                while let Some(action) = client.session.poll_action() {
                    if let Action::Persist { record } = action {
                        device.storage = record;
                    }
                }
            }
        }
        if let Some(slot) = self.devices.get_mut(s) {
            *slot = Some(device);
        }
        self.pump(ctx, s);
        if wake_up {
            // Each tab's app calls its API as its page resumes, within a few seconds.
            for t in 0..tabs {
                let at = now + ctx.draw(ctx.scenario().resume);
                ctx.caller_at(at, s, t, at);
            }
        } else if caller {
            self.caller(ctx, s, 0, now);
        } else if ctx.scenario().kind.periodic_calls() {
            let at = now + ctx.draw(ctx.scenario().call_interval);
            ctx.caller_at(at, s, 0, at);
        }
    }

    fn wake(&mut self, ctx: &mut Ctx, s: usize, tab: usize) {
        let now = ctx.now;
        let Some(client) = self.client(s, tab) else {
            return;
        };
        if client.armed != Some(now) {
            return; // A timer that was re-armed since.
        }
        client.armed = None;
        client.session.handle_timeout(now);
        self.pump(ctx, s);
    }

    fn response(
        &mut self,
        ctx: &mut Ctx,
        s: usize,
        attempt: u64,
        tag: u64,
        outcome: Outcome,
        arrived: Millis,
    ) {
        let now = ctx.now;
        let body;
        let response = match outcome {
            Outcome::Ok => {
                let iat = arrived / SECOND;
                body = ctx.issuer.cognito_answer(
                    &Ctx::sub(s),
                    iat,
                    TOKEN_LIFETIME_S,
                    attempt ^ ((s as u64) << 32) ^ (tag << 24),
                    None,
                );
                HttpResponse::new(200, &body)
            }
            Outcome::Throttled => HttpResponse {
                error_type: Some("TooManyRequestsException"),
                ..HttpResponse::new(400, THROTTLED_BODY)
            },
            Outcome::Revoked => HttpResponse {
                error_type: Some("NotAuthorizedException"),
                ..HttpResponse::new(400, REVOKED_BODY)
            },
        };
        // The shipped fleet tags each request with the tab that sent it.
        let Some(client) = self.client(s, tag as usize) else {
            return;
        };
        client
            .session
            .handle_refresh_response(now, RefreshId(attempt), &response);
        self.pump(ctx, s);
    }

    fn caller(&mut self, ctx: &mut Ctx, s: usize, tab: usize, since: Millis) {
        let now = ctx.now;
        let deadline = now + ctx.scenario().caller_deadline;
        let sync = ctx.scenario().kind.periodic_calls();
        let refusing = ctx.scenario().kind == ScenarioKind::AlwaysRefused;
        let Some(client) = self.client(s, tab) else {
            return;
        };
        let mut waits = false;
        match client.session.request_token(now, deadline) {
            TokenAnswer::Ready(token) => {
                let exp = token_exp(&mut client.checked, token);
                ctx.api_call(since, exp);
                if refusing {
                    let token = token.to_owned();
                    api_refused(ctx, client, &token, since);
                }
            }
            TokenAnswer::Waiting(id) => {
                client.waiters.push((id, since));
                waits = true;
            }
            TokenAnswer::Failed(error) => {
                if error.is_retryable() {
                    ctx.caller_at(now + SECOND, s, tab, since);
                }
            }
        }
        if waits && !ctx.revoked(s) {
            ctx.need(s);
        }
        if sync && since == now {
            // The app's next API call.
            let at = now + ctx.draw(ctx.scenario().call_interval);
            ctx.caller_at(at, s, tab, at);
        }
        self.pump(ctx, s);
    }
}

/// How long a replay waits for its token (`fetch.js`'s `DEFAULT_DEADLINE`).
const REPLAY_WAIT: Millis = 10 * SECOND;

/// The API refused `token`, handed to a caller that first asked at `since` (always-401): the
/// app reports the refusal and, when the session says a replay can help, replays once with the
/// token it gets next (none when that is the refused one), as `session.js` does. The replay's
/// own 401 is not reported.
fn api_refused(ctx: &mut Ctx, client: &mut Client, token: &str, since: Millis) {
    let now = ctx.now;
    if !client.session.handle_token_refused(now, token) {
        return;
    }
    match client.session.request_token(now, now + REPLAY_WAIT) {
        TokenAnswer::Ready(newer) if newer != token => {
            let exp = token_exp(&mut client.checked, newer);
            ctx.api_call(since, exp);
        }
        TokenAnswer::Waiting(id) => {
            client.waiters.push((id, since));
            client.replays.push(id);
        }
        _ => {}
    }
}

/// Removes `id` from `ids`; whether it was there.
fn take(ids: &mut Vec<WaiterId>, id: WaiterId) -> bool {
    let before = ids.len();
    ids.retain(|w| *w != id);
    ids.len() != before
}

/// The provider-clock expiry (ms) of `token`, decoded once per distinct token.
fn token_exp(cache: &mut (u64, Millis), token: &str) -> Millis {
    let hash = fnv(token.as_bytes());
    if cache.0 == hash && hash != 0 {
        return cache.1;
    }
    let exp = jwt::decode(token).map_or(0, |t| t.claims.exp.saturating_mul(SECOND));
    *cache = (hash, exp);
    exp
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
    })
}

// ----- the baselines: models of other clients -----

struct ModelFleet {
    kind: ModelKind,
    models: Vec<Model>,
}

impl ModelFleet {
    fn new(kind: ModelKind, n: usize) -> ModelFleet {
        ModelFleet {
            kind,
            models: (0..n).map(|_| Model::default()).collect(),
        }
    }
}

impl Fleet for ModelFleet {
    fn start(&mut self, ctx: &mut Ctx, s: usize, tokens: (u64, u64), caller: bool) {
        let kind = self.kind;
        let Some(model) = self.models.get_mut(s) else {
            return;
        };
        model.start(kind, ctx, s, tokens.1 * SECOND, caller);
    }

    fn wake(&mut self, ctx: &mut Ctx, s: usize, _tab: usize) {
        let kind = self.kind;
        let Some(model) = self.models.get_mut(s) else {
            return;
        };
        model.wake(kind, ctx, s);
    }

    fn response(
        &mut self,
        ctx: &mut Ctx,
        s: usize,
        attempt: u64,
        tag: u64,
        outcome: Outcome,
        arrived: Millis,
    ) {
        let kind = self.kind;
        let Some(model) = self.models.get_mut(s) else {
            return;
        };
        let exp = (arrived / SECOND + TOKEN_LIFETIME_S) * SECOND;
        model.response(kind, ctx, s, attempt, tag, outcome, exp);
    }

    fn caller(&mut self, ctx: &mut Ctx, s: usize, _tab: usize, since: Millis) {
        let kind = self.kind;
        let Some(model) = self.models.get_mut(s) else {
            return;
        };
        model.caller(kind, ctx, s, since);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(at: Millis, session: u32) -> Ev {
        Ev {
            at,
            session,
            kind: EvKind::Wake { tab: 0 },
        }
    }

    #[test]
    fn the_calendar_pops_like_a_heap_ordered_by_time_then_push_order() {
        let mut rng = Rng::new(1);
        let mut queue = Calendar::new(T0);
        let mut reference = BinaryHeap::new();
        let mut now = T0;
        let mut tag = 0u32;
        let check = |queue: &mut Calendar, reference: &mut BinaryHeap<Reverse<(Millis, u32)>>| {
            let popped = queue.pop().map(|e| (e.at, e.session));
            assert_eq!(popped, reference.pop().map(|Reverse(r)| r));
            popped.map_or(T0, |p| p.0)
        };
        // Interleave pushes (now, near, and far beyond the window) with pops.
        for round in 0..30_000u32 {
            for _ in 0..2 {
                let at = match rng.up_to(3) {
                    0 => now,
                    1 => now + rng.up_to(5_000),
                    _ => now + WHEEL + rng.up_to(10 * WHEEL),
                };
                queue.push(ev(at, tag));
                reference.push(Reverse((at, tag)));
                tag += 1;
            }
            if round % 3 != 0 {
                now = check(&mut queue, &mut reference);
            }
        }
        while !reference.is_empty() {
            check(&mut queue, &mut reference);
        }
        assert_eq!(queue.len(), 0);
        assert!(queue.pop().is_none());
    }

    #[test]
    fn quantiles_are_nearest_rank() {
        let samples: Vec<Millis> = (1..=100).collect();
        assert_eq!(quantile(&samples, 0.5), Some(50));
        assert_eq!(quantile(&samples, 0.99), Some(99));
        assert_eq!(quantile(&samples, 1.0), Some(100));
        assert_eq!(quantile(&samples, 0.0), Some(1));
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(quantile(&[7], 0.99), Some(7));
    }
}
