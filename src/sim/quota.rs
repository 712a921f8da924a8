//! Cognito's account quota, modelled as one token bucket every session draws from.
//!
//! Cognito counts `InitiateAuth` (refreshes and password sign-ins alike) against the account's
//! `UserAuthentication` quota: 120 requests per second by default, shared by every user pool of
//! the account and region. [`Quota`] admits a request that reaches the service at a given moment
//! when the bucket holds a whole token, and throttles it otherwise. The bucket refills at `rate`
//! tokens per second up to `burst`. Three switches widen the model:
//!
//! - `throttled_consume`: a rejected request still costs a token (the bucket may go into debt
//!   down to minus `burst`), as with quotas that count requests rather than admissions;
//! - `background_rps`: other operations of the same category (sign-ins from other apps, admin
//!   calls) arrive as a Poisson process and take tokens first;
//! - `outages`: windows in which every request is rejected whatever the bucket holds.
//!
//! Tokens are counted in thousandths so the arithmetic stays in integers: at `rate` requests per
//! second the bucket gains exactly `rate` thousandths per millisecond. Requests must be offered
//! in non-decreasing arrival order (the fleet simulator guarantees it with a fixed request-leg
//! latency).

use crate::engine::rng::Rng;
use crate::engine::Millis;

/// One whole token, in thousandths.
const TOKEN: i64 = 1_000;

/// The quota's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct QuotaConfig {
    /// Requests per second the bucket refills with (Cognito's default: 120).
    pub rate: u32,
    /// Bucket size in requests (the largest burst admitted after a quiet spell).
    pub burst: u32,
    /// Whether a throttled request also spends a token.
    pub throttled_consume: bool,
    /// Mean rate of other operations in the same quota category, requests per second.
    pub background_rps: f64,
    /// Half-open windows `[start, end)` in which every request is throttled.
    pub outages: Vec<(Millis, Millis)>,
}

impl QuotaConfig {
    /// Cognito's default: `rate` per second, a burst of one second's worth, nothing else.
    pub fn per_second(rate: u32) -> QuotaConfig {
        QuotaConfig {
            rate,
            burst: rate,
            throttled_consume: false,
            background_rps: 0.0,
            outages: Vec::new(),
        }
    }
}

/// The shared bucket, with counts of what it admitted and refused.
#[derive(Debug, Clone)]
pub struct Quota {
    config: QuotaConfig,
    /// Thousandths of a token; negative only with `throttled_consume`.
    level: i64,
    /// The moment `level` was last brought up to date.
    at: Millis,
    /// When the next background request arrives (`u64::MAX`: never).
    next_background: Millis,
    rng: Rng,
    /// Our requests admitted.
    pub admitted: u64,
    /// Our requests throttled.
    pub throttled: u64,
    /// Background requests admitted and throttled.
    pub background_admitted: u64,
    pub background_throttled: u64,
}

impl Quota {
    /// A full bucket at `start`.
    pub fn new(config: QuotaConfig, start: Millis, seed: u64) -> Quota {
        let mut quota = Quota {
            level: i64::from(config.burst) * TOKEN,
            at: start,
            next_background: u64::MAX,
            rng: Rng::new(seed),
            admitted: 0,
            throttled: 0,
            background_admitted: 0,
            background_throttled: 0,
            config,
        };
        quota.next_background = quota.background_gap(start);
        quota
    }

    /// The parameters.
    pub fn config(&self) -> &QuotaConfig {
        &self.config
    }

    /// A request of ours reaches the service at `at`: admitted (`true`) or throttled.
    pub fn admit(&mut self, at: Millis) -> bool {
        while self.next_background <= at {
            let when = self.next_background;
            let ok = self.take(when);
            if ok {
                self.background_admitted += 1;
            } else {
                self.background_throttled += 1;
            }
            self.next_background = self.background_gap(when);
        }
        let ok = self.take(at);
        if ok {
            self.admitted += 1;
        } else {
            self.throttled += 1;
        }
        ok
    }

