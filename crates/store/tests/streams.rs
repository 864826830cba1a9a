//! The routing core's record on both backends: batched sends, idempotency,
//! per-device sequences, acknowledgements and receipts, replay, retention.
#![allow(clippy::expect_used)]

mod common;

use common::user;

use chrono::Duration;
use passerelle_store::batch::{self, Outcome, WriteOp};
use passerelle_store::devices::{self, NewDevice};
use passerelle_store::streams::{self, EventKind, MessageRow};
use passerelle_store::{DbConn, DeviceId, StoreResult, UserId, now};
use uuid::Uuid;

fn device(c: &mut DbConn, user: UserId) -> StoreResult<DeviceId> {
    let id = DeviceId::new();
    devices::insert(
        c,
        &NewDevice {
            id,
            user_id: user,
            name: None,
            platform: None,
            external_key: None,
            registration_id: None,
            now: now(),
        },
    )?;
    Ok(id)
}

fn message(sender: UserId, sender_device: DeviceId, recipient: UserId) -> MessageRow {
    MessageRow {
        id: Uuid::now_v7(),
        message_id: Uuid::new_v4(),
        conversation_id: None,
        sender_id: sender,
        sender_device_id: sender_device,
        recipient_id: Some(recipient),
        message_type: "text".into(),
        timestamp: now(),
        session_id: "s1".into(),
        reply_to: None,
        blob_id: None,
        game_id: None,
        is_read: false,
        read_at: None,
        created_at: now(),
        withheld: false,
        expires_at: None,
    }
}

/// The notices' payloads do not matter here.
fn notice(_: &batch::Notice, _: chrono::DateTime<chrono::Utc>) -> String {
    "{}".into()
}

const RULES: batch::Rules = batch::Rules {
    notice,
    game_invite_ttl: std::time::Duration::from_secs(86_400),
};

fn send(m: &MessageRow) -> WriteOp {
    WriteOp::Send {
        message: m.clone(),
        recipients: vec![m.recipient_id.expect("direct")],
        entries: None,
    }
}

#[tokio::test]
async fn batches_fan_out_acknowledge_and_replay() {
    for f in common::migrated().await {
        f.store
            .transaction(|c| {
                let alice = user(c, "alice")?;
                let (a1, a2) = (device(c, alice)?, device(c, alice)?);
                let bob = user(c, "bob")?;
                let (b1, b2) = (device(c, bob)?, device(c, bob)?);

                // Two messages in one batch, plus a resend of the first in it.
                let m1 = message(alice, a1, bob);
                let m2 = message(alice, a1, bob);
                let out = batch::apply(c, &[send(&m1), send(&m2), send(&m1)], now(), &RULES)?;
                let Outcome::Sent { deliveries, sender_seq, duplicate: false, .. } = &out[0] else {
                    panic!("first send: {:?}", out[0]);
                };
                assert_eq!(deliveries.len(), 4, "2 recipient devices + both sender devices");
                assert_eq!(*sender_seq, 1);
                let Outcome::Sent { deliveries: d2, sender_seq: s2, .. } = &out[1] else {
                    panic!("second send");
                };
                assert!(d2.iter().all(|d| d.seq == 2), "contiguous per device: {d2:?}");
                assert_eq!(*s2, 2);
                assert!(matches!(&out[2], Outcome::Sent { duplicate: true, sender_seq: 1, deliveries, .. } if deliveries.is_empty()));

                // Resent in a later batch: same answer, nothing delivered.
                let again = batch::apply(c, &[send(&m1)], now(), &RULES)?;
                assert!(matches!(&again[0], Outcome::Sent { duplicate: true, message, sender_seq: 1, .. } if message.id == m1.id));
                assert_eq!(streams::state(c, b1)?.map(|s| s.last_seq), Some(2));

                // Another sender reusing the id, and an unknown recipient.
                let mut stolen = message(bob, b1, alice);
                stolen.message_id = m1.message_id;
                let nobody = message(alice, a1, UserId::new());
                let out = batch::apply(c, &[send(&stolen), send(&nobody)], now(), &RULES)?;
                assert_eq!(out[0], Outcome::MessageIdTaken);
                assert_eq!(out[1], Outcome::RecipientNotFound);

                // Replay of b2's stream.
                let events = streams::read(c, bob, b2, 0, 100)?;
                assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2]);
                assert_eq!(
                    events[0].message.as_ref().map(|m| m.message_id),
                    Some(m1.message_id)
                );
                assert_eq!(events[0].kind, EventKind::Message);
                assert_eq!(streams::read(c, bob, b2, 1, 100)?.len(), 1);

                // b1 acknowledges both: receipts to each of alice's devices.
                let out = batch::apply(c, &[WriteOp::Ack { user: bob, device: b1, seq: 2 }], now(), &RULES)?;
                let Outcome::Acked { acked_seq: 2, receipts } = &out[0] else {
                    panic!("ack: {:?}", out[0]);
                };
                assert_eq!(receipts.len(), 4, "2 messages x 2 sender devices");
                assert!(receipts.iter().all(|r| r.kind == EventKind::Receipt && r.actor_device_id == Some(b1)));
                let a2_events = streams::read(c, alice, a2, 0, 100)?;
                assert_eq!(a2_events.iter().map(|e| (e.seq, e.kind)).collect::<Vec<_>>(),
                    vec![(1, EventKind::Message), (2, EventKind::Message), (3, EventKind::Receipt), (4, EventKind::Receipt)]);
                // Acking again, or beyond the end, changes nothing and sends no receipt.
                let out = batch::apply(c, &[WriteOp::Ack { user: bob, device: b1, seq: 99 }], now(), &RULES)?;
                assert!(matches!(&out[0], Outcome::Acked { acked_seq: 2, receipts } if receipts.is_empty()));
                // Alice acknowledging her own sync copies sends no receipt.
                let out = batch::apply(c, &[WriteOp::Ack { user: alice, device: a2, seq: 2 }], now(), &RULES)?;
                assert!(matches!(&out[0], Outcome::Acked { acked_seq: 2, receipts } if receipts.is_empty()));
                let state = streams::state(c, a2)?.expect("state");
                assert_eq!((state.last_seq, state.acked_seq, state.oldest_seq), (4, 2, Some(1)));

                // Retention: acknowledged events past the grace go; others stay.
                let later = now() + Duration::minutes(10);
                let deleted = streams::sweep(c, later, now() - Duration::days(30), 1000)?;
                assert_eq!(deleted, 4, "b1's two and a2's two acknowledged events");
                assert_eq!(streams::state(c, a2)?.and_then(|s| s.oldest_seq), Some(3));
                assert_eq!(streams::read(c, bob, b2, 0, 10)?.len(), 2, "b2 has not acknowledged");
                // Undelivered retention removes the rest.
                streams::sweep(c, now() - Duration::days(1), later, 1000)?;
                assert_eq!(streams::state(c, b2)?.and_then(|s| s.oldest_seq), None);
                assert_eq!(streams::state(c, b2)?.map(|s| s.last_seq), Some(2), "sequences never go back");
                Ok(())
            })
            .await
            .expect("scenario");
    }
}

