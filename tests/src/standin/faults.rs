//! Fault injection: latency, throttling and 5xx per operation (and optionally per vault).
//!
//! Each [`Fault`] counts the calls it matches (1-based, retries included, since every
//! retry is a new HTTP call) and decides deterministically from that count and a seeded
//! xorshift generator, so a test run is reproducible.

use super::error::{ApiError, StandInError};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Every AWS Backup operation the stand-in serves (the names faults and call counts use).
pub const OPERATIONS: &[&str] = &[
    "CreateBackupVault",
    "DescribeBackupVault",
    "ListBackupVaults",
    "CreateBackupPlan",
    "GetBackupPlan",
    "ListBackupPlans",
    "UpdateBackupPlan",
    "DeleteBackupPlan",
    "CreateBackupSelection",
    "GetBackupSelection",
    "ListBackupSelections",
    "DeleteBackupSelection",
    "ListRecoveryPointsByBackupVault",
    "ListRecoveryPointsByResource",
    "DescribeRecoveryPoint",
    "ListBackupJobs",
    "GetBackupVaultAccessPolicy",
    "PutBackupVaultAccessPolicy",
    "DeleteBackupVaultAccessPolicy",
    "PutBackupVaultLockConfiguration",
    "DeleteBackupVaultLockConfiguration",
    "DeleteBackupVault",
    "DeleteRecoveryPoint",
    "UpdateRecoveryPointLifecycle",
    "DisassociateRecoveryPoint",
    "DescribeBackupJob",
    "StopBackupJob",
    "ListRestoreJobs",
    "DescribeRestoreJob",
    "PutRestoreValidationResult",
    "ListRestoreTestingPlans",
    "GetRestoreTestingPlan",
    "ListRestoreTestingSelections",
    "GetRestoreTestingSelection",
];

/// The error a fault with `fail_always` returns on every matching call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FailKind {
    /// 400 `ThrottlingException` (retried by the SDK).
    ThrottlingException,
    /// 503 `ServiceUnavailableException` (retried by the SDK).
    ServiceUnavailableException,
    /// Plain 500 (retried by the SDK).
    InternalServerError,
    /// 403 `AccessDeniedException` (not retried).
    AccessDeniedException,
}

impl FailKind {
    fn error(self) -> ApiError {
        match self {
            Self::ThrottlingException => ApiError::throttling(),
            Self::ServiceUnavailableException => ApiError::service_unavailable(),
            Self::InternalServerError => ApiError::internal(),
            Self::AccessDeniedException => ApiError::access_denied(),
        }
    }
}

/// A fault to inject (the body of `POST /_standin/faults`).
///
/// All effects apply to every call the fault matches: `latency_ms` first, then the first
/// error that fires in this order: `fail_always`, `throttle_first`, `throttle_every`,
/// `throttle_rate`, `error_5xx_every`.
///
/// `page_size` and `next_token_only` make a paginated read fail on its second page: the
/// first page is cut to `page_size` items (so a `nextToken` follows), and only calls carrying
/// a `nextToken` match the fault's errors and latency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// An operation name from [`OPERATIONS`], or `"*"` for all.
    pub operation: String,
    /// Delay added before answering, in milliseconds.
    #[serde(default)]
    pub latency_ms: u64,
    /// Throttle every Nth matching call (N ≥ 1; 1 throttles every call); 0 = off.
    #[serde(default)]
    pub throttle_every: u64,
    /// Throttle the first K matching calls; 0 = off.
    #[serde(default)]
    pub throttle_first: u64,
    /// Throttle this fraction (0.0–1.0) of matching calls, by a seeded PRNG.
    #[serde(default)]
    pub throttle_rate: f64,
    /// Answer 503 `ServiceUnavailableException` to every Nth matching call; 0 = off.
    #[serde(default)]
    pub error_5xx_every: u64,
    /// Fail every matching call with this error.
    #[serde(default)]
    pub fail_always: Option<FailKind>,
    /// Only calls addressed to this vault (path vault, or `backupVaultName` filter) match.
    #[serde(default)]
    pub vault: Option<String>,
    /// PRNG seed for `throttle_rate` (a fixed default when absent).
    #[serde(default)]
    pub seed: Option<u64>,
    /// Only calls carrying a `nextToken` (a second or later page) match the errors and the
    /// latency.
    #[serde(default)]
    pub next_token_only: bool,
    /// Pages of matching list calls hold at most this many items (overrides `maxResults`).
    #[serde(default)]
    pub page_size: Option<u64>,
}

