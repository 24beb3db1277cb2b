//! Output plumbing shared by every command: the output format, colour on a terminal, and
//! parsing of the instants users type.

use std::io::IsTerminal;

use clap::ValueEnum;
use jiff::Timestamp;
use policy::Severity;

use crate::error::CliError;

/// The output format (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Human-readable text (the default).
    Text,
    /// One JSON document on stdout.
    Json,
}

/// Whether to colour text output (`--color`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    /// Colour when stdout is a terminal and `NO_COLOR` is unset.
    Auto,
    /// Colour even when stdout is not a terminal.
    Always,
    /// Never colour (plain text).
    Never,
}

/// `--fail-on`: the lowest severity that makes the exit code 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FailOn {
    /// Any finding, informational ones included.
    Info,
    /// Warning and above (default).
    Warning,
    /// Fail on high and critical findings.
    High,
    /// Fail on critical findings only.
    Critical,
    /// Never fail on findings (exit 0 unless the command could not run).
    Never,
}

impl FailOn {
    /// True if a finding of `severity` fails the run.
    pub(crate) fn fails(self, severity: Severity) -> bool {
        let threshold = match self {
            FailOn::Info => Severity::Info,
            FailOn::Warning => Severity::Warning,
            FailOn::High => Severity::High,
            FailOn::Critical => Severity::Critical,
            FailOn::Never => return false,
        };
        severity >= threshold
    }
}

/// ANSI colouring, a no-op when disabled.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Paint {
    enabled: bool,
}

impl Paint {
    /// Decides from `--color`, whether stdout is a terminal, and `NO_COLOR`.
    pub(crate) fn new(choice: ColorChoice) -> Self {
        let enabled = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        };
        Paint { enabled }
    }

    fn wrap(&self, code: &str, s: &str) -> String {
        if self.enabled {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    /// `s` in bold (headings), if colour is on.
    pub(crate) fn bold(&self, s: &str) -> String {
        self.wrap("1", s)
    }
    /// Dim (secondary information).
    pub(crate) fn dim(&self, s: &str) -> String {
        self.wrap("2", s)
    }
    /// Green (good).
    pub(crate) fn green(&self, s: &str) -> String {
        self.wrap("32", s)
    }
    /// Yellow (warning, pending).
    pub(crate) fn yellow(&self, s: &str) -> String {
        self.wrap("33", s)
    }
    /// Red (bad).
    pub(crate) fn red(&self, s: &str) -> String {
        self.wrap("31", s)
    }
    /// Bold red (critical).
    pub(crate) fn red_bold(&self, s: &str) -> String {
        self.wrap("1;31", s)
    }
    /// Cyan (informational).
    pub(crate) fn cyan(&self, s: &str) -> String {
        self.wrap("36", s)
    }

    /// A severity word coloured by its level.
    pub(crate) fn severity(&self, s: Severity) -> String {
        let word = s.as_str().to_uppercase();
        match s {
            Severity::Info => self.cyan(&word),
            Severity::Warning => self.yellow(&word),
            Severity::High => self.red(&word),
            Severity::Critical => self.red_bold(&word),
        }
    }
}

/// Parses an instant typed by a user (`option` names the flag in errors): an RFC 3339
/// timestamp with offset (`2026-11-25T09:00:00Z`, `2026-11-25T10:00:00+01:00`), a date
/// (`2026-11-25`, midnight UTC) or `now`.
pub(crate) fn parse_instant(option: &str, s: &str) -> Result<Timestamp, CliError> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("now") {
        return Ok(Timestamp::now());
    }
    if let Ok(ts) = t.parse::<Timestamp>() {
        return Ok(ts);
    }
    if let Ok(date) = t.parse::<jiff::civil::Date>()
        && let Ok(zoned) = date.to_zoned_datetime(jiff::tz::TimeZone::UTC)
    {
        return Ok(zoned.timestamp());
    }
    Err(CliError::usage(format!(
        "{option}: `{s}` is not an instant; use RFC 3339 with an offset \
         (2026-11-25T09:00:00Z), a date (2026-11-25, midnight UTC) or `now`"
    )))
}

/// Prints a JSON value (pretty) to stdout.
pub(crate) fn print_json(value: &serde_json::Value) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::runtime(format!("cannot render JSON: {e}")))?;
    println!("{text}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_in_three_spellings() {
        assert_eq!(
            parse_instant("--from", "2026-11-25T09:00:00Z")
                .unwrap()
                .to_string(),
            "2026-11-25T09:00:00Z"
        );
        assert_eq!(
            parse_instant("--from", "2026-11-25T10:00:00+01:00")
                .unwrap()
                .to_string(),
            "2026-11-25T09:00:00Z"
        );
        assert_eq!(
            parse_instant("--from", "2026-11-25").unwrap().to_string(),
            "2026-11-25T00:00:00Z"
        );
        let e = parse_instant("--at", "yesterday").unwrap_err();
        assert!(e.to_string().contains("--at"), "{e}");
        assert!(e.to_string().contains("yesterday"), "{e}");
    }

    #[test]
    fn fail_on_thresholds() {
        assert!(FailOn::Warning.fails(Severity::Warning));
        assert!(FailOn::Warning.fails(Severity::Critical));
        assert!(!FailOn::Warning.fails(Severity::Info));
        assert!(!FailOn::High.fails(Severity::Warning));
        assert!(FailOn::Info.fails(Severity::Info));
        assert!(!FailOn::Never.fails(Severity::Critical));
    }

    #[test]
    fn paint_disabled_is_plain() {
        let p = Paint::new(ColorChoice::Never);
        assert_eq!(p.red("x"), "x");
        let p = Paint::new(ColorChoice::Always);
        assert_eq!(p.red("x"), "\x1b[31mx\x1b[0m");
    }
}
