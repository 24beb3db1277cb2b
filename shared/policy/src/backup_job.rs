//! A backup job that ended (AWS Backup's `Backup Job State Change` event), judged against the
//! policy's schedule: which slot it belongs to, how much of that slot's completion window is
//! left, how severe its failure is, and what likely fixes it. Pure: the table guard reads the
//! event, this module decides, the guard alerts.
//!
//! * **Slot.** A job made by a backup plan (`createdBy` present) belongs to the latest fire
//!   instant `T` of the policy schedule at or before its creation whose start window contains
//!   the creation (`T ≤ created ≤ T + start window`), the same test a recovery point must pass
//!   to satisfy slot `T` ([`crate::slots`]). A job made by no plan is on demand: it never
//!   stands in for a slot, whatever its time. A plan job created outside every start window
//!   belongs to no slot of the policy (its rule fires at other times).
//! * **Time left** at the event's time: the slot's completion deadline
//!   (`T + start window + completion window`) minus the event time, or "closed".
//! * **Severity** ([`judge_ended_job`]), in the findings' style: a failed job (`FAILED`,
//!   `ABORTED`, `EXPIRED`, `PARTIAL`) in a slot of the schedule is `high` — a required slot is
//!   at risk while its completion window is open, and missed once it has closed (`MISSED_SLOT`
//!   is `high`); an `EXPIRED` job did not start within the start window, so its slot is
//!   missed unless another job of the slot completes. A failed job in no slot of the schedule
//!   (on demand, or another schedule's) is `warning`, `BACKUP_JOB_FAILED`'s own severity: no
//!   required slot depends on it.
//! * **Completed job** ([`judge_completed_job`]): it satisfies its slot if it completed by the
//!   completion deadline; otherwise the slot stays missed.
//! * **Remedy** ([`likely_remedy`]): from AWS's `statusMessage` (KMS / key → the Backup role
//!   cannot use the vault's key; IAM role / access denied → the plan's role; limits or a
//!   running job → concurrent backups; a missing vault → the rule's target vault), else from
//!   the state, else "check the job".

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::config::Policy;
use crate::facts::JobState;
use crate::findings::{Finding, FindingCode, Severity};
use crate::schedule::Schedule;
use crate::slots::Slot;

/// An ended backup job of a table, as the event reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndedJob {
    /// `backupJobId`.
    pub job_id: String,
    /// The table's ARN (`resourceArn`).
    pub table_arn: String,
    /// The table's name.
    pub table_name: String,
    /// `state`.
    pub state: JobState,
    /// `creationDate`.
    pub created: Timestamp,
    /// `completionDate`, if given.
    pub completed: Option<Timestamp>,
    /// `statusMessage` (surrounding quotes removed), if not empty.
    pub status_message: Option<String>,
    /// `createdBy.backupPlanId`; `None` for an on-demand job.
    pub plan_id: Option<String>,
    /// `createdBy.backupPlanRuleId`.
    pub rule_id: Option<String>,
}

/// Where a job sits in the policy's schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "placement")]
pub enum Placement {
    /// Created within slot `slot`'s start window by a backup plan.
    InSlot {
        /// The slot.
        slot: Slot,
    },
    /// Made by no backup plan (no `createdBy`): on demand, never a slot's backup.
    OnDemand {
        /// The slot whose start window the creation falls in, if any (for the message).
        during: Option<Slot>,
    },
    /// Made by a plan, but created outside every start window of the policy's schedule.
    OutsideSchedule {
        /// The latest slot before the creation, if any.
        previous: Option<Slot>,
    },
}

impl Placement {
    /// The slot the job belongs to, if it belongs to one.
    pub fn slot(&self) -> Option<&Slot> {
        match self {
            Placement::InSlot { slot } => Some(slot),
            _ => None,
        }
    }

