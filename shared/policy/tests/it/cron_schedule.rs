//! Schedules: fire instants of AWS's documented examples and of the policy's
//! schedule, DST behaviour in Europe/Berlin, year limits, equivalence.

use jiff::{SignedDuration, Timestamp};
use policy::schedule::{Schedule, ScheduleError};

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn sched(expr: &str, tz: &str) -> Schedule {
    Schedule::new(expr, tz).unwrap_or_else(|e| panic!("{expr} {tz}: {e}"))
}

/// The next `n` fires strictly after `from`.
fn next_n(s: &Schedule, from: &str, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut t = ts(from);
    for _ in 0..n {
        match s.next_after(t) {
            Some(x) => {
                out.push(x.to_string());
                t = x;
            }
            None => break,
        }
    }
    out
}

// 2026-11-25 is a Wednesday.
const NOW: &str = "2026-11-25T09:00:00Z";

#[test]
fn aws_doc_example_daily_at_10() {
    let s = sched("cron(0 10 * * ? *)", "UTC");
    assert_eq!(
        next_n(&s, NOW, 2),
        ["2026-11-25T10:00:00Z", "2026-11-26T10:00:00Z"]
    );
}

#[test]
fn aws_doc_example_daily_at_12_15() {
    let s = sched("cron(15 12 * * ? *)", "UTC");
    assert_eq!(
        next_n(&s, NOW, 2),
        ["2026-11-25T12:15:00Z", "2026-11-26T12:15:00Z"]
    );
}

#[test]
fn aws_doc_example_weekdays_at_18() {
    let s = sched("cron(0 18 ? * MON-FRI *)", "UTC");
    assert_eq!(
        next_n(&s, NOW, 4),
        [
            "2026-11-25T18:00:00Z",
            "2026-11-26T18:00:00Z",
            "2026-11-27T18:00:00Z",
            "2026-11-30T18:00:00Z", // Saturday 28th and Sunday 29th skipped
        ]
    );
}

#[test]
fn aws_doc_example_first_of_month_at_8() {
    let s = sched("cron(0 8 1 * ? *)", "UTC");
    assert_eq!(
        next_n(&s, NOW, 2),
        ["2026-12-01T08:00:00Z", "2027-01-01T08:00:00Z"]
    );
}

#[test]
fn aws_doc_example_every_15_minutes() {
    let s = sched("cron(0/15 * * * ? *)", "UTC");
    assert_eq!(
        next_n(&s, NOW, 4),
        [
            "2026-11-25T09:15:00Z",
            "2026-11-25T09:30:00Z",
            "2026-11-25T09:45:00Z",
            "2026-11-25T10:00:00Z",
        ]
    );
}

#[test]
fn aws_doc_example_every_10_minutes_weekdays() {
    let s = sched("cron(0/10 * ? * MON-FRI *)", "UTC");
    // Friday evening -> Monday midnight.
    assert_eq!(
        next_n(&s, "2026-11-27T23:45:00Z", 2),
        ["2026-11-27T23:50:00Z", "2026-11-30T00:00:00Z"]
    );
}

#[test]
fn aws_doc_example_every_5_minutes_office_hours() {
    let s = sched("cron(0/5 8-17 ? * MON-FRI *)", "UTC");
    assert_eq!(
        next_n(&s, "2026-11-25T17:52:00Z", 2),
        ["2026-11-25T17:55:00Z", "2026-11-26T08:00:00Z"]
    );
    // Friday 17:55 -> Monday 08:00.
    assert_eq!(
        next_n(&s, "2026-11-27T17:55:00Z", 1),
        ["2026-11-30T08:00:00Z"]
    );
}

#[test]
fn aws_doc_example_first_monday_at_9() {
    let s = sched("cron(0 9 ? * 2#1 *)", "UTC");
    assert_eq!(
        next_n(&s, NOW, 2),
        ["2026-12-07T09:00:00Z", "2027-01-04T09:00:00Z"]
    );
}

