//! Presence on the gateway's side. The rows and the settling rule live in
//! `passerelle_store::presence`, the visibility rule in
//! `passerelle_domain::presence_view`; this module runs them and tells
//! people:
//!
//! - a session's life: [`PresenceService::opened`] when it starts (the user
//!   may come online at once), [`PresenceService::set_away`] for the
//!   client's `presence` frame, [`PresenceService::closed`] when it ends
//!   (nothing is announced then: the [`sweep`] settles the user once
//!   `presence.offline_grace_ms` passed without a new session);
//! - announcing a transition to the user's **online watchers** only (users
//!   who have them as a contact and a live session, read in one join), each
//!   told what the rule lets them see, in **one bus message per node**
//!   serving watchers ([`Envelope::Multicast`] on the node's channel), not
//!   one per watcher;
//! - re-announcing when what someone may see changes without the status
//!   changing: settings ([`PresenceService::settings_changed`]), and
//!   contacts or blocks between two users
//!   ([`PresenceService::reannounce_pair`]); only to those whose view
//!   changed.
//!
//! Presence frames are live-only: a session that misses one (not
//! connected, a bus hiccup) reads the current state from
//! `GET /v1/presence`.

pub mod sweep;

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use passerelle_api_types::ws::ServerFrame;
use passerelle_api_types::{PresenceStatus as ApiStatus, UserPresence};
use passerelle_bus::Fanout;
use passerelle_domain::{PresenceSettings, PresenceStatus, PresenceView, Relation, presence_view};
use passerelle_store::presence::{self, Presence, Transition};
use passerelle_store::{Store, StoreResult, UserId};
use uuid::Uuid;

use crate::config::PresenceSettings as Config;
use crate::routing::envelope::Envelope;

/// What presence needs, cheap to clone.
#[derive(Clone)]
pub struct PresenceService {
    store: Store,
    fanout: Fanout,
    /// This node's id: written on its sessions' rows.
    node: Uuid,
    /// How long a closed session still counts.
    grace: chrono::Duration,
    /// How often the sweep runs.
    every: Duration,
}

/// What `viewer` may see of `user`'s `presence`, as the API body.
pub fn user_presence(user: UserId, presence: &Presence, view: PresenceView) -> UserPresence {
    let status = if view.status {
        match presence.status {
            PresenceStatus::Online => ApiStatus::Online,
            PresenceStatus::Away => ApiStatus::Away,
            PresenceStatus::Offline => ApiStatus::Offline,
        }
    } else {
        ApiStatus::Hidden
    };
    UserPresence {
        user_id: user.0,
        status,
        last_seen_at: presence
            .last_seen_at
            .filter(|_| view.last_seen && status == ApiStatus::Offline),
        version: presence.version,
    }
}

impl PresenceService {
    pub fn new(store: Store, fanout: Fanout, node: Uuid, settings: &Config) -> Self {
        Self {
            store,
            fanout,
            node,
            grace: chrono::Duration::milliseconds(
                i64::try_from(settings.offline_grace_ms).unwrap_or(i64::MAX / 2),
            ),
            every: Duration::from_millis(settings.sweep_interval_ms.max(10)),
        }
    }

    /// Receives this node's channel, where presence frames for its
    /// sessions arrive. Call once before serving.
    pub async fn listen(&self) {
        if let Err(e) = self.fanout.subscribe(self.node).await {
            tracing::warn!(error = %e, "node channel subscribe failed; it is retried");
        }
    }

    /// Session `connection` of `user` started on this node.
    pub async fn opened(&self, connection: Uuid, user: UserId) {
        let (node, grace, now) = (self.node, self.grace, passerelle_store::now());
        let result = self
            .store
            .transaction(move |c| presence::open(c, connection, user, node, now, grace))
            .await;
        self.announce_result(result).await;
    }

    /// Session `connection` ended: counted for the grace, then settled by
    /// the sweep.
    pub async fn closed(&self, connection: Uuid) {
        let now = passerelle_store::now();
        if let Err(e) = self
            .store
            .run(move |c| presence::close(c, connection, now))
            .await
        {
            tracing::warn!(error = %e, "could not record a session's end for presence; the node sweep will");
        }
    }

    /// The client said this session is away (or active again).
    pub async fn set_away(&self, connection: Uuid, user: UserId, away: bool) -> StoreResult<()> {
        let (grace, now) = (self.grace, passerelle_store::now());
        let t = self
            .store
            .transaction(move |c| presence::set_away(c, connection, user, away, now, grace))
            .await?;
        if let Some(t) = t {
            self.announce(t, None).await;
        }
        Ok(())
    }