    /// A sentence: which slot, or why none.
    pub fn describe(&self, start_window: SignedDuration) -> String {
        let minutes = start_window.as_secs() / 60;
        match self {
            Placement::InSlot { slot } => format!(
                "scheduled slot {} (start window until {}, completion window until {})",
                slot.at, slot.start_deadline, slot.completion_deadline
            ),
            Placement::OnDemand { during: Some(s) } => format!(
                "no slot: an on-demand job (no backup plan created it), although it was created in slot {}'s start window; an on-demand backup never stands in for a scheduled one",
                s.at
            ),
            Placement::OnDemand { during: None } => {
                "no slot: an on-demand job (no backup plan created it)".to_string()
            }
            Placement::OutsideSchedule { previous: Some(p) } => format!(
                "no slot of the policy's schedule: created after slot {}'s {minutes}-minute start window closed and before the next slot (the plan's rule fires at other times than the policy's schedule)",
                p.at
            ),
            Placement::OutsideSchedule { previous: None } => {
                "no slot of the policy's schedule: the schedule never fired before the job was created".to_string()
            }
        }
    }
}

/// The latest fire instant of `schedule` at or before `t`, as a slot.
fn slot_at_or_before(
    schedule: &Schedule,
    t: Timestamp,
    start_window: SignedDuration,
    completion_window: SignedDuration,
) -> Option<Slot> {
    let at = if schedule.fires_at(t) {
        Some(t)
    } else {
        schedule.prev_before(t)
    }?;
    Some(Slot::new(at, start_window, completion_window))
}

/// Where a job created at `created` (by a plan: `by_plan`) sits in the policy's schedule
/// (see the module docs).
pub fn place_job(
    schedule: &Schedule,
    start_window: SignedDuration,
    completion_window: SignedDuration,
    created: Timestamp,
    by_plan: bool,
) -> Placement {
    let slot = slot_at_or_before(schedule, created, start_window, completion_window);
    let within = slot.filter(|s| created <= s.start_deadline);
    match (by_plan, within) {
        (false, during) => Placement::OnDemand { during },
        (true, Some(slot)) => Placement::InSlot { slot },
        (true, None) => Placement::OutsideSchedule { previous: slot },
    }
}

/// What is left of a slot's completion window at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "window")]
pub enum WindowLeft {
    /// Still open for `left` (whole seconds).
    Open {
        /// Time until the completion deadline.
        left: SignedDuration,
        /// The completion deadline.
        closes: Timestamp,
    },
    /// Closed `ago` before the instant.
    Closed {
        /// Time since the completion deadline.
        ago: SignedDuration,
        /// The completion deadline.
        closed: Timestamp,
    },
}

impl WindowLeft {
    /// The completion window of `slot` seen at `at`.
    pub fn of(slot: &Slot, at: Timestamp) -> Self {
        let d = slot.completion_deadline.duration_since(at);
        if d > SignedDuration::ZERO {
            WindowLeft::Open {
                left: d,
                closes: slot.completion_deadline,
            }
        } else {
            WindowLeft::Closed {
                ago: -d,
                closed: slot.completion_deadline,
            }
        }
    }

    /// True while the window is open.
    pub fn is_open(&self) -> bool {
        matches!(self, WindowLeft::Open { .. })
    }

    /// A sentence: `2 h 15 min left of the completion window (it closes at …)`, or that it
    /// has closed.
    pub fn describe(&self) -> String {
        match self {
            WindowLeft::Open { left, closes } => format!(
                "{} left of the slot's completion window (it closes at {closes})",
                human_duration(*left)
            ),
            WindowLeft::Closed { ago, closed } => format!(
                "the slot's completion window has closed (at {closed}, {} before this event)",
                human_duration(*ago)
            ),
        }
    }
}

/// `3 d 2 h 5 min`, `2 h 15 min`, `7 min`, `< 1 min` (whole minutes, rounded down).
pub fn human_duration(d: SignedDuration) -> String {
    let total = d.as_secs().max(0) / 60;
    if total == 0 {
        return "< 1 min".to_string();
    }
    let (days, hours, minutes) = (total / 1440, (total % 1440) / 60, total % 60);
    let mut parts = Vec::new();
    if days > 0 {
        parts.push(format!("{days} d"));
    }
    if hours > 0 {
        parts.push(format!("{hours} h"));
    }
    if minutes > 0 {
        parts.push(format!("{minutes} min"));
    }
    parts.join(" ")
}

