//! The open-loop scheduler: send `i` is due at `t0 + i / rate`, goes to a
//! random device's writer at that time (at once when behind), and carries
//! its intended time in its message id. Replies are never awaited, so a slow
//! server shows up as latency, not as a lower send rate (no coordinated
//! omission).
//!
//! With `--per-device` each direct message carries one `deviceEntries`
//! entry per addressed device (the recipient's devices and the sender's
//! other devices, at their registration numbers), all naming the sender's
//! one granted blob.

use std::time::{Duration, Instant};

use chrono::Utc;
use hdrhistogram::Histogram;
use passerelle_client::ws::{DeviceEntry, MessageType, SendMessage};
use tokio::sync::mpsc::UnboundedSender;

use crate::clock::{Clock, Rng, message_id};
use crate::report::new_histogram;
use crate::session::Out;
use crate::setup::Population;

/// What the scheduler did.
#[derive(Debug)]
pub struct Schedule {
    /// Messages handed to writers.
    pub dispatched: u64,
    /// Deliveries those messages must cause.
    pub expected: u64,
    /// Of those, the ones intended inside the measured window.
    pub measured_messages: u64,
    pub measured_expected: u64,
    /// Writers that were gone (session closed) when a send was due.
    pub dispatch_failures: u64,
    /// Dispatch time − intended time, µs: how far the load generator itself
    /// fell behind.
    pub lag: Histogram<u64>,
}

/// How messages are addressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// To a random other user.
    Direct,
    /// To a random other user, with one entry per addressed device.
    PerDevice,
    /// To this group of every user.
    Group(uuid::Uuid),
}

/// Timing of the schedule.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub t0: Instant,
    pub rate: f64,
    pub warmup: Duration,
    pub duration: Duration,
}

/// Runs the schedule to its end. `writers[d]` is device `d`'s channel.
pub async fn drive(
    pop: &Population,
    writers: &[UnboundedSender<Out>],
    timing: Timing,
    clock: Clock,
    run_tag: u32,
    seed: u64,
    mode: Mode,
) -> Schedule {
    let mut rng = Rng::new(seed);
    let mut s = Schedule {
        dispatched: 0,
        expected: 0,
        measured_messages: 0,
        measured_expected: 0,
        dispatch_failures: 0,
        lag: new_histogram(),
    };
    let total_secs = (timing.warmup + timing.duration).as_secs_f64();
    let total = (total_secs * timing.rate).floor() as u64;
    let warm = (timing.warmup.as_secs_f64() * timing.rate).floor() as u64;
    let mut i: u64 = 0;
    while i < total {
        let due = timing.t0 + Duration::from_secs_f64(i as f64 / timing.rate);
        let now = Instant::now();
        if due > now {
            tokio::time::sleep_until(due.into()).await;
            continue;
        }
        // Everything due by now goes out in one burst.
        while i < total {
            let due = timing.t0 + Duration::from_secs_f64(i as f64 / timing.rate);
            if due > now {
                break;
            }
            let expected = dispatch_one(
                pop,
                writers,
                &mut rng,
                clock.nanos_at(due),
                (run_tag, i),
                mode,
            );
            match expected {
                Some(e) => {
                    s.dispatched += 1;
                    s.expected += e;
                    if i >= warm {
                        s.measured_messages += 1;
                        s.measured_expected += e;
                    }
                }
                None => s.dispatch_failures += 1,
            }
            let lag = Instant::now().saturating_duration_since(due);
            s.lag
                .saturating_record(u64::try_from(lag.as_micros()).unwrap_or(u64::MAX));
            i += 1;
        }
    }
    s
}

/// Sends one message from a random device to a random other user (or to
/// the group of [`Mode::Group`], every user); the deliveries it must cause,
/// or `None` if the writer is gone.
fn dispatch_one(
    pop: &Population,
    writers: &[UnboundedSender<Out>],
    rng: &mut Rng,
    intended: u64,
    (run_tag, i): (u32, u64),
    mode: Mode,
) -> Option<u64> {
    let from = rng.below(pop.devices.len());
    if let Mode::Group(conversation) = mode {
        let msg = SendMessage {
            device_entries: None,
            message_id: message_id(intended, run_tag, i as u32),
            recipient_id: None,
            conversation_id: Some(conversation),
            timestamp: Utc::now(),
            session_id: format!("lg-{intended}"),
            message_type: MessageType::Text,
            reply_to: None,
            blob_id: None,
            game_id: None,
        };
        writers[from].send(Out::Msg(Box::new(msg))).ok()?;
        // Every device but the sending one.
        return Some(pop.devices.len() as u64 - 1);
    }
    let sender_user = pop.devices[from].user;
    // Any user but the sender's (setup guarantees at least two).
    let mut to = rng.below(pop.users.len() - 1);
    if to >= sender_user {
        to += 1;
    }
    let recipient = &pop.users[to];
    let expected = recipient.devices.len() + pop.users[sender_user].devices.len() - 1;
    let device_entries = (mode == Mode::PerDevice).then(|| entries(pop, from, to));
    let msg = SendMessage {
        device_entries,
        message_id: message_id(intended, run_tag, i as u32),
        recipient_id: Some(recipient.user_id),
        conversation_id: None,
        timestamp: Utc::now(),
        session_id: format!("lg-{intended}"),
        message_type: MessageType::Text,
        reply_to: None,
        blob_id: None,
        game_id: None,
    };
    writers[from].send(Out::Msg(Box::new(msg))).ok()?;
    Some(expected as u64)
}

/// One entry per device that device `from` addresses when writing to user `to`:
/// every device of `to`, then the sender's other devices, each at its
/// registration number, all naming the sender's blob. Setup made sure
/// every number and blob is there; a missing one becomes 0 and an empty
/// blob id, which the gateway refuses (and the run reports).
pub fn entries(pop: &Population, from: usize, to: usize) -> Vec<DeviceEntry> {
    let sender = &pop.users[pop.devices[from].user];
    let blob = sender.blob_id.clone().unwrap_or_default();
    pop.users[to]
        .devices
        .iter()
        .chain(sender.devices.iter().filter(|d| **d != from))
        .map(|d| {
            let dev = &pop.devices[*d];
            DeviceEntry {
                device_id: dev.device_id,
                registration_id: dev.registration_id.unwrap_or_default(),
                blob_id: blob.clone(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::setup::{Device, User};
    use uuid::Uuid;

    #[test]
    fn entries_address_the_recipient_and_the_other_own_devices() {
        let mut pop = Population::default();
        for u in 0..2 {
            let mut devices = Vec::new();
            for _ in 0..3 {
                let i = pop.devices.len();
                devices.push(i);
                pop.devices.push(Device {
                    user: u,
                    device_id: Uuid::from_u128(i as u128 + 1),
                    token: String::new(),
                    url: 0,
                    registration_id: Some(100 + i as u32),
                });
            }
            pop.users.push(User {
                user_id: Uuid::from_u128(1000 + u as u128),
                devices,
                blob_id: Some(format!("blob{u}")),
            });
        }
        // Device 4 (user 1's second) writes to user 0.
        let e = entries(&pop, 4, 0);
        let ids: Vec<u128> = e.iter().map(|e| e.device_id.as_u128()).collect();
        assert_eq!(ids, [1, 2, 3, 4, 6]);
        assert!(e.iter().all(|e| e.blob_id == "blob1"));
        assert_eq!(e[0].registration_id, 100);
        assert_eq!(e[4].registration_id, 105);
    }
}