#[test]
fn policy_schedule_15th_and_25th_at_midnight() {
    let s = sched("cron(0 0 15,25 * ? *)", "UTC");
    assert_eq!(
        next_n(&s, NOW, 3),
        [
            "2026-12-15T00:00:00Z",
            "2026-12-25T00:00:00Z",
            "2027-01-15T00:00:00Z"
        ]
    );
    assert_eq!(s.prev_before(ts(NOW)), Some(ts("2026-11-25T00:00:00Z")));
    // Strictly before / after.
    assert_eq!(
        s.prev_before(ts("2026-11-25T00:00:00Z")),
        Some(ts("2026-11-15T00:00:00Z"))
    );
    assert_eq!(
        s.next_after(ts("2026-11-25T00:00:00Z")),
        Some(ts("2026-12-15T00:00:00Z"))
    );
    assert_eq!(
        s.next_after(ts("2026-11-24T23:59:59.999999999Z")),
        Some(ts("2026-11-25T00:00:00Z"))
    );
    assert_eq!(
        s.fires_between(ts("2026-08-27T00:00:00Z"), ts("2026-11-25T00:00:00Z")),
        [
            "2026-09-15T00:00:00Z",
            "2026-09-25T00:00:00Z",
            "2026-10-15T00:00:00Z",
            "2026-10-25T00:00:00Z",
            "2026-11-15T00:00:00Z"
        ]
        .map(ts)
    );
    // [start, end): start included, end excluded.
    assert_eq!(
        s.fires_between(ts("2026-11-15T00:00:00Z"), ts("2026-11-25T00:00:00Z")),
        [ts("2026-11-15T00:00:00Z")]
    );
    assert!(s.fires_between(ts(NOW), ts(NOW)).is_empty());
}

#[test]
fn sunday_is_day_one() {
    let s = sched("cron(0 0 ? * 1 *)", "UTC");
    assert_eq!(
        next_n(&s, NOW, 2),
        ["2026-11-29T00:00:00Z", "2026-12-06T00:00:00Z"]
    );
}

#[test]
fn last_day_last_friday_nearest_weekday_instants() {
    let l = sched("cron(0 0 L * ? *)", "UTC");
    assert_eq!(
        next_n(&l, "2028-01-31T00:00:00Z", 2),
        ["2028-02-29T00:00:00Z", "2028-03-31T00:00:00Z"]
    );
    assert_eq!(
        next_n(&l, "2027-01-31T00:00:00Z", 1),
        ["2027-02-28T00:00:00Z"]
    );
    let last_fri = sched("cron(0 0 ? * 6L *)", "UTC");
    assert_eq!(
        next_n(&last_fri, NOW, 2),
        ["2026-11-27T00:00:00Z", "2026-12-25T00:00:00Z"]
    );
    let w = sched("cron(0 0 15W * ? *)", "UTC");
    assert_eq!(
        next_n(&w, "2026-08-01T00:00:00Z", 1),
        ["2026-08-14T00:00:00Z"] // the 15th is a Saturday
    );
    assert_eq!(
        next_n(&w, "2026-11-01T00:00:00Z", 1),
        ["2026-11-16T00:00:00Z"] // the 15th is a Sunday
    );
    let w1 = sched("cron(0 0 1W * ? *)", "UTC");
    assert_eq!(
        next_n(&w1, "2026-07-31T00:00:00Z", 1),
        ["2026-08-03T00:00:00Z"] // the 1st is a Saturday; stays in August
    );
}

#[test]
fn year_range_stops_firing() {
    let s = sched("cron(0 0 1 1 ? 2027-2028)", "UTC");
    assert_eq!(
        next_n(&s, NOW, 5),
        ["2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z"]
    );
    assert_eq!(s.next_after(ts("2028-01-01T00:00:00Z")), None);
    assert_eq!(s.prev_before(ts("2027-01-01T00:00:00Z")), None);
    assert_eq!(
        s.prev_before(ts("2035-01-01T00:00:00Z")),
        Some(ts("2028-01-01T00:00:00Z"))
    );
    // The end of the AWS range.
    let every = sched("cron(59 23 31 12 ? *)", "UTC");
    assert_eq!(
        every.prev_before(ts("2300-01-01T00:00:00Z")),
        Some(ts("2199-12-31T23:59:00Z"))
    );
    assert_eq!(every.next_after(ts("2199-12-31T23:59:00Z")), None);
    // An expression that can never match.
    let never = sched("cron(0 0 30 2 ? *)", "UTC");
    assert_eq!(never.next_after(ts(NOW)), None);
    assert_eq!(never.prev_before(ts(NOW)), None);
}

#[test]
fn midnight_utc_vs_berlin() {
    let utc = sched("cron(0 0 15 * ? *)", "UTC");
    let berlin = sched("cron(0 0 15 * ? *)", "Europe/Berlin");
    assert_eq!(next_n(&utc, NOW, 1), ["2026-12-15T00:00:00Z"]);
    // Winter: CET = UTC+1.
    assert_eq!(next_n(&berlin, NOW, 1), ["2026-12-14T23:00:00Z"]);
    // Summer: CEST = UTC+2.
    assert_eq!(
        next_n(&berlin, "2026-07-01T00:00:00Z", 1),
        ["2026-07-14T22:00:00Z"]
    );
}

