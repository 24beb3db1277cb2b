//! Slots: the scheduled instants at which a table must have been backed up.
//!
//! * The required slots of a table at `now` are the schedule's fire instants `T` with
//!   `max(now − retention, created) ≤ T ≤ now` (`created` only when known: without a known
//!   creation time no grace is granted).
//! * Slot `T` has a start deadline `T + start window` and a completion deadline
//!   `T + start window + completion window`.
//! * A recovery point *satisfies* slot `T` iff it belongs to the table, its status is good
//!   (`AVAILABLE`/`COMPLETED`), `T ≤ created ≤ T + start window`, it has a completion time
//!   `≤ completion deadline`, and it was made by a conforming plan rule (decided by the
//!   caller's predicate, see [`crate::evaluate`]); on-demand points never satisfy a slot.
//! * Unsatisfied slots are *pending* while `now` is before the completion deadline and
//!   *missed* afterwards.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::facts::RecoveryPointFacts;
use crate::schedule::Schedule;

/// One required slot: a fire instant of the policy schedule with the deadlines a backup must
/// meet to satisfy it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Slot {
    /// The scheduled instant T.
    pub at: Timestamp,
    /// T + start window: the latest creation time of a satisfying point.
    pub start_deadline: Timestamp,
    /// T + start window + completion window: the latest completion time.
    pub completion_deadline: Timestamp,
}

impl Slot {
    /// Builds the slot for instant `at`.
    pub fn new(
        at: Timestamp,
        start_window: SignedDuration,
        completion_window: SignedDuration,
    ) -> Self {
        let start_deadline = add(at, start_window);
        Slot {
            at,
            start_deadline,
            completion_deadline: add(start_deadline, completion_window),
        }
    }
}

/// Why a nearby recovery point did not satisfy a slot (for messages).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "why")]
pub enum NearMissReason {
    /// Created before T.
    CreatedBeforeSlot,
    /// Created after T + start window.
    CreatedAfterStartWindow,
    /// Not completed (no completion time).
    NotCompleted,
    /// Completed after the completion deadline.
    CompletedLate,
    /// Status not AVAILABLE/COMPLETED.
    BadStatus {
        /// The status.
        status: String,
    },
    /// On-demand backup (no `CreatedBy`).
    OnDemand,
    /// Created by a plan rule that does not conform to the policy.
    NonConformingCreator {
        /// The creating plan id.
        plan_id: String,
    },
}

/// A point near a missed slot and why it does not count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NearMiss {
    /// The point's ARN.
    pub point_arn: String,
    /// The point's creation time.
    pub created: Timestamp,
    /// Why it does not satisfy the slot (first failing test).
    pub reason: NearMissReason,
}

/// The state of a slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum SlotStatus {
    /// Satisfied by the named point.
    Satisfied {
        /// The satisfying point.
        point_arn: String,
    },
    /// Not yet satisfied and the completion deadline has not passed.
    Pending,
    /// Not satisfied and the completion deadline has passed.
    Missed {
        /// Points created within a day of the slot that did not count, and why.
        near_misses: Vec<NearMiss>,
    },
}

/// A slot with its state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotResult {
    /// The required slot (instant and deadlines).
    pub slot: Slot,
    /// Whether it is satisfied, pending or missed (with the points that did not count).
    pub status: SlotStatus,
}

/// How far around a missed slot points are reported as near misses (one day).
pub const NEAR_MISS_MARGIN: SignedDuration = SignedDuration::from_hours(24);

/// The required slots at `now` (ascending), per the module rules: fire instants `T` with
/// `max(now − retention, created) ≤ T ≤ now`.
pub fn required_slots(
    schedule: &Schedule,
    start_window: SignedDuration,
    completion_window: SignedDuration,
    retention: SignedDuration,
    created: Option<Timestamp>,
    now: Timestamp,
) -> Vec<Slot> {
    let mut lower = sub(now, retention);
    if let Some(c) = created {
        lower = lower.max(c);
    }
    // fires_between is half-open; make `now` itself inclusive.
    let upper = add(now, SignedDuration::from_nanos(1));
    schedule
        .fires_between(lower, upper)
        .into_iter()
        .map(|at| Slot::new(at, start_window, completion_window))
        .collect()
}

