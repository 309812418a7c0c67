//! The knowledge loader: a valid base loads whole; every kind of mistake a
//! moderator can make is reported with its file, line and column, all at
//! once, and nothing is loaded.

use kotae::core::load::{
    Diagnostic, KnowledgeFiles, Limits, MAX_ERRORS, Severity, load, load_embedded,
};

const SOURCES: &str = r#"
[[source]]
id = "press"
publisher = "A Newspaper"
url = "https://example.org/a"
published = "2025-01-19"
language = "en"
reliability = "press"
"#;

const MINIMAL_FACT: &str = r#"
[[fact]]
id = "minimal"
sources = ["press"]
status = "confirmed"
questions.ja = ["質問?"]
questions.zh = ["问题?"]
questions.en = ["Question?"]
answer.ja = "答え。[press]"
answer.zh = "答案。[press]"
answer.en = "Answer. [press]"
"#;

fn files(facts: &str) -> KnowledgeFiles {
    KnowledgeFiles::from_files(vec![
        ("sources.toml".into(), SOURCES.into()),
        ("facts/a.toml".into(), facts.into()),
    ])
}

fn errors(facts: &str) -> Vec<Diagnostic> {
    let diags = load(&files(facts)).expect_err("the base must be rejected");
    diags
        .into_iter()
        .filter(|d| d.severity == Severity::Error)
        .collect()
}

/// The one error of a base with a single mistake, as `file:line:col: message`.
fn only_error(facts: &str) -> String {
    let errors = errors(facts);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let d = &errors[0];
    format!("{}:{}:{}: {}", d.file, d.line, d.column, d.message)
}

#[test]
fn the_embedded_base_is_valid_and_covers_every_required_topic() {
    let loaded = load_embedded().expect("the shipped fact base validates");
    assert!(loaded.warnings.is_empty(), "{:#?}", loaded.warnings);
    let base = loaded.base;
    for id in [
        "memorandum-termination",
        "termination-reason",
        "japan-reaction-termination",
        "memorandum-origin",
        "memorandum-content",
        "japan-center-overview",
        "founding",
        "locations",
        "funding",
        "programs",
        "closure-announcement",
        "closure-reason",
        "closure-notice",
        "vladivostok-searches",
        "vladivostok-graduates",
        "far-east-cooperation",
        "unfriendly-countries",
        "trade-decline",
        "impact",
        "reactions-japan",
        "reactions-russia",
        "china-role",
    ] {
        let fact = base.fact(id).unwrap_or_else(|| panic!("missing fact {id}"));
        assert!(!fact.sources.is_empty());
    }
    let netease = base
        .source("netease-japan-centers-closure")
        .expect("NetEase source");
    assert_eq!(netease.reliability, kotae::core::Reliability::SelfPublished);
    for id in ["memorandum-origin", "founding"] {
        assert_eq!(
            base.fact(id).unwrap().status,
            kotae::core::Status::Disputed,
            "{id}"
        );
    }
}

#[test]
fn a_minimal_fact_with_only_the_required_fields_is_valid() {
    let loaded = load(&files(MINIMAL_FACT)).expect("valid");
    let fact = loaded.base.fact("minimal").unwrap();
    assert_eq!(fact.answer.en, "Answer.");
    assert_eq!(fact.date, None);
    assert!(fact.related.is_empty());
}

#[test]
fn a_syntax_error_names_its_line_and_column() {
    let broken = MINIMAL_FACT.replace("status = \"confirmed\"", "status = \"confirmed");
    let e = only_error(&broken);
    assert!(e.starts_with("facts/a.toml:5:"), "{e}");
}

