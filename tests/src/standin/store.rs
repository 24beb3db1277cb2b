//! The stand-in's account state and the semantics of each operation (no HTTP here).
//!
//! Listings are ordered (vaults by name, plans and selections by creation, recovery points
//! and jobs newest first) and paginated by an opaque `NextToken` that encodes the sort key
//! of the last item returned, so records added between pages neither repeat nor shift
//! the listing.

use super::error::{ApiError, StandInError};
use super::model::{
    BackupJob, BackupRule, BackupSelection, CalculatedLifecycle, Lifecycle, RecoveryPoint,
};
use super::time::to_json_number;
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Bound;

/// Largest `MaxResults` any served listing accepts (the API reference's 1..=1000).
pub const MAX_RESULTS_CAP: i64 = 1000;

/// Page size when the caller sends no `MaxResults`. AWS does not document its default;
/// the stand-in uses 100 so that code relying on an implicit page size shows it in call
/// counts.
pub const DEFAULT_PAGE_SIZE: usize = 100;

/// `StartWindowMinutes` AWS applies when a rule omits it (8 hours).
pub const DEFAULT_START_WINDOW_MINUTES: i64 = 480;
/// `CompletionWindowMinutes` AWS applies when a rule omits it (7 days).
pub const DEFAULT_COMPLETION_WINDOW_MINUTES: i64 = 10080;
/// `ScheduleExpressionTimezone` AWS reports when a rule omits it.
pub const DEFAULT_SCHEDULE_TIMEZONE: &str = "Etc/UTC";

/// Backup job states StopBackupJob accepts: the job has not ended.
pub const STOPPABLE_JOB_STATES: &[&str] = &["CREATED", "PENDING", "RUNNING"];

/// Resource types whose backup jobs AWS cannot stop (StopBackupJob's documentation), as
/// `ResourceType` spells them.
const UNSTOPPABLE_RESOURCE_TYPES: &[&str] = &[
    "Aurora",
    "DocumentDB",
    "FSx",
    "Neptune",
    "RDS",
    "SAP HANA on Amazon EC2",
];

const TOKEN_PREFIX: &str = "sit1";
const KEY_OFFSET: i128 = 1_000_000_000_000_000_000_000_000_000_000;

/// Where a page starts and how long it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    /// Sort key of the last item of the previous page.
    pub after: Option<String>,
    /// Items per page.
    pub max: usize,
}

impl Page {
    /// Reads `nextToken`/`maxResults` (already URL-decoded).
    pub fn parse(next_token: Option<&str>, max_results: Option<&str>) -> Result<Page, ApiError> {
        let max = match max_results {
            None => DEFAULT_PAGE_SIZE,
            Some(text) => match text.parse::<i64>() {
                Ok(n) if (1..=MAX_RESULTS_CAP).contains(&n) => n as usize,
                _ => {
                    return Err(ApiError::invalid_parameter(format!(
                        "MaxResults {text:?} is invalid: it must be an integer from 1 to {MAX_RESULTS_CAP}"
                    )));
                }
            },
        };
        let after = match next_token {
            None => None,
            Some(token) => Some(decode_token(token).ok_or_else(|| {
                ApiError::invalid_parameter(format!("NextToken {token:?} is invalid"))
            })?),
        };
        Ok(Page { after, max })
    }
}

pub(super) fn encode_token(key: &str) -> String {
    let mut out = String::from(TOKEN_PREFIX);
    for b in key.as_bytes() {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

fn decode_token(token: &str) -> Option<String> {
    let hex = token.strip_prefix(TOKEN_PREFIX)?;
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

/// Takes one page from items in key order, already filtered and positioned after the token.
pub(super) fn take_page<T>(
    mut items: impl Iterator<Item = (String, T)>,
    max: usize,
) -> (Vec<T>, Option<String>) {
    let mut out = Vec::new();
    let mut last_key = None;
    for (key, item) in items.by_ref() {
        if out.len() == max {
            // One more matching item exists: the page is full and there is a next one.
            return (out, last_key.map(|k: String| encode_token(&k)));
        }
        out.push(item);
        last_key = Some(key);
    }
    (out, None)
}

pub(super) fn range_after<'a, V>(
    map: &'a BTreeMap<String, V>,
    after: &Option<String>,
) -> impl Iterator<Item = (&'a String, &'a V)> {
    let lower = match after {
        Some(k) => Bound::Excluded(k.clone()),
        None => Bound::Unbounded,
    };
    map.range((lower, Bound::Unbounded))
}

pub(super) fn newest_first_key(ts: Timestamp, id: &str) -> String {
    format!("{:040}|{id}", KEY_OFFSET - ts.as_nanosecond())
}

fn add_days(ts: Timestamp, days: i64) -> Option<Timestamp> {
    ts.checked_add(SignedDuration::from_hours(days.checked_mul(24)?))
        .ok()
}

fn resource_type_of(arn: &str) -> Option<&'static str> {
    match arn.split(':').nth(2) {
        Some("dynamodb") => Some("DynamoDB"),
        Some("ec2") => Some("EC2"),
        Some("s3") => Some("S3"),
        Some("rds") => Some("RDS"),
        Some("elasticfilesystem") => Some("EFS"),
        _ => None,
    }
}

fn push_opt(map: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(v) = value {
        map.insert(key.to_string(), v);
    }
}

fn ts_json(ts: Timestamp) -> Value {
    Value::Number(to_json_number(ts))
}

pub(super) fn to_value<T: serde::Serialize>(v: &T) -> Value {
    // Serialising our own plain structs into a Value cannot fail (string keys only).
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn check_name(what: &str, name: &str, min: usize, allowed_extra: &[char]) -> Result<(), ApiError> {
    let ok = (min..=50).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || allowed_extra.contains(&c));
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid_parameter(format!(
            "{what} {name:?} is invalid: it must be {min} to 50 characters of letters, digits and {}",
            allowed_extra
                .iter()
                .map(|c| format!("'{c}'"))
                .collect::<Vec<_>>()
                .join(" ")
        )))
    }
}

#[derive(Debug, Clone)]
struct Vault {
    name: String,
    arn: String,
    creation_date: Timestamp,
    creator_request_id: Option<String>,
    encryption_key_arn: String,
    /// `Policy` of PutBackupVaultAccessPolicy (the document as given).
    access_policy: Option<String>,
    /// The Vault Lock configuration, if one was put.
    lock: Option<VaultLockConfig>,
}

