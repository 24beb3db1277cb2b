//! The local account: moto (DynamoDB, SNS, SQS, Tagging, STS, S3) plus the AWS Backup
//! stand-in, seeded from a [`Scenario`] through the real SDK clients. The evidence bucket is
//! created from the template's own `EvidenceBucket` properties (Object Lock, default
//! retention, versioning, public access block), read by `tests/moto/template_resource.py`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use aws_sdk_backup::types as bk;
use aws_sdk_dynamodb::types as ddb;
use aws_smithy_types::error::display::DisplayErrorContext;
use awsio::AwsContext;
use futures::{StreamExt, TryStreamExt};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::fault_proxy::FaultProxy;
use crate::moto::{MotoError, MotoServer};
use crate::scenario::KeyStateSpec;
use crate::scenario::{
    ExpectedFinding, PointSpec, STATE_TABLE, Scenario, ScenarioError, SelectionSpec, TableSpec,
};
use crate::standin::{self, StandIn, StandInAccount, StandInError};

/// Name of the SNS topic the functions publish alerts to.
pub const TOPIC_NAME: &str = "backup-guard-alerts";
/// Name of the SQS queue subscribed to the topic (a subscriber's view of the alerts).
pub const QUEUE_NAME: &str = "backup-guard-alerts-subscriber";
/// The TTL attribute of the state table.
pub const STATE_TTL_ATTRIBUTE: &str = "expires_at";
/// Variable naming the alert topic for the functions.
pub const TOPIC_VAR: &str = "BG_TOPIC_ARN";
/// Variable naming the state table for the functions.
pub const STATE_TABLE_VAR: &str = "BG_STATE_TABLE";
/// Variable naming the evidence bucket for the verifier.
pub const EVIDENCE_BUCKET_VAR: &str = "BG_EVIDENCE_BUCKET";
/// The template's logical id of the evidence bucket, whose properties the local one gets.
pub const EVIDENCE_BUCKET_RESOURCE: &str = "EvidenceBucket";
/// Credentials moto accepts (they act as moto's default account).
pub const TEST_CREDENTIAL: &str = "testing";
/// moto's default account: what [`TEST_CREDENTIAL`] acts as.
pub const MOTO_DEFAULT_ACCOUNT: &str = "123456789012";
/// The role the local account creates in every account other than moto's default and
/// assumes (from the default account) to act as that account: seeding, and the credentials
/// [`LocalAccount::env`] gives the code under test. Test infrastructure, trusted by moto's
/// default account only.
pub const LOCAL_ROLE: &str = "backup-guard-local-account";

/// Credentials the local account hands out: moto's test key (moto's default account) or the
/// temporary credentials of [`LOCAL_ROLE`] in another account, which moto (and the Backup
/// stand-in, which asks moto) maps to that account, as AWS does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The account they act as.
    pub account: String,
    /// `AWS_ACCESS_KEY_ID`.
    pub access_key_id: String,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub secret_access_key: String,
    /// `AWS_SESSION_TOKEN` (assumed-role credentials only).
    pub session_token: Option<String>,
    /// The assumed role's ARN (assumed-role credentials only).
    pub role_arn: Option<String>,
}

impl Credentials {
    /// moto's test credentials (moto's default account).
    pub fn moto_default() -> Credentials {
        Credentials {
            account: MOTO_DEFAULT_ACCOUNT.into(),
            access_key_id: TEST_CREDENTIAL.into(),
            secret_access_key: TEST_CREDENTIAL.into(),
            session_token: None,
            role_arn: None,
        }
    }

    /// The `AWS_*` credential variables.
    pub fn vars(&self) -> Vec<(String, String)> {
        let mut v = vec![
            ("AWS_ACCESS_KEY_ID".to_string(), self.access_key_id.clone()),
            (
                "AWS_SECRET_ACCESS_KEY".to_string(),
                self.secret_access_key.clone(),
            ),
        ];
        if let Some(t) = &self.session_token {
            v.push(("AWS_SESSION_TOKEN".to_string(), t.clone()));
        }
        v
    }
}

/// A trust policy allowing `sts:AssumeRole` to the principals `principals` (ARNs or ids).
pub fn trust_policy(principals: &[String]) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": principals},
            "Action": "sts:AssumeRole",
        }],
    })
    .to_string()
}

/// STS `AssumeRole` of `role_arn` with `creds` against moto at `moto_endpoint`.
pub async fn assume_role(
    moto_endpoint: &str,
    creds: &Credentials,
    role_arn: &str,
    session: &str,
) -> Result<Credentials, AccountError> {
    let mut vars = vec![
        ("AWS_ENDPOINT_URL".to_string(), moto_endpoint.to_string()),
        ("AWS_REGION".to_string(), "us-east-1".to_string()),
        ("AWS_EC2_METADATA_DISABLED".to_string(), "true".to_string()),
    ];
    vars.extend(creds.vars());
    let ctx = AwsContext::from_vars(&vars, Some("us-east-1")).await;
    let what = format!("STS.AssumeRole {role_arn}");
    let out = ctx
        .sts()
        .assume_role()
        .role_arn(role_arn)
        .role_session_name(session)
        .send()
        .await
        .map_err(aws_err(&what))?;
    let c = out
        .credentials
        .ok_or_else(|| missing(&what, "Credentials"))?;
    let account = role_arn.split(':').nth(4).unwrap_or_default().to_string();
    Ok(Credentials {
        account,
        access_key_id: c.access_key_id,
        secret_access_key: c.secret_access_key,
        session_token: Some(c.session_token),
        role_arn: Some(role_arn.to_string()),
    })
}

/// Credentials that act as `account` in moto: moto's test key for its default account, else
/// [`LOCAL_ROLE`] (created in `account` on first use) assumed from the default account.
pub async fn credentials_for(
    moto: &MotoServer,
    account: &str,
) -> Result<Credentials, AccountError> {
    if account == MOTO_DEFAULT_ACCOUNT {
        return Ok(Credentials::moto_default());
    }
    moto.create_role(
        account,
        LOCAL_ROLE,
        &trust_policy(&[format!("arn:aws:iam::{MOTO_DEFAULT_ACCOUNT}:root")]),
    )
    .await?;
    let arn = format!("arn:aws:iam::{account}:role/{LOCAL_ROLE}");
    assume_role(
        &moto.endpoint(),
        &Credentials::moto_default(),
        &arn,
        "local-account",
    )
    .await
}
/// How many tables are created concurrently while seeding.
const SEED_CONCURRENCY: usize = 8;

