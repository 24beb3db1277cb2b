//! AWS cron expressions (the dialect of AWS Backup `ScheduleExpression` and
//! EventBridge `cron(...)` rules): parsing and wall-clock matching.
//!
//! This module knows nothing about time zones: it answers "does this civil
//! (wall-clock) date-time match?". [`crate::schedule::Schedule`] adds the IANA
//! zone and turns matches into instants.
//!
//! # Syntax
//!
//! `cron(minutes hours day-of-month month day-of-week year)`; the `cron(` `)`
//! wrapper is optional and surrounding whitespace is ignored. Fields are
//! separated by whitespace.
//!
//! | field | values | wildcards |
//! |---|---|---|
//! | minutes | 0-59 | `, - * /` |
//! | hours | 0-23 | `, - * /` |
//! | day-of-month | 1-31 | `, - * ? / L W` |
//! | month | 1-12 or JAN-DEC | `, - * /` |
//! | day-of-week | 1-7 or SUN-SAT (**1 = Sunday**) | `, - * ? L #` |
//! | year | 1970-2199 | `, - * /` |
//!
//! * `,` lists values, `-` gives an inclusive range (`MON-FRI`; ranges do not
//!   wrap around, `FRI-MON` is rejected), `*` is the whole range.
//! * `/` gives increments: `a/s` is `a`, `a+s`, … up to the field's maximum,
//!   `a-b/s` stops at `b`, `*/s` starts at the field's minimum (`0/15` in
//!   minutes = 0, 15, 30, 45; `1/10` = 1, 11, 21, …). `s` must be ≥ 1. AWS
//!   documents no `/` for day-of-week, so it is rejected there.
//! * `?` ("no value") must stand alone, and exactly one of day-of-month and
//!   day-of-week must be `?`: AWS never combines the two (both `?`, or
//!   neither, is an error).
//! * `L` in day-of-month is the last day of the month; `LW` is the last
//!   weekday (Mon–Fri) of the month.
//! * `nW` in day-of-month is the weekday nearest to day `n` **within the same
//!   month**: a Saturday moves to the Friday before (but `1W` on a Saturday
//!   moves to Monday the 3rd), a Sunday to the Monday after (but a Sunday that
//!   is the last day of the month moves to the Friday before). If the month
//!   has no day `n` (e.g. `31W` in April) it does not fire that month, like a
//!   plain `31`.
//! * `L` alone in day-of-week is Saturday (7, the last day of the week);
//!   `nL` is the last weekday `n` of the month (`6L` = last Friday).
//! * `n#k` in day-of-week is the `k`-th (1-5) weekday `n` of the month (`2#1`
//!   = first Monday; `6#5` does not fire in months with four Fridays). As AWS
//!   documents, a field using `#` holds only that one expression (`3#1,6#3`
//!   is rejected).
//! * Names (JAN-DEC, SUN-SAT) and the letters `L`, `W` are case-insensitive.
//! * Other list items in day-of-month / day-of-week combine by union
//!   (`1,L` = the 1st and the last day).
//!
//! A date-time matches when its minute, hour, month and year are in their
//! sets and its day matches the non-`?` day field. Seconds are ignored: fire
//! times are whole minutes.

use std::fmt;
use std::str::FromStr;

use jiff::civil::{Date, DateTime};

/// Smallest year the year field accepts (and the first year `*` covers).
pub const MIN_YEAR: i16 = 1970;
/// Largest year the year field accepts (and the last year `*` covers).
pub const MAX_YEAR: i16 = 2199;

/// One of the six fields of an AWS cron expression, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CronField {
    /// Field 1: minutes, 0-59.
    Minutes,
    /// Field 2: hours, 0-23.
    Hours,
    /// Field 3: day of month, 1-31, `?`, `L`, `W`.
    DayOfMonth,
    /// Field 4: month, 1-12 or JAN-DEC.
    Month,
    /// Field 5: day of week, 1-7 (1 = Sunday) or SUN-SAT, `?`, `L`, `#`.
    DayOfWeek,
    /// Field 6: year, 1970-2199.
    Year,
}

impl CronField {
    /// The six fields in expression order.
    pub const ALL: [CronField; 6] = [
        CronField::Minutes,
        CronField::Hours,
        CronField::DayOfMonth,
        CronField::Month,
        CronField::DayOfWeek,
        CronField::Year,
    ];

