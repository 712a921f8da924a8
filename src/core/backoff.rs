//! When to retry a failed refresh: full-jitter exponential backoff, a retry budget, `Retry-After`.
//!
//! Three separate questions, three separate pieces:
//! - *whether* a failure is worth retrying is [`crate::core::classify`]'s job;
//! - *when* the next attempt may go is [`BackoffPolicy::delay`]: full jitter, a delay drawn
//!   uniformly from `[0, min(cap, base · factor^failures)]`. Full jitter spreads a crowd of
//!   clients that failed together over the whole window, which is what keeps a fleet that was
//!   throttled at the same moment from coming back at the same moment; equal or decorrelated
//!   jitter keep a floor under the delay that buys nothing here (the session never retries
//!   without a reason to). A server's `Retry-After` raises the delay, never lowers it;
//! - *how much in total* is [`RetryBudget`]: a token bucket that every retry draws from and that
//!   refills slowly, so a long outage costs a bounded number of calls however long it lasts.

use super::Millis;

/// Full-jitter exponential backoff parameters.
///
/// # Default
///
/// `base` 1 s, `factor` 3, `cap` 60 s: failures 1, 2, 3, 4, 5 wait up to 1 s, 3 s, 9 s, 27 s, 60 s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffPolicy {
    /// Ceiling of the first retry's delay.
    pub base: Millis,
    /// Growth of the ceiling per consecutive failure.
    pub factor: u32,
    /// Largest ceiling.
    pub cap: Millis,
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        BackoffPolicy {
            base: 1_000,
            factor: 3,
            cap: 60_000,
        }
    }
}

impl BackoffPolicy {
    /// The largest delay after `failures` consecutive failures (`failures` ≥ 1):
    /// `min(cap, base · factor^(failures - 1))`, saturating.
    pub fn ceiling(&self, failures: u32) -> Millis {
        let mut ceiling = self.base.min(self.cap);
        for _ in 1..failures {
            if ceiling >= self.cap {
                break;
            }
            ceiling = ceiling.saturating_mul(u64::from(self.factor)).min(self.cap);
        }
        ceiling
    }

    /// The delay before the next attempt after `failures` consecutive failures: uniform in
    /// `[0, ceiling(failures)]`, raised to `retry_after` when the server gave one.
    pub fn delay(
        &self,
        failures: u32,
        retry_after: Option<Millis>,
        rng: &mut super::rng::Rng,
    ) -> Millis {
        rng.up_to(self.ceiling(failures))
            .max(retry_after.unwrap_or(0))
    }
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
        if self.tokens >= self.capacity {
            self.refilled_at = now;
            return;
        }
        let earned = now.saturating_sub(self.refilled_at) / self.refill_every;
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::rng::Rng;

    #[test]
    fn the_ceiling_grows_by_the_factor_up_to_the_cap() {
        let policy = BackoffPolicy::default();
        let ceilings: Vec<_> = (1..=6).map(|f| policy.ceiling(f)).collect();
        assert_eq!(ceilings, [1_000, 3_000, 9_000, 27_000, 60_000, 60_000]);
        assert_eq!(policy.ceiling(u32::MAX), 60_000);
        let huge = BackoffPolicy {
            base: u64::MAX / 2,
            factor: u32::MAX,
            cap: u64::MAX,
        };
        assert_eq!(huge.ceiling(10), u64::MAX);
    }

    #[test]
    fn full_jitter_stays_within_zero_and_the_ceiling_and_spreads_over_it() {
        let policy = BackoffPolicy::default();
        for seed in 0..50 {
            let mut rng = Rng::new(seed);
            for failures in 1..8 {
                let ceiling = policy.ceiling(failures);
                let (mut low, mut high) = (u64::MAX, 0);
                for _ in 0..200 {
                    let d = policy.delay(failures, None, &mut rng);
                    assert!(d <= ceiling);
                    low = low.min(d);
                    high = high.max(d);
                }
                assert!(
                    low < ceiling / 10 && high > ceiling / 10 * 9,
                    "{low}..{high} of {ceiling}"
                );
            }
        }
    }

    #[test]
    fn retry_after_raises_the_delay_but_never_lowers_it() {
        let policy = BackoffPolicy::default();
        let mut rng = Rng::new(3);
        for _ in 0..100 {
            assert!(policy.delay(1, Some(5_000), &mut rng) >= 5_000);
            assert!(policy.delay(5, Some(1), &mut rng) <= 60_000);
        }
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
}
