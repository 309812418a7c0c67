//! Loading and validating a knowledge directory.
//!
//! A knowledge directory holds `sources.toml`, the optional `aliases.toml`,
//! `chat.toml` and `gaps.toml`, and `facts/*.toml`. Loading reads everything, checks
//! everything, and returns either a whole [`FactBase`] (with warnings) or the
//! problems found, each with its file, line and column: all of them up to
//! [`MAX_ERRORS`] errors, where checking stops and one more error says what
//! was not shown. It never half-loads: a base with one error is not served,
//! so moderators can fix a file while the bot keeps the last good base.
//!
//! Three steps, one file each: [`files`] finds and reads the files (regular
//! files only, within [`Limits`]), [`raw`] is their schema and parses them
//! in bounded memory, [`validate`] turns them into facts. This file runs the
//! steps in order.

mod claims;
mod files;
mod raw;
mod validate;

pub use files::{Limits, MAX_BASE_VAR, MAX_FILE_VAR, OPTIONAL_FILES, display_name, fingerprint};
pub use raw::MAX_PART_BYTES;
pub use validate::MAX_ERRORS;

use super::knowledge::{AliasGroup, ChatWord, Fact, FactBase, Gap, Source};
use super::parallel;
use raw::{AliasesFile, ChatFile, FactsFile, GapsFile, Parsed, RawFile, SourcesFile};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::fmt;
use std::path::Path;
use validate::{Checked, Untold, Validator};

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

/// Validates files into a fact base, or returns the errors found (warnings
/// included, errors first).
///
/// Each file is cut into parts and the parts are parsed and checked as they
/// are cut (facts a batch at a time, see [`next_batch`]), so what a part
/// costs to parse is given back soon after; only what is valid is kept.
/// Sources are read first, so each fact is checked against them as soon as
/// it is read. Past [`MAX_ERRORS`] errors, nothing more is checked, in this
/// file or the next: one more error says where checking stopped and how
/// many errors were found and not shown.
pub fn load(files: &KnowledgeFiles) -> Result<Loaded, Vec<Diagnostic>> {
    let mut v = Validator::default();
    if !files.files.iter().any(|(n, _)| n == "sources.toml") {
        v.push(file_error(
            "sources.toml",
            "missing: a knowledge directory needs sources.toml".into(),
        ));
    }
    let mut order: Vec<(Kind, &str, &str)> = files
        .files
        .iter()
        .map(|(name, text)| (Kind::of(name), name.as_str(), text.as_str()))
        .collect();
    order.sort_by_key(|(kind, ..)| *kind);
    let mut read = Read::default();
    let mut stopped = None;
    'files: for (i, &(kind, file, text)) in order.iter().enumerate() {
        let mut parts = raw::split(text, kind.root());
        loop {
            let batch = next_batch(&mut parts, kind);
            if batch.is_empty() {
                break;
            }
            for (part, parsed) in batch {
                if v.is_full() {
                    stopped = Some(Stopped {
                        file,
                        line: part.first_line,
                        files_left: order.len() - i - 1,
                    });
                    break 'files;
                }
                let at = Checked {
                    file,
                    text: part.text,
                    first_line: part.first_line,
                };
                if at.text.len() > MAX_PART_BYTES {
                    too_large(&mut v, at);
                    continue;
                }
                read.part(&mut v, kind, &at, parsed);
            }
        }
    }
    // Across facts, an unread file's facts would be missing: `related`
    // would name "unknown" facts that are there.
    if stopped.is_none() {
        v.check_across_facts(&read.facts);
    }
    let (mut diags, untold) = v.finish();
    diags.sort_by_key(|d| std::cmp::Reverse(d.severity));
    if let Some(note) = not_shown(stopped, untold) {
        let errors = diags.partition_point(|d| d.severity == Severity::Error);
        diags.insert(errors, note);
    }
    if diags.iter().any(|d| d.severity == Severity::Error) {
        return Err(diags);
    }
    let base = FactBase::new(
        read.facts,
        read.sources,
        read.aliases,
        read.chat,
        read.gaps,
        files.revision(),
    );
    Ok(Loaded {
        base,
        warnings: diags,
    })
}

/// Facts files are parsed ahead a batch of parts at a time, about this much
/// text, on every core. Parsing one part costs a multiple of its size (see
/// [`raw`]) on each core at once, and a batch's parsed facts are kept until
/// they are checked: memory stays bounded.
const BATCH_BYTES: usize = 1 << 20;

/// Fewer parts than this are parsed on one thread.
const MIN_PARSE_RUN: usize = 16;

/// The next parts of a file, empty at its end: one part, or for a facts
/// file enough parts for [`BATCH_BYTES`], each parsed already on every core
/// (but one too large to parse). A big base is mostly facts, and parsing
/// them most of what loading it costs.
fn next_batch<'a>(
    parts: &mut raw::Split<'a>,
    kind: Kind,
) -> Vec<(raw::Part<'a>, Option<Parsed<FactsFile>>)> {
    if kind != Kind::Facts {
        return parts.next().map(|p| (p, None)).into_iter().collect();
    }
    let mut batch = Vec::new();
    let mut bytes = 0;
    while bytes < BATCH_BYTES
        && let Some(part) = parts.next()
    {
        bytes += part.text.len();
        batch.push(part);
    }
    let parsed = parallel::in_runs(&batch, MIN_PARSE_RUN, |_, parts| {
        let parse = |p: &raw::Part| (p.text.len() <= MAX_PART_BYTES).then(|| raw::parse(p.text));
        parts.iter().map(parse).collect::<Vec<_>>()
    });
    batch
        .into_iter()
        .zip(parsed.into_iter().flatten())
        .collect()
}

