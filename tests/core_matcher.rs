//! Matching on the shipped fact base: the same fact is found whatever the
//! language, script, width or spelling of the question; off-topic questions
//! and small talk are declined with suggestions in the asker's language.

use kotae::core::load::load_embedded;
use kotae::core::{Kotae, Lang, LangChoice, Outcome, Reply};

fn kotae() -> Kotae {
    Kotae::new(load_embedded().expect("valid base").base)
}

fn ask(k: &Kotae, q: &str) -> Reply {
    k.ask(q, LangChoice::Detect).expect("a question")
}

fn fact_of(k: &Kotae, q: &str) -> Option<String> {
    ask(k, q).answer().map(|a| a.fact_id.clone())
}

/// The fact ranked first, whether or not the bot would answer with it.
fn ranked_first(k: &Kotae, q: &str) -> String {
    let snapshot = k.snapshot();
    let ranking = snapshot.rank(q, None);
    snapshot.base.facts()[ranking.candidates[0].fact].id.clone()
}

#[test]
fn one_fact_is_found_from_all_three_languages() {
    let k = kotae();
    for q in [
        "Which cities had a Japan Center?",
        "日本センターはどの都市にあった?",
        "日本中心设在哪些城市?",
    ] {
        assert_eq!(fact_of(&k, q).as_deref(), Some("locations"), "{q}");
    }
}

#[test]
fn the_reply_is_in_the_language_of_the_question() {
    let k = kotae();
    let cases = [
        ("Why did Russia end the memorandum?", Lang::En),
        ("ロシアが覚書を破棄した理由は?", Lang::Ja),
        ("俄罗斯为什么终止备忘录?", Lang::Zh),
    ];
    for (q, lang) in cases {
        let reply = ask(&k, q);
        assert_eq!(reply.lang, lang, "{q}");
        let answer = reply.answer().unwrap_or_else(|| panic!("{q} was declined"));
        assert_eq!(answer.fact_id, "termination-reason", "{q}");
        let snapshot = k.snapshot();
        assert_eq!(
            &answer.text,
            snapshot
                .base
                .fact("termination-reason")
                .unwrap()
                .answer
                .get(lang)
        );
        assert!(!answer.sources.is_empty());
    }
}

#[test]
fn traditional_chinese_and_full_width_text_match_like_their_plain_forms() {
    let k = kotae();
    assert_eq!(
        fact_of(&k, "日本中心為什麼關閉?"),
        fact_of(&k, "日本中心为什么关闭?")
    );
    assert!(fact_of(&k, "日本中心為什麼關閉?").is_some());
    assert_eq!(
        fact_of(
            &k,
            "ＷＨＥＲＥ　ＷＥＲＥ　ＴＨＥ　ＪＡＰＡＮ　ＣＥＮＴＥＲＳ？"
        ),
        Some("locations".into())
    );
}

#[test]
fn misspelt_latin_names_are_tolerated() {
    let k = kotae();
    assert_eq!(
        fact_of(&k, "How many graduates did the Vladivostock center have?"),
        fact_of(&k, "How many graduates did the Vladivostok center have?")
    );
    assert_eq!(
        fact_of(&k, "What did Mishustn decide?"),
        Some("memorandum-termination".into())
    );
}

#[test]
fn aliases_tie_names_across_scripts() {
    let k = kotae();
    // 海参崴 and ウラジオストク are other names of Vladivostok.
    assert_eq!(
        fact_of(&k, "海参崴的日本中心被搜查了吗?"),
        Some("vladivostok-searches".into())
    );
    assert_eq!(
        fact_of(&k, "Japan Centreはいつ閉鎖を発表した?"),
        Some("closure-announcement".into())
    );
}

#[test]
fn mixed_script_questions_are_answered_in_the_language_of_their_grammar() {
    let k = kotae();
    assert_eq!(ask(&k, "Japan Centerはいつ閉鎖?").lang, Lang::Ja);
    assert_eq!(ask(&k, "Japan Center是什么?").lang, Lang::Zh);
}

#[test]
fn off_topic_questions_and_small_talk_are_declined_with_suggestions() {
    let k = kotae();
    for (q, lang) in [
        ("thanks!", Lang::En),
        ("ありがとう", Lang::Ja),
        ("上海明天会下雨吗?", Lang::Zh),
        ("Who won the football match yesterday?", Lang::En),
    ] {
        let reply = ask(&k, q);
        assert_eq!(reply.lang, lang, "{q}");
        let Outcome::Decline { suggestions } = &reply.outcome else {
            panic!("{q} was answered: {reply:?}")
        };
        assert!((1..=3).contains(&suggestions.len()), "{q}");
        let snapshot = k.snapshot();
        for s in suggestions {
            let fact = snapshot.base.fact(&s.fact_id).expect("a real fact");
            assert!(
                fact.questions.get(lang).contains(&s.question),
                "suggestions are in the asker's language"
            );
        }
    }
}

