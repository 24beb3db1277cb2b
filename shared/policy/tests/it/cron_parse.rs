//! AWS cron parsing: accepted syntax, rejected syntax (with the field named),
//! and wall-clock matching of each wildcard.

use jiff::civil::{Date, DateTime, date};
use policy::cron::{CronExpr, CronField};

fn p(s: &str) -> CronExpr {
    CronExpr::parse(s).unwrap_or_else(|e| panic!("{s} should parse: {e}"))
}

fn dt(s: &str) -> DateTime {
    s.parse().unwrap()
}

/// All matching dates of `expr` in the given month.
fn days_in(expr: &str, y: i16, m: i8) -> Vec<i8> {
    let e = p(expr);
    let first = date(y, m, 1);
    (1..=first.days_in_month())
        .filter(|&d| e.day_matches(date(y, m, d)))
        .collect()
}

#[test]
fn accepts_wrapped_bare_and_padded_forms() {
    let a = p("cron(0 0 15,25 * ? *)");
    let b = p("0 0 15,25 * ? *");
    let c = p("  cron(0   0 15,25 *   ? *)\n");
    assert_eq!(a, b);
    assert_eq!(a, c);
    assert_eq!(a.as_str(), "cron(0 0 15,25 * ? *)");
    assert_eq!(b.as_str(), "cron(0 0 15,25 * ? *)");
    assert_eq!(c.to_string(), "cron(0 0 15,25 * ? *)");
    let d: CronExpr = "cron(0 0 15,25 * ? *)".parse().unwrap();
    assert_eq!(d, a);
}

#[test]
fn reordered_lists_are_equal_and_different_lists_are_not() {
    assert_eq!(p("cron(0 0 15,25 * ? *)"), p("cron(0 0 25,15 * ? *)"));
    assert_ne!(p("cron(0 0 15,25 * ? *)"), p("cron(0 0 15 * ? *)"));
    assert_eq!(p("cron(0 0 ? * 1-7 *)"), p("cron(0 0 * * ? *)"));
    assert_eq!(p("cron(0 0 ? * * *)"), p("cron(0 0 * * ? *)"));
    assert_eq!(p("cron(0 0 ? * L *)"), p("cron(0 0 ? * SAT *)"));
    assert_eq!(p("cron(0 0 ? * 7 *)"), p("cron(0 0 ? * sat *)"));
    assert_eq!(p("cron(0 0 ? * MON-FRI *)"), p("cron(0 0 ? * 2,3,4,5,6 *)"));
    assert_eq!(p("cron(0 0 1 JAN-MAR ? *)"), p("cron(0 0 1 1,2,3 ? *)"));
    assert_eq!(p("cron(0/15 * * * ? *)"), p("cron(0,15,30,45 * * * ? *)"));
    assert_eq!(p("cron(*/20 * * * ? *)"), p("cron(0,20,40 * * * ? *)"));
    assert_eq!(
        p("cron(10-50/10 * * * ? *)"),
        p("cron(10,20,30,40,50 * * * ? *)")
    );
    assert_eq!(p("cron(0 0 * * ? *)"), p("cron(0 0 * * ? 1970-2199)"));
}

#[test]
fn increments_start_at_the_given_value() {
    let e = p("cron(1/10 * * * ? *)");
    let mins: Vec<i8> = (0..60)
        .filter(|&m| e.matches(dt(&format!("2026-11-25T10:{m:02}:00"))))
        .collect();
    assert_eq!(mins, vec![1, 11, 21, 31, 41, 51]);
}

#[test]
fn seconds_are_ignored_when_matching() {
    let e = p("cron(15 12 * * ? *)");
    assert!(e.matches(dt("2026-11-25T12:15:00")));
    assert!(e.matches(dt("2026-11-25T12:15:59.9")));
    assert!(!e.matches(dt("2026-11-25T12:16:00")));
    assert!(!e.matches(dt("2026-11-25T13:15:00")));
}

