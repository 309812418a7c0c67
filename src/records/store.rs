//! The records database: one SQLite file, `records.sqlite`, in the state
//! directory, and every query the bot makes of it. Keeping the SQL in this
//! one module is what would let a Postgres backend stand behind the same
//! methods later: nothing else in the crate writes SQL.
//!
//! Each record is written in its own transaction in WAL mode, so a crash,
//! even `kill -9`, loses nothing that was committed, and a full disk fails
//! one record cleanly instead of tearing a line. The schema carries a version
//! (`PRAGMA user_version`) and is brought up to date by [`MIGRATIONS`] when
//! the database is opened; the first migration imports the JSON-lines files
//! of earlier versions once and leaves them where they are.

use super::answers::SentAnswer;
use super::feedback::{Feedback, Vote};
use super::unanswered::Unanswered;
use crate::core::Lang;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// The database file, in the state directory.
pub const FILE: &str = "records.sqlite";

/// The JSON-lines files earlier versions kept, imported by the first migration.
pub const LEGACY_FILES: [&str; 3] = [
    super::unanswered::FILE,
    super::feedback::FILE,
    super::answers::FILE,
];

/// How long a writer waits for another process holding the database.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Schema steps, in order; the database's `user_version` is how many ran.
const MIGRATIONS: &[fn(&Transaction, &Path) -> rusqlite::Result<()>] = &[schema_v1];

fn schema_v1(tx: &Transaction, state_dir: &Path) -> rusqlite::Result<()> {
    tx.execute_batch(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
         CREATE TABLE unanswered (
             id INTEGER PRIMARY KEY,
             time INTEGER NOT NULL,
             platform TEXT NOT NULL,
             lang TEXT NOT NULL,
             question TEXT NOT NULL,
             asker TEXT,
             closest TEXT NOT NULL -- JSON: [[fact id, score], ...]
         );
         CREATE TABLE feedback (
             id INTEGER PRIMARY KEY,
             time INTEGER NOT NULL,
             platform TEXT NOT NULL,
             fact TEXT NOT NULL,
             revision TEXT NOT NULL,
             vote TEXT NOT NULL CHECK (vote IN ('up', 'down')),
             asker TEXT
         );
         -- Each member's latest vote per answer revision: what is counted.
         CREATE TABLE votes (
             fact TEXT NOT NULL,
             asker TEXT NOT NULL, -- '' when unknown
             platform TEXT NOT NULL,
             revision TEXT NOT NULL,
             vote TEXT NOT NULL,
             PRIMARY KEY (fact, asker, platform, revision)
         ) WITHOUT ROWID;
         -- The latest answer each message carries.
         CREATE TABLE answers (
             platform TEXT NOT NULL,
             room TEXT NOT NULL,
             message TEXT NOT NULL,
             time INTEGER NOT NULL,
             fact TEXT NOT NULL,
             revision TEXT NOT NULL,
             lang TEXT NOT NULL,
             PRIMARY KEY (platform, room, message)
         ) WITHOUT ROWID;
         CREATE INDEX answers_by_time ON answers (platform, time);",
    )?;
    import_legacy(tx, state_dir)
}

/// Copies the JSON-lines records of earlier versions into the new tables.
/// The files stay as they are; the migration runs once, so they are never
/// read again.
fn import_legacy(tx: &Transaction, state_dir: &Path) -> rusqlite::Result<()> {
    let io_err = |e: io::Error| rusqlite::Error::ToSqlConversionFailure(Box::new(e));
    let unanswered: Vec<Unanswered> =
        super::read_all(&state_dir.join(super::unanswered::FILE)).map_err(io_err)?;
    for u in &unanswered {
        insert_unanswered(tx, u)?;
    }
    let feedback: Vec<Feedback> =
        super::read_all(&state_dir.join(super::feedback::FILE)).map_err(io_err)?;
    for f in &feedback {
        insert_feedback(tx, f)?;
    }
    let answers: Vec<SentAnswer> =
        super::read_all(&state_dir.join(super::answers::FILE)).map_err(io_err)?;
    for a in &answers {
        upsert_answer(tx, a)?;
    }
    if unanswered.len() + feedback.len() + answers.len() > 0 {
        tracing::info!(
            unanswered = unanswered.len(),
            feedback = feedback.len(),
            answers = answers.len(),
            "imported the JSON-lines records of an earlier version into {FILE}"
        );
    }
    Ok(())
}

