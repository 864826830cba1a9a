//! `passerelle-loadgen summary FILE...`: Markdown tables from `--json`
//! reports, one row per file (traffic, then setup and memory; `--per-device`
//! runs' entry checks, presence and typing reports get tables of their
//! own).

use std::path::PathBuf;

use serde_json::Value;

fn num(v: &Value, path: &[&str]) -> Option<f64> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_f64()
}

fn f(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "–".into(), |x| format!("{x:.digits$}"))
}

/// `name value` pairs of one process field, e.g. CPU per 1k messages.
fn per_process(r: &Value, field: &str, digits: usize) -> String {
    let Some(ps) = r.get("processes").and_then(Value::as_array) else {
        return String::new();
    };
    ps.iter()
        .filter_map(|p| {
            let name = p.get("name")?.as_str()?;
            let x = p.get(field)?.as_f64()?;
            Some(format!("{name} {x:.digits$}"))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn label(r: &Value) -> &str {
    r.get("label").and_then(Value::as_str).unwrap_or_default()
}

fn of_scenario<'a>(reports: &'a [Value], name: &str) -> Vec<&'a Value> {
    reports
        .iter()
        .filter(|r| r.get("scenario").and_then(Value::as_str) == Some(name))
        .collect()
}

/// A `costs.per_event` field (`gateway1.passerelle_…`, `pg.…`, `cpu.…`),
/// summed over the keys that match `pick`.
fn cost(r: &Value, pick: impl Fn(&str) -> bool) -> Option<f64> {
    let per = r.get("costs")?.get("per_event")?.as_object()?;
    let found: Vec<f64> = per
        .iter()
        .filter(|(k, _)| pick(k))
        .filter_map(|(_, v)| v.as_f64())
        .collect();
    (!found.is_empty()).then(|| found.iter().sum())
}

fn gateway_counter(name: &'static str) -> impl Fn(&str) -> bool {
    move |k: &str| k.starts_with("gateway") && k.split_once('.').is_some_and(|(_, n)| n == name)
}

/// CPU per event of each process, `name value` pairs.
fn cpu_costs(r: &Value, scale: f64, digits: usize) -> String {
    let Some(per) = r
        .get("costs")
        .and_then(|c| c.get("per_event"))
        .and_then(Value::as_object)
    else {
        return String::new();
    };
    per.iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("cpu.")?, v.as_f64()?)))
        .map(|(k, v)| format!("{k} {:.digits$}", v * scale))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The entry checks of `--per-device` runs.
fn per_device_table(reports: &[Value]) {
    let rows: Vec<&Value> = reports
        .iter()
        .filter(|r| r.get("traffic").and_then(|t| t.get("per_device")).is_some())
        .collect();
    if rows.is_empty() {
        return;
    }
    println!();
    println!(
        "| per-device scenario | entries per msg | device_mismatch | deliveries with their entry | entry missing | entry wrong |"
    );
    println!("|---|---|---|---|---|---|");
    for r in rows {
        let d = |k: &str| num(r, &["traffic", "per_device", k]);
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            label(r),
            f(d("entries_per_message"), 2),
            f(d("device_mismatch"), 0),
            f(d("entries_ok"), 0),
            f(d("entries_missing"), 0),
            f(d("entries_wrong"), 0),
        );
    }
}

fn presence_table(reports: &[Value]) {
    let rows = of_scenario(reports, "presence");
    if rows.is_empty() {
        return;
    }
    println!();
    println!(
        "| presence scenario | watchers | change | n | last watcher has it p50 / p99 / max (ms) | lost | dup |"
    );
    println!("|---|---|---|---|---|---|---|");
    for r in &rows {
        let changes = r.get("by_change").and_then(Value::as_array);
        for c in changes.into_iter().flatten() {
            println!(
                "| {} | {} | {} | {} | {} / {} / {} | {} | {} |",
                label(r),
                f(num(r, &["watchers"]), 0),
                c.get("name").and_then(Value::as_str).unwrap_or_default(),
                f(num(c, &["count"]), 0),
                f(num(c, &["last_watcher_ms", "p50"]), 1),
                f(num(c, &["last_watcher_ms", "p99"]), 1),
                f(num(c, &["last_watcher_ms", "max"]), 1),
                f(num(r, &["lost"]), 0),
                f(num(r, &["duplicates"]), 0),
            );
        }
    }
    println!();
    println!(
        "| presence scenario | per change: presence publishes | bus publishes | Redis PUBLISH | Redis commands | Postgres xacts | rows returned + fetched | CPU ms |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            label(r),
            f(
                cost(r, gateway_counter("passerelle_presence_publishes_total")),
                2
            ),
            f(
                cost(r, gateway_counter("passerelle_fanout_published_total")),
                2
            ),
            f(cost(r, |k| k == "redis.publish"), 2),
            f(cost(r, |k| k == "redis.commands"), 1),
            f(cost(r, |k| k == "pg.xact_commit"), 1),
            f(
                cost(r, |k| k == "pg.tup_returned" || k == "pg.tup_fetched"),
                0
            ),
            cpu_costs(r, 1000.0, 1),
        );
    }
}

