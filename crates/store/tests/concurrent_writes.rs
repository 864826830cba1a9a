//! A write outside any transaction (a node's heartbeat, a device's
//! last-seen time) that lands while a transaction is between its reads and
//! its first write must not fail that transaction: on SQLite the outermost
//! transaction takes the write lock at its start, so the lone write waits
//! for it (under the busy timeout) instead of making the transaction fail
//! with "database is locked". Both backends.
#![allow(clippy::expect_used)]

mod common;

use std::time::Duration;

use common::user;
use passerelle_store::{devices, now};

#[tokio::test]
async fn a_lone_write_during_a_transaction_waits_and_neither_fails() {
    for f in common::migrated().await {
        let (alice, device) = f
            .store
            .transaction(|c| {
                let alice = user(c, "alice")?;
                let device = passerelle_store::DeviceId::new();
                devices::insert(
                    c,
                    &devices::NewDevice {
                        id: device,
                        user_id: alice,
                        name: Some("phone"),
                        platform: None,
                        external_key: None,
                        registration_id: None,
                        now: now(),
                    },
                )?;
                Ok((alice, device))
            })
            .await
            .expect("setup");
        let (read_tx, read_rx) = std::sync::mpsc::channel::<()>();
        let store = f.store.clone();
        // The transaction: reads, lets the lone write go, waits, writes.
        let tx = tokio::spawn(async move {
            store
                .transaction(move |c| {
                    let before = devices::list_active(c, alice)?;
                    assert_eq!(before.len(), 1);
                    read_tx.send(()).expect("signal");
                    std::thread::sleep(Duration::from_millis(300));
                    devices::rename(c, alice, device, "renamed")?;
                    Ok(())
                })
                .await
        });
        let store = f.store.clone();
        let lone = tokio::task::spawn_blocking(move || read_rx.recv())
            .await
            .expect("join");
        lone.expect("the transaction read");
        store
            .run(move |c| devices::touch(c, device, now()))
            .await
            .expect("the lone write waits, then succeeds");
        tx.await
            .expect("join")
            .expect("the transaction is not failed by the lone write");
        let after = f
            .store
            .run(move |c| devices::list_active(c, alice))
            .await
            .expect("read");
        assert_eq!(after[0].name.as_deref(), Some("renamed"));
    }
}
