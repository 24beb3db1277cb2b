//! The Lambda deadline → the invocation's budget → the instant to stop starting new work.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use awsio::budget::DeadlineSource;
use recovery_verifier::{DEFAULT_BUDGET, invocation_budget, work_deadline};

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

#[test]
fn a_future_deadline_minus_the_margin() {
    let budget = invocation_budget(now_ms() + 120_000);
    assert_eq!(budget.source(), DeadlineSource::Invocation);
    let d = work_deadline(&budget, Duration::from_secs(45));
    let left = d.saturating_duration_since(Instant::now());
    assert!(
        left > Duration::from_secs(70) && left <= Duration::from_secs(75),
        "{left:?}"
    );
}

#[test]
fn no_deadline_and_emulator_deadlines_in_the_past_get_the_default_budget() {
    // cargo lambda watch sends a constant 600000 ms (1970).
    for deadline_ms in [0, 600_000] {
        let budget = invocation_budget(deadline_ms);
        assert_eq!(budget.source(), DeadlineSource::Default, "{deadline_ms}");
        let left = budget.remaining();
        assert!(
            left > DEFAULT_BUDGET - Duration::from_secs(5) && left <= DEFAULT_BUDGET,
            "{deadline_ms}: {left:?}"
        );
    }
}
