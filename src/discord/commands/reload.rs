//! `/reload`: a moderator reloads the knowledge directory now and sees what
//! changed, or why the edit was rejected (with `file:line:column`). The
//! same report goes to every reload subscriber, so the moderators' channel
//! and corrections of sent answers follow as for a reload on save. The
//! report is in the moderators' language (`moderators_lang`).

use super::{Ctx, Error, moderator_only, send_report};

/// Reload the fact base now and show what changed (moderators)
#[poise::command(
    slash_command,
    check = "moderator_only",
    name_localized("ja", "再読み込み"),
    name_localized("zh-CN", "重新加载"),
    name_localized("zh-TW", "重新載入"),
    description_localized(
        "ja",
        "事実データを今すぐ再読み込みし、変更点を表示します（モデレーター用）"
    ),
    description_localized("zh-CN", "立即重新加载事实库并显示变更（管理员）"),
    description_localized("zh-TW", "立即重新載入事實庫並顯示變更（管理員）")
)]
pub async fn reload(ctx: Ctx<'_>) -> Result<(), Error> {
    // Loading and indexing a large base takes seconds, past the three
    // Discord allows before the first response.
    ctx.defer_ephemeral().await?;
    let data = ctx.data();
    let text = data.service.reload_text(data.moderators_lang).await;
    send_report(ctx, &text).await
}
