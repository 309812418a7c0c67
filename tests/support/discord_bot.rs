//! The Discord adapter under test, started as `kotae serve` starts it
//! against the in-process double, and what the Discord test files share:
//! starting and stopping it, reading the payloads it sent, and the checks
//! every answer must pass.

#![allow(dead_code)] // each test binary uses a different part

use crate::discord_double::*;
use crate::knowledge;
use kotae::config::Secret;
use kotae::core::load::load_embedded;
use kotae::core::{FactBase, Kotae, Lang, LangChoice, Outcome, Reply, messages};
use kotae::discord::DiscordConfig;
use kotae::service::{AdapterStatus, Platform, Service, Shutdown, StopHandle};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const MEMBER: u64 = 1_200_000_000_000_000_001;
pub const OTHER_MEMBER: u64 = 1_200_000_000_000_000_002;
pub const EPHEMERAL: u64 = 64;

/// The adapter under test, running as `kotae serve` runs it.
pub struct Bot {
    pub core: Arc<Kotae>,
    pub status: Arc<AdapterStatus>,
    pub stop: StopHandle,
    pub task: tokio::task::JoinHandle<anyhow::Result<()>>,
    /// The bot's state directory (records of declined questions).
    pub state: tempfile::TempDir,
    pub service: Service,
    /// The editable knowledge directory, when the bot serves one.
    pub knowledge: Option<tempfile::TempDir>,
    /// The knowledge directory's watch, as `kotae serve` keeps it.
    pub _watch: Option<kotae::reload::Watch>,
}

pub fn config(double: &Double) -> DiscordConfig {
    DiscordConfig {
        token: Secret::from(TOKEN),
        guild_id: None,
        message_content: false,
        rate_per_minute: 0,
        rate_burst: 0,
        moderator_role: None,
        moderators_channel: None,
        moderators_lang: Lang::En,
        api_url: Some(double.rest_url.clone()),
    }
}

pub fn embedded() -> FactBase {
    load_embedded().expect("the embedded base loads").base
}

pub async fn start(double: &Double, config: DiscordConfig) -> Bot {
    start_with(double, config, embedded()).await
}

/// Where the bot under test gets its facts.
pub enum Facts {
    /// A fixed base.
    Base(FactBase),
    /// A copy of the shipped knowledge directory, which the test edits;
    /// watched (reloaded on save, as `kotae serve` does) or not.
    Editable { watched: bool },
}

/// Starts the adapter and waits until it is logged in and has registered
/// its commands.
pub async fn start_with(double: &Double, config: DiscordConfig, base: FactBase) -> Bot {
    start_serving(double, config, Facts::Base(base)).await
}

/// Starts the adapter on an editable copy of the knowledge directory.
pub async fn start_editable(double: &Double, config: DiscordConfig, watched: bool) -> Bot {
    start_serving(double, config, Facts::Editable { watched }).await
}

pub async fn start_serving(double: &Double, config: DiscordConfig, facts: Facts) -> Bot {
    serve(double, config, facts, None).await
}

