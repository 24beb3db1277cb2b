//! The function's settings besides the policy: where alerts go and the ledger lives (from the
//! environment), and the timing constants that bound an invocation (cache lifetime, lease,
//! reserves; see the invariant in [`crate::handler`]).

use std::time::Duration;

use awsio::table::Backoff;

/// Environment variable: the alert topic ARN (required).
pub const ENV_TOPIC_ARN: &str = "BG_TOPIC_ARN";
/// Environment variable: the state table name (required).
pub const ENV_STATE_TABLE: &str = "BG_STATE_TABLE";
/// Environment variable: `true` to alert for compliant tables too (default `false`).
pub const ENV_NOTIFY_COMPLIANT: &str = "BG_NOTIFY_COMPLIANT";
/// Environment variable: the CloudFormation stack that deployed the function (optional; the
/// template sets it): change alerts about the stack's own plan, vault or key name it.
pub const ENV_STACK_NAME: &str = "BG_STACK_NAME";

/// How long the backup plans and selections read by one invocation are reused.
pub const SETUP_CACHE_TTL: Duration = Duration::from_secs(60);
/// How long an event id is remembered (EventBridge retries for up to 24 hours, Lambda async
/// retries for up to 6).
pub const LEDGER_TTL: Duration = Duration::from_secs(3 * 24 * 3600);
/// The budget of an invocation without a usable deadline (none, or already past: `cargo
/// lambda watch`, the CLI): the template's function timeout.
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(30);
/// How long a claim's lease outlasts the invocation's deadline (clock differences between
/// invocations); far below the minute until Lambda's first retry.
pub const LEASE_MARGIN: Duration = Duration::from_secs(5);
/// Time kept from the main phase for recording the outcome or releasing the claim.
pub const RECORD_RESERVE: Duration = Duration::from_secs(5);
/// The recording phase ends this long before the deadline, to return in time.
pub const RETURN_SLACK: Duration = Duration::from_millis(250);

/// A configuration problem found at start-up, naming the variable and what it accepts; the
/// function then refuses to start rather than guard with a wrong setting.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The policy variables (`BG_*` of the `policy` crate) are invalid.
    #[error(transparent)]
    Policy(#[from] policy::ConfigError),
    /// A required variable is not set, or only to blanks.
    #[error("{0} is not set (required)")]
    Missing(&'static str),
    /// A variable is set to a value the function does not accept.
    #[error("{var}={value:?} is invalid; accepted: {accepted}")]
    Invalid {
        /// The environment variable's name.
        var: &'static str,
        /// The value it was set to (trimmed).
        value: String,
        /// The values it accepts, for the error message.
        accepted: &'static str,
    },
}

/// The function's settings besides the policy: where alerts go, where the ledger lives, and
/// the timings that keep every invocation within its deadline. Tests and the CLI adjust the
/// public fields after [`Settings::from_vars`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// ARN of the SNS topic every alert is published to ([`ENV_TOPIC_ARN`]).
    pub topic_arn: String,
    /// Name of the DynamoDB state table holding the event ledger ([`ENV_STATE_TABLE`]).
    pub state_table: String,
    /// Alert for compliant, pending and exempt tables too, not only for what needs a human
    /// ([`ENV_NOTIFY_COMPLIANT`]).
    pub notify_compliant: bool,
    /// Re-reads of tags that the event set but the read does not show yet.
    pub tag_read: Backoff,
    /// How `TagResource` is retried when adding the backup tag (attempts and delays).
    pub tag_write: Backoff,
    /// How long a fully read backup setup is reused by later invocations
    /// ([`SETUP_CACHE_TTL`]; zero reads it every time).
    pub setup_ttl: Duration,
    /// Budget of an invocation without a usable deadline ([`DEFAULT_BUDGET`]).
    pub default_budget: Duration,
    /// How long the claim's lease outlasts the invocation's deadline ([`LEASE_MARGIN`]).
    pub lease_margin: Duration,
    /// Time kept from the main phase for the ledger write that ends it ([`RECORD_RESERVE`]).
    pub record_reserve: Duration,
    /// The stack that deployed the function ([`ENV_STACK_NAME`]), if set.
    pub stack_name: Option<String>,
}

