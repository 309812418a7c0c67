//! Moderators' workflow without a chat platform: live reload of a knowledge
//! directory (valid edits swapped in, broken ones rejected with their line,
//! the moderator's files never touched), and reload that keeps working
//! whatever replaces the directory: `rm -rf` and copy, a parent replaced,
//! rsync, `mv`, `ln -sfn`, a Kubernetes ConfigMap swap, a fifo.

#[path = "support/knowledge.rs"]
mod knowledge;
use knowledge::{NEW_FACT, NEW_QUESTION, knowledge_copy, save};

use kotae::core::{Kotae, LangChoice, load};
use kotae::reload::{self, ReloadReport, ReloadState, Watch};
use std::path::{Path, PathBuf};
use std::process::Command;
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
    // The report follows the swap: wait for it.
    wait_for("the report of the added fact", || {
        reports
            .lock()
            .unwrap()
            .iter()
            .any(|r| matches!(r, ReloadReport::Applied(c) if c.added == ["test-new-fact"]))
    });

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

    // A claim without its citation marker (issue 13): rejected, located.
    reports.lock().unwrap().clear();
    let uncited = NEW_FACT.replace("A test answer. [asahi-2025-01-19]", "A test answer.");
    std::fs::write(dir.path().join("facts/new.toml"), &uncited).unwrap();
    let text = rejection(&reports);
    assert!(
        text.contains("facts/new.toml:11:28: error: `answer.en`: the answer cites no source"),
        "{text}"
    );
    assert_eq!(answers(&kotae, question).as_deref(), Some("test-new-fact"));
    // The bot never rewrites what the moderator saved.
    assert_eq!(
        std::fs::read_to_string(dir.path().join("facts/new.toml")).unwrap(),
        uncited
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
    let now = text[at..].find("\nstatus = ").unwrap() + 1;
    let line_end = text[at + now..].find('\n').unwrap();
    let edited = format!(
        "{}status = \"retracted\"{}",
        &text[..at + now],
        &text[at + now + line_end..]
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

/// A copy of the shipped base, with [`NEW_FACT`] added if `with_new`.
fn base_at(path: &Path, with_new: bool) {
    let copy = knowledge_copy();
    run(
        "cp",
        &["-r", copy.path().to_str().unwrap(), path.to_str().unwrap()],
    );
    if with_new {
        std::fs::write(path.join("facts/new.toml"), NEW_FACT).unwrap();
    }
}

fn run(program: &str, args: &[&str]) {
    let status = Command::new(program).args(args).status().unwrap();
    assert!(status.success(), "{program} {args:?}");
}

/// A watched knowledge directory at `path`, checked every 300 ms.
fn watched(path: PathBuf) -> (Arc<Kotae>, Watch) {
    let kotae = Arc::new(Kotae::new(load::load_dir(&path).unwrap().base));
    let watch =
        reload::watch_checking_every(kotae.clone(), path, Duration::from_millis(300), |_| {})
            .unwrap();
    (kotae, watch)
}

/// After `replace` has put a base with [`NEW_FACT`] where the watched
/// directory was, the new fact is answered; then an ordinary edit in the
/// new directory (removing the fact) is picked up too, and health is clean.
fn survives(
    watched_path: &Path,
    replace: impl FnOnce(),
    live_dir: impl Fn() -> PathBuf,
    restarts: bool,
) {
    let (kotae, watch) = watched(watched_path.to_path_buf());
    assert_eq!(answers(&kotae, NEW_QUESTION), None);
    replace();
    wait_for("the replaced directory to be loaded", || {
        answers(&kotae, NEW_QUESTION).as_deref() == Some("test-new-fact")
    });
    std::fs::remove_file(live_dir().join("facts/new.toml")).unwrap();
    wait_for("an edit after the replacement", || {
        answers(&kotae, NEW_QUESTION).as_deref() != Some("test-new-fact")
    });
    // Health is updated just after the swap.
    wait_for("health to say ok", || {
        watch.health().state == ReloadState::Ok
    });
    assert!(watch.health().last_ok_at.is_some());
    let health = watch.health();
    if restarts {
        assert!(health.watcher_restarts >= 1, "{health:?}");
    }
}

#[test]
fn reload_survives_rm_rf_and_cp_r() {
    let parent = tempfile::tempdir().unwrap();
    let k = parent.path().join("k");
    base_at(&k, false);
    survives(
        &k,
        || {
            std::fs::remove_dir_all(&k).unwrap();
            base_at(&k, true);
        },
        || k.clone(),
        true,
    );
}

#[test]
fn reload_survives_its_parent_being_replaced() {
    let root = tempfile::tempdir().unwrap();
    let k = root.path().join("checkout/knowledge");
    std::fs::create_dir(root.path().join("checkout")).unwrap();
    base_at(&k, false);
    survives(
        &k,
        || {
            // What `git checkout` of another branch or a redeploy does.
            let old = root.path().join("checkout.old");
            std::fs::rename(root.path().join("checkout"), old).unwrap();
            std::fs::create_dir(root.path().join("checkout")).unwrap();
            base_at(&k, true);
        },
        || k.clone(),
        true,
    );
}

#[test]
fn reload_survives_an_rsync_with_delete_after() {
    let parent = tempfile::tempdir().unwrap();
    let k = parent.path().join("k");
    base_at(&k, false);
    std::fs::write(k.join("facts/stale.toml"), "").unwrap();
    survives(
        &k,
        || {
            // rsync writes each file to a temporary name, renames it into
            // place, and with --delete-after removes extra files last.
            let tmp = k.join("facts/.new.toml.Xa8b2");
            std::fs::write(&tmp, NEW_FACT).unwrap();
            std::fs::rename(&tmp, k.join("facts/new.toml")).unwrap();
            std::fs::remove_file(k.join("facts/stale.toml")).unwrap();
        },
        || k.clone(),
        false,
    );
}

#[test]
fn reload_survives_mv_of_a_new_directory_over_it() {
    let parent = tempfile::tempdir().unwrap();
    let k = parent.path().join("k");
    base_at(&k, false);
    survives(
        &k,
        || {
            let new = parent.path().join("k.new");
            base_at(&new, true);
            std::fs::rename(&k, parent.path().join("k.old")).unwrap();
            std::fs::rename(&new, &k).unwrap();
        },
        || k.clone(),
        true,
    );
}

#[test]
fn reload_survives_a_symlink_retargeted_with_ln_sfn() {
    let parent = tempfile::tempdir().unwrap();
    let (v1, v2, k) = (
        parent.path().join("v1"),
        parent.path().join("v2"),
        parent.path().join("current"),
    );
    base_at(&v1, false);
    std::os::unix::fs::symlink(&v1, &k).unwrap();
    survives(
        &k,
        || {
            base_at(&v2, true);
            run("ln", &["-sfn", v2.to_str().unwrap(), k.to_str().unwrap()]);
        },
        || v2.clone(),
        true,
    );
}

#[test]
fn reload_survives_a_kubernetes_configmap_data_swap() {
    // A ConfigMap volume: the files are links through `..data`, which links
    // to a timestamped directory; an update writes a new one and renames a
    // new `..data` link over the old.
    let k = tempfile::tempdir().unwrap();
    let k = k.path().to_path_buf();
    let dir = |name: &str| k.join(name);
    base_at(&dir("..2025_01_01"), false);
    std::os::unix::fs::symlink("..2025_01_01", dir("..data")).unwrap();
    for name in ["sources.toml", "aliases.toml", "facts"] {
        std::os::unix::fs::symlink(format!("..data/{name}"), dir(name)).unwrap();
    }
    survives(
        &k,
        || {
            base_at(&dir("..2025_02_01"), true);
            std::os::unix::fs::symlink("..2025_02_01", dir("..data_tmp")).unwrap();
            std::fs::rename(dir("..data_tmp"), dir("..data")).unwrap();
            std::fs::remove_dir_all(dir("..2025_01_01")).unwrap();
        },
        || k.join("..2025_02_01"),
        false,
    );
}

#[test]
fn a_fifo_named_toml_is_rejected_and_reloads_go_on_after_it_is_removed() {
    let dir = knowledge_copy();
    let reports = Arc::new(Mutex::new(Vec::new()));
    let sink = reports.clone();
    let kotae = Arc::new(Kotae::new(load::load_dir(dir.path()).unwrap().base));
    let watch = reload::watch_checking_every(
        kotae.clone(),
        dir.path().to_path_buf(),
        Duration::from_millis(300),
        move |r| sink.lock().unwrap().push(r),
    )
    .unwrap();
    let fifo = dir.path().join("facts/pipe.toml");
    run("mkfifo", &[fifo.to_str().unwrap()]);
    let text = rejection(&reports);
    assert!(
        text.contains("facts/pipe.toml:1:1: error: not a regular file (a fifo)"),
        "{text}"
    );
    wait_for("the error in health", || {
        watch.health().state == ReloadState::Failing
    });
    let failing = watch.health();
    assert!(
        failing
            .last_error
            .as_deref()
            .unwrap()
            .contains("not a regular file"),
        "{failing:?}"
    );
    std::fs::remove_file(&fifo).unwrap();
    save(&dir.path().join("facts/new.toml"), NEW_FACT);
    wait_for("the next edit", || {
        answers(&kotae, NEW_QUESTION).as_deref() == Some("test-new-fact")
    });
    wait_for("health to say ok", || {
        watch.health().state == ReloadState::Ok
    });
    let health = watch.health();
    // The error is kept, with its time, after the reload that worked.
    assert_eq!(health.last_error, failing.last_error);
    assert_eq!(health.last_error_at, failing.last_error_at);
}

#[test]
fn the_latest_watch_reports_its_health_for_healthz() {
    let dir = knowledge_copy();
    let (_kotae, watch) = watched(dir.path().to_path_buf());
    let health = reload::health().expect("a watch is running");
    assert!(health.last_ok_at.is_some());
    let json = serde_json::to_value(&health).unwrap();
    for key in [
        "dir",
        "state",
        "last_ok_at",
        "last_error",
        "last_error_at",
        "watcher_restarts",
    ] {
        assert!(json.get(key).is_some(), "{json}");
    }
    assert_eq!(json["state"], "ok");
    drop(watch);
}

// Issue #12: after a rejected edit and then a good one, health says the
// latest attempt worked (`state`, `last_ok_at`) and still shows the error
// and its time, which came before.
#[test]
fn health_keeps_the_last_error_with_its_time_and_says_when_loading_worked_again() {
    let dir = knowledge_copy();
    let (kotae, watch) = watched(dir.path().to_path_buf());
    let start = watch.health();
    assert_eq!(start.state, ReloadState::Ok, "{start:?}");
    assert_eq!(
        (start.last_error.as_ref(), start.last_error_at),
        (None, None)
    );

    let broken = NEW_FACT.replace("status = \"confirmed\"", "status = \"confirmed");
    save(&dir.path().join("facts/new.toml"), &broken);
    wait_for("the rejected edit in health", || {
        watch.health().state == ReloadState::Failing
    });
    let failing = watch.health();
    let json = serde_json::to_value(&failing).unwrap();
    assert_eq!(json["state"], "failing", "{json}");
    assert!(
        failing
            .last_error
            .as_deref()
            .unwrap()
            .contains("facts/new.toml:5:20: error: invalid basic string"),
        "{failing:?}"
    );
    let error_at = failing.last_error_at.expect("the error's time");
    assert_eq!(
        failing.last_ok_at, start.last_ok_at,
        "no load since the start"
    );

    // Whole seconds: make the good load's time later than the error's.
    std::thread::sleep(Duration::from_millis(1100));
    save(&dir.path().join("facts/new.toml"), NEW_FACT);
    wait_for("the fixed edit", || {
        answers(&kotae, NEW_QUESTION).as_deref() == Some("test-new-fact")
    });
    wait_for("health to say ok", || {
        watch.health().state == ReloadState::Ok
    });
    let recovered = watch.health();
    assert_eq!(recovered.last_error, failing.last_error, "{recovered:?}");
    assert_eq!(recovered.last_error_at, Some(error_at));
    assert!(
        recovered.last_ok_at.unwrap() > error_at,
        "the load after the error: {recovered:?}"
    );
    let json = serde_json::to_value(&recovered).unwrap();
    assert_eq!(json["state"], "ok", "{json}");
}