/// Why the local account could not be started or used.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The scenario is invalid.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// moto failed.
    #[error(transparent)]
    Moto(#[from] MotoError),
    /// The Backup stand-in could not start.
    #[error("cannot start the AWS Backup stand-in: {0}")]
    StandInStart(std::io::Error),
    /// The fault proxy could not start.
    #[error("cannot start the fault proxy in front of moto: {0}")]
    ProxyStart(std::io::Error),
    /// The Backup stand-in refused seed data.
    #[error("the AWS Backup stand-in refused {what}: {source}")]
    StandInSeed {
        /// What was seeded.
        what: String,
        /// Its error.
        source: StandInError,
    },
    /// An AWS call failed.
    #[error("{what}: {reason}")]
    Aws {
        /// The call and its subject.
        what: String,
        /// The SDK error with its context.
        reason: String,
    },
    /// The template's properties of a resource could not be read.
    #[error("cannot read {resource} from template.yaml: {reason}")]
    Template {
        /// The logical id.
        resource: String,
        /// Why.
        reason: String,
    },
    /// An answer lacked a field the seeding needs.
    #[error("{what}: the answer has no {field}")]
    Missing {
        /// The call.
        what: String,
        /// The field.
        field: &'static str,
    },
}

fn aws_err<E: std::error::Error>(what: impl Into<String>) -> impl FnOnce(E) -> AccountError {
    let what = what.into();
    move |e| AccountError::Aws {
        what,
        reason: DisplayErrorContext(&e).to_string(),
    }
}

fn missing(what: impl Into<String>, field: &'static str) -> AccountError {
    AccountError::Missing {
        what: what.into(),
        field,
    }
}

/// What the stand-in returned for a seeded plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeededPlan {
    /// `BackupPlanId`.
    pub id: String,
    /// `BackupPlanArn`.
    pub arn: String,
    /// `VersionId`.
    pub version_id: String,
    /// Rule name → rule facts as `GetBackupPlan` returns them.
    pub rules: BTreeMap<String, SeededRule>,
    /// Selection name → `SelectionId`.
    pub selections: BTreeMap<String, String>,
}

/// A seeded rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeededRule {
    /// `RuleId`.
    pub id: String,
    /// `ScheduleExpression`.
    pub cron: String,
    /// `ScheduleExpressionTimezone` as read back.
    pub timezone: Option<String>,
    /// `StartWindowMinutes` as read back.
    pub start_window_minutes: Option<i64>,
}

/// One alert as an SQS subscriber of the topic receives it (the SNS envelope, raw message
/// delivery off).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// SNS `MessageId`.
    pub message_id: String,
    /// The topic.
    pub topic_arn: String,
    /// `Subject`, if the publisher set one.
    pub subject: Option<String>,
    /// `Message`.
    pub message: String,
    /// `MessageAttributes`: name → value (`Type` dropped).
    pub attributes: BTreeMap<String, String>,
    /// `Timestamp`.
    pub timestamp: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Envelope {
    #[serde(rename = "Type")]
    kind: String,
    message_id: String,
    topic_arn: String,
    #[serde(default)]
    subject: Option<String>,
    message: String,
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(default)]
    message_attributes: BTreeMap<String, EnvelopeAttribute>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EnvelopeAttribute {
    value: String,
}

/// Parses the body an SQS subscriber of an SNS topic receives.
pub fn parse_alert(body: &str) -> Result<Alert, String> {
    let env: Envelope = serde_json::from_str(body)
        .map_err(|e| format!("not an SNS notification envelope ({e}): {body}"))?;
    if env.kind != "Notification" {
        return Err(format!(
            "SNS message of type {}, not Notification",
            env.kind
        ));
    }
    Ok(Alert {
        message_id: env.message_id,
        topic_arn: env.topic_arn,
        subject: env.subject,
        message: env.message,
        attributes: env
            .message_attributes
            .into_iter()
            .map(|(k, v)| (k, v.value))
            .collect(),
        timestamp: env.timestamp,
    })
}

/// A running, seeded local account. Dropping it stops both servers.
#[derive(Debug)]
pub struct LocalAccount {
    scenario: Scenario,
    moto: Arc<MotoServer>,
    standin: Arc<StandIn>,
    /// The scenario's account and region in the stand-in.
    standin_account: StandInAccount,
    /// What [`Self::env`] gives the code under test (and seeding uses).
    creds: Credentials,
    topic_arn: String,
    queue_url: String,
    plans: BTreeMap<String, SeededPlan>,
    sqs: aws_sdk_sqs::Client,
    seed_ctx: AwsContext,
    proxy: Option<FaultProxy>,
    /// Each vault's KMS key ARN (created in moto when the vault was seeded).
    vault_keys: BTreeMap<String, String>,
    evidence_bucket: String,
}

/// The template's `EvidenceBucket` properties as the local account applies them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceBucketSpec {
    /// `ObjectLockEnabled`.
    pub object_lock: bool,
    /// `ObjectLockConfiguration.Rule.DefaultRetention.Mode` (`GOVERNANCE`, `COMPLIANCE`).
    pub lock_mode: Option<String>,
    /// `ObjectLockConfiguration.Rule.DefaultRetention.Days`.
    pub lock_days: Option<i32>,
    /// `VersioningConfiguration.Status` is `Enabled`.
    pub versioned: bool,
    /// Every flag of `PublicAccessBlockConfiguration` is true.
    pub public_access_blocked: bool,
}

impl EvidenceBucketSpec {
    /// Reads the properties from `template.yaml` (parameter defaults applied) once per process.
    pub fn from_template() -> Result<EvidenceBucketSpec, AccountError> {
        static SPEC: std::sync::OnceLock<Result<EvidenceBucketSpec, String>> =
            std::sync::OnceLock::new();
        SPEC.get_or_init(|| Self::read().map_err(|e| e.to_string()))
            .clone()
            .map_err(|reason| AccountError::Template {
                resource: EVIDENCE_BUCKET_RESOURCE.into(),
                reason,
            })
    }

