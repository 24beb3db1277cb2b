//! AWS Backup selection (resource assignment) semantics.
//!
//! A table is selected by a selection iff
//!
//! ```text
//! (matches any Resources ARN pattern  OR  matches any ListOfTags entry)
//!   AND every Conditions entry holds
//!   AND NOT matches any NotResources ARN pattern
//! ```
//!
//! * When both `Resources` and `ListOfTags` are empty the inclusion part is "every resource"
//!   (AWS: "Otherwise, Backup attempts to select all supported and opted-in storage
//!   resources"); `Conditions` and `NotResources` still filter.
//! * ARN patterns and `StringLike`/`StringNotLike` values use `*` as the only wildcard (zero or
//!   more characters); AWS documents no other wildcard, so `?` is an ordinary character.
//!   All comparisons are case-sensitive.
//! * Tag keys may be written `aws:ResourceTag/<key>` or bare `<key>`.
//! * `StringEquals` / `StringLike` require the tag to be present; `StringNotEquals` /
//!   `StringNotLike` hold when the tag is absent (as in IAM): this is how an all-tables
//!   selection excludes exempt tables while covering untagged ones from birth.
//! * If the table's tags are unknown and the answer depends on them, the outcome is
//!   [`SelectionOutcome::Undecidable`], never "not covered". A `NotResources` match and a
//!   tag-free `Resources` match are decided without tags.
//! * The result does not depend on the order of any list: where several entries explain a
//!   result, the smallest (by operator, then key, then value / pattern) is reported.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::facts::{Fact, SelectionFacts, TableFacts, TagCondition};

/// An operator of a selection's `Conditions` block (or a `ListOfTags` entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ConditionOperator {
    /// `StringEquals` (also every `ListOfTags` entry).
    StringEquals,
    /// `StringNotEquals`: holds when the tag is absent or differs.
    StringNotEquals,
    /// `StringLike`: the tag exists and matches the `*` pattern.
    StringLike,
    /// `StringNotLike`: holds when the tag is absent or does not match the pattern.
    StringNotLike,
}

impl ConditionOperator {
    /// The operator's AWS name (`StringNotEquals`).
    pub fn as_str(self) -> &'static str {
        match self {
            ConditionOperator::StringEquals => "StringEquals",
            ConditionOperator::StringNotEquals => "StringNotEquals",
            ConditionOperator::StringLike => "StringLike",
            ConditionOperator::StringNotLike => "StringNotLike",
        }
    }

    /// Evaluates the operator on a tag value (`None` = tag absent).
    pub fn holds(self, pattern: &str, actual: Option<&str>) -> bool {
        match self {
            ConditionOperator::StringEquals => actual == Some(pattern),
            ConditionOperator::StringNotEquals => actual != Some(pattern),
            ConditionOperator::StringLike => actual.is_some_and(|a| wildcard_match(pattern, a)),
            ConditionOperator::StringNotLike => !actual.is_some_and(|a| wildcard_match(pattern, a)),
        }
    }
}

impl fmt::Display for ConditionOperator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a selection includes a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "via")]
pub enum CoverVia {
    /// A `Resources` ARN pattern matched.
    Resource {
        /// The pattern.
        pattern: String,
    },
    /// A `ListOfTags` entry matched.
    Tag {
        /// The entry.
        condition: TagCondition,
    },
    /// `Resources` and `ListOfTags` are both empty: every resource is included.
    AllResources,
}

/// Why a selection does not include a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum NoMatchReason {
    /// No `Resources` pattern and no `ListOfTags` entry matched.
    NoInclusion {
        /// Number of `Resources` patterns tried.
        resources: usize,
        /// Number of `ListOfTags` entries tried.
        list_of_tags: usize,
    },
    /// A `Conditions` entry does not hold.
    ConditionFailed {
        /// The operator.
        operator: ConditionOperator,
        /// The condition.
        condition: TagCondition,
        /// The table's value of the tag (`None` = absent).
        actual: Option<String>,
    },
    /// A `NotResources` pattern matched (exclusion beats every inclusion).
    Excluded {
        /// The pattern.
        pattern: String,
    },
}

impl fmt::Display for NoMatchReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NoMatchReason::NoInclusion {
                resources,
                list_of_tags,
            } => write!(
                f,
                "none of its {resources} Resources pattern(s) or {list_of_tags} ListOfTags entr(y/ies) match"
            ),
            NoMatchReason::ConditionFailed {
                operator,
                condition,
                actual,
            } => match actual {
                Some(v) => write!(
                    f,
                    "condition {operator} {condition} fails (tag value is {v:?})"
                ),
                None => write!(f, "condition {operator} {condition} fails (tag absent)"),
            },
            NoMatchReason::Excluded { pattern } => {
                write!(f, "excluded by NotResources pattern {pattern}")
            }
        }
    }
}

/// The outcome of one selection for one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum SelectionOutcome {
    /// The selection includes the table.
    Covered {
        /// What made the selection include it: a `Resources` pattern or a `ListOfTags` entry.
        via: CoverVia,
    },
    /// The selection does not include the table.
    NotCovered {
        /// Why not.
        reason: NoMatchReason,
    },
    /// The answer depends on tags that could not be read.
    Undecidable {
        /// Why the tags are unknown.
        reason: String,
    },
}

impl SelectionOutcome {
    /// True for [`SelectionOutcome::Covered`].
    pub fn is_covered(&self) -> bool {
        matches!(self, SelectionOutcome::Covered { .. })
    }
}

