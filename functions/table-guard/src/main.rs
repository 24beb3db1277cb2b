//! The table-guard Lambda function: wiring only (configuration from the environment, clients
//! built once, the runtime loop). Everything else is in the `table_guard` library.
// The runtime future nests the whole handler future (claim, facts, act, alert, record):
// computing its layout needs more than the default query depth.
#![recursion_limit = "256"]

use lambda_runtime::{LambdaEvent, service_fn};
use table_guard::{Deps, handler};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let deps = Deps::from_env().await.map_err(|e| {
        lambda_runtime::tracing::error!(error = %e, "table-guard configuration is invalid");
        e
    })?;
    let deps = &deps;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move { handler(event, deps).await },
    ))
    .await
}
