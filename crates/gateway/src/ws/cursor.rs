//! Where a session stands in its device's stream, and what to do with each
//! live event so the client sees every sequence once, in order.
//!
//! The database is the record: the cursor only decides, for a live event,
//! whether to send it (the next one), drop it (already sent), or first read
//! the missing range back from the database (a gap: the bus reordered or
//! lost something). A session's own sends come back as live events too; the
//! sequences of those already acknowledged to it in a `sent` frame are
//! skipped.

use std::collections::BTreeSet;

/// What to do with a live event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Send it; the cursor moves to it.
    Send,
    /// Already sent (or the session's own send): drop it.
    Skip,
    /// Events between the cursor and it are missing: catch up from the
    /// database first (which includes this one).
    CatchUp,
}

#[derive(Debug, Default)]
pub struct Cursor {
    /// The last sequence the client has been sent (or told about).
    position: u64,
    /// Sequences of this session's own sends, told to it in `sent`.
    own: BTreeSet<u64>,
}

impl Cursor {
    pub fn at(position: u64) -> Self {
        Self {
            position,
            own: BTreeSet::new(),
        }
    }

    pub fn position(&self) -> u64 {
        self.position
    }

    /// Notes that the session was told (in `sent`) that `seq` is its own
    /// message.
    pub fn own(&mut self, seq: u64) {
        if seq > self.position {
            self.own.insert(seq);
        }
    }

    /// Decides about a live event.
    pub fn live(&mut self, seq: u64) -> Step {
        if seq <= self.position {
            Step::Skip
        } else if seq == self.position + 1 {
            self.advance(seq)
        } else {
            Step::CatchUp
        }
    }

    /// Decides about an event read from the database in order.
    pub fn replayed(&mut self, seq: u64) -> Step {
        if seq <= self.position {
            Step::Skip
        } else {
            self.advance(seq)
        }
    }

    fn advance(&mut self, seq: u64) -> Step {
        self.position = seq;
        let mine = self.own.remove(&seq);
        self.own = self.own.split_off(&seq);
        if mine { Step::Skip } else { Step::Send }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_duplicates_gaps_and_own_sends() {
        let mut c = Cursor::at(4);
        assert_eq!(c.live(5), Step::Send);
        assert_eq!(c.live(5), Step::Skip, "duplicate");
        assert_eq!(c.live(3), Step::Skip, "old");
        assert_eq!(c.live(7), Step::CatchUp, "6 is missing");
        assert_eq!(c.replayed(6), Step::Send);
        assert_eq!(c.replayed(7), Step::Send);
        c.own(8);
        assert_eq!(c.live(8), Step::Skip, "the session's own send");
        assert_eq!(c.position(), 8);
        assert_eq!(c.live(9), Step::Send);
        c.own(5);
        assert_eq!(c.live(10), Step::Send, "an old own seq is ignored");
    }
}