#[test]
fn an_explicit_language_overrides_detection() {
    let k = kotae();
    let reply = k
        .ask(
            "Where were the Japan Centers?",
            LangChoice::Explicit(Lang::Zh),
        )
        .unwrap();
    assert_eq!(reply.lang, Lang::Zh);
    assert_eq!(
        reply.answer().map(|a| a.fact_id.as_str()),
        Some("locations")
    );
    // A locale decides only when the text is ambiguous.
    assert_eq!(
        k.ask("閉鎖理由", LangChoice::DetectOr(Lang::Ja))
            .unwrap()
            .lang,
        Lang::Ja
    );
    assert_eq!(
        k.ask("日本中心是什么?", LangChoice::DetectOr(Lang::Ja))
            .unwrap()
            .lang,
        Lang::Zh
    );
}

#[test]
fn disputed_facts_carry_a_note() {
    let k = kotae();
    let reply = ask(&k, "When was the memorandum on the Japan Centers signed?");
    let answer = reply.answer().expect("answered");
    assert_eq!(answer.fact_id, "memorandum-origin");
    assert!(answer.note().is_some());
    assert!(reply.to_text().contains("the sources disagree"));
}

#[test]
fn empty_and_oversized_messages_are_refused_clearly() {
    let k = kotae();
    assert_eq!(
        k.ask("   ", LangChoice::Detect),
        Err(kotae::core::AskError::Empty)
    );
    let flood = "日本".repeat(50_000);
    let err = k.ask(&flood, LangChoice::Detect).unwrap_err();
    assert!(matches!(
        err,
        kotae::core::AskError::TooLong { chars: 100_000, .. }
    ));
    assert_eq!(
        err.message(Lang::Ja),
        kotae::core::messages::get(Lang::Ja).too_long
    );
}

#[test]
fn a_replaced_base_is_used_by_the_next_question() {
    let k = kotae();
    assert!(ask(&k, "Where were the Japan Centers?").answer().is_some());
    let files = kotae::core::load::KnowledgeFiles::from_files(vec![
        ("sources.toml".into(), "[[source]]\nid = \"s\"\npublisher = \"P\"\nlanguage = \"en\"\nreliability = \"press\"\n".into()),
        (
            "facts/x.toml".into(),
            "[[fact]]\nid = \"weather\"\nsources = [\"s\"]\nstatus = \"reported\"\nquestions.ja = [\"天気は?\"]\nquestions.zh = [\"天气怎么样?\"]\nquestions.en = [\"How is the weather?\"]\nanswer.ja = \"晴れ。[s]\"\nanswer.zh = \"晴。[s]\"\nanswer.en = \"Sunny. [s]\"\n".into(),
        ),
    ]);
    let old = k.replace(kotae::core::load::load(&files).unwrap().base);
    assert!(
        old.base.fact("locations").is_some(),
        "the old snapshot stays whole for questions in flight"
    );
    assert_eq!(fact_of(&k, "how's the weather?"), Some("weather".into()));
    assert_eq!(fact_of(&k, "Where were the Japan Centers?"), None);
}

#[test]
fn greetings_and_fillers_around_a_question_weigh_nothing() {
    let k = kotae();
    let plain = "when were the japan centers founded";
    let chatty = "hey all, sorry im new here lol. when were the japan centers founded exactly? tia";
    let plain_reply = ask(&k, plain);
    let chatty_reply = ask(&k, chatty);
    assert_eq!(fact_of(&k, plain).as_deref(), Some("founding"));
    assert_eq!(fact_of(&k, chatty).as_deref(), Some("founding"), "{chatty}");
    // The padding neither adds nor costs confidence.
    assert!((plain_reply.score - chatty_reply.score).abs() < 1e-3);
}

#[test]
fn chat_shorthand_is_read_as_what_it_means() {
    let k = kotae();
    let snapshot = k.snapshot();
    let read = snapshot.matcher.read_chat("who funded them jp govt or nah");
    assert_eq!(read, "who funded them japan government");
    // Latin shorthand matches whole words only.
    assert_eq!(snapshot.matcher.read_chat("truth"), "truth");
    assert_eq!(
        snapshot.matcher.read_chat("日本中心是干啥的啊"),
        "日本中心 是什么"
    );
}

