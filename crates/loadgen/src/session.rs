//! The two tasks of a session: a writer draining a channel of frames
//! (messages from the scheduler, acks from the reader) so that nobody ever
//! waits on a socket, and a reader that records every event.
//!
//! Each reader keeps its own counters and hands them back when it ends.
//! Latencies go to a few striped, shared histograms (an HdrHistogram of
//! this range is ~180 KiB, too much per session): a reader only ever locks
//! its own stripe, so locks are rarely contended. The delivery and `sent`
//! totals are atomics, for the drain phase to know when everything arrived.
//!
//! In `--per-device` runs a reader also checks that every `message` it is
//! delivered carries its own device's entry (`deviceEntry`), at its
//! registration number; a missing or wrong one is an error of the run.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hdrhistogram::Histogram;
use passerelle_client::ws::{
    DeviceEntry, FrameErrorBody, FrameErrorCode, SendMessage, ServerFrame, TypingState,
};
use passerelle_client::{ClientError, Receiver, Sender};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::clock::{Clock, intended_nanos};
use crate::report::new_histogram;

/// A frame for a session's writer.
#[derive(Debug)]
pub enum Out {
    Msg(Box<SendMessage>),
    Ack(u64),
    /// `typing {conversationId, state: started}`.
    Typing(Uuid),
}

/// Histogram stripes shared by the readers.
const STRIPES: usize = 8;

/// Intended send → delivery and intended send → `sent`, µs.
type Pair = (Histogram<u64>, Histogram<u64>);

/// Totals shared by every task of a run.
#[derive(Debug)]
pub struct Shared {
    pub deliveries: AtomicU64,
    pub sent_replies: AtomicU64,
    pub written: AtomicU64,
    pub write_failures: AtomicU64,
    latencies: Vec<Mutex<Pair>>,
    /// Group runs: deliveries still due per message (by its counter), and
    /// intended send → last delivery of each measured message, µs.
    remaining: Vec<AtomicU32>,
    completion: Mutex<Histogram<u64>>,
    /// Whether a `device_mismatch` was already shown on stderr.
    mismatch_shown: AtomicBool,
}

impl Shared {
    pub fn new() -> Self {
        Self {
            deliveries: AtomicU64::new(0),
            sent_replies: AtomicU64::new(0),
            written: AtomicU64::new(0),
            write_failures: AtomicU64::new(0),
            latencies: (0..STRIPES)
                .map(|_| Mutex::new((new_histogram(), new_histogram())))
                .collect(),
            remaining: Vec::new(),
            completion: Mutex::new(new_histogram()),
            mismatch_shown: AtomicBool::new(false),
        }
    }

    /// Tracks when the last of `per_message` deliveries of each of
    /// `messages` messages arrives.
    pub fn with_completion(messages: u64, per_message: u32) -> Self {
        Self {
            remaining: (0..messages).map(|_| AtomicU32::new(per_message)).collect(),
            ..Self::new()
        }
    }

    /// A first delivery of message `counter`; records its completion when
    /// it was the last one due.
    fn delivered(&self, counter: u32, latency_us: Option<u64>) {
        let Some(left) = self.remaining.get(counter as usize) else {
            return;
        };
        if left.fetch_sub(1, Ordering::Relaxed) == 1
            && let Some(us) = latency_us
            && let Ok(mut h) = self.completion.lock()
        {
            h.saturating_record(us);
        }
    }

    /// Group runs: intended send → last member delivery, µs.
    pub fn completion(&self) -> Option<Histogram<u64>> {
        if self.remaining.is_empty() {
            return None;
        }
        self.completion.lock().ok().map(|h| h.clone())
    }

    pub fn record(&self, stripe: usize, delivery: Option<u64>, sent: Option<u64>) {
        if let Ok(mut pair) = self.latencies[stripe % STRIPES].lock() {
            if let Some(us) = delivery {
                pair.0.saturating_record(us);
            }
            if let Some(us) = sent {
                pair.1.saturating_record(us);
            }
        }
    }

    /// Every stripe merged: (delivery, `sent`) latencies in µs.
    pub fn latencies(&self) -> Pair {
        let (mut d, mut s) = (new_histogram(), new_histogram());
        for stripe in &self.latencies {
            if let Ok(pair) = stripe.lock() {
                // Same bounds everywhere, so `add` cannot fail.
                let _ = d.add(&pair.0);
                let _ = s.add(&pair.1);
            }
        }
        (d, s)
    }
}

/// What a reader needs besides its socket.
#[derive(Debug, Clone)]
pub struct ReaderContext {
    pub clock: Clock,
    pub shared: Arc<Shared>,
    /// Messages intended before this (Unix ns) are warm-up: counted, not
    /// timed.
    pub measure_from: u64,
    pub stop: watch::Receiver<bool>,
    pub ack_interval: Option<Duration>,
    /// Which latency stripe this reader records into.
    pub stripe: usize,
    /// `--per-device`: this device's registration number, which the entry
    /// of every message delivered to it must carry.
    pub entry_for: Option<u32>,
}

