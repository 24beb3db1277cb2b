//! Findings: what is wrong (or noteworthy) about a table, with a stable code, a severity,
//! a human sentence, a remedy and a stable id for de-duplication across runs.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Stable finding codes (serialised as `SCREAMING_SNAKE_CASE` strings, e.g. `"MISSED_SLOT"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FindingCode {
    /// No selection of a conforming plan covers the table.
    NotCovered,
    /// The table is covered only by plans whose rules deviate from the policy.
    PlanDrift,
    /// A required slot has no satisfying recovery point.
    MissedSlot,
    /// A policy recovery point expires earlier than the policy's retention.
    RetentionTooShort,
    /// A policy recovery point is kept longer than the policy's retention (or forever).
    RetentionTooLong,
    /// A recovery point transitions to cold storage although the policy forbids it.
    ColdStorageDrift,
    /// A policy recovery point has a status other than AVAILABLE/COMPLETED.
    BadRecoveryPoint,
    /// An on-demand or foreign-plan recovery point whose lifecycle is outside the policy.
    UnmanagedBackup,
    /// A backup job of the table ended badly.
    BackupJobFailed,
    /// A required tag is missing (or blank).
    MissingTag,
    /// A required tag has a value that is not allowed.
    TagValueNotAllowed,
    /// A fact needed for the verdict could not be read.
    Unverifiable,
    /// The table is exempt (exemption tag with a reason).
    Exempt,
    /// The table carries the exemption tag but no (or a blank) reason: not exempt.
    ExemptWithoutReason,
    /// The table is protected but its first required backup is still to come.
    PendingFirstBackup,
    /// A vault holding the table's points has no Vault Lock although the policy requires one.
    VaultNotLocked,
    /// A vault holding the table's points is locked with a `MinRetentionDays` above or a
    /// `MaxRetentionDays` below the policy's retention.
    VaultLockRetentionIncompatible,
    /// A vault holding the table's points does not deny `backup:DeleteRecoveryPoint`,
    /// `backup:UpdateRecoveryPointLifecycle` and `backup:PutBackupVaultAccessPolicy` to every
    /// principal in its access policy.
    VaultDeletionNotDenied,
    /// A recovery point of the table is not encrypted.
    RecoveryPointNotEncrypted,
    /// A recovery point of the table is encrypted with another key than the expected one.
    RecoveryPointWrongKey,
    /// The KMS key of a vault holding the table's points is not enabled (disabled, pending
    /// deletion, deleted, …): its points cannot be restored.
    VaultKeyNotUsable,
    // ---- restore testing (see `crate::restore`) ----
    /// No successful, validated restore test of the table within the allowed age.
    RestoreNotTested,
    /// The table's last restore test failed (the job failed or its validation did).
    RestoreTestFailed,
    /// The table's last successful restore test took longer than the restore time target.
    RestoreTimeOverTarget,
}

impl FindingCode {
    /// Every code, in declaration order.
    pub const ALL: [FindingCode; 24] = [
        FindingCode::NotCovered,
        FindingCode::PlanDrift,
        FindingCode::MissedSlot,
        FindingCode::RetentionTooShort,
        FindingCode::RetentionTooLong,
        FindingCode::ColdStorageDrift,
        FindingCode::BadRecoveryPoint,
        FindingCode::UnmanagedBackup,
        FindingCode::BackupJobFailed,
        FindingCode::MissingTag,
        FindingCode::TagValueNotAllowed,
        FindingCode::Unverifiable,
        FindingCode::Exempt,
        FindingCode::ExemptWithoutReason,
        FindingCode::PendingFirstBackup,
        FindingCode::VaultNotLocked,
        FindingCode::VaultLockRetentionIncompatible,
        FindingCode::VaultDeletionNotDenied,
        FindingCode::RecoveryPointNotEncrypted,
        FindingCode::RecoveryPointWrongKey,
        FindingCode::VaultKeyNotUsable,
        FindingCode::RestoreNotTested,
        FindingCode::RestoreTestFailed,
        FindingCode::RestoreTimeOverTarget,
    ];

