//! Hot reload of a moderator-maintained knowledge directory.
//!
//! The directory (not each file) is watched, so editors that save by
//! writing a new file and renaming it over the old one are seen too. After
//! a short quiet period the whole directory is loaded and validated; a valid
//! base is swapped in atomically, an invalid one is rejected and the bot
//! keeps serving the last good base. The bot only reads the directory: what
//! a moderator saved is never touched.
//!
//! File events alone can go quiet for good: a watch follows the directory it
//! was set on, so when the path comes to name another directory (`rm -rf`
//! and copy, `mv new K`, `ln -sfn`, a parent replaced), events stop. So one
//! worker thread also checks every few seconds ([`CHECK_EVERY`]) which
//! directory the path names and a cheap fingerprint of its files (names,
//! sizes, times; nothing is read): a different directory gets a new watch,
//! a changed fingerprint a reload. Each restart of the watch is counted in
//! `kotae_reload_watcher_restarts_total`, and [`Health`] (shown by
//! `/healthz`) tells when the base last loaded and what last went wrong.

use crate::core::Lang;
use crate::core::load::{self, Diagnostic};
use crate::core::messages::{self, fill, join_list};
use crate::core::{FactBase, Kotae};
use notify::RecursiveMode;
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};
use serde::Serialize;
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// How long the directory must be quiet before a reload: long enough for a
/// save of several files, short enough that an edit is live within a second.
const QUIET: Duration = Duration::from_millis(250);

/// How often the directory's identity and fingerprint are checked, to catch
/// what file events miss.
pub const CHECK_EVERY: Duration = Duration::from_secs(3);

/// What a reload did.
#[derive(Debug, Clone, PartialEq)]
pub enum ReloadReport {
    Applied(Changes),
    /// The edit has errors; the previous base is still served.
    Rejected(Vec<Diagnostic>),
    Unchanged,
}

/// Fact ids added, changed and removed by a reload.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    /// Facts whose answer text changed: their old answers need correcting.
    pub answers_changed: Vec<String>,
    pub removed: Vec<String>,
    pub revision: String,
}

impl ReloadReport {
    /// The report as moderators read it, in `lang`: what changed, or why
    /// the edit was rejected (each error as `file:line:column: message`).
    pub fn text(&self, lang: Lang) -> String {
        let m = messages::get(lang);
        match self {
            ReloadReport::Unchanged => m.reload_unchanged.to_string(),
            ReloadReport::Applied(c) => fill(
                m.reload_applied,
                &[
                    ("revision", &c.revision),
                    ("added", &join_list(lang, &c.added)),
                    ("changed", &join_list(lang, &c.changed)),
                    ("removed", &join_list(lang, &c.removed)),
                ],
            ),
            ReloadReport::Rejected(diagnostics) => {
                let mut out = m.reload_rejected.to_string();
                for d in diagnostics
                    .iter()
                    .filter(|d| d.severity == load::Severity::Error)
                {
                    let _ = write!(out, "\n{d}");
                }
                out
            }
        }
    }
}

/// The report in English, as the log shows it.
impl std::fmt::Display for ReloadReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text(Lang::En))
    }
}

/// Loads `dir` and, if it is valid and different, swaps it in.
pub fn reload(kotae: &Kotae, dir: &Path) -> ReloadReport {
    let loaded = match load::load_dir(dir) {
        Ok(loaded) => loaded,
        Err(diags) => {
            metrics::counter!("kotae_reloads_failed_total").increment(1);
            return ReloadReport::Rejected(diags);
        }
    };
    let old = kotae.snapshot();
    if old.base.revision() == loaded.base.revision() {
        return ReloadReport::Unchanged;
    }
    let changes = diff(&old.base, &loaded.base);
    kotae.replace(loaded.base);
    metrics::counter!("kotae_reloads_total").increment(1);
    ReloadReport::Applied(changes)
}

/// What changed between two bases, by fact id.
pub fn diff(old: &FactBase, new: &FactBase) -> Changes {
    let mut c = Changes {
        revision: new.revision().to_string(),
        ..Changes::default()
    };
    for fact in new.facts() {
        match old.fact(&fact.id) {
            None => c.added.push(fact.id.clone()),
            Some(before) => {
                let same_content = before.answer == fact.answer
                    && before.sources == fact.sources
                    && before.status == fact.status
                    && before.questions == fact.questions
                    && before.keywords == fact.keywords
                    && before.date == fact.date
                    && before.updated == fact.updated
                    && before.related == fact.related;
                if !same_content {
                    c.changed.push(fact.id.clone());
                }
                if before.answer != fact.answer || before.status != fact.status {
                    c.answers_changed.push(fact.id.clone());
                }
            }
        }
    }
    c.removed = old
        .facts()
        .iter()
        .filter(|f| new.fact(&f.id).is_none())
        .map(|f| f.id.clone())
        .collect();
    c
}

