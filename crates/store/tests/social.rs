//! Contacts, blocks, profiles and the pair facts, on every available backend.
#![allow(clippy::expect_used)]

mod common;

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use passerelle_domain::{
    MessagePolicy, PresenceSettings, PresenceVisibility, ProfileVisibility, Relation,
};
use passerelle_store::social::{self, PageKey, ProfileChange};
use passerelle_store::users::{self, NewUser};
use passerelle_store::{DbConn, StoreError, StoreResult, UserId, now};

fn add_user(c: &mut DbConn, username: &str) -> StoreResult<UserId> {
    let id = UserId::new();
    users::insert(
        c,
        &NewUser {
            id,
            username,
            display_name: None,
            password_hash: Some("$argon2id$fake"),
            external_issuer: None,
            external_subject: None,
            now: now(),
        },
    )?;
    Ok(id)
}

fn users_named(c: &mut DbConn, names: &[&str]) -> StoreResult<Vec<UserId>> {
    names.iter().map(|n| add_user(c, n)).collect()
}

#[tokio::test]
async fn relation_reads_both_directions_in_one_go() {
    for f in common::migrated().await {
        f.store
            .transaction(|c| {
                let ids = users_named(c, &["ann", "ben", "cat"])?;
                let (a, b, x) = (ids[0], ids[1], ids[2]);
                assert_eq!(social::relation(c, a, b)?, Relation::default());
                let t = now();
                assert!(social::add_contact(c, a, b, t)?);
                assert!(!social::add_contact(c, a, b, t)?, "already a contact");
                assert!(social::block(c, b, a, t)?);
                assert!(!social::block(c, b, a, t)?, "already blocked");
                let r = social::relation(c, a, b)?;
                assert_eq!(
                    r,
                    Relation {
                        a_blocked_b: false,
                        b_blocked_a: true,
                        a_has_b_as_contact: true,
                        b_has_a_as_contact: false,
                    }
                );
                assert_eq!(social::relation(c, b, a)?, r.reversed());
                // A third user is unaffected.
                assert_eq!(social::relation(c, a, x)?, Relation::default());
                assert_eq!(social::relation(c, x, b)?, Relation::default());

                assert!(social::unblock(c, b, a)?);
                assert!(!social::unblock(c, b, a)?);
                assert!(social::remove_contact(c, a, b)?);
                assert!(!social::remove_contact(c, a, b)?);
                assert_eq!(social::relation(c, a, b)?, Relation::default());
                Ok(())
            })
            .await
            .expect("relations");
    }
}

#[tokio::test]
async fn blocked_pairs_finds_both_directions() {
    for f in common::migrated().await {
        f.store
            .transaction(|c| {
                let ids = users_named(c, &["snd", "r_one", "r_two", "r_three", "r_four"])?;
                let (sender, r1, r2, r3, r4) = (ids[0], ids[1], ids[2], ids[3], ids[4]);
                let t = now();
                social::block(c, sender, r1, t)?; // sender blocks r1
                social::block(c, r2, sender, t)?; // r2 blocks sender
                social::block(c, r3, r4, t)?; // unrelated to the sender
                social::add_contact(c, r3, sender, t)?; // contacts do not count
                let found = social::blocked_pairs(c, sender, &[r1, r2, r3, r4])?;
                assert_eq!(found, HashSet::from([r1, r2]));
                assert!(social::blocked_pairs(c, sender, &[])?.is_empty());
                assert!(social::blocked_pairs(c, sender, &[r3, UserId::new()])?.is_empty());
                // Both directions at once for the same recipient.
                social::block(c, r1, sender, t)?;
                assert_eq!(
                    social::blocked_pairs(c, sender, &[r1])?,
                    HashSet::from([r1])
                );
                Ok(())
            })
            .await
            .expect("blocked pairs");
    }
}

