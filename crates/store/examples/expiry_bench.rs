//! Benchmark of the disappearing-message sweeper (`make bench-expiry`):
//! stores `ROWS` messages with a timer through the real batched send path
//! (each with its stream events: one per device of sender and recipient),
//! then deletes them all with `expiry::delete_due` passes and announces
//! them with `expiry::announce`, as the gateway's sweeper does, and reports
//! the cost.
//!
//! Settings (environment):
//! - `EXPIRY_BENCH_BACKEND`: `sqlite` (default, a temporary file) or
//!   `postgres` (a throwaway database on `EXPIRY_BENCH_PG_URL`, default
//!   `postgres://postgres@127.0.0.1:5432/postgres`, dropped at the end);
//! - `EXPIRY_BENCH_ROWS` (default 1,000,000), `EXPIRY_BENCH_CONVERSATIONS`
//!   (default 1,000; each send picks the next one, so expiries interleave
//!   across conversations as in real traffic), `EXPIRY_BENCH_PASS` (default
//!   500, the gateway's pass size), `EXPIRY_BENCH_ANNOUNCE_EVERY` (default
//!   10,000, the gateway's).
#![allow(clippy::expect_used, clippy::print_stdout)]

use std::time::Instant;

use chrono::{Duration, Utc};
use passerelle_domain::{AddPolicy, Role, Visibility};
use passerelle_store::batch::{self, Outcome, WriteOp};
use passerelle_store::conversations::{self, NewGroup};
use passerelle_store::devices::{self, NewDevice};
use passerelle_store::streams::MessageRow;
use passerelle_store::users::{self, NewUser};
use passerelle_store::{DbConn, DeviceId, Store, StoreResult, UserId, admin, expiry, now};
use uuid::Uuid;

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn user(c: &mut DbConn, name: &str) -> StoreResult<(UserId, DeviceId)> {
    let id = UserId::new();
    users::insert(
        c,
        &NewUser {
            id,
            username: name,
            display_name: None,
            password_hash: None,
            external_issuer: None,
            external_subject: None,
            now: now(),
        },
    )?;
    let device = DeviceId::new();
    devices::insert(
        c,
        &NewDevice {
            id: device,
            user_id: id,
            name: None,
            platform: None,
            external_key: None,
            registration_id: None,
            now: now(),
        },
    )?;
    Ok((id, device))
}

fn message(conversation: Uuid, sender: UserId, device: DeviceId) -> MessageRow {
    MessageRow {
        id: Uuid::now_v7(),
        message_id: Uuid::new_v4(),
        conversation_id: Some(conversation),
        sender_id: sender,
        sender_device_id: device,
        recipient_id: None,
        message_type: "text".into(),
        timestamp: now(),
        session_id: "bench".into(),
        reply_to: None,
        blob_id: Some("blob".into()),
        is_read: false,
        read_at: None,
        created_at: now(),
        withheld: false,
        expires_at: None,
        game_id: None,
    }
}

/// The batch rules: no message requests or game invitations happen here.
const RULES: batch::Rules = batch::Rules {
    notice: |_, _| String::new(),
    game_invite_ttl: std::time::Duration::from_secs(86_400),
};

