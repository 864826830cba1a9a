//! The human-readable summary of a [`Report`] on stdout.

use crate::report::{Latency, Report};

fn lat(name: &str, l: &Latency) {
    println!(
        "  {name:<22} n={:<9} p50={:>8.2} p90={:>8.2} p99={:>8.2} p99.9={:>8.2} max={:>8.2} ms",
        l.count, l.p50, l.p90, l.p99, l.p999, l.max
    );
}

impl Report {
    pub fn print(&self) {
        let s = &self.setup;
        println!(
            "== passerelle-loadgen {} (shard {})",
            self.label, self.shard
        );
        println!(
            "setup: {} accounts in {:.1}s; {} sessions in {:.2}s ({:.0} handshakes/s)",
            s.accounts, s.register_seconds, s.sessions, s.connect_seconds, s.handshakes_per_sec
        );
        if let Some(h) = &s.handshake_ms {
            lat("connect->ready", h);
        }
        if s.idle_sessions > 0 {
            println!(
                "idle: {} sessions in {:.2}s ({:.0} handshakes/s)",
                s.idle_sessions, s.idle_connect_seconds, s.idle_handshakes_per_sec
            );
        }
        if let Some(t) = &self.traffic {
            println!(
                "traffic: offered {:.0} msg/s for {:.0}s (+{:.0}s warm-up); achieved {:.0} msg/s, {:.0} deliveries/s",
                t.offered_msgs_per_sec,
                self.duration_s,
                self.warmup_s,
                t.achieved_msgs_per_sec,
                t.achieved_deliveries_per_sec
            );
            println!(
                "  sent {} (written {}, `sent` replies {}), expected deliveries {}, received {}, LOST {}, DUPLICATES {}",
                t.dispatched,
                t.written,
                t.sent_replies,
                t.expected_deliveries,
                t.deliveries,
                t.lost,
                t.duplicates
            );
            println!(
                "  receipts {}, acks sent {}, own echoes {}, write failures {}, dispatch failures {}",
                t.receipts, t.acks_sent, t.own_echoes, t.write_failures, t.dispatch_failures
            );
            if let Some(d) = &t.per_device {
                println!(
                    "  per-device: {:.2} entries/msg; device_mismatch {}, entries ok {}, MISSING {}, WRONG {}",
                    d.entries_per_message,
                    d.device_mismatch,
                    d.entries_ok,
                    d.entries_missing,
                    d.entries_wrong
                );
            }
            lat("delivery (intended->rx)", &t.delivery_ms);
            if let Some(c) = &t.completion_ms {
                lat("last member has it", c);
            }
            lat("send->sent", &t.sent_ms);
            lat("loadgen schedule lag", &t.schedule_lag_ms);
        }
        if !self.errors.is_empty() {
            println!("errors: {:?}", self.errors);
        }
        if !self.closes.is_empty() {
            println!("closes by code: {:?}", self.closes);
        }
        for p in &self.processes {
            let mut line = format!(
                "process {:<10} x{:<3} rss {:>8.1} MiB",
                p.name, p.processes, p.rss_mib
            );
            if let (Some(c), Some(pct)) = (p.cpu_seconds, p.cpu_percent) {
                line += &format!("  cpu {c:.2}s ({pct:.0}% of a core)");
            }
            if let Some(k) = p.cpu_seconds_per_1k_msgs {
                line += &format!("  {k:.3} cpu-s/1k msgs");
            }
            if let Some(k) = p.deliveries_per_cpu_second {
                line += &format!("  {k:.0} deliveries/cpu-s");
            }
            if let Some(k) = p.cpu_seconds_per_1k_handshakes {
                line += &format!("  {k:.3} cpu-s/1k handshakes");
            }
            if let Some(k) = p.idle_rss_kib_per_session {
                line += &format!("  idle: {k:.1} KiB/session");
            }
            println!("{line}");
        }
    }
}
