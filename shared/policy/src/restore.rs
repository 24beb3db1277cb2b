//! Restore testing, pure: comparing a restored table with its source (what table-guard
//! reports with `PutRestoreValidationResult`) and restore readiness per table from the
//! restore jobs of the restore testing plan (what the verifier reports nightly).
//!
//! A table that AWS Backup restores is a new table with the source's key schema, attribute
//! definitions, indexes, billing mode and items. By design it does **not** carry the source's
//! auto scaling, stream, TTL, tags, resource policy or point-in-time recovery setting (AWS
//! restores none of them), so [`compare_restored`] never looks at those.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::config::ConfigError;
use crate::evaluate::{TableEvaluation, Verdict, with_findings};
use crate::facts::{Fact, RecoveryPointFacts};
use crate::findings::{Finding, FindingCode};

/// `BG_RESTORE_TESTING_PLAN_ARN`: the restore testing plan whose jobs are validated and
/// judged (unset = restore testing not configured: no validation, no readiness findings).
pub const VAR_PLAN_ARN: &str = "BG_RESTORE_TESTING_PLAN_ARN";
/// `BG_RESTORE_TEST_MAX_AGE_DAYS`: the oldest a table's last successful restore test may be.
pub const VAR_MAX_AGE_DAYS: &str = "BG_RESTORE_TEST_MAX_AGE_DAYS";
/// `BG_RESTORE_TIME_TARGET_MINUTES`: the longest a restore may take (unset = not checked).
pub const VAR_TIME_TARGET_MINUTES: &str = "BG_RESTORE_TIME_TARGET_MINUTES";
/// The restore-testing variables, in the order of the README's table.
pub const VARS: [&str; 3] = [VAR_PLAN_ARN, VAR_MAX_AGE_DAYS, VAR_TIME_TARGET_MINUTES];
/// Default of [`VAR_MAX_AGE_DAYS`]: a monthly test (on the 25th) plus a few days' slack.
pub const DEFAULT_MAX_AGE_DAYS: u32 = 35;
/// Largest accepted [`VAR_MAX_AGE_DAYS`].
pub const MAX_MAX_AGE_DAYS: u32 = 3650;
/// Largest accepted [`VAR_TIME_TARGET_MINUTES`] (a year).
pub const MAX_TIME_TARGET_MINUTES: u32 = 525_600;

/// The restore-testing options of the policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreTestingOptions {
    /// The restore testing plan's ARN ([`VAR_PLAN_ARN`]); `None` = not configured.
    pub plan_arn: Option<String>,
    /// [`VAR_MAX_AGE_DAYS`], default [`DEFAULT_MAX_AGE_DAYS`].
    pub max_age_days: u32,
    /// [`VAR_TIME_TARGET_MINUTES`]; `None` = not checked.
    pub time_target_minutes: Option<u32>,
}

impl Default for RestoreTestingOptions {
    fn default() -> Self {
        RestoreTestingOptions {
            plan_arn: None,
            max_age_days: DEFAULT_MAX_AGE_DAYS,
            time_target_minutes: None,
        }
    }
}

/// True for `arn:<partition>:backup:<region>:<12 digits>:restore-testing-plan:<name>`.
pub fn is_restore_testing_plan_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(7, ':').collect();
    parts.len() == 7
        && parts[0] == "arn"
        && crate::names::PARTITIONS.contains(&parts[1])
        && parts[2] == "backup"
        && crate::names::is_region_name(parts[3])
        && crate::names::is_account_id(parts[4])
        && parts[5] == "restore-testing-plan"
        && !parts[6].is_empty()
}

fn parse_u32(var: &str, v: &str, max: u32, accepted: &str) -> Result<u32, ConfigError> {
    match v.trim().parse::<u32>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(ConfigError::Invalid {
            var: var.to_string(),
            value: v.to_string(),
            problem: format!("not a whole number from 1 to {max}"),
            accepted: accepted.to_string(),
        }),
    }
}