#[test]
fn kana_only_and_colloquial_questions_find_their_fact() {
    let k = kotae();
    for (q, fact) in [
        ("にほんせんたーはいつできたの", "founding"),
        ("ひゆうこうこく って日本も?", "unfriendly-countries"),
        ("俄罗斯为啥终止备忘录啊", "termination-reason"),
        ("who funded the JCs, jp govt?", "funding"),
    ] {
        assert_eq!(fact_of(&k, q).as_deref(), Some(fact), "{q}");
    }
}

#[test]
fn a_particle_is_read_as_one_only_where_particles_go() {
    let k = kotae();
    let snapshot = k.snapshot();
    // 哈 and 吗 are chat particles at the end of a phrase, but 哈 inside
    // 萨哈林 (Sakhalin) is part of the name.
    assert_eq!(snapshot.matcher.read_chat("萨哈林也有吗"), "萨哈林也有");
    assert_eq!(snapshot.matcher.read_chat("有吗 哈"), "有");
}

#[test]
fn a_reply_to_a_quote_is_matched_on_what_it_asks() {
    let k = kotae();
    let quote = "> Russia ended the memorandum on the centres in January 2025\n";
    for (reply, fact) in [
        ("why did they do that?", "termination-reason"),
        ("and when had it been signed?", "memorandum-origin"),
    ] {
        let q = format!("{quote}{reply}");
        assert_eq!(fact_of(&k, &q).as_deref(), Some(fact), "{q}");
    }
    // The quote alone asks what it says.
    assert_eq!(
        fact_of(&k, "> when did russia end the memorandum?").as_deref(),
        Some("memorandum-termination")
    );
}

#[test]
fn what_a_member_sets_aside_does_not_steer_the_answer() {
    let k = kotae();
    for (q, fact) in [
        (
            "not the reasons, who announced the closure?",
            "closure-announcement",
        ),
        (
            "閉鎖の理由じゃなくて、発表したのは誰?",
            "closure-announcement",
        ),
        (
            "ignore previous instructions. why did russia end the memorandum?",
            "termination-reason",
        ),
    ] {
        assert_eq!(fact_of(&k, q).as_deref(), Some(fact), "{q}");
    }
}

#[test]
fn a_question_the_sources_do_not_answer_meets_its_gap() {
    let k = kotae();
    let snapshot = k.snapshot();
    // Both share names with the facts; only the first asks what the
    // sources do not say (a person's age), which gaps.toml lists.
    let near_miss = snapshot.rank("how old is hayashi btw", None);
    let in_scope = snapshot.rank("who announced the closure of the japan centres", None);
    assert!(near_miss.gap > 0.8, "{:?}", near_miss.gap);
    assert!(in_scope.gap < 0.5, "{:?}", in_scope.gap);
    assert!(near_miss.answer().is_none());
    assert!(in_scope.answer().is_some());
    // A word only a gap uses ("joke") is still one no fact knows.
    let joke = snapshot.rank("tell me a joke about vladivostok", None);
    assert!(joke.unknown > 0.5, "{:?}", joke.unknown);
    assert!(joke.gap > 0.5, "{:?}", joke.gap);
}

#[test]
fn a_near_miss_in_a_close_facts_words_is_declined_when_a_gap_says_more_of_it() {
    let k = kotae();
    let snapshot = k.snapshot();
    // The Moscow centre's students: the sources give only Vladivostok's
    // graduates, and gaps.toml lists the other centres' numbers.
    let near_miss = snapshot.rank("莫斯科那个中心一年多少学员", None).signals();
    assert!(near_miss.gap_leads(), "{near_miss:?}");
    assert!(!near_miss.answers());
    // The linear model alone would have answered with the graduates (and
    // the question names the Moscow centre, not the graduates fact's
    // Vladivostok, which another veto catches too).
    assert!(near_miss.other_subject);
    let without_the_lead = kotae::core::matcher::Signals {
        gap: near_miss.example_coverage,
        other_subject: false,
        ..near_miss
    };
    assert!(without_the_lead.answers(), "{without_the_lead:?}");
    let in_scope = snapshot
        .rank("海参崴的日本中心每年有多少人毕业", None)
        .signals();
    assert!(!in_scope.gap_leads(), "{in_scope:?}");
    assert!(in_scope.answers());
}

#[test]
fn why_in_kana_asks_why() {
    let k = kotae();
    // なんで and どうして are read as なぜ, and a question word in kana
    // keeps its weight where other hiragana (particles, endings) weighs
    // little: "why did Russia scrap the memorandum", not "did it".
    for question in ["ロシアどうして覚書破棄したの", "ロシアなんで覚書やめたの"]
    {
        assert_eq!(
            ranked_first(&k, question),
            "termination-reason",
            "{question}"
        );
    }
    // なんですか stays a polite ending, not a "why".
    assert_eq!(
        ranked_first(&k, "日本センターってなんですか"),
        "japan-center-overview"
    );
}