    /// Settles `user` now (the sweep, for users whose grace is over).
    pub async fn settle(&self, user: UserId) {
        self.settle_and_announce(user, None).await;
    }

    /// `user`'s presence settings changed from `before`: settles (invisible
    /// changes the status) and tells every online watcher whose view
    /// changed what it may now see (`hidden` included).
    pub async fn settings_changed(&self, user: UserId, before: PresenceSettings) {
        self.settle_and_announce(user, Some(before)).await;
    }

    async fn settle_and_announce(&self, user: UserId, before: Option<PresenceSettings>) {
        let (grace, now, force) = (self.grace, passerelle_store::now(), before.is_some());
        let result = self
            .store
            .transaction(move |c| presence::settle(c, user, now, grace, force))
            .await;
        match result {
            Ok(Some(t)) => self.announce(t, before).await,
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "presence settle failed"),
        }
    }

    /// Sessions of this node whose rows other nodes closed (this node was
    /// taken for dead): record them again, so their users are online.
    pub async fn reopen(&self, sessions: Vec<(Uuid, Uuid)>) {
        for (user, connection) in sessions {
            self.opened(connection, UserId(user)).await;
        }
    }

    /// `nodes` were found dead: their sessions' rows are closed as of a
    /// grace ago, so the next sweep settles their users. With `all`, also
    /// every live row whose node has no row at all (a backstop for a node
    /// that stopped without closing its sessions, or a death noticed by a
    /// node that crashed before closing the rows).
    pub async fn nodes_died(&self, nodes: Vec<Uuid>, all: bool) {
        let closed_at = passerelle_store::now() - self.grace;
        let result = self
            .store
            .run(move |c| {
                let mut n = presence::close_nodes(c, &nodes, closed_at)?;
                if all {
                    n += presence::close_orphans(c, closed_at)?;
                }
                Ok(n)
            })
            .await;
        match result {
            Ok(0) => {}
            Ok(n) => tracing::info!(sessions = n, "presence of sessions on dead nodes closed"),
            Err(e) => tracing::warn!(error = %e, "could not close the presence of dead nodes"),
        }
    }

    /// This node stops: its sessions that did not close themselves (cut off
    /// by the shutdown timeout) close now, with the usual grace, so their
    /// clients can reconnect to another node without being announced
    /// offline.
    pub async fn retire(&self) {
        let (node, now) = (self.node, passerelle_store::now());
        if let Err(e) = self
            .store
            .run(move |c| presence::close_nodes(c, &[node], now))
            .await
        {
            tracing::warn!(error = %e, "could not close this node's presence; other nodes will");
        }
    }

    async fn announce_result(&self, result: StoreResult<Option<Transition>>) {
        match result {
            Ok(Some(t)) => self.announce(t, None).await,
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "presence update failed"),
        }
    }

    /// Tells `t.user`'s online watchers who may see it. When the user's
    /// settings changed from `before`, also those whose view changed
    /// (`hidden` for those who may no longer see it), and not those who saw
    /// nothing change.
    async fn announce(&self, t: Transition, before: Option<PresenceSettings>) {
        metrics::counter!("passerelle_presence_transitions_total").increment(1);
        let user = t.user;
        let watchers = match self.store.run(move |c| presence::watchers(c, user)).await {
            Ok(w) => w,
            Err(e) => {
                tracing::warn!(error = %e, "could not read presence watchers");
                return;
            }
        };
        let mut groups: HashMap<(Uuid, bool, bool), Vec<Uuid>> = HashMap::new();
        for w in watchers {
            let view = presence_view(t.settings, w.relation);
            let tell = match before {
                None => view.status,
                Some(old) => {
                    view != presence_view(old, w.relation)
                        || (view.status && t.previous != t.presence.status)
                }
            };
            if tell {
                groups
                    .entry((w.node, view.status, view.last_seen))
                    .or_default()
                    .push(w.user.0);
            }
        }
        let items = groups
            .into_iter()
            .filter_map(|((node, status, last_seen), users)| {
                let view = PresenceView { status, last_seen };
                let body = user_presence(t.user, &t.presence, view);
                Some((node, multicast(users, &body)?))
            })
            .collect::<Vec<_>>();
        self.publish(items).await;
    }

    /// Tells the two users of `change` what each may now see of the other,
    /// when it differs from what it could see before: a watcher that saw a
    /// status and may no longer gets `hidden`, one that now may see it gets
    /// the current state; nothing is sent when the view did not change (a
    /// new contact whose presence stays hidden learns nothing new).
    pub async fn reannounce_pair(&self, change: PairChange) {
        let (a, b) = change.users();
        let now = passerelle_store::now();
        let result = self
            .store
            .run(move |c| {
                let mut out = Vec::new();
                for (owner, viewer) in [(a, b), (b, a)] {
                    let Some(seen) = presence::seen_by(c, viewer, &[owner], now)?.pop() else {
                        continue;
                    };
                    let after = seen.relation;
                    let before = change.undo(owner, viewer, after);
                    // A watcher has the owner as a contact; a non-watcher
                    // follows nothing, which is what a hidden view looks like.
                    let known = |r: Relation| {
                        if r.b_has_a_as_contact {
                            presence_view(seen.settings, r)
                        } else {
                            PresenceView::default()
                        }
                    };
                    let view = known(after);
                    if !after.b_has_a_as_contact || view == known(before) {
                        continue;
                    }
                    let body = user_presence(owner, &seen.presence, view);
                    for (_, node) in presence::nodes_of(c, &[viewer])? {
                        out.push((node, viewer, body.clone()));
                    }
                }
                Ok(out)
            })
            .await;
        match result {
            Ok(sends) => {
                let items = sends
                    .into_iter()
                    .filter_map(|(node, viewer, body)| {
                        Some((node, multicast(vec![viewer.0], &body)?))
                    })
                    .collect();
                self.publish(items).await;
            }
            Err(e) => tracing::warn!(error = %e, "could not re-announce presence"),
        }
    }

    async fn publish(&self, items: Vec<(Uuid, Bytes)>) {
        if items.is_empty() {
            return;
        }
        metrics::counter!("passerelle_presence_publishes_total").increment(items.len() as u64);
        if let Err(e) = self.fanout.publish(items).await {
            tracing::warn!(error = %e, "could not publish presence");
        }
    }
}