#[tokio::main]
async fn main() {
    let rows = setting("EXPIRY_BENCH_ROWS", 1_000_000);
    let conversation_count = setting("EXPIRY_BENCH_CONVERSATIONS", 1_000).max(1);
    let pass = u32::try_from(setting("EXPIRY_BENCH_PASS", 500)).unwrap_or(500);
    let announce_every =
        usize::try_from(setting("EXPIRY_BENCH_ANNOUNCE_EVERY", 10_000)).unwrap_or(10_000);
    let backend = std::env::var("EXPIRY_BENCH_BACKEND").unwrap_or_else(|_| "sqlite".into());

    let dir = tempfile::tempdir().expect("temp dir");
    let mut pg: Option<(String, String)> = None;
    let url = if backend == "postgres" {
        let admin_url = std::env::var("EXPIRY_BENCH_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let name = format!("passerelle_bench_expiry_{}", Uuid::new_v4().simple());
        admin::create_database(&admin_url, &name, None).expect("create database");
        let url = admin::url_with_database(&admin_url, &name);
        pg = Some((admin_url, name));
        url
    } else {
        format!("sqlite://{}", dir.path().join("bench.db").display())
    };
    let store = Store::connect(&url, Some(4)).await.expect("connect");
    store.migrate().await.expect("migrate");

    // Two users, one device each, in `conversation_count` groups with a timer.
    let (a, b, groups) = store
        .transaction(move |c| {
            let (a, da) = user(c, "bench_a")?;
            let (b, db) = user(c, "bench_b")?;
            let mut groups = Vec::new();
            for i in 0..conversation_count {
                let id = conversations::create_group(
                    c,
                    &NewGroup {
                        name: &format!("bench-{i}"),
                        title: None,
                        visibility: Visibility::Private,
                        add_policy: AddPolicy::Invite,
                        member_cap: 10,
                        owner: a,
                        now: now(),
                    },
                )?
                .expect("a fresh name");
                conversations::add_member(c, id, b, Role::Member, now())?;
                conversations::set_timer(c, id, Some(1), now())?;
                groups.push(id);
            }
            Ok(((a, da), (b, db), groups))
        })
        .await
        .expect("setup");

    // Seed through the send path, 1,000 sends a transaction (a busy
    // writer's batch).
    let started = Instant::now();
    let mut sent = 0u64;
    while sent < rows {
        let n = (rows - sent).min(1000);
        let ops: Vec<WriteOp> = (0..n)
            .map(|k| {
                let i = sent + k;
                let group = groups[(i % conversation_count) as usize];
                let (who, device) = if i.is_multiple_of(2) { a } else { b };
                WriteOp::Send {
                    message: message(group, who, device),
                    recipients: Vec::new(),
                    entries: None,
                }
            })
            .collect();
        let outcomes = store
            .transaction(move |c| batch::apply(c, &ops, now(), &RULES))
            .await
            .expect("seed batch");
        assert!(
            outcomes.iter().all(|o| matches!(o, Outcome::Sent { .. })),
            "every seed send is stored"
        );
        sent += n;
    }
    let seeded = started.elapsed();

    // An idle pass: what every node pays each tick when nothing expired.
    let started = Instant::now();
    let idle = store
        .transaction(move |c| expiry::delete_due(c, now() - Duration::hours(1), pass))
        .await
        .expect("idle pass");
    let idle_cost = started.elapsed();
    assert_eq!(idle.messages, 0);

    // Everything has expired an hour from now: sweep it all, as the
    // gateway's sweeper does (announcing every `announce_every` messages).
    let later = Utc::now() + Duration::hours(1);
    let started = Instant::now();
    let (mut messages, mut events, mut notices, mut passes) = (0usize, 0usize, 0usize, 0usize);
    let mut slowest = std::time::Duration::ZERO;
    let mut gathered = Vec::new();
    loop {
        let t = Instant::now();
        let swept = store
            .transaction(move |c| expiry::delete_due(c, later, pass))
            .await
            .expect("pass");
        slowest = slowest.max(t.elapsed());
        passes += 1;
        messages += swept.messages;
        events += swept.events;
        gathered.extend(swept.expired);
        let more = swept.messages >= pass as usize;
        if gathered.len() >= announce_every || (!more && !gathered.is_empty()) {
            let batch = std::mem::take(&mut gathered);
            let t = Instant::now();
            notices += store
                .transaction(move |c| {
                    expiry::announce(c, &batch, later, &|conversation, ids| {
                        format!(
                            "{{\"conversationId\":\"{conversation}\",\"n\":{}}}",
                            ids.len()
                        )
                    })
                })
                .await
                .expect("announce")
                .len();
            slowest = slowest.max(t.elapsed());
        }
        if !more {
            break;
        }
    }
    let swept_in = started.elapsed();
    assert_eq!(messages as u64, rows, "every message swept");

    println!("backend:            {backend}");
    println!(
        "messages:           {rows} in {conversation_count} conversations (2 members, 1 device each)"
    );
    println!(
        "seed (send path):   {:.1} s, {:.0} messages/s",
        seeded.as_secs_f64(),
        rows as f64 / seeded.as_secs_f64()
    );
    println!(
        "idle pass:          {:.2} ms",
        idle_cost.as_secs_f64() * 1e3
    );
    println!(
        "sweep:              {:.1} s, {:.0} messages/s ({passes} passes of {pass}, announced every {announce_every}; slowest transaction {:.0} ms)",
        swept_in.as_secs_f64(),
        messages as f64 / swept_in.as_secs_f64(),
        slowest.as_secs_f64() * 1e3
    );
    println!("deleted:            {messages} messages, {events} stream events");
    println!("expired events out: {notices}");

    drop(store);
    if let Some((admin_url, name)) = pg {
        admin::drop_database(&admin_url, &name).expect("drop database");
    }
}
