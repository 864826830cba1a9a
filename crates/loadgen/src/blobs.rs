//! `passerelle-loadgen blobs`: closed-loop throughput of the blob store,
//! or of any HTTP server that takes whole files by `PUT` and serves them by
//! `GET` (the baseline: nginx's WebDAV module).
//!
//! One run is one object size at one concurrency, in two phases of at most
//! `--duration` seconds each:
//!
//! 1. **PUT**: `--concurrency` clients upload fresh ids (`<prefix>-<n>`,
//!    never reused: the blob store is create-only) at
//!    `<url>/v1/blobs/<id>`, each with `x-content-sha256`, until the time or
//!    `--max-objects` is up;
//! 2. **GET**: the same clients download what was uploaded, round robin,
//!    each response read to its end and its length checked.
//!
//! With `--key`, every request carries a capability signed with that
//! Ed25519 key (the one the blob store verifies with, e.g. the
//! `jwks.json` of `passerelle-loadgen blob-keys`). Capabilities are signed
//! before each phase starts, not inside it: in production the gateway
//! signs them, not the uploader's request path. Without `--key` the
//! requests are plain (same headers otherwise), for a static file server.
//!
//! Each phase reports requests/s, MiB/s, latency percentiles (HdrHistogram,
//! µs resolution, from sending the request to the end of the response body)
//! and the CPU seconds of the processes named with `--server-pid`, and of
//! this one. Any error (a status other than 201/204 for PUT or 200 for GET,
//! a short body, a transport error) is counted and makes the run fail.
//! Loopback targets only; every run is bounded in time, objects and bytes.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Args;
use hdrhistogram::Histogram;
use passerelle_auth::KeySet;
use passerelle_auth::capability::{BlobOp, CapabilityIssuer, Grant};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::clock::Rng;
use crate::procstat::{self, Target};
use crate::report::new_histogram;

/// Largest object accepted (the blob store's default `max_blob_bytes`).
const MAX_SIZE: u64 = 100 * 1024 * 1024;
/// Most bytes one run may upload, so that a run can never fill the disk.
const MAX_UPLOAD_BYTES: u64 = 16 * 1024 * 1024 * 1024;
/// Distinct bodies (each with its own digest) the clients upload in turn.
const BODIES: usize = 4;
/// Errors printed in full; the rest are only counted.
const ERRORS_SHOWN: usize = 5;

#[derive(Debug, Clone, Args)]
pub struct BlobArgs {
    /// Server base URL (loopback only); objects live at URL/v1/blobs/ID.
    #[arg(long, default_value = "http://127.0.0.1:8090")]
    pub url: String,
    /// Ed25519 private key (PKCS#8 PEM) the blob store trusts: every
    /// request then carries a capability. Without it, plain PUT and GET.
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// The capabilities' issuer (the blob store's `capabilities.issuer`).
    #[arg(long, default_value = "passerelle")]
    pub issuer: String,
    /// Object size in bytes, or with a KiB or MiB suffix (e.g. 4KiB, 10MiB).
    #[arg(long, default_value = "4KiB")]
    pub size: String,
    /// Clients, each with one request in flight (closed loop).
    #[arg(long, default_value_t = 1)]
    pub concurrency: usize,
    /// Seconds of each phase (PUT, then GET).
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Most objects uploaded; the PUT phase ends early when they are.
    #[arg(long, default_value_t = 20_000)]
    pub max_objects: usize,
    /// Id prefix; by default a fresh one per run, so ids are never reused.
    #[arg(long)]
    pub prefix: Option<String>,
    /// `name=PID` (or `name=PID+PID...`, summed) of server processes whose
    /// CPU time to report.
    #[arg(long = "server-pid")]
    pub server_pid: Vec<String>,
    /// Write the report as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// A free-form label copied into the report (e.g. blobstore, nginx).
    #[arg(long, default_value = "")]
    pub label: String,
}

