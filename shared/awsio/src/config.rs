//! Building SDK clients: one place for region, credentials, retries, timeouts and endpoints.
//!
//! Endpoints come only from the standard `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>`
//! variables (`_BACKUP`, `_DYNAMODB`, `_KMS`, `_SNS`, `_RESOURCE_GROUPS_TAGGING_API`, `_STS`,
//! `_S3`), resolved by `aws-config` itself, so the same binaries run against AWS or the local
//! account. An S3 client whose endpoint is overridden that way uses path-style addressing
//! (`http://host/bucket/key`): S3-compatible endpoints such as moto on `127.0.0.1` have no
//! per-bucket host names ([`s3_endpoint_overridden`]).

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

use crate::counter::CallCounter;

/// Retry and timeout settings for every client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientSettings {
    /// Maximum attempts per call (first try included), standard retry mode: exponential
    /// backoff with jitter on throttling, 5xx and transport errors.
    ///
    /// Not adaptive mode: its client-side rate limiter, once throttled, held single later calls
    /// back by 8–20 s here (measured against the local account), far worse than the throttling
    /// it avoids for a function that makes a handful of calls per table or event. The callers
    /// bound their own concurrency instead.
    pub max_attempts: u32,
    /// TCP connect timeout.
    pub connect_timeout: Duration,
    /// Read timeout (time to first byte of a response).
    pub read_timeout: Duration,
    /// Timeout of one attempt.
    pub attempt_timeout: Duration,
    /// Timeout of a whole call, retries included.
    pub operation_timeout: Duration,
    /// Initial backoff before the first retry.
    pub initial_backoff: Duration,
    /// The retry token bucket (the SDK's retry quota) this context's clients draw from:
    /// `None` is the SDK's default, one bucket per service for the whole process (what a
    /// Lambda container wants). Tests that exhaust retries on purpose give each context its
    /// own, so one cell's spent quota does not stop the next cell's retries.
    pub retry_partition: Option<String>,
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            connect_timeout: Duration::from_secs(3),
            read_timeout: Duration::from_secs(20),
            attempt_timeout: Duration::from_secs(30),
            operation_timeout: Duration::from_secs(120),
            initial_backoff: Duration::from_millis(200),
            retry_partition: None,
        }
    }
}

/// The share of the time left that one attempt may take in a context made by
/// [`AwsContext::with_deadline`] (numerator, denominator): a third, so a hung attempt leaves
/// time for two more.
pub const ATTEMPT_SHARE_OF_DEADLINE: (u32, u32) = (1, 3);

/// The shortest timeout [`AwsContext::with_deadline`] sets (when no time is left).
pub const MIN_TIMEOUT: Duration = Duration::from_millis(10);

/// Everything needed to talk to one account and region: the SDK config, the clients and the
/// shared call counter.
///
/// Each client is built on first use (then shared by every later call): a binary that never
/// asks for, say, the STS client does not contain its code (table-guard uses three of the
/// six), which keeps the Lambda bootstraps small.
#[derive(Clone, Debug)]
pub struct AwsContext {
    /// The resolved SDK configuration (region, credentials, endpoints).
    pub sdk_config: SdkConfig,
    retry: RetryConfig,
    retry_partition: Option<String>,
    /// Timeouts replacing the SDK config's (set by [`AwsContext::with_deadline`]).
    timeouts: Option<TimeoutConfig>,
    backup: OnceLock<aws_sdk_backup::Client>,
    dynamodb: OnceLock<aws_sdk_dynamodb::Client>,
    sns: OnceLock<aws_sdk_sns::Client>,
    tagging: OnceLock<aws_sdk_resourcegroupstagging::Client>,
    sts: OnceLock<aws_sdk_sts::Client>,
    kms: OnceLock<aws_sdk_kms::Client>,
    s3: OnceLock<aws_sdk_s3::Client>,
    organizations: OnceLock<aws_sdk_organizations::Client>,
    /// Counts every attempt of every client of this context.
    pub calls: CallCounter,
}