#[tokio::test]
async fn unknown_users_and_self_are_refused() {
    for f in common::migrated().await {
        let a = f.store.run(|c| add_user(c, "lonely")).await.expect("user");
        let ghost = UserId::new();
        let err = f
            .store
            .run(move |c| social::add_contact(c, a, ghost, now()))
            .await
            .expect_err("unknown contact");
        assert!(matches!(err, StoreError::NotFound), "{err:?}");
        let err = f
            .store
            .run(move |c| social::block(c, a, ghost, now()))
            .await
            .expect_err("unknown blocked user");
        assert!(matches!(err, StoreError::NotFound), "{err:?}");
        // The database itself refuses a self-contact.
        assert!(
            f.store
                .run(move |c| social::add_contact(c, a, a, now()))
                .await
                .is_err()
        );
        // And inside a transaction a refused insert leaves it usable.
        f.store
            .transaction(move |c| {
                assert!(social::add_contact(c, a, ghost, now()).is_err());
                let b = add_user(c, "later")?;
                assert!(social::add_contact(c, a, b, now())?);
                Ok(())
            })
            .await
            .expect("transaction survives a refused insert");
    }
}

#[tokio::test]
async fn lists_page_in_a_stable_order() {
    for f in common::migrated().await {
        let (owner, others) = f
            .store
            .transaction(|c| {
                let owner = add_user(c, "collector")?;
                let names: Vec<String> = (0..7).map(|i| format!("friend{i}")).collect();
                let mut others = Vec::new();
                let base: DateTime<Utc> = now();
                for (i, n) in names.iter().enumerate() {
                    let id = add_user(c, n)?;
                    // Two entries share a timestamp: the id breaks the tie.
                    let at = base + Duration::seconds(i64::try_from(i.min(5)).unwrap_or(0));
                    social::add_contact(c, owner, id, at)?;
                    social::block(c, owner, id, at)?;
                    others.push((at, id));
                }
                Ok((owner, others))
            })
            .await
            .expect("setup");
        let mut expected = others.clone();
        expected.sort();
        let expected: Vec<UserId> = expected.into_iter().map(|(_, id)| id).collect();

        for blocks in [false, true] {
            let mut seen = Vec::new();
            let mut after: Option<PageKey> = None;
            let mut pages = 0;
            loop {
                let page = f
                    .store
                    .run(move |c| {
                        if blocks {
                            social::list_blocks(c, owner, after, 3)
                        } else {
                            social::list_contacts(c, owner, after, 3)
                        }
                    })
                    .await
                    .expect("page");
                pages += 1;
                assert!(page.items.len() <= 3);
                for item in &page.items {
                    seen.push(item.profile.user_id);
                    assert!(item.relation.b_has_a_as_contact);
                    assert!(item.relation.b_blocked_a);
                    assert!(!item.relation.a_blocked_b && !item.relation.a_has_b_as_contact);
                }
                match page.next {
                    Some(k) => after = Some(k),
                    None => break,
                }
            }
            assert_eq!(pages, 3, "7 entries in pages of 3");
            assert_eq!(seen, expected, "blocks: {blocks}");
        }
        // Exactly a page's worth: no further page is announced.
        let page = f
            .store
            .run(move |c| social::list_contacts(c, owner, None, 7))
            .await
            .expect("page");
        assert_eq!(page.items.len(), 7);
        assert!(page.next.is_none());
    }
}

