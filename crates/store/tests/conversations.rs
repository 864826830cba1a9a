//! Conversations, members and invitations, on every available backend.
#![allow(clippy::expect_used)]

mod common;

use chrono::Duration;
use passerelle_domain::{AddPolicy, ConversationKind, Role, Visibility};
use passerelle_store::conversations::{self, NewGroup, Position};
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

fn group<'a>(name: &'a str, owner: UserId) -> NewGroup<'a> {
    NewGroup {
        name,
        title: Some("A title"),
        visibility: Visibility::Public,
        add_policy: AddPolicy::Direct,
        member_cap: 10,
        owner,
        now: now(),
    }
}

#[tokio::test]
async fn direct_conversations_are_one_per_pair_even_when_created_at_once() {
    for f in common::migrated().await {
        let (a, b) = f
            .store
            .run(|c| Ok((add_user(c, "ann")?, add_user(c, "ben")?)))
            .await
            .expect("users");
        // Two transactions on two connections at once, from both sides.
        let s1 = f.store.clone();
        let s2 = f.store.clone();
        let (x, y) = tokio::join!(
            s1.transaction(move |c| conversations::direct(c, a, b, now())),
            s2.transaction(move |c| conversations::direct(c, b, a, now())),
        );
        let ((x, x_new), (y, y_new)) = (x.expect("first"), y.expect("second"));
        assert_eq!(x.id, y.id);
        assert!(x_new != y_new, "exactly one created it");
        assert_eq!(x.kind, ConversationKind::Direct);
        assert_eq!(x.member_cap, conversations::DIRECT_CAP);
        f.store
            .run(move |c| {
                assert_eq!(
                    conversations::find_direct_of(c, b, a)?.map(|r| r.id),
                    Some(x.id)
                );
                assert_eq!(conversations::member_count(c, x.id)?, 2);
                assert_eq!(conversations::peer(c, x.id, a)?, b);
                // With oneself: one member, the peer is oneself.
                let (own, created) = conversations::direct(c, a, a, now())?;
                assert!(created);
                assert_eq!(conversations::member_count(c, own.id)?, 1);
                assert_eq!(conversations::peer(c, own.id, a)?, a);
                Ok(())
            })
            .await
            .expect("direct");
    }
}

#[tokio::test]
async fn groups_members_and_invitations() {
    for f in common::migrated().await {
        f.store
            .transaction(|c| {
                let owner = add_user(c, "owner")?;
                let others: Vec<UserId> = (0..5)
                    .map(|i| add_user(c, &format!("member{i}")))
                    .collect::<StoreResult<_>>()?;
                let id = conversations::create_group(c, &group("club", owner))?.expect("created");
                assert_eq!(
                    conversations::create_group(c, &group("club", others[0]))?,
                    None
                );
                let row = conversations::lock(c, id)?.expect("row");
                assert_eq!(row.name.as_deref(), Some("club"));
                assert_eq!(row.visibility, Visibility::Public);
                assert_eq!(row.add_policy, AddPolicy::Direct);
                assert_eq!(
                    conversations::find_by_name(c, "club")?.map(|r| r.id),
                    Some(id)
                );

                // Members join one microsecond apart, so the order is known.
                let t0 = now();
                for (i, u) in others.iter().enumerate() {
                    let at = t0 + Duration::microseconds(i as i64 + 1);
                    assert!(conversations::add_member(c, id, *u, Role::Member, at)?);
                }
                assert!(!conversations::add_member(
                    c,
                    id,
                    others[0],
                    Role::Member,
                    now()
                )?);
                assert_eq!(conversations::member_count(c, id)?, 6);
                let first = conversations::list_members(c, id, None, 4)?;
                assert_eq!(first.items.len(), 4);
                assert_eq!(first.items[0].user_id, owner);
                assert_eq!(first.items[0].role, Role::Owner);
                let rest = conversations::list_members(c, id, first.next, 4)?;
                assert_eq!(rest.items.len(), 2);
                assert!(rest.next.is_none());
                assert_eq!(rest.items[1].user_id, others[4]);

                // Succession: an admin first, else the oldest member.
                assert_eq!(conversations::successor(c, id, owner)?, Some(others[0]));
                conversations::set_role(c, id, others[3], Role::Admin)?;
                assert_eq!(conversations::successor(c, id, owner)?, Some(others[3]));
                assert_eq!(
                    conversations::groups_of(c, others[3])?,
                    vec![(id, Role::Admin)]
                );

                // The owner's list, with counts.
                let mine = conversations::list_for_user(c, owner, None, 10)?;
                assert_eq!(mine.items.len(), 1);
                assert_eq!(mine.items[0].member_count, 6);
                assert_eq!(mine.items[0].membership.role, Role::Owner);
                assert!(mine.items[0].peer.is_none());

                // Invitations: one per invitee, kept on a repeat.
                let guest = add_user(c, "guest")?;
                let (inv, made) = conversations::invite(c, id, guest, owner, now())?;
                assert!(made);
                let (again, made) = conversations::invite(c, id, guest, others[1], now())?;
                assert!(!made);
                assert_eq!(again, inv, "the first invitation is kept");
                let pending = conversations::list_invites(c, guest, None, 10)?;
                assert_eq!(pending.items.len(), 1);
                assert_eq!(pending.items[0].member_count, 6);
                assert_eq!(pending.items[0].invite.inviter_id, owner);
                let after = Position {
                    at: inv.created_at,
                    id,
                };
                assert!(
                    conversations::list_invites(c, guest, Some(after), 10)?
                        .items
                        .is_empty()
                );
                assert_eq!(conversations::take_invite(c, id, guest)?, Some(inv));
                assert_eq!(conversations::take_invite(c, id, guest)?, None);

                // Join links.
                let token = uuid::Uuid::new_v4();
                conversations::set_join_token(c, id, Some(token), now())?;
                assert_eq!(
                    conversations::find_by_join_token(c, token)?.map(|r| r.id),
                    Some(id)
                );
                conversations::set_join_token(c, id, None, now())?;
                assert!(conversations::find_by_join_token(c, token)?.is_none());

                // Deleting takes members and invitations along.
                conversations::invite(c, id, guest, owner, now())?;
                assert!(conversations::delete(c, id)?);
                assert!(conversations::find(c, id)?.is_none());
                assert!(
                    conversations::list_invites(c, guest, None, 10)?
                        .items
                        .is_empty()
                );
                assert!(
                    conversations::list_for_user(c, owner, None, 10)?
                        .items
                        .is_empty()
                );
                Ok(())
            })
            .await
            .expect("groups");
    }
}

#[tokio::test]
async fn a_refused_insert_leaves_the_transaction_usable() {
    for f in common::migrated().await {
        f.store
            .transaction(|c| {
                let owner = add_user(c, "owner")?;
                let id = conversations::create_group(c, &group("club", owner))?.expect("created");
                let ghost = UserId::new();
                let err = conversations::invite(c, id, ghost, owner, now()).expect_err("ghost");
                assert!(matches!(err, StoreError::NotFound), "{err:?}");
                let err = conversations::add_member(c, id, ghost, Role::Member, now())
                    .expect_err("ghost");
                assert!(matches!(err, StoreError::NotFound), "{err:?}");
                // Still usable (on Postgres the statements ran in savepoints).
                let real = add_user(c, "real")?;
                assert!(conversations::add_member(c, id, real, Role::Member, now())?);
                Ok(())
            })
            .await
            .expect("transaction survives refused inserts");
    }
}