#[test]
fn berlin_spring_forward_skips_the_missing_time() {
    // 2026-03-29: 02:00 CET -> 03:00 CEST (01:00 UTC); 02:30 does not exist.
    let s = sched("cron(30 2 * * ? *)", "Europe/Berlin");
    assert_eq!(
        s.fires_between(ts("2026-03-28T00:00:00Z"), ts("2026-03-31T00:00:00Z")),
        [ts("2026-03-28T01:30:00Z"), ts("2026-03-30T00:30:00Z")]
    );
    assert_eq!(
        s.next_after(ts("2026-03-28T01:30:00Z")),
        Some(ts("2026-03-30T00:30:00Z"))
    );
    assert_eq!(
        s.prev_before(ts("2026-03-30T00:30:00Z")),
        Some(ts("2026-03-28T01:30:00Z"))
    );
    // Quarter-hourly: the instants stay 15 minutes apart; only the labels jump.
    let q = sched("cron(0/15 * * * ? *)", "Europe/Berlin");
    assert_eq!(
        q.fires_between(ts("2026-03-29T00:30:00Z"), ts("2026-03-29T01:30:00Z")),
        [
            "2026-03-29T00:30:00Z",
            "2026-03-29T00:45:00Z",
            "2026-03-29T01:00:00Z",
            "2026-03-29T01:15:00Z"
        ]
        .map(ts)
    );
}

#[test]
fn berlin_fall_back_fires_once_at_the_first_occurrence() {
    // 2026-10-25: 03:00 CEST -> 02:00 CET (01:00 UTC); 02:30 happens at 00:30Z and 01:30Z.
    let s = sched("cron(30 2 * * ? *)", "Europe/Berlin");
    assert_eq!(
        s.fires_between(ts("2026-10-24T00:00:00Z"), ts("2026-10-27T00:00:00Z")),
        [
            ts("2026-10-24T00:30:00Z"),
            ts("2026-10-25T00:30:00Z"),
            ts("2026-10-26T01:30:00Z")
        ]
    );
    assert_eq!(
        s.next_after(ts("2026-10-25T00:30:00Z")),
        Some(ts("2026-10-26T01:30:00Z"))
    );
    assert!(!s.fires_at(ts("2026-10-25T01:30:00Z")));
    // From inside the repeated hour (02:45 CET, second pass), the previous fire
    // is the first 02:30 (CEST).
    assert_eq!(
        s.prev_before(ts("2026-10-25T01:45:00Z")),
        Some(ts("2026-10-25T00:30:00Z"))
    );
    // Exactly at the transition instant (02:00 CET, just after 02:59:59 CEST).
    assert_eq!(
        s.prev_before(ts("2026-10-25T01:00:00Z")),
        Some(ts("2026-10-25T00:30:00Z"))
    );
    let q = sched("cron(0/15 * * * ? *)", "Europe/Berlin");
    assert_eq!(
        q.fires_between(ts("2026-10-25T00:00:00Z"), ts("2026-10-25T02:15:00Z")),
        [
            "2026-10-25T00:00:00Z", // 02:00 CEST
            "2026-10-25T00:15:00Z",
            "2026-10-25T00:30:00Z",
            "2026-10-25T00:45:00Z", // 02:45 CEST; 02:00-02:45 CET repeat and do not fire
            "2026-10-25T02:00:00Z", // 03:00 CET
        ]
        .map(ts)
    );
    assert_eq!(
        q.prev_before(ts("2026-10-25T01:50:00Z")),
        Some(ts("2026-10-25T00:45:00Z"))
    );
    assert_eq!(
        q.next_after(ts("2026-10-25T01:05:00Z")),
        Some(ts("2026-10-25T02:00:00Z"))
    );
}

#[test]
fn fires_between_is_cheap_for_the_default_schedule() {
    let s = sched("cron(0 0 15,25 * ? *)", "UTC");
    let start = ts(NOW);
    let end = start + SignedDuration::from_hours(24 * 100);
    let fires = s.fires_between(start, end);
    assert_eq!(fires.len(), 6); // Dec 15, 25; Jan 15, 25; Feb 15, 25
    assert_eq!(fires[5], ts("2027-02-25T00:00:00Z"));
}

#[test]
fn unknown_or_empty_time_zone_is_an_error() {
    match Schedule::new("cron(0 0 15,25 * ? *)", "Mars/Olympus") {
        Err(ScheduleError::UnknownTimeZone { zone, .. }) => assert_eq!(zone, "Mars/Olympus"),
        other => panic!("expected UnknownTimeZone, got {other:?}"),
    }
    assert!(matches!(
        Schedule::new("cron(0 0 15,25 * ? *)", ""),
        Err(ScheduleError::UnknownTimeZone { .. })
    ));
    match Schedule::new("cron(0 0 ? * 8 *)", "UTC") {
        Err(ScheduleError::Cron(e)) => assert!(e.to_string().contains("day-of-week")),
        other => panic!("expected a cron error, got {other:?}"),
    }
    let s = sched("cron(0 0 15,25 * ? *)", "Europe/Berlin");
    assert_eq!(s.time_zone_name(), "Europe/Berlin");
    assert_eq!(s.expr().as_str(), "cron(0 0 15,25 * ? *)");
}