#[tokio::test]
async fn profiles_update_and_look_up() {
    for f in common::migrated().await {
        let (a, b) = f
            .store
            .transaction(|c| Ok((add_user(c, "owner_p")?, add_user(c, "viewer_p")?)))
            .await
            .expect("users");
        let row = f
            .store
            .run(move |c| users::find(c, a))
            .await
            .expect("find")
            .expect("exists");
        assert_eq!(row.message_policy, MessagePolicy::Everyone);
        assert_eq!(row.profile_visibility, ProfileVisibility::Everyone);
        assert_eq!(row.avatar_blob_id, None);

        let change = ProfileChange {
            share_device_names: None,
            display_name: Some(Some("Owner".into())),
            avatar_blob_id: Some(Some("avatar-1".into())),
            message_policy: Some(MessagePolicy::Contacts),
            profile_visibility: Some(ProfileVisibility::Nobody),
            read_receipts: Some(false),
            presence_visibility: Some(PresenceVisibility::Everyone),
            last_seen_visibility: Some(PresenceVisibility::Nobody),
            invisible: Some(true),
        };
        let row = f
            .store
            .run(move |c| social::update_profile(c, a, &change, now()))
            .await
            .expect("update")
            .expect("exists");
        assert_eq!(row.display_name.as_deref(), Some("Owner"));
        assert!(!row.read_receipts);
        assert_eq!(row.avatar_blob_id.as_deref(), Some("avatar-1"));
        assert_eq!(row.message_policy, MessagePolicy::Contacts);
        assert_eq!(row.profile_visibility, ProfileVisibility::Nobody);
        assert_eq!(
            row.presence,
            PresenceSettings {
                visibility: PresenceVisibility::Everyone,
                last_seen: PresenceVisibility::Nobody,
                invisible: true,
            }
        );

        // Absent fields stay; `Some(None)` clears.
        let change = ProfileChange {
            share_device_names: None,
            avatar_blob_id: Some(None),
            ..ProfileChange::default()
        };
        let row = f
            .store
            .run(move |c| social::update_profile(c, a, &change, now()))
            .await
            .expect("update")
            .expect("exists");
        assert_eq!(row.display_name.as_deref(), Some("Owner"));
        assert_eq!(row.avatar_blob_id, None);
        assert_eq!(row.profile_visibility, ProfileVisibility::Nobody);
        assert!(
            f.store
                .run(|c| social::update_profile(c, UserId::new(), &ProfileChange::default(), now()))
                .await
                .expect("update")
                .is_none()
        );

        // Exact match only, relation from the owner's side.
        f.store
            .run(move |c| social::add_contact(c, a, b, now()))
            .await
            .expect("contact");
        let found = f
            .store
            .run(move |c| social::lookup(c, "owner_p", Some(b)))
            .await
            .expect("lookup")
            .expect("found");
        assert_eq!(found.profile.user_id, a);
        assert_eq!(found.profile.display_name.as_deref(), Some("Owner"));
        let r = found.relation.expect("a relation for a signed-in viewer");
        assert!(r.a_has_b_as_contact && !r.b_has_a_as_contact);
        let own = f
            .store
            .run(move |c| social::lookup(c, "owner_p", Some(a)))
            .await
            .expect("lookup")
            .expect("found");
        assert_eq!(own.relation, None);
        for miss in ["owner", "owner_", "owner_p%", "OWNER_P", "%"] {
            assert!(
                f.store
                    .run(move |c| social::lookup(c, miss, None))
                    .await
                    .expect("lookup")
                    .is_none(),
                "{miss}"
            );
        }
        let by_id = f
            .store
            .run(move |c| social::profile_by_id(c, a))
            .await
            .expect("profile")
            .expect("exists");
        assert_eq!(by_id.username, "owner_p");
    }
}

#[tokio::test]
async fn deleting_an_account_removes_its_edges() {
    for f in common::migrated().await {
        let (a, b) = f
            .store
            .transaction(|c| {
                let (a, b) = (add_user(c, "leaver")?, add_user(c, "stayer")?);
                let t = now();
                social::add_contact(c, a, b, t)?;
                social::add_contact(c, b, a, t)?;
                social::block(c, a, b, t)?;
                social::block(c, b, a, t)?;
                Ok((a, b))
            })
            .await
            .expect("setup");
        f.store
            .run(move |c| users::delete(c, a))
            .await
            .expect("delete");
        let (contacts, blocks, r) = f
            .store
            .run(move |c| {
                Ok((
                    social::list_contacts(c, b, None, 10)?,
                    social::list_blocks(c, b, None, 10)?,
                    social::relation(c, a, b)?,
                ))
            })
            .await
            .expect("read");
        assert!(contacts.items.is_empty());
        assert!(blocks.items.is_empty());
        assert_eq!(r, Relation::default());
    }
}
