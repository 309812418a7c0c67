//! The delay between attempts to connect to Discord: 5 s, doubling to at
//! most 5 minutes. Short enough that a fixed token is picked up quickly,
//! long enough that a bot with a revoked token does not hammer Discord
//! (which bans clients that fail to identify too often).

use std::time::Duration;

pub const FIRST: Duration = Duration::from_secs(5);
pub const MAX: Duration = Duration::from_secs(300);

#[derive(Debug)]
pub struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new()
    }
}

impl Backoff {
    pub fn new() -> Backoff {
        Backoff { next: FIRST }
    }

    /// The delay before the next attempt; each call doubles the one after.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(MAX);
        delay
    }

    /// Back to the first delay, after a connection that worked.
    pub fn reset(&mut self) {
        self.next = FIRST;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_five_minutes_and_resets() {
        let mut b = Backoff::new();
        let secs: Vec<u64> = (0..9).map(|_| b.next_delay().as_secs()).collect();
        assert_eq!(secs, [5, 10, 20, 40, 80, 160, 300, 300, 300]);
        b.reset();
        assert_eq!(b.next_delay(), FIRST);
    }
}
