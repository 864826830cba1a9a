//! The command line and its checks: [`RunArgs`] as typed, [`Plan`] once
//! validated (loopback-only targets, sane bounds, shard split).

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::procstat::Target;

/// Most sessions one process opens: each is a file descriptor, and a
/// process may open at most 20,000 files here (some are kept spare).
pub const MAX_SESSIONS_PER_PROCESS: usize = 19_000;
/// Longest measured window accepted, so that every run ends by itself.
const MAX_SECONDS: f64 = 3_600.0;

#[derive(Debug, Parser)]
#[command(
    name = "passerelle-loadgen",
    version,
    about = "Open-loop load generator for Passerelle (loopback only)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Register users, open sessions, send at a fixed rate, report.
    Run(Box<RunArgs>),
    /// Print Markdown tables from `--json` reports.
    Summary { files: Vec<PathBuf> },
    /// Blob store throughput: PUT then GET of one object size (or, without
    /// `--key`, of a plain static file server, as a baseline).
    Blobs(Box<crate::blobs::BlobArgs>),
    /// Write a fresh Ed25519 key for `blobs --key` (DIR/key.pem) and its
    /// public JWKS for the blob store (DIR/jwks.json).
    BlobKeys { dir: PathBuf },
    /// One Markdown table of `blobs --json` reports: ours against a baseline.
    BlobSummary {
        /// The label of the blob store's reports.
        #[arg(long, default_value = "blobstore")]
        ours: String,
        /// The label of the baseline's reports.
        #[arg(long, default_value = "nginx")]
        baseline: String,
        files: Vec<PathBuf>,
    },
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Gateway base URL(s), comma-separated; sessions go round-robin by
    /// device, so a user's devices spread over the nodes.
    #[arg(long, value_delimiter = ',', default_value = "http://127.0.0.1:8080")]
    pub url: Vec<String>,
    /// Users (of this shard's whole set, before the shard split).
    #[arg(long, default_value_t = 10)]
    pub users: usize,
    #[arg(long, default_value_t = 2)]
    pub devices_per_user: usize,
    /// Messages per second, in total for this process (0 = no traffic:
    /// setup and handshakes only).
    #[arg(long, default_value_t = 100.0)]
    pub rate: f64,
    /// Seconds of measured traffic.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Seconds of traffic before the measured window (not in latencies).
    #[arg(long, default_value_t = 0.0)]
    pub warmup: f64,
    /// Recipient users per message: the protocol's direct messages have
    /// exactly one, so only 1 is accepted.
    #[arg(long, default_value_t = 1)]
    pub recipients: usize,
    /// Cumulative ack period per session in ms (0 = never ack).
    #[arg(long, default_value_t = 100)]
    pub ack_interval_ms: u64,
    /// Send every message to one group of all `--users` (the first user
    /// creates it and adds the others) instead of direct messages; reports
    /// the time until the last member device has each message.
    #[arg(long)]
    pub group: bool,
    /// Extra sessions (one new user each) that only resume and stay idle.
    #[arg(long, default_value_t = 0)]
    pub idle_sessions: usize,
    /// Loopback source addresses, comma-separated, used round-robin.
    #[arg(long, value_delimiter = ',')]
    pub source_addrs: Vec<IpAddr>,
    /// Registrations and handshakes in flight at once.
    #[arg(long, default_value_t = 64)]
    pub connect_concurrency: usize,
    /// Seconds to wait for stragglers after the last send.
    #[arg(long, default_value_t = 10.0)]
    pub drain: f64,
    /// Write the report as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// `name=PID` (or `name=PID+PID...`, summed) of server processes to
    /// account CPU and RSS for.
    #[arg(long = "server-pid")]
    pub server_pid: Vec<String>,
    /// `name=COMM`: every process whose /proc/*/comm is COMM, summed
    /// (e.g. `postgres=postgres`).
    #[arg(long = "cpu-pattern")]
    pub cpu_pattern: Vec<String>,
    /// Seconds to keep every session open after the traffic (for outside
    /// measurements, e.g. of several shards at once).
    #[arg(long, default_value_t = 0.0)]
    pub hold: f64,
    /// Register the idle accounts, write their tokens to this file, exit.
    #[arg(long)]
    pub register_only: Option<PathBuf>,
    /// Open the idle sessions with the devices of this `--register-only`
    /// file instead of registering (e.g. on a restarted gateway, so that
    /// registration's memory does not hide the sessions' own).
    #[arg(long, conflicts_with = "register_only")]
    pub idle_tokens: Option<PathBuf>,
    /// `i/n`: this process owns users i, i+n, ... (0-based).
    #[arg(long)]
    pub shard: Option<String>,
    /// A free-form label copied into the report.
    #[arg(long, default_value = "")]
    pub label: String,
}

