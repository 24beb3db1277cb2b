//! The table-guard Lambda function: wiring only (configuration from the environment, clients
//! built once, the runtime loop). Everything else is in the `table_guard` library.

use awsio::Budget;
use lambda_runtime::{LambdaEvent, run, service_fn};
use table_guard::{GuardDeps, handle};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let deps = GuardDeps::from_env().await.map_err(|e| {
        lambda_runtime::tracing::error!(error = %e, "table-guard configuration is invalid");
        e
    })?;
    let deps = &deps;
    run(service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move {
            // The invocation's deadline bounds the work; without a usable one (`cargo lambda
            // watch` sends a past constant) the default budget, with a warning.
            let budget =
                Budget::from_deadline_ms(event.context.deadline, deps.settings.default_budget);
            handle(event.payload, deps, budget).await
        },
    ))
    .await
}