/// A change between two users that may change what each sees of the
/// other's presence. It has happened (the caller checked it changed
/// something) when the pair is re-announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairChange {
    /// `owner` added `contact` to their contacts.
    ContactAdded { owner: UserId, contact: UserId },
    /// `owner` removed `contact` from their contacts.
    ContactRemoved { owner: UserId, contact: UserId },
    /// `blocker` blocked `blocked`.
    Blocked { blocker: UserId, blocked: UserId },
    /// `blocker` lifted their block of `blocked`.
    Unblocked { blocker: UserId, blocked: UserId },
}

impl PairChange {
    fn users(self) -> (UserId, UserId) {
        match self {
            Self::ContactAdded { owner, contact } | Self::ContactRemoved { owner, contact } => {
                (owner, contact)
            }
            Self::Blocked { blocker, blocked } | Self::Unblocked { blocker, blocked } => {
                (blocker, blocked)
            }
        }
    }

    /// The relation of `a` (the presence's owner) and `b` (the viewer)
    /// before this change, from the one after it.
    fn undo(self, a: UserId, b: UserId, after: Relation) -> Relation {
        let mut r = after;
        let (from, to, is_contact, was) = match self {
            Self::ContactAdded { owner, contact } => (owner, contact, true, false),
            Self::ContactRemoved { owner, contact } => (owner, contact, true, true),
            Self::Blocked { blocker, blocked } => (blocker, blocked, false, false),
            Self::Unblocked { blocker, blocked } => (blocker, blocked, false, true),
        };
        match (from == a && to == b, from == b && to == a, is_contact) {
            (true, _, true) => r.a_has_b_as_contact = was,
            (_, true, true) => r.b_has_a_as_contact = was,
            (true, _, false) => r.a_blocked_b = was,
            (_, true, false) => r.b_blocked_a = was,
            _ => {}
        }
        r
    }
}

/// The node-channel message carrying `body` to `users`' sessions.
fn multicast(users: Vec<Uuid>, body: &UserPresence) -> Option<Bytes> {
    let frame = ServerFrame::Presence {
        payload: body.clone(),
    };
    let frame = serde_json::value::to_raw_value(&frame).ok()?;
    Some(Envelope::Multicast { users, frame }.encode())
}
