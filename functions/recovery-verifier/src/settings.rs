//! The function's settings besides the policy, read from its environment variables
//! ([`ENV_TOPIC_ARN`], [`ENV_STATE_TABLE`], [`ENV_REGIONS`], [`ENV_EVIDENCE_BUCKET`]) at
//! start-up. The policy's own
//! `BG_*` variables are read by `policy::Policy::from_env`.

use std::time::Duration;

use crate::payload;

/// Environment variable: the alert topic ARN.
pub const ENV_TOPIC_ARN: &str = "BG_TOPIC_ARN";
/// Environment variable: the state table name.
pub const ENV_STATE_TABLE: &str = "BG_STATE_TABLE";
/// Environment variable: comma-separated regions to verify (default: the function's region).
pub const ENV_REGIONS: &str = "BG_REGIONS";

/// Environment variable: the evidence bucket each run's bundles are written to (optional:
/// unset, no evidence is stored and the digest says so).
pub const ENV_EVIDENCE_BUCKET: &str = "BG_EVIDENCE_BUCKET";

/// How long before the Lambda deadline new work stops (see [`crate::Deps::safety_margin`]).
pub const SAFETY_MARGIN: Duration = Duration::from_secs(45);
/// Concurrent independent calls per region (see [`crate::Deps::concurrency`]).
pub const CONCURRENCY: usize = 8;

/// A configuration problem at start-up, naming the variable and what it accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The policy variables (`BG_*` of the `policy` crate) are invalid.
    #[error(transparent)]
    Policy(#[from] policy::ConfigError),
    /// A required variable is not set, or blank.
    #[error("environment variable {0} is not set (the template sets it)")]
    Missing(&'static str),
    /// `BG_REGIONS` names something that is not a region.
    #[error(
        "{ENV_REGIONS}={value:?} is invalid: {bad:?} is not a region name; accepted: comma-separated region names such as eu-west-1,us-east-1"
    )]
    InvalidRegion {
        /// The whole value of `BG_REGIONS`.
        value: String,
        /// The entry that is not a region name.
        bad: String,
    },
    /// The function's own region is unknown: its SNS and state-table clients (and the
    /// default region to verify) need it.
    #[error("no AWS region configured (AWS_REGION)")]
    NoRegion,
}

/// The verifier's settings: where to publish and keep state, which regions to verify, and the
/// fixed limits of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// ARN of the SNS topic the digest is published to (`BG_TOPIC_ARN`).
    pub topic_arn: String,
    /// Name of the DynamoDB table the open findings are kept in between runs
    /// (`BG_STATE_TABLE`).
    pub state_table: String,
    /// The regions to verify, in order and without duplicates (`BG_REGIONS`); `None` means
    /// the function's own region.
    pub regions: Option<Vec<String>>,
    /// The bucket each run's evidence bundles go to (`BG_EVIDENCE_BUCKET`); `None`: none
    /// stored.
    pub evidence_bucket: Option<String>,
    /// Stop starting new work this long before the Lambda deadline ([`SAFETY_MARGIN`]).
    pub safety_margin: Duration,
    /// Concurrent independent calls per region ([`CONCURRENCY`]).
    pub concurrency: usize,
}

impl Settings {
    /// Reads the settings from `(name, value)` pairs (the last of a name wins; values are
    /// trimmed and a blank one counts as unset; other names are ignored).
    pub fn from_vars(vars: &[(String, String)]) -> Result<Settings, ConfigError> {
        let get = |name: &str| policy::config::setting(vars, name);
        let topic_arn = get(ENV_TOPIC_ARN).ok_or(ConfigError::Missing(ENV_TOPIC_ARN))?;
        let state_table = get(ENV_STATE_TABLE).ok_or(ConfigError::Missing(ENV_STATE_TABLE))?;
        let regions = parse_regions(&get(ENV_REGIONS).unwrap_or_default())?;
        Ok(Settings {
            topic_arn,
            state_table,
            regions,
            evidence_bucket: get(ENV_EVIDENCE_BUCKET),
            safety_margin: SAFETY_MARGIN,
            concurrency: CONCURRENCY,
        })
    }

    /// Reads the settings from the process environment ([`Settings::from_vars`]).
    pub fn from_env() -> Result<Settings, ConfigError> {
        let vars: Vec<(String, String)> = [
            ENV_TOPIC_ARN,
            ENV_STATE_TABLE,
            ENV_REGIONS,
            ENV_EVIDENCE_BUCKET,
        ]
        .iter()
        .filter_map(|n| std::env::var(n).ok().map(|v| (n.to_string(), v)))
        .collect();
        Settings::from_vars(&vars)
    }

