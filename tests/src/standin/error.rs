//! Errors: AWS-shaped API errors (what the SDK sees) and admin/Rust-API errors.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// An AWS Backup error response: HTTP status, `x-amzn-errortype` header and a JSON body
/// `{"__type": code, "Message": message}` — the SDK reads the code from the header (or
/// `__type`) and the message from `Message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Error code, e.g. `ResourceNotFoundException`.
    pub code: &'static str,
    /// Human-readable message.
    pub message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// `ResourceNotFoundException` (404).
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "ResourceNotFoundException", message)
    }

    /// `InvalidParameterValueException` (400).
    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidParameterValueException",
            message,
        )
    }

    /// `MissingParameterValueException` (400).
    pub fn missing_parameter(name: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "MissingParameterValueException",
            format!("{name} is required"),
        )
    }

    /// `AlreadyExistsException` (400).
    pub fn already_exists(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "AlreadyExistsException", message)
    }

    /// `InvalidRequestException` (400).
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidRequestException", message)
    }

    /// `ThrottlingException` (400): the SDK classifies it as a throttling error by code.
    pub fn throttling() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "ThrottlingException",
            "Rate exceeded",
        )
    }

    /// `ServiceUnavailableException` (503).
    pub fn service_unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailableException",
            "The request failed due to a temporary failure of the server (injected by the stand-in)",
        )
    }

    /// A plain internal error (500, code `InternalFailure`).
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalFailure",
            "Internal server error (injected by the stand-in)",
        )
    }

    /// `AccessDeniedException` (403).
    pub fn access_denied() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "AccessDeniedException",
            "User is not authorized to perform this action (injected by the stand-in)",
        )
    }

    /// `UnknownOperationException` (404) for a method/path no operation uses.
    pub fn unknown_operation(method: &str, path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "UnknownOperationException",
            format!("the Backup stand-in serves no operation at {method} {path}"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "__type": self.code, "Message": self.message });
        let mut response = (self.status, axum::Json(body)).into_response();
        response
            .headers_mut()
            .insert("x-amzn-errortype", HeaderValue::from_static(self.code));
        response
    }
}

/// Errors of the admin API and of the typed Rust API ([`super::StandIn`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StandInError {
    /// A record names a vault that was never created.
    #[error(
        "backup vault {0:?} does not exist in the stand-in (create it with CreateBackupVault first)"
    )]
    UnknownVault(String),
    /// A record or fault is malformed.
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// What was being read (e.g. `recovery point #3`).
        what: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A record with this id already exists.
    #[error("{0} already exists in the stand-in")]
    Duplicate(String),
}

impl StandInError {
    /// The HTTP status the admin API answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::UnknownVault(_) => StatusCode::NOT_FOUND,
            Self::Invalid { .. } => StatusCode::BAD_REQUEST,
            Self::Duplicate(_) => StatusCode::CONFLICT,
        }
    }
}

impl IntoResponse for StandInError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.to_string() });
        (self.status(), axum::Json(body)).into_response()
    }
}
