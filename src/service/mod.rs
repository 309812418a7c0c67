//! The service layer: everything a chat adapter needs that is not about
//! its platform. An adapter receives a message, calls the [`Service`] once
//! ([`Service::ask`] for a question), renders what it gets back and sends
//! it; after sending an answer it calls [`Service::remember_answer`], and a
//! reaction becomes [`Service::vote`].
//!
//! Besides asking: [`moderation`] (reload and digest texts, which answers
//! a reload makes wrong), [`follower`] (one task per adapter that tells
//! moderators about reloads and corrects sent answers through a small
//! per-platform trait), [`ratelimit`], [`backoff`], [`status`] (for
//! `/healthz`), [`Platform`], [`Shutdown`], and [`cut`] (cutting text to a
//! platform's limits).
//!
//! It sits above `core`, `config`, `records` and `reload`, and below the
//! adapters; it knows no chat SDK.

pub mod backoff;
pub mod cut;
pub mod follower;
pub mod moderation;
pub mod platform;
pub mod ratelimit;
pub mod shutdown;
pub mod status;

pub use platform::Platform;
pub use shutdown::{Shutdown, StopHandle};
pub use status::AdapterStatus;

use crate::core::load;
use crate::core::{
    Answer, AskError, FactBase, Kotae, Lang, LangChoice, MAX_QUESTION_CHARS, QuestionVector, Reply,
};
use crate::embeddings::Embeddings;
use crate::records::Records;
use crate::records::feedback::Vote;
use crate::reload::ReloadReport;
use anyhow::bail;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

/// How many reload reports wait for a slow follower before the oldest are
/// dropped (the follower then checks every answer instead).
const REPORTS_QUEUED: usize = 16;

/// What every adapter shares: the core, the records, reloads and their
/// reports, connection status and the signal to stop. Cheap to clone.
#[derive(Clone)]
pub struct Service {
    /// The core, with the fact base in force.
    pub kotae: Arc<Kotae>,
    /// Connection state of each adapter, for `/healthz`.
    pub status: Arc<AdapterStatus>,
    /// The request to stop.
    pub shutdown: Shutdown,
    /// The state directory and its records; none for a console session
    /// without `--state-dir`.
    state: Option<Arc<State>>,
    /// The moderator-maintained knowledge directory, if any (for reloads).
    knowledge_dir: Option<PathBuf>,
    /// Every reload's report, for the followers.
    reloads: broadcast::Sender<Arc<ReloadReport>>,
    /// How far back a reload corrects answers already sent.
    correction_window: Duration,
    /// The semantic signal's model, when one is configured.
    embeddings: Option<Arc<Embeddings>>,
}

/// Sent answers are kept this long at least (longer if the correction window
/// is longer): a 👍 or 👎 on an older answer is not counted.
const ANSWERS_KEPT: Duration = Duration::from_secs(30 * 86_400);

/// How often old sent answers are pruned, at most.
const PRUNE_EVERY: Duration = Duration::from_secs(3_600);

/// A state directory and the records kept in it.
struct State {
    dir: PathBuf,
    records: Records,
    /// When sent answers were last pruned (none yet: at the first answer).
    pruned: std::sync::Mutex<Option<std::time::Instant>>,
}

/// A question as an adapter received it.
#[derive(Debug, Clone, Copy)]
pub struct Question<'a> {
    pub platform: Platform,
    /// Who asked, as the platform names them; records keep only a salted
    /// hash of it.
    pub asker: Option<&'a str>,
    pub text: &'a str,
    pub lang: LangChoice,
}

/// A message the bot sent, as its platform addresses it.
#[derive(Debug, Clone, Copy)]
pub struct SentMessage<'a> {
    pub platform: Platform,
    /// The room or channel.
    pub room: &'a str,
    pub message: &'a str,
}

impl Service {
    /// A service that keeps records in `state_dir`.
    pub fn open(
        kotae: Arc<Kotae>,
        state_dir: &Path,
        shutdown: Shutdown,
    ) -> anyhow::Result<Service> {
        let records = Records::open(state_dir)
            .map_err(|e| anyhow::anyhow!("cannot open records in {}: {e}", state_dir.display()))?;
        let state = State {
            dir: state_dir.to_path_buf(),
            records,
            pruned: Default::default(),
        };
        Ok(Service::new(kotae, Some(state), shutdown))
    }

