//! `/timeline`: the dated events of the fact base in date order, one line
//! each with its date (marked when the sources disagree on it) and the
//! fact it comes from, in the member's language, shown only to them.
//!
//! The lines go into embed descriptions (4096 characters each), one embed
//! per message; past [`PAGES_MAX`] messages the rest is counted, not sent.

use super::{Ctx, Error, locale_lang, send_pages};
use crate::core::Lang;
use crate::core::messages::{self, fill};
use crate::core::timeline::{self, Entry};
use crate::discord::render::{self, DESCRIPTION_MAX, Embed, Page, TITLE_MAX, truncate};
use crate::service::cut::{count, lines_into};

/// The most messages one `/timeline` sends.
pub const PAGES_MAX: usize = 5;

const BLURPLE: u32 = 0x5865f2;

/// Show the story's events in date order
#[poise::command(
    slash_command,
    name_localized("ja", "年表"),
    name_localized("zh-CN", "时间线"),
    name_localized("zh-TW", "時間線"),
    description_localized("ja", "出来事を日付順に表示します"),
    description_localized("zh-CN", "按日期顺序显示事件"),
    description_localized("zh-TW", "按日期順序顯示事件")
)]
pub async fn timeline(ctx: Ctx<'_>) -> Result<(), Error> {
    let lang = locale_lang(ctx);
    let snapshot = ctx.data().service.kotae.snapshot();
    let entries = timeline::timeline(&snapshot.base, lang);
    send_pages(ctx, pages(lang, &entries), true).await
}

/// The timeline as pages of one embed each, within Discord's limits: the
/// heading as the first embed's title, the lines in the descriptions.
pub fn pages(lang: Lang, entries: &[Entry]) -> Vec<Page> {
    let m = messages::get(lang);
    if entries.is_empty() {
        return render::notice(m.timeline_empty);
    }
    let lines: Vec<String> = entries.iter().map(|e| line(lang, e)).collect();
    blocks(&lines, |n| {
        fill(m.timeline_more, &[("count", &n.to_string())])
    })
    .into_iter()
    .enumerate()
    .map(|(i, block)| {
        vec![Embed {
            title: (i == 0).then(|| truncate(m.timeline, TITLE_MAX)),
            description: Some(block),
            colour: colour(entries),
            ..Embed::default()
        }]
    })
    .collect()
}

/// `**1994** (disputed) — The first centre opened. · `founding``
fn line(lang: Lang, entry: &Entry) -> String {
    let date = format!("**{}**", entry.date);
    format!(
        "{} — {} · `{}`",
        messages::date_label(lang, &date, entry.disputed),
        render::inert(&entry.text),
        entry.fact
    )
}

/// Orange when some date is disputed, as a disputed answer is.
fn colour(entries: &[Entry]) -> u32 {
    const ORANGE: u32 = 0xef6c00;
    if entries.iter().any(|e| e.disputed) {
        ORANGE
    } else {
        BLURPLE
    }
}

/// The lines in descriptions of at most [`DESCRIPTION_MAX`] characters,
/// at most [`PAGES_MAX`] of them; when they do not all fit, the last one
/// ends with `more(n)` for the `n` lines left out.
fn blocks(lines: &[String], more: impl Fn(usize) -> String) -> Vec<String> {
    let all = lines_into(lines, DESCRIPTION_MAX);
    if all.len() <= PAGES_MAX {
        return all;
    }
    // `more` of a smaller count is never longer.
    let reserve = count(&more(lines.len())) + 1;
    let mut blocks: Vec<String> = Vec::new();
    let mut block = String::new();
    let mut kept = 0;
    for line in lines {
        let line = truncate(line, DESCRIPTION_MAX - reserve);
        let last = blocks.len() + 1 == PAGES_MAX;
        let budget = DESCRIPTION_MAX - if last { reserve } else { 0 };
        if !block.is_empty() && count(&block) + 1 + count(&line) > budget {
            if last {
                break;
            }
            blocks.push(std::mem::take(&mut block));
        }
        if !block.is_empty() {
            block.push('\n');
        }
        block.push_str(&line);
        kept += 1;
    }
    if kept < lines.len() {
        block.push('\n');
        block.push_str(&more(lines.len() - kept));
    }
    blocks.push(block);
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::knowledge::PartialDate;
    use crate::discord::render::{EMBEDS_PER_MESSAGE, MESSAGE_TOTAL_MAX};

    fn entry(n: usize, text: &str, disputed: bool) -> Entry {
        Entry {
            date: PartialDate::parse(&format!("{}", 1900 + n)).unwrap(),
            fact: format!("fact-{n}"),
            text: text.to_string(),
            disputed,
            sources: vec!["s".into()],
        }
    }

    fn assert_within_limits(pages: &[Page]) {
        assert!(!pages.is_empty() && pages.len() <= PAGES_MAX);
        for page in pages {
            assert!(!page.is_empty() && page.len() <= EMBEDS_PER_MESSAGE);
            assert!(page.iter().map(Embed::chars).sum::<usize>() <= MESSAGE_TOTAL_MAX);
            for e in page {
                assert!(e.description.as_deref().map_or(0, count) <= DESCRIPTION_MAX);
                assert!(e.title.as_deref().map_or(0, count) <= TITLE_MAX);
            }
        }
    }

    #[test]
    fn a_short_timeline_is_one_embed_with_dates_labels_and_fact_ids() {
        let entries = [entry(94, "最初のセンター", true), entry(100, "閉鎖", false)];
        let pages = pages(Lang::Ja, &entries);
        assert_within_limits(&pages);
        let embed = &pages[0][0];
        assert_eq!(
            embed.title.as_deref(),
            Some(messages::get(Lang::Ja).timeline)
        );
        assert_eq!(
            embed.description.as_deref(),
            Some(
                "**1994**（諸説あり） — 最初のセンター · `fact-94`\n\
                 **2000** — 閉鎖 · `fact-100`"
            )
        );
    }

    #[test]
    fn a_long_timeline_is_cut_to_five_messages_and_says_how_much_is_left() {
        let entries: Vec<Entry> = (0..2000)
            .map(|n| entry(n, &"word ".repeat(20), n % 7 == 0))
            .collect();
        let pages = pages(Lang::En, &entries);
        assert_within_limits(&pages);
        assert_eq!(pages.len(), PAGES_MAX);
        let last = pages[PAGES_MAX - 1][0].description.clone().unwrap();
        let shown: usize = pages
            .iter()
            .map(|p| p[0].description.as_deref().unwrap().lines().count())
            .sum::<usize>()
            - 1;
        assert!(
            last.ends_with(&format!("… and {} more.", 2000 - shown)),
            "{last}"
        );
        let huge = [entry(1, &"x".repeat(20_000), false)];
        assert_within_limits(&pages_of(&huge));
    }

    fn pages_of(entries: &[Entry]) -> Vec<Page> {
        pages(Lang::Zh, entries)
    }

    #[test]
    fn an_empty_timeline_says_so_in_the_members_language() {
        let pages = pages(Lang::Zh, &[]);
        assert_eq!(
            pages[0][0].description.as_deref(),
            Some(messages::get(Lang::Zh).timeline_empty)
        );
    }
}
