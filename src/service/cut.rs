//! Cutting text to fit a platform's limits, for every adapter: pieces of
//! at most so many characters, cut at a paragraph, line, sentence or word
//! break where there is one (Japanese and Chinese full stops count), and
//! whole lines within a byte budget. Also the one rule for which URLs may
//! become links.

use std::fmt::Write;

/// The number of characters (not bytes) in `s`, as platforms count them.
pub fn count(s: &str) -> usize {
    s.chars().count()
}

/// Splits text into pieces of at most `max` characters (see [`cut_point`]).
pub fn split(text: &str, max: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut rest = text.trim();
    while count(rest) > max {
        let cut = cut_point(rest, max);
        pieces.push(rest[..cut].trim_end().to_string());
        rest = rest[cut..].trim_start();
    }
    if !rest.is_empty() {
        pieces.push(rest.to_string());
    }
    pieces
}

/// At most `max` characters, ending in "…" when cut.
pub fn truncate(text: &str, max: usize) -> String {
    if count(text) <= max {
        return text.to_string();
    }
    let cut = cut_point(text, max.saturating_sub(1));
    format!("{}…", text[..cut].trim_end())
}

/// Joins lines into blocks of at most `max` characters, never splitting a
/// line unless it alone is too long.
pub fn lines_into(lines: &[String], max: usize) -> Vec<String> {
    let mut blocks: Vec<String> = Vec::new();
    let mut block = String::new();
    for line in lines.iter().flat_map(|l| split(l, max)) {
        if !block.is_empty() && count(&block) + 1 + count(&line) > max {
            blocks.push(std::mem::take(&mut block));
        }
        if !block.is_empty() {
            block.push('\n');
        }
        block.push_str(&line);
    }
    if !block.is_empty() {
        blocks.push(block);
    }
    blocks
}

/// The first lines of `text` that fit in `max` bytes, and a line saying
/// how many more there were (they are in the log).
pub fn whole_lines_within(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut kept = String::new();
    let mut lines = text.lines();
    for line in lines.by_ref() {
        if kept.len() + line.len() + 1 > max {
            let more = 1 + lines.count();
            let _ = write!(kept, "… {more} more lines in the bot's log");
            return kept;
        }
        kept.push_str(line);
        kept.push('\n');
    }
    kept
}

/// Whether a URL may become a link: `http(s)` only, in any case, so
/// `javascript:` and friends never do, whatever a fact file says.
pub fn is_web_link(url: &str) -> bool {
    let lower = url.trim_start().to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

/// Where to cut text to keep at most `max` characters: after the last
/// paragraph, line, sentence or word break in the final quarter, or, in
/// text with none there (long Han text without punctuation), at `max`.
fn cut_point(text: &str, max: usize) -> usize {
    let limit = byte_offset(text, max);
    let floor = byte_offset(text, max * 3 / 4);
    let tail = &text[floor..limit];
    let after = |i: usize, c: char| i + c.len_utf8();
    let found = tail
        .rfind("\n\n")
        .map(|i| i + 2)
        .or_else(|| tail.rfind('\n').map(|i| i + 1))
        .or_else(|| {
            tail.char_indices()
                .rev()
                .find(|&(i, c)| {
                    matches!(c, '。' | '！' | '？')
                        || (matches!(c, '.' | '!' | '?')
                            && tail[after(i, c)..].starts_with(char::is_whitespace))
                })
                .map(|(i, c)| after(i, c))
        })
        .or_else(|| {
            tail.char_indices()
                .rev()
                .find(|(_, c)| c.is_whitespace())
                .map(|(i, c)| after(i, c))
        });
    match found {
        Some(i) if floor + i > 0 => floor + i,
        _ => limit,
    }
}

/// The byte offset of the `chars`-th character (or the end).
fn byte_offset(text: &str, chars: usize) -> usize {
    text.char_indices()
        .nth(chars)
        .map_or(text.len(), |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_marks_the_cut_at_a_word() {
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("one two three", 9), "one two…");
    }

    #[test]
    fn split_prefers_sentences_and_keeps_every_character() {
        let text = "日本センターは閉鎖された。".repeat(50);
        let pieces = split(&text, 100);
        assert!(pieces.iter().all(|p| count(p) <= 100 && p.ends_with('。')));
        assert_eq!(pieces.concat(), text);
    }

    #[test]
    fn whole_lines_are_kept_and_the_rest_counted() {
        let text: String = (0..100).map(|i| format!("line {i}\n")).collect();
        let kept = whole_lines_within(&text, 64);
        assert!(kept.starts_with("line 0\nline 1\n"));
        let shown = kept.lines().count() - 1;
        assert!(kept.ends_with(&format!("… {} more lines in the bot's log", 100 - shown)));
    }

    #[test]
    fn only_web_urls_are_links_whatever_their_case() {
        assert!(is_web_link("https://example.org"));
        assert!(is_web_link(" HTTP://example.org"));
        assert!(!is_web_link("javascript:alert(1)"));
        assert!(!is_web_link("ftp://example.org"));
    }
}