/// Starts the adapter on the shipped base, matching with an embeddings
/// server too, and waits until the fact base is embedded.
pub async fn start_with_embeddings(double: &Double, config: DiscordConfig, url: &str) -> Bot {
    let settings = kotae::config::EmbeddingsConfig {
        url: Some(url.to_string()),
        // A slow model on a small machine: the operator lets questions
        // wait for it (the default is 300 ms).
        timeout_ms: Some(EMBEDDINGS_TIMEOUT_MS),
        ..Default::default()
    };
    let embeddings = kotae::service::open_embeddings(&settings, None).expect("embeddings");
    let bot = serve(double, config, Facts::Base(embedded()), embeddings).await;
    let model = bot.service.embeddings().expect("embeddings on").clone();
    let deadline = Instant::now() + PATIENCE;
    while model.vectors_for(&bot.core.snapshot()).is_none() {
        assert!(
            Instant::now() < deadline,
            "the fact base was never embedded"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    bot
}

/// The question timeout [`start_with_embeddings`] sets.
pub const EMBEDDINGS_TIMEOUT_MS: u64 = 4000;

async fn serve(
    double: &Double,
    config: DiscordConfig,
    facts: Facts,
    embeddings: Option<Arc<kotae::embeddings::Embeddings>>,
) -> Bot {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let (base, knowledge, watched) = match facts {
        Facts::Base(base) => (base, None, false),
        Facts::Editable { watched } => {
            let dir = knowledge::knowledge_copy();
            let base = kotae::core::load::load_dir(dir.path())
                .expect("the shipped knowledge loads")
                .base;
            (base, Some(dir), watched)
        }
    };
    let core = Arc::new(Kotae::new(base));
    let (stop, shutdown) = Shutdown::new();
    let status = Arc::new(AdapterStatus::default());
    let state = tempfile::tempdir().expect("a state directory");
    let service = Service::open(core.clone(), state.path(), shutdown)
        .expect("records open")
        .with_status(status.clone())
        .with_knowledge_dir(knowledge.as_ref().map(|d| d.path().to_path_buf()))
        .with_embeddings(embeddings);
    let watch = if watched {
        service
            .watch_knowledge()
            .expect("the knowledge directory is watched")
    } else {
        None
    };
    let task = tokio::spawn(kotae::discord::run(config, service.clone()));
    double.wait_live().await;
    double
        .wait_request("the commands' registration", |r| {
            r.method == "PUT" && r.route.ends_with("/commands")
        })
        .await;
    Bot {
        core,
        status,
        stop,
        task,
        state,
        service,
        knowledge,
        _watch: watch,
    }
}

pub fn ask_options(question: &str) -> Value {
    json!([option("question", question, false)])
}

pub fn embeds(message: &Value) -> Vec<Value> {
    message["embeds"].as_array().cloned().unwrap_or_default()
}

pub fn description(message: &Value) -> String {
    embeds(message)[0]["description"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The sources field(s) of an embed, joined.
pub fn sources_text(embed: &Value, lang: Lang) -> String {
    let name = messages::get(lang).sources;
    embed["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["name"] == name)
        .map(|f| f["value"].as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn expected(bot: &Bot, question: &str, choice: LangChoice) -> Reply {
    bot.core.ask(question, choice).expect("a question")
}

/// Checks an answer callback against the core's reply to the same question.
/// What the first embed of an answer says: the claims with their markers,
/// as the renderer draws them.
pub fn answer_description(reply: &Reply) -> String {
    kotae::discord::render::reply(reply)[0][0]
        .description
        .clone()
        .unwrap_or_default()
}

pub fn assert_answer(callback: &Value, reply: &Reply) {
    let Outcome::Answer(answer) = &reply.outcome else {
        panic!("the core should answer {:?}", reply.question)
    };
    assert_eq!(callback["type"], 4, "a message response");
    let data = &callback["data"];
    assert_ne!(data["flags"].as_u64().unwrap_or(0) & EPHEMERAL, EPHEMERAL);
    let embed = &embeds(data)[0];
    assert_eq!(embed["title"], reply.question);
    assert_eq!(embed["description"], answer_description(reply));
    assert!(answer_description(reply).starts_with(&answer.claims[0].text));
    let footer = embed["footer"]["text"].as_str().unwrap();
    assert!(footer.starts_with(&answer.fact_id), "{footer}");
    let sources = sources_text(embed, reply.lang);
    for (i, s) in answer.sources.iter().enumerate() {
        let line = format!("{}. ", i + 1);
        assert!(sources.contains(&line), "{sources}");
        if let Some(url) = &s.url {
            assert!(sources.contains(&format!("]({url})")), "{sources}");
        }
    }
}

/// Every message the bot sent, whatever the route.
pub fn sent_messages(double: &Double) -> Vec<(String, Value)> {
    double
        .requests()
        .into_iter()
        .filter_map(|r| {
            let message = if r.route.ends_with("/callback") && r.body["type"] == 4 {
                r.body["data"].clone()
            } else if (r.method == "POST" || r.method == "PATCH")
                && (r.route.starts_with("/webhooks/") || r.route.starts_with("/channels/"))
            {
                r.body.clone()
            } else {
                return None;
            };
            Some((format!("{} {}", r.method, r.route), message))
        })
        .collect()
}

pub fn assert_no_pings(double: &Double) {
    let sent = sent_messages(double);
    assert!(!sent.is_empty());
    let none = json!({"parse": [], "users": [], "roles": [], "replied_user": false});
    for (route, message) in sent {
        assert_eq!(message["allowed_mentions"], none, "{route}");
    }
}

/// what it does while Discord refuses it.
/// Starts the adapter without waiting for it to connect, for tests of
pub fn start_unconnected(config: DiscordConfig) -> Bot {
    let core = Arc::new(Kotae::new(embedded()));
    let (stop, shutdown) = Shutdown::new();
    let status = Arc::new(AdapterStatus::default());
    let state = tempfile::tempdir().expect("a state directory");
    let service = Service::open(core.clone(), state.path(), shutdown)
        .expect("records open")
        .with_status(status.clone());
    let task = tokio::spawn(kotae::discord::run(config, service.clone()));
    Bot {
        core,
        status,
        stop,
        task,
        state,
        service,
        knowledge: None,
        _watch: None,
    }
}

/// Stops the bot and checks it stops at once and cleanly.
pub async fn stop_promptly(bot: Bot) -> Duration {
    let asked = Instant::now();
    bot.stop.stop();
    let result = tokio::time::timeout(Duration::from_secs(5), bot.task)
        .await
        .expect("the adapter stops promptly")
        .unwrap();
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(bot.status.snapshot(), vec![(Platform::Discord, false)]);
    asked.elapsed()
}

/// `GET /healthz` on `kotae serve`: the status code and the body.
pub async fn healthz(port: u16) -> Option<(u16, Value)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .ok()?;
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .ok()?;
    let mut response = String::new();
    tcp.read_to_string(&mut response).await.ok()?;
    let code = response.split(' ').nth(1)?.parse().ok()?;
    let body = response.split("\r\n\r\n").nth(1)?;
    Some((code, serde_json::from_str(body).ok()?))
}

pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// VmRSS and VmHWM of a process, in kB.
pub fn memory_kb(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// The text of an interaction's messages, once there is some.
pub async fn interaction_text(double: &Double, id: &str) -> String {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let text: String = double
            .interaction_messages(id)
            .iter()
            .filter_map(|m| m["content"].as_str())
            .collect::<Vec<_>>()
            .join("\n");
        if !text.is_empty() {
            return text;
        }
        assert!(Instant::now() < deadline, "no reply to {id}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Saves `name` in `dir` as editors do.
pub fn save(dir: &std::path::Path, name: &str, text: &str) {
    knowledge::save(&dir.join(name), text);
}

/// Rewrites the lines starting with each prefix inside one fact's block.
pub fn edit_fact(dir: &std::path::Path, file: &str, id: &str, lines: &[(&str, &str)]) {
    let text = std::fs::read_to_string(dir.join(file)).unwrap();
    let start = text.find(&format!("id = \"{id}\"")).unwrap();
    let end = text[start..]
        .find("[[fact]]")
        .map_or(text.len(), |i| start + i);
    let block: Vec<String> = text[start..end]
        .lines()
        .map(|line| {
            lines
                .iter()
                .find(|(prefix, _)| line.starts_with(prefix))
                .map_or(line.to_string(), |(_, new)| new.replace(CITE, &cited(line)))
        })
        .collect();
    let edited = format!("{}{}\n{}", &text[..start], block.join("\n"), &text[end..]);
    save(dir, file, &edited);
}

/// In a line given to [`edit_fact`], the marker citing every source the
/// line it replaces cites (an answer must cite all the fact's sources).
pub const CITE: &str = "{cite}";

pub fn cited(line: &str) -> String {
    let mut ids: Vec<&str> = Vec::new();
    for marker in line.split('[').skip(1) {
        let inside = marker.split(']').next().unwrap_or_default();
        for id in inside.split(',').map(str::trim) {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    format!("[{}]", ids.join(", "))
}

pub fn editable_dir(bot: &Bot) -> &std::path::Path {
    bot.knowledge.as_ref().expect("an editable bot").path()
}

/// The fact id in an answer's footer, or None for anything else.
pub fn answered_fact(message: &Value) -> Option<String> {
    let footer = embeds(message).last()?["footer"]["text"]
        .as_str()?
        .to_string();
    Some(footer.split(" · ").next()?.to_string())
}

/// Asks with /ask and waits until the answer's message is recorded (its
/// id learnt from GET @original); returns the message id.
pub async fn ask_and_record(double: &Double, bot: &Bot, question: &str, locale: &str) -> String {
    let id = double.command("ask", ask_options(question), locale, MEMBER);
    let callback = double.callback(&id).await;
    assert!(answered_fact(&callback["data"]).is_some(), "{callback}");
    let message = double.original_id(&id).expect("the response has an id");
    wait_recorded(bot, &message).await;
    message
}

pub async fn wait_recorded(bot: &Bot, message: &str) {
    let channel = CHANNEL_ID.to_string();
    let deadline = Instant::now() + PATIENCE;
    while bot
        .service
        .records()
        .unwrap()
        .answers
        .find("discord", &channel, message)
        .unwrap()
        .is_none()
    {
        assert!(Instant::now() < deadline, "{message} never recorded");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Waits for an edit of `message` whose content is `note`.
pub async fn edited_with(double: &Double, message: &str, note: &str) -> Value {
    double
        .wait(&format!("an edit of {message} saying {note:?}"), |l| {
            l.requests
                .iter()
                .filter(|r| r.method == "PATCH")
                .find(|r| {
                    r.route == format!("/channels/{CHANNEL_ID}/messages/{message}")
                        && r.body["content"] == note
                })
                .map(|r| r.body.clone())
        })
        .await
}

/// An embeddings server, as kotae speaks to one (the OpenAI-compatible
/// `POST /v1/embeddings`), that can turn slow, as a model on a busy CPU
/// does. Every text gets the same vector, so the semantic signal ties and
/// the lexical one decides: answers are those the core gives without it.
pub struct SlowModel {
    /// The base URL, ending in `/v1`.
    pub url: String,
    delay: Arc<std::sync::Mutex<Duration>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SlowModel {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SlowModel {
    /// Starts the server, answering at once.
    pub async fn start() -> SlowModel {
        let delay = Arc::new(std::sync::Mutex::new(Duration::ZERO));
        let app = axum::Router::new()
            .route("/v1/embeddings", axum::routing::post(embed))
            .with_state(delay.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/v1", listener.local_addr().unwrap());
        let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        SlowModel { url, delay, task }
    }

    /// Every answer from now on takes `delay`.
    pub fn slow_down(&self, delay: Duration) {
        *self.delay.lock().unwrap() = delay;
    }
}

async fn embed(
    axum::extract::State(delay): axum::extract::State<Arc<std::sync::Mutex<Duration>>>,
    body: axum::body::Bytes,
) -> axum::Json<Value> {
    let delay = *delay.lock().unwrap();
    tokio::time::sleep(delay).await;
    let request: Value = serde_json::from_slice(&body).unwrap_or_default();
    let count = request["input"].as_array().map_or(0, Vec::len);
    let data: Vec<Value> = (0..count)
        .map(|i| json!({"index": i, "embedding": [0.6, 0.8, 0.0, 0.0]}))
        .collect();
    axum::Json(json!({"data": data}))
}
