//! A throwaway copy of the shipped knowledge directory, for tests that
//! edit or break it, and the fact a moderator adds in those tests.

#![allow(dead_code)] // each test binary uses a different part

use std::path::Path;

pub fn knowledge_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
    std::fs::create_dir(dir.path().join("facts")).unwrap();
    for name in ["sources.toml", "aliases.toml", "chat.toml"] {
        std::fs::copy(src.join(name), dir.path().join(name)).unwrap();
    }
    for entry in std::fs::read_dir(src.join("facts")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(
            entry.path(),
            dir.path().join("facts").join(entry.file_name()),
        )
        .unwrap();
    }
    dir
}

/// A fact a moderator adds. The tests break it on purpose and know the line
/// and column of each mistake: a syntax error in `status` is at 5:20, an
/// unknown source id at 4:12.
pub const NEW_FACT: &str = r#"
[[fact]]
id = "test-new-fact"
sources = ["asahi-2025-01-19"]
status = "confirmed"
questions.ja = ["モスクワの天気テスト質問は?"]
questions.zh = ["莫斯科天气测试问题?"]
questions.en = ["What is the weather test question for Moscow?"]
answer.ja = "テストの答え。[asahi-2025-01-19]"
answer.zh = "测试答案。[asahi-2025-01-19]"
answer.en = "A test answer. [asahi-2025-01-19]"
"#;

/// A question only [`NEW_FACT`] answers.
pub const NEW_QUESTION: &str = "What is the weather test question for Moscow?";

/// Saves a file the way many editors do: a new file renamed over the old one.
pub fn save(path: &Path, text: &str) {
    let tmp = path.with_extension("toml.swp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}
