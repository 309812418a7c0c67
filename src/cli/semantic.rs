//! The semantic signal for the commands that run in the terminal (`ask`,
//! `chat`, `eval`): the `[embeddings]` settings of `--config` and the
//! `KOTAE_EMBEDDINGS_*` variables, and a small runtime to call the model
//! from these synchronous commands. Without `KOTAE_EMBEDDINGS_URL` they
//! match lexically, offline.

use crate::config::EmbeddingsConfig;
use crate::core::semantic::FactVectors;
use crate::core::{Kotae, QuestionVector};
use crate::embeddings::Embeddings;
use anyhow::Result;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// `--config FILE`, for its `[embeddings]` section.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct SemanticArg {
    /// A configuration file (kotae.toml) whose [embeddings] section turns on
    /// the semantic signal; `KOTAE_EMBEDDINGS_*` variables override it.
    #[arg(long, env = "KOTAE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

impl SemanticArg {
    /// The settings these arguments and the environment give.
    pub fn settings(&self) -> Result<EmbeddingsConfig> {
        EmbeddingsConfig::load(self.config.as_deref())
    }
}

/// The model, with the fact base embedded.
pub struct Semantic {
    runtime: tokio::runtime::Runtime,
    embeddings: Arc<Embeddings>,
}

impl Semantic {
    /// The model the settings name, with `kotae`'s fact base embedded
    /// (vectors cached in `cache_dir`); None when no URL is set. When the
    /// model cannot embed the base: an error if `required`, else a warning
    /// and None (lexical matching).
    pub fn open(
        arg: &SemanticArg,
        cache_dir: Option<&Path>,
        kotae: &Kotae,
        required: bool,
    ) -> Result<Option<Semantic>> {
        let config = arg.settings()?;
        let Some(embeddings) = crate::service::open_embeddings(&config, cache_dir)? else {
            return Ok(None);
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let url = config.url.unwrap_or_default();
        match runtime.block_on(embeddings.prepare(&kotae.snapshot())) {
            Ok(_) => Ok(Some(Semantic {
                runtime,
                embeddings,
            })),
            Err(e) if required => anyhow::bail!("cannot embed the fact base with {url}: {e}"),
            Err(e) => {
                eprintln!(
                    "kotae: warning: cannot embed the fact base with {url} ({e}); matching lexically"
                );
                Ok(None)
            }
        }
    }

    /// The fact base's vectors, for the snapshot in force.
    pub fn facts(&self, kotae: &Kotae) -> Option<Arc<FactVectors>> {
        self.embeddings.vectors_for(&kotae.snapshot())
    }

    /// One question's vector, or None when the model did not answer in time.
    pub fn question(&self, text: &str) -> Option<Vec<f32>> {
        self.runtime.block_on(self.embeddings.question(text))
    }

    /// Many questions' vectors, in batches, without the question timeout.
    pub fn questions(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        Ok(self.runtime.block_on(self.embeddings.questions(texts))?)
    }
}

/// A question vector over `facts`, when both are there.
pub fn vector<'a>(
    facts: Option<&'a FactVectors>,
    question: Option<&'a [f32]>,
) -> Option<QuestionVector<'a>> {
    Some(QuestionVector {
        facts: facts?,
        question: question?,
    })
}
