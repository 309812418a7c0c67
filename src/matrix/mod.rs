//! The Matrix adapter (in progress).

use crate::serve::Context;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct MatrixConfig {
    pub homeserver: String,
}

pub async fn run(_config: MatrixConfig, _ctx: Context) -> anyhow::Result<()> {
    anyhow::bail!("the Matrix adapter is not built yet")
}
