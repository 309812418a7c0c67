//! Waiting out a homeserver that is down: the rule for which errors are
//! worth a retry (with the service's backoff, as login, sync and joins
//! do), and the one way the bot sends a message (replies, reports and
//! edits alike).

use crate::service::Shutdown;
use crate::service::backoff::Backoff;
use matrix_sdk::config::RequestConfig;
use matrix_sdk::ruma::api::error::{ErrorKind, RetryAfter};
use matrix_sdk::ruma::events::room::message::RoomMessageEventContent;
use matrix_sdk::ruma::{OwnedEventId, OwnedTransactionId};
use matrix_sdk::{HttpError, Room};
use std::time::{Duration, Instant};

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

/// At most this many attempts at one send, whatever its patience.
pub(super) const MAX_ATTEMPTS: u32 = 5;
/// One attempt's request; a homeserver that holds it longer is treated as
/// unreachable, and the attempt counts as failed.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends `content`, retrying while the homeserver is unreachable, for at
/// most `patience` and [`MAX_ATTEMPTS`] attempts, whichever comes first;
/// the new event's id once sent. Then it is given up with a warning that
/// names the room. Every attempt carries the same transaction id, so a
/// retry after a lost response is the same send to the homeserver rather
/// than a second message. The SDK's own retries are off: they would wait
/// up to 15 minutes on a homeserver that answers 5xx. `what` names the
/// message in the log.
pub(super) async fn send(
    room: &Room,
    content: RoomMessageEventContent,
    txn_id: OwnedTransactionId,
    patience: Duration,
    shutdown: Shutdown,
    what: &str,
) -> Option<OwnedEventId> {
    let started = Instant::now();
    let attempts = attempt(room, content, txn_id, &shutdown, what);
    match tokio::time::timeout(patience, attempts).await {
        Ok(sent) => sent,
        Err(_) => {
            tracing::warn!(room = %room.room_id(), waited = ?started.elapsed(), "gave up sending {what}: the homeserver did not take it in time");
            None
        }
    }
}

/// The attempts of [`send`], without its bound on time.
async fn attempt(
    room: &Room,
    content: RoomMessageEventContent,
    txn_id: OwnedTransactionId,
    shutdown: &Shutdown,
    what: &str,
) -> Option<OwnedEventId> {
    let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
    let config = RequestConfig::new()
        .timeout(ATTEMPT_TIMEOUT)
        .disable_retry();
    for attempt in 1..=MAX_ATTEMPTS {
        let request = room
            .send(content.clone())
            .with_transaction_id(txn_id.clone())
            .with_request_config(config);
        // An attempt under way is not cut short by a shutdown: the adapter
        // gives answers in flight a moment to finish (`super::rooms`).
        match request.await {
            Ok(sent) => return Some(sent.response.event_id),
            Err(e) if is_transient(&e) && attempt < MAX_ATTEMPTS => {
                tracing::warn!(room = %room.room_id(), error = %e, attempt, "cannot send {what} yet; retrying");
                // A rate-limited bot waits as long as the homeserver asks
                // (the bound on time still holds).
                let delay = backoff.next_delay().max(retry_after(&e));
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = shutdown.requested() => return None,
                }
            }
            Err(e) if is_transient(&e) => {
                tracing::warn!(room = %room.room_id(), error = %e, "gave up sending {what} after {MAX_ATTEMPTS} attempts");
            }
            Err(e) => {
                tracing::warn!(room = %room.room_id(), error = %e, "cannot send {what}");
                return None;
            }
        }
    }
    None
}

/// How long a 429 asks the client to wait; zero for other errors.
fn retry_after(error: &matrix_sdk::Error) -> Duration {
    match error.client_api_error_kind() {
        Some(ErrorKind::LimitExceeded(limit)) => match limit.retry_after {
            Some(RetryAfter::Delay(delay)) => delay,
            Some(RetryAfter::DateTime(at)) => at
                .duration_since(std::time::SystemTime::now())
                .unwrap_or_default(),
            None => Duration::ZERO,
        },
        _ => Duration::ZERO,
    }
}
