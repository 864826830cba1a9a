//! Per-session frame rate limit: a token bucket (`rate` frames per second,
//! bursts up to `burst`). Going over gets an error frame; going over far
//! (more refused frames than `burst` in a row) closes the session with 1008.
//! Per connection, so it lives in the session and needs no coordination.

use std::time::Instant;

#[derive(Debug)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
    /// Frames refused since the last accepted one.
    refused: u32,
}

/// The verdict on one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Accept,
    /// Refuse this frame, keep the session.
    Refuse,
    /// Persistent abuse: close the session.
    Abuse,
}

impl TokenBucket {
    pub fn new(rate: u32, burst: u32) -> Self {
        let burst = f64::from(burst.max(1));
        Self {
            rate: f64::from(rate.max(1)),
            burst,
            tokens: burst,
            last: Instant::now(),
            refused: 0,
        }
    }

    pub fn take(&mut self, now: Instant) -> Verdict {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.refused = 0;
            Verdict::Accept
        } else {
            self.refused += 1;
            if f64::from(self.refused) > self.burst {
                Verdict::Abuse
            } else {
                Verdict::Refuse
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn bursts_then_refuses_then_refills_then_closes_on_abuse() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(10, 3);
        for _ in 0..3 {
            assert_eq!(b.take(t0), Verdict::Accept);
        }
        assert_eq!(b.take(t0), Verdict::Refuse);
        assert_eq!(
            b.take(t0 + Duration::from_millis(100)),
            Verdict::Accept,
            "refilled one"
        );
        for _ in 0..3 {
            assert_eq!(b.take(t0 + Duration::from_millis(100)), Verdict::Refuse);
        }
        assert_eq!(b.take(t0 + Duration::from_millis(100)), Verdict::Abuse);
    }
}
