//! A minimal HTTP/1.1 client for the stand-in's `/_standin/` admin API, so that tools and
//! tests in other processes can seed and steer a stand-in (e.g. one started by the
//! `backup-standin` binary) without an HTTP client dependency. Loopback, plain HTTP only.

use super::faults::Fault;
use serde_json::Value;
use std::collections::BTreeMap;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Errors talking to the admin API.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The endpoint is not `http://host:port`.
    #[error("stand-in endpoint {0:?} is not of the form http://host:port")]
    Endpoint(String),
    /// Connecting, writing or reading failed.
    #[error("stand-in admin request {request} failed: {source}")]
    Io {
        /// `METHOD path`.
        request: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The answer was not HTTP or not JSON.
    #[error("stand-in admin request {request}: malformed response: {reason}")]
    Malformed {
        /// `METHOD path`.
        request: String,
        /// What was wrong.
        reason: String,
    },
    /// The stand-in refused the request.
    #[error("stand-in admin request {request} answered {status}: {message}")]
    Refused {
        /// `METHOD path`.
        request: String,
        /// HTTP status.
        status: u16,
        /// The `error` member of the answer (or its body).
        message: String,
    },
}

/// Calls one stand-in's admin API.
#[derive(Debug, Clone)]
pub struct AdminClient {
    host_port: String,
}

impl AdminClient {
    /// For an endpoint such as `http://127.0.0.1:4599` (a trailing `/` is allowed).
    pub fn new(endpoint: &str) -> Result<AdminClient, AdminError> {
        let host_port = endpoint
            .strip_prefix("http://")
            .map(|s| s.trim_end_matches('/'))
            .filter(|s| !s.is_empty() && !s.contains('/') && s.contains(':'))
            .ok_or_else(|| AdminError::Endpoint(endpoint.to_string()))?;
        Ok(AdminClient {
            host_port: host_port.to_string(),
        })
    }

    /// Sends one request; returns the JSON answer of a 2xx response.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, AdminError> {
        let request = format!("{method} {path}");
        let io = |source| AdminError::Io {
            request: request.clone(),
            source,
        };
        let payload = body.map(Value::to_string).unwrap_or_default();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.host_port,
            payload.len()
        );
        let mut stream = TcpStream::connect(&self.host_port).await.map_err(io)?;
        stream.write_all(head.as_bytes()).await.map_err(io)?;
        stream.write_all(payload.as_bytes()).await.map_err(io)?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.map_err(io)?;
        let malformed = |reason: String| AdminError::Malformed {
            request: request.clone(),
            reason,
        };
        let text = String::from_utf8(raw).map_err(|e| malformed(format!("not UTF-8: {e}")))?;
        let (head, body) = text
            .split_once("\r\n\r\n")
            .ok_or_else(|| malformed("no end of headers".into()))?;
        let status: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| malformed(format!("bad status line in {head:?}")))?;
        if head.lines().any(|l| {
            l.to_ascii_lowercase()
                .starts_with("transfer-encoding: chunked")
        }) {
            return Err(malformed("chunked responses are not supported".into()));
        }
        let json: Value = if body.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(body).map_err(|e| malformed(format!("body is not JSON: {e}")))?
        };
        if !(200..300).contains(&status) {
            let message = json
                .get("error")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| body.to_string());
            return Err(AdminError::Refused {
                request,
                status,
                message,
            });
        }
        Ok(json)
    }

    fn count(&self, request: &str, v: &Value) -> Result<usize, AdminError> {
        v.get("added")
            .and_then(Value::as_u64)
            .map(|n| n as usize)
            .ok_or_else(|| AdminError::Malformed {
                request: request.to_string(),
                reason: format!("no \"added\" count in {v}"),
            })
    }

    /// `POST /_standin/recovery-points` with a JSON array; returns how many were added.
    pub async fn add_recovery_points(&self, points: &Value) -> Result<usize, AdminError> {
        let v = self
            .request("POST", "/_standin/recovery-points", Some(points))
            .await?;
        self.count("POST /_standin/recovery-points", &v)
    }

    /// `POST /_standin/backup-jobs` with a JSON array; returns how many were added.
    pub async fn add_backup_jobs(&self, jobs: &Value) -> Result<usize, AdminError> {
        let v = self
            .request("POST", "/_standin/backup-jobs", Some(jobs))
            .await?;
        self.count("POST /_standin/backup-jobs", &v)
    }

    /// `POST /_standin/faults`.
    pub async fn set_fault(&self, fault: &Fault) -> Result<(), AdminError> {
        let body = serde_json::to_value(fault).map_err(|e| AdminError::Malformed {
            request: "POST /_standin/faults".into(),
            reason: e.to_string(),
        })?;
        self.request("POST", "/_standin/faults", Some(&body))
            .await
            .map(drop)
    }

    /// `DELETE /_standin/faults`.
    pub async fn clear_faults(&self) -> Result<(), AdminError> {
        self.request("DELETE", "/_standin/faults", None)
            .await
            .map(drop)
    }

    /// `GET /_standin/calls`.
    pub async fn calls(&self) -> Result<BTreeMap<String, u64>, AdminError> {
        let v = self.request("GET", "/_standin/calls", None).await?;
        serde_json::from_value(v).map_err(|e| AdminError::Malformed {
            request: "GET /_standin/calls".into(),
            reason: e.to_string(),
        })
    }

    /// `DELETE /_standin/calls`.
    pub async fn reset_calls(&self) -> Result<(), AdminError> {
        self.request("DELETE", "/_standin/calls", None)
            .await
            .map(drop)
    }

    /// `POST /_standin/reset`.
    pub async fn reset(&self) -> Result<(), AdminError> {
        self.request("POST", "/_standin/reset", None)
            .await
            .map(drop)
    }
}