impl RestoreTestingOptions {
    /// True when a restore testing plan is configured.
    pub fn enabled(&self) -> bool {
        self.plan_arn.is_some()
    }

    /// The readiness thresholds.
    pub fn readiness(&self) -> ReadinessOptions {
        ReadinessOptions {
            max_age_days: self.max_age_days,
            time_target_minutes: self.time_target_minutes,
        }
    }

    /// Reads the options through `get` (a variable's value; blank = unset).
    pub fn from_lookup<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Result<Self, ConfigError> {
        let mut o = RestoreTestingOptions::default();
        let given = |name: &str| get(name).map(str::trim).filter(|v| !v.is_empty());
        if let Some(v) = given(VAR_PLAN_ARN) {
            if !is_restore_testing_plan_arn(v) {
                return Err(ConfigError::Invalid {
                    var: VAR_PLAN_ARN.to_string(),
                    value: v.to_string(),
                    problem: "not a restore testing plan ARN".to_string(),
                    accepted: "arn:<partition>:backup:<region>:<account>:restore-testing-plan:<name>, or unset".to_string(),
                });
            }
            o.plan_arn = Some(v.to_string());
        }
        if let Some(v) = given(VAR_MAX_AGE_DAYS) {
            o.max_age_days = parse_u32(VAR_MAX_AGE_DAYS, v, MAX_MAX_AGE_DAYS, "days, such as 35")?;
        }
        if let Some(v) = given(VAR_TIME_TARGET_MINUTES) {
            o.time_target_minutes = Some(parse_u32(
                VAR_TIME_TARGET_MINUTES,
                v,
                MAX_TIME_TARGET_MINUTES,
                "minutes, such as 60, or unset for no target",
            )?);
        }
        Ok(o)
    }

    /// The variables that configure exactly these options (blank = unset).
    pub fn to_vars(&self) -> [(&'static str, String); 3] {
        [
            (VAR_PLAN_ARN, self.plan_arn.clone().unwrap_or_default()),
            (VAR_MAX_AGE_DAYS, self.max_age_days.to_string()),
            (
                VAR_TIME_TARGET_MINUTES,
                self.time_target_minutes
                    .map(|m| m.to_string())
                    .unwrap_or_default(),
            ),
        ]
    }
}

/// The longest `ValidationStatusMessage` table-guard sends. The AWS Backup API documents no
/// maximum for the member; the message is cut (with `…`) to this many characters so a table
/// with many differences still gets a readable, bounded reason.
pub const MAX_VALIDATION_MESSAGE_CHARS: usize = 1000;

/// One element of a key schema (`AttributeName`, `KeyType` `HASH` / `RANGE`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct KeyElement {
    /// `AttributeName`.
    pub name: String,
    /// `KeyType`: `HASH` or `RANGE`.
    pub key_type: String,
}

/// What of an index a restore must reproduce: its key schema and projection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexShape {
    /// `KeySchema`, in order.
    pub key_schema: Vec<KeyElement>,
    /// `Projection.ProjectionType`: `ALL`, `KEYS_ONLY` or `INCLUDE`.
    pub projection_type: String,
    /// `Projection.NonKeyAttributes`, sorted (order carries no meaning).
    pub non_key_attributes: Vec<String>,
}

/// The parts of a `DescribeTable` answer a restore must reproduce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableShape {
    /// `KeySchema`, in order.
    pub key_schema: Vec<KeyElement>,
    /// `AttributeDefinitions`: name → `S` / `N` / `B`.
    pub attributes: BTreeMap<String, String>,
    /// `GlobalSecondaryIndexes` by `IndexName`.
    pub global_indexes: BTreeMap<String, IndexShape>,
    /// `LocalSecondaryIndexes` by `IndexName`.
    pub local_indexes: BTreeMap<String, IndexShape>,
    /// `BillingModeSummary.BillingMode`; `PROVISIONED` when DescribeTable gives no summary
    /// (tables created provisioned before the summary existed).
    pub billing_mode: String,
}