    fn read() -> Result<EvidenceBucketSpec, AccountError> {
        let err = |reason: String| AccountError::Template {
            resource: EVIDENCE_BUCKET_RESOURCE.into(),
            reason,
        };
        let root = crate::moto::repo_root();
        let out = std::process::Command::new(root.join(".venv/bin/python"))
            .arg(root.join("tests/moto/template_resource.py"))
            .arg(EVIDENCE_BUCKET_RESOURCE)
            .output()
            .map_err(|e| err(format!("cannot run tests/moto/template_resource.py: {e}")))?;
        if !out.status.success() {
            return Err(err(String::from_utf8_lossy(&out.stderr).into_owned()));
        }
        let props: serde_json::Value =
            serde_json::from_slice(&out.stdout).map_err(|e| err(format!("not JSON: {e}")))?;
        Ok(Self::from_properties(&props))
    }

    /// The spec of resolved `AWS::S3::Bucket` properties.
    pub fn from_properties(props: &serde_json::Value) -> EvidenceBucketSpec {
        let retention = &props["ObjectLockConfiguration"]["Rule"]["DefaultRetention"];
        let number = |v: &serde_json::Value| {
            v.as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .and_then(|n| i32::try_from(n).ok())
        };
        let block = &props["PublicAccessBlockConfiguration"];
        EvidenceBucketSpec {
            object_lock: props["ObjectLockEnabled"].as_bool().unwrap_or(false)
                || props["ObjectLockEnabled"].as_str() == Some("true"),
            lock_mode: retention["Mode"].as_str().map(str::to_string),
            lock_days: number(&retention["Days"]),
            versioned: props["VersioningConfiguration"]["Status"].as_str() == Some("Enabled"),
            public_access_blocked: [
                "BlockPublicAcls",
                "BlockPublicPolicy",
                "IgnorePublicAcls",
                "RestrictPublicBuckets",
            ]
            .iter()
            .all(|k| block[*k].as_bool() == Some(true)),
        }
    }
}

impl LocalAccount {
    /// Starts moto and the stand-in and seeds them with the (expanded) scenario.
    pub async fn start(scenario: &Scenario) -> Result<LocalAccount, AccountError> {
        Self::start_inner(scenario, false).await
    }

    /// Like [`LocalAccount::start`], with a [`FaultProxy`] in front of moto: [`Self::env`]
    /// (and so [`Self::context`]) then points moto's services at the proxy, while seeding and
    /// [`Self::receive_alerts`] talk to moto directly.
    pub async fn start_with_proxy(scenario: &Scenario) -> Result<LocalAccount, AccountError> {
        Self::start_inner(scenario, true).await
    }

    async fn start_inner(scenario: &Scenario, proxy: bool) -> Result<LocalAccount, AccountError> {
        let scenario = scenario.expand()?;
        let (moto, standin) = tokio::join!(
            MotoServer::start(),
            StandIn::start_with(
                SocketAddr::from(([127, 0, 0, 1], 0)),
                standin::Options {
                    region: scenario.region.clone(),
                    account_id: scenario.account.clone(),
                },
            )
        );
        let moto = Arc::new(moto?);
        let standin = Arc::new(standin.map_err(AccountError::StandInStart)?);
        // The stand-in keys Backup state by the account moto maps each access key to.
        standin.resolve_accounts_with_moto(&moto.endpoint());
        let proxy = if proxy {
            Some(
                FaultProxy::start(SocketAddr::from(([127, 0, 0, 1], moto.port())))
                    .await
                    .map_err(AccountError::ProxyStart)?,
            )
        } else {
            None
        };
        Self::seeded(scenario, moto, standin, proxy, None).await
    }

    /// Seeds the expanded `scenario` into running servers, acting as its account.
    /// `shared_bucket`: the evidence bucket another region of the same account already
    /// created (S3 bucket names are global), else it is created here.
    pub(crate) async fn seeded(
        scenario: Scenario,
        moto: Arc<MotoServer>,
        standin: Arc<StandIn>,
        proxy: Option<FaultProxy>,
        shared_bucket: Option<String>,
    ) -> Result<LocalAccount, AccountError> {
        let creds = credentials_for(&moto, &scenario.account).await?;
        let vars = base_env(&scenario, &creds, &moto.endpoint(), &standin.endpoint());
        let seed_ctx = AwsContext::from_vars(&vars, Some(&scenario.region)).await;
        let sqs = aws_sdk_sqs::Client::new(&seed_ctx.sdk_config);
        let standin_account = standin.account(&scenario.account, &scenario.region);
        let mut account = LocalAccount {
            scenario,
            moto,
            standin,
            standin_account,
            creds,
            topic_arn: String::new(),
            queue_url: String::new(),
            plans: BTreeMap::new(),
            sqs,
            seed_ctx,
            proxy,
            vault_keys: BTreeMap::new(),
            evidence_bucket: String::new(),
        };
        account.seed_tables().await?;
        match shared_bucket {
            Some(name) => account.evidence_bucket = name,
            None => account.seed_evidence_bucket().await?,
        }
        account.seed_alerts().await?;
        account.seed_backup().await?;
        Ok(account)
    }

    async fn seed_tables(&self) -> Result<(), AccountError> {
        futures::stream::iter(self.scenario.tables.iter())
            .map(|t| self.seed_table(t))
            .buffer_unordered(SEED_CONCURRENCY)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }

