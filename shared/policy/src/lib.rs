//! # backup-guard policy
//!
//! The pure policy engine of backup-guard: given plain facts about an AWS account's DynamoDB
//! tables and its AWS Backup configuration (read elsewhere, by `awsio`), it decides whether
//! each table's backups comply with the backup policy and says exactly why not. No I/O, no
//! AWS SDK types, no async; reading the environment in [`config::Policy::from_env`] is the
//! only exception. Both Lambda functions and the CLI call it; nothing else decides
//! compliance.
//!
//! This documentation is the policy's specification. Each rule below links to the function
//! that implements it.
//!
//! ## 1. The policy
//!
//! The defaults are the policy document's: "backups at midnight on the 15th and 25th of each
//! month, each retained for 90 days, automated with AWS Backup; manual on-demand backups are
//! not acceptable". Every value is configurable ([`config`], environment variables `BG_*`):
//!
//! | setting | default |
//! |---|---|
//! | schedule | `cron(0 0 15,25 * ? *)` in `UTC` ([`cron`] dialect, evaluated DST-aware in an IANA zone by [`schedule`]) |
//! | start window / completion window | 60 / 180 minutes |
//! | retention | exactly 90 days (`DeleteAfterDays`), cold storage not allowed |
//! | vault | any (or one named vault) |
//! | selection mode | `all-tables` (ARN wildcard minus exempt-tagged tables) or `tagged` |
//! | backup tag | `backup-policy=twice-monthly-90d` |
//! | required tags | `owner` (keys, optionally with allowed values) |
//! | exemption | `backup-policy=exempt` plus a non-blank `exempt-reason` tag |
//! | mode | `enforce` or `report-only` (only consulted by the callers) |
//!
//! ## 2. Facts and unknowns
//!
//! Inputs are the plain structs of [`facts`]. Anything that could fail to be read is a
//! [`facts::Fact`]; **an unknown fact is never compliant**: where the verdict depends on it,
//! the table gets an `UNVERIFIABLE` finding that says what could not be read and why.
//!
//! ## 3. Exemption and tags
//!
//! A table is *exempt* iff its tags contain the exemption tag (key and value, exactly) and
//! the reason tag with a non-blank value ([`evaluate::exemption`]). An exempt table gets one
//! `EXEMPT` finding and nothing else. The exemption tag without a reason is
//! `EXEMPT_WITHOUT_REASON` and the table is evaluated like any other. If the tags are
//! unknown, the table is `UNVERIFIABLE` and nothing else is reported (exemption, required
//! tags and tag-based coverage all depend on them).
//!
//! Each required tag must be present with a non-blank value (`MISSING_TAG`), and, if allowed
//! values are configured, equal one of them exactly (`TAG_VALUE_NOT_ALLOWED`)
//! ([`evaluate::check_tags`]).
//!
//! ## 4. Coverage (protection)
//!
//! A selection covers a table iff
//! `(some Resources pattern matches the ARN OR some ListOfTags entry matches)
//! AND every Conditions entry holds AND NO NotResources pattern matches` ([`selection`]);
//! both inclusion lists empty means every resource. Patterns use `*` (any sequence); all
//! comparisons are case-sensitive; tag keys may be written `aws:ResourceTag/<k>` or `<k>`;
//! `StringNotEquals`/`StringNotLike` hold when the tag is absent.
//!
//! A plan rule *conforms* iff it has no deviation ([`conformance::check_rule`]): its schedule
//! (in its `ScheduleExpressionTimezone`, UTC when absent) fires at exactly the policy
//! schedule's instants; start and completion windows are not longer than the policy's (AWS's
//! defaults of 8 hours and 7 days apply when absent); `DeleteAfterDays` equals the retention;
//! no `MoveToColdStorageAfterDays` (unless allowed); the policy's vault if one is named. A plan
//! conforms iff one of its rules does.
//!
//! A table is *protected* iff a selection of a conforming plan covers it; the evaluation
//! names every (plan, selection, rule) that does ([`evaluate::Coverage::Protected`]).
//! Otherwise: covered only by non-conforming plans is `PLAN_DRIFT` (with each rule's
//! deviations); covered by nothing is `NOT_COVERED` (with each selection's reason); and
//! undecidable (plans, selections or tags unreadable, a covering selection's plan missing)
//! is `UNVERIFIABLE` ([`evaluate::evaluate_coverage`]).
//!
//! ## 5. Slots
//!
//! The *required slots* at time `now` are the policy schedule's fire instants `T` with
//! `max(now − retention, creation) ≤ T ≤ now` (retention = days × 24 h; `creation` only if
//! known) ([`slots::required_slots`]). Slot `T` is *satisfied* by a recovery point of the table
//! iff
//!
//! * `T ≤ CreationDate ≤ T + start window`,
//! * `CompletionDate ≤ T + start window + completion window`,
//! * status `AVAILABLE` or `COMPLETED`, and
//! * the point was *made by a conforming plan rule* (below). On-demand points (no
//!   `CreatedBy`) never satisfy a slot.
//!
//! An unsatisfied slot is *pending* while `now < T + start + completion window`, then
//! *missed* (`MISSED_SLOT`, subject = `T` in RFC 3339), listing nearby points that did not
//! count and why. Every missed slot in the horizon is a finding, even if newer points exist.
//! Slots before the table's creation are not required; if the creation time is unknown no
//! grace is assumed, and [`evaluate::needs_creation_time`] tells the caller that reading it
//! (`DescribeTable`) and evaluating again could change the result.
//!
//! A point is *made by a conforming plan rule* iff its `CreatedBy` names a plan of the
//! account whose rule with that id conforms now (when the point carries no rule id: the plan
//! conforms), or, when the plan or rule has since changed or been deleted, its `CreatedBy`
//! carries the rule's cron (and time zone) equivalent to the policy schedule and the point's
//! own lifecycle is exactly the policy's ([`evaluate::made_by_conforming_rule`]).
//!
//! A protected table with no satisfied and no missed slot gets `PENDING_FIRST_BACKUP`.
//!
//! ## 6. Recovery points
//!
//! Every point of the table made by a conforming plan rule is checked
//! ([`retention::check_point`]): `DeleteAfterDays` = retention exactly (fewer:
//! `RETENTION_TOO_SHORT`; more or none: `RETENTION_TOO_LONG`); `DeleteAt − CreationDate` =
//! retention ± 1 day; not still present more than 1 day after its `DeleteAt` unless
//! `DELETING` (`RETENTION_TOO_LONG`); no cold storage (`COLD_STORAGE_DRIFT`); status good
//! (`BAD_RECOVERY_POINT` for `PARTIAL`, `EXPIRED`, `STOPPED` and every unknown status;
//! `CREATING`/`DELETING` are transitional). Any other point (on demand, or by a
//! non-conforming plan) whose lifecycle differs from the policy's is `UNMANAGED_BACKUP`; one
//! with the policy's lifecycle is tolerated. Both ARN forms (`…:recovery-point:…` and
//! `…:table/T/backup/…`) are accepted.
//!
//! ## 7. Backup jobs
//!
//! Each job of the table within the retention horizon that ended `FAILED`, `ABORTED`,
//! `EXPIRED`, `PARTIAL` or in an unknown state is `BACKUP_JOB_FAILED` (a warning: what it
//! costs is the `MISSED_SLOT` it causes). Unreadable jobs are `UNVERIFIABLE` (subject
//! `backup-jobs`): unknown is never compliant, and a failed job may go unreported.
//!
//! ## 8. Findings and verdicts
//!
//! | code | severity | subject | breaks compliance |
//! |---|---|---|---|
//! | `NOT_COVERED` | critical | – | yes |
//! | `PLAN_DRIFT` | high | plan id(s) | yes |
//! | `MISSED_SLOT` | high | slot instant | yes |
//! | `RETENTION_TOO_SHORT` | high | point ARN | yes |
//! | `BAD_RECOVERY_POINT` | high | point ARN | yes |
//! | `EXEMPT_WITHOUT_REASON` | high | – | yes |
//! | `RETENTION_TOO_LONG` | warning | point ARN | yes |
//! | `COLD_STORAGE_DRIFT` | warning | point ARN | yes |
//! | `UNMANAGED_BACKUP` | warning | point ARN | yes |
//! | `MISSING_TAG` | warning | tag key | yes |
//! | `TAG_VALUE_NOT_ALLOWED` | warning | tag key | yes |
//! | `BACKUP_JOB_FAILED` | warning | job id | no |
//! | `UNVERIFIABLE` | warning | `tags` / `coverage` / `recovery-points` / `backup-jobs` | no |
//! | `PENDING_FIRST_BACKUP` | info | – | no |
//! | `EXEMPT` | info | – | no |
//!
//! A finding's id is `bg-` + FNV-1a-64(code, table ARN, subject) in hex: the same problem
//! has the same id in every run ([`findings::finding_id`]).
//!
//! The verdict ([`evaluate::Verdict`]) is, in this order: `exempt` if `EXEMPT`;
//! `non-compliant` if any finding breaks compliance (a known problem outweighs unknowns);
//! `unverifiable` if any `UNVERIFIABLE`; `pending` if `PENDING_FIRST_BACKUP`; otherwise
//! `compliant`.
//!
//! ## 9. Entry points
//!
//! * [`evaluate::evaluate_table`]: the nightly verifier's full evaluation.
//! * [`evaluate::evaluate_new_table`]: the table guard's check at creation / tag change
//!   (exemption, tags, coverage; no recovery points).
//! * [`evaluate::remediation_tag`]: the tag that would make a conforming plan's selection
//!   cover the table (never for exempt-tagged tables, never a guess on unknown tags).
//! * [`conformance::check_plan_document`]: judge a plan JSON (console/CLI shape).
//! * [`org_policy::check_org_policy`]: judge an AWS Organizations backup policy (as written or
//!   effective) plan by plan with the same check.
//! * [`report::RunReport`]: a run's report as text (email) and JSON.
//! * [`arn::TableArn`]: a table ARN built from and parsed into its parts.
//! * [`backup_job::judge_ended_job`] / [`backup_job::judge_completed_job`]: an ended backup
//!   job (AWS Backup's event) against the schedule: its slot, the time left, severity, remedy.

pub mod arn;
pub mod backup_job;
pub mod change;
pub mod config;
pub mod conformance;
pub mod cron;
pub mod evaluate;
pub mod facts;
pub mod findings;
pub mod json_path;
pub mod names;
pub mod org_policy;
pub mod report;
pub mod restore;
pub mod retention;
pub mod schedule;
pub mod selection;
pub mod slots;
pub mod vault;

pub use arn::{TableArn, TableArnError};
pub use config::{ConfigError, Mode, Policy, RequiredTag, SelectionMode, TagPair};
pub use evaluate::{
    Coverage, Evaluator, TableEvaluation, Verdict, evaluate_coverage, evaluate_new_table,
    evaluate_table, needs_creation_time, remediation_tag,
};
pub use facts::{
    BackupSetup, CreatedBy, Fact, JobFacts, JobState, KeyState, PlanFacts, PointStatus,
    RecoveryPointFacts, RuleFacts, SelectionFacts, TableFacts, TagCondition, VaultFacts, VaultLock,
};
pub use findings::{Finding, FindingCode, Severity};
pub use report::RunReport;
