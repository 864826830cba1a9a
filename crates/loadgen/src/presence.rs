//! The presence scenario (`--presence N`): one "star" user and N watchers,
//! users who have the star as a contact, every watcher online with one
//! session. The star sets `presenceVisibility` to `everyone`, so the
//! watchers' own contact (one add each, under the per-account lookup
//! limit) is enough for them to see it.
//!
//! Then `--presence-rounds` rounds of four changes, one at a time: the
//! star connects (online, announced when the session opens), says `away`,
//! says `online`, and closes its session (offline, announced once
//! `presence.offline_grace_ms` passed, by a node's sweep). Each change is
//! timed from the moment the load generator acts to the moment the **last**
//! watcher has the `presence` frame, and the next change starts only when
//! every watcher has it (or after a timeout). Every watcher must get exactly
//! one frame per change, with the right status; frames are matched to
//! changes by their `version`, which grows by one per announcement.
//!
//! Costs: the servers' counters and CPU (see [`crate::counters`]) over the
//! rounds, less the background of quiet windows before and after them,
//! divided by the number of changes.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream;
use hdrhistogram::Histogram;
use passerelle_client::api::{PresenceStatus, PresenceVisibility};
use passerelle_client::ws::{ServerFrame, SessionPresence};
use passerelle_client::{Client, ClientError, Receiver, Sender};
use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::cli::{Plan, PresencePlan};
use crate::clock::{Clock, Rng};
use crate::counters::{self, Costs, Sources};
use crate::procstat::Target;
use crate::report::{Latency, new_histogram};
use crate::rest::Rest;
use crate::setup::{self, Device, SessionOptions};

/// The server refuses a second `presence` frame from one session within
/// `presence.min_interval_ms` (1 s by default): changes by frame are this
/// far apart.
const FRAME_GAP: Duration = Duration::from_millis(1100);
/// Longest wait for every watcher to hear a change (on top of the grace
/// for an offline change).
const CHANGE_WAIT: Duration = Duration::from_secs(15);
/// How often the driver looks whether a change is complete.
const POLL: Duration = Duration::from_millis(1);
/// After the last change, time for late or duplicate frames to show.
const TAIL: Duration = Duration::from_secs(1);

/// One change of the star's presence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// A session opens: online.
    Connect,
    /// `presence {status: away}`.
    Away,
    /// `presence {status: online}`.
    Back,
    /// The session closes: offline after the grace.
    Close,
}

impl Change {
    const ROUND: [Change; 4] = [Change::Connect, Change::Away, Change::Back, Change::Close];

    fn status(self) -> PresenceStatus {
        match self {
            Self::Connect | Self::Back => PresenceStatus::Online,
            Self::Away => PresenceStatus::Away,
            Self::Close => PresenceStatus::Offline,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Connect => "online (session opens)",
            Self::Away => "away (frame)",
            Self::Back => "online (frame)",
            Self::Close => "offline (session closes)",
        }
    }
}

/// The frames of one version of the star's presence.
#[derive(Debug, Default)]
struct Heard {
    /// Watchers that had it (each counted once).
    watchers: u64,
    /// Arrival times (Unix ns), one per watcher.
    arrivals: Vec<u64>,
    /// Statuses seen with this version (one, unless something is wrong).
    statuses: Vec<PresenceStatus>,
}

/// What the watchers' readers share.
#[derive(Debug, Default)]
struct Tally {
    by_version: Mutex<BTreeMap<i64, Heard>>,
    duplicates: AtomicU64,
    out_of_order: AtomicU64,
    other_users: AtomicU64,
}

/// What the readers of the watchers saw besides presence frames.
#[derive(Debug, Default)]
struct ReaderStats {
    errors: BTreeMap<String, u64>,
    closes: BTreeMap<u16, u64>,
}

/// One change as the driver saw it.
#[derive(Debug, Clone)]
struct Done {
    change: Change,
    /// When the load generator acted (Unix ns).
    start: u64,
    /// The version its frames carry (`None`: nobody heard it).
    version: Option<i64>,
}