/// Whether the tables hold items, each read by one `Scan` with `Limit` 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemPresence {
    /// The source table returned at least one item.
    pub source_has_items: bool,
    /// The restored table returned at least one item; `None` when it was not read (the
    /// source is empty, so there is nothing the restore must hold).
    pub restored_has_items: Option<bool>,
}

/// The verdict of one validation, as `PutRestoreValidationResult` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ValidationStatus {
    /// Everything a restore must reproduce is there.
    Successful,
    /// Something differs; the message names it.
    Failed,
}

impl ValidationStatus {
    /// The API's enum value (`SUCCESSFUL`, `FAILED`).
    pub fn as_str(self) -> &'static str {
        match self {
            ValidationStatus::Successful => "SUCCESSFUL",
            ValidationStatus::Failed => "FAILED",
        }
    }
}

/// A validation verdict with the message sent as `ValidationStatusMessage`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validation {
    /// `SUCCESSFUL` or `FAILED`.
    pub status: ValidationStatus,
    /// What was compared (successful) or what differs (failed), at most
    /// [`MAX_VALIDATION_MESSAGE_CHARS`] characters.
    pub message: String,
    /// Each difference in a sentence (empty when successful).
    pub differences: Vec<String>,
}

fn keys_text(keys: &[KeyElement]) -> String {
    if keys.is_empty() {
        return "none".to_string();
    }
    keys.iter()
        .map(|k| format!("{} {}", k.name, k.key_type))
        .collect::<Vec<_>>()
        .join(", ")
}

fn projection_text(i: &IndexShape) -> String {
    if i.non_key_attributes.is_empty() {
        i.projection_type.clone()
    } else {
        format!(
            "{} ({})",
            i.projection_type,
            i.non_key_attributes.join(", ")
        )
    }
}

fn compare_indexes(
    kind: &str,
    source: &BTreeMap<String, IndexShape>,
    restored: &BTreeMap<String, IndexShape>,
    out: &mut Vec<String>,
) {
    for (name, s) in source {
        match restored.get(name) {
            None => out.push(format!("{kind} {name} is missing from the restored table")),
            Some(r) => {
                if r.key_schema != s.key_schema {
                    out.push(format!(
                        "{kind} {name} has key schema [{}], the source [{}]",
                        keys_text(&r.key_schema),
                        keys_text(&s.key_schema)
                    ));
                }
                if r.projection_type != s.projection_type
                    || r.non_key_attributes != s.non_key_attributes
                {
                    out.push(format!(
                        "{kind} {name} projects {}, the source {}",
                        projection_text(r),
                        projection_text(s)
                    ));
                }
            }
        }
    }
    for name in restored.keys().filter(|n| !source.contains_key(*n)) {
        out.push(format!(
            "{kind} {name} is on the restored table but not on the source"
        ));
    }
}