/// One SDK client from the shared config, with this context's retry settings and call counter.
macro_rules! client {
    ($self:ident, $field:ident, $sdk:ident) => {
        client!($self, $field, $sdk, |b| b)
    };
    ($self:ident, $field:ident, $sdk:ident, $customise:expr) => {
        $self.$field.get_or_init(|| {
            let customise = $customise;
            let mut builder = customise($sdk::config::Builder::from(&$self.sdk_config))
                .retry_config($self.retry.clone())
                .interceptor($self.calls.interceptor());
            if let Some(t) = &$self.timeouts {
                builder = builder.timeout_config(t.clone());
            }
            if let Some(p) = &$self.retry_partition {
                builder = builder.retry_partition($sdk::config::retry::RetryPartition::new(
                    format!("{p}-{}", stringify!($field)),
                ));
            }
            $sdk::Client::from_conf(builder.build())
        })
    };
}

impl AwsContext {
    /// Clients for the region configured in the environment (or `region` if given), with
    /// default [`ClientSettings`].
    pub async fn from_env(region: Option<&str>) -> Self {
        let settings = ClientSettings::default();
        let loader = base_loader(region, &settings);
        Self::from_sdk_config(&loader.load().await, &settings)
    }

    /// Clients resolved from an explicit set of environment variables instead of the process
    /// environment (same resolution rules: `AWS_REGION`, `AWS_ACCESS_KEY_ID`,
    /// `AWS_ENDPOINT_URL_<SERVICE>` …). Lets one test process talk to several local accounts.
    #[cfg(feature = "test-env")]
    pub async fn from_vars(vars: &[(String, String)], region: Option<&str>) -> Self {
        let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let env = aws_types::os_shim_internal::Env::from_slice(&pairs);
        // No shared config/credentials files: the variables are the whole truth.
        let fs = aws_types::os_shim_internal::Fs::from_slice(&[]);
        let settings = ClientSettings::default();
        let loader = base_loader(region, &settings).env(env).fs(fs);
        Self::from_sdk_config(&loader.load().await, &settings)
    }

    /// Clients from an already resolved SDK config.
    pub fn from_sdk_config(sdk_config: &SdkConfig, settings: &ClientSettings) -> Self {
        Self {
            sdk_config: sdk_config.clone(),
            retry: retry_config(settings),
            retry_partition: settings.retry_partition.clone(),
            timeouts: None,
            backup: OnceLock::new(),
            dynamodb: OnceLock::new(),
            sns: OnceLock::new(),
            tagging: OnceLock::new(),
            sts: OnceLock::new(),
            kms: OnceLock::new(),
            s3: OnceLock::new(),
            organizations: OnceLock::new(),
            calls: CallCounter::new(),
        }
    }

    /// A copy of this context for work that must end by `deadline` (one invocation, or one
    /// phase of it): same SDK config, HTTP client (connection pool) and the *same*
    /// [`CallCounter`] (its calls add up in `self.calls`), but every client's timeouts are
    /// capped from the time left now: a whole call (retries included) to the time left, one
    /// attempt to [`ATTEMPT_SHARE_OF_DEADLINE`] of it (so one hung attempt leaves time for
    /// retries), and connect/read timeouts to the attempt timeout. Timeouts already shorter
    /// stay as they are.
    ///
    /// Cheap: the clients are built on first use, like this context's. The caps are computed
    /// once, here: a copy made early and used late can still run past `deadline` by up to its
    /// operation timeout, so make a fresh copy for each phase (the table guard makes one for
    /// its main work and one for recording the result) or bound the call yourself. A
    /// deadline already past gives timeouts of [`MIN_TIMEOUT`]: calls fail at once.
    pub fn with_deadline(&self, deadline: Instant) -> AwsContext {
        let left = deadline
            .saturating_duration_since(Instant::now())
            .max(MIN_TIMEOUT);
        let current = self
            .timeouts
            .clone()
            .or_else(|| self.sdk_config.timeout_config().cloned())
            .unwrap_or_else(|| TimeoutConfig::builder().build());
        let operation = current
            .operation_timeout()
            .map_or(left, |t| t.min(left))
            .max(MIN_TIMEOUT);
        let share = operation / ATTEMPT_SHARE_OF_DEADLINE.1 * ATTEMPT_SHARE_OF_DEADLINE.0;
        let attempt = current
            .operation_attempt_timeout()
            .map_or(share, |t| t.min(share))
            .max(MIN_TIMEOUT);
        let cap = |t: Option<Duration>| t.map_or(attempt, |t| t.min(attempt));
        AwsContext {
            sdk_config: self.sdk_config.clone(),
            retry: self.retry.clone(),
            retry_partition: self.retry_partition.clone(),
            timeouts: Some(
                TimeoutConfig::builder()
                    .connect_timeout(cap(current.connect_timeout()))
                    .read_timeout(cap(current.read_timeout()))
                    .operation_attempt_timeout(attempt)
                    .operation_timeout(operation)
                    .build(),
            ),
            backup: OnceLock::new(),
            dynamodb: OnceLock::new(),
            sns: OnceLock::new(),
            tagging: OnceLock::new(),
            sts: OnceLock::new(),
            kms: OnceLock::new(),
            s3: OnceLock::new(),
            organizations: OnceLock::new(),
            calls: self.calls.clone(),
        }
    }

