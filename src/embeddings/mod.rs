//! The semantic signal's outside half: a sentence-embedding model served
//! over the OpenAI-compatible API ([`client`]), the fact base's vectors
//! made once per reload and cached on disk ([`cache`]), and one embedding
//! call per question.
//!
//! It never stands between a member and an answer: when the server is slow
//! (past the question timeout) or down, the question is answered lexically
//! at once, the outage is logged once and counted, and [`Embeddings::health`]
//! says "degraded" until a call succeeds again. It sits above `core` only.

pub mod cache;
pub mod client;

use crate::core::semantic::{self, FactVectors, TextKind};
use crate::core::{Snapshot, focus};
use arc_swap::ArcSwapOption;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

pub use client::{Client, Error};

/// How long a question waits for its vector, unless configured.
pub const DEFAULT_QUESTION_TIMEOUT: Duration = Duration::from_millis(300);
/// How long one batch of the fact base's texts may take.
const BATCH_TIMEOUT: Duration = Duration::from_secs(60);
/// Texts per request when embedding the fact base.
const BATCH: usize = 32;
/// After a failure, questions go lexical without trying for this long, so
/// a hung server costs one timeout, not one per question.
const RETRY_AFTER: Duration = Duration::from_secs(5);

/// Where the model is and how to talk to it.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The API's base URL, ending in `/v1`.
    pub url: String,
    pub model: Option<String>,
    /// A bearer token, for hosted APIs.
    pub key: Option<String>,
    /// How long a question waits for its vector.
    pub question_timeout: Duration,
}

/// The semantic signal's state, for `/healthz`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// The fact base is being embedded; questions are answered lexically.
    Preparing,
    /// Questions are answered with both signals.
    Ready,
    /// The last call failed: questions are answered lexically.
    Degraded { since: SystemTime, error: String },
}

/// The model, the fact base's vectors and the state of the link.
pub struct Embeddings {
    client: Client,
    /// The cache key's model part: the configured model, or the URL.
    model_key: String,
    question_timeout: Duration,
    cache: Option<cache::Cache>,
    vectors: ArcSwapOption<FactVectors>,
    /// The snapshot being embedded in the background (0: none).
    preparing: AtomicU64,
    link: Mutex<Link>,
}

#[derive(Default)]
struct Link {
    /// Since when, and why, calls fail (None: they work).
    down: Option<(SystemTime, String)>,
    /// No question tries the server before this.
    retry_at: Option<Instant>,
}

impl Embeddings {
    /// A link to the model; vectors are cached in `cache_dir` when given.
    /// A cache that cannot be opened is logged and done without.
    pub fn new(settings: Settings, cache_dir: Option<&Path>) -> Result<Embeddings, Error> {
        let client = Client::new(&settings.url, settings.model.clone(), settings.key)?;
        let cache = cache_dir.and_then(|dir| match cache::Cache::open(dir) {
            Ok(cache) => Some(cache),
            Err(e) => {
                tracing::warn!("embeddings cache unavailable, vectors will not be kept: {e}");
                None
            }
        });
        Ok(Embeddings {
            client,
            model_key: settings.model.unwrap_or(settings.url),
            question_timeout: settings.question_timeout,
            cache,
            vectors: ArcSwapOption::empty(),
            preparing: AtomicU64::new(0),
            link: Mutex::default(),
        })
    }

    /// The vectors of `snapshot`, if they are ready.
    pub fn vectors_for(&self, snapshot: &Snapshot) -> Option<Arc<FactVectors>> {
        self.vectors
            .load_full()
            .filter(|v| v.snapshot() == snapshot.id)
    }

    /// Embeds `snapshot`'s fact base (only texts not in the cache) and makes
    /// its vectors current. Returns how many texts were sent to the model.
    pub async fn prepare(&self, snapshot: &Snapshot) -> Result<usize, Error> {
        let texts = semantic::fact_texts(&snapshot.base);
        let mut vectors: Vec<Option<Vec<f32>>> = texts
            .iter()
            .map(|t| {
                self.cache
                    .as_ref()
                    .and_then(|c| c.get(&self.model_key, t.kind, &t.text))
            })
            .collect();
        let mut sent = 0;
        for kind in [TextKind::Query, TextKind::Passage] {
            let missing: Vec<usize> = (0..texts.len())
                .filter(|&i| vectors[i].is_none() && texts[i].kind == kind)
                .collect();
            for batch in missing.chunks(BATCH) {
                let inputs: Vec<&str> = batch.iter().map(|&i| texts[i].text.as_str()).collect();
                let made = self.call(&inputs, kind, BATCH_TIMEOUT).await?;
                sent += inputs.len();
                self.store(kind, &inputs, &made);
                for (&i, v) in batch.iter().zip(made) {
                    vectors[i] = Some(v);
                }
            }
        }
        let vectors: Vec<Vec<f32>> = vectors.into_iter().flatten().collect();
        let made = FactVectors::new(snapshot.id, snapshot.base.facts().len(), &texts, vectors)
            .map_err(|e| Error::Malformed(e.to_string()))?;
        self.vectors.store(Some(Arc::new(made)));
        Ok(sent)
    }

