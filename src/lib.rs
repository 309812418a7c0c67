//! kotae (答え): a cited, multilingual question-answering bot.
//!
//! Data flows one way: an adapter (`console`, `matrix`, `discord`) receives a
//! message, asks the [`core`], formats the core's [`core::Reply`] for its
//! platform and sends it. The core knows nothing of chat platforms; the
//! adapters know nothing of matching.

pub mod cli;
pub mod config;
pub mod console;
pub mod core;
#[cfg(feature = "discord")]
pub mod discord;
#[cfg(feature = "matrix")]
pub mod matrix;
pub mod records;
pub mod reload;
pub mod serve;
