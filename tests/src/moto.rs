//! moto server on a free loopback port: DynamoDB, SNS, SQS, Resource Groups Tagging, STS.
//!
//! Started from the project venv (`.venv`, created by `make venv` with the pinned
//! `moto[server]`) through `tests/moto/local_moto.py`, which runs moto's own server
//! application plus one admin endpoint moto lacks (setting a table's creation time). The
//! process is killed when the [`MotoServer`] is dropped, also while a test panics; if the test
//! process itself is killed, the server notices its parent is gone and exits.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use jiff::Timestamp;

use crate::http;

/// How long to wait for moto to answer after starting it.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
const STDERR_LINES: usize = 40;

/// Why moto could not be started or used.
#[derive(Debug, thiserror::Error)]
pub enum MotoError {
    /// The project venv (or moto in it) is missing.
    #[error("moto is not installed: {0} is missing; run `make venv` at the repository root")]
    NoVenv(String),
    /// Spawning the process failed.
    #[error("cannot start moto ({command}): {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The process exited before it answered.
    #[error("moto exited with {status} before it was ready; its stderr ends with:\n{stderr}")]
    Died {
        /// Exit status.
        status: String,
        /// Last lines of its stderr.
        stderr: String,
    },
    /// The process did not answer in time.
    #[error(
        "moto did not answer on {endpoint} within {timeout:?}; its stderr ends with:\n{stderr}"
    )]
    Timeout {
        /// Its endpoint.
        endpoint: String,
        /// How long we waited.
        timeout: Duration,
        /// Last lines of its stderr.
        stderr: String,
    },
    /// An admin call failed.
    #[error("moto admin call {what} failed: {reason}")]
    Admin {
        /// The call.
        what: String,
        /// Why.
        reason: String,
    },
    /// Finding a free port failed.
    #[error("no free loopback port: {0}")]
    Port(std::io::Error),
}

/// A running moto server (killed on drop).
#[derive(Debug)]
pub struct MotoServer {
    child: Child,
    port: u16,
    stderr: Arc<Mutex<VecDeque<String>>>,
}

/// The repository root (the parent of this crate's directory).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

/// A free TCP port on 127.0.0.1 (bound and released; a tiny race with other processes remains,
/// which [`MotoServer::start`] covers by retrying).
pub fn free_port() -> std::io::Result<u16> {
    let l = TcpListener::bind(("127.0.0.1", 0))?;
    Ok(l.local_addr()?.port())
}

impl MotoServer {
    /// Starts moto on a free loopback port and waits until it answers.
    pub async fn start() -> Result<MotoServer, MotoError> {
        let root = repo_root();
        let python = root.join(".venv/bin/python");
        let moto_server = root.join(".venv/bin/moto_server");
        for needed in [&python, &moto_server] {
            if !needed.exists() {
                return Err(MotoError::NoVenv(needed.display().to_string()));
            }
        }
        let launcher = root.join("tests/moto/local_moto.py");
        let mut last = None;
        // A port taken between `free_port` and moto's bind makes moto exit: try again.
        for _ in 0..3 {
            let port = free_port().map_err(MotoError::Port)?;
            match Self::start_on(&python, &launcher, port).await {
                Ok(m) => return Ok(m),
                Err(MotoError::Died { status, stderr })
                    if stderr.contains("Address already in use") =>
                {
                    last = Some(MotoError::Died { status, stderr });
                }
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or(MotoError::Port(std::io::Error::other("no attempt made"))))
    }

    async fn start_on(python: &Path, launcher: &Path, port: u16) -> Result<MotoServer, MotoError> {
        let mut cmd = Command::new(python);
        cmd.arg(launcher)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .args(["--parent-pid", &std::process::id().to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let command = format!("{cmd:?}");
        let mut child = cmd
            .spawn()
            .map_err(|source| MotoError::Spawn { command, source })?;
        let stderr = Arc::new(Mutex::new(VecDeque::new()));
        if let Some(pipe) = child.stderr.take() {
            let sink = Arc::clone(&stderr);
            // Drain stderr (moto logs every request there) and keep the tail for errors.
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let mut tail = sink.lock().unwrap_or_else(PoisonError::into_inner);
                    if tail.len() == STDERR_LINES {
                        tail.pop_front();
                    }
                    tail.push_back(line);
                }
            });
        }
        let mut server = MotoServer {
            child,
            port,
            stderr,
        };
        server.wait_ready().await?;
        Ok(server)
    }