#[test]
fn an_unknown_source_id_is_located_exactly() {
    let bad = MINIMAL_FACT.replace(r#"sources = ["press"]"#, r#"sources = ["press", "nope"]"#);
    assert_eq!(
        only_error(&bad),
        r#"facts/a.toml:4:21: unknown source id "nope": it is not in sources.toml"#
    );
}

#[test]
fn a_missing_language_is_reported() {
    let bad = MINIMAL_FACT.replace("answer.zh = \"答案。[press]\"\n", "");
    let e = only_error(&bad);
    assert!(e.contains("missing `answer.zh`"), "{e}");
    assert!(e.starts_with("facts/a.toml:"), "{e}");
    let bad = MINIMAL_FACT.replace("questions.ja = [\"質問?\"]\n", "");
    assert!(only_error(&bad).contains("missing example questions in `questions.ja`"));
}

#[test]
fn an_empty_answer_and_an_empty_question_are_errors() {
    let bad = MINIMAL_FACT.replace("answer.en = \"Answer. [press]\"", "answer.en = \"  \"");
    assert_eq!(only_error(&bad), "facts/a.toml:11:13: `answer.en` is empty");
    let bad = MINIMAL_FACT.replace(r#"questions.en = ["Question?"]"#, r#"questions.en = [""]"#);
    assert!(only_error(&bad).contains("an example question in `questions.en` is empty"));
}

#[test]
fn bad_status_date_and_reliability_are_errors() {
    let bad = MINIMAL_FACT.replace(
        "status = \"confirmed\"",
        "status = \"rumour\"\ndate = \"2025-13\"",
    );
    let errors = errors(&bad);
    let text: Vec<String> = errors
        .iter()
        .map(|d| format!("{}:{}: {}", d.line, d.column, d.message))
        .collect();
    assert_eq!(text.len(), 2, "{text:#?}");
    assert!(
        text.iter()
            .any(|t| t.starts_with("5:10: `status` = \"rumour\" is not one of")),
        "{text:#?}"
    );
    assert!(
        text.iter()
            .any(|t| t.starts_with("6:8: `date` = \"2025-13\" is not a date")),
        "{text:#?}"
    );

    let sources = SOURCES
        .replace("\"press\"\n", "\"blog\"\n")
        .replace("2025-01-19", "19 Jan 2025");
    let files = KnowledgeFiles::from_files(vec![
        ("sources.toml".into(), sources),
        (
            "facts/a.toml".into(),
            MINIMAL_FACT.replace(r#"sources = ["press"]"#, r#"sources = ["other"]"#),
        ),
    ]);
    let diags = load(&files).unwrap_err();
    let messages: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("`reliability` = \"blog\"")),
        "{messages:#?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("`published` = \"19 Jan 2025\" is not a date")),
        "{messages:#?}"
    );
}

#[test]
fn a_duplicate_fact_id_points_at_both_places() {
    let twice = format!(
        "{MINIMAL_FACT}{}",
        MINIMAL_FACT
            .replace("質問?", "別の質問?")
            .replace("问题?", "别的问题?")
            .replace("Question?", "Another?")
    );
    assert_eq!(
        only_error(&twice),
        r#"facts/a.toml:13:1: duplicate fact id "minimal" (also at facts/a.toml:2)"#
    );
}

#[test]
fn every_problem_is_reported_at_once_across_files() {
    let files = KnowledgeFiles::from_files(vec![
        ("sources.toml".into(), SOURCES.into()),
        (
            "facts/a.toml".into(),
            MINIMAL_FACT.replace("\"press\"", "\"gone\""),
        ),
        ("facts/b.toml".into(), "[[fact]\nid = 1".into()),
        ("facts/c.toml".into(), "[[fact]]\nid = \"bare\"\n".into()),
    ]);
    let diags = load(&files).unwrap_err();
    let files_hit: std::collections::BTreeSet<&str> =
        diags.iter().map(|d| d.file.as_str()).collect();
    assert_eq!(
        files_hit.into_iter().collect::<Vec<_>>(),
        ["facts/a.toml", "facts/b.toml", "facts/c.toml"]
    );
    let bare: Vec<&str> = diags
        .iter()
        .filter(|d| d.file == "facts/c.toml")
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(
        bare.len(),
        4,
        "sources, status, questions and answer are all missing: {bare:#?}"
    );
}

#[test]
fn an_unknown_field_is_an_error_not_silently_ignored() {
    let typo = MINIMAL_FACT.replace("answer.en", "anwser.en");
    let e = only_error(&typo);
    assert!(e.contains("anwser"), "{e}");
}