    /// 1-based position of the field in the expression.
    pub fn number(self) -> usize {
        match self {
            CronField::Minutes => 1,
            CronField::Hours => 2,
            CronField::DayOfMonth => 3,
            CronField::Month => 4,
            CronField::DayOfWeek => 5,
            CronField::Year => 6,
        }
    }

    /// The field's name as used in AWS documentation (`day-of-week`, ...).
    pub fn name(self) -> &'static str {
        match self {
            CronField::Minutes => "minutes",
            CronField::Hours => "hours",
            CronField::DayOfMonth => "day-of-month",
            CronField::Month => "month",
            CronField::DayOfWeek => "day-of-week",
            CronField::Year => "year",
        }
    }

    /// Inclusive numeric bounds of the field.
    pub fn bounds(self) -> (u16, u16) {
        match self {
            CronField::Minutes => (0, 59),
            CronField::Hours => (0, 23),
            CronField::DayOfMonth => (1, 31),
            CronField::Month => (1, 12),
            CronField::DayOfWeek => (1, 7),
            CronField::Year => (MIN_YEAR as u16, MAX_YEAR as u16),
        }
    }

    fn range_hint(self) -> &'static str {
        match self {
            CronField::Month => " (or JAN-DEC)",
            CronField::DayOfWeek => " (1 = SUN)",
            _ => "",
        }
    }
}

impl fmt::Display for CronField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a cron expression was rejected: which field, where, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct CronError {
    /// The expression as given (surrounding whitespace removed).
    pub expr: String,
    /// The field at fault; `None` for whole-expression problems (wrapper,
    /// field count).
    pub field: Option<CronField>,
    /// 0-based character offset, within [`CronError::expr`], of the offending
    /// token.
    pub position: usize,
    /// What is wrong and what is accepted.
    pub reason: String,
}

impl fmt::Display for CronError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.field {
            Some(field) => write!(
                f,
                "invalid cron expression `{}`: {} field (field {}, position {}): {}",
                self.expr,
                field,
                field.number(),
                self.position,
                self.reason
            ),
            None => write!(
                f,
                "invalid cron expression `{}` (position {}): {}",
                self.expr, self.position, self.reason
            ),
        }
    }
}

/// A set of small numbers, bit `i` standing for `field minimum + i`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
struct Bits([u64; 4]);

impl Bits {
    fn insert(&mut self, i: u16) {
        self.0[usize::from(i / 64)] |= 1u64 << (i % 64);
    }
    fn remove(&mut self, i: u16) {
        self.0[usize::from(i / 64)] &= !(1u64 << (i % 64));
    }
    fn contains(&self, i: u16) -> bool {
        i < 256 && self.0[usize::from(i / 64)] & (1u64 << (i % 64)) != 0
    }
    fn full(len: u16) -> Bits {
        let mut b = Bits::default();
        for i in 0..len {
            b.insert(i);
        }
        b
    }
    fn is_empty(&self) -> bool {
        self.0 == [0; 4]
    }
    fn union(&mut self, other: Bits) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a |= b;
        }
    }
    fn is_superset(&self, other: &Bits) -> bool {
        self.0.iter().zip(other.0).all(|(a, b)| b & !a == 0)
    }
}

/// The day-of-month field when day-of-week is `?`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct DomSpec {
    /// Plain days, bit `d - 1`.
    days: Bits,
    /// `L`: last day of the month.
    last: bool,
    /// `LW`: last weekday of the month.
    last_weekday: bool,
    /// `nW`: weekday nearest to day n, bit `n - 1`.
    nearest: Bits,
}

/// The day-of-week field when day-of-month is `?`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct DowSpec {
    /// Plain weekdays, bit `w - 1` (w: 1 = Sunday).
    days: Bits,
    /// `wL`: last weekday w of the month, bit `w - 1`.
    last_of: Bits,
    /// `w#k`: the k-th weekday w of the month.
    nth: Option<(u8, u8)>,
}

/// Which day field carries the day rule (the other one is `?`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Days {
    OfMonth(DomSpec),
    OfWeek(DowSpec),
}

fn weekday_number(d: Date) -> u16 {
    // 1 = Sunday ... 7 = Saturday, as AWS numbers them.
    d.weekday().to_sunday_one_offset() as u16
}

