//! The seeded random source the core draws jitter from.
//!
//! The shell seeds it once from `crypto.getRandomValues`; tests and simulators seed it from a
//! number they print, so a failing schedule can be replayed. Jitter needs spread, not secrecy:
//! nothing security-sensitive (PKCE verifiers, `state`) is drawn from here.

/// SplitMix64: one `u64` of state, full period, good equidistribution for jitter.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator whose whole future is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        Rng { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value uniform in `0..=max` (multiply-shift: bias below 2^-64 per draw, no division).
    pub fn up_to(&mut self, max: u64) -> u64 {
        let span = u128::from(max) + 1;
        ((u128::from(self.next_u64()) * span) >> 64) as u64
    }

    /// A value uniform in `low..=high`; `low` when `high < low`.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.up_to(high.saturating_sub(low))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_sequence() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        assert_ne!(Rng::new(7).next_u64(), Rng::new(8).next_u64());
    }

    #[test]
    fn draws_stay_in_bounds_and_cover_them() {
        let mut rng = Rng::new(1);
        let mut seen = [false; 11];
        for _ in 0..10_000 {
            let v = rng.between(10, 20);
            assert!((10..=20).contains(&v));
            seen[(v - 10) as usize] = true;
        }
        assert!(seen.iter().all(|s| *s), "{seen:?}");
        assert_eq!(rng.up_to(0), 0);
        assert_eq!(rng.between(5, 3), 5);
        let _ = rng.up_to(u64::MAX); // the widest span must not overflow
    }

    #[test]
    fn draws_are_roughly_uniform() {
        let mut rng = Rng::new(99);
        let mut buckets = [0u32; 10];
        for _ in 0..100_000 {
            buckets[rng.up_to(9) as usize] += 1;
        }
        for count in buckets {
            assert!((9_000..11_000).contains(&count), "{buckets:?}");
        }
    }
}