#[test]
fn a_question_shared_by_two_facts_is_a_warning() {
    let other = MINIMAL_FACT.replace("id = \"minimal\"", "id = \"other\"");
    let loaded =
        load(&files(&format!("{MINIMAL_FACT}{other}"))).expect("warnings do not stop loading");
    assert_eq!(loaded.warnings.len(), 3, "{:#?}", loaded.warnings);
    assert!(
        loaded
            .warnings
            .iter()
            .all(|w| w.severity == Severity::Warning
                && w.message.contains("also an example of fact \"minimal\""))
    );
}

#[test]
fn a_related_id_must_exist() {
    let bad = MINIMAL_FACT.replace(
        "status = \"confirmed\"",
        "status = \"confirmed\"\nrelated = [\"nowhere\"]",
    );
    assert!(only_error(&bad).contains("`related` names unknown fact id \"nowhere\""));
}

#[test]
fn sources_toml_is_required() {
    let files = KnowledgeFiles::from_files(vec![("facts/a.toml".into(), MINIMAL_FACT.into())]);
    let diags = load(&files).unwrap_err();
    assert!(
        diags
            .iter()
            .any(|d| d.file == "sources.toml" && d.message.contains("missing"))
    );
}

#[test]
fn an_error_in_a_later_table_keeps_its_line_and_column() {
    let second = other_fact("second").replace("status = \"confirmed\"", "status = = \"confirmed\"");
    let e = only_error(&format!("{MINIMAL_FACT}{}{second}", other_fact("other")));
    assert!(e.starts_with("facts/a.toml:27:10:"), "{e}");
}

/// [`MINIMAL_FACT`] with another id and other questions.
fn other_fact(id: &str) -> String {
    MINIMAL_FACT
        .replace("id = \"minimal\"", &format!("id = \"{id}\""))
        .replace("質問?", &format!("{id}?"))
        .replace("问题?", &format!("{id}?"))
        .replace("Question?", &format!("{id}?"))
}

fn source_errors(sources: &str) -> Vec<String> {
    let files = KnowledgeFiles::from_files(vec![
        ("sources.toml".into(), sources.into()),
        ("facts/a.toml".into(), MINIMAL_FACT.into()),
    ]);
    load(&files)
        .expect_err("rejected")
        .into_iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| format!("{}:{}:{}: {}", d.file, d.line, d.column, d.message))
        .collect()
}