    /// The stable string (`"NOT_COVERED"`, ...), identical to the serde form.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingCode::NotCovered => "NOT_COVERED",
            FindingCode::PlanDrift => "PLAN_DRIFT",
            FindingCode::MissedSlot => "MISSED_SLOT",
            FindingCode::RetentionTooShort => "RETENTION_TOO_SHORT",
            FindingCode::RetentionTooLong => "RETENTION_TOO_LONG",
            FindingCode::ColdStorageDrift => "COLD_STORAGE_DRIFT",
            FindingCode::BadRecoveryPoint => "BAD_RECOVERY_POINT",
            FindingCode::UnmanagedBackup => "UNMANAGED_BACKUP",
            FindingCode::BackupJobFailed => "BACKUP_JOB_FAILED",
            FindingCode::MissingTag => "MISSING_TAG",
            FindingCode::TagValueNotAllowed => "TAG_VALUE_NOT_ALLOWED",
            FindingCode::Unverifiable => "UNVERIFIABLE",
            FindingCode::Exempt => "EXEMPT",
            FindingCode::ExemptWithoutReason => "EXEMPT_WITHOUT_REASON",
            FindingCode::PendingFirstBackup => "PENDING_FIRST_BACKUP",
            FindingCode::VaultNotLocked => "VAULT_NOT_LOCKED",
            FindingCode::VaultLockRetentionIncompatible => "VAULT_LOCK_RETENTION_INCOMPATIBLE",
            FindingCode::VaultDeletionNotDenied => "VAULT_DELETION_NOT_DENIED",
            FindingCode::RecoveryPointNotEncrypted => "RECOVERY_POINT_NOT_ENCRYPTED",
            FindingCode::RecoveryPointWrongKey => "RECOVERY_POINT_WRONG_KEY",
            FindingCode::VaultKeyNotUsable => "VAULT_KEY_NOT_USABLE",
            FindingCode::RestoreNotTested => "RESTORE_NOT_TESTED",
            FindingCode::RestoreTestFailed => "RESTORE_TEST_FAILED",
            FindingCode::RestoreTimeOverTarget => "RESTORE_TIME_OVER_TARGET",
        }
    }

    /// The code whose stable string (`MISSED_SLOT`) is `s`, `None` for any other string.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The default severity of the code: `CRITICAL` when the table's data is unprotected
    /// (not covered; a vault key that can no longer decrypt its points), `HIGH` when the
    /// policy is violated (vault lock, deletion denial, an unencrypted point), `WARNING` when
    /// backups are not at risk yet (a point under another key than the expected one).
    pub fn severity(self) -> Severity {
        match self {
            FindingCode::NotCovered | FindingCode::VaultKeyNotUsable => Severity::Critical,
            FindingCode::VaultNotLocked
            | FindingCode::VaultLockRetentionIncompatible
            | FindingCode::VaultDeletionNotDenied
            | FindingCode::RecoveryPointNotEncrypted => Severity::High,
            FindingCode::RecoveryPointWrongKey => Severity::Warning,
            FindingCode::PlanDrift
            | FindingCode::MissedSlot
            | FindingCode::RetentionTooShort
            | FindingCode::BadRecoveryPoint
            | FindingCode::ExemptWithoutReason
            | FindingCode::RestoreTestFailed => Severity::High,
            FindingCode::RetentionTooLong
            | FindingCode::ColdStorageDrift
            | FindingCode::UnmanagedBackup
            | FindingCode::BackupJobFailed
            | FindingCode::MissingTag
            | FindingCode::TagValueNotAllowed
            | FindingCode::Unverifiable
            | FindingCode::RestoreNotTested
            | FindingCode::RestoreTimeOverTarget => Severity::Warning,
            FindingCode::Exempt | FindingCode::PendingFirstBackup => Severity::Info,
        }
    }

    /// Whether a finding with this code makes the table non-compliant.
    ///
    /// `UNVERIFIABLE`, `EXEMPT`, `PENDING_FIRST_BACKUP` and `BACKUP_JOB_FAILED` do not (a
    /// failed job matters through the slot it leaves missed, which is `MISSED_SLOT`).
    pub fn breaks_compliance(self) -> bool {
        !matches!(
            self,
            FindingCode::Unverifiable
                | FindingCode::Exempt
                | FindingCode::PendingFirstBackup
                | FindingCode::BackupJobFailed
        )
    }
}

