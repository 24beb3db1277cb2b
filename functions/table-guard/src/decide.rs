//! The guard's own pure decisions: not compliance (that is `policy`'s), only what to do
//! about a policy result — whether the remediation tag may be written without overwriting a
//! tag someone set, whether an event needs an alert, and how severe the alert is.

use std::collections::BTreeMap;

use policy::config::Mode;
use policy::evaluate::{TableEvaluation, Verdict};
use policy::facts::Fact;
use policy::findings::{Finding, FindingCode, Severity};

use crate::outcome::Action;

/// What to do with the tag `policy::remediation_tag` proposes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagDecision {
    /// Nothing to add.
    Nothing,
    /// Add the tag (mode `enforce`).
    Add {
        /// Key.
        key: String,
        /// Value.
        value: String,
    },
    /// Say it would be added (mode `report-only`).
    WouldAdd {
        /// Key.
        key: String,
        /// Value.
        value: String,
    },
    /// The table carries the key with another value: never overwrite it.
    Refuse {
        /// Key.
        key: String,
        /// The policy's value.
        wanted: String,
        /// The value someone set.
        existing: String,
    },
}

/// Decides about the proposed remediation tag: a key the table already carries is never
/// overwritten (`TagResource` would replace its value), whatever the mode.
pub fn decide_tag(
    tags: &Fact<BTreeMap<String, String>>,
    proposed: Option<(String, String)>,
    mode: Mode,
) -> TagDecision {
    let Some((key, value)) = proposed else {
        return TagDecision::Nothing;
    };
    let Fact::Known(tags) = tags else {
        return TagDecision::Nothing;
    };
    match tags.get(&key) {
        Some(existing) if *existing == value => TagDecision::Nothing,
        Some(existing) => TagDecision::Refuse {
            key,
            wanted: value,
            existing: existing.clone(),
        },
        None => match mode {
            Mode::Enforce => TagDecision::Add { key, value },
            Mode::ReportOnly => TagDecision::WouldAdd { key, value },
        },
    }
}

/// True if the event needs an alert: the guard did (or would have done, or failed to do)
/// something, or the table is left non-compliant or unverifiable; compliant, pending and
/// exempt tables alert only when `notify_compliant` is set.
pub fn needs_alert(
    evaluation: &TableEvaluation,
    actions: &[Action],
    notify_compliant: bool,
) -> bool {
    !actions.is_empty()
        || matches!(
            evaluation.verdict,
            Verdict::NonCompliant | Verdict::Unverifiable
        )
        || notify_compliant
}

/// The alert's severity: the highest severity among the findings that are still true and
/// matter (those that break compliance, and `UNVERIFIABLE`); a failed or refused
/// remediation is at least `high`; otherwise `info` (e.g. the tag was added and coverage is
/// confirmed).
pub fn alert_severity(findings: &[Finding], actions: &[Action]) -> Severity {
    let from_findings = findings
        .iter()
        .filter(|f| f.code.breaks_compliance() || f.code == FindingCode::Unverifiable)
        .map(|f| f.severity)
        .max();
    let from_actions = actions
        .iter()
        .filter(|a| {
            matches!(
                a,
                Action::TagFailed { .. }
                    | Action::TagNotOverwritten { .. }
                    | Action::TagAdded {
                        coverage_confirmed: false,
                        ..
                    }
            )
        })
        .map(|_| Severity::High)
        .max();
    from_findings
        .into_iter()
        .chain(from_actions)
        .max()
        .unwrap_or(Severity::Info)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Fact<BTreeMap<String, String>> {
        Fact::Known(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    fn proposed() -> Option<(String, String)> {
        Some(("backup-policy".into(), "twice-monthly-90d".into()))
    }

    #[test]
    fn adds_only_an_absent_key_in_enforce_mode() {
        assert_eq!(
            decide_tag(&tags(&[("owner", "x")]), proposed(), Mode::Enforce),
            TagDecision::Add {
                key: "backup-policy".into(),
                value: "twice-monthly-90d".into()
            }
        );
        assert_eq!(
            decide_tag(&tags(&[]), proposed(), Mode::ReportOnly),
            TagDecision::WouldAdd {
                key: "backup-policy".into(),
                value: "twice-monthly-90d".into()
            }
        );
    }

    #[test]
    fn never_overwrites_a_key_someone_set() {
        for mode in [Mode::Enforce, Mode::ReportOnly] {
            assert_eq!(
                decide_tag(&tags(&[("backup-policy", "weekly")]), proposed(), mode),
                TagDecision::Refuse {
                    key: "backup-policy".into(),
                    wanted: "twice-monthly-90d".into(),
                    existing: "weekly".into()
                }
            );
        }
    }

    #[test]
    fn nothing_without_a_proposal_or_known_tags() {
        assert_eq!(
            decide_tag(&tags(&[]), None, Mode::Enforce),
            TagDecision::Nothing
        );
        assert_eq!(
            decide_tag(&Fact::unknown("denied"), proposed(), Mode::Enforce),
            TagDecision::Nothing
        );
    }

    fn finding(code: FindingCode) -> Finding {
        Finding::new(code, "arn:t", "t", None, "m", None)
    }

    #[test]
    fn severity_ignores_informational_findings() {
        assert_eq!(
            alert_severity(&[finding(FindingCode::PendingFirstBackup)], &[]),
            Severity::Info
        );
        assert_eq!(
            alert_severity(
                &[
                    finding(FindingCode::PendingFirstBackup),
                    finding(FindingCode::MissingTag)
                ],
                &[]
            ),
            Severity::Warning
        );
        assert_eq!(
            alert_severity(&[finding(FindingCode::NotCovered)], &[]),
            Severity::Critical
        );
        let failed = Action::TagFailed {
            key: "k".into(),
            value: "v".into(),
            error: "e".into(),
        };
        assert_eq!(alert_severity(&[], &[failed]), Severity::High);
    }
}
