//! The delay between attempts at something that failed (connecting,
//! syncing, joining a room, sending): it doubles from `min` to `max`, and
//! each delay is shortened by a random part of up to a quarter, so that
//! many bots (or one bot's many tasks) that failed together do not all
//! come back at the same instant.

use super::Shutdown;
use std::time::Duration;

/// Exponential backoff with jitter.
#[derive(Debug)]
pub struct Backoff {
    next: Duration,
    min: Duration,
    max: Duration,
}

impl Backoff {
    /// Starts at `min` and doubles up to `max`.
    pub fn new(min: Duration, max: Duration) -> Backoff {
        Backoff {
            next: min,
            min,
            max,
        }
    }

    /// The delay before the next attempt: between three quarters of the
    /// nominal delay and all of it. Each call doubles the nominal delay.
    pub fn next_delay(&mut self) -> Duration {
        let nominal = self.next;
        self.next = (self.next * 2).min(self.max);
        nominal - jitter(nominal / 4)
    }

    /// Back to the first delay, after an attempt that worked.
    pub fn reset(&mut self) {
        self.next = self.min;
    }

    /// Sleeps for the next delay; false if shutdown came first.
    pub async fn wait(&mut self, shutdown: &Shutdown) -> bool {
        let delay = self.next_delay();
        tokio::select! {
            () = tokio::time::sleep(delay) => true,
            () = shutdown.requested() => false,
        }
    }
}

/// A random duration from zero to `up_to`.
fn jitter(up_to: Duration) -> Duration {
    let mut bytes = [0u8; 4];
    // Without randomness the delay is merely not spread: still correct.
    if getrandom::fill(&mut bytes).is_err() {
        return Duration::ZERO;
    }
    up_to.mul_f64(f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_maximum_within_a_quarter_and_resets() {
        let secs = Duration::from_secs;
        let mut b = Backoff::new(secs(5), secs(300));
        for nominal in [5, 10, 20, 40, 80, 160, 300, 300, 300] {
            let delay = b.next_delay();
            assert!(
                delay <= secs(nominal) && delay >= secs(nominal) * 3 / 4,
                "{delay:?} for {nominal} s"
            );
        }
        b.reset();
        assert!(b.next_delay() <= secs(5));
    }

    #[test]
    fn delays_are_spread() {
        let delays: std::collections::HashSet<Duration> = (0..20)
            .map(|_| Backoff::new(Duration::from_secs(8), Duration::from_secs(8)).next_delay())
            .collect();
        assert!(delays.len() > 1, "{delays:?}");
    }
}