/// Validated settings of one run.
struct BlobPlan {
    url: String,
    issuer: Option<CapabilityIssuer>,
    size: u64,
    concurrency: usize,
    duration: Duration,
    max_objects: usize,
    prefix: String,
    targets: Vec<Target>,
    json: Option<PathBuf>,
    label: String,
}

impl BlobArgs {
    fn validate(self) -> Result<BlobPlan, String> {
        crate::cli::check_url(&self.url)?;
        let size = parse_size(&self.size)?;
        if size == 0 || size > MAX_SIZE {
            return Err(format!("--size: 1 byte to {} MiB", MAX_SIZE >> 20));
        }
        if self.concurrency == 0 || self.concurrency > 1024 {
            return Err("--concurrency: 1 to 1024".into());
        }
        if !(self.duration > 0.0 && self.duration <= 600.0) {
            return Err("--duration: above 0, at most 600 seconds".into());
        }
        if self.max_objects == 0 || self.max_objects > 1_000_000 {
            return Err("--max-objects: 1 to 1,000,000".into());
        }
        if size.saturating_mul(self.max_objects as u64) > MAX_UPLOAD_BYTES {
            return Err(format!(
                "--size × --max-objects is above {} GiB: lower --max-objects",
                MAX_UPLOAD_BYTES >> 30
            ));
        }
        let issuer = match &self.key {
            None => None,
            Some(path) => Some(CapabilityIssuer::new(load_key(path)?, &self.issuer)),
        };
        let prefix = match self.prefix {
            Some(p) => p,
            None => format!("lg{:x}", Rng::new(seed()).next_u64() & 0xffff_ffff),
        };
        if prefix.is_empty()
            || prefix.len() > 64
            || !prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err("--prefix: 1 to 64 of [A-Za-z0-9_-]".into());
        }
        let mut targets = vec![Target::this_process()];
        for s in &self.server_pid {
            targets.push(Target::parse_pid(s)?);
        }
        Ok(BlobPlan {
            url: self.url.trim_end_matches('/').to_owned(),
            issuer,
            size,
            concurrency: self.concurrency,
            duration: Duration::from_secs_f64(self.duration),
            max_objects: self.max_objects,
            prefix,
            targets,
            json: self.json,
            label: self.label,
        })
    }
}

/// `4096`, `4KiB`, `10MiB` (also `K`/`M`, case-insensitive).
fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim().to_ascii_lowercase();
    let (digits, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => t.split_at(i),
        None => (t.as_str(), ""),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("--size: {s:?} is not a size"))?;
    let unit = match unit {
        "" | "b" => 1,
        "k" | "kib" => 1024,
        "m" | "mib" => 1024 * 1024,
        _ => return Err(format!("--size: unknown unit in {s:?} (KiB or MiB)")),
    };
    n.checked_mul(unit)
        .ok_or_else(|| format!("--size: {s:?} is too large"))
}

fn load_key(path: &Path) -> Result<KeySet, String> {
    let pem =
        std::fs::read_to_string(path).map_err(|e| format!("--key {}: {e}", path.display()))?;
    KeySet::ed25519_from_pem(&pem, &[]).map_err(|e| format!("--key {}: {e}", path.display()))
}

fn seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    nanos ^ u64::from(std::process::id()).rotate_left(32)
}

/// `passerelle-loadgen blob-keys DIR`: a fresh Ed25519 key for a benchmark,
/// as `DIR/key.pem` (private, for `--key`) and `DIR/jwks.json` (public, for
/// the blob store's `capabilities.jwks_file`).
pub fn write_keys(dir: &Path) -> Result<(), String> {
    let pem = passerelle_auth::keys::generate_ed25519_pem().map_err(|e| e.to_string())?;
    let keys = KeySet::ed25519_from_pem(&pem, &[]).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))
    };
    write("key.pem", &pem)?;
    write("jwks.json", &keys.jwks().to_string())
}

