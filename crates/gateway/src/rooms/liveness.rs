//! Keeping link rooms true when sessions vanish without leaving.
//!
//! Every node records that it is alive every `rooms.heartbeat_secs`
//! ([`beat_loop`]) and, on the same period, sweeps ([`sweep`]):
//!
//! 1. node rows not refreshed for three intervals are deleted: that node is
//!    dead (killed, crashed, cut off from the database); its sessions stop
//!    counting for user presence (`crate::presence`);
//! 2. presence rows whose node has no row left are taken out of their
//!    rooms exactly like a session leaving (`left` events, the room deleted
//!    when nobody is left);
//! 3. link rooms nobody entered within `rooms.enter_grace_secs` are
//!    deleted;
//! 4. this node's own presence rows whose session is no longer in a room
//!    here (its leave failed, e.g. the database was briefly unreachable when
//!    it ended) are taken out of their rooms.
//!
//! Every node sweeps; the steps are safe to race (conditional deletes, the
//! room row locked per change), so running them on several nodes only
//! repeats no-ops. A node whose own row was deleted while it was alive
//! (it missed three beats, e.g. the database was unreachable) learns it at
//! its next beat: its sessions' presence is gone, so it closes those of its
//! sessions that were in rooms (1012), and their clients reconnect and
//! enter again; its other sessions are recorded again for user presence. A node that stops cleanly deletes its own row and sweeps
//! what its sessions left behind ([`retire`]).

use std::time::Duration;

use passerelle_api_types::ws::close;
use passerelle_bus::Fanout;
use passerelle_store::{Store, StoreResult, rooms};
use uuid::Uuid;

use super::LocalRooms;
use super::presence;
use crate::presence::PresenceService;
use crate::routing::hub::Hub;

/// Presence rows taken per pass, and passes per sweep.
const PASS: u32 = 500;
const MAX_PASSES: usize = 20;

/// What the node's liveness tasks need.
#[derive(Clone)]
pub struct Liveness {
    pub store: Store,
    pub fanout: Fanout,
    pub hub: Hub,
    pub local: LocalRooms,
    /// This node's id (random per process).
    pub node: Uuid,
    pub every: Duration,
    pub enter_grace: Duration,
    /// User presence: a dead node's sessions stop counting, and sessions
    /// of a node taken for dead count again.
    pub presence: PresenceService,
}

/// Every this many sweeps, presence rows of nodes without a row are
/// closed whatever the reason (see `PresenceService::nodes_died`).
const ORPHAN_EVERY: u64 = 12;

impl Liveness {
    /// Records this node as alive; call once before serving, so that no
    /// session of this node has presence under an unknown node.
    pub async fn first_beat(&self) -> StoreResult<()> {
        let node = self.node;
        self.store
            .run(move |c| rooms::beat(c, node, passerelle_store::now()))
            .await?;
        Ok(())
    }

    /// Starts the heartbeat and the sweeps. Must be called in a Tokio
    /// runtime.
    pub fn start(self) {
        tokio::spawn(self.clone().beat_loop());
        tokio::spawn(self.sweep_loop());
    }

    async fn beat_loop(self) {
        let mut tick = tokio::time::interval(self.every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            let node = self.node;
            match self
                .store
                .run(move |c| rooms::beat(c, node, passerelle_store::now()))
                .await
            {
                Ok(true) => {}
                Ok(false) => {
                    self.taken_for_dead();
                    self.presence.reopen(self.hub.sessions()).await;
                }
                Err(e) => tracing::warn!(error = %e, "node heartbeat failed"),
            }
        }
    }

    /// Other nodes removed this node's presence: close its sessions that
    /// were in rooms, so that their clients enter again.
    fn taken_for_dead(&self) {
        let sessions = self.local.sessions();
        tracing::warn!(
            sessions = sessions.len(),
            "this node was taken for dead; closing its sessions in link rooms"
        );
        for (connection, user) in sessions {
            self.hub.close_connection(
                user,
                connection,
                close::RESTART,
                "room presence lost: reconnect and enter again",
            );
        }
    }

