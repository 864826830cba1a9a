//! The typing scenario (`--typing USERS`): USERS users with one session
//! each, in conversations of `--typing-group` members (2: direct
//! conversations, more: groups), every user sending `typing started` in
//! their conversation every `--typing-interval-ms`, at a random phase, for
//! `--duration` seconds. Open loop, like the message scheduler: a send is
//! due at its time whatever the server does.
//!
//! A relayed frame carries no id of the client's, so each receiver matches
//! the k-th frame it gets from a sender with that sender's k-th send (one
//! sender's frames to one receiver keep their order: one session, one
//! channel); latency is from the send's intended time. Every frame must
//! reach the other members of the conversation exactly once (the typer has
//! no other session), so expected = sends × (members − 1); more frames from
//! a sender than it sent are duplicates. The server drops a `started`
//! arriving less than `typing.min_interval_ms` (1 s) after the last one it
//! relayed for the session and conversation: intervals near 1 s show up as
//! loss.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream;
use passerelle_client::api::{CreateConversationRequest, CreateDirect};
use passerelle_client::ws::ServerFrame;
use passerelle_client::{Client, ClientError, Receiver};
use serde::Serialize;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::cli::{Plan, TypingPlan};
use crate::clock::{Clock, Rng};
use crate::counters::{self, Costs, Sources};
use crate::presence::print_costs;
use crate::procstat::Target;
use crate::report::{Latency, new_histogram};
use crate::rest::Rest;
use crate::session::{Out, Shared, spawn_writer};
use crate::setup::{self, Population, SessionOptions};

/// What every reader needs to match frames with sends.
#[derive(Debug)]
struct Book {
    /// User id → user index.
    index: HashMap<Uuid, usize>,
    /// Each user's conversation.
    conversation: Vec<Uuid>,
    /// `sends[u][k]`: intended time (Unix ns) of user `u`'s k-th send; 0
    /// while not yet sent.
    sends: Vec<Vec<AtomicU64>>,
}

#[derive(Debug, Default)]
struct ReaderStats {
    received: u64,
    duplicates: u64,
    own_echoes: u64,
    /// Frames for a conversation the receiver is not in, or from an
    /// unknown user.
    strays: u64,
    errors: BTreeMap<String, u64>,
    closes: BTreeMap<u16, u64>,
}

#[derive(Debug, Serialize)]
pub struct TypingSetup {
    pub accounts: usize,
    pub register_seconds: f64,
    pub conversations: usize,
    pub conversations_seconds: f64,
    pub sessions: u64,
    pub connect_seconds: f64,
}

/// The report of a typing run (`--json`).
#[derive(Debug, Serialize)]
pub struct TypingReport {
    pub scenario: &'static str,
    pub label: String,
    pub urls: Vec<String>,
    pub users: usize,
    pub members: usize,
    pub interval_ms: u64,
    pub duration_s: f64,
    pub setup: TypingSetup,
    pub sent: u64,
    pub written: u64,
    pub write_failures: u64,
    pub expected: u64,
    pub received: u64,
    pub lost: i64,
    pub duplicates: u64,
    pub own_echoes: u64,
    pub strays: u64,
    pub sent_per_sec: f64,
    pub received_per_sec: f64,
    /// Intended send → a receiver has the frame.
    pub latency_ms: Latency,
    /// How late the load generator itself dispatched sends.
    pub schedule_lag_ms: Latency,
    /// Received frames per CPU-second of each gateway (and in all).
    pub received_per_gateway_cpu_second: BTreeMap<String, f64>,
    /// CPU % of a core over the window, per process.
    pub cpu_percent: BTreeMap<String, f64>,
    /// Per frame sent.
    pub costs: Costs,
    pub errors: BTreeMap<String, u64>,
    pub closes: BTreeMap<String, u64>,
}

impl TypingReport {
    pub fn healthy(&self) -> bool {
        self.lost == 0
            && self.duplicates == 0
            && self.own_echoes == 0
            && self.strays == 0
            && self.write_failures == 0
            && self.errors.is_empty()
    }

