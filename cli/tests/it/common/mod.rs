//! Helpers shared by the CLI tests that run `backup-guard` against a local account.

#![allow(dead_code)]

use assert_cmd::Command;
use serde_json::Value;

/// `backup-guard` with only the local account's environment: no `BG_*` policy variables, AWS
/// profile, default region, session token or `NO_COLOR` leak in from the test's own env.
pub fn bg(env: &[(String, String)]) -> Command {
    let mut c = Command::cargo_bin("backup-guard").unwrap();
    for v in policy::config::vars::ALL {
        c.env_remove(v);
    }
    for v in [
        "AWS_PROFILE",
        "AWS_DEFAULT_REGION",
        "AWS_SESSION_TOKEN",
        "NO_COLOR",
    ] {
        c.env_remove(v);
    }
    c.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    c
}

/// Runs the command off the async runtime's worker (the stand-in is served by this runtime).
pub fn run(c: &mut Command) -> std::process::Output {
    tokio::task::block_in_place(|| c.output().unwrap())
}

/// The command's stdout as JSON, or a panic showing stdout and stderr.
pub fn json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}
