//! Loading and validating a knowledge directory.
//!
//! A knowledge directory holds `sources.toml`, an optional `aliases.toml`
//! and `chat.toml`, and `facts/*.toml`. Loading reads everything, checks everything, and returns
//! either a whole [`FactBase`] (with warnings) or every problem found, each
//! with its file, line and column. It never half-loads: a base with one error
//! is not served, so moderators can fix a file while the bot keeps the last
//! good base.
//!
//! Three steps, one file each: [`files`] finds and reads the files (regular
//! files only, within [`Limits`]), [`raw`] is their schema and parses them
//! in bounded memory, [`validate`] turns them into facts. This file runs the
//! steps in order.

mod files;
mod raw;
mod validate;

pub use files::{Limits, MAX_BASE_VAR, MAX_FILE_VAR, OPTIONAL_FILES, display_name, fingerprint};
pub use raw::MAX_PART_BYTES;

use super::knowledge::{Fact, FactBase, Source};
use raw::{AliasesFile, ChatFile, FactsFile, RawFile, SourcesFile};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::fmt;
use std::path::Path;
use validate::{Checked, Validator};

/// The fact base compiled into the binary, so `kotae` answers from anywhere.
static EMBEDDED: include_dir::Dir<'static> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/knowledge");

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

/// One problem in a knowledge directory, located for a moderator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(
            f,
            "{}:{}:{}: {kind}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

/// A knowledge directory's files as text, from disk or from the binary.
#[derive(Debug, Clone, Default)]
pub struct KnowledgeFiles {
    /// (path relative to the directory, contents), facts files sorted by name.
    files: Vec<(String, String)>,
}

impl KnowledgeFiles {
    /// The fact base embedded at build time.
    pub fn embedded() -> KnowledgeFiles {
        let mut files: Vec<(String, String)> = EMBEDDED
            .find("**/*.toml")
            .into_iter()
            .flatten()
            .filter_map(|e| e.as_file())
            .filter_map(|f| {
                Some((
                    f.path().to_string_lossy().into_owned(),
                    f.contents_utf8()?.to_string(),
                ))
            })
            .collect();
        files.sort();
        KnowledgeFiles { files }
    }

    /// Reads a knowledge directory within the limits set in the environment
    /// (see [`Limits::from_env`]); a file that cannot be read is a diagnostic.
    pub fn read_dir(dir: &Path) -> Result<KnowledgeFiles, Vec<Diagnostic>> {
        let limits = Limits::from_env().map_err(|e| vec![file_error(".", e)])?;
        KnowledgeFiles::read_dir_within(dir, &limits)
    }

    /// Reads a knowledge directory within `limits`.
    pub fn read_dir_within(dir: &Path, limits: &Limits) -> Result<KnowledgeFiles, Vec<Diagnostic>> {
        let (entries, mut errors) = files::discover(dir);
        match files::read_all(entries, limits) {
            Ok(files) if errors.is_empty() => Ok(KnowledgeFiles { files }),
            Ok(_) => Err(errors),
            Err(more) => {
                errors.extend(more);
                Err(errors)
            }
        }
    }

    /// Builds from in-memory files, for tests and generated bases.
    pub fn from_files(files: Vec<(String, String)>) -> KnowledgeFiles {
        KnowledgeFiles { files }
    }