    async fn seed_table(&self, t: &TableSpec) -> Result<(), AccountError> {
        let db = &self.seed_ctx.dynamodb();
        let what = format!("DynamoDB.CreateTable {}", t.name);
        let tags = t
            .tags
            .iter()
            .map(|(k, v)| ddb::Tag::builder().key(k).value(v).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(aws_err(&what))?;
        db.create_table()
            .table_name(&t.name)
            .attribute_definitions(
                ddb::AttributeDefinition::builder()
                    .attribute_name("pk")
                    .attribute_type(ddb::ScalarAttributeType::S)
                    .build()
                    .map_err(aws_err(&what))?,
            )
            .key_schema(
                ddb::KeySchemaElement::builder()
                    .attribute_name("pk")
                    .key_type(ddb::KeyType::Hash)
                    .build()
                    .map_err(aws_err(&what))?,
            )
            .billing_mode(ddb::BillingMode::PayPerRequest)
            .set_tags((!tags.is_empty()).then_some(tags))
            .send()
            .await
            .map_err(aws_err(&what))?;
        self.moto
            .set_table_created(
                &self.scenario.account,
                &self.scenario.region,
                &t.name,
                t.created,
            )
            .await?;
        if t.pitr {
            db.update_continuous_backups()
                .table_name(&t.name)
                .point_in_time_recovery_specification(
                    ddb::PointInTimeRecoverySpecification::builder()
                        .point_in_time_recovery_enabled(true)
                        .build()
                        .map_err(aws_err(format!("PITR of {}", t.name)))?,
                )
                .send()
                .await
                .map_err(aws_err(format!(
                    "DynamoDB.UpdateContinuousBackups {}",
                    t.name
                )))?;
        }
        let ttl = t
            .ttl_attribute
            .clone()
            .or_else(|| (t.name == STATE_TABLE).then(|| STATE_TTL_ATTRIBUTE.to_string()));
        if let Some(attr) = ttl {
            let what = format!("DynamoDB.UpdateTimeToLive {}", t.name);
            db.update_time_to_live()
                .table_name(&t.name)
                .time_to_live_specification(
                    ddb::TimeToLiveSpecification::builder()
                        .enabled(true)
                        .attribute_name(attr)
                        .build()
                        .map_err(aws_err(&what))?,
                )
                .send()
                .await
                .map_err(aws_err(&what))?;
        }
        Ok(())
    }

    /// Creates the evidence bucket with the template's properties (its KMS encryption
    /// aside: moto's S3 stores the bytes as given either way).
    async fn seed_evidence_bucket(&mut self) -> Result<(), AccountError> {
        use aws_sdk_s3::types as s3t;
        let spec = EvidenceBucketSpec::from_template()?;
        let name = format!("backup-guard-evidence-{}", self.scenario.account);
        let s3 = self.seed_ctx.s3();
        let what = format!("S3.CreateBucket {name}");
        let mut create = s3
            .create_bucket()
            .bucket(&name)
            .object_lock_enabled_for_bucket(spec.object_lock);
        if self.scenario.region != "us-east-1" {
            create = create.create_bucket_configuration(
                s3t::CreateBucketConfiguration::builder()
                    .location_constraint(s3t::BucketLocationConstraint::from(
                        self.scenario.region.as_str(),
                    ))
                    .build(),
            );
        }
        create.send().await.map_err(aws_err(&what))?;
        if spec.versioned {
            s3.put_bucket_versioning()
                .bucket(&name)
                .versioning_configuration(
                    s3t::VersioningConfiguration::builder()
                        .status(s3t::BucketVersioningStatus::Enabled)
                        .build(),
                )
                .send()
                .await
                .map_err(aws_err(format!("S3.PutBucketVersioning {name}")))?;
        }
        if spec.object_lock {
            let rule = match (&spec.lock_mode, spec.lock_days) {
                (Some(mode), Some(days)) => Some(
                    s3t::ObjectLockRule::builder()
                        .default_retention(
                            s3t::DefaultRetention::builder()
                                .mode(s3t::ObjectLockRetentionMode::from(mode.as_str()))
                                .days(days)
                                .build(),
                        )
                        .build(),
                ),
                _ => None,
            };
            s3.put_object_lock_configuration()
                .bucket(&name)
                .object_lock_configuration(
                    s3t::ObjectLockConfiguration::builder()
                        .object_lock_enabled(s3t::ObjectLockEnabled::Enabled)
                        .set_rule(rule)
                        .build(),
                )
                .send()
                .await
                .map_err(aws_err(format!("S3.PutObjectLockConfiguration {name}")))?;
        }
        if spec.public_access_blocked {
            s3.put_public_access_block()
                .bucket(&name)
                .public_access_block_configuration(
                    s3t::PublicAccessBlockConfiguration::builder()
                        .block_public_acls(true)
                        .block_public_policy(true)
                        .ignore_public_acls(true)
                        .restrict_public_buckets(true)
                        .build(),
                )
                .send()
                .await
                .map_err(aws_err(format!("S3.PutPublicAccessBlock {name}")))?;
        }
        self.evidence_bucket = name;
        Ok(())
    }

    /// The evidence bucket (created from the template's `EvidenceBucket` properties).
    pub fn evidence_bucket(&self) -> &str {
        &self.evidence_bucket
    }

    async fn seed_alerts(&mut self) -> Result<(), AccountError> {
        let topic = self
            .seed_ctx
            .sns()
            .create_topic()
            .name(TOPIC_NAME)
            .send()
            .await
            .map_err(aws_err("SNS.CreateTopic"))?;
        self.topic_arn = topic
            .topic_arn
            .ok_or_else(|| missing("SNS.CreateTopic", "TopicArn"))?;
        let queue = self
            .sqs
            .create_queue()
            .queue_name(QUEUE_NAME)
            .send()
            .await
            .map_err(aws_err("SQS.CreateQueue"))?;
        self.queue_url = queue
            .queue_url
            .ok_or_else(|| missing("SQS.CreateQueue", "QueueUrl"))?;
        let attrs = self
            .sqs
            .get_queue_attributes()
            .queue_url(&self.queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(aws_err("SQS.GetQueueAttributes"))?;
        let queue_arn = attrs
            .attributes
            .and_then(|a| {
                a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                    .cloned()
            })
            .ok_or_else(|| missing("SQS.GetQueueAttributes", "QueueArn"))?;
        // Raw message delivery off (the default), stated explicitly: the subscriber sees the
        // SNS envelope with Subject and MessageAttributes, as an email or SQS subscriber does.
        self.seed_ctx
            .sns()
            .subscribe()
            .topic_arn(&self.topic_arn)
            .protocol("sqs")
            .endpoint(queue_arn)
            .attributes("RawMessageDelivery", "false")
            .send()
            .await
            .map_err(aws_err("SNS.Subscribe"))?;
        Ok(())
    }

    async fn seed_backup(&mut self) -> Result<(), AccountError> {
        let backup = self.seed_ctx.backup().clone();
        let kms = self.seed_ctx.kms().clone();
        for v in &self.scenario.vaults {
            let what = format!("KMS.CreateKey for vault {}", v.name);
            let meta = kms
                .create_key()
                .description(format!("backup vault {} key", v.name))
                .send()
                .await
                .map_err(aws_err(&what))?
                .key_metadata
                .ok_or_else(|| missing(&what, "KeyMetadata"))?;
            let key = meta
                .arn
                .filter(|a| !a.is_empty())
                .ok_or_else(|| missing(&what, "KeyMetadata.Arn"))?;
            // moto's ScheduleKeyDeletion takes only the key id, not the ARN.
            let key_id = meta.key_id;
            match v.key.state {
                KeyStateSpec::Enabled => {}
                KeyStateSpec::Disabled => {
                    kms.disable_key()
                        .key_id(&key_id)
                        .send()
                        .await
                        .map_err(aws_err(format!("KMS.DisableKey {key}")))?;
                }
                KeyStateSpec::PendingDeletion => {
                    kms.schedule_key_deletion()
                        .key_id(&key_id)
                        .pending_window_in_days(7)
                        .send()
                        .await
                        .map_err(aws_err(format!("KMS.ScheduleKeyDeletion {key}")))?;
                }
            }
            backup
                .create_backup_vault()
                .backup_vault_name(&v.name)
                .encryption_key_arn(&key)
                .send()
                .await
                .map_err(aws_err(format!("Backup.CreateBackupVault {}", v.name)))?;
            if let Some(policy) = v.access_policy_document() {
                backup
                    .put_backup_vault_access_policy()
                    .backup_vault_name(&v.name)
                    .policy(policy)
                    .send()
                    .await
                    .map_err(aws_err(format!(
                        "Backup.PutBackupVaultAccessPolicy {}",
                        v.name
                    )))?;
            }
            if let Some(lock) = &v.lock {
                backup
                    .put_backup_vault_lock_configuration()
                    .backup_vault_name(&v.name)
                    .set_min_retention_days(lock.min_retention_days)
                    .set_max_retention_days(lock.max_retention_days)
                    .set_changeable_for_days(lock.changeable_for_days)
                    .send()
                    .await
                    .map_err(aws_err(format!(
                        "Backup.PutBackupVaultLockConfiguration {}",
                        v.name
                    )))?;
            }
            self.vault_keys.insert(v.name.clone(), key);
        }
        for plan in &self.scenario.plans {
            let what = format!("Backup.CreateBackupPlan {}", plan.name);
            let mut input = bk::BackupPlanInput::builder().backup_plan_name(&plan.name);
            for r in &plan.rules {
                let lifecycle = (r.delete_after_days.is_some()
                    || r.move_to_cold_storage_after_days.is_some())
                .then(|| {
                    bk::Lifecycle::builder()
                        .set_delete_after_days(r.delete_after_days)
                        .set_move_to_cold_storage_after_days(r.move_to_cold_storage_after_days)
                        .build()
                });
                input = input.rules(
                    bk::BackupRuleInput::builder()
                        .rule_name(&r.name)
                        .target_backup_vault_name(&r.vault)
                        .schedule_expression(&r.schedule)
                        .set_schedule_expression_timezone(r.timezone.clone())
                        .set_start_window_minutes(r.start_window_minutes)
                        .set_completion_window_minutes(r.completion_window_minutes)
                        .set_lifecycle(lifecycle)
                        .build()
                        .map_err(aws_err(&what))?,
                );
            }
            let out = backup
                .create_backup_plan()
                .backup_plan(input.build().map_err(aws_err(&what))?)
                .send()
                .await
                .map_err(aws_err(&what))?;
            let id = out
                .backup_plan_id
                .ok_or_else(|| missing(&what, "BackupPlanId"))?;
            let arn = out
                .backup_plan_arn
                .ok_or_else(|| missing(&what, "BackupPlanArn"))?;
            let version_id = out.version_id.ok_or_else(|| missing(&what, "VersionId"))?;
            let what = format!("Backup.GetBackupPlan {}", plan.name);
            let got = backup
                .get_backup_plan()
                .backup_plan_id(&id)
                .send()
                .await
                .map_err(aws_err(&what))?;
            let rules = got
                .backup_plan
                .ok_or_else(|| missing(&what, "BackupPlan"))?
                .rules
                .into_iter()
                .map(|r| {
                    Ok((
                        r.rule_name,
                        SeededRule {
                            id: r.rule_id.ok_or_else(|| missing(&what, "RuleId"))?,
                            cron: r.schedule_expression.unwrap_or_default(),
                            timezone: r.schedule_expression_timezone,
                            start_window_minutes: r.start_window_minutes,
                        },
                    ))
                })
                .collect::<Result<BTreeMap<_, _>, AccountError>>()?;
            self.plans.insert(
                plan.name.clone(),
                SeededPlan {
                    id,
                    arn,
                    version_id,
                    rules,
                    selections: BTreeMap::new(),
                },
            );
        }
        for sel in self.scenario.selections.clone() {
            let sid = self.seed_selection(&sel).await?;
            if let Some(p) = self.plans.get_mut(&sel.plan) {
                p.selections.insert(sel.name.clone(), sid);
            }
        }
        let points = self
            .scenario
            .recovery_points
            .iter()
            .map(|p| self.standin_point(p))
            .collect::<Result<Vec<_>, _>>()?;
        let n = points.len();
        self.standin_account
            .add_recovery_points(points)
            .map_err(|source| AccountError::StandInSeed {
                what: format!("{n} recovery points"),
                source,
            })?;
        let jobs = self
            .scenario
            .backup_jobs
            .iter()
            .map(|j| self.standin_job(j))
            .collect::<Result<Vec<_>, _>>()?;
        let n = jobs.len();
        self.standin_account
            .add_backup_jobs(jobs)
            .map_err(|source| AccountError::StandInSeed {
                what: format!("{n} backup jobs"),
                source,
            })?;
        self.seed_restore_testing()?;
        // Seeding calls are not the product's: start every count from zero.
        self.standin.reset_calls();
        Ok(())
    }

    /// The scenario's restore testing plan, its selection and its restore jobs, into the
    /// stand-in (each job restores `<table>` into `<table>-restore-<job id>`).
    fn seed_restore_testing(&self) -> Result<(), AccountError> {
        use crate::standin::restore as rt;
        let Some(spec) = &self.scenario.restore_testing else {
            return Ok(());
        };
        let s = &self.scenario;
        let plan_arn = self.standin_account.restore_testing_plan_arn(&spec.plan);
        let seed = rt::RestoreTestingSeed {
            plans: vec![rt::RestoreTestingPlan {
                creation_time: Some(s.now - SignedDuration::from_hours(24 * 200)),
                creator_request_id: None,
                last_execution_time: None,
                last_update_time: None,
                recovery_point_selection: rt::RecoveryPointSelection {
                    algorithm: Some("LATEST_WITHIN_WINDOW".into()),
                    exclude_vaults: None,
                    include_vaults: Some(vec!["*".into()]),
                    recovery_point_types: Some(vec!["SNAPSHOT".into()]),
                    selection_window_days: Some(7),
                },
                restore_testing_plan_arn: None,
                restore_testing_plan_name: spec.plan.clone(),
                schedule_expression: "cron(0 6 25 * ? *)".into(),
                schedule_expression_timezone: Some("UTC".into()),
                start_window_hours: Some(1),
            }],
            selections: vec![rt::RestoreTestingSelection {
                creation_time: None,
                creator_request_id: None,
                iam_role_arn: format!(
                    "arn:aws:iam::{}:role/backup-guard-restore-testing",
                    s.account
                ),
                protected_resource_arns: Some(vec!["*".into()]),
                protected_resource_conditions: None,
                protected_resource_type: "DynamoDB".into(),
                restore_metadata_overrides: None,
                restore_testing_plan_name: spec.plan.clone(),
                restore_testing_selection_name: "dynamodb_tables".into(),
                validation_window_hours: Some(4),
            }],
        };
        self.standin_account
            .add_restore_testing(seed)
            .map_err(|source| AccountError::StandInSeed {
                what: "the restore testing plan".into(),
                source,
            })?;
        let jobs: Vec<rt::RestoreJob> = spec
            .jobs
            .iter()
            .map(|j| {
                let id = j.id.clone().unwrap_or_else(|| {
                    crate::scenario::job_id(&s.table_arn(&j.table), j.created, "restore")
                });
                let minutes = j.minutes.unwrap_or(20);
                rt::RestoreJob {
                    account_id: Some(s.account.clone()),
                    restore_job_id: Some(id.clone()),
                    source_resource_arn: Some(s.table_arn(&j.table)),
                    creation_date: j.created,
                    completion_date: (j.status != "RUNNING" && j.status != "PENDING")
                        .then(|| j.created + SignedDuration::from_mins(minutes)),
                    status: j.status.clone(),
                    status_message: j.status_message.clone(),
                    created_resource_arn: (j.status == "COMPLETED").then(|| {
                        s.table_arn(&format!("{}-restore-{}", j.table, id.to_lowercase()))
                    }),
                    resource_type: Some("DynamoDB".into()),
                    created_by: Some(rt::RestoreJobCreator {
                        restore_testing_plan_arn: Some(plan_arn.clone()),
                    }),
                    validation_status: j.validation.clone(),
                    validation_status_message: j.validation_message.clone(),
                    ..Default::default()
                }
            })
            .collect();
        let n = jobs.len();
        self.standin_account
            .add_restore_jobs(jobs)
            .map_err(|source| AccountError::StandInSeed {
                what: format!("{n} restore jobs"),
                source,
            })?;
        Ok(())
    }

    /// The restore testing options the scenario configures (its plan's ARN in the stand-in,
    /// and its thresholds), `None` when it configures no restore testing.
    pub fn restore_testing(&self) -> Option<policy::restore::RestoreTestingOptions> {
        let spec = self.scenario.restore_testing.as_ref()?;
        let mut o = policy::restore::RestoreTestingOptions {
            plan_arn: Some(self.standin_account.restore_testing_plan_arn(&spec.plan)),
            ..Default::default()
        };
        if let Some(d) = spec.max_age_days {
            o.max_age_days = d;
        }
        o.time_target_minutes = spec.time_target_minutes;
        Some(o)
    }

    async fn seed_selection(&self, sel: &SelectionSpec) -> Result<String, AccountError> {
        let what = format!("Backup.CreateBackupSelection {}/{}", sel.plan, sel.name);
        let plan_id = self
            .plan_id(&sel.plan)
            .ok_or_else(|| missing(&what, "plan id"))?;
        let params = |v: &[crate::scenario::TagMatch]| -> Option<Vec<bk::ConditionParameter>> {
            (!v.is_empty()).then(|| {
                v.iter()
                    .map(|m| {
                        bk::ConditionParameter::builder()
                            .condition_key(&m.key)
                            .condition_value(&m.value)
                            .build()
                    })
                    .collect()
            })
        };
        let c = &sel.conditions;
        let conditions = (!c.is_empty()).then(|| {
            bk::Conditions::builder()
                .set_string_equals(params(&c.string_equals))
                .set_string_not_equals(params(&c.string_not_equals))
                .set_string_like(params(&c.string_like))
                .set_string_not_like(params(&c.string_not_like))
                .build()
        });
        let list_of_tags = sel
            .list_of_tags
            .iter()
            .map(|m| {
                bk::Condition::builder()
                    .condition_type(bk::ConditionType::Stringequals)
                    .condition_key(&m.key)
                    .condition_value(&m.value)
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(aws_err(&what))?;
        let selection = bk::BackupSelection::builder()
            .selection_name(&sel.name)
            .iam_role_arn(
                sel.iam_role_arn
                    .clone()
                    .unwrap_or_else(|| self.backup_role()),
            )
            .set_resources((!sel.resources.is_empty()).then(|| sel.resources.clone()))
            .set_not_resources((!sel.not_resources.is_empty()).then(|| sel.not_resources.clone()))
            .set_list_of_tags((!list_of_tags.is_empty()).then_some(list_of_tags))
            .set_conditions(conditions)
            .build()
            .map_err(aws_err(&what))?;
        let out = self
            .seed_ctx
            .backup()
            .create_backup_selection()
            .backup_plan_id(plan_id)
            .backup_selection(selection)
            .send()
            .await
            .map_err(aws_err(&what))?;
        out.selection_id
            .ok_or_else(|| missing(&what, "SelectionId"))
    }

    fn backup_role(&self) -> String {
        format!(
            "arn:{}:iam::{}:role/service-role/AWSBackupDefaultServiceRole",
            self.scenario.partition(),
            self.scenario.account
        )
    }

    fn created_by(
        &self,
        plan: Option<&str>,
        rule: Option<&str>,
        what: &str,
    ) -> Result<Option<standin::CreatedBy>, AccountError> {
        let (Some(plan), Some(rule)) = (plan, rule) else {
            return Ok(None);
        };
        let seeded = self
            .plans
            .get(plan)
            .ok_or_else(|| missing(what, "seeded plan"))?;
        let r = seeded
            .rules
            .get(rule)
            .ok_or_else(|| missing(what, "seeded rule"))?;
        Ok(Some(standin::CreatedBy {
            backup_plan_id: Some(seeded.id.clone()),
            backup_plan_arn: Some(seeded.arn.clone()),
            backup_plan_name: Some(plan.to_string()),
            backup_plan_version: Some(seeded.version_id.clone()),
            backup_rule_id: Some(r.id.clone()),
            backup_rule_name: Some(rule.to_string()),
            backup_rule_cron: Some(r.cron.clone()),
            backup_rule_timezone: r.timezone.clone(),
        }))
    }

    fn standin_point(&self, p: &PointSpec) -> Result<standin::RecoveryPoint, AccountError> {
        let what = format!("recovery point of {} at {}", p.table, p.created);
        let days = |d: Option<i64>| d.map(|d| p.created + SignedDuration::from_hours(24 * d));
        Ok(standin::RecoveryPoint {
            recovery_point_arn: p.arn.clone(),
            backup_vault_name: p.vault.clone().ok_or_else(|| missing(&what, "vault"))?,
            resource_arn: self.scenario.table_arn(&p.table),
            resource_type: Some("DynamoDB".into()),
            resource_name: Some(p.table.clone()),
            created_by: self.created_by(p.plan.as_deref(), p.rule.as_deref(), &what)?,
            iam_role_arn: Some(self.backup_role()),
            status: Some(p.status.clone()),
            creation_date: p.created,
            initiation_date: p.slot.or(Some(p.created)),
            completion_date: p.completed,
            backup_size_in_bytes: Some(0),
            lifecycle: (p.delete_after_days.is_some()
                || p.move_to_cold_storage_after_days.is_some())
            .then_some(standin::Lifecycle {
                delete_after_days: p.delete_after_days,
                move_to_cold_storage_after_days: p.move_to_cold_storage_after_days,
                opt_in_to_archive_for_supported_resources: None,
            }),
            calculated_lifecycle: (p.delete_at.is_some()
                || p.move_to_cold_storage_after_days.is_some())
            .then(|| standin::CalculatedLifecycle {
                delete_at: p.delete_at,
                move_to_cold_storage_at: days(p.move_to_cold_storage_after_days),
            }),
            is_encrypted: Some(p.encrypted.unwrap_or(true)),
            encryption_key_arn: if p.encrypted.unwrap_or(true) {
                p.vault
                    .as_ref()
                    .and_then(|v| self.vault_keys.get(v).cloned())
            } else {
                None
            },
            ..Default::default()
        })
    }

    /// The KMS key ARN of the scenario's vault `vault` (created in moto when it was seeded).
    pub fn vault_key(&self, vault: &str) -> Option<&str> {
        self.vault_keys.get(vault).map(String::as_str)
    }

    fn standin_job(
        &self,
        j: &crate::scenario::JobSpec,
    ) -> Result<standin::BackupJob, AccountError> {
        let what = format!("backup job of {} at {}", j.table, j.created);
        let start_window = match (&j.plan, &j.rule) {
            (Some(p), Some(r)) => self
                .plans
                .get(p)
                .and_then(|sp| sp.rules.get(r))
                .and_then(|r| r.start_window_minutes),
            _ => None,
        };
        Ok(standin::BackupJob {
            account_id: Some(self.scenario.account.clone()),
            backup_job_id: j.id.clone(),
            backup_vault_name: j.vault.clone().ok_or_else(|| missing(&what, "vault"))?,
            recovery_point_arn: j.recovery_point_arn.clone(),
            resource_arn: self.scenario.table_arn(&j.table),
            resource_type: Some("DynamoDB".into()),
            resource_name: Some(j.table.clone()),
            creation_date: j.created,
            completion_date: j.completed,
            state: j.state.clone(),
            status_message: j.status_message.clone(),
            percent_done: Some(
                if j.state == "COMPLETED" {
                    "100.0"
                } else {
                    "0.0"
                }
                .into(),
            ),
            iam_role_arn: Some(self.backup_role()),
            created_by: self.created_by(j.plan.as_deref(), j.rule.as_deref(), &what)?,
            start_by: start_window.map(|m| j.created + SignedDuration::from_mins(m)),
            backup_type: None,
            ..Default::default()
        })
    }

    /// The variables that point an SDK (or a function run locally) at this account:
    /// `AWS_ENDPOINT_URL` (moto), `AWS_ENDPOINT_URL_BACKUP` (the stand-in), region,
    /// credentials acting as the scenario's account ([`Self::credentials`]: moto's test key
    /// for `123456789012`, else `AWS_SESSION_TOKEN` too, of [`LOCAL_ROLE`] assumed in that
    /// account), `BG_TOPIC_ARN`, `BG_STATE_TABLE` and `BG_EVIDENCE_BUCKET`.
    ///
    /// With a fault proxy ([`Self::start_with_proxy`]) `AWS_ENDPOINT_URL` is the proxy's.
    pub fn env(&self) -> Vec<(String, String)> {
        let moto = match &self.proxy {
            Some(p) => p.endpoint(),
            None => self.moto.endpoint(),
        };
        let mut vars = base_env(&self.scenario, &self.creds, &moto, &self.standin.endpoint());
        vars.push((TOPIC_VAR.into(), self.topic_arn.clone()));
        vars.push((STATE_TABLE_VAR.into(), STATE_TABLE.into()));
        vars.push((EVIDENCE_BUCKET_VAR.into(), self.evidence_bucket.clone()));
        vars
    }

    /// Fresh SDK clients (with their own call counter) for this account.
    pub async fn context(&self) -> AwsContext {
        AwsContext::from_vars(&self.env(), Some(&self.scenario.region)).await
    }

    /// [`Self::env`] with moto's own endpoint (past the fault proxy, if there is one).
    pub fn direct_env(&self) -> Vec<(String, String)> {
        let mut vars = base_env(
            &self.scenario,
            &self.creds,
            &self.moto.endpoint(),
            &self.standin.endpoint(),
        );
        vars.push((TOPIC_VAR.into(), self.topic_arn.clone()));
        vars.push((STATE_TABLE_VAR.into(), STATE_TABLE.into()));
        vars.push((EVIDENCE_BUCKET_VAR.into(), self.evidence_bucket.clone()));
        vars
    }

    /// Clients that talk to moto directly, past the fault proxy (for test setup).
    pub async fn direct_context(&self) -> AwsContext {
        AwsContext::from_vars(&self.direct_env(), Some(&self.scenario.region)).await
    }

    /// Fresh clients for [`Self::env`] with the given retry and timeout settings (e.g. a few
    /// milliseconds of backoff, so "past the retries" is quick in tests).
    pub async fn context_with(&self, settings: &awsio::config::ClientSettings) -> AwsContext {
        let config = sdk_config(&self.env(), &self.scenario.region, settings).await;
        AwsContext::from_sdk_config(&config, settings)
    }

    /// Creates a table in moto after start-up (past the fault proxy), as seeding does.
    pub async fn create_table(&self, table: &TableSpec) -> Result<(), AccountError> {
        self.seed_table(table).await
    }

    /// The fault proxy in front of moto, if the account was started with one.
    pub fn proxy(&self) -> Option<&FaultProxy> {
        self.proxy.as_ref()
    }

    /// The Backup stand-in (faults, call counts).
    pub fn standin(&self) -> &StandIn {
        &self.standin
    }

    /// This account's state in the stand-in (its account and region).
    pub fn standin_account(&self) -> &StandInAccount {
        &self.standin_account
    }

    /// The credentials [`Self::env`] gives the code under test: moto's test key for moto's
    /// default account, else [`LOCAL_ROLE`]'s assumed-role credentials in the scenario's
    /// account.
    pub fn credentials(&self) -> &Credentials {
        &self.creds
    }

    /// The moto server.
    pub fn moto(&self) -> &MotoServer {
        &self.moto
    }

    /// The expanded scenario this account was seeded with.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// The scenario's "now".
    pub fn now(&self) -> Timestamp {
        self.scenario.now
    }

    /// The alert topic's ARN.
    pub fn topic_arn(&self) -> &str {
        &self.topic_arn
    }

    /// The subscriber queue's URL.
    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    /// The id the stand-in gave the named plan.
    pub fn plan_id(&self, name: &str) -> Option<&str> {
        self.plans.get(name).map(|p| p.id.as_str())
    }

    /// Everything the stand-in returned for the named plan (ids of plan, version, rules,
    /// selections).
    pub fn plan(&self, name: &str) -> Option<&SeededPlan> {
        self.plans.get(name)
    }

    /// The scenario's expectations with every reference resolved (plan ids included).
    pub fn expected_findings(
        &self,
    ) -> Result<std::collections::BTreeSet<ExpectedFinding>, AccountError> {
        Ok(self
            .scenario
            .expected_findings(|name| self.plan_id(name).map(str::to_string))?)
    }

    /// Drains the subscriber queue: every alert delivered so far, oldest first as SQS returns
    /// them (deleted from the queue once read).
    pub async fn receive_alerts(&self) -> Result<Vec<Alert>, AccountError> {
        let mut alerts = Vec::new();
        loop {
            let out = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(0)
                .send()
                .await
                .map_err(aws_err("SQS.ReceiveMessage"))?;
            let messages = out.messages.unwrap_or_default();
            if messages.is_empty() {
                return Ok(alerts);
            }
            for m in messages {
                let body = m.body.unwrap_or_default();
                let alert = parse_alert(&body).map_err(|reason| AccountError::Aws {
                    what: "SQS.ReceiveMessage (alert body)".into(),
                    reason,
                })?;
                if let Some(handle) = m.receipt_handle {
                    self.sqs
                        .delete_message()
                        .queue_url(&self.queue_url)
                        .receipt_handle(handle)
                        .send()
                        .await
                        .map_err(aws_err("SQS.DeleteMessage"))?;
                }
                alerts.push(alert);
            }
        }
    }
}

/// An SDK config resolved from `vars` only (no process environment, no config files), with
/// the project's HTTPS client and `settings`' retries and timeouts.
pub async fn sdk_config(
    vars: &[(String, String)],
    region: &str,
    settings: &awsio::config::ClientSettings,
) -> aws_config::SdkConfig {
    let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .env(aws_types::os_shim_internal::Env::from_slice(&pairs))
        .fs(aws_types::os_shim_internal::Fs::from_slice(&[]))
        .http_client(awsio::config::https_client())
        .retry_config(
            aws_config::retry::RetryConfig::standard()
                .with_max_attempts(settings.max_attempts)
                .with_initial_backoff(settings.initial_backoff),
        )
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(settings.connect_timeout)
                .read_timeout(settings.read_timeout)
                .operation_attempt_timeout(settings.attempt_timeout)
                .operation_timeout(settings.operation_timeout)
                .build(),
        )
        .region(aws_config::Region::new(region.to_string()))
        .load()
        .await
}

fn base_env(
    scenario: &Scenario,
    creds: &Credentials,
    moto: &str,
    standin: &str,
) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = [
        ("AWS_ENDPOINT_URL", moto),
        ("AWS_ENDPOINT_URL_BACKUP", standin),
        ("AWS_REGION", scenario.region.as_str()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    vars.extend(creds.vars());
    vars.push(("AWS_EC2_METADATA_DISABLED".into(), "true".into()));
    vars
}

#[cfg(test)]
mod tests {
    use super::parse_alert;

    #[test]
    fn parses_the_sns_envelope() {
        let body = r#"{"Type":"Notification","MessageId":"m1","TopicArn":"arn:aws:sns:us-east-1:123456789012:t",
            "Subject":"[HIGH] x","Message":"hello","Timestamp":"2026-11-25T12:00:00.000Z",
            "MessageAttributes":{"severity":{"Type":"String","Value":"high"}}}"#;
        let a = parse_alert(body).unwrap();
        assert_eq!(a.subject.as_deref(), Some("[HIGH] x"));
        assert_eq!(a.message, "hello");
        assert_eq!(a.attributes["severity"], "high");
        let e = parse_alert(
            r#"{"Type":"SubscriptionConfirmation","MessageId":"m","TopicArn":"t","Message":"m"}"#,
        )
        .unwrap_err();
        assert!(e.contains("SubscriptionConfirmation"), "{e}");
        assert!(parse_alert("hello").is_err());
    }
}