impl fmt::Display for FindingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Severity, ordered `Info < Warning < High < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// For the record only (exempt, pending first backup); nothing to do.
    Info,
    /// Should be fixed, but the table's backups are not at risk yet.
    Warning,
    /// The policy is violated (a missed slot, drifted plan, short retention); fix soon.
    High,
    /// The table's data is unprotected (no conforming plan selects it).
    Critical,
}

impl Severity {
    /// Lower-case word (`critical`), as in reports and the `--fail-on` option.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding about one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable id: `bg-` + 16 hex digits of FNV-1a-64 over `code`, `table_arn` and `subject`
    /// (see [`finding_id`]). The same problem gets the same id in every run.
    pub id: String,
    /// What kind of problem it is (its stable string is in the JSON and the id).
    pub code: FindingCode,
    /// How urgent it is (the code's default severity).
    pub severity: Severity,
    /// ARN of the table the finding is about.
    pub table_arn: String,
    /// Name of the table the finding is about.
    pub table_name: String,
    /// What inside the table the finding is about: a slot instant (RFC 3339), a recovery
    /// point ARN, a plan id, a job id or a tag key.
    pub subject: Option<String>,
    /// What is wrong, in a sentence people read (plans, rules and selections by name).
    pub message: String,
    /// What a human must do, if anything.
    pub remedy: Option<String>,
}

impl Finding {
    /// Builds a finding with the code's default severity and the stable id.
    pub fn new(
        code: FindingCode,
        table_arn: impl Into<String>,
        table_name: impl Into<String>,
        subject: Option<String>,
        message: impl Into<String>,
        remedy: Option<String>,
    ) -> Self {
        let table_arn = table_arn.into();
        let id = finding_id(code, &table_arn, subject.as_deref());
        Finding {
            id,
            code,
            severity: code.severity(),
            table_arn,
            table_name: table_name.into(),
            subject,
            message: message.into(),
            remedy,
        }
    }
}

/// FNV-1a, 64 bit (deterministic, no seed).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(PRIME);
    }
    hash
}

/// The stable id of a finding: `bg-` + 16 lower-case hex digits of
/// FNV-1a-64(`code` `\u{1f}` `table_arn` `\u{1f}` `subject`).
pub fn finding_id(code: FindingCode, table_arn: &str, subject: Option<&str>) -> String {
    let mut buf = Vec::with_capacity(64 + table_arn.len());
    buf.extend_from_slice(code.as_str().as_bytes());
    buf.push(0x1f);
    buf.extend_from_slice(table_arn.as_bytes());
    buf.push(0x1f);
    if let Some(s) = subject {
        buf.extend_from_slice(s.as_bytes());
    }
    format!("bg-{:016x}", fnv1a64(&buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_known_vectors() {
        // Reference values of FNV-1a 64.
        assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x85944171f73967e8);
    }

    #[test]
    fn ids_are_stable_and_distinguish_inputs() {
        let a = finding_id(
            FindingCode::MissedSlot,
            "arn:t",
            Some("2026-01-15T00:00:00Z"),
        );
        let b = finding_id(
            FindingCode::MissedSlot,
            "arn:t",
            Some("2026-01-15T00:00:00Z"),
        );
        let c = finding_id(
            FindingCode::MissedSlot,
            "arn:t",
            Some("2026-01-25T00:00:00Z"),
        );
        let d = finding_id(
            FindingCode::NotCovered,
            "arn:t",
            Some("2026-01-15T00:00:00Z"),
        );
        let e = finding_id(FindingCode::MissedSlot, "arn:t", None);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
        assert_ne!(a, e);
        assert!(a.starts_with("bg-") && a.len() == 19);
    }

    #[test]
    fn codes_serialise_as_stable_strings() {
        for code in FindingCode::ALL {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(FindingCode::parse(code.as_str()), Some(code));
        }
        assert_eq!(
            serde_json::to_string(&FindingCode::TagValueNotAllowed).unwrap(),
            "\"TAG_VALUE_NOT_ALLOWED\""
        );
    }

    #[test]
    fn severity_is_ordered() {
        assert!(Severity::Info < Severity::Warning);
        assert!(Severity::Warning < Severity::High);
        assert!(Severity::High < Severity::Critical);
    }
}
