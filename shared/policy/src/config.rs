//! The policy configuration: what "compliant" means, with the policy document's defaults.
//!
//! Every field can be overridden through environment variables (see [`Policy::from_vars`]).
//! The schedule is validated when the policy is built, so [`Policy::schedule`] is infallible.
//!
//! | variable | default | accepted |
//! |---|---|---|
//! | `BG_SCHEDULE` | `cron(0 0 15,25 * ? *)` | an AWS cron expression, `cron(...)` or bare |
//! | `BG_TIMEZONE` | `UTC` | an IANA time zone name |
//! | `BG_START_WINDOW_MINUTES` | `60` | integer 60 ..= 52560000 |
//! | `BG_COMPLETION_WINDOW_MINUTES` | `180` | integer 60 ..= 52560000 |
//! | `BG_RETENTION_DAYS` | `90` | integer 1 ..= 36500 |
//! | `BG_VAULT_NAME` | (any vault) | a vault name `[A-Za-z0-9_-]{2,50}`, or empty for any |
//! | `BG_SELECTION_MODE` | `all-tables` | `all-tables` or `tagged` |
//! | `BG_BACKUP_TAG` | `backup-policy=twice-monthly-90d` | `key=value` |
//! | `BG_REQUIRED_TAGS` | `owner` | comma-separated `key` or `key=v1\|v2`; empty for none |
//! | `BG_EXEMPT_TAG` | `backup-policy=exempt` | `key=value` |
//! | `BG_EXEMPT_REASON_TAG` | `exempt-reason` | a tag key |
//! | `BG_MODE` | `enforce` | `enforce` or `report-only` |
//! | `BG_VAULT_LOCK_REQUIRED` | `false` | `true` or `false` |
//! | `BG_EXPECTED_KMS_KEY_ARN` | (any key) | a KMS key ARN, or empty for any key |

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use jiff::SignedDuration;
use serde::{Deserialize, Serialize};

use crate::schedule::{Schedule, ScheduleError};

/// Default schedule expression (the policy document's).
pub const DEFAULT_SCHEDULE: &str = "cron(0 0 15,25 * ? *)";
/// Default schedule time zone.
pub const DEFAULT_TIMEZONE: &str = "UTC";
/// Default start window in minutes.
pub const DEFAULT_START_WINDOW_MINUTES: i64 = 60;
/// Default completion window in minutes.
pub const DEFAULT_COMPLETION_WINDOW_MINUTES: i64 = 180;
/// Default retention in days.
pub const DEFAULT_RETENTION_DAYS: i64 = 90;
/// Default backup tag key.
pub const DEFAULT_BACKUP_TAG_KEY: &str = "backup-policy";
/// Default backup tag value.
pub const DEFAULT_BACKUP_TAG_VALUE: &str = "twice-monthly-90d";
/// Default exemption tag value (under the backup tag key).
pub const DEFAULT_EXEMPT_TAG_VALUE: &str = "exempt";
/// Default exemption-reason tag key.
pub const DEFAULT_EXEMPT_REASON_TAG: &str = "exempt-reason";
/// Default required tag key.
pub const DEFAULT_REQUIRED_TAG: &str = "owner";

/// AWS's maximum for start/completion windows (100 years in minutes).
pub const MAX_WINDOW_MINUTES: i64 = 52_560_000;
/// AWS's minimum start window in minutes.
pub const MIN_WINDOW_MINUTES: i64 = 60;
/// AWS's maximum lifecycle in days (100 years).
pub const MAX_RETENTION_DAYS: i64 = 36_500;

/// An inclusive integer range a setting must lie in, with its unit for messages. The one
/// definition of each bound: the `BG_*` variables, the CLI's numeric flags and the plan-document
/// parser all check against these constants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntBounds {
    /// Smallest accepted value.
    pub min: i64,
    /// Largest accepted value.
    pub max: i64,
    /// Unit, plural (`minutes`, `days`).
    pub unit: &'static str,
}

/// Why a value is outside an [`IntBounds`]; displays as `<problem>; accepted: <range>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{problem}; accepted: {accepted}")]
pub struct BoundsError {
    /// `not an integer` or `out of range`.
    pub problem: &'static str,
    /// What is accepted, e.g. `an integer number of minutes from 60 to 52560000`.
    pub accepted: String,
}

impl IntBounds {
    /// Bounds `min ..= max` in `unit`.
    pub const fn new(min: i64, max: i64, unit: &'static str) -> Self {
        IntBounds { min, max, unit }
    }

    /// True if `v` is inside.
    pub const fn contains(&self, v: i64) -> bool {
        self.min <= v && v <= self.max
    }

    /// What is accepted, for messages.
    pub fn accepted(&self) -> String {
        format!(
            "an integer number of {} from {} to {}",
            self.unit, self.min, self.max
        )
    }

