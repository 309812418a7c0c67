//! The records database as an operator meets it: state from earlier
//! versions imported once and left alone, nothing committed lost to
//! `kill -9`, and a full disk costing only the records it refused.

use kotae::records::{Records, Store, answers, feedback, unanswered};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A state directory as version 0.1 left it: three JSON-lines files (one
/// with a torn last line from a crash) and the salt.
fn old_state(dir: &Path) {
    std::fs::write(dir.join("salt"), [3u8; 32]).unwrap();
    std::fs::write(
        dir.join(unanswered::FILE),
        concat!(
            r#"{"time":100,"platform":"matrix","lang":"en","question":"Where is the embassy?","asker":"aa11","closest":[["locations",0.5]]}"#,
            "\n",
            r#"{"time":101,"platform":"discord","lang":"ja","question":"大使館はどこ?","asker":null,"closest":[]}"#,
            "\n",
            r#"{"time":102,"platform":"matrix","lang":"en","quest"#,
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join(feedback::FILE),
        concat!(
            r#"{"time":5,"platform":"matrix","fact":"impact","revision":"r1","vote":"down","asker":"aa11"}"#,
            "\n",
            r#"{"time":6,"platform":"matrix","fact":"impact","revision":"r1","vote":"up","asker":"aa11"}"#,
            "\n",
            r#"{"time":7,"platform":"matrix","fact":"impact","revision":"r1","vote":"down","asker":"bb22"}"#,
            "\n",
        ),
    )
    .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    std::fs::write(
        dir.join(answers::FILE),
        format!(
            "{}\n{}\n",
            serde_json::json!({"time": now - 10, "platform": "matrix", "room": "!r", "message": "$1", "fact": "impact", "revision": "old", "lang": "en"}),
            serde_json::json!({"time": now - 5, "platform": "matrix", "room": "!r", "message": "$1", "fact": "impact", "revision": "new", "lang": "en"}),
        ),
    )
    .unwrap();
}

fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    [unanswered::FILE, feedback::FILE, answers::FILE, "salt"]
        .iter()
        .map(|f| (f.to_string(), std::fs::read(dir.join(f)).unwrap()))
        .collect()
}

#[test]
fn json_lines_state_of_an_earlier_version_is_imported_once_and_left_alone() {
    let state = tempfile::tempdir().unwrap();
    old_state(state.path());
    let before = snapshot(state.path());

    let records = Records::open(state.path()).expect("the old state opens");
    let read = unanswered::read(state.path()).unwrap();
    assert_eq!(read.len(), 2, "the torn line is skipped: {read:?}");
    assert_eq!(read[0].question, "Where is the embassy?");
    assert_eq!(read[0].asker.as_deref(), Some("aa11"));
    assert_eq!(read[0].closest, vec![("locations".to_string(), 0.5)]);
    assert_eq!(read[1].lang, kotae::core::Lang::Ja);
    assert_eq!(read[1].asker, None);
    // aa11 changed their mind to 👍; bb22 says 👎.
    assert_eq!(feedback::summary(state.path()).unwrap()["impact"], (1, 1));
    let sent = records.answers.find("matrix", "!r", "$1").unwrap().unwrap();
    assert_eq!(sent.revision, "new");
    assert_eq!(
        records
            .answers
            .recent("matrix", &["impact".to_string()], 3600)
            .unwrap()
            .len(),
        1
    );

    // New records go to the database; the old files are never touched.
    records
        .feedback
        .record("matrix", "@c:x", "impact", "r1", feedback::Vote::Down)
        .unwrap();
    drop(records);
    assert_eq!(snapshot(state.path()), before);
    assert!(state.path().join(kotae::records::store::FILE).exists());

    // Opened again, nothing is imported twice.
    let _records = Records::open(state.path()).unwrap();
    assert_eq!(unanswered::read(state.path()).unwrap().len(), 2);
    assert_eq!(feedback::summary(state.path()).unwrap()["impact"], (1, 2));
}

#[test]
fn reading_an_empty_state_directory_creates_nothing() {
    let state = tempfile::tempdir().unwrap();
    assert!(unanswered::read(state.path()).unwrap().is_empty());
    assert!(feedback::summary(state.path()).unwrap().is_empty());
    assert!(!Store::has_records(state.path()));
    assert_eq!(std::fs::read_dir(state.path()).unwrap().count(), 0);
}

/// The `i`th of as many distinct questions as a test needs, each declined:
/// no number the story has ("in year 2003" is close to the memorandum
/// signed in Tokyo and Vladivostok, and was answered).
fn off_topic(i: usize) -> String {
    format!("How tall is Tokyo Tower in year {}?", 1_000_000 + i)
}

fn chat(state: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kotae"));
    c.args(["chat", "--state-dir", state.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::null());
    c
}

#[test]
fn the_records_database_survives_kill_9_mid_write() {
    let state = tempfile::tempdir().unwrap();
    let mut child = chat(state.path()).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // Feed declined questions until many are recorded, then kill.
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        for i in 0.. {
            if writeln!(stdin, "{}", off_topic(i)).is_err() {
                break;
            }
        }
    });
    wait_for("records", || {
        unanswered::read(state.path()).is_ok_and(|r| r.len() > 200)
    });
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    writer.join().unwrap();

    let before = unanswered::read(state.path()).unwrap();
    assert!(before.len() > 200, "{} records", before.len());
    assert!(
        before
            .iter()
            .enumerate()
            .all(|(i, r)| r.question == off_topic(i)),
        "every committed record is whole and in order"
    );
    // The next run records after whatever the kill left behind.
    let mut next = chat(state.path()).spawn().unwrap();
    {
        use std::io::Write;
        let mut stdin = next.stdin.take().unwrap();
        stdin
            .write_all(b"Who won the football match yesterday?\n")
            .unwrap();
    }
    assert!(next.wait().unwrap().success());
    let after = unanswered::read(state.path()).unwrap();
    assert_eq!(after.len(), before.len() + 1);
    assert_eq!(
        after.last().unwrap().question,
        "Who won the football match yesterday?"
    );
    let groups = unanswered::groups(&after);
    assert!(
        groups[0].count >= before.len() - 1,
        "the Tokyo Tower questions group together"
    );
}