/// Why `point` does not satisfy `slot`, or `None` if it does. Checks, in order: creation in
/// `[T, T + start window]`, made by a plan rule (not on demand), the rule conforms
/// (`conforming_creator`), good status, completed, completed by the deadline.
pub fn why_not_satisfying(
    slot: &Slot,
    point: &RecoveryPointFacts,
    conforming_creator: &dyn Fn(&RecoveryPointFacts) -> bool,
) -> Option<NearMissReason> {
    if point.created < slot.at {
        return Some(NearMissReason::CreatedBeforeSlot);
    }
    if point.created > slot.start_deadline {
        return Some(NearMissReason::CreatedAfterStartWindow);
    }
    let Some(creator) = &point.created_by else {
        return Some(NearMissReason::OnDemand);
    };
    if !conforming_creator(point) {
        return Some(NearMissReason::NonConformingCreator {
            plan_id: creator.plan_id.clone(),
        });
    }
    if !point.status.is_good() {
        return Some(NearMissReason::BadStatus {
            status: point.status.as_api().to_string(),
        });
    }
    match point.completed {
        None => Some(NearMissReason::NotCompleted),
        Some(c) if c > slot.completion_deadline => Some(NearMissReason::CompletedLate),
        Some(_) => None,
    }
}

/// Classifies slots against a table's recovery points (points of other resources are
/// ignored). `conforming_creator(point)` says whether the point (which has a `CreatedBy`) was
/// made by a conforming plan rule. When several points satisfy a slot, the earliest created
/// (then smallest ARN) is named.
pub fn classify_slots(
    slots: &[Slot],
    table_arn: &str,
    points: &[RecoveryPointFacts],
    conforming_creator: &dyn Fn(&RecoveryPointFacts) -> bool,
    now: Timestamp,
) -> Vec<SlotResult> {
    let mine: Vec<&RecoveryPointFacts> = points
        .iter()
        .filter(|p| p.resource_arn == table_arn)
        .collect();
    slots
        .iter()
        .map(|slot| {
            let satisfying = mine
                .iter()
                .filter(|p| why_not_satisfying(slot, p, conforming_creator).is_none())
                .min_by(|a, b| (a.created, &a.arn).cmp(&(b.created, &b.arn)));
            let status = if let Some(p) = satisfying {
                SlotStatus::Satisfied {
                    point_arn: p.arn.clone(),
                }
            } else if now < slot.completion_deadline {
                SlotStatus::Pending
            } else {
                let from = sub(slot.at, NEAR_MISS_MARGIN);
                let to = add(slot.completion_deadline, NEAR_MISS_MARGIN);
                let mut near_misses: Vec<NearMiss> = mine
                    .iter()
                    .filter(|p| p.created >= from && p.created <= to)
                    .filter_map(|p| {
                        why_not_satisfying(slot, p, conforming_creator).map(|reason| NearMiss {
                            point_arn: p.arn.clone(),
                            created: p.created,
                            reason,
                        })
                    })
                    .collect();
                near_misses
                    .sort_by(|a, b| (a.created, &a.point_arn).cmp(&(b.created, &b.point_arn)));
                SlotStatus::Missed { near_misses }
            };
            SlotResult {
                slot: *slot,
                status,
            }
        })
        .collect()
}

/// `t + d`, saturating at the ends of the representable range.
pub(crate) fn add(t: Timestamp, d: SignedDuration) -> Timestamp {
    t.checked_add(d).unwrap_or(if d.is_negative() {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    })
}

/// `t - d`, saturating at the ends of the representable range.
pub(crate) fn sub(t: Timestamp, d: SignedDuration) -> Timestamp {
    t.checked_sub(d).unwrap_or(if d.is_negative() {
        Timestamp::MAX
    } else {
        Timestamp::MIN
    })
}