    /// Starts embedding `snapshot` in the background unless its vectors are
    /// ready or already on their way.
    pub fn follow(self: &Arc<Self>, snapshot: Arc<Snapshot>) {
        if self.vectors_for(&snapshot).is_some()
            || self.preparing.swap(snapshot.id, Ordering::AcqRel) == snapshot.id
        {
            return;
        }
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let started = Instant::now();
            // A failure is logged by `call`; the next question tries again.
            if let Ok(sent) = this.prepare(&snapshot).await {
                tracing::info!(
                    "fact base embedded: {sent} new texts in {:.1} s",
                    started.elapsed().as_secs_f64()
                );
            }
            let _ = this.preparing.compare_exchange(
                snapshot.id,
                0,
                Ordering::AcqRel,
                Ordering::Relaxed,
            );
        });
    }

    /// A question's vector, or None (answer lexically) when the server is
    /// down, slow or recently failed. The model reads the message as the
    /// matcher does ([`focus::read`]): what was quoted, then what was asked,
    /// without the clauses the member set aside.
    pub async fn question(&self, text: &str) -> Option<Vec<f32>> {
        let waiting = self
            .link
            .lock()
            .ok()?
            .retry_at
            .is_some_and(|at| Instant::now() < at);
        if waiting {
            metrics::counter!("kotae_embeddings_skipped_total").increment(1);
            return None;
        }
        let text = focus::read(text).text();
        self.call(&[&text], TextKind::Query, self.question_timeout)
            .await
            .ok()?
            .pop()
    }

    /// Vectors for many questions at once (for `kotae eval`), in batches,
    /// without the question timeout; one failure fails them all. Each is
    /// read as [`Embeddings::question`] reads one.
    pub async fn questions(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, Error> {
        let read: Vec<String> = texts.iter().map(|t| focus::read(t).text()).collect();
        let read: Vec<&str> = read.iter().map(String::as_str).collect();
        let mut out = Vec::with_capacity(texts.len());
        for batch in read.chunks(BATCH) {
            out.extend(self.call(batch, TextKind::Query, BATCH_TIMEOUT).await?);
        }
        Ok(out)
    }

    /// One request, with its outcome kept for [`Embeddings::health`]:
    /// an outage is logged when it starts and when it ends, not per call.
    async fn call(
        &self,
        texts: &[&str],
        kind: TextKind,
        timeout: Duration,
    ) -> Result<Vec<Vec<f32>>, Error> {
        let result = self.client.embed(texts, kind, timeout).await;
        let mut link = self.link.lock().unwrap_or_else(|e| e.into_inner());
        match &result {
            Ok(_) => {
                metrics::counter!("kotae_embeddings_texts_total").increment(texts.len() as u64);
                if let Some((since, _)) = link.down.take() {
                    let minutes = since.elapsed().unwrap_or_default().as_secs() / 60;
                    tracing::info!(
                        "embeddings server back after {minutes} min: hybrid matching again"
                    );
                }
                link.retry_at = None;
            }
            Err(e) => {
                metrics::counter!("kotae_embeddings_failures_total", "reason" => e.kind())
                    .increment(1);
                if link.down.is_none() {
                    tracing::warn!(
                        "embeddings server unavailable ({e}): answering lexically until it is back"
                    );
                    link.down = Some((SystemTime::now(), e.to_string()));
                }
                link.retry_at = Some(Instant::now() + RETRY_AFTER);
            }
        }
        metrics::gauge!("kotae_embeddings_degraded").set(f64::from(u8::from(link.down.is_some())));
        result
    }

    fn store(&self, kind: TextKind, texts: &[&str], vectors: &[Vec<f32>]) {
        let Some(cache) = &self.cache else { return };
        let items: Vec<(&str, &[f32])> = texts
            .iter()
            .copied()
            .zip(vectors.iter().map(Vec::as_slice))
            .collect();
        if let Err(e) = cache.put(&self.model_key, kind, &items) {
            tracing::warn!("cannot keep vectors in the embeddings cache: {e}");
        }
    }

    /// The state of the semantic signal for `snapshot`.
    pub fn health(&self, snapshot: &Snapshot) -> Health {
        let link = self.link.lock().unwrap_or_else(|e| e.into_inner());
        match (&link.down, self.vectors_for(snapshot)) {
            (Some((since, error)), _) => Health::Degraded {
                since: *since,
                error: error.clone(),
            },
            (None, Some(_)) => Health::Ready,
            (None, None) => Health::Preparing,
        }
    }

    /// How many vectors the cache holds (0 without one).
    pub fn cached(&self) -> usize {
        self.cache.as_ref().map_or(0, cache::Cache::len)
    }
}
