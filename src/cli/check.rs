//! `kotae check`: validates a knowledge directory for moderators, printing
//! every problem as `file:line:column: error: message`.

use crate::core::lint;
use crate::core::load::{self, Severity};
use anyhow::Result;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The knowledge directory; without it, the built-in fact base.
    dir: Option<PathBuf>,
    /// Warn about facts whose `updated` date is older than this many days.
    #[arg(long, default_value_t = 180)]
    max_age_days: i64,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let (name, result) = match &args.dir {
        Some(dir) if !dir.is_dir() => anyhow::bail!(
            "knowledge directory {} does not exist or is not a directory",
            dir.display()
        ),
        Some(dir) => (dir.display().to_string(), load::load_dir(dir)),
        None => ("built-in fact base".to_string(), load::load_embedded()),
    };
    let diags = match &result {
        Ok(loaded) => {
            let matcher = crate::core::Matcher::new(&loaded.base);
            let mut diags = loaded.warnings.clone();
            diags.extend(lint::lint(
                &loaded.base,
                &matcher,
                lint::today(),
                args.max_age_days,
            ));
            diags
        }
        Err(diags) => diags.clone(),
    };
    for d in &diags {
        match &args.dir {
            Some(dir) => println!("{}/{d}", dir.display()),
            None => println!("{d}"),
        }
    }
    let errors = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = diags.len() - errors;
    match result {
        Ok(loaded) => {
            let base = loaded.base;
            println!(
                "{name}: ok: {} facts, {} sources, {} alias groups, revision {} ({warnings} warnings)",
                base.facts().len(),
                base.sources().len(),
                base.aliases().len(),
                base.revision()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(_) => {
            println!(
                "{name}: {}, {}; nothing was loaded",
                error_count(&diags, errors),
                plural(warnings, "warning")
            );
            Ok(ExitCode::from(1))
        }
    }
}

/// How many errors there are, truthfully: past [`load::MAX_ERRORS`] the
/// last error line is the loader's note on what was not shown or not
/// checked, which is no error of its own, and the count is then a floor.
fn error_count(diags: &[load::Diagnostic], errors: usize) -> String {
    let note = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .nth(load::MAX_ERRORS)
        .filter(|_| errors == load::MAX_ERRORS + 1);
    let Some(note) = note else {
        return plural(errors, "error");
    };
    let shown = load::MAX_ERRORS;
    // "N more errors from here on were not shown", "1 more error ... was".
    let untold = note
        .message
        .split_once(" more error")
        .and_then(|(n, _)| n.parse::<usize>().ok())
        .filter(|_| note.message.contains(" not shown (at most "));
    let stopped = note.message.contains("checking stopped");
    match (untold, stopped) {
        (None, _) => {
            format!("{shown} errors shown, then checking stopped (the rest was not checked)")
        }
        (Some(n), false) => format!("{} errors ({n} not shown)", shown + n),
        (Some(n), true) => format!(
            "at least {} errors ({n} not shown, and the rest was not checked)",
            shown + n
        ),
    }
}

/// `1 error`, `2 errors`.
fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}
