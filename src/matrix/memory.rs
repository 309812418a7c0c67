//! What the bot remembers across restarts beyond matrix-sdk's own state:
//! the events it has answered, each room's reply language, and whether the
//! first sync (whose history is never answered) is done.
//!
//! It lives in the SDK's SQLite store as custom values, so one directory
//! and one file hold the whole state and they cannot drift apart.

use crate::core::Lang;
use matrix_sdk::Client;
use matrix_sdk::ruma::{EventId, OwnedEventId, RoomId};
use std::collections::VecDeque;
use tokio::sync::Mutex;

const ANSWERED: &[u8] = b"kotae.answered";
const FIRST_SYNC: &[u8] = b"kotae.first_sync_done";
/// A duplicate can only be a recent event delivered again, so the last few
/// hundred ids are enough.
const ANSWERED_KEPT: usize = 512;

pub(super) struct Memory {
    client: Client,
    answered: Mutex<VecDeque<OwnedEventId>>,
}

impl Memory {
    pub(super) async fn load(client: &Client) -> anyhow::Result<Memory> {
        let stored = client.state_store().get_custom_value(ANSWERED).await?;
        let answered = stored
            .map(|bytes| {
                String::from_utf8_lossy(&bytes)
                    .lines()
                    .filter_map(|id| EventId::parse(id).ok())
                    .collect()
            })
            .unwrap_or_default();
        Ok(Memory {
            client: client.clone(),
            answered: Mutex::new(answered),
        })
    }

    pub(super) async fn was_answered(&self, event: &EventId) -> bool {
        self.answered.lock().await.iter().any(|id| id == event)
    }

    pub(super) async fn mark_answered(&self, event: &EventId) {
        let mut answered = self.answered.lock().await;
        answered.push_back(event.to_owned());
        while answered.len() > ANSWERED_KEPT {
            answered.pop_front();
        }
        let text: Vec<&str> = answered.iter().map(|id| id.as_str()).collect();
        self.store(ANSWERED, text.join("\n").into_bytes()).await;
    }

    pub(super) async fn first_sync_done(&self) -> bool {
        self.load_value(FIRST_SYNC).await.is_some()
    }

    pub(super) async fn set_first_sync_done(&self) {
        self.store(FIRST_SYNC, b"1".to_vec()).await;
    }

    /// The room's `!lang` choice; `None` means detect from each question.
    pub(super) async fn room_lang(&self, room: &RoomId) -> Option<Lang> {
        let bytes = self.load_value(&lang_key(room)).await?;
        String::from_utf8_lossy(&bytes).parse().ok()
    }

    pub(super) async fn set_room_lang(&self, room: &RoomId, lang: Option<Lang>) {
        let key = lang_key(room);
        match lang {
            Some(lang) => self.store(&key, lang.code().as_bytes().to_vec()).await,
            None => {
                if let Err(e) = self.client.state_store().remove_custom_value(&key).await {
                    tracing::warn!(error = %e, "cannot forget a room's language");
                }
            }
        }
    }

    async fn load_value(&self, key: &[u8]) -> Option<Vec<u8>> {
        match self.client.state_store().get_custom_value(key).await {
            Ok(value) => value,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the bot's state");
                None
            }
        }
    }

    /// A failed write costs at worst a repeated answer or a forgotten
    /// preference, so it is logged rather than stopping the bot.
    async fn store(&self, key: &[u8], value: Vec<u8>) {
        if let Err(e) = self.client.state_store().set_custom_value(key, value).await {
            tracing::warn!(error = %e, "cannot save the bot's state");
        }
    }
}

fn lang_key(room: &RoomId) -> Vec<u8> {
    format!("kotae.lang.{room}").into_bytes()
}
