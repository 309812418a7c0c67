//! Questions the bot declined, kept so moderators can see what to add next.
//! `kotae unanswered` groups them by similarity, most asked first.

use super::{Hasher, Store, now};
use crate::core::{Lang, Outcome, Reply, text};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The JSON-lines file of earlier versions, imported once into the database.
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

/// The declined questions of a state directory.
pub struct UnansweredLog {
    store: Arc<Store>,
    hasher: Hasher,
}

impl UnansweredLog {
    pub fn open(state_dir: &Path) -> std::io::Result<UnansweredLog> {
        let (store, hasher) = super::open_salted(state_dir)?;
        Ok(UnansweredLog::new(store, hasher))
    }

    pub(super) fn new(store: Arc<Store>, hasher: Hasher) -> UnansweredLog {
        UnansweredLog { store, hasher }
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
        self.store.add_unanswered(&record)
    }
}

/// The JSON-lines file earlier versions kept; the records are now in the
/// database ([`super::store::FILE`]).
pub fn path(state_dir: &Path) -> PathBuf {
    state_dir.join(FILE)
}

/// Every declined question recorded in `state_dir`, oldest first.
pub fn read(state_dir: &Path) -> std::io::Result<Vec<Unanswered>> {
    match Store::open_existing(state_dir)? {
        Some(store) => store.unanswered(),
        None => Ok(Vec::new()),
    }
}