#[test]
fn a_second_source_with_the_same_id_is_an_error_naming_the_first() {
    let errors = source_errors(&format!(
        "{SOURCES}{}",
        SOURCES.replace("A Newspaper", "Another")
    ));
    assert_eq!(
        errors,
        [r#"sources.toml:11:6: duplicate source id "press" (also at sources.toml:2)"#]
    );
}

#[test]
fn a_url_without_a_host_is_an_error() {
    for bad in ["https://", "ftp://example.org/a", "https://exa mple.org"] {
        let errors = source_errors(&SOURCES.replace("https://example.org/a", bad));
        assert_eq!(errors.len(), 1, "{bad}: {errors:?}");
        assert!(
            errors[0].starts_with("sources.toml:5:7: `url` = ")
                && errors[0].contains("is not an http(s) URL"),
            "{bad}: {errors:?}"
        );
    }
}

/// Every error, as `file:line:col: message`, of a base made of the minimal
/// fact and one more file.
fn errors_beside_a_fact(name: &str, text: &str) -> Vec<String> {
    let files = KnowledgeFiles::from_files(vec![
        ("sources.toml".into(), SOURCES.into()),
        ("facts/a.toml".into(), MINIMAL_FACT.into()),
        (name.into(), text.into()),
    ]);
    load(&files)
        .expect_err("rejected")
        .into_iter()
        .map(|d| format!("{}:{}:{}: {}", d.file, d.line, d.column, d.message))
        .collect()
}

#[test]
fn one_alias_name_in_two_groups_is_an_error() {
    let errors = errors_beside_a_fact(
        "aliases.toml",
        "[[alias]]\nnames = [\"Vladivostok\", \"ウラジオストク\"]\n\n[[alias]]\nnames = [\"Moscow\", \"VLADIVOSTOK\"]\n",
    );
    assert_eq!(
        errors,
        [
            "aliases.toml:5:20: alias name \"VLADIVOSTOK\" is also in the group at aliases.toml:1; a name belongs to one group"
        ]
    );
}

#[test]
fn chat_words_are_checked_like_aliases() {
    let errors = errors_beside_a_fact(
        "chat.toml",
        "[[word]]\nsaid = [\"govt\"]\nmeans = \"government\"\n\n[[word]]\nsaid = [\"lol\", \"GOVT\", \"?!\"]\nmeans = \"\"\n\n[[word]]\nsaid = []\nmeans = \"x\"\n\n[[word]]\nsaid = [\"x\"]\nmean = \"y\"\n",
    );
    assert_eq!(
        errors,
        [
            "chat.toml:6:16: chat phrase \"GOVT\" is also said at chat.toml:1; a phrase has one meaning",
            "chat.toml:6:24: a chat phrase is empty (or only punctuation)",
            "chat.toml:9:1: a chat word needs at least one phrase in `said`",
            "chat.toml:15:1: unknown field `mean`, expected `said` or `means`",
        ]
    );
}

#[test]
fn gaps_are_checked_with_their_line() {
    let errors = errors_beside_a_fact(
        "gaps.toml",
        "[[gap]]\nasks = [\"who is prime minister now\", \"??\"]\n\n[[gap]]\nasks = []\n\n[[gap]]\nask = [\"x\"]\n",
    );
    assert_eq!(
        errors,
        [
            "gaps.toml:2:38: a gap question is empty (or only punctuation)",
            "gaps.toml:4:1: a gap needs at least one question in `asks`",
            "gaps.toml:8:1: unknown field `ask`, expected `asks`",
        ]
    );
}

#[test]
fn the_shipped_gaps_load_with_the_base() {
    let base = load_embedded().expect("valid").base;
    assert!(
        base.gaps().iter().flat_map(|g| &g.asks).count() >= 50,
        "gaps.toml is part of the embedded base"
    );
}

#[test]
fn the_shipped_chat_words_load_with_the_base() {
    let base = load_embedded().expect("valid").base;
    assert!(
        base.chat()
            .iter()
            .any(|w| w.means.is_empty() && w.said.iter().any(|s| s == "lol")),
        "chat.toml is part of the embedded base"
    );
}

#[test]
fn a_base_of_10000_facts_fits_within_the_default_limits() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("facts")).unwrap();
    std::fs::write(dir.path().join("sources.toml"), SOURCES).unwrap();
    // About 3.7 KB a fact, like the shipped ones: 37 MB in one file.
    let filler = "x".repeat(3_400);
    let mut text = String::new();
    for i in 0..10_000 {
        text.push_str(
            &MINIMAL_FACT.replace("id = \"minimal\"", &format!("id = \"f{i}\"\n# {filler}")),
        );
    }
    assert!(text.len() > 35_000_000, "{}", text.len());
    std::fs::write(dir.path().join("facts/all.toml"), &text).unwrap();
    let files =
        KnowledgeFiles::read_dir_within(dir.path(), &Limits::default()).expect("within the limits");
    drop(text);
    let loaded = load(&files).expect("a valid base");
    assert_eq!(loaded.base.facts().len(), 10_000);
}

/// Every diagnostic of `files`, which must be rejected, as
/// `file:line:col: message`.
fn all_errors(files: Vec<(&str, String)>) -> Vec<String> {
    let files = files.into_iter().map(|(n, t)| (n.to_string(), t)).collect();
    load(&KnowledgeFiles::from_files(files))
        .expect_err("rejected")
        .into_iter()
        .inspect(|d| assert_eq!(d.severity, Severity::Error, "{d}"))
        .map(|d| format!("{}:{}:{}: {}", d.file, d.line, d.column, d.message))
        .collect()
}

