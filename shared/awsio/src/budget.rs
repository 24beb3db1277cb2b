//! Time budgets of an invocation: the deadline Lambda gives, and what is left of it.
//!
//! Lambda hands every invocation its deadline as epoch milliseconds (`Context.deadline`). A
//! [`Budget`] keeps it twice: as a monotonic [`Instant`] (for timeouts: immune to clock steps)
//! and as a wall-clock [`Timestamp`] (for records other invocations read, such as the event
//! ledger's lease end). A missing or already-past deadline is not one Lambda gives —
//! `cargo lambda watch` sends a constant `600000` (1970) — so it is treated as "no deadline"
//! and replaced by a default budget from now, with a warning, so the function still runs
//! locally and still bounds its work.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use jiff::Timestamp;

/// Where a [`Budget`]'s deadline came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadlineSource {
    /// The invocation's own deadline (Lambda `Context.deadline`).
    Invocation,
    /// No usable deadline was given (none, or already past): a default budget from now.
    Default,
}

/// The deadline of one invocation (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    at: Instant,
    wall: Timestamp,
    source: DeadlineSource,
}

fn epoch_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

fn timestamp_after(now_wall: SystemTime, left: Duration) -> Timestamp {
    let wall = now_wall.checked_add(left).unwrap_or(now_wall);
    Timestamp::try_from(wall).unwrap_or(Timestamp::MAX)
}

impl Budget {
    /// A budget of `left` from now, with no invocation deadline behind it (tests, the CLI).
    pub fn from_now(left: Duration) -> Self {
        Self::default_at(left, SystemTime::now(), Instant::now())
    }

    fn default_at(left: Duration, now_wall: SystemTime, now: Instant) -> Self {
        Budget {
            at: now.checked_add(left).unwrap_or(now),
            wall: timestamp_after(now_wall, left),
            source: DeadlineSource::Default,
        }
    }

    /// The budget of a Lambda invocation whose deadline is `deadline_ms` (epoch milliseconds,
    /// `lambda_runtime::Context::deadline`). `0` or a deadline already past gives
    /// `default_budget` from now instead, with a warning (see the module docs).
    pub fn from_deadline_ms(deadline_ms: u64, default_budget: Duration) -> Self {
        Self::from_deadline_ms_at(
            deadline_ms,
            default_budget,
            SystemTime::now(),
            Instant::now(),
        )
    }

    /// [`Budget::from_deadline_ms`] with the current wall-clock and monotonic times given.
    pub fn from_deadline_ms_at(
        deadline_ms: u64,
        default_budget: Duration,
        now_wall: SystemTime,
        now: Instant,
    ) -> Self {
        let now_ms = epoch_ms(now_wall);
        if deadline_ms == 0 || deadline_ms <= now_ms {
            tracing::warn!(
                deadline_ms,
                now_ms,
                default_budget_ms = u64::try_from(default_budget.as_millis()).unwrap_or(u64::MAX),
                "the invocation has no deadline in the future (a local emulator?): using the default budget"
            );
            return Self::default_at(default_budget, now_wall, now);
        }
        let left = Duration::from_millis(deadline_ms - now_ms);
        Budget {
            at: now.checked_add(left).unwrap_or(now),
            wall: timestamp_after(now_wall, left),
            source: DeadlineSource::Invocation,
        }
    }

    /// The deadline as a monotonic instant.
    pub fn deadline(&self) -> Instant {
        self.at
    }

    /// The deadline as wall-clock time (what other processes can compare with their clocks).
    pub fn deadline_timestamp(&self) -> Timestamp {
        self.wall
    }

    /// Where the deadline came from.
    pub fn source(&self) -> DeadlineSource {
        self.source
    }

    /// Time left until the deadline (zero once it has passed).
    pub fn remaining(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }

    /// The instant `reserve` before the deadline: when to stop the main work so that `reserve`
    /// is left to record the result. With a reserve longer than the time left it is in the
    /// past, so a timeout at it expires at once.
    pub fn before_deadline(&self, reserve: Duration) -> Instant {
        self.at.checked_sub(reserve).unwrap_or_else(Instant::now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wall(ms: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(ms)
    }

    #[test]
    fn a_future_deadline_is_used_as_given() {
        let now = Instant::now();
        let b = Budget::from_deadline_ms_at(
            1_800_000_030_000,
            Duration::from_secs(5),
            wall(1_800_000_000_000),
            now,
        );
        assert_eq!(b.source(), DeadlineSource::Invocation);
        assert_eq!(b.deadline(), now + Duration::from_secs(30));
        assert_eq!(b.deadline_timestamp().as_millisecond(), 1_800_000_030_000);
    }

    #[test]
    fn no_deadline_or_a_past_one_gives_the_default_budget() {
        let now = Instant::now();
        // cargo lambda watch sends 600000; 0 means none.
        for ms in [600_000, 0, 1_800_000_000_000] {
            let b = Budget::from_deadline_ms_at(
                ms,
                Duration::from_secs(30),
                wall(1_800_000_000_000),
                now,
            );
            assert_eq!(b.source(), DeadlineSource::Default, "{ms}");
            assert_eq!(b.deadline(), now + Duration::from_secs(30), "{ms}");
            assert_eq!(
                b.deadline_timestamp().as_millisecond(),
                1_800_000_030_000,
                "{ms}"
            );
        }
    }

    #[test]
    fn the_reserve_comes_off_the_deadline() {
        let b = Budget::from_now(Duration::from_secs(10));
        assert_eq!(
            b.deadline() - b.before_deadline(Duration::from_secs(3)),
            Duration::from_secs(3)
        );
        assert!(b.remaining() <= Duration::from_secs(10));
        assert_eq!(Budget::from_now(Duration::ZERO).remaining(), Duration::ZERO);
    }
}