    /// The timeouts this context's clients get: the SDK config's, or those set by
    /// [`AwsContext::with_deadline`].
    pub fn timeouts(&self) -> Option<&TimeoutConfig> {
        self.timeouts
            .as_ref()
            .or_else(|| self.sdk_config.timeout_config())
    }

    /// AWS Backup.
    pub fn backup(&self) -> &aws_sdk_backup::Client {
        client!(self, backup, aws_sdk_backup)
    }

    /// DynamoDB.
    pub fn dynamodb(&self) -> &aws_sdk_dynamodb::Client {
        client!(self, dynamodb, aws_sdk_dynamodb)
    }

    /// SNS.
    pub fn sns(&self) -> &aws_sdk_sns::Client {
        client!(self, sns, aws_sdk_sns)
    }

    /// Resource Groups Tagging API.
    pub fn tagging(&self) -> &aws_sdk_resourcegroupstagging::Client {
        client!(self, tagging, aws_sdk_resourcegroupstagging)
    }

    /// STS (caller identity: account and partition).
    pub fn sts(&self) -> &aws_sdk_sts::Client {
        client!(self, sts, aws_sdk_sts)
    }

    /// KMS (the state of each vault key).
    pub fn kms(&self) -> &aws_sdk_kms::Client {
        client!(self, kms, aws_sdk_kms)
    }

    /// S3 (the evidence store), with path-style addressing when the endpoint is overridden
    /// ([`s3_endpoint_overridden`]).
    pub fn s3(&self) -> &aws_sdk_s3::Client {
        let path_style = s3_endpoint_overridden(&self.sdk_config);
        client!(self, s3, aws_sdk_s3, |b: aws_sdk_s3::config::Builder| b
            .force_path_style(path_style))
    }

    /// AWS Organizations (the org fan-out: accounts, OUs, effective backup policies).
    pub fn organizations(&self) -> &aws_sdk_organizations::Client {
        client!(self, organizations, aws_sdk_organizations)
    }

    /// Clients acting with `credentials` (an assumed role's) in `region`: the same endpoints,
    /// retry and timeout settings, a call counter of their own. What the org fan-out uses for
    /// each member account.
    pub fn with_credentials(
        &self,
        credentials: aws_credential_types::Credentials,
        region: &str,
    ) -> AwsContext {
        let sdk_config = self
            .sdk_config
            .to_builder()
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(credentials),
            )
            .region(Region::new(region.to_string()))
            .build();
        AwsContext {
            retry: self.retry.clone(),
            retry_partition: self.retry_partition.clone(),
            timeouts: self.timeouts.clone(),
            ..Self::from_sdk_config(&sdk_config, &ClientSettings::default())
        }
    }

    /// The region these clients talk to, if one was configured.
    pub fn region(&self) -> Option<&str> {
        self.sdk_config.region().map(Region::as_ref)
    }
}

/// Whether S3's endpoint is overridden in `config` (`AWS_ENDPOINT_URL_S3`, or
/// `AWS_ENDPOINT_URL` for every service, or an endpoint set in code): then the S3 client uses
/// path-style addressing, since such endpoints (moto, other S3-compatible stores on an IP
/// address) have no virtual-hosted bucket names. AWS's own endpoints keep the default
/// (virtual-hosted) style.
pub fn s3_endpoint_overridden(config: &SdkConfig) -> bool {
    let service_specific = aws_types::service_config::ServiceConfigKey::builder()
        .service_id("S3")
        .env("AWS_ENDPOINT_URL")
        .profile("endpoint_url")
        .build()
        .ok()
        .and_then(|key| config.service_config().and_then(|c| c.load_config(key)));
    service_specific.is_some() || config.endpoint_url().is_some()
}

