//! `passerelle-blobstore`: the blob store binary. Settings come from
//! `--config FILE` (or `PASSERELLE_BLOBS_CONFIG`) and `PASSERELLE_BLOBS__*`
//! variables; see `docs/blobstore.md`.

use std::path::PathBuf;

use clap::Parser;
use passerelle_blobstore::{Settings, build, telemetry, verifier_from_settings};

#[derive(Debug, Parser)]
#[command(
    name = "passerelle-blobstore",
    version,
    about = "Passerelle blob store: opaque ciphertext behind gateway-signed capabilities"
)]
struct Cli {
    /// Optional TOML settings file (environment variables override it).
    #[arg(long, short, env = "PASSERELLE_BLOBS_CONFIG")]
    config: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("passerelle-blobstore: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), passerelle_blobstore::BoxError> {
    let cli = Cli::parse();
    let settings = Settings::load(cli.config.as_deref())?;
    telemetry::init(&settings.log);
    let verifier = verifier_from_settings(&settings.capabilities).await?;
    let server = build(settings, verifier).await?;
    server.run_until_signal().await?;
    tracing::info!("stopped");
    Ok(())
}
