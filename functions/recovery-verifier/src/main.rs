//! recovery-verifier Lambda entry point: wiring only. The policy and the [`Settings`] from the
//! environment, clients per region built once, then `lambda_runtime::run`. All logic lives in
//! the library.

use awsio::AwsContext;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use policy::Policy;
use recovery_verifier::{Deps, Settings, handler};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let policy = Policy::from_env()?;
    let settings = Settings::from_env()?;
    let home = AwsContext::from_env(None).await;
    let home_region = home.region().map(str::to_string);
    let mut regions = Vec::new();
    for r in settings.regions_or(home_region.as_deref())? {
        let ctx = if Some(&r) == home_region.as_ref() {
            home.clone()
        } else {
            AwsContext::from_env(Some(&r)).await
        };
        regions.push((r, ctx));
    }
    let deps = Deps {
        policy,
        topic_arn: settings.topic_arn,
        state_table: settings.state_table,
        evidence_bucket: settings.evidence_bucket,
        home,
        regions,
        safety_margin: settings.safety_margin,
        concurrency: settings.concurrency,
    };
    let deps = &deps;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handler(event, deps).await
    }))
    .await
}