    async fn wait_ready(&mut self) -> Result<(), MotoError> {
        let started = Instant::now();
        loop {
            // A dead process is reported with its stderr, not as a timeout.
            if let Ok(Some(status)) = self.child.try_wait() {
                // Let the drain thread read the last lines.
                tokio::time::sleep(Duration::from_millis(200)).await;
                return Err(MotoError::Died {
                    status: status.to_string(),
                    stderr: self.stderr_tail(),
                });
            }
            let answer = http::request(
                &self.authority(),
                "GET",
                "/moto-api/data.json",
                None,
                Duration::from_secs(2),
            )
            .await;
            if matches!(answer, Ok(ref r) if r.status == 200) {
                return Ok(());
            }
            if started.elapsed() > STARTUP_TIMEOUT {
                return Err(MotoError::Timeout {
                    endpoint: self.endpoint(),
                    timeout: STARTUP_TIMEOUT,
                    stderr: self.stderr_tail(),
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.authority())
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    fn authority(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The last lines moto wrote to stderr.
    pub fn stderr_tail(&self) -> String {
        let tail = self.stderr.lock().unwrap_or_else(PoisonError::into_inner);
        tail.iter().cloned().collect::<Vec<_>>().join("\n")
    }

    /// Sets a DynamoDB table's creation time (what `DescribeTable` reports).
    pub async fn set_table_created(
        &self,
        account: &str,
        region: &str,
        table: &str,
        created: Timestamp,
    ) -> Result<(), MotoError> {
        let body = serde_json::json!({
            "account": account,
            "region": region,
            "table": table,
            "created": created.as_millisecond() as f64 / 1000.0,
        })
        .to_string();
        let what = format!("set creation time of table {table}");
        let r = http::request(
            &self.authority(),
            "POST",
            "/_local/dynamodb/table-created",
            Some(body.as_bytes()),
            Duration::from_secs(10),
        )
        .await
        .map_err(|e| MotoError::Admin {
            what: what.clone(),
            reason: e.to_string(),
        })?;
        if r.status != 204 {
            return Err(MotoError::Admin {
                what,
                reason: format!("HTTP {}: {}", r.status, String::from_utf8_lossy(&r.body)),
            });
        }
        Ok(())
    }

    /// One AWS call of `service` (`iam`, `organizations`, ...) acting as `account` through
    /// moto's `x-moto-account-id` header (test infrastructure only: seeding calls, never the
    /// code under test). moto does not verify signatures, so the `Authorization` header only
    /// names the service. Returns the status and body.
    pub async fn call_as(
        &self,
        account: &str,
        service: &str,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<(u16, String), MotoError> {
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0"
        );
        let mut all = vec![
            ("Authorization", auth.as_str()),
            ("x-moto-account-id", account),
        ];
        all.extend_from_slice(headers);
        let r = http::request_with(
            &self.authority(),
            method,
            path,
            &all,
            body,
            Duration::from_secs(30),
        )
        .await
        .map_err(|e| MotoError::Admin {
            what: format!("{service} {path} as {account}"),
            reason: e.to_string(),
        })?;
        Ok((r.status, String::from_utf8_lossy(&r.body).into_owned()))
    }

    /// IAM `CreateRole` in `account` (an existing role of that name is kept).
    pub async fn create_role(
        &self,
        account: &str,
        name: &str,
        trust_policy: &str,
    ) -> Result<(), MotoError> {
        let form = format!(
            "Action=CreateRole&Version=2010-05-08&RoleName={}&AssumeRolePolicyDocument={}",
            percent_encode(name),
            percent_encode(trust_policy)
        );
        let (status, body) = self
            .call_as(
                account,
                "iam",
                "POST",
                "/",
                &[("Content-Type", "application/x-www-form-urlencoded")],
                Some(form.as_bytes()),
            )
            .await?;
        if status == 200 || body.contains("EntityAlreadyExists") {
            return Ok(());
        }
        Err(MotoError::Admin {
            what: format!("IAM.CreateRole {name} in {account}"),
            reason: format!("HTTP {status}: {body}"),
        })
    }

    /// One AWS Organizations call (`target` = the operation, e.g. `CreateOrganization`) as
    /// `account`; returns the JSON answer.
    pub async fn organizations(
        &self,
        account: &str,
        target: &str,
        input: &serde_json::Value,
    ) -> Result<serde_json::Value, MotoError> {
        let amz_target = format!("AWSOrganizationsV20161128.{target}");
        let body = input.to_string();
        let (status, text) = self
            .call_as(
                account,
                "organizations",
                "POST",
                "/",
                &[
                    ("Content-Type", "application/x-amz-json-1.1"),
                    ("X-Amz-Target", amz_target.as_str()),
                ],
                Some(body.as_bytes()),
            )
            .await?;
        let what = format!("Organizations.{target} as {account}");
        if status != 200 {
            return Err(MotoError::Admin {
                what,
                reason: format!("HTTP {status}: {text}"),
            });
        }
        serde_json::from_str(&text).map_err(|e| MotoError::Admin {
            what,
            reason: format!("not JSON ({e}): {text}"),
        })
    }

    /// Pins the id the next `CreateAccount` of each account name gets (moto draws random
    /// ids otherwise; `tests/moto/local_moto.py` adds this).
    pub async fn pin_account_ids(
        &self,
        ids: &std::collections::BTreeMap<String, String>,
    ) -> Result<(), MotoError> {
        let body = serde_json::to_string(ids).unwrap_or_default();
        let what = "pin CreateAccount ids".to_string();
        let r = http::request(
            &self.authority(),
            "POST",
            "/_local/organizations/account-ids",
            Some(body.as_bytes()),
            Duration::from_secs(10),
        )
        .await
        .map_err(|e| MotoError::Admin {
            what: what.clone(),
            reason: e.to_string(),
        })?;
        if r.status != 204 {
            return Err(MotoError::Admin {
                what,
                reason: format!("HTTP {}: {}", r.status, String::from_utf8_lossy(&r.body)),
            });
        }
        Ok(())
    }

    /// Forgets every resource (moto's `/moto-api/reset`).
    pub async fn reset(&self) -> Result<(), MotoError> {
        let r = http::request(
            &self.authority(),
            "POST",
            "/moto-api/reset",
            None,
            Duration::from_secs(10),
        )
        .await
        .map_err(|e| MotoError::Admin {
            what: "reset".into(),
            reason: e.to_string(),
        })?;
        if r.status != 200 {
            return Err(MotoError::Admin {
                what: "reset".into(),
                reason: format!("HTTP {}", r.status),
            });
        }
        Ok(())
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

/// RFC 3986 percent-encoding of everything but unreserved characters.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
