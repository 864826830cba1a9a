//! User presence in the store, on both backends: settling follows the
//! sessions and their grace, and the watcher query reads thousands of
//! online watchers in slices.
#![allow(clippy::expect_used)]

mod common;

use common::user;

use chrono::Duration;
use passerelle_domain::PresenceStatus;
use passerelle_store::now;
use passerelle_store::presence;
use passerelle_store::social;
use uuid::Uuid;

#[tokio::test]
async fn sessions_and_their_grace_decide_the_status() {
    let grace = Duration::milliseconds(500);
    for f in common::migrated().await {
        f.store
            .transaction(move |c| {
                let alice = user(c, "alice")?;
                let node = Uuid::new_v4();
                let (s1, s2) = (Uuid::new_v4(), Uuid::new_v4());
                let t = now();
                let online = presence::open(c, s1, alice, node, t, grace)?.expect("comes online");
                assert_eq!(online.presence.status, PresenceStatus::Online);
                assert_eq!(online.previous, PresenceStatus::Offline);
                assert!(
                    presence::open(c, s2, alice, node, t, grace)?.is_none(),
                    "still online"
                );
                assert!(
                    presence::set_away(c, s1, alice, true, t, grace)?.is_none(),
                    "s2 is active"
                );
                let away = presence::set_away(c, s2, alice, true, t, grace)?.expect("away");
                assert_eq!(away.presence.status, PresenceStatus::Away);
                assert!(away.presence.version > online.presence.version);
                // Both close; within the grace nothing changes, after it the
                // user is offline, last seen when the last one closed.
                presence::close(c, s1, t)?;
                presence::close(c, s2, t)?;
                assert!(
                    presence::settle(c, alice, t + Duration::milliseconds(100), grace, false)?
                        .is_none()
                );
                assert!(presence::due(c, t + Duration::milliseconds(100) - grace, 10)?.is_empty());
                let later = t + Duration::seconds(1);
                assert_eq!(presence::due(c, later - grace, 10)?, vec![alice]);
                let offline = presence::settle(c, alice, later, grace, false)?.expect("offline");
                assert_eq!(offline.presence.status, PresenceStatus::Offline);
                assert_eq!(offline.presence.last_seen_at, Some(t));
                assert!(presence::due(c, later, 10)?.is_empty(), "rows settled away");
                Ok(())
            })
            .await
            .expect("transaction");
    }
}

#[tokio::test]
async fn thousands_of_online_watchers_are_read_in_slices_and_all_found() {
    // The relations of N watchers bind two lists of N; they are read 5,000
    // at a time (a SQLite built with the default limit binds at most
    // 32,766 variables; Debian's allows more): 12,000 is three slices.
    const WATCHERS: usize = 12_000;
    for f in common::migrated().await {
        let found = f
            .store
            .transaction(|c| {
                let star = user(c, "star")?;
                let node = Uuid::new_v4();
                let t = now();
                for i in 0..WATCHERS {
                    let w = user(c, &format!("w{i}"))?;
                    social::add_contact(c, w, star, t)?;
                    presence::open(c, Uuid::new_v4(), w, node, t, Duration::seconds(5))?;
                }
                presence::watchers(c, star)
            })
            .await
            .expect("watchers");
        assert_eq!(found.len(), WATCHERS);
        assert!(found.iter().all(|w| w.relation.b_has_a_as_contact));
    }
}
