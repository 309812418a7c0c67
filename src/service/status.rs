//! Which adapters are connected, as `/healthz` reports it. Adapters set
//! their own line; a connection that drops counts in
//! `kotae_adapter_disconnects_total`. An adapter with a device of its own
//! (Matrix) also says whether that device is verified.

use super::Platform;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Each adapter's connection state.
#[derive(Debug, Default)]
pub struct AdapterStatus {
    connected: Mutex<BTreeMap<Platform, bool>>,
    verified: Mutex<BTreeMap<Platform, bool>>,
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

    /// Says whether `platform`'s device is verified (cross-signed by the
    /// bot's own identity, on Matrix).
    pub fn set_verified(&self, platform: Platform, verified: bool) {
        let mut map = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        map.insert(platform, verified);
    }

    /// Forgets whether `platform`'s device is verified, until it says
    /// again (a restarted adapter may be a new device).
    pub fn forget_verified(&self, platform: Platform) {
        let mut map = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(&platform);
    }

    /// Whether `platform`'s device is verified; `None` before it said.
    pub fn verified(&self, platform: Platform) -> Option<bool> {
        let map = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&platform).copied()
    }

    /// Adapters that said whether their device is verified, and what.
    pub fn verified_snapshot(&self) -> Vec<(Platform, bool)> {
        let map = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        map.iter().map(|(k, v)| (*k, *v)).collect()
    }

    /// Adapters and whether each is connected.
    pub fn snapshot(&self) -> Vec<(Platform, bool)> {
        let map = self.connected.lock().unwrap_or_else(|e| e.into_inner());
        map.iter().map(|(k, v)| (*k, *v)).collect()
    }
}