    /// `v` if it is inside, else the error saying what is accepted.
    pub fn check(&self, v: i64) -> Result<i64, BoundsError> {
        if self.contains(v) {
            Ok(v)
        } else {
            Err(BoundsError {
                problem: "out of range",
                accepted: self.accepted(),
            })
        }
    }

    /// Parses `text` (surrounding whitespace ignored) and checks it.
    pub fn parse(&self, text: &str) -> Result<i64, BoundsError> {
        let n: i64 = text.trim().parse().map_err(|_| BoundsError {
            problem: "not an integer",
            accepted: self.accepted(),
        })?;
        self.check(n)
    }
}

/// AWS Backup's bounds of `StartWindowMinutes` / `CompletionWindowMinutes` (and so of
/// `BG_START_WINDOW_MINUTES` / `BG_COMPLETION_WINDOW_MINUTES`): 60 minutes to 100 years.
pub const WINDOW_MINUTES: IntBounds =
    IntBounds::new(MIN_WINDOW_MINUTES, MAX_WINDOW_MINUTES, "minutes");
/// AWS Backup's bounds of `DeleteAfterDays` (and of `BG_RETENTION_DAYS`): 1 day to 100 years.
pub const RETENTION_DAYS: IntBounds = IntBounds::new(1, MAX_RETENTION_DAYS, "days");

/// Environment variable names read by [`Policy::from_vars`].
pub mod vars {
    /// Schedule expression.
    pub const SCHEDULE: &str = "BG_SCHEDULE";
    /// Schedule time zone.
    pub const TIMEZONE: &str = "BG_TIMEZONE";
    /// Start window minutes.
    pub const START_WINDOW_MINUTES: &str = "BG_START_WINDOW_MINUTES";
    /// Completion window minutes.
    pub const COMPLETION_WINDOW_MINUTES: &str = "BG_COMPLETION_WINDOW_MINUTES";
    /// Retention days.
    pub const RETENTION_DAYS: &str = "BG_RETENTION_DAYS";
    /// Vault name.
    pub const VAULT_NAME: &str = "BG_VAULT_NAME";
    /// Selection mode.
    pub const SELECTION_MODE: &str = "BG_SELECTION_MODE";
    /// Backup tag `key=value`.
    pub const BACKUP_TAG: &str = "BG_BACKUP_TAG";
    /// Required tags.
    pub const REQUIRED_TAGS: &str = "BG_REQUIRED_TAGS";
    /// Exemption tag `key=value`.
    pub const EXEMPT_TAG: &str = "BG_EXEMPT_TAG";
    /// Exemption reason tag key.
    pub const EXEMPT_REASON_TAG: &str = "BG_EXEMPT_REASON_TAG";
    /// `enforce` (remediate and alert) or `report-only`.
    pub const MODE: &str = "BG_MODE";
    /// `true`: every vault holding a table's points must have a Vault Lock.
    pub const VAULT_LOCK_REQUIRED: &str = "BG_VAULT_LOCK_REQUIRED";
    /// The KMS key ARN every recovery point must be encrypted with (empty: any key).
    pub const EXPECTED_KMS_KEY_ARN: &str = "BG_EXPECTED_KMS_KEY_ARN";
    /// All of the above.
    pub const ALL: [&str; 14] = [
        SCHEDULE,
        TIMEZONE,
        START_WINDOW_MINUTES,
        COMPLETION_WINDOW_MINUTES,
        RETENTION_DAYS,
        VAULT_NAME,
        SELECTION_MODE,
        BACKUP_TAG,
        REQUIRED_TAGS,
        EXEMPT_TAG,
        EXEMPT_REASON_TAG,
        MODE,
        VAULT_LOCK_REQUIRED,
        EXPECTED_KMS_KEY_ARN,
    ];
}

/// A configuration error: names the variable (or field), the offending value and what is
/// accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// One variable has a bad value.
    #[error("{var}={value:?} is invalid: {problem}; accepted: {accepted}")]
    Invalid {
        /// Variable (or field) name, e.g. `BG_RETENTION_DAYS`.
        var: String,
        /// The value given.
        value: String,
        /// What is wrong with it.
        problem: String,
        /// What would be accepted.
        accepted: String,
    },
    /// Two settings contradict each other.
    #[error("inconsistent policy: {0}")]
    Conflict(String),
}

impl ConfigError {
    fn invalid(var: &str, value: &str, problem: impl Into<String>, accepted: &str) -> Self {
        ConfigError::Invalid {
            var: var.to_string(),
            value: value.to_string(),
            problem: problem.into(),
            accepted: accepted.to_string(),
        }
    }
}

/// How a conforming selection is expected to pick tables.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SelectionMode {
    /// Every table of the account/region (ARN wildcard) minus exempt-tagged tables:
    /// tables are covered from birth.
    #[default]
    AllTables,
    /// Tables carrying the backup tag.
    Tagged,
}

