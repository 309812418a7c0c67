//! The Discord adapter (in progress).

use crate::serve::Context;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct DiscordConfig {
    pub token: crate::config::Secret,
}

pub async fn run(_config: DiscordConfig, _ctx: Context) -> anyhow::Result<()> {
    anyhow::bail!("the Discord adapter is not built yet")
}
