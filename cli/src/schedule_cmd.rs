//! `backup-guard schedule EXPR`: the next fire instants of an AWS cron expression, each with
//! the start and completion deadlines a backup of that slot must meet (the policy's
//! `policy::slots::Slot`, the same computation the verifier uses).

use jiff::{SignedDuration, Timestamp};
use policy::config::{IntBounds, WINDOW_MINUTES};
use policy::schedule::{Schedule, ScheduleError};
use policy::slots::Slot;
use serde_json::json;

use crate::error::{CliError, ExitStatus};
use crate::output::{Format, Paint, print_json};

/// Maximum `--count`.
pub(crate) const MAX_COUNT: usize = 1000;
/// The bounds of `--count`.
pub(crate) const COUNT: IntBounds = IntBounds::new(1, MAX_COUNT as i64, "fires");

/// Clap value parser of `--count`: an integer in [`COUNT`].
pub(crate) fn parse_count(text: &str) -> Result<usize, String> {
    COUNT
        .parse(text)
        .map_err(|e| e.to_string())
        .and_then(|n| usize::try_from(n).map_err(|e| e.to_string()))
}

/// Clap value parser of `--start-window` / `--completion-window`: minutes in the bounds of
/// `BG_START_WINDOW_MINUTES` / `BG_COMPLETION_WINDOW_MINUTES` ([`WINDOW_MINUTES`]).
pub(crate) fn parse_window_minutes(text: &str) -> Result<i64, String> {
    WINDOW_MINUTES.parse(text).map_err(|e| e.to_string())
}

/// Arguments of `schedule`.
#[derive(Debug, Clone)]
pub(crate) struct ScheduleArgs {
    /// The expression (`cron(...)` or bare).
    pub expression: String,
    /// IANA zone.
    pub tz: String,
    /// Fires strictly after this instant.
    pub from: Timestamp,
    /// How many fires.
    pub count: usize,
    /// Start window (minutes).
    pub start_window_minutes: i64,
    /// Completion window (minutes).
    pub completion_window_minutes: i64,
}

/// The computed fires.
#[derive(Debug, Clone)]
pub(crate) struct Fires {
    /// The schedule.
    pub schedule: Schedule,
    /// Each fire as a slot with its deadlines.
    pub slots: Vec<Slot>,
}

/// Computes the next `count` fires after `from`.
pub(crate) fn compute(args: &ScheduleArgs) -> Result<Fires, CliError> {
    if !i64::try_from(args.count).is_ok_and(|n| COUNT.contains(n)) {
        return Err(CliError::usage(format!(
            "--count {}: out of range; accepted: {}",
            args.count,
            COUNT.accepted()
        )));
    }
    for (flag, v) in [
        ("--start-window", args.start_window_minutes),
        ("--completion-window", args.completion_window_minutes),
    ] {
        if let Err(e) = WINDOW_MINUTES.check(v) {
            return Err(CliError::usage(format!("{flag} {v}: {e}")));
        }
    }
    let schedule = Schedule::new(&args.expression, &args.tz).map_err(|e| match e {
        ScheduleError::Cron(c) => CliError::usage(c.to_string()),
        ScheduleError::UnknownTimeZone { .. } => CliError::usage(format!("--tz: {e}")),
    })?;
    let start = SignedDuration::from_mins(args.start_window_minutes);
    let completion = SignedDuration::from_mins(args.completion_window_minutes);
    let mut slots = Vec::with_capacity(args.count);
    let mut cur = args.from;
    while slots.len() < args.count {
        let Some(next) = schedule.next_after(cur) else {
            break;
        };
        slots.push(Slot::new(next, start, completion));
        cur = next;
    }
    Ok(Fires { schedule, slots })
}

/// Runs the command.
pub(crate) fn run(
    args: &ScheduleArgs,
    format: Format,
    paint: Paint,
) -> Result<ExitStatus, CliError> {
    let fires = compute(args)?;
    let expr = args.expression.trim();
    let tz_name = fires.schedule.time_zone_name().to_string();
    match format {
        Format::Json => {
            let windows: Vec<_> = fires
                .slots
                .iter()
                .map(|s| {
                    json!({
                        "fire": s.at.to_string(),
                        "start_deadline": s.start_deadline.to_string(),
                        "completion_deadline": s.completion_deadline.to_string(),
                    })
                })
                .collect();
            print_json(&json!({
                "expression": expr,
                "timezone": tz_name,
                "from": args.from.to_string(),
                "fires": fires.slots.iter().map(|s| s.at.to_string()).collect::<Vec<_>>(),
                "start_window_minutes": args.start_window_minutes,
                "completion_window_minutes": args.completion_window_minutes,
                "windows": windows,
            }))?;
        }
        Format::Text => {
            let tz = fires.schedule.time_zone().clone();
            let show_local = tz_name != "UTC";
            println!(
                "{} in {} — next {} fire(s) after {}",
                paint.bold(expr),
                paint.bold(&tz_name),
                fires.slots.len(),
                args.from
            );
            println!(
                "{}",
                paint.dim(&format!(
                    "start window {} min, completion window {} min (a backup must start by the \
                     first deadline and complete by the second)",
                    args.start_window_minutes, args.completion_window_minutes
                ))
            );
            if show_local {
                row(&[
                    "#",
                    "fire (UTC)",
                    "local",
                    "start by (UTC)",
                    "complete by (UTC)",
                ]);
            } else {
                row(&["#", "fire (UTC)", "start by", "complete by"]);
            }
            for (i, s) in fires.slots.iter().enumerate() {
                if show_local {
                    let local =
                        s.at.to_zoned_datetime(tz.clone())
                            .strftime("%Y-%m-%d %H:%M %Z")
                            .to_string();
                    row(&[
                        &(i + 1).to_string(),
                        &s.at.to_string(),
                        &local,
                        &s.start_deadline.to_string(),
                        &s.completion_deadline.to_string(),
                    ]);
                } else {
                    row(&[
                        &(i + 1).to_string(),
                        &s.at.to_string(),
                        &s.start_deadline.to_string(),
                        &s.completion_deadline.to_string(),
                    ]);
                }
            }
            if fires.slots.len() < args.count {
                println!(
                    "{}",
                    paint.yellow(&format!(
                        "the expression never fires again after {} (its year field is exhausted)",
                        fires.slots.last().map_or(args.from, |s| s.at)
                    ))
                );
            }
        }
    }
    Ok(ExitStatus::Ok)
}