fn date_of(y: i16, m: i8, d: i8) -> Option<Date> {
    Date::new(y, m, d).ok()
}

/// The weekday (Mon-Fri) nearest to day `n` of the month of `any`, staying
/// inside the month; `None` if the month has no day `n`.
fn nearest_weekday(any: Date, n: i8) -> Option<i8> {
    let last = any.days_in_month();
    if n > last {
        return None;
    }
    let d = date_of(any.year(), any.month(), n)?;
    Some(match weekday_number(d) {
        7 if n == 1 => 3,        // Saturday the 1st -> Monday the 3rd
        7 => n - 1,              // Saturday -> Friday before
        1 if n == last => n - 2, // Sunday the last -> Friday before
        1 => n + 1,              // Sunday -> Monday after
        _ => n,
    })
}

fn last_weekday_of_month(any: Date) -> i8 {
    let last = any.days_in_month();
    match date_of(any.year(), any.month(), last).map(weekday_number) {
        Some(7) => last - 1,
        Some(1) => last - 2,
        _ => last,
    }
}

impl DomSpec {
    fn matches(&self, d: Date) -> bool {
        let day = d.day();
        if self.days.contains((day - 1) as u16) {
            return true;
        }
        let last = d.days_in_month();
        if self.last && day == last {
            return true;
        }
        if self.last_weekday && day == last_weekday_of_month(d) {
            return true;
        }
        if !self.nearest.is_empty() {
            // A nearest weekday is at most two days away from its target.
            for n in (day - 2).max(1)..=(day + 2).min(31) {
                if self.nearest.contains((n - 1) as u16) && nearest_weekday(d, n) == Some(day) {
                    return true;
                }
            }
        }
        false
    }

    fn normalise(&mut self) {
        if self.days == Bits::full(31) {
            self.last = false;
            self.last_weekday = false;
            self.nearest = Bits::default();
        }
        let mut tail = Bits::default();
        for d in 28..=31 {
            tail.insert(d - 1);
        }
        if self.days.is_superset(&tail) {
            // The last day of a month is always one of 28..=31.
            self.last = false;
        }
    }
}

impl DowSpec {
    fn matches(&self, d: Date) -> bool {
        let w = weekday_number(d);
        if self.days.contains(w - 1) {
            return true;
        }
        let day = d.day();
        if self.last_of.contains(w - 1) && day + 7 > d.days_in_month() {
            return true;
        }
        if let Some((nw, k)) = self.nth
            && u16::from(nw) == w
            && (day - 1) / 7 + 1 == k as i8
        {
            return true;
        }
        false
    }
}

/// A parsed six-field AWS cron expression.
///
/// Equality (`==`) compares the normalised field sets, not the text:
/// `cron(0 0 15,25 * ? *)` equals `cron(0 0 25,15 * ? *)`, and
/// `cron(0 0 ? * 1-7 *)` equals `cron(0 0 * * ? *)`. Equal expressions match
/// exactly the same date-times; the converse is not guaranteed (e.g. `31 FEB`
/// never matches, and neither does `30 FEB`), which is why
/// [`crate::schedule::Schedule::equivalent`] compares fire times when the
/// sets differ.
#[derive(Clone, Debug)]
pub struct CronExpr {
    text: String,
    minutes: Bits,
    hours: Bits,
    days: Days,
    months: Bits,
    years: Bits,
}

impl PartialEq for CronExpr {
    fn eq(&self, other: &Self) -> bool {
        self.minutes == other.minutes
            && self.hours == other.hours
            && self.days == other.days
            && self.months == other.months
            && self.years == other.years
    }
}

impl Eq for CronExpr {}

struct Parser<'a> {
    text: &'a str,
}

