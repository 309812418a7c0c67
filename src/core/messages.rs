//! The bot's own words in each reply language. Facts bring their own text;
//! everything else a member or a moderator reads comes from here, so no
//! string is English-only.
//!
//! Every key has a text in all three languages ([`Messages::entries`] lists
//! them, and a test walks them): Chinese with full-width punctuation
//! (`，：；（）`), Japanese as a Japanese speaker would write it. A text with
//! `{name}` slots is a template, filled by [`fill`]; the three languages of
//! a template have the same slots.

use super::lang::Lang;

pub struct Messages {
    pub decline: &'static str,
    pub suggest: &'static str,
    /// Before the runner-up's example question, under an answer when
    /// another fact may also be what the member meant.
    pub see_also: &'static str,
    pub sources: &'static str,
    pub note_disputed: &'static str,
    pub note_self_published: &'static str,
    /// Shown at a claim whose sources are all self-published.
    pub self_published: &'static str,
    pub empty_question: &'static str,
    pub too_long: &'static str,
    pub topics: &'static str,
    pub unknown_fact: &'static str,
    pub help: &'static str,
    pub slow_down: &'static str,
    pub corrected: &'static str,
    pub withdrawn: &'static str,
    pub not_moderator: &'static str,

    // The languages, as this language names them.
    pub lang_name_ja: &'static str,
    pub lang_name_zh: &'static str,
    pub lang_name_en: &'static str,
    /// `!lang ja`, `/lang ja`: said in the language just chosen. `{lang}`.
    pub lang_set: &'static str,
    /// `!lang auto`, `/lang auto`.
    pub lang_auto: &'static str,
    /// A `lang` command naming no language it knows. `{command}`.
    pub lang_usage: &'static str,

    // The help's list of commands, one description per command.
    pub commands: &'static str,
    pub cmd_ask: &'static str,
    pub cmd_topics: &'static str,
    pub cmd_sources: &'static str,
    pub cmd_timeline: &'static str,
    pub cmd_lang: &'static str,
    pub cmd_help: &'static str,
    pub cmd_about: &'static str,
    pub cmd_quit: &'static str,
    pub cmd_reload: &'static str,
    pub cmd_unanswered: &'static str,

    // The timeline.
    pub timeline: &'static str,
    pub timeline_empty: &'static str,
    /// After a timeline cut to fit a platform's limits. `{count}`.
    pub timeline_more: &'static str,
    /// After a date the sources disagree on.
    pub disputed_date: &'static str,

    // Moderators' reports, in the moderators' configured language.
    pub reload_unchanged: &'static str,
    /// `{revision}`, `{added}`, `{changed}`, `{removed}`.
    pub reload_applied: &'static str,
    /// An empty list of fact ids in a report.
    pub none: &'static str,
    pub reload_rejected: &'static str,
    pub reload_nothing: &'static str,
    pub reload_failed: &'static str,
    pub no_records: &'static str,
    /// `{error}`.
    pub digest_unreadable: &'static str,
    pub digest_disliked: &'static str,
    /// `{fact}`, `{up}`, `{down}`.
    pub digest_votes: &'static str,
    pub digest_empty: &'static str,
    /// `{count}`, `{groups}`.
    pub digest_heading: &'static str,
    /// `{askers}`.
    pub digest_askers: &'static str,
    /// `{fact}`.
    pub digest_closest: &'static str,
}

pub fn get(lang: Lang) -> &'static Messages {
    match lang {
        Lang::Ja => &JA,
        Lang::Zh => &ZH,
        Lang::En => &EN,
    }
}

/// A command a help text lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Ask,
    Topics,
    Sources,
    Timeline,
    Lang,
    Help,
    About,
    Quit,
    Reload,
    Unanswered,
}