/// A vault's lock as PutBackupVaultLockConfiguration set it.
#[derive(Debug, Clone)]
struct VaultLockConfig {
    min_retention_days: Option<i64>,
    max_retention_days: Option<i64>,
    /// Creation of the lock + `ChangeableForDays` (none: governance mode, no lock date).
    lock_date: Option<Timestamp>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutAccessPolicyBody {
    policy: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutLockBody {
    min_retention_days: Option<i64>,
    max_retention_days: Option<i64>,
    changeable_for_days: Option<i64>,
}

/// `Lifecycle` as UpdateRecoveryPointLifecycle accepts it (`DeleteAfterEvent` is an output
/// member only).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct LifecycleInput {
    move_to_cold_storage_after_days: Option<i64>,
    delete_after_days: Option<i64>,
    opt_in_to_archive_for_supported_resources: Option<bool>,
    delete_after_event: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateLifecycleBody {
    lifecycle: Option<LifecycleInput>,
}

/// A continuous backup (point-in-time recovery: RDS, Aurora, S3, SAP HANA): AWS names its
/// point `arn:aws:backup:…:recovery-point:continuous:…`. DynamoDB has none in AWS Backup.
fn is_continuous(p: &RecoveryPoint) -> bool {
    p.resource_type.as_deref() != Some("DynamoDB")
        && p.recovery_point_arn
            .as_deref()
            .is_some_and(|a| a.contains(":recovery-point:continuous:"))
}

#[derive(Debug, Clone)]
struct PlanVersion {
    version_id: String,
    name: String,
    rules: Vec<BackupRule>,
    advanced_backup_settings: Option<Value>,
}

#[derive(Debug, Clone)]
struct Selection {
    id: String,
    creation_date: Timestamp,
    creator_request_id: Option<String>,
    selection: BackupSelection,
}

#[derive(Debug, Clone)]
struct Plan {
    id: String,
    arn: String,
    creation_date: Timestamp,
    creator_request_id: Option<String>,
    deletion_date: Option<Timestamp>,
    /// Every version; the last is current.
    versions: Vec<PlanVersion>,
    selections: BTreeMap<String, Selection>,
}

impl Plan {
    fn current(&self) -> Option<&PlanVersion> {
        self.versions.last()
    }
}

/// `BackupPlan` as the SDK sends it in CreateBackupPlan/UpdateBackupPlan.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PlanInput {
    backup_plan_name: Option<String>,
    rules: Option<Vec<BackupRule>>,
    advanced_backup_settings: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreatePlanBody {
    backup_plan: Option<PlanInput>,
    creator_request_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdatePlanBody {
    backup_plan: Option<PlanInput>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateSelectionBody {
    backup_selection: Option<BackupSelection>,
    creator_request_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateVaultBody {
    creator_request_id: Option<String>,
    encryption_key_arn: Option<String>,
}

fn parse_body<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, ApiError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid_parameter(format!("request body is not valid: {e}")))
}

/// Filters of `ListRecoveryPointsByBackupVault`.
#[derive(Debug, Clone, Default)]
pub struct PointFilter {
    /// `resourceArn`.
    pub resource_arn: Option<String>,
    /// `resourceType`.
    pub resource_type: Option<String>,
    /// `backupPlanId` (matches `CreatedBy.BackupPlanId`).
    pub backup_plan_id: Option<String>,
    /// `createdAfter` (strictly after).
    pub created_after: Option<Timestamp>,
    /// `createdBefore` (strictly before).
    pub created_before: Option<Timestamp>,
    /// `parentRecoveryPointArn`.
    pub parent_recovery_point_arn: Option<String>,
    /// `backupVaultAccountId`.
    pub account_id: Option<String>,
}

/// Filters of `ListBackupJobs`.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    /// `resourceArn`.
    pub resource_arn: Option<String>,
    /// `state`.
    pub state: Option<String>,
    /// `backupVaultName`.
    pub backup_vault_name: Option<String>,
    /// `resourceType`.
    pub resource_type: Option<String>,
    /// `accountId`.
    pub account_id: Option<String>,
    /// `createdAfter` (strictly after).
    pub created_after: Option<Timestamp>,
    /// `createdBefore` (strictly before).
    pub created_before: Option<Timestamp>,
    /// `completeAfter` (strictly after).
    pub complete_after: Option<Timestamp>,
    /// `completeBefore` (strictly before).
    pub complete_before: Option<Timestamp>,
    /// `parentJobId`.
    pub parent_job_id: Option<String>,
    /// `messageCategory`.
    pub message_category: Option<String>,
}

pub(super) fn within(ts: Timestamp, after: Option<Timestamp>, before: Option<Timestamp>) -> bool {
    after.is_none_or(|a| ts > a) && before.is_none_or(|b| ts < b)
}

pub(super) fn opt_eq(want: &Option<String>, have: Option<&str>) -> bool {
    want.as_deref().is_none_or(|w| have == Some(w))
}

/// The whole account as the stand-in knows it.
#[derive(Debug)]
pub struct Store {
    region: String,
    account_id: String,
    counter: u64,
    vaults: BTreeMap<String, Vault>,
    plans: BTreeMap<String, Plan>,
    /// vault name → sort key → point.
    points: BTreeMap<String, BTreeMap<String, RecoveryPoint>>,
    /// resource ARN → sort key → vault name.
    by_resource: HashMap<String, BTreeMap<String, String>>,
    /// recovery point ARN → (vault name, sort key).
    point_arns: HashMap<String, (String, String)>,
    /// sort key → job.
    jobs: BTreeMap<String, BackupJob>,
    /// job id → sort key.
    job_ids: HashMap<String, String>,
}

impl Store {
    /// An empty account in `region` owned by `account_id`.
    pub fn new(region: &str, account_id: &str) -> Self {
        Self {
            region: region.to_string(),
            account_id: account_id.to_string(),
            counter: 0,
            vaults: BTreeMap::new(),
            plans: BTreeMap::new(),
            points: BTreeMap::new(),
            point_arns: HashMap::new(),
            by_resource: HashMap::new(),
            jobs: BTreeMap::new(),
            job_ids: HashMap::new(),
        }
    }

    /// Forgets everything (ids restart too).
    pub fn reset(&mut self) {
        *self = Self::new(&self.region.clone(), &self.account_id.clone());
    }

    /// A fresh UUID-shaped id; ids of one kind sort in creation order.
    fn next_id(&mut self, kind: u32) -> String {
        self.counter += 1;
        format!("{kind:08x}-0000-4000-8000-{:012x}", self.counter)
    }

    fn arn(&self, resource: &str) -> String {
        format!(
            "arn:aws:backup:{}:{}:{resource}",
            self.region, self.account_id
        )
    }

    fn vault(&self, name: &str) -> Result<&Vault, ApiError> {
        self.vaults
            .get(name)
            .ok_or_else(|| ApiError::not_found(format!("Backup vault {name} does not exist")))
    }

    fn plan(&self, id: &str) -> Result<&Plan, ApiError> {
        self.plans
            .get(id)
            .ok_or_else(|| ApiError::not_found(format!("Backup plan {id} does not exist")))
    }

    fn vault_json(&self, v: &Vault) -> Value {
        let count = self.points.get(&v.name).map_or(0, BTreeMap::len);
        let mut m = Map::new();
        m.insert("BackupVaultName".into(), json!(v.name));
        m.insert("BackupVaultArn".into(), json!(v.arn));
        m.insert("VaultType".into(), json!("BACKUP_VAULT"));
        m.insert("VaultState".into(), json!("AVAILABLE"));
        m.insert("CreationDate".into(), ts_json(v.creation_date));
        m.insert("EncryptionKeyArn".into(), json!(v.encryption_key_arn));
        push_opt(
            &mut m,
            "CreatorRequestId",
            v.creator_request_id.as_ref().map(|s| json!(s)),
        );
        m.insert("NumberOfRecoveryPoints".into(), json!(count));
        m.insert("Locked".into(), json!(v.lock.is_some()));
        if let Some(l) = &v.lock {
            push_opt(
                &mut m,
                "MinRetentionDays",
                l.min_retention_days.map(|d| json!(d)),
            );
            push_opt(
                &mut m,
                "MaxRetentionDays",
                l.max_retention_days.map(|d| json!(d)),
            );
            push_opt(&mut m, "LockDate", l.lock_date.map(ts_json));
        }
        Value::Object(m)
    }

    // ---- vaults -------------------------------------------------------------------

    /// CreateBackupVault.
    pub fn create_backup_vault(
        &mut self,
        name: &str,
        body: &[u8],
        now: Timestamp,
    ) -> Result<Value, ApiError> {
        check_name("BackupVaultName", name, 2, &['-', '_'])?;
        let input: CreateVaultBody = parse_body(body)?;
        if let Some(v) = self.vaults.get(name)
            && input.creator_request_id.is_some()
            && v.creator_request_id == input.creator_request_id
        {
            // A retry of the same request (the SDK fills CreatorRequestId): idempotent.
            return Ok(json!({
                "BackupVaultName": v.name,
                "BackupVaultArn": v.arn,
                "CreationDate": ts_json(v.creation_date),
            }));
        }
        if self.vaults.contains_key(name) {
            return Err(ApiError::already_exists(format!(
                "Backup vault {name} already exists"
            )));
        }
        let vault = Vault {
            name: name.to_string(),
            arn: self.arn(&format!("backup-vault:{name}")),
            creation_date: now,
            creator_request_id: input.creator_request_id,
            encryption_key_arn: input.encryption_key_arn.unwrap_or_else(|| {
                format!(
                    "arn:aws:kms:{}:{}:key/00000000-0000-4000-8000-0000000b4c0f",
                    self.region, self.account_id
                )
            }),
            access_policy: None,
            lock: None,
        };
        let out = json!({
            "BackupVaultName": vault.name,
            "BackupVaultArn": vault.arn,
            "CreationDate": ts_json(now),
        });
        self.vaults.insert(name.to_string(), vault);
        Ok(out)
    }

    /// DescribeBackupVault.
    pub fn describe_backup_vault(&self, name: &str) -> Result<Value, ApiError> {
        Ok(self.vault_json(self.vault(name)?))
    }

    fn vault_mut(&mut self, name: &str) -> Result<&mut Vault, ApiError> {
        self.vaults
            .get_mut(name)
            .ok_or_else(|| ApiError::not_found(format!("Backup vault {name} does not exist")))
    }

    /// GetBackupVaultAccessPolicy: `ResourceNotFoundException` when the vault has no policy,
    /// as AWS answers.
    pub fn get_backup_vault_access_policy(&self, name: &str) -> Result<Value, ApiError> {
        let v = self.vault(name)?;
        let policy = v.access_policy.as_ref().ok_or_else(|| {
            ApiError::not_found(format!("Backup vault {name} has no access policy"))
        })?;
        Ok(json!({
            "BackupVaultName": v.name,
            "BackupVaultArn": v.arn,
            "Policy": policy,
        }))
    }

    /// PutBackupVaultAccessPolicy: the `Policy` must be a JSON object with a `Statement`.
    pub fn put_backup_vault_access_policy(
        &mut self,
        name: &str,
        body: &[u8],
    ) -> Result<(), ApiError> {
        let input: PutAccessPolicyBody = parse_body(body)?;
        self.vault(name)?;
        let policy = input
            .policy
            .ok_or_else(|| ApiError::missing_parameter("Policy"))?;
        let doc: Value = serde_json::from_str(&policy).map_err(|e| {
            ApiError::invalid_parameter(format!("Policy is not a valid JSON policy document: {e}"))
        })?;
        if doc.get("Statement").is_none() {
            return Err(ApiError::invalid_parameter(
                "Policy is not a valid policy document: it has no Statement",
            ));
        }
        self.vault_mut(name)?.access_policy = Some(policy);
        Ok(())
    }

    /// DeleteBackupVaultAccessPolicy (a vault without a policy: nothing to do, as in AWS).
    pub fn delete_backup_vault_access_policy(&mut self, name: &str) -> Result<(), ApiError> {
        self.vault_mut(name)?.access_policy = None;
        Ok(())
    }

    /// PutBackupVaultLockConfiguration: `MinRetentionDays` ≥ 1, `MaxRetentionDays` ≤ 36500,
    /// min ≤ max, `ChangeableForDays` 3..=36500 when given (then `LockDate` = now + it); a lock
    /// past its `LockDate` is immutable (`InvalidRequestException`).
    pub fn put_backup_vault_lock_configuration(
        &mut self,
        name: &str,
        body: &[u8],
        now: Timestamp,
    ) -> Result<(), ApiError> {
        let input: PutLockBody = parse_body(body)?;
        self.check_lock_changeable(name, now)?;
        if input.min_retention_days.is_some_and(|d| d < 1) {
            return Err(ApiError::invalid_parameter(
                "MinRetentionDays must be at least 1",
            ));
        }
        if input
            .max_retention_days
            .is_some_and(|d| !(1..=36500).contains(&d))
        {
            return Err(ApiError::invalid_parameter(
                "MaxRetentionDays must be between 1 and 36500",
            ));
        }
        if let (Some(min), Some(max)) = (input.min_retention_days, input.max_retention_days)
            && min > max
        {
            return Err(ApiError::invalid_parameter(
                "MinRetentionDays must not exceed MaxRetentionDays",
            ));
        }
        // AWS: at least 3 (the 72-hour cooling-off period), at most 36,500 days.
        if input
            .changeable_for_days
            .is_some_and(|d| !(3..=36500).contains(&d))
        {
            return Err(ApiError::invalid_parameter(
                "ChangeableForDays must be between 3 and 36500",
            ));
        }
        let lock_date =
            match input.changeable_for_days {
                Some(d) => Some(add_days(now, d).ok_or_else(|| {
                    ApiError::invalid_parameter("ChangeableForDays is out of range")
                })?),
                None => None,
            };
        self.vault_mut(name)?.lock = Some(VaultLockConfig {
            min_retention_days: input.min_retention_days,
            max_retention_days: input.max_retention_days,
            lock_date,
        });
        Ok(())
    }

    /// AWS: "On and after the lock date, the Vault Lock becomes immutable and cannot be
    /// changed or deleted." The model leaves the code open; InvalidRequestException is the
    /// one Put- and DeleteBackupVaultLockConfiguration declare for it (and the latter's
    /// documentation names).
    fn check_lock_changeable(&self, name: &str, now: Timestamp) -> Result<(), ApiError> {
        let vault = self.vault(name)?;
        if let Some(date) = vault.lock.as_ref().and_then(|l| l.lock_date)
            && date <= now
        {
            return Err(ApiError::invalid_request(format!(
                "the Vault Lock of backup vault {name} is immutable since its lock date {date}"
            )));
        }
        Ok(())
    }

    /// DeleteBackupVaultLockConfiguration: refused once the lock is immutable (past its
    /// `LockDate`); a vault without a lock: nothing to do.
    pub fn delete_backup_vault_lock_configuration(
        &mut self,
        name: &str,
        now: Timestamp,
    ) -> Result<(), ApiError> {
        self.check_lock_changeable(name, now)?;
        self.vault_mut(name)?.lock = None;
        Ok(())
    }

    /// DeleteBackupVault: AWS deletes a vault only if it is empty (InvalidRequestException
    /// otherwise); its access policy and Vault Lock go with it.
    pub fn delete_backup_vault(&mut self, name: &str) -> Result<(), ApiError> {
        self.vault(name)?;
        let count = self.points.get(name).map_or(0, BTreeMap::len);
        if count > 0 {
            return Err(ApiError::invalid_request(format!(
                "Backup vault {name} cannot be deleted: it contains {count} recovery points (a vault can be deleted only if it is empty)"
            )));
        }
        self.vaults.remove(name);
        self.points.remove(name);
        Ok(())
    }

    /// ListBackupVaults (`vaultType` filter).
    pub fn list_backup_vaults(&self, vault_type: Option<&str>, page: &Page) -> Value {
        let wanted = vault_type.is_none_or(|t| t == "BACKUP_VAULT");
        let items = range_after(&self.vaults, &page.after)
            .filter(|_| wanted)
            .map(|(k, v)| (k.clone(), self.vault_json(v)));
        let (list, next) = take_page(items, page.max);
        listing("BackupVaultList", list, next)
    }

    // ---- plans --------------------------------------------------------------------

    fn validate_plan(
        &self,
        input: Option<PlanInput>,
        previous: Option<&PlanVersion>,
        own_id: Option<&str>,
    ) -> Result<PlanVersion, ApiError> {
        let input = input.ok_or_else(|| ApiError::missing_parameter("BackupPlan"))?;
        let name = input
            .backup_plan_name
            .ok_or_else(|| ApiError::missing_parameter("BackupPlan.BackupPlanName"))?;
        check_name("BackupPlanName", &name, 1, &['-', '_', '.'])?;
        let clash = self.plans.values().any(|p| {
            Some(p.id.as_str()) != own_id
                && p.deletion_date.is_none()
                && p.current().is_some_and(|v| v.name == name)
        });
        if clash {
            return Err(ApiError::already_exists(format!(
                "Backup plan {name} already exists"
            )));
        }
        let rules = input
            .rules
            .ok_or_else(|| ApiError::missing_parameter("BackupPlan.Rules"))?;
        if rules.is_empty() {
            return Err(ApiError::invalid_parameter(
                "BackupPlan.Rules must contain at least one rule",
            ));
        }
        let mut seen = HashSet::new();
        let mut out = Vec::with_capacity(rules.len());
        for (i, mut rule) in rules.into_iter().enumerate() {
            let rule_name = rule.rule_name.clone().ok_or_else(|| {
                ApiError::missing_parameter(&format!("BackupPlan.Rules[{i}].RuleName"))
            })?;
            check_name("RuleName", &rule_name, 1, &['-', '_', '.'])?;
            if !seen.insert(rule_name.clone()) {
                return Err(ApiError::invalid_parameter(format!(
                    "RuleName {rule_name} is used twice in the plan"
                )));
            }
            if rule.target_backup_vault_name.is_none() {
                return Err(ApiError::missing_parameter(&format!(
                    "BackupPlan.Rules[{i}].TargetBackupVaultName"
                )));
            }
            let start = *rule
                .start_window_minutes
                .get_or_insert(DEFAULT_START_WINDOW_MINUTES);
            if start < 60 {
                return Err(ApiError::invalid_parameter(format!(
                    "rule {rule_name}: StartWindowMinutes {start} is invalid: it must be at least 60"
                )));
            }
            let completion = *rule
                .completion_window_minutes
                .get_or_insert(DEFAULT_COMPLETION_WINDOW_MINUTES);
            if completion < 60 {
                return Err(ApiError::invalid_parameter(format!(
                    "rule {rule_name}: CompletionWindowMinutes {completion} is invalid: it must be at least 60"
                )));
            }
            if rule.schedule_expression_timezone.is_none() {
                rule.schedule_expression_timezone = Some(DEFAULT_SCHEDULE_TIMEZONE.to_string());
            }
            if let Some(lc) = &rule.lifecycle {
                check_lifecycle(&rule_name, lc)?;
            }
            // Rule ids survive an update for rules keeping their name.
            rule.rule_id = previous
                .and_then(|p| {
                    p.rules
                        .iter()
                        .find(|r| r.rule_name.as_deref() == Some(&rule_name))
                })
                .and_then(|r| r.rule_id.clone());
            out.push(rule);
        }
        Ok(PlanVersion {
            version_id: String::new(),
            name,
            rules: out,
            advanced_backup_settings: input.advanced_backup_settings,
        })
    }

    fn assign_ids(&mut self, mut version: PlanVersion) -> PlanVersion {
        version.version_id = self.next_id(4);
        for rule in &mut version.rules {
            if rule.rule_id.is_none() {
                rule.rule_id = Some(self.next_id(3));
            }
        }
        version
    }

    /// CreateBackupPlan.
    pub fn create_backup_plan(&mut self, body: &[u8], now: Timestamp) -> Result<Value, ApiError> {
        let input: CreatePlanBody = parse_body(body)?;
        if let Some(plan) = input.creator_request_id.as_ref().and_then(|r| {
            self.plans
                .values()
                .find(|p| p.deletion_date.is_none() && p.creator_request_id.as_ref() == Some(r))
        }) {
            // A retry of the same request (the SDK fills CreatorRequestId): idempotent.
            return Ok(plan_ref_json(plan, now));
        }
        let version = self.validate_plan(input.backup_plan, None, None)?;
        let version = self.assign_ids(version);
        let id = self.next_id(1);
        let plan = Plan {
            arn: self.arn(&format!("backup-plan:{id}")),
            id: id.clone(),
            creation_date: now,
            creator_request_id: input.creator_request_id,
            deletion_date: None,
            versions: vec![version],
            selections: BTreeMap::new(),
        };
        let out = plan_ref_json(&plan, now);
        self.plans.insert(id, plan);
        Ok(out)
    }

    /// UpdateBackupPlan: a new version (new `VersionId`).
    pub fn update_backup_plan(
        &mut self,
        id: &str,
        body: &[u8],
        now: Timestamp,
    ) -> Result<Value, ApiError> {
        let input: UpdatePlanBody = parse_body(body)?;
        let plan = self.plan(id)?;
        if plan.deletion_date.is_some() {
            return Err(ApiError::invalid_parameter(format!(
                "Backup plan {id} is deleted"
            )));
        }
        let version = self.validate_plan(input.backup_plan, plan.current(), Some(id))?;
        let version = self.assign_ids(version);
        let plan = self
            .plans
            .get_mut(id)
            .ok_or_else(|| ApiError::not_found(format!("Backup plan {id} does not exist")))?;
        plan.versions.push(version);
        Ok(plan_ref_json(plan, now))
    }

    /// DeleteBackupPlan: refused while selections remain, as AWS does.
    pub fn delete_backup_plan(&mut self, id: &str, now: Timestamp) -> Result<Value, ApiError> {
        let plan = self
            .plans
            .get_mut(id)
            .ok_or_else(|| ApiError::not_found(format!("Backup plan {id} does not exist")))?;
        if plan.deletion_date.is_some() {
            return Err(ApiError::not_found(format!(
                "Backup plan {id} is already deleted"
            )));
        }
        if !plan.selections.is_empty() {
            return Err(ApiError::invalid_request(
                "Related backup plan selections must be deleted prior to backup plan deletion",
            ));
        }
        plan.deletion_date = Some(now);
        Ok(json!({
            "BackupPlanId": plan.id,
            "BackupPlanArn": plan.arn,
            "DeletionDate": ts_json(now),
            "VersionId": plan.current().map(|v| v.version_id.clone()),
        }))
    }

    /// GetBackupPlan (optionally a given `versionId`).
    pub fn get_backup_plan(&self, id: &str, version_id: Option<&str>) -> Result<Value, ApiError> {
        let plan = self.plan(id)?;
        let version = match version_id {
            None => plan.current(),
            Some(v) => plan.versions.iter().find(|x| x.version_id == v),
        }
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "Backup plan {id} has no version {}",
                version_id.unwrap_or("(current)")
            ))
        })?;
        let mut m = Map::new();
        m.insert(
            "BackupPlan".into(),
            json!({ "BackupPlanName": version.name, "Rules": version.rules.iter().map(to_value).collect::<Vec<_>>() }),
        );
        if let Some(adv) = &version.advanced_backup_settings {
            if let Some(bp) = m.get_mut("BackupPlan").and_then(Value::as_object_mut) {
                bp.insert("AdvancedBackupSettings".into(), adv.clone());
            }
            m.insert("AdvancedBackupSettings".into(), adv.clone());
        }
        m.insert("BackupPlanId".into(), json!(plan.id));
        m.insert("BackupPlanArn".into(), json!(plan.arn));
        m.insert("VersionId".into(), json!(version.version_id));
        push_opt(
            &mut m,
            "CreatorRequestId",
            plan.creator_request_id.as_ref().map(|s| json!(s)),
        );
        m.insert("CreationDate".into(), ts_json(plan.creation_date));
        push_opt(&mut m, "DeletionDate", plan.deletion_date.map(ts_json));
        Ok(Value::Object(m))
    }

    /// ListBackupPlans (`includeDeleted`).
    pub fn list_backup_plans(&self, include_deleted: bool, page: &Page) -> Value {
        let items = range_after(&self.plans, &page.after)
            .filter(|(_, p)| include_deleted || p.deletion_date.is_none())
            .map(|(k, p)| {
                let mut m = Map::new();
                m.insert("BackupPlanArn".into(), json!(p.arn));
                m.insert("BackupPlanId".into(), json!(p.id));
                m.insert("CreationDate".into(), ts_json(p.creation_date));
                push_opt(&mut m, "DeletionDate", p.deletion_date.map(ts_json));
                push_opt(
                    &mut m,
                    "VersionId",
                    p.current().map(|v| json!(v.version_id)),
                );
                push_opt(&mut m, "BackupPlanName", p.current().map(|v| json!(v.name)));
                push_opt(
                    &mut m,
                    "CreatorRequestId",
                    p.creator_request_id.as_ref().map(|s| json!(s)),
                );
                (k.clone(), Value::Object(m))
            });
        let (list, next) = take_page(items, page.max);
        listing("BackupPlansList", list, next)
    }

    // ---- selections ---------------------------------------------------------------

    /// CreateBackupSelection.
    pub fn create_backup_selection(
        &mut self,
        plan_id: &str,
        body: &[u8],
        now: Timestamp,
    ) -> Result<Value, ApiError> {
        let input: CreateSelectionBody = parse_body(body)?;
        if let Some(sel) = input.creator_request_id.as_ref().and_then(|r| {
            self.plans
                .get(plan_id)?
                .selections
                .values()
                .find(|x| x.creator_request_id.as_ref() == Some(r))
        }) {
            // A retry of the same request (the SDK fills CreatorRequestId): idempotent.
            return Ok(
                json!({ "SelectionId": sel.id, "BackupPlanId": plan_id, "CreationDate": ts_json(sel.creation_date) }),
            );
        }
        let selection = input
            .backup_selection
            .ok_or_else(|| ApiError::missing_parameter("BackupSelection"))?;
        let name = selection
            .selection_name
            .clone()
            .ok_or_else(|| ApiError::missing_parameter("BackupSelection.SelectionName"))?;
        check_name("SelectionName", &name, 1, &['-', '_', '.'])?;
        if selection.iam_role_arn.as_deref().is_none_or(str::is_empty) {
            return Err(ApiError::missing_parameter("BackupSelection.IamRoleArn"));
        }
        if let Some(bad) = selection
            .list_of_tags
            .iter()
            .find(|c| c.condition_type != "STRINGEQUALS")
        {
            return Err(ApiError::invalid_parameter(format!(
                "ListOfTags ConditionType {:?} is invalid: only STRINGEQUALS is supported",
                bad.condition_type
            )));
        }
        match self.plans.get(plan_id) {
            Some(p) if p.deletion_date.is_none() => {}
            _ => {
                return Err(ApiError::invalid_parameter(format!(
                    "Backup plan {plan_id} does not exist"
                )));
            }
        }
        let id = self.next_id(2);
        let plan = self.plans.get_mut(plan_id).ok_or_else(|| {
            ApiError::invalid_parameter(format!("Backup plan {plan_id} does not exist"))
        })?;
        plan.selections.insert(
            id.clone(),
            Selection {
                id: id.clone(),
                creation_date: now,
                creator_request_id: input.creator_request_id,
                selection,
            },
        );
        Ok(json!({ "SelectionId": id, "BackupPlanId": plan_id, "CreationDate": ts_json(now) }))
    }

    fn selection(&self, plan_id: &str, selection_id: &str) -> Result<&Selection, ApiError> {
        self.plan(plan_id)?
            .selections
            .get(selection_id)
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "Backup selection {selection_id} of plan {plan_id} does not exist"
                ))
            })
    }

    /// GetBackupSelection.
    pub fn get_backup_selection(
        &self,
        plan_id: &str,
        selection_id: &str,
    ) -> Result<Value, ApiError> {
        let s = self.selection(plan_id, selection_id)?;
        let mut m = Map::new();
        m.insert("BackupSelection".into(), to_value(&s.selection));
        m.insert("SelectionId".into(), json!(s.id));
        m.insert("BackupPlanId".into(), json!(plan_id));
        m.insert("CreationDate".into(), ts_json(s.creation_date));
        push_opt(
            &mut m,
            "CreatorRequestId",
            s.creator_request_id.as_ref().map(|x| json!(x)),
        );
        Ok(Value::Object(m))
    }

    /// ListBackupSelections.
    pub fn list_backup_selections(&self, plan_id: &str, page: &Page) -> Result<Value, ApiError> {
        let plan = self.plan(plan_id)?;
        let items = range_after(&plan.selections, &page.after).map(|(k, s)| {
            let mut m = Map::new();
            m.insert("SelectionId".into(), json!(s.id));
            push_opt(
                &mut m,
                "SelectionName",
                s.selection.selection_name.as_ref().map(|x| json!(x)),
            );
            m.insert("BackupPlanId".into(), json!(plan_id));
            m.insert("CreationDate".into(), ts_json(s.creation_date));
            push_opt(
                &mut m,
                "CreatorRequestId",
                s.creator_request_id.as_ref().map(|x| json!(x)),
            );
            push_opt(
                &mut m,
                "IamRoleArn",
                s.selection.iam_role_arn.as_ref().map(|x| json!(x)),
            );
            (k.clone(), Value::Object(m))
        });
        let (list, next) = take_page(items, page.max);
        Ok(listing("BackupSelectionsList", list, next))
    }

    /// DeleteBackupSelection.
    pub fn delete_backup_selection(
        &mut self,
        plan_id: &str,
        selection_id: &str,
    ) -> Result<(), ApiError> {
        self.selection(plan_id, selection_id)?;
        if let Some(plan) = self.plans.get_mut(plan_id) {
            plan.selections.remove(selection_id);
        }
        Ok(())
    }

    // ---- recovery points ----------------------------------------------------------

    /// Seeds recovery points (all or none).
    pub fn add_recovery_points(
        &mut self,
        points: Vec<RecoveryPoint>,
    ) -> Result<usize, StandInError> {
        let mut batch_arns = HashSet::new();
        let mut ready = Vec::with_capacity(points.len());
        for (i, mut p) in points.into_iter().enumerate() {
            let label = p_label(&p);
            let what = || format!("recovery point #{i} ({label})");
            let vault = self
                .vaults
                .get(&p.backup_vault_name)
                .ok_or_else(|| StandInError::UnknownVault(p.backup_vault_name.clone()))?;
            let vault_arn = vault.arn.clone();
            if !p.resource_arn.starts_with("arn:") {
                return Err(StandInError::Invalid {
                    what: what(),
                    reason: format!("ResourceArn {:?} is not an ARN", p.resource_arn),
                });
            }
            match &p.backup_vault_arn {
                Some(given) if *given != vault_arn => {
                    return Err(StandInError::Invalid {
                        what: what(),
                        reason: format!(
                            "BackupVaultArn {given} is not the ARN of vault {} ({vault_arn})",
                            p.backup_vault_name
                        ),
                    });
                }
                _ => p.backup_vault_arn = Some(vault_arn),
            }
            if p.resource_type.is_none() {
                p.resource_type = Some(
                    resource_type_of(&p.resource_arn)
                        .ok_or_else(|| StandInError::Invalid {
                            what: what(),
                            reason:
                                "ResourceType is missing and cannot be told from the ResourceArn"
                                    .into(),
                        })?
                        .to_string(),
                );
            }
            if p.status.is_none() {
                p.status = Some("COMPLETED".into());
            }
            if let Some(lc) = &p.lifecycle
                && p.calculated_lifecycle.is_none()
            {
                let days = |d: Option<i64>| -> Result<Option<Timestamp>, StandInError> {
                    d.map(|d| {
                        add_days(p.creation_date, d).ok_or_else(|| StandInError::Invalid {
                            what: what(),
                            reason: format!("CreationDate + {d} days is out of range"),
                        })
                    })
                    .transpose()
                };
                let calc = CalculatedLifecycle {
                    move_to_cold_storage_at: days(lc.move_to_cold_storage_after_days)?,
                    delete_at: days(lc.delete_after_days)?,
                };
                p.calculated_lifecycle = Some(calc);
            }
            let arn = match &p.recovery_point_arn {
                Some(a) => a.clone(),
                None => {
                    let id = self.next_id(5);
                    let a = self.arn(&format!("recovery-point:{id}"));
                    p.recovery_point_arn = Some(a.clone());
                    a
                }
            };
            if self.point_arns.contains_key(&arn) || !batch_arns.insert(arn.clone()) {
                return Err(StandInError::Duplicate(format!("recovery point {arn}")));
            }
            ready.push((newest_first_key(p.creation_date, &arn), p));
        }
        let n = ready.len();
        for (key, p) in ready {
            if let Some(arn) = &p.recovery_point_arn {
                self.point_arns
                    .insert(arn.clone(), (p.backup_vault_name.clone(), key.clone()));
            }
            self.by_resource
                .entry(p.resource_arn.clone())
                .or_default()
                .insert(key.clone(), p.backup_vault_name.clone());
            self.points
                .entry(p.backup_vault_name.clone())
                .or_default()
                .insert(key, p);
        }
        Ok(n)
    }

    /// ListRecoveryPointsByBackupVault.
    pub fn list_recovery_points_by_backup_vault(
        &self,
        vault: &str,
        filter: &PointFilter,
        page: &Page,
    ) -> Result<Value, ApiError> {
        self.vault(vault)?;
        let account_ok = opt_eq(&filter.account_id, Some(&self.account_id));
        let empty = BTreeMap::new();
        let points = self.points.get(vault).unwrap_or(&empty);
        let items = range_after(points, &page.after)
            .filter(|(_, p)| {
                account_ok
                    && opt_eq(&filter.resource_arn, Some(&p.resource_arn))
                    && opt_eq(&filter.resource_type, p.resource_type.as_deref())
                    && opt_eq(
                        &filter.backup_plan_id,
                        p.created_by
                            .as_ref()
                            .and_then(|c| c.backup_plan_id.as_deref()),
                    )
                    && opt_eq(
                        &filter.parent_recovery_point_arn,
                        p.parent_recovery_point_arn.as_deref(),
                    )
                    && within(p.creation_date, filter.created_after, filter.created_before)
            })
            .map(|(k, p)| {
                let mut v = to_value(p);
                if let Some(m) = v.as_object_mut() {
                    // StorageClass belongs to DescribeRecoveryPoint only.
                    m.remove("StorageClass");
                }
                (k.clone(), v)
            });
        let (list, next) = take_page(items, page.max);
        Ok(listing("RecoveryPoints", list, next))
    }

    /// ListRecoveryPointsByResource: across vaults, newest first, without lifecycle fields.
    pub fn list_recovery_points_by_resource(&self, resource_arn: &str, page: &Page) -> Value {
        let empty = BTreeMap::new();
        let index = self.by_resource.get(resource_arn).unwrap_or(&empty);
        let matching = range_after(index, &page.after)
            .filter_map(|(k, vault)| Some((k, self.points.get(vault)?.get(k)?)));
        let items = matching.map(|(k, p)| {
            let mut m = Map::new();
            push_opt(
                &mut m,
                "RecoveryPointArn",
                p.recovery_point_arn.as_ref().map(|x| json!(x)),
            );
            m.insert("CreationDate".into(), ts_json(p.creation_date));
            push_opt(&mut m, "Status", p.status.as_ref().map(|x| json!(x)));
            push_opt(
                &mut m,
                "StatusMessage",
                p.status_message.as_ref().map(|x| json!(x)),
            );
            push_opt(
                &mut m,
                "EncryptionKeyArn",
                p.encryption_key_arn.as_ref().map(|x| json!(x)),
            );
            push_opt(
                &mut m,
                "BackupSizeBytes",
                p.backup_size_in_bytes.map(|x| json!(x)),
            );
            m.insert("BackupVaultName".into(), json!(p.backup_vault_name));
            push_opt(&mut m, "IsParent", p.is_parent.map(|x| json!(x)));
            push_opt(
                &mut m,
                "ParentRecoveryPointArn",
                p.parent_recovery_point_arn.as_ref().map(|x| json!(x)),
            );
            push_opt(
                &mut m,
                "ResourceName",
                p.resource_name.as_ref().map(|x| json!(x)),
            );
            push_opt(&mut m, "VaultType", p.vault_type.as_ref().map(|x| json!(x)));
            (k.clone(), Value::Object(m))
        });
        let (list, next) = take_page(items, page.max);
        listing("RecoveryPoints", list, next)
    }

    /// DescribeRecoveryPoint.
    pub fn describe_recovery_point(&self, vault: &str, arn: &str) -> Result<Value, ApiError> {
        self.vault(vault)?;
        self.point_arns
            .get(arn)
            .filter(|(v, _)| v == vault)
            .and_then(|(v, key)| self.points.get(v)?.get(key))
            .map(to_value)
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "Recovery point {arn} does not exist in vault {vault}"
                ))
            })
    }

    /// The sort key of point `arn` in `vault` (the vault must exist and hold the point).
    fn point_key(&self, vault: &str, arn: &str) -> Result<String, ApiError> {
        self.vault(vault)?;
        self.point_arns
            .get(arn)
            .filter(|(v, key)| {
                v == vault && self.points.get(v).is_some_and(|m| m.contains_key(key))
            })
            .map(|(_, key)| key.clone())
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "Recovery point {arn} does not exist in vault {vault}"
                ))
            })
    }

    fn point_in(&self, vault: &str, key: &str) -> Result<&RecoveryPoint, ApiError> {
        self.points
            .get(vault)
            .and_then(|m| m.get(key))
            .ok_or_else(|| {
                ApiError::not_found(format!("Recovery point does not exist in vault {vault}"))
            })
    }

    /// Removes a point from its vault and from the by-resource and by-ARN indexes.
    fn remove_point(&mut self, vault: &str, key: &str) {
        let Some(p) = self.points.get_mut(vault).and_then(|m| m.remove(key)) else {
            return;
        };
        if let Some(arn) = &p.recovery_point_arn {
            self.point_arns.remove(arn);
        }
        if let Some(index) = self.by_resource.get_mut(&p.resource_arn) {
            index.remove(key);
            if index.is_empty() {
                self.by_resource.remove(&p.resource_arn);
            }
        }
    }

    /// DeleteRecoveryPoint. A vault with a Vault Lock whose `MinRetentionDays` the point has
    /// not reached refuses (InvalidRequestException): the lock prevents deleting points
    /// before the minimum retention.
    pub fn delete_recovery_point(
        &mut self,
        vault: &str,
        arn: &str,
        now: Timestamp,
    ) -> Result<(), ApiError> {
        let key = self.point_key(vault, arn)?;
        let p = self.point_in(vault, &key)?;
        if let Some(min) = self
            .vault(vault)?
            .lock
            .as_ref()
            .and_then(|l| l.min_retention_days)
        {
            let kept_until = add_days(p.creation_date, min)
                .ok_or_else(|| ApiError::invalid_request("MinRetentionDays is out of range"))?;
            if now < kept_until {
                return Err(ApiError::invalid_request(format!(
                    "Recovery point {arn} cannot be deleted: backup vault {vault} has a Vault Lock with MinRetentionDays {min}, which keeps it until {kept_until}"
                )));
            }
        }
        self.remove_point(vault, &key);
        Ok(())
    }

    /// DisassociateRecoveryPoint: only continuous backups (ARN
    /// `…:recovery-point:continuous:…`, never DynamoDB) can be disassociated; the point
    /// leaves the vault.
    pub fn disassociate_recovery_point(&mut self, vault: &str, arn: &str) -> Result<(), ApiError> {
        let key = self.point_key(vault, arn)?;
        let p = self.point_in(vault, &key)?;
        if !is_continuous(p) {
            return Err(ApiError::invalid_request(format!(
                "Recovery point {arn} is not a continuous backup: DisassociateRecoveryPoint applies to continuous backups only (it does not support snapshot recovery points)"
            )));
        }
        self.remove_point(vault, &key);
        Ok(())
    }

    /// UpdateRecoveryPointLifecycle: the `Lifecycle` replaces the point's (members left out
    /// are cleared, as AWS warns; `-1` removes a member: kept indefinitely), and
    /// `CalculatedLifecycle` is worked out again from `CreationDate`. A locked vault's
    /// `MinRetentionDays`/`MaxRetentionDays` bound the retention.
    pub fn update_recovery_point_lifecycle(
        &mut self,
        vault: &str,
        arn: &str,
        body: &[u8],
    ) -> Result<Value, ApiError> {
        let input: UpdateLifecycleBody = parse_body(body)?;
        let key = self.point_key(vault, arn)?;
        let v = self.vault(vault)?;
        let vault_arn = v.arn.clone();
        let lock = v.lock.clone();
        let p = self.point_in(vault, &key)?;
        if is_continuous(p) {
            return Err(ApiError::invalid_request(format!(
                "Recovery point {arn} is a continuous backup: UpdateRecoveryPointLifecycle does not support continuous backups"
            )));
        }
        let given = input.lifecycle.unwrap_or_default();
        if given.delete_after_event.is_some() {
            return Err(ApiError::invalid_parameter(
                "Lifecycle.DeleteAfterEvent is not valid as an input",
            ));
        }
        let days = |name: &str, d: Option<i64>, min: i64| -> Result<Option<i64>, ApiError> {
            match d {
                None | Some(-1) => Ok(None),
                Some(d) if d >= min => Ok(Some(d)),
                Some(d) => Err(ApiError::invalid_parameter(format!(
                    "Lifecycle.{name} {d} is invalid: it must be at least {min}, or -1 to remove it"
                ))),
            }
        };
        let lc = Lifecycle {
            move_to_cold_storage_after_days: days(
                "MoveToColdStorageAfterDays",
                given.move_to_cold_storage_after_days,
                0,
            )?,
            delete_after_days: days("DeleteAfterDays", given.delete_after_days, 1)?,
            opt_in_to_archive_for_supported_resources: given
                .opt_in_to_archive_for_supported_resources,
        };
        if let (Some(cold), Some(del)) = (lc.move_to_cold_storage_after_days, lc.delete_after_days)
            && del < cold + 90
        {
            return Err(ApiError::invalid_parameter(format!(
                "Lifecycle.DeleteAfterDays {del} must be at least 90 days after MoveToColdStorageAfterDays {cold}"
            )));
        }
        let old_cold = p
            .lifecycle
            .as_ref()
            .and_then(|l| l.move_to_cold_storage_after_days);
        if p.storage_class.as_deref() == Some("COLD")
            && lc.move_to_cold_storage_after_days != old_cold
        {
            return Err(ApiError::invalid_request(format!(
                "Recovery point {arn} is in cold storage: its MoveToColdStorageAfterDays cannot be changed"
            )));
        }
        if let Some(l) = &lock {
            let shown =
                |d: Option<i64>| d.map_or("indefinite".to_string(), |d| format!("{d} days"));
            let too_short = matches!((l.min_retention_days, lc.delete_after_days), (Some(min), Some(d)) if d < min);
            let too_long = l
                .max_retention_days
                .is_some_and(|max| lc.delete_after_days.is_none_or(|d| d > max));
            if too_short || too_long {
                return Err(ApiError::invalid_parameter(format!(
                    "Lifecycle retention {} is outside the Vault Lock of backup vault {vault} (MinRetentionDays {}, MaxRetentionDays {})",
                    shown(lc.delete_after_days),
                    shown(l.min_retention_days),
                    shown(l.max_retention_days),
                )));
            }
        }
        let at = |d: Option<i64>| -> Result<Option<Timestamp>, ApiError> {
            d.map(|d| {
                add_days(p.creation_date, d).ok_or_else(|| {
                    ApiError::invalid_parameter(format!("CreationDate + {d} days is out of range"))
                })
            })
            .transpose()
        };
        let calc = CalculatedLifecycle {
            move_to_cold_storage_at: at(lc.move_to_cold_storage_after_days)?,
            delete_at: at(lc.delete_after_days)?,
        };
        let empty = lc == Lifecycle::default();
        let out = json!({
            "BackupVaultArn": vault_arn,
            "RecoveryPointArn": arn,
            "Lifecycle": to_value(&lc),
            "CalculatedLifecycle": to_value(&calc),
        });
        if let Some(p) = self.points.get_mut(vault).and_then(|m| m.get_mut(&key)) {
            p.lifecycle = (!empty).then_some(lc);
            p.calculated_lifecycle = (!empty).then_some(calc);
        }
        Ok(out)
    }

    // ---- jobs ---------------------------------------------------------------------

    /// Seeds backup jobs (all or none).
    pub fn add_backup_jobs(&mut self, jobs: Vec<BackupJob>) -> Result<usize, StandInError> {
        let mut batch_ids = HashSet::new();
        let mut ready = Vec::with_capacity(jobs.len());
        for (i, mut j) in jobs.into_iter().enumerate() {
            let label = j.resource_arn.clone();
            let what = || format!("backup job #{i} ({label})");
            let vault = self
                .vaults
                .get(&j.backup_vault_name)
                .ok_or_else(|| StandInError::UnknownVault(j.backup_vault_name.clone()))?;
            let vault_arn = vault.arn.clone();
            if !j.resource_arn.starts_with("arn:") {
                return Err(StandInError::Invalid {
                    what: what(),
                    reason: format!("ResourceArn {:?} is not an ARN", j.resource_arn),
                });
            }
            if j.state.is_empty() {
                return Err(StandInError::Invalid {
                    what: what(),
                    reason: "State is empty".into(),
                });
            }
            if j.backup_vault_arn.is_none() {
                j.backup_vault_arn = Some(vault_arn);
            }
            if j.account_id.is_none() {
                j.account_id = Some(self.account_id.clone());
            }
            if j.resource_type.is_none() {
                j.resource_type = Some(
                    resource_type_of(&j.resource_arn)
                        .ok_or_else(|| StandInError::Invalid {
                            what: what(),
                            reason:
                                "ResourceType is missing and cannot be told from the ResourceArn"
                                    .into(),
                        })?
                        .to_string(),
                );
            }
            let id = match &j.backup_job_id {
                Some(id) => id.clone(),
                None => {
                    let id = self.next_id(6).to_uppercase();
                    j.backup_job_id = Some(id.clone());
                    id
                }
            };
            if self.job_ids.contains_key(&id) || !batch_ids.insert(id.clone()) {
                return Err(StandInError::Duplicate(format!("backup job {id}")));
            }
            ready.push((newest_first_key(j.creation_date, &id), id, j));
        }
        let n = ready.len();
        for (key, id, j) in ready {
            self.job_ids.insert(id, key.clone());
            self.jobs.insert(key, j);
        }
        Ok(n)
    }

    /// ListBackupJobs. (AWS lists only the last 30 days; the stand-in lists all seeded
    /// jobs, since scenarios fix their own "now".)
    pub fn list_backup_jobs(&self, f: &JobFilter, page: &Page) -> Value {
        let items = range_after(&self.jobs, &page.after)
            .filter(|(_, j)| {
                opt_eq(&f.resource_arn, Some(&j.resource_arn))
                    && opt_eq(&f.state, Some(&j.state))
                    && opt_eq(&f.backup_vault_name, Some(&j.backup_vault_name))
                    && opt_eq(&f.resource_type, j.resource_type.as_deref())
                    && opt_eq(&f.account_id, j.account_id.as_deref())
                    && opt_eq(&f.parent_job_id, j.parent_job_id.as_deref())
                    && opt_eq(&f.message_category, j.message_category.as_deref())
                    && within(j.creation_date, f.created_after, f.created_before)
                    && (f.complete_after.is_none() && f.complete_before.is_none()
                        || j.completion_date
                            .is_some_and(|c| within(c, f.complete_after, f.complete_before)))
            })
            .map(|(k, j)| (k.clone(), to_value(j)));
        let (list, next) = take_page(items, page.max);
        listing("BackupJobs", list, next)
    }

    fn job_key(&self, id: &str) -> Result<String, ApiError> {
        self.job_ids
            .get(id)
            .filter(|k| self.jobs.contains_key(*k))
            .cloned()
            .ok_or_else(|| ApiError::not_found(format!("Backup job {id} does not exist")))
    }

    /// DescribeBackupJob: the job as ListBackupJobs lists it (its members are all
    /// DescribeBackupJob's; the stand-in has no child jobs).
    pub fn describe_backup_job(&self, id: &str) -> Result<Value, ApiError> {
        let key = self.job_key(id)?;
        self.jobs
            .get(&key)
            .map(to_value)
            .ok_or_else(|| ApiError::not_found(format!("Backup job {id} does not exist")))
    }

    /// StopBackupJob: a job not yet ended (`CREATED`, `PENDING`, `RUNNING`) becomes
    /// `ABORTED` (AWS passes through `ABORTING`; the stand-in has no background work). An
    /// ended job, or a resource type AWS cannot stop jobs of, is an InvalidRequestException.
    pub fn stop_backup_job(&mut self, id: &str) -> Result<(), ApiError> {
        let key = self.job_key(id)?;
        let job = self
            .jobs
            .get_mut(&key)
            .ok_or_else(|| ApiError::not_found(format!("Backup job {id} does not exist")))?;
        if let Some(t) = job
            .resource_type
            .as_deref()
            .filter(|t| UNSTOPPABLE_RESOURCE_TYPES.contains(t))
        {
            return Err(ApiError::invalid_request(format!(
                "StopBackupJob is not supported for resource type {t} (backup job {id})"
            )));
        }
        if !STOPPABLE_JOB_STATES.contains(&job.state.as_str()) {
            return Err(ApiError::invalid_request(format!(
                "Backup job {id} is {} and cannot be stopped (only {} jobs can)",
                job.state,
                STOPPABLE_JOB_STATES.join(", ")
            )));
        }
        job.state = "ABORTED".into();
        Ok(())
    }
}

