//! The bot's secret files in its state directory (`DIR` is the state
//! directory's `matrix/`):
//!
//! - `DIR/store-passphrase` encrypts the SQLite store (crypto keys, room
//!   state). It is made at the first start, 32 random bytes as hex, and read
//!   at every start after. A store made by an earlier kotae, without a
//!   passphrase, keeps opening without one (with a warning) rather than
//!   becoming unreadable.
//! - `DIR/recovery-key` is the recovery key made when the bot set up its
//!   identity's recovery, written once for the operator to copy elsewhere.
//!
//! Every file is written atomically (a crash leaves the old one or the new
//! one) and readable by its owner only. Neither secret is ever logged.

use anyhow::{Context as _, bail};
use std::io::Write as _;
use std::path::{Path, PathBuf};

const PASSPHRASE_FILE: &str = "store-passphrase";
const RECOVERY_KEY_FILE: &str = "recovery-key";

/// The passphrase that opens `store` (the SQLite store's directory), or
/// `None` for a store made before kotae encrypted it.
pub(super) fn store_passphrase(dir: &Path, store: &Path) -> anyhow::Result<Option<String>> {
    let path = dir.join(PASSPHRASE_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let passphrase = text.trim();
            if passphrase.is_empty() {
                bail!(
                    "{} is empty; restore it from a backup, or remove it and the store beside it to start over",
                    path.display()
                );
            }
            return Ok(Some(passphrase.to_string()));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
    if holds_files(store)? {
        tracing::warn!(
            store = %store.display(),
            "the Matrix store was made by an earlier kotae without a passphrase and stays unencrypted; \
             to encrypt it, keep the recovery key, remove the state directory's matrix/ and start again \
             with KOTAE_MATRIX_RECOVERY_KEY_FILE (the bot becomes a new device with the same identity)"
        );
        return Ok(None);
    }
    let passphrase = random_hex(32)?;
    write_private(&path, passphrase.as_bytes())?;
    tracing::info!(file = %path.display(), "made a passphrase for the Matrix store");
    Ok(Some(passphrase))
}

/// Writes the recovery key for the operator; its path.
pub(super) fn write_recovery_key(dir: &Path, key: &str) -> anyhow::Result<PathBuf> {
    let path = dir.join(RECOVERY_KEY_FILE);
    write_private(&path, format!("{key}\n").as_bytes())?;
    Ok(path)
}

/// Whether a directory exists with something in it.
fn holds_files(dir: &Path) -> anyhow::Result<bool> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_some()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", dir.display())),
    }
}

/// `bytes` random bytes from the operating system, as hex.
fn random_hex(bytes: usize) -> anyhow::Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf)
        .map_err(|e| anyhow::anyhow!("no randomness for a passphrase: {e}"))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// Writes `path` atomically, readable by its owner only.
pub(super) fn write_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = path.with_file_name(format!("{name}.tmp"));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_directory_gets_a_private_random_passphrase_kept_across_starts() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store");
        let first = store_passphrase(dir.path(), &store)
            .unwrap()
            .expect("a passphrase");
        assert_eq!(first.len(), 64);
        assert!(first.bytes().all(|b| b.is_ascii_hexdigit()));
        let path = dir.path().join(PASSPHRASE_FILE);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        }
        // The store is made after; the next start reads the same one.
        std::fs::create_dir(&store).unwrap();
        std::fs::write(store.join("matrix-sdk-crypto.sqlite3"), b"").unwrap();
        let again = store_passphrase(dir.path(), &store).unwrap();
        assert_eq!(again.as_deref(), Some(first.as_str()));
        let other = tempfile::tempdir().unwrap();
        let elsewhere = store_passphrase(other.path(), &other.path().join("store")).unwrap();
        assert_ne!(
            elsewhere.as_deref(),
            Some(first.as_str()),
            "random per directory"
        );
    }

    #[test]
    fn a_store_made_without_a_passphrase_keeps_opening_without_one() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store");
        std::fs::create_dir(&store).unwrap();
        std::fs::write(store.join("matrix-sdk-crypto.sqlite3"), b"").unwrap();
        assert_eq!(store_passphrase(dir.path(), &store).unwrap(), None);
        assert!(
            !dir.path().join(PASSPHRASE_FILE).exists(),
            "no passphrase is made for a store that cannot use it"
        );
        std::fs::write(dir.path().join(PASSPHRASE_FILE), "\n").unwrap();
        let error = store_passphrase(dir.path(), &store)
            .unwrap_err()
            .to_string();
        assert!(error.contains("store-passphrase is empty"), "{error}");
    }

    #[test]
    fn the_recovery_key_is_written_for_its_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_recovery_key(dir.path(), "EsTc abcd").unwrap();
        assert_eq!(path, dir.path().join(RECOVERY_KEY_FILE));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "EsTc abcd\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        }
    }
}
