//! The quality gate: `kotae eval` on the question sets under tests/eval must
//! meet the bar (top-1 ≥ 0.90 per language, ≥ 0.85 of out-of-scope
//! questions declined, ≥ 0.98 replies in the right language).
//!
//! `dev.toml` is the shared development set; `holdout.toml` was written from
//! the seed articles by someone who never saw the fact base's example
//! questions, so it measures paraphrase, not memory. `chat-train.toml` and
//! `chat-test.toml` are chat-style messages (the decision was fitted on
//! train; test is never tuned on), held to lower floors.

use std::process::Command;

fn eval(set: &str) {
    eval_with(set, &[]);
}

fn eval_with(set: &str, bars: &[&str]) {
    let path = format!("{}/tests/eval/{set}", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(env!("CARGO_BIN_EXE_kotae"))
        .args(["eval", &path])
        .args(bars)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    println!("{report}");
    assert!(
        out.status.success(),
        "{set} is below the quality bar:\n{report}"
    );
}

#[test]
fn the_dev_set_meets_the_bar() {
    eval("dev.toml");
}

#[test]
fn the_held_out_set_meets_the_bar() {
    eval("holdout.toml");
}

/// The chat-style sets (tests/eval/chat-*.toml) are held at today's level
/// so that matching cannot quietly get worse on them: the floors sit just
/// under what lexical matching reaches now (0.72 to 0.90 top-1, 0.71 to 0.85
/// declined), not at the bar issue #10 sets (0.90 top-1 per language, 0.95
/// declined), which needs the semantic signal.
const CHAT_FLOORS: &[&str] = &[
    "--min-accuracy",
    "0.70",
    "--min-declined",
    "0.65",
    "--min-lang",
    "0.99",
];

#[test]
fn the_chat_train_set_stays_at_its_level() {
    eval_with("chat-train.toml", CHAT_FLOORS);
}

#[test]
fn the_chat_test_set_stays_at_its_level() {
    eval_with("chat-test.toml", CHAT_FLOORS);
}
