//! Device-list events and per-device messages across two gateway nodes
//! (Postgres + Redis): a device added on one node is seen at once by a
//! peer on the other, and a per-device message sent on one node reaches
//! each device on the other with its own entry. `#[ignore]`d on the
//! embedded pass, run on the Postgres pass like `multinode.rs`.

use passerelle_client::ws::{DeviceChange, DeviceEntry, SendMessage, ServerFrame};
use reqwest::StatusCode;

use crate::blobs::upload_grant;
use crate::common::*;
use crate::device_directory::{login_with, numbers, register_with};
use crate::multinode::require_postgres;

#[tokio::test]
#[ignore = "needs Postgres and Redis: runs on the Postgres pass (-- --include-ignored)"]
async fn a_device_added_on_one_node_is_seen_on_the_other_and_entries_cross_nodes() {
    require_postgres();
    let a = server().await;
    let b = builder().same_deployment_as(&a).spawn().await;
    let (alice, _) = register_with(&a, "dn_alice", None).await;
    let (bob1, b1_reg) = register_with(&b, "dn_bob", None).await;
    let resp = add_contact(&a, &alice, serde_json::json!({"userId": bob1.user_id})).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let (mut on_a, _) = ws_resumed(&a, &alice, None).await;
    let (mut b1, _) = ws_resumed(&b, &bob1, None).await;

    // Bob's second device, logged in on node B: Alice (a contact of his)
    // hears it on node A.
    let (bob2, b2_reg) = login_with(&b, "dn_bob", None).await;
    let change = loop {
        if let ServerFrame::Devices { payload, .. } = next(&mut on_a).await
            && payload.device_id.to_string() == bob2.device_id
        {
            break (payload.change, payload.registration_id);
        }
    };
    assert_eq!(change, (DeviceChange::Added, Some(b2_reg)));
    assert_eq!(numbers(&a, &alice, &bob1.user_id).await.len(), 2);
    let (mut b2, _) = ws_resumed(&b, &bob2, None).await;

    // A per-device message from node A: each of Bob's devices on node B
    // gets its own entry.
    let mut entries = Vec::new();
    for (d, reg) in [(&bob1, b1_reg), (&bob2, b2_reg)] {
        entries.push(DeviceEntry {
            device_id: d.device_id.parse().expect("uuid"),
            registration_id: reg,
            blob_id: upload_grant(&a, &alice, "message", 64).await["blobId"]
                .as_str()
                .expect("blob")
                .to_owned(),
        });
    }
    let m = SendMessage {
        device_entries: Some(entries.clone()),
        ..message_to(&bob1.user_id)
    };
    on_a.send_message(m.clone()).await.expect("send");
    loop {
        match next(&mut on_a).await {
            ServerFrame::Sent { .. } => break,
            ServerFrame::Error { payload, .. } => panic!("refused: {payload:?}"),
            _ => {}
        }
    }
    for (conn, want) in [(&mut b1, &entries[0]), (&mut b2, &entries[1])] {
        let got = loop {
            if let ServerFrame::Message { payload, .. } = next(conn).await
                && payload.message_id == m.message_id
            {
                break payload.device_entry;
            }
        };
        assert_eq!(got.as_ref(), Some(want));
    }
}