/// What one reader saw.
#[derive(Debug)]
pub struct SessionStats {
    pub deliveries: u64,
    pub measured_deliveries: u64,
    /// `sent` replies of measured messages.
    pub measured_sent: u64,
    pub duplicates: u64,
    /// Own messages echoed back to the sending device (must be 0).
    pub own_echoes: u64,
    pub sent_replies: u64,
    pub sent_duplicate_flag: u64,
    pub receipts: u64,
    pub acks_sent: u64,
    pub errors: BTreeMap<String, u64>,
    pub closes: BTreeMap<u16, u64>,
    /// Latest delivery of a measured message (Unix ns).
    pub last_delivery: u64,
    /// `--per-device`: deliveries that carried this device's entry right.
    pub entries_ok: u64,
}

impl SessionStats {
    pub fn new() -> Self {
        Self {
            measured_sent: 0,
            deliveries: 0,
            measured_deliveries: 0,
            duplicates: 0,
            own_echoes: 0,
            sent_replies: 0,
            sent_duplicate_flag: 0,
            receipts: 0,
            acks_sent: 0,
            errors: BTreeMap::new(),
            closes: BTreeMap::new(),
            last_delivery: 0,
            entries_ok: 0,
        }
    }

    pub fn merge(&mut self, o: &SessionStats) {
        self.measured_sent += o.measured_sent;
        self.deliveries += o.deliveries;
        self.measured_deliveries += o.measured_deliveries;
        self.duplicates += o.duplicates;
        self.own_echoes += o.own_echoes;
        self.sent_replies += o.sent_replies;
        self.sent_duplicate_flag += o.sent_duplicate_flag;
        self.receipts += o.receipts;
        self.acks_sent += o.acks_sent;
        for (k, v) in &o.errors {
            *self.errors.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &o.closes {
            *self.closes.entry(*k).or_default() += v;
        }
        self.last_delivery = self.last_delivery.max(o.last_delivery);
        self.entries_ok += o.entries_ok;
    }
}

/// Spawns the writer: sends what arrives on `rx` until the channel closes,
/// then closes the session.
pub fn spawn_writer(
    mut tx: Sender,
    mut rx: mpsc::UnboundedReceiver<Out>,
    shared: Arc<Shared>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(out) = rx.recv().await {
            let r = match out {
                Out::Msg(m) => {
                    let r = tx.send_message(*m).await;
                    if r.is_ok() {
                        shared.written.fetch_add(1, Ordering::Relaxed);
                    }
                    r
                }
                Out::Ack(seq) => tx.ack(seq).await,
                Out::Typing(conversation) => {
                    let r = tx.typing(conversation, TypingState::Started).await;
                    if r.is_ok() {
                        shared.written.fetch_add(1, Ordering::Relaxed);
                    }
                    r
                }
            };
            if r.is_err() {
                shared.write_failures.fetch_add(1, Ordering::Relaxed);
                // Drain without writing so the scheduler never blocks.
                while rx.recv().await.is_some() {
                    shared.write_failures.fetch_add(1, Ordering::Relaxed);
                }
                return;
            }
        }
        let _ = tokio::time::timeout(Duration::from_secs(2), tx.close()).await;
    })
}