/// What the files have given so far that is valid.
#[derive(Default)]
struct Read {
    sources: Vec<Source>,
    known_sources: HashSet<String>,
    aliases: Vec<AliasGroup>,
    chat: Vec<ChatWord>,
    gaps: Vec<Gap>,
    facts: Vec<Fact>,
}

impl Read {
    /// Checks one part of a file, parsing it unless it was parsed already.
    fn part(
        &mut self,
        v: &mut Validator,
        kind: Kind,
        at: &Checked,
        parsed: Option<Parsed<FactsFile>>,
    ) {
        match kind {
            Kind::Sources => {
                if let Some(f) = v.parse::<SourcesFile>(at) {
                    for s in f.source {
                        if let Some(s) = v.source(at, s) {
                            self.known_sources.insert(s.id.clone());
                            self.sources.push(s);
                        }
                    }
                }
            }
            Kind::Aliases => {
                if let Some(f) = v.parse::<AliasesFile>(at) {
                    let aliases = f.alias.into_iter().filter_map(|a| v.alias(at, a));
                    self.aliases.extend(aliases);
                }
            }
            Kind::Chat => {
                if let Some(f) = v.parse::<ChatFile>(at) {
                    let words = f.word.into_iter().filter_map(|w| v.chat_word(at, w));
                    self.chat.extend(words);
                }
            }
            Kind::Gaps => {
                if let Some(f) = v.parse::<GapsFile>(at) {
                    self.gaps
                        .extend(f.gap.into_iter().filter_map(|g| v.gap(at, g)));
                }
            }
            Kind::Facts => {
                let f = match parsed {
                    Some(parsed) => v.parsed(at, parsed),
                    None => v.parse::<FactsFile>(at),
                };
                for fact in f.map(|f| f.fact).into_iter().flatten() {
                    self.facts.extend(v.fact(at, fact, &self.known_sources));
                }
            }
        }
    }
}

/// Where reading stopped, after [`MAX_ERRORS`] errors.
struct Stopped<'a> {
    file: &'a str,
    line: usize,
    /// The files after `file`, not read either.
    files_left: usize,
}

impl Stopped<'_> {
    /// What was not checked, `file` called `this` ("this file", "that file").
    fn rest(&self, this: &str) -> String {
        // Only a file's first part starts on its first line.
        let this = if self.line == 1 {
            this.to_string()
        } else {
            format!("the rest of {this}")
        };
        match self.files_left {
            0 => format!("{this} was not checked"),
            1 => format!("{this} and 1 more file were not checked"),
            n => format!("{this} and {n} more files were not checked"),
        }
    }
}

/// The error that says what was not shown or not checked, if anything was
/// not: at the first error not shown, or else where checking stopped.
fn not_shown(stopped: Option<Stopped>, untold: Option<Untold>) -> Option<Diagnostic> {
    const FIX: &str = "fix the errors shown and check again";
    let (file, line, column, message) = match (stopped, untold) {
        (None, None) => return None,
        (Some(s), None) => (
            s.file.to_string(),
            s.line,
            1,
            format!(
                "checking stopped here after {MAX_ERRORS} errors: {}; {FIX}",
                s.rest("this file")
            ),
        ),
        (s, Some(u)) => {
            let more = match u.count {
                1 => "1 more error from here on was".to_string(),
                n => format!("{n} more errors from here on were"),
            };
            let stopped = s.map_or_else(String::new, |s| {
                format!(
                    ", and checking stopped at {}:{}: {}",
                    s.file,
                    s.line,
                    s.rest("that file")
                )
            });
            (
                u.file,
                u.line,
                u.column,
                format!("{more} not shown (at most {MAX_ERRORS} errors are){stopped}; {FIX}"),
            )
        }
    };
    Some(Diagnostic {
        severity: Severity::Error,
        file,
        line,
        column,
        message,
    })
}

fn too_large(v: &mut Validator, at: Checked) {
    v.push(Diagnostic {
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

/// What a knowledge file holds, by its name; in the order files are read.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Sources,
    Aliases,
    Chat,
    Gaps,
    Facts,
}

impl Kind {
    fn of(name: &str) -> Kind {
        match name {
            "sources.toml" => Kind::Sources,
            "aliases.toml" => Kind::Aliases,
            "chat.toml" => Kind::Chat,
            "gaps.toml" => Kind::Gaps,
            _ => Kind::Facts,
        }
    }

    /// The name of the file's array of tables, where it is cut into parts.
    fn root(self) -> &'static str {
        match self {
            Kind::Sources => SourcesFile::ROOT,
            Kind::Aliases => AliasesFile::ROOT,
            Kind::Chat => ChatFile::ROOT,
            Kind::Gaps => GapsFile::ROOT,
            Kind::Facts => FactsFile::ROOT,
        }
    }
}
