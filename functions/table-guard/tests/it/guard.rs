//! The table guard against the local account (moto + AWS Backup stand-in), calling the same
//! handler function the Lambda binary runs (`lambda_runtime::run` itself only works inside
//! Lambda). Scenarios: `tests/scenarios/guard-*.json`; events: `events/*.json` pointed at the
//! scenario's tables.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use awsio::table::Backoff;
use awsio::{AwsContext, Budget};
use local_account::{Alert, LocalAccount, Scenario};
use policy::config::Policy;
use policy::evaluate::Verdict;
use policy::findings::FindingCode;
use serde_json::{Value, json};
use table_guard::{Action, AlertStatus, Deps, GuardError, Handling, Settings, run};

async fn account(name: &str) -> LocalAccount {
    let scenario = Scenario::shipped(name).unwrap();
    LocalAccount::start(&scenario).await.unwrap()
}

/// Deps for `acct` with the policy from `policy_vars` and fast re-read settings.
async fn deps_with(acct: &LocalAccount, ctx: AwsContext, policy_vars: &[(&str, &str)]) -> Deps {
    let policy = Policy::from_vars(
        policy_vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    )
    .unwrap();
    let mut settings = Settings::from_vars(&acct.env()).unwrap();
    settings.tag_read = Backoff {
        attempts: 2,
        initial: Duration::from_millis(20),
        max: Duration::from_millis(20),
    };
    settings.tag_write = Backoff {
        attempts: 3,
        initial: Duration::from_millis(20),
        max: Duration::from_millis(50),
    };
    Deps::new(ctx, policy, settings)
}

async fn deps(acct: &LocalAccount, policy_vars: &[(&str, &str)]) -> Deps {
    let ctx = acct.context().await;
    deps_with(acct, ctx, policy_vars).await
}

/// The budget of an ordinary invocation (the template's 30 s timeout).
fn budget() -> Budget {
    Budget::from_now(Duration::from_secs(30))
}

const TAGGED: &[(&str, &str)] = &[("BG_SELECTION_MODE", "tagged")];

/// A sample event pointed at `table` of `acct`, with event id `id`; for creations the request
/// tags are `tags`.
fn event(acct: &LocalAccount, sample: &str, table: &str, id: &str, tags: &[(&str, &str)]) -> Value {
    let path = format!("{}/../../events/{sample}", env!("CARGO_MANIFEST_DIR"));
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let s = acct.scenario();
    let arn = s.table_arn(table);
    v["region"] = json!(s.region);
    v["account"] = json!(s.account);
    let d = &mut v["detail"];
    d["eventID"] = json!(id);
    d["awsRegion"] = json!(s.region);
    d["recipientAccountId"] = json!(s.account);
    let tag_list: Vec<Value> = tags
        .iter()
        .map(|(k, v)| json!({"key": k, "value": v}))
        .collect();
    match d["eventName"].as_str().unwrap() {
        "TagResource" => {
            d["requestParameters"]["resourceArn"] = json!(arn);
            d["requestParameters"]["tags"] = json!(tag_list);
        }
        "UntagResource" => d["requestParameters"]["resourceArn"] = json!(arn),
        "ImportTable" => d["responseElements"]["importTableDescription"]["tableArn"] = json!(arn),
        _ => {
            d["responseElements"]["tableDescription"]["tableArn"] = json!(arn);
            d["responseElements"]["tableDescription"]["tableName"] = json!(table);
            if d["requestParameters"].get("tags").is_some() || !tags.is_empty() {
                d["requestParameters"]["tags"] = json!(tag_list);
            }
        }
    }
    v
}

async fn current_tags(
    ctx: &AwsContext,
    acct: &LocalAccount,
    table: &str,
) -> BTreeMap<String, String> {
    match awsio::table::list_tags(ctx.dynamodb(), &acct.scenario().table_arn(table))
        .await
        .unwrap()
    {
        awsio::table::Lookup::Found(t) => t,
        awsio::table::Lookup::Gone => panic!("{table} is gone"),
    }
}

fn attempts(ctx: &AwsContext, op: &str) -> u64 {
    ctx.calls.attempts().get(op).copied().unwrap_or(0)
}

fn codes(alert: &Alert) -> Vec<String> {
    serde_json::from_str(alert.attributes.get("finding_codes").unwrap()).unwrap()
}

fn has_code(o: &table_guard::GuardOutcome, code: FindingCode) -> bool {
    o.findings.iter().any(|f| f.code == code)
}

#[tokio::test]
async fn tagged_mode_create_untagged_table_adds_tag_once_and_alerts_once() {
    let acct = account("guard-tagged").await;
    let deps = deps(&acct, TAGGED).await;
    let ev = event(
        &acct,
        "create-table.json",
        "untagged-new",
        "ev-create-1",
        &[("owner", "team-orders")],
    );

    let first = run(ev.clone(), &deps, budget()).await.unwrap();
    assert_eq!(first.handling, Handling::Evaluated);
    assert_eq!(first.initial_verdict, Some(Verdict::NonCompliant));
    assert!(
        first
            .initial_findings
            .iter()
            .any(|f| f.code == FindingCode::NotCovered)
    );
    assert!(
        matches!(
            first.actions.as_slice(),
            [Action::TagAdded { key, value, coverage_confirmed: true, .. }]
                if key == "backup-policy" && value == "twice-monthly-90d"
        ),
        "{:?}",
        first.actions
    );
    assert_eq!(first.verdict, Some(Verdict::Pending));
    let tags = current_tags(&deps.ctx, &acct, "untagged-new").await;
    assert_eq!(
        tags.get("backup-policy").map(String::as_str),
        Some("twice-monthly-90d")
    );
    assert_eq!(tags.get("owner").map(String::as_str), Some("team-orders"));
    let message_id = first.alert_message_id().unwrap().to_string();

    // The same event delivered again: nothing is done twice.
    let second = run(ev, &deps, budget()).await.unwrap();
    assert!(
        matches!(second.handling, Handling::Duplicate { previous: Some(_) }),
        "{:?}",
        second.handling
    );
    assert!(second.actions.is_empty());
    assert_eq!(second.alert, AlertStatus::NotNeeded);
    assert_eq!(attempts(&deps.ctx, "DynamoDB.TagResource"), 1);

    let alerts = acct.receive_alerts().await.unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let a = &alerts[0];
    assert_eq!(a.message_id, message_id);
    assert_eq!(
        a.attributes.get("table").map(String::as_str),
        Some("untagged-new")
    );
    assert_eq!(
        a.attributes.get("account").map(String::as_str),
        Some("123456789012")
    );
    assert_eq!(
        a.attributes.get("region").map(String::as_str),
        Some("us-east-1")
    );
    assert_eq!(
        a.attributes.get("mode").map(String::as_str),
        Some("enforce")
    );
    assert_eq!(
        a.attributes.get("severity").map(String::as_str),
        Some("info")
    );
    assert!(
        codes(a).contains(&"NOT_COVERED".to_string()),
        "{:?}",
        codes(a)
    );
    let subject = a.subject.as_deref().unwrap();
    assert!(subject.len() <= 100);
    assert!(
        subject.contains("untagged-new") && subject.contains("123456789012/us-east-1"),
        "{subject}"
    );
    // The SQS subscriber gets the machine-readable variant.
    let doc: Value = serde_json::from_str(&a.message).unwrap();
    assert_eq!(doc["outcome"]["event_id"], "ev-create-1");
    assert_eq!(doc["outcome"]["actions"][0]["action"], "tag_added");
}

