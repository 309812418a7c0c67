//! Waiting out a homeserver that is down: the rule for which errors are
//! worth a retry (with the service's backoff, as login, sync and joins
//! do), and the one way the bot sends a message (replies, reports and
//! edits alike).

use crate::service::Shutdown;
use crate::service::backoff::Backoff;
use matrix_sdk::ruma::api::error::ErrorKind;
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

/// Sends `content`, retrying while the homeserver is unreachable, for at
/// most `patience`; the new event's id once sent. Every attempt carries the
/// same transaction id, so a retry after a lost response is the same send
/// to the homeserver rather than a second message. `what` names the
/// message in the log.
pub(super) async fn send(
    room: &Room,
    content: RoomMessageEventContent,
    txn_id: OwnedTransactionId,
    patience: Duration,
    shutdown: Shutdown,
    what: &str,
) -> Option<OwnedEventId> {
    let give_up = Instant::now() + patience;
    let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
    loop {
        let sent = room
            .send(content.clone())
            .with_transaction_id(txn_id.clone())
            .await;
        match sent {
            Ok(sent) => return Some(sent.response.event_id),
            Err(e) if is_transient(&e) && Instant::now() < give_up => {
                tracing::warn!(room = %room.room_id(), error = %e, "cannot send {what} yet; retrying");
                if !backoff.wait(&shutdown).await {
                    return None;
                }
            }
            Err(e) => {
                tracing::warn!(room = %room.room_id(), error = %e, "cannot send {what}");
                return None;
            }
        }
    }
}
