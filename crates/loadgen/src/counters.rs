//! Server-side counters read around a measured window, to turn a run into
//! costs per event (per presence change, per typing frame):
//!
//! - each gateway's `passerelle_*` Prometheus counters (`GET /metrics`):
//!   presence transitions and publishes, bus publishes and deliveries;
//! - Redis `INFO`: `PUBLISH` calls and all commands (the whole server, so
//!   other clients of a shared Redis count too);
//! - Postgres `pg_stat_database` of the gateways' database: transactions
//!   and rows returned, fetched, inserted, updated, deleted. Backends
//!   report their statistics when idle, at most once a second, so a
//!   snapshot taken right after a burst lags: [`settle`] first.
//!
//! A [`Snapshot`] is a flat map `source.counter → value`; [`delta`] of two
//! is what happened between them. A source that cannot be read is left out
//! (and said so once on stderr), never fatal: the run's own checks matter
//! more than its cost accounting.

use std::collections::BTreeMap;
use std::time::Duration;

use diesel::pg::PgConnection;
use diesel::sql_types::BigInt;
use diesel::{Connection, QueryableByName, RunQueryDsl};

use serde::Serialize;

use crate::procstat::{self, Sample, Target};
use crate::rest::Rest;

/// Counter name → value, e.g. `redis.publish` or `gateway1.passerelle_presence_publishes_total`.
pub type Snapshot = BTreeMap<String, f64>;

/// Long enough for every Postgres backend to report its statistics (they
/// do when idle, at most once per second).
const PG_STATS_DELAY: Duration = Duration::from_millis(1500);

/// Where counters come from.
#[derive(Debug, Clone)]
pub struct Sources {
    pub gateways: Vec<Rest>,
    pub redis_url: Option<String>,
    pub pg_url: Option<String>,
}

/// Waits until the servers' own statistics caught up with what happened.
pub async fn settle(sources: &Sources) {
    if sources.pg_url.is_some() {
        tokio::time::sleep(PG_STATS_DELAY).await;
    }
}

/// Reads every source once.
pub async fn snapshot(sources: &Sources) -> Snapshot {
    let mut out = Snapshot::new();
    for (i, g) in sources.gateways.iter().enumerate() {
        match g.counters().await {
            Ok(m) => {
                for (k, v) in m {
                    out.insert(format!("gateway{}.{k}", i + 1), v);
                }
            }
            Err(e) => eprintln!("warning: gateway{} /metrics: {e}", i + 1),
        }
    }
    if let Some(url) = &sources.redis_url {
        match redis_counters(url).await {
            Ok(m) => out.extend(m),
            Err(e) => eprintln!("warning: redis INFO: {e}"),
        }
    }
    if let Some(url) = sources.pg_url.clone() {
        let read = tokio::task::spawn_blocking(move || pg_counters(&url)).await;
        match read {
            Ok(Ok(m)) => out.extend(m),
            Ok(Err(e)) => eprintln!("warning: pg_stat_database: {e}"),
            Err(e) => eprintln!("warning: pg_stat_database: {e}"),
        }
    }
    out
}

/// `after − before` for every counter of `after` (a counter first seen in
/// `after` counts from 0: Prometheus counters appear at their first
/// increment).
pub fn delta(before: &Snapshot, after: &Snapshot) -> Snapshot {
    after
        .iter()
        .map(|(k, a)| (k.clone(), a - before.get(k).copied().unwrap_or(0.0)))
        .collect()
}

async fn redis_counters(url: &str) -> Result<Snapshot, String> {
    let client = redis::Client::open(url).map_err(|e| e.to_string())?;
    let mut conn = tokio::time::timeout(
        Duration::from_secs(5),
        client.get_multiplexed_async_connection(),
    )
    .await
    .map_err(|_| "connect timed out".to_owned())?
    .map_err(|e| e.to_string())?;
    let info: String = redis::cmd("INFO")
        .arg("all")
        .query_async(&mut conn)
        .await
        .map_err(|e| e.to_string())?;
    Ok(parse_redis_info(&info))
}

/// `redis.publish` (calls of `PUBLISH`) and `redis.commands` (every
/// command processed) from `INFO all`.
fn parse_redis_info(info: &str) -> Snapshot {
    let mut out = Snapshot::new();
    for line in info.lines() {
        if let Some(v) = line.strip_prefix("total_commands_processed:") {
            if let Ok(n) = v.trim().parse() {
                out.insert("redis.commands".into(), n);
            }
        } else if let Some(rest) = line.strip_prefix("cmdstat_publish:") {
            let calls = rest
                .split(',')
                .find_map(|kv| kv.strip_prefix("calls="))
                .and_then(|n| n.trim().parse().ok());
            if let Some(n) = calls {
                out.insert("redis.publish".into(), n);
            }
        }
    }
    out.entry("redis.publish".into()).or_insert(0.0);
    out
}

#[derive(QueryableByName)]
struct DbStats {
    #[diesel(sql_type = BigInt)]
    xact_commit: i64,
    #[diesel(sql_type = BigInt)]
    tup_returned: i64,
    #[diesel(sql_type = BigInt)]
    tup_fetched: i64,
    #[diesel(sql_type = BigInt)]
    tup_inserted: i64,
    #[diesel(sql_type = BigInt)]
    tup_updated: i64,
    #[diesel(sql_type = BigInt)]
    tup_deleted: i64,
}

