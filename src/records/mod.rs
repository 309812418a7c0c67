//! What the bot remembers in its state directory, as append-only JSON lines:
//! questions it could not answer ([`unanswered`]), members' 👍/👎
//! ([`feedback`]), and which message answered with which fact revision
//! ([`answers`], so a correction can reach old answers).
//!
//! Every record is one line written with one `write` on a file opened for
//! appending, so a crash (even `kill -9`) can at worst leave a torn last
//! line, which readers skip. Askers appear only as a salted hash.

pub mod answers;
pub mod feedback;
pub mod unanswered;

use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// All of a state directory's records, opened once and shared.
pub struct Records {
    pub unanswered: unanswered::UnansweredLog,
    pub feedback: feedback::FeedbackLog,
    pub answers: answers::AnswerLog,
}

impl Records {
    pub fn open(state_dir: &Path) -> std::io::Result<Records> {
        Ok(Records {
            unanswered: unanswered::UnansweredLog::open(state_dir)?,
            feedback: feedback::FeedbackLog::open(state_dir)?,
            answers: answers::AnswerLog::open(state_dir)?,
        })
    }
}

/// An append-only file of JSON lines.
pub struct Journal {
    path: PathBuf,
    file: Mutex<File>,
}

impl Journal {
    pub fn open(path: PathBuf) -> std::io::Result<Journal> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(&path)?;
        // A crash mid-write leaves a torn last line; end it, so the next
        // record starts on a line of its own and only the torn one is lost.
        if ends_torn(&mut file)? {
            file.write_all(b"\n")?;
        }
        Ok(Journal {
            path,
            file: Mutex::new(file),
        })
    }

    /// Appends one record as one line, in one write.
    pub fn append<T: Serialize>(&self, record: &T) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(record)?;
        line.push(b'\n');
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        file.write_all(&line)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn ends_torn(file: &mut File) -> std::io::Result<bool> {
    use std::io::{Read, Seek, SeekFrom};
    if file.metadata()?.len() == 0 {
        return Ok(false);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    Ok(last[0] != b'\n')
}

/// Reads every whole record of a journal; a torn or foreign line is skipped.
pub fn read_all<T: DeserializeOwned>(path: &Path) -> std::io::Result<Vec<T>> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut records = Vec::new();
    for line in BufReader::new(file).split(b'\n') {
        if let Ok(record) = serde_json::from_slice(&line?) {
            records.push(record);
        }
    }
    Ok(records)
}

/// Hashes user ids with a per-installation salt, so records can count
/// distinct askers without holding who they are.
pub struct Hasher {
    salt: [u8; 32],
}

impl Hasher {
    /// Loads the salt from the state directory, creating it on first use.
    pub fn load(state_dir: &Path) -> std::io::Result<Hasher> {
        let path = state_dir.join("salt");
        let mut salt = [0u8; 32];
        match std::fs::read(&path) {
            Ok(bytes) if bytes.len() == 32 => salt.copy_from_slice(&bytes),
            _ => {
                getrandom::fill(&mut salt).map_err(std::io::Error::other)?;
                std::fs::create_dir_all(state_dir)?;
                write_private(&path, &salt)?;
            }
        }
        Ok(Hasher { salt })
    }

    pub fn hash(&self, platform: &str, user: &str) -> String {
        let digest = Sha256::new()
            .chain_update(self.salt)
            .chain_update(platform)
            .chain_update([0])
            .chain_update(user)
            .finalize();
        digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_last_line_is_skipped_and_appending_continues() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let journal = Journal::open(path.clone()).unwrap();
        journal.append(&serde_json::json!({"n": 1})).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"n\": 2, \"tor")
            .unwrap();
        let read: Vec<serde_json::Value> = read_all(&path).unwrap();
        assert_eq!(read, vec![serde_json::json!({"n": 1})]);
        let journal = Journal::open(path.clone()).unwrap();
        journal.append(&serde_json::json!({"n": 3})).unwrap();
        let read: Vec<serde_json::Value> = read_all(&path).unwrap();
        assert_eq!(
            read,
            vec![serde_json::json!({"n": 1}), serde_json::json!({"n": 3})]
        );
    }

    #[test]
    fn the_salt_is_kept_and_hashes_are_stable_and_opaque() {
        let dir = tempfile::tempdir().unwrap();
        let a = Hasher::load(dir.path())
            .unwrap()
            .hash("matrix", "@alice:example.org");
        let b = Hasher::load(dir.path())
            .unwrap()
            .hash("matrix", "@alice:example.org");
        assert_eq!(a, b);
        assert!(!a.contains("alice"));
        assert_ne!(
            a,
            Hasher::load(dir.path())
                .unwrap()
                .hash("discord", "@alice:example.org")
        );
    }
}
