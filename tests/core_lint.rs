//! `kotae check`'s advice for moderators on a valid base.

use kotae::core::Matcher;
use kotae::core::lint::{day, lint};
use kotae::core::load::{KnowledgeFiles, load};

const SOURCES: &str = "[[source]]\nid = \"cited\"\npublisher = \"P\"\nurl = \"https://example.org\"\nlanguage = \"en\"\nreliability = \"press\"\n\n\
[[source]]\nid = \"lonely\"\npublisher = \"Q\"\nlanguage = \"en\"\nreliability = \"press\"\n";

fn fact(id: &str, updated: &str, en_questions: &str) -> String {
    format!(
        "[[fact]]\nid = \"{id}\"\nsources = [\"cited\"]\nstatus = \"confirmed\"\nupdated = \"{updated}\"\n\
         questions.ja = [\"{id}の質問\"]\nquestions.zh = [\"{id}的问题\"]\nquestions.en = [{en_questions}]\n\
         answer.ja = \"答え[cited]\"\nanswer.zh = \"答案[cited]\"\nanswer.en = \"Answer about {id}. [cited]\"\n\n"
    )
}

#[test]
fn stale_facts_missing_urls_uncited_sources_and_misrouted_examples_are_reported() {
    let weather = fact(
        "weather",
        "2026-01-01",
        "\"How is the weather in Osaka today?\", \"Kyoto train fare, what is it?\"",
    );
    let fares = fact(
        "fares",
        "2026-06-01",
        "\"What is the train fare to Kyoto?\", \"How much is a train ticket?\", \"Train fare?\"",
    );
    let facts = format!("{weather}{fares}");
    let files = KnowledgeFiles::from_files(vec![
        ("sources.toml".into(), SOURCES.into()),
        ("facts/a.toml".into(), facts),
    ]);
    let base = load(&files).unwrap().base;
    let matcher = Matcher::new(&base);
    let messages: Vec<String> = lint(&base, &matcher, day("2026-07-01"), 90)
        .into_iter()
        .map(|d| d.to_string())
        .collect();
    assert!(
        messages.iter().any(|m| m.starts_with(
            "facts/a.toml:1:1: warning: fact \"weather\" was last updated 2026-01-01, 181 days ago"
        )),
        "{messages:#?}"
    );
    assert!(
        !messages
            .iter()
            .any(|m| m.contains("\"fares\" was last updated"))
    );
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("sources.toml:8:1: warning: source \"lonely\" has no url")),
        "{messages:#?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("source \"lonely\" is not cited by any fact"))
    );
    assert!(
        messages.iter().any(|m| m.contains("fact \"weather\": example question (en) \"Kyoto train fare, what is it?\" is answered by fact \"fares\"")),
        "{messages:#?}"
    );
}