fn p_label(p: &RecoveryPoint) -> String {
    p.recovery_point_arn
        .clone()
        .unwrap_or_else(|| p.resource_arn.clone())
}

fn check_lifecycle(rule: &str, lc: &Lifecycle) -> Result<(), ApiError> {
    if let Some(d) = lc.delete_after_days
        && d < 1
    {
        return Err(ApiError::invalid_parameter(format!(
            "rule {rule}: DeleteAfterDays {d} is invalid: it must be at least 1"
        )));
    }
    if let (Some(cold), Some(del)) = (lc.move_to_cold_storage_after_days, lc.delete_after_days)
        && del < cold + 90
    {
        return Err(ApiError::invalid_parameter(format!(
            "rule {rule}: DeleteAfterDays {del} must be at least 90 days after MoveToColdStorageAfterDays {cold}"
        )));
    }
    Ok(())
}

fn plan_ref_json(plan: &Plan, _now: Timestamp) -> Value {
    let mut m = Map::new();
    m.insert("BackupPlanId".into(), json!(plan.id));
    m.insert("BackupPlanArn".into(), json!(plan.arn));
    m.insert("CreationDate".into(), ts_json(plan.creation_date));
    push_opt(
        &mut m,
        "VersionId",
        plan.current().map(|v| json!(v.version_id)),
    );
    if let Some(adv) = plan
        .current()
        .and_then(|v| v.advanced_backup_settings.clone())
    {
        m.insert("AdvancedBackupSettings".into(), adv);
    }
    Value::Object(m)
}