impl Parser<'_> {
    fn err(
        &self,
        field: Option<CronField>,
        byte_pos: usize,
        reason: impl Into<String>,
    ) -> CronError {
        let pos = byte_pos.min(self.text.len());
        let position = self
            .text
            .get(..pos)
            .map_or(pos, |prefix| prefix.chars().count());
        CronError {
            expr: self.text.to_string(),
            field,
            position,
            reason: reason.into(),
        }
    }

    /// The six-field body and its byte offset in `text`.
    fn body(&self) -> Result<(&str, usize), CronError> {
        let t = self.text;
        let lower: String = t.chars().take(5).collect::<String>().to_ascii_lowercase();
        if lower.starts_with("rate(") {
            return Err(self.err(
                None,
                0,
                "this is a rate expression; a cron expression is `cron(minutes hours day-of-month month day-of-week year)`",
            ));
        }
        if lower == "cron(" {
            if !t.ends_with(')') {
                return Err(self.err(None, t.len(), "missing closing `)` after `cron(`"));
            }
            Ok((&t[5..t.len() - 1], 5))
        } else {
            Ok((t, 0))
        }
    }

    fn fields<'b>(&self, body: &'b str, offset: usize) -> Vec<(usize, &'b str)> {
        let mut out = Vec::new();
        let mut start = None;
        for (i, c) in body.char_indices() {
            if c.is_whitespace() {
                if let Some(s) = start.take() {
                    out.push((offset + s, &body[s..i]));
                }
            } else if start.is_none() {
                start = Some(i);
            }
        }
        if let Some(s) = start {
            out.push((offset + s, &body[s..]));
        }
        out
    }

    /// Splits a field into its comma-separated items with byte offsets.
    fn items<'b>(
        &self,
        field: CronField,
        tok: &'b str,
        pos: usize,
    ) -> Result<Vec<(usize, &'b str)>, CronError> {
        let mut out = Vec::new();
        let mut off = 0;
        for item in tok.split(',') {
            if item.is_empty() {
                return Err(self.err(Some(field), pos + off, "empty list item (stray `,`)"));
            }
            out.push((pos + off, item));
            off += item.len() + 1;
        }
        Ok(out)
    }

    fn value(&self, field: CronField, s: &str, pos: usize) -> Result<u16, CronError> {
        let (lo, hi) = field.bounds();
        if s.is_empty() {
            return Err(self.err(Some(field), pos, "missing value"));
        }
        let v = if s.bytes().all(|b| b.is_ascii_digit()) {
            s.parse::<u32>().unwrap_or(u32::MAX)
        } else {
            let upper = s.to_ascii_uppercase();
            let names: &[&str] = match field {
                CronField::Month => &[
                    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV",
                    "DEC",
                ],
                CronField::DayOfWeek => &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
                _ => &[],
            };
            match names.iter().position(|n| *n == upper) {
                Some(i) => i as u32 + 1,
                None => {
                    let reason = match field {
                        CronField::Month => {
                            format!("unknown month `{s}` (expected 1-12 or JAN-DEC)")
                        }
                        CronField::DayOfWeek => {
                            format!(
                                "unknown day of week `{s}` (expected 1-7 with 1 = SUN, or SUN-SAT)"
                            )
                        }
                        _ if upper.contains('L') || upper.contains('W') => format!(
                            "`{s}` is not a number (`L` and `W` are only allowed in the day-of-month and day-of-week fields)"
                        ),
                        _ => format!("`{s}` is not a number ({lo}-{hi} expected)"),
                    };
                    return Err(self.err(Some(field), pos, reason));
                }
            }
        };
        if v < u32::from(lo) || v > u32::from(hi) {
            let shown = if v == u32::MAX {
                s.to_string()
            } else {
                v.to_string()
            };
            return Err(self.err(
                Some(field),
                pos,
                format!("value {shown} out of range {lo}-{hi}{}", field.range_hint()),
            ));
        }
        Ok(v as u16)
    }

    /// `*`, `a`, `a-b`, with optional `/step`; bits relative to the field minimum.
    fn plain_item(&self, field: CronField, item: &str, pos: usize) -> Result<Bits, CronError> {
        let (lo, hi) = field.bounds();
        let (base, step) = match item.split_once('/') {
            Some((b, s)) => (b, Some((s, pos + b.len() + 1))),
            None => (item, None),
        };
        let (start, end) = if base == "*" {
            (lo, hi)
        } else if let Some((a, b)) = base.split_once('-') {
            let av = self.value(field, a, pos)?;
            let bv = self.value(field, b, pos + a.len() + 1)?;
            if av > bv {
                return Err(self.err(
                    Some(field),
                    pos,
                    format!(
                        "range `{base}` runs backwards (start after end; ranges do not wrap around)"
                    ),
                ));
            }
            (av, bv)
        } else {
            let v = self.value(field, base, pos)?;
            (v, if step.is_some() { hi } else { v })
        };
        let step = match step {
            None => 1,
            Some((s, spos)) => match s.parse::<u16>() {
                Ok(n) if n >= 1 && s.bytes().all(|b| b.is_ascii_digit()) => n,
                _ => {
                    return Err(self.err(
                        Some(field),
                        spos,
                        format!("increment `{s}` after `/` must be a whole number of at least 1"),
                    ));
                }
            },
        };
        let mut bits = Bits::default();
        let mut v = start;
        while v <= end {
            bits.insert(v - lo);
            v = match v.checked_add(step) {
                Some(n) => n,
                None => break,
            };
        }
        Ok(bits)
    }

    fn reject_question(&self, field: CronField, tok: &str, pos: usize) -> Result<(), CronError> {
        if let Some(i) = tok.find('?') {
            let reason = match field {
                CronField::DayOfMonth | CronField::DayOfWeek => {
                    "`?` must stand alone in the field".to_string()
                }
                _ => "`?` is only allowed in the day-of-month or day-of-week field".to_string(),
            };
            return Err(self.err(Some(field), pos + i, reason));
        }
        if field != CronField::DayOfWeek
            && let Some(i) = tok.find('#')
        {
            return Err(self.err(
                Some(field),
                pos + i,
                "`#` is only allowed in the day-of-week field (e.g. `2#1`)",
            ));
        }
        Ok(())
    }

    fn plain_field(&self, field: CronField, (pos, tok): (usize, &str)) -> Result<Bits, CronError> {
        self.reject_question(field, tok, pos)?;
        let mut bits = Bits::default();
        for (ipos, item) in self.items(field, tok, pos)? {
            bits.union(self.plain_item(field, item, ipos)?);
        }
        Ok(bits)
    }

    fn dom_field(&self, (pos, tok): (usize, &str)) -> Result<Option<DomSpec>, CronError> {
        let field = CronField::DayOfMonth;
        if tok == "?" {
            return Ok(None);
        }
        self.reject_question(field, tok, pos)?;
        let mut spec = DomSpec {
            days: Bits::default(),
            last: false,
            last_weekday: false,
            nearest: Bits::default(),
        };
        for (ipos, item) in self.items(field, tok, pos)? {
            let upper = item.to_ascii_uppercase();
            if upper == "L" {
                spec.last = true;
            } else if upper == "LW" {
                spec.last_weekday = true;
            } else if upper.contains('L') {
                return Err(self.err(
                    Some(field),
                    ipos,
                    format!("`{item}`: `L` in day-of-month must stand alone (`L` = last day, `LW` = last weekday)"),
                ));
            } else if let Some(day) = upper.strip_suffix('W') {
                if day.is_empty() || !day.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(self.err(
                        Some(field),
                        ipos,
                        format!("`{item}`: `W` takes a single day of month (e.g. `15W`)"),
                    ));
                }
                let n = self.value(field, day, ipos)?;
                spec.nearest.insert(n - 1);
            } else if upper.contains('W') {
                return Err(self.err(
                    Some(field),
                    ipos,
                    format!("`{item}`: `W` must follow a single day of month (e.g. `15W`)"),
                ));
            } else {
                spec.days.union(self.plain_item(field, item, ipos)?);
            }
        }
        spec.normalise();
        Ok(Some(spec))
    }

    fn dow_field(&self, (pos, tok): (usize, &str)) -> Result<Option<DowSpec>, CronError> {
        let field = CronField::DayOfWeek;
        if tok == "?" {
            return Ok(None);
        }
        self.reject_question(field, tok, pos)?;
        let items = self.items(field, tok, pos)?;
        if items.len() > 1
            && let Some((ipos, _)) = items.iter().find(|(_, i)| i.contains('#'))
        {
            return Err(self.err(
                Some(field),
                *ipos,
                "a day-of-week field using `#` may hold only that one expression (e.g. `3#1,6#3` is invalid)",
            ));
        }
        let mut spec = DowSpec {
            days: Bits::default(),
            last_of: Bits::default(),
            nth: None,
        };
        for (ipos, item) in items {
            let upper = item.to_ascii_uppercase();
            if let Some(i) = item.find('/') {
                return Err(self.err(
                    Some(field),
                    ipos + i,
                    "`/` is not allowed in the day-of-week field (AWS allows , - * ? L #)",
                ));
            }
            if upper == "L" {
                spec.days.insert(6); // L alone = Saturday (7)
            } else if let Some((w, k)) = item.split_once('#') {
                let wv = self.value(field, w, ipos)?;
                let kpos = ipos + w.len() + 1;
                let kv = match k.parse::<u8>() {
                    Ok(n) if (1..=5).contains(&n) && k.bytes().all(|b| b.is_ascii_digit()) => n,
                    _ => {
                        return Err(self.err(
                            Some(field),
                            kpos,
                            format!(
                                "occurrence `{k}` after `#` out of range 1-5 (`2#1` = first Monday)"
                            ),
                        ));
                    }
                };
                spec.nth = Some((wv as u8, kv));
            } else if let Some(w) = upper.strip_suffix('L') {
                if w.contains('-') || w.contains('*') {
                    return Err(self.err(
                        Some(field),
                        ipos,
                        format!(
                            "`{item}`: `L` follows a single day of week (e.g. `6L` = last Friday)"
                        ),
                    ));
                }
                let wv = self.value(field, &item[..w.len()], ipos)?;
                spec.last_of.insert(wv - 1);
            } else {
                spec.days.union(self.plain_item(field, item, ipos)?);
            }
        }
        Ok(Some(spec))
    }
}

