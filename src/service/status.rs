//! Which adapters are connected, as `/healthz` reports it. Adapters set
//! their own line; a connection that drops counts in
//! `kotae_adapter_disconnects_total`.

use super::Platform;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Each adapter's connection state.
#[derive(Debug, Default)]
pub struct AdapterStatus {
    connected: Mutex<BTreeMap<Platform, bool>>,
}

impl AdapterStatus {
    /// Says whether `platform` is connected now.
    pub fn set(&self, platform: Platform, connected: bool) {
        let mut map = self.connected.lock().unwrap_or_else(|e| e.into_inner());
        if map.insert(platform, connected) == Some(true) && !connected {
            metrics::counter!("kotae_adapter_disconnects_total", "platform" => platform.as_str())
                .increment(1);
        }
    }

    /// Whether `platform` is connected; `None` before it first said.
    pub fn get(&self, platform: Platform) -> Option<bool> {
        let map = self.connected.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&platform).copied()
    }

    /// Adapters and whether each is connected.
    pub fn snapshot(&self) -> Vec<(Platform, bool)> {
        let map = self.connected.lock().unwrap_or_else(|e| e.into_inner());
        map.iter().map(|(k, v)| (*k, *v)).collect()
    }
}