    pub fn print(&self) {
        println!("== passerelle-loadgen {} (typing)", self.label);
        let s = &self.setup;
        println!(
            "setup: {} accounts in {:.1}s, {} conversations of {} in {:.1}s, {} sessions in {:.1}s",
            s.accounts,
            s.register_seconds,
            s.conversations,
            self.members,
            s.conversations_seconds,
            s.sessions,
            s.connect_seconds
        );
        println!(
            "typing: every {} ms for {:.0}s: sent {} ({:.0}/s, written {}), expected {}, received {} ({:.0}/s), \
             LOST {}, DUPLICATES {}, own echoes {}, strays {}",
            self.interval_ms,
            self.duration_s,
            self.sent,
            self.sent_per_sec,
            self.written,
            self.expected,
            self.received,
            self.received_per_sec,
            self.lost,
            self.duplicates,
            self.own_echoes,
            self.strays
        );
        let l = &self.latency_ms;
        println!(
            "  latency (intended->rx) n={} p50={:.2} p90={:.2} p99={:.2} p99.9={:.2} max={:.2} ms",
            l.count, l.p50, l.p90, l.p99, l.p999, l.max
        );
        let l = &self.schedule_lag_ms;
        println!(
            "  loadgen schedule lag  p50={:.2} p99={:.2} max={:.2} ms",
            l.p50, l.p99, l.max
        );
        println!(
            "  CPU % of a core: {:?}; received frames per gateway CPU-second: {:?}",
            self.cpu_percent
                .iter()
                .map(|(k, v)| format!("{k} {v:.0}"))
                .collect::<Vec<_>>(),
            self.received_per_gateway_cpu_second
                .iter()
                .map(|(k, v)| format!("{k} {v:.0}"))
                .collect::<Vec<_>>()
        );
        print_costs(&self.costs, "frame sent");
        if !self.errors.is_empty() {
            println!("errors: {:?}", self.errors);
        }
        if !self.closes.is_empty() {
            println!("closes by code: {:?}", self.closes);
        }
    }
}