impl SelectionMode {
    /// The configuration word (`all-tables` / `tagged`).
    pub fn as_str(self) -> &'static str {
        match self {
            SelectionMode::AllTables => "all-tables",
            SelectionMode::Tagged => "tagged",
        }
    }
}

/// Whether the product acts or only reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Remediate (tag) and alert.
    #[default]
    Enforce,
    /// Alert only; never change anything.
    ReportOnly,
}

impl Mode {
    /// The configuration word (`enforce` / `report-only`).
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::ReportOnly => "report-only",
        }
    }
}

/// A tag key with one value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TagPair {
    /// Tag key.
    pub key: String,
    /// Tag value.
    pub value: String,
}

impl TagPair {
    /// Builds a pair.
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        TagPair {
            key: key.into(),
            value: value.into(),
        }
    }
}

impl fmt::Display for TagPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.key, self.value)
    }
}

/// A tag every (non-exempt) table must carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequiredTag {
    /// Tag key.
    pub key: String,
    /// Allowed values; empty means any non-blank value.
    #[serde(default)]
    pub allowed_values: Vec<String>,
}

impl RequiredTag {
    /// A required key with any non-blank value.
    pub fn any(key: impl Into<String>) -> Self {
        RequiredTag {
            key: key.into(),
            allowed_values: Vec::new(),
        }
    }
}

/// The serialised form of a [`Policy`] (also what `serde` reads back).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyDoc {
    /// Schedule expression.
    pub schedule_expression: String,
    /// IANA time zone of the schedule.
    pub timezone: String,
    /// Start window, minutes.
    pub start_window_minutes: i64,
    /// Completion window, minutes.
    pub completion_window_minutes: i64,
    /// Retention, days.
    pub retention_days: i64,
    /// Whether a cold-storage transition is allowed.
    pub cold_storage_allowed: bool,
    /// Required vault, if any.
    pub vault_name: Option<String>,
    /// Selection mode.
    pub selection_mode: SelectionMode,
    /// Backup tag.
    pub backup_tag: TagPair,
    /// Required tags.
    pub required_tags: Vec<RequiredTag>,
    /// Exemption tag.
    pub exempt_tag: TagPair,
    /// Exemption reason tag key.
    pub exempt_reason_tag: String,
    /// `enforce`: the guard adds the backup tag where that fixes coverage, then alerts;
    /// `report-only`: it only says what it would do.
    pub mode: Mode,
    /// Whether every vault holding a table's points must have a Vault Lock (older documents
    /// without the field: no).
    #[serde(default)]
    pub vault_lock_required: bool,
    /// The KMS key every recovery point must be encrypted with; `None` = any key.
    #[serde(default)]
    pub expected_kms_key_arn: Option<String>,
}

/// The backup policy. Build with [`Policy::default`] (the policy document), [`Policy::from_env`]
/// or [`Policy::from_vars`]; change the schedule only through [`Policy::set_schedule`] so it
/// stays validated.
#[derive(Clone)]
pub struct Policy {
    schedule: Arc<Schedule>,
    schedule_expression: String,
    timezone: String,
    /// Start window in minutes: a backup must start within this long after the scheduled time.
    pub start_window_minutes: i64,
    /// Completion window in minutes, counted after the start window.
    pub completion_window_minutes: i64,
    /// Exact retention in days (`DeleteAfterDays`).
    pub retention_days: i64,
    /// Whether `MoveToColdStorageAfterDays` may be set (the policy document: no).
    pub cold_storage_allowed: bool,
    /// The vault conforming rules must target; `None` = any vault.
    pub vault_name: Option<String>,
    /// How the conforming selection picks tables.
    pub selection_mode: SelectionMode,
    /// The tag a `tagged` selection matches (and the remediation tag).
    pub backup_tag: TagPair,
    /// Tags every non-exempt table must carry.
    pub required_tags: Vec<RequiredTag>,
    /// The exemption tag.
    pub exempt_tag: TagPair,
    /// The tag key holding the exemption reason (must be non-blank for an exemption).
    pub exempt_reason_tag: String,
    /// Enforce or report only.
    pub mode: Mode,
    /// Whether every vault holding a table's points must have a Vault Lock
    /// (`BG_VAULT_LOCK_REQUIRED`; the template sets it when it enables the lock).
    pub vault_lock_required: bool,
    /// The KMS key ARN every recovery point must be encrypted with
    /// (`BG_EXPECTED_KMS_KEY_ARN`); `None` = any key.
    pub expected_kms_key_arn: Option<String>,
    /// Restore testing: the plan whose restores are validated and judged, and the readiness
    /// thresholds (`BG_RESTORE_*`, see [`crate::restore`]).
    pub restore_testing: crate::restore::RestoreTestingOptions,
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Policy")
            .field("schedule_expression", &self.schedule_expression)
            .field("timezone", &self.timezone)
            .field("start_window_minutes", &self.start_window_minutes)
            .field("completion_window_minutes", &self.completion_window_minutes)
            .field("retention_days", &self.retention_days)
            .field("cold_storage_allowed", &self.cold_storage_allowed)
            .field("vault_name", &self.vault_name)
            .field("selection_mode", &self.selection_mode)
            .field("backup_tag", &self.backup_tag)
            .field("required_tags", &self.required_tags)
            .field("exempt_tag", &self.exempt_tag)
            .field("exempt_reason_tag", &self.exempt_reason_tag)
            .field("mode", &self.mode)
            .field("vault_lock_required", &self.vault_lock_required)
            .field("expected_kms_key_arn", &self.expected_kms_key_arn)
            .field("restore_testing", &self.restore_testing)
            .finish()
    }
}