#[tokio::test]
async fn warm_create_table_call_count() {
    let acct = account("guard-tagged").await;
    let deps = deps(&acct, TAGGED).await;
    // Cold: reads the backup setup.
    let ev = event(
        &acct,
        "create-table.json",
        "untagged-new",
        "ev-cold",
        &[("owner", "team-orders")],
    );
    run(ev, &deps, budget()).await.unwrap();
    assert!(attempts(&deps.ctx, "Backup.ListBackupPlans") >= 1);

    deps.ctx.calls.reset();
    let ev = event(
        &acct,
        "create-table.json",
        "warm-new",
        "ev-warm",
        &[("owner", "team-orders")],
    );
    let out = run(ev, &deps, budget()).await.unwrap();
    assert!(matches!(out.actions.as_slice(), [Action::TagAdded { .. }]));
    let calls = deps.ctx.calls.attempts();
    eprintln!(
        "warm CreateTable calls: {calls:?} total {}",
        deps.ctx.calls.total()
    );
    // No Backup call: the setup comes from the warm cache.
    assert!(calls.keys().all(|k| !k.starts_with("Backup.")), "{calls:?}");
    assert_eq!(calls.get("DynamoDB.ListTagsOfResource"), Some(&1));
    assert_eq!(calls.get("DynamoDB.TagResource"), Some(&1));
    assert_eq!(calls.get("SNS.Publish"), Some(&1));
    assert_eq!(calls.get("DynamoDB.PutItem"), Some(&1));
    assert_eq!(calls.get("DynamoDB.UpdateItem"), Some(&1));
    assert_eq!(deps.ctx.calls.total(), 5);
}

#[tokio::test]
async fn all_tables_mode_confirms_coverage_without_tagging_and_alerts_on_missing_owner() {
    let acct = account("guard-all-tables").await;
    let deps = deps(&acct, &[]).await;

    let ok = event(
        &acct,
        "create-table.json",
        "untagged-new",
        "ev-a1",
        &[("owner", "team-orders")],
    );
    let out = run(ok, &deps, budget()).await.unwrap();
    assert_eq!(out.verdict, Some(Verdict::Pending));
    assert!(out.actions.is_empty());
    assert_eq!(out.alert, AlertStatus::NotNeeded);

    let no_owner = event(&acct, "create-table.json", "no-owner", "ev-a2", &[]);
    let out = run(no_owner.clone(), &deps, budget()).await.unwrap();
    assert_eq!(out.verdict, Some(Verdict::NonCompliant));
    assert!(has_code(&out, FindingCode::MissingTag));
    assert!(!has_code(&out, FindingCode::NotCovered));
    assert!(out.actions.is_empty());
    assert!(out.alert_message_id().is_some());
    // Delivered twice: still one alert.
    let again = run(no_owner, &deps, budget()).await.unwrap();
    assert!(matches!(again.handling, Handling::Duplicate { .. }));

    assert_eq!(attempts(&deps.ctx, "DynamoDB.TagResource"), 0);
    assert!(
        !current_tags(&deps.ctx, &acct, "no-owner")
            .await
            .contains_key("backup-policy")
    );
    let alerts = acct.receive_alerts().await.unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    assert_eq!(
        alerts[0].attributes.get("table").map(String::as_str),
        Some("no-owner")
    );
    assert_eq!(
        codes(&alerts[0]),
        vec![
            "MISSING_TAG".to_string(),
            "PENDING_FIRST_BACKUP".to_string()
        ]
    );
    assert_eq!(
        alerts[0].attributes.get("severity").map(String::as_str),
        Some("warning")
    );
    let doc: Value = serde_json::from_str(&alerts[0].message).unwrap();
    let todo = doc["human_todo"].to_string();
    assert!(todo.contains("owner"), "{todo}");
}

#[tokio::test]
async fn untag_of_backup_tag_is_restored_in_enforce_and_alerted_in_report_only() {
    let acct = account("guard-tagged").await;
    let enforce = deps(&acct, TAGGED).await;
    let ev = event(&acct, "untag-resource.json", "lost-tag", "ev-u1", &[]);
    let out = run(ev, &enforce, budget()).await.unwrap();
    assert!(matches!(
        out.actions.as_slice(),
        [Action::TagAdded {
            coverage_confirmed: true,
            ..
        }]
    ));
    assert_eq!(
        current_tags(&enforce.ctx, &acct, "lost-tag")
            .await
            .get("backup-policy")
            .map(String::as_str),
        Some("twice-monthly-90d")
    );

    // A stale UntagResource delivered after the restore converges on the current tags.
    let stale = event(&acct, "untag-resource.json", "lost-tag", "ev-u1-stale", &[]);
    let out = run(stale, &enforce, budget()).await.unwrap();
    assert!(out.actions.is_empty(), "{:?}", out.actions);
    assert_eq!(out.verdict, Some(Verdict::Pending));
    assert_eq!(out.alert, AlertStatus::NotNeeded);

    let report_only = deps(
        &acct,
        &[("BG_SELECTION_MODE", "tagged"), ("BG_MODE", "report-only")],
    )
    .await;
    let ev = event(
        &acct,
        "untag-resource.json",
        "lost-tag-report",
        "ev-u2",
        &[],
    );
    let out = run(ev, &report_only, budget()).await.unwrap();
    assert!(
        matches!(out.actions.as_slice(), [Action::WouldAddTag { .. }]),
        "{:?}",
        out.actions
    );
    assert_eq!(out.verdict, Some(Verdict::NonCompliant));
    assert_eq!(attempts(&report_only.ctx, "DynamoDB.TagResource"), 0);
    assert!(
        !current_tags(&report_only.ctx, &acct, "lost-tag-report")
            .await
            .contains_key("backup-policy")
    );

    let alerts = acct.receive_alerts().await.unwrap();
    assert_eq!(alerts.len(), 2, "{alerts:#?}");
    let report = alerts
        .iter()
        .find(|a| a.attributes.get("table").map(String::as_str) == Some("lost-tag-report"))
        .unwrap();
    assert_eq!(
        report.attributes.get("mode").map(String::as_str),
        Some("report-only")
    );
    assert_eq!(
        report.attributes.get("severity").map(String::as_str),
        Some("critical")
    );
    assert!(codes(report).contains(&"NOT_COVERED".to_string()));
    let doc: Value = serde_json::from_str(&report.message).unwrap();
    assert_eq!(doc["outcome"]["actions"][0]["action"], "would_add_tag");
}