impl Default for Fault {
    fn default() -> Self {
        Self::new("*")
    }
}

impl Fault {
    /// A fault on `operation` (or `"*"`) that does nothing until fields are set.
    pub fn new(operation: impl Into<String>) -> Self {
        Self {
            operation: operation.into(),
            latency_ms: 0,
            throttle_every: 0,
            throttle_first: 0,
            throttle_rate: 0.0,
            error_5xx_every: 0,
            fail_always: None,
            vault: None,
            seed: None,
            next_token_only: false,
            page_size: None,
        }
    }

    /// Checks the fault names a served operation and has sensible numbers.
    pub fn validate(&self) -> Result<(), StandInError> {
        let invalid = |reason: String| StandInError::Invalid {
            what: format!("fault on {:?}", self.operation),
            reason,
        };
        if self.operation != "*" && !OPERATIONS.contains(&self.operation.as_str()) {
            return Err(invalid(format!(
                "unknown operation {:?}; use \"*\" or one of {}",
                self.operation,
                OPERATIONS.join(", ")
            )));
        }
        if !(0.0..=1.0).contains(&self.throttle_rate) || self.throttle_rate.is_nan() {
            return Err(invalid(format!(
                "throttle_rate {} is not within 0.0..=1.0",
                self.throttle_rate
            )));
        }
        if self.page_size == Some(0) {
            return Err(invalid(
                "page_size 0: a page holds at least one item".into(),
            ));
        }
        if self.latency_ms > 600_000 {
            return Err(invalid(format!(
                "latency_ms {} is over 10 minutes",
                self.latency_ms
            )));
        }
        Ok(())
    }

    fn matches(&self, operation: &str, vault: Option<&str>) -> bool {
        let op_ok = self.operation == "*" || self.operation == operation;
        let vault_ok = match &self.vault {
            None => true,
            Some(v) => vault == Some(v.as_str()),
        };
        op_ok && vault_ok
    }
}

/// What to do with one call.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Decision {
    /// Delay before answering.
    pub latency: Duration,
    /// Injected error, if any.
    pub error: Option<ApiError>,
    /// Items per page imposed by a fault (smallest wins), if any.
    pub page_size: Option<usize>,
}

#[derive(Debug)]
struct ActiveFault {
    fault: Fault,
    calls: u64,
    rng: u64,
}

impl ActiveFault {
    fn next_unit(&mut self) -> f64 {
        // xorshift64*: deterministic, good enough to spread throttles.
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        let out = x.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (out >> 11) as f64 / (1u64 << 53) as f64
    }

    fn decide(&mut self) -> Option<ApiError> {
        self.calls += 1;
        let n = self.calls;
        let f = &self.fault;
        if let Some(kind) = f.fail_always {
            return Some(kind.error());
        }
        if n <= f.throttle_first {
            return Some(ApiError::throttling());
        }
        if f.throttle_every > 0 && n.is_multiple_of(f.throttle_every) {
            return Some(ApiError::throttling());
        }
        if f.throttle_rate > 0.0 && self.next_unit() < self.fault.throttle_rate {
            return Some(ApiError::throttling());
        }
        if self.fault.error_5xx_every > 0 && n.is_multiple_of(self.fault.error_5xx_every) {
            return Some(ApiError::service_unavailable());
        }
        None
    }
}

