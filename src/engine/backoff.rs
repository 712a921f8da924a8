//! When to retry a failed refresh: proportional backoff, a retry budget, `Retry-After`.
//!
//! Three separate questions, three separate pieces:
//! - *whether* a failure is worth retrying is [`crate::engine::classify`]'s job;
//! - *when* the next attempt may go is [`BackoffPolicy::delay`] (below). A server's
//!   `Retry-After` raises the delay, never lowers it;
//! - *how much in total* is [`RetryBudget`]: a token bucket that every retry draws from and that
//!   refills slowly, a safety net against a policy or a server hint gone wrong. (With the default
//!   schedule it never binds in the fleet simulation: the same numbers with a budget of 1,000.)
//!
//! A fourth, [`RefusalPolicy`], spaces the refreshes an API's 401s force (they succeed, so the
//! three above never see them).
//!
//! # Why proportional backoff, not the textbook
//!
//! The problem this module solves is a fleet's, not a client's: N browser sessions throttled
//! together by one account quota of C requests per second (Cognito's `UserAuthentication`: 120).
//! The right moment for a session to retry is when the quota has room, which depends on how
//! many others wait — roughly the `N / C` seconds the fleet needs to drain — and no session
//! knows N. A retry policy is therefore a search for that time scale, and every call it makes
//! before finding it is wasted. `examples/fleet.rs` measures the candidates: the real session
//! against a token-bucket Cognito, recovery storm (every session needs a token at t = 0),
//! C = 120, seed 1; the bound to meet is a makespan of 1.5 × N/C.
//!
//! - **Full-jitter exponential** (`uniform(0, min(cap, base · factor^k))`; Brooker, "Exponential
//!   Backoff And Jitter", AWS Architecture Blog, 2015) searches on one grid of windows that every
//!   client shares. Whether the storm ends just inside a window or just past one decides the
//!   makespan, so a parameter set fits one fleet size: 4 s ×4 cap 30 s, tuned to 10,000 (1.21 ×,
//!   4.99 calls per session), takes 3.9 × at 1,000 and 29.8 calls at 100,000; 8 s ×2 cap 120 s
//!   fits 1,000 and takes 2.0 × at 10,000; 4 s ×4 cap 5 min fits 100,000 (6.6 calls) and takes
//!   3.8 × at 10,000. The short caps of the usual defaults (1 s ×2 cap 60 s) bound the tail but
//!   make calls grow linearly once `N / C` passes the cap: 19.7 per session at 100,000.
//! - **Equal jitter** (`c/2 + uniform(0, c/2)`) and **decorrelated jitter** (`uniform(base,
//!   3 · previous)`) keep a floor under the delay and waste fewer early retries, but still find
//!   the scale by a factor per failure: equal jitter 4 s ×3 cap 5 min takes 1.9 × at 1,000 and
//!   10,000; decorrelated 1 s cap 60 s, the one textbook set found within the bound at 1,000,
//!   10,000 and 100,000, misses it at 3,000 (1.8 ×) and makes 2.41, 6.80 and 20.0 calls there.
//!   Decorrelated jitter's idea — scale the next delay by the past, not by a table — is the one
//!   kept below.
//! - **Sawtooth** backoff (Bender et al., "Adversarial contention resolution for simple
//!   channels", SPAA 2005) buys a makespan linear in N with O(log² N) attempts per client;
//!   **polynomial** backoff (Håstad, Leighton and Rogoff, 1996) is stable where exponential is
//!   not, but its windows are again one shared table.
//! - **Client-side rate limiting** (the AWS SDKs' adaptive retry mode: a CUBIC-controlled token
//!   bucket that switches on at the first throttle) limits one client's own request rate. A
//!   browser session sends about one refresh an hour; its rate is not the problem, the fleet's
//!   sum is, and no client sees that.
//!
//! The shipped schedule is **proportional**: the first retry is full jitter over `first`
//! (10 s, about the time a thousand sessions need to drain), and every later retry waits a
//! uniform 50–70% of the time the session has been failing, so each attempt lands 1.5–1.7
//! times as far from the streak's start as the previous one. The delay scales with the only
//! measure of the storm a client has — how long it has lasted — and each session's grid is its
//! own, so the fleet's pace does not depend on where N falls: the makespan stays within
//! 1.23–1.40 × N/C at every N measured from 1,000 to 100,000, two seeds each (1.24, 1.28 and
//! 1.25 at 1,000, 10,000 and 100,000), with 1.88 calls per session at 1,000 (the floor: every
//! session's call at t = 0, then one that succeeds), 5.44 at 10,000 and 10.3 at 100,000 —
//! growing like log N.
//! The previous default (1 s ×3 cap 60 s, budget refills not jittered) took 3.6 × at 1,000 and
//! 14 × at 100,000, where emptied budgets refilled in step and retried in one wave a minute.
//!
//! What it does not do is beat a constant tuned to one fleet size at that size (4.99 calls at
//! 10,000, 6.6 at 100,000). A search over blind schedules (a session's delays depend only on
//! its own failures) that keep 1.42 × at every N from 1,000 to 100,000 found none below about
//! 5.1 calls at 10,000: serving a thousand sessions within 12.5 s takes early retries, and at
//! ten thousand those early retries fail.
//!
//! What a browser knows and the textbook ignores is whether anyone is waiting. A refresh that
//! nobody waits for (a visible tab's proactive refresh) holds back `idle_factor` (16) times
//! longer after a failure, leaving the quota to sessions with a caller; a caller's arrival
//! brings the retry back to the normal moment. When 20% of 10,000 sessions have a caller,
//! callers have their token within 26 s (p99; idle tabs 160 s) at 2.2 calls per session.