#[tokio::test]
async fn exemption_with_reason_is_left_alone_and_without_reason_alerts() {
    let acct = account("guard-tagged").await;
    let deps = deps(&acct, TAGGED).await;
    let with = event(
        &acct,
        "tag-resource.json",
        "exempt-with-reason",
        "ev-x1",
        &[("backup-policy", "exempt")],
    );
    let out = run(with, &deps, budget()).await.unwrap();
    assert_eq!(out.verdict, Some(Verdict::Exempt));
    assert!(out.actions.is_empty());
    assert_eq!(out.alert, AlertStatus::NotNeeded);

    let without = event(
        &acct,
        "tag-resource.json",
        "exempt-no-reason",
        "ev-x2",
        &[("backup-policy", "exempt")],
    );
    let out = run(without, &deps, budget()).await.unwrap();
    assert_eq!(out.verdict, Some(Verdict::NonCompliant));
    assert!(has_code(&out, FindingCode::ExemptWithoutReason));
    assert!(
        out.actions.is_empty(),
        "an exemption tag is a human decision: {:?}",
        out.actions
    );

    assert_eq!(attempts(&deps.ctx, "DynamoDB.TagResource"), 0);
    let alerts = acct.receive_alerts().await.unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    assert_eq!(
        alerts[0].attributes.get("table").map(String::as_str),
        Some("exempt-no-reason")
    );
    assert!(codes(&alerts[0]).contains(&"EXEMPT_WITHOUT_REASON".to_string()));
}

#[tokio::test]
async fn a_tag_someone_set_is_never_overwritten() {
    let acct = account("guard-tagged").await;
    let deps = deps(&acct, TAGGED).await;
    let ev = event(
        &acct,
        "tag-resource.json",
        "other-value",
        "ev-o1",
        &[("backup-policy", "weekly")],
    );
    let out = run(ev, &deps, budget()).await.unwrap();
    assert!(
        matches!(out.actions.as_slice(), [Action::TagNotOverwritten { existing, .. }] if existing == "weekly"),
        "{:?}",
        out.actions
    );
    assert_eq!(attempts(&deps.ctx, "DynamoDB.TagResource"), 0);
    assert_eq!(
        current_tags(&deps.ctx, &acct, "other-value")
            .await
            .get("backup-policy")
            .map(String::as_str),
        Some("weekly")
    );
    assert_eq!(acct.receive_alerts().await.unwrap().len(), 1);
}

#[tokio::test]
async fn table_covered_only_by_a_drifted_plan_alerts_with_the_drift() {
    let acct = account("guard-drift").await;
    let deps = deps(&acct, &[]).await;
    let ev = event(
        &acct,
        "create-table.json",
        "analytics-events",
        "ev-d1",
        &[("owner", "team-analytics")],
    );
    let out = run(ev, &deps, budget()).await.unwrap();
    assert_eq!(out.verdict, Some(Verdict::NonCompliant));
    assert!(has_code(&out, FindingCode::PlanDrift), "{:?}", out.findings);
    assert!(
        out.actions.is_empty(),
        "tagging cannot fix drift: {:?}",
        out.actions
    );
    let alerts = acct.receive_alerts().await.unwrap();
    assert_eq!(alerts.len(), 1);
    assert!(codes(&alerts[0]).contains(&"PLAN_DRIFT".to_string()));
    let doc: Value = serde_json::from_str(&alerts[0].message).unwrap();
    let drift = doc["outcome"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "PLAN_DRIFT")
        .unwrap()
        .to_string();
    assert!(
        drift.contains("analytics-35d") && drift.contains("35"),
        "{drift}"
    );
}