/// One object to PUT or GET: its id, which body, and its capability.
struct Job {
    id: String,
    body: usize,
    token: Option<String>,
}

/// What the clients share during a phase.
struct Phase {
    client: reqwest::Client,
    url: String,
    bodies: Vec<(Bytes, String)>,
    size: u64,
    jobs: Vec<Job>,
    next: AtomicUsize,
    deadline: Instant,
    /// PUT: stop when the jobs are used up; GET: cycle over them.
    cycle: bool,
}

/// What one client measured.
struct ClientResult {
    latency: Histogram<u64>,
    ok: u64,
    errors: u64,
    first_errors: Vec<String>,
    /// PUT: the jobs uploaded.
    done: Vec<usize>,
}

/// One phase's results, as reported.
#[derive(Debug, Serialize)]
pub struct PhaseReport {
    pub op: &'static str,
    pub requests: u64,
    pub errors: u64,
    pub seconds: f64,
    pub requests_per_sec: f64,
    pub mib_per_sec: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// CPU seconds per target (`loadgen` first) during the phase.
    pub cpu_seconds: Vec<(String, f64)>,
}

#[derive(Debug, Serialize)]
pub struct BlobReport {
    pub label: String,
    pub url: String,
    pub capabilities: bool,
    pub size_bytes: u64,
    pub concurrency: usize,
    pub duration_secs: f64,
    pub phases: Vec<PhaseReport>,
}