impl PartialEq for Policy {
    fn eq(&self, other: &Self) -> bool {
        self.to_doc() == other.to_doc() && self.restore_testing == other.restore_testing
    }
}

impl Default for Policy {
    /// The policy document: `cron(0 0 15,25 * ? *)` UTC, windows 60/180 minutes, exactly 90
    /// days, no cold storage, any vault, all tables, backup tag
    /// `backup-policy=twice-monthly-90d`, required tag `owner`, exemption
    /// `backup-policy=exempt` + `exempt-reason`, enforce.
    fn default() -> Self {
        let schedule = match Schedule::new(DEFAULT_SCHEDULE, DEFAULT_TIMEZONE) {
            Ok(s) => s,
            // The default expression is a constant tested in this module's tests.
            Err(e) => unreachable!("default schedule {DEFAULT_SCHEDULE} is invalid: {e}"),
        };
        Policy {
            schedule: Arc::new(schedule),
            schedule_expression: DEFAULT_SCHEDULE.to_string(),
            timezone: DEFAULT_TIMEZONE.to_string(),
            start_window_minutes: DEFAULT_START_WINDOW_MINUTES,
            completion_window_minutes: DEFAULT_COMPLETION_WINDOW_MINUTES,
            retention_days: DEFAULT_RETENTION_DAYS,
            cold_storage_allowed: false,
            vault_name: None,
            selection_mode: SelectionMode::AllTables,
            backup_tag: TagPair::new(DEFAULT_BACKUP_TAG_KEY, DEFAULT_BACKUP_TAG_VALUE),
            required_tags: vec![RequiredTag::any(DEFAULT_REQUIRED_TAG)],
            exempt_tag: TagPair::new(DEFAULT_BACKUP_TAG_KEY, DEFAULT_EXEMPT_TAG_VALUE),
            exempt_reason_tag: DEFAULT_EXEMPT_REASON_TAG.to_string(),
            mode: Mode::Enforce,
            vault_lock_required: false,
            expected_kms_key_arn: None,
            restore_testing: crate::restore::RestoreTestingOptions::default(),
        }
    }
}

impl Policy {
    /// The validated schedule (expression evaluated in the policy's time zone).
    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// The schedule expression as configured.
    pub fn schedule_expression(&self) -> &str {
        &self.schedule_expression
    }

    /// The schedule's IANA time zone as configured.
    pub fn timezone(&self) -> &str {
        &self.timezone
    }

    /// Replaces the schedule after validating it.
    pub fn set_schedule(&mut self, expression: &str, timezone: &str) -> Result<(), ConfigError> {
        let expression = expression.trim();
        let timezone = timezone.trim();
        let schedule = Schedule::new(expression, timezone).map_err(|e| match e {
            ScheduleError::UnknownTimeZone { .. } => ConfigError::invalid(
                vars::TIMEZONE,
                timezone,
                e.to_string(),
                "an IANA time zone name such as UTC or Europe/Berlin",
            ),
            ScheduleError::Cron(_) => ConfigError::invalid(
                vars::SCHEDULE,
                expression,
                e.to_string(),
                "an AWS cron expression such as cron(0 0 15,25 * ? *)",
            ),
        })?;
        self.schedule = Arc::new(schedule);
        self.schedule_expression = expression.to_string();
        self.timezone = timezone.to_string();
        Ok(())
    }

    /// Builder form of [`Policy::set_schedule`].
    pub fn with_schedule(mut self, expression: &str, timezone: &str) -> Result<Self, ConfigError> {
        self.set_schedule(expression, timezone)?;
        Ok(self)
    }

    /// Start window as a duration.
    pub fn start_window(&self) -> SignedDuration {
        SignedDuration::from_mins(self.start_window_minutes)
    }

    /// Completion window as a duration.
    pub fn completion_window(&self) -> SignedDuration {
        SignedDuration::from_mins(self.completion_window_minutes)
    }

    /// Retention as a duration (`retention_days` × 24 h).
    pub fn retention(&self) -> SignedDuration {
        SignedDuration::from_hours(self.retention_days.saturating_mul(24))
    }

