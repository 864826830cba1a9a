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
    /// Direct messages as end-to-end encrypted clients send them: each
    /// carries `deviceEntries`, one per addressed device (every device of
    /// the recipient and the sender's other devices, at their registration
    /// numbers), each naming a blob granted to the sender at setup. Checks
    /// that every delivery carries the receiving device's own entry.
    #[arg(long)]
    pub per_device: bool,
    /// Presence scenario: one "star" user with this many watchers (users
    /// who have the star as a contact), every watcher online; the star
    /// changes state `--presence-rounds` times over and the report gives
    /// the time until the last watcher heard each change (0 = off).
    #[arg(long, default_value_t = 0)]
    pub presence: usize,
    /// Presence rounds; each is four changes: the star connects (online),
    /// says `away`, says `online`, and closes (offline after the grace).
    #[arg(long, default_value_t = 20)]
    pub presence_rounds: usize,
    /// The gateways' `presence.offline_grace_ms` (reported next to the
    /// offline latency, which includes it; also bounds the wait).
    #[arg(long, default_value_t = 5000)]
    pub presence_grace_ms: u64,
    /// Seconds of quiet before the rounds, measured to subtract the
    /// servers' background work (sweeps, heartbeats) from the per-change
    /// costs.
    #[arg(long, default_value_t = 10.0)]
    pub baseline: f64,
    /// Typing scenario: this many users, each in one conversation of
    /// `--typing-group` members, each sending `typing started` every
    /// `--typing-interval-ms` for `--duration` seconds (0 = off).
    #[arg(long, default_value_t = 0)]
    pub typing: usize,
    /// Members per conversation in the typing scenario: 2 makes direct
    /// conversations, more makes groups (at most 200, the default
    /// `typing.max_members`).
    #[arg(long, default_value_t = 2)]
    pub typing_group: usize,
    /// Period of each user's `typing started` (clients are told to repeat
    /// it about every 3 s; the server relays at most one per second per
    /// session and conversation, so below 1000 frames are dropped).
    #[arg(long, default_value_t = 3000)]
    pub typing_interval_ms: u64,
    /// Redis to read `INFO` counters from around the measured window
    /// (presence and typing scenarios; loopback only).
    #[arg(long)]
    pub redis_url: Option<String>,
    /// The gateways' Postgres database, to read `pg_stat_database` from
    /// around the measured window (presence and typing; loopback only).
    #[arg(long)]
    pub pg_url: Option<String>,
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
    /// Direct messages with one `deviceEntries` entry per addressed device.
    pub per_device: bool,
    /// What the run measures.
    pub scenario: Scenario,
    /// Where server-side counters are read from (presence and typing).
    pub redis_url: Option<String>,
    pub pg_url: Option<String>,
    /// Quiet time measured before the presence rounds.
    pub baseline: Duration,
}

