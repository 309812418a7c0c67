//! Speed of the moderators' queries on a large state directory: the
//! unanswered digest and the vote summary over 100,000 records each, as
//! `kotae unanswered` and `kotae feedback` run them, and the digest's two
//! steps (reading the records, grouping them) apart. Issue #12 asks for
//! each query under 200 ms. Run with `cargo bench --bench records`;
//! criterion prints its estimate of the mean, and the median is
//! `median.point_estimate` (in ns) in
//! `target/criterion/records/*/new/estimates.json`.

use criterion::{Criterion, criterion_group, criterion_main};
use kotae::records::{Records, feedback, unanswered};
use std::fmt::Write;
use std::hint::black_box;
use std::path::Path;

const RECORDS: usize = 100_000;

/// Declined questions in three languages, each asked with many wordings.
const TEMPLATES: &[&str] = &[
    "How tall is Tokyo Tower in year {}?",
    "What is the weather in Moscow on day {}?",
    "Who won football match number {}?",
    "東京タワーの高さは{}メートルですか?",
    "上海明天会下雨吗?第{}次",
    "Is there a Japan Center in city {} now?",
    "大使館の電話番号{}は?",
    "日本中心的第{}位校长是谁?",
];

/// A state directory as an earlier version left it (its salt, and records
/// in JSON lines), imported on first open (one transaction, so setting up
/// takes seconds, not minutes).
fn large_state(dir: &Path) {
    // Records without their salt are refused: an earlier version made the
    // salt with the first record.
    std::fs::write(dir.join("salt"), [7u8; 32]).unwrap();
    let mut unanswered = String::new();
    let mut votes = String::new();
    for i in 0..RECORDS {
        let question = TEMPLATES[i % TEMPLATES.len()].replace("{}", &(i / 7).to_string());
        let record = serde_json::json!({
            "time": 1_700_000_000 + i, "platform": "matrix", "lang": "en",
            "question": question, "asker": format!("{:016x}", i % 5_000),
            "closest": [["locations", 0.4]],
        });
        writeln!(unanswered, "{record}").unwrap();
        let vote = serde_json::json!({
            "time": 1_700_000_000 + i, "platform": "discord", "fact": format!("fact-{}", i % 40),
            "revision": format!("r{}", i % 3), "vote": if i % 3 == 0 { "down" } else { "up" },
            "asker": format!("{:016x}", i % 20_000),
        });
        writeln!(votes, "{vote}").unwrap();
    }
    std::fs::write(dir.join(unanswered::FILE), unanswered).unwrap();
    std::fs::write(dir.join(feedback::FILE), votes).unwrap();
    drop(Records::open(dir).unwrap());
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    large_state(dir.path());
    let mut group = c.benchmark_group("records");
    group.sample_size(10);
    group.bench_function(
        "kotae unanswered: digest of 100,000 declined questions",
        |b| {
            b.iter(|| black_box(unanswered::digest(dir.path(), 20, kotae::core::Lang::En).unwrap()))
        },
    );
    group.bench_function("kotae feedback: summary of 100,000 votes", |b| {
        b.iter(|| black_box(feedback::summary(dir.path()).unwrap()))
    });
    // The digest's two steps, to see which one costs what.
    group.bench_function("digest step 1: read 100,000 declined questions", |b| {
        b.iter(|| black_box(unanswered::read(dir.path()).unwrap()))
    });
    let records = unanswered::read(dir.path()).unwrap();
    assert_eq!(records.len(), RECORDS);
    group.bench_function("digest step 2: group 100,000 declined questions", |b| {
        b.iter(|| black_box(unanswered::groups(&records)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