/// The active faults.
#[derive(Debug, Default)]
pub struct FaultSet {
    active: Vec<ActiveFault>,
}

impl FaultSet {
    /// Adds a fault, replacing one with the same operation and vault (its counters restart).
    pub fn set(&mut self, fault: Fault) -> Result<(), StandInError> {
        fault.validate()?;
        self.active
            .retain(|a| !(a.fault.operation == fault.operation && a.fault.vault == fault.vault));
        let seed = fault.seed.unwrap_or(0x9E37_79B9_7F4A_7C15);
        self.active.push(ActiveFault {
            fault,
            calls: 0,
            // xorshift must not start at zero.
            rng: if seed == 0 { 1 } else { seed },
        });
        Ok(())
    }

    /// Removes every fault.
    pub fn clear(&mut self) {
        self.active.clear();
    }

    /// The active faults with how many calls each has matched (errors and latency applied).
    pub fn hits(&self) -> Vec<(Fault, u64)> {
        self.active
            .iter()
            .map(|a| (a.fault.clone(), a.calls))
            .collect()
    }

    /// The active faults, in the order they were set.
    pub fn list(&self) -> Vec<Fault> {
        self.active.iter().map(|a| a.fault.clone()).collect()
    }

    /// Decides one call: every matching fault counts it; the longest latency applies and
    /// the first fault (in setting order) that fires supplies the error.
    pub fn decide(&mut self, operation: &str, vault: Option<&str>) -> Decision {
        self.decide_page(operation, vault, false)
    }

    /// [`FaultSet::decide`] for a list call; `has_token` says whether it carries a
    /// `nextToken` (faults with `next_token_only` match only those).
    pub fn decide_page(
        &mut self,
        operation: &str,
        vault: Option<&str>,
        has_token: bool,
    ) -> Decision {
        let mut decision = Decision::default();
        for active in self.active.iter_mut() {
            if !active.fault.matches(operation, vault) {
                continue;
            }
            if let Some(n) = active.fault.page_size {
                let n = usize::try_from(n).unwrap_or(usize::MAX);
                decision.page_size = Some(decision.page_size.map_or(n, |p| p.min(n)));
            }
            if active.fault.next_token_only && !has_token {
                continue;
            }
            decision.latency = decision
                .latency
                .max(Duration::from_millis(active.fault.latency_ms));
            let error = active.decide();
            if decision.error.is_none() {
                decision.error = error;
            }
        }
        decision
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(set: &mut FaultSet, op: &str, vault: Option<&str>, n: usize) -> Vec<&'static str> {
        (0..n)
            .map(|_| set.decide(op, vault).error.map_or("ok", |e| e.code))
            .collect()
    }

    #[test]
    fn throttle_first_then_every_nth() {
        let mut set = FaultSet::default();
        set.set(Fault {
            throttle_first: 2,
            throttle_every: 3,
            ..Fault::new("ListBackupPlans")
        })
        .unwrap();
        let t = "ThrottlingException";
        assert_eq!(
            codes(&mut set, "ListBackupPlans", None, 7),
            vec![t, t, t, "ok", "ok", t, "ok"]
        );
        // Other operations are untouched.
        assert_eq!(codes(&mut set, "GetBackupPlan", None, 3), vec!["ok"; 3]);
    }

    #[test]
    fn vault_scoped_fault_only_hits_that_vault() {
        let mut set = FaultSet::default();
        set.set(Fault {
            fail_always: Some(FailKind::ServiceUnavailableException),
            vault: Some("v1".into()),
            ..Fault::new("*")
        })
        .unwrap();
        assert_eq!(
            codes(&mut set, "ListRecoveryPointsByBackupVault", Some("v1"), 1),
            vec!["ServiceUnavailableException"]
        );
        assert_eq!(
            codes(&mut set, "ListRecoveryPointsByBackupVault", Some("v2"), 1),
            vec!["ok"]
        );
        assert_eq!(codes(&mut set, "ListBackupPlans", None, 1), vec!["ok"]);
    }