/// AWS's status message without the quotes its events wrap it in (`"\"Backup job failed…\""`),
/// trimmed; `None` if empty.
pub fn clean_status_message(m: &str) -> Option<String> {
    let t = m.trim();
    let t = t
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(t)
        .trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// The likely remedy of a job that ended `state` with `message` (see the module docs).
pub fn likely_remedy(state: &JobState, message: Option<&str>, job_id: &str) -> String {
    let m = message.unwrap_or_default().to_ascii_lowercase();
    let words: Vec<&str> = m
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let has = |w: &str| words.contains(&w);
    let check = format!(
        "check the job in the AWS Backup console (aws backup describe-backup-job --backup-job-id {job_id})"
    );
    if m.contains("kms") || has("key") || has("keys") {
        return format!(
            "The Backup role cannot use the vault's KMS key: allow the plan's IAM role kms:Decrypt, kms:GenerateDataKey and kms:CreateGrant in the key policy, and check that the key is enabled; then {check}"
        );
    }
    if has("iam")
        || has("role")
        || m.contains("accessdenied")
        || m.contains("access denied")
        || m.contains("not authorized")
    {
        return format!(
            "Check the IAM role of the plan's selection: it must be assumable by backup.amazonaws.com and allow the DynamoDB backup actions (the AWSBackupServiceRolePolicyForBackup managed policy); then {check}"
        );
    }
    if m.contains("limitexceeded")
        || m.contains("limit exceeded")
        || m.contains("concurrent")
        || m.contains("throttl")
        || m.contains("running job for the same resource")
    {
        return format!(
            "Too many backups at once: another job of the table was running or a concurrent-backup quota was reached; spread the plans' schedules or raise the quota, then {check}"
        );
    }
    if has("vault") && (m.contains("does not exist") || m.contains("not found")) {
        return format!(
            "The rule's target backup vault does not exist: create it or point the rule at the policy's vault; then {check}"
        );
    }
    match state {
        JobState::Expired => format!(
            "The job did not start within the start window (AWS Backup was busy or the window is too short for the queue): look for concurrent jobs of the table, then {check}"
        ),
        JobState::Aborted => format!("Someone or something stopped the job: {check}"),
        _ => {
            let mut c = check;
            if let Some(first) = c.get(..1) {
                let upper = first.to_ascii_uppercase();
                c.replace_range(..1, &upper);
            }
            c
        }
    }
}

/// What a failed job of a slot means for the slot at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlotRisk {
    /// The start window is open: a new job of the slot can still start and satisfy it.
    AtRisk,
    /// The start window has closed: only a job of the slot that already started can still
    /// complete in time (an `EXPIRED` job's slot, typically).
    LikelyMissed,
    /// The completion window has closed: the slot is missed unless another job of it
    /// completed in time.
    Missed,
}

/// The risk to `slot` at `at` (see [`SlotRisk`]).
pub fn slot_risk(slot: &Slot, at: Timestamp) -> SlotRisk {
    if at >= slot.completion_deadline {
        SlotRisk::Missed
    } else if at > slot.start_deadline {
        SlotRisk::LikelyMissed
    } else {
        SlotRisk::AtRisk
    }
}

impl SlotRisk {
    /// A few words for a subject: `at risk`, `likely missed`, `missed`.
    pub fn as_words(self) -> &'static str {
        match self {
            SlotRisk::AtRisk => "at risk",
            SlotRisk::LikelyMissed => "likely missed",
            SlotRisk::Missed => "missed",
        }
    }

    /// A sentence about `slot` with its completion window `w`.
    pub fn describe(self, slot: &Slot, w: &WindowLeft) -> String {
        match self {
            SlotRisk::AtRisk => format!(
                "Slot {} is at risk: {}; a new job of the slot must start by {}.",
                slot.at,
                w.describe(),
                slot.start_deadline
            ),
            SlotRisk::LikelyMissed => format!(
                "Slot {} is likely missed: its start window closed at {}, so only a job of the slot that already started can still complete; {}.",
                slot.at,
                slot.start_deadline,
                w.describe()
            ),
            SlotRisk::Missed => format!(
                "Slot {} is missed unless another job of the slot completed in time: {}.",
                slot.at,
                w.describe()
            ),
        }
    }
}

