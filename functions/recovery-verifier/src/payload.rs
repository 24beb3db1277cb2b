//! The invocation payload.
//!
//! Accepted forms:
//!
//! * the EventBridge `Scheduled Event` envelope (`source`, `detail-type`, `detail`, ...): its
//!   `detail` (usually `{}`) is read as an on-demand payload;
//! * an EventBridge Scheduler (`ScheduleV2`) target `Input`: whatever constant JSON was set,
//!   read as an on-demand payload;
//! * an empty payload: `null`, `{}` or `""`;
//! * an on-demand payload:
//!   `{"now": "2026-11-25T12:00:00Z", "regions": ["eu-west-1"], "tables": ["orders-*"], "dry_run": false, "run_id": "2026-11-25-a"}`
//!   (every field optional; `run_id` names the run's evidence prefix).
//!
//! Unknown fields are ignored (envelopes carry many); a known field with the wrong type is an
//! error naming the field, what was expected and what was given.

use jiff::Timestamp;
use serde_json::Value;

/// What an invocation asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Invocation {
    /// Evaluate as of this instant instead of the clock.
    pub now: Option<Timestamp>,
    /// Regions to verify instead of the configured ones.
    pub regions: Option<Vec<String>>,
    /// Table-name globs (`*` wildcards); empty means every table.
    pub tables: Vec<String>,
    /// Evaluate and log, but publish nothing and save no state.
    pub dry_run: bool,
    /// The run's id (the last segment of its evidence prefix) when the caller names it, as an
    /// orchestrator does to find each item's evidence; otherwise the run makes one up.
    pub run_id: Option<String>,
    /// True if the payload was an EventBridge envelope.
    pub from_eventbridge: bool,
}

/// A payload that could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid invocation payload: field `{field}`: expected {expected}, got {got}")]
pub struct PayloadError {
    /// The field (`now`, `regions`, `detail`, ...; `(payload)` for the whole payload).
    pub field: String,
    /// What the field accepts (type and form).
    pub expected: String,
    /// The JSON that was given, shortened to at most 80 bytes (`...` marks the cut).
    pub got: String,
}

fn err(field: &str, expected: &str, got: &Value) -> PayloadError {
    let mut shown = got.to_string();
    if shown.len() > 80 {
        let mut cut = 77;
        while !shown.is_char_boundary(cut) {
            cut -= 1;
        }
        shown.truncate(cut);
        shown.push_str("...");
    }
    PayloadError {
        field: field.to_string(),
        expected: expected.to_string(),
        got: shown,
    }
}

/// True for a region name such as `eu-west-1` or `us-gov-west-1` (the shared definition the
/// table guard's event parser also uses).
pub use policy::names::is_region_name;

/// Parses the payload (see the module docs).
pub fn parse_invocation(payload: &Value) -> Result<Invocation, PayloadError> {
    let (body, from_eventbridge) = match payload {
        Value::Null => return Ok(Invocation::default()),
        Value::String(s) if s.trim().is_empty() => return Ok(Invocation::default()),
        Value::Object(map) if map.contains_key("detail-type") && map.contains_key("source") => {
            match map.get("detail") {
                None | Some(Value::Null) => return Ok(eventbridge_default()),
                Some(d @ Value::Object(_)) => (d, true),
                Some(other) => return Err(err("detail", "an object", other)),
            }
        }
        Value::Object(_) => (payload, false),
        other => return Err(err("(payload)", "a JSON object, {} or null", other)),
    };
    let Value::Object(map) = body else {
        return Err(err("(payload)", "a JSON object", body));
    };
    let mut inv = Invocation {
        from_eventbridge,
        ..Invocation::default()
    };
    if let Some(v) = map.get("now").filter(|v| !v.is_null()) {
        let Value::String(s) = v else {
            return Err(err(
                "now",
                "an RFC 3339 timestamp string such as \"2026-11-25T12:00:00Z\"",
                v,
            ));
        };
        inv.now = Some(s.parse().map_err(|_| {
            err(
                "now",
                "an RFC 3339 timestamp string such as \"2026-11-25T12:00:00Z\"",
                v,
            )
        })?);
    }
    if let Some(v) = map.get("regions").filter(|v| !v.is_null()) {
        let expected = "a non-empty array of region names such as [\"eu-west-1\"]";
        let Value::Array(items) = v else {
            return Err(err("regions", expected, v));
        };
        let mut regions = Vec::new();
        for item in items {
            match item {
                Value::String(s) if is_region_name(s) => {
                    if !regions.contains(s) {
                        regions.push(s.clone());
                    }
                }
                _ => return Err(err("regions", expected, item)),
            }
        }
        if regions.is_empty() {
            return Err(err("regions", expected, v));
        }
        inv.regions = Some(regions);
    }
    if let Some(v) = map.get("tables").filter(|v| !v.is_null()) {
        let expected = "an array of table names or globs such as [\"orders-*\"]";
        let Value::Array(items) = v else {
            return Err(err("tables", expected, v));
        };
        for item in items {
            match item {
                Value::String(s) if !s.trim().is_empty() => inv.tables.push(s.trim().to_string()),
                _ => return Err(err("tables", expected, item)),
            }
        }
    }
    if let Some(v) = map.get("dry_run").filter(|v| !v.is_null()) {
        let Value::Bool(b) = v else {
            return Err(err("dry_run", "true or false", v));
        };
        inv.dry_run = *b;
    }
    if let Some(v) = map.get("run_id").filter(|v| !v.is_null()) {
        let expected = "1 to 64 letters, digits, '-' or '_' (it becomes an S3 key segment)";
        match v {
            Value::String(s)
                if !s.is_empty()
                    && s.len() <= 64
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
            {
                inv.run_id = Some(s.clone());
            }
            _ => return Err(err("run_id", expected, v)),
        }
    }
    Ok(inv)
}