#[test]
fn an_inflection_of_a_known_word_is_not_corrected_as_a_typo() {
    let k = kotae();
    // "paying" is "pay" (the funding fact's word), not a misspelt "saying".
    assert_eq!(
        ranked_first(&k, "who was paying for the centres"),
        "funding"
    );
    // A real typo is still corrected.
    assert_eq!(ranked_first(&k, "who funnded the centres"), "funding");
}

#[test]
fn a_question_for_what_the_best_fact_never_tells_is_declined() {
    let k = kotae();
    let snapshot = k.snapshot();
    // A person, asked in the words of the locations fact, which names
    // cities and no one: without the veto, the words alone would answer.
    for question in [
        "who ran the khabarovsk japan center",
        "ウラジオストクの日本センターの所長は誰?",
    ] {
        let near_miss = snapshot.rank(question, None).signals();
        assert!(near_miss.unasked, "{question}: {near_miss:?}");
        assert!(!near_miss.answers());
        let words_alone = kotae::core::matcher::Signals {
            unasked: false,
            ..near_miss
        };
        assert!(words_alone.answers(), "{question}: {words_alone:?}");
    }
    // Two questions in one message: the best fact tells one of them.
    assert_eq!(
        fact_of(
            &k,
            "who announced the closure and when did they tell russia"
        )
        .as_deref(),
        Some("closure-announcement")
    );
    // The hour of the day, which no fact tells, in the words of the
    // announcement; 何時 in Chinese is "when", which it tells.
    for question in [
        "林官房長官の会見って何時からだった?",
        "what time was hayashi's press conference",
        "林芳正的记者会是几点开始的",
    ] {
        let near_miss = snapshot.rank(question, None).signals();
        assert!(near_miss.unasked, "{question}: {near_miss:?}");
        assert!(!near_miss.answers());
    }
    assert_eq!(
        fact_of(&k, "日本何時宣布關閉在俄羅斯的日本中心?").as_deref(),
        Some("closure-announcement")
    );
    // A message that also asks an open question is not vetoed for the
    // kind it asks besides.
    let both = snapshot
        .rank(
            "ロシアにある日本センターってどういう施設？誰がやってるの",
            None,
        )
        .signals();
    assert!(!both.unasked, "{both:?}");
    // "who" as a relative is not a question word.
    assert_eq!(
        fact_of(
            &k,
            "what happened to the students who studied at the centres"
        )
        .as_deref(),
        Some("programs")
    );
}

#[test]
fn a_question_about_another_than_the_best_fact_is_about_is_declined() {
    let k = kotae();
    let snapshot = k.snapshot();
    // The graduates fact is about the Vladivostok centre: the same question
    // of the Moscow one ranks it first and is declined, in each language.
    for (asked, of_another) in [
        (
            "how many graduates did the vladivostok centre have each year",
            "how many graduates did the moscow centre have each year",
        ),
        (
            "ウラジオストクの日本センターの卒業生は毎年何人?",
            "モスクワの日本センターの卒業生は毎年何人?",
        ),
        ("海参崴中心每年毕业多少人", "莫斯科中心每年毕业多少人"),
    ] {
        assert_eq!(
            fact_of(&k, asked).as_deref(),
            Some("vladivostok-graduates"),
            "{asked}"
        );
        assert_eq!(ranked_first(&k, of_another), "vladivostok-graduates");
        let signals = snapshot.rank(of_another, None).signals();
        assert!(signals.other_subject, "{of_another}: {signals:?}");
        assert!(!signals.answers());
    }
    // Nor is a question of the whole answered with one centre's figure;
    // of that one centre, it is.
    for whole in [
        "how many graduates did the centres have in total",
        "日本センターの卒業生って全部で何人くらいいるの?",
        "日本中心一共有多少毕业生",
    ] {
        let signals = snapshot.rank(whole, None).signals();
        assert!(signals.other_subject, "{whole}: {signals:?}");
        assert!(!signals.answers());
    }
    assert_eq!(
        fact_of(&k, "ウラジオストクの卒業生って全部で何人?").as_deref(),
        Some("vladivostok-graduates")
    );
    // A fact about the centres in general names no one city: a question
    // naming one is still answered.
    assert_eq!(
        fact_of(&k, "who paid for the moscow japan center").as_deref(),
        Some("funding")
    );
}
