//! Reports the connection to `/healthz`: connected while every shard is.
//!
//! A serenity event handler rather than part of the poise framework,
//! because serenity sends shard stage changes only to event handlers. One
//! handler serves one client; it also remembers whether that client ever
//! connected, so the retry loop knows to start its backoff afresh.

use crate::service::{AdapterStatus, Platform};
use poise::serenity_prelude as serenity;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// A serenity event handler that reports shard stages to the status board.
pub struct StatusHandler {
    status: Arc<AdapterStatus>,
    shards: Mutex<HashMap<serenity::ShardId, bool>>,
    connected_once: Arc<AtomicBool>,
}

impl StatusHandler {
    /// A handler for one client, reporting to `status`.
    pub fn new(status: Arc<AdapterStatus>) -> StatusHandler {
        StatusHandler {
            status,
            shards: Mutex::default(),
            connected_once: Arc::default(),
        }
    }

    /// Set once every shard of this client has been connected.
    pub fn connected_once(&self) -> Arc<AtomicBool> {
        self.connected_once.clone()
    }
}

#[serenity::async_trait]
impl serenity::EventHandler for StatusHandler {
    async fn shard_stage_update(
        &self,
        _: serenity::Context,
        event: serenity::ShardStageUpdateEvent,
    ) {
        let connected = {
            let mut shards = self.shards.lock().unwrap_or_else(|e| e.into_inner());
            let up = event.new == serenity::ConnectionStage::Connected;
            shards.insert(event.shard_id, up);
            shards.values().all(|up| *up)
        };
        tracing::debug!(shard = %event.shard_id, stage = %event.new, "Discord shard");
        if connected {
            self.connected_once.store(true, Ordering::Relaxed);
        }
        self.status.set(Platform::Discord, connected);
    }
}