    /// A service that records nothing (`kotae chat` without `--state-dir`).
    pub fn without_records(kotae: Arc<Kotae>, shutdown: Shutdown) -> Service {
        Service::new(kotae, None, shutdown)
    }

    fn new(kotae: Arc<Kotae>, state: Option<State>, shutdown: Shutdown) -> Service {
        Service {
            kotae,
            status: Arc::default(),
            shutdown,
            state: state.map(Arc::new),
            knowledge_dir: None,
            reloads: broadcast::channel(REPORTS_QUEUED).0,
            correction_window: crate::config::days(crate::config::DEFAULT_CORRECTION_WINDOW_DAYS),
            embeddings: None,
        }
    }

    /// Matches with the semantic signal too. The fact base is embedded in
    /// the background now and after every reload; until it is, and whenever
    /// the model is unavailable, questions are answered lexically.
    pub fn with_embeddings(mut self, embeddings: Option<Arc<Embeddings>>) -> Service {
        if let Some(e) = &embeddings {
            e.follow(self.kotae.snapshot());
        }
        self.embeddings = embeddings;
        self
    }

    /// The semantic signal's model, if any (for `/healthz`).
    pub fn embeddings(&self) -> Option<&Arc<Embeddings>> {
        self.embeddings.as_ref()
    }

    /// Corrections reach answers sent within `window` (zero: none).
    pub fn with_correction_window(mut self, window: Duration) -> Service {
        self.correction_window = window;
        self
    }

    /// Shares a status board (the one `/healthz` reads).
    pub fn with_status(mut self, status: Arc<AdapterStatus>) -> Service {
        self.status = status;
        self
    }

    /// Reloads come from `dir`, a moderator-maintained knowledge directory.
    pub fn with_knowledge_dir(mut self, dir: Option<PathBuf>) -> Service {
        self.knowledge_dir = dir;
        self
    }

    /// The records, when the service keeps any.
    pub fn records(&self) -> Option<&Records> {
        self.state.as_ref().map(|s| &s.records)
    }

    /// The state directory, when the service keeps records.
    pub fn state_dir(&self) -> Option<&Path> {
        self.state.as_ref().map(|s| s.dir.as_path())
    }

    /// Answers a question: the core's reply, counted in the metrics, and a
    /// decline recorded for the moderators (`kotae unanswered`).
    pub async fn ask(&self, question: Question<'_>) -> Result<Reply, AskError> {
        let started = Instant::now();
        let vector = self.question_vector(question.text).await;
        if self.embeddings.is_some() {
            let mode = if vector.is_some() {
                "hybrid"
            } else {
                "lexical"
            };
            metrics::counter!("kotae_questions_matched_total", "mode" => mode).increment(1);
        }
        let reply = match vector {
            Some((facts, vector)) => {
                let vector = QuestionVector {
                    facts: &facts,
                    question: &vector,
                };
                self.kotae
                    .ask_with(question.text, question.lang, Some(vector))?
            }
            None => self.kotae.ask(question.text, question.lang)?,
        };
        count_question(question.platform, &reply, started.elapsed());
        if let Some(records) = self.records()
            && let Err(e) =
                records
                    .unanswered
                    .record(question.platform.as_str(), question.asker, &reply)
        {
            tracing::warn!("cannot record an unanswered question: {e}");
        }
        Ok(reply)
    }

    /// The fact base's vectors and the question's, when the semantic signal
    /// is on and answers in time; a text the core would refuse is not sent.
    async fn question_vector(
        &self,
        text: &str,
    ) -> Option<(Arc<crate::core::semantic::FactVectors>, Vec<f32>)> {
        let embeddings = self.embeddings.as_ref()?;
        let text = text.trim();
        if text.is_empty() || text.chars().count() > MAX_QUESTION_CHARS {
            return None;
        }
        let snapshot = self.kotae.snapshot();
        let Some(facts) = embeddings.vectors_for(&snapshot) else {
            // A reload swapped the base: embed the new one for what follows.
            embeddings.follow(snapshot);
            return None;
        };
        Some((facts, embeddings.question(text).await?))
    }