fn eventbridge_default() -> Invocation {
    Invocation {
        from_eventbridge: true,
        ..Invocation::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scheduled_event_envelope_is_accepted() {
        let ev = json!({
            "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
            "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": "2026-11-25T02:00:00Z", "region": "eu-west-1",
            "resources": ["arn:aws:events:eu-west-1:123456789012:rule/nightly"], "detail": {}
        });
        let inv = parse_invocation(&ev).unwrap();
        assert!(inv.from_eventbridge);
        assert_eq!(inv.now, None);
        assert!(inv.regions.is_none() && inv.tables.is_empty() && !inv.dry_run);
    }

    #[test]
    fn empty_and_scheduler_payloads_are_accepted() {
        for p in [json!(null), json!({}), json!("")] {
            assert_eq!(parse_invocation(&p).unwrap(), Invocation::default(), "{p}");
        }
        let constant = json!({"regions": ["eu-west-1", "us-east-1"], "anything": [1, 2]});
        let inv = parse_invocation(&constant).unwrap();
        assert_eq!(inv.regions.unwrap(), ["eu-west-1", "us-east-1"]);
    }

    #[test]
    fn on_demand_payload_sets_everything() {
        let p = json!({"now": "2026-11-25T12:00:00Z", "regions": ["eu-west-1"],
                       "tables": ["orders-*", "users"], "dry_run": true});
        let inv = parse_invocation(&p).unwrap();
        assert_eq!(inv.run_id, None);
        assert_eq!(inv.now, Some("2026-11-25T12:00:00Z".parse().unwrap()));
        assert_eq!(inv.tables, ["orders-*", "users"]);
        assert!(inv.dry_run);
        let named = parse_invocation(&json!({"run_id": "org-2026-11-25_a1"})).unwrap();
        assert_eq!(named.run_id.as_deref(), Some("org-2026-11-25_a1"));
        let in_detail = json!({"source": "aws.events", "detail-type": "Scheduled Event",
                               "detail": {"dry_run": true}});
        assert!(parse_invocation(&in_detail).unwrap().dry_run);
    }

    #[test]
    fn wrong_types_name_the_field() {
        let cases = [
            (json!({"now": 5}), "now"),
            (json!({"now": "yesterday"}), "now"),
            (json!({"regions": "eu-west-1"}), "regions"),
            (json!({"regions": []}), "regions"),
            (json!({"regions": ["Ireland"]}), "regions"),
            (json!({"tables": "orders"}), "tables"),
            (json!({"tables": [3]}), "tables"),
            (json!({"dry_run": "yes"}), "dry_run"),
            (json!({"run_id": ""}), "run_id"),
            (json!({"run_id": "../other-run"}), "run_id"),
            (json!({"run_id": 7}), "run_id"),
            (
                json!({"source": "aws.events", "detail-type": "x", "detail": "s"}),
                "detail",
            ),
            (json!([1]), "(payload)"),
            (json!(7), "(payload)"),
        ];
        for (p, field) in cases {
            let e = parse_invocation(&p).unwrap_err();
            assert_eq!(e.field, field, "{p}");
            assert!(e.to_string().contains(field), "{e}");
        }
    }
}