/// Compares a restored table with its source: key schema, attribute definitions, global and
/// local secondary indexes (names, keys, projections), billing mode, and that the restore
/// holds items when the source does. Auto scaling, streams, TTL and tags are never compared
/// (a restore lacks them by design).
pub fn compare_restored(
    source: &TableShape,
    restored: &TableShape,
    items: ItemPresence,
) -> Validation {
    let mut diffs = Vec::new();
    if restored.key_schema != source.key_schema {
        diffs.push(format!(
            "key schema is [{}], the source's [{}]",
            keys_text(&restored.key_schema),
            keys_text(&source.key_schema)
        ));
    }
    for (name, ty) in &source.attributes {
        match restored.attributes.get(name) {
            None => diffs.push(format!("attribute definition {name} ({ty}) is missing")),
            Some(r) if r != ty => diffs.push(format!(
                "attribute {name} is defined as {r}, the source as {ty}"
            )),
            Some(_) => {}
        }
    }
    for name in restored
        .attributes
        .keys()
        .filter(|n| !source.attributes.contains_key(*n))
    {
        diffs.push(format!(
            "attribute definition {name} is on the restored table but not on the source"
        ));
    }
    compare_indexes(
        "global secondary index",
        &source.global_indexes,
        &restored.global_indexes,
        &mut diffs,
    );
    compare_indexes(
        "local secondary index",
        &source.local_indexes,
        &restored.local_indexes,
        &mut diffs,
    );
    if restored.billing_mode != source.billing_mode {
        diffs.push(format!(
            "billing mode is {}, the source's {}",
            restored.billing_mode, source.billing_mode
        ));
    }
    if items.source_has_items && items.restored_has_items != Some(true) {
        diffs.push("the restored table holds no items although the source does".to_string());
    }
    if diffs.is_empty() {
        let items_text = if items.source_has_items {
            "items present"
        } else {
            "source empty"
        };
        Validation {
            status: ValidationStatus::Successful,
            message: format!(
                "backup-guard: key schema, {} attribute definition(s), {} GSI(s), {} LSI(s), billing mode {} match the source; {items_text}",
                source.attributes.len(),
                source.global_indexes.len(),
                source.local_indexes.len(),
                source.billing_mode
            ),
            differences: diffs,
        }
    } else {
        let text = format!(
            "backup-guard: the restored table differs from the source: {}",
            diffs.join("; ")
        );
        Validation {
            status: ValidationStatus::Failed,
            message: cut_chars(&text, MAX_VALIDATION_MESSAGE_CHARS),
            differences: diffs,
        }
    }
}

/// `s` cut to at most `max` characters, ending in `…` when cut.
pub fn cut_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

// ---- readiness ---------------------------------------------------------------------------

/// One restore job as `ListRestoreJobs` reports it (the fields readiness uses).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreJobFacts {
    /// `RestoreJobId`.
    pub job_id: String,
    /// `SourceResourceArn`: the table the recovery point is a backup of.
    pub source_arn: Option<String>,
    /// `Status`: `PENDING`, `RUNNING`, `COMPLETED`, `ABORTED` or `FAILED`.
    pub status: String,
    /// `StatusMessage`.
    pub status_message: Option<String>,
    /// `ValidationStatus`: `FAILED`, `SUCCESSFUL`, `TIMED_OUT`, `VALIDATING` or absent.
    pub validation_status: Option<String>,
    /// `ValidationStatusMessage`.
    pub validation_message: Option<String>,
    /// `CreationDate`.
    pub created: Option<Timestamp>,
    /// `CompletionDate`.
    pub completed: Option<Timestamp>,
    /// `CreatedBy.RestoreTestingPlanArn`: set for jobs a restore testing plan started.
    pub plan_arn: Option<String>,
    /// `CreatedResourceArn`: the table the restore created.
    #[serde(default)]
    pub created_resource_arn: Option<String>,
    /// `RecoveryPointArn`: the point restored.
    #[serde(default)]
    pub recovery_point_arn: Option<String>,
    /// `ResourceType` (`DynamoDB`).
    #[serde(default)]
    pub resource_type: Option<String>,
}

impl RestoreJobFacts {
    /// How long the restore took (`CompletionDate` − `CreationDate`), if both are known.
    pub fn duration(&self) -> Option<SignedDuration> {
        Some(self.completed?.duration_since(self.created?))
    }

    /// A completed job whose validation was `SUCCESSFUL`.
    pub fn is_validated_success(&self) -> bool {
        self.status == "COMPLETED" && self.validation_status.as_deref() == Some("SUCCESSFUL")
    }

    /// A test that failed: the job `FAILED`, or its validation `FAILED`.
    pub fn is_failed_test(&self) -> bool {
        self.status == "FAILED"
            || (self.status == "COMPLETED" && self.validation_status.as_deref() == Some("FAILED"))
    }