    /// Reads the policy from the process environment (only the `BG_*` variables listed in the
    /// module docs; unset or empty-when-not-meaningful variables keep their defaults).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(
            vars::ALL
                .iter()
                .chain(crate::restore::VARS.iter())
                .filter_map(|name| std::env::var(name).ok().map(|v| (name.to_string(), v))),
        )
    }

    /// Builds the policy from `(name, value)` pairs (e.g. `std::env::vars()`); names other than
    /// the `BG_*` variables are ignored.
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let given: BTreeMap<String, String> = vars
            .into_iter()
            .filter(|(k, _)| {
                vars::ALL.contains(&k.as_str()) || crate::restore::VARS.contains(&k.as_str())
            })
            .collect();
        let get = |name: &str| given.get(name).map(String::as_str);
        let mut p = Policy::default();

        let expr = get(vars::SCHEDULE).unwrap_or(DEFAULT_SCHEDULE);
        let tz = get(vars::TIMEZONE).unwrap_or(DEFAULT_TIMEZONE);
        if expr.trim().is_empty() {
            return Err(ConfigError::invalid(
                vars::SCHEDULE,
                expr,
                "empty",
                "an AWS cron expression such as cron(0 0 15,25 * ? *)",
            ));
        }
        if tz.trim().is_empty() {
            return Err(ConfigError::invalid(
                vars::TIMEZONE,
                tz,
                "empty",
                "an IANA time zone name such as UTC or Europe/Berlin",
            ));
        }
        p.set_schedule(expr, tz)?;

        if let Some(v) = get(vars::START_WINDOW_MINUTES) {
            p.start_window_minutes = parse_int(vars::START_WINDOW_MINUTES, v, WINDOW_MINUTES)?;
        }
        if let Some(v) = get(vars::COMPLETION_WINDOW_MINUTES) {
            p.completion_window_minutes =
                parse_int(vars::COMPLETION_WINDOW_MINUTES, v, WINDOW_MINUTES)?;
        }
        if let Some(v) = get(vars::RETENTION_DAYS) {
            p.retention_days = parse_int(vars::RETENTION_DAYS, v, RETENTION_DAYS)?;
        }
        if let Some(v) = get(vars::VAULT_NAME) {
            let v = v.trim();
            p.vault_name = if v.is_empty() {
                None
            } else {
                check_vault_name(vars::VAULT_NAME, v)?;
                Some(v.to_string())
            };
        }
        if let Some(v) = get(vars::SELECTION_MODE) {
            p.selection_mode = match v.trim() {
                "all-tables" => SelectionMode::AllTables,
                "tagged" => SelectionMode::Tagged,
                _ => {
                    return Err(ConfigError::invalid(
                        vars::SELECTION_MODE,
                        v,
                        "unknown selection mode",
                        "all-tables or tagged",
                    ));
                }
            };
        }
        if let Some(v) = get(vars::BACKUP_TAG) {
            p.backup_tag = parse_tag_pair(vars::BACKUP_TAG, v)?;
        }
        if let Some(v) = get(vars::REQUIRED_TAGS) {
            p.required_tags = parse_required_tags(vars::REQUIRED_TAGS, v)?;
        }
        if let Some(v) = get(vars::EXEMPT_TAG) {
            p.exempt_tag = parse_tag_pair(vars::EXEMPT_TAG, v)?;
        }
        if let Some(v) = get(vars::EXEMPT_REASON_TAG) {
            let v = v.trim();
            check_tag_key(vars::EXEMPT_REASON_TAG, v, v)?;
            p.exempt_reason_tag = v.to_string();
        }
        if let Some(v) = get(vars::MODE) {
            p.mode = match v.trim() {
                "enforce" => Mode::Enforce,
                "report-only" => Mode::ReportOnly,
                _ => {
                    return Err(ConfigError::invalid(
                        vars::MODE,
                        v,
                        "unknown mode",
                        "enforce or report-only",
                    ));
                }
            };
        }
        if let Some(v) = get(vars::VAULT_LOCK_REQUIRED) {
            p.vault_lock_required = match v.trim() {
                "true" => true,
                "false" => false,
                _ => {
                    return Err(ConfigError::invalid(
                        vars::VAULT_LOCK_REQUIRED,
                        v,
                        "not a boolean",
                        "true or false",
                    ));
                }
            };
        }
        if let Some(v) = get(vars::EXPECTED_KMS_KEY_ARN) {
            let v = v.trim();
            p.expected_kms_key_arn = if v.is_empty() {
                None
            } else {
                Some(v.to_string())
            };
        }
        p.validate()?;
        p.restore_testing = crate::restore::RestoreTestingOptions::from_lookup(get)?;
        Ok(p)
    }

    /// Checks the invariants of a policy whose public fields were changed directly (ranges,
    /// tag syntax, and that the backup, exemption and reason tags do not collide). Errors name
    /// the environment variable that sets the field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let range = |var: &str, v: i64, bounds: IntBounds| {
            bounds
                .check(v)
                .map(|_| ())
                .map_err(|e| ConfigError::invalid(var, &v.to_string(), e.problem, &e.accepted))
        };
        range(
            vars::START_WINDOW_MINUTES,
            self.start_window_minutes,
            WINDOW_MINUTES,
        )?;
        range(
            vars::COMPLETION_WINDOW_MINUTES,
            self.completion_window_minutes,
            WINDOW_MINUTES,
        )?;
        range(vars::RETENTION_DAYS, self.retention_days, RETENTION_DAYS)?;
        if let Some(v) = &self.vault_name {
            check_vault_name(vars::VAULT_NAME, v)?;
        }
        if let Some(k) = &self.expected_kms_key_arn {
            check_kms_key_arn(vars::EXPECTED_KMS_KEY_ARN, k)?;
        }
        let shown = self.backup_tag.to_string();
        check_tag_key(vars::BACKUP_TAG, &self.backup_tag.key, &shown)?;
        check_tag_value(vars::BACKUP_TAG, &self.backup_tag.value, &shown, false)?;
        let shown = self.exempt_tag.to_string();
        check_tag_key(vars::EXEMPT_TAG, &self.exempt_tag.key, &shown)?;
        check_tag_value(vars::EXEMPT_TAG, &self.exempt_tag.value, &shown, false)?;
        check_tag_key(
            vars::EXEMPT_REASON_TAG,
            &self.exempt_reason_tag,
            &self.exempt_reason_tag,
        )?;
        for t in &self.required_tags {
            check_tag_key(vars::REQUIRED_TAGS, &t.key, &t.key)?;
            for v in &t.allowed_values {
                check_tag_value(vars::REQUIRED_TAGS, v, v, false)?;
            }
        }
        if self.backup_tag == self.exempt_tag {
            return Err(ConfigError::Conflict(format!(
                "{} and {} are both {}: a table could not be both backed up and exempt",
                vars::BACKUP_TAG,
                vars::EXEMPT_TAG,
                self.backup_tag
            )));
        }
        if self.exempt_reason_tag == self.exempt_tag.key {
            return Err(ConfigError::Conflict(format!(
                "{} ({}) is the exemption tag's own key; the reason needs its own tag",
                vars::EXEMPT_REASON_TAG,
                self.exempt_reason_tag
            )));
        }
        Ok(())
    }

    /// The serialisable form.
    pub fn to_doc(&self) -> PolicyDoc {
        PolicyDoc {
            schedule_expression: self.schedule_expression.clone(),
            timezone: self.timezone.clone(),
            start_window_minutes: self.start_window_minutes,
            completion_window_minutes: self.completion_window_minutes,
            retention_days: self.retention_days,
            cold_storage_allowed: self.cold_storage_allowed,
            vault_name: self.vault_name.clone(),
            selection_mode: self.selection_mode,
            backup_tag: self.backup_tag.clone(),
            required_tags: self.required_tags.clone(),
            exempt_tag: self.exempt_tag.clone(),
            exempt_reason_tag: self.exempt_reason_tag.clone(),
            mode: self.mode,
            vault_lock_required: self.vault_lock_required,
            expected_kms_key_arn: self.expected_kms_key_arn.clone(),
        }
    }
}

