//! Small conversions between SDK value types and the policy crate's plain types.

use aws_smithy_types::DateTime;
use jiff::Timestamp;

/// SDK timestamp → `jiff::Timestamp` (`None` if out of jiff's range).
pub fn timestamp(dt: &DateTime) -> Option<Timestamp> {
    Timestamp::new(dt.secs(), dt.subsec_nanos() as i32).ok()
}

/// `jiff::Timestamp` → SDK timestamp.
pub fn sdk_datetime(ts: Timestamp) -> DateTime {
    DateTime::from_secs_and_nanos(ts.as_second(), ts.subsec_nanosecond().max(0) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_subsecond_precision() {
        let ts: Timestamp = "2026-11-15T00:03:07.25Z".parse().unwrap();
        assert_eq!(timestamp(&sdk_datetime(ts)), Some(ts));
    }
}
