//! The crate's modules form a tree of layers, read from the code itself:
//! every `crate::…` path (and `super::…` that climbs to the crate root) in
//! every file under `src/` must point down the layers, never sideways
//! between adapters and never up. A bad import fails with its file and
//! line; so does a top-level module that has no place in the layers, and a
//! circle between top-level modules.
//!
//! The layers, bottom up (`src/lib.rs` explains them):
//! `core`; `config`, `records`, `reload`, `embeddings`; `service`; the
//! adapters `console`, `discord`, `matrix`; `serve`; `cli`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Which top-level modules each may import.
fn allowed() -> BTreeMap<&'static str, &'static [&'static str]> {
    const BASE: &[&str] = &["core"];
    const SERVICE: &[&str] = &["core", "config", "records", "reload", "embeddings"];
    const ADAPTER: &[&str] = &["core", "config", "service"];
    // `cli` may import everything; `serve` everything but `cli`.
    const CLI: &[&str] = &[
        "core",
        "config",
        "records",
        "reload",
        "embeddings",
        "service",
        "console",
        "discord",
        "matrix",
        "serve",
    ];
    const SERVE: &[&str] = CLI.split_last().unwrap().1;
    BTreeMap::from([
        ("core", &[][..]),
        ("config", BASE),
        ("records", BASE),
        ("reload", BASE),
        ("embeddings", BASE),
        ("service", SERVICE),
        ("console", ADAPTER),
        ("discord", ADAPTER),
        ("matrix", ADAPTER),
        ("serve", SERVE),
        ("cli", CLI),
    ])
}

/// One import of another top-level module.
#[derive(Debug, Clone)]
struct Import {
    file: PathBuf,
    line: usize,
    from: String,
    to: String,
    text: String,
}

#[test]
fn imports_follow_the_layers_and_form_no_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let problems = check(&src);
    assert!(
        problems.is_empty(),
        "imports against the module tree:\n{}",
        problems.join("\n")
    );
}

#[test]
fn an_import_against_the_layers_is_caught_with_its_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let write = |path: &str, text: &str| {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("lib.rs", "pub mod core;\npub mod matrix;\npub mod serve;\n");
    write(
        "core/mod.rs",
        "//! `crate::serve` in a comment is no import.\n",
    );
    write(
        "matrix/mod.rs",
        "use crate::core::Lang;\nuse crate::{core, serve::Context};\nfn f() { super::serve::run(); }\n",
    );
    write("serve/mod.rs", "use crate::matrix;\n");
    let problems = check(dir.path());
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(
        problems[0].contains("matrix/mod.rs:2: matrix imports serve"),
        "{}",
        problems[0]
    );
    assert!(
        problems[1].contains("matrix/mod.rs:3: matrix imports serve"),
        "{}",
        problems[1]
    );
    assert_eq!(problems[2], "circle: matrix → serve → matrix");
}

#[test]
fn a_module_without_a_layer_or_a_circle_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("slack.rs"), "use crate::discord::render;\n").unwrap();
    std::fs::write(dir.path().join("discord.rs"), "use crate::slack::x;\n").unwrap();
    let problems = check(dir.path());
    let all = problems.join("\n");
    assert!(all.contains("slack.rs:1: slack has no layer"), "{all}");
    assert!(all.contains("discord.rs:1: discord imports slack"), "{all}");
    assert!(all.contains("circle: discord → slack → discord"), "{all}");
}

/// Every problem with the imports of the tree under `src`.
fn check(src: &Path) -> Vec<String> {
    let files = rust_files(src);
    // `super::Name` in a nested `mod tests` can look like a climb to the
    // root; only names of real top-level modules count.
    let tops: BTreeSet<String> = files
        .iter()
        .filter_map(|file| module_path(src, file).first().cloned())
        .collect();
    let imports: Vec<Import> = files
        .iter()
        .flat_map(|file| imports_of(src, file))
        .filter(|import| tops.contains(&import.to))
        .collect();
    let allowed = allowed();
    let mut problems = Vec::new();
    let mut unplaced = BTreeSet::new();
    for import in &imports {
        let at = format!("{}:{}", import.file.display(), import.line);
        match allowed.get(import.from.as_str()) {
            None => {
                if unplaced.insert(import.from.clone()) {
                    problems.push(format!(
                        "{at}: {} has no layer; add it to tests/module_tree.rs and src/lib.rs",
                        import.from
                    ));
                }
            }
            Some(may) if !may.contains(&import.to.as_str()) => problems.push(format!(
                "{at}: {} imports {} (`{}`); {} may import only: {}",
                import.from,
                import.to,
                import.text,
                import.from,
                if may.is_empty() {
                    "nothing else of the crate".to_string()
                } else {
                    may.join(", ")
                }
            )),
            Some(_) => {}
        }
    }
    problems.extend(circles(&imports));
    problems
}