#[test]
fn errors_are_capped_across_files_and_reading_stops_at_the_cap() {
    // Four files of 40 broken tables: 160 errors, more than are shown.
    let broken = "[[fact]]\nid = = =\n".repeat(40);
    let errors = all_errors(vec![
        ("sources.toml", SOURCES.into()),
        ("facts/a.toml", broken.clone()),
        ("facts/b.toml", broken.clone()),
        ("facts/c.toml", broken.clone()),
        ("facts/d.toml", broken),
    ]);
    assert_eq!(errors.len(), MAX_ERRORS + 1, "{errors:#?}");
    assert!(errors[0].starts_with("facts/a.toml:2:6: "), "{errors:#?}");
    assert!(errors[1].starts_with("facts/a.toml:4:6: "), "{errors:#?}");
    assert!(errors[40].starts_with("facts/b.toml:2:6: "), "{errors:#?}");
    assert!(
        errors[MAX_ERRORS - 1].starts_with("facts/c.toml:40:6: "),
        "{errors:#?}"
    );
    assert_eq!(
        errors[MAX_ERRORS],
        format!(
            "facts/c.toml:41:1: checking stopped here after {MAX_ERRORS} errors: the rest of \
             this file and 1 more file were not checked; fix the errors shown and check again"
        )
    );
    assert!(!errors.iter().any(|e| e.starts_with("facts/d.toml")));
}

#[test]
fn files_of_many_tables_that_are_not_facts_stop_at_the_cap() {
    // Each table parses and lacks four fields: four errors a table. Across
    // four files of 1.6 MB each, the first 25 tables are reported.
    let tables = "[[fact]]\nid = \"x\"\n".repeat(100_000);
    let errors = all_errors(vec![
        ("sources.toml", SOURCES.into()),
        ("facts/a.toml", tables.clone()),
        ("facts/b.toml", tables.clone()),
        ("facts/c.toml", tables.clone()),
        ("facts/d.toml", tables),
    ]);
    assert_eq!(errors.len(), MAX_ERRORS + 1, "{errors:#?}");
    assert_eq!(
        errors[0],
        "facts/a.toml:1:1: missing `sources`: every fact cites at least one source"
    );
    assert!(errors[MAX_ERRORS - 1].starts_with("facts/a.toml:49:1: "));
    assert_eq!(
        errors[MAX_ERRORS],
        format!(
            "facts/a.toml:51:1: checking stopped here after {MAX_ERRORS} errors: the rest of \
             this file and 3 more files were not checked; fix the errors shown and check again"
        )
    );
}

#[test]
fn errors_past_the_cap_in_one_table_are_counted_and_located() {
    let unknown: Vec<String> = (0..MAX_ERRORS + 50).map(|i| format!("\"s{i}\"")).collect();
    let fact = MINIMAL_FACT.replace(
        r#"sources = ["press"]"#,
        &format!("sources = [{}]", unknown.join(", ")),
    );
    let errors = all_errors(vec![
        ("sources.toml", SOURCES.into()),
        ("facts/a.toml", fact.clone()),
    ]);
    assert_eq!(errors.len(), MAX_ERRORS + 1, "{errors:#?}");
    assert_eq!(
        errors[0],
        r#"facts/a.toml:4:12: unknown source id "s0": it is not in sources.toml"#
    );
    let column = 12 + unknown[..MAX_ERRORS].join(", ").len() + 2;
    assert_eq!(
        errors[MAX_ERRORS],
        format!(
            "facts/a.toml:4:{column}: 50 more errors from here on were not shown (at most \
             {MAX_ERRORS} errors are); fix the errors shown and check again"
        )
    );
    // With a file after it, that file is not read.
    let errors = all_errors(vec![
        ("sources.toml", SOURCES.into()),
        ("facts/a.toml", fact),
        ("facts/b.toml", "[[fact]]\nid = = =\n".into()),
    ]);
    assert_eq!(errors.len(), MAX_ERRORS + 1, "{errors:#?}");
    assert_eq!(
        errors[MAX_ERRORS],
        format!(
            "facts/a.toml:4:{column}: 50 more errors from here on were not shown (at most \
             {MAX_ERRORS} errors are), and checking stopped at facts/b.toml:1: that file was \
             not checked; fix the errors shown and check again"
        )
    );
}