    /// Records that `sent` answered from `answer`'s fact, so a 👍/👎 on it
    /// counts for that fact and a reload that changes the fact corrects it.
    /// A failure costs only those, so it is logged, not returned.
    pub fn remember_answer(&self, sent: SentMessage<'_>, answer: &Answer, lang: Lang) {
        let Some(records) = self.records() else {
            return;
        };
        let recorded = records.answers.record(
            sent.platform.as_str(),
            sent.room,
            sent.message,
            &answer.fact_id,
            &answer.text,
            lang,
        );
        if let Err(e) = recorded {
            tracing::warn!("cannot record a sent answer; it cannot be corrected: {e}");
        }
        self.prune_answers();
    }

    /// Forgets sent answers too old to be corrected or voted on, at most
    /// once every [`PRUNE_EVERY`], so the table stays the size of the window.
    fn prune_answers(&self) {
        let Some(state) = &self.state else {
            return;
        };
        {
            let mut pruned = state.pruned.lock().unwrap_or_else(|e| e.into_inner());
            if pruned.is_some_and(|at| at.elapsed() < PRUNE_EVERY) {
                return;
            }
            *pruned = Some(std::time::Instant::now());
        }
        let keep = self.correction_window.max(ANSWERS_KEPT).as_secs();
        match state.records.answers.prune(keep) {
            Ok(0) => {}
            Ok(n) => tracing::debug!("forgot {n} sent answers older than {keep} s"),
            Err(e) => tracing::warn!("cannot prune old sent answers: {e}"),
        }
    }

    /// Counts `voter`'s reaction on `on` as a vote on its fact, if the
    /// reaction is a 👍 or 👎 and `on` is a recorded answer. Returns the
    /// fact voted on. The caller leaves out the bot's own reactions.
    pub fn vote(&self, on: SentMessage<'_>, voter: &str, reaction: &str) -> Option<String> {
        let vote = Vote::from_reaction(reaction)?;
        let records = self.records()?;
        let platform = on.platform.as_str();
        // One indexed lookup in the records database.
        let sent = match records.answers.find(platform, on.room, on.message) {
            Ok(sent) => sent?,
            Err(e) => {
                tracing::warn!("cannot read the sent answers; a vote is lost: {e}");
                return None;
            }
        };
        let recorded = records
            .feedback
            .record(platform, voter, &sent.fact, &sent.revision, vote);
        if let Err(e) = recorded {
            tracing::warn!("cannot record a vote: {e}");
            return None;
        }
        tracing::debug!(fact = %sent.fact, ?vote, "vote recorded");
        Some(sent.fact)
    }

    /// Watches the knowledge directory (if any): every settled edit is
    /// reloaded, logged and sent to the followers. Dropping the returned
    /// watch stops it.
    pub fn watch_knowledge(&self) -> anyhow::Result<Option<crate::reload::Watch>> {
        let Some(dir) = &self.knowledge_dir else {
            return Ok(None);
        };
        let reloads = self.reloads.clone();
        let watch = crate::reload::watch(self.kotae.clone(), dir.clone(), move |report| {
            crate::reload::log(&report);
            if report != ReloadReport::Unchanged {
                let _ = reloads.send(Arc::new(report));
            }
        })?;
        Ok(Some(watch))
    }

    /// Reloads the knowledge directory now and tells the followers. None
    /// when the bot runs on the built-in base.
    pub fn reload(&self) -> Option<Arc<ReloadReport>> {
        let dir = self.knowledge_dir.as_ref()?;
        let report = Arc::new(crate::reload::reload(&self.kotae, dir));
        crate::reload::log(&report);
        self.publish(report.clone());
        Some(report)
    }

    /// Sends a report to every follower, as a reload does.
    pub fn publish(&self, report: Arc<ReloadReport>) {
        let _ = self.reloads.send(report);
    }
}

/// Counts one answered or declined question and how long matching took.
fn count_question(platform: Platform, reply: &Reply, elapsed: Duration) {
    let outcome = if reply.answer().is_some() {
        "answered"
    } else {
        "declined"
    };
    metrics::counter!("kotae_questions_total", "platform" => platform.as_str(), "lang" => reply.lang.code(), "outcome" => outcome).increment(1);
    metrics::histogram!("kotae_match_seconds").record(elapsed.as_secs_f64());
}

