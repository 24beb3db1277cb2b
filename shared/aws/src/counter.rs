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

    /// Per-operation details.
    pub fn snapshot(&self) -> BTreeMap<String, OperationCalls> {
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
