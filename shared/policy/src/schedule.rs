//! A cron expression evaluated in an IANA time zone: the instants at which AWS
//! Backup (or EventBridge Scheduler) starts a scheduled job.
//!
//! # Fire instants
//!
//! A schedule fires at the instant of every matching wall-clock minute in its
//! zone (years 1970-2199), with these DST rules — the behaviour AWS documents
//! for EventBridge Scheduler ("when the time shifts forward in Spring, your
//! schedule invocation gets skipped if the cron expression falls on a
//! non-existent date and time. When the time shifts back in the Fall, your
//! schedule runs only once"):
//!
//! * **Spring forward (gap):** a wall-clock time that does not exist that day
//!   (e.g. 02:30 on the last Sunday of March in Europe/Berlin) does **not**
//!   fire. It is not moved to 03:30.
//! * **Fall back (fold):** a wall-clock time that occurs twice (e.g. 02:30 on
//!   the last Sunday of October in Europe/Berlin) fires **once**, at its first
//!   occurrence (02:30 CEST = 00:30 UTC).
//!
//! So each matching, existing wall-clock time maps to exactly one instant,
//! and later wall-clock times map to later instants.
//!
//! # Computing next and previous fires
//!
//! No minute-by-minute scanning: [`Schedule::next_after`] walks the matching
//! *days* (year/month/day rules) in civil time from the wall-clock time of
//! `t`, and within each day only the matching times of day, converting each
//! candidate to an instant until one lies after `t`. [`Schedule::prev_before`]
//! walks backwards the same way, starting late enough to cover wall-clock
//! times repeated by a recent fall-back transition.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{SignedDuration, Timestamp};

use crate::cron::{CronError, CronExpr, MAX_YEAR, MIN_YEAR};

/// Why a schedule could not be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// The cron expression is invalid.
    #[error(transparent)]
    Cron(#[from] CronError),
    /// The time zone name is not an IANA zone known to the bundled tz database.
    #[error("unknown time zone `{zone}`: {reason}")]
    UnknownTimeZone {
        /// The name as given.
        zone: String,
        /// Why it was rejected.
        reason: String,
    },
}

/// An AWS cron expression in an IANA time zone (AWS Backup's
/// `ScheduleExpression` + `ScheduleExpressionTimezone`).
#[derive(Clone, Debug)]
pub struct Schedule {
    expr: CronExpr,
    tz: TimeZone,
    zone_name: String,
}

/// The first instant at which the wall-clock time `dt` occurs in `tz`, or
/// `None` if it falls into a gap (see the module docs).
fn first_instant(tz: &TimeZone, dt: DateTime) -> Option<Timestamp> {
    match tz.to_ambiguous_timestamp(dt).offset() {
        AmbiguousOffset::Unambiguous { offset } => offset.to_timestamp(dt).ok(),
        AmbiguousOffset::Gap { .. } => None,
        // `before` is the offset in force before the clocks went back: the
        // earlier of the two instants.
        AmbiguousOffset::Fold { before, .. } => before.to_timestamp(dt).ok(),
    }
}

fn at_minute(date: Date, minute_of_day: u16) -> DateTime {
    // minute_of_day < 1440 by construction, so both parts fit in i8.
    let time = Time::constant((minute_of_day / 60) as i8, (minute_of_day % 60) as i8, 0, 0);
    DateTime::from_parts(date, time)
}

fn minute_of_day(dt: DateTime) -> u16 {
    dt.hour() as u16 * 60 + dt.minute() as u16
}

/// Instants bounding everything a schedule can fire at (civil years
/// 1970-2199 in any zone), with a margin for zone offsets.
fn domain() -> (Timestamp, Timestamp) {
    let start = Timestamp::constant(-3 * 86_400, 0);
    // 2200-01-01T00:00:00Z is 7_258_118_400 s after the epoch.
    let end = Timestamp::constant(7_258_118_400 + 3 * 86_400, 0);
    (start, end)
}

impl Schedule {
    /// Parses `expr` (see [`crate::cron`]) and resolves `tz_name` as an IANA
    /// time zone (`UTC`, `Europe/Berlin`, ...) from the bundled tz database.
    pub fn new(expr: &str, tz_name: &str) -> Result<Schedule, ScheduleError> {
        let expr = CronExpr::parse(expr)?;
        let name = tz_name.trim();
        if name.is_empty() {
            return Err(ScheduleError::UnknownTimeZone {
                zone: tz_name.to_string(),
                reason: "empty time zone name (AWS uses `UTC` when ScheduleExpressionTimezone is absent)".to_string(),
            });
        }
        let tz = TimeZone::get(name).map_err(|e| ScheduleError::UnknownTimeZone {
            zone: tz_name.to_string(),
            reason: e.to_string(),
        })?;
        Ok(Schedule {
            expr,
            tz,
            zone_name: name.to_string(),
        })
    }

