//! `passerelle-loadgen summary FILE...`: Markdown tables from `--json`
//! reports, one row per file (traffic, then setup and memory).

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
    println!();
    println!(
        "| scenario | sessions | handshakes/s | connect→ready p50 / p99 (ms) | CPU s per 1k handshakes | idle sessions | idle RSS KiB per session | RSS MiB at end |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for r in &reports {
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
