//! The guard's own pure decisions: not compliance (that is `policy`'s), only what to do
//! about the facts and a policy result — which tags to judge the table by when the read lags
//! behind the event, whether the remediation tag may be written without overwriting a tag
//! someone set, whether an event needs an alert, and how severe the alert is.

use std::collections::BTreeMap;

use policy::config::Mode;
use policy::evaluate::{TableEvaluation, Verdict};
use policy::facts::Fact;
use policy::findings::{Finding, FindingCode, Severity};

use awsio::table::TagsRead;

use crate::outcome::Action;

/// The tags to judge a table by, from a read that expected the tags the event set, and the
/// note that explains a lagging read (`None` when the read showed them all).
///
/// When some of the event's tags are not visible yet (`read.not_yet_visible`), it depends on
/// the event:
/// - `creates_table` (the table was created with these tags): the read lags, so the event's
///   values are used for the keys the read does not show (a key the read shows keeps the read
///   value);
/// - a tag change: a later call changed them again, so the current (read) tags are used.
pub fn tags_to_judge(
    read: TagsRead,
    creates_table: bool,
) -> (BTreeMap<String, String>, Option<String>) {
    let mut tags = read.tags;
    if read.not_yet_visible.is_empty() {
        return (tags, None);
    }
    let keys: Vec<&str> = read.not_yet_visible.keys().map(String::as_str).collect();
    let note = if creates_table {
        format!(
            "tags set at creation not visible after {} reads ({}); used the event's values",
            read.reads,
            keys.join(", ")
        )
    } else {
        format!(
            "tags this call set are not on the table after {} reads ({}): a later call changed them; used the current tags",
            read.reads,
            keys.join(", ")
        )
    };
    if creates_table {
        for (k, v) in read.not_yet_visible {
            tags.entry(k).or_insert(v);
        }
    }
    (tags, Some(note))
}

/// What to do with the tag `policy::remediation_tag` proposes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagDecision {
    /// Nothing to add: no tag proposed, the tags are unknown, or the table already carries
    /// the proposed tag.
    Nothing,
    /// Add the tag (mode `enforce`).
    Add {
        /// The backup tag's key, absent from the table.
        key: String,
        /// The value that makes a conforming plan select the table.
        value: String,
    },
    /// Say it would be added (mode `report-only`).
    WouldAdd {
        /// The backup tag's key, absent from the table.
        key: String,
        /// The value that would make a conforming plan select the table.
        value: String,
    },
    /// The table carries the key with another value: never overwrite it.
    Refuse {
        /// The backup tag's key, which the table already carries.
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

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn read(tags: &[(&str, &str)], not_yet_visible: &[(&str, &str)]) -> TagsRead {
        TagsRead {
            tags: map(tags),
            reads: 4,
            not_yet_visible: map(not_yet_visible),
        }
    }

    #[test]
    fn a_read_showing_every_expected_tag_is_used_as_it_is_without_a_note() {
        for creates_table in [true, false] {
            assert_eq!(
                tags_to_judge(read(&[("owner", "x")], &[]), creates_table),
                (map(&[("owner", "x")]), None)
            );
        }
    }

    #[test]
    fn a_lagging_read_after_a_creation_adds_the_events_values() {
        let (tags, note) = tags_to_judge(
            read(
                &[("owner", "x")],
                &[("backup-policy", "daily"), ("team", "t")],
            ),
            true,
        );
        assert_eq!(
            tags,
            map(&[("backup-policy", "daily"), ("owner", "x"), ("team", "t")])
        );
        let note = note.unwrap();
        assert!(
            note.contains("set at creation not visible after 4 reads (backup-policy, team)")
                && note.contains("used the event's values"),
            "{note}"
        );
    }

    #[test]
    fn a_lagging_read_after_a_creation_keeps_a_value_the_read_shows() {
        // `not_yet_visible` holds the expected value of a key the read shows with another one.
        let (tags, note) = tags_to_judge(
            read(
                &[("backup-policy", "weekly")],
                &[("backup-policy", "daily")],
            ),
            true,
        );
        assert_eq!(tags, map(&[("backup-policy", "weekly")]));
        assert!(note.is_some());
    }

    #[test]
    fn a_tag_change_not_visible_uses_the_current_tags() {
        let (tags, note) = tags_to_judge(
            read(&[("owner", "x")], &[("backup-policy", "daily")]),
            false,
        );
        assert_eq!(tags, map(&[("owner", "x")]));
        let note = note.unwrap();
        assert!(
            note.contains("not on the table after 4 reads (backup-policy)")
                && note.contains("a later call changed them; used the current tags"),
            "{note}"
        );
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
