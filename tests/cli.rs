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
    // Whether this base offers a runner-up here is the matcher's call; the
    // field is there either way, and names another fact when it is set.
    let see_also = v.get("see_also").expect("see_also is present");
    if !see_also.is_null() {
        assert_ne!(see_also["fact_id"], v["fact"], "{see_also}");
        assert!(see_also["question"].as_str().is_some_and(|q| !q.is_empty()));
    }
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
    assert_eq!(v["see_also"], Value::Null, "only an answer offers one");
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
    assert_eq!(lines.len(), 4, "one object per input line");
    assert_eq!(lines[0]["fact"], "locations");
    assert_eq!(lines[1]["error"], "the question is empty");
    assert_eq!(lines[1]["line"], 2);
    assert_eq!(lines[2]["lang"], "ja");
    assert_eq!(lines[3]["fact"], Value::Null);
}

fn kotae_with_stdin_bytes(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kotae"))
        .args(args)
        .env_remove("KOTAE_KNOWLEDGE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kotae runs");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn a_line_that_is_not_utf8_gets_an_error_and_the_next_line_is_answered() {
    let input = b"Who announced the closure?\n\xff bad\n\xed\xa0\x80 lone surrogate\nWhere were the Japan Centers?\n";
    let out = kotae_with_stdin_bytes(&["ask", "--json"], input);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert!(lines[0]["fact"].is_string());
    assert_eq!(lines[1]["line"], 2);
    assert_eq!(
        lines[1]["error"],
        "line 2 is not valid UTF-8 (byte 0xff at byte 1 of the line)"
    );
    assert_eq!(lines[2]["line"], 3);
    assert_eq!(lines[3]["fact"], "locations");
    // In text mode the error goes to standard error, the answers go on.
    let out = kotae_with_stdin_bytes(&["ask"], input);
    assert!(out.status.success());
    assert!(
        stderr(&out).contains("line 2 is not valid UTF-8"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).contains("Moscow"), "{}", stdout(&out));
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
    // The shipped base is clean: no warning either (issue 13).
    assert!(stdout(&out).contains("(0 warnings)"), "{}", stdout(&out));

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

#[test]
fn eval_counts_cases_it_cannot_ask_as_misses() {
    let set = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        set.path(),
        "[[case]]\nq = \"Where were the Japan Centers located?\"\nlang = \"en\"\nexpect = [\"locations\"]\n\
         [[case]]\nq = \"\"\nlang = \"en\"\nexpect = [\"locations\"]\n\
         [[case]]\nq = \"   \"\nlang = \"en\"\nexpect = [\"funding\"]\n",
    )
    .unwrap();
    let out = kotae(&["eval", set.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("top-1 accuracy (en): 1/3 = 0.333"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("reply language: 1/3"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("not asked: the question is empty"));
}

/// `kotae check DIR`, killed (and failed) if it takes more than 20 s.
fn check(dir: &std::path::Path, env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kotae"))
        .arg("check")
        .arg(dir)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > std::time::Duration::from_secs(20) {
            child.kill().unwrap();
            panic!("kotae check hung");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn check_refuses_a_fifo_and_a_link_to_dev_zero_without_hanging() {
    let dir = knowledge_copy();
    let fifo = dir.path().join("facts/pipe.toml");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("facts/zero.toml")).unwrap();
    let out = check(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("facts/pipe.toml:1:1: error: not a regular file (a fifo)"),
        "{text}"
    );
    assert!(
        text.contains("facts/zero.toml:1:1: error: not a regular file (a device)"),
        "{text}"
    );
}

#[test]
fn check_refuses_files_over_the_configured_size_and_names_the_setting() {
    let dir = knowledge_copy();
    let out = check(dir.path(), &[("KOTAE_KNOWLEDGE_MAX_FILE_BYTES", "20000")]);
    assert_eq!(out.status.code(), Some(1));
    let size = std::fs::metadata(dir.path().join("facts/centers.toml"))
        .unwrap()
        .len();
    assert!(
        stdout(&out).contains(&format!(
            "facts/centers.toml:1:1: error: the file is {size} bytes, over the limit of 20000 bytes per file (KOTAE_KNOWLEDGE_MAX_FILE_BYTES)"
        )),
        "{}",
        stdout(&out)
    );
    let out = check(dir.path(), &[("KOTAE_KNOWLEDGE_MAX_BASE_BYTES", "50KiB")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("KOTAE_KNOWLEDGE_MAX_BASE_BYTES"),
        "{}",
        stdout(&out)
    );
    let out = check(dir.path(), &[("KOTAE_KNOWLEDGE_MAX_FILE_BYTES", "lots")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("KOTAE_KNOWLEDGE_MAX_FILE_BYTES = \"lots\" is not a size"),
        "{}",
        stdout(&out)
    );
}

/// `kotae check DIR` with its address space limited to 512 MiB.
fn check_in_512_mb(dir: &std::path::Path) -> Output {
    Command::new("prlimit")
        .arg("--as=536870912")
        .arg(env!("CARGO_BIN_EXE_kotae"))
        .arg("check")
        .arg(dir)
        .output()
        .unwrap()
}

#[test]
fn check_of_a_50_mb_invalid_file_exits_1_within_512_mb_of_address_space() {
    let dir = knowledge_copy();
    let line = "id = = =\n";
    let huge = line.repeat(50_000_000 / line.len());
    std::fs::write(dir.path().join("facts/huge.toml"), &huge).unwrap();
    let out = check_in_512_mb(dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!(
            "facts/huge.toml:1:1: error: from here to the next [[...]] table is {} bytes",
            huge.len()
        )),
        "{}",
        stdout(&out)
    );
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    // The same nonsense cut into tables is parsed table by table, and
    // reading stops after a bounded number of broken ones.
    let table = "[[fact]]\nid = = =\n";
    std::fs::write(
        dir.path().join("facts/huge.toml"),
        table.repeat(50_000_000 / table.len()),
    )
    .unwrap();
    let out = check_in_512_mb(dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("facts/huge.toml:2:6: error:"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn check_names_a_missing_facts_directory_once_and_odd_file_names_on_one_line() {
    let dir = knowledge_copy();
    std::fs::rename(dir.path().join("facts"), dir.path().join("facts.away")).unwrap();
    let out = check(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1));
    let expected = format!(
        "{}/facts:1:1: error: cannot read the facts directory",
        dir.path().display()
    );
    assert!(stdout(&out).contains(&expected), "{}", stdout(&out));
    std::fs::rename(dir.path().join("facts.away"), dir.path().join("facts")).unwrap();

    use std::os::unix::ffi::OsStrExt;
    let odd = std::ffi::OsStr::from_bytes(b"bad\nname\xff.toml");
    std::fs::write(
        dir.path().join("facts").join(odd),
        "[[fact]]\nid = \"Bad Id\"\n",
    )
    .unwrap();
    let out = check(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.lines()
            .any(|l| l.contains("facts/bad\\nname\\xff.toml:2:6: error: fact id \"Bad Id\"")),
        "{text}"
    );
    assert!(!text.contains("No such file"), "{text}");
}

#[test]
fn check_refuses_a_duplicate_source_an_alias_in_two_groups_and_a_url_without_host() {
    let dir = knowledge_copy();
    let sources = dir.path().join("sources.toml");
    let mut text = std::fs::read_to_string(&sources).unwrap();
    let first = text.find("[[source]]").unwrap();
    let end = text[first + 1..]
        .find("[[source]]")
        .map_or(text.len(), |i| i + first + 1);
    let again = text[first..end].to_string();
    text.push('\n');
    text.push_str(&again.replace("url = \"", "url = \"https://\"\n#"));
    std::fs::write(&sources, &text).unwrap();
    std::fs::write(
        dir.path().join("aliases.toml"),
        std::fs::read_to_string(dir.path().join("aliases.toml")).unwrap()
            + "\n[[alias]]\nnames = [\"Vladivostok\", \"Somewhere Else\"]\n",
    )
    .unwrap();
    let out = check(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("error: duplicate source id"), "{text}");
    assert!(text.contains("is not an http(s) URL"), "{text}");
    assert!(
        text.contains("error: alias name \"Vladivostok\" is also in the group at aliases.toml:"),
        "{text}"
    );
}

#[test]
fn a_state_directory_that_cannot_be_used_is_named() {
    let file = tempfile::NamedTempFile::new().unwrap();
    let below = file.path().join("state");
    let out = kotae_with_stdin_bytes(
        &["chat", "--state-dir", below.to_str().unwrap()],
        b"hello\n",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(&below.display().to_string()),
        "{}",
        stderr(&out)
    );
    let out = kotae(&["unanswered", "--state-dir", file.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(&format!(
            "the state directory {} is not a directory",
            file.path().display()
        )),
        "{}",
        stderr(&out)
    );
}

// Issue #12: in `--json` mode every input line gets exactly one output
// line, in order, and every error object has the `error`, the member-facing
// `message` and the `line`, whether the line could not be read (not UTF-8,
// too long) or could not be asked (blank, whitespace, too many characters).
#[test]
fn every_stdin_line_gets_one_json_line_and_every_error_a_message() {
    let too_long_line = "a".repeat(kotae::core::input::MAX_LINE_BYTES + 10);
    let too_many_chars = "a".repeat(100 * 1024);
    let mut input: Vec<u8> = Vec::new();
    for line in [
        b"Who announced the closure?".as_slice(),
        b"",
        b"   \t ",
        b"\xff bad",
        too_long_line.as_bytes(),
        too_many_chars.as_bytes(),
        b"\xed\xa0\x80 lone surrogate\r",
        b"Where were the Japan Centers?\r",
        b"",
    ] {
        input.extend_from_slice(line);
        input.push(b'\n');
    }
    input.extend_from_slice(b"thanks"); // a last line without a newline
    let out = kotae_with_stdin_bytes(&["ask", "--json"], &input);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 10, "one object per input line: {lines:#?}");
    let en = kotae::core::messages::get(kotae::core::Lang::En);
    for (i, v) in lines.iter().enumerate() {
        let is_error = ![0, 7, 9].contains(&i);
        assert_eq!(v.get("error").is_some(), is_error, "line {}: {v}", i + 1);
        if is_error {
            assert_eq!(v["line"], i + 1, "{v}");
            let message = v["message"].as_str().unwrap_or_default();
            assert!(!message.is_empty(), "line {}: {v}", i + 1);
        }
    }
    assert_eq!(lines[1]["message"], en.empty_question);
    assert_eq!(lines[2]["message"], en.empty_question);
    assert!(
        lines[3]["message"].as_str().unwrap().contains("UTF-8"),
        "{}",
        lines[3]
    );
    assert!(
        lines[4]["error"].as_str().unwrap().contains("bytes long"),
        "{}",
        lines[4]
    );
    assert_eq!(lines[4]["message"], en.too_long);
    assert_eq!(lines[5]["message"], en.too_long);
    assert!(lines[6]["message"].as_str().unwrap().contains("UTF-8"));
    assert_eq!(lines[7]["fact"], "locations");
    assert_eq!(lines[9]["fact"], Value::Null, "a decline, not an error");

    // With --lang, an unreadable line is told in that language.
    let out = kotae_with_stdin_bytes(&["ask", "--json", "--lang", "ja"], b"\xff\n");
    let v: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert!(v["message"].as_str().unwrap().contains("読めません"), "{v}");
}

/// A state directory whose database refuses every unanswered question (a
/// trigger), so recording one fails after the store opened fine.
fn state_that_refuses_records() -> tempfile::TempDir {
    let state = tempfile::tempdir().unwrap();
    drop(kotae::records::Records::open(state.path()).unwrap());
    let db = rusqlite::Connection::open(state.path().join(kotae::records::store::FILE)).unwrap();
    db.execute_batch(
        "CREATE TRIGGER refuse BEFORE INSERT ON unanswered
         BEGIN SELECT RAISE(FAIL, 'refused for the test'); END;",
    )
    .unwrap();
    state
}

/// `kotae chat --state-dir STATE` asked one question it declines, with
/// `env` set: its standard error.
fn chat_declining(state: &std::path::Path, env: &[(&str, &str)]) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kotae"))
        .args(["chat", "--state-dir", state.to_str().unwrap()])
        .env_remove("KOTAE_KNOWLEDGE")
        .env_remove("KOTAE_LOG_LEVEL")
        .env_remove("KOTAE_LOG_JSON")
        .env_remove("KOTAE_CONFIG")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all("上海明天会下雨吗?\n".as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(kotae::core::messages::get(kotae::core::Lang::Zh).decline),
        "the member is still answered: {}",
        stdout(&out)
    );
    stderr(&out)
}

// Issue #12: `kotae chat` logs, like `serve`, so a record it cannot write
// is not lost without a word: warnings by default, `KOTAE_LOG_LEVEL` and
// `KOTAE_LOG_JSON` respected, a bad level refused with its variable.
#[test]
fn chat_logs_a_record_it_cannot_write() {
    let state = state_that_refuses_records();
    let err = chat_declining(state.path(), &[]);
    assert!(
        err.contains("WARN") && err.contains("cannot record an unanswered question"),
        "{err}"
    );
    assert!(err.contains("refused for the test"), "{err}");

    let err = chat_declining(state.path(), &[("KOTAE_LOG_LEVEL", "error")]);
    assert!(!err.contains("cannot record"), "{err}");

    let err = chat_declining(state.path(), &[("KOTAE_LOG_JSON", "true")]);
    let line = err
        .lines()
        .find(|l| l.contains("cannot record an unanswered question"))
        .unwrap_or_else(|| panic!("{err}"));
    let v: Value = serde_json::from_str(line).unwrap();
    assert_eq!(v["level"], "WARN", "{v}");

    let out = Command::new(env!("CARGO_BIN_EXE_kotae"))
        .args(["chat"])
        .env("KOTAE_LOG_LEVEL", "loud")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("KOTAE_LOG_LEVEL"), "{}", stderr(&out));
}

// Issue #12: past the error cap the last error line is the loader's note
// on what was not shown or not checked; the summary counts what is true.
#[test]
fn check_counts_errors_truthfully_past_the_cap() {
    let summary = |dir: &std::path::Path| {
        let out = check(dir, &[]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        stdout(&out).lines().last().unwrap_or_default().to_string()
    };
    let dir = knowledge_copy();
    let name = dir.path().display().to_string();
    let bad = dir.path().join("facts/bad.toml");

    std::fs::write(&bad, "[[fact]]\nid = = =\n").unwrap();
    assert_eq!(
        summary(dir.path()),
        format!("{name}: 1 error, 0 warnings; nothing was loaded")
    );

    // 120 broken tables: checking stops after 100.
    std::fs::write(&bad, "[[fact]]\nid = = =\n".repeat(120)).unwrap();
    assert_eq!(
        summary(dir.path()),
        format!(
            "{name}: 100 errors shown, then checking stopped (the rest was not checked), \
             0 warnings; nothing was loaded"
        )
    );

    // One table with 150 unknown sources, in the last file: every error is
    // found, 100 shown.
    let ids: Vec<String> = (0..150).map(|i| format!("\"nope-{i}\"")).collect();
    let fact = format!(
        "[[fact]]\nid = \"zz-fact\"\nsources = [{}]\nstatus = \"confirmed\"\n\
         questions.en = [\"What is zz?\"]\nanswer.en = \"zz. [s]\"\n",
        ids.join(", ")
    );
    std::fs::remove_file(&bad).unwrap();
    std::fs::write(dir.path().join("facts/zz.toml"), &fact).unwrap();
    let text = summary(dir.path());
    let total: usize = text
        .strip_prefix(&format!("{name}: "))
        .and_then(|t| t.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{text}"));
    assert!(total >= 150, "{text}");
    assert_eq!(
        text,
        format!(
            "{name}: {total} errors ({} not shown), 0 warnings; nothing was loaded",
            total - 100
        )
    );

    // The same first: the files after it are not checked either.
    std::fs::rename(
        dir.path().join("facts/zz.toml"),
        dir.path().join("facts/aa.toml"),
    )
    .unwrap();
    assert_eq!(
        summary(dir.path()),
        format!(
            "{name}: at least {total} errors ({} not shown, and the rest was not checked), \
             0 warnings; nothing was loaded",
            total - 100
        )
    );
}

/// `kotae chat` on the built-in base with `input` typed in.
fn chat(input: &[u8]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kotae"))
        .args(["chat"])
        .env_remove("KOTAE_KNOWLEDGE")
        .env_remove("KOTAE_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// Issue 13: the console shows each claim's marker and the numbered sources
/// the markers point at; a claim on self-published sources only says so.
#[test]
fn the_console_shows_claim_markers_and_the_sources_they_number() {
    let out = chat(b"Who announced the closure of the Japan Centers?\n");
    let text = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(text.contains(".[1: self-published]"), "{text}");
    assert!(text.contains("\n  [1] 网易号 (NetEase Hao)"), "{text}");
}

/// Issue 13: `/timeline ja` in the console lists the dated events in date
/// order, in Japanese, disputed dates labelled.
#[test]
fn the_console_timeline_is_in_date_order_in_the_asked_language() {
    let out = chat(b"/timeline ja\n");
    let text = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    let disputed = kotae::core::messages::date_label(kotae::core::Lang::Ja, "1994", true);
    let founding = text
        .lines()
        .position(|l| l.starts_with(&disputed) && l.ends_with("· founding"))
        .unwrap_or_else(|| panic!("{text}"));
    let closure = text
        .lines()
        .position(|l| l.starts_with("2025-09-11") && l.ends_with("· closure-announcement"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(founding < closure, "{text}");
    assert!(text.contains("林"), "in Japanese: {text}");
}