impl Messages {
    /// Every key and its text, for walking them all. Destructuring makes a
    /// new key that is missing here a compile error.
    pub fn entries(&self) -> Vec<(&'static str, &'static str)> {
        let Messages {
            decline,
            suggest,
            see_also,
            sources,
            note_disputed,
            note_self_published,
            self_published,
            empty_question,
            too_long,
            topics,
            unknown_fact,
            help,
            slow_down,
            corrected,
            withdrawn,
            not_moderator,
            lang_name_ja,
            lang_name_zh,
            lang_name_en,
            lang_set,
            lang_auto,
            lang_usage,
            commands,
            cmd_ask,
            cmd_topics,
            cmd_sources,
            cmd_timeline,
            cmd_lang,
            cmd_help,
            cmd_about,
            cmd_quit,
            cmd_reload,
            cmd_unanswered,
            timeline,
            timeline_empty,
            timeline_more,
            disputed_date,
            reload_unchanged,
            reload_applied,
            none,
            reload_rejected,
            reload_nothing,
            reload_failed,
            no_records,
            digest_unreadable,
            digest_disliked,
            digest_votes,
            digest_empty,
            digest_heading,
            digest_askers,
            digest_closest,
        } = *self;
        vec![
            ("decline", decline),
            ("suggest", suggest),
            ("see_also", see_also),
            ("sources", sources),
            ("note_disputed", note_disputed),
            ("note_self_published", note_self_published),
            ("self_published", self_published),
            ("empty_question", empty_question),
            ("too_long", too_long),
            ("topics", topics),
            ("unknown_fact", unknown_fact),
            ("help", help),
            ("slow_down", slow_down),
            ("corrected", corrected),
            ("withdrawn", withdrawn),
            ("not_moderator", not_moderator),
            ("lang_name_ja", lang_name_ja),
            ("lang_name_zh", lang_name_zh),
            ("lang_name_en", lang_name_en),
            ("lang_set", lang_set),
            ("lang_auto", lang_auto),
            ("lang_usage", lang_usage),
            ("commands", commands),
            ("cmd_ask", cmd_ask),
            ("cmd_topics", cmd_topics),
            ("cmd_sources", cmd_sources),
            ("cmd_timeline", cmd_timeline),
            ("cmd_lang", cmd_lang),
            ("cmd_help", cmd_help),
            ("cmd_about", cmd_about),
            ("cmd_quit", cmd_quit),
            ("cmd_reload", cmd_reload),
            ("cmd_unanswered", cmd_unanswered),
            ("timeline", timeline),
            ("timeline_empty", timeline_empty),
            ("timeline_more", timeline_more),
            ("disputed_date", disputed_date),
            ("reload_unchanged", reload_unchanged),
            ("reload_applied", reload_applied),
            ("none", none),
            ("reload_rejected", reload_rejected),
            ("reload_nothing", reload_nothing),
            ("reload_failed", reload_failed),
            ("no_records", no_records),
            ("digest_unreadable", digest_unreadable),
            ("digest_disliked", digest_disliked),
            ("digest_votes", digest_votes),
            ("digest_empty", digest_empty),
            ("digest_heading", digest_heading),
            ("digest_askers", digest_askers),
            ("digest_closest", digest_closest),
        ]
    }

    /// What this language calls `lang`.
    pub fn lang_name(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::Ja => self.lang_name_ja,
            Lang::Zh => self.lang_name_zh,
            Lang::En => self.lang_name_en,
        }
    }

    /// What a command does, for a help text.
    pub fn command(&self, command: Command) -> &'static str {
        match command {
            Command::Ask => self.cmd_ask,
            Command::Topics => self.cmd_topics,
            Command::Sources => self.cmd_sources,
            Command::Timeline => self.cmd_timeline,
            Command::Lang => self.cmd_lang,
            Command::Help => self.cmd_help,
            Command::About => self.cmd_about,
            Command::Quit => self.cmd_quit,
            Command::Reload => self.cmd_reload,
            Command::Unanswered => self.cmd_unanswered,
        }
    }
}

