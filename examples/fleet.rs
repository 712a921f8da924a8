//! The fleet bench: every scenario of issue 4 (and issue 13's always-401, issue 16's wake-up)
//! against the shipped policy and the baselines.
//!
//! ```text
//! cargo run --release --example fleet                      # everything (recovery storm at 1k, 10k, 100k)
//! cargo run --release --example fleet -- --scenario mixed_storm --sessions 10000 --json
//! cargo run --release --example fleet -- --scenario always_401   # 10,000 sessions, ~90 s on 2 cores
//! cargo run --release --example fleet -- --scenario key_rotation --sessions 10000   # issue 14
//! ```
//!
//! `key_rotation` (issue 14, `cognito_session::sim::key_fleet`): N sessions that check token
//! signatures start at once with cold key caches, the signing key rotates at 30 minutes, two hours
//! in all; it prints the key-set requests per session, the cold start's, the busiest second after
//! the rotation, and then the same run with the key set answering 503 for 30 s around the
//! rotation. Only `--sessions` and `--seed` apply to it.
//!
//! Flags: `--scenario NAME` (`recovery_storm`, `mixed_storm`, `synchronized_expiry`,
//! `long_throttle`, `signin_pressure`, `always_401`, `wake_up`), `--sessions N`, `--quota C`
//! (requests per second, default 120), `--seed S` (default 1), `--json` (one JSON object per scenario × policy
//! line instead of the table), `--policy NAME` (only this policy; repeatable; `no-401-backoff` is
//! the shipped session before issue 13's 401 backoff), `--throttled-consume` (throttled
//! calls also spend quota), `--background RPS` (other operations in the same quota category),
//! `--threads T` (runs in parallel; default: every core — the numbers do not depend on it),
//! `--svg DIR` (also write SVG charts there: `<scenario>-calls.svg`, the calls per second
//! against the quota under each policy, and for a scenario run at several sizes
//! `<scenario>-scaling.svg`, makespan ratio and calls per session against N; see
//! `cognito_session::sim::chart`),
//! `--tune first=10000,idle=8,...` (run only the shipped session with these backoff / budget
//! parameters changed, to measure alternatives: keys `first`, `low`, `high`, `floor`, `cap`,
//! `idle`, `idle_cap`, `budget`, `refill`, and `refused`, `refused_cap` for the age a 401 needs).
//!
//! `always_401` (issue 13): every session's API refuses every token, each app calls it every
//! 5 s for 3 hours; it runs the shipped policy and `no-401-backoff` unless `--policy` says
//! otherwise (the baseline models never report a 401). Its `rf/h` column (JSON
//! `refreshes_per_session_hour`) is the refresh calls per session per hour after each session's
//! first 10 minutes, the fleet's mean, and `max` the largest session's.
//!
//! `wake_up` (issue 16): devices that slept overnight wake within one minute with tokens
//! expired for 11 hours; each has one to four tabs (the baselines play one tab per device,
//! their best case) whose apps all call their API within 5 s of waking. Its physical limit is
//! at least the minute over which they wake.
//!
//! The table's `p50 ttt` / `p99 ttt` are the time-to-token of callers (from their first ask to a
//! valid token) and `idle p50` / `idle p99` that of sessions nobody was waiting on (the mixed
//! storm's idle tabs; the synchronized expiry's proactive refreshes). A JSON line's
//! `p50_time_to_token_s` / `p99_time_to_token_s` are the callers' (the idle sessions' when no
//! caller waited). `makespan_ratio` is the makespan over `needing / C` (plus a total outage, and
//! with the quota left after new users' sign-ins), where `needing` counts the sessions that
//! needed a token. The numbers do not depend on `--threads`; they depend on `--seed`.

use cognito_session::sim::baselines::ModelKind;
use cognito_session::sim::chart;
use cognito_session::sim::fleet::{self, Policy, Report, Scenario, ScenarioKind};
use cognito_session::sim::key_fleet;
use cognito_session::sim::mint::Issuer;
use std::io::Write as _;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

