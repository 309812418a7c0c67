//! Members' 👍/👎 on answers, per fact, so moderators see which answers
//! people find wrong.

use super::{Hasher, Store, now};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// The JSON-lines file of earlier versions, imported once into the database.
pub const FILE: &str = "feedback.jsonl";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Vote {
    Up,
    Down,
}

impl Vote {
    /// Reads a reaction key: 👍 and 👎, with or without a skin tone.
    pub fn from_reaction(key: &str) -> Option<Vote> {
        let base: String = key
            .chars()
            .filter(|c| !('\u{1F3FB}'..='\u{1F3FF}').contains(c) && *c != '\u{FE0F}')
            .collect();
        match base.as_str() {
            "👍" | "+1" | "thumbsup" => Some(Vote::Up),
            "👎" | "-1" | "thumbsdown" => Some(Vote::Down),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feedback {
    pub time: u64,
    pub platform: String,
    pub fact: String,
    pub revision: String,
    pub vote: Vote,
    pub asker: Option<String>,
}

pub struct FeedbackLog {
    store: Arc<Store>,
    hasher: Hasher,
}

impl FeedbackLog {
    pub fn open(state_dir: &Path) -> std::io::Result<FeedbackLog> {
        let (store, hasher) = super::open_salted(state_dir)?;
        Ok(FeedbackLog::new(store, hasher))
    }

    pub(super) fn new(store: Arc<Store>, hasher: Hasher) -> FeedbackLog {
        FeedbackLog { store, hasher }
    }

    pub fn record(
        &self,
        platform: &str,
        user: &str,
        fact: &str,
        revision: &str,
        vote: Vote,
    ) -> std::io::Result<()> {
        self.store.add_feedback(&Feedback {
            time: now(),
            platform: platform.to_string(),
            fact: fact.to_string(),
            revision: revision.to_string(),
            vote,
            asker: Some(self.hasher.hash(platform, user)),
        })
    }
}

/// Votes per fact: (up, down). A member counts once per fact revision,
/// with their latest vote, so reacting to several copies of one answer (or
/// 👍 then 👎) does not stack.
pub fn summary(state_dir: &Path) -> std::io::Result<BTreeMap<String, (usize, usize)>> {
    match Store::open_existing(state_dir)? {
        Some(store) => store.vote_totals(),
        None => Ok(BTreeMap::new()),
    }
}

/// Facts with at least two 👎 and more 👎 than 👍, worst first.
pub fn disliked(state_dir: &Path) -> std::io::Result<Vec<(String, usize, usize)>> {
    let mut out: Vec<(String, usize, usize)> = summary(state_dir)?
        .into_iter()
        .filter(|(_, (up, down))| *down >= 2 && down > up)
        .map(|(f, (u, d))| (f, u, d))
        .collect();
    out.sort_by_key(|(_, up, down)| std::cmp::Reverse(down - up));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reactions_with_skin_tones_count() {
        assert_eq!(Vote::from_reaction("👍🏽"), Some(Vote::Up));
        assert_eq!(Vote::from_reaction("👎"), Some(Vote::Down));
        assert_eq!(Vote::from_reaction("🎉"), None);
    }

    #[test]
    fn votes_are_summarised_per_fact() {
        let dir = tempfile::tempdir().unwrap();
        let log = FeedbackLog::open(dir.path()).unwrap();
        for (user, vote) in [("a", Vote::Down), ("b", Vote::Down), ("c", Vote::Up)] {
            log.record("matrix", user, "impact", "r1", vote).unwrap();
        }
        log.record("discord", "a", "funding", "r1", Vote::Up)
            .unwrap();
        // "c" changes their mind, and reacts twice to the same revision.
        log.record("matrix", "c", "funding", "r1", Vote::Down)
            .unwrap();
        log.record("matrix", "c", "funding", "r1", Vote::Up)
            .unwrap();
        log.record("matrix", "c", "funding", "r1", Vote::Up)
            .unwrap();
        let s = summary(dir.path()).unwrap();
        assert_eq!(s["impact"], (1, 2));
        assert_eq!(s["funding"], (2, 0));
        assert_eq!(
            disliked(dir.path()).unwrap(),
            vec![("impact".to_string(), 1, 2)]
        );
    }
}
