//! The session's retry books: how many refreshes failed in a row and since when, the moment
//! before which no refresh goes out (shared with the other tabs), the hold on refreshes nobody
//! asked for, the retry budget, and the last failure (what a caller that cannot wait is told).
//!
//! Three separate ideas, as in tower's retry: *whether* to retry is
//! [`classify`](super::classify), *when* is [`BackoffPolicy`], *how much in total* is
//! [`RetryBudget`]. This module only keeps the books between them; the state machine asks it.

use alloc::string::String;

use super::backoff::{BackoffPolicy, BudgetPolicy, RetryBudget, FAILURES_COUNTED};
use super::classify::{FailureKind, MAX_RETRY_AFTER};
use super::error::SessionError;
use super::rng::Rng;
use super::tokens::RetryState;
use super::Millis;

/// The last transient failure, kept to tell callers that cannot wait why.
#[derive(Debug, Clone)]
struct LastFailure {
    kind: FailureKind,
    code: String,
}

/// One session's retry books. See the module documentation.
#[derive(Debug)]
pub struct RetryBook {
    budget: RetryBudget,
    /// What the other tabs share: the failure count and the not-before moment.
    shared: RetryState,
    /// When the current failure streak began, and how many failures it had after our last one
    /// (a different count means another tab's failures were adopted since).
    streak: Option<(Millis, u32)>,
    /// With nobody waiting, the proactive refresh holds back until this moment after a failure
    /// ([`BackoffPolicy::idle_delay`]); a caller only waits for the shared not-before.
    idle_until: Millis,
    /// What a not-before moment adopted from another tab or from storage is held to, from the
    /// moment it is read ([`RetryBook::longest_hold`]).
    longest_hold: Millis,
    /// The last shared state read from another tab or storage, as written, and the moment its
    /// not-before was held to then. Storage is read again at every lock grant: the same state
    /// read again is held to the same moment, not to one a window after the later reading (which
    /// would hold refreshes back for ever behind a record that stays).
    read: (RetryState, Millis),
    last_failure: Option<LastFailure>,
}

impl RetryBook {
    /// Clean books, with a full budget at `now`.
    pub fn new(policy: &BackoffPolicy, budget: BudgetPolicy, now: Millis) -> RetryBook {
        RetryBook {
            budget: RetryBudget::new(budget, now),
            shared: RetryState::default(),
            streak: None,
            idle_until: 0,
            longest_hold: RetryBook::longest_hold(policy, &budget),
            read: (RetryState::default(), 0),
            last_failure: None,
        }
    }

    /// The window a not-before moment adopted from another tab or from storage is held to: at
    /// most this far ahead of the moment it is read.
    ///
    /// It is the longest hold this code sets itself, measured from when it sets it: a backoff
    /// delay is the larger of the jittered delay, never more than the policy's `cap`, and the
    /// server's `Retry-After`, which the classifier shortens to [`MAX_RETRY_AFTER`] (so the
    /// larger of the two, not their sum); an empty budget holds back until its next token, at
    /// most `refill_every` away, plus up to `refill_every` of jitter. With the defaults that is
    /// 5 minutes. A tab of this session on the same clock never writes a moment further ahead
    /// than that, so one that is was written before the clock went back, or by a tab with
    /// other settings, or is corrupt (a tab message saying 2^64 - 1). Holding it to the window
    /// still respects any backoff this code could have meant, and never parks refreshes for
    /// the length of a clock jump or until the next sign-in.
    pub fn longest_hold(policy: &BackoffPolicy, budget: &BudgetPolicy) -> Millis {
        policy
            .cap
            .max(MAX_RETRY_AFTER)
            .max(budget.refill_every.saturating_mul(2))
    }

    /// What storage and the other tabs are told.
    pub fn shared(&self) -> RetryState {
        self.shared
    }

    /// No refresh may go out before this moment (0: none is held back).
    pub fn not_before(&self) -> Millis {
        self.shared.not_before
    }

    /// While refreshes are failing: when the next one may go.
    pub fn retry_at(&self) -> Option<Millis> {
        self.failing().then_some(self.shared.not_before)
    }

    /// Whether the last refresh (here or in another tab) failed.
    pub fn failing(&self) -> bool {
        self.shared.failures > 0
    }

    /// Until when a refresh nobody waits for holds back (0: no hold).
    pub fn idle_gate(&self) -> Millis {
        if self.failing() {
            self.idle_until
        } else {
            0
        }
    }

