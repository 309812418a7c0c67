//! The platform-neutral half of the moderators' workflow, shared by the
//! adapters: which earlier answers a reload must correct, the text of a
//! chat `reload`, and the log line for a refused moderator command. Who
//! counts as a moderator is the platform's business and lives in each
//! adapter.

use super::Context;
use crate::core::Correction;
use crate::records::answers::{SentAnswer, text_revision};
use crate::reload::{Changes, ReloadReport};

/// How many groups of unanswered questions `!unanswered` and `/unanswered` show.
pub const UNANSWERED_TOP: usize = 10;

/// An answer the bot sent that no longer says what its fact says.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingCorrection {
    pub sent: SentAnswer,
    pub correction: Correction,
}

impl PendingCorrection {
    /// Records that the edit went out, so the same change is never applied
    /// twice (after a restart, or when a later reload touches the fact again).
    pub fn done(&self, ctx: &Context) {
        let s = &self.sent;
        metrics::counter!("kotae_corrections_total", "platform" => s.platform.clone()).increment(1);
        let text = revision_text(&self.correction);
        if let Err(e) =
            ctx.records
                .answers
                .record(&s.platform, &s.room, &s.message, &s.fact, text, s.lang)
        {
            tracing::warn!(error = %e, "cannot record a corrected answer");
        }
    }
}

/// A withdrawn answer's "text", for its revision hash.
const WITHDRAWN: &str = "\0withdrawn";

fn revision_text(correction: &Correction) -> &str {
    match correction {
        Correction::Updated(answer) => &answer.text,
        Correction::Withdrawn => WITHDRAWN,
    }
}

/// The answers `platform` sent within the correction window whose fact's
/// answer changed, was retracted or was removed by `changes`.
pub fn corrections(ctx: &Context, platform: &str, changes: &Changes) -> Vec<PendingCorrection> {
    let facts: Vec<String> = changes
        .answers_changed
        .iter()
        .chain(&changes.removed)
        .cloned()
        .collect();
    if facts.is_empty() || ctx.correction_window.is_zero() {
        return Vec::new();
    }
    let window = ctx.correction_window.as_secs();
    let sent = match ctx.records.answers.recent(platform, &facts, window) {
        Ok(sent) => sent,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read sent answers; no corrections");
            return Vec::new();
        }
    };
    let snapshot = ctx.kotae.snapshot();
    sent.into_iter()
        .filter_map(|sent| {
            let correction = snapshot.correction(&sent.fact, sent.lang);
            (text_revision(revision_text(&correction)) != sent.revision)
                .then_some(PendingCorrection { sent, correction })
        })
        .collect()
}

/// Reloads now and says what happened, for a moderator's `reload` command.
pub fn reload_text(ctx: &Context) -> String {
    match ctx.reload() {
        Some(report) => report.to_string(),
        None => "There is nothing to reload: this bot serves its built-in fact base \
                 (set `knowledge` to a directory to edit facts live)."
            .to_string(),
    }
}

/// Whether a reload report is worth a message in the moderators' room.
pub fn worth_telling(report: &ReloadReport) -> bool {
    !matches!(report, ReloadReport::Unchanged)
}

/// The moderators' digest of unanswered questions and disliked answers.
pub fn unanswered_text(ctx: &Context) -> String {
    crate::records::unanswered::digest(&ctx.state_dir, UNANSWERED_TOP)
        .unwrap_or_else(|e| format!("Cannot read the unanswered questions: {e}"))
}

/// Logs a moderator command refused to someone who is not a moderator.
pub fn log_refused(platform: &str, user: &str, command: &str) {
    tracing::warn!(
        platform,
        user,
        command,
        "moderator command refused: not a moderator"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{Kotae, Lang};
    use std::sync::Arc;

    fn context(dir: &std::path::Path) -> Context {
        let base = crate::core::load::load_embedded().unwrap().base;
        let (_stop, shutdown) = tokio::sync::watch::channel(false);
        Context::new(Arc::new(Kotae::new(base)), dir.to_path_buf(), shutdown).unwrap()
    }

    #[test]
    fn only_answers_whose_text_differs_are_corrected() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = context(dir.path());
        let snapshot = ctx.kotae.snapshot();
        let fact = &snapshot.base.facts()[0].id;
        let now = snapshot.answer(fact, Lang::En).unwrap().text;
        let answers = &ctx.records.answers;
        answers
            .record("matrix", "!r", "$old", fact, "old text", Lang::En)
            .unwrap();
        answers
            .record("matrix", "!r", "$cur", fact, &now, Lang::En)
            .unwrap();
        answers
            .record("discord", "1", "2", fact, "old text", Lang::En)
            .unwrap();
        let changes = Changes {
            answers_changed: vec![fact.clone()],
            ..Changes::default()
        };
        let pending = corrections(&ctx, "matrix", &changes);
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].sent.message, "$old");
        assert!(matches!(&pending[0].correction, Correction::Updated(a) if a.text == now));
        pending[0].done(&ctx);
        assert!(corrections(&ctx, "matrix", &changes).is_empty());
    }

    #[test]
    fn answers_from_a_removed_fact_are_withdrawn() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = context(dir.path());
        let answers = &ctx.records.answers;
        answers
            .record("matrix", "!r", "$1", "gone", "text", Lang::Ja)
            .unwrap();
        let changes = Changes {
            removed: vec!["gone".to_string()],
            ..Changes::default()
        };
        let pending = corrections(&ctx, "matrix", &changes);
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].correction, Correction::Withdrawn);
    }
}