impl Policy {
    /// The `BG_*` variables that configure exactly this policy (the inverse of
    /// [`Policy::from_vars`]): what a deployment must set, and what the template's defaults
    /// are checked against.
    pub fn to_vars(&self) -> BTreeMap<String, String> {
        let required = self
            .required_tags
            .iter()
            .map(|t| {
                if t.allowed_values.is_empty() {
                    t.key.clone()
                } else {
                    format!("{}={}", t.key, t.allowed_values.join("|"))
                }
            })
            .collect::<Vec<_>>()
            .join(",");
        [
            (vars::SCHEDULE, self.schedule_expression.clone()),
            (vars::TIMEZONE, self.timezone.clone()),
            (
                vars::START_WINDOW_MINUTES,
                self.start_window_minutes.to_string(),
            ),
            (
                vars::COMPLETION_WINDOW_MINUTES,
                self.completion_window_minutes.to_string(),
            ),
            (vars::RETENTION_DAYS, self.retention_days.to_string()),
            (
                vars::VAULT_NAME,
                self.vault_name.clone().unwrap_or_default(),
            ),
            (
                vars::SELECTION_MODE,
                self.selection_mode.as_str().to_string(),
            ),
            (vars::BACKUP_TAG, self.backup_tag.to_string()),
            (vars::REQUIRED_TAGS, required),
            (vars::EXEMPT_TAG, self.exempt_tag.to_string()),
            (vars::EXEMPT_REASON_TAG, self.exempt_reason_tag.clone()),
            (vars::MODE, self.mode.as_str().to_string()),
            (
                vars::VAULT_LOCK_REQUIRED,
                self.vault_lock_required.to_string(),
            ),
            (
                vars::EXPECTED_KMS_KEY_ARN,
                self.expected_kms_key_arn.clone().unwrap_or_default(),
            ),
        ]
        .into_iter()
        .chain(self.restore_testing.to_vars())
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}

impl TryFrom<PolicyDoc> for Policy {
    type Error = ConfigError;

