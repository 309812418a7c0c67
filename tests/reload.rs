//! Moderators' workflow without a chat platform: live reload of a knowledge
//! directory (valid edits swapped in, broken ones rejected with their line,
//! the moderator's files never touched), and the unanswered-questions file
//! surviving a `kill -9` mid-write.

#[path = "support/knowledge.rs"]
mod knowledge;
use knowledge::{NEW_FACT, NEW_QUESTION, knowledge_copy, save};

use kotae::core::{Kotae, LangChoice, load};
use kotae::records::unanswered;
use kotae::reload::{self, ReloadReport};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn wait_for(what: &str, mut done: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    start.elapsed()
}

/// Waits for a rejected reload among `reports` and returns the latest one as
/// moderators read it.
fn rejection(reports: &Mutex<Vec<ReloadReport>>) -> String {
    let latest = || {
        reports
            .lock()
            .unwrap()
            .iter()
            .rev()
            .find(|r| matches!(r, ReloadReport::Rejected(_)))
            .map(ReloadReport::to_string)
    };
    wait_for("the rejection", || latest().is_some());
    latest().unwrap()
}

fn answers(kotae: &Kotae, q: &str) -> Option<String> {
    kotae
        .ask(q, LangChoice::Detect)
        .unwrap()
        .answer()
        .map(|a| a.fact_id.clone())
}

#[test]
fn edits_are_picked_up_live_and_broken_ones_rejected_with_their_line() {
    let dir = knowledge_copy();
    let kotae = Arc::new(Kotae::new(load::load_dir(dir.path()).unwrap().base));
    let reports = Arc::new(Mutex::new(Vec::new()));
    let sink = reports.clone();
    let _watch = reload::watch(kotae.clone(), dir.path().to_path_buf(), move |r| {
        sink.lock().unwrap().push(r)
    })
    .unwrap();
    let question = NEW_QUESTION;
    assert_eq!(answers(&kotae, question), None);

    // An editor that saves by writing a new file and renaming it over.
    save(&dir.path().join("facts/new.toml"), NEW_FACT);
    let took = wait_for("the new fact", || {
        answers(&kotae, question).as_deref() == Some("test-new-fact")
    });
    println!("a new fact was answered {took:?} after the save");
    let applied = reports
        .lock()
        .unwrap()
        .iter()
        .any(|r| matches!(r, ReloadReport::Applied(c) if c.added == ["test-new-fact"]));
    assert!(applied, "{:?}", reports.lock().unwrap());

    // A syntax error: rejected with its line; the old answers keep flowing.
    let broken = NEW_FACT.replace("status = \"confirmed\"", "status = \"confirmed");
    std::fs::write(dir.path().join("facts/new.toml"), &broken).unwrap();
    let text = rejection(&reports);
    assert!(
        text.contains("facts/new.toml:5:20: error: invalid basic string"),
        "{text}"
    );
    assert_eq!(answers(&kotae, question).as_deref(), Some("test-new-fact"));
    assert_eq!(
        answers(&kotae, "Where were the Japan Centers located?").as_deref(),
        Some("locations")
    );

    // An unknown source id: also rejected, with its line and column.
    reports.lock().unwrap().clear();
    let unknown = NEW_FACT.replace("asahi-2025-01-19", "no-such-source");
    std::fs::write(dir.path().join("facts/new.toml"), &unknown).unwrap();
    let text = rejection(&reports);
    assert!(
        text.contains("facts/new.toml:4:12: error: unknown source id \"no-such-source\""),
        "{text}"
    );
    assert_eq!(answers(&kotae, question).as_deref(), Some("test-new-fact"));
    // The bot never rewrites what the moderator saved.
    assert_eq!(
        std::fs::read_to_string(dir.path().join("facts/new.toml")).unwrap(),
        unknown
    );
}

#[test]
fn the_unanswered_file_survives_kill_9_mid_write() {
    let state = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kotae"))
        .args(["chat", "--state-dir", state.path().to_str().unwrap()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // Feed declined questions until the file is well under way, then kill.
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        for i in 0.. {
            if writeln!(stdin, "How tall is Tokyo Tower in year {i}?").is_err() {
                break;
            }
        }
    });
    let path = unanswered::path(state.path());
    wait_for("records", || {
        std::fs::metadata(&path)
            .map(|m| m.len() > 20_000)
            .unwrap_or(false)
    });
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    writer.join().unwrap();

    let before = unanswered::read(state.path()).unwrap();
    assert!(before.len() > 50, "{} records", before.len());
    assert!(
        before
            .iter()
            .all(|r| r.question.starts_with("How tall is Tokyo Tower"))
    );
    // The next run appends after whatever the kill left behind.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kotae"))
        .args(["chat", "--state-dir", state.path().to_str().unwrap()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin
                .take()
                .unwrap()
                .write_all(b"Who won the football match yesterday?\n")?;
            c.wait_with_output()
        })
        .unwrap();
    assert!(out.status.success());
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

#[test]
fn a_retracted_fact_is_no_longer_answered_and_its_answers_are_to_be_corrected() {
    let dir = knowledge_copy();
    let kotae = Kotae::new(load::load_dir(dir.path()).unwrap().base);
    let question = "Which cities had a Japan Center?";
    assert_eq!(answers(&kotae, question).as_deref(), Some("locations"));

    let file = dir.path().join("facts/centers.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    let at = text.find("id = \"locations\"").unwrap();
    let status = at + text[at..].find("status = \"confirmed\"").unwrap();
    let edited = format!(
        "{}status = \"retracted\"{}",
        &text[..status],
        &text[status + "status = \"confirmed\"".len()..]
    );
    std::fs::write(&file, edited).unwrap();
    let ReloadReport::Applied(changes) = reload::reload(&kotae, dir.path()) else {
        panic!("the edit is valid");
    };
    assert_eq!(changes.answers_changed, ["locations"]);
    let reply = kotae.ask(question, LangChoice::Detect).unwrap();
    assert_ne!(
        reply.answer().map(|a| a.fact_id.as_str()),
        Some("locations")
    );
    let snapshot = kotae.snapshot();
    assert!(
        snapshot
            .topics(kotae::core::Lang::En)
            .iter()
            .all(|t| t.fact_id != "locations")
    );
    assert_eq!(
        snapshot.correction("locations", kotae::core::Lang::En),
        kotae::core::Correction::Withdrawn
    );
}
