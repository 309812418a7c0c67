//! What the bot remembers in its state directory: questions it could not
//! answer ([`unanswered`]), members' 👍/👎 ([`feedback`]), and which message
//! answered with which fact revision ([`answers`], so a correction can reach
//! old answers).
//!
//! All three live in one SQLite database, `records.sqlite`, written one
//! transaction per record; [`store`] holds every query. The JSON-lines files
//! of earlier versions are imported once, on the first open, and then left
//! alone. Askers appear only as a salted hash; the salt is created with the
//! first record and never silently replaced (see [`Hasher::load`]).

pub mod answers;
pub mod feedback;
pub mod store;
pub mod unanswered;

use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;
use std::sync::Arc;
pub use store::Store;

/// All of a state directory's records, opened once and shared.
pub struct Records {
    pub unanswered: unanswered::UnansweredLog,
    pub feedback: feedback::FeedbackLog,
    pub answers: answers::AnswerLog,
}

impl Records {
    pub fn open(state_dir: &Path) -> io::Result<Records> {
        let (store, hasher) = open_salted(state_dir)?;
        Ok(Records {
            unanswered: unanswered::UnansweredLog::new(store.clone(), hasher.clone()),
            feedback: feedback::FeedbackLog::new(store.clone(), hasher),
            answers: answers::AnswerLog::new(store),
        })
    }
}

/// Opens the database of `state_dir` with its salt, checking that the salt
/// is the one its records were hashed with.
fn open_salted(state_dir: &Path) -> io::Result<(Arc<Store>, Hasher)> {
    // The salt first: whether it may be created depends on whether records
    // exist, and opening the store creates them.
    let hasher = Hasher::load(state_dir)?;
    let store = Store::open(state_dir)?;
    let id = hasher.id();
    match store.meta(SALT_ID)? {
        None => store.set_meta(SALT_ID, &id)?,
        Some(known) if known == id => {}
        Some(_) => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "the salt {} is not the one the records in {} were made with; \
                     restore the original salt from a backup",
                    state_dir.join(SALT_FILE).display(),
                    store.path().display()
                ),
            ));
        }
    }
    Ok((Arc::new(store), hasher))
}

/// The database setting that remembers which salt its askers were hashed with.
const SALT_ID: &str = "salt_id";
const SALT_FILE: &str = "salt";

/// An error naming the state directory if it exists but is not one.
pub fn check_state_dir(state_dir: &Path) -> io::Result<()> {
    if state_dir.exists() && !state_dir.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::NotADirectory,
            format!(
                "the state directory {} is not a directory",
                state_dir.display()
            ),
        ));
    }
    Ok(())
}

/// Creates the state directory, with an error that names it.
pub fn create_state_dir(state_dir: &Path) -> io::Result<()> {
    check_state_dir(state_dir)?;
    std::fs::create_dir_all(state_dir).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "cannot create the state directory {}: {e}",
                state_dir.display()
            ),
        )
    })
}

/// Reads every whole record of a JSON-lines file of an earlier version; a
/// torn or foreign line is skipped.
fn read_all<T: DeserializeOwned>(path: &Path) -> io::Result<Vec<T>> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io::Error::new(e.kind(), format!("{}: {e}", path.display()))),
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
#[derive(Clone)]
pub struct Hasher {
    salt: [u8; 32],
}

impl Hasher {
    /// Loads the salt from the state directory. It is created only for a
    /// state directory without records: if records exist, a missing or
    /// damaged salt is an error, because a new one would make every member
    /// who asked before count as someone new.
    pub fn load(state_dir: &Path) -> io::Result<Hasher> {
        let path = state_dir.join(SALT_FILE);
        let mut salt = [0u8; 32];
        match std::fs::read(&path) {
            Ok(bytes) if bytes.len() == salt.len() => salt.copy_from_slice(&bytes),
            Ok(bytes) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "the salt {} is damaged ({} bytes, expected 32); restore it from a backup",
                        path.display(),
                        bytes.len()
                    ),
                ));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound && Store::has_records(state_dir) => {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!(
                        "the salt {} is missing but {} has records; restore the salt from a \
                         backup (or move the records away to start afresh)",
                        path.display(),
                        state_dir.display()
                    ),
                ));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                getrandom::fill(&mut salt).map_err(io::Error::other)?;
                create_state_dir(state_dir)?;
                write_private(&path, &salt).map_err(|e| {
                    io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display()))
                })?;
            }
            Err(e) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("cannot read the salt {}: {e}", path.display()),
                ));
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

    /// Names the salt without revealing it, so the database can tell whether
    /// it is the salt its records were made with.
    fn id(&self) -> String {
        let digest = Sha256::new()
            .chain_update(b"kotae salt id")
            .chain_update(self.salt)
            .finalize();
        digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
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

    #[test]
    fn a_missing_damaged_or_foreign_salt_is_reported_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let records = Records::open(dir.path()).unwrap();
        records
            .feedback
            .record("matrix", "@a:x", "impact", "r1", feedback::Vote::Up)
            .unwrap();
        drop(records);
        let salt = dir.path().join(SALT_FILE);
        let original = std::fs::read(&salt).unwrap();

        std::fs::remove_file(&salt).unwrap();
        let e = Records::open(dir.path())
            .err()
            .expect("missing salt refused");
        assert!(e.to_string().contains("is missing but"), "{e}");
        assert!(e.to_string().contains(&salt.display().to_string()), "{e}");
        assert!(!salt.exists(), "no new salt was made");

        std::fs::write(&salt, b"short").unwrap();
        let e = Records::open(dir.path())
            .err()
            .expect("damaged salt refused");
        assert!(e.to_string().contains("is damaged (5 bytes"), "{e}");

        std::fs::write(&salt, [7u8; 32]).unwrap();
        let e = Records::open(dir.path())
            .err()
            .expect("foreign salt refused");
        assert!(e.to_string().contains("is not the one the records"), "{e}");

        std::fs::write(&salt, &original).unwrap();
        assert!(Records::open(dir.path()).is_ok());
    }

    #[test]
    fn a_state_directory_that_is_a_file_is_named_in_the_error() {
        let file = tempfile::NamedTempFile::new().unwrap();
        let e = Records::open(file.path()).err().unwrap().to_string();
        assert!(e.contains(&file.path().display().to_string()), "{e}");
        let below = file.path().join("state");
        let e = Records::open(&below).err().unwrap().to_string();
        assert!(e.contains(&below.display().to_string()), "{e}");
    }
}