    /// The regions to verify: the configured ones, or else the function's own region
    /// (`home`). [`ConfigError::NoRegion`] if the function's own region is unknown, whatever
    /// is configured: the digest and the state are sent there.
    pub fn regions_or(&self, home: Option<&str>) -> Result<Vec<String>, ConfigError> {
        let home = home.ok_or(ConfigError::NoRegion)?;
        Ok(self
            .regions
            .clone()
            .unwrap_or_else(|| vec![home.to_string()]))
    }
}

/// Parses a `BG_REGIONS` value: comma-separated region names, blanks ignored, duplicates
/// dropped (the first kept). An empty list gives `None`.
pub fn parse_regions(value: &str) -> Result<Option<Vec<String>>, ConfigError> {
    let mut out: Vec<String> = Vec::new();
    for r in value.split(',').map(str::trim).filter(|r| !r.is_empty()) {
        if !payload::is_region_name(r) {
            return Err(ConfigError::InvalidRegion {
                value: value.to_string(),
                bad: r.to_string(),
            });
        }
        if !out.iter().any(|x| x == r) {
            out.push(r.to_string());
        }
    }
    Ok((!out.is_empty()).then_some(out))
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

    const BASE: [(&str, &str); 2] = [
        (ENV_TOPIC_ARN, " arn:aws:sns:eu-west-1:123456789012:alerts "),
        (ENV_STATE_TABLE, "state"),
    ];

    #[test]
    fn required_variables_are_named_when_missing_or_blank() {
        let e = Settings::from_vars(&vars(&[(ENV_STATE_TABLE, "state")])).unwrap_err();
        assert_eq!(e, ConfigError::Missing(ENV_TOPIC_ARN));
        assert_eq!(
            e.to_string(),
            "environment variable BG_TOPIC_ARN is not set (the template sets it)"
        );
        let e = Settings::from_vars(&vars(&[(ENV_TOPIC_ARN, "arn:t"), (ENV_STATE_TABLE, "  ")]))
            .unwrap_err();
        assert_eq!(e, ConfigError::Missing(ENV_STATE_TABLE));
    }

    #[test]
    fn values_are_trimmed_and_regions_default_to_the_home_region() {
        let s = Settings::from_vars(&vars(&BASE)).unwrap();
        assert_eq!(s.topic_arn, "arn:aws:sns:eu-west-1:123456789012:alerts");
        assert_eq!(s.state_table, "state");
        assert_eq!(s.regions, None);
        assert_eq!(s.evidence_bucket, None);
        let mut v = vars(&BASE);
        v.push((ENV_EVIDENCE_BUCKET.into(), " evidence-bucket ".into()));
        assert_eq!(
            Settings::from_vars(&v).unwrap().evidence_bucket.as_deref(),
            Some("evidence-bucket")
        );
        assert_eq!(
            (s.safety_margin, s.concurrency),
            (SAFETY_MARGIN, CONCURRENCY)
        );
        assert_eq!(s.regions_or(Some("eu-west-1")).unwrap(), vec!["eu-west-1"]);
        assert_eq!(s.regions_or(None).unwrap_err(), ConfigError::NoRegion);
        assert!(
            s.regions_or(None)
                .unwrap_err()
                .to_string()
                .contains("AWS_REGION")
        );
    }

    #[test]
    fn regions_are_listed_once_in_order_and_win_over_the_home_region() {
        let mut v = vars(&BASE);
        v.push((
            ENV_REGIONS.into(),
            " us-east-1, ,eu-west-1,us-east-1 ".into(),
        ));
        let s = Settings::from_vars(&v).unwrap();
        assert_eq!(
            s.regions_or(Some("eu-central-1")).unwrap(),
            vec!["us-east-1", "eu-west-1"]
        );
        assert_eq!(s.regions_or(None).unwrap_err(), ConfigError::NoRegion);
    }

    #[test]
    fn a_bad_region_is_named_with_what_is_accepted() {
        let mut v = vars(&BASE);
        v.push((ENV_REGIONS.into(), "eu-west-1,Europe".into()));
        let e = Settings::from_vars(&v).unwrap_err();
        assert_eq!(
            e,
            ConfigError::InvalidRegion {
                value: "eu-west-1,Europe".into(),
                bad: "Europe".into()
            }
        );
        assert_eq!(
            e.to_string(),
            "BG_REGIONS=\"eu-west-1,Europe\" is invalid: \"Europe\" is not a region name; accepted: comma-separated region names such as eu-west-1,us-east-1"
        );
    }
}