/// Per kind of change: how long until the last watcher, and each watcher,
/// had it.
#[derive(Debug, Serialize)]
pub struct ChangeStats {
    pub change: Change,
    pub name: &'static str,
    pub count: usize,
    /// Changes every watcher heard.
    pub complete: usize,
    /// Act → the last watcher has the frame.
    pub last_watcher_ms: Latency,
    /// Act → each watcher has the frame.
    pub each_watcher_ms: Latency,
}

#[derive(Debug, Serialize)]
pub struct PresenceSetup {
    pub accounts: usize,
    pub register_seconds: f64,
    pub contacts_seconds: f64,
    pub sessions: u64,
    pub connect_seconds: f64,
}

/// The report of a presence run (`--json`).
#[derive(Debug, Serialize)]
pub struct PresenceReport {
    pub scenario: &'static str,
    pub label: String,
    pub urls: Vec<String>,
    pub watchers: usize,
    pub rounds: usize,
    pub grace_ms: u64,
    pub setup: PresenceSetup,
    pub changes: usize,
    pub by_change: Vec<ChangeStats>,
    /// Watchers × changes.
    pub expected_frames: u64,
    /// Distinct (watcher, version) frames about the star.
    pub received_frames: u64,
    pub lost: i64,
    pub duplicates: u64,
    /// Frames older than one the watcher already had.
    pub out_of_order: u64,
    /// Versions whose frames carried another status than the change's.
    pub wrong_status: u64,
    /// Versions heard that no change of the run explains.
    pub unexplained_versions: u64,
    /// Presence frames about other users (must be 0: watchers have only
    /// the star as a contact).
    pub other_users: u64,
    pub costs: Costs,
    pub errors: BTreeMap<String, u64>,
    pub closes: BTreeMap<String, u64>,
}

impl PresenceReport {
    pub fn healthy(&self) -> bool {
        self.lost == 0
            && self.duplicates == 0
            && self.wrong_status == 0
            && self.unexplained_versions == 0
            && self.other_users == 0
            && self.errors.is_empty()
            && self.by_change.iter().all(|c| c.complete == c.count)
    }

    pub fn print(&self) {
        println!("== passerelle-loadgen {} (presence)", self.label);
        let s = &self.setup;
        println!(
            "setup: {} accounts in {:.1}s, {} contacts added in {:.1}s, {} watcher sessions in {:.1}s",
            s.accounts,
            s.register_seconds,
            self.watchers,
            s.contacts_seconds,
            s.sessions,
            s.connect_seconds
        );
        println!(
            "changes: {} ({} rounds); frames expected {}, received {}, LOST {}, DUPLICATES {}, \
             out of order {}, wrong status {}, unexplained versions {}, about others {}",
            self.changes,
            self.rounds,
            self.expected_frames,
            self.received_frames,
            self.lost,
            self.duplicates,
            self.out_of_order,
            self.wrong_status,
            self.unexplained_versions,
            self.other_users
        );
        for c in &self.by_change {
            let l = &c.last_watcher_ms;
            println!(
                "  {:<26} n={:<3} complete={:<3} last watcher p50={:>8.2} p99={:>8.2} max={:>8.2} ms; each watcher p50={:>8.2} ms",
                c.name, c.count, c.complete, l.p50, l.p99, l.max, c.each_watcher_ms.p50
            );
        }
        print_costs(&self.costs, "change");
        if !self.errors.is_empty() {
            println!("errors: {:?}", self.errors);
        }
        if !self.closes.is_empty() {
            println!("closes by code: {:?}", self.closes);
        }
    }
}

/// The costs block of a report, per `what`.
pub fn print_costs(c: &Costs, what: &str) {
    println!(
        "costs per {what} ({} over {:.1}s, background removed):",
        c.events, c.window_seconds
    );
    for (k, v) in &c.per_event {
        let raw = c.raw_per_event.get(k).copied().unwrap_or(0.0);
        let bg = c.background_per_second.get(k).copied().unwrap_or(0.0);
        println!("  {k:<52} {v:>12.4}  (raw {raw:.4}; background {bg:.3}/s)");
    }
}

