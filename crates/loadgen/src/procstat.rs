//! CPU and memory of other processes, from `/proc`: `utime + stime` of
//! `/proc/<pid>/stat` and `VmRSS` of `/proc/<pid>/status`.
//!
//! A [`Target`] is a named process or set of processes (`--server-pid
//! name=PID[+PID...]`, summed) or every
//! process with a given `comm` (`--cpu-pattern name=COMM`, e.g. all
//! postgres backends), summed. CPU deltas are per pid, so a backend that
//! starts during the window counts from zero.

use std::collections::BTreeMap;

/// Clock ticks per second of `/proc/<pid>/stat` times: `sysconf(_SC_CLK_TCK)`,
/// which is 100 on every Linux architecture we run on (reading it needs
/// libc and `unsafe`, which this workspace forbids).
const CLK_TCK: f64 = 100.0;

#[derive(Debug, Clone)]
pub enum Source {
    Pids(Vec<u32>),
    Comm(String),
}

/// A named set of processes to account for.
#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    pub source: Source,
}

impl Target {
    /// `name=PID`, or `name=PID+PID+...` for a sum.
    pub fn parse_pid(s: &str) -> Result<Self, String> {
        let (name, pids) = s
            .split_once('=')
            .ok_or_else(|| format!("--server-pid: expected name=PID, got {s:?}"))?;
        let pids = pids
            .split('+')
            .map(|p| {
                p.trim()
                    .parse()
                    .map_err(|_| format!("--server-pid: {p:?} is not a pid"))
            })
            .collect::<Result<Vec<u32>, String>>()?;
        Ok(Self {
            name: name.to_owned(),
            source: Source::Pids(pids),
        })
    }

    /// `name=COMM`, or `COMM` alone (named after itself).
    pub fn parse_comm(s: &str) -> Result<Self, String> {
        let (name, comm) = s.split_once('=').unwrap_or((s, s));
        if comm.is_empty() || comm.len() > 15 {
            return Err(format!("--cpu-pattern: {comm:?} is not a process name"));
        }
        Ok(Self {
            name: name.to_owned(),
            source: Source::Comm(comm.to_owned()),
        })
    }

    /// This process, as `loadgen`.
    pub fn this_process() -> Self {
        Self {
            name: "loadgen".into(),
            source: Source::Pids(vec![std::process::id()]),
        }
    }

    fn pids(&self) -> Vec<u32> {
        match &self.source {
            Source::Pids(p) => p.clone(),
            Source::Comm(c) => pids_by_comm(c),
        }
    }
}

/// CPU ticks by pid and summed RSS of one target at one moment.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    ticks: BTreeMap<u32, u64>,
    pub rss_kib: u64,
    pub processes: usize,
}

/// One [`Sample`] per target, in the targets' order.
pub fn sample(targets: &[Target]) -> Vec<Sample> {
    targets
        .iter()
        .map(|t| {
            let mut s = Sample::default();
            for pid in t.pids() {
                if let Some(ticks) = cpu_ticks(pid) {
                    s.ticks.insert(pid, ticks);
                    s.rss_kib += rss_kib(pid).unwrap_or(0);
                    s.processes += 1;
                }
            }
            s
        })
        .collect()
}

/// CPU seconds used between `before` and `after`.
pub fn cpu_seconds(before: &Sample, after: &Sample) -> f64 {
    let ticks: u64 = after
        .ticks
        .iter()
        .map(|(pid, t)| t.saturating_sub(before.ticks.get(pid).copied().unwrap_or(0)))
        .sum();
    ticks as f64 / CLK_TCK
}

fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `comm` may hold spaces and parentheses: fields start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn pids_by_comm(comm: &str) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim_end() == comm)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_measurable() {
        let s = sample(&[Target::this_process()]);
        assert_eq!(s[0].processes, 1);
        assert!(s[0].rss_kib > 0);
        assert!(cpu_seconds(&s[0], &s[0]) == 0.0);
    }

    #[test]
    fn targets_parse() {
        assert!(Target::parse_pid("gateway=12").is_ok());
        assert!(Target::parse_pid("gateway").is_err());
        assert!(Target::parse_pid("pg=1+2+3").is_ok());
        assert!(Target::parse_pid("pg=1+x").is_err());
        assert!(Target::parse_comm("postgres").is_ok());
    }
}