#[tokio::test]
async fn revoked_devices_get_nothing_new() {
    for f in common::migrated().await {
        f.store
            .transaction(|c| {
                let alice = user(c, "alice")?;
                let a1 = device(c, alice)?;
                let bob = user(c, "bob")?;
                let (b1, b2) = (device(c, bob)?, device(c, bob)?);
                devices::revoke(c, bob, b2, now())?;
                let out = batch::apply(c, &[send(&message(alice, a1, bob))], now(), &RULES)?;
                let Outcome::Sent { deliveries, .. } = &out[0] else {
                    panic!("sent")
                };
                let devices: Vec<DeviceId> = deliveries.iter().map(|d| d.device).collect();
                assert!(devices.contains(&b1) && devices.contains(&a1));
                assert!(!devices.contains(&b2));
                Ok(())
            })
            .await
            .expect("scenario");
    }
}

#[tokio::test]
async fn concurrent_batches_keep_sequences_contiguous() {
    for f in common::migrated().await {
        let (alice, a1, bob, b1) = f
            .store
            .transaction(|c| {
                let alice = user(c, "alice")?;
                let a1 = device(c, alice)?;
                let bob = user(c, "bob")?;
                let b1 = device(c, bob)?;
                Ok((alice, a1, bob, b1))
            })
            .await
            .expect("setup");
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let store = f.store.clone();
            tasks.push(tokio::spawn(async move {
                for _ in 0..5 {
                    let ops: Vec<WriteOp> =
                        (0..4).map(|_| send(&message(alice, a1, bob))).collect();
                    store
                        .transaction(move |c| batch::apply(c, &ops, now(), &RULES))
                        .await
                        .expect("batch");
                }
            }));
        }
        for t in tasks {
            t.await.expect("task");
        }
        let seqs: Vec<u64> = f
            .store
            .run(move |c| streams::read(c, bob, b1, 0, 1000))
            .await
            .expect("read")
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(
            seqs,
            (1..=160).collect::<Vec<u64>>(),
            "no gap, no duplicate"
        );
    }
}

#[tokio::test]
async fn a_message_carries_only_its_senders_granted_blob() {
    use passerelle_store::blobs::{self, Purpose};
    for f in common::migrated().await {
        f.store
            .transaction(|c| {
                let alice = user(c, "alice")?;
                let a1 = device(c, alice)?;
                let bob = user(c, "bob")?;
                let b1 = device(c, bob)?;
                let hers = blobs::new_id();
                blobs::insert(c, &hers, alice, Purpose::Attachment, 10, None, now())?;
                let avatar = blobs::new_id();
                blobs::insert(c, &avatar, alice, Purpose::Avatar, 10, None, now())?;

                let with = |m: MessageRow, blob: &str| MessageRow {
                    blob_id: Some(blob.to_owned()),
                    ..m
                };
                let out = batch::apply(
                    c,
                    &[
                        send(&with(message(bob, b1, alice), &hers)),
                        send(&with(message(alice, a1, bob), "bunknown")),
                        send(&with(message(alice, a1, bob), &avatar)),
                        send(&with(message(alice, a1, bob), &hers)),
                    ],
                    now(),
                    &RULES,
                )?;
                assert_eq!(out[0], Outcome::BlobNotFound, "someone else's");
                assert_eq!(out[1], Outcome::BlobNotFound, "unknown");
                assert_eq!(out[2], Outcome::BlobNotFound, "an avatar");
                assert!(matches!(
                    &out[3],
                    Outcome::Sent {
                        duplicate: false,
                        ..
                    }
                ));
                let row = blobs::find(c, &hers)?.expect("granted");
                assert!(row.attached_at.is_some(), "attached by the send");
                assert!(
                    blobs::find(c, &avatar)?
                        .expect("avatar")
                        .attached_at
                        .is_none()
                );
                Ok(())
            })
            .await
            .expect("transaction");
    }
}