/// The semantic signal's model as `config` describes it (None when no URL
/// is set), caching vectors in `cache_dir` when given.
pub fn open_embeddings(
    config: &crate::config::EmbeddingsConfig,
    cache_dir: Option<&Path>,
) -> anyhow::Result<Option<Arc<Embeddings>>> {
    let Some(url) = &config.url else {
        return Ok(None);
    };
    let settings = crate::embeddings::Settings {
        url: url.clone(),
        model: config.model.clone(),
        key: config.key.as_ref().map(|k| k.expose().trim().to_string()),
        question_timeout: config.timeout_ms.map_or(
            crate::embeddings::DEFAULT_QUESTION_TIMEOUT,
            Duration::from_millis,
        ),
    };
    let embeddings = Embeddings::new(settings, cache_dir)
        .map_err(|e| anyhow::anyhow!("`embeddings.url` (KOTAE_EMBEDDINGS_URL): {e}"))?;
    Ok(Some(Arc::new(embeddings)))
}

/// Loads a knowledge directory, or the built-in base when none is given,
/// with every error in one message.
pub fn load_base(dir: Option<&Path>) -> anyhow::Result<FactBase> {
    let loaded = match dir {
        Some(dir) => {
            if !dir.is_dir() {
                bail!(
                    "knowledge directory {} does not exist or is not a directory",
                    dir.display()
                );
            }
            load::load_dir(dir)
        }
        None => load::load_embedded(),
    };
    match loaded {
        Ok(loaded) => Ok(loaded.base),
        Err(diags) => {
            let where_ = dir.map_or("the built-in fact base".to_string(), |d| {
                d.display().to_string()
            });
            let list: Vec<String> = diags.iter().map(|d| format!("  {d}")).collect();
            bail!(
                "{where_} has errors; run `kotae check` for details:\n{}",
                list.join("\n")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Outcome;

    fn service(dir: &Path) -> Service {
        let base = load_base(None).unwrap();
        Service::open(Arc::new(Kotae::new(base)), dir, Shutdown::new().1).unwrap()
    }

    #[tokio::test]
    async fn asking_records_declines_and_votes_count_only_on_remembered_answers() {
        let dir = tempfile::tempdir().unwrap();
        let service = service(dir.path());
        let question = |text| Question {
            platform: Platform::Matrix,
            asker: Some("@a:x"),
            text,
            lang: LangChoice::Detect,
        };
        let declined = service
            .ask(question("What is the weather on Mars?"))
            .await
            .unwrap();
        assert!(matches!(declined.outcome, Outcome::Decline { .. }));
        let unanswered = crate::records::unanswered::read(dir.path()).unwrap();
        assert_eq!(unanswered.len(), 1);
        assert_eq!(unanswered[0].platform, "matrix");

        let reply = service
            .ask(question("Who announced the closure of the Japan Centers?"))
            .await
            .unwrap();
        let answer = reply.answer().expect("an answer");
        let sent = SentMessage {
            platform: Platform::Matrix,
            room: "!r:x",
            message: "$answer",
        };
        assert_eq!(service.vote(sent, "@a:x", "👎"), None, "not remembered yet");
        service.remember_answer(sent, answer, reply.lang);
        assert_eq!(service.vote(sent, "@a:x", "🎉"), None, "not a vote");
        let elsewhere = SentMessage {
            room: "!other:x",
            ..sent
        };
        assert_eq!(service.vote(elsewhere, "@b:x", "👎"), None);
        assert_eq!(
            service.vote(sent, "@a:x", "👎🏿"),
            Some(answer.fact_id.clone())
        );
        let summary = crate::records::feedback::summary(dir.path()).unwrap();
        assert_eq!(summary.get(&answer.fact_id), Some(&(0, 1)));
    }

    #[tokio::test]
    async fn without_records_questions_are_still_answered() {
        let base = load_base(None).unwrap();
        let service = Service::without_records(Arc::new(Kotae::new(base)), Shutdown::new().1);
        let reply = service
            .ask(Question {
                platform: Platform::Console,
                asker: None,
                text: "Where were the Japan Centers?",
                lang: LangChoice::Detect,
            })
            .await
            .unwrap();
        assert!(reply.answer().is_some());
        assert!(service.state_dir().is_none());
    }

    #[test]
    fn a_missing_knowledge_directory_is_named() {
        let error = load_base(Some(Path::new("/no/such/kotae-dir"))).unwrap_err();
        assert!(error.to_string().contains("/no/such/kotae-dir"), "{error}");
    }
}
