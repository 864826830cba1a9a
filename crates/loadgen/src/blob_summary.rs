//! `passerelle-loadgen blob-summary --ours LABEL --baseline LABEL FILE...`:
//! one Markdown table from `blobs --json` reports, pairing each run of the
//! blob store with the baseline's run of the same object size and
//! concurrency, with the ratio of their throughputs.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

/// A phase of one report: (size, concurrency, op) → its fields.
type Key = (u64, u64, String);

fn size_name(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} B")
    }
}

fn num(v: &Value, key: &str) -> f64 {
    v.get(key).and_then(Value::as_f64).unwrap_or(f64::NAN)
}

/// CPU of the first server process (after `loadgen`), in % of one core.
fn server_cpu(phase: &Value) -> String {
    let secs = num(phase, "seconds");
    phase
        .get("cpu_seconds")
        .and_then(Value::as_array)
        .and_then(|a| a.get(1))
        .and_then(|pair| pair.get(1))
        .and_then(Value::as_f64)
        .map_or_else(|| "–".into(), |cpu| format!("{:.0}", 100.0 * cpu / secs))
}

fn cell(phase: Option<&Value>) -> [String; 4] {
    match phase {
        None => ["–".into(), "–".into(), "–".into(), "–".into()],
        Some(p) => [
            format!("{:.0}", num(p, "requests_per_sec")),
            format!("{:.1}", num(p, "mib_per_sec")),
            format!("{:.2} / {:.2}", num(p, "p50_ms"), num(p, "p99_ms")),
            server_cpu(p),
        ],
    }
}

/// Prints the table; a file that cannot be read or parsed is an error.
pub fn print(ours: &str, baseline: &str, files: &[PathBuf]) -> Result<(), String> {
    let mut by_label: BTreeMap<String, BTreeMap<Key, Value>> = BTreeMap::new();
    for path in files {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let report: Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let label = report
            .get("label")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let size = report
            .get("size_bytes")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let conc = report
            .get("concurrency")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        for phase in report
            .get("phases")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let op = phase
                .get("op")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            by_label
                .entry(label.clone())
                .or_default()
                .insert((size, conc, op), phase.clone());
        }
    }
    let empty = BTreeMap::new();
    let a = by_label.get(ours).unwrap_or(&empty);
    let b = by_label.get(baseline).unwrap_or(&empty);
    let mut keys: Vec<&Key> = a.keys().chain(b.keys()).collect();
    // Small objects first, then by op (PUT before GET), then concurrency.
    keys.sort_by(|x, y| {
        (x.0, std::cmp::Reverse(&x.2), x.1).cmp(&(y.0, std::cmp::Reverse(&y.2), y.1))
    });
    keys.dedup();
    println!(
        "| object | op | clients | {ours} req/s | {ours} MiB/s | {ours} p50 / p99 ms | {ours} CPU % | \
         {baseline} req/s | {baseline} MiB/s | {baseline} p50 / p99 ms | {baseline} CPU % | ratio |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for key in keys {
        let (pa, pb) = (a.get(key), b.get(key));
        let ratio = match (pa, pb) {
            (Some(x), Some(y)) => {
                let r = num(x, "requests_per_sec") / num(y, "requests_per_sec");
                if r < 0.8 {
                    format!("**{r:.2}×**")
                } else {
                    format!("{r:.2}×")
                }
            }
            _ => "–".into(),
        };
        let [ar, am, al, ac] = cell(pa);
        let [br, bm, bl, bc] = cell(pb);
        println!(
            "| {} | {} | {} | {ar} | {am} | {al} | {ac} | {br} | {bm} | {bl} | {bc} | {ratio} |",
            size_name(key.0),
            key.2,
            key.1,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_named() {
        assert_eq!(size_name(4096), "4 KiB");
        assert_eq!(size_name(10 * 1024 * 1024), "10 MiB");
        assert_eq!(size_name(1000), "1000 B");
    }
}