/// A template with its `{name}` slots filled.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (name, value) in values {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// The `{name}` slots of a template, in order.
pub fn slots(template: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start + 1..].find('}') else {
            break;
        };
        out.push(&rest[start + 1..start + 1 + len]);
        rest = &rest[start + 2 + len..];
    }
    out
}

/// Fact ids (or any short codes) as a list in running text.
pub fn join_list(lang: Lang, items: &[String]) -> String {
    if items.is_empty() {
        return get(lang).none.to_string();
    }
    items.join(match lang {
        Lang::En => ", ",
        Lang::Ja | Lang::Zh => "、",
    })
}

/// The help sentence and then each command with what it does, one to a
/// line: `commands` pairs how the platform spells a command (`!sources
/// FACT_ID`, `/timeline`) with which one it is.
pub fn help_text(lang: Lang, commands: &[(&str, Command)]) -> String {
    let m = get(lang);
    let mut out = format!("{}\n{}", m.help, m.commands);
    for (syntax, command) in commands {
        out.push_str(&format!("\n  {syntax} — {}", m.command(*command)));
    }
    out
}

/// The help in every language, for a member whose language is not known.
pub fn help_every_language(commands: &[(&str, Command)]) -> String {
    Lang::ALL
        .iter()
        .map(|&lang| help_text(lang, commands))
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// A short aside after a sentence (an id, a command): ` (x)` in English,
/// `（x）` in Japanese and Chinese.
pub fn aside(lang: Lang, text: &str) -> String {
    match lang {
        Lang::En => format!(" ({text})"),
        Lang::Ja | Lang::Zh => format!("（{text}）"),
    }
}

/// The colon after a heading: `:` in English, `：` in Japanese and Chinese.
pub fn colon(lang: Lang) -> &'static str {
    match lang {
        Lang::En => ":",
        Lang::Ja | Lang::Zh => "：",
    }
}

/// The "see also" line under an answer: the heading, then the runner-up's
/// example question (`See also: …`, `関連する質問：…`).
pub fn see_also_line(lang: Lang, question: &str) -> String {
    let space = if lang == Lang::En { " " } else { "" };
    format!("{}{}{space}{question}", get(lang).see_also, colon(lang))
}

/// A date with the "disputed" label after it when the sources disagree.
/// A full-width bracket brings its own space; a Latin one needs a space.
pub fn date_label(lang: Lang, date: &str, disputed: bool) -> String {
    if !disputed {
        return date.to_string();
    }
    let label = get(lang).disputed_date;
    if label.starts_with('（') {
        format!("{date}{label}")
    } else {
        format!("{date} {label}")
    }
}

static EN: Messages = Messages {
    decline: "I have no sourced answer to that.",
    suggest: "Questions I can answer:",
    see_also: "See also",
    sources: "Sources",
    note_disputed: "Note: the sources disagree on this; the answer says who says what.",
    note_self_published: "Note: this rests only on a self-published source.",
    self_published: "self-published",
    empty_question: "Please ask a question.",
    too_long: "That message is too long to be a question; please ask in a shorter one.",
    topics: "I can answer questions on these topics:",
    unknown_fact: "There is no fact with that id.",
    help: "Ask me about the end of the Japan Centers in Russia, in Japanese, Chinese or English. Every answer cites its sources.",
    slow_down: "You are asking quickly; please wait a moment.",
    corrected: "Corrected: this answer was updated after it was sent.",
    withdrawn: "Withdrawn: the moderators retracted this answer after it was sent; it is no longer supported by the sources.",
    not_moderator: "Sorry, only moderators can do that.",

    lang_name_ja: "Japanese",
    lang_name_zh: "Chinese",
    lang_name_en: "English",
    lang_set: "From now on I will reply in {lang}.",
    lang_auto: "From now on I will reply in the language of each question.",
    lang_usage: "Please name a language: {command} ja, zh, en or auto.",

    commands: "Commands:",
    cmd_ask: "ask a question",
    cmd_topics: "the topics I can answer",
    cmd_sources: "the sources of one fact",
    cmd_timeline: "the story in date order",
    cmd_lang: "the language I reply in",
    cmd_help: "this help",
    cmd_about: "about this bot and its fact base",
    cmd_quit: "leave the chat",
    cmd_reload: "reload the fact base now (moderators)",
    cmd_unanswered: "the questions I could not answer (moderators)",

    timeline: "The story in date order:",
    timeline_empty: "No fact gives a date yet.",
    timeline_more: "… and {count} more.",
    disputed_date: "(disputed)",

    reload_unchanged: "reloaded: no change",
    reload_applied: "reloaded revision {revision}: added {added}; changed {changed}; removed {removed}",
    none: "none",
    reload_rejected: "reload rejected, still serving the previous facts:",
    reload_nothing: "There is nothing to reload: this bot serves its built-in fact base (set `knowledge` to a directory to edit facts live).",
    reload_failed: "The reload failed; the bot's log has the details.",
    no_records: "This bot keeps no records.",
    digest_unreadable: "Cannot read the unanswered questions: {error}",
    digest_disliked: "Answers members keep marking 👎 (check these first):",
    digest_votes: "{fact}: {up} 👍, {down} 👎",
    digest_empty: "No unanswered questions recorded yet.",
    digest_heading: "Unanswered questions, most asked first ({count} in {groups} groups):",
    digest_askers: "{askers} askers",
    digest_closest: "(closest: {fact})",
};