    async fn sweep_loop(self) {
        let mut tick = tokio::time::interval(self.every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut round: u64 = 0;
        loop {
            tick.tick().await;
            let dead = sweep(&self.store, &self.fanout, self.every, self.enter_grace).await;
            self.presence
                .nodes_died(dead, round.is_multiple_of(ORPHAN_EVERY))
                .await;
            round = round.wrapping_add(1);
            self.sweep_own().await;
        }
    }

    /// This node's presence rows of sessions that hold no room here any
    /// more. A session is held before its row is written and released
    /// after its rows are removed, so a row of this node whose connection
    /// is not held is left over.
    async fn sweep_own(&self) {
        let node = self.node;
        let rows = match self
            .store
            .run(move |c| rooms::presence_of_node(c, node, PASS))
            .await
        {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "own presence sweep failed");
                return;
            }
        };
        let held: std::collections::HashSet<Uuid> =
            self.local.sessions().into_iter().map(|(c, _)| c).collect();
        for (conversation, connection) in rows {
            if held.contains(&connection) {
                continue;
            }
            if let Err(e) =
                presence::leave(&self.store, &self.fanout, conversation, connection, "left").await
            {
                tracing::warn!(error = %e, "own presence sweep failed");
                return;
            }
        }
    }
}

/// One sweep (see the module documentation); returns the nodes it found
/// dead. Failures are logged; the next sweep tries again.
pub async fn sweep(
    store: &Store,
    fanout: &Fanout,
    every: Duration,
    enter_grace: Duration,
) -> Vec<Uuid> {
    let now = passerelle_store::now();
    let dead_before = now - chrono::Duration::from_std(every * 3).unwrap_or_default();
    let dead = match store
        .transaction(move |c| rooms::expire_nodes(c, dead_before))
        .await
    {
        Ok(dead) => dead,
        Err(e) => {
            tracing::warn!(error = %e, "node expiry failed");
            Vec::new()
        }
    };
    if !dead.is_empty() {
        tracing::info!(nodes = ?dead, "gateway nodes not seen for three heartbeats: removing their sessions from link rooms and presence");
    }
    sweep_orphans(store, fanout).await;
    let unentered_before = now - chrono::Duration::from_std(enter_grace).unwrap_or_default();
    let ids = match store
        .run(move |c| rooms::unentered(c, unentered_before, PASS))
        .await
    {
        Ok(ids) => ids,
        Err(e) => {
            tracing::warn!(error = %e, "link room sweep failed");
            return dead;
        }
    };
    for id in ids {
        match store
            .transaction(move |c| rooms::delete_if_unentered(c, id, unentered_before))
            .await
        {
            Ok(true) => {
                metrics::counter!("passerelle_link_rooms_deleted_total", "reason" => "unentered")
                    .increment(1);
                tracing::debug!(conversation = %id, "link room nobody entered deleted");
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "link room deletion failed"),
        }
    }
    dead
}

/// Takes every presence row whose node is gone out of its room.
async fn sweep_orphans(store: &Store, fanout: &Fanout) {
    for _ in 0..MAX_PASSES {
        let rows = match store.run(|c| rooms::orphaned_presence(c, PASS)).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "presence sweep failed");
                return;
            }
        };
        let full = rows.len() == PASS as usize;
        for (conversation, connection) in rows {
            match presence::leave(store, fanout, conversation, connection, "node_lost").await {
                Ok(Some(_)) => {
                    metrics::counter!("passerelle_room_presence_swept_total").increment(1);
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "presence sweep failed");
                    return;
                }
            }
        }
        if !full {
            return;
        }
    }
}

/// A clean stop, after the sessions were closed: this node's row goes and
/// whatever presence its sessions did not remove themselves (sessions cut
/// off by the shutdown timeout) leaves its rooms now.
pub async fn retire(store: &Store, fanout: &Fanout, node: Uuid) {
    if let Err(e) = store.run(move |c| rooms::retire(c, node)).await {
        tracing::warn!(error = %e, "could not remove this node's row");
        return;
    }
    sweep_orphans(store, fanout).await;
}
