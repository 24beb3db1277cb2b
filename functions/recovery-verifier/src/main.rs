//! recovery-verifier Lambda entry point: configuration from the environment, clients per region
//! built once, then `lambda_runtime::run`. All logic lives in the library.

use std::time::Duration;

use awsio::AwsContext;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use policy::Policy;
use recovery_verifier::{
    Deps, ENV_REGIONS, ENV_STATE_TABLE, ENV_TOPIC_ARN, handler, parse_regions,
};
use serde_json::Value;

fn required(name: &str) -> Result<String, Error> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => Ok(v.trim().to_string()),
        _ => Err(format!("environment variable {name} is not set (the template sets it)").into()),
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let policy = Policy::from_env()?;
    let topic_arn = required(ENV_TOPIC_ARN)?;
    let state_table = required(ENV_STATE_TABLE)?;
    let home = AwsContext::from_env(None).await;
    let home_region = home
        .region()
        .map(str::to_string)
        .ok_or("no AWS region configured (AWS_REGION)")?;
    let names = parse_regions(&std::env::var(ENV_REGIONS).unwrap_or_default())?
        .unwrap_or_else(|| vec![home_region.clone()]);
    let mut regions = Vec::new();
    for r in names {
        let ctx = if r == home_region {
            home.clone()
        } else {
            AwsContext::from_env(Some(&r)).await
        };
        regions.push((r, ctx));
    }
    let deps = Deps {
        policy,
        topic_arn,
        state_table,
        home,
        regions,
        safety_margin: Duration::from_secs(45),
        concurrency: 8,
    };
    let deps = &deps;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handler(event, deps).await
    }))
    .await
}