/// Runs the typing scenario.
pub async fn run(plan: &Plan, t: TypingPlan) -> Result<TypingReport, String> {
    let clock = Clock::new();
    let seed = Uuid::new_v4().as_u64_pair().0;
    let tag = Rng::new(seed).next_u64() as u32;
    let prefix = format!("lg{tag:08x}");
    let clients: Vec<Client> = plan.urls.iter().map(|u| Client::new(u)).collect();
    let mut targets = plan.targets.clone();
    targets.push(Target::this_process());
    eprintln!(
        "loadgen {prefix}: typing, {} users in conversations of {}, every {:?} for {:?}",
        t.users, t.group, t.interval, plan.duration
    );

    let started = Instant::now();
    let names = (0..t.users).map(|k| format!("{prefix}_t{k}")).collect();
    let pop = setup::accounts(&clients, names, 1, plan.connect_concurrency).await?;
    let register_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let conversation =
        conversations(&clients, &pop, t.group, &prefix, plan.connect_concurrency).await?;
    let conversations_seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "accounts in {register_seconds:.1}s, {} conversations in {conversations_seconds:.1}s; opening sessions",
        t.users / t.group
    );

    let opts = SessionOptions {
        source_addrs: plan.source_addrs.clone(),
        small_buffers: false,
        concurrency: plan.connect_concurrency,
    };
    let started = Instant::now();
    let (sessions, hs) = setup::sessions(&clients, &pop.devices, &opts, 0).await?;
    let connect_seconds = started.elapsed().as_secs_f64();

    // Sends per user: those due inside the window.
    let per_user = (plan.duration.as_secs_f64() / t.interval.as_secs_f64()).ceil() as usize + 1;
    let book = Arc::new(Book {
        index: pop
            .users
            .iter()
            .enumerate()
            .map(|(i, u)| (u.user_id, i))
            .collect(),
        conversation,
        sends: (0..t.users)
            .map(|_| (0..per_user).map(|_| AtomicU64::new(0)).collect())
            .collect(),
    });
    let shared = Arc::new(Shared::new());
    let stop = watch::channel(false);
    let mut writers = Vec::new();
    let mut writer_tasks = Vec::new();
    let mut readers = Vec::new();
    for (k, s) in sessions.into_iter().enumerate() {
        let (tx, rx) = mpsc::unbounded_channel();
        writer_tasks.push(spawn_writer(s.tx, rx, shared.clone()));
        writers.push(tx);
        readers.push(spawn_reader(
            s.rx,
            k,
            book.clone(),
            clock,
            shared.clone(),
            stop.1.clone(),
        ));
    }

    let sources = Sources {
        gateways: plan.urls.iter().map(|u| Rest::new(u)).collect(),
        redis_url: plan.redis_url.clone(),
        pg_url: plan.pg_url.clone(),
    };
    tokio::time::sleep(counters::LEFTOVERS).await;
    let quiet_start = counters::mark(&sources, &targets).await;
    tokio::time::sleep(plan.baseline).await;
    let from = counters::mark(&sources, &targets).await;
    eprintln!("{} sessions open; typing", writers.len());

    // The schedule: user u's k-th send at t0 + phase[u] + k × interval.
    let t0 = Instant::now() + Duration::from_millis(100);
    let end = t0 + plan.duration;
    let mut rng = Rng::new(seed);
    let interval_ns = u64::try_from(t.interval.as_nanos()).unwrap_or(u64::MAX);
    let mut order: Vec<(u64, usize)> = (0..t.users)
        .map(|u| (rng.next_u64() % interval_ns.max(1), u))
        .collect();
    order.sort_unstable();
    let mut lag = new_histogram();
    let mut sent = 0u64;
    let mut expected = 0u64;
    'schedule: for k in 0..per_user {
        for &(phase, u) in &order {
            let due = t0 + Duration::from_nanos(phase) + t.interval * k as u32;
            if due >= end {
                break 'schedule;
            }
            tokio::time::sleep_until(due.into()).await;
            book.sends[u][k].store(clock.nanos_at(due), Ordering::Release);
            if writers[u].send(Out::Typing(book.conversation[u])).is_ok() {
                sent += 1;
                expected += t.group as u64 - 1;
            }
            let late = Instant::now().saturating_duration_since(due);
            lag.saturating_record(u64::try_from(late.as_micros()).unwrap_or(u64::MAX));
        }
    }
    let drain_start = Instant::now();
    while drain_start.elapsed() < plan.drain && shared.deliveries.load(Ordering::Relaxed) < expected
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let to = counters::mark(&sources, &targets).await;
    tokio::time::sleep(plan.baseline).await;
    let quiet_end = counters::mark(&sources, &targets).await;
    let costs = counters::costs(
        &targets,
        &[(&quiet_start, &from), (&to, &quiet_end)],
        &from,
        &to,
        sent,
    );

    // Wind down.
    let _ = stop.0.send(true);
    let mut total = ReaderStats::default();
    for r in readers {
        if let Ok(st) = r.await {
            total.received += st.received;
            total.duplicates += st.duplicates;
            total.own_echoes += st.own_echoes;
            total.strays += st.strays;
            for (k, v) in st.errors {
                *total.errors.entry(k).or_default() += v;
            }
            for (k, v) in st.closes {
                *total.closes.entry(k).or_default() += v;
            }
        }
    }
    drop(writers);
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        for w in writer_tasks {
            let _ = w.await;
        }
    })
    .await;

    let (latency, _) = shared.latencies();
    let mut cpu_percent = BTreeMap::new();
    let mut per_cpu = BTreeMap::new();
    let mut gateways_cpu = 0.0;
    for tg in &targets {
        let key = format!("cpu.{}", tg.name);
        let Some(cpu) = costs
            .raw_per_event
            .get(&key)
            .map(|c| c * sent.max(1) as f64)
        else {
            continue;
        };
        cpu_percent.insert(
            tg.name.clone(),
            100.0 * cpu / costs.window_seconds.max(1e-9),
        );
        if tg.name.starts_with("gateway") && cpu > 0.0 {
            per_cpu.insert(tg.name.clone(), total.received as f64 / cpu);
            gateways_cpu += cpu;
        }
    }
    if gateways_cpu > 0.0 {
        per_cpu.insert("all gateways".into(), total.received as f64 / gateways_cpu);
    }
    let mut closes = BTreeMap::new();
    for (k, v) in total.closes {
        closes.insert(k.to_string(), v);
    }
    let span = plan.duration.as_secs_f64().max(1e-9);
    Ok(TypingReport {
        scenario: "typing",
        label: plan.label.clone(),
        urls: plan.urls.clone(),
        users: t.users,
        members: t.group,
        interval_ms: u64::try_from(t.interval.as_millis()).unwrap_or(u64::MAX),
        duration_s: plan.duration.as_secs_f64(),
        setup: TypingSetup {
            accounts: pop.users.len(),
            register_seconds,
            conversations: t.users / t.group,
            conversations_seconds,
            sessions: hs.len(),
            connect_seconds,
        },
        sent,
        written: shared.written.load(Ordering::Relaxed),
        write_failures: shared.write_failures.load(Ordering::Relaxed),
        expected,
        received: total.received,
        lost: expected as i64 - total.received as i64,
        duplicates: total.duplicates,
        own_echoes: total.own_echoes,
        strays: total.strays,
        sent_per_sec: sent as f64 / span,
        received_per_sec: total.received as f64 / span,
        latency_ms: Latency::of(&latency),
        schedule_lag_ms: Latency::of(&lag),
        received_per_gateway_cpu_second: per_cpu,
        cpu_percent,
        costs,
        errors: total.errors,
        closes,
    })
}