/// The scenario of a run: messages (direct or `--group`, the default),
/// presence, or typing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    Messages,
    Presence(PresencePlan),
    Typing(TypingPlan),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PresencePlan {
    pub watchers: usize,
    pub rounds: usize,
    pub grace: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypingPlan {
    pub users: usize,
    pub group: usize,
    pub interval: Duration,
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
        let scenario = self.scenario(shard)?;
        self.check_per_device(scenario)?;
        for (name, url) in [("--redis-url", &self.redis_url), ("--pg-url", &self.pg_url)] {
            if let Some(u) = url {
                check_service_url(name, u)?;
            }
        }
        if !(self.rate >= 0.0 && self.rate <= 1_000_000.0) {
            return Err("--rate: 0 to 1,000,000 messages/s".into());
        }
        for (name, v) in [
            ("--duration", self.duration),
            ("--warmup", self.warmup),
            ("--drain", self.drain),
            ("--hold", self.hold),
            ("--baseline", self.baseline),
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
        if self.rate > 0.0 && users < 2 && scenario == Scenario::Messages {
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
            per_device: self.per_device,
            scenario,
            redis_url: self.redis_url,
            pg_url: self.pg_url,
            baseline: Duration::from_secs_f64(self.baseline),
        })
    }

    /// `--per-device` goes with the direct-message scenario only. Whether a
    /// `--idle-tokens` file has registration numbers is only known once it
    /// is read (see [`crate::setup::Population::registrations`]).
    fn check_per_device(&self, scenario: Scenario) -> Result<(), String> {
        if !self.per_device {
            return Ok(());
        }
        if self.group {
            return Err(
                "--per-device: direct messages only (a group's messages are not per-device here)"
                    .into(),
            );
        }
        match scenario {
            Scenario::Messages => Ok(()),
            Scenario::Presence(_) => {
                Err("--per-device: direct messages only, not with --presence".into())
            }
            Scenario::Typing(_) => {
                Err("--per-device: direct messages only, not with --typing".into())
            }
        }
    }

    /// The scenario the flags ask for; at most one of `--group`,
    /// `--presence` and `--typing`, none of them sharded.
    fn scenario(&self, shard: (usize, usize)) -> Result<Scenario, String> {
        let chosen = [self.group, self.presence > 0, self.typing > 0];
        if chosen.iter().filter(|c| **c).count() > 1 {
            return Err("--group, --presence and --typing are separate scenarios".into());
        }
        if (self.presence > 0 || self.typing > 0) && shard.1 != 1 {
            return Err("--presence and --typing run in one process (no --shard)".into());
        }
        if (self.presence > 0 || self.typing > 0) && self.idle_sessions > 0 {
            return Err("--presence and --typing take no --idle-sessions".into());
        }
        if self.presence > 0 {
            if self.presence + 1 > MAX_SESSIONS_PER_PROCESS {
                return Err(format!(
                    "--presence: at most {} watchers in one process",
                    MAX_SESSIONS_PER_PROCESS - 1
                ));
            }
            if self.presence_rounds == 0 || self.presence_rounds > 1000 {
                return Err("--presence-rounds: 1 to 1000".into());
            }
            if self.presence_grace_ms > 600_000 {
                return Err("--presence-grace-ms: at most 600000".into());
            }
            return Ok(Scenario::Presence(PresencePlan {
                watchers: self.presence,
                rounds: self.presence_rounds,
                grace: Duration::from_millis(self.presence_grace_ms),
            }));
        }
        if self.typing > 0 {
            if self.typing > MAX_SESSIONS_PER_PROCESS {
                return Err(format!(
                    "--typing: at most {MAX_SESSIONS_PER_PROCESS} users in one process"
                ));
            }
            if !(2..=200).contains(&self.typing_group) {
                return Err("--typing-group: 2 to 200 members".into());
            }
            if !self.typing.is_multiple_of(self.typing_group) {
                return Err("--typing: a multiple of --typing-group".into());
            }
            if !(100..=60_000).contains(&self.typing_interval_ms) {
                return Err("--typing-interval-ms: 100 to 60000".into());
            }
            if self.duration <= 0.0 {
                return Err("--typing: needs a --duration".into());
            }
            return Ok(Scenario::Typing(TypingPlan {
                users: self.typing,
                group: self.typing_group,
                interval: Duration::from_millis(self.typing_interval_ms),
            }));
        }
        Ok(Scenario::Messages)
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

/// Accepts `redis://` or `postgres://` URLs whose host is loopback
/// (`user@` and a path allowed).
fn check_service_url(name: &str, url: &str) -> Result<(), String> {
    let rest = ["redis://", "postgres://", "postgresql://"]
        .iter()
        .find_map(|p| url.strip_prefix(p))
        .ok_or_else(|| format!("{name}: expected redis:// or postgres://"))?;
    let authority = rest.split('/').next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    check_url(&format!("http://{host_port}")).map_err(|e| format!("{name}: {e}"))
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
    fn only_loopback_services_pass() {
        assert!(check_service_url("x", "redis://127.0.0.1:6379").is_ok());
        assert!(check_service_url("x", "postgres://postgres@127.0.0.1:5432/db").is_ok());
        assert!(check_service_url("x", "postgres://u@db.example:5432/db").is_err());
        assert!(check_service_url("x", "http://127.0.0.1").is_err());
    }

    fn plan(args: &[&str]) -> Result<Plan, String> {
        let argv = ["passerelle-loadgen", "run"].iter().chain(args);
        match Cli::try_parse_from(argv)
            .map_err(|e| e.to_string())?
            .command
        {
            Command::Run(run) => run.validate(),
            other => Err(format!("not a run: {other:?}")),
        }
    }

    #[test]
    fn per_device_is_for_direct_messages() {
        let p = plan(&["--per-device", "--users", "4", "--devices-per-user", "3"]).unwrap();
        assert!(p.per_device);
        assert_eq!(p.scenario, Scenario::Messages);
        assert!(!plan(&[]).unwrap().per_device);
        for other in [&["--group"][..], &["--presence", "10"], &["--typing", "4"]] {
            let mut args = vec!["--per-device"];
            args.extend_from_slice(other);
            let e = plan(&args).unwrap_err();
            assert!(e.starts_with("--per-device: direct messages only"), "{e}");
        }
    }

    #[test]
    fn shards_parse() {
        assert_eq!(parse_shard("1/3"), Ok((1, 3)));
        assert!(parse_shard("3/3").is_err());
        assert!(parse_shard("x").is_err());
    }
}