impl CronExpr {
    /// Parses an AWS cron expression: `cron(0 0 15,25 * ? *)` or the bare six
    /// fields `0 0 15,25 * ? *`; surrounding whitespace is ignored.
    ///
    /// Errors name the field, the character position and the reason.
    pub fn parse(expr: &str) -> Result<CronExpr, CronError> {
        let p = Parser { text: expr.trim() };
        if p.text.is_empty() {
            return Err(p.err(None, 0, "empty expression"));
        }
        let (body, body_pos) = p.body()?;
        let fields = p.fields(body, body_pos);
        if fields.len() != 6 {
            let pos = fields.get(6).map_or(p.text.len(), |f| f.0);
            return Err(p.err(
                None,
                pos,
                format!(
                    "expected 6 fields (minutes hours day-of-month month day-of-week year), found {}",
                    fields.len()
                ),
            ));
        }
        let minutes = p.plain_field(CronField::Minutes, fields[0])?;
        let hours = p.plain_field(CronField::Hours, fields[1])?;
        let dom = p.dom_field(fields[2])?;
        let months = p.plain_field(CronField::Month, fields[3])?;
        let dow = p.dow_field(fields[4])?;
        let years = p.plain_field(CronField::Year, fields[5])?;
        let days = match (dom, dow) {
            (Some(d), None) => Days::OfMonth(d),
            (None, Some(w)) => normalise_dow(w),
            (None, None) => {
                return Err(p.err(
                    Some(CronField::DayOfMonth),
                    fields[2].0,
                    "day-of-month and day-of-week are both `?`; exactly one of them must be `?`",
                ));
            }
            (Some(_), Some(_)) => {
                return Err(p.err(
                    Some(CronField::DayOfWeek),
                    fields[4].0,
                    "one of day-of-month and day-of-week must be `?` (AWS cannot combine them)",
                ));
            }
        };
        let text = format!(
            "cron({})",
            fields.iter().map(|f| f.1).collect::<Vec<_>>().join(" ")
        );
        Ok(CronExpr {
            text,
            minutes,
            hours,
            days,
            months,
            years,
        })
    }

