//! Timestamps as AWS Backup's REST-JSON protocol carries them.
//!
//! Response bodies carry epoch seconds as JSON numbers (fractions allowed); query strings
//! carry RFC 3339 date-times (the SDK's `Format::DateTime`). Admin request bodies accept
//! either an epoch-seconds number or an RFC 3339 string, so scenario files stay readable.

use jiff::Timestamp;
use serde::de::{self, Deserializer, Visitor};
use serde::ser::Serializer;
use std::fmt;

/// Converts epoch seconds (possibly fractional) to a timestamp, rounded to the microsecond.
pub fn from_epoch_seconds(secs: f64) -> Result<Timestamp, String> {
    if !secs.is_finite() {
        return Err(format!("{secs} is not a finite number of epoch seconds"));
    }
    let micros = (secs * 1_000_000.0).round();
    // i128 holds every finite f64 integer in jiff's range; jiff rejects the rest.
    Timestamp::from_nanosecond(micros as i128 * 1_000)
        .map_err(|e| format!("{secs} epoch seconds is out of range: {e}"))
}

/// The JSON number AWS sends for a timestamp: an integer when whole, else fractional.
pub fn to_json_number(ts: Timestamp) -> serde_json::Number {
    if ts.subsec_nanosecond() == 0 {
        serde_json::Number::from(ts.as_second())
    } else {
        let secs = ts.as_second() as f64 + f64::from(ts.subsec_nanosecond()) / 1e9;
        serde_json::Number::from_f64(secs)
            .unwrap_or_else(|| serde_json::Number::from(ts.as_second()))
    }
}

/// Parses a timestamp given as an RFC 3339 string or as epoch seconds in a string.
pub fn parse_text(text: &str) -> Result<Timestamp, String> {
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Ok(ts);
    }
    match text.parse::<f64>() {
        Ok(secs) => from_epoch_seconds(secs),
        Err(_) => Err(format!(
            "{text:?} is neither an RFC 3339 timestamp nor epoch seconds"
        )),
    }
}

struct TsVisitor;

impl Visitor<'_> for TsVisitor {
    type Value = Timestamp;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("epoch seconds (a number) or an RFC 3339 timestamp string")
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Timestamp, E> {
        from_epoch_seconds(v).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Timestamp, E> {
        Timestamp::from_second(v).map_err(|e| E::custom(format!("{v} epoch seconds: {e}")))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Timestamp, E> {
        let secs = i64::try_from(v)
            .map_err(|_| E::custom(format!("{v} epoch seconds is out of range")))?;
        self.visit_i64(secs)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Timestamp, E> {
        parse_text(v).map_err(E::custom)
    }
}

/// `#[serde(with = "epoch")]` for a required timestamp.
pub mod epoch {
    use super::*;

    /// Writes epoch seconds.
    pub fn serialize<S: Serializer>(ts: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        serde::Serialize::serialize(&to_json_number(*ts), s)
    }

    /// Reads epoch seconds or RFC 3339.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        d.deserialize_any(TsVisitor)
    }
}

/// `#[serde(with = "epoch_opt", default)]` for an optional timestamp.
pub mod epoch_opt {
    use super::*;

    /// Writes epoch seconds, or null.
    pub fn serialize<S: Serializer>(ts: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match ts {
            Some(ts) => serde::Serialize::serialize(&to_json_number(*ts), s),
            None => s.serialize_none(),
        }
    }

    /// Reads epoch seconds, RFC 3339 or null.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
        struct OptVisitor;
        impl<'de> Visitor<'de> for OptVisitor {
            type Value = Option<Timestamp>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("null, epoch seconds or an RFC 3339 timestamp string")
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
                d.deserialize_any(TsVisitor).map(Some)
            }
        }
        d.deserialize_option(OptVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_and_fractional_seconds_round_trip() {
        let ts = from_epoch_seconds(1_700_000_000.25).unwrap();
        assert_eq!(ts.as_millisecond(), 1_700_000_000_250);
        assert_eq!(to_json_number(ts).as_f64(), Some(1_700_000_000.25));
        let whole = Timestamp::from_second(1_700_000_000).unwrap();
        assert_eq!(to_json_number(whole).as_i64(), Some(1_700_000_000));
    }

    #[test]
    fn text_accepts_rfc3339_and_epoch() {
        assert_eq!(
            parse_text("2023-11-14T22:13:20Z").unwrap(),
            Timestamp::from_second(1_700_000_000).unwrap()
        );
        assert_eq!(parse_text("1700000000").unwrap().as_second(), 1_700_000_000);
        assert!(parse_text("yesterday").is_err());
    }
}