static JA: Messages = Messages {
    decline: "その質問には、出典のある回答がありません。",
    suggest: "お答えできる質問の例：",
    see_also: "関連する質問",
    sources: "出典",
    note_disputed: "注意：この点は出典によって記述が異なります。回答ではそれぞれの主張を示しています。",
    note_self_published: "注意：この回答は個人投稿メディアの記事のみに基づいています。",
    self_published: "個人投稿",
    empty_question: "質問を入力してください。",
    too_long: "メッセージが長すぎます。短い質問にしてください。",
    topics: "次の話題についてお答えできます：",
    unknown_fact: "その ID の項目はありません。",
    help: "ロシアの日本センター閉鎖について、日本語・中国語・英語で質問してください。回答には必ず出典を付けます。",
    slow_down: "質問の間隔が短すぎます。少し待ってからお試しください。",
    corrected: "訂正：この回答は送信後に更新されました。",
    withdrawn: "取り下げ：この回答は送信後にモデレーターによって取り下げられました。出典による裏付けはもうありません。",
    not_moderator: "申し訳ありませんが、この操作はモデレーターのみが行えます。",

    lang_name_ja: "日本語",
    lang_name_zh: "中国語",
    lang_name_en: "英語",
    lang_set: "これからは{lang}でお答えします。",
    lang_auto: "これからは質問と同じ言語でお答えします。",
    lang_usage: "言語を指定してください：{command} ja、zh、en、auto のいずれかです。",

    commands: "コマンド：",
    cmd_ask: "質問する",
    cmd_topics: "お答えできる話題の一覧",
    cmd_sources: "項目の出典",
    cmd_timeline: "出来事を日付順に表示",
    cmd_lang: "回答の言語を選ぶ",
    cmd_help: "このヘルプ",
    cmd_about: "このボットと事実データについて",
    cmd_quit: "終了する",
    cmd_reload: "事実データを今すぐ再読み込み（モデレーター用）",
    cmd_unanswered: "答えられなかった質問の一覧（モデレーター用）",

    timeline: "日付順の出来事：",
    timeline_empty: "日付のある項目はまだありません。",
    timeline_more: "…ほか {count} 件",
    disputed_date: "（諸説あり）",

    reload_unchanged: "再読み込みしました：変更はありません",
    reload_applied: "再読み込みしました（版 {revision}）。追加：{added}／変更：{changed}／削除：{removed}",
    none: "なし",
    reload_rejected: "編集にエラーがあるため再読み込みしませんでした。以前の事実データで回答を続けます：",
    reload_nothing: "再読み込みするものがありません。このボットは組み込みの事実データで回答しています（事実をその場で編集するには `knowledge` にディレクトリを設定してください）。",
    reload_failed: "再読み込みに失敗しました。詳しくはボットのログをご覧ください。",
    no_records: "このボットは記録を残していません。",
    digest_unreadable: "未回答の質問を読み込めません：{error}",
    digest_disliked: "👎 が続いている回答（まずこちらを確認してください）：",
    digest_votes: "{fact}：{up} 👍、{down} 👎",
    digest_empty: "未回答の質問はまだ記録されていません。",
    digest_heading: "未回答の質問（多い順、{count} 件、{groups} グループ）：",
    digest_askers: "質問者 {askers} 人",
    digest_closest: "（最も近い項目：{fact}）",
};