/// Spawns the reader of the session of `device`; acks go to `acks` (if any)
/// every `ctx.ack_interval`. Ends when `ctx.stop` turns true or the session
/// closes.
pub fn spawn_reader(
    mut rx: Receiver,
    device: Uuid,
    acks: Option<mpsc::UnboundedSender<Out>>,
    mut ctx: ReaderContext,
) -> JoinHandle<SessionStats> {
    tokio::spawn(async move {
        let mut st = SessionStats::new();
        let mut seen: HashSet<Uuid> = HashSet::new();
        let (mut high, mut acked) = (0u64, 0u64);
        let period = ctx.ack_interval.unwrap_or(Duration::from_secs(3600));
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let acking = ctx.ack_interval.is_some() && acks.is_some();
        loop {
            tokio::select! {
                changed = ctx.stop.changed() => {
                    if changed.is_err() || *ctx.stop.borrow() {
                        break;
                    }
                }
                _ = tick.tick(), if acking => {
                    if high > acked
                        && let Some(a) = &acks
                        && a.send(Out::Ack(high)).is_ok()
                    {
                        acked = high;
                        st.acks_sent += 1;
                    }
                }
                frame = rx.next() => match frame {
                    Ok(f) => on_frame(f, device, &ctx, &mut st, &mut seen, &mut high),
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

/// The wire name of an `error` frame's code (`rate_limited`, ...), the key
/// every scenario counts refusals under.
pub(crate) fn error_name(code: passerelle_client::ws::FrameErrorCode) -> String {
    serde_json::to_value(code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("{code:?}"))
}

fn on_frame(
    f: ServerFrame,
    device: Uuid,
    ctx: &ReaderContext,
    st: &mut SessionStats,
    seen: &mut HashSet<Uuid>,
    high: &mut u64,
) {
    let now = ctx.clock.now_nanos();
    match f {
        ServerFrame::Message { seq, payload } => {
            *high = (*high).max(seq);
            if payload.sender_device_id == device {
                st.own_echoes += 1;
                return;
            }
            if let Some(registration) = ctx.entry_for {
                match check_entry(payload.device_entry.as_ref(), device, registration) {
                    Ok(()) => st.entries_ok += 1,
                    Err(what) => *st.errors.entry(what.into()).or_default() += 1,
                }
            }
            st.deliveries += 1;
            ctx.shared.deliveries.fetch_add(1, Ordering::Relaxed);
            if !seen.insert(payload.message_id) {
                st.duplicates += 1;
                return;
            }
            let intended = intended_nanos(&payload.message_id);
            let counter = payload.message_id.as_u64_pair().1 as u32;
            if intended >= ctx.measure_from {
                st.measured_deliveries += 1;
                let us = now.saturating_sub(intended) / 1000;
                ctx.shared.record(ctx.stripe, Some(us), None);
                ctx.shared.delivered(counter, Some(us));
                st.last_delivery = st.last_delivery.max(now);
            } else {
                ctx.shared.delivered(counter, None);
            }
        }
        ServerFrame::Sent { payload, .. } => {
            st.sent_replies += 1;
            ctx.shared.sent_replies.fetch_add(1, Ordering::Relaxed);
            if payload.duplicate {
                st.sent_duplicate_flag += 1;
            }
            let intended = intended_nanos(&payload.message_id);
            if intended >= ctx.measure_from {
                st.measured_sent += 1;
                let us = now.saturating_sub(intended) / 1000;
                ctx.shared.record(ctx.stripe, None, Some(us));
            }
        }
        ServerFrame::Receipt { seq, .. } => {
            *high = (*high).max(seq);
            st.receipts += 1;
        }
        ServerFrame::Error { payload, .. } => {
            if payload.code == FrameErrorCode::DeviceMismatch
                && !ctx.shared.mismatch_shown.swap(true, Ordering::Relaxed)
            {
                show_mismatch(&payload);
            }
            let code = error_name(payload.code);
            *st.errors.entry(code).or_default() += 1;
        }
        _ => {}
    }
}

/// Error key of a delivery without an entry for the receiving device.
pub const ENTRY_MISSING: &str = "device_entry_missing";
/// Error key of a delivery whose entry names another device, another
/// registration number, or no blob.
pub const ENTRY_WRONG: &str = "device_entry_wrong";

/// Whether a delivered message's `deviceEntry` is the one for `device` at
/// `registration`.
fn check_entry(
    entry: Option<&DeviceEntry>,
    device: Uuid,
    registration: u32,
) -> Result<(), &'static str> {
    match entry {
        None => Err(ENTRY_MISSING),
        Some(e)
            if e.device_id == device
                && e.registration_id == registration
                && !e.blob_id.is_empty() =>
        {
            Ok(())
        }
        Some(_) => Err(ENTRY_WRONG),
    }
}

/// The first `device_mismatch` of a run, on stderr: what the gateway says
/// is missing, extra or stale (the run counts the others).
fn show_mismatch(payload: &FrameErrorBody) {
    let lists = payload.mismatch.as_ref().map(|m| {
        format!(
            "missing {:?}, extra {:?}, stale {:?}",
            m.missing
                .iter()
                .map(|d| (d.device_id, d.registration_id))
                .collect::<Vec<_>>(),
            m.extra,
            m.stale
                .iter()
                .map(|d| (d.device_id, d.registration_id))
                .collect::<Vec<_>>()
        )
    });
    eprintln!(
        "warning: first device_mismatch: {} ({})",
        payload.message,
        lists.unwrap_or_default()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delivery_must_carry_its_own_entry() {
        let me = Uuid::from_u128(1);
        let entry = |device, registration_id, blob: &str| DeviceEntry {
            device_id: device,
            registration_id,
            blob_id: blob.to_owned(),
        };
        assert_eq!(check_entry(Some(&entry(me, 9, "b")), me, 9), Ok(()));
        assert_eq!(check_entry(None, me, 9), Err(ENTRY_MISSING));
        let other = Uuid::from_u128(2);
        assert_eq!(
            check_entry(Some(&entry(other, 9, "b")), me, 9),
            Err(ENTRY_WRONG)
        );
        assert_eq!(
            check_entry(Some(&entry(me, 8, "b")), me, 9),
            Err(ENTRY_WRONG)
        );
        assert_eq!(
            check_entry(Some(&entry(me, 9, "")), me, 9),
            Err(ENTRY_WRONG)
        );
    }

    #[test]
    fn mismatches_count_under_their_wire_name() {
        // The report reads the count under this key.
        assert_eq!(
            error_name(FrameErrorCode::DeviceMismatch),
            "device_mismatch"
        );
    }
}