use super::rng::Rng;
use super::Millis;

/// Consecutive failures past this many change nothing: [`BackoffPolicy::typical_failing_for`]
/// reads no more, and every delay after the first failure depends on how long the streak has
/// lasted, not on its count. The retry books count to here and no further, and hold the counts
/// they adopt from other tabs and storage to it.
pub const FAILURES_COUNTED: u32 = 64;

/// When to retry: the first retry within `first`, every later one after a jittered fraction of
/// the time the session has been failing (see the module documentation for why).
///
/// # Default
///
/// `first` 10 s, `low_permille`–`high_permille` 500–700 of the time spent failing (counted as
/// at least `span_floor` 8 s), `cap` 5 min; a session nobody is waiting on holds back
/// `idle_factor` 16 times longer, at most `idle_cap` 15 min.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffPolicy {
    /// The first retry of a streak waits uniform in `[0, first]` (full jitter).
    pub first: Millis,
    /// Later retries wait uniform in `[low, high]` thousandths of the time the session has been
    /// failing, so each attempt comes 1.5–1.7 times as far from the streak's start as the one
    /// before.
    pub low_permille: u32,
    pub high_permille: u32,
    /// The time spent failing is counted as at least this (so a lucky short first delay does not
    /// start a string of sub-second retries).
    pub span_floor: Millis,
    /// No delay is longer (a session that failed for an hour still tries every few minutes).
    pub cap: Millis,
    /// A session with no caller waiting (a visible tab's proactive refresh) holds its next
    /// attempt back this many times longer; a caller's arrival brings it back to the normal
    /// moment.
    pub idle_factor: u32,
    /// The longest such hold.
    pub idle_cap: Millis,
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        BackoffPolicy {
            first: 10_000,
            low_permille: 500,
            high_permille: 700,
            span_floor: 8_000,
            cap: 300_000,
            idle_factor: 16,
            idle_cap: 900_000,
        }
    }
}

impl BackoffPolicy {
    /// The span the later retries' delays are a fraction of: the time spent failing, at least
    /// `span_floor`, and at most the span whose `high` fraction is `cap` (so at the cap the delay
    /// is still jittered over `[low/high · cap, cap]`, and long-failing sessions do not fall into
    /// step).
    fn span(&self, failing_for: Millis) -> Millis {
        let widest = self
            .cap
            .checked_div(u64::from(self.high_permille))
            .map_or(Millis::MAX, |w| w.saturating_mul(1_000));
        failing_for.max(self.span_floor).min(widest.max(1))
    }

    /// The longest delay after the `failures`-th consecutive failure (`failures` ≥ 1) of a streak
    /// that began `failing_for` ago.
    pub fn ceiling(&self, failures: u32, failing_for: Millis) -> Millis {
        if failures <= 1 {
            self.first.min(self.cap)
        } else {
            permille(self.span(failing_for), self.high_permille).min(self.cap)
        }
    }

    /// The delay before the next attempt after the `failures`-th consecutive failure of a
    /// streak that began `failing_for` ago: uniform in `[0, first]` for the first; for the
    /// others, uniform in `[low, high]` thousandths of the time spent failing (at least
    /// `span_floor`, and scaled down so that `high` stays within `cap`); raised to `retry_after`
    /// when the server gave one.
    pub fn delay(
        &self,
        failures: u32,
        failing_for: Millis,
        retry_after: Option<Millis>,
        rng: &mut Rng,
    ) -> Millis {
        let high = self.ceiling(failures, failing_for);
        let low = if failures <= 1 {
            0
        } else {
            permille(self.span(failing_for), self.low_permille).min(high)
        };
        rng.between(low, high).max(retry_after.unwrap_or(0))
    }