#[test]
fn one_is_sunday_and_seven_is_saturday() {
    // 2026-11-29 is a Sunday, 2026-11-28 a Saturday.
    let sun = p("cron(0 0 ? * 1 *)");
    assert!(sun.matches(dt("2026-11-29T00:00")));
    assert!(!sun.matches(dt("2026-11-30T00:00")));
    assert!(!sun.matches(dt("2026-11-28T00:00")));
    assert_eq!(sun, p("cron(0 0 ? * SUN *)"));
    let sat = p("cron(0 0 ? * 7 *)");
    assert!(sat.matches(dt("2026-11-28T00:00")));
    assert!(!sat.matches(dt("2026-11-29T00:00")));
    // MON-FRI = 2-6.
    assert_eq!(
        days_in("cron(0 0 ? * MON-FRI *)", 2026, 11)[..5],
        [2, 3, 4, 5, 6]
    );
}

#[test]
fn last_day_of_month_in_leap_and_common_years() {
    assert_eq!(days_in("cron(0 0 L * ? *)", 2028, 2), vec![29]);
    assert_eq!(days_in("cron(0 0 L * ? *)", 2027, 2), vec![28]);
    assert_eq!(days_in("cron(0 0 L * ? *)", 2100, 2), vec![28]); // 2100 is not a leap year
    assert_eq!(days_in("cron(0 0 L * ? *)", 2000, 2), vec![29]);
    assert_eq!(days_in("cron(0 0 L * ? *)", 2026, 4), vec![30]);
    assert_eq!(days_in("cron(0 0 l * ? *)", 2026, 12), vec![31]);
    assert_eq!(days_in("cron(0 0 1,L * ? *)", 2026, 6), vec![1, 30]);
}

#[test]
fn last_weekday_of_month() {
    // 2026-01-31 is a Saturday -> Friday 30th; 2026-05-31 a Sunday -> Friday 29th.
    assert_eq!(days_in("cron(0 0 LW * ? *)", 2026, 1), vec![30]);
    assert_eq!(days_in("cron(0 0 LW * ? *)", 2026, 5), vec![29]);
    // 2026-06-30 is a Tuesday.
    assert_eq!(days_in("cron(0 0 LW * ? *)", 2026, 6), vec![30]);
}

#[test]
fn last_friday_6l() {
    // November 2026 Fridays: 6, 13, 20, 27; December 2026: 4, 11, 18, 25.
    assert_eq!(days_in("cron(0 0 ? * 6L *)", 2026, 11), vec![27]);
    assert_eq!(days_in("cron(0 0 ? * 6L *)", 2026, 12), vec![25]);
    assert_eq!(days_in("cron(0 0 ? * FRIL *)", 2026, 12), vec![25]);
    // July 2026 has five Fridays (3..31): the last is the 31st.
    assert_eq!(days_in("cron(0 0 ? * 6L *)", 2026, 7), vec![31]);
}

#[test]
fn nearest_weekday_w() {
    // 2026-08-15 is a Saturday -> Friday 14th.
    assert_eq!(days_in("cron(0 0 15W * ? *)", 2026, 8), vec![14]);
    // 2026-11-15 is a Sunday -> Monday 16th.
    assert_eq!(days_in("cron(0 0 15W * ? *)", 2026, 11), vec![16]);
    // 2026-12-15 is a Tuesday -> itself.
    assert_eq!(days_in("cron(0 0 15W * ? *)", 2026, 12), vec![15]);
    // 2026-08-01 is a Saturday: stays in the month -> Monday 3rd, not Friday July 31st.
    assert_eq!(days_in("cron(0 0 1W * ? *)", 2026, 8), vec![3]);
    assert_eq!(days_in("cron(0 0 1W * ? *)", 2026, 7), vec![1]); // Wednesday
    // 2026-05-31 is a Sunday and the last day: stays in the month -> Friday 29th.
    assert_eq!(days_in("cron(0 0 31W * ? *)", 2026, 5), vec![29]);
    // A month without day 31 does not fire for 31W.
    assert_eq!(days_in("cron(0 0 31W * ? *)", 2026, 4), Vec::<i8>::new());
}

#[test]
fn nth_weekday_hash() {
    // First Monday: December 2026 starts on a Tuesday -> 7th; January 2027 on a Friday -> 4th.
    assert_eq!(days_in("cron(0 9 ? * 2#1 *)", 2026, 12), vec![7]);
    assert_eq!(days_in("cron(0 9 ? * 2#1 *)", 2027, 1), vec![4]);
    // Third Tuesday of November 2026 (Tuesdays 3, 10, 17, 24).
    assert_eq!(days_in("cron(0 9 ? * TUE#3 *)", 2026, 11), vec![17]);
    // Fifth Friday: July 2026 has one (31st), November 2026 has none.
    assert_eq!(days_in("cron(0 9 ? * 6#5 *)", 2026, 7), vec![31]);
    assert_eq!(days_in("cron(0 9 ? * 6#5 *)", 2026, 11), Vec::<i8>::new());
}

