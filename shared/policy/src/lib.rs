//! # backup-guard policy
//!
//! The pure policy engine of backup-guard: given plain facts about an AWS account's DynamoDB
//! tables and AWS Backup configuration (read elsewhere, in `awsio`), it decides whether each
//! table's backups comply with the backup policy, and says exactly why not. No I/O, no AWS
//! SDK types, no async (reading the environment in [`config::Policy::from_env`] is the only
//! exception).
//!
//! This documentation is the policy's specification.
//!
//! ## The policy
//!
//! Defaults are the policy document's ("backups at midnight on the 15th and 25th of each
//! month, each kept for 90 days, automated with AWS Backup, no manual on-demand backups");
//! every value is configurable ([`config`]):
//!
//! * schedule `cron(0 0 15,25 * ? *)` in time zone `UTC` (AWS cron dialect: [`cron`],
//!   evaluated DST-aware in an IANA zone: [`schedule`]);
//! * start window 60 minutes, completion window 180 minutes;
//! * retention exactly 90 days (`DeleteAfterDays`), no cold-storage transition;
//! * optionally a named vault;
//! * selection mode `all-tables` or `tagged` (backup tag `backup-policy=twice-monthly-90d`);
//! * required tags (`owner`), each optionally restricted to allowed values;
//! * exemption: tag `backup-policy=exempt` plus a non-blank `exempt-reason` tag.
//!
//! ## Protection (coverage)
//!
//! A table is *protected* iff some selection of the account covers it ([`selection`]) and that
//! selection's plan has at least one rule that conforms to the policy ([`conformance`]):
//! equivalent schedule in the rule's zone, windows not longer than the policy's (AWS defaults
//! of 8 hours / 7 days apply when absent), `DeleteAfterDays` exactly the retention, no
//! cold storage, and the policy's vault if it names one. Selection semantics:
//! `(Resources ∪ ListOfTags) ∩ Conditions − NotResources`, case-sensitive `*` wildcards,
//! tag keys `aws:ResourceTag/<k>` or `<k>`.
//!
//! ## Slots
//!
//! Every fire instant `T` of the policy schedule with
//! `max(now − retention, table creation) ≤ T ≤ now` is a required *slot* ([`slots`]). It is
//! *satisfied* by a recovery point of the table with status `AVAILABLE`/`COMPLETED`, created
//! in `[T, T + start window]`, completed by `T + start window + completion window`, and made
//! by a conforming plan rule (`CreatedBy`); on-demand points never satisfy a slot. An
//! unsatisfied slot is *pending* until its completion deadline passes, then *missed*. Slots
//! before the table existed are not required; when the creation time is unknown no grace is
//! assumed ([`evaluate::needs_creation_time`] tells the caller when reading it matters).
//!
//! A point is *made by a conforming plan rule* iff its `CreatedBy` names a plan of the
//! account whose rule with that id conforms, or (when the plan or rule has since changed or
//! been deleted) its `CreatedBy` carries the rule's cron and time zone, these are equivalent
//! to the policy schedule, and the point's own lifecycle is exactly the policy's.
//!
//! ## Retention
//!
//! Every recovery point of the table made by a conforming plan rule must have
//! `DeleteAfterDays` = retention, `DeleteAt − CreationDate` = retention ± 1 day, no
//! cold-storage transition and a good status ([`retention`]). On-demand or foreign-plan points
//! whose lifecycle differs from the policy are `UNMANAGED_BACKUP`.
//!
//! ## Findings and verdicts
//!
//! [`evaluate::evaluate_table`] turns all this into [`findings::Finding`]s with stable codes and
//! ids and one [`evaluate::Verdict`] per table; [`report::RunReport`] aggregates a run.
//! Unknown facts are never compliant: they yield `UNVERIFIABLE`.

pub mod config;
pub mod conformance;
pub mod cron;
pub mod evaluate;
pub mod facts;
pub mod findings;
pub mod report;
pub mod retention;
pub mod schedule;
pub mod selection;
pub mod slots;

pub use config::{ConfigError, Mode, Policy, RequiredTag, SelectionMode, TagPair};
pub use evaluate::{
    Coverage, TableEvaluation, Verdict, evaluate_coverage, evaluate_new_table, evaluate_table,
    needs_creation_time, remediation_tag,
};
pub use facts::{
    BackupSetup, CreatedBy, Fact, JobFacts, JobState, PlanFacts, PointStatus, RecoveryPointFacts,
    RuleFacts, SelectionFacts, TableFacts, TagCondition,
};
pub use findings::{Finding, FindingCode, Severity};
pub use report::RunReport;