    /// The expression in normalised `cron(f1 f2 f3 f4 f5 f6)` form (fields as
    /// given, single spaces), for messages.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Does this civil (wall-clock) date-time match? Seconds are ignored.
    pub fn matches(&self, dt: DateTime) -> bool {
        self.day_matches(dt.date())
            && self.hours.contains(dt.hour() as u16)
            && self.minutes.contains(dt.minute() as u16)
    }

    /// Does the expression fire at some time on this civil date?
    pub fn day_matches(&self, d: Date) -> bool {
        let y = d.year();
        if !(MIN_YEAR..=MAX_YEAR).contains(&y) {
            return false;
        }
        self.years.contains((y - MIN_YEAR) as u16)
            && self.months.contains((d.month() - 1) as u16)
            && self.day_rule_matches(d)
    }

    fn day_rule_matches(&self, d: Date) -> bool {
        match &self.days {
            Days::OfMonth(s) => s.matches(d),
            Days::OfWeek(s) => s.matches(d),
        }
    }

    /// Does the time of day `minute_of_day` (0..1440) match?
    pub fn time_matches(&self, minute_of_day: u16) -> bool {
        minute_of_day < 1440
            && self.hours.contains(minute_of_day / 60)
            && self.minutes.contains(minute_of_day % 60)
    }