#[test]
fn year_field_limits_matching() {
    let e = p("cron(0 0 1 1 ? 2027-2028)");
    assert!(!e.matches(dt("2026-01-01T00:00")));
    assert!(e.matches(dt("2027-01-01T00:00")));
    assert!(e.matches(dt("2028-01-01T00:00")));
    assert!(!e.matches(dt("2029-01-01T00:00")));
    let step = p("cron(0 0 1 1 ? 2026/2)");
    assert!(step.matches(dt("2026-01-01T00:00")));
    assert!(!step.matches(dt("2027-01-01T00:00")));
    assert!(step.matches(dt("2028-01-01T00:00")));
    // Outside the AWS range nothing matches, even with `*`.
    let any = p("cron(* * * * ? *)");
    assert!(!any.matches(dt("1969-12-31T23:59")));
    assert!(!any.matches(dt("2200-01-01T00:00")));
    assert!(any.matches(dt("2199-12-31T23:59")));
}

#[test]
fn next_and_prev_day_walk_matching_dates() {
    let e = p("cron(0 0 15,25 * ? *)");
    assert_eq!(e.next_day(date(2026, 11, 25)), Some(date(2026, 11, 25)));
    assert_eq!(e.next_day(date(2026, 11, 26)), Some(date(2026, 12, 15)));
    assert_eq!(e.prev_day(date(2026, 11, 24)), Some(date(2026, 11, 15)));
    assert_eq!(e.prev_day(date(1970, 1, 14)), None);
    assert_eq!(e.next_day(date(2199, 12, 26)), None);
    let never: Option<Date> = p("cron(0 0 30 2 ? *)").next_day(date(1970, 1, 1));
    assert_eq!(never, None);
}

