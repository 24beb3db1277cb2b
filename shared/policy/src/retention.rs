//! Retention of individual recovery points.
//!
//! For each recovery point:
//!
//! * `DeleteAfterDays` must equal the policy's retention exactly: fewer days is
//!   [`RetentionIssue::TooShort`] (data-loss risk), more days or none at all is
//!   [`RetentionIssue::TooLong`] / [`RetentionIssue::NoExpiry`] (cost and privacy violation).
//! * `CalculatedLifecycle.DeleteAt − CreationDate` must equal the retention within
//!   [`DELETE_AT_TOLERANCE`] (one day, both ways: AWS computes `DeleteAt` from the creation
//!   date and may round it); outside it is [`RetentionIssue::DeleteAtTooEarly`] /
//!   [`RetentionIssue::DeleteAtTooLate`].
//! * `MoveToColdStorageAfterDays` set is [`RetentionIssue::ColdStorage`] unless the policy
//!   allows cold storage.
//! * A status other than `AVAILABLE`/`COMPLETED` is [`RetentionIssue::BadStatus`], except the
//!   transitional `CREATING` and `DELETING` (those are judged through slots and expiry).
//!   Unknown statuses are bad.
//! * At a given time ([`check_point_at`]), a point still present more than the tolerance after
//!   its `DeleteAt` (and not `DELETING`) is [`RetentionIssue::KeptPastDeleteAt`] (kept too
//!   long).

use jiff::SignedDuration;
use serde::{Deserialize, Serialize};

use crate::config::Policy;
use crate::facts::{PointStatus, RecoveryPointFacts};

/// Tolerance when comparing `DeleteAt − CreationDate` with the retention: one day.
pub const DELETE_AT_TOLERANCE: SignedDuration = SignedDuration::from_hours(24);

/// One retention/lifecycle/status problem of a recovery point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "issue")]
pub enum RetentionIssue {
    /// The point's `DeleteAfterDays` is below the policy's retention.
    TooShort {
        /// The policy's retention in days.
        policy: i64,
        /// The point's `DeleteAfterDays`.
        actual: i64,
    },
    /// The point's `DeleteAfterDays` is above the policy's retention.
    TooLong {
        /// The policy's retention in days.
        policy: i64,
        /// The point's `DeleteAfterDays`.
        actual: i64,
    },
    /// No `DeleteAfterDays` and no `DeleteAt`: kept forever.
    NoExpiry {
        /// The policy's retention in days.
        policy: i64,
    },
    /// `DeleteAt − created` is shorter than retention − tolerance.
    DeleteAtTooEarly {
        /// The policy's retention in days.
        policy: i64,
        /// The point's lifetime (`DeleteAt − CreationDate`) in seconds.
        actual_seconds: i64,
    },
    /// `DeleteAt − created` is longer than retention + tolerance.
    DeleteAtTooLate {
        /// The policy's retention in days.
        policy: i64,
        /// The point's lifetime (`DeleteAt − CreationDate`) in seconds.
        actual_seconds: i64,
    },
    /// The point's lifecycle moves it to cold storage, which the policy does not allow.
    ColdStorage {
        /// The point's `MoveToColdStorageAfterDays`.
        after_days: i64,
    },
    /// The point still exists more than [`DELETE_AT_TOLERANCE`] after its `DeleteAt` (and is
    /// not being deleted): it is kept longer than its lifecycle says.
    KeptPastDeleteAt {
        /// When AWS Backup should have deleted the point (`DeleteAt`).
        delete_at: jiff::Timestamp,
    },
    /// The point's status is neither `AVAILABLE`/`COMPLETED` nor transitional.
    BadStatus {
        /// The API word.
        status: String,
    },
}

impl RetentionIssue {
    /// True for issues that mean the point is kept too briefly.
    pub fn is_too_short(&self) -> bool {
        matches!(
            self,
            RetentionIssue::TooShort { .. } | RetentionIssue::DeleteAtTooEarly { .. }
        )
    }

    /// True for issues that mean the point is kept too long.
    pub fn is_too_long(&self) -> bool {
        matches!(
            self,
            RetentionIssue::TooLong { .. }
                | RetentionIssue::NoExpiry { .. }
                | RetentionIssue::DeleteAtTooLate { .. }
                | RetentionIssue::KeptPastDeleteAt { .. }
        )
    }