/// Mounts a 1 MiB tmpfs; `None` (with a message) when not root.
struct SmallDisk(tempfile::TempDir);

impl SmallDisk {
    fn mount() -> Option<SmallDisk> {
        let dir = tempfile::tempdir().unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=1m", "kotae-test"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            println!("skipped: mounting a small tmpfs needs root");
            return None;
        }
        Some(SmallDisk(dir))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0.path()).status();
    }
}

#[test]
fn a_full_disk_refuses_records_cleanly_and_loses_none_after_space_returns() {
    let Some(disk) = SmallDisk::mount() else {
        return;
    };
    let state = disk.0.path().join("state");
    let records = Records::open(&state).unwrap();
    let kotae = kotae::core::Kotae::new(kotae::core::load::load_embedded().unwrap().base);
    let ask = |i: usize| {
        let reply = kotae
            .ask(&off_topic(i), kotae::core::LangChoice::Detect)
            .unwrap();
        records.unanswered.record("matrix", Some("@a:x"), &reply)
    };
    // Fill the disk with a file, then record until a record is refused.
    let filler = disk.0.path().join("filler");
    let _ = std::fs::write(&filler, vec![0u8; 2 << 20]);
    let mut accepted = 0;
    let error = loop {
        match ask(accepted) {
            Ok(()) => accepted += 1,
            Err(e) => break e,
        }
        assert!(accepted < 100_000, "the disk never filled");
    };
    assert_eq!(error.kind(), std::io::ErrorKind::StorageFull, "{error}");
    assert!(
        error.to_string().contains(&state.display().to_string()),
        "{error}"
    );
    // Space comes back: the next record is whole, and none before it lost.
    std::fs::remove_file(&filler).unwrap();
    ask(accepted).expect("recording works again");
    let read = unanswered::read(&state).unwrap();
    assert_eq!(read.len(), accepted + 1);
    assert!(
        read.iter()
            .enumerate()
            .all(|(i, r)| r.question == off_topic(i))
    );
}
