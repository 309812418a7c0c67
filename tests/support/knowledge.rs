//! A throwaway copy of the shipped knowledge directory, for tests that
//! edit or break it.

use std::path::Path;

pub fn knowledge_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
    std::fs::create_dir(dir.path().join("facts")).unwrap();
    for name in ["sources.toml", "aliases.toml"] {
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