impl Settings {
    /// Reads the settings from the process environment (see [`Settings::from_vars`]).
    pub fn from_env() -> Result<Self, ConfigError> {
        let vars: Vec<(String, String)> = [
            ENV_TOPIC_ARN,
            ENV_STATE_TABLE,
            ENV_NOTIFY_COMPLIANT,
            ENV_STACK_NAME,
        ]
        .iter()
        .filter_map(|n| std::env::var(n).ok().map(|v| (n.to_string(), v)))
        .collect();
        Self::from_vars(&vars)
    }

    /// Reads `BG_TOPIC_ARN`, `BG_STATE_TABLE`, `BG_NOTIFY_COMPLIANT`, `BG_STACK_NAME` from `(name, value)` pairs
    /// (the last of a repeated name wins; blank counts as unset); the timings get their
    /// defaults.
    pub fn from_vars(vars: &[(String, String)]) -> Result<Self, ConfigError> {
        let get = |name: &str| policy::config::setting(vars, name);
        let topic_arn = get(ENV_TOPIC_ARN).ok_or(ConfigError::Missing(ENV_TOPIC_ARN))?;
        let state_table = get(ENV_STATE_TABLE).ok_or(ConfigError::Missing(ENV_STATE_TABLE))?;
        let notify_compliant = match get(ENV_NOTIFY_COMPLIANT).as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    var: ENV_NOTIFY_COMPLIANT,
                    value: other.to_string(),
                    accepted: "true or false",
                });
            }
        };
        Ok(Settings {
            topic_arn,
            state_table,
            notify_compliant,
            tag_read: Backoff::tag_read(),
            tag_write: Backoff::tag_write(),
            setup_ttl: SETUP_CACHE_TTL,
            default_budget: DEFAULT_BUDGET,
            lease_margin: LEASE_MARGIN,
            record_reserve: RECORD_RESERVE,
            stack_name: get(ENV_STACK_NAME),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn settings_need_topic_and_state_table() {
        let e = Settings::from_vars(&vars(&[(ENV_STATE_TABLE, "t")])).unwrap_err();
        assert!(e.to_string().contains(ENV_TOPIC_ARN), "{e}");
        let e = Settings::from_vars(&vars(&[(ENV_TOPIC_ARN, "arn:t")])).unwrap_err();
        assert!(e.to_string().contains(ENV_STATE_TABLE), "{e}");
        let s = Settings::from_vars(&vars(&[(ENV_TOPIC_ARN, "arn:t"), (ENV_STATE_TABLE, "t")]))
            .unwrap();
        assert!(!s.notify_compliant);
        assert_eq!(s.setup_ttl, SETUP_CACHE_TTL);
    }

    #[test]
    fn notify_compliant_accepts_only_true_or_false() {
        let base = [(ENV_TOPIC_ARN, "arn:t"), (ENV_STATE_TABLE, "t")];
        let with = |v: &str| {
            let mut p = base.to_vec();
            p.push((ENV_NOTIFY_COMPLIANT, v));
            Settings::from_vars(&vars(&p))
        };
        assert!(with("true").unwrap().notify_compliant);
        assert!(!with("false").unwrap().notify_compliant);
        let e = with("yes").unwrap_err();
        assert!(e.to_string().contains("BG_NOTIFY_COMPLIANT=\"yes\""), "{e}");
    }

    #[test]
    fn the_budget_settings_default_to_the_templates_timeout_and_fit_before_lambdas_retry() {
        let s = Settings::from_vars(&vars(&[(ENV_TOPIC_ARN, "arn:t"), (ENV_STATE_TABLE, "t")]))
            .unwrap();
        assert_eq!(s.default_budget, Duration::from_secs(30));
        assert!(s.record_reserve < s.default_budget);
        // The lease of a 30 s invocation ends well before Lambda's first retry (~60 s).
        assert!(s.default_budget + s.lease_margin < Duration::from_secs(60));
    }
}
