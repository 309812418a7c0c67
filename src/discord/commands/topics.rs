//! `/topics`: one example question per fact, in the member's language,
//! shown only to them.

use super::{Ctx, Error, locale_lang, send_pages};
use crate::discord::render;

/// List the topics kotae can answer questions on
#[poise::command(
    slash_command,
    name_localized("ja", "話題"),
    name_localized("zh-CN", "话题"),
    name_localized("zh-TW", "話題"),
    description_localized("ja", "答えられる話題の一覧"),
    description_localized("zh-CN", "可以回答的话题列表"),
    description_localized("zh-TW", "可以回答的話題列表")
)]
pub async fn topics(ctx: Ctx<'_>) -> Result<(), Error> {
    let lang = locale_lang(ctx);
    let topics = ctx.data().service.kotae.snapshot().topics(lang);
    send_pages(ctx, render::topics(lang, &topics), true).await
}
