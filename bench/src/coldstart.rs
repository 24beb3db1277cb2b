//! Init time of a Lambda function binary: from process spawn to its first poll of the Lambda
//! Runtime API (`GET /2018-06-01/runtime/invocation/next`), measured with a minimal Runtime
//! API emulator on a loopback port. The function gets a Lambda-like environment (cleared, then
//! the runtime's variables, a region, fake credentials and backup-guard's variables) and is
//! killed as soon as it polls: what is measured is exactly what Lambda bills as *Init*
//! (minus the sandbox's own start-up).

use std::io::{ErrorKind, Read};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The path every runtime polls for its next invocation.
pub const NEXT_INVOCATION: &str = "/2018-06-01/runtime/invocation/next";

/// The variables Lambda sets for a `provided.al2023` function (besides the Runtime API
/// address), with fake credentials and backup-guard's configuration.
pub fn lambda_env(function_name: &str) -> Vec<(String, String)> {
    [
        ("AWS_LAMBDA_FUNCTION_NAME", function_name),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bench"),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/25/[$LATEST]bench"),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
        ("_HANDLER", "bootstrap"),
        ("LAMBDA_TASK_ROOT", "/var/task"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "AKIDBENCHFAKE"),
        ("AWS_SECRET_ACCESS_KEY", "bench-fake-secret"),
        ("AWS_SESSION_TOKEN", "bench-fake-token"),
        (
            "BG_TOPIC_ARN",
            "arn:aws:sns:us-east-1:123456789012:backup-guard-alerts",
        ),
        ("BG_STATE_TABLE", "backup-guard-state"),
        ("TZ", ":UTC"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// One init: spawns `binary` with `env` and the emulator's address, returns the time until
/// its first `next` poll.
pub fn measure_init_once(
    binary: &Path,
    env: &[(String, String)],
    timeout: Duration,
) -> Result<Duration, String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .map_err(|e| format!("cannot bind the Runtime API emulator: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("emulator address: {e}"))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("emulator: {e}"))?;
    let started = Instant::now();
    let mut child = Command::new(binary)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let result = loop {
        match listener.accept() {
            Ok((mut stream, _)) => {
                let _ = stream.set_nonblocking(false);
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                let mut buf = [0u8; 1024];
                let n = stream.read(&mut buf).unwrap_or(0);
                let elapsed = started.elapsed();
                let head = String::from_utf8_lossy(&buf[..n]);
                let first = head.lines().next().unwrap_or("").to_string();
                if first.starts_with(&format!("GET {NEXT_INVOCATION}")) {
                    break Ok(elapsed);
                }
                break Err(format!(
                    "first request was {first:?}, not GET {NEXT_INVOCATION}"
                ));
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                if let Ok(Some(status)) = child.try_wait() {
                    let mut err = String::new();
                    if let Some(mut s) = child.stderr.take() {
                        let _ = s.read_to_string(&mut err);
                    }
                    let tail: String = err.lines().rev().take(5).collect::<Vec<_>>().join(" | ");
                    break Err(format!(
                        "{} exited with {status} before polling the Runtime API: {tail}",
                        binary.display()
                    ));
                }
                if started.elapsed() > timeout {
                    break Err(format!(
                        "{} did not poll the Runtime API within {timeout:?}",
                        binary.display()
                    ));
                }
                std::thread::sleep(Duration::from_micros(200));
            }
            Err(e) => break Err(format!("emulator accept: {e}")),
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    result
}

/// `runs` inits of `binary`; init times in milliseconds.
pub fn measure_init(
    binary: &Path,
    env: &[(String, String)],
    runs: usize,
) -> Result<Vec<f64>, String> {
    (0..runs)
        .map(|_| {
            measure_init_once(binary, env, Duration::from_secs(10))
                .map(|d| d.as_secs_f64() * 1000.0)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_binary_that_never_polls_is_reported_not_timed() {
        // `true` exits at once without polling: an error naming the binary, not a time.
        let e = measure_init_once(Path::new("/bin/true"), &[], Duration::from_secs(5)).unwrap_err();
        assert!(
            e.contains("/bin/true") && e.contains("before polling"),
            "{e}"
        );
    }
}