#[tokio::test]
async fn failed_call_is_ignored_and_a_missing_table_is_gone() {
    let acct = account("guard-tagged").await;
    let deps = deps(&acct, TAGGED).await;
    let path = format!(
        "{}/../../events/create-table-failed.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let failed: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let out = run(failed, &deps, budget()).await.unwrap();
    assert!(matches!(out.handling, Handling::Ignored { .. }));
    assert_eq!(
        deps.ctx.calls.total(),
        0,
        "an ignored event makes no AWS call"
    );

    let ev = event(
        &acct,
        "create-table.json",
        "deleted-meanwhile",
        "ev-g1",
        &[],
    );
    let out = run(ev, &deps, budget()).await.unwrap();
    assert_eq!(out.handling, Handling::Gone);
    assert_eq!(out.alert, AlertStatus::NotNeeded);
    assert!(acct.receive_alerts().await.unwrap().is_empty());
}

#[tokio::test]
async fn unusable_events_are_errors_naming_the_field() {
    let acct = account("guard-tagged").await;
    let deps = deps(&acct, TAGGED).await;
    let mut ev = event(&acct, "create-table.json", "untagged-new", "ev-bad", &[]);
    ev["detail"]["responseElements"] = Value::Null;
    match run(ev, &deps, budget()).await {
        Err(GuardError::Event(e)) => {
            assert_eq!(e.field, "detail.responseElements.tableDescription.tableArn")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(deps.ctx.calls.total(), 0);

    // A table in another region than the account's clients (us-east-1).
    let mut other_region = event(&acct, "create-table.json", "untagged-new", "ev-region", &[]);
    other_region["detail"]["responseElements"]["tableDescription"]["tableArn"] =
        json!("arn:aws:dynamodb:eu-west-1:123456789012:table/untagged-new");
    match run(other_region, &deps, budget()).await {
        Err(GuardError::Event(e)) => {
            assert_eq!(e.field, "detail.responseElements.tableDescription.tableArn");
            assert!(
                e.problem.contains("eu-west-1") && e.problem.contains("us-east-1"),
                "{e}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(deps.ctx.calls.total(), 0);
}

/// A stand-in for SNS's Query API that fails the first `fail_first` Publish calls with
/// `code`/`status`, then answers like SNS (the message then goes nowhere: this is about the
/// client's retries and the handler's errors).
struct FakeSns {
    fail_first: usize,
    status: u16,
    code: &'static str,
    calls: AtomicUsize,
}

async fn fake_sns(fake: Arc<FakeSns>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(move || {
        let fake = fake.clone();
        async move {
            let n = fake.calls.fetch_add(1, Ordering::SeqCst);
            let xml = [(axum::http::header::CONTENT_TYPE, "text/xml")];
            if n < fake.fail_first {
                let body = format!(
                    r#"<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>{}</Code><Message>injected by the test</Message></Error><RequestId>req-{n}</RequestId></ErrorResponse>"#,
                    fake.code
                );
                (axum::http::StatusCode::from_u16(fake.status).unwrap(), xml, body)
            } else {
                let body = format!(
                    r#"<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>fake-{n}</MessageId></PublishResult><ResponseMetadata><RequestId>req-{n}</RequestId></ResponseMetadata></PublishResponse>"#
                );
                (axum::http::StatusCode::OK, xml, body)
            }
        }
    });
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    format!("http://{addr}")
}

async fn deps_with_sns(acct: &LocalAccount, sns_endpoint: &str) -> Deps {
    let mut vars = acct.env();
    vars.push(("AWS_ENDPOINT_URL_SNS".into(), sns_endpoint.into()));
    let ctx = AwsContext::from_vars(&vars, Some(&acct.scenario().region)).await;
    deps_with(acct, ctx, TAGGED).await
}

#[tokio::test]
async fn sns_throttled_then_succeeding_publishes_once() {
    let acct = account("guard-tagged").await;
    let fake = Arc::new(FakeSns {
        fail_first: 2,
        status: 400,
        code: "Throttling",
        calls: AtomicUsize::new(0),
    });
    let deps = deps_with_sns(&acct, &fake_sns(fake.clone()).await).await;
    let ev = event(
        &acct,
        "create-table.json",
        "sns-trouble",
        "ev-s1",
        &[("owner", "team-orders")],
    );
    let out = run(ev, &deps, budget()).await.unwrap();
    assert_eq!(out.alert_message_id(), Some("fake-2"));
    assert_eq!(fake.calls.load(Ordering::SeqCst), 3);
    let publish = deps
        .ctx
        .calls
        .snapshot()
        .get("SNS.Publish")
        .copied()
        .unwrap();
    assert_eq!((publish.attempts, publish.retries), (3, 2));
}

#[tokio::test]
async fn sns_failing_permanently_is_an_error_that_reports_the_remediation_done() {
    let acct = account("guard-tagged").await;
    let fake = Arc::new(FakeSns {
        fail_first: usize::MAX,
        status: 403,
        code: "AuthorizationError",
        calls: AtomicUsize::new(0),
    });
    let deps = deps_with_sns(&acct, &fake_sns(fake.clone()).await).await;
    let ev = event(
        &acct,
        "create-table.json",
        "sns-trouble",
        "ev-s2",
        &[("owner", "team-orders")],
    );
    let err = run(ev.clone(), &deps, budget()).await.unwrap_err();
    let GuardError::Publish { outcome, .. } = &err else {
        panic!("{err:?}");
    };
    assert!(matches!(
        outcome.actions.as_slice(),
        [Action::TagAdded { .. }]
    ));
    assert!(matches!(outcome.alert, AlertStatus::Failed { .. }));
    let text = err.to_string();
    assert!(
        text.contains("added tag backup-policy=twice-monthly-90d"),
        "{text}"
    );
    assert!(text.contains("AuthorizationError"), "{text}");
    assert!(
        current_tags(&deps.ctx, &acct, "sns-trouble")
            .await
            .contains_key("backup-policy")
    );
    assert!(acct.receive_alerts().await.unwrap().is_empty());

    // While SNS still fails, a retry fails again without tagging again.
    let err = run(ev.clone(), &deps, budget()).await.unwrap_err();
    assert!(matches!(err, GuardError::Publish { .. }), "{err:?}");
    assert_eq!(attempts(&deps.ctx, "DynamoDB.TagResource"), 1);

    // Once SNS works, the retry sends the alert of the first delivery (what was done then),
    // without acting again; a further duplicate sends nothing.
    let healthy = deps_with(&acct, acct.context().await, TAGGED).await;
    let retry = run(ev.clone(), &healthy, budget()).await.unwrap();
    assert!(retry.alert_message_id().is_some(), "{:?}", retry.alert);
    assert!(matches!(
        retry.actions.as_slice(),
        [Action::TagAdded { .. }]
    ));
    assert_eq!(attempts(&healthy.ctx, "DynamoDB.TagResource"), 0);
    let again = run(ev, &healthy, budget()).await.unwrap();
    assert!(matches!(again.handling, Handling::Duplicate { .. }));
    let alerts = acct.receive_alerts().await.unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let doc: Value = serde_json::from_str(&alerts[0].message).unwrap();
    assert_eq!(doc["outcome"]["actions"][0]["action"], "tag_added");
    assert_eq!(doc["outcome"]["event_id"], "ev-s2");
}

#[tokio::test]
async fn sns_failure_without_any_change_releases_the_claim_for_a_full_retry() {
    let acct = account("guard-all-tables").await;
    let fake = Arc::new(FakeSns {
        fail_first: usize::MAX,
        status: 403,
        code: "AuthorizationError",
        calls: AtomicUsize::new(0),
    });
    let mut vars = acct.env();
    vars.push(("AWS_ENDPOINT_URL_SNS".into(), fake_sns(fake).await));
    let ctx = AwsContext::from_vars(&vars, Some(&acct.scenario().region)).await;
    let failing = deps_with(&acct, ctx, &[]).await;
    let ev = event(&acct, "create-table.json", "no-owner", "ev-s3", &[]);
    let err = run(ev.clone(), &failing, budget()).await.unwrap_err();
    assert!(err.to_string().contains("already done: nothing"), "{err}");

    let healthy = deps(&acct, &[]).await;
    let retry = run(ev, &healthy, budget()).await.unwrap();
    assert_eq!(retry.handling, Handling::Evaluated);
    assert!(retry.alert_message_id().is_some());
    assert_eq!(acct.receive_alerts().await.unwrap().len(), 1);
}

#[tokio::test]
async fn tags_set_at_creation_that_the_read_does_not_show_yet_come_from_the_event() {
    let acct = account("guard-tagged").await;
    let deps = deps(&acct, TAGGED).await;
    // moto has only `owner` on the table; the CreateTable call also set the backup tag, which
    // the (eventually consistent) read does not show.
    let ev = event(
        &acct,
        "create-table.json",
        "untagged-new",
        "ev-lag",
        &[
            ("owner", "team-orders"),
            ("backup-policy", "twice-monthly-90d"),
        ],
    );
    let out = run(ev, &deps, budget()).await.unwrap();
    assert_eq!(
        attempts(&deps.ctx, "DynamoDB.ListTagsOfResource"),
        2,
        "bounded re-read"
    );
    assert!(
        out.notes
            .iter()
            .any(|n| n.contains("not visible after 2 reads")),
        "{:?}",
        out.notes
    );
    assert_eq!(out.verdict, Some(Verdict::Pending));
    assert!(out.actions.is_empty(), "{:?}", out.actions);
    assert_eq!(attempts(&deps.ctx, "DynamoDB.TagResource"), 0);
}

#[tokio::test]
async fn a_stale_tag_resource_event_acts_on_the_current_tags_not_the_delta() {
    let acct = account("guard-tagged").await;
    let deps = deps(&acct, TAGGED).await;
    // TagResource added the backup tag, but a later UntagResource removed it again: the
    // table's current tags decide, so the guard restores it.
    let ev = event(
        &acct,
        "tag-resource.json",
        "lost-tag",
        "ev-stale-tag",
        &[("backup-policy", "twice-monthly-90d")],
    );
    let out = run(ev, &deps, budget()).await.unwrap();
    assert!(
        out.notes
            .iter()
            .any(|n| n.contains("a later call changed them")),
        "{:?}",
        out.notes
    );
    assert_eq!(out.initial_verdict, Some(Verdict::NonCompliant));
    assert!(matches!(
        out.actions.as_slice(),
        [Action::TagAdded {
            coverage_confirmed: true,
            ..
        }]
    ));
}

/// A stand-in for DynamoDB's JSON API that answers every call with the next scripted
/// `(status, __type)`; `None` = success (`{}`).
async fn fake_dynamodb(
    script: Vec<Option<(u16, &'static str)>>,
    calls: Arc<AtomicUsize>,
) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let script = Arc::new(script);
    let app = axum::Router::new().fallback(move || {
        let (script, calls) = (script.clone(), calls.clone());
        async move {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            let json = [(axum::http::header::CONTENT_TYPE, "application/x-amz-json-1.0")];
            match script.get(n).copied().flatten() {
                Some((status, code)) => (
                    axum::http::StatusCode::from_u16(status).unwrap(),
                    json,
                    format!(r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{code}","message":"injected by the test"}}"#),
                ),
                None => (axum::http::StatusCode::OK, json, "{}".to_string()),
            }
        }
    });
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    format!("http://{addr}")
}

async fn fake_dynamodb_ctx(endpoint: &str) -> AwsContext {
    let vars: Vec<(String, String)> = [
        ("AWS_ENDPOINT_URL_DYNAMODB", endpoint),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    AwsContext::from_vars(&vars, Some("us-east-1")).await
}

#[tokio::test]
async fn tag_resource_retries_a_table_still_being_created_and_not_a_denial() {
    let arn = "arn:aws:dynamodb:us-east-1:123456789012:table/orders";
    let tag = [("backup-policy".to_string(), "twice-monthly-90d".to_string())];
    let backoff = Backoff {
        attempts: 5,
        initial: Duration::from_millis(10),
        max: Duration::from_millis(20),
    };

    let calls = Arc::new(AtomicUsize::new(0));
    let in_use = Some((400, "ResourceInUseException"));
    let ctx =
        fake_dynamodb_ctx(&fake_dynamodb(vec![in_use, in_use, None], calls.clone()).await).await;
    let w = awsio::table::tag_resource(ctx.dynamodb(), arn, &tag, &backoff)
        .await
        .unwrap();
    assert_eq!(w.calls, 3);
    assert_eq!(calls.load(Ordering::SeqCst), 3);

    let calls = Arc::new(AtomicUsize::new(0));
    let denied = Some((400, "AccessDeniedException"));
    let ctx = fake_dynamodb_ctx(&fake_dynamodb(vec![denied; 5], calls.clone()).await).await;
    let e = awsio::table::tag_resource(ctx.dynamodb(), arn, &tag, &backoff)
        .await
        .unwrap_err();
    assert_eq!(e.code.as_deref(), Some("AccessDeniedException"));
    assert_eq!(e.operation, "DynamoDB.TagResource");
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // Throttling: the SDK retries it first (standard mode); the call succeeds.
    let calls = Arc::new(AtomicUsize::new(0));
    let throttled = Some((400, "ThrottlingException"));
    let ctx = fake_dynamodb_ctx(&fake_dynamodb(vec![throttled, None], calls.clone()).await).await;
    let w = awsio::table::tag_resource(ctx.dynamodb(), arn, &tag, &backoff)
        .await
        .unwrap();
    assert_eq!(w.calls, 1);
    let snap = ctx.calls.snapshot();
    let tag_calls = snap.get("DynamoDB.TagResource").unwrap();
    assert_eq!((tag_calls.attempts, tag_calls.retries), (2, 1));
}

#[tokio::test]
async fn notify_compliant_alerts_for_a_protected_table_and_the_setup_cache_expires() {
    let acct = account("guard-all-tables").await;
    let mut deps = deps(&acct, &[]).await;
    deps.settings.notify_compliant = true;
    deps.settings.setup_ttl = Duration::ZERO;
    let ev = event(
        &acct,
        "create-table.json",
        "untagged-new",
        "ev-n1",
        &[("owner", "team-orders")],
    );
    let out = run(ev, &deps, budget()).await.unwrap();
    assert_eq!(out.verdict, Some(Verdict::Pending));
    assert!(out.alert_message_id().is_some());
    let alerts = acct.receive_alerts().await.unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        alerts[0].attributes.get("severity").map(String::as_str),
        Some("info")
    );

    // With a zero TTL every invocation reads the setup again.
    let before = attempts(&deps.ctx, "Backup.ListBackupPlans");
    let ev = event(
        &acct,
        "create-table.json",
        "untagged-new",
        "ev-n2",
        &[("owner", "team-orders")],
    );
    run(ev, &deps, budget()).await.unwrap();
    assert_eq!(attempts(&deps.ctx, "Backup.ListBackupPlans"), before + 1);
}

#[tokio::test]
async fn every_table_creating_event_is_evaluated_and_remediated() {
    let acct = account("guard-tagged").await;
    let deps = deps(&acct, TAGGED).await;
    let cases = [
        ("create-table-cloudformation.json", "untagged-new"),
        ("restore-table-from-backup.json", "warm-new"),
        ("restore-table-to-point-in-time.json", "lost-tag"),
        ("import-table.json", "lost-tag-report"),
    ];
    for (i, (sample, table)) in cases.iter().enumerate() {
        let ev = event(&acct, sample, table, &format!("ev-born-{i}"), &[]);
        let out = run(ev, &deps, budget()).await.unwrap();
        assert_eq!(
            out.table.as_ref().map(|t| t.name.as_str()),
            Some(*table),
            "{sample}"
        );
        assert!(
            matches!(
                out.actions.as_slice(),
                [Action::TagAdded {
                    coverage_confirmed: true,
                    ..
                }]
            ),
            "{sample}: {:?}",
            out.actions
        );
    }
    let alerts = acct.receive_alerts().await.unwrap();
    assert_eq!(alerts.len(), cases.len());
    let cfn = alerts
        .iter()
        .find(|a| a.attributes.get("table").map(String::as_str) == Some("untagged-new"))
        .unwrap();
    let doc: Value = serde_json::from_str(&cfn.message).unwrap();
    let todo = doc["human_todo"].to_string();
    assert!(todo.contains("CloudFormation template"), "{todo}");
}

#[tokio::test]
async fn unreadable_backup_plans_make_the_table_unverifiable_and_are_not_cached() {
    use local_account::standin::{FailKind, Fault};
    let acct = account("guard-tagged").await;
    let deps = deps(&acct, TAGGED).await;
    let mut fault = Fault::new("ListBackupPlans");
    fault.fail_always = Some(FailKind::AccessDeniedException);
    acct.standin().set_fault(fault).unwrap();

    let ev = event(
        &acct,
        "create-table.json",
        "untagged-new",
        "ev-denied",
        &[("owner", "team-orders")],
    );
    let out = run(ev, &deps, budget()).await.unwrap();
    assert_eq!(
        out.verdict,
        Some(Verdict::Unverifiable),
        "{:?}",
        out.findings
    );
    let unverifiable = out
        .findings
        .iter()
        .find(|f| f.code == FindingCode::Unverifiable)
        .unwrap();
    assert!(
        unverifiable.message.contains("AccessDenied"),
        "{}",
        unverifiable.message
    );
    assert!(
        out.actions.is_empty(),
        "no tag on a guess: {:?}",
        out.actions
    );
    assert!(
        out.alert_message_id().is_some(),
        "unknown is never compliant"
    );
    let alerts = acct.receive_alerts().await.unwrap();
    assert_eq!(alerts.len(), 1);
    assert!(codes(&alerts[0]).contains(&"UNVERIFIABLE".to_string()));

    // The failed read was not cached: once Backup answers, the next event is decided.
    acct.standin().clear_faults();
    let ev = event(
        &acct,
        "create-table.json",
        "warm-new",
        "ev-after",
        &[("owner", "team-orders")],
    );
    let out = run(ev, &deps, budget()).await.unwrap();
    assert!(matches!(
        out.actions.as_slice(),
        [Action::TagAdded {
            coverage_confirmed: true,
            ..
        }]
    ));
}

// --- Deadlines, leases and failing ledger writes: no path returns Ok with nothing sent. ---

/// Short budgets: 1 s kept for the ledger write, leases 1 s past the deadline.
fn short(mut deps: Deps) -> Deps {
    deps.settings.record_reserve = Duration::from_secs(1);
    deps.settings.lease_margin = Duration::from_secs(1);
    deps
}

/// A deadline a few seconds away.
fn short_budget() -> Budget {
    Budget::from_now(Duration::from_secs(3))
}

/// Waits until the lease of a claim made under `budget` by `deps` has ended.
async fn until_lease_ended(budget: &Budget, deps: &Deps) {
    tokio::time::sleep_until(
        (budget.deadline() + deps.settings.lease_margin + Duration::from_millis(300)).into(),
    )
    .await;
}

/// Runs the handler, failing the test if it never returns (the only thing this asserts about
/// time: a hung call must not hang the invocation).
async fn handle_returning(
    ev: Value,
    deps: &Deps,
    budget: Budget,
) -> Result<table_guard::GuardOutcome, GuardError> {
    tokio::time::timeout(Duration::from_secs(60), run(ev, deps, budget))
        .await
        .expect("the handler did not return")
}

/// A loopback listener that accepts connections and never answers; `on_accept` runs for each
/// connection. Returns its URL.
async fn silent_listener(on_accept: impl Fn() + Send + 'static) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            on_accept();
            held.push(socket);
        }
    });
    format!("http://{addr}")
}

/// A loopback TCP link to the local account's moto that the test can cut: until then it
/// forwards bytes both ways; cutting drops every forwarded connection, and later connections
/// are accepted and never answered (a dead DynamoDB for the rest of the invocation).
/// (Not a fault-injecting proxy: it knows nothing of requests.)
struct Link {
    url: String,
    cut: tokio::sync::watch::Sender<bool>,
}

impl Link {
    async fn to(target_url: &str) -> Link {
        let target = target_url.trim_start_matches("http://").to_string();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (cut, watch) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                if *watch.borrow() {
                    held.push(inbound);
                    continue;
                }
                let target = target.clone();
                let mut watch = watch.clone();
                tokio::spawn(async move {
                    let mut outbound = tokio::net::TcpStream::connect(target).await.unwrap();
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = watch.wait_for(|cut| *cut) => {}
                    }
                });
            }
        });
        Link {
            url: format!("http://{addr}"),
            cut,
        }
    }
}

