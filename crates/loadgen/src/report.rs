//! The results of a run: [`Report`] (serialised as the `--json` file) and
//! its human-readable summary.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::cli::Plan;
use crate::procstat::{self, Sample, Target};
use crate::session::{ENTRY_MISSING, ENTRY_WRONG, SessionStats, Shared};
use crate::traffic::Schedule;

/// A histogram of µs from 1 µs to one hour, 3 significant figures.
pub fn new_histogram() -> Histogram<u64> {
    match Histogram::new_with_bounds(1, 3_600_000_000, 3) {
        Ok(h) => h,
        // Constant, valid bounds: this cannot happen.
        Err(e) => panic!("histogram bounds refused: {e}"),
    }
}

/// Facts gathered during setup.
#[derive(Debug, Default)]
pub struct SetupFacts {
    pub register_seconds: f64,
    pub accounts: usize,
    pub connect_seconds: f64,
    pub handshake: Option<Histogram<u64>>,
    pub handshake_cpu: Vec<f64>,
    pub idle_connect_seconds: f64,
    pub idle_handshake: Option<Histogram<u64>>,
    pub rss_before_idle: Option<Vec<Sample>>,
    pub rss_after_idle: Option<Vec<Sample>>,
}

/// CPU seconds per target between two samples.
pub fn cpu_by_target(targets: &[Target], before: &[Sample], after: &[Sample]) -> Vec<f64> {
    (0..targets.len())
        .map(|i| procstat::cpu_seconds(&before[i], &after[i]))
        .collect()
}

