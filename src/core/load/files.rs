//! Finding and reading a knowledge directory's files, within bounds.
//!
//! Which files make a base: `sources.toml`, the optional files in
//! [`OPTIONAL_FILES`], and `facts/*.toml`. Each is read only if it is a
//! regular file (a symlink to one is fine, as in a Kubernetes ConfigMap)
//! and no larger than [`Limits`]: a fifo, a device such as `/dev/zero` or a
//! huge file is refused with a message instead of hanging or filling memory.
//! Files are opened non-blocking, so even a fifo swapped in between the
//! check and the open cannot stall a reload.

use super::{Diagnostic, file_error};
use std::ffi::OsStr;
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Files a knowledge directory may have besides `sources.toml` and `facts/`;
/// each is loaded when present.
pub const OPTIONAL_FILES: &[&str] = &["aliases.toml", "chat.toml", "gaps.toml"];

/// How much a knowledge directory may hold. Generous: a base of 10,000
/// facts in one file is about 37 MB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest file read.
    pub max_file_bytes: u64,
    /// The most read for one base, all files together.
    pub max_base_bytes: u64,
}

/// The settings that override the [`Limits`] defaults.
pub const MAX_FILE_VAR: &str = "KOTAE_KNOWLEDGE_MAX_FILE_BYTES";
pub const MAX_BASE_VAR: &str = "KOTAE_KNOWLEDGE_MAX_BASE_BYTES";

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_file_bytes: 64 << 20,
            max_base_bytes: 256 << 20,
        }
    }
}

impl Limits {
    /// The defaults, overridden by `KOTAE_KNOWLEDGE_MAX_FILE_BYTES` and
    /// `KOTAE_KNOWLEDGE_MAX_BASE_BYTES` (bytes, or with a KiB, MiB or GiB
    /// suffix). A value that is not a size is an error naming it.
    pub fn from_env() -> Result<Limits, String> {
        let mut limits = Limits::default();
        for (var, field) in [
            (MAX_FILE_VAR, &mut limits.max_file_bytes),
            (MAX_BASE_VAR, &mut limits.max_base_bytes),
        ] {
            if let Ok(value) = std::env::var(var) {
                *field = parse_size(&value).ok_or_else(|| {
                    format!("{var} = {value:?} is not a size: write bytes, or a number with KiB, MiB or GiB")
                })?;
            }
        }
        Ok(limits)
    }
}

fn parse_size(value: &str) -> Option<u64> {
    let value = value.trim();
    let digits = value
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(digits);
    let shift = match unit.trim() {
        "" => 0,
        "KiB" | "K" | "k" => 10,
        "MiB" | "M" => 20,
        "GiB" | "G" => 30,
        _ => return None,
    };
    number
        .parse::<u64>()
        .ok()?
        .checked_mul(1 << shift)
        .filter(|n| *n > 0)
}

/// One file of a knowledge directory.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Relative to the directory, as moderators read it: one line, with
    /// control characters and bytes that are not UTF-8 escaped.
    pub name: String,
    pub path: PathBuf,
}

/// The files that make up the base in `dir`, and what could not be listed.
pub fn discover(dir: &Path) -> (Vec<Entry>, Vec<Diagnostic>) {
    let mut errors = Vec::new();
    let mut entries = vec![entry(dir, "sources.toml")];
    for name in OPTIONAL_FILES {
        // symlink_metadata: a dangling link is reported, not skipped.
        if dir.join(name).symlink_metadata().is_ok() {
            entries.push(entry(dir, name));
        }
    }
    match std::fs::read_dir(dir.join("facts")) {
        Ok(list) => {
            let mut facts: Vec<(std::ffi::OsString, PathBuf)> = list
                .filter_map(|e| e.ok())
                .map(|e| (e.file_name(), e.path()))
                .filter(|(n, _)| {
                    let n = n.as_encoded_bytes();
                    n.ends_with(b".toml") && !n.starts_with(b".")
                })
                .collect();
            facts.sort();
            entries.extend(facts.into_iter().map(|(name, path)| Entry {
                name: format!("facts/{}", display_name(&name)),
                path,
            }));
        }
        Err(e) => errors.push(file_error(
            "facts",
            format!("cannot read the facts directory: {e}"),
        )),
    }
    (entries, errors)
}