/// Prints one table row: `#` column 3 wide, a local-time column 27 wide, others 22.
fn row(cells: &[&str]) {
    let mut line = String::from(" ");
    for (i, c) in cells.iter().enumerate() {
        let width = match (i, cells.len()) {
            (0, _) => 3,
            (2, 5) => 27,
            _ => 22,
        };
        line.push_str(&format!(" {c:<width$}"));
    }
    println!("{}", line.trim_end());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(expr: &str, tz: &str, from: &str, count: usize) -> ScheduleArgs {
        ScheduleArgs {
            expression: expr.into(),
            tz: tz.into(),
            from: from.parse().unwrap(),
            count,
            start_window_minutes: 60,
            completion_window_minutes: 180,
        }
    }

    #[test]
    fn policy_schedule_fires_on_15th_and_25th_with_deadlines() {
        let f = compute(&args(
            "cron(0 0 15,25 * ? *)",
            "UTC",
            "2026-11-25T09:00:00Z",
            3,
        ))
        .unwrap();
        let at: Vec<String> = f.slots.iter().map(|s| s.at.to_string()).collect();
        assert_eq!(
            at,
            [
                "2026-12-15T00:00:00Z",
                "2026-12-25T00:00:00Z",
                "2027-01-15T00:00:00Z"
            ]
        );
        assert_eq!(
            f.slots[0].start_deadline.to_string(),
            "2026-12-15T01:00:00Z"
        );
        assert_eq!(
            f.slots[0].completion_deadline.to_string(),
            "2026-12-15T04:00:00Z"
        );
    }

    #[test]
    fn zone_shifts_fires() {
        let f = compute(&args(
            "0 0 15 * ? *",
            "Europe/Berlin",
            "2026-11-25T09:00:00Z",
            1,
        ))
        .unwrap();
        assert_eq!(f.slots[0].at.to_string(), "2026-12-14T23:00:00Z");
    }

    #[test]
    fn exhausted_year_field_stops_early() {
        let f = compute(&args(
            "cron(0 0 1 1 ? 2027)",
            "UTC",
            "2026-11-25T09:00:00Z",
            5,
        ))
        .unwrap();
        assert_eq!(f.slots.len(), 1);
    }

    #[test]
    fn windows_outside_the_policy_bounds_are_usage_errors_naming_the_flag() {
        for (start, completion, flag) in [
            (153_722_867_280_912_931, 180, "--start-window"),
            (59, 180, "--start-window"),
            (60, i64::MIN, "--completion-window"),
            (60, 52_560_001, "--completion-window"),
        ] {
            let mut a = args("cron(0 0 15 * ? *)", "UTC", "2026-11-25T09:00:00Z", 1);
            a.start_window_minutes = start;
            a.completion_window_minutes = completion;
            let e = compute(&a).unwrap_err().to_string();
            assert!(e.starts_with(flag), "{e}");
            assert!(e.contains("from 60 to 52560000"), "{e}");
        }
    }

    #[test]
    fn value_parsers_use_the_same_bounds() {
        assert_eq!(parse_window_minutes(" 60 "), Ok(60));
        assert!(parse_window_minutes("153722867280912931").is_err());
        assert!(
            parse_window_minutes("sixty")
                .unwrap_err()
                .contains("not an integer")
        );
        assert_eq!(parse_count("1000"), Ok(1000));
        assert!(parse_count("1001").unwrap_err().contains("from 1 to 1000"));
        assert!(parse_count("-1").is_err());
    }

    #[test]
    fn bad_count_and_zone_are_usage_errors() {
        assert!(
            compute(&args(
                "cron(0 0 15 * ? *)",
                "UTC",
                "2026-11-25T09:00:00Z",
                0
            ))
            .is_err()
        );
        let e = compute(&args(
            "cron(0 0 15 * ? *)",
            "Mars/Base",
            "2026-11-25T09:00:00Z",
            1,
        ))
        .unwrap_err();
        assert!(e.to_string().contains("Mars/Base"), "{e}");
    }
}