/// Percentiles in milliseconds.
#[derive(Debug, Serialize)]
pub struct Latency {
    pub count: u64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl Latency {
    pub fn of(h: &Histogram<u64>) -> Self {
        let ms = |us: u64| us as f64 / 1000.0;
        Self {
            count: h.len(),
            p50: ms(h.value_at_quantile(0.50)),
            p90: ms(h.value_at_quantile(0.90)),
            p99: ms(h.value_at_quantile(0.99)),
            p999: ms(h.value_at_quantile(0.999)),
            max: ms(h.max()),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Setup {
    pub accounts: usize,
    pub register_seconds: f64,
    pub sessions: u64,
    pub connect_seconds: f64,
    pub handshakes_per_sec: f64,
    /// Connect → `ready`.
    pub handshake_ms: Option<Latency>,
    pub idle_sessions: u64,
    pub idle_connect_seconds: f64,
    pub idle_handshakes_per_sec: f64,
}

#[derive(Debug, Serialize)]
pub struct Traffic {
    pub offered_msgs_per_sec: f64,
    pub dispatched: u64,
    pub dispatch_failures: u64,
    pub written: u64,
    pub write_failures: u64,
    pub sent_replies: u64,
    pub sent_duplicate_flag: u64,
    pub expected_deliveries: u64,
    pub deliveries: u64,
    pub lost: i64,
    pub duplicates: u64,
    pub own_echoes: u64,
    pub receipts: u64,
    pub acks_sent: u64,
    pub measured_messages: u64,
    pub measured_deliveries: u64,
    pub achieved_msgs_per_sec: f64,
    pub achieved_deliveries_per_sec: f64,
    pub window_seconds: f64,
    pub delivery_ms: Latency,
    /// Group runs: intended send → the last member device has it.
    pub completion_ms: Option<Latency>,
    pub sent_ms: Latency,
    /// How late the load generator itself dispatched sends.
    pub schedule_lag_ms: Latency,
    /// `--per-device` runs: the entries and their checks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_device: Option<PerDevice>,
}

/// The entries of a `--per-device` run (every count must be 0 but
/// `entries_ok`, which must equal the deliveries).
#[derive(Debug, Serialize)]
pub struct PerDevice {
    /// Entries per message sent (= deliveries due per message).
    pub entries_per_message: f64,
    /// Sends the gateway refused as not matching the directory.
    pub device_mismatch: u64,
    /// Deliveries that carried the receiving device's entry.
    pub entries_ok: u64,
    /// Deliveries without one.
    pub entries_missing: u64,
    /// Deliveries with another device's, another number's, or no blob.
    pub entries_wrong: u64,
}

#[derive(Debug, Serialize)]
pub struct Process {
    pub name: String,
    pub processes: usize,
    pub rss_mib: f64,
    pub cpu_seconds: Option<f64>,
    pub cpu_percent: Option<f64>,
    pub cpu_seconds_per_1k_msgs: Option<f64>,
    /// Measured deliveries (frames out) per CPU-second of this process.
    pub deliveries_per_cpu_second: Option<f64>,
    pub cpu_seconds_per_1k_handshakes: Option<f64>,
    pub idle_rss_delta_mib: Option<f64>,
    pub idle_rss_kib_per_session: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub label: String,
    pub urls: Vec<String>,
    pub shard: String,
    pub users: usize,
    pub devices_per_user: usize,
    pub rate: f64,
    /// Direct messages with `deviceEntries` (`--per-device`).
    pub per_device: bool,
    pub duration_s: f64,
    pub warmup_s: f64,
    pub ack_interval_ms: u64,
    pub setup: Setup,
    pub traffic: Option<Traffic>,
    pub errors: BTreeMap<String, u64>,
    pub closes: BTreeMap<String, u64>,
    pub processes: Vec<Process>,
}

type Measured = (Schedule, Vec<Sample>, Vec<Sample>, Duration);

#[allow(clippy::too_many_arguments)]
pub fn build(
    plan: &Plan,
    targets: &[Target],
    facts: SetupFacts,
    sched: Option<Measured>,
    total: &SessionStats,
    idle: &SessionStats,
    shared: &Shared,
    measure_from: u64,
) -> Report {
    let hs_count = facts.handshake.as_ref().map_or(0, Histogram::len);
    let idle_count = facts.idle_handshake.as_ref().map_or(0, Histogram::len);
    let per_sec = |n: u64, s: f64| if s > 0.0 { n as f64 / s } else { 0.0 };
    let setup = Setup {
        accounts: facts.accounts,
        register_seconds: facts.register_seconds,
        sessions: hs_count,
        connect_seconds: facts.connect_seconds,
        handshakes_per_sec: per_sec(hs_count, facts.connect_seconds),
        handshake_ms: facts.handshake.as_ref().map(Latency::of),
        idle_sessions: idle_count,
        idle_connect_seconds: facts.idle_connect_seconds,
        idle_handshakes_per_sec: per_sec(idle_count, facts.idle_connect_seconds),
    };
    let (delivery, sent_latency) = shared.latencies();
    let traffic = sched.as_ref().map(|(s, _, _, window)| {
        let span = (total.last_delivery.saturating_sub(measure_from) as f64 / 1e9)
            .max(plan.duration.as_secs_f64());
        Traffic {
            offered_msgs_per_sec: plan.rate,
            dispatched: s.dispatched,
            dispatch_failures: s.dispatch_failures,
            written: shared.written.load(Ordering::Relaxed),
            write_failures: shared.write_failures.load(Ordering::Relaxed),
            sent_replies: total.sent_replies,
            sent_duplicate_flag: total.sent_duplicate_flag,
            expected_deliveries: s.expected,
            deliveries: total.deliveries,
            lost: s.expected as i64 - (total.deliveries - total.duplicates) as i64,
            duplicates: total.duplicates,
            own_echoes: total.own_echoes,
            receipts: total.receipts,
            acks_sent: total.acks_sent,
            measured_messages: s.measured_messages,
            measured_deliveries: total.measured_deliveries,
            achieved_msgs_per_sec: per_sec(total.measured_sent, span),
            achieved_deliveries_per_sec: per_sec(total.measured_deliveries, span),
            window_seconds: window.as_secs_f64(),
            delivery_ms: Latency::of(&delivery),
            completion_ms: shared.completion().as_ref().map(Latency::of),
            sent_ms: Latency::of(&sent_latency),
            schedule_lag_ms: Latency::of(&s.lag),
            per_device: plan.per_device.then(|| {
                let count = |k: &str| total.errors.get(k).copied().unwrap_or(0);
                PerDevice {
                    entries_per_message: if s.dispatched > 0 {
                        s.expected as f64 / s.dispatched as f64
                    } else {
                        0.0
                    },
                    device_mismatch: count("device_mismatch"),
                    entries_ok: total.entries_ok,
                    entries_missing: count(ENTRY_MISSING),
                    entries_wrong: count(ENTRY_WRONG),
                }
            }),
        }
    });
    let mut errors = total.errors.clone();
    let mut closes: BTreeMap<String, u64> = BTreeMap::new();
    for st in [total, idle] {
        for (k, v) in &st.closes {
            *closes.entry(k.to_string()).or_default() += v;
        }
    }
    for (k, v) in &idle.errors {
        *errors.entry(k.clone()).or_default() += v;
    }
    let processes = targets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let now = procstat::sample(std::slice::from_ref(t));
            let cpu = sched
                .as_ref()
                .map(|(_, b, a, _)| procstat::cpu_seconds(&b[i], &a[i]));
            let measured = sched.as_ref().map_or(0, |(s, ..)| s.measured_messages);
            let window = sched.as_ref().map_or(0.0, |(.., w)| w.as_secs_f64());
            let idle_delta = match (&facts.rss_before_idle, &facts.rss_after_idle) {
                (Some(b), Some(a)) => Some(a[i].rss_kib as f64 - b[i].rss_kib as f64),
                _ => None,
            };
            Process {
                name: t.name.clone(),
                processes: now[0].processes,
                rss_mib: now[0].rss_kib as f64 / 1024.0,
                cpu_seconds: cpu,
                cpu_percent: cpu.filter(|_| window > 0.0).map(|c| 100.0 * c / window),
                cpu_seconds_per_1k_msgs: cpu
                    .filter(|_| measured > 0)
                    .map(|c| 1000.0 * c / measured as f64),
                deliveries_per_cpu_second: cpu
                    .filter(|c| *c > 0.0 && total.measured_deliveries > 0)
                    .map(|c| total.measured_deliveries as f64 / c),
                cpu_seconds_per_1k_handshakes: facts
                    .handshake_cpu
                    .get(i)
                    .filter(|_| hs_count > 0)
                    .map(|c| 1000.0 * c / hs_count as f64),
                idle_rss_delta_mib: idle_delta.map(|d| d / 1024.0),
                idle_rss_kib_per_session: idle_delta
                    .filter(|_| idle_count > 0)
                    .map(|d| d / idle_count as f64),
            }
        })
        .collect();
    Report {
        label: plan.label.clone(),
        urls: plan.urls.clone(),
        shard: format!("{}/{}", plan.shard.0, plan.shard.1),
        users: plan.users,
        devices_per_user: plan.devices_per_user,
        rate: plan.rate,
        per_device: plan.per_device,
        duration_s: plan.duration.as_secs_f64(),
        warmup_s: plan.warmup.as_secs_f64(),
        ack_interval_ms: plan.ack_interval.map_or(0, |d| d.as_millis() as u64),
        setup,
        traffic,
        errors,
        closes,
        processes,
    }
}

impl Report {
    /// No loss, no duplicates, no echoes, no refused frames, no failures.
    pub fn healthy(&self) -> bool {
        let traffic_ok = self.traffic.as_ref().is_none_or(|t| {
            t.lost == 0
                && t.duplicates == 0
                && t.own_echoes == 0
                && t.write_failures == 0
                && t.dispatch_failures == 0
                && t.sent_replies >= t.written
        });
        traffic_ok && self.errors.is_empty()
    }
}
