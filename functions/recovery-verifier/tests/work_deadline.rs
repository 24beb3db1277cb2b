//! The Lambda deadline → the instant to stop starting new work.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use recovery_verifier::work_deadline;

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

#[test]
fn a_future_deadline_minus_the_margin() {
    let d = work_deadline(now_ms() + 120_000, Duration::from_secs(45)).unwrap();
    let left = d.saturating_duration_since(Instant::now());
    assert!(
        left > Duration::from_secs(70) && left <= Duration::from_secs(75),
        "{left:?}"
    );
}

#[test]
fn no_deadline_and_emulator_deadlines_in_the_past_mean_none() {
    assert!(work_deadline(0, Duration::from_secs(45)).is_none());
    // cargo lambda watch sends a constant 600000 ms (1970).
    assert!(work_deadline(600_000, Duration::from_secs(45)).is_none());
}