    /// Builds a schedule from parts already validated.
    pub fn from_parts(expr: CronExpr, tz: TimeZone, zone_name: impl Into<String>) -> Schedule {
        Schedule {
            expr,
            tz,
            zone_name: zone_name.into(),
        }
    }

    /// The parsed cron expression the schedule fires by.
    pub fn expr(&self) -> &CronExpr {
        &self.expr
    }

    /// The time zone name as given (trimmed).
    pub fn time_zone_name(&self) -> &str {
        &self.zone_name
    }

    /// The resolved time zone.
    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    /// Is `t` a fire instant of this schedule?
    pub fn fires_at(&self, t: Timestamp) -> bool {
        let dt = self.tz.to_datetime(t);
        dt.second() == 0
            && dt.subsec_nanosecond() == 0
            && self.expr.matches(dt)
            && first_instant(&self.tz, dt) == Some(t)
    }

    /// First fire instant strictly after `t`; `None` if the expression never
    /// fires again (its year field is exhausted, or it can never match).
    pub fn next_after(&self, t: Timestamp) -> Option<Timestamp> {
        // Wall-clock time is monotone in the first-occurrence mapping, so
        // every fire after `t` has a wall-clock time at or after `t`'s.
        let start = self.tz.to_datetime(t);
        let mut day = start.date();
        let mut from = minute_of_day(start);
        loop {
            let d = self.expr.next_day(day)?;
            if d != day {
                from = 0;
            }
            let mut m = from;
            while let Some(hm) = self.expr.next_time(m) {
                if let Some(inst) = first_instant(&self.tz, at_minute(d, hm))
                    && inst > t
                {
                    return Some(inst);
                }
                m = hm + 1;
            }
            if d.year() >= MAX_YEAR && d.month() == 12 && d.day() == 31 {
                return None;
            }
            day = d.tomorrow().ok()?;
            from = 0;
        }
    }

    /// The latest wall-clock time seen at any instant before `t`: `t`'s own,
    /// or a later one if the clocks went back during the previous two days.
    fn latest_wall_clock_before(&self, t: Timestamp) -> DateTime {
        let mut latest = self.tz.to_datetime(t);
        let horizon = t.checked_sub(SignedDuration::from_hours(48)).unwrap_or(t);
        // `preceding` is strictly before its argument; a transition exactly at
        // `t` matters too (the instants just before it show the old offset).
        let inclusive = t.checked_add(SignedDuration::from_nanos(1)).unwrap_or(t);
        for tr in self.tz.preceding(inclusive) {
            let at = tr.timestamp();
            if at < horizon {
                break;
            }
            let Ok(just_before) = at.checked_sub(SignedDuration::from_nanos(1)) else {
                break;
            };
            let wall = self.tz.to_offset(just_before).to_datetime(just_before);
            if wall > latest {
                latest = wall;
            }
        }
        latest
    }

    /// Last fire instant strictly before `t`; `None` if there is none (the
    /// year field starts later, or the expression can never match).
    pub fn prev_before(&self, t: Timestamp) -> Option<Timestamp> {
        let start = self.latest_wall_clock_before(t);
        let mut day = start.date();
        let mut to = minute_of_day(start);
        loop {
            let d = self.expr.prev_day(day)?;
            if d != day {
                to = 1439;
            }
            let mut m = Some(to);
            while let Some(hm) = m.and_then(|m| self.expr.prev_time(m)) {
                if let Some(inst) = first_instant(&self.tz, at_minute(d, hm))
                    && inst < t
                {
                    return Some(inst);
                }
                m = hm.checked_sub(1);
            }
            if d.year() <= MIN_YEAR && d.month() == 1 && d.day() == 1 {
                return None;
            }
            day = d.yesterday().ok()?;
            to = 1439;
        }
    }

    /// All fire instants in `[start, end)`, ascending.
    pub fn fires_between(&self, start: Timestamp, end: Timestamp) -> Vec<Timestamp> {
        let mut out = Vec::new();
        if start >= end {
            return out;
        }
        let mut cur = if self.fires_at(start) {
            out.push(start);
            start
        } else {
            start
        };
        while let Some(next) = self.next_after(cur) {
            if next >= end {
                break;
            }
            out.push(next);
            cur = next;
        }
        out
    }