    /// A job that has ended (`COMPLETED`, `FAILED` or `ABORTED`).
    pub fn has_ended(&self) -> bool {
        matches!(self.status.as_str(), "COMPLETED" | "FAILED" | "ABORTED")
    }
}

/// The readiness options (policy options `BG_RESTORE_TEST_MAX_AGE_DAYS`,
/// `BG_RESTORE_TIME_TARGET_MINUTES`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadinessOptions {
    /// A table needs a successful, validated restore test at most this many days old.
    pub max_age_days: u32,
    /// A restore may take at most this many minutes; `None` = not checked.
    pub time_target_minutes: Option<u32>,
}

/// A table's restore readiness: its last tests and the findings about them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableReadiness {
    /// The newest successful, validated restore test (any age).
    pub last_success: Option<RestoreJobFacts>,
    /// Its duration in whole minutes (rounded up).
    pub last_success_minutes: Option<i64>,
    /// The newest ended test (whatever its result).
    pub last_test: Option<RestoreJobFacts>,
    /// `RESTORE_NOT_TESTED`, `RESTORE_TEST_FAILED`, `RESTORE_TIME_OVER_TARGET`.
    pub findings: Vec<Finding>,
}

fn minutes_up(d: SignedDuration) -> i64 {
    let secs = d.as_secs();
    let whole = secs / 60;
    if secs % 60 > 0 || d.subsec_nanos() > 0 {
        whole + 1
    } else {
        whole
    }
}

/// Restore readiness of one table from its restore-testing jobs (`jobs`, any order; jobs of
/// other tables are ignored). `due_since`: the creation time of the table's oldest policy
/// recovery point — a table needs a test only once it has had a point older than the window
/// (a new table is not "never tested" yet); `None` = no point, no test due.
pub fn table_readiness(
    table_arn: &str,
    table_name: &str,
    jobs: &[RestoreJobFacts],
    due_since: Option<Timestamp>,
    now: Timestamp,
    options: ReadinessOptions,
) -> TableReadiness {
    let mut mine: Vec<&RestoreJobFacts> = jobs
        .iter()
        .filter(|j| j.source_arn.as_deref() == Some(table_arn))
        .collect();
    // Newest first; jobs without a creation date last.
    mine.sort_by_key(|j| std::cmp::Reverse(j.created));
    let last_test = mine.iter().find(|j| j.has_ended()).map(|j| (*j).clone());
    let last_success = mine
        .iter()
        .find(|j| j.is_validated_success())
        .map(|j| (*j).clone());
    let last_success_minutes = last_success
        .as_ref()
        .and_then(RestoreJobFacts::duration)
        .map(minutes_up);
    let window = SignedDuration::from_hours(24 * i64::from(options.max_age_days));
    let cutoff = now.checked_sub(window).unwrap_or(Timestamp::MIN);
    let mut findings = Vec::new();

    if let Some(t) = last_test.as_ref().filter(|t| t.is_failed_test()) {
        let why = if t.status == "FAILED" {
            format!(
                "the restore job failed: {}",
                t.status_message.as_deref().unwrap_or("no status message")
            )
        } else {
            format!(
                "its validation FAILED: {}",
                t.validation_message.as_deref().unwrap_or("no message")
            )
        };
        findings.push(Finding::new(
            FindingCode::RestoreTestFailed,
            table_arn,
            table_name,
            Some(t.job_id.clone()),
            format!(
                "The last restore test of {table_name} (restore job {}{}) did not pass: {why}",
                t.job_id,
                t.created.map(|c| format!(", {c}")).unwrap_or_default()
            ),
            Some(
                "Read the restore job in the AWS Backup console, fix the cause, and run the restore testing plan again (or wait for its next run)"
                    .to_string(),
            ),
        ));
    } else {
        let recent_success = last_success
            .as_ref()
            .is_some_and(|s| s.created.is_some_and(|c| c >= cutoff));
        let due = due_since.is_some_and(|d| d < cutoff);
        if !recent_success && due {
            let last = match &last_success {
                Some(s) => format!(
                    "the last successful one is restore job {} of {}",
                    s.job_id,
                    s.created
                        .map(|c| c.to_string())
                        .unwrap_or_else(|| "an unknown date".to_string())
                ),
                None => "it has never had one".to_string(),
            };
            findings.push(Finding::new(
                FindingCode::RestoreNotTested,
                table_arn,
                table_name,
                None,
                format!(
                    "{table_name} has no successful, validated restore test in the last {} days; {last}",
                    options.max_age_days
                ),
                Some(
                    "Check that the restore testing selection covers the table and that its restore jobs complete and validate"
                        .to_string(),
                ),
            ));
        }
    }
    if let (Some(target), Some(minutes), Some(s)) = (
        options.time_target_minutes,
        last_success_minutes,
        last_success.as_ref(),
    ) && minutes > i64::from(target)
    {
        findings.push(Finding::new(
            FindingCode::RestoreTimeOverTarget,
            table_arn,
            table_name,
            Some(s.job_id.clone()),
            format!(
                "The last successful restore test of {table_name} (restore job {}) took {minutes} minutes, over the target of {target} minutes",
                s.job_id
            ),
            Some(
                "Reduce what a restore must copy (table size, indexes) or raise the restore time target if it is wrong"
                    .to_string(),
            ),
        ));
    }
    TableReadiness {
        last_success,
        last_success_minutes,
        last_test,
        findings,
    }
}