#[test]
fn facts_are_checked_against_sources_whatever_the_order_of_the_files() {
    let files = KnowledgeFiles::from_files(vec![
        ("facts/a.toml".into(), MINIMAL_FACT.into()),
        ("sources.toml".into(), SOURCES.into()),
    ]);
    let loaded = load(&files).expect("valid");
    assert_eq!(loaded.base.fact("minimal").unwrap().sources, ["press"]);
}

#[cfg(unix)]
#[test]
fn a_link_to_dev_zero_is_refused_not_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("facts")).unwrap();
    std::fs::write(dir.path().join("sources.toml"), SOURCES).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("facts/zero.toml")).unwrap();
    let errors: Vec<String> = KnowledgeFiles::read_dir_within(dir.path(), &Limits::default())
        .expect_err("refused")
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        errors,
        [
            "facts/zero.toml:1:1: error: not a regular file (a device); only regular files, or links to them, are read"
        ]
    );
}

/// MINIMAL_FACT with its English answer replaced; the answer is on line 11,
/// its text from column 14.
fn with_en_answer(answer: &str) -> String {
    MINIMAL_FACT.replace(
        "answer.en = \"Answer. [press]\"",
        &format!("answer.en = \"{answer}\""),
    )
}

const TWO_SOURCES: &str = r#"
[[source]]
id = "other"
publisher = "A Blog"
language = "en"
reliability = "self-published"
"#;

fn files_with_other_source(facts: &str) -> KnowledgeFiles {
    KnowledgeFiles::from_files(vec![
        ("sources.toml".into(), format!("{SOURCES}{TWO_SOURCES}")),
        ("facts/a.toml".into(), facts.into()),
    ])
}

