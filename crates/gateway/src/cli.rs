//! The `passerelle` command line: `serve` (the default), `migrate`,
//! `openapi` and `keys generate`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};

use crate::config::Settings;
use crate::startup::{Application, BoxError, open_store};
use crate::{openapi, telemetry};

#[derive(Debug, Parser)]
#[command(
    name = "passerelle",
    version,
    about = "Passerelle: a blind messaging gateway"
)]
pub struct Cli {
    /// Optional TOML settings file (environment variables override it).
    #[arg(long, short, env = "PASSERELLE_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
    /// Key management.
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Print a new Ed25519 signing key (PKCS#8 PEM) to stdout.
    Generate,
}

/// Parses the command line and runs the chosen command.
pub async fn run() -> Result<(), BoxError> {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Openapi => {
            print!("{}", openapi::document());
            Ok(())
        }
        Command::Keys(KeysCommand::Generate) => {
            print!("{}", passerelle_auth::keys::generate_ed25519_pem()?);
            Ok(())
        }
        Command::Migrate => {
            let settings = Settings::load(cli.config.as_deref())?;
            telemetry::init(&settings.log);
            open_store(&settings).await?;
            Ok(())
        }
        Command::Serve => {
            let settings = Settings::load(cli.config.as_deref())?;
            telemetry::init(&settings.log);
            let metrics = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("http_request_duration_seconds".into()),
                    &[
                        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                    ],
                )?
                .install_recorder()?;
            let app = Application::build(settings, metrics).await?;
            app.run_until_stopped().await?;
            tracing::info!("stopped");
            Ok(())
        }
    }
}
