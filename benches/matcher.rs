//! Speed of the core: answering one question on the shipped fact base and on
//! a generated base of 10,000 facts, and loading plus indexing a base.
//! Run with `cargo bench --bench matcher`; criterion prints medians.

use criterion::{Criterion, criterion_group, criterion_main};
use kotae::core::load::{KnowledgeFiles, load};
use kotae::core::{Kotae, LangChoice, Matcher};
use std::hint::black_box;

/// A mix of languages, paraphrases and off-topic questions.
const QUESTIONS: &[&str] = &[
    "Why did Russia terminate the memorandum?",
    "日本センターはどの都市にありましたか?",
    "日本中心为什么关闭?",
    "How many graduates did the Vladivostock center have?",
    "日本中心為什麼關閉?",
    "What time is it in Moscow?",
    "上海明天会下雨吗?",
];

fn shipped_files() -> KnowledgeFiles {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
    KnowledgeFiles::read_dir(&dir).expect("readable")
}

/// The shipped base grown to `n` facts: copies of the real facts, each with
/// its own made-up topic word so that no two are the same document.
pub fn generated_files(n: usize) -> KnowledgeFiles {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
    let sources = std::fs::read_to_string(dir.join("sources.toml")).unwrap();
    let base = load(&shipped_files()).unwrap().base;
    let mut facts = String::new();
    for i in 0..n {
        let f = &base.facts()[i % base.facts().len()];
        let topic = format!("topic{i}");
        let q = |list: &Vec<String>| {
            format!(
                "{:?}",
                list.iter()
                    .map(|q| format!("{q} {topic}"))
                    .collect::<Vec<_>>()
            )
        };
        facts.push_str(&format!(
            "[[fact]]\nid = \"gen-{i}\"\nsources = {:?}\nstatus = \"reported\"\nquestions.ja = {}\nquestions.zh = {}\nquestions.en = {}\nanswer.ja = {:?}\nanswer.zh = {:?}\nanswer.en = {:?}\n\n",
            f.sources, q(&f.questions.ja), q(&f.questions.zh), q(&f.questions.en), raw(&f.claims.ja), raw(&f.claims.zh), raw(&f.claims.en)
        ));
    }
    KnowledgeFiles::from_files(vec![
        ("sources.toml".into(), sources),
        ("facts/generated.toml".into(), facts),
    ])
}

/// An answer as the TOML writes it, markers and all.
fn raw(claims: &[kotae::core::knowledge::Claim]) -> String {
    claims
        .iter()
        .map(|c| format!("{} [{}]", c.text, c.sources.join(", ")))
        .collect()
}

fn bench(c: &mut Criterion) {
    let kotae = Kotae::new(load(&shipped_files()).unwrap().base);
    c.bench_function("ask/shipped base (mix of 7 questions, per question)", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % QUESTIONS.len();
            black_box(kotae.ask(QUESTIONS[i], LangChoice::Detect).unwrap())
        })
    });

    let files = shipped_files();
    c.bench_function("load and index/shipped base", |b| {
        b.iter(|| black_box(Kotae::new(load(&files).unwrap().base)))
    });

    let big = generated_files(10_000);
    let kotae = Kotae::new(load(&big).unwrap().base);
    c.bench_function("ask/10,000 facts (mix of 7 questions, per question)", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % QUESTIONS.len();
            black_box(kotae.ask(QUESTIONS[i], LangChoice::Detect).unwrap())
        })
    });
    let mut group = c.benchmark_group("reload");
    group.sample_size(10);
    group.bench_function("load and index/10,000 facts", |b| {
        b.iter(|| black_box(Kotae::new(load(&big).unwrap().base)))
    });
    let base = load(&big).unwrap().base;
    group.bench_function("load/10,000 facts", |b| {
        b.iter(|| black_box(load(&big).unwrap()))
    });
    group.bench_function("index/10,000 facts", |b| {
        b.iter(|| black_box(Matcher::new(&base)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