    /// A short human sentence.
    pub fn describe(&self) -> String {
        match self {
            RetentionIssue::TooShort { policy, actual } => {
                format!("DeleteAfterDays is {actual}, shorter than the policy's {policy} days")
            }
            RetentionIssue::TooLong { policy, actual } => {
                format!("DeleteAfterDays is {actual}, longer than the policy's {policy} days")
            }
            RetentionIssue::NoExpiry { policy } => {
                format!("no expiry is set: kept forever instead of {policy} days")
            }
            RetentionIssue::DeleteAtTooEarly {
                policy,
                actual_seconds,
            } => format!(
                "deleted {} after creation, earlier than the policy's {policy} days",
                human_seconds(*actual_seconds)
            ),
            RetentionIssue::DeleteAtTooLate {
                policy,
                actual_seconds,
            } => format!(
                "deleted {} after creation, later than the policy's {policy} days",
                human_seconds(*actual_seconds)
            ),
            RetentionIssue::ColdStorage { after_days } => format!(
                "moves to cold storage after {after_days} days; the policy allows no cold storage"
            ),
            RetentionIssue::KeptPastDeleteAt { delete_at } => {
                format!("still present although it was due for deletion at {delete_at}")
            }
            RetentionIssue::BadStatus { status } => {
                format!("status is {status}, not AVAILABLE/COMPLETED")
            }
        }
    }
}

impl std::fmt::Display for RetentionIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

/// Checks one point against the policy (all issues, in a fixed order).
pub fn check_point(point: &RecoveryPointFacts, policy: &Policy) -> Vec<RetentionIssue> {
    let mut out = Vec::new();
    let days = policy.retention_days;
    match point.delete_after_days {
        Some(actual) if actual < days => out.push(RetentionIssue::TooShort {
            policy: days,
            actual,
        }),
        Some(actual) if actual > days => out.push(RetentionIssue::TooLong {
            policy: days,
            actual,
        }),
        Some(_) => {}
        None if point.delete_at.is_none() => out.push(RetentionIssue::NoExpiry { policy: days }),
        None => {}
    }
    if let Some(delete_at) = point.delete_at {
        let lifetime = delete_at.duration_since(point.created);
        let retention = policy.retention();
        if lifetime < retention.saturating_sub(DELETE_AT_TOLERANCE) {
            out.push(RetentionIssue::DeleteAtTooEarly {
                policy: days,
                actual_seconds: lifetime.as_secs(),
            });
        } else if lifetime > retention.saturating_add(DELETE_AT_TOLERANCE) {
            out.push(RetentionIssue::DeleteAtTooLate {
                policy: days,
                actual_seconds: lifetime.as_secs(),
            });
        }
    }
    if let Some(after_days) = point.move_to_cold_storage_after_days
        && !policy.cold_storage_allowed
    {
        out.push(RetentionIssue::ColdStorage { after_days });
    }
    if !point.status.is_good() && !point.status.is_transitional() {
        out.push(RetentionIssue::BadStatus {
            status: point.status.as_api().to_string(),
        });
    }
    out
}

/// `"89 days 23 h"`-style rendering of a number of seconds.
fn human_seconds(secs: i64) -> String {
    let days = secs / 86_400;
    let hours = (secs % 86_400) / 3_600;
    if hours == 0 {
        format!("{days} days")
    } else {
        format!("{days} days {hours} h")
    }
}

/// [`check_point`] plus, at time `now`, [`RetentionIssue::KeptPastDeleteAt`] if the point
/// outlived its `DeleteAt` by more than the tolerance (unless it is `DELETING`).
pub fn check_point_at(
    point: &RecoveryPointFacts,
    policy: &Policy,
    now: jiff::Timestamp,
) -> Vec<RetentionIssue> {
    let mut out = check_point(point, policy);
    if let Some(delete_at) = point.delete_at
        && point.status != PointStatus::Deleting
        && now.duration_since(delete_at) > DELETE_AT_TOLERANCE
    {
        let at = out
            .iter()
            .position(|i| matches!(i, RetentionIssue::BadStatus { .. }))
            .unwrap_or(out.len());
        out.insert(at, RetentionIssue::KeptPastDeleteAt { delete_at });
    }
    out
}

/// True if the point's lifecycle (not its status) is exactly the policy's.
pub fn lifecycle_conforms(point: &RecoveryPointFacts, policy: &Policy) -> bool {
    check_point(point, policy)
        .iter()
        .all(|i| matches!(i, RetentionIssue::BadStatus { .. }))
}
