//! The per-member rate limit shared by commands and messages, so a flood
//! from one member costs a "slow down" and no matching work.

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

/// How often the limiter forgets members who have gone quiet, in checks.
const FORGET_EVERY: u64 = 4096;

pub struct Limiter {
    /// `None` when the limit is off.
    limiter: Option<DefaultKeyedRateLimiter<u64>>,
    checks: AtomicU64,
}

impl Limiter {
    /// `per_minute` questions per member, `burst` of them at once; a
    /// `per_minute` of 0 turns the limit off.
    pub fn new(per_minute: u32, burst: u32) -> Limiter {
        let limiter = NonZeroU32::new(per_minute).map(|rate| {
            let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
            RateLimiter::keyed(Quota::per_minute(rate).allow_burst(burst))
        });
        Limiter {
            limiter,
            checks: AtomicU64::new(0),
        }
    }

    /// Whether this member may ask now; counts the question if so.
    pub fn allow(&self, member: u64) -> bool {
        let Some(limiter) = &self.limiter else {
            return true;
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % FORGET_EVERY == FORGET_EVERY - 1 {
            limiter.retain_recent();
        }
        limiter.check_key(&member).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_the_member_waits_alone() {
        let l = Limiter::new(6, 3);
        assert!((0..3).all(|_| l.allow(1)));
        assert!(!l.allow(1));
        assert!(l.allow(2));
    }

    #[test]
    fn zero_turns_the_limit_off() {
        let l = Limiter::new(0, 0);
        assert!((0..1000).all(|_| l.allow(1)));
    }
}