    fn take(&mut self, at: Millis) -> bool {
        self.refill(at);
        let cap = i64::from(self.config.burst) * TOKEN;
        let out = self.config.outages.iter().any(|(s, e)| *s <= at && at < *e);
        if !out && self.level >= TOKEN {
            self.level -= TOKEN;
            true
        } else {
            if self.config.throttled_consume {
                self.level = (self.level - TOKEN).max(-cap);
            }
            false
        }
    }

    fn refill(&mut self, at: Millis) {
        if at <= self.at {
            return;
        }
        let cap = i64::from(self.config.burst) * TOKEN;
        let gained = i64::try_from(at - self.at)
            .unwrap_or(i64::MAX / 4)
            .saturating_mul(i64::from(self.config.rate));
        self.level = self.level.saturating_add(gained).min(cap);
        self.at = at;
    }

    /// The arrival after `from` of the background Poisson process.
    fn background_gap(&mut self, from: Millis) -> Millis {
        let rps = self.config.background_rps;
        if rps <= 0.0 || !rps.is_finite() {
            return u64::MAX;
        }
        // Exponential gap with mean 1000 / rps ms; `1 - u` keeps ln away from zero.
        let u = (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let gap = -(1.0 - u).ln() * 1_000.0 / rps;
        from.saturating_add(gap.round().max(0.0) as Millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_bucket_admits_a_burst_then_the_refill_rate() {
        let mut q = Quota::new(QuotaConfig::per_second(120), 0, 1);
        let burst = (0..200).filter(|_| q.admit(0)).count();
        assert_eq!(burst, 120);
        // One second later, 120 more; never more than the bucket holds.
        let next = (0..200).filter(|_| q.admit(1_000)).count();
        assert_eq!(next, 120);
        // Spread evenly at the rate, everything passes.
        let steady = (0..1_200u64)
            .filter(|i| q.admit(2_000 + i * 1_000 / 120 + 9))
            .count();
        assert!(steady >= 1_199, "{steady}");
        assert_eq!(q.admitted, 120 + 120 + steady as u64);
    }

    #[test]
    fn throttled_requests_can_be_made_to_cost_quota() {
        let mut config = QuotaConfig::per_second(10);
        config.throttled_consume = true;
        let mut q = Quota::new(config, 0, 1);
        // 10 admitted, then 40 refused that dig a debt of 10 tokens (the floor).
        assert_eq!((0..50).filter(|_| q.admit(0)).count(), 10);
        // After one second the debt is paid and nothing is left.
        assert!(!q.admit(1_000));
        assert!(q.admit(2_200));
    }

    #[test]
    fn an_outage_refuses_everything_and_ends_with_a_full_bucket() {
        let mut config = QuotaConfig::per_second(5);
        config.outages.push((1_000, 61_000));
        let mut q = Quota::new(config, 0, 1);
        assert!((0..100).all(|i| !q.admit(1_000 + i * 600)));
        assert_eq!((0..10).filter(|_| q.admit(61_000)).count(), 5);
    }

    #[test]
    fn background_load_takes_its_share() {
        let mut config = QuotaConfig::per_second(100);
        config.background_rps = 50.0;
        let mut q = Quota::new(config, 0, 7);
        // 40 of ours per second and 50 in the background fit in 100 per second.
        let ours = (0..60_000u64)
            .filter(|ms| ms % 25 == 0 && q.admit(*ms))
            .count();
        let background = q.background_admitted as f64 / 60.0;
        assert!((45.0..55.0).contains(&background), "{background}");
        assert!((2_350..=2_400).contains(&ours), "{ours}");
        // Offered more than the rate, the background and we share what there is.
        let mut q = Quota::new(q.config().clone(), 0, 7);
        let ours = (0..60_000u64)
            .filter(|ms| ms % 10 == 0 && q.admit(*ms))
            .count();
        assert!(ours + q.background_admitted as usize <= 6_000 + 100);
        assert!(q.background_throttled > 0);
    }
}