    /// First matching time of day (minute of day) at or after `from`.
    pub(crate) fn next_time(&self, from: u16) -> Option<u16> {
        let (h0, m0) = (from / 60, from % 60);
        for h in h0..24 {
            if !self.hours.contains(h) {
                continue;
            }
            let start = if h == h0 { m0 } else { 0 };
            for m in start..60 {
                if self.minutes.contains(m) {
                    return Some(h * 60 + m);
                }
            }
        }
        None
    }

    /// Last matching time of day (minute of day) at or before `to`.
    pub(crate) fn prev_time(&self, to: u16) -> Option<u16> {
        let to = to.min(1439);
        let (h0, m0) = (to / 60, to % 60);
        for h in (0..=h0).rev() {
            if !self.hours.contains(h) {
                continue;
            }
            let end = if h == h0 { m0 } else { 59 };
            for m in (0..=end).rev() {
                if self.minutes.contains(m) {
                    return Some(h * 60 + m);
                }
            }
        }
        None
    }

    /// First matching date on or after `from` (None past year 2199).
    pub fn next_day(&self, from: Date) -> Option<Date> {
        let first = date_of(MIN_YEAR, 1, 1)?;
        let from = from.max(first);
        for y in from.year()..=MAX_YEAR {
            if !self.years.contains((y - MIN_YEAR) as u16) {
                continue;
            }
            let m0 = if y == from.year() { from.month() } else { 1 };
            for m in m0..=12 {
                if !self.months.contains((m - 1) as u16) {
                    continue;
                }
                let d0 = if y == from.year() && m == from.month() {
                    from.day()
                } else {
                    1
                };
                let month_start = date_of(y, m, 1)?;
                for d in d0..=month_start.days_in_month() {
                    let date = date_of(y, m, d)?;
                    if self.day_rule_matches(date) {
                        return Some(date);
                    }
                }
            }
        }
        None
    }

    /// Last matching date on or before `to` (None before year 1970).
    pub fn prev_day(&self, to: Date) -> Option<Date> {
        let last = date_of(MAX_YEAR, 12, 31)?;
        let to = to.min(last);
        for y in (MIN_YEAR..=to.year()).rev() {
            if !self.years.contains((y - MIN_YEAR) as u16) {
                continue;
            }
            let m0 = if y == to.year() { to.month() } else { 12 };
            for m in (1..=m0).rev() {
                if !self.months.contains((m - 1) as u16) {
                    continue;
                }
                let month_start = date_of(y, m, 1)?;
                let d0 = if y == to.year() && m == to.month() {
                    to.day()
                } else {
                    month_start.days_in_month()
                };
                for d in (1..=d0).rev() {
                    let date = date_of(y, m, d)?;
                    if self.day_rule_matches(date) {
                        return Some(date);
                    }
                }
            }
        }
        None
    }

    /// Do both expressions match the same times of day (hours × minutes)?
    pub(crate) fn same_times_of_day(&self, other: &CronExpr) -> bool {
        self.hours == other.hours && self.minutes == other.minutes
    }
}

fn normalise_dow(mut w: DowSpec) -> Days {
    for i in 0..7 {
        if w.days.contains(i) {
            w.last_of.remove(i);
        }
    }
    if let Some((nw, _)) = w.nth
        && w.days.contains(u16::from(nw) - 1)
    {
        w.nth = None;
    }
    if w.days == Bits::full(7) {
        // Every weekday = every day: the same as `*` in day-of-month.
        return Days::OfMonth(DomSpec {
            days: Bits::full(31),
            last: false,
            last_weekday: false,
            nearest: Bits::default(),
        });
    }
    Days::OfWeek(w)
}

impl FromStr for CronExpr {
    type Err = CronError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CronExpr::parse(s)
    }
}

impl fmt::Display for CronExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}
