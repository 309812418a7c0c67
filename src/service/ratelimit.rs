//! The per-member rate limit every adapter applies before asking the core,
//! so a flood from one member costs no matching work. Members who have
//! gone quiet are forgotten now and then, so the limiter's memory follows
//! the number of active members, not of every member ever seen.

use super::Platform;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter as Governor};
use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

/// How often the limiter forgets members who have gone quiet, in checks.
const FORGET_EVERY: u64 = 4096;

/// A per-member limit, keyed by the platform's member id.
pub struct RateLimiter<K: Hash + Eq + Clone> {
    platform: Platform,
    /// `None` when the limit is off.
    limiter: Option<DefaultKeyedRateLimiter<K>>,
    checks: AtomicU64,
}

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    /// `per_minute` questions per member, `burst` of them at once. A
    /// `per_minute` of 0 turns the limit off; a `burst` of 0 means one at
    /// a time.
    pub fn new(platform: Platform, per_minute: u32, burst: u32) -> RateLimiter<K> {
        let limiter = NonZeroU32::new(per_minute).map(|rate| {
            let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
            Governor::keyed(Quota::per_minute(rate).allow_burst(burst))
        });
        RateLimiter {
            platform,
            limiter,
            checks: AtomicU64::new(0),
        }
    }

    /// Whether this member may ask now; counts the question if so, and a
    /// refusal in `kotae_rate_limited_total` if not.
    pub fn allow(&self, member: &K) -> bool {
        let Some(limiter) = &self.limiter else {
            return true;
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % FORGET_EVERY == FORGET_EVERY - 1 {
            limiter.retain_recent();
        }
        let allowed = limiter.check_key(member).is_ok();
        if !allowed {
            metrics::counter!("kotae_rate_limited_total", "platform" => self.platform.as_str())
                .increment(1);
        }
        allowed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_the_member_waits_alone() {
        let l = RateLimiter::new(Platform::Discord, 6, 3);
        assert!((0..3).all(|_| l.allow(&1u64)));
        assert!(!l.allow(&1));
        assert!(l.allow(&2));
    }

    #[test]
    fn zero_turns_the_limit_off_and_a_zero_burst_is_one() {
        let off = RateLimiter::new(Platform::Matrix, 0, 0);
        assert!((0..1000).all(|_| off.allow(&"@a:x".to_string())));
        let one = RateLimiter::new(Platform::Matrix, 6, 0);
        assert!(one.allow(&"@a:x".to_string()));
        assert!(!one.allow(&"@a:x".to_string()));
    }
}