static ZH: Messages = Messages {
    decline: "这个问题我找不到有出处的答案。",
    suggest: "我可以回答的问题：",
    see_also: "相关问题",
    sources: "出处",
    note_disputed: "注意：各来源对此说法不一，回答列出了各方的说法。",
    note_self_published: "注意：此回答仅依据自媒体来源。",
    self_published: "自媒体",
    empty_question: "请输入问题。",
    too_long: "消息太长，不像一个问题，请简短提问。",
    topics: "我可以回答以下话题：",
    unknown_fact: "没有这个编号的条目。",
    help: "请用中文、日语或英语询问俄罗斯的日本中心关闭一事。每个回答都注明出处。",
    slow_down: "提问太频繁了，请稍等片刻。",
    corrected: "更正：此回答在发送后已更新。",
    withdrawn: "已撤回：此回答发送后已被管理员撤回，不再有出处支持。",
    not_moderator: "抱歉，只有管理员可以执行此操作。",

    lang_name_ja: "日语",
    lang_name_zh: "中文",
    lang_name_en: "英语",
    lang_set: "今后我将用{lang}回答。",
    lang_auto: "今后我将用提问所用的语言回答。",
    lang_usage: "请指定语言：{command} ja、zh、en 或 auto。",

    commands: "命令：",
    cmd_ask: "提问",
    cmd_topics: "我可以回答的话题",
    cmd_sources: "某个条目的出处",
    cmd_timeline: "按日期排列的事件",
    cmd_lang: "选择回答所用的语言",
    cmd_help: "本帮助",
    cmd_about: "关于本机器人及其事实库",
    cmd_quit: "退出",
    cmd_reload: "立即重新加载事实库（管理员）",
    cmd_unanswered: "无法回答的问题列表（管理员）",

    timeline: "按日期排列的事件：",
    timeline_empty: "还没有带日期的条目。",
    timeline_more: "……另有 {count} 条",
    disputed_date: "（存在争议）",

    reload_unchanged: "已重新加载：没有变化",
    reload_applied: "已重新加载，版本 {revision}。新增：{added}；修改：{changed}；删除：{removed}",
    none: "无",
    reload_rejected: "编辑有错误，未重新加载，仍按之前的事实库回答：",
    reload_nothing: "没有可重新加载的内容：本机器人使用内置的事实库（如需实时编辑事实，请将 `knowledge` 设为一个目录）。",
    reload_failed: "重新加载失败，详情见机器人的日志。",
    no_records: "本机器人不保存记录。",
    digest_unreadable: "无法读取未回答的问题：{error}",
    digest_disliked: "经常被标记 👎 的回答（请先检查这些）：",
    digest_votes: "{fact}：{up} 👍，{down} 👎",
    digest_empty: "尚未记录未回答的问题。",
    digest_heading: "未回答的问题，按次数排序（共 {count} 条，{groups} 组）：",
    digest_askers: "提问者 {askers} 人",
    digest_closest: "（最接近的条目：{fact}）",
};

#[cfg(test)]
mod tests {
    use super::*;

    /// ASCII punctuation that Chinese text writes full-width.
    const HALF_WIDTH: &[char] = &[',', ':', ';', '(', ')', '?', '!'];