/// (expression, field expected in the error, text expected in the reason)
const INVALID: &[(&str, Option<CronField>, &str)] = &[
    ("cron(0 0 ? * ? *)", Some(CronField::DayOfMonth), "both `?`"),
    (
        "cron(0 0 * * 1 *)",
        Some(CronField::DayOfWeek),
        "must be `?`",
    ),
    (
        "cron(0 0 15 * * *)",
        Some(CronField::DayOfWeek),
        "must be `?`",
    ),
    (
        "cron(60 0 * * ? *)",
        Some(CronField::Minutes),
        "value 60 out of range 0-59",
    ),
    (
        "cron(0 24 * * ? *)",
        Some(CronField::Hours),
        "value 24 out of range 0-23",
    ),
    (
        "cron(0 0 32 * ? *)",
        Some(CronField::DayOfMonth),
        "out of range 1-31",
    ),
    (
        "cron(0 0 0 * ? *)",
        Some(CronField::DayOfMonth),
        "value 0 out of range 1-31",
    ),
    (
        "cron(0 0 1 13 ? *)",
        Some(CronField::Month),
        "value 13 out of range 1-12",
    ),
    (
        "cron(0 0 1 FOO ? *)",
        Some(CronField::Month),
        "unknown month `FOO`",
    ),
    (
        "cron(0 0 ? * 8 *)",
        Some(CronField::DayOfWeek),
        "value 8 out of range 1-7 (1 = SUN)",
    ),
    (
        "cron(0 0 ? * 0 *)",
        Some(CronField::DayOfWeek),
        "value 0 out of range 1-7",
    ),
    (
        "cron(0 0 ? * FUNDAY *)",
        Some(CronField::DayOfWeek),
        "unknown day of week",
    ),
    (
        "cron(0 0 1 * ? 1969)",
        Some(CronField::Year),
        "value 1969 out of range 1970-2199",
    ),
    (
        "cron(0 0 1 * ? 2200)",
        Some(CronField::Year),
        "out of range 1970-2199",
    ),
    ("cron(0 0 1 * ?)", None, "expected 6 fields"),
    ("cron(0 0 1 * ? * *)", None, "found 7"),
    ("0 0 1 * ? * 2027", None, "expected 6 fields"),
    ("cron(0 0 1 * ? *", None, "missing closing `)`"),
    ("rate(1 day)", None, "rate expression"),
    ("", None, "empty"),
    (
        "cron(0 0 ? * 3#1,6#3 *)",
        Some(CronField::DayOfWeek),
        "only that one expression",
    ),
    (
        "cron(0 0 ? * 2#6 *)",
        Some(CronField::DayOfWeek),
        "out of range 1-5",
    ),
    (
        "cron(0 0 ? * 2#0 *)",
        Some(CronField::DayOfWeek),
        "out of range 1-5",
    ),
    (
        "cron(0 0 ? * 8#1 *)",
        Some(CronField::DayOfWeek),
        "value 8 out of range",
    ),
    (
        "cron(0 0 ? * 8L *)",
        Some(CronField::DayOfWeek),
        "value 8 out of range",
    ),
    (
        "cron(0 0 ? * */2 *)",
        Some(CronField::DayOfWeek),
        "`/` is not allowed",
    ),
    (
        "cron(0/0 * * * ? *)",
        Some(CronField::Minutes),
        "at least 1",
    ),
    (
        "cron(0/x * * * ? *)",
        Some(CronField::Minutes),
        "at least 1",
    ),
    (
        "cron(0 0 L-2 * ? *)",
        Some(CronField::DayOfMonth),
        "`L` in day-of-month",
    ),
    (
        "cron(0 0 1-5W * ? *)",
        Some(CronField::DayOfMonth),
        "single day",
    ),
    (
        "cron(0 0 32W * ? *)",
        Some(CronField::DayOfMonth),
        "value 32 out of range",
    ),
    (
        "cron(0 0 20-10 * ? *)",
        Some(CronField::DayOfMonth),
        "runs backwards",
    ),
    (
        "cron(0 0 ? * FRI-MON *)",
        Some(CronField::DayOfWeek),
        "runs backwards",
    ),
    ("cron(0 L * * ? *)", Some(CronField::Hours), "not a number"),
    (
        "cron(0 ? * * ? *)",
        Some(CronField::Hours),
        "`?` is only allowed",
    ),
    (
        "cron(0 0 ?,1 * ? *)",
        Some(CronField::DayOfMonth),
        "must stand alone",
    ),
    (
        "cron(0 0 1,,2 * ? *)",
        Some(CronField::DayOfMonth),
        "empty list item",
    ),
    (
        "cron(0 0 1 * ? 2026#1)",
        Some(CronField::Year),
        "only allowed in the day-of-week",
    ),
    (
        "cron(-1 0 * * ? *)",
        Some(CronField::Minutes),
        "missing value",
    ),
    (
        "cron(99999999999 0 * * ? *)",
        Some(CronField::Minutes),
        "out of range 0-59",
    ),
];

#[test]
fn invalid_expressions_name_the_field_and_reason() {
    for (expr, field, reason) in INVALID {
        let err = match CronExpr::parse(expr) {
            Ok(e) => panic!("`{expr}` should be rejected, parsed as {e:?}"),
            Err(err) => err,
        };
        assert_eq!(err.field, *field, "{expr}: {err}");
        assert!(
            err.reason.contains(reason),
            "{expr}: reason `{}` lacks `{reason}`",
            err.reason
        );
        let msg = err.to_string();
        assert!(msg.contains(expr.trim()), "{msg}");
        if let Some(f) = field {
            assert!(msg.contains(f.name()), "{msg} should name {f}");
        }
    }
}

#[test]
fn error_position_points_at_the_offending_token() {
    let err = CronExpr::parse("cron(0 0 ? * 8 *)").unwrap_err();
    assert_eq!(err.position, 13);
    assert_eq!(&"cron(0 0 ? * 8 *)"[err.position..err.position + 1], "8");
    assert_eq!(
        err.to_string(),
        "invalid cron expression `cron(0 0 ? * 8 *)`: day-of-week field (field 5, position 13): \
         value 8 out of range 1-7 (1 = SUN)"
    );
    let err = CronExpr::parse("0 0 1,2,77 * ? *").unwrap_err();
    assert_eq!(err.position, 8);
    let err = CronExpr::parse("cron(0 0 ? * 2#9 *)").unwrap_err();
    assert_eq!(err.position, 15);
    let err = CronExpr::parse("  cron(0 0 1 * ? 2300)").unwrap_err();
    assert_eq!(err.position, 15); // relative to the trimmed text
}