/// How reloading is going, for `/healthz`.
///
/// `state` says whether the latest attempt failed; the last error and its
/// time stay after a later success (so an operator can see that something
/// went wrong, and when), and `last_ok_at` says when the base last loaded.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Health {
    /// The knowledge directory watched.
    pub dir: String,
    /// `ok` when the latest attempt loaded the directory (or found nothing
    /// to change) and it is watched; `failing` when the latest edit was
    /// rejected or the directory cannot be watched.
    pub state: ReloadState,
    /// When the base last loaded without errors (Unix seconds): at start,
    /// or a reload that applied or found nothing to change.
    pub last_ok_at: Option<u64>,
    /// The latest error, kept after a later success (`state` tells whether
    /// it still holds): a rejected edit, or a directory that cannot be
    /// watched.
    pub last_error: Option<String>,
    /// When `last_error` happened (Unix seconds); an error that repeats
    /// keeps the time it was first seen.
    pub last_error_at: Option<u64>,
    /// How many times the watch was set up again on a replaced directory or
    /// after it stopped reporting.
    pub watcher_restarts: u64,
}

/// Whether the latest reload attempt worked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReloadState {
    #[default]
    Ok,
    Failing,
}

impl Health {
    /// The latest attempt failed with `error`. Returns false if that same
    /// error was already the current one (nothing new to log).
    fn failed(&mut self, error: String) -> bool {
        if self.state == ReloadState::Failing && self.last_error.as_ref() == Some(&error) {
            return false;
        }
        self.state = ReloadState::Failing;
        self.last_error = Some(error);
        self.last_error_at = Some(unix_now());
        true
    }

    /// The latest attempt loaded the directory.
    fn loaded(&mut self) {
        self.state = ReloadState::Ok;
        self.last_ok_at = Some(unix_now());
    }
}

/// The health of the watch started last in this process (`kotae serve`
/// has one); `None` when nothing is watched, e.g. on the built-in base.
pub fn health() -> Option<Health> {
    let mut watches = WATCHES.lock().unwrap_or_else(|e| e.into_inner());
    watches.retain(|w| w.strong_count() > 0);
    let latest = watches.last()?.upgrade()?;
    let health = latest.lock().unwrap_or_else(|e| e.into_inner()).clone();
    Some(health)
}

/// The running watches' health, oldest first.
static WATCHES: Mutex<Vec<Weak<Mutex<Health>>>> = Mutex::new(Vec::new());

/// A running watch; dropping it stops watching.
pub struct Watch {
    stop: mpsc::Sender<Signal>,
    health: Arc<Mutex<Health>>,
}

impl Watch {
    pub fn health(&self) -> Health {
        self.health
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.stop.send(Signal::Stop);
    }
}

/// What the worker thread is told.
enum Signal {
    /// File events settled.
    Changed,
    /// The event watcher reported an error.
    WatcherFailed(String),
    Stop,
}

/// Watches `dir` and reloads on every settled change, passing each report
/// to `on_report` (which logs it and tells moderators).
pub fn watch(
    kotae: Arc<Kotae>,
    dir: PathBuf,
    on_report: impl Fn(ReloadReport) + Send + 'static,
) -> anyhow::Result<Watch> {
    watch_checking_every(kotae, dir, CHECK_EVERY, on_report)
}

/// [`watch`], with the periodic check every `every` (tests use less).
pub fn watch_checking_every(
    kotae: Arc<Kotae>,
    dir: PathBuf,
    every: Duration,
    on_report: impl Fn(ReloadReport) + Send + 'static,
) -> anyhow::Result<Watch> {
    let (tx, rx) = mpsc::channel();
    let events = EventWatch::start(&dir, tx.clone())
        .map_err(|e| anyhow::anyhow!("cannot watch knowledge directory {}: {e}", dir.display()))?;
    let health = Arc::new(Mutex::new(Health {
        dir: dir.display().to_string(),
        last_ok_at: Some(unix_now()),
        ..Health::default()
    }));
    WATCHES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(Arc::downgrade(&health));
    let worker = Worker {
        fingerprint: load::fingerprint(&dir),
        kotae,
        dir,
        events: Some(events),
        tx: tx.clone(),
        health: health.clone(),
        last_event: Instant::now(),
    };
    std::thread::Builder::new()
        .name("kotae-reload".into())
        .spawn(move || worker.run(rx, every, on_report))?;
    Ok(Watch { stop: tx, health })
}

/// A notify watch on one directory, and which directory that was.
struct EventWatch {
    _debouncer: Debouncer<notify::RecommendedWatcher, RecommendedCache>,
    identity: Identity,
}

/// Which directory a path names: the same path can come to name another.
type Identity = Option<(PathBuf, u64, u64)>;