    /// How long a session nobody is waiting on holds back after a failure whose normal delay
    /// is `delay`: `idle_factor` times as long, at most `idle_cap` (never less than `delay`).
    pub fn idle_delay(&self, delay: Millis) -> Millis {
        delay
            .saturating_mul(u64::from(self.idle_factor))
            .min(self.idle_cap)
            .max(delay)
    }

    /// A typical time spent failing after `failures` failures, for a streak whose start this
    /// session did not see (another tab failed first).
    pub fn typical_failing_for(&self, failures: u32) -> Millis {
        let mid = (self.low_permille / 2).saturating_add(self.high_permille / 2);
        let mut span = 0;
        for k in 1..failures.min(FAILURES_COUNTED) {
            let step = if k == 1 {
                self.first / 2
            } else {
                permille(span.max(self.span_floor), mid).min(self.cap)
            };
            span = span.saturating_add(step);
        }
        span
    }
}

/// Forced refreshes in a row past this many change nothing: [`RefusalPolicy::min_age`] is at its
/// cap long before. A count read from storage is held to it, so a tampered record cannot park a
/// refusal behind an age no token reaches.
pub const FORCED_COUNTED: u32 = 32;

/// How old a token must be before an API's refusal of it (HTTP 401) forces a refresh, after
/// `forced` refreshes in a row were forced that way:
///
/// `max(base, u · min(base · 2^forced, cap))`, `u` uniform in `[1/2, 1]`, drawn once per token.
///
/// # Why
///
/// A refresh settles a refusal that is about the token (revoked at the API, expired by the API's
/// clock) and does nothing for one that is not (wrong audience, a misconfigured authorizer). One
/// answer cannot tell them apart, so the first refusal of a token older than `base` still forces
/// a refresh at once. Forcing one at every refusal is what issue 13 measured: an API that answers
/// every call (one every 5 s) with 401 drove a refresh every `base` (30 s), 103 an hour per
/// session, and 10,000 such users about 286 a second, over Cognito's 120 for the whole account.
/// So each forced refresh doubles the age the next refusal needs, up to `cap` (20 min): 30 s,
/// then 30–60 s, 1–2 min, ... 8–16 min, and from the seventh on 10–20 min. Every forced refresh
/// installs a new token, so at the cap they are at least 10 minutes apart: at most 6 an hour, 4
/// on average. `cargo run --release --example fleet -- --scenario always_401` (10,000 sessions
/// calling every 5 s for 3 hours, seed 1) measures 4.18 refreshes per session per hour after
/// each session's first 10 minutes, 5.18 for the busiest, none throttled; with `cap` = `base`,
/// 122 an hour offered and 65% of them throttled, callers waiting up to 32 minutes (p99) for a
/// token. A token older than the cap is still refreshed at its first refusal, so an API
/// that refuses only old tokens is served at once whatever the count. The jitter keeps sessions
/// refused together (an API deployed with the wrong audience) from refreshing together.
///
/// The count lives in the storage record ([`crate::engine::tokens::Stored::forced`]), so the
/// tabs of a session climb one ladder; it resets only at sign-in, sign-out and expiry (the
/// engine never hears that the API accepted a token, only that it refused one; see
/// [`crate::engine::machine::SessionMachine::handle_token_refused`]).
///
/// # Default
///
/// `base` 30 s (what a token must be at least: younger, a refusal is not about its age), `cap`
/// 20 min. `cap` = `base` is the behaviour before issue 13: a refresh per 30 s of refusals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefusalPolicy {
    pub base: Millis,
    pub cap: Millis,
}

impl Default for RefusalPolicy {
    fn default() -> Self {
        RefusalPolicy {
            base: 30_000,
            cap: 1_200_000,
        }
    }
}

impl RefusalPolicy {
    /// The age a token needs before a refusal of it forces the `forced + 1`-th refresh in a row.
    pub fn min_age(&self, forced: u32, rng: &mut Rng) -> Millis {
        // A shift by at most 32 cannot trap; bits shifted out of a huge `base` only lower the
        // ceiling, and the age is never below `base`.
        let ceiling = (self.base << forced.min(FORCED_COUNTED)).min(self.cap);
        (ceiling - rng.up_to(ceiling / 2)).max(self.base)
    }
}

