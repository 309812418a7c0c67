//! kotae (答え): a cited, multilingual question-answering bot.
//!
//! The modules form layers, and each imports only from the layers below
//! it (`tests/module_tree.rs` checks this on every `cargo test`):
//!
//! 1. [`core`]: the fact base, matching and the reply model. Knows nothing
//!    of chat platforms, files of state or configuration.
//! 2. [`config`] (settings, adapters' sections included), [`records`]
//!    (what the bot keeps in its state directory) and [`reload`] (watching
//!    a knowledge directory) and [`embeddings`] (the semantic signal's
//!    model server and vector cache): each imports only `core`.
//! 3. [`service`]: what every adapter needs and nothing platform-specific.
//!    [`service::Service::ask`] answers a question (core, metrics and
//!    records in one call); the service also remembers sent answers, turns
//!    reactions into votes, follows reloads, and holds the rate limiter,
//!    backoff, [`service::Platform`] and [`service::Shutdown`].
//! 4. The adapters: [`console`], [`discord`], [`matrix`]. Each receives a
//!    message, calls the service once, renders the reply for its platform
//!    and sends it. An adapter never imports another adapter, `serve` or
//!    `cli`. A new adapter (say, Slack) is a new module here: its settings
//!    go in `config`, it calls `Service::ask` for each question and
//!    implements `service::follower::ReloadTarget` for corrections.
//! 5. [`serve`]: `kotae serve`, wiring the enabled adapters to one service,
//!    with `/healthz` and `/metrics`.
//! 6. [`cli`]: the command line, on top.

pub mod cli;
pub mod config;
pub mod console;
pub mod core;
#[cfg(feature = "discord")]
pub mod discord;
pub mod embeddings;
#[cfg(feature = "matrix")]
pub mod matrix;
pub mod records;
pub mod reload;
pub mod serve;
pub mod service;