fn entry(dir: &Path, name: &str) -> Entry {
    Entry {
        name: name.to_string(),
        path: dir.join(name),
    }
}

/// A file name fit for a `file:line:column` line: UTF-8 as it is, control
/// characters (a newline!) escaped, bytes that are not UTF-8 as `\xNN`.
pub fn display_name(name: &OsStr) -> String {
    let mut out = String::new();
    for chunk in name.as_encoded_bytes().utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_control() {
                out.extend(c.escape_default());
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// Reads every file of `entries`, refusing what is not a regular file or is
/// over the limits. All problems are reported, each naming its file.
pub fn read_all(
    entries: Vec<Entry>,
    limits: &Limits,
) -> Result<Vec<(String, String)>, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let mut files = Vec::new();
    let mut total: u64 = 0;
    for e in entries {
        let room = limits.max_base_bytes.saturating_sub(total);
        match read_bounded(&e.path, limits.max_file_bytes, room) {
            Ok(text) => {
                total += text.len() as u64;
                files.push((e.name, text));
            }
            Err(message) => errors.push(file_error(&e.name, message)),
        }
    }
    if errors.is_empty() {
        Ok(files)
    } else {
        Err(errors)
    }
}

/// Reads one file of at most `max_file` bytes while `room` remains of the
/// base's budget.
fn read_bounded(path: &Path, max_file: u64, room: u64) -> Result<String, String> {
    let file = open_nonblocking(path).map_err(|e| format!("cannot read: {e}"))?;
    let meta = file.metadata().map_err(|e| format!("cannot read: {e}"))?;
    if !meta.is_file() {
        return Err(format!(
            "not a regular file ({}); only regular files, or links to them, are read",
            kind_of(&meta)
        ));
    }
    let over = |len: u64| {
        if len > max_file {
            Some(format!(
                "the file is {len} bytes, over the limit of {max_file} bytes per file ({MAX_FILE_VAR})"
            ))
        } else if len > room {
            Some(format!(
                "the knowledge directory is over the limit of its total size with this file \
                 ({MAX_BASE_VAR})"
            ))
        } else {
            None
        }
    };
    if let Some(message) = over(meta.len()) {
        return Err(message);
    }
    // The size can change between the stat and the read: read no more than
    // the limit allows, plus one byte to notice.
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(max_file.min(room) + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    if let Some(message) = over(bytes.len() as u64) {
        return Err(message);
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
        let column = std::str::from_utf8(
            &valid[valid.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1)..],
        )
        .map_or(1, |s| s.chars().count() + 1);
        format!("not valid UTF-8 at line {line}, column {column}")
    })
}

fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a fifo";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if meta.is_dir() {
        "a directory"
    } else {
        "not a file"
    }
}

fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    // A fifo opened for reading blocks until a writer appears; non-blocking,
    // the open returns at once and the type check refuses it.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    options.open(path)
}

/// A cheap summary of the directory's state (names, identities, sizes and
/// times of its files, nothing read), for the periodic check that catches
/// what file events miss.
pub fn fingerprint(dir: &Path) -> u64 {
    let mut hash = std::hash::DefaultHasher::new();
    let (entries, errors) = discover(dir);
    errors.len().hash(&mut hash);
    for e in entries {
        e.name.hash(&mut hash);
        match std::fs::metadata(&e.path) {
            Ok(m) => {
                #[cfg(unix)]
                {
                    use std::os::unix::fs::MetadataExt;
                    (
                        m.dev(),
                        m.ino(),
                        m.size(),
                        m.mtime(),
                        m.mtime_nsec(),
                        m.ctime(),
                        m.ctime_nsec(),
                    )
                        .hash(&mut hash);
                }
                #[cfg(not(unix))]
                (m.len(), m.modified().ok()).hash(&mut hash);
            }
            Err(e) => e.kind().hash(&mut hash),
        }
    }
    hash.finish()
}