/// `value · per / 1000`, saturating.
fn permille(value: Millis, per: u32) -> Millis {
    (value / 1_000)
        .saturating_mul(u64::from(per))
        .saturating_add(value % 1_000 * u64::from(per) / 1_000)
}

/// A token bucket of retries: each retry spends one token, tokens come back one per
/// `refill_every`, and a success puts one back at once. The bucket starts full.
///
/// # Default
///
/// 10 tokens, one more every 60 s: a session in a ten-minute outage makes at most about 20
/// attempts whatever the backoff says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryBudget {
    capacity: u32,
    refill_every: Millis,
    tokens: u32,
    /// The moment from which the next token accrues.
    refilled_at: Millis,
}

/// A retry budget's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetPolicy {
    pub capacity: u32,
    pub refill_every: Millis,
}

impl Default for BudgetPolicy {
    fn default() -> Self {
        BudgetPolicy {
            capacity: 10,
            refill_every: 60_000,
        }
    }
}

impl RetryBudget {
    /// A full bucket.
    pub fn new(policy: BudgetPolicy, now: Millis) -> Self {
        RetryBudget {
            capacity: policy.capacity,
            refill_every: policy.refill_every.max(1),
            tokens: policy.capacity,
            refilled_at: now,
        }
    }

    fn refill(&mut self, now: Millis) {
        // A moment before the last refill: the clock went back. The next token accrues from now
        // instead of after the clock has made up the jump.
        self.refilled_at = self.refilled_at.min(now);
        if self.tokens >= self.capacity {
            self.refilled_at = now;
            return;
        }
        // `refill_every` is at least 1 (`new`); checked, so no division can trap.
        let earned = now
            .saturating_sub(self.refilled_at)
            .checked_div(self.refill_every)
            .unwrap_or(0);
        let room = u64::from(self.capacity - self.tokens);
        let added = earned.min(room);
        // `added` ≤ `room`, which came from a u32.
        self.tokens += u32::try_from(added).unwrap_or(0);
        self.refilled_at = if self.tokens >= self.capacity {
            now
        } else {
            self.refilled_at
                .saturating_add(added.saturating_mul(self.refill_every))
        };
    }

    /// Spends one retry, or says when one will be available.
    pub fn try_spend(&mut self, now: Millis) -> Result<(), Millis> {
        self.refill(now);
        if self.tokens > 0 {
            self.tokens -= 1;
            Ok(())
        } else {
            Err(self.refilled_at.saturating_add(self.refill_every))
        }
    }

    /// A refresh succeeded: one token back.
    pub fn refund(&mut self, now: Millis) {
        self.refill(now);
        if self.tokens < self.capacity {
            self.tokens += 1;
        }
    }

    /// Tokens available at `now`.
    pub fn available(&mut self, now: Millis) -> u32 {
        self.refill(now);
        self.tokens
    }

