//! The platform-neutral half of the moderators' workflow: which earlier
//! answers a reload must correct, the text of a chat `reload`, the digest
//! of unanswered questions, and the log line for a refused moderator
//! command. Who counts as a moderator is the platform's business and lives
//! in each adapter.

use super::{Platform, Service};
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
    pub fn done(&self, service: &Service) {
        let s = &self.sent;
        metrics::counter!("kotae_corrections_total", "platform" => s.platform.clone()).increment(1);
        let Some(records) = service.records() else {
            return;
        };
        let text = revision_text(&self.correction);
        if let Err(e) =
            records
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

/// Whether a reload report is worth a message in the moderators' room.
pub fn worth_telling(report: &ReloadReport) -> bool {
    !matches!(report, ReloadReport::Unchanged)
}

/// Logs a moderator command refused to someone who is not a moderator.
pub fn log_refused(platform: Platform, user: &str, command: &str) {
    tracing::warn!(
        platform = platform.as_str(),
        user,
        command,
        "moderator command refused: not a moderator"
    );
}

impl Service {
    /// The answers `platform` sent within the correction window whose fact's
    /// answer changed, was retracted or was removed by `changes`. The sent
    /// answers are held in memory, so this does no file work.
    pub fn corrections(&self, platform: Platform, changes: &Changes) -> Vec<PendingCorrection> {
        let facts: Vec<String> = changes
            .answers_changed
            .iter()
            .chain(&changes.removed)
            .cloned()
            .collect();
        let Some(records) = self.records() else {
            return Vec::new();
        };
        if facts.is_empty() || self.correction_window.is_zero() {
            return Vec::new();
        }
        let window = self.correction_window.as_secs();
        let sent = match records.answers.recent(platform.as_str(), &facts, window) {
            Ok(sent) => sent,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read sent answers; no corrections");
                return Vec::new();
            }
        };
        let snapshot = self.kotae.snapshot();
        sent.into_iter()
            .filter_map(|sent| {
                let correction = snapshot.correction(&sent.fact, sent.lang);
                (text_revision(revision_text(&correction)) != sent.revision)
                    .then_some(PendingCorrection { sent, correction })
            })
            .collect()
    }

    /// Reloads now and says what happened, for a moderator's `reload`
    /// command. Loading and indexing a large base takes seconds, so it runs
    /// off the async workers.
    pub async fn reload_text(&self) -> String {
        let service = self.clone();
        let report = tokio::task::spawn_blocking(move || service.reload()).await;
        match report {
            Ok(Some(report)) => report.to_string(),
            Ok(None) => "There is nothing to reload: this bot serves its built-in fact base \
                 (set `knowledge` to a directory to edit facts live)."
                .to_string(),
            Err(e) => {
                tracing::error!(error = %e, "a reload failed");
                "The reload failed; the bot's log has the details.".to_string()
            }
        }
    }

    /// The moderators' digest of unanswered questions and disliked answers.
    /// It reads the records files, so it runs off the async workers.
    pub async fn unanswered_text(&self) -> String {
        let Some(dir) = self.state_dir().map(std::path::Path::to_path_buf) else {
            return "This bot keeps no records.".to_string();
        };
        let digest = tokio::task::spawn_blocking(move || {
            crate::records::unanswered::digest(&dir, UNANSWERED_TOP)
        })
        .await;
        match digest {
            Ok(Ok(text)) => text,
            Ok(Err(e)) => format!("Cannot read the unanswered questions: {e}"),
            Err(e) => format!("Cannot read the unanswered questions: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{Kotae, Lang};
    use crate::service::Shutdown;
    use std::sync::Arc;

    fn service(dir: &std::path::Path) -> Service {
        let base = crate::core::load::load_embedded().unwrap().base;
        Service::open(Arc::new(Kotae::new(base)), dir, Shutdown::new().1).unwrap()
    }

    #[test]
    fn only_answers_whose_text_differs_are_corrected() {
        let dir = tempfile::tempdir().unwrap();
        let service = service(dir.path());
        let snapshot = service.kotae.snapshot();
        let fact = &snapshot.base.facts()[0].id;
        let now = snapshot.answer(fact, Lang::En).unwrap().text;
        let answers = &service.records().unwrap().answers;
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
        let pending = service.corrections(Platform::Matrix, &changes);
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].sent.message, "$old");
        assert!(matches!(&pending[0].correction, Correction::Updated(a) if a.text == now));
        pending[0].done(&service);
        assert!(service.corrections(Platform::Matrix, &changes).is_empty());
    }

    #[test]
    fn answers_from_a_removed_fact_are_withdrawn() {
        let dir = tempfile::tempdir().unwrap();
        let service = service(dir.path());
        let answers = &service.records().unwrap().answers;
        answers
            .record("matrix", "!r", "$1", "gone", "text", Lang::Ja)
            .unwrap();
        let changes = Changes {
            removed: vec!["gone".to_string()],
            ..Changes::default()
        };
        let pending = service.corrections(Platform::Matrix, &changes);
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].correction, Correction::Withdrawn);
    }

    #[tokio::test]
    async fn reloading_without_a_directory_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let text = service(dir.path()).reload_text().await;
        assert!(text.contains("nothing to reload"), "{text}");
    }
}