    /// Do the two schedules fire at exactly the same instants?
    ///
    /// Decided exactly, over the whole domain of AWS cron (years 1970-2199,
    /// about 84,000 days) rather than over a sample horizon: the year field
    /// makes the domain finite, so no periodicity argument (28-year weekday
    /// cycle, 400-year Gregorian cycle) is needed, and none can be wrong
    /// (2100 is not a leap year, and `L`, `W`, `#` depend on it; tz rules
    /// change over the decades).
    ///
    /// 1. The first and the last fire of both must agree; they bound the
    ///    *span* `[first, last]` outside which neither fires.
    /// 2. If the two zones have the same UTC offset at every instant of the
    ///    span (checked at every transition of either zone; e.g. `UTC` and
    ///    `Etc/UTC`, or two zones that only differed decades earlier), the
    ///    wall-clock → instant mapping is the same for both on the span, and
    ///    it is one-to-one on existing wall-clock times. The schedules are then
    ///    equivalent iff every wall-clock minute matched by only one of them
    ///    does not exist in that one's zone (falls into a spring-forward gap).
    ///    Equal normalised field sets answer at once; otherwise every day of
    ///    the domain is compared (milliseconds).
    /// 3. Otherwise the next fires at every transition of either zone are
    ///    compared first (where zones that differ show it), then the fire
    ///    sequences are merged over the span and compared instant by instant,
    ///    stopping at the first difference. Exact; the cost is the number of
    ///    common fires before the first difference, so it is only slow for
    ///    frequent expressions in zones that differ somewhere in the span yet
    ///    fire identically (e.g. `cron(* 1 ...)` in `Etc/GMT-1` vs
    ///    `cron(* 0 ...)` in `UTC`).
    pub fn equivalent(&self, other: &Schedule) -> bool {
        let (start, end) = domain();
        let first = self.next_after(start);
        if first != other.next_after(start) {
            return false;
        }
        let Some(first) = first else {
            return true; // neither ever fires
        };
        let last = self.prev_before(end);
        if last != other.prev_before(end) {
            return false;
        }
        let Some(last) = last else {
            return false; // unreachable: `first` fires
        };
        if same_offsets(&self.tz, &other.tz, first, last) {
            if self.expr == other.expr {
                return true;
            }
            civil_equivalent(self, other)
        } else {
            transitions_agree(self, other, first, last) && fire_sequences_equal(self, other, first)
        }
    }
}

/// Transitions of either zone in `(from, to]`.
fn transitions(a: &TimeZone, b: &TimeZone, from: Timestamp, to: Timestamp) -> Vec<Timestamp> {
    let mut out = Vec::new();
    for tz in [a, b] {
        for tr in tz.following(from) {
            let at = tr.timestamp();
            if at > to {
                break;
            }
            out.push(at);
        }
    }
    out
}

/// Same UTC offset at every instant of `[from, to]`?
fn same_offsets(a: &TimeZone, b: &TimeZone, from: Timestamp, to: Timestamp) -> bool {
    if a == b {
        return true;
    }
    // Offsets are constant between transitions, so equal offsets at the start
    // and at every transition of either zone mean equal offsets everywhere.
    a.to_offset(from) == b.to_offset(from)
        && transitions(a, b, from, to)
            .into_iter()
            .all(|at| a.to_offset(at) == b.to_offset(at))
}

/// Cheap early difference for different zones: the next fire at each
/// transition of either zone.
fn transitions_agree(a: &Schedule, b: &Schedule, from: Timestamp, to: Timestamp) -> bool {
    transitions(&a.tz, &b.tz, from, to).into_iter().all(|at| {
        let before = at.checked_sub(SignedDuration::from_nanos(1)).unwrap_or(at);
        a.next_after(before) == b.next_after(before)
    })
}

/// Zones with equal offsets over the span: do the matching wall-clock
/// minutes differ only at times that do not exist in the matching
/// schedule's zone?
fn civil_equivalent(a: &Schedule, b: &Schedule) -> bool {
    let (ea, eb) = (&a.expr, &b.expr);
    let times_a: Vec<u16> = (0..1440).filter(|&m| ea.time_matches(m)).collect();
    let times_b: Vec<u16> = (0..1440).filter(|&m| eb.time_matches(m)).collect();
    let same_times = ea.same_times_of_day(eb);
    let exists =
        |s: &Schedule, day: Date, m: u16| first_instant(&s.tz, at_minute(day, m)).is_some();
    let Ok(mut day) = Date::new(MIN_YEAR, 1, 1) else {
        return false;
    };
    let Ok(last) = Date::new(MAX_YEAR, 12, 31) else {
        return false;
    };
    loop {
        let differs = match (ea.day_matches(day), eb.day_matches(day)) {
            (true, true) if same_times => false,
            (true, true) => (0..1440).any(|m| match (ea.time_matches(m), eb.time_matches(m)) {
                (true, false) => exists(a, day, m),
                (false, true) => exists(b, day, m),
                _ => false,
            }),
            (true, false) => times_a.iter().any(|&m| exists(a, day, m)),
            (false, true) => times_b.iter().any(|&m| exists(b, day, m)),
            (false, false) => false,
        };
        if differs {
            return false;
        }
        if day >= last {
            return true;
        }
        let Ok(next) = day.tomorrow() else {
            return true;
        };
        day = next;
    }
}

/// Different zones: compare the fire sequences from their common first fire.
fn fire_sequences_equal(a: &Schedule, b: &Schedule, first: Timestamp) -> bool {
    let mut t = first;
    loop {
        let (na, nb) = (a.next_after(t), b.next_after(t));
        if na != nb {
            return false;
        }
        match na {
            Some(next) => t = next,
            None => return true,
        }
    }
}
