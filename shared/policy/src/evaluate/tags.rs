//! Tag rules: the exemption state of a table and its required tags.

use crate::config::Policy;
use crate::facts::{Fact, TableFacts};
use crate::findings::Finding;

use super::text;
use super::types::Exemption;

/// Reads the exemption state of a table: exempt iff the exemption tag (key and value) is
/// present and the reason tag has a non-blank value.
pub fn exemption(table: &TableFacts, policy: &Policy) -> Exemption {
    let tags = match &table.tags {
        Fact::Known(t) => t,
        Fact::Unknown { reason } => {
            return Exemption::Unknown {
                reason: reason.clone(),
            };
        }
    };
    if tags.get(&policy.exempt_tag.key) != Some(&policy.exempt_tag.value) {
        return Exemption::NotExempt;
    }
    match tags.get(&policy.exempt_reason_tag).map(|r| r.trim()) {
        Some(r) if !r.is_empty() => Exemption::Exempt {
            reason: r.to_string(),
        },
        _ => Exemption::WithoutReason,
    }
}

/// Required-tag findings (`MISSING_TAG`, `TAG_VALUE_NOT_ALLOWED`; subject = tag key); empty
/// when tags are unknown (the caller reports `UNVERIFIABLE`). A blank value counts as missing;
/// allowed values are compared exactly (case-sensitive).
pub fn check_tags(table: &TableFacts, policy: &Policy) -> Vec<Finding> {
    let Fact::Known(tags) = &table.tags else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for req in &policy.required_tags {
        match tags.get(&req.key) {
            Some(v) if !v.trim().is_empty() => {
                if !req.allowed_values.is_empty() && !req.allowed_values.contains(v) {
                    out.push(text::tag_value_not_allowed(table, req, v));
                }
            }
            _ => out.push(text::missing_tag(table, req)),
        }
    }
    out
}