fn typing_table(reports: &[Value]) {
    let rows = of_scenario(reports, "typing");
    if rows.is_empty() {
        return;
    }
    println!();
    println!(
        "| typing scenario | users | members | every (ms) | sent/s | received/s | lost | dup | latency p50 / p99 / max (ms) | received per gateway CPU-second | CPU % of a core | per frame sent: bus publishes, Redis PUBLISH, Postgres xacts |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        let pairs = |field: &str| {
            r.get(field)
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| Some(format!("{k} {:.0}", v.as_f64()?)))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default()
        };
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} / {} / {} | {} | {} | {}, {}, {} |",
            label(r),
            f(num(r, &["users"]), 0),
            f(num(r, &["members"]), 0),
            f(num(r, &["interval_ms"]), 0),
            f(num(r, &["sent_per_sec"]), 0),
            f(num(r, &["received_per_sec"]), 0),
            f(num(r, &["lost"]), 0),
            f(num(r, &["duplicates"]), 0),
            f(num(r, &["latency_ms", "p50"]), 1),
            f(num(r, &["latency_ms", "p99"]), 1),
            f(num(r, &["latency_ms", "max"]), 1),
            pairs("received_per_gateway_cpu_second"),
            pairs("cpu_percent"),
            f(
                cost(r, gateway_counter("passerelle_fanout_published_total")),
                2
            ),
            f(cost(r, |k| k == "redis.publish"), 2),
            f(cost(r, |k| k == "pg.xact_commit"), 2),
        );
    }
}

/// Prints the tables; unreadable files are reported and skipped.
pub fn print(files: &[PathBuf]) -> Result<(), String> {
    let mut reports = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        match serde_json::from_str::<Value>(&text) {
            Ok(v) => reports.push(v),
            Err(e) => eprintln!("not summarised, unreadable: {}: {e}", path.display()),
        }
    }
    println!(
        "| scenario | offered msg/s | achieved msg/s | deliveries/s | lost | dup | delivery p50 / p99 / p99.9 / max (ms) | send→sent p50 / p99 (ms) | CPU % of a core | CPU s per 1k msgs |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for r in reports
        .iter()
        .filter(|r| r.get("traffic").is_some_and(|t| !t.is_null()))
    {
        let t = |p: &[&str]| {
            let mut path = vec!["traffic"];
            path.extend_from_slice(p);
            num(r, &path)
        };
        println!(
            "| {} | {} | {} | {} | {} | {} | {} / {} / {} / {} | {} / {} | {} | {} |",
            r.get("label").and_then(Value::as_str).unwrap_or_default(),
            f(t(&["offered_msgs_per_sec"]), 0),
            f(t(&["achieved_msgs_per_sec"]), 0),
            f(t(&["achieved_deliveries_per_sec"]), 0),
            f(t(&["lost"]), 0),
            f(t(&["duplicates"]), 0),
            f(t(&["delivery_ms", "p50"]), 1),
            f(t(&["delivery_ms", "p99"]), 1),
            f(t(&["delivery_ms", "p999"]), 1),
            f(t(&["delivery_ms", "max"]), 1),
            f(t(&["sent_ms", "p50"]), 1),
            f(t(&["sent_ms", "p99"]), 1),
            per_process(r, "cpu_percent", 0),
            per_process(r, "cpu_seconds_per_1k_msgs", 3),
        );
    }
    let groups: Vec<&Value> = reports
        .iter()
        .filter(|r| num(r, &["traffic", "completion_ms", "count"]).is_some())
        .collect();
    if !groups.is_empty() {
        println!();
        println!(
            "| group scenario | members | msg/s | frames out/s | last member has it p50 / p99 / max (ms) | frames out per CPU-second |"
        );
        println!("|---|---|---|---|---|---|");
        for r in groups {
            let t = |p: &[&str]| {
                let mut path = vec!["traffic"];
                path.extend_from_slice(p);
                num(r, &path)
            };
            println!(
                "| {} | {} | {} | {} | {} / {} / {} | {} |",
                r.get("label").and_then(Value::as_str).unwrap_or_default(),
                f(num(r, &["users"]), 0),
                f(t(&["achieved_msgs_per_sec"]), 0),
                f(t(&["achieved_deliveries_per_sec"]), 0),
                f(t(&["completion_ms", "p50"]), 1),
                f(t(&["completion_ms", "p99"]), 1),
                f(t(&["completion_ms", "max"]), 1),
                per_process(r, "deliveries_per_cpu_second", 0),
            );
        }
    }
    per_device_table(&reports);
    presence_table(&reports);
    typing_table(&reports);
    println!();
    println!(
        "| scenario | sessions | handshakes/s | connect→ready p50 / p99 (ms) | CPU s per 1k handshakes | idle sessions | idle RSS KiB per session | RSS MiB at end |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for r in reports.iter().filter(|r| r.get("scenario").is_none()) {
        let s = |p: &str| num(r, &["setup", p]);
        println!(
            "| {} | {} | {} | {} / {} | {} | {} | {} | {} |",
            r.get("label").and_then(Value::as_str).unwrap_or_default(),
            f(s("sessions"), 0),
            f(s("handshakes_per_sec"), 0),
            f(num(r, &["setup", "handshake_ms", "p50"]), 1),
            f(num(r, &["setup", "handshake_ms", "p99"]), 1),
            per_process(r, "cpu_seconds_per_1k_handshakes", 2),
            f(s("idle_sessions"), 0),
            per_process(r, "idle_rss_kib_per_session", 1),
            per_process(r, "rss_mib", 0),
        );
    }
    Ok(())
}
