//! Time base, message ids and a small PRNG.
//!
//! Every task reads time through one [`Clock`]: wall-clock nanoseconds at
//! start plus a monotonic offset, so intended send times and receive times
//! are comparable and never go backwards. A message id carries its intended
//! send time in its upper 64 bits, so a receiver (or the `sent` reply)
//! yields the latency without any shared map.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use uuid::Uuid;

/// A monotonic clock in Unix nanoseconds.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    base: Instant,
    base_unix_nanos: u64,
}

impl Clock {
    pub fn new() -> Self {
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        Self {
            base: Instant::now(),
            base_unix_nanos: u64::try_from(unix).unwrap_or(u64::MAX),
        }
    }

    /// Now, in Unix nanoseconds (monotonic).
    pub fn now_nanos(&self) -> u64 {
        self.nanos_at(Instant::now())
    }

    /// `at` in Unix nanoseconds.
    pub fn nanos_at(self, at: Instant) -> u64 {
        let d = at.saturating_duration_since(self.base).as_nanos();
        self.base_unix_nanos
            .saturating_add(u64::try_from(d).unwrap_or(u64::MAX))
    }
}

/// A message id: intended send time (Unix ns) in the upper 64 bits, the run
/// tag and a counter in the lower ones (unique across runs and shards).
pub fn message_id(intended_nanos: u64, run_tag: u32, counter: u32) -> Uuid {
    Uuid::from_u64_pair(
        intended_nanos,
        (u64::from(run_tag) << 32) | u64::from(counter),
    )
}

/// The intended send time a [`message_id`] carries.
pub fn intended_nanos(id: &Uuid) -> u64 {
    id.as_u64_pair().0
}

/// xorshift64*: plenty for picking senders and recipients.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        let n = n.max(1) as u64;
        usize::try_from(self.next_u64() % n).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_carry_the_intended_time() {
        let id = message_id(1_700_000_000_123_456_789, 7, 9);
        assert_eq!(intended_nanos(&id), 1_700_000_000_123_456_789);
        assert_ne!(id, message_id(1_700_000_000_123_456_789, 7, 10));
    }

    #[test]
    fn the_clock_moves_forward() {
        let c = Clock::new();
        let a = c.now_nanos();
        assert!(c.now_nanos() >= a);
        assert!(a > 1_600_000_000_000_000_000);
    }
}