    #[test]
    fn throttle_rate_is_deterministic_and_near_the_rate() {
        let run = || {
            let mut set = FaultSet::default();
            set.set(Fault {
                throttle_rate: 0.3,
                ..Fault::new("*")
            })
            .unwrap();
            codes(&mut set, "ListBackupJobs", None, 2000)
        };
        let a = run();
        assert_eq!(a, run());
        let throttled = a.iter().filter(|c| **c != "ok").count();
        assert!(
            (500..700).contains(&throttled),
            "throttled {throttled} of 2000"
        );
    }

    #[test]
    fn error_5xx_every_and_latency() {
        let mut set = FaultSet::default();
        set.set(Fault {
            error_5xx_every: 2,
            latency_ms: 5,
            ..Fault::new("GetBackupPlan")
        })
        .unwrap();
        let first = set.decide("GetBackupPlan", None);
        assert_eq!(first.latency, Duration::from_millis(5));
        assert!(first.error.is_none());
        let second = set.decide("GetBackupPlan", None);
        assert_eq!(
            second.error.map(|e| e.code),
            Some("ServiceUnavailableException")
        );
    }

    #[test]
    fn the_documented_json_shape_parses() {
        let f: Fault = serde_json::from_str(
            r#"{"operation": "ListRecoveryPointsByBackupVault", "latency_ms": 0,
                "throttle_every": 0, "throttle_first": 0, "throttle_rate": 0.0,
                "error_5xx_every": 0, "fail_always": null, "vault": null}"#,
        )
        .unwrap();
        assert_eq!(f, Fault::new("ListRecoveryPointsByBackupVault"));
        let f: Fault =
            serde_json::from_str(r#"{"operation": "*", "fail_always": "ThrottlingException"}"#)
                .unwrap();
        assert_eq!(f.fail_always, Some(FailKind::ThrottlingException));
        assert!(serde_json::from_str::<Fault>(r#"{"operation": "*", "throttle": 1}"#).is_err());
    }

    #[test]
    fn bad_faults_are_rejected_with_the_reason() {
        let mut set = FaultSet::default();
        let err = set.set(Fault::new("ListBackupPlan")).unwrap_err();
        assert!(err.to_string().contains("unknown operation"), "{err}");
        let err = set
            .set(Fault {
                throttle_rate: 1.5,
                ..Fault::new("*")
            })
            .unwrap_err();
        assert!(err.to_string().contains("throttle_rate"), "{err}");
    }

    #[test]
    fn next_token_only_faults_hit_later_pages_and_cut_the_first() {
        let mut set = FaultSet::default();
        set.set(Fault {
            fail_always: Some(FailKind::InternalServerError),
            next_token_only: true,
            page_size: Some(1),
            ..Fault::new("ListBackupJobs")
        })
        .unwrap();
        let first = set.decide_page("ListBackupJobs", None, false);
        assert_eq!((first.error.is_none(), first.page_size), (true, Some(1)));
        let second = set.decide_page("ListBackupJobs", None, true);
        assert_eq!(second.error.map(|e| e.code), Some("InternalFailure"));
        assert!(
            set.set(Fault {
                page_size: Some(0),
                ..Fault::new("*")
            })
            .is_err()
        );
    }

    #[test]
    fn setting_the_same_fault_again_replaces_it() {
        let mut set = FaultSet::default();
        set.set(Fault {
            throttle_first: 1,
            ..Fault::new("*")
        })
        .unwrap();
        set.set(Fault {
            throttle_first: 2,
            ..Fault::new("*")
        })
        .unwrap();
        assert_eq!(set.list().len(), 1);
        assert_eq!(set.list()[0].throttle_first, 2);
    }
}