/// Runs the presence scenario; the report says whether it was healthy.
pub async fn run(plan: &Plan, p: PresencePlan) -> Result<PresenceReport, String> {
    let clock = Clock::new();
    let tag = Rng::new(Uuid::new_v4().as_u64_pair().0).next_u64() as u32;
    let prefix = format!("lg{tag:08x}");
    let clients: Vec<Client> = plan.urls.iter().map(|u| Client::new(u)).collect();
    let rests: Vec<Rest> = plan.urls.iter().map(|u| Rest::new(u)).collect();
    let mut targets = plan.targets.clone();
    targets.push(Target::this_process());
    eprintln!(
        "loadgen {prefix}: presence, 1 star and {} watchers, {} rounds",
        p.watchers, p.rounds
    );

    // Accounts: the star is user 0, on the first URL.
    let started = Instant::now();
    let mut names = vec![format!("{prefix}_star")];
    names.extend((0..p.watchers).map(|k| format!("{prefix}_w{k}")));
    let pop = setup::accounts(&clients, names, 1, plan.connect_concurrency).await?;
    let register_seconds = started.elapsed().as_secs_f64();
    let star = pop.users[0].user_id;
    let star_device = pop.devices[pop.users[0].devices[0]].clone();
    setup::retry(|| rests[0].presence_visibility(&star_device.token, PresenceVisibility::Everyone))
        .await
        .map_err(|e| format!("PATCH /v1/me of the star: {e}"))?;

    // Every watcher adds the star (one lookup each).
    let started = Instant::now();
    let watchers: Vec<Device> = pop.devices[1..].to_vec();
    let added: Vec<Result<(), String>> = stream::iter(watchers.iter())
        .map(|d| {
            let rest = rests[d.url].clone();
            async move {
                setup::retry(|| rest.add_contact(&d.token, star))
                    .await
                    .map_err(|e| format!("add the star as a contact: {e}"))
            }
        })
        .buffer_unordered(plan.connect_concurrency)
        .collect()
        .await;
    added.into_iter().collect::<Result<Vec<()>, String>>()?;
    let contacts_seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "accounts in {register_seconds:.1}s, contacts in {contacts_seconds:.1}s; opening {} watcher sessions",
        watchers.len()
    );

    // Watcher sessions, each read by a task that tallies the star's frames.
    let opts = SessionOptions {
        source_addrs: plan.source_addrs.clone(),
        small_buffers: false,
        concurrency: plan.connect_concurrency,
    };
    let started = Instant::now();
    let (sessions, hs) = setup::sessions(&clients, &watchers, &opts, 0).await?;
    let connect_seconds = started.elapsed().as_secs_f64();
    let tally = Arc::new(Tally::default());
    let stop = watch::channel(false);
    let mut senders = Vec::with_capacity(sessions.len());
    let mut readers = Vec::with_capacity(sessions.len());
    for s in sessions {
        senders.push(s.tx);
        readers.push(spawn_watcher(
            s.rx,
            star,
            clock,
            tally.clone(),
            stop.1.clone(),
        ));
    }

    // The quiet window, then the rounds.
    let sources = Sources {
        gateways: rests.clone(),
        redis_url: plan.redis_url.clone(),
        pg_url: plan.pg_url.clone(),
    };
    tokio::time::sleep(counters::LEFTOVERS).await;
    let quiet_start = counters::mark(&sources, &targets).await;
    tokio::time::sleep(plan.baseline).await;
    let rounds_start = counters::mark(&sources, &targets).await;
    eprintln!("{} watchers online; {} rounds", watchers.len(), p.rounds);
    let n = watchers.len() as u64;
    let mut done: Vec<Done> = Vec::new();
    let mut last_version = i64::MIN;
    for round in 0..p.rounds {
        let mut dev = star_device.clone();
        dev.url = round % clients.len();
        let mut star_session: Option<(Sender, JoinHandle<()>)> = None;
        let mut last_frame = Instant::now();
        for change in Change::ROUND {
            if matches!(change, Change::Away | Change::Back) {
                tokio::time::sleep_until((last_frame + FRAME_GAP).into()).await;
            }
            let start = clock.now_nanos();
            match change {
                Change::Connect => {
                    let offset = round % plan.source_addrs.len().max(1);
                    let (mut s, _) = setup::sessions(&clients, &[dev.clone()], &opts, offset)
                        .await
                        .map_err(|e| format!("round {round}: the star's session: {e}"))?;
                    let s = s.pop().ok_or("no session for the star")?;
                    star_session = Some((s.tx, tokio::spawn(drain(s.rx))));
                    last_frame = Instant::now();
                }
                Change::Away | Change::Back => {
                    let status = if change == Change::Away {
                        SessionPresence::Away
                    } else {
                        SessionPresence::Online
                    };
                    let (tx, _) = star_session.as_mut().ok_or("the star has no session")?;
                    tx.set_presence(status)
                        .await
                        .map_err(|e| format!("round {round}: presence frame: {e}"))?;
                    last_frame = Instant::now();
                }
                Change::Close => {
                    let (tx, reader) = star_session.take().ok_or("the star has no session")?;
                    let _ = tokio::time::timeout(Duration::from_secs(2), tx.close()).await;
                    let _ = tokio::time::timeout(Duration::from_secs(2), reader).await;
                }
            }
            let wait = CHANGE_WAIT
                + if change == Change::Close {
                    p.grace
                } else {
                    Duration::ZERO
                };
            let version = wait_for_all(&tally, last_version, n, wait).await;
            if let Some(v) = version {
                last_version = v;
            } else {
                eprintln!("round {round}: nobody heard {:?} within {wait:?}", change);
            }
            done.push(Done {
                change,
                start,
                version,
            });
        }
    }
    tokio::time::sleep(TAIL).await;
    let rounds_end = counters::mark(&sources, &targets).await;
    // A second quiet window, after the last offline change settled.
    tokio::time::sleep(p.grace + Duration::from_secs(2)).await;
    let quiet_again = counters::mark(&sources, &targets).await;
    tokio::time::sleep(plan.baseline).await;
    let quiet_end = counters::mark(&sources, &targets).await;
    let costs = counters::costs(
        &targets,
        &[(&quiet_start, &rounds_start), (&quiet_again, &quiet_end)],
        &rounds_start,
        &rounds_end,
        done.len() as u64,
    );

    // Wind down.
    let _ = stop.0.send(true);
    let mut errors = BTreeMap::new();
    let mut closes: BTreeMap<String, u64> = BTreeMap::new();
    for r in readers {
        if let Ok(st) = r.await {
            for (k, v) in st.errors {
                *errors.entry(k).or_default() += v;
            }
            for (k, v) in st.closes {
                *closes.entry(k.to_string()).or_default() += v;
            }
        }
    }
    let _ = tokio::time::timeout(
        Duration::from_secs(10),
        stream::iter(senders).for_each_concurrent(plan.connect_concurrency, |tx| async move {
            let _ = tokio::time::timeout(Duration::from_secs(2), tx.close()).await;
        }),
    )
    .await;

    let heard = match Arc::try_unwrap(tally) {
        Ok(t) => t,
        Err(_) => return Err("watcher readers still running".into()),
    };
    Ok(build(
        plan,
        p,
        PresenceSetup {
            accounts: pop.users.len(),
            register_seconds,
            contacts_seconds,
            sessions: hs.len(),
            connect_seconds,
        },
        &done,
        heard,
        costs,
        errors,
        closes,
    ))
}