/// Puts users `k·size .. (k+1)·size` in conversation `k`: the first user
/// opens a direct conversation with the second (`size` 2) or creates a
/// group of all of them. Returns each user's conversation.
async fn conversations(
    clients: &[Client],
    pop: &Population,
    size: usize,
    prefix: &str,
    concurrency: usize,
) -> Result<Vec<Uuid>, String> {
    let made: Vec<Result<(usize, Uuid), String>> = stream::iter(pop.users.chunks(size).enumerate())
        .map(|(k, members)| async move {
            let owner = &pop.devices[members[0].devices[0]];
            let client = &clients[owner.url];
            let others: Vec<Uuid> = members[1..].iter().map(|u| u.user_id).collect();
            let id = if size == 2 {
                let body = CreateConversationRequest::Direct(CreateDirect { user_id: others[0] });
                setup::retry(|| client.create_conversation(&owner.token, &body))
                    .await
                    .map_err(|e| format!("direct conversation {k}: {e}"))?
                    .id
            } else {
                let name = format!("{prefix}-t{k}");
                setup::group_of(client, &owner.token, &others, &name, 4).await?
            };
            Ok((k, id))
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let mut out = vec![Uuid::nil(); pop.users.len()];
    for r in made {
        let (k, id) = r?;
        for slot in out.iter_mut().skip(k * size).take(size) {
            *slot = id;
        }
    }
    Ok(out)
}

fn spawn_reader(
    mut rx: Receiver,
    me: usize,
    book: Arc<Book>,
    clock: Clock,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<ReaderStats> {
    tokio::spawn(async move {
        let mut st = ReaderStats::default();
        // Frames had so far from each sender.
        let mut from: HashMap<usize, usize> = HashMap::new();
        loop {
            tokio::select! {
                changed = stop.changed() => {
                    if changed.is_err() || *stop.borrow() {
                        break;
                    }
                }
                frame = rx.next() => match frame {
                    Ok(ServerFrame::Typing { payload }) => {
                        let now = clock.now_nanos();
                        let Some(&sender) = book.index.get(&payload.user_id) else {
                            st.strays += 1;
                            continue;
                        };
                        if sender == me {
                            st.own_echoes += 1;
                            continue;
                        }
                        if payload.conversation_id != book.conversation[me] {
                            st.strays += 1;
                            continue;
                        }
                        let k = from.entry(sender).or_default();
                        let intended = book.sends[sender]
                            .get(*k)
                            .map_or(0, |s| s.load(Ordering::Acquire));
                        *k += 1;
                        if intended == 0 {
                            st.duplicates += 1;
                            continue;
                        }
                        st.received += 1;
                        shared.deliveries.fetch_add(1, Ordering::Relaxed);
                        let us = now.saturating_sub(intended) / 1000;
                        shared.record(me, Some(us), None);
                    }
                    Ok(ServerFrame::Error { payload, .. }) => {
                        let code = crate::session::error_name(payload.code);
                        *st.errors.entry(code).or_default() += 1;
                    }
                    Ok(_) => {}
                    Err(ClientError::Closed { code, .. }) => {
                        *st.closes.entry(code).or_default() += 1;
                        break;
                    }
                    Err(e) => {
                        *st.errors.entry(format!("client: {e}")).or_default() += 1;
                        break;
                    }
                },
            }
        }
        st
    })
}
