//! Vectors already made, in `embeddings.sqlite` in the state directory,
//! keyed by model, kind and a hash of the text: a restart, or a reload that
//! changed one fact, embeds only the texts it has not seen.
//!
//! The cache is a convenience: any error reading it is a miss, and an error
//! writing it is logged by the caller and otherwise ignored.

use crate::core::semantic::TextKind;
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Mutex;

/// The file, in the state directory.
pub const FILE: &str = "embeddings.sqlite";

pub struct Cache {
    db: Mutex<Connection>,
}

impl Cache {
    /// Opens (or creates) the cache in `dir`.
    pub fn open(dir: &Path) -> Result<Cache, String> {
        let path = dir.join(FILE);
        let db = Connection::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        db.execute_batch(
            "PRAGMA journal_mode = WAL;
             CREATE TABLE IF NOT EXISTS vectors (
                 model TEXT NOT NULL,
                 kind TEXT NOT NULL,
                 hash BLOB NOT NULL,
                 vector BLOB NOT NULL,
                 PRIMARY KEY (model, kind, hash)
             ) WITHOUT ROWID;",
        )
        .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Cache { db: Mutex::new(db) })
    }

    /// The vector for a text, if one was stored.
    pub fn get(&self, model: &str, kind: TextKind, text: &str) -> Option<Vec<f32>> {
        let db = self.db.lock().ok()?;
        let blob: Vec<u8> = db
            .query_row(
                "SELECT vector FROM vectors WHERE model = ?1 AND kind = ?2 AND hash = ?3",
                params![model, kind.as_str(), hash(text)],
                |row| row.get(0),
            )
            .optional()
            .ok()??;
        (blob.len().is_multiple_of(4) && !blob.is_empty()).then(|| {
            blob.chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect()
        })
    }

    /// Stores vectors for texts, in one transaction.
    pub fn put(&self, model: &str, kind: TextKind, items: &[(&str, &[f32])]) -> Result<(), String> {
        let mut db = self
            .db
            .lock()
            .map_err(|_| "cache lock poisoned".to_string())?;
        let tx = db.transaction().map_err(|e| e.to_string())?;
        for (text, vector) in items {
            let blob: Vec<u8> = vector.iter().flat_map(|x| x.to_le_bytes()).collect();
            tx.execute(
                "INSERT OR REPLACE INTO vectors (model, kind, hash, vector) VALUES (?1, ?2, ?3, ?4)",
                params![model, kind.as_str(), hash(text), blob],
            )
            .map_err(|e| e.to_string())?;
        }
        tx.commit().map_err(|e| e.to_string())
    }

    /// How many vectors are stored.
    pub fn len(&self) -> usize {
        self.db
            .lock()
            .ok()
            .and_then(|db| {
                db.query_row("SELECT count(*) FROM vectors", [], |r| r.get::<_, i64>(0))
                    .ok()
            })
            .unwrap_or(0) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn hash(text: &str) -> Vec<u8> {
    Sha256::digest(text.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        cache
            .put("m", TextKind::Query, &[("hello", &[1.0, -2.5][..])])
            .unwrap();
        drop(cache);
        let cache = Cache::open(dir.path()).unwrap();
        assert_eq!(
            cache.get("m", TextKind::Query, "hello"),
            Some(vec![1.0, -2.5])
        );
        assert_eq!(
            cache.get("m", TextKind::Passage, "hello"),
            None,
            "kind is part of the key"
        );
        assert_eq!(
            cache.get("other", TextKind::Query, "hello"),
            None,
            "model too"
        );
        assert_eq!(cache.len(), 1);
    }
}
