//! Building SDK clients: one place for region, credentials, retries, timeouts and endpoints.
//!
//! Endpoints come only from the standard `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>`
//! variables (`_BACKUP`, `_DYNAMODB`, `_SNS`, `_RESOURCE_GROUPS_TAGGING_API`, `_STS`), resolved by
//! `aws-config` itself, so the same binaries run against AWS or the local account.

use std::sync::OnceLock;
use std::time::Duration;

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
        }
    }
}

/// Everything needed to talk to one account and region: the SDK config, the clients and the
/// shared call counter.
///
/// Each client is built on first use (then shared by every later call): a binary that never
/// asks for, say, the STS client does not contain its code (table-guard uses three of the
/// five), which keeps the Lambda bootstraps small.
#[derive(Clone, Debug)]
pub struct AwsContext {
    /// The resolved SDK configuration (region, credentials, endpoints).
    pub sdk_config: SdkConfig,
    retry: RetryConfig,
    backup: OnceLock<aws_sdk_backup::Client>,
    dynamodb: OnceLock<aws_sdk_dynamodb::Client>,
    sns: OnceLock<aws_sdk_sns::Client>,
    tagging: OnceLock<aws_sdk_resourcegroupstagging::Client>,
    sts: OnceLock<aws_sdk_sts::Client>,
    /// Counts every attempt of every client of this context.
    pub calls: CallCounter,
}

/// One SDK client from the shared config, with this context's retry settings and call counter.
macro_rules! client {
    ($self:ident, $field:ident, $sdk:ident) => {
        $self.$field.get_or_init(|| {
            $sdk::Client::from_conf(
                $sdk::config::Builder::from(&$self.sdk_config)
                    .retry_config($self.retry.clone())
                    .interceptor($self.calls.interceptor())
                    .build(),
            )
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
            backup: OnceLock::new(),
            dynamodb: OnceLock::new(),
            sns: OnceLock::new(),
            tagging: OnceLock::new(),
            sts: OnceLock::new(),
            calls: CallCounter::new(),
        }
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

    /// The region these clients talk to, if one was configured.
    pub fn region(&self) -> Option<&str> {
        self.sdk_config.region().map(Region::as_ref)
    }
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
