//! Hot reload of a moderator-maintained knowledge directory.
//!
//! The directory (not each file) is watched, so editors that save by
//! writing a new file and renaming it over the old one are seen too. After
//! a short quiet period the whole directory is loaded and validated; a valid
//! base is swapped in atomically, an invalid one is rejected and the bot
//! keeps serving the last good base. The bot only reads the directory: what
//! a moderator saved is never touched.

use crate::core::load::{self, Diagnostic};
use crate::core::{FactBase, Kotae};
use notify::RecursiveMode;
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How long the directory must be quiet before a reload: long enough for a
/// save of several files, short enough that an edit is live within a second.
const QUIET: Duration = Duration::from_millis(250);

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

impl std::fmt::Display for ReloadReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReloadReport::Unchanged => write!(f, "reloaded: no change"),
            ReloadReport::Applied(c) => {
                let list = |ids: &[String]| {
                    if ids.is_empty() {
                        "none".to_string()
                    } else {
                        ids.join(", ")
                    }
                };
                write!(
                    f,
                    "reloaded revision {}: added {}; changed {}; removed {}",
                    c.revision,
                    list(&c.added),
                    list(&c.changed),
                    list(&c.removed)
                )
            }
            ReloadReport::Rejected(diags) => {
                write!(f, "reload rejected, still serving the previous facts:")?;
                for d in diags.iter().filter(|d| d.severity == load::Severity::Error) {
                    write!(f, "\n{d}")?;
                }
                Ok(())
            }
        }
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

/// A running watch; dropping it stops watching.
pub struct Watch {
    _debouncer: Debouncer<notify::RecommendedWatcher, RecommendedCache>,
}

/// Watches `dir` and reloads on every settled change, passing each report
/// to `on_report` (which logs it and tells moderators).
pub fn watch(
    kotae: Arc<Kotae>,
    dir: PathBuf,
    on_report: impl Fn(ReloadReport) + Send + 'static,
) -> anyhow::Result<Watch> {
    let watched = dir.clone();
    let mut debouncer = new_debouncer(QUIET, None, move |events: DebounceEventResult| {
        let relevant = match &events {
            Ok(events) => events.iter().any(|e| !e.kind.is_access()),
            Err(_) => true,
        };
        if relevant {
            on_report(reload(&kotae, &watched));
        }
    })?;
    debouncer
        .watch(&dir, RecursiveMode::Recursive)
        .map_err(|e| anyhow::anyhow!("cannot watch knowledge directory {}: {e}", dir.display()))?;
    Ok(Watch {
        _debouncer: debouncer,
    })
}

/// Logs a reload report the way `kotae check` prints problems.
pub fn log(report: &ReloadReport) {
    match report {
        ReloadReport::Unchanged => tracing::debug!("{report}"),
        ReloadReport::Applied(_) => tracing::info!("{report}"),
        ReloadReport::Rejected(_) => tracing::error!("{report}"),
    }
}