#[test]
fn an_answer_is_read_as_claims_each_with_its_sources() {
    let fact = MINIMAL_FACT
        .replace(r#"sources = ["press"]"#, r#"sources = ["press", "other"]"#)
        .replace("答え。[press]", "答え。[press]続き。[other, press]")
        .replace("答案。[press]", "答案。[press, other]")
        .replace(
            "Answer. [press]",
            "It closed. [press] A blog adds more. [other]",
        );
    let loaded = load(&files_with_other_source(&fact)).expect("valid");
    let fact = loaded.base.fact("minimal").unwrap();
    assert_eq!(fact.answer.en, "It closed. A blog adds more.");
    assert_eq!(fact.answer.ja, "答え。続き。");
    let en: Vec<(&str, Vec<&str>)> = fact
        .claims
        .en
        .iter()
        .map(|c| {
            (
                c.text.as_str(),
                c.sources.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        en,
        [
            ("It closed.", vec!["press"]),
            (" A blog adds more.", vec!["other"])
        ]
    );
}

#[test]
fn every_bad_marker_is_rejected_with_its_place() {
    let cases = [
        (
            "Answer.",
            "facts/a.toml:11:21: `answer.en`: the answer cites no source",
        ),
        (
            "Answer. [press] More.",
            "facts/a.toml:11:29: `answer.en`: the text after the last marker cites no source: \"More.\"",
        ),
        (
            "Answer. [press",
            "facts/a.toml:11:22: `answer.en`: `[` without its `]`",
        ),
        (
            "Answer.] [press]",
            "facts/a.toml:11:21: `answer.en`: `]` without its `[`",
        ),
        (
            "Answer. []",
            "facts/a.toml:11:22: `answer.en`: an empty marker",
        ),
        (
            "Answer. [Press]",
            "facts/a.toml:11:22: `answer.en`: marker [Press] is not a list of source ids",
        ),
        (
            "Answer. [press][press]",
            "facts/a.toml:11:29: `answer.en`: a marker with no claim before it",
        ),
        (
            "Answer. [press, nope]",
            "facts/a.toml:11:22: `answer.en` cites \"nope\", an unknown source id",
        ),
    ];
    for (answer, expected) in cases {
        let e = only_error(&with_en_answer(answer));
        assert!(e.starts_with(expected), "{answer}: {e}");
    }
}

#[test]
fn a_source_cited_but_not_listed_or_listed_but_not_cited_is_rejected() {
    let unlisted = with_en_answer("Answer. [press] More. [other]");
    let errors = load(&files_with_other_source(&unlisted)).expect_err("rejected");
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        text,
        [
            "facts/a.toml:11:36: error: `answer.en` cites \"other\", which this fact's `sources` does not list"
        ]
    );
    // Listed by the fact, cited in English and Chinese but not in Japanese:
    // the languages cite different sources.
    let uncited = MINIMAL_FACT
        .replace(r#"sources = ["press"]"#, r#"sources = ["press", "other"]"#)
        .replace("答案。[press]", "答案。[press, other]")
        .replace("Answer. [press]", "Answer. [other, press]");
    let errors = load(&files_with_other_source(&uncited)).expect_err("rejected");
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        text,
        [
            "facts/a.toml:9:13: error: `answer.ja` never cites \"other\", which the fact lists in `sources`: every language cites every listed source"
        ]
    );
}

#[test]
fn events_are_read_and_bad_events_rejected() {
    let event = "\n[[fact.event]]\ndate = \"1994\"\ndisputed = true\nsources = [\"press\"]\ntext.en = \"Opened\"\ntext.ja = \"開設\"\ntext.zh = \"开设\"\n";
    let loaded = load(&files(&format!("{MINIMAL_FACT}{event}"))).expect("valid");
    let fact = loaded.base.fact("minimal").unwrap();
    assert_eq!(fact.events.len(), 1);
    assert_eq!(fact.events[0].date.to_string(), "1994");
    assert!(fact.events[0].disputed);
    assert_eq!(fact.events[0].text.zh, "开设");

    let cases = [
        (
            event.replace("\"1994\"", "\"the 1990s\""),
            "facts/a.toml:14:8: `date` = \"the 1990s\" is not a date",
        ),
        (
            event.replace("[\"press\"]", "[\"other\"]"),
            "facts/a.toml:16:12: event source \"other\" is not in this fact's `sources`",
        ),
        (
            event.replace("text.zh = \"开设\"\n", ""),
            "facts/a.toml:17:1: missing event `text.zh`",
        ),
        (
            event.replace("\"Opened\"", "\"Opened [press]\""),
            "facts/a.toml:17:11: event `text.en` has a marker",
        ),
        (
            event.replace("date = \"1994\"\n", ""),
            "facts/a.toml:13:1: an event needs a `date`",
        ),
    ];
    for (event, expected) in cases {
        let e = only_error(&format!("{MINIMAL_FACT}{event}"));
        assert!(e.starts_with(expected), "{e}");
    }
}

#[test]
fn a_source_without_a_url_says_why_or_is_warned_of() {
    let with_reason = SOURCES.replace(
        "url = \"https://example.org/a\"",
        "no_url = \"the article was printed only\"",
    );
    let files = |sources: String| {
        KnowledgeFiles::from_files(vec![
            ("sources.toml".into(), sources),
            ("facts/a.toml".into(), MINIMAL_FACT.into()),
        ])
    };
    let loaded = load(&files(with_reason.clone())).expect("valid");
    let matcher = kotae::core::matcher::Matcher::new(&loaded.base);
    let lint = kotae::core::lint::lint(&loaded.base, &matcher, 0, 36_500);
    assert!(
        !lint.iter().any(|d| d.message.contains("has no url")),
        "{lint:#?}"
    );
    let both = with_reason.replace("no_url", "url = \"https://example.org/a\"\nno_url");
    let errors = load(&files(both)).expect_err("rejected");
    assert!(
        errors[0]
            .message
            .contains("a source has `url` or `no_url`, not both"),
        "{errors:#?}"
    );
}
