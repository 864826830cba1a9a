//! `passerelle`: the gateway binary. See `passerelle --help`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match passerelle_gateway::cli::run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("passerelle: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