/// The verdict about a failed job (`FAILED`, `ABORTED`, `EXPIRED`, `PARTIAL`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedJobVerdict {
    /// Where the job sits in the schedule.
    pub placement: Placement,
    /// The slot's completion window at the event's time (only for a job in a slot).
    pub window: Option<WindowLeft>,
    /// `high` in a slot, `warning` otherwise (module docs).
    pub severity: Severity,
    /// The likely remedy.
    pub remedy: String,
    /// `BACKUP_JOB_FAILED` (subject: the job id, as the nightly run reports it), with the
    /// verdict's severity.
    pub finding: Finding,
}

/// Judges a failed job at the event's time `at` (see the module docs).
pub fn judge_ended_job(policy: &Policy, job: &EndedJob, at: Timestamp) -> FailedJobVerdict {
    let sw = policy.start_window();
    let placement = place_job(
        policy.schedule(),
        sw,
        policy.completion_window(),
        job.created,
        job.plan_id.is_some(),
    );
    let window = placement.slot().map(|s| WindowLeft::of(s, at));
    let severity = match placement {
        Placement::InSlot { .. } => Severity::High,
        _ => FindingCode::BackupJobFailed.severity(),
    };
    let remedy = likely_remedy(&job.state, job.status_message.as_deref(), &job.job_id);
    let at_stake = match (placement.slot(), &window) {
        (Some(slot), Some(w)) => format!(" {}", slot_risk(slot, at).describe(slot, w)),
        _ => String::new(),
    };
    let said = job
        .status_message
        .as_deref()
        .map(|m| format!(": {m}"))
        .unwrap_or_else(|| " (AWS Backup gave no status message)".to_string());
    let mut finding = Finding::new(
        FindingCode::BackupJobFailed,
        &job.table_arn,
        &job.table_name,
        Some(job.job_id.clone()),
        format!(
            "Backup job {} of table {} (created {}, {}) ended {}{said}.{at_stake}",
            job.job_id,
            job.table_name,
            job.created,
            placement.describe(sw),
            job.state.as_api()
        ),
        Some(remedy.clone()),
    );
    finding.severity = severity;
    FailedJobVerdict {
        placement,
        window,
        severity,
        remedy,
        finding,
    }
}

/// What a `COMPLETED` job means for its slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "verdict")]
pub enum CompletedVerdict {
    /// It completed by the slot's completion deadline: the slot's backup exists.
    SatisfiesSlot {
        /// The slot.
        slot: Slot,
    },
    /// It completed after the completion deadline: the slot stays missed.
    Late {
        /// The slot.
        slot: Slot,
        /// When it completed.
        completed: Timestamp,
    },
    /// The job belongs to no slot of the schedule.
    NoSlot {
        /// Where it sits.
        placement: Placement,
    },
}

