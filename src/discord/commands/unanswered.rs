//! `/unanswered`: the moderators' digest of what members asked that the bot
//! could not answer, most asked first, and the answers they keep marking 👎,
//! in the moderators' language (`moderators_lang`).

use super::{Ctx, Error, moderator_only, send_report};

/// What members asked that kotae could not answer (moderators)
#[poise::command(
    slash_command,
    check = "moderator_only",
    name_localized("ja", "未回答"),
    name_localized("zh-CN", "未回答"),
    name_localized("zh-TW", "未回答"),
    description_localized("ja", "答えられなかった質問の一覧（多い順、モデレーター用）"),
    description_localized("zh-CN", "无法回答的问题列表（按次数排序，管理员）"),
    description_localized("zh-TW", "無法回答的問題列表（按次數排序，管理員）")
)]
pub async fn unanswered(ctx: Ctx<'_>) -> Result<(), Error> {
    // The records grow with every decline: reading them may take a while.
    ctx.defer_ephemeral().await?;
    let data = ctx.data();
    let text = data.service.unanswered_text(data.moderators_lang).await;
    send_report(ctx, &text).await
}
