//! Rooms never wait on each other: the sync loop hands each message to its
//! room's queue and goes on syncing, and the messages are answered off the
//! loop.
//!
//! - One ordered queue per room: a room's messages are answered one after
//!   another, in timeline order (a `!lang` applies to the question after
//!   it), by one worker task per room that has messages waiting. A worker
//!   whose queue is empty ends and its queue is dropped, so an idle room
//!   costs nothing. A room with more than [`MAX_QUEUED`] messages waiting
//!   drops the newest with a warning.
//! - Different rooms are answered in parallel, at most [`MAX_ANSWERING`]
//!   messages at once across all rooms (a semaphore, fair in arrival
//!   order).
//! - A room whose replies cannot be sent holds only itself up, and for at
//!   most one send's patience per message (`super::bot`, `super::retry`);
//!   a `!reload` of a big base keeps only its own room waiting.
//! - On shutdown, messages still waiting are dropped (they are not marked
//!   answered, so the next start answers them if still recent), and those
//!   being answered get [`FINISH`] to finish before they are cut short.

use super::bot::Bot;
use crate::service::Shutdown;
use matrix_sdk::Room;
use matrix_sdk::ruma::OwnedRoomId;
use matrix_sdk::ruma::events::room::message::OriginalSyncRoomMessageEvent;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Messages answered at once, across all rooms.
pub(super) const MAX_ANSWERING: usize = 16;
/// Messages one room may have waiting; a flood beyond is not answered.
const MAX_QUEUED: usize = 100;
/// How long answers in flight may take to finish once the adapter is told
/// to stop (within `kotae serve`'s own bound on stopping).
const FINISH: Duration = Duration::from_secs(5);

/// A message waiting for an answer.
struct Job {
    room: Room,
    message: Box<OriginalSyncRoomMessageEvent>,
}

/// Each room's waiting messages; a room is here while its worker runs.
type Queues = Arc<Mutex<HashMap<OwnedRoomId, VecDeque<Job>>>>;

/// The queues and the workers that empty them.
pub(super) struct Rooms {
    bot: Arc<Bot>,
    permits: Arc<Semaphore>,
    queues: Queues,
    workers: JoinSet<()>,
    shutdown: Shutdown,
}

impl Rooms {
    pub(super) fn new(bot: Arc<Bot>, shutdown: Shutdown) -> Rooms {
        Rooms {
            bot,
            permits: Arc::new(Semaphore::new(MAX_ANSWERING)),
            queues: Arc::default(),
            workers: JoinSet::new(),
            shutdown,
        }
    }

    /// Queues a message behind its room's earlier ones; returns at once.
    pub(super) fn push(&mut self, room: &Room, message: Box<OriginalSyncRoomMessageEvent>) {
        // Workers that ended leave their results here until reaped.
        while self.workers.try_join_next().is_some() {}
        let job = Job {
            room: room.clone(),
            message,
        };
        let mut queues = lock(&self.queues);
        match queues.entry(room.room_id().to_owned()) {
            Entry::Occupied(mut waiting) => {
                if waiting.get().len() >= MAX_QUEUED {
                    tracing::warn!(room = %room.room_id(), "too many messages waiting in the room; not answering one");
                    return;
                }
                waiting.get_mut().push_back(job);
            }
            Entry::Vacant(vacant) => {
                vacant.insert(VecDeque::from([job]));
                let worker = Worker {
                    room: room.room_id().to_owned(),
                    queues: self.queues.clone(),
                    done: false,
                };
                let work = worker.run(
                    self.bot.clone(),
                    self.permits.clone(),
                    self.shutdown.clone(),
                );
                self.workers.spawn(work);
            }
        }
    }

    /// Waits up to [`FINISH`] for the workers (which drop what still waits
    /// once stopping is asked for), then stops the rest.
    pub(super) async fn finish(mut self) {
        let finished = tokio::time::timeout(FINISH, async {
            while self.workers.join_next().await.is_some() {}
        })
        .await;
        if finished.is_err() {
            tracing::warn!(
                rooms = self.workers.len(),
                "answers still being sent after {FINISH:?}; dropped"
            );
        }
        self.workers.shutdown().await;
    }
}

/// The task answering one room's queue until it is empty.
struct Worker {
    room: OwnedRoomId,
    queues: Queues,
    /// Set once the worker removed its queue itself.
    done: bool,
}

impl Worker {
    async fn run(mut self, bot: Arc<Bot>, permits: Arc<Semaphore>, shutdown: Shutdown) {
        while let Some(job) = self.next() {
            if shutdown.is_requested() {
                continue;
            }
            let permit = tokio::select! {
                permit = permits.acquire() => permit,
                () = shutdown.requested() => continue,
            };
            // The semaphore is never closed.
            let Ok(_permit) = permit else { return };
            bot.handle(&job.room, &job.message).await;
        }
    }

    /// The room's next message; when there is none, the queue is removed
    /// under the same lock, so a message pushed meanwhile starts a new
    /// worker rather than waiting for this one.
    fn next(&mut self) -> Option<Job> {
        let mut queues = lock(&self.queues);
        let job = queues.get_mut(&self.room).and_then(VecDeque::pop_front);
        if job.is_none() {
            queues.remove(&self.room);
            self.done = true;
        }
        job
    }
}

impl Drop for Worker {
    /// A worker that panicked or was stopped leaves no queue behind that
    /// nobody empties: the room's next message starts a new one.
    fn drop(&mut self) {
        if !self.done {
            lock(&self.queues).remove(&self.room);
        }
    }
}

fn lock(queues: &Queues) -> MutexGuard<'_, HashMap<OwnedRoomId, VecDeque<Job>>> {
    queues.lock().unwrap_or_else(|e| e.into_inner())
}
