//! `kotae timeline` on a knowledge directory with `[[fact.event]]` tables:
//! the events in date order (a less precise date first in its period, ties
//! by fact id), a retracted fact's events left out, disputed dates marked in
//! the asked language, and `--json` with `date`, `fact`, `text`,
//! `disputed` and `sources`.

use kotae::core::Lang;
use kotae::core::messages;
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Output};

const SOURCES: &str = r#"
[[source]]
id = "paper"
publisher = "A Paper"
url = "https://example.org/paper"
published = "2025-01-19"
language = "en"
reliability = "press"

[[source]]
id = "blog"
publisher = "A Blog"
url = "https://example.org/blog"
published = "2025-09"
language = "zh"
reliability = "self-published"
"#;

const FACTS: &str = r#"
[[fact]]
id = "opening"
sources = ["paper", "blog"]
status = "disputed"
questions.ja = ["センターはいつ開かれましたか?"]
questions.zh = ["中心是什么时候开设的?"]
questions.en = ["When did the centres open?"]
answer.ja = "新聞は2000年としています。[paper] ブログは1994年としています。[blog]"
answer.zh = "报纸说是2000年。[paper]博客说是1994年。[blog]"
answer.en = "The paper says 2000. [paper] The blog says 1994. [blog]"

[[fact.event]]
date = "2000"
disputed = true
sources = ["paper"]
text.ja = "センター開設（新聞による）"
text.zh = "中心开设（据报纸）"
text.en = "The centres open, says the paper"

[[fact.event]]
date = "1994"
disputed = true
sources = ["blog"]
text.ja = "センター開設（ブログによる）"
text.zh = "中心开设（据博客）"
text.en = "The centres open, says the blog"

[[fact]]
id = "closure"
sources = ["paper"]
status = "confirmed"
questions.ja = ["センターはいつ閉鎖されましたか?"]
questions.zh = ["中心是什么时候关闭的?"]
questions.en = ["When did the centres close?"]
answer.ja = "2025年に閉鎖されました。[paper]"
answer.zh = "2025年关闭。[paper]"
answer.en = "They closed in 2025. [paper]"

[[fact.event]]
date = "2025-01-19"
sources = ["paper"]
text.ja = "覚書の終了が報じられる"
text.zh = "备忘录终止的消息见报"
text.en = "The end of the memorandum is reported"

[[fact.event]]
date = "2025-01"
sources = ["paper"]
text.ja = "覚書が終了する"
text.zh = "备忘录终止"
text.en = "The memorandum ends"

[[fact.event]]
date = "2025"
sources = ["paper"]
text.ja = "センターが閉鎖される"
text.zh = "中心关闭"
text.en = "The centres close"

[[fact]]
id = "another"
sources = ["paper"]
status = "reported"
questions.ja = ["別の出来事はありましたか?"]
questions.zh = ["还有别的事件吗?"]
questions.en = ["Was there another event?"]
answer.ja = "はい、ありました。[paper]"
answer.zh = "有的。[paper]"
answer.en = "Yes, there was. [paper]"

[[fact.event]]
date = "2025-01"
sources = ["paper"]
text.ja = "別の出来事"
text.zh = "另一件事"
text.en = "Another event"

[[fact]]
id = "withdrawn"
sources = ["paper"]
status = "retracted"
questions.ja = ["取り下げられた質問は?"]
questions.zh = ["被撤回的问题?"]
questions.en = ["What was withdrawn?"]
answer.ja = "取り下げられました。[paper]"
answer.zh = "已撤回。[paper]"
answer.en = "It was withdrawn. [paper]"

[[fact.event]]
date = "1990"
sources = ["paper"]
text.ja = "表示されない出来事"
text.zh = "不应显示的事件"
text.en = "An event that must not show"
"#;

fn knowledge() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("sources.toml"), SOURCES).unwrap();
    std::fs::create_dir(dir.path().join("facts")).unwrap();
    std::fs::write(dir.path().join("facts/story.toml"), FACTS).unwrap();
    dir
}

fn timeline(dir: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_kotae"))
        .arg("timeline")
        .args(["--knowledge", dir.to_str().unwrap()])
        .args(args)
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", "C")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn json_lists_the_events_in_date_order_without_retracted_facts() {
    let dir = knowledge();
    let out = timeline(dir.path(), &["--json", "--lang", "en"]);
    let events: Value = serde_json::from_slice(&out.stdout).unwrap();
    let order: Vec<String> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["date"].as_str().unwrap(),
                e["fact"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        order,
        [
            "1994 opening",
            "2000 opening",
            "2025 closure",
            "2025-01 another",
            "2025-01 closure",
            "2025-01-19 closure",
        ]
    );
    assert_eq!(
        events[0],
        json!({
            "date": "1994",
            "fact": "opening",
            "text": "The centres open, says the blog",
            "disputed": true,
            "sources": ["blog"],
        })
    );
    assert_eq!(events[2]["disputed"], false);
}

#[test]
fn text_marks_disputed_dates_in_the_asked_language() {
    let dir = knowledge();
    let ja = String::from_utf8(timeline(dir.path(), &["--lang", "ja"]).stdout).unwrap();
    let lines: Vec<&str> = ja.lines().collect();
    assert_eq!(lines[0], messages::get(Lang::Ja).timeline);
    assert_eq!(
        lines[1],
        "1994（諸説あり） — センター開設（ブログによる） · opening"
    );
    assert_eq!(lines[3], "2025 — センターが閉鎖される · closure");
    assert_eq!(lines.len(), 7, "{ja}");
    let zh = String::from_utf8(timeline(dir.path(), &["--lang", "zh"]).stdout).unwrap();
    assert!(
        zh.contains("2000（存在争议） — 中心开设（据报纸） · opening"),
        "{zh}"
    );
    let en = String::from_utf8(timeline(dir.path(), &[]).stdout).unwrap();
    assert!(
        en.contains("\n1994 (disputed) — The centres open, says the blog · opening\n"),
        "{en}"
    );
    assert!(!en.contains("must not show"), "{en}");
}