#[test]
fn equivalence() {
    let eq = |a: (&str, &str), b: (&str, &str)| sched(a.0, a.1).equivalent(&sched(b.0, b.1));
    let policy = ("cron(0 0 15,25 * ? *)", "UTC");
    assert!(eq(policy, policy));
    assert!(eq(policy, ("cron(0 0 25,15 * ? *)", "UTC")));
    assert!(eq(policy, ("0 0 15,25 JAN-DEC ? 1970-2199", "UTC")));
    assert!(!eq(policy, ("cron(0 0 15 * ? *)", "UTC")));
    assert!(!eq(policy, ("cron(0 1 15,25 * ? *)", "UTC")));
    assert!(!eq(policy, ("cron(0 0 15,25 * ? 2020-2199)", "UTC")));
    assert!(eq(policy, ("cron(0 0 15,25 * ? *)", "Etc/UTC")));
    assert!(!eq(policy, ("cron(0 0 15,25 * ? *)", "Europe/Berlin")));
    assert!(eq(
        ("cron(0 0 ? * 1-7 *)", "UTC"),
        ("cron(0 0 * * ? *)", "UTC")
    ));
    assert!(eq(
        ("cron(0 0 ? * L *)", "UTC"),
        ("cron(0 0 ? * 7 *)", "UTC")
    ));
    // Different field sets, same fires: 1-31 vs *, and two never-firing expressions.
    assert!(eq(
        ("cron(0 0 1-31 * ? *)", "UTC"),
        ("cron(0 0 * * ? *)", "UTC")
    ));
    assert!(eq(
        ("cron(0 0 30 2 ? *)", "UTC"),
        ("cron(0 0 31 4 ? *)", "UTC")
    ));
    // W that can never move vs its plain day: 15W vs 15 differ (weekends).
    assert!(!eq(
        ("cron(0 0 15W * ? *)", "UTC"),
        ("cron(0 0 15 * ? *)", "UTC")
    ));
    // Wall-clock times that only exist in a spring-forward gap never fire.
    assert!(eq(
        ("cron(30 2 29 3 ? 2026)", "Europe/Berlin"),
        ("cron(45 2 29 3 ? 2026)", "Europe/Berlin")
    ));
    assert!(!eq(
        ("cron(30 2 29 3 ? 2026)", "UTC"),
        ("cron(45 2 29 3 ? 2026)", "UTC")
    ));
    // Different zones, shifted hour: the same instants.
    assert!(eq(
        ("cron(0 1 * * ? 2026-2027)", "Etc/GMT-1"),
        ("cron(0 0 * * ? 2026-2027)", "UTC")
    ));
    // ... but not at the edges of the AWS year range: 1970-01-01T00:00+01 is
    // 1969-12-31T23:00Z, which the UTC expression cannot produce.
    assert!(!eq(
        ("cron(0 0 1 * ? *)", "Etc/GMT-1"),
        ("cron(0 23 L * ? *)", "UTC")
    ));
    // Amsterdam kept summer time from 1977, Berlin only from 1980: the same
    // expression in the two zones differs in 1977-1979.
    assert!(!eq(
        ("cron(0 0 15,25 * ? *)", "Europe/Berlin"),
        ("cron(0 0 15,25 * ? *)", "Europe/Amsterdam")
    ));
    assert!(eq(policy, ("cron(0 0 15,25 * ? *)", "Etc/GMT")));
    // ... but where both fire only in years when the two zones agree, they are.
    assert!(eq(
        ("cron(0/30 * * * ? 2030)", "Europe/Berlin"),
        ("cron(0/30 * * * ? 2030)", "Europe/Amsterdam")
    ));
    // Every minute: the zones' instants coincide except in Amsterdam's 1977
    // repeated hour, where the second pass does not fire.
    assert!(!eq(
        ("cron(* * * * ? *)", "Europe/Berlin"),
        ("cron(* * * * ? *)", "Europe/Amsterdam")
    ));
    // Never firing in either: equivalent whatever the zones.
    assert!(eq(
        ("cron(0 0 30 2 ? *)", "UTC"),
        ("cron(0 0 31 4 ? *)", "Asia/Tokyo")
    ));
    assert!(eq(
        ("cron(0 0 15,25 * ? *)", "Europe/Berlin"),
        ("cron(0 0 25,15 * ? *)", "Europe/Berlin")
    ));
}
