//! Property tests of the schedule laws over random AWS cron expressions
//! (generated from a small grammar), random zones and random instants, plus a
//! brute-force minute-by-minute oracle for `next_after`.

use jiff::{SignedDuration, Timestamp};
use policy::schedule::Schedule;
use proptest::prelude::*;

fn list_or_range(lo: u32, hi: u32) -> impl Strategy<Value = String> {
    prop_oneof![
        Just("*".to_string()),
        (lo..=hi).prop_map(|v| v.to_string()),
        (lo..=hi, 1..=hi).prop_map(|(a, s)| format!("{a}/{s}")),
        (1..=hi).prop_map(|s| format!("*/{s}")),
        (lo..=hi, lo..=hi).prop_map(|(a, b)| format!("{}-{}", a.min(b), a.max(b))),
        (lo..=hi, lo..=hi, 1..=(hi - lo + 1)).prop_map(|(a, b, s)| format!(
            "{}-{}/{s}",
            a.min(b),
            a.max(b)
        )),
        prop::collection::vec(lo..=hi, 1..4).prop_map(|v| v
            .iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(",")),
    ]
}

fn day_fields() -> impl Strategy<Value = (String, String)> {
    let dom = prop_oneof![
        list_or_range(1, 31),
        Just("L".to_string()),
        Just("LW".to_string()),
        (1u32..=31).prop_map(|d| format!("{d}W")),
        (1u32..=31).prop_map(|d| format!("{d},L")),
    ];
    let dow = prop_oneof![
        Just("*".to_string()),
        (1u32..=7).prop_map(|d| d.to_string()),
        Just("MON-FRI".to_string()),
        Just("L".to_string()),
        (1u32..=7).prop_map(|d| format!("{d}L")),
        (1u32..=7, 1u32..=5).prop_map(|(d, k)| format!("{d}#{k}")),
        (1u32..=7, 1u32..=7).prop_map(|(a, b)| format!("{}-{}", a.min(b), a.max(b))),
        prop::collection::vec(1u32..=7, 1..3).prop_map(|v| v
            .iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(",")),
    ];
    prop_oneof![
        dom.prop_map(|d| (d, "?".to_string())),
        dow.prop_map(|w| ("?".to_string(), w)),
    ]
}

fn expr() -> impl Strategy<Value = String> {
    let year = prop_oneof![
        4 => Just("*".to_string()),
        1 => (2015u32..=2035, 2015u32..=2035).prop_map(|(a, b)| format!("{}-{}", a.min(b), a.max(b))),
        1 => (2015u32..=2035, 1u32..=3).prop_map(|(a, s)| format!("{a}/{s}")),
    ];
    (
        list_or_range(0, 59),
        list_or_range(0, 23),
        day_fields(),
        prop_oneof![3 => Just("*".to_string()), 1 => list_or_range(1, 12)],
        year,
    )
        .prop_map(|(mi, h, (dom, dow), mo, y)| format!("cron({mi} {h} {dom} {mo} {dow} {y})"))
}

fn zone() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "UTC",
        "Europe/Berlin",
        "America/New_York",
        "Australia/Lord_Howe", // 30-minute DST shift
        "Asia/Kolkata",        // +05:30
        "Pacific/Apia",        // skipped 2011-12-30 entirely
        "America/Santiago",
    ])
}

/// An instant between 2010 and 2040 with random sub-second part.
fn instant() -> impl Strategy<Value = Timestamp> {
    (1_262_304_000i64..2_208_988_800, 0i32..1_000_000_000)
        .prop_map(|(s, n)| Timestamp::new(s, n).unwrap())
}

fn schedule() -> impl Strategy<Value = Schedule> {
    (expr(), zone()).prop_map(|(e, z)| Schedule::new(&e, z).unwrap())
}

/// Expressions that fire every day or most days, so that the minute-scan
/// oracle tests usually see a fire inside their window.
fn frequent_expr() -> impl Strategy<Value = String> {
    let days = prop_oneof![
        Just(("*", "?")),
        Just(("?", "MON-FRI")),
        Just(("?", "1,7")),
        Just(("?", "*")),
        Just(("1-15", "?")),
    ];
    (list_or_range(0, 59), list_or_range(0, 23), days)
        .prop_map(|(mi, h, (dom, dow))| format!("cron({mi} {h} {dom} * {dow} *)"))
}

fn scan_expr() -> impl Strategy<Value = String> {
    prop_oneof![2 => frequent_expr(), 1 => expr()]
}

fn any_schedule_for_scan() -> impl Strategy<Value = Schedule> {
    (scan_expr(), zone()).prop_map(|(e, z)| Schedule::new(&e, z).unwrap())
}

