//! The CLI's error and exit-code model.
//!
//! | exit | meaning |
//! |---|---|
//! | 0 | ok / compliant |
//! | 1 | findings at or above `--fail-on`, plan deviations, no recovery point to restore |
//! | 2 | the command could not do its job: bad usage or input (file, expression, event, policy variable) or an account that could not be read; the message names what was wrong |

use std::process::ExitCode;

/// How a command that ran to the end exits: 0 when it found nothing at or above the
/// threshold, 1 when it found something (see the table above). Not a table's policy verdict
/// (that is [`policy::Verdict`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExitStatus {
    /// Exit 0: nothing at or above the threshold.
    Ok,
    /// Exit 1: findings at or above `--fail-on`, plan deviations, or no recovery point found.
    Findings,
}

impl ExitStatus {
    /// The process exit code (0 or 1).
    pub(crate) fn exit_code(self) -> ExitCode {
        match self {
            ExitStatus::Ok => ExitCode::SUCCESS,
            ExitStatus::Findings => ExitCode::from(1),
        }
    }
}

/// A command that could not run to the end.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// Bad usage or input (exit 2); the message names what was wrong.
    #[error("{0}")]
    Usage(String),
    /// The account (or something else outside the input) could not be read.
    #[error("{0}")]
    Runtime(String),
}

impl CliError {
    /// A usage or input error (exit 2) with `msg` saying what was wrong.
    pub(crate) fn usage(msg: impl Into<String>) -> Self {
        CliError::Usage(msg.into())
    }

    /// A runtime error (exit 2): something outside the input could not be read; `msg` says what.
    pub(crate) fn runtime(msg: impl Into<String>) -> Self {
        CliError::Runtime(msg.into())
    }

    /// Exit code 2 for both kinds.
    pub(crate) fn exit_code(&self) -> ExitCode {
        ExitCode::from(2)
    }
}

/// Reads the policy from the `BG_*` variables as the functions do.
pub(crate) fn policy_from_env() -> Result<policy::Policy, CliError> {
    policy::Policy::from_env()
        .map_err(|e| CliError::usage(format!("policy configuration (BG_* variables): {e}")))
}

/// Reads a file named on the command line (`-` = stdin); errors name the file.
pub(crate) fn read_input(what: &str, path: &std::path::Path) -> Result<String, CliError> {
    if path.as_os_str() == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
            .map_err(|e| CliError::usage(format!("{what}: cannot read stdin: {e}")))?;
        return Ok(s);
    }
    std::fs::read_to_string(path)
        .map_err(|e| CliError::usage(format!("{what} {}: cannot read: {e}", path.display())))
}