/// One selection's outcome for one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelectionMatch {
    /// `SelectionId` of the selection.
    pub selection_id: String,
    /// `SelectionName`: how finding messages name the selection.
    pub selection_name: String,
    /// The plan the selection belongs to.
    pub plan_id: String,
    /// Whether the selection covers the table, and why (not).
    pub outcome: SelectionOutcome,
}

/// Matches `text` against `pattern` where `*` matches any (possibly empty) sequence of
/// characters and every other character matches itself (case-sensitive).
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    // Byte-wise is exact for UTF-8: `*` is one byte, and a literal byte sequence taken from
    // valid UTF-8 can only match at character boundaries.
    let p = pattern.as_bytes();
    let t = text.as_bytes();
    // Greedy matching with backtracking to the last star: O(|p|·|t|) worst case.
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

/// Three-valued result used while evaluating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tri {
    Yes,
    No,
    Unknown,
}

/// Evaluates one selection for a table with the given ARN and tags.
pub fn match_selection(
    table_arn: &str,
    tags: &Fact<BTreeMap<String, String>>,
    selection: &SelectionFacts,
) -> SelectionOutcome {
    let tags_known = tags.known();
    let unknown_reason = || {
        format!(
            "the table's tags could not be read ({})",
            tags.unknown_reason().unwrap_or("unknown")
        )
    };

    // 1. NotResources: decided on the ARN alone, beats everything.
    if let Some(pattern) = selection
        .not_resources
        .iter()
        .filter(|p| wildcard_match(p, table_arn))
        .min()
    {
        return SelectionOutcome::NotCovered {
            reason: NoMatchReason::Excluded {
                pattern: pattern.clone(),
            },
        };
    }

    // 2. Inclusion: Resources OR ListOfTags (or everything when both are empty).
    let inclusion: (Tri, Option<CoverVia>) =
        if selection.resources.is_empty() && selection.list_of_tags.is_empty() {
            (Tri::Yes, Some(CoverVia::AllResources))
        } else if let Some(pattern) = selection
            .resources
            .iter()
            .filter(|p| wildcard_match(p, table_arn))
            .min()
        {
            (
                Tri::Yes,
                Some(CoverVia::Resource {
                    pattern: pattern.clone(),
                }),
            )
        } else if selection.list_of_tags.is_empty() {
            (Tri::No, None)
        } else {
            match tags_known {
                None => (Tri::Unknown, None),
                Some(tags) => match selection
                    .list_of_tags
                    .iter()
                    .filter(|c| {
                        ConditionOperator::StringEquals
                            .holds(&c.value, tags.get(c.tag_key()).map(String::as_str))
                    })
                    .min()
                {
                    Some(c) => (
                        Tri::Yes,
                        Some(CoverVia::Tag {
                            condition: c.clone(),
                        }),
                    ),
                    None => (Tri::No, None),
                },
            }
        };
    if inclusion.0 == Tri::No {
        return SelectionOutcome::NotCovered {
            reason: NoMatchReason::NoInclusion {
                resources: selection.resources.len(),
                list_of_tags: selection.list_of_tags.len(),
            },
        };
    }

    // 3. Conditions: all must hold.
    let conds = &selection.conditions;
    let all_conditions = [
        (ConditionOperator::StringEquals, &conds.string_equals),
        (ConditionOperator::StringNotEquals, &conds.string_not_equals),
        (ConditionOperator::StringLike, &conds.string_like),
        (ConditionOperator::StringNotLike, &conds.string_not_like),
    ];
    let has_conditions = all_conditions.iter().any(|(_, list)| !list.is_empty());
    if has_conditions {
        let Some(tags) = tags_known else {
            return SelectionOutcome::Undecidable {
                reason: unknown_reason(),
            };
        };
        let failed = all_conditions
            .iter()
            .flat_map(|(op, list)| list.iter().map(move |c| (*op, c)))
            .filter(|(op, c)| !op.holds(&c.value, tags.get(c.tag_key()).map(String::as_str)))
            .min();
        if let Some((operator, condition)) = failed {
            return SelectionOutcome::NotCovered {
                reason: NoMatchReason::ConditionFailed {
                    operator,
                    condition: condition.clone(),
                    actual: tags.get(condition.tag_key()).cloned(),
                },
            };
        }
    }

    match inclusion {
        (Tri::Yes, Some(via)) => SelectionOutcome::Covered { via },
        _ => SelectionOutcome::Undecidable {
            reason: unknown_reason(),
        },
    }
}

/// Evaluates every selection for a table; the result is sorted by (plan id, selection id,
/// name, outcome) so it does not depend on the order of `selections`.
pub fn evaluate_selections(
    table: &TableFacts,
    selections: &[SelectionFacts],
) -> Vec<SelectionMatch> {
    let mut out: Vec<SelectionMatch> = selections
        .iter()
        .map(|s| SelectionMatch {
            selection_id: s.selection_id.clone(),
            selection_name: s.name.clone(),
            plan_id: s.plan_id.clone(),
            outcome: match_selection(&table.arn, &table.tags, s),
        })
        .collect();
    out.sort_by(|a, b| {
        (&a.plan_id, &a.selection_id, &a.selection_name)
            .cmp(&(&b.plan_id, &b.selection_id, &b.selection_name))
            // Ids are unique in AWS; should two entries share one, order them by outcome too.
            .then_with(|| format!("{:?}", a.outcome).cmp(&format!("{:?}", b.outcome)))
    });
    out
}