fn fires(s: &Schedule, t: Timestamp) -> bool {
    s.fires_at(t) && s.expr().matches(s.time_zone().to_datetime(t))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn generated_expressions_parse(e in expr()) {
        prop_assert!(policy::cron::CronExpr::parse(&e).is_ok(), "{}", e);
    }

    #[test]
    fn next_after_is_later_and_nothing_fires_in_between(s in schedule(), t in instant()) {
        if let Some(n) = s.next_after(t) {
            prop_assert!(n > t);
            prop_assert!(fires(&s, n), "{} {} next {} does not match", s.expr(), s.time_zone_name(), n);
            if let Some(p) = s.prev_before(n) {
                prop_assert!(p <= t, "{} {}: {} fires between {} and {}", s.expr(), s.time_zone_name(), p, t, n);
            }
        }
    }

    #[test]
    fn prev_before_is_earlier_and_nothing_fires_in_between(s in schedule(), t in instant()) {
        if let Some(p) = s.prev_before(t) {
            prop_assert!(p < t);
            prop_assert!(fires(&s, p), "{} {} prev {} does not match", s.expr(), s.time_zone_name(), p);
            let n = s.next_after(p);
            // None: it never fires again, so nothing fires in between either.
            prop_assert!(n.is_none_or(|n| n >= t), "{} {}: after {} next is {:?}, before {}", s.expr(), s.time_zone_name(), p, n, t);
        }
    }

    #[test]
    fn fires_between_is_increasing_and_complete(s in schedule(), t in instant(), days in 1i64..40) {
        let end = t + SignedDuration::from_hours(24 * days);
        let all = s.fires_between(t, end);
        prop_assert!(all.len() <= 24 * 60 * days as usize + 60);
        for w in all.windows(2) {
            prop_assert!(w[0] < w[1]);
            // Consecutive: nothing fires in between.
            prop_assert_eq!(s.next_after(w[0]), Some(w[1]));
        }
        for f in &all {
            prop_assert!(*f >= t && *f < end);
            prop_assert!(fires(&s, *f));
        }
        // Nothing before the first one in range, nothing after the last one.
        let first_expected = s.next_after(t - SignedDuration::from_nanos(1)).filter(|f| *f < end);
        prop_assert_eq!(all.first().copied(), first_expected);
        if let Some(last) = all.last() {
            prop_assert!(s.next_after(*last).is_none_or(|n| n >= end));
        }
    }
}

/// Independent oracle: does the schedule fire at whole-minute instant `u`?
/// `u`'s wall-clock time must match, and the same wall-clock time must not
/// have occurred during the preceding three hours (fall-back repeats).
fn oracle_fires(s: &Schedule, u: Timestamp) -> bool {
    let tz = s.time_zone();
    let wall = tz.to_datetime(u);
    if wall.second() != 0 || !s.expr().matches(wall) {
        return false;
    }
    (1..=12).all(|k| tz.to_datetime(u - SignedDuration::from_mins(15 * k)) != wall)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn next_after_agrees_with_a_minute_scan(s in any_schedule_for_scan(), t in instant()) {
        // Scan the next two days minute by minute (DST days included by chance;
        // the dedicated DST tests pin the transitions).
        let first_minute = Timestamp::from_second(t.as_second() - t.as_second().rem_euclid(60) + 60).unwrap();
        let horizon = 2 * 24 * 60;
        let scanned = (0..horizon)
            .map(|i| first_minute + SignedDuration::from_mins(i))
            .find(|u| oracle_fires(&s, *u));
        let next = s.next_after(t).filter(|n| *n < first_minute + SignedDuration::from_mins(horizon));
        prop_assert_eq!(next, scanned, "{} {} from {}", s.expr(), s.time_zone_name(), t);
    }

    #[test]
    fn next_after_agrees_with_the_scan_around_dst_changes(
        e in scan_expr(),
        zone in prop::sample::select(vec!["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Santiago"]),
        year in 2015i16..2035,
        offset_mins in prop_oneof![Just(0i64), -180i64..180],
    ) {
        let s = Schedule::new(&e, zone).unwrap();
        // Start near the first transition of `year`.
        let jan1 = s.time_zone().to_timestamp(jiff::civil::datetime(year, 1, 1, 0, 0, 0, 0)).unwrap();
        let tr = s.time_zone().following(jan1).next().unwrap().timestamp();
        let t = tr + SignedDuration::from_mins(offset_mins);
        let first_minute = Timestamp::from_second(t.as_second() - t.as_second().rem_euclid(60) + 60).unwrap();
        let horizon = 12 * 60;
        let scanned = (0..horizon)
            .map(|i| first_minute + SignedDuration::from_mins(i))
            .find(|u| oracle_fires(&s, *u));
        let next = s.next_after(t).filter(|n| *n < first_minute + SignedDuration::from_mins(horizon));
        prop_assert_eq!(next, scanned, "{} {} from {}", s.expr(), zone, t);
        // And backwards: the last fire strictly before t.
        let last_minute = Timestamp::from_second((t - SignedDuration::from_nanos(1)).as_second().div_euclid(60) * 60).unwrap();
        let scanned_back = (0..horizon)
            .map(|i| last_minute - SignedDuration::from_mins(i))
            .find(|u| oracle_fires(&s, *u));
        let prev = s.prev_before(t).filter(|p| *p > last_minute - SignedDuration::from_mins(horizon));
        prop_assert_eq!(prev, scanned_back, "{} {} before {}", s.expr(), zone, t);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// `equivalent` is reflexive and symmetric, and equivalent schedules agree
    /// on the next and previous fire from any instant.
    #[test]
    fn equivalence_is_sound(
        e in expr(),
        zones in prop::sample::select(vec![
            ("UTC", "Etc/UTC"),
            ("UTC", "Europe/London"),
            ("Europe/Berlin", "Europe/Amsterdam"),
            ("Europe/Berlin", "Europe/Berlin"),
            ("America/New_York", "US/Eastern"),
        ]),
        ts in prop::collection::vec(instant(), 8),
    ) {
        let a = Schedule::new(&e, zones.0).unwrap();
        let b = Schedule::new(&e, zones.1).unwrap();
        prop_assert!(a.equivalent(&a.clone()));
        let eq = a.equivalent(&b);
        prop_assert_eq!(eq, b.equivalent(&a));
        if eq {
            for t in ts {
                prop_assert_eq!(a.next_after(t), b.next_after(t), "{} {:?} at {}", e, zones, t);
                prop_assert_eq!(a.prev_before(t), b.prev_before(t), "{} {:?} at {}", e, zones, t);
            }
        }
    }
}
