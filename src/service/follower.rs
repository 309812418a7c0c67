//! One task per adapter that follows every reload: it tells the
//! moderators (a report in their room or channel) and corrects the
//! answers the reload made wrong (an edit in place), through a
//! [`ReloadTarget`] that each platform implements with its own SDK.
//!
//! Reports wait in a queue of limited length. A follower that falls
//! behind (edits are slow, the platform is down) loses the oldest
//! reports; it then checks every answer sent within the correction window
//! against the facts in force, so no correction is lost, only the missed
//! reports' messages to the moderators (which are in the log).
//!
//! An edit that fails is logged and left for the next reload that touches
//! its fact: it is not recorded as done. An edit the platform refuses for
//! good (the message was deleted, or is not the bot's) is
//! [`EditOutcome::Dropped`]: recorded as done, so it is never tried again,
//! and the other corrections go on. Pacing (rate limits) is the target's:
//! the follower sends one edit after another and waits for each.

use super::moderation::{PendingCorrection, worth_telling};
use super::{Platform, Service};
use crate::core::{Lang, Snapshot};
use crate::reload::{Changes, ReloadReport};
use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use tokio::sync::broadcast::{self, error::RecvError};

/// What a reload means on one platform.
pub trait ReloadTarget: Send + Sync + 'static {
    /// Posts a reload report where the moderators read it (nothing when
    /// no such place is configured).
    fn tell_moderators(&self, report: &str) -> impl Future<Output = ()> + Send;

    /// The language the moderators read reports in (`moderators_lang`).
    fn moderators_lang(&self) -> Lang {
        Lang::En
    }

    /// Replaces a sent answer with what it should say now; true once the
    /// platform took the edit.
    fn edit_answer(&self, pending: &PendingCorrection) -> impl Future<Output = bool> + Send;

    /// Replaces a sent answer, saying whether a refusal is final. By
    /// default [`ReloadTarget::edit_answer`], whose failures are never final.
    fn correct_answer(
        &self,
        pending: &PendingCorrection,
    ) -> impl Future<Output = EditOutcome> + Send {
        async move {
            if self.edit_answer(pending).await {
                EditOutcome::Edited
            } else {
                EditOutcome::Failed
            }
        }
    }
}

/// What became of one correction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditOutcome {
    /// The platform took the edit.
    Edited,
    /// The platform refused it for good (the message is gone, or is not
    /// the bot's): recorded as done, never tried again.
    Dropped,
    /// Not now (the platform is down, the retries ran out): left for the
    /// next reload that touches the fact.
    Failed,
}

/// Reload reports from the moment of subscribing, with the facts in force
/// then (to know what changed if reports are missed).
pub struct Subscription {
    reports: broadcast::Receiver<Arc<ReloadReport>>,
    seen: Arc<Snapshot>,
}

/// A running follower; dropping it stops it.
pub struct Follower(tokio::task::JoinHandle<()>);

impl Drop for Follower {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Service {
    /// Every reload report from now on. Subscribe before anything that
    /// may take a while (logging in), so no reload meanwhile is missed.
    pub fn subscribe_reloads(&self) -> Subscription {
        Subscription {
            reports: self.reloads.subscribe(),
            seen: self.kotae.snapshot(),
        }
    }

    /// Follows `subscription` on `platform` until shutdown or until the
    /// returned [`Follower`] is dropped.
    pub fn follow_reloads<T: ReloadTarget>(
        &self,
        platform: Platform,
        subscription: Subscription,
        target: T,
    ) -> Follower {
        let service = self.clone();
        Follower(tokio::spawn(async move {
            let shutdown = service.shutdown.clone();
            tokio::select! {
                () = follow(&service, platform, subscription, &target) => {}
                () = shutdown.requested() => {}
            }
        }))
    }
}

async fn follow<T: ReloadTarget>(
    service: &Service,
    platform: Platform,
    subscription: Subscription,
    target: &T,
) {
    let Subscription { mut reports, seen } = subscription;
    let mut seen = seen;
    loop {
        let changes = match reports.recv().await {
            Ok(report) => {
                if worth_telling(&report) {
                    let text = report.text(target.moderators_lang());
                    target.tell_moderators(&text).await;
                }
                match &*report {
                    ReloadReport::Applied(changes) => changes.clone(),
                    _ => continue,
                }
            }
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(
                    %platform,
                    missed,
                    "reload reports came faster than they were handled; checking every recent answer"
                );
                every_fact(&seen, &service.kotae.snapshot())
            }
            Err(RecvError::Closed) => return,
        };
        seen = service.kotae.snapshot();
        correct(service, platform, target, &changes).await;
    }
}

