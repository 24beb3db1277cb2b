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

use std::fmt;
use std::sync::Arc;

use jiff::SignedDuration;
use serde::{Deserialize, Serialize};

use crate::schedule::Schedule;

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
    /// Mode.
    pub const MODE: &str = "BG_MODE";
    /// All of the above.
    pub const ALL: [&str; 12] = [
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
    /// Mode.
    pub mode: Mode,
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
            .finish()
    }
}

impl PartialEq for Policy {
    fn eq(&self, other: &Self) -> bool {
        self.to_doc() == other.to_doc()
    }
}

impl Default for Policy {
    /// The policy document: `cron(0 0 15,25 * ? *)` UTC, windows 60/180 minutes, exactly 90
    /// days, no cold storage, any vault, all tables, backup tag
    /// `backup-policy=twice-monthly-90d`, required tag `owner`, exemption
    /// `backup-policy=exempt` + `exempt-reason`, enforce.
    fn default() -> Self {
        todo!()
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
        let _ = (expression, timezone);
        todo!()
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
                .filter_map(|name| std::env::var(name).ok().map(|v| (name.to_string(), v))),
        )
    }

    /// Builds the policy from `(name, value)` pairs (e.g. `std::env::vars()`); names other than
    /// the `BG_*` variables are ignored.
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let _ = vars.into_iter();
        todo!()
    }

    /// Checks the invariants of a policy whose public fields were changed directly.
    pub fn validate(&self) -> Result<(), ConfigError> {
        todo!()
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
        }
    }
}

impl TryFrom<PolicyDoc> for Policy {
    type Error = ConfigError;

    fn try_from(doc: PolicyDoc) -> Result<Self, Self::Error> {
        let _ = doc;
        todo!()
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
