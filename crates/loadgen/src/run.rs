//! One run, start to end: accounts (and, for `--per-device`, a message
//! blob per user), sessions (timed as handshakes), idle sessions (with the
//! servers' RSS before and after), the scheduled traffic, the drain, and
//! the report. Every wait is bounded.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use passerelle_client::Client;
use tokio::sync::{mpsc, watch};

use crate::cli::Plan;
use crate::clock::{Clock, Rng};
use crate::procstat::{self, Target};
use crate::report::{self, Report, SetupFacts};
use crate::rest::Rest;
use crate::session::{ReaderContext, SessionStats, Shared, spawn_reader, spawn_writer};
use crate::setup::{self, SessionOptions};
use crate::traffic::{self, Mode, Timing};

/// Idle sessions opened before their readers start.
const IDLE_CHUNK: usize = 1000;

/// Time allowed for the server's RSS to settle after idle sessions open.
const SETTLE: Duration = Duration::from_secs(2);
/// Longest wait for the tasks to wind down after the run.
const WIND_DOWN: Duration = Duration::from_secs(10);

/// Runs `plan`; `None` when it only registered (`--register-only`).
pub async fn run(plan: Plan) -> Result<Option<Report>, String> {
    let clock = Clock::new();
    let seed = uuid::Uuid::new_v4().as_u64_pair().0;
    let run_tag = Rng::new(seed).next_u64() as u32;
    let prefix = format!("lg{run_tag:08x}");
    let clients: Vec<Client> = plan.urls.iter().map(|u| Client::new(u)).collect();
    let mut targets = plan.targets.clone();
    targets.push(Target::this_process());
    let (si, sn) = plan.shard;
    eprintln!(
        "loadgen {prefix}: shard {si}/{sn}, {} users x {} devices, {} idle sessions, {} msg/s for {:?} (+{:?} warm-up)",
        plan.users,
        plan.devices_per_user,
        plan.idle_sessions,
        plan.rate,
        plan.duration,
        plan.warmup
    );

    // Accounts.
    let started = Instant::now();
    let names: Vec<String> = (0..plan.users)
        .map(|k| format!("{prefix}_{}", si + k * sn))
        .collect();
    let mut pop = setup::accounts(
        &clients,
        names,
        plan.devices_per_user,
        plan.connect_concurrency,
    )
    .await?;
    let idle_names: Vec<String> = (0..plan.idle_sessions)
        .map(|k| format!("{prefix}_i{}", si + k * sn))
        .collect();
    let idle_pop = match &plan.idle_tokens {
        Some(path) => setup::load(path, clients.len(), plan.shard)?,
        None => setup::accounts(&clients, idle_names, 1, plan.connect_concurrency).await?,
    };
    if let Some(path) = &plan.register_only {
        setup::save(&idle_pop, path)?;
        eprintln!(
            "{} idle accounts written to {}",
            idle_pop.devices.len(),
            path.display()
        );
        return Ok(None);
    }
    if plan.per_device {
        pop.registrations("the gateway's register/login answers (no registrationId)")?;
        if plan.idle_tokens.is_some() {
            idle_pop.registrations(
                "the --idle-tokens file's devices (written before registration numbers: \
                 write it again with --register-only)",
            )?;
        }
        let rests: Vec<Rest> = plan.urls.iter().map(|u| Rest::new(u)).collect();
        setup::blobs(&rests, &mut pop, plan.connect_concurrency).await?;
        eprintln!("{} message blobs granted", pop.users.len());
    }
    let sessions = pop.devices.len() + idle_pop.devices.len();
    if sessions > crate::cli::MAX_SESSIONS_PER_PROCESS {
        return Err(format!(
            "{sessions} sessions in one process: split with --shard"
        ));
    }
    let mut facts = SetupFacts {
        register_seconds: started.elapsed().as_secs_f64(),
        accounts: pop.users.len() + idle_pop.users.len(),
        ..SetupFacts::default()
    };
    let group = if plan.group {
        let id = setup::group(
            &clients[0],
            &pop,
            &format!("{prefix}-all"),
            plan.connect_concurrency,
        )
        .await?;
        eprintln!("group of {} members ready", pop.users.len());
        Some(id)
    } else {
        None
    };
    eprintln!(
        "accounts ready in {:.1}s; opening sessions",
        facts.register_seconds
    );

    // Active sessions, timed as the handshake measurement.
    let opts = SessionOptions {
        source_addrs: plan.source_addrs.clone(),
        small_buffers: false,
        concurrency: plan.connect_concurrency,
    };
    let before = procstat::sample(&targets);
    let started = Instant::now();
    let (sessions, hs) = setup::sessions(&clients, &pop.devices, &opts, 0).await?;
    facts.connect_seconds = started.elapsed().as_secs_f64();
    facts.handshake = Some(hs);
    facts.handshake_cpu = report::cpu_by_target(&targets, &before, &procstat::sample(&targets));

    // Idle sessions, with the servers' RSS around them.
    let stop = watch::channel(false);
    let shared = Arc::new(if group.is_some() {
        let total = ((plan.warmup + plan.duration).as_secs_f64() * plan.rate).floor() as u64;
        Shared::with_completion(total, u32::try_from(pop.devices.len() - 1).unwrap_or(0))
    } else {
        Shared::new()
    });
    let mut ctx = ReaderContext {
        clock,
        shared: shared.clone(),
        measure_from: u64::MAX,
        stop: stop.1.clone(),
        ack_interval: None,
        stripe: 0,
        entry_for: None,
    };
    let mut idle_tasks = Vec::new();
    let mut idle_tx = Vec::new();
    if !idle_pop.devices.is_empty() {
        let idle_opts = SessionOptions {
            small_buffers: true,
            ..opts.clone()
        };
        facts.rss_before_idle = Some(procstat::sample(&targets));
        let started = Instant::now();
        // In chunks, each chunk's readers started before the next opens: a
        // session nobody reads does not answer the server's pings, and
        // opening tens of thousands can take longer than the heartbeat
        // timeout.
        let mut hist = crate::report::new_histogram();
        for (k, chunk) in idle_pop.devices.chunks(IDLE_CHUNK).enumerate() {
            let offset = sessions.len() + k * IDLE_CHUNK;
            let (idle, hs) = setup::sessions(&clients, chunk, &idle_opts, offset).await?;
            hist.add(&hs).map_err(|e| format!("histogram: {e}"))?;
            for (s, dev) in idle.into_iter().zip(chunk) {
                idle_tasks.push(spawn_reader(s.rx, dev.device_id, None, ctx.clone()));
                idle_tx.push(s.tx);
            }
        }
        facts.idle_connect_seconds = started.elapsed().as_secs_f64();
        facts.idle_handshake = Some(hist);
        tokio::time::sleep(SETTLE).await;
        facts.rss_after_idle = Some(procstat::sample(&targets));
    }
    eprintln!(
        "{} sessions + {} idle open; sending",
        sessions.len(),
        idle_tx.len()
    );

    // Traffic.
    let timing = Timing {
        t0: Instant::now() + Duration::from_millis(100),
        rate: plan.rate,
        warmup: plan.warmup,
        duration: plan.duration,
    };
    let measure_start = timing.t0 + plan.warmup;
    ctx.measure_from = clock.nanos_at(measure_start);
    ctx.ack_interval = plan.ack_interval;
    let mut writers = Vec::new();
    let mut writer_tasks = Vec::new();
    let mut readers = Vec::new();
    for (k, (s, dev)) in sessions.into_iter().zip(&pop.devices).enumerate() {
        let (tx, rx) = mpsc::unbounded_channel();
        writer_tasks.push(spawn_writer(s.tx, rx, shared.clone()));
        let ctx = ReaderContext {
            stripe: k,
            entry_for: dev.registration_id.filter(|_| plan.per_device),
            ..ctx.clone()
        };
        readers.push(spawn_reader(s.rx, dev.device_id, Some(tx.clone()), ctx));
        writers.push(tx);
    }
    let traffic = plan.rate > 0.0 && !(plan.warmup + plan.duration).is_zero();
    let mode = match (group, plan.per_device) {
        (Some(id), _) => Mode::Group(id),
        (None, true) => Mode::PerDevice,
        (None, false) => Mode::Direct,
    };
    let sched = if traffic {
        let pop = Arc::new(pop);
        let w = writers.clone();
        let task = tokio::spawn(async move {
            traffic::drive(&pop, &w, timing, clock, run_tag, seed, mode).await
        });
        tokio::time::sleep_until(measure_start.into()).await;
        let cpu_before = procstat::sample(&targets);
        let sched = task
            .await
            .map_err(|e| format!("the scheduler failed: {e}"))?;
        let drain_start = Instant::now();
        while drain_start.elapsed() < plan.drain {
            let done = shared.deliveries.load(Ordering::Relaxed) >= sched.expected
                && shared.sent_replies.load(Ordering::Relaxed) >= sched.dispatched;
            if done {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let window = measure_start.elapsed();
        let cpu_after = procstat::sample(&targets);
        Some((sched, cpu_before, cpu_after, window))
    } else {
        None
    };

    if !plan.hold.is_zero() {
        eprintln!("holding every session open for {:?}", plan.hold);
        tokio::time::sleep(plan.hold).await;
    }

    // Wind down: stop the readers, then let the writers close their sessions.
    let _ = stop.0.send(true);
    let mut total = SessionStats::new();
    let mut idle_total = SessionStats::new();
    let wind_down = async {
        for r in readers {
            if let Ok(st) = r.await {
                total.merge(&st);
            }
        }
        for r in idle_tasks {
            if let Ok(st) = r.await {
                idle_total.merge(&st);
            }
        }
        drop(writers);
        drop(idle_tx);
        for w in writer_tasks {
            let _ = w.await;
        }
    };
    if tokio::time::timeout(WIND_DOWN, wind_down).await.is_err() {
        eprintln!("warning: some sessions did not wind down within {WIND_DOWN:?}");
    }

    let report = report::build(
        &plan,
        &targets,
        facts,
        sched,
        &total,
        &idle_total,
        &shared,
        ctx.measure_from,
    );
    report.print();
    if let Some(path) = &plan.json {
        let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        std::fs::write(path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(Some(report))
}
