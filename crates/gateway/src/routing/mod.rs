//! The routing core: from a session's `message` frame to every session of
//! every device that must see it, durably and exactly once per device.
//!
//! - [`writer`] batches concurrent sends and acknowledgements into one
//!   database transaction each and hands back per-operation outcomes;
//! - [`events`] turns stored rows into protocol frames and bus envelopes;
//! - [`hub`] is this node's table of live sessions, subscribed to the bus
//!   channels of the users it serves;
//! - [`sweeper`] applies the stream retention and expires game invitations;
//! - [`expiry`] deletes disappearing messages once they expire.
//!
//! The database is the record and the bus only a fast path: every stream
//! event has a per-device sequence, and a session that sees a gap (or is told
//! the bus may have lost something) reads the missing events back from the
//! database.

pub mod envelope;
pub mod events;
pub mod expiry;
pub mod hub;
pub mod sweeper;
pub mod writer;
