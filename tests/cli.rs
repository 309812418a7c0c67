//! The `kotae` command line as a user runs it: the JSON contract of `ask`,
//! exit codes of `check` and `eval`, and clear errors for bad input.

#[path = "support/knowledge.rs"]
mod knowledge;
use knowledge::knowledge_copy;

use serde_json::Value;
use std::io::Write;
use std::process::{Command, Output, Stdio};

fn kotae(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kotae"))
        .args(args)
        .env_remove("KOTAE_KNOWLEDGE")
        .output()
        .expect("kotae runs")
}

fn kotae_with_stdin(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kotae"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kotae runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn ask_json_has_the_documented_fields() {
    let out = kotae(&["ask", "--json", "How were the Japan Centers funded?"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_str(stdout(&out).trim()).expect("one JSON object");
    assert_eq!(v["question"], "How were the Japan Centers funded?");
    assert_eq!(v["lang"], "en");
    assert_eq!(v["fact"], "funding");
    assert!(v["score"].as_f64().unwrap() > 0.0);
    assert_eq!(v["status"], "confirmed");
    assert!(v["answer"].as_str().unwrap().contains("budget"));
    let sources = v["sources"].as_array().unwrap();
    assert!(!sources.is_empty());
    for s in sources {
        assert!(s["id"].is_string() && s["publisher"].is_string());
        assert!(s.get("url").is_some(), "url is present, null when unknown");
    }
    assert_eq!(v["suggestions"], Value::Array(vec![]));
}

#[test]
fn a_decline_in_json_has_a_null_fact_and_suggestions() {
    let v: Value =
        serde_json::from_str(stdout(&kotae(&["ask", "--json", "上海明天会下雨吗?"])).trim())
            .unwrap();
    assert_eq!(v["fact"], Value::Null);
    assert_eq!(v["status"], Value::Null);
    assert_eq!(v["lang"], "zh");
    assert_eq!(
        v["answer"],
        kotae::core::messages::get(kotae::core::Lang::Zh).decline
    );
    let suggestions = v["suggestions"].as_array().unwrap();
    assert!((1..=3).contains(&suggestions.len()));
}

#[test]
fn ask_reads_one_question_per_line_from_stdin() {
    let out = kotae_with_stdin(
        &["ask", "--json"],
        "Where were the Japan Centers located?\n\n日本センターの予算はどこから出ていましたか?\nthanks\n",
    );
    assert!(out.status.success());
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "blank lines are skipped");
    assert_eq!(lines[0]["fact"], "locations");
    assert_eq!(lines[1]["lang"], "ja");
    assert_eq!(lines[2]["fact"], Value::Null);
}

#[test]
fn lang_flag_overrides_and_an_unknown_lang_is_a_clear_error() {
    let v: Value = serde_json::from_str(
        stdout(&kotae(&[
            "ask",
            "--json",
            "--lang",
            "ja",
            "Where were the Japan Centers located?",
        ]))
        .trim(),
    )
    .unwrap();
    assert_eq!(v["lang"], "ja");
    let out = kotae(&["ask", "--lang", "fr", "hello"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown language `fr`"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("panicked"));
}

#[test]
fn an_empty_or_huge_question_is_refused_without_a_panic() {
    let out = kotae(&["ask", "   "]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("empty"), "{}", stderr(&out));
    let huge = "a".repeat(100 * 1024);
    let out = kotae_with_stdin(
        &["ask", "--json"],
        &format!("{huge}\nWhere were the Japan Centers located?\n"),
    );
    assert!(out.status.success(), "the next line is still answered");
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        lines[0]["error"]
            .as_str()
            .unwrap()
            .contains("102400 characters long")
    );
    assert_eq!(lines[1]["fact"], "locations");
}

#[test]
fn a_missing_knowledge_directory_is_a_clear_error() {
    let out = kotae(&["ask", "--knowledge", "/nonexistent/kotae", "hello"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("/nonexistent/kotae does not exist"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn check_exits_0_on_a_good_base_and_1_with_located_errors() {
    let dir = knowledge_copy();
    let out = kotae(&["check", dir.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(stdout(&out).contains("ok: "));

    let facts = dir.path().join("facts/centers.toml");
    let text = std::fs::read_to_string(&facts).unwrap();
    let broken = text.replacen("sources = [\"", "sources = [\"no-such-source\", \"", 1);
    std::fs::write(&facts, &broken).unwrap();
    let line = broken
        .lines()
        .position(|l| l.contains("no-such-source"))
        .unwrap()
        + 1;
    let out = kotae(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let expected =
        format!("facts/centers.toml:{line}:12: error: unknown source id \"no-such-source\"");
    assert!(stdout(&out).contains(&expected), "{}", stdout(&out));
    // The broken base is never served.
    let out = kotae(&["ask", "--knowledge", dir.path().to_str().unwrap(), "hello"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("has errors"));
}

#[test]
fn eval_exit_code_follows_the_thresholds() {
    let set = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        set.path(),
        "[[case]]\nq = \"Where were the Japan Centers located?\"\nlang = \"en\"\nexpect = [\"locations\"]\n\
         [[case]]\nq = \"Where were the Japan Centers located?\"\nlang = \"en\"\nexpect = [\"funding\"]\n\
         [[case]]\nq = \"What time is it in Tokyo tonight?\"\nlang = \"en\"\nexpect = []\n",
    )
    .unwrap();
    let path = set.path().to_str().unwrap();
    let out = kotae(&["eval", path]);
    assert_eq!(out.status.code(), Some(1), "1 of 2 in scope is below 0.90");
    assert!(
        stdout(&out).contains("top-1 accuracy (en): 1/2 = 0.500"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("expected funding, got locations"));
    let out = kotae(&["eval", path, "--min-accuracy", "0.5"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}
