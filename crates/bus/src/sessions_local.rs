//! The in-process side of [`SessionRegistry`](crate::SessionRegistry): the
//! embedded default keeps each user's entries with an `Instant` expiry, with
//! the same semantics as the Redis scripts (expired entries never count).
//! Kept apart so the time-dependent logic can be tested with explicit clocks.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::{Admission, Caps};

pub(crate) type Entry = (Uuid, Uuid);

/// In-process entries with their expiry, pruned as they expire.
#[derive(Debug, Default)]
pub(crate) struct LocalSessions {
    users: HashMap<Uuid, HashMap<Entry, Instant>>,
    ops_since_prune: u32,
}

impl LocalSessions {
    /// The user's live entries, after dropping expired ones everywhere now
    /// and then (users who never come back must not leak).
    fn live(&mut self, user: Uuid, now: Instant) -> &mut HashMap<Entry, Instant> {
        self.ops_since_prune += 1;
        if self.ops_since_prune >= 1024 {
            self.ops_since_prune = 0;
            for entries in self.users.values_mut() {
                entries.retain(|_, expiry| *expiry > now);
            }
            self.users.retain(|_, entries| !entries.is_empty());
        }
        let entries = self.users.entry(user).or_default();
        entries.retain(|_, expiry| *expiry > now);
        entries
    }

    pub(crate) fn register(
        &mut self,
        user: Uuid,
        entry: Entry,
        ttl: Duration,
        caps: Caps,
        now: Instant,
    ) -> Admission {
        let entries = self.live(user, now);
        if !entries.contains_key(&entry) {
            let on_device = entries.keys().filter(|(d, _)| *d == entry.0).count();
            if caps.per_device > 0 && on_device >= caps.per_device as usize {
                return Admission::TooManyForDevice;
            }
            if caps.per_user > 0 && entries.len() >= caps.per_user as usize {
                return Admission::TooManyForUser;
            }
        }
        entries.insert(entry, now + ttl);
        Admission::Admitted
    }

    pub(crate) fn refresh(&mut self, user: Uuid, entry: Entry, ttl: Duration, now: Instant) {
        self.live(user, now).insert(entry, now + ttl);
    }

    pub(crate) fn unregister(&mut self, user: Uuid, entry: Entry) {
        if let Some(entries) = self.users.get_mut(&user) {
            entries.remove(&entry);
            if entries.is_empty() {
                self.users.remove(&user);
            }
        }
    }

    pub(crate) fn list(&mut self, user: Uuid, now: Instant) -> Vec<Entry> {
        if !self.users.contains_key(&user) {
            return Vec::new();
        }
        let mut out: Vec<Entry> = self.live(user, now).keys().copied().collect();
        out.sort();
        out
    }
}
