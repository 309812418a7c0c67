//! Answers that take long: Discord forgets an interaction that has no
//! response 3 s after it was created (`10062 Unknown interaction`), and an
//! answer can take longer than that when the embeddings server is slow
//! (`embeddings.timeout_ms` lets an operator wait for a model on a slow
//! machine).
//!
//! kotae does not guess in advance which questions are slow: it starts the
//! work and, if it has not finished within [`DEFER_AFTER`], acknowledges
//! the interaction with a deferred response (callback type 5, the "kotae
//! is thinking…" Discord shows), then keeps waiting. When the work is done
//! the answer replaces the deferred response (an edit of `@original`) and
//! any further pages follow it. The deferred response is public, since
//! most questions are answered; a decline or an error, which should be
//! seen only by the member, deletes it and arrives as an ephemeral
//! follow-up. Either way the interaction is acknowledged exactly once.

use super::{Ctx, Error};
use poise::serenity_prelude as serenity;
use std::time::Duration;

/// How long a command waits for its work before deferring: what it takes
/// in practice (well under 10 ms) fits many times over, and what is left of
/// Discord's 3 s covers the deferral's own trip to Discord on a slow link.
pub const DEFER_AFTER: Duration = Duration::from_millis(1500);

/// Runs `work` for a command; if it takes longer than [`DEFER_AFTER`],
/// defers the interaction (publicly) while it goes on. Returns the work's
/// result and whether the interaction was deferred.
pub async fn in_time<T>(
    ctx: Ctx<'_>,
    work: impl std::future::Future<Output = T>,
) -> Result<(T, bool), Error> {
    tokio::pin!(work);
    tokio::select! {
        done = &mut work => return Ok((done, false)),
        () = tokio::time::sleep(DEFER_AFTER) => {}
    }
    tracing::debug!(command = %ctx.command().name, "slow to answer: deferring");
    // poise notes that the interaction has its response, so anything it
    // sends from now on is a follow-up, never a second response.
    ctx.defer().await?;
    Ok((work.await, true))
}

/// Sends the pages of a deferred command: public ones replace the deferred
/// response and follow it; ephemeral ones replace it with follow-ups only
/// the member sees (a deferred response's visibility cannot change).
/// Returns the first message, when Discord says which it is.
pub async fn send(
    ctx: Ctx<'_>,
    replies: Vec<poise::CreateReply>,
    ephemeral: bool,
) -> Result<Option<serenity::Message>, Error> {
    let poise::Context::Application(app) = ctx else {
        return Ok(None);
    };
    let (http, interaction) = (ctx.serenity_context(), app.interaction);
    let mut replies = replies.into_iter();
    let mut first = None;
    if ephemeral {
        interaction.delete_response(http).await?;
    } else if let Some(reply) = replies.next() {
        let edit = reply.to_slash_initial_response_edit(serenity::EditInteractionResponse::new());
        first = Some(interaction.edit_response(http, edit).await?);
    }
    for reply in replies {
        let reply = reply.ephemeral(ephemeral);
        let followup = reply.to_slash_followup_response(Default::default());
        let sent = interaction.create_followup(http, followup).await?;
        first.get_or_insert(sent);
    }
    Ok(first)
}
