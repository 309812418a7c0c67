//! Questions the bot declined, kept so moderators can see what to add next.
//! `kotae unanswered` groups them by similarity, most asked first.

use super::{Hasher, Journal, now, read_all};
use crate::core::{Lang, Outcome, Reply, text};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

pub const FILE: &str = "unanswered.jsonl";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unanswered {
    pub time: u64,
    pub platform: String,
    pub lang: Lang,
    pub question: String,
    /// A salted hash of the asker, never the raw id.
    pub asker: Option<String>,
    /// The closest facts and their scores.
    pub closest: Vec<(String, f32)>,
}

/// The declined-questions file of a state directory.
pub struct UnansweredLog {
    journal: Journal,
    hasher: Hasher,
}

impl UnansweredLog {
    pub fn open(state_dir: &Path) -> std::io::Result<UnansweredLog> {
        Ok(UnansweredLog {
            journal: Journal::open(state_dir.join(FILE))?,
            hasher: Hasher::load(state_dir)?,
        })
    }

    /// Records a reply if it is a decline; answers are not recorded here.
    pub fn record(
        &self,
        platform: &str,
        asker: Option<&str>,
        reply: &Reply,
    ) -> std::io::Result<()> {
        let Outcome::Decline { suggestions } = &reply.outcome else {
            return Ok(());
        };
        let record = Unanswered {
            time: now(),
            platform: platform.to_string(),
            lang: reply.lang,
            question: reply.question.clone(),
            asker: asker.map(|a| self.hasher.hash(platform, a)),
            closest: suggestions
                .iter()
                .filter(|s| s.score > 0.0)
                .map(|s| (s.fact_id.clone(), s.score))
                .collect(),
        };
        self.journal.append(&record)
    }
}

pub fn path(state_dir: &Path) -> PathBuf {
    state_dir.join(FILE)
}

pub fn read(state_dir: &Path) -> std::io::Result<Vec<Unanswered>> {
    read_all(&path(state_dir))
}

/// What moderators should look at next, as plain text: facts members keep
/// marking 👎, then the `top` groups of declined questions, most asked first.
/// `kotae unanswered` prints it; `!unanswered` and `/unanswered` post it.
pub fn digest(state_dir: &Path, top: usize) -> std::io::Result<String> {
    use std::fmt::Write;
    let mut out = String::new();
    let disliked = super::feedback::disliked(state_dir)?;
    if !disliked.is_empty() {
        out.push_str("Answers members keep marking 👎 (check these first):\n");
        for (fact, up, down) in &disliked {
            let _ = writeln!(out, "  {fact}: {up} 👍, {down} 👎");
        }
        out.push('\n');
    }
    let records = read(state_dir)?;
    if records.is_empty() {
        out.push_str("No unanswered questions recorded yet.\n");
        return Ok(out);
    }
    let groups = groups(&records);
    let _ = writeln!(
        out,
        "Unanswered questions, most asked first ({} in {} groups):",
        records.len(),
        groups.len()
    );
    for g in groups.iter().take(top) {
        let langs: Vec<&str> = g.langs.iter().map(|l| l.code()).collect();
        let closest = g
            .closest
            .as_deref()
            .map(|c| format!("  (closest: {c})"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {:>4}× {:>3} askers [{}] {:?}{closest}",
            g.count,
            g.askers,
            langs.join(","),
            g.example
        );
    }
    Ok(out)
}

/// Similar declined questions, counted together.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// The first wording seen.
    pub example: String,
    pub count: usize,
    pub askers: usize,
    pub langs: Vec<Lang>,
    /// The fact most often closest, if any.
    pub closest: Option<String>,
    pub last_seen: u64,
}

/// Questions whose normalised character pairs overlap this much are one group.
const SAME_GROUP: f32 = 0.5;

/// Groups records by similarity, most asked first.
pub fn groups(records: &[Unanswered]) -> Vec<Group> {
    // Each group: the character pairs of its first question, and its members.
    type Pending<'a> = (HashSet<(char, char)>, Vec<&'a Unanswered>);
    let mut groups: Vec<Pending> = Vec::new();
    for r in records {
        let pairs = char_pairs(&r.question);
        match groups
            .iter_mut()
            .find(|(g, _)| jaccard(g, &pairs) >= SAME_GROUP)
        {
            Some((_, members)) => members.push(r),
            None => groups.push((pairs, vec![r])),
        }
    }
    let mut out: Vec<Group> = groups
        .into_iter()
        .map(|(_, members)| summarise(&members))
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then(b.last_seen.cmp(&a.last_seen)));
    out
}

fn summarise(members: &[&Unanswered]) -> Group {
    let askers: HashSet<&str> = members.iter().filter_map(|r| r.asker.as_deref()).collect();
    let mut langs: Vec<Lang> = members.iter().map(|r| r.lang).collect();
    langs.sort();
    langs.dedup();
    let mut closest: Vec<&str> = members
        .iter()
        .filter_map(|r| r.closest.first().map(|c| c.0.as_str()))
        .collect();
    closest.sort();
    let most = closest
        .chunk_by(|a, b| a == b)
        .max_by_key(|run| run.len())
        .map(|run| run[0].to_string());
    Group {
        example: members[0].question.clone(),
        count: members.len(),
        askers: askers.len(),
        langs,
        closest: most,
        last_seen: members.iter().map(|r| r.time).max().unwrap_or(0),
    }
}

fn char_pairs(question: &str) -> HashSet<(char, char)> {
    let chars: Vec<char> = text::normalize(question)
        .chars()
        .filter(|c| *c != ' ')
        .collect();
    chars.windows(2).map(|w| (w[0], w[1])).collect()
}

fn jaccard(a: &HashSet<(char, char)>, b: &HashSet<(char, char)>) -> f32 {
    let union = a.union(b).count();
    if union == 0 {
        1.0
    } else {
        a.intersection(b).count() as f32 / union as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(q: &str, asker: &str) -> Unanswered {
        Unanswered {
            time: 1,
            platform: "test".into(),
            lang: Lang::En,
            question: q.into(),
            asker: Some(asker.into()),
            closest: vec![],
        }
    }

    #[test]
    fn similar_questions_group_and_the_most_asked_come_first() {
        let records = [
            record("Where is the Japanese embassy?", "a"),
            record("What's the weather in Tokyo?", "a"),
            record("where is the japanese embassy located?", "b"),
            record("Where is the Japanese embassy in Moscow?", "b"),
        ];
        let groups = groups(&records);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].count, 3);
        assert_eq!(groups[0].askers, 2);
        assert_eq!(groups[0].example, "Where is the Japanese embassy?");
        assert_eq!(groups[1].count, 1);
    }
}
