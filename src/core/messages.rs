//! The bot's own words in each reply language. Facts bring their own text;
//! everything else a member reads comes from here, so no string is English-only.

use super::lang::Lang;

pub struct Messages {
    pub decline: &'static str,
    pub suggest: &'static str,
    pub sources: &'static str,
    pub note_disputed: &'static str,
    pub note_self_published: &'static str,
    pub empty_question: &'static str,
    pub too_long: &'static str,
    pub topics: &'static str,
    pub unknown_fact: &'static str,
    pub help: &'static str,
    pub slow_down: &'static str,
    pub corrected: &'static str,
    pub withdrawn: &'static str,
    pub not_moderator: &'static str,
}

pub fn get(lang: Lang) -> &'static Messages {
    match lang {
        Lang::Ja => &JA,
        Lang::Zh => &ZH,
        Lang::En => &EN,
    }
}

static EN: Messages = Messages {
    decline: "I have no sourced answer to that.",
    suggest: "Questions I can answer:",
    sources: "Sources",
    note_disputed: "Note: the sources disagree on this; the answer says who says what.",
    note_self_published: "Note: this rests only on a self-published source.",
    empty_question: "Please ask a question.",
    too_long: "That message is too long to be a question; please ask in a shorter one.",
    topics: "I can answer questions on these topics:",
    unknown_fact: "There is no fact with that id.",
    help: "Ask me about the end of the Japan Centers in Russia, in Japanese, Chinese or English. Every answer cites its sources.",
    slow_down: "You are asking quickly; please wait a moment.",
    corrected: "Corrected: this answer was updated after it was sent.",
    withdrawn: "Withdrawn: the moderators retracted this answer after it was sent; it is no longer supported by the sources.",
    not_moderator: "Sorry, only moderators can do that.",
};

static JA: Messages = Messages {
    decline: "その質問には、出典のある回答がありません。",
    suggest: "お答えできる質問の例:",
    sources: "出典",
    note_disputed: "注意: この点は出典によって記述が異なります。回答ではそれぞれの主張を示しています。",
    note_self_published: "注意: この回答は自己出版の情報源のみに基づいています。",
    empty_question: "質問を入力してください。",
    too_long: "メッセージが長すぎます。短い質問にしてください。",
    topics: "次の話題についてお答えできます:",
    unknown_fact: "その ID の項目はありません。",
    help: "ロシアの日本センター閉鎖について、日本語・中国語・英語で質問してください。回答には必ず出典を付けます。",
    slow_down: "質問の間隔が短すぎます。少し待ってからお試しください。",
    corrected: "訂正: この回答は送信後に更新されました。",
    withdrawn: "取り下げ: この回答は送信後にモデレーターによって取り下げられました。出典による裏付けはもうありません。",
    not_moderator: "申し訳ありませんが、この操作はモデレーターのみが行えます。",
};

static ZH: Messages = Messages {
    decline: "这个问题我没有有出处的答案。",
    suggest: "我可以回答的问题:",
    sources: "出处",
    note_disputed: "注意:各来源对此说法不一,回答列出了各方的说法。",
    note_self_published: "注意:此回答仅依据自媒体来源。",
    empty_question: "请输入问题。",
    too_long: "消息太长,不像一个问题,请简短提问。",
    topics: "我可以回答以下话题:",
    unknown_fact: "没有这个编号的条目。",
    help: "请用中文、日语或英语询问日本关闭在俄罗斯的日本中心一事。每个回答都注明出处。",
    slow_down: "提问太频繁了,请稍等片刻。",
    corrected: "更正:此回答在发送后已更新。",
    withdrawn: "已撤回:此回答发送后已被管理员撤回,不再有出处支持。",
    not_moderator: "抱歉,只有管理员可以执行此操作。",
};
