//! Throttling injected into the Backup stand-in: the SDK's retries succeed and the call
//! counter records them; when every attempt is throttled the error surfaces after the
//! configured attempts, naming the operation.
//!
//! The first test uses the product's clients as they are (standard retry mode, 6 attempts),
//! with just one throttled call; the exhaustion test uses a client with the same max attempts
//! and the same call counter but a short initial backoff, so it finishes in well under a
//! second.

use std::time::Duration;

use aws_sdk_backup::config::retry::RetryConfig;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use awsio::{ClientSettings, OperationContext};
use local_account::standin::{FailKind, Fault};
use local_account::{LocalAccount, Scenario};

const OP: &str = "Backup.ListBackupPlans";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_second_call_throttled_is_retried_and_counted() {
    let account = LocalAccount::start(&Scenario::shipped("healthy").unwrap())
        .await
        .unwrap();
    let ctx = account.context().await;
    let mut fault = Fault::new("ListBackupPlans");
    fault.throttle_every = 2;
    account.standin().set_fault(fault).unwrap();

    let invocations = 2u64;
    for _ in 0..invocations {
        let out = ctx.backup().list_backup_plans().send().await.unwrap();
        assert_eq!(out.backup_plans_list.unwrap_or_default().len(), 1);
    }
    let snap = ctx.calls.snapshot();
    let c = snap
        .get(OP)
        .copied()
        .unwrap_or_else(|| panic!("{OP} not counted: {snap:?}"));
    // Call 2 of the stand-in is throttled: the second invocation needs one retry.
    assert!(c.retries > 0, "{c:?}");
    assert_eq!(c.attempts, invocations + c.retries, "{c:?}");
    assert_eq!(c.failed_attempts, c.retries, "{c:?}");
    assert_eq!(c.retries, 1, "{c:?}");
    // The stand-in saw exactly the attempts the interceptor counted.
    assert_eq!(
        account.standin().calls().get("ListBackupPlans"),
        Some(&c.attempts)
    );
    assert_eq!(ctx.calls.total_retries(), c.retries);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_every_time_fails_after_max_attempts_naming_the_operation() {
    let account = LocalAccount::start(&Scenario::shipped("healthy").unwrap())
        .await
        .unwrap();
    let ctx = account.context().await;
    let mut fault = Fault::new("ListBackupPlans");
    fault.fail_always = Some(FailKind::ThrottlingException);
    account.standin().set_fault(fault).unwrap();
    let max = u64::from(ClientSettings::default().max_attempts);
    assert_eq!(max, 6);
    // The product's max attempts and call counter, standard retry mode (see the module doc).
    let backup = aws_sdk_backup::Client::from_conf(
        aws_sdk_backup::config::Builder::from(&ctx.sdk_config)
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(ClientSettings::default().max_attempts)
                    .with_initial_backoff(Duration::from_millis(5)),
            )
            .interceptor(ctx.calls.interceptor())
            .build(),
    );

    // The raw SDK error is a throttling error after max attempts.
    let err = backup.list_backup_plans().send().await.unwrap_err();
    assert_eq!(
        err.code(),
        Some("ThrottlingException"),
        "{}",
        DisplayErrorContext(&err)
    );
    let c = ctx.calls.snapshot()[OP];
    assert_eq!(
        (c.attempts, c.retries, c.failed_attempts),
        (max, max - 1, max)
    );
    assert_eq!(account.standin().calls().get("ListBackupPlans"), Some(&max));

    // What the product surfaces: the operation is named, with the code.
    let wrapped = backup.list_backup_plans().send().await.op(OP).unwrap_err();
    assert!(wrapped.is_throttling());
    let text = wrapped.to_string();
    assert!(
        text.contains(OP) && text.contains("ThrottlingException"),
        "{text}"
    );
    assert_eq!(ctx.calls.snapshot()[OP].attempts, 2 * max);

    // And the reader the verifier uses reports the plans as unknown, with that reason.
    let setup = awsio::backup_setup::read_backup_setup(&backup).await;
    let reason = setup.plans.unknown_reason().expect("plans must be unknown");
    assert!(
        reason.contains(OP) && reason.contains("ThrottlingException"),
        "{reason}"
    );

    // Clearing the fault makes the same call succeed.
    account.standin().clear_faults();
    assert!(backup.list_backup_plans().send().await.is_ok());
}