    /// A refresh succeeded: the streak ends and the budget gets its token back.
    pub fn succeeded(&mut self, now: Millis) {
        self.clear();
        self.budget.refund(now);
    }

    /// A new session began or the old one ended: its failures no longer count.
    pub fn clear(&mut self) {
        self.shared = RetryState::default();
        self.last_failure = None;
    }

    /// Another tab's state read from storage at `now`, adopted when it holds refreshes back
    /// longer (held to the window first: [`RetryBook::longest_hold`]).
    pub fn adopt_stored(&mut self, now: Millis, stored: RetryState) {
        let stored = self.held(now, stored);
        if stored.not_before > self.shared.not_before {
            self.shared = stored;
        }
    }

    /// Another tab's failure, broadcast with its kind and heard at `now` (held to the window
    /// first). `>=`: the same backoff may have reached us through storage first, which carries
    /// the moment but not the kind.
    pub fn adopt_broadcast(&mut self, now: Millis, shared: RetryState, kind: FailureKind) {
        if shared.failures == 0 {
            return;
        }
        let shared = self.held(now, shared);
        if shared.not_before >= self.shared.not_before {
            self.shared = shared;
            self.last_failure = Some(LastFailure {
                kind,
                code: String::from("RetryElsewhere"),
            });
        }
    }

    /// Another tab's shared state as this session may adopt it at `now`: its not-before moment
    /// at most [`RetryBook::longest_hold`] ahead (the same state read again keeps the moment it
    /// was held to the first time), its count at most [`FAILURES_COUNTED`], and no hold at all
    /// without a failure (this code never writes one).
    fn held(&mut self, now: Millis, theirs: RetryState) -> RetryState {
        if theirs.failures == 0 {
            return RetryState::default();
        }
        let (last, held_to) = self.read;
        let not_before = if theirs == last {
            held_to
        } else {
            theirs.not_before.min(now.saturating_add(self.longest_hold))
        };
        self.read = (theirs, not_before);
        RetryState {
            not_before,
            failures: theirs.failures.min(FAILURES_COUNTED),
        }
    }

    /// A refresh failed at `now` with a transient `kind` (`code` names it, `retry_after` is the
    /// provider's hint). Returns when the next attempt may go: a delay proportional to how long
    /// this streak has lasted, ours since its first failure, or a typical span when another
    /// tab's failures were adopted since our last one.
    pub fn failed(
        &mut self,
        now: Millis,
        kind: FailureKind,
        code: String,
        retry_after: Option<Millis>,
        policy: &BackoffPolicy,
        rng: &mut Rng,
    ) -> Millis {
        let before = self.shared.failures;
        let since = match self.streak {
            _ if before == 0 => now,
            Some((since, seen)) if seen == before && since <= now => since,
            _ => now.saturating_sub(policy.typical_failing_for(before)),
        };
        self.shared.failures = before.saturating_add(1).min(FAILURES_COUNTED);
        self.streak = Some((since, self.shared.failures));
        let delay = policy.delay(
            self.shared.failures,
            now.saturating_sub(since),
            retry_after,
            rng,
        );
        self.shared.not_before = now.saturating_add(delay);
        self.idle_until = now.saturating_add(policy.idle_delay(delay));
        self.last_failure = Some(LastFailure { kind, code });
        self.shared.not_before
    }

    /// The local clock was set back by `back`: every moment in the books moves back with it, so
    /// a hold (the shared not-before, the idle hold, the budget's next token) keeps what was
    /// left of it and the streak keeps the age it had, instead of waiting for the clock to make
    /// up the jump.
    pub fn clock_set_back(&mut self, back: Millis) {
        self.shared.not_before = self.shared.not_before.saturating_sub(back);
        self.idle_until = self.idle_until.saturating_sub(back);
        if let Some((since, _)) = &mut self.streak {
            *since = since.saturating_sub(back);
        }
        self.read.1 = self.read.1.saturating_sub(back);
        self.budget.clock_set_back(back);
    }

    /// Spends one retry from the budget while failing (a first attempt is free). When it is
    /// empty, refreshes hold back until it refills, plus up to `jitter` (budgets emptied together
    /// must not refill into one synchronized wave), and that moment is the error.
    pub fn try_spend(&mut self, now: Millis, jitter: Millis, rng: &mut Rng) -> Result<(), Millis> {
        if !self.failing() {
            return Ok(());
        }
        self.budget.try_spend(now).map_err(|at| {
            self.shared.not_before = at.saturating_add(rng.up_to(jitter));
            self.shared.not_before
        })
    }