    /// The local clock was set back by `back`: the refill moment moves back with it, so the
    /// next token is as far away as it was.
    pub fn clock_set_back(&mut self, back: Millis) {
        self.refilled_at = self.refilled_at.saturating_sub(back);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::Rng;

    #[test]
    fn the_first_retry_is_full_jitter_over_the_first_window() {
        let policy = BackoffPolicy::default();
        let mut rng = Rng::new(1);
        let delays: Vec<_> = (0..2_000)
            .map(|_| policy.delay(1, 0, None, &mut rng))
            .collect();
        assert!(delays.iter().all(|d| *d <= 10_000));
        assert!(delays.iter().any(|d| *d < 500) && delays.iter().any(|d| *d > 9_500));
    }

    #[test]
    fn later_retries_wait_a_fraction_of_the_time_spent_failing() {
        let policy = BackoffPolicy::default();
        for seed in 0..20 {
            let mut rng = Rng::new(seed);
            for (failures, failing_for) in [(2, 4_000), (3, 20_000), (7, 100_000), (9, 400_000)] {
                let span = failing_for.max(8_000);
                let (mut low, mut high) = (u64::MAX, 0);
                for _ in 0..200 {
                    let d = policy.delay(failures, failing_for, None, &mut rng);
                    assert!(d >= span / 2 && d <= span * 7 / 10, "{d} for {span}");
                    low = low.min(d);
                    high = high.max(d);
                }
                assert!(
                    low < span * 52 / 100 && high > span * 68 / 100,
                    "{low}..{high} of {span}"
                );
            }
        }
    }

    #[test]
    fn at_the_cap_delays_stay_jittered() {
        let policy = BackoffPolicy::default();
        let mut rng = Rng::new(5);
        let delays: Vec<_> = (0..500)
            .map(|_| policy.delay(30, 86_400_000, None, &mut rng))
            .collect();
        // About [500/700 · 5 min, 5 min].
        assert!(
            delays.iter().all(|d| (214_000..=300_000).contains(d)),
            "{delays:?}"
        );
        assert!(delays.iter().any(|d| *d < 220_000) && delays.iter().any(|d| *d > 295_000));
        assert!((299_000..=300_000).contains(&policy.ceiling(30, u64::MAX)));
    }

    #[test]
    fn no_delay_exceeds_the_cap_whatever_the_inputs() {
        let policy = BackoffPolicy::default();
        let mut rng = Rng::new(9);
        for failures in [0, 1, 2, 50, u32::MAX] {
            for failing_for in [0, 1, 999, 86_400_000, u64::MAX] {
                assert!(policy.delay(failures, failing_for, None, &mut rng) <= 300_000);
            }
        }
        let huge = BackoffPolicy {
            first: u64::MAX,
            low_permille: u32::MAX,
            high_permille: u32::MAX,
            span_floor: u64::MAX,
            cap: u64::MAX,
            idle_factor: u32::MAX,
            idle_cap: u64::MAX,
        };
        let _ = huge.delay(3, u64::MAX, None, &mut rng);
        assert_eq!(huge.idle_delay(u64::MAX), u64::MAX);
        assert!(huge.typical_failing_for(u32::MAX) > 0);
    }

    #[test]
    fn an_idle_session_holds_back_longer_but_never_shorter() {
        let policy = BackoffPolicy::default();
        assert_eq!(policy.idle_delay(1_000), 16_000);
        assert_eq!(policy.idle_delay(200_000), 900_000);
        assert_eq!(policy.idle_delay(2_000_000), 2_000_000);
    }

    #[test]
    fn the_typical_span_grows_like_the_schedule() {
        let policy = BackoffPolicy::default();
        assert_eq!(policy.typical_failing_for(0), 0);
        assert_eq!(policy.typical_failing_for(1), 0);
        assert_eq!(policy.typical_failing_for(2), 5_000);
        let spans: Vec<_> = (2..12).map(|k| policy.typical_failing_for(k)).collect();
        assert!(spans.windows(2).all(|w| w[1] > w[0]), "{spans:?}");
    }

    #[test]
    fn retry_after_raises_the_delay_but_never_lowers_it() {
        let policy = BackoffPolicy::default();
        let mut rng = Rng::new(3);
        for _ in 0..100 {
            assert!(policy.delay(1, 0, Some(15_000), &mut rng) >= 15_000);
            assert!(policy.delay(5, 60_000, Some(1), &mut rng) <= 42_000);
        }
    }

    #[test]
    fn each_forced_refresh_doubles_the_age_a_refusal_needs_up_to_the_cap() {
        let policy = RefusalPolicy::default();
        let mut rng = Rng::new(11);
        // The first refusal of a token 30 s old forces a refresh, as before.
        assert_eq!(policy.base, crate::engine::machine::REFUSED_TOKEN_MIN_AGE);
        for _ in 0..100 {
            assert_eq!(policy.min_age(0, &mut rng), 30_000);
        }
        for (forced, low, high) in [
            (1, 30_000, 60_000),
            (2, 60_000, 120_000),
            (5, 480_000, 960_000),
            (6, 600_000, 1_200_000),
            (FORCED_COUNTED, 600_000, 1_200_000),
            (u32::MAX, 600_000, 1_200_000),
        ] {
            let ages: Vec<_> = (0..500).map(|_| policy.min_age(forced, &mut rng)).collect();
            assert!(
                ages.iter().all(|a| (low..=high).contains(a)),
                "{forced}: {ages:?}"
            );
            let spread = high - low;
            assert!(ages.iter().any(|a| *a < low + spread / 20));
            assert!(ages.iter().any(|a| *a > high - spread / 20));
        }
        // The policy before issue 13: always 30 s.
        let before = RefusalPolicy {
            cap: 30_000,
            ..policy
        };
        assert!((0..40).all(|f| before.min_age(f, &mut rng) == 30_000));
        let huge = RefusalPolicy {
            base: u64::MAX,
            cap: u64::MAX,
        };
        assert_eq!(huge.min_age(u32::MAX, &mut rng), u64::MAX);
    }

    #[test]
    fn the_budget_allows_a_burst_then_one_retry_per_refill_period() {
        let policy = BudgetPolicy {
            capacity: 3,
            refill_every: 1_000,
        };
        let mut budget = RetryBudget::new(policy, 0);
        assert_eq!(budget.try_spend(0), Ok(()));
        assert_eq!(budget.try_spend(0), Ok(()));
        assert_eq!(budget.try_spend(10), Ok(()));
        assert_eq!(budget.try_spend(10), Err(1_000));
        assert_eq!(budget.try_spend(999), Err(1_000));
        assert_eq!(budget.try_spend(1_000), Ok(()));
        assert_eq!(budget.try_spend(1_500), Err(2_000));
        assert_eq!(budget.available(100_000), 3);
    }

    #[test]
    fn a_success_refunds_one_retry() {
        let policy = BudgetPolicy {
            capacity: 2,
            refill_every: 1_000_000,
        };
        let mut budget = RetryBudget::new(policy, 0);
        budget.try_spend(0).unwrap();
        budget.try_spend(0).unwrap();
        assert!(budget.try_spend(0).is_err());
        budget.refund(1);
        assert_eq!(budget.try_spend(1), Ok(()));
        budget.refund(2);
        budget.refund(3);
        budget.refund(4);
        assert_eq!(budget.available(5), 2);
    }

    #[test]
    fn a_long_outage_costs_a_bounded_number_of_attempts() {
        let mut budget = RetryBudget::new(BudgetPolicy::default(), 0);
        let mut spent = 0;
        for second in 0..600u64 {
            while budget.try_spend(second * 1_000).is_ok() {
                spent += 1;
            }
        }
        assert_eq!(spent, 10 + 9);
    }

    #[test]
    fn a_clock_set_back_does_not_hold_the_budget_back_for_the_jump() {
        let policy = BudgetPolicy {
            capacity: 1,
            refill_every: 60_000,
        };
        let t = 100_000_000;
        let mut budget = RetryBudget::new(policy, t);
        assert_eq!(budget.try_spend(t), Ok(()));
        assert_eq!(budget.try_spend(t + 20_000), Err(t + 60_000));
        // Two hours back, unannounced: the next token is a refill period away, not 2 h.
        let back = t + 20_000 - 7_200_000;
        assert_eq!(budget.try_spend(back), Err(back + 60_000));
        assert_eq!(budget.try_spend(back + 60_000), Ok(()));
        // Announced: the refill keeps the progress it had made.
        let mut budget = RetryBudget::new(policy, t);
        assert_eq!(budget.try_spend(t), Ok(()));
        budget.clock_set_back(7_200_000);
        assert_eq!(
            budget.try_spend(t + 20_000 - 7_200_000),
            Err(t + 60_000 - 7_200_000)
        );
    }

    // Found by cargo-mutants (scripts/mutants.sh): the arithmetic below went unchecked.

    #[test]
    fn permille_is_exact_below_a_second_too() {
        for (value, per, expected) in [
            (1_999, 500, 999),
            (999, 1_000, 999),
            (1_500, 700, 1_050),
            (7, 143, 1),
            (u64::MAX, 1_000, u64::MAX),
        ] {
            assert_eq!(permille(value, per), expected, "{value} * {per} / 1000");
        }
    }

    #[test]
    fn a_typical_failing_span_uses_the_middle_of_odd_fractions() {
        let odd = BackoffPolicy {
            low_permille: 601,
            high_permille: 699,
            ..BackoffPolicy::default()
        };
        let even = BackoffPolicy {
            low_permille: 600,
            high_permille: 698,
            ..BackoffPolicy::default()
        };
        // (601 / 2) + (699 / 2) = 300 + 349 = 649, as (600 / 2) + (698 / 2) is.
        for failures in [2, 3, 5, 9] {
            assert_eq!(
                odd.typical_failing_for(failures),
                even.typical_failing_for(failures),
                "{failures}"
            );
        }
    }

    #[test]
    fn a_long_wait_refills_the_budget_to_its_capacity_not_beyond() {
        let policy = BudgetPolicy {
            capacity: 3,
            refill_every: 1_000,
        };
        let mut budget = RetryBudget::new(policy, 0);
        assert_eq!(budget.try_spend(0), Ok(()));
        assert_eq!(budget.try_spend(0), Ok(()));
        assert_eq!(budget.available(0), 1);
        assert_eq!(budget.available(1_000_000), 3);
    }
}
