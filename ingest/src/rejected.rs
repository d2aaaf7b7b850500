//! Rejected requests are security signals (someone probing the endpoint, a rotated
//! secret not yet configured), so each becomes a `zoomwatch.rejected` record — but a
//! flood must not become a flood of records. A token bucket admits up to `rate` records
//! per second (bursts of 5×); what it drops is counted and reported as `suppressed` on
//! the next record it admits.

use std::sync::Mutex;
use std::time::Instant;

/// Token bucket for rejected-request records.
pub struct RejectLimiter {
    rate: f64,
    burst: f64,
    state: Mutex<State>,
}

struct State {
    tokens: f64,
    last: Instant,
    suppressed: u64,
}

impl RejectLimiter {
    /// `per_sec` records a second, bursts of `5 * per_sec` (at least 1).
    pub fn new(per_sec: u32) -> Self {
        let rate = f64::from(per_sec.max(1));
        Self { rate, burst: rate * 5.0, state: Mutex::new(State { tokens: rate * 5.0, last: Instant::now(), suppressed: 0 }) }
    }

    /// `Some(suppressed_before)` if a record may be written now, `None` if this one is
    /// suppressed (and counted).
    pub fn admit(&self, now: Instant) -> Option<u64> {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let elapsed = now.saturating_duration_since(s.last).as_secs_f64();
        s.last = now;
        s.tokens = (s.tokens + elapsed * self.rate).min(self.burst);
        if s.tokens >= 1.0 {
            s.tokens -= 1.0;
            Some(std::mem::take(&mut s.suppressed))
        } else {
            s.suppressed += 1;
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn bursts_then_counts_what_it_drops() {
        let l = RejectLimiter::new(2);
        let t0 = Instant::now();
        let admitted = (0..100).filter(|_| l.admit(t0).is_some()).count();
        assert_eq!(admitted, 10, "burst of 5 × 2/s");
        // One second later two more tokens; the first admitted reports the 90 dropped.
        assert_eq!(l.admit(t0 + Duration::from_secs(1)), Some(90));
        assert_eq!(l.admit(t0 + Duration::from_secs(1)), Some(0));
        assert_eq!(l.admit(t0 + Duration::from_secs(1)), None);
    }
}