    /// What a caller that cannot get a token in time is told: the kind of the last failure.
    pub fn waiting_error(&self) -> SessionError {
        match &self.last_failure {
            Some(LastFailure {
                kind: FailureKind::Throttled,
                ..
            }) => SessionError::Throttled {
                retry_at: self.shared.not_before,
            },
            Some(LastFailure {
                kind: FailureKind::BadResponse,
                code,
            }) => SessionError::BadResponse {
                detail: code.clone(),
            },
            _ => SessionError::Unavailable {
                retry_at: self.retry_at(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Millis = 1_700_000_000_000;

    fn book() -> (RetryBook, BackoffPolicy, Rng) {
        let policy = BackoffPolicy::default();
        (
            RetryBook::new(&policy, BudgetPolicy::default(), T0),
            policy,
            Rng::new(7),
        )
    }

    /// The default window: 5 minutes (the cap, and the longest `Retry-After` honoured).
    const HOLD: Millis = 300_000;

    #[test]
    fn clean_books_hold_nothing_back() {
        let (b, _, _) = book();
        assert!(!b.failing());
        assert_eq!((b.not_before(), b.retry_at(), b.idle_gate()), (0, None, 0));
        assert_eq!(
            b.waiting_error(),
            SessionError::Unavailable { retry_at: None }
        );
    }

    #[test]
    fn each_failure_counts_and_moves_the_not_before_moment_forward() {
        let (mut b, policy, mut rng) = book();
        let at = b.failed(
            T0,
            FailureKind::Throttled,
            "T".into(),
            None,
            &policy,
            &mut rng,
        );
        assert!(at >= T0 && at <= T0 + policy.cap, "{at}");
        assert_eq!(b.shared().failures, 1);
        assert_eq!(b.retry_at(), Some(at));
        assert!(
            b.idle_gate() >= at,
            "an unrequested refresh holds back at least as long"
        );
        assert_eq!(b.waiting_error(), SessionError::Throttled { retry_at: at });
        let later = b.failed(
            at,
            FailureKind::ServerError,
            "S".into(),
            None,
            &policy,
            &mut rng,
        );
        assert!(later >= at);
        assert_eq!(b.shared().failures, 2);
        assert_eq!(
            b.waiting_error(),
            SessionError::Unavailable {
                retry_at: Some(later)
            }
        );
    }

    #[test]
    fn a_provider_hint_is_honoured() {
        let (mut b, policy, mut rng) = book();
        let at = b.failed(
            T0,
            FailureKind::Throttled,
            "T".into(),
            Some(20_000),
            &policy,
            &mut rng,
        );
        assert!(at >= T0 + 20_000, "{at}");
    }

    #[test]
    fn a_bad_response_tells_waiters_what_was_wrong() {
        let (mut b, policy, mut rng) = book();
        b.failed(
            T0,
            FailureKind::BadResponse,
            "NotJson".into(),
            None,
            &policy,
            &mut rng,
        );
        assert_eq!(
            b.waiting_error(),
            SessionError::BadResponse {
                detail: "NotJson".into()
            }
        );
    }

    #[test]
    fn success_clears_the_streak_and_refunds_the_budget() {
        let (mut b, policy, mut rng) = book();
        b.failed(
            T0,
            FailureKind::Network,
            "N".into(),
            None,
            &policy,
            &mut rng,
        );
        assert_eq!(b.try_spend(T0 + 1, 1_000, &mut rng), Ok(()));
        b.succeeded(T0 + 2);
        assert!(!b.failing());
        assert_eq!(
            b.waiting_error(),
            SessionError::Unavailable { retry_at: None }
        );
    }

    #[test]
    fn an_empty_budget_holds_refreshes_back_until_it_refills_plus_jitter() {
        let (mut b, policy, mut rng) = book();
        b.failed(
            T0,
            FailureKind::Network,
            "N".into(),
            None,
            &policy,
            &mut rng,
        );
        let capacity = BudgetPolicy::default().capacity;
        for _ in 0..capacity {
            assert_eq!(b.try_spend(T0, 0, &mut rng), Ok(()));
        }
        let refill = BudgetPolicy::default().refill_every;
        let held = b.try_spend(T0, refill, &mut rng).unwrap_err();
        assert!(held >= T0 && held <= T0 + 2 * refill, "{held}");
        assert_eq!(b.not_before(), held);
    }

    #[test]
    fn the_first_attempt_spends_nothing() {
        let (mut b, _, mut rng) = book();
        for _ in 0..1_000 {
            assert_eq!(b.try_spend(T0, 0, &mut rng), Ok(()));
        }
    }

    #[test]
    fn another_tabs_backoff_is_adopted_only_when_it_holds_back_longer() {
        let (mut b, _, _) = book();
        let theirs = RetryState {
            not_before: T0 + 5_000,
            failures: 3,
        };
        b.adopt_stored(T0, theirs);
        assert_eq!(b.shared(), theirs);
        b.adopt_stored(
            T0,
            RetryState {
                not_before: T0,
                failures: 9,
            },
        );
        assert_eq!(b.shared(), theirs, "an older backoff teaches nothing");
        b.adopt_stored(
            T0,
            RetryState {
                not_before: T0 + 5_000,
                failures: 1,
            },
        );
        assert_eq!(b.shared(), theirs, "nor does one that holds back no longer");
        b.adopt_broadcast(T0, theirs, FailureKind::Throttled);
        assert_eq!(
            b.waiting_error(),
            SessionError::Throttled {
                retry_at: T0 + 5_000
            },
            "the same moment again, now with its kind"
        );
        b.adopt_broadcast(
            T0,
            RetryState {
                not_before: T0 + 1,
                failures: 1,
            },
            FailureKind::Network,
        );
        assert_eq!(b.shared(), theirs);
    }

    #[test]
    fn a_streak_continued_from_another_tab_is_timed_from_a_typical_span() {
        let (mut b, policy, mut rng) = book();
        b.adopt_stored(
            T0,
            RetryState {
                not_before: T0 + 1_000,
                failures: 5,
            },
        );
        let at = b.failed(
            T0 + 1_000,
            FailureKind::Network,
            "N".into(),
            None,
            &policy,
            &mut rng,
        );
        assert_eq!(b.shared().failures, 6);
        let ceiling = policy.ceiling(6, policy.typical_failing_for(5));
        assert!(at <= T0 + 1_000 + ceiling.max(policy.first), "{at}");
    }

    #[test]
    fn the_window_is_the_longest_hold_this_code_sets() {
        let policy = BackoffPolicy::default();
        assert_eq!(
            RetryBook::longest_hold(&policy, &BudgetPolicy::default()),
            HOLD
        );
        let slow_budget = BudgetPolicy {
            capacity: 1,
            refill_every: 600_000,
        };
        assert_eq!(
            RetryBook::longest_hold(&policy, &slow_budget),
            1_200_000,
            "an empty budget holds back a refill period plus its jitter"
        );
        // No delay the policy draws, with the longest hint honoured, goes past it.
        let mut rng = Rng::new(3);
        for failures in [1, 2, 5, 64] {
            for failing_for in [0, 60_000, 86_400_000] {
                let delay = policy.delay(failures, failing_for, Some(MAX_RETRY_AFTER), &mut rng);
                assert!(delay <= HOLD, "{delay}");
            }
        }
    }

    #[test]
    fn another_tabs_moment_is_held_to_the_window_from_now_and_its_count_to_the_counted() {
        let (mut b, _, _) = book();
        let forever = RetryState {
            not_before: u64::MAX,
            failures: u32::MAX,
        };
        b.adopt_broadcast(T0, forever, FailureKind::Throttled);
        assert_eq!(
            b.shared(),
            RetryState {
                not_before: T0 + HOLD,
                failures: FAILURES_COUNTED
            }
        );
        assert_eq!(
            b.waiting_error(),
            SessionError::Throttled {
                retry_at: T0 + HOLD
            }
        );
        let (mut b, _, _) = book();
        b.adopt_stored(T0, forever);
        assert_eq!(b.retry_at(), Some(T0 + HOLD));
        // Within the window a moment is taken as it is.
        let (mut b, _, _) = book();
        let soon = RetryState {
            not_before: T0 + HOLD - 1,
            failures: 2,
        };
        b.adopt_stored(T0, soon);
        assert_eq!(b.shared(), soon);
    }

    #[test]
    fn a_state_read_again_is_held_to_the_moment_it_was_held_to_the_first_time() {
        let (mut b, _, _) = book();
        let forever = RetryState {
            not_before: u64::MAX,
            failures: 1,
        };
        b.adopt_stored(T0, forever);
        // Storage is read again at the lock grant once that hold is over: the same record does
        // not start a new one.
        b.adopt_stored(T0 + HOLD, forever);
        b.adopt_broadcast(T0 + HOLD, forever, FailureKind::Network);
        assert_eq!(b.not_before(), T0 + HOLD);
        // A new state from the other tab is a new reading.
        b.adopt_stored(
            T0 + HOLD,
            RetryState {
                not_before: u64::MAX,
                failures: 2,
            },
        );
        assert_eq!(b.not_before(), T0 + 2 * HOLD);
    }

    #[test]
    fn a_hold_without_a_failure_is_not_adopted() {
        let (mut b, _, _) = book();
        let odd = RetryState {
            not_before: T0 + 60_000,
            failures: 0,
        };
        b.adopt_stored(T0, odd);
        b.adopt_broadcast(T0, odd, FailureKind::Throttled);
        assert_eq!((b.not_before(), b.retry_at()), (0, None));
        assert_eq!(
            b.waiting_error(),
            SessionError::Unavailable { retry_at: None }
        );
    }

    #[test]
    fn the_count_stops_at_the_failures_counted() {
        let (mut b, policy, mut rng) = book();
        let mut now = T0;
        for _ in 0..FAILURES_COUNTED + 10 {
            now = b.failed(
                now,
                FailureKind::Network,
                "N".into(),
                None,
                &policy,
                &mut rng,
            );
        }
        assert_eq!(b.shared().failures, FAILURES_COUNTED);
    }

    #[test]
    fn a_clock_set_back_moves_every_moment_in_the_books_back_with_it() {
        let (mut b, policy, mut rng) = book();
        let first = b.failed(
            T0,
            FailureKind::Network,
            "N".into(),
            None,
            &policy,
            &mut rng,
        );
        let second = b.failed(
            first,
            FailureKind::Network,
            "N".into(),
            None,
            &policy,
            &mut rng,
        );
        let idle = b.idle_gate();
        const BACK: Millis = 7_200_000;
        b.clock_set_back(BACK);
        assert_eq!(b.retry_at(), Some(second - BACK));
        assert_eq!(b.idle_gate(), idle - BACK);
        // The streak keeps its age: the third delay is a fraction of the time since T0, as it
        // would have been without the jump.
        let now = second - BACK;
        let third = b.failed(
            now,
            FailureKind::Network,
            "N".into(),
            None,
            &policy,
            &mut rng,
        );
        let span = (second - T0).max(policy.span_floor);
        assert!(
            third - now >= span / 2 && third - now <= span * 7 / 10,
            "{} for {span}",
            third - now
        );
    }

    #[test]
    fn a_second_failure_is_backed_off_by_how_long_the_streak_has_lasted() {
        let (mut b, policy, mut rng) = book();
        b.failed(
            T0,
            FailureKind::ServerError,
            "S".into(),
            None,
            &policy,
            &mut rng,
        );
        // Failing for 200 s: the next delay is 50 to 70 % of that, not the first retry's seconds.
        let now = T0 + 200_000;
        let at = b.failed(
            now,
            FailureKind::ServerError,
            "S".into(),
            None,
            &policy,
            &mut rng,
        );
        assert!(
            (now + 100_000..=now + 140_000).contains(&at),
            "{}",
            at - now
        );
    }

    #[test]
    fn a_streak_another_tab_lengthened_is_timed_from_a_typical_span_not_our_first_failure() {
        let (mut b, policy, mut rng) = book();
        b.failed(
            T0,
            FailureKind::Network,
            "N".into(),
            None,
            &policy,
            &mut rng,
        );
        b.adopt_stored(
            T0 + 500,
            RetryState {
                not_before: T0 + 200_000,
                failures: 5,
            },
        );
        // Five failures typically take ~25 s: the sixth waits 50-70 % of that, not of the 1 s
        // since this tab's own first failure.
        let now = T0 + 1_000;
        let span = policy.typical_failing_for(5);
        assert!((20_000..30_000).contains(&span), "{span}");
        let at = b.failed(
            now,
            FailureKind::Network,
            "N".into(),
            None,
            &policy,
            &mut rng,
        );
        assert!(
            at - now >= span / 2 && at - now <= span * 7 / 10 + 1,
            "{} of {span}",
            at - now
        );
    }
}