/// The subject of the `UNVERIFIABLE` finding when the restore jobs could not be listed.
pub const SUBJECT_RESTORE_JOBS: &str = "restore-jobs";

/// A table's evaluation with its restore readiness added (restore testing configured):
/// the readiness findings of [`table_readiness`] from `jobs` (the restore testing plan's jobs
/// of the account), due once the table has a recovery point older than the window; an
/// unreadable job list is `UNVERIFIABLE` (never compliant). Exempt tables are left alone.
/// Returns the evaluation and the readiness (`None` when the jobs are unknown or the table
/// is exempt).
pub fn apply_readiness(
    ev: TableEvaluation,
    jobs: &Fact<Vec<RestoreJobFacts>>,
    points: &Fact<Vec<RecoveryPointFacts>>,
    now: Timestamp,
    options: ReadinessOptions,
) -> (TableEvaluation, Option<TableReadiness>) {
    if ev.verdict == Verdict::Exempt {
        return (ev, None);
    }
    let (arn, name) = (ev.table.arn.clone(), ev.table.name.clone());
    match jobs {
        Fact::Unknown { reason } => {
            let f = Finding::new(
                FindingCode::Unverifiable,
                &arn,
                &name,
                Some(SUBJECT_RESTORE_JOBS.to_string()),
                format!("The restore tests of {name} are unknown: {reason}"),
                Some("Let the verifier read Backup.ListRestoreJobs (IAM, throttling) and run it again".to_string()),
            );
            (with_findings(ev, vec![f]), None)
        }
        Fact::Known(jobs) => {
            let due_since = points
                .known()
                .and_then(|p| p.iter().map(|p| p.created).min());
            let r = table_readiness(&arn, &name, jobs, due_since, now, options);
            let ev = with_findings(ev, r.findings.clone());
            (ev, Some(r))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(name: &str, t: &str) -> KeyElement {
        KeyElement {
            name: name.into(),
            key_type: t.into(),
        }
    }

    fn shape() -> TableShape {
        let gsi = IndexShape {
            key_schema: vec![k("customer", "HASH")],
            projection_type: "KEYS_ONLY".into(),
            non_key_attributes: vec![],
        };
        TableShape {
            key_schema: vec![k("pk", "HASH"), k("sk", "RANGE")],
            attributes: [
                ("pk".to_string(), "S".to_string()),
                ("sk".to_string(), "N".to_string()),
                ("customer".to_string(), "S".to_string()),
            ]
            .into(),
            global_indexes: [("by-customer".to_string(), gsi)].into(),
            local_indexes: BTreeMap::new(),
            billing_mode: "PAY_PER_REQUEST".into(),
        }
    }

    const FULL: ItemPresence = ItemPresence {
        source_has_items: true,
        restored_has_items: Some(true),
    };

    #[test]
    fn an_identical_restore_is_successful() {
        let v = compare_restored(&shape(), &shape(), FULL);
        assert_eq!(v.status, ValidationStatus::Successful, "{v:?}");
        assert!(v.differences.is_empty());
    }

    #[test]
    fn a_missing_gsi_fails_naming_it() {
        let mut r = shape();
        r.global_indexes.clear();
        let v = compare_restored(&shape(), &r, FULL);
        assert_eq!(v.status, ValidationStatus::Failed);
        assert!(
            v.message
                .contains("global secondary index by-customer is missing"),
            "{}",
            v.message
        );
    }

    #[test]
    fn key_attribute_projection_billing_and_items_are_each_named() {
        let mut r = shape();
        r.key_schema = vec![k("pk", "HASH")];
        r.attributes.insert("sk".into(), "S".into());
        if let Some(g) = r.global_indexes.get_mut("by-customer") {
            g.projection_type = "ALL".into();
        }
        r.billing_mode = "PROVISIONED".into();
        let v = compare_restored(
            &shape(),
            &r,
            ItemPresence {
                source_has_items: true,
                restored_has_items: Some(false),
            },
        );
        assert_eq!(v.differences.len(), 5, "{:?}", v.differences);
        for part in [
            "key schema is [pk HASH]",
            "attribute sk is defined as S",
            "projects ALL, the source KEYS_ONLY",
            "billing mode is PROVISIONED",
            "holds no items",
        ] {
            assert!(v.message.contains(part), "{part}: {}", v.message);
        }
    }

    #[test]
    fn an_empty_source_needs_no_items_and_long_messages_are_cut() {
        let v = compare_restored(
            &shape(),
            &shape(),
            ItemPresence {
                source_has_items: false,
                restored_has_items: None,
            },
        );
        assert_eq!(v.status, ValidationStatus::Successful);
        let mut r = shape();
        for n in 0..200 {
            r.attributes
                .insert(format!("extra-attribute-{n}"), "S".into());
        }
        let v = compare_restored(&shape(), &r, FULL);
        assert_eq!(v.status, ValidationStatus::Failed);
        assert_eq!(v.message.chars().count(), MAX_VALIDATION_MESSAGE_CHARS);
        assert!(v.message.ends_with('…'));
    }

    const ARN: &str = "arn:aws:dynamodb:us-east-1:123456789012:table/orders";

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn job(
        id: &str,
        created: &str,
        minutes: i64,
        status: &str,
        validation: Option<&str>,
    ) -> RestoreJobFacts {
        let c = ts(created);
        RestoreJobFacts {
            job_id: id.into(),
            source_arn: Some(ARN.into()),
            status: status.into(),
            status_message: None,
            validation_status: validation.map(str::to_string),
            validation_message: None,
            created: Some(c),
            completed: Some(c.checked_add(SignedDuration::from_mins(minutes)).unwrap()),
            plan_arn: Some("arn:plan".into()),
            created_resource_arn: None,
            recovery_point_arn: None,
            resource_type: Some("DynamoDB".into()),
        }
    }

    const OPTS: ReadinessOptions = ReadinessOptions {
        max_age_days: 35,
        time_target_minutes: Some(60),
    };

    fn codes(r: &TableReadiness) -> Vec<FindingCode> {
        r.findings.iter().map(|f| f.code).collect()
    }

    #[test]
    fn options_read_validate_and_round_trip() {
        let plan = "arn:aws:backup:us-east-1:123456789012:restore-testing-plan:bg-abc";
        let vars = [
            (VAR_PLAN_ARN, plan),
            (VAR_MAX_AGE_DAYS, "40"),
            (VAR_TIME_TARGET_MINUTES, " 90 "),
        ];
        let get = |n: &str| vars.iter().find(|(k, _)| *k == n).map(|(_, v)| *v);
        let o = RestoreTestingOptions::from_lookup(get).unwrap();
        assert_eq!(o.plan_arn.as_deref(), Some(plan));
        assert_eq!((o.max_age_days, o.time_target_minutes), (40, Some(90)));
        let back = o.to_vars();
        let get2 = |n: &str| back.iter().find(|(k, _)| *k == n).map(|(_, v)| v.as_str());
        assert_eq!(RestoreTestingOptions::from_lookup(get2).unwrap(), o);
        let d = RestoreTestingOptions::from_lookup(|_| None).unwrap();
        assert!(!d.enabled());
        assert_eq!(d.max_age_days, DEFAULT_MAX_AGE_DAYS);
        let e = RestoreTestingOptions::from_lookup(|n| {
            (n == VAR_PLAN_ARN).then_some("arn:aws:backup:us-east-1:123456789012:backup-plan:x")
        })
        .unwrap_err();
        assert!(e.to_string().contains(VAR_PLAN_ARN), "{e}");
        let e = RestoreTestingOptions::from_lookup(|n| (n == VAR_MAX_AGE_DAYS).then_some("0"))
            .unwrap_err();
        assert!(
            e.to_string().contains("BG_RESTORE_TEST_MAX_AGE_DAYS=\"0\""),
            "{e}"
        );
    }

    #[test]
    fn readiness_findings_each_alone() {
        let now = ts("2026-11-26T12:00:00Z");
        let due = Some(ts("2026-08-01T00:00:00Z"));
        let ok = job(
            "j1",
            "2026-11-25T06:00:00Z",
            20,
            "COMPLETED",
            Some("SUCCESSFUL"),
        );
        let r = table_readiness(ARN, "orders", std::slice::from_ref(&ok), due, now, OPTS);
        assert!(r.findings.is_empty(), "{:?}", r.findings);
        assert_eq!(r.last_success_minutes, Some(20));

        let r = table_readiness(ARN, "orders", &[], due, now, OPTS);
        assert_eq!(codes(&r), vec![FindingCode::RestoreNotTested]);
        // Not due yet: the table's first point is newer than the window.
        let r = table_readiness(
            ARN,
            "orders",
            &[],
            Some(ts("2026-11-15T00:00:00Z")),
            now,
            OPTS,
        );
        assert!(r.findings.is_empty());

        let failed = job(
            "j2",
            "2026-11-25T07:00:00Z",
            20,
            "COMPLETED",
            Some("FAILED"),
        );
        let r = table_readiness(ARN, "orders", &[ok.clone(), failed], due, now, OPTS);
        assert_eq!(codes(&r), vec![FindingCode::RestoreTestFailed]);

        let slow = job(
            "j3",
            "2026-11-25T06:00:00Z",
            61,
            "COMPLETED",
            Some("SUCCESSFUL"),
        );
        let r = table_readiness(ARN, "orders", std::slice::from_ref(&slow), due, now, OPTS);
        assert_eq!(codes(&r), vec![FindingCode::RestoreTimeOverTarget]);
        let unchecked = ReadinessOptions {
            time_target_minutes: None,
            ..OPTS
        };
        assert!(
            table_readiness(ARN, "orders", &[slow], due, now, unchecked)
                .findings
                .is_empty()
        );

        let old = job(
            "j0",
            "2026-09-25T06:00:00Z",
            20,
            "COMPLETED",
            Some("SUCCESSFUL"),
        );
        let r = table_readiness(ARN, "orders", &[old], due, now, OPTS);
        assert_eq!(codes(&r), vec![FindingCode::RestoreNotTested]);
        assert!(
            r.findings[0].message.contains("j0"),
            "{}",
            r.findings[0].message
        );
    }
}
