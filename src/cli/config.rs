//! `kotae config check`: validates the configuration the way `serve` would
//! read it and prints the effective settings, secrets masked.

use crate::config::Config;
use anyhow::Result;
use std::path::PathBuf;
use std::process::ExitCode;

/// `kotae config`'s subcommands.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Validate the configuration and print the effective settings.
    Check {
        /// The configuration file (kotae.toml); `KOTAE_*` variables override it.
        #[arg(long, env = "KOTAE_CONFIG", value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

/// Runs `kotae config check`.
pub fn run(args: Args) -> Result<ExitCode> {
    let Command::Check { config } = args.command;
    let config = Config::load(config.as_deref())?;
    // Secrets serialise as "***", so printing the whole config is safe.
    print!("{}", toml::to_string_pretty(&config)?);
    let enabled = crate::serve::enabled_adapters(&config);
    if enabled.is_empty() {
        println!("# no chat adapter is enabled: `kotae serve` would refuse to start");
        return Ok(ExitCode::from(1));
    }
    let names: Vec<&str> = enabled.iter().map(|p| p.as_str()).collect();
    println!("# ok: adapters enabled: {}", names.join(", "));
    Ok(ExitCode::SUCCESS)
}
