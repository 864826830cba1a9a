//! `passerelle-loadgen`: an open-loop load generator for the Passerelle
//! gateway.
//!
//! `passerelle-loadgen run` registers users, opens one WebSocket session per
//! device, sends messages at a fixed rate (latency is measured from each
//! send's *intended* time, so a slow server cannot hide behind a slow
//! sender), checks that every expected delivery arrives exactly once, and
//! reports latency percentiles, throughput, and the CPU and memory of the
//! server processes it is told about. Loopback targets only. With
//! `--per-device`, each direct message carries one `deviceEntries` entry
//! per addressed device, and each delivery is checked for its own entry.
//!
//! Modules: [`cli`] (arguments and their checks), [`clock`] (time base,
//! message ids, PRNG), [`setup`] (accounts and sessions), [`session`]
//! (per-session reader and writer tasks), [`traffic`] (the open-loop
//! scheduler), [`run`] (one run, start to end), [`procstat`] (`/proc`
//! accounting), [`report`] and [`print`] (the results, as JSON and text),
//! [`summary`] (Markdown tables from several JSON reports). Two more
//! scenarios have modules of their own: [`presence`] (one user with
//! thousands of online watchers changing state) and [`typing`] (typing
//! indicators of many users), with [`rest`] (the REST calls and
//! `/metrics` the client crate lacks) and [`counters`] (Redis, Postgres
//! and gateway counters around a window, as costs per event).
//!
//! `passerelle-loadgen blobs` measures the blob store instead: PUT and GET
//! throughput and latency of one object size at one concurrency, with
//! capabilities it signs itself, or plain against a static file server as
//! a baseline ([`blobs`], [`blob_summary`]; driven by
//! `scripts/bench-blobs.sh`).

mod blob_summary;
mod blobs;
mod cli;
mod clock;
mod counters;
mod presence;
mod print;
mod procstat;
mod report;
mod rest;
mod run;
mod session;
mod setup;
mod summary;
mod traffic;
mod typing;

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Run(args) => match args.validate() {
            Ok(plan) => run_scenario(plan).await,
            Err(e) => Err(e),
        },
        cli::Command::Blobs(args) => {
            return match blobs::run(*args).await {
                Ok(true) => std::process::ExitCode::SUCCESS,
                Ok(false) => {
                    eprintln!("passerelle-loadgen: some requests failed (see above)");
                    std::process::ExitCode::from(2)
                }
                Err(e) => {
                    eprintln!("passerelle-loadgen: {e}");
                    std::process::ExitCode::FAILURE
                }
            };
        }
        cli::Command::BlobKeys { dir } => return exit(blobs::write_keys(&dir)),
        cli::Command::BlobSummary {
            ours,
            baseline,
            files,
        } => return exit(blob_summary::print(&ours, &baseline, &files)),
        cli::Command::Summary { files } => {
            return match summary::print(&files) {
                Ok(()) => std::process::ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("passerelle-loadgen: {e}");
                    std::process::ExitCode::FAILURE
                }
            };
        }
    };
    match result {
        Ok(None) => std::process::ExitCode::SUCCESS,
        Ok(Some(healthy)) => {
            if healthy {
                std::process::ExitCode::SUCCESS
            } else {
                eprintln!(
                    "passerelle-loadgen: lost or duplicate deliveries or frames, or errors (see above)"
                );
                std::process::ExitCode::from(2)
            }
        }
        Err(e) => {
            eprintln!("passerelle-loadgen: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Runs the scenario of `plan`: whether it was healthy, `None` when it
/// only registered accounts.
async fn run_scenario(plan: cli::Plan) -> Result<Option<bool>, String> {
    match plan.scenario {
        cli::Scenario::Messages => Ok(run::run(plan).await?.map(|r| r.healthy())),
        cli::Scenario::Presence(p) => {
            let report = presence::run(&plan, p).await?;
            report.print();
            write_json(&plan, &report)?;
            Ok(Some(report.healthy()))
        }
        cli::Scenario::Typing(t) => {
            let report = typing::run(&plan, t).await?;
            report.print();
            write_json(&plan, &report)?;
            Ok(Some(report.healthy()))
        }
    }
}

fn write_json(plan: &cli::Plan, report: &impl serde::Serialize) -> Result<(), String> {
    let Some(path) = &plan.json else {
        return Ok(());
    };
    let text = serde_json::to_string_pretty(report).map_err(|e| e.to_string())?;
    std::fs::write(path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))
}

fn exit(result: Result<(), String>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("passerelle-loadgen: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
