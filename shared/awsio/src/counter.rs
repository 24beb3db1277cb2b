//! Counting API calls: an SDK interceptor that records every attempt (retries included) per
//! `Service.Operation`, so a run can report exactly what it cost and benchmarks can compare the
//! count with the minimal-call formula.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use serde::Serialize;

/// What happened to the calls of one operation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OperationCalls {
    /// HTTP attempts sent (first tries and retries).
    pub attempts: u64,
    /// Attempts after the first of an operation invocation, i.e. retries.
    pub retries: u64,
    /// Attempts that ended in an error (throttling, 5xx, transport, modelled errors).
    pub failed_attempts: u64,
}

/// A copy of a counter's per-operation details at one moment ([`CallCounter::snapshot`]), kept
/// to measure what was called after it ([`CallCounter::calls_since`]).
pub type Snapshot = BTreeMap<String, OperationCalls>;

/// The calls a counter recorded after a [`Snapshot`] ([`CallCounter::calls_since`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CallsSince {
    /// HTTP attempts per `Service.Operation` (retries included), listing only the operations
    /// called at least once since the snapshot.
    pub attempts: BTreeMap<String, u64>,
    /// Retries since the snapshot, summed over all operations.
    pub retries: u64,
}

/// Thread-safe call counter shared by every client built from one [`crate::config::AwsContext`].
///
/// Keys are `Service.Operation`, e.g. `Backup.ListRecoveryPointsByBackupVault`.
#[derive(Clone, Debug, Default)]
pub struct CallCounter {
    inner: Arc<Mutex<BTreeMap<String, OperationCalls>>>,
}

impl CallCounter {
    /// A counter with nothing recorded.
    pub fn new() -> Self {
        Self::default()
    }

    fn update(&self, key: String, f: impl FnOnce(&mut OperationCalls)) {
        let mut map = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        f(map.entry(key).or_default());
    }

    /// Per-operation details recorded so far (attempts, retries, failed attempts); keep it to
    /// measure later calls with [`CallCounter::calls_since`].
    pub fn snapshot(&self) -> Snapshot {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Attempts per operation (what AWS bills and throttles on).
    pub fn attempts(&self) -> BTreeMap<String, u64> {
        self.snapshot()
            .into_iter()
            .map(|(k, v)| (k, v.attempts))
            .collect()
    }

    /// What was called since `before` (a [`CallCounter::snapshot`] of this counter): attempts
    /// per operation (operations without a new attempt left out) and the retries among them.
    /// A counter [`reset`](CallCounter::reset) since the snapshot counts from zero again, never
    /// below it.
    pub fn calls_since(&self, before: &Snapshot) -> CallsSince {
        let mut since = CallsSince::default();
        for (op, now) in self.snapshot() {
            let then = before.get(&op).copied().unwrap_or_default();
            since.retries += now.retries.saturating_sub(then.retries);
            let attempts = now.attempts.saturating_sub(then.attempts);
            if attempts > 0 {
                since.attempts.insert(op, attempts);
            }
        }
        since
    }

    /// Total attempts over all operations.
    pub fn total(&self) -> u64 {
        self.snapshot().values().map(|c| c.attempts).sum()
    }

    /// Total retries over all operations.
    pub fn total_retries(&self) -> u64 {
        self.snapshot().values().map(|c| c.retries).sum()
    }

    /// True if `other` is this counter (a clone of it), not merely an equal one: what one
    /// records, the other shows.
    pub fn is_shared_with(&self, other: &CallCounter) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Forget everything recorded so far.
    pub fn reset(&self) {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// The interceptor to register on an SDK client config.
    pub fn interceptor(&self) -> CountingInterceptor {
        CountingInterceptor {
            counter: self.clone(),
        }
    }
}

/// Marker stored in the request's config bag after its first attempt, so later attempts of the
/// same invocation count as retries.
#[derive(Debug, Clone)]
struct AttemptSeen;

impl aws_smithy_types::config_bag::Storable for AttemptSeen {
    type Storer = aws_smithy_types::config_bag::StoreReplace<Self>;
}

/// SDK interceptor feeding a [`CallCounter`].
#[derive(Debug, Clone)]
pub struct CountingInterceptor {
    counter: CallCounter,
}

fn operation_key(cfg: &ConfigBag) -> String {
    match cfg.load::<Metadata>() {
        Some(m) => format!("{}.{}", m.service(), m.name()),
        None => "Unknown.Unknown".to_string(),
    }
}

impl Intercept for CountingInterceptor {
    fn name(&self) -> &'static str {
        "backup-guard call counter"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let retry = cfg.load::<AttemptSeen>().is_some();
        cfg.interceptor_state().store_put(AttemptSeen);
        self.counter.update(operation_key(cfg), |c| {
            c.attempts += 1;
            if retry {
                c.retries += 1;
            }
        });
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(Err(_)) = context.output_or_error() {
            self.counter
                .update(operation_key(cfg), |c| c.failed_attempts += 1);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(counter: &CallCounter, op: &str, attempts: u64, retries: u64) {
        counter.update(op.to_string(), |c| {
            c.attempts += attempts;
            c.retries += retries;
        });
    }

    #[test]
    fn calls_since_counts_only_what_came_after_the_snapshot() {
        let counter = CallCounter::new();
        record(&counter, "DynamoDB.GetItem", 2, 1);
        record(&counter, "SNS.Publish", 1, 0);
        let before = counter.snapshot();
        assert_eq!(counter.calls_since(&before), CallsSince::default());

        record(&counter, "DynamoDB.GetItem", 1, 0);
        record(&counter, "Backup.ListBackupPlans", 4, 3);
        let since = counter.calls_since(&before);
        assert_eq!(
            since.attempts,
            [
                ("Backup.ListBackupPlans".to_string(), 4),
                ("DynamoDB.GetItem".to_string(), 1)
            ]
            .into(),
            "SNS.Publish had no new attempt and is left out"
        );
        assert_eq!(since.retries, 3);
    }

    #[test]
    fn calls_since_a_snapshot_taken_before_a_reset_never_goes_below_zero() {
        let counter = CallCounter::new();
        record(&counter, "DynamoDB.GetItem", 5, 2);
        let before = counter.snapshot();
        counter.reset();
        record(&counter, "DynamoDB.GetItem", 1, 1);
        assert_eq!(counter.calls_since(&before), CallsSince::default());
        assert_eq!(counter.calls_since(&Snapshot::new()).retries, 1);
    }
}
