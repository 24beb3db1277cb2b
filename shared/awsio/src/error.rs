//! Errors of AWS calls, always naming the operation that failed.

use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// An AWS call that failed after the SDK's retries.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{operation} failed{}: {message}", code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
pub struct AwsCallError {
    /// `Service.Operation`, e.g. `Backup.ListRecoveryPointsByBackupVault`.
    pub operation: String,
    /// The AWS error code (`ThrottlingException`, `AccessDeniedException` …) when there was one.
    pub code: Option<String>,
    /// The full error chain as text.
    pub message: String,
}

impl AwsCallError {
    /// Wraps an SDK error with the operation it came from.
    pub fn new<E>(operation: impl Into<String>, err: E) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        Self {
            operation: operation.into(),
            code: err.code().map(str::to_string),
            message: DisplayErrorContext(&err).to_string(),
        }
    }

    /// An error that is not an SDK error (for example a response missing a required field).
    pub fn invalid_response(operation: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            operation: operation.into(),
            code: None,
            message: message.into(),
        }
    }

    /// True if the final error was throttling (after retries).
    pub fn is_throttling(&self) -> bool {
        matches!(
            self.code.as_deref(),
            Some(
                "ThrottlingException"
                    | "Throttling"
                    | "TooManyRequestsException"
                    | "ProvisionedThroughputExceededException"
                    | "RequestLimitExceeded"
                    | "LimitExceededException"
            )
        )
    }

    /// True if the resource does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(
            self.code.as_deref(),
            Some("ResourceNotFoundException" | "NotFoundException" | "NotFound" | "NoSuchKey")
        )
    }
}

/// Extension to attach the operation name to an SDK result: `.op("Backup.GetBackupPlan")?`.
pub trait OperationContext<T> {
    /// Maps the error into an [`AwsCallError`] naming `operation`.
    fn op(self, operation: &str) -> Result<T, AwsCallError>;
}

impl<T, E> OperationContext<T> for Result<T, E>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    fn op(self, operation: &str) -> Result<T, AwsCallError> {
        self.map_err(|e| AwsCallError::new(operation, e))
    }
}
