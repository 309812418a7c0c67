//! The bot's own words, walked: every message key has a text in Japanese,
//! Chinese and English, each different; Chinese is punctuated full-width;
//! and the console (`kotae chat`) says everything in the member's language
//! (help, topics, sources, the timeline, `/lang`'s confirmations), and
//! reload reports in the session's. The Discord side is in
//! `tests/discord_languages.rs`, the Matrix side in `tests/matrix_asking.rs`.

use kotae::core::Lang;
use kotae::core::messages::{self, Command, fill, help_text};
use std::io::Write;
use std::process::{Command as Process, Output, Stdio};

#[test]
fn every_key_is_said_in_three_different_ways() {
    let [ja, zh, en] = Lang::ALL.map(|l| messages::get(l).entries());
    assert!(en.len() >= 40, "{} keys", en.len());
    for (((key, ja), (_, zh)), (_, en)) in ja.iter().zip(&zh).zip(&en) {
        for (lang, text) in [("ja", ja), ("zh", zh), ("en", en)] {
            assert!(!text.trim().is_empty(), "{lang} {key} is empty");
            assert_eq!(
                messages::slots(text),
                messages::slots(en),
                "{lang} {key}: the slots differ from English"
            );
        }
        assert!(ja != zh && zh != en && ja != en, "{key} is not translated");
        let prose: String = zh.split('`').step_by(2).collect();
        assert!(
            !prose.contains([',', ':', ';', '(', ')']),
            "zh {key} has half-width punctuation: {zh}"
        );
    }
}

/// `kotae chat` fed `lines` with the locale `lang_env` (as `LANG`), each
/// turn's output in order.
fn chat(lang_env: &str, args: &[&str], lines: &[&str]) -> Vec<String> {
    let mut child = Process::new(env!("CARGO_BIN_EXE_kotae"))
        .arg("chat")
        .args(args)
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("KOTAE_KNOWLEDGE")
        .env_remove("KOTAE_CONFIG")
        .env_remove("KOTAE_EMBEDDINGS_URL")
        .env("LANG", lang_env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for line in lines {
        writeln!(stdin, "{line}").unwrap();
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let turns: Vec<String> = text.trim_end().split("\n\n").map(str::to_string).collect();
    assert_eq!(turns.len(), lines.len(), "one reply per line: {text}");
    turns
}

fn console_help(lang: Lang) -> String {
    help_text(lang, kotae::console::COMMANDS)
}

#[test]
fn the_console_speaks_the_language_of_the_last_question() {
    let turns = chat(
        "C.UTF-8",
        &[],
        &[
            "/help",
            "日本センターはいつ閉鎖されましたか?",
            "/topics",
            "/help",
            "/timeline",
            "/sources no-such-fact",
            "/lang zh",
            "/topics",
            "/lang fr",
            "/lang auto",
            "/timeline en",
        ],
    );
    let [ja, zh, en] = Lang::ALL.map(messages::get);
    assert_eq!(
        turns[0],
        console_help(Lang::En),
        "nothing asked yet: English"
    );
    assert!(turns[1].contains(ja.sources), "{}", turns[1]);
    assert!(turns[2].starts_with(ja.topics), "{}", turns[2]);
    assert_eq!(turns[3], console_help(Lang::Ja));
    assert!(
        turns[3].contains(&format!("/timeline — {}", ja.command(Command::Timeline))),
        "{}",
        turns[3]
    );
    assert!(
        turns[4].starts_with(ja.timeline) || turns[4] == ja.timeline_empty,
        "{}",
        turns[4]
    );
    assert_eq!(turns[5], format!("{}（no-such-fact）", ja.unknown_fact));
    assert_eq!(turns[6], fill(zh.lang_set, &[("lang", "中文")]));
    assert!(turns[7].starts_with(zh.topics), "{}", turns[7]);
    assert_eq!(turns[8], fill(zh.lang_usage, &[("command", "/lang")]));
    assert_eq!(
        turns[9], ja.lang_auto,
        "auto: back to the question's language"
    );
    assert!(
        turns[10].starts_with(en.timeline) || turns[10] == en.timeline_empty,
        "{}",
        turns[10]
    );
}

#[test]
fn the_console_starts_in_the_terminals_language_or_the_chosen_one() {
    let turns = chat("ja_JP.UTF-8", &[], &["/help", "/topics"]);
    assert_eq!(turns[0], console_help(Lang::Ja));
    assert!(turns[1].starts_with(messages::get(Lang::Ja).topics));
    let turns = chat(
        "ja_JP.UTF-8",
        &["--lang", "zh"],
        &["/help", "When did they close?"],
    );
    assert_eq!(turns[0], console_help(Lang::Zh));
    assert!(
        turns[1].contains(messages::get(Lang::Zh).sources),
        "{}",
        turns[1]
    );
    let en = messages::get(Lang::En);
    for lang in Lang::ALL {
        let turns = chat("C", &["--lang", lang.code()], &["/lang en"]);
        assert_eq!(turns[0], fill(en.lang_set, &[("lang", "English")]));
    }
}

fn kotae(args: &[&str], lang_env: &str) -> Output {
    Process::new(env!("CARGO_BIN_EXE_kotae"))
        .args(args)
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("KOTAE_KNOWLEDGE")
        .env("LANG", lang_env)
        .output()
        .unwrap()
}

#[test]
fn kotae_timeline_prints_in_the_asked_language_and_as_json() {
    for lang in Lang::ALL {
        let m = messages::get(lang);
        let out = kotae(&["timeline", "--lang", lang.code()], "C");
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.starts_with(m.timeline) || text.trim_end() == m.timeline_empty,
            "{lang}: {text}"
        );
    }
    let out = kotae(&["timeline"], "zh_CN.UTF-8");
    let text = String::from_utf8(out.stdout).unwrap();
    let zh = messages::get(Lang::Zh);
    assert!(
        text.starts_with(zh.timeline) || text.trim_end() == zh.timeline_empty,
        "the locale's language by default: {text}"
    );
    let out = kotae(&["timeline", "--json", "--lang", "en"], "C");
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json.is_array(), "{json}");
    let out = kotae(&["timeline", "--lang", "fr"], "C");
    assert_eq!(out.status.code(), Some(2));
}
