//! The request to stop, as every long-running part sees it: `kotae serve`
//! asks once (on SIGTERM or SIGINT) and adapters, followers and the HTTP
//! endpoint finish what they are doing and return.

use tokio::sync::watch;

/// The receiving side: cheap to clone, one per task that must stop.
#[derive(Debug, Clone)]
pub struct Shutdown(watch::Receiver<bool>);

/// The asking side, held by whoever decides when to stop.
#[derive(Debug)]
pub struct StopHandle(watch::Sender<bool>);

impl Shutdown {
    /// A new pair: stop with the handle, wait with the [`Shutdown`].
    pub fn new() -> (StopHandle, Shutdown) {
        let (sender, receiver) = watch::channel(false);
        (StopHandle(sender), Shutdown(receiver))
    }

    /// Whether stopping has been asked for.
    pub fn is_requested(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once stopping is asked for. A handle dropped without
    /// asking is not a request to stop, so then it never resolves.
    pub async fn requested(&self) {
        let mut receiver = self.0.clone();
        // The watch guard is dropped within the statement, so this future
        // stays `Send`.
        let asked = receiver.wait_for(|stop| *stop).await.is_ok();
        if !asked {
            std::future::pending::<()>().await;
        }
    }
}

impl StopHandle {
    /// Asks every [`Shutdown`] of this pair to stop.
    pub fn stop(&self) {
        let _ = self.0.send(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_stop_reaches_every_clone_and_a_dropped_handle_does_not_stop() {
        let (handle, shutdown) = Shutdown::new();
        let other = shutdown.clone();
        assert!(!other.is_requested());
        handle.stop();
        shutdown.requested().await;
        assert!(other.is_requested());

        let (handle, shutdown) = Shutdown::new();
        drop(handle);
        let waited = tokio::time::timeout(Duration::from_millis(50), shutdown.requested()).await;
        assert!(waited.is_err(), "a dropped handle is not a stop");
    }
}