/// What moderators should look at next, as plain text in `lang`: facts
/// members keep marking 👎, then the `top` groups of declined questions,
/// most asked first. `kotae unanswered` prints it (in English);
/// `!unanswered` and `/unanswered` post it in the moderators' language.
pub fn digest(state_dir: &Path, top: usize, lang: Lang) -> std::io::Result<String> {
    use crate::core::messages::{self, fill};
    use std::fmt::Write;
    let m = messages::get(lang);
    let mut out = String::new();
    let disliked = super::feedback::disliked(state_dir)?;
    if !disliked.is_empty() {
        let _ = writeln!(out, "{}", m.digest_disliked);
        for (fact, up, down) in &disliked {
            let (up, down) = (up.to_string(), down.to_string());
            let votes = fill(
                m.digest_votes,
                &[("fact", fact), ("up", &up), ("down", &down)],
            );
            let _ = writeln!(out, "  {votes}");
        }
        out.push('\n');
    }
    let records = read(state_dir)?;
    if records.is_empty() {
        let _ = writeln!(out, "{}", m.digest_empty);
        return Ok(out);
    }
    let groups = groups(&records);
    let (count, group_count) = (records.len().to_string(), groups.len().to_string());
    let heading = fill(
        m.digest_heading,
        &[("count", &count), ("groups", &group_count)],
    );
    let _ = writeln!(out, "{heading}");
    for g in groups.iter().take(top) {
        let langs: Vec<&str> = g.langs.iter().map(|l| l.code()).collect();
        let closest = g
            .closest
            .as_deref()
            .map(|c| format!("  {}", fill(m.digest_closest, &[("fact", c)])))
            .unwrap_or_default();
        let askers = fill(m.digest_askers, &[("askers", &format!("{:>3}", g.askers))]);
        let _ = writeln!(
            out,
            "  {:>4}× {askers} [{}] {:?}{closest}",
            g.count,
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
///
/// Each question joins the first group whose first question shares at least
/// [`SAME_GROUP`] of their character pairs (Jaccard), or starts a group. A
/// direct comparison with every group costs questions × groups, seconds for
/// 100,000 records; instead identical wordings are taken once, and a group
/// is compared only if it shares one of the question's rarest pairs (prefix
/// filtering, which finds every group that can reach the threshold), so the
/// result is the same and the cost near linear.
pub fn groups(records: &[Unanswered]) -> Vec<Group> {
    let mut wording_of: HashMap<&str, usize> = HashMap::default();
    let mut wordings: Vec<Vec<&Unanswered>> = Vec::new();
    for r in records {
        let next = wordings.len();
        let i = *wording_of.entry(r.question.as_str()).or_insert(next);
        if i == next {
            wordings.push(Vec::new());
        }
        wordings[i].push(r);
    }
    let pairs: Vec<Vec<Pair>> = wordings
        .iter()
        .map(|members| char_pairs(&members[0].question))
        .collect();
    let rarity = PairRarity::new(&pairs);
    let mut index = GroupIndex::default();
    let mut members: Vec<Vec<&Unanswered>> = Vec::new();
    for (wording, own) in wordings.into_iter().zip(&pairs) {
        let sorted = rarity.sort(own);
        match index.find(&sorted, own) {
            Some(g) => members[g].extend(wording),
            None => {
                index.add(members.len(), &sorted, own);
                members.push(wording);
            }
        }
    }
    let mut out: Vec<Group> = members.iter().map(|m| summarise(m)).collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then(b.last_seen.cmp(&a.last_seen)));
    out
}

type Pair = (char, char);

/// How many wordings each pair occurs in, to sort pairs rarest first.
struct PairRarity(HashMap<Pair, usize>);

impl PairRarity {
    fn new(all: &[Vec<Pair>]) -> PairRarity {
        let mut counts = HashMap::default();
        for p in all.iter().flatten() {
            *counts.entry(*p).or_insert(0) += 1;
        }
        PairRarity(counts)
    }

    /// Looks each pair's count up once (a lookup per comparison was most of
    /// the digest's time), then sorts.
    fn sort(&self, pairs: &[Pair]) -> Vec<Pair> {
        let mut keyed: Vec<(usize, Pair)> = pairs
            .iter()
            .map(|p| (self.0.get(p).copied().unwrap_or(0), *p))
            .collect();
        keyed.sort_unstable();
        keyed.into_iter().map(|(_, p)| p).collect()
    }
}

/// The groups so far, found by the rarest pairs of their first question.
#[derive(Default)]
struct GroupIndex {
    by_pair: HashMap<Pair, Vec<usize>>,
    /// The first question of each group, as sorted pairs.
    firsts: Vec<Vec<Pair>>,
    /// The group of questions with no pair at all (one character).
    empty: Option<usize>,
}

impl GroupIndex {
    /// How many of a set's rarest pairs must be indexed so that any set with
    /// a Jaccard of at least 0.5 to it shares one of them.
    fn prefix(sorted: &[Pair]) -> &[Pair] {
        &sorted[..sorted.len() - sorted.len().div_ceil(2) + 1]
    }

    fn add(&mut self, group: usize, sorted: &[Pair], own: &[Pair]) {
        self.firsts.push(own.to_vec());
        if sorted.is_empty() {
            self.empty.get_or_insert(group);
            return;
        }
        for p in GroupIndex::prefix(sorted) {
            self.by_pair.entry(*p).or_default().push(group);
        }
    }

    /// The first group a question belongs to, given its pairs rarest first
    /// and in their own order.
    fn find(&self, sorted: &[Pair], own: &[Pair]) -> Option<usize> {
        if sorted.is_empty() {
            return self.empty;
        }
        let mut candidates: Vec<usize> = GroupIndex::prefix(sorted)
            .iter()
            .filter_map(|p| self.by_pair.get(p))
            .flatten()
            .copied()
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        candidates
            .into_iter()
            .find(|&g| jaccard(&self.firsts[g], own) >= SAME_GROUP)
    }
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

/// A question's distinct normalised character pairs, sorted.
fn char_pairs(question: &str) -> Vec<Pair> {
    let chars: Vec<char> = text::normalize(question)
        .chars()
        .filter(|c| *c != ' ')
        .collect();
    let mut pairs: Vec<Pair> = chars.windows(2).map(|w| (w[0], w[1])).collect();
    pairs.sort_unstable();
    pairs.dedup();
    pairs
}

/// The Jaccard similarity of two sorted, distinct lists.
fn jaccard(a: &[Pair], b: &[Pair]) -> f32 {
    let (mut i, mut j, mut both) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                both += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - both;
    if union == 0 {
        1.0
    } else {
        both as f32 / union as f32
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