    fn revision(&self) -> String {
        let mut hash = Sha256::new();
        for (name, text) in &self.files {
            hash.update(name.as_bytes());
            hash.update([0]);
            hash.update(text.as_bytes());
            hash.update([0]);
        }
        hash.finalize()
            .iter()
            .take(6)
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

fn file_error(file: &str, message: String) -> Diagnostic {
    Diagnostic {
        severity: Severity::Error,
        file: file.to_string(),
        line: 1,
        column: 1,
        message,
    }
}

/// A loaded base with the warnings found on the way.
#[derive(Debug)]
pub struct Loaded {
    pub base: FactBase,
    pub warnings: Vec<Diagnostic>,
}

/// Loads a knowledge directory from disk.
pub fn load_dir(dir: &Path) -> Result<Loaded, Vec<Diagnostic>> {
    load(&KnowledgeFiles::read_dir(dir)?)
}

/// Loads the embedded fact base, which the build's tests keep valid.
pub fn load_embedded() -> Result<Loaded, Vec<Diagnostic>> {
    load(&KnowledgeFiles::embedded())
}

/// Validates files into a fact base, or returns every error found (warnings
/// included, errors first).
pub fn load(files: &KnowledgeFiles) -> Result<Loaded, Vec<Diagnostic>> {
    let mut v = Validator::default();
    if !files.files.iter().any(|(n, _)| n == "sources.toml") {
        v.diags.push(file_error(
            "sources.toml",
            "missing: a knowledge directory needs sources.toml".into(),
        ));
    }
    let mut parts: Vec<(Checked, Kind)> = Vec::new();
    for (name, text) in &files.files {
        let kind = Kind::of(name);
        for part in raw::split(text, kind.root()) {
            parts.push((
                Checked {
                    file: name,
                    text: part.text,
                    first_line: part.first_line,
                },
                kind,
            ));
        }
    }
    let mut sources = Vec::new();
    let mut aliases = Vec::new();
    let mut chat = Vec::new();
    let mut raw_facts = Vec::new();
    let mut failed_parts = 0;
    for (at, kind) in &parts {
        if at.text.len() > MAX_PART_BYTES {
            too_large(&mut v, at);
            continue;
        }
        // Past this many broken parts the rest of the file is likely not
        // TOML at all; more errors would only cost memory.
        if failed_parts >= MAX_BROKEN_PARTS {
            break;
        }
        let before = v.diags.len();
        match kind {
            Kind::Sources => {
                if let Some(f) = v.parse::<SourcesFile>(at) {
                    sources.extend(f.source.into_iter().filter_map(|s| v.source(at, s)));
                }
            }
            Kind::Aliases => {
                if let Some(f) = v.parse::<AliasesFile>(at) {
                    aliases.extend(f.alias.into_iter().filter_map(|a| v.alias(at, a)));
                }
            }
            Kind::Chat => {
                if let Some(f) = v.parse::<ChatFile>(at) {
                    chat.extend(f.word.into_iter().filter_map(|w| v.chat_word(at, w)));
                }
            }
            Kind::Facts => {
                if let Some(f) = v.parse::<FactsFile>(at) {
                    raw_facts.extend(f.fact.into_iter().map(|fact| (at, fact)));
                }
            }
        }
        failed_parts += usize::from(v.diags.len() > before);
    }
    let known_sources: HashSet<&str> = sources.iter().map(|s: &Source| s.id.as_str()).collect();
    let facts: Vec<Fact> = raw_facts
        .into_iter()
        .filter_map(|(at, raw)| v.fact(at, raw, &known_sources))
        .collect();
    v.check_across_facts(&facts);
    let mut diags = v.diags;
    diags.sort_by_key(|d| std::cmp::Reverse(d.severity));
    if diags.iter().any(|d| d.severity == Severity::Error) {
        return Err(diags);
    }
    let base = FactBase::new(facts, sources, aliases, chat, files.revision());
    Ok(Loaded {
        base,
        warnings: diags,
    })
}

/// After this many parts with errors, loading stops reading more parts.
const MAX_BROKEN_PARTS: usize = 50;

fn too_large(v: &mut Validator, at: &Checked) {
    v.diags.push(Diagnostic {
        severity: Severity::Error,
        file: at.file.to_string(),
        line: at.first_line,
        column: 1,
        message: format!(
            "from here to the next [[...]] table is {} bytes; one table may be at most {} \
             bytes, so this part was not read (is a quote or bracket left open?)",
            at.text.len(),
            MAX_PART_BYTES
        ),
    });
}

/// What a knowledge file holds, by its name.
#[derive(Clone, Copy)]
enum Kind {
    Sources,
    Aliases,
    Chat,
    Facts,
}

impl Kind {
    fn of(name: &str) -> Kind {
        match name {
            "sources.toml" => Kind::Sources,
            "aliases.toml" => Kind::Aliases,
            "chat.toml" => Kind::Chat,
            _ => Kind::Facts,
        }
    }

    /// The name of the file's array of tables, where it is cut into parts.
    fn root(self) -> &'static str {
        match self {
            Kind::Sources => SourcesFile::ROOT,
            Kind::Aliases => AliasesFile::ROOT,
            Kind::Chat => ChatFile::ROOT,
            Kind::Facts => FactsFile::ROOT,
        }
    }
}