    fn try_from(doc: PolicyDoc) -> Result<Self, Self::Error> {
        let mut p = Policy::default().with_schedule(&doc.schedule_expression, &doc.timezone)?;
        p.start_window_minutes = doc.start_window_minutes;
        p.completion_window_minutes = doc.completion_window_minutes;
        p.retention_days = doc.retention_days;
        p.cold_storage_allowed = doc.cold_storage_allowed;
        p.vault_name = doc.vault_name;
        p.selection_mode = doc.selection_mode;
        p.backup_tag = doc.backup_tag;
        p.required_tags = doc.required_tags;
        p.exempt_tag = doc.exempt_tag;
        p.exempt_reason_tag = doc.exempt_reason_tag;
        p.mode = doc.mode;
        p.vault_lock_required = doc.vault_lock_required;
        p.expected_kms_key_arn = doc.expected_kms_key_arn;
        p.validate()?;
        Ok(p)
    }
}

impl Serialize for Policy {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_doc().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Policy {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let doc = PolicyDoc::deserialize(deserializer)?;
        Policy::try_from(doc).map_err(serde::de::Error::custom)
    }
}

fn parse_int(var: &str, value: &str, bounds: IntBounds) -> Result<i64, ConfigError> {
    bounds
        .parse(value)
        .map_err(|e| ConfigError::invalid(var, value, e.problem, &e.accepted))
}

const TAG_KEY_ACCEPTED: &str = "a tag key of 1-128 characters (letters, digits, spaces and _ . : / + - @), not starting with aws:";
const TAG_VALUE_ACCEPTED: &str =
    "a tag value of up to 256 characters (letters, digits, spaces and _ . : / = + - @)";

fn tag_char_ok(c: char, allow_eq: bool) -> bool {
    c.is_alphanumeric() || c == ' ' || "_.:/+-@".contains(c) || (allow_eq && c == '=')
}

fn check_tag_key(var: &str, key: &str, shown: &str) -> Result<(), ConfigError> {
    let problem = if key.is_empty() {
        Some("empty tag key")
    } else if key.chars().count() > 128 {
        Some("tag key longer than 128 characters")
    } else if key.starts_with("aws:") {
        Some("tag keys starting with aws: are reserved by AWS")
    } else if !key.chars().all(|c| tag_char_ok(c, false)) {
        Some("tag key contains a character AWS does not allow")
    } else {
        None
    };
    match problem {
        Some(p) => Err(ConfigError::invalid(var, shown, p, TAG_KEY_ACCEPTED)),
        None => Ok(()),
    }
}

fn check_tag_value(
    var: &str,
    value: &str,
    shown: &str,
    allow_empty: bool,
) -> Result<(), ConfigError> {
    let problem = if value.is_empty() && !allow_empty {
        Some("empty tag value")
    } else if value.chars().count() > 256 {
        Some("tag value longer than 256 characters")
    } else if !value.chars().all(|c| tag_char_ok(c, true)) {
        Some("tag value contains a character AWS does not allow")
    } else {
        None
    };
    match problem {
        Some(p) => Err(ConfigError::invalid(var, shown, p, TAG_VALUE_ACCEPTED)),
        None => Ok(()),
    }
}

fn parse_tag_pair(var: &str, value: &str) -> Result<TagPair, ConfigError> {
    let Some((k, v)) = value.trim().split_once('=') else {
        return Err(ConfigError::invalid(
            var,
            value,
            "missing `=`",
            "key=value, e.g. backup-policy=twice-monthly-90d",
        ));
    };
    let (k, v) = (k.trim(), v.trim());
    check_tag_key(var, k, value)?;
    check_tag_value(var, v, value, false)?;
    Ok(TagPair::new(k, v))
}

fn parse_required_tags(var: &str, value: &str) -> Result<Vec<RequiredTag>, ConfigError> {
    let mut out: Vec<RequiredTag> = Vec::new();
    for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let tag = match entry.split_once('=') {
            None => RequiredTag::any(entry),
            Some((k, vs)) => {
                let values: Vec<String> = vs.split('|').map(|v| v.trim().to_string()).collect();
                if values.iter().any(String::is_empty) {
                    return Err(ConfigError::invalid(
                        var,
                        value,
                        format!("empty allowed value in `{entry}`"),
                        "comma-separated entries `key` or `key=value1|value2`, e.g. owner,cost-center=finance|ops",
                    ));
                }
                RequiredTag {
                    key: k.trim().to_string(),
                    allowed_values: values,
                }
            }
        };
        check_tag_key(var, &tag.key, value)?;
        for v in &tag.allowed_values {
            check_tag_value(var, v, value, false)?;
        }
        if out.iter().any(|t| t.key == tag.key) {
            return Err(ConfigError::invalid(
                var,
                value,
                format!("tag key `{}` listed twice", tag.key),
                "each key at most once",
            ));
        }
        out.push(tag);
    }
    Ok(out)
}