/// The `.rs` files under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The module path of a file: `src/discord/commands/ask.rs` is
/// `discord::commands::ask`; `lib.rs` and `main.rs` are the root.
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The imports of other top-level modules in one file.
fn imports_of(src: &Path, file: &Path) -> Vec<Import> {
    let module = module_path(src, file);
    let Some(from) = module.first().cloned() else {
        return Vec::new(); // lib.rs and main.rs declare the tree
    };
    let text = std::fs::read_to_string(file).unwrap();
    let mut imports = Vec::new();
    let mut grouped = false; // inside `use crate::{ … }`
    for (n, raw) in text.lines().enumerate() {
        let line = code_of(raw);
        let mut targets = crate_paths(&line, &module);
        if grouped || line.trim_start().starts_with("use crate::{") {
            targets.extend(group_members(&line));
            grouped = !line.contains("};");
        }
        for to in targets {
            if to != from {
                imports.push(Import {
                    file: file
                        .strip_prefix(src.parent().unwrap_or(src))
                        .unwrap_or(file)
                        .to_path_buf(),
                    line: n + 1,
                    from: from.clone(),
                    to,
                    text: raw.trim().to_string(),
                });
            }
        }
    }
    imports
}

/// A line without its `//` comment (a `//` inside a string stays).
fn code_of(line: &str) -> String {
    let mut quotes = 0;
    let bytes = line.as_bytes();
    for i in 0..bytes.len() {
        match bytes[i] {
            b'"' if i == 0 || bytes[i - 1] != b'\\' => quotes += 1,
            b'/' if quotes % 2 == 0 && bytes.get(i + 1) == Some(&b'/') => {
                return line[..i].to_string();
            }
            _ => {}
        }
    }
    line.to_string()
}

/// The top-level modules named by `crate::x` paths, and by `super::`
/// chains that climb out of this file's top-level module.
fn crate_paths(line: &str, module: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for (i, _) in line.match_indices("crate::") {
        let boundary = line[..i]
            .chars()
            .last()
            .is_none_or(|c| !c.is_alphanumeric() && c != '_');
        if boundary && let Some(name) = identifier(&line[i + "crate::".len()..]) {
            found.push(name);
        }
    }
    for (i, _) in line.match_indices("super::") {
        if line[..i].ends_with("super::")
            || line[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_')
        {
            continue; // counted from the chain's first `super::`
        }
        let mut rest = &line[i..];
        let mut depth = 0;
        while let Some(after) = rest.strip_prefix("super::") {
            depth += 1;
            rest = after;
        }
        // A file's own module is `module`; a file's `mod tests` adds one.
        if depth >= module.len()
            && let Some(name) = identifier(rest)
        {
            found.push(name);
        }
    }
    found.retain(|name| !matches!(name.as_str(), "self" | "super" | "crate"));
    found
}

/// The top-level modules a line of a `use crate::{ … }` group names.
fn group_members(line: &str) -> Vec<String> {
    let inner = line
        .split_once("use crate::{")
        .map_or(line, |(_, rest)| rest);
    let mut depth = 0;
    let mut names = Vec::new();
    let mut start = true;
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => start = true,
            c if start && (c.is_alphabetic() || c == '_') && depth == 0 => {
                if let Some(name) = identifier(&inner[i..]) {
                    names.push(name);
                }
                start = false;
            }
            _ => {}
        }
        if depth < 0 {
            break;
        }
    }
    names.retain(|name| name != "self");
    names
}

fn identifier(text: &str) -> Option<String> {
    let name: String = text
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// Every circle in the graph of top-level modules, once each.
fn circles(imports: &[Import]) -> Vec<String> {
    let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for import in imports {
        edges.entry(&import.from).or_default().insert(&import.to);
    }
    let mut found = BTreeSet::new();
    for &start in edges.keys() {
        let mut path = vec![start];
        walk(&edges, start, &mut path, &mut found);
    }
    found.into_iter().map(|c| format!("circle: {c}")).collect()
}

fn walk<'a>(
    edges: &BTreeMap<&'a str, BTreeSet<&'a str>>,
    start: &'a str,
    path: &mut Vec<&'a str>,
    found: &mut BTreeSet<String>,
) {
    let last = *path.last().unwrap();
    for &next in edges.get(last).into_iter().flatten() {
        if next == start {
            // Reported from its alphabetically first module only.
            if path.iter().all(|m| *m >= start) {
                found.insert(format!("{} → {start}", path.join(" → ")));
            }
        } else if !path.contains(&next) {
            path.push(next);
            walk(edges, start, path, found);
            path.pop();
        }
    }
}