/// Deps whose SNS endpoint is `sns` and, if given, whose DynamoDB goes through `dynamodb`.
async fn deps_via(
    acct: &LocalAccount,
    sns: &str,
    dynamodb: Option<&str>,
    policy_vars: &[(&str, &str)],
) -> Deps {
    let mut vars = acct.env();
    vars.push(("AWS_ENDPOINT_URL_SNS".into(), sns.into()));
    if let Some(d) = dynamodb {
        vars.push(("AWS_ENDPOINT_URL_DYNAMODB".into(), d.into()));
    }
    let ctx = AwsContext::from_vars(&vars, Some(&acct.scenario().region)).await;
    short(deps_with(acct, ctx, policy_vars).await)
}

fn moto_url(acct: &LocalAccount) -> String {
    acct.env()
        .into_iter()
        .find(|(k, _)| k == "AWS_ENDPOINT_URL")
        .map(|(_, v)| v)
        .unwrap()
}

fn error_type(e: GuardError) -> String {
    lambda_runtime::Diagnostic::from(e).error_type
}

#[tokio::test]
async fn sns_not_answering_fails_the_invocation_and_the_retry_after_the_lease_alerts() {
    let acct = account("guard-all-tables").await;
    let connections = Arc::new(AtomicUsize::new(0));
    let seen = connections.clone();
    let hung_sns = silent_listener(move || {
        seen.fetch_add(1, Ordering::SeqCst);
    })
    .await;
    let hung = deps_via(&acct, &hung_sns, None, &[]).await;
    // A table without its owner tag: nothing to change, an alert to send.
    let ev = event(&acct, "create-table.json", "no-owner", "ev-hang", &[]);

    // First delivery: SNS accepts and never answers; the handler gives up in time, releases
    // its claim and fails.
    let err = handle_returning(ev.clone(), &hung, short_budget())
        .await
        .unwrap_err();
    eprintln!("first delivery: {err}");
    assert!(
        matches!(
            err,
            GuardError::OutOfTime { .. } | GuardError::Publish { .. }
        ),
        "{err:?}"
    );
    assert!(
        matches!(err.outcome().unwrap().alert, AlertStatus::Failed { .. }),
        "{err:?}"
    );
    assert!(connections.load(Ordering::SeqCst) >= 1, "SNS was called");

    // Redelivered at once (the first lease has not ended): fails again, never Ok.
    let second = short_budget();
    let err = handle_returning(ev.clone(), &hung, second)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            GuardError::OutOfTime { .. }
                | GuardError::Publish { .. }
                | GuardError::InProgress { .. }
        ),
        "{err:?}"
    );
    assert!(acct.receive_alerts().await.unwrap().is_empty());

    // After the lease, with SNS answering again: the alert is delivered.
    until_lease_ended(&second, &hung).await;
    let healthy = short(deps(&acct, &[]).await);
    let retry = handle_returning(ev, &healthy, budget()).await.unwrap();
    assert_eq!(retry.handling, Handling::Evaluated);
    let message_id = retry.alert_message_id().unwrap().to_string();
    let alerts = acct.receive_alerts().await.unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    assert_eq!(alerts[0].message_id, message_id);
    assert_eq!(
        alerts[0].attributes.get("table").map(String::as_str),
        Some("no-owner")
    );
}

