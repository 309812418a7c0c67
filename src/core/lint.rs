//! Advice for moderators on a base that is valid but could be better: stale
//! facts, sources without a URL or that nothing cites, and example questions
//! that the matcher sends to another fact (each fact's own examples must
//! come back to it, or members asking that way get the wrong answer).

use super::knowledge::{FactBase, PartialDate};
use super::load::{Diagnostic, Severity};
use super::matcher::Matcher;

/// Lints a base; `today` is days since the Unix epoch.
pub fn lint(base: &FactBase, matcher: &Matcher, today: i64, max_age_days: i64) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let warn = |file: &str, line: usize, message: String| Diagnostic {
        severity: Severity::Warning,
        file: file.to_string(),
        line,
        column: 1,
        message,
    };
    for fact in base.facts() {
        match fact.updated {
            Some(updated) if today - updated.days_since_epoch() > max_age_days => {
                let age = today - updated.days_since_epoch();
                out.push(warn(
                    &fact.file,
                    fact.line,
                    format!(
                        "fact \"{}\" was last updated {updated}, {age} days ago",
                        fact.id
                    ),
                ));
            }
            None => out.push(warn(
                &fact.file,
                fact.line,
                format!("fact \"{}\" has no `updated` date", fact.id),
            )),
            _ => {}
        }
    }
    for source in base.sources() {
        if source.url.is_none() && source.no_url.is_none() {
            out.push(warn(
                "sources.toml",
                source.line,
                format!("source \"{}\" has no url", source.id),
            ));
        }
        if !base.facts().iter().any(|f| f.sources.contains(&source.id)) {
            out.push(warn(
                "sources.toml",
                source.line,
                format!("source \"{}\" is not cited by any fact", source.id),
            ));
        }
    }
    out.extend(
        misrouted_examples(base, matcher)
            .into_iter()
            .map(|(file, line, msg)| warn(&file, line, msg)),
    );
    out
}

fn misrouted_examples(base: &FactBase, matcher: &Matcher) -> Vec<(String, usize, String)> {
    let mut out = Vec::new();
    for (i, fact) in base.facts().iter().enumerate() {
        for (lang, questions) in fact.questions.iter() {
            for q in questions {
                let ranking = matcher.rank(q);
                let got = ranking.answer().map(|c| c.fact);
                if got == Some(i) {
                    continue;
                }
                let what = match got {
                    Some(other) => format!("is answered by fact \"{}\"", base.facts()[other].id),
                    None => "is declined".to_string(),
                };
                out.push((
                    fact.file.clone(),
                    fact.line,
                    format!(
                        "fact \"{}\": example question ({lang}) {q:?} {what}",
                        fact.id
                    ),
                ));
            }
        }
    }
    out
}

/// Today, in days since the Unix epoch.
pub fn today() -> i64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    (secs / 86_400) as i64
}

/// For tests: the day number of a date.
pub fn day(date: &str) -> i64 {
    PartialDate::parse(date).map_or(0, |d| d.days_since_epoch())
}