fn identity(dir: &Path) -> Identity {
    let real = std::fs::canonicalize(dir).ok()?;
    let meta = std::fs::metadata(&real).ok()?;
    #[cfg(unix)]
    let id = {
        use std::os::unix::fs::MetadataExt;
        (meta.dev(), meta.ino())
    };
    #[cfg(not(unix))]
    let id = (0, meta.len());
    Some((real, id.0, id.1))
}

impl EventWatch {
    fn start(dir: &Path, tx: mpsc::Sender<Signal>) -> Result<EventWatch, String> {
        let identity = identity(dir);
        if identity.is_none() {
            return Err("no such directory".into());
        }
        let mut debouncer = new_debouncer(QUIET, None, move |events: DebounceEventResult| {
            let signal = match events {
                Ok(events) if events.iter().all(|e| e.kind.is_access()) => return,
                Ok(_) => Signal::Changed,
                Err(errors) => Signal::WatcherFailed(
                    errors
                        .iter()
                        .map(|e| e.to_string())
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
            };
            let _ = tx.send(signal);
        })
        .map_err(|e| e.to_string())?;
        debouncer
            .watch(dir, RecursiveMode::Recursive)
            .map_err(|e| e.to_string())?;
        Ok(EventWatch {
            _debouncer: debouncer,
            identity,
        })
    }
}

/// The thread that does every reload of one watch, one at a time.
struct Worker {
    kotae: Arc<Kotae>,
    dir: PathBuf,
    events: Option<EventWatch>,
    tx: mpsc::Sender<Signal>,
    health: Arc<Mutex<Health>>,
    fingerprint: u64,
    last_event: Instant,
}

impl Worker {
    fn run(
        mut self,
        rx: mpsc::Receiver<Signal>,
        every: Duration,
        on_report: impl Fn(ReloadReport),
    ) {
        loop {
            let changed = match rx.recv_timeout(every) {
                Ok(Signal::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                Ok(Signal::Changed) => {
                    self.last_event = Instant::now();
                    true
                }
                Ok(Signal::WatcherFailed(why)) => {
                    tracing::warn!(dir = %self.dir.display(), "the knowledge watch failed: {why}");
                    self.events = None;
                    false
                }
                Err(RecvTimeoutError::Timeout) => false,
            };
            let restarted = self.keep_watching();
            let fingerprint = load::fingerprint(&self.dir);
            let missed = fingerprint != self.fingerprint && !changed;
            if missed && !self.settled(fingerprint) {
                continue; // still being written: look again next time
            }
            // After a new watch the directory is loaded again even if its
            // fingerprint is the same, so health says how it is now.
            if changed || missed || restarted {
                if missed && !restarted && self.last_event.elapsed() > every {
                    // A change no event reported: the watch is not to be trusted.
                    self.events = None;
                    self.keep_watching();
                }
                self.fingerprint = fingerprint;
                let report = reload(&self.kotae, &self.dir);
                self.record(&report);
                on_report(report);
            }
        }
    }

    /// Whether the directory kept `fingerprint` for a quiet period.
    fn settled(&self, fingerprint: u64) -> bool {
        std::thread::sleep(QUIET);
        load::fingerprint(&self.dir) == fingerprint
    }

    /// Sets the event watch up again if it failed or the path now names
    /// another directory; true if it did.
    fn keep_watching(&mut self) -> bool {
        let now = identity(&self.dir);
        if let Some(events) = &self.events
            && events.identity == now
        {
            return false;
        }
        self.events = None;
        match EventWatch::start(&self.dir, self.tx.clone()) {
            Ok(events) => {
                self.events = Some(events);
                metrics::counter!("kotae_reload_watcher_restarts_total").increment(1);
                self.health().watcher_restarts += 1;
                tracing::info!(dir = %self.dir.display(), "watching the knowledge directory again");
                true
            }
            Err(why) => {
                let message = format!(
                    "cannot watch knowledge directory {}: {why}",
                    self.dir.display()
                );
                if self.health().failed(message.clone()) {
                    tracing::warn!("{message}");
                }
                false
            }
        }
    }

    fn health(&self) -> std::sync::MutexGuard<'_, Health> {
        self.health.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn record(&self, report: &ReloadReport) {
        let mut h = self.health();
        match report {
            ReloadReport::Rejected(_) => {
                h.failed(report.to_string());
            }
            _ => h.loaded(),
        }
    }
}

/// The log target of reload reports: the console shows each report itself,
/// so `kotae chat` leaves this target out of its log.
pub const REPORT_TARGET: &str = "kotae::reload::report";

/// Logs a reload report the way `kotae check` prints problems.
pub fn log(report: &ReloadReport) {
    match report {
        ReloadReport::Unchanged => tracing::debug!(target: REPORT_TARGET, "{report}"),
        ReloadReport::Applied(_) => tracing::info!(target: REPORT_TARGET, "{report}"),
        ReloadReport::Rejected(_) => tracing::error!(target: REPORT_TARGET, "{report}"),
    }
}

/// Seconds since the Unix epoch.
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
