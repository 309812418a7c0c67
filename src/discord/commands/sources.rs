//! `/sources fact:<id>`: the sources one fact rests on, with autocomplete
//! over fact ids and titles.

use super::{Ctx, Error, locale_lang, say, send_pages};
use crate::core::{Source, messages};
use crate::discord::{autocomplete, render};
use poise::serenity_prelude as serenity;

/// Show the sources behind one fact
#[poise::command(
    slash_command,
    name_localized("ja", "出典"),
    name_localized("zh-CN", "出处"),
    name_localized("zh-TW", "出處"),
    description_localized("ja", "項目の出典を表示します"),
    description_localized("zh-CN", "显示某个条目的出处"),
    description_localized("zh-TW", "顯示某個條目的出處")
)]
pub async fn sources(
    ctx: Ctx<'_>,
    #[description = "The fact (its id, or pick by title)"]
    #[name_localized("ja", "項目")]
    #[description_localized("ja", "項目（ID、またはタイトルから選択）")]
    #[name_localized("zh-CN", "条目")]
    #[description_localized("zh-CN", "条目（编号，或按标题选择）")]
    #[name_localized("zh-TW", "條目")]
    #[description_localized("zh-TW", "條目（編號，或按標題選擇）")]
    #[autocomplete = "complete_fact"]
    fact: String,
) -> Result<(), Error> {
    let lang = locale_lang(ctx);
    let snapshot = ctx.data().service.kotae.snapshot();
    let Some(fact) = snapshot.base.fact(fact.trim()) else {
        return say(ctx, messages::get(lang).unknown_fact).await;
    };
    let cited: Vec<Source> = snapshot.base.sources_of(fact).cloned().collect();
    send_pages(ctx, render::sources(lang, fact, &cited), false).await
}

async fn complete_fact(ctx: Ctx<'_>, partial: &str) -> serenity::CreateAutocompleteResponse {
    let snapshot = ctx.data().service.kotae.snapshot();
    let choices = autocomplete::facts(&snapshot.base, locale_lang(ctx), partial);
    super::choices(choices)
}