/// Judges a `COMPLETED` job; `completed` is its completion time (the event's time when the
/// event does not say).
pub fn judge_completed_job(
    policy: &Policy,
    job: &EndedJob,
    completed: Timestamp,
) -> CompletedVerdict {
    let placement = place_job(
        policy.schedule(),
        policy.start_window(),
        policy.completion_window(),
        job.created,
        job.plan_id.is_some(),
    );
    match placement {
        Placement::InSlot { slot } if completed <= slot.completion_deadline => {
            CompletedVerdict::SatisfiesSlot { slot }
        }
        Placement::InSlot { slot } => CompletedVerdict::Late { slot, completed },
        placement => CompletedVerdict::NoSlot { placement },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn job(state: JobState, created: &str, plan: bool, message: Option<&str>) -> EndedJob {
        EndedJob {
            job_id: "J-1".into(),
            table_arn: "arn:aws:dynamodb:eu-west-1:123456789012:table/orders".into(),
            table_name: "orders".into(),
            state,
            created: ts(created),
            completed: None,
            status_message: message.map(str::to_string),
            plan_id: plan.then(|| "plan-1".to_string()),
            rule_id: plan.then(|| "rule-1".to_string()),
        }
    }

    #[test]
    fn a_job_belongs_to_the_latest_slot_whose_start_window_holds_its_creation() {
        let p = Policy::default();
        let (sw, cw) = (p.start_window(), p.completion_window());
        let place = |t: &str, plan: bool| place_job(p.schedule(), sw, cw, ts(t), plan);
        // At the instant itself, inside the window, and at its very end: slot 15 Nov 00:00.
        for t in [
            "2026-11-15T00:00:00Z",
            "2026-11-15T00:12:30Z",
            "2026-11-15T01:00:00Z",
        ] {
            assert_eq!(
                place(t, true).slot().map(|s| s.at),
                Some(ts("2026-11-15T00:00:00Z")),
                "{t}"
            );
        }
        // One second after the start window: no slot, but the previous one is named.
        let outside = place("2026-11-15T01:00:01Z", true);
        assert_eq!(
            outside,
            Placement::OutsideSchedule {
                previous: Some(Slot::new(ts("2026-11-15T00:00:00Z"), sw, cw))
            }
        );
        assert!(outside.describe(sw).contains("60-minute start window"));
        // Just before the slot: the 25 Oct slot's window closed long ago.
        assert!(matches!(
            place("2026-11-14T23:59:59Z", true),
            Placement::OutsideSchedule { previous: Some(s) } if s.at == ts("2026-10-25T00:00:00Z")
        ));
        // On demand: never a slot, even inside a start window.
        let od = place("2026-11-15T00:10:00Z", false);
        assert!(od.slot().is_none());
        assert!(od.describe(sw).contains("on-demand"), "{}", od.describe(sw));
    }

    #[test]
    fn time_left_counts_to_the_completion_deadline_and_then_says_closed() {
        let p = Policy::default();
        let slot = Slot::new(
            ts("2026-11-15T00:00:00Z"),
            p.start_window(),
            p.completion_window(),
        );
        // Deadline 04:00 (60 + 180 minutes).
        let open = WindowLeft::of(&slot, ts("2026-11-15T01:45:00Z"));
        assert_eq!(
            open,
            WindowLeft::Open {
                left: SignedDuration::from_mins(135),
                closes: ts("2026-11-15T04:00:00Z")
            }
        );
        assert!(
            open.describe().starts_with("2 h 15 min left"),
            "{}",
            open.describe()
        );
        let closed = WindowLeft::of(&slot, ts("2026-11-15T04:30:00Z"));
        assert!(!closed.is_open());
        assert!(
            closed.describe().contains("has closed"),
            "{}",
            closed.describe()
        );
        assert!(
            closed.describe().contains("30 min before"),
            "{}",
            closed.describe()
        );
        assert!(!WindowLeft::of(&slot, ts("2026-11-15T04:00:00Z")).is_open());
        assert_eq!(human_duration(SignedDuration::from_secs(59)), "< 1 min");
        assert_eq!(human_duration(SignedDuration::from_hours(49)), "2 d 1 h");
    }

    #[test]
    fn a_failure_in_a_slot_is_high_and_names_the_slot_the_time_left_and_the_message() {
        let p = Policy::default();
        let j = job(
            JobState::Failed,
            "2026-11-15T00:02:00Z",
            true,
            Some("Access denied to KMS key arn:aws:kms:eu-west-1:123456789012:key/k"),
        );
        let v = judge_ended_job(&p, &j, ts("2026-11-15T00:30:00Z"));
        assert_eq!(v.severity, Severity::High);
        assert_eq!(v.finding.severity, Severity::High);
        assert_eq!(v.finding.code, FindingCode::BackupJobFailed);
        assert_eq!(v.finding.subject.as_deref(), Some("J-1"));
        let m = &v.finding.message;
        for part in [
            "2026-11-15T00:00:00Z",
            "3 h 30 min left",
            "Access denied to KMS key",
            "at risk",
        ] {
            assert!(m.contains(part), "{part:?} missing in {m}");
        }
        assert!(v.remedy.contains("vault's KMS key"), "{}", v.remedy);
        // Seen after the start window: likely missed; after the completion window: missed.
        let mid = judge_ended_job(&p, &j, ts("2026-11-15T01:30:00Z"));
        assert!(
            mid.finding.message.contains("likely missed"),
            "{}",
            mid.finding.message
        );
        assert_eq!(
            slot_risk(mid.placement.slot().unwrap(), ts("2026-11-15T01:00:00Z")),
            SlotRisk::AtRisk
        );
        let late = judge_ended_job(&p, &j, ts("2026-11-15T05:00:00Z"));
        assert!(
            late.finding.message.contains("missed"),
            "{}",
            late.finding.message
        );
        assert_eq!(late.severity, Severity::High);
    }

    #[test]
    fn a_failure_outside_the_schedule_or_on_demand_is_a_warning() {
        let p = Policy::default();
        let od = job(JobState::Failed, "2026-11-15T00:10:00Z", false, None);
        let v = judge_ended_job(&p, &od, ts("2026-11-15T00:20:00Z"));
        assert_eq!(v.severity, Severity::Warning);
        assert!(v.window.is_none());
        assert!(
            v.finding.message.contains("on-demand"),
            "{}",
            v.finding.message
        );
        assert!(v.finding.message.contains("no status message"));
        let other = job(JobState::Aborted, "2026-11-03T12:00:00Z", true, None);
        let v = judge_ended_job(&p, &other, ts("2026-11-03T12:20:00Z"));
        assert_eq!(v.severity, Severity::Warning);
        assert!(matches!(v.placement, Placement::OutsideSchedule { .. }));
    }

    #[test]
    fn remedies_follow_the_status_message_then_the_state() {
        let r = |state: JobState, m: Option<&str>| likely_remedy(&state, m, "J");
        assert!(r(JobState::Failed, Some("The KMS key is disabled")).contains("KMS key"));
        assert!(r(JobState::Failed, Some("Key policy denies")).contains("KMS key"));
        assert!(
            r(
                JobState::Failed,
                Some("IAM Role arn:aws:iam::1:role/x does not have sufficient permissions")
            )
            .contains("IAM role of the plan")
        );
        assert!(r(JobState::Failed, Some("AccessDeniedException")).contains("IAM role"));
        assert!(r(JobState::Failed, Some("LimitExceededException")).contains("at once"));
        assert!(
            r(
                JobState::Expired,
                Some("Backup job failed because there was a running job for the same resource.")
            )
            .contains("at once")
        );
        assert!(
            r(
                JobState::Failed,
                Some("Backup job failed because backup vault arn:x does not exist.")
            )
            .contains("vault does not exist")
        );
        assert!(r(JobState::Expired, None).contains("start window"));
        let other = r(JobState::Partial, Some("Something odd"));
        assert!(other.starts_with("Check the job"), "{other}");
        assert!(other.contains("--backup-job-id J"));
        // "monkey" is not "key".
        assert!(!r(JobState::Failed, Some("monkey business")).contains("KMS"));
    }

    #[test]
    fn status_messages_lose_the_quotes_aws_wraps_them_in() {
        assert_eq!(
            clean_status_message("\"Backup job was stopped by user.\"").as_deref(),
            Some("Backup job was stopped by user.")
        );
        assert_eq!(clean_status_message("  "), None);
        assert_eq!(clean_status_message("\"\""), None);
        assert_eq!(clean_status_message("plain").as_deref(), Some("plain"));
    }

    #[test]
    fn a_completed_job_satisfies_its_slot_only_by_the_completion_deadline() {
        let p = Policy::default();
        let j = job(JobState::Completed, "2026-11-15T00:05:00Z", true, None);
        assert!(matches!(
            judge_completed_job(&p, &j, ts("2026-11-15T03:59:00Z")),
            CompletedVerdict::SatisfiesSlot { slot } if slot.at == ts("2026-11-15T00:00:00Z")
        ));
        assert!(matches!(
            judge_completed_job(&p, &j, ts("2026-11-15T04:01:00Z")),
            CompletedVerdict::Late { .. }
        ));
        let od = job(JobState::Completed, "2026-11-15T00:05:00Z", false, None);
        assert!(matches!(
            judge_completed_job(&p, &od, ts("2026-11-15T00:30:00Z")),
            CompletedVerdict::NoSlot { .. }
        ));
    }
}
