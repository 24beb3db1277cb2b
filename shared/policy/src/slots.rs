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

/// One required slot.
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
    /// The slot.
    pub slot: Slot,
    /// Its state.
    pub status: SlotStatus,
}

/// The required slots at `now` (ascending), per the module rules.
pub fn required_slots(
    schedule: &Schedule,
    start_window: SignedDuration,
    completion_window: SignedDuration,
    retention: SignedDuration,
    created: Option<Timestamp>,
    now: Timestamp,
) -> Vec<Slot> {
    let _ = (
        schedule,
        start_window,
        completion_window,
        retention,
        created,
        now,
    );
    todo!()
}

/// Classifies slots against a table's recovery points. `counts(point)` says whether the
/// point was made by a conforming plan rule (returns the non-conforming creator's plan id as
/// `Err` for messages); it is only consulted for points whose creator is known.
pub fn classify_slots(
    slots: &[Slot],
    table_arn: &str,
    points: &[RecoveryPointFacts],
    conforming_creator: &dyn Fn(&RecoveryPointFacts) -> bool,
    now: Timestamp,
) -> Vec<SlotResult> {
    let _ = (slots, table_arn, points, conforming_creator, now);
    todo!()
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