fn retry_config(settings: &ClientSettings) -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(settings.max_attempts)
        .with_initial_backoff(settings.initial_backoff)
}

/// The HTTPS client every SDK client of this project uses: hyper 1 with rustls and the ring
/// crypto provider, trusting the platform's root certificates (plain `http://` endpoints such
/// as the local account's work too).
///
/// Chosen instead of the SDK's default (rustls with aws-lc) for size: the SDK crates are built
/// without default features, so a client made from a config that did not come through this
/// module has no HTTP client at all and fails its first call saying so.
pub fn https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

fn base_loader(region: Option<&str>, settings: &ClientSettings) -> aws_config::ConfigLoader {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .retry_config(retry_config(settings))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(settings.connect_timeout)
                .read_timeout(settings.read_timeout)
                .operation_attempt_timeout(settings.attempt_timeout)
                .operation_timeout(settings.operation_timeout)
                .build(),
        );
    if let Some(r) = region {
        loader = loader.region(Region::new(r.to_string()));
    }
    loader
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(settings: &ClientSettings) -> AwsContext {
        let sdk_config = SdkConfig::builder()
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(settings.connect_timeout)
                    .read_timeout(settings.read_timeout)
                    .operation_attempt_timeout(settings.attempt_timeout)
                    .operation_timeout(settings.operation_timeout)
                    .build(),
            )
            .build();
        AwsContext::from_sdk_config(&sdk_config, settings)
    }

    #[test]
    fn s3_endpoint_counts_as_overridden_exactly_when_one_is_configured() {
        let aws = SdkConfig::builder().build();
        assert!(!s3_endpoint_overridden(&aws));
        let local = SdkConfig::builder()
            .endpoint_url("http://127.0.0.1:5000")
            .build();
        assert!(s3_endpoint_overridden(&local));
    }

    #[test]
    fn a_deadline_caps_the_timeouts_and_keeps_the_call_counter() {
        let ctx = context(&ClientSettings::default());
        let short = ctx.with_deadline(Instant::now() + Duration::from_secs(9));
        assert!(short.calls.is_shared_with(&ctx.calls));
        assert!(!short.calls.is_shared_with(&CallCounter::new()));
        let t = short.timeouts().unwrap();
        let op = t.operation_timeout().unwrap();
        assert!(
            op <= Duration::from_secs(9) && op > Duration::from_secs(8),
            "{op:?}"
        );
        let attempt = t.operation_attempt_timeout().unwrap();
        assert!(attempt <= Duration::from_secs(3), "{attempt:?}");
        assert!(t.read_timeout().unwrap() <= attempt);
        assert!(t.connect_timeout().unwrap() <= Duration::from_secs(3));
        // The original keeps its own timeouts.
        let base = ctx.timeouts().unwrap();
        assert_eq!(base.operation_timeout(), Some(Duration::from_secs(120)));
    }

    #[test]
    fn a_far_deadline_keeps_shorter_timeouts_and_a_past_one_fails_fast() {
        let ctx = context(&ClientSettings::default());
        let long = ctx.with_deadline(Instant::now() + Duration::from_secs(3600));
        let t = long.timeouts().unwrap();
        assert_eq!(t.operation_timeout(), Some(Duration::from_secs(120)));
        assert_eq!(t.operation_attempt_timeout(), Some(Duration::from_secs(30)));
        assert_eq!(t.read_timeout(), Some(Duration::from_secs(20)));
        assert_eq!(t.connect_timeout(), Some(Duration::from_secs(3)));

        let past = ctx.with_deadline(Instant::now());
        let t = past.timeouts().unwrap();
        assert_eq!(t.operation_timeout(), Some(MIN_TIMEOUT));
        assert_eq!(t.operation_attempt_timeout(), Some(MIN_TIMEOUT));
    }
}