fn pg_counters(url: &str) -> Result<Snapshot, String> {
    let mut conn = PgConnection::establish(url).map_err(|e| e.to_string())?;
    let rows: Vec<DbStats> = diesel::sql_query(
        "SELECT xact_commit, tup_returned, tup_fetched, tup_inserted, tup_updated, tup_deleted \
         FROM pg_stat_database WHERE datname = current_database()",
    )
    .load(&mut conn)
    .map_err(|e| e.to_string())?;
    let s = rows.first().ok_or("no pg_stat_database row")?;
    Ok([
        ("pg.xact_commit", s.xact_commit),
        ("pg.tup_returned", s.tup_returned),
        ("pg.tup_fetched", s.tup_fetched),
        ("pg.tup_inserted", s.tup_inserted),
        ("pg.tup_updated", s.tup_updated),
        ("pg.tup_deleted", s.tup_deleted),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v as f64))
    .collect())
}

/// The state of everything measured at one moment: the processes' CPU
/// (sampled first) and the counters (after [`settle`]).
#[derive(Debug, Clone)]
pub struct Mark {
    at: std::time::Instant,
    cpu: Vec<Sample>,
    counters: Snapshot,
}

/// Before a quiet window: long enough for what the previous run left
/// behind (sessions closed within the default 5 s offline grace, settled
/// by the next 1 s sweep) to be over.
pub const LEFTOVERS: Duration = Duration::from_secs(7);

/// Samples CPU now, then the counters once they settled.
pub async fn mark(sources: &Sources, targets: &[Target]) -> Mark {
    let at = std::time::Instant::now();
    let cpu = procstat::sample(targets);
    settle(sources).await;
    Mark {
        at,
        cpu,
        counters: snapshot(sources).await,
    }
}

/// What a window cost per event, raw and less the background measured in
/// quiet windows around it (rates per second times the window's length).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Costs {
    pub events: u64,
    pub window_seconds: f64,
    /// Counters and `cpu.<process>` seconds per event, background removed
    /// (when quiet windows were measured).
    pub per_event: BTreeMap<String, f64>,
    /// The same, as measured.
    pub raw_per_event: BTreeMap<String, f64>,
    /// The background rates, per second: for each counter the lowest of
    /// the quiet windows' (a one-off burst in one of them, such as
    /// autovacuum or another client of a shared Redis, is not taken for
    /// background).
    pub background_per_second: BTreeMap<String, f64>,
}

/// Costs of the window `from → to` per event; `quiet` are windows without
/// events, for the background.
pub fn costs(
    targets: &[Target],
    quiet: &[(&Mark, &Mark)],
    from: &Mark,
    to: &Mark,
    events: u64,
) -> Costs {
    let totals = |a: &Mark, b: &Mark| {
        let mut d = delta(&a.counters, &b.counters);
        for (i, t) in targets.iter().enumerate() {
            if let (Some(x), Some(y)) = (a.cpu.get(i), b.cpu.get(i)) {
                d.insert(format!("cpu.{}", t.name), procstat::cpu_seconds(x, y));
            }
        }
        d
    };
    let seconds = |a: &Mark, b: &Mark| b.at.saturating_duration_since(a.at).as_secs_f64();
    let window = seconds(from, to);
    let raw = totals(from, to);
    let mut background: BTreeMap<String, f64> = BTreeMap::new();
    for (a, b) in quiet {
        let s = seconds(a, b);
        if s <= 0.0 {
            continue;
        }
        for (k, v) in totals(a, b) {
            let rate = (v / s).max(0.0);
            background
                .entry(k)
                .and_modify(|r| *r = r.min(rate))
                .or_insert(rate);
        }
    }
    let n = events.max(1) as f64;
    Costs {
        events,
        window_seconds: window,
        per_event: raw
            .iter()
            .map(|(k, v)| {
                let bg = background.get(k).copied().unwrap_or(0.0) * window;
                (k.clone(), (v - bg) / n)
            })
            .collect(),
        raw_per_event: raw.iter().map(|(k, v)| (k.clone(), v / n)).collect(),
        background_per_second: background,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_info_parses() {
        let info = "# Stats\r\ntotal_commands_processed:120\r\n# Commandstats\r\n\
            cmdstat_publish:calls=42,usec=10,usec_per_call=0.2\r\ncmdstat_get:calls=3\r\n";
        let s = parse_redis_info(info);
        assert_eq!(s.get("redis.commands"), Some(&120.0));
        assert_eq!(s.get("redis.publish"), Some(&42.0));
    }

    #[test]
    fn deltas() {
        let a: Snapshot = [
            ("gateway1.x".to_owned(), 1.0),
            ("gateway2.x".to_owned(), 2.0),
        ]
        .into();
        let b: Snapshot = [
            ("gateway1.x".to_owned(), 4.0),
            ("gateway2.x".to_owned(), 7.0),
            ("redis.publish".to_owned(), 1.0),
        ]
        .into();
        let d = delta(&a, &b);
        assert_eq!(d.get("gateway1.x"), Some(&3.0));
        assert_eq!(d.get("gateway2.x"), Some(&5.0));
        assert_eq!(d.get("redis.publish"), Some(&1.0));
    }
}