/// Validated settings of one run.
#[derive(Debug, Clone)]
pub struct Plan {
    pub urls: Vec<String>,
    /// Users this process owns (after the shard split).
    pub users: usize,
    pub devices_per_user: usize,
    pub rate: f64,
    pub duration: Duration,
    pub warmup: Duration,
    pub ack_interval: Option<Duration>,
    pub idle_sessions: usize,
    pub source_addrs: Vec<IpAddr>,
    pub connect_concurrency: usize,
    pub drain: Duration,
    pub hold: Duration,
    pub register_only: Option<PathBuf>,
    pub idle_tokens: Option<PathBuf>,
    pub json: Option<PathBuf>,
    pub targets: Vec<Target>,
    pub shard: (usize, usize),
    pub label: String,
    /// Every message to one group of all the users.
    pub group: bool,
}

impl RunArgs {
    /// Checks every argument; the error says which one is wrong.
    pub fn validate(self: Box<Self>) -> Result<Plan, String> {
        if self.url.is_empty() {
            return Err("--url: at least one URL".into());
        }
        for u in &self.url {
            check_url(u)?;
        }
        for a in &self.source_addrs {
            if !a.is_loopback() {
                return Err(format!("--source-addrs: {a} is not a loopback address"));
            }
        }
        let shard = match &self.shard {
            None => (0, 1),
            Some(s) => parse_shard(s)?,
        };
        if self.recipients != 1 {
            return Err("--recipients: a direct message has exactly one recipient user".into());
        }
        if self.group && shard.1 != 1 {
            return Err("--group: one process owns the group (no --shard)".into());
        }
        if !(self.rate >= 0.0 && self.rate <= 1_000_000.0) {
            return Err("--rate: 0 to 1,000,000 messages/s".into());
        }
        for (name, v) in [
            ("--duration", self.duration),
            ("--warmup", self.warmup),
            ("--drain", self.drain),
            ("--hold", self.hold),
        ] {
            if !(0.0..=MAX_SECONDS).contains(&v) {
                return Err(format!("{name}: 0 to {MAX_SECONDS} seconds"));
            }
        }
        if self.devices_per_user == 0 || self.devices_per_user > 4 {
            return Err("--devices-per-user: 1 to 4 (the server's per-device session cap is per device, logins make devices)".into());
        }
        let users = (0..self.users).filter(|u| u % shard.1 == shard.0).count();
        let idle = (0..self.idle_sessions)
            .filter(|u| u % shard.1 == shard.0)
            .count();
        if self.rate > 0.0 && users < 2 {
            return Err("--users: a shard needs at least 2 users to send messages".into());
        }
        let sessions = users * self.devices_per_user + idle;
        if sessions > MAX_SESSIONS_PER_PROCESS && self.register_only.is_none() {
            return Err(format!(
                "{sessions} sessions in one process; at most {MAX_SESSIONS_PER_PROCESS}: split with --shard"
            ));
        }
        if self.connect_concurrency == 0 || self.connect_concurrency > 4096 {
            return Err("--connect-concurrency: 1 to 4096".into());
        }
        let mut targets = Vec::new();
        for s in &self.server_pid {
            targets.push(Target::parse_pid(s)?);
        }
        for s in &self.cpu_pattern {
            targets.push(Target::parse_comm(s)?);
        }
        Ok(Plan {
            urls: self.url,
            users,
            devices_per_user: self.devices_per_user,
            rate: self.rate,
            duration: Duration::from_secs_f64(self.duration),
            warmup: Duration::from_secs_f64(self.warmup),
            ack_interval: (self.ack_interval_ms > 0)
                .then(|| Duration::from_millis(self.ack_interval_ms)),
            idle_sessions: idle,
            source_addrs: self.source_addrs,
            connect_concurrency: self.connect_concurrency,
            drain: Duration::from_secs_f64(self.drain),
            hold: Duration::from_secs_f64(self.hold),
            register_only: self.register_only,
            idle_tokens: self.idle_tokens,
            json: self.json,
            targets,
            shard,
            label: self.label,
            group: self.group,
        })
    }
}

fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let bad = || format!("--shard: expected i/n with 0 <= i < n, got {s:?}");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let i: usize = i.trim().parse().map_err(|_| bad())?;
    let n: usize = n.trim().parse().map_err(|_| bad())?;
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

/// Accepts `http://HOST[:PORT][/path]` with HOST `localhost`, an address in
/// 127.0.0.0/8, or `[::1]`.
pub(crate) fn check_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("--url: {url:?} must start with http://"))?;
    let authority = rest.split('/').next().unwrap_or_default();
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    let loopback = host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if loopback {
        Ok(())
    } else {
        Err(format!("--url: {host:?} is not a loopback host; refusing"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_urls_pass() {
        assert!(check_url("http://127.0.0.1:8080").is_ok());
        assert!(check_url("http://127.9.9.9/x").is_ok());
        assert!(check_url("http://[::1]:80").is_ok());
        assert!(check_url("http://localhost:1").is_ok());
        assert!(check_url("http://10.0.0.1:8080").is_err());
        assert!(check_url("http://example.com").is_err());
        assert!(check_url("https://127.0.0.1").is_err());
        assert!(check_url("http://127.0.0.1.evil.com").is_err());
    }

    #[test]
    fn shards_parse() {
        assert_eq!(parse_shard("1/3"), Ok((1, 3)));
        assert!(parse_shard("3/3").is_err());
        assert!(parse_shard("x").is_err());
    }
}