/// Runs both phases; Err on a setup failure, Ok(false) if any request failed.
pub async fn run(args: BlobArgs) -> Result<bool, String> {
    let plan = args.validate()?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(plan.concurrency)
        .tcp_nodelay(true)
        .build()
        .map_err(|e| format!("HTTP client: {e}"))?;
    let bodies = make_bodies(plan.size);

    let put_jobs = (0..plan.max_objects)
        .map(|n| {
            let id = format!("{}-{n}", plan.prefix);
            let body = n % bodies.len();
            let token = sign(&plan, &id, BlobOp::Put)?;
            Ok(Job { id, body, token })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let (put, uploaded) = phase(&plan, &client, &bodies, put_jobs, false).await?;

    let mut report = BlobReport {
        label: plan.label.clone(),
        url: plan.url.clone(),
        capabilities: plan.issuer.is_some(),
        size_bytes: plan.size,
        concurrency: plan.concurrency,
        duration_secs: plan.duration.as_secs_f64(),
        phases: vec![put],
    };
    if !uploaded.is_empty() {
        let get_jobs = uploaded
            .into_iter()
            .map(|job| {
                let token = sign(&plan, &job.id, BlobOp::Get)?;
                Ok(Job { token, ..job })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let (get, _) = phase(&plan, &client, &bodies, get_jobs, true).await?;
        report.phases.push(get);
    }
    for p in &report.phases {
        print_phase(&report, p);
    }
    if let Some(path) = &plan.json {
        let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        std::fs::write(path, text).map_err(|e| format!("--json {}: {e}", path.display()))?;
    }
    Ok(report.phases.iter().all(|p| p.errors == 0))
}

/// Random bodies of `size` bytes, each with its SHA-256 in lowercase hex.
fn make_bodies(size: u64) -> Vec<(Bytes, String)> {
    let mut rng = Rng::new(seed());
    (0..BODIES)
        .map(|_| {
            let len = usize::try_from(size).unwrap_or(0);
            let mut buf = Vec::with_capacity(len + 8);
            while buf.len() < len {
                buf.extend_from_slice(&rng.next_u64().to_le_bytes());
            }
            buf.truncate(len);
            let digest = Sha256::digest(&buf);
            let hex = digest.iter().map(|b| format!("{b:02x}")).collect();
            (Bytes::from(buf), hex)
        })
        .collect()
}

/// A capability for `op` on `id` (none without `--key`). The digest is not
/// in it: uploads announce it with `x-content-sha256`, as clients do.
fn sign(plan: &BlobPlan, id: &str, op: BlobOp) -> Result<Option<String>, String> {
    let Some(issuer) = &plan.issuer else {
        return Ok(None);
    };
    let grant = Grant {
        user: uuid::Uuid::nil(),
        blob: id.to_owned(),
        op,
        // Long enough for any run (phases are at most 10 minutes).
        ttl: Duration::from_secs(3600),
        max_bytes: (op == BlobOp::Put).then_some(plan.size),
        sha256: None,
    };
    issuer
        .issue(grant)
        .map(|c| Some(c.token))
        .map_err(|e| format!("signing a capability: {e}"))
}

/// Runs one phase with `plan.concurrency` clients; returns its report and,
/// for PUT, the jobs that were uploaded.
async fn phase(
    plan: &BlobPlan,
    client: &reqwest::Client,
    bodies: &[(Bytes, String)],
    jobs: Vec<Job>,
    cycle: bool,
) -> Result<(PhaseReport, Vec<Job>), String> {
    let op = if cycle { "GET" } else { "PUT" };
    let cpu_before = procstat::sample(&plan.targets);
    let started = Instant::now();
    let shared = Arc::new(Phase {
        client: client.clone(),
        url: plan.url.clone(),
        bodies: bodies.to_vec(),
        size: plan.size,
        jobs,
        next: AtomicUsize::new(0),
        deadline: started + plan.duration,
        cycle,
    });
    let tasks: Vec<_> = (0..plan.concurrency)
        .map(|_| tokio::spawn(client_loop(Arc::clone(&shared))))
        .collect();
    let mut latency = new_histogram();
    let (mut ok, mut errors, mut done) = (0, 0, Vec::new());
    let mut shown = 0;
    for t in tasks {
        let r = t.await.map_err(|e| format!("client task: {e}"))?;
        latency
            .add(&r.latency)
            .map_err(|e| format!("histogram: {e}"))?;
        ok += r.ok;
        errors += r.errors;
        done.extend(r.done);
        for e in r.first_errors {
            if shown < ERRORS_SHOWN {
                eprintln!("{op} error: {e}");
                shown += 1;
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let cpu_after = procstat::sample(&plan.targets);
    let cpu_seconds = plan
        .targets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let s = procstat::cpu_seconds(&cpu_before[i], &cpu_after[i]);
            (t.name.clone(), s)
        })
        .collect();
    let ms = |q: f64| latency.value_at_quantile(q) as f64 / 1000.0;
    let report = PhaseReport {
        op,
        requests: ok,
        errors,
        seconds,
        requests_per_sec: ok as f64 / seconds,
        mib_per_sec: ok as f64 * plan.size as f64 / seconds / (1024.0 * 1024.0),
        p50_ms: ms(0.5),
        p90_ms: ms(0.9),
        p99_ms: ms(0.99),
        max_ms: latency.max() as f64 / 1000.0,
        cpu_seconds,
    };
    let phase = Arc::into_inner(shared).ok_or("a client task outlived its phase")?;
    let mut jobs: Vec<Option<Job>> = phase.jobs.into_iter().map(Some).collect();
    done.sort_unstable();
    let uploaded = done.into_iter().filter_map(|i| jobs[i].take()).collect();
    Ok((report, uploaded))
}

async fn client_loop(phase: Arc<Phase>) -> ClientResult {
    let mut r = ClientResult {
        latency: new_histogram(),
        ok: 0,
        errors: 0,
        first_errors: Vec::new(),
        done: Vec::new(),
    };
    while Instant::now() < phase.deadline {
        let n = phase.next.fetch_add(1, Ordering::Relaxed);
        let index = if phase.cycle {
            n % phase.jobs.len()
        } else if n < phase.jobs.len() {
            n
        } else {
            break;
        };
        let job = &phase.jobs[index];
        let t0 = Instant::now();
        let result = if phase.cycle {
            get(&phase, job).await
        } else {
            put(&phase, job).await
        };
        let us = u64::try_from(t0.elapsed().as_micros()).unwrap_or(u64::MAX);
        match result {
            Ok(()) => {
                r.ok += 1;
                r.latency.saturating_record(us.max(1));
                if !phase.cycle {
                    r.done.push(index);
                }
            }
            Err(e) => {
                r.errors += 1;
                if r.first_errors.len() < ERRORS_SHOWN {
                    r.first_errors.push(format!("{}: {e}", job.id));
                }
            }
        }
    }
    r
}

async fn put(phase: &Phase, job: &Job) -> Result<(), String> {
    let (body, digest) = &phase.bodies[job.body];
    let mut req = phase
        .client
        .put(format!("{}/v1/blobs/{}", phase.url, job.id))
        .header("content-type", "application/octet-stream")
        .header("x-content-sha256", digest.as_str())
        .body(body.clone());
    if let Some(token) = &job.token {
        req = req.bearer_auth(token);
    }
    let resp = req.send().await.map_err(|e| e.to_string())?;
    let status = resp.status();
    let text = resp.text().await.map_err(|e| e.to_string())?;
    if status.as_u16() == 201 || status.as_u16() == 204 {
        Ok(())
    } else {
        Err(format!("status {status}: {}", snippet(&text)))
    }
}

async fn get(phase: &Phase, job: &Job) -> Result<(), String> {
    let mut req = phase
        .client
        .get(format!("{}/v1/blobs/{}", phase.url, job.id));
    if let Some(token) = &job.token {
        req = req.bearer_auth(token);
    }
    let mut resp = req.send().await.map_err(|e| e.to_string())?;
    let status = resp.status();
    if status.as_u16() != 200 {
        let text = resp.text().await.unwrap_or_default();
        return Err(format!("status {status}: {}", snippet(&text)));
    }
    let mut got = 0u64;
    while let Some(chunk) = resp.chunk().await.map_err(|e| e.to_string())? {
        got += chunk.len() as u64;
    }
    if got == phase.size {
        Ok(())
    } else {
        Err(format!("{got} bytes, expected {}", phase.size))
    }
}

fn snippet(text: &str) -> String {
    text.chars().take(200).collect()
}

fn print_phase(report: &BlobReport, p: &PhaseReport) {
    let cpu = p
        .cpu_seconds
        .iter()
        .map(|(name, s)| format!("{name} {:.0}%", 100.0 * s / p.seconds))
        .collect::<Vec<_>>()
        .join(", ");
    println!(
        "{label} {op} {size} B × {c}: {n} ok, {e} errors in {s:.1} s: {rps:.0} req/s, \
         {mib:.1} MiB/s, p50 {p50:.2} ms, p99 {p99:.2} ms, max {max:.2} ms; CPU of a core: {cpu}",
        label = report.label,
        op = p.op,
        size = report.size_bytes,
        c = report.concurrency,
        n = p.requests,
        e = p.errors,
        s = p.seconds,
        rps = p.requests_per_sec,
        mib = p.mib_per_sec,
        p50 = p.p50_ms,
        p99 = p.p99_ms,
        max = p.max_ms,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("4KiB"), Ok(4096));
        assert_eq!(parse_size("10MiB"), Ok(10 * 1024 * 1024));
        assert_eq!(parse_size("2m"), Ok(2 * 1024 * 1024));
        assert!(parse_size("4GB").is_err());
        assert!(parse_size("KiB").is_err());
        assert!(parse_size("99999999999999999999MiB").is_err());
    }

    #[test]
    fn bodies_have_their_digests() {
        for (body, hex) in make_bodies(1000) {
            assert_eq!(body.len(), 1000);
            let expected: String = Sha256::digest(&body)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert_eq!(hex, expected);
        }
    }
}
