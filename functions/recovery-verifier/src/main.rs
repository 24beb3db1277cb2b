//! recovery-verifier Lambda entry point: wiring only (the policy and settings from the
//! environment, clients per region built once, the runtime loop). Everything else is in the
//! `recovery_verifier` library.
// The runtime future nests the whole run future (regions, inventory, digest, state): computing
// its layout needs more than the default query depth.
#![recursion_limit = "256"]

use lambda_runtime::{LambdaEvent, service_fn};
use recovery_verifier::{Deps, handler};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let deps = Deps::from_env().await.map_err(|e| {
        lambda_runtime::tracing::error!(error = %e, "recovery-verifier configuration is invalid");
        e
    })?;
    let deps = &deps;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handler(event, deps).await
    }))
    .await
}