/// Waits until every one of `n` watchers has the first version above
/// `after`; that version, or `None` if none was heard within `wait`.
async fn wait_for_all(tally: &Tally, after: i64, n: u64, wait: Duration) -> Option<i64> {
    let deadline = Instant::now() + wait;
    loop {
        let next = tally.by_version.lock().ok().and_then(|m| {
            m.range(after.saturating_add(1)..)
                .next()
                .map(|(v, h)| (*v, h.watchers))
        });
        match next {
            Some((v, heard)) if heard >= n => return Some(v),
            Some((v, _)) if Instant::now() >= deadline => return Some(v),
            None if Instant::now() >= deadline => return None,
            _ => tokio::time::sleep(POLL).await,
        }
    }
}

/// Reads a session until it ends, ignoring what comes (the star's: it
/// hears nothing about itself, but pings must be answered).
async fn drain(mut rx: Receiver) {
    while rx.next().await.is_ok() {}
}

fn spawn_watcher(
    mut rx: Receiver,
    star: Uuid,
    clock: Clock,
    tally: Arc<Tally>,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<ReaderStats> {
    tokio::spawn(async move {
        let mut st = ReaderStats::default();
        let mut seen: HashSet<i64> = HashSet::new();
        let mut highest = i64::MIN;
        loop {
            tokio::select! {
                changed = stop.changed() => {
                    if changed.is_err() || *stop.borrow() {
                        break;
                    }
                }
                frame = rx.next() => match frame {
                    Ok(ServerFrame::Presence { payload }) => {
                        let now = clock.now_nanos();
                        if payload.user_id != star {
                            tally.other_users.fetch_add(1, Ordering::Relaxed);
                            continue;
                        }
                        let v = payload.version;
                        if !seen.insert(v) {
                            tally.duplicates.fetch_add(1, Ordering::Relaxed);
                            continue;
                        }
                        if v < highest {
                            tally.out_of_order.fetch_add(1, Ordering::Relaxed);
                        }
                        highest = highest.max(v);
                        if let Ok(mut m) = tally.by_version.lock() {
                            let h = m.entry(v).or_default();
                            h.watchers += 1;
                            h.arrivals.push(now);
                            if !h.statuses.contains(&payload.status) {
                                h.statuses.push(payload.status);
                            }
                        }
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

#[allow(clippy::too_many_arguments)]
fn build(
    plan: &Plan,
    p: PresencePlan,
    setup: PresenceSetup,
    done: &[Done],
    tally: Tally,
    costs: Costs,
    errors: BTreeMap<String, u64>,
    closes: BTreeMap<String, u64>,
) -> PresenceReport {
    let heard = tally.by_version.into_inner().unwrap_or_default();
    let n = setup.sessions;
    let mut last: BTreeMap<Change, (Histogram<u64>, Histogram<u64>, usize, usize)> =
        BTreeMap::new();
    let mut explained = HashSet::new();
    let mut wrong_status = 0;
    for d in done {
        let entry = last
            .entry(d.change)
            .or_insert_with(|| (new_histogram(), new_histogram(), 0, 0));
        entry.2 += 1;
        let Some(h) = d.version.and_then(|v| heard.get(&v)) else {
            continue;
        };
        if let Some(v) = d.version {
            explained.insert(v);
        }
        if h.statuses.as_slice() != [d.change.status()] {
            wrong_status += 1;
        }
        if h.watchers >= n {
            entry.3 += 1;
        }
        let us = |t: u64| t.saturating_sub(d.start) / 1000;
        for t in &h.arrivals {
            entry.1.saturating_record(us(*t));
        }
        if let Some(max) = h.arrivals.iter().max() {
            entry.0.saturating_record(us(*max));
        }
    }
    let received: u64 = heard.values().map(|h| h.watchers).sum();
    let expected = n * done.len() as u64;
    PresenceReport {
        scenario: "presence",
        label: plan.label.clone(),
        urls: plan.urls.clone(),
        watchers: p.watchers,
        rounds: p.rounds,
        grace_ms: u64::try_from(p.grace.as_millis()).unwrap_or(u64::MAX),
        setup,
        changes: done.len(),
        by_change: last
            .into_iter()
            .map(|(change, (l, e, count, complete))| ChangeStats {
                change,
                name: change.name(),
                count,
                complete,
                last_watcher_ms: Latency::of(&l),
                each_watcher_ms: Latency::of(&e),
            })
            .collect(),
        expected_frames: expected,
        received_frames: received,
        lost: expected as i64 - received as i64,
        duplicates: tally.duplicates.into_inner(),
        out_of_order: tally.out_of_order.into_inner(),
        wrong_status,
        unexplained_versions: heard.keys().filter(|v| !explained.contains(v)).count() as u64,
        other_users: tally.other_users.into_inner(),
        costs,
        errors,
        closes,
    }
}