/// A KMS key ARN: `arn:<partition>:kms:<region>:<12-digit account>:key/<id>` (an alias ARN
/// names no key of a recovery point, so it is refused).
fn check_kms_key_arn(var: &str, arn: &str) -> Result<(), ConfigError> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && !parts[1].is_empty()
        && parts[2] == "kms"
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].chars().all(|c| c.is_ascii_digit())
        && parts[5]
            .strip_prefix("key/")
            .is_some_and(|id| !id.is_empty() && !id.contains(char::is_whitespace));
    if ok {
        Ok(())
    } else {
        Err(ConfigError::invalid(
            var,
            arn,
            "not a KMS key ARN",
            "arn:<partition>:kms:<region>:<account>:key/<key id> (or empty for any key)",
        ))
    }
}

fn check_vault_name(var: &str, name: &str) -> Result<(), ConfigError> {
    let len = name.chars().count();
    if (2..=50).contains(&len)
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        Ok(())
    } else {
        Err(ConfigError::invalid(
            var,
            name,
            "not a valid backup vault name",
            "2-50 characters from A-Z a-z 0-9 - _ (or empty for any vault)",
        ))
    }
}

/// The value of `name` among `(name, value)` pairs as the functions read their own settings
/// (`BG_TOPIC_ARN`, `BG_STATE_TABLE` …): the last pair of that name wins, the value is
/// trimmed, and a blank one counts as unset.
pub fn setting(vars: &[(String, String)], name: &str) -> Option<String> {
    vars.iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod readme_tests {
    use super::*;

    #[test]
    fn a_setting_is_the_last_trimmed_non_blank_value() {
        let vars: Vec<(String, String)> = [("A", "x"), ("B", " "), ("A", " y ")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(setting(&vars, "A").as_deref(), Some("y"));
        assert_eq!(setting(&vars, "B"), None);
        assert_eq!(setting(&vars, "C"), None);
    }

    #[test]
    fn vault_options_parse_round_trip_and_name_bad_values() {
        let pairs = |v: &[(&str, &str)]| {
            v.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        };
        let key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        let p = Policy::from_vars(pairs(&[
            (vars::VAULT_LOCK_REQUIRED, " true "),
            (vars::EXPECTED_KMS_KEY_ARN, key),
        ]))
        .unwrap();
        assert!(p.vault_lock_required);
        assert_eq!(p.expected_kms_key_arn.as_deref(), Some(key));
        let back = Policy::from_vars(p.to_vars()).unwrap();
        assert_eq!(back, p);
        let doc: Policy = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(doc, p);
        let err = Policy::from_vars(pairs(&[(vars::VAULT_LOCK_REQUIRED, "yes")])).unwrap_err();
        assert!(err.to_string().contains("BG_VAULT_LOCK_REQUIRED"), "{err}");
        for bad in [
            "alias/aws/backup",
            "arn:aws:kms:eu-west-1:123456789012:alias/x",
            "arn:aws:kms:eu-west-1:12:key/x",
        ] {
            let err = Policy::from_vars(pairs(&[(vars::EXPECTED_KMS_KEY_ARN, bad)])).unwrap_err();
            assert!(
                err.to_string().contains("BG_EXPECTED_KMS_KEY_ARN"),
                "{bad}: {err}"
            );
        }
        let empty = Policy::from_vars(pairs(&[(vars::EXPECTED_KMS_KEY_ARN, " ")])).unwrap();
        assert_eq!(empty.expected_kms_key_arn, None);
    }

    /// The crate README's variable table is the one place people read the configuration:
    /// every variable `to_vars` knows is there, no other, each with the code's default.
    #[test]
    fn the_readme_table_lists_every_variable_with_its_default() {
        let readme = include_str!("../README.md");
        let rows: BTreeMap<String, String> = readme
            .lines()
            .filter_map(|l| {
                let cells: Vec<&str> = l.split('|').map(str::trim).collect();
                let name = cells.get(1)?.strip_prefix("`BG_")?.strip_suffix('`')?;
                let default = cells.get(2)?;
                Some((format!("BG_{name}"), default.to_string()))
            })
            .collect();
        let defaults = Policy::default().to_vars();
        assert_eq!(
            rows.keys().collect::<Vec<_>>(),
            defaults.keys().collect::<Vec<_>>()
        );
        for (name, value) in &defaults {
            let shown = &rows[name];
            if value.is_empty() {
                assert!(shown.starts_with("empty"), "{name}: {shown}");
            } else {
                assert_eq!(shown, &format!("`{value}`"), "{name}");
            }
        }
    }
}