/// An open records database.
pub struct Store {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl Store {
    /// Opens (creating if need be) the database of `state_dir` and brings its
    /// schema up to date.
    pub fn open(state_dir: &Path) -> io::Result<Store> {
        super::create_state_dir(state_dir)?;
        let path = state_dir.join(FILE);
        let fail = |e: rusqlite::Error| at(&path, "cannot open the records database", e);
        let mut conn = Connection::open(&path).map_err(fail)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(fail)?;
        // WAL: a commit is one append to the log, readers never block the
        // writer. NORMAL: a committed record survives the process dying; only
        // a power cut may cost the last moments.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(fail)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(fail)?;
        migrate(&mut conn, state_dir).map_err(fail)?;
        Ok(Store {
            path,
            conn: Mutex::new(conn),
        })
    }

    /// Opens the database for reading if the state directory has records
    /// (the database, or JSON-lines files to import); `None` if it has none,
    /// so that looking creates nothing.
    pub fn open_existing(state_dir: &Path) -> io::Result<Option<Store>> {
        super::check_state_dir(state_dir)?;
        Store::has_records(state_dir)
            .then(|| Store::open(state_dir))
            .transpose()
    }

    /// Whether `state_dir` holds records of any version.
    pub fn has_records(state_dir: &Path) -> bool {
        std::iter::once(FILE)
            .chain(LEGACY_FILES)
            .any(|f| state_dir.join(f).exists())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` in one transaction: all of it is recorded, or none.
    fn write(
        &self,
        what: &str,
        f: impl FnOnce(&Transaction) -> rusqlite::Result<()>,
    ) -> io::Result<()> {
        let mut conn = self.conn();
        let run = || {
            let tx = conn.transaction()?;
            f(&tx)?;
            tx.commit()
        };
        run().map_err(|e| at(&self.path, what, e))
    }

    fn read<T>(
        &self,
        what: &str,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> io::Result<T> {
        f(&self.conn()).map_err(|e| at(&self.path, what, e))
    }

    /// A value kept in the database's own settings table.
    pub fn meta(&self, key: &str) -> io::Result<Option<String>> {
        self.read("cannot read the records database", |c| {
            c.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                .optional()
        })
    }

    pub fn set_meta(&self, key: &str, value: &str) -> io::Result<()> {
        self.write("cannot write to the records database", |tx| {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [key, value],
            )
            .map(drop)
        })
    }

    pub fn add_unanswered(&self, u: &Unanswered) -> io::Result<()> {
        self.write("cannot record an unanswered question", |tx| {
            insert_unanswered(tx, u)
        })
    }

    /// Every unanswered question, oldest first.
    pub fn unanswered(&self) -> io::Result<Vec<Unanswered>> {
        self.read("cannot read unanswered questions", |c| {
            let mut stmt = c.prepare(
                "SELECT time, platform, lang, question, asker, closest
                 FROM unanswered ORDER BY id",
            )?;
            let rows = stmt.query_map([], |r| {
                let lang: String = r.get(2)?;
                let closest: String = r.get(5)?;
                Ok(Unanswered {
                    time: r.get(0)?,
                    platform: r.get(1)?,
                    lang: lang.parse().unwrap_or(Lang::En),
                    question: r.get(3)?,
                    asker: r.get(4)?,
                    closest: serde_json::from_str(&closest).unwrap_or_default(),
                })
            })?;
            rows.collect()
        })
    }

    pub fn add_feedback(&self, f: &Feedback) -> io::Result<()> {
        self.write("cannot record a vote", |tx| insert_feedback(tx, f))
    }

    /// (👍, 👎) per fact, each member counted once per answer revision.
    pub fn vote_totals(&self) -> io::Result<BTreeMap<String, (usize, usize)>> {
        self.read("cannot read votes", |c| {
            let mut stmt = c.prepare(
                "SELECT fact, SUM(vote = 'up'), SUM(vote = 'down') FROM votes GROUP BY fact",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    (r.get::<_, usize>(1)?, r.get::<_, usize>(2)?),
                ))
            })?;
            rows.collect()
        })
    }

    pub fn add_answer(&self, a: &SentAnswer) -> io::Result<()> {
        self.write("cannot record a sent answer", |tx| upsert_answer(tx, a))
    }

    /// Forgets the answers sent before `before` (unix seconds); returns how
    /// many were forgotten.
    pub fn prune_answers(&self, before: u64) -> io::Result<usize> {
        let mut removed = 0;
        self.write("cannot prune sent answers", |tx| {
            removed = tx.execute("DELETE FROM answers WHERE time < ?1", [before])?;
            Ok(())
        })?;
        Ok(removed)
    }

    /// The latest answer a message carries.
    pub fn answer(
        &self,
        platform: &str,
        room: &str,
        message: &str,
    ) -> io::Result<Option<SentAnswer>> {
        self.read("cannot read sent answers", |c| {
            c.query_row(
                "SELECT time, platform, room, message, fact, revision, lang FROM answers
                 WHERE platform = ?1 AND room = ?2 AND message = ?3",
                [platform, room, message],
                sent_answer,
            )
            .optional()
        })
    }

    /// The answers of `platform` sent at or after `since`, oldest first.
    pub fn answers_since(&self, platform: &str, since: u64) -> io::Result<Vec<SentAnswer>> {
        self.read("cannot read sent answers", |c| {
            let mut stmt = c.prepare(
                "SELECT time, platform, room, message, fact, revision, lang FROM answers
                 WHERE platform = ?1 AND time >= ?2 ORDER BY time",
            )?;
            let rows = stmt.query_map(params![platform, since], sent_answer)?;
            rows.collect()
        })
    }
}

fn insert_unanswered(tx: &Transaction, u: &Unanswered) -> rusqlite::Result<()> {
    let closest = serde_json::to_string(&u.closest).unwrap_or_else(|_| "[]".into());
    tx.execute(
        "INSERT INTO unanswered (time, platform, lang, question, asker, closest)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            u.time,
            u.platform,
            u.lang.code(),
            u.question,
            u.asker,
            closest
        ],
    )
    .map(drop)
}

fn insert_feedback(tx: &Transaction, f: &Feedback) -> rusqlite::Result<()> {
    let vote = match f.vote {
        Vote::Up => "up",
        Vote::Down => "down",
    };
    tx.execute(
        "INSERT INTO feedback (time, platform, fact, revision, vote, asker)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![f.time, f.platform, f.fact, f.revision, vote, f.asker],
    )?;
    tx.execute(
        "INSERT INTO votes (fact, asker, platform, revision, vote) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (fact, asker, platform, revision) DO UPDATE SET vote = excluded.vote",
        params![
            f.fact,
            f.asker.as_deref().unwrap_or(""),
            f.platform,
            f.revision,
            vote
        ],
    )
    .map(drop)
}

fn upsert_answer(tx: &Transaction, a: &SentAnswer) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO answers (platform, room, message, time, fact, revision, lang)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (platform, room, message) DO UPDATE SET
             time = excluded.time, fact = excluded.fact,
             revision = excluded.revision, lang = excluded.lang",
        params![
            a.platform,
            a.room,
            a.message,
            a.time,
            a.fact,
            a.revision,
            a.lang.code()
        ],
    )
    .map(drop)
}

fn sent_answer(r: &rusqlite::Row) -> rusqlite::Result<SentAnswer> {
    let lang: String = r.get(6)?;
    Ok(SentAnswer {
        time: r.get(0)?,
        platform: r.get(1)?,
        room: r.get(2)?,
        message: r.get(3)?,
        fact: r.get(4)?,
        revision: r.get(5)?,
        lang: lang.parse().unwrap_or(Lang::En),
    })
}

/// Runs the migrations the database has not had yet, each with the version
/// bump in one transaction. `BEGIN IMMEDIATE` makes a second process that
/// opens the same database at the same moment wait, not migrate twice.
fn migrate(conn: &mut Connection, state_dir: &Path) -> rusqlite::Result<()> {
    // Up to date (the usual case): no write lock taken, so a reader never
    // waits for a busy writer.
    let version: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version == MIGRATIONS.len() {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let version: usize = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > MIGRATIONS.len() {
        return Err(rusqlite::Error::ToSqlConversionFailure(
            format!(
                "schema version {version} is newer than this kotae knows ({}); upgrade kotae",
                MIGRATIONS.len()
            )
            .into(),
        ));
    }
    for step in &MIGRATIONS[version..] {
        step(&tx, state_dir)?;
    }
    tx.pragma_update(None, "user_version", MIGRATIONS.len())?;
    tx.commit()
}

/// A database error as an I/O error that names the file.
fn at(path: &Path, what: &str, e: rusqlite::Error) -> io::Error {
    let kind = match &e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DiskFull => {
            io::ErrorKind::StorageFull
        }
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::PermissionDenied
                || f.code == rusqlite::ErrorCode::ReadOnly =>
        {
            io::ErrorKind::PermissionDenied
        }
        _ => io::ErrorKind::Other,
    };
    let detail = match e {
        rusqlite::Error::ToSqlConversionFailure(inner) => inner.to_string(),
        e => e.to_string(),
    };
    io::Error::new(kind, format!("{what} {}: {detail}", path.display()))
}