struct Args {
    scenarios: Vec<ScenarioKind>,
    sessions: Option<usize>,
    quota: u32,
    seed: u64,
    json: bool,
    policies: Vec<String>,
    throttled_consume: bool,
    background: f64,
    threads: Option<usize>,
    /// `key=value` overrides of the shipped backoff and budget (a `cognito-session*` run).
    tuning: Vec<(String, u64)>,
    /// `--scenario key_rotation`: the key-set fleet (issue 14) instead.
    key_rotation: bool,
    /// Where to write the charts, if anywhere.
    svg: Option<std::path::PathBuf>,
}

/// The key-set fleet's name on the command line ([`cognito_session::sim::key_fleet`]).
const KEY_ROTATION: &str = "key_rotation";

fn usage() -> &'static str {
    "usage: fleet [--scenario NAME] [--sessions N] [--quota C] [--seed S] [--json] [--policy NAME]... \
     [--throttled-consume] [--background RPS] [--threads T] [--tune key=value,...] [--svg DIR]\n\
     scenarios: recovery_storm mixed_storm synchronized_expiry long_throttle signin_pressure always_401 wake_up key_rotation"
}

fn parse() -> Result<Args, String> {
    let mut args = Args {
        scenarios: Vec::new(),
        sessions: None,
        quota: 120,
        seed: 1,
        json: false,
        policies: Vec::new(),
        throttled_consume: false,
        background: 0.0,
        threads: None,
        tuning: Vec::new(),
        key_rotation: false,
        svg: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match flag.as_str() {
            "--scenario" => {
                let name = value("--scenario")?;
                if name == KEY_ROTATION {
                    args.key_rotation = true;
                    continue;
                }
                let kind =
                    ScenarioKind::parse(&name).ok_or_else(|| format!("unknown scenario {name}"))?;
                args.scenarios.push(kind);
            }
            "--sessions" => args.sessions = Some(number(&value("--sessions")?)?),
            "--quota" => args.quota = number(&value("--quota")?)?,
            "--seed" => args.seed = number(&value("--seed")?)?,
            "--policy" => args.policies.push(value("--policy")?),
            "--background" => {
                let v = value("--background")?;
                args.background = v.parse().map_err(|_| format!("not a number: {v}"))?;
            }
            "--tune" => {
                for pair in value("--tune")?.split(',') {
                    let (key, v) = pair
                        .split_once('=')
                        .ok_or_else(|| format!("not key=value: {pair}"))?;
                    args.tuning.push((key.to_owned(), number(v)?));
                }
            }
            "--svg" => args.svg = Some(value("--svg")?.into()),
            "--threads" => args.threads = Some(number(&value("--threads")?)?),
            "--json" => args.json = true,
            "--throttled-consume" => args.throttled_consume = true,
            "--help" | "-h" => return Err(String::new()),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    if args.quota == 0 {
        return Err(String::from("--quota must be at least 1"));
    }
    Ok(args)
}

fn number<T: std::str::FromStr>(text: &str) -> Result<T, String> {
    text.replace('_', "")
        .parse()
        .map_err(|_| format!("not a number: {text}"))
}

/// The shipped configuration with `tuning` applied (`first`, `low`, `high`, `floor`, `cap`,
/// `idle`, `idle_cap` for the backoff; `budget`, `refill` for the retry budget; `refused`,
/// `refused_cap` for the age a refused token needs).
fn tuned(tuning: &[(String, u64)]) -> Result<Policy, String> {
    let mut config = fleet::cognito_config(&Issuer::default());
    let b = &mut config.backoff;
    let narrow = |v: u64| u32::try_from(v).map_err(|_| format!("too large: {v}"));
    for (key, v) in tuning {
        match key.as_str() {
            "first" => b.first = *v,
            "low" => b.low_permille = narrow(*v)?,
            "high" => b.high_permille = narrow(*v)?,
            "floor" => b.span_floor = *v,
            "cap" => b.cap = *v,
            "idle" => b.idle_factor = narrow(*v)?,
            "idle_cap" => b.idle_cap = *v,
            "budget" => config.budget.capacity = narrow(*v)?,
            "refill" => config.budget.refill_every = *v,
            "refused" => config.refusal.base = *v,
            "refused_cap" => config.refusal.cap = *v,
            other => return Err(format!("unknown tuning key {other}")),
        }
    }
    let mut name = String::from("cognito-session*");
    for (key, v) in tuning {
        name.push_str(&format!(" {key}={v}"));
    }
    Ok(Policy::Session {
        name,
        config: Box::new(config),
    })
}

/// The policies asked for; none: each scenario's defaults ([`Policy::defaults`]).
fn policies(names: &[String], tuning: &[(String, u64)]) -> Result<Vec<Policy>, String> {
    if !tuning.is_empty() {
        return Ok(vec![tuned(tuning)?]);
    }
    names
        .iter()
        .map(|name| {
            if name == "cognito-session" {
                Ok(Policy::Shipped)
            } else if name == fleet::NO_401_BACKOFF {
                Ok(Policy::no_401_backoff())
            } else {
                ModelKind::parse(name)
                    .map(Policy::Model)
                    .ok_or_else(|| format!("unknown policy {name}"))
            }
        })
        .collect()
}

/// A rough relative cost of a run, to start the longest first.
fn cost(scenario: &Scenario, policy: &Policy) -> usize {
    let per_session = match policy {
        // An API call every 5 s for 3 hours.
        Policy::Shipped | Policy::Session { .. }
            if scenario.kind == ScenarioKind::AlwaysRefused =>
        {
            2_000
        }
        // Two and a half tabs a device.
        Policy::Shipped | Policy::Session { .. } if scenario.kind == ScenarioKind::WakeUp => 75,
        Policy::Shipped | Policy::Session { .. } => 30,
        Policy::Model(ModelKind::Naive { .. }) => 12,
        Policy::Model(_) => 5,
    };
    scenario.sessions * per_session
}

/// Writes the charts of `reports` into `dir`: for each scenario, `<scenario>-calls.svg` (calls
/// per second against the quota under each policy, at the scenario's default size when it ran)
/// and, when it ran at several sizes, `<scenario>-scaling.svg` (makespan ratio and calls per
/// session against N).
fn write_charts(dir: &std::path::Path, reports: &[Report]) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let write = |name: String, svg: String| {
        let path = dir.join(name);
        std::fs::write(&path, svg).map_err(|e| format!("{}: {e}", path.display()))?;
        eprintln!("wrote {}", path.display());
        Ok::<(), String>(())
    };
    for kind in ScenarioKind::ALL {
        let runs: Vec<&Report> = reports.iter().filter(|r| r.scenario == kind).collect();
        let mut sizes: Vec<usize> = runs.iter().map(|r| r.sessions).collect();
        sizes.sort_unstable();
        sizes.dedup();
        let Some(&size) = sizes
            .iter()
            .find(|n| **n == kind.default_sessions())
            .or(sizes.first())
        else {
            continue;
        };
        let at_size: Vec<&Report> = runs
            .iter()
            .copied()
            .filter(|r| r.sessions == size)
            .collect();
        write(
            format!("{}-calls.svg", kind.name()),
            chart::calls_per_second(&at_size),
        )?;
        if sizes.len() > 1 {
            write(
                format!("{}-scaling.svg", kind.name()),
                chart::scaling(&runs),
            )?;
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(args) => args,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("{message}");
            }
            eprintln!("{}", usage());
            return if message.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };
    if args.key_rotation {
        // Issue 14: sessions checking signatures start cold; the signing key rotates at 30 min.
        let mut scenario = key_fleet::KeyScenario::new(args.sessions.unwrap_or(10_000), args.seed);
        let started = Instant::now();
        let report = key_fleet::run(&scenario);
        println!(
            "{} ({:.1} s)",
            report.line(),
            started.elapsed().as_secs_f64()
        );
        // The same with the key set answering 503 for the 30 s around the rotation.
        scenario.outage = Some((scenario.rotate_at - 15_000, scenario.rotate_at + 15_000));
        let report = key_fleet::run(&scenario);
        println!("{}  [key set 503 for 30 s at the rotation]", report.line());
        return ExitCode::SUCCESS;
    }
    let policies = match policies(&args.policies, &args.tuning) {
        Ok(p) => p,
        Err(message) => {
            eprintln!("{message}\n{}", usage());
            return ExitCode::from(2);
        }
    };
    // The runs: each scenario at its size; with no flags, the recovery storm at three sizes.
    let scenarios = if args.scenarios.is_empty() {
        ScenarioKind::ALL.to_vec()
    } else {
        args.scenarios.clone()
    };
    let mut runs = Vec::new();
    for kind in scenarios {
        match args.sessions {
            Some(n) => runs.push((kind, n)),
            None if kind == ScenarioKind::RecoveryStorm => {
                runs.extend([1_000, 10_000, 100_000].map(|n| (kind, n)));
            }
            None => runs.push((kind, kind.default_sessions())),
        }
    }
    // Every scenario × policy run is independent and deterministic: run them on all cores,
    // the most expensive first, and print in the natural order as soon as each is ready.
    let mut jobs = Vec::new();
    for (kind, n) in runs {
        let mut scenario = Scenario::new(kind, n, args.quota, args.seed);
        scenario.quota.throttled_consume = args.throttled_consume;
        scenario.quota.background_rps = args.background;
        let policies = if policies.is_empty() {
            Policy::defaults(kind)
        } else {
            policies.clone()
        };
        for (p, policy) in policies.iter().enumerate() {
            jobs.push((scenario.clone(), policy.clone(), p + 1 == policies.len()));
        }
    }
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by_key(|i| std::cmp::Reverse(jobs.get(*i).map_or(0, |(s, p, _)| cost(s, p))));
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, jobs.len().max(1));
    let started = Instant::now();
    if !args.json {
        println!("{}", Report::table_header());
    }
    let next = AtomicUsize::new(0);
    let done: Mutex<(Vec<Option<Report>>, usize)> = Mutex::new((vec![None; jobs.len()], 0));
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                while let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let Some((scenario, policy, _)) = jobs.get(i) else {
                        break;
                    };
                    let report = fleet::run(scenario, policy);
                    let Ok(mut done) = done.lock() else { break };
                    if let Some(slot) = done.0.get_mut(i) {
                        *slot = Some(report);
                    }
                    // Print everything that is now ready, in order. A closed pipe (`| head`) ends
                    // the bench quietly.
                    while let Some(Some(report)) = done.0.get(done.1) {
                        let mut line = if args.json {
                            report.to_json()
                        } else {
                            report.table_row()
                        };
                        if !args.json && jobs.get(done.1).is_some_and(|job| job.2) {
                            line.push('\n');
                        }
                        if writeln!(std::io::stdout(), "{line}").is_err() {
                            std::process::exit(0);
                        }
                        done.1 += 1;
                    }
                }
            });
        }
    });
    let reports: Vec<Report> = done
        .into_inner()
        .map(|d| d.0.into_iter().flatten().collect())
        .unwrap_or_default();
    if let Some(dir) = &args.svg {
        if let Err(message) = write_charts(dir, &reports) {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    }
    if !args.json {
        println!(
            "(makespan and time-to-token in seconds; ratio = makespan / (N / C); calls/N = calls to Cognito per session;"
        );
        println!(
            " fso = false sign-outs; bad = API calls with an expired or missing token; ttt = time-to-token of callers;"
        );
        println!(
            " idle = of sessions with nobody waiting; rf/h = refreshes per session per hour after its first 10 min"
        );
        println!(
            " (always_401), max = the largest session's; {} runs on {} threads in {:.1} s)",
            jobs.len(),
            threads,
            started.elapsed().as_secs_f64()
        );
    }
    ExitCode::SUCCESS
}