#[tokio::test]
async fn publish_and_release_failing_fail_the_invocation_and_the_claim_holds_until_its_lease_ends()
{
    let acct = account("guard-all-tables").await;
    let link = Link::to(&moto_url(&acct)).await;
    // Publishing cuts DynamoDB and never answers: the claim cannot be released.
    let cut = link.cut.clone();
    let sns = silent_listener(move || {
        let _ = cut.send(true);
    })
    .await;
    let failing = deps_via(&acct, &sns, Some(&link.url), &[]).await;
    let ev = event(&acct, "create-table.json", "no-owner", "ev-no-release", &[]);

    let first = short_budget();
    let err = handle_returning(ev.clone(), &failing, first)
        .await
        .unwrap_err();
    eprintln!("first delivery: {err}");
    assert!(
        matches!(
            err,
            GuardError::OutOfTime { .. } | GuardError::Publish { .. }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("already done: nothing"), "{err}");

    // The claim is still there, in progress: a redelivery during its lease fails (Lambda
    // retries it) instead of returning a duplicate with nothing sent.
    let healthy = short(deps(&acct, &[]).await);
    let err = handle_returning(ev.clone(), &healthy, budget())
        .await
        .unwrap_err();
    assert!(matches!(err, GuardError::InProgress { .. }), "{err:?}");
    assert!(err.to_string().contains("ev-no-release"), "{err}");
    assert_eq!(error_type(err), "TableGuard.EventInProgress");
    assert!(acct.receive_alerts().await.unwrap().is_empty());

    // After the lease the retry takes the claim over and delivers the alert.
    until_lease_ended(&first, &failing).await;
    let retry = handle_returning(ev.clone(), &healthy, budget())
        .await
        .unwrap();
    assert_eq!(retry.handling, Handling::Evaluated);
    assert!(retry.alert_message_id().is_some(), "{:?}", retry.alert);
    assert!(
        retry.notes.iter().any(|n| n.contains("earlier delivery")),
        "{:?}",
        retry.notes
    );
    assert_eq!(acct.receive_alerts().await.unwrap().len(), 1);
    // Recorded: a further duplicate is Ok and sends nothing.
    let again = handle_returning(ev, &healthy, budget()).await.unwrap();
    assert!(matches!(
        again.handling,
        Handling::Duplicate { previous: Some(_) }
    ));
    assert!(acct.receive_alerts().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_tag_added_whose_alert_and_record_both_fail_is_still_alerted_by_the_retry() {
    let acct = account("guard-tagged").await;
    let link = Link::to(&moto_url(&acct)).await;
    let cut = link.cut.clone();
    let sns = silent_listener(move || {
        let _ = cut.send(true);
    })
    .await;
    let failing = deps_via(&acct, &sns, Some(&link.url), TAGGED).await;
    let ev = event(
        &acct,
        "create-table.json",
        "untagged-new",
        "ev-no-record",
        &[("owner", "team-orders")],
    );

    // The tag is added, then SNS hangs and the ledger is gone: the outcome with the unsent
    // alert cannot be recorded. The invocation fails.
    let first = short_budget();
    let err = handle_returning(ev.clone(), &failing, first)
        .await
        .unwrap_err();
    eprintln!("first delivery: {err}");
    assert!(
        err.to_string()
            .contains("added tag backup-policy=twice-monthly-90d"),
        "{err}"
    );

    let healthy = short(deps(&acct, TAGGED).await);
    let err = handle_returning(ev.clone(), &healthy, budget())
        .await
        .unwrap_err();
    assert!(matches!(err, GuardError::InProgress { .. }), "{err:?}");

    // After the lease the retry finds the table already tagged (nothing to do, nothing
    // normally worth an alert), but the earlier delivery never reported: it alerts.
    until_lease_ended(&first, &failing).await;
    let retry = handle_returning(ev, &healthy, budget()).await.unwrap();
    assert!(retry.actions.is_empty(), "{:?}", retry.actions);
    assert_eq!(retry.verdict, Some(Verdict::Pending));
    assert_eq!(attempts(&healthy.ctx, "DynamoDB.TagResource"), 0);
    assert!(retry.alert_message_id().is_some(), "{:?}", retry.alert);
    let alerts = acct.receive_alerts().await.unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    assert!(
        alerts[0].message.contains("earlier delivery"),
        "{}",
        alerts[0].message
    );
}

#[tokio::test]
async fn a_context_with_a_deadline_gives_up_on_a_silent_endpoint_and_counts_in_the_shared_counter()
{
    let acct = account("guard-all-tables").await;
    let hung_sns = silent_listener(|| {}).await;
    let mut vars = acct.env();
    vars.push(("AWS_ENDPOINT_URL_SNS".into(), hung_sns));
    let ctx = AwsContext::from_vars(&vars, Some(&acct.scenario().region)).await;
    let capped = ctx.with_deadline(std::time::Instant::now() + Duration::from_secs(2));
    // Without the cap this call would wait 6 × 20 s; capped, the SDK itself gives up.
    let res = tokio::time::timeout(
        Duration::from_secs(60),
        capped
            .sns()
            .publish()
            .topic_arn(acct.topic_arn())
            .message("m")
            .send(),
    )
    .await
    .expect("the capped call did not return");
    let err = res.unwrap_err();
    assert!(
        format!("{err:?}").to_lowercase().contains("timeout"),
        "{err:?}"
    );
    // Its attempts (more than one: one attempt gets a third of the time) are in the
    // original context's counter.
    let publish = ctx.calls.snapshot().get("SNS.Publish").copied().unwrap();
    assert!(publish.attempts >= 2, "{publish:?}");
    assert_eq!(publish.failed_attempts, publish.attempts);
}

#[tokio::test]
async fn sns_not_answering_after_a_tag_was_added_records_the_alert_for_the_retry_to_send() {
    let acct = account("guard-tagged").await;
    let hung_sns = silent_listener(|| {}).await;
    let hung = deps_via(&acct, &hung_sns, None, TAGGED).await;
    let ev = event(
        &acct,
        "create-table.json",
        "untagged-new",
        "ev-hang-tagged",
        &[("owner", "team-orders")],
    );

    let err = handle_returning(ev.clone(), &hung, short_budget())
        .await
        .unwrap_err();
    assert!(matches!(err, GuardError::OutOfTime { .. }), "{err:?}");
    assert!(matches!(
        err.outcome().unwrap().actions.as_slice(),
        [Action::TagAdded { .. }]
    ));
    // Redelivered while SNS still hangs: the recorded alert is re-sent, which fails again.
    let err = handle_returning(ev.clone(), &hung, short_budget())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            GuardError::OutOfTime { .. } | GuardError::Publish { .. }
        ),
        "{err:?}"
    );
    assert_eq!(attempts(&hung.ctx, "DynamoDB.TagResource"), 1);

    // SNS answers again: the retry sends the first delivery's alert without tagging again.
    let healthy = short(deps(&acct, TAGGED).await);
    let retry = handle_returning(ev, &healthy, budget()).await.unwrap();
    assert!(retry.alert_message_id().is_some(), "{:?}", retry.alert);
    assert_eq!(attempts(&healthy.ctx, "DynamoDB.TagResource"), 0);
    let alerts = acct.receive_alerts().await.unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let doc: Value = serde_json::from_str(&alerts[0].message).unwrap();
    assert_eq!(doc["outcome"]["actions"][0]["action"], "tag_added");
}

/// The replica-creating `UpdateTable` sample on `table` of `acct`, creating replicas in
/// `regions`.
fn replica_event(acct: &LocalAccount, table: &str, id: &str, regions: &[&str]) -> Value {
    let mut v = event(acct, "update-table-replica-create.json", table, id, &[]);
    let updates: Vec<Value> = regions
        .iter()
        .map(|r| json!({"create": {"regionName": r}}))
        .collect();
    v["detail"]["requestParameters"]["replicaUpdates"] = json!(updates);
    v["detail"]["requestParameters"]["tableName"] = json!(table);
    v
}

#[tokio::test]
async fn a_replica_in_an_unwatched_region_alerts_once_naming_region_creator_and_deploy() {
    let acct = account("guard-tagged").await;
    let deps = deps(&acct, TAGGED).await;
    let ev = replica_event(
        &acct,
        "untagged-new",
        "ev-replica-1",
        &["eu-central-1", "ap-south-1"],
    );

    let first = run(ev.clone(), &deps, budget()).await.unwrap();
    assert_eq!(first.event_name, "UpdateTable");
    let regions: Vec<&str> = first
        .unwatched_replicas
        .iter()
        .map(|t| t.region.as_str())
        .collect();
    assert_eq!(regions, ["eu-central-1", "ap-south-1"]);
    assert!(first.actions.is_empty(), "{:?}", first.actions);
    assert_eq!(attempts(&deps.ctx, "DynamoDB.TagResource"), 0);
    let message_id = first.alert_message_id().unwrap().to_string();

    // The same event delivered again: no second alert.
    let second = run(ev, &deps, budget()).await.unwrap();
    assert!(
        matches!(second.handling, Handling::Duplicate { previous: Some(_) }),
        "{:?}",
        second.handling
    );
    assert_eq!(second.alert, AlertStatus::NotNeeded);

    let alerts = acct.receive_alerts().await.unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let a = &alerts[0];
    assert_eq!(a.message_id, message_id);
    assert_eq!(
        a.attributes.get("severity").map(String::as_str),
        Some("warning")
    );
    assert_eq!(
        a.attributes.get("table").map(String::as_str),
        Some("untagged-new")
    );
    assert_eq!(
        a.attributes.get("region").map(String::as_str),
        Some("eu-central-1")
    );
    let subject = a.subject.as_deref().unwrap();
    assert!(subject.len() <= 100, "{subject}");
    assert!(
        subject.starts_with("WARNING")
            && subject.contains("untagged-new")
            && subject.contains("replicas in 2 unwatched regions"),
        "{subject}"
    );
    let doc: Value = serde_json::from_str(&a.message).unwrap();
    let text = doc.to_string();
    for region in ["eu-central-1", "ap-south-1"] {
        assert!(
            text.contains(&format!(
                "region {region} is not watched by this backup-guard stack"
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "deploy backup-guard in {region}: sam build && sam deploy --guided --region {region}"
            )),
            "{text}"
        );
    }
    assert!(
        text.contains("arn:aws:sts::123456789012:assumed-role/Developer/alice"),
        "{text}"
    );
    assert_eq!(doc["outcome"]["event_id"], "ev-replica-1");
}

#[tokio::test]
async fn a_replica_in_the_functions_region_is_checked_like_a_new_table() {
    let acct = account("guard-tagged").await;
    let deps = deps(&acct, TAGGED).await;
    let region = acct.scenario().region.clone();
    let ev = replica_event(&acct, "untagged-new", "ev-replica-here", &[&region]);
    let out = run(ev, &deps, budget()).await.unwrap();
    assert_eq!(out.handling, Handling::Evaluated);
    assert!(out.unwatched_replicas.is_empty());
    assert_eq!(
        out.table.as_ref().map(|t| t.arn.clone()),
        Some(acct.scenario().table_arn("untagged-new"))
    );
    assert!(
        matches!(
            out.actions.as_slice(),
            [Action::TagAdded {
                coverage_confirmed: true,
                ..
            }]
        ),
        "{:?}",
        out.actions
    );
    assert_eq!(acct.receive_alerts().await.unwrap().len(), 1);
}

#[tokio::test]
async fn an_update_table_without_replica_creation_is_ignored_without_a_call() {
    let acct = account("guard-tagged").await;
    let deps = deps(&acct, TAGGED).await;
    let ev = event(
        &acct,
        "update-table-capacity.json",
        "untagged-new",
        "ev-capacity",
        &[],
    );
    let out = run(ev, &deps, budget()).await.unwrap();
    assert!(
        matches!(&out.handling, Handling::Ignored { reason } if reason.contains("created no replica")),
        "{:?}",
        out.handling
    );
    assert_eq!(deps.ctx.calls.total(), 0);
    assert!(acct.receive_alerts().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_unpublished_replica_alert_fails_the_invocation_and_the_retry_alerts() {
    let acct = account("guard-tagged").await;
    let fake = Arc::new(FakeSns {
        fail_first: usize::MAX,
        status: 403,
        code: "AuthorizationError",
        calls: AtomicUsize::new(0),
    });
    let failing = deps_with_sns(&acct, &fake_sns(fake).await).await;
    let ev = replica_event(&acct, "untagged-new", "ev-replica-sns", &["eu-central-1"]);
    let err = run(ev.clone(), &failing, budget()).await.unwrap_err();
    assert_eq!(error_type(err), "TableGuard.AlertNotPublished");

    let healthy = deps(&acct, TAGGED).await;
    let retry = run(ev, &healthy, budget()).await.unwrap();
    assert!(retry.alert_message_id().is_some());
    let alerts = acct.receive_alerts().await.unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    assert!(
        alerts[0]
            .subject
            .as_deref()
            .unwrap_or_default()
            .contains("replica in unwatched region eu-central-1"),
        "{:?}",
        alerts[0].subject
    );
}