/// Edits every answer the changes made wrong, one after another.
async fn correct<T: ReloadTarget>(
    service: &Service,
    platform: Platform,
    target: &T,
    changes: &Changes,
) {
    let pending = service.corrections(platform, changes);
    if !pending.is_empty() {
        tracing::info!(%platform, answers = pending.len(), "correcting earlier answers");
    }
    for correction in pending {
        match target.correct_answer(&correction).await {
            EditOutcome::Edited | EditOutcome::Dropped => correction.done(service),
            EditOutcome::Failed => {}
        }
    }
}

/// Changes naming every fact of the base last followed and of the base in
/// force, for when reports were missed: only answers whose text really
/// differs get edited, and answers from a fact removed meanwhile are
/// withdrawn.
fn every_fact(seen: &Snapshot, now: &Snapshot) -> Changes {
    let ids: BTreeSet<String> = seen
        .base
        .facts()
        .iter()
        .chain(now.base.facts())
        .map(|f| f.id.clone())
        .collect();
    Changes {
        answers_changed: ids.into_iter().collect(),
        ..Changes::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Kotae;
    use crate::service::Shutdown;
    use std::sync::Mutex;
    use tokio::sync::Semaphore;

    /// A platform whose edits wait for a permit, so a test decides when
    /// the follower may go on.
    #[derive(Clone)]
    struct Recorder {
        told: Arc<Mutex<Vec<String>>>,
        edited: Arc<Mutex<Vec<String>>>,
        gate: Arc<Semaphore>,
    }

    impl ReloadTarget for Recorder {
        async fn tell_moderators(&self, report: &str) {
            self.told.lock().unwrap().push(report.to_string());
            let _ = self.gate.acquire().await.map(|p| p.forget());
        }

        async fn edit_answer(&self, pending: &PendingCorrection) -> bool {
            self.edited
                .lock()
                .unwrap()
                .push(pending.sent.message.clone());
            true
        }
    }

    #[tokio::test]
    async fn a_follower_that_falls_behind_still_corrects_every_answer() {
        let dir = tempfile::tempdir().unwrap();
        let base = crate::core::load::load_embedded().unwrap().base;
        let (_stop, shutdown) = Shutdown::new();
        let service = Service::open(Arc::new(Kotae::new(base)), dir.path(), shutdown).unwrap();
        let fact = service.kotae.snapshot().base.facts()[0].id.clone();
        let answers = &service.records().unwrap().answers;
        answers
            .record("matrix", "!r", "$old", &fact, "what it said once", Lang::En)
            .unwrap();
        let target = Recorder {
            told: Arc::default(),
            edited: Arc::default(),
            gate: Arc::new(Semaphore::new(0)),
        };
        let _follower = service.follow_reloads(
            Platform::Matrix,
            service.subscribe_reloads(),
            target.clone(),
        );
        // The first report holds the follower at the moderators' room…
        service.publish(Arc::new(ReloadReport::Rejected(Vec::new())));
        // …while the one that changes the fact is pushed out of the queue.
        let changed = Changes {
            answers_changed: vec![fact],
            ..Changes::default()
        };
        service.publish(Arc::new(ReloadReport::Applied(changed)));
        for _ in 0..REPORTS {
            service.publish(Arc::new(ReloadReport::Rejected(Vec::new())));
        }
        target.gate.add_permits(1000);
        for _ in 0..200 {
            if !target.edited.lock().unwrap().is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!(*target.edited.lock().unwrap(), ["$old"]);
    }

    const REPORTS: usize = 2 * super::super::REPORTS_QUEUED;
}