    #[test]
    fn every_key_has_a_text_in_every_language_and_they_differ() {
        let en = get(Lang::En).entries();
        for lang in Lang::ALL {
            let entries = get(lang).entries();
            assert_eq!(entries.len(), en.len());
            for ((key, text), (en_key, en_text)) in entries.iter().zip(&en) {
                assert_eq!(key, en_key);
                assert!(!text.trim().is_empty(), "{lang} {key} is empty");
                assert_eq!(text.trim(), *text, "{lang} {key} has stray spaces");
                assert_eq!(
                    slots(text),
                    slots(en_text),
                    "{lang} {key} has other slots than English"
                );
            }
        }
        let (ja, zh) = (get(Lang::Ja).entries(), get(Lang::Zh).entries());
        for ((key, en), ((_, ja), (_, zh))) in en.iter().zip(ja.iter().zip(&zh)) {
            assert!(en != ja && en != zh && ja != zh, "{key} is the same twice");
        }
    }

    #[test]
    fn chinese_uses_full_width_punctuation() {
        for (key, text) in get(Lang::Zh).entries() {
            // A command in a slot (`{command}`) or in backquotes is code.
            let prose: String = text
                .split('`')
                .step_by(2)
                .collect::<String>()
                .replace("{", "")
                .replace("}", "");
            assert!(
                !prose.contains(HALF_WIDTH),
                "zh {key} has half-width punctuation: {text}"
            );
        }
    }

    #[test]
    fn japanese_and_chinese_are_not_left_in_english() {
        for lang in [Lang::Ja, Lang::Zh] {
            for (key, text) in get(lang).entries() {
                let latin_words = text
                    .split(|c: char| !c.is_ascii_alphabetic())
                    .filter(|w| w.len() > 3)
                    .filter(|w| !["knowledge", "auto"].contains(w))
                    .filter(|w| !slots(text).contains(w))
                    .count();
                assert_eq!(latin_words, 0, "{lang} {key} reads as English: {text}");
            }
        }
    }

    #[test]
    fn templates_fill_and_lists_join_in_each_language() {
        let m = get(Lang::Ja);
        assert_eq!(
            fill(m.lang_set, &[("lang", m.lang_name(Lang::Zh))]),
            "これからは中国語でお答えします。"
        );
        assert_eq!(slots("a {x} b {y}"), ["x", "y"]);
        let ids = ["a".to_string(), "b".to_string()];
        assert_eq!(join_list(Lang::En, &ids), "a, b");
        assert_eq!(join_list(Lang::Zh, &ids), "a、b");
        assert_eq!(join_list(Lang::Ja, &[]), "なし");
        assert_eq!(date_label(Lang::En, "1994", true), "1994 (disputed)");
        assert_eq!(date_label(Lang::Ja, "1994", true), "1994（諸説あり）");
        assert_eq!(date_label(Lang::Zh, "1994", false), "1994");
        assert_eq!(see_also_line(Lang::En, "Why?"), "See also: Why?");
        assert_eq!(see_also_line(Lang::Ja, "なぜ?"), "関連する質問：なぜ?");
        assert_eq!(see_also_line(Lang::Zh, "为什么?"), "相关问题：为什么?");
        assert_eq!(aside(Lang::En, "x"), " (x)");
        assert_eq!(aside(Lang::Zh, "x"), "（x）");
    }

    #[test]
    fn help_lists_each_command_with_what_it_does() {
        let commands = [("/timeline", Command::Timeline), ("/quit", Command::Quit)];
        let zh = help_text(Lang::Zh, &commands);
        assert!(zh.starts_with(get(Lang::Zh).help), "{zh}");
        assert!(zh.contains("\n  /timeline — 按日期排列的事件"), "{zh}");
        let all = help_every_language(&commands);
        for lang in Lang::ALL {
            assert!(all.contains(get(lang).cmd_quit), "{all}");
        }
    }
}