pub(super) fn listing(member: &str, list: Vec<Value>, next: Option<String>) -> Value {
    let mut m = Map::new();
    m.insert(member.to_string(), Value::Array(list));
    push_opt(&mut m, "NextToken", next.map(Value::String));
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_garbage() {
        let key = "0000123|arn:aws:dynamodb:us-east-1:1:table/a";
        assert_eq!(decode_token(&encode_token(key)).as_deref(), Some(key));
        assert!(decode_token("garbage").is_none());
        assert!(decode_token("sit1zz").is_none());
        assert!(Page::parse(Some("nope"), None).is_err());
    }

    #[test]
    fn max_results_must_be_1_to_1000() {
        assert_eq!(Page::parse(None, Some("1000")).unwrap().max, 1000);
        assert_eq!(Page::parse(None, None).unwrap().max, DEFAULT_PAGE_SIZE);
        for bad in ["0", "1001", "-3", "ten"] {
            let e = Page::parse(None, Some(bad)).unwrap_err();
            assert_eq!(e.code, "InvalidParameterValueException", "{bad}");
        }
    }

    #[test]
    fn newest_first_keys_sort_newest_first() {
        let old = Timestamp::from_second(1_000).unwrap();
        let new = Timestamp::from_second(2_000).unwrap();
        assert!(newest_first_key(new, "a") < newest_first_key(old, "a"));
    }

    #[test]
    fn take_page_reports_a_next_token_only_when_more_remain() {
        let items = |n: usize| (0..n).map(|i| (format!("{i:03}"), i));
        let (page, next) = take_page(items(3), 3);
        assert_eq!(page, vec![0, 1, 2]);
        assert!(next.is_none());
        let (page, next) = take_page(items(4), 3);
        assert_eq!(page, vec![0, 1, 2]);
        assert_eq!(decode_token(&next.unwrap()).as_deref(), Some("002"));
    }
    const VAULT: &str = "main";
    const TABLE: &str = "arn:aws:dynamodb:us-east-1:123456789012:table/orders";

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn store_with_point(created: &str) -> (Store, String) {
        let mut s = Store::new("us-east-1", "123456789012");
        s.create_backup_vault(VAULT, b"{}", at(created)).unwrap();
        s.add_recovery_points(vec![RecoveryPoint {
            backup_vault_name: VAULT.into(),
            resource_arn: TABLE.into(),
            creation_date: at(created),
            lifecycle: Some(Lifecycle {
                delete_after_days: Some(35),
                ..Default::default()
            }),
            ..Default::default()
        }])
        .unwrap();
        let listed = s
            .list_recovery_points_by_backup_vault(
                VAULT,
                &PointFilter::default(),
                &Page::parse(None, None).unwrap(),
            )
            .unwrap();
        let arn = listed["RecoveryPoints"][0]["RecoveryPointArn"]
            .as_str()
            .unwrap()
            .to_string();
        (s, arn)
    }

    fn lock(s: &mut Store, body: &str, now: &str) {
        s.put_backup_vault_lock_configuration(VAULT, body.as_bytes(), at(now))
            .unwrap();
    }

    #[test]
    fn a_deleted_point_is_gone_from_describe_and_both_listings() {
        let (mut s, arn) = store_with_point("2026-11-01T00:00:00Z");
        let page = Page::parse(None, None).unwrap();
        s.delete_recovery_point(VAULT, &arn, at("2026-11-02T00:00:00Z"))
            .unwrap();
        let e = s.describe_recovery_point(VAULT, &arn).unwrap_err();
        assert_eq!(e.code, "ResourceNotFoundException");
        let by_vault = s
            .list_recovery_points_by_backup_vault(VAULT, &PointFilter::default(), &page)
            .unwrap();
        assert_eq!(by_vault["RecoveryPoints"], json!([]));
        let by_resource = s.list_recovery_points_by_resource(TABLE, &page);
        assert_eq!(by_resource["RecoveryPoints"], json!([]));
        assert_eq!(
            s.describe_backup_vault(VAULT).unwrap()["NumberOfRecoveryPoints"],
            0
        );
        // Deleting again, or in an unknown vault: not found.
        let now = at("2026-11-02T00:00:00Z");
        for (vault, code) in [
            (VAULT, "ResourceNotFoundException"),
            ("nope", "ResourceNotFoundException"),
        ] {
            assert_eq!(
                s.delete_recovery_point(vault, &arn, now).unwrap_err().code,
                code
            );
        }
    }

    #[test]
    fn a_vault_lock_keeps_points_younger_than_its_minimum_retention() {
        let (mut s, arn) = store_with_point("2026-11-01T00:00:00Z");
        lock(&mut s, r#"{"MinRetentionDays": 7}"#, "2026-11-01T00:00:00Z");
        let e = s
            .delete_recovery_point(VAULT, &arn, at("2026-11-07T23:59:59Z"))
            .unwrap_err();
        assert_eq!(e.code, "InvalidRequestException", "{e:?}");
        s.describe_recovery_point(VAULT, &arn).unwrap();
        s.delete_recovery_point(VAULT, &arn, at("2026-11-08T00:00:00Z"))
            .unwrap();
    }

    #[test]
    fn a_lifecycle_update_recomputes_the_calculated_lifecycle() {
        let (mut s, arn) = store_with_point("2026-11-01T00:00:00Z");
        let out = s
            .update_recovery_point_lifecycle(
                VAULT,
                &arn,
                br#"{"Lifecycle": {"DeleteAfterDays": 200, "MoveToColdStorageAfterDays": 10}}"#,
            )
            .unwrap();
        let delete_at = at("2027-05-20T00:00:00Z").as_second();
        let cold_at = at("2026-11-11T00:00:00Z").as_second();
        assert_eq!(out["RecoveryPointArn"], json!(arn));
        assert_eq!(
            out["BackupVaultArn"],
            json!("arn:aws:backup:us-east-1:123456789012:backup-vault:main")
        );
        assert_eq!(
            out["Lifecycle"],
            json!({"DeleteAfterDays": 200, "MoveToColdStorageAfterDays": 10})
        );
        assert_eq!(
            out["CalculatedLifecycle"],
            json!({"DeleteAt": delete_at, "MoveToColdStorageAt": cold_at})
        );
        let d = s.describe_recovery_point(VAULT, &arn).unwrap();
        assert_eq!(d["Lifecycle"], out["Lifecycle"]);
        assert_eq!(d["CalculatedLifecycle"], out["CalculatedLifecycle"]);
        // -1 removes both: kept indefinitely, no calculated instants.
        s.update_recovery_point_lifecycle(
            VAULT,
            &arn,
            br#"{"Lifecycle": {"DeleteAfterDays": -1, "MoveToColdStorageAfterDays": -1}}"#,
        )
        .unwrap();
        let d = s.describe_recovery_point(VAULT, &arn).unwrap();
        assert!(
            d.get("Lifecycle").is_none() && d.get("CalculatedLifecycle").is_none(),
            "{d}"
        );
        // Cold storage needs 90 more days; DeleteAfterEvent is output only.
        for bad in [
            r#"{"Lifecycle": {"DeleteAfterDays": 50, "MoveToColdStorageAfterDays": 10}}"#,
            r#"{"Lifecycle": {"DeleteAfterDays": 0}}"#,
            r#"{"Lifecycle": {"DeleteAfterEvent": "DELETE_AFTER_COPY"}}"#,
        ] {
            let e = s
                .update_recovery_point_lifecycle(VAULT, &arn, bad.as_bytes())
                .unwrap_err();
            assert_eq!(e.code, "InvalidParameterValueException", "{bad}");
        }
    }

    #[test]
    fn a_lifecycle_outside_the_vault_lock_bounds_is_refused() {
        let (mut s, arn) = store_with_point("2026-11-01T00:00:00Z");
        lock(
            &mut s,
            r#"{"MinRetentionDays": 30, "MaxRetentionDays": 365}"#,
            "2026-11-01T00:00:00Z",
        );
        for bad in [
            r#"{"Lifecycle": {"DeleteAfterDays": 29}}"#,
            r#"{"Lifecycle": {"DeleteAfterDays": 366}}"#,
            r#"{"Lifecycle": {}}"#,
        ] {
            let e = s
                .update_recovery_point_lifecycle(VAULT, &arn, bad.as_bytes())
                .unwrap_err();
            assert_eq!(e.code, "InvalidParameterValueException", "{bad}");
        }
        s.update_recovery_point_lifecycle(
            VAULT,
            &arn,
            br#"{"Lifecycle": {"DeleteAfterDays": 30}}"#,
        )
        .unwrap();
        let e = s
            .update_recovery_point_lifecycle(
                VAULT,
                "arn:aws:backup:us-east-1:123456789012:recovery-point:nope",
                b"{}",
            )
            .unwrap_err();
        assert_eq!(e.code, "ResourceNotFoundException");
    }

    #[test]
    fn only_continuous_points_can_be_disassociated() {
        let (mut s, arn) = store_with_point("2026-11-01T00:00:00Z");
        let e = s.disassociate_recovery_point(VAULT, &arn).unwrap_err();
        assert_eq!(e.code, "InvalidRequestException");
        assert!(
            e.message.contains("continuous backups only"),
            "{}",
            e.message
        );
        let continuous =
            "arn:aws:backup:us-east-1:123456789012:recovery-point:continuous:db-orders-1a2b3c";
        s.add_recovery_points(vec![RecoveryPoint {
            recovery_point_arn: Some(continuous.into()),
            backup_vault_name: VAULT.into(),
            resource_arn: "arn:aws:rds:us-east-1:123456789012:db:orders".into(),
            creation_date: at("2026-11-01T00:00:00Z"),
            ..Default::default()
        }])
        .unwrap();
        let e = s
            .update_recovery_point_lifecycle(
                VAULT,
                continuous,
                br#"{"Lifecycle": {"DeleteAfterDays": 35}}"#,
            )
            .unwrap_err();
        assert_eq!(e.code, "InvalidRequestException");
        s.disassociate_recovery_point(VAULT, continuous).unwrap();
        let e = s.describe_recovery_point(VAULT, continuous).unwrap_err();
        assert_eq!(e.code, "ResourceNotFoundException");
    }

    #[test]
    fn a_vault_is_deleted_only_when_empty_with_its_policy_and_lock() {
        let (mut s, arn) = store_with_point("2026-11-01T00:00:00Z");
        s.put_backup_vault_access_policy(VAULT, br#"{"Policy": "{\"Statement\": []}"}"#)
            .unwrap();
        lock(
            &mut s,
            r#"{"MaxRetentionDays": 365}"#,
            "2026-11-01T00:00:00Z",
        );
        let e = s.delete_backup_vault(VAULT).unwrap_err();
        assert_eq!(e.code, "InvalidRequestException", "{e:?}");
        s.delete_recovery_point(VAULT, &arn, at("2026-11-02T00:00:00Z"))
            .unwrap();
        s.delete_backup_vault(VAULT).unwrap();
        assert_eq!(
            s.describe_backup_vault(VAULT).unwrap_err().code,
            "ResourceNotFoundException"
        );
        assert_eq!(
            s.delete_backup_vault(VAULT).unwrap_err().code,
            "ResourceNotFoundException"
        );
        // A vault of the same name starts without the old policy and lock.
        s.create_backup_vault(VAULT, b"{}", at("2026-11-03T00:00:00Z"))
            .unwrap();
        assert_eq!(s.describe_backup_vault(VAULT).unwrap()["Locked"], false);
        assert!(s.get_backup_vault_access_policy(VAULT).is_err());
    }

    #[test]
    fn a_vault_lock_can_be_deleted_until_its_lock_date() {
        let (mut s, _) = store_with_point("2026-11-01T00:00:00Z");
        let body = r#"{"MinRetentionDays": 7, "ChangeableForDays": 3}"#;
        lock(&mut s, body, "2026-11-01T00:00:00Z");
        s.delete_backup_vault_lock_configuration(VAULT, at("2026-11-03T23:59:59Z"))
            .unwrap();
        assert_eq!(s.describe_backup_vault(VAULT).unwrap()["Locked"], false);
        lock(&mut s, body, "2026-11-01T00:00:00Z");
        let e = s
            .delete_backup_vault_lock_configuration(VAULT, at("2026-11-04T00:00:00Z"))
            .unwrap_err();
        assert_eq!(e.code, "InvalidRequestException");
        assert_eq!(s.describe_backup_vault(VAULT).unwrap()["Locked"], true);
        let e = s
            .delete_backup_vault_lock_configuration("nope", at("2026-11-04T00:00:00Z"))
            .unwrap_err();
        assert_eq!(e.code, "ResourceNotFoundException");
    }

    #[test]
    fn stop_backup_job_aborts_a_running_job_only() {
        let (mut s, _) = store_with_point("2026-11-01T00:00:00Z");
        let job = |id: &str, state: &str| BackupJob {
            backup_job_id: Some(id.into()),
            backup_vault_name: VAULT.into(),
            resource_arn: TABLE.into(),
            creation_date: at("2026-11-01T00:00:00Z"),
            state: state.into(),
            ..Default::default()
        };
        s.add_backup_jobs(vec![job("running", "RUNNING"), job("done", "COMPLETED")])
            .unwrap();
        assert_eq!(
            s.describe_backup_job("running").unwrap()["State"],
            "RUNNING"
        );
        s.stop_backup_job("running").unwrap();
        let d = s.describe_backup_job("running").unwrap();
        assert_eq!(d["State"], "ABORTED");
        assert_eq!(d["BackupJobId"], "running");
        assert_eq!(
            d["BackupVaultArn"],
            "arn:aws:backup:us-east-1:123456789012:backup-vault:main"
        );
        for id in ["running", "done"] {
            assert_eq!(
                s.stop_backup_job(id).unwrap_err().code,
                "InvalidRequestException",
                "{id}"
            );
        }
        assert_eq!(
            s.stop_backup_job("nope").unwrap_err().code,
            "ResourceNotFoundException"
        );
        assert_eq!(
            s.describe_backup_job("nope").unwrap_err().code,
            "ResourceNotFoundException"
        );
    }
}
