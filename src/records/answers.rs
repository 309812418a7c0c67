//! Which message answered with which fact and revision, so that when a
//! reload changes a fact, its recent answers can be corrected in place.

use super::{Store, now};
use crate::core::Lang;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;

/// The JSON-lines file of earlier versions, imported once into the database.
pub const FILE: &str = "answers.jsonl";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentAnswer {
    pub time: u64,
    pub platform: String,
    /// The room or channel.
    pub room: String,
    pub message: String,
    pub fact: String,
    /// A hash of the answer text sent, so an unchanged answer is not edited.
    pub revision: String,
    pub lang: Lang,
}

/// The sent answers of a state directory: a reaction or a reload looks up
/// the latest answer a message carries.
pub struct AnswerLog {
    store: Arc<Store>,
}

impl AnswerLog {
    pub fn open(state_dir: &Path) -> std::io::Result<AnswerLog> {
        Ok(AnswerLog::new(Arc::new(Store::open(state_dir)?)))
    }

    pub(super) fn new(store: Arc<Store>) -> AnswerLog {
        AnswerLog { store }
    }

    pub fn record(
        &self,
        platform: &str,
        room: &str,
        message: &str,
        fact: &str,
        text: &str,
        lang: Lang,
    ) -> std::io::Result<()> {
        let sent = SentAnswer {
            time: now(),
            platform: platform.to_string(),
            room: room.to_string(),
            message: message.to_string(),
            fact: fact.to_string(),
            revision: text_revision(text),
            lang,
        };
        self.store.add_answer(&sent)
    }

    /// The latest record of one sent message, to tell which fact a reaction
    /// to it is about.
    pub fn find(
        &self,
        platform: &str,
        room: &str,
        message: &str,
    ) -> std::io::Result<Option<SentAnswer>> {
        self.store.answer(platform, room, message)
    }

    /// Forgets the answers sent more than `keep` seconds ago: a reaction to
    /// them no longer counts and a reload no longer corrects them. Returns
    /// how many were forgotten.
    pub fn prune(&self, keep: u64) -> std::io::Result<usize> {
        self.store.prune_answers(now().saturating_sub(keep))
    }

    /// The latest record of each message of `platform` sent within `window`
    /// seconds whose fact is in `facts`, oldest first.
    pub fn recent(
        &self,
        platform: &str,
        facts: &[String],
        window: u64,
    ) -> std::io::Result<Vec<SentAnswer>> {
        let since = now().saturating_sub(window);
        let mut out = self.store.answers_since(platform, since)?;
        out.retain(|a| facts.contains(&a.fact));
        Ok(out)
    }
}

/// A short hash of an answer's text.
pub fn text_revision(text: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes())
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_answers_are_found_by_fact_and_the_latest_record_wins() {
        let dir = tempfile::tempdir().unwrap();
        let log = AnswerLog::open(dir.path()).unwrap();
        log.record("matrix", "!room", "$1", "impact", "old", Lang::En)
            .unwrap();
        log.record("matrix", "!room", "$2", "funding", "x", Lang::En)
            .unwrap();
        log.record("matrix", "!room", "$1", "impact", "new", Lang::En)
            .unwrap();
        log.record("discord", "1", "2", "impact", "old", Lang::Ja)
            .unwrap();
        let recent = log.recent("matrix", &["impact".to_string()], 3600).unwrap();
        assert_eq!(recent.len(), 1);
        assert_eq!(recent[0].revision, text_revision("new"));
        let found = log.find("matrix", "!room", "$1").unwrap().unwrap();
        assert_eq!(found.revision, text_revision("new"));
        assert_eq!(log.find("matrix", "!room", "$3").unwrap(), None);
        // Reopened, the log knows what the database says.
        drop(log);
        let log = AnswerLog::open(dir.path()).unwrap();
        assert_eq!(log.find("matrix", "!room", "$1").unwrap(), Some(found));
    }

    #[test]
    fn pruning_forgets_only_answers_older_than_what_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let log = AnswerLog::open(dir.path()).unwrap();
        let old = SentAnswer {
            time: now() - 40 * 86_400,
            platform: "matrix".into(),
            room: "!room".into(),
            message: "$old".into(),
            fact: "impact".into(),
            revision: text_revision("old"),
            lang: Lang::En,
        };
        log.store.add_answer(&old).unwrap();
        log.record("matrix", "!room", "$new", "impact", "new", Lang::En)
            .unwrap();
        assert_eq!(log.prune(30 * 86_400).unwrap(), 1);
        assert_eq!(log.find("matrix", "!room", "$old").unwrap(), None);
        assert!(log.find("matrix", "!room", "$new").unwrap().is_some());
        assert_eq!(log.prune(30 * 86_400).unwrap(), 0);
    }
}
