//! Waiting out a homeserver that is down: one backoff used by login, sync,
//! joins and sends, and the rule for which errors are worth a retry.

use matrix_sdk::HttpError;
use matrix_sdk::ruma::api::error::ErrorKind;
use std::time::Duration;
use tokio::sync::watch;

/// Exponential backoff that a shutdown interrupts.
pub(super) struct Backoff {
    next: Duration,
    min: Duration,
    max: Duration,
}

impl Backoff {
    pub(super) fn new(min: Duration, max: Duration) -> Backoff {
        Backoff {
            next: min,
            min,
            max,
        }
    }

    pub(super) fn reset(&mut self) {
        self.next = self.min;
    }

    /// Sleeps for the next delay; false if the bot is shutting down.
    pub(super) async fn wait(&mut self, shutdown: &mut watch::Receiver<bool>) -> bool {
        let delay = self.next;
        self.next = (self.next * 2).min(self.max);
        tokio::select! {
            _ = tokio::time::sleep(delay) => true,
            _ = shutdown.wait_for(|stop| *stop) => false,
        }
    }
}

/// Network failures, server errors and rate limiting pass; a refusal
/// (forbidden, unknown room, bad request) will not change by retrying.
pub(super) fn is_transient(error: &matrix_sdk::Error) -> bool {
    let matrix_sdk::Error::Http(http) = error else {
        return false;
    };
    match http.as_ref() {
        HttpError::Reqwest(_) => true,
        HttpError::Api(_) => match http.as_client_api_error() {
            Some(api) => api.status_code.is_server_error() || api.status_code.as_u16() == 429,
            // Not a Matrix error at all: a proxy's error page while the
            // homeserver restarts.
            None => true,
        },
        _ => false,
    }
}

/// The access token was revoked or expired.
pub(super) fn is_unknown_token(error: &matrix_sdk::Error) -> bool {
    matches!(
        error.client_api_error_kind(),
        Some(ErrorKind::UnknownToken(_))
    )
}
