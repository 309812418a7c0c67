//! Reading an answer's per-claim citations.
//!
//! In the TOML an answer is a run of claims, each followed by a marker that
//! names its sources: `Russia ended it in January 2025. [asahi-2025-01-19]`
//! or `… [asahi-2025-01-19, ja-explainer-2025-01-19]`. Square brackets mean
//! markers and nothing else, so a moderator can read the citations in a
//! diff and the loader can hold every sentence to a source.

use crate::core::knowledge::Claim;

/// What is wrong with an answer's markers, and where: the index of the
/// bracket at fault among the answer's brackets of that kind, so the caller
/// can find it in the TOML literal (escapes there shift byte offsets, but a
/// bracket is never escaped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkerError {
    pub message: String,
    pub at: Bracket,
}

/// A place in an answer: at the `n`th `[`, at or just after the `n`th `]`
/// (from 0), or the end of the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bracket {
    Open(usize),
    Close(usize),
    AfterClose(usize),
    End,
}

/// Splits an answer into claims. Each claim's text keeps the space that
/// separates it from the claim before, so the texts joined are the answer
/// as members read it.
pub fn parse(answer: &str) -> Result<Vec<Claim>, MarkerError> {
    let answer = answer.trim();
    let mut claims = Vec::new();
    let (mut opens, mut closes) = (0, 0);
    let mut claim_start = 0;
    while let Some(open) = answer[claim_start..].find(['[', ']']) {
        let open = claim_start + open;
        if answer[open..].starts_with(']') {
            return Err(MarkerError {
                message:
                    "`]` without its `[`: square brackets in an answer are citation markers only"
                        .into(),
                at: Bracket::Close(closes),
            });
        }
        let close = match answer[open + 1..].find(['[', ']']) {
            Some(i) if answer[open + 1 + i..].starts_with(']') => open + 1 + i,
            _ => {
                return Err(MarkerError {
                    message: "`[` without its `]`: write a marker as [source-id] or [id, other-id]"
                        .into(),
                    at: Bracket::Open(opens),
                });
            }
        };
        let sources = marker_ids(&answer[open + 1..close]).map_err(|message| MarkerError {
            message,
            at: Bracket::Open(opens),
        })?;
        let text = answer[claim_start..open].trim_end();
        if text.trim().is_empty() {
            return Err(MarkerError {
                message: "a marker with no claim before it: list all of a claim's sources in one marker, [a, b]".into(),
                at: Bracket::Open(opens),
            });
        }
        claims.push(Claim {
            text: text.to_string(),
            sources,
        });
        opens += 1;
        closes += 1;
        claim_start = close + 1;
    }
    let rest = answer[claim_start..].trim();
    if !rest.is_empty() {
        let message = if claims.is_empty() {
            "the answer cites no source: end each claim with a marker such as [source-id]"
                .to_string()
        } else {
            format!(
                "the text after the last marker cites no source: \"{}\" needs a marker such as [source-id]",
                excerpt(rest)
            )
        };
        let at = if claims.is_empty() {
            Bracket::End
        } else {
            Bracket::AfterClose(closes - 1)
        };
        return Err(MarkerError { message, at });
    }
    Ok(claims)
}

/// The ids inside one marker's brackets.
fn marker_ids(inside: &str) -> Result<Vec<String>, String> {
    if inside.trim().is_empty() {
        return Err("an empty marker `[]`: name the claim's sources, [source-id]".into());
    }
    let mut ids = Vec::new();
    for id in inside.split(',').map(str::trim) {
        let is_id = !id.is_empty()
            && id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !is_id {
            return Err(format!(
                "marker [{inside}] is not a list of source ids (lowercase letters, digits and hyphens, separated by commas)"
            ));
        }
        if !ids.iter().any(|seen| seen == id) {
            ids.push(id.to_string());
        }
    }
    Ok(ids)
}

/// The start of a long text, for a message.
fn excerpt(text: &str) -> String {
    const MAX: usize = 40;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// The byte offset of a bracket in the raw TOML literal of the answer
/// (quotes included), for a message's line and column.
pub fn locate(literal: &str, at: Bracket) -> usize {
    let nth = |c: char, n: usize| literal.match_indices(c).nth(n).map(|(i, _)| i);
    match at {
        Bracket::Open(n) => nth('[', n),
        Bracket::Close(n) => nth(']', n),
        Bracket::AfterClose(n) => nth(']', n).map(|i| i + 1),
        Bracket::End => None,
    }
    .unwrap_or(literal.len().saturating_sub(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(claims: &[Claim]) -> Vec<(&str, Vec<&str>)> {
        claims
            .iter()
            .map(|c| {
                (
                    c.text.as_str(),
                    c.sources.iter().map(String::as_str).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn claims_keep_their_spacing_so_joined_they_are_the_answer() {
        let claims = parse("It ended. [a] Japan objected. [a, b-2]").unwrap();
        assert_eq!(
            texts(&claims),
            [
                ("It ended.", vec!["a"]),
                (" Japan objected.", vec!["a", "b-2"])
            ]
        );
        let joined: String = claims.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(joined, "It ended. Japan objected.");
        let zh = parse("终止了。[a]日本反对。[b]").unwrap();
        assert_eq!(
            texts(&zh),
            [("终止了。", vec!["a"]), ("日本反对。", vec!["b"])]
        );
    }

    #[test]
    fn a_repeated_id_in_one_marker_counts_once() {
        let claims = parse("x [a, a ,b]").unwrap();
        assert_eq!(claims[0].sources, ["a", "b"]);
    }

    #[test]
    fn each_bad_marker_is_named_and_placed() {
        let cases = [
            ("no marker at all.", Bracket::End, "cites no source"),
            ("one. [a] two.", Bracket::AfterClose(0), "\"two.\""),
            ("one. [a two.", Bracket::Open(0), "`[` without its `]`"),
            ("one. [a] two [b [c]", Bracket::Open(1), "`[` without"),
            ("one.] [a]", Bracket::Close(0), "`]` without its `[`"),
            ("one. []", Bracket::Open(0), "empty marker"),
            ("one. [ ]", Bracket::Open(0), "empty marker"),
            ("one. [a,]", Bracket::Open(0), "not a list of source ids"),
            ("one. [Asahi]", Bracket::Open(0), "not a list of source ids"),
            ("one. [a][b]", Bracket::Open(1), "no claim before it"),
        ];
        for (answer, at, message) in cases {
            let err = parse(answer).unwrap_err();
            assert_eq!(err.at, at, "{answer}");
            assert!(err.message.contains(message), "{answer}: {}", err.message);
        }
    }

    #[test]
    fn brackets_are_found_in_the_literal_despite_escapes() {
        let literal = r#""say \"x\" [a] and \u00e9 [b""#;
        assert_eq!(&literal[locate(literal, Bracket::Open(1))..][..2], "[b");
        assert_eq!(&literal[locate(literal, Bracket::Close(0))..][..1], "]");
        assert_eq!(
            &literal[locate(literal, Bracket::AfterClose(0)) - 1..][..1],
            "]"
        );
        assert_eq!(locate(literal, Bracket::End), literal.len() - 1);
    }
}
