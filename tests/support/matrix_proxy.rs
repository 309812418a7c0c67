//! A homeserver that misbehaves for one room: an HTTP proxy in front of
//! Synapse that the bot is pointed at, forwarding every request as it is,
//! except the bot's sends (`PUT /rooms/{room}/send/…`) into the room it is
//! told to trouble, which it holds until released, or answers with a 502.
//! Members talk to Synapse directly.

#![allow(dead_code)]

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, Method, StatusCode, header};
use axum::response::Response;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What the proxy does to one room's sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trouble {
    /// Every send is forwarded.
    None,
    /// Sends into the room wait until the trouble changes.
    Hold(String),
    /// Sends into the room are answered 502, a gateway whose homeserver is
    /// down.
    Fail(String),
}

impl Trouble {
    /// The trouble `path` meets, if it is a send into the troubled room.
    fn meets(&self, path: &str) -> Option<&Trouble> {
        let room = match self {
            Trouble::None => return None,
            Trouble::Hold(room) | Trouble::Fail(room) => room,
        };
        (path.contains("/send/") && path.contains(room.as_str())).then_some(self)
    }
}

struct Inner {
    upstream: String,
    client: reqwest::Client,
    trouble: watch::Sender<Trouble>,
    /// Sends being held now.
    holding: AtomicUsize,
    /// Sends into the troubled room so far, held or failed.
    troubled: AtomicUsize,
}

pub struct Proxy {
    pub url: String,
    inner: Arc<Inner>,
    task: JoinHandle<()>,
}

impl Proxy {
    /// A proxy on a free local port in front of `upstream`.
    pub async fn start(upstream: &str) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a local port");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let inner = Arc::new(Inner {
            upstream: upstream.trim_end_matches('/').to_string(),
            client: reqwest::Client::new(),
            trouble: watch::Sender::new(Trouble::None),
            holding: AtomicUsize::new(0),
            troubled: AtomicUsize::new(0),
        });
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(inner.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("the proxy serves");
        });
        Proxy { url, inner, task }
    }

    /// Troubles the sends into a room (by its id); `Trouble::None` ends it,
    /// and held sends go on.
    pub fn trouble(&self, trouble: Trouble) {
        self.inner.trouble.send_replace(trouble);
    }

    /// Holds every send into the room until [`Proxy::release`].
    pub fn hold(&self, room_id: &str) {
        self.trouble(Trouble::Hold(room_id.to_string()));
    }

    pub fn release(&self) {
        self.trouble(Trouble::None);
    }

    /// Sends held right now.
    pub fn holding(&self) -> usize {
        self.inner.holding.load(Ordering::SeqCst)
    }

    /// Sends into a troubled room so far.
    pub fn troubled(&self) -> usize {
        self.inner.troubled.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn forward(State(proxy): State<Arc<Inner>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    // Room ids in paths are percent-encoded (`%21abc%3Alocalhost`).
    let path = percent_decode(parts.uri.path());
    if parts.method == Method::PUT {
        let mut trouble = proxy.trouble.subscribe();
        let met = trouble.borrow().meets(&path).cloned();
        match met {
            Some(Trouble::Hold(_)) => {
                proxy.troubled.fetch_add(1, Ordering::SeqCst);
                proxy.holding.fetch_add(1, Ordering::SeqCst);
                // The count goes back down even if the bot gives up on
                // the request and the connection (and this future) drops.
                let _held = Decrement(&proxy.holding);
                let _ = trouble.wait_for(|t| t.meets(&path).is_none()).await;
            }
            Some(_) => {
                proxy.troubled.fetch_add(1, Ordering::SeqCst);
                return json(
                    StatusCode::BAD_GATEWAY,
                    r#"{"errcode":"M_UNKNOWN","error":"the proxy fails this room's sends"}"#,
                );
            }
            None => {}
        }
    }
    let Ok(body) = axum::body::to_bytes(body, usize::MAX).await else {
        return json(StatusCode::BAD_REQUEST, "{}");
    };
    let target = format!(
        "{}{}",
        proxy.upstream,
        parts.uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let mut out = proxy.client.request(parts.method, target);
    for (name, value) in &parts.headers {
        if !hop_by_hop(name) {
            out = out.header(name, value);
        }
    }
    let Ok(response) = out.body(body).send().await else {
        return json(StatusCode::BAD_GATEWAY, "{}");
    };
    let mut back = Response::builder().status(response.status());
    for (name, value) in response.headers() {
        if !hop_by_hop(name) {
            back = back.header(name, value);
        }
    }
    let bytes = response.bytes().await.unwrap_or_default();
    back.body(Body::from(bytes)).expect("a response")
}

struct Decrement<'a>(&'a AtomicUsize);

impl Drop for Decrement<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn hop_by_hop(name: &HeaderName) -> bool {
    [
        header::HOST,
        header::CONNECTION,
        header::CONTENT_LENGTH,
        header::TRANSFER_ENCODING,
    ]
    .contains(name)
}

fn json(status: StatusCode, body: &'static str) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .expect("a response")
}

fn percent_decode(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
