//! Typing across gateway nodes (Postgres + Redis): a `typing` from a
//! session on node A reaches the other members' sessions and the typer's
//! other session on node B, but not a member on node B who blocks the
//! typer, and is not echoed to the typing session.
//!
//! These need a shared Postgres and Redis; they are `#[ignore]`d on the
//! embedded pass and run on the Postgres pass, like `multinode.rs`.

use passerelle_client::ws::TypingState;

use crate::common::*;
use crate::multinode::require_postgres;
use crate::typing::{direct, expect_typing, typing};

#[tokio::test]
#[ignore = "needs Postgres and Redis: runs on the Postgres pass (-- --include-ignored)"]
async fn typing_on_node_a_reaches_members_on_node_b() {
    require_postgres();
    let a = builder().spawn().await;
    let b = builder().same_deployment_as(&a).spawn().await;
    let alice = register(&a, "tx_alice").await;
    let alice_b = login_ok(&b, "tx_alice").await;
    let bob = register(&b, "tx_bob").await;
    let carol = register(&b, "tx_carol").await;
    let group = group_with(&a, &alice, "tx_group", &[&bob, &carol]).await;
    let dm = direct(&b, &bob, &alice).await;
    let resp = set_block(&b, &carol, &alice.user_id, true).await;
    assert!(resp.status().is_success(), "{}", resp.status());
    let mut ca = ws(&a, &alice).await;
    let mut ca_b = ws(&b, &alice_b).await;
    let mut cb = ws(&b, &bob).await;
    let mut cc = ws(&b, &carol).await;

    typing(&mut ca, &group, TypingState::Started, None).await;
    let events = expect_typing(
        &mut [&mut cb, &mut ca_b],
        &group,
        &alice,
        TypingState::Started,
    )
    .await;
    assert!(events.iter().all(|e| e.expires_in_ms == Some(6000)));
    quiet(&mut ca, 300).await;
    quiet(&mut cc, 300).await;

    // And back: Bob on node B types in the direct conversation; Alice's
    // sessions on both nodes hear it.
    typing(&mut cb, &dm, TypingState::Started, None).await;
    expect_typing(&mut [&mut ca, &mut ca_b], &dm, &bob, TypingState::Started).await;
    typing(&mut ca, &group, TypingState::Stopped, None).await;
    expect_typing(
        &mut [&mut cb, &mut ca_b],
        &group,
        &alice,
        TypingState::Stopped,
    )
    .await;
    quiet(&mut cb, 300).await;
    quiet(&mut cc, 300).await;
}
