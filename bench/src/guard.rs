//! Guard benchmark: the table-guard handler (in process, as the Lambda runtime calls it) on
//! CreateTable events of freshly created tables in the local account, with warm caches (one
//! [`Deps`] for every event, as a warm Lambda instance) and cold (new clients and an
//! empty plan/selection cache per event, as a fresh instance). Per event: handler time and
//! AWS calls.

use std::collections::BTreeMap;
use std::time::Instant;

use awsio::{AwsContext, Budget};
use futures::{StreamExt, TryStreamExt, stream};
use local_account::LocalAccount;
use policy::Policy;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use table_guard::{Deps, Settings, run};

/// The per-event measurements of one variant.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GuardVariant {
    /// `warm` or `cold`.
    pub name: String,
    /// Handler time per event, ms.
    pub handler_ms: Vec<f64>,
    /// Client construction time per event (cold only), ms.
    pub setup_ms: Vec<f64>,
    /// AWS calls per event.
    pub calls: Vec<f64>,
    /// Calls per operation, summed over the events.
    pub calls_per_operation: BTreeMap<String, u64>,
    /// Verdicts reported, counted.
    pub verdicts: BTreeMap<String, u64>,
    /// Handler errors (event → error).
    pub errors: Vec<String>,
}

/// The guard benchmark's result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GuardResults {
    /// Events per variant.
    pub events: usize,
    /// The variants.
    pub variants: Vec<GuardVariant>,
}

/// A CreateTable event (from the `events/create-table.json` sample) for `table` in the
/// account and region, with a unique event id.
pub fn create_table_event(
    sample: &Value,
    account: &str,
    region: &str,
    table: &str,
    n: usize,
) -> Result<Value, String> {
    let text = serde_json::to_string(sample).map_err(|e| e.to_string())?;
    let text = text
        .replace("\"orders\"", &format!("\"{table}\""))
        .replace("table/orders\"", &format!("table/{table}\""))
        .replace("eu-west-1", region)
        .replace("123456789012", account);
    let mut v: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let id = format!("bench-{n:06}-0000-4000-8000-000000000000");
    v["id"] = Value::String(id.clone());
    let detail = v
        .get_mut("detail")
        .and_then(Value::as_object_mut)
        .ok_or("sample event has no detail object")?;
    detail.insert("eventID".into(), Value::String(id));
    Ok(v)
}

async fn create_tables(ctx: &AwsContext, names: &[String]) -> Result<(), String> {
    use aws_sdk_dynamodb::types as ddb;
    stream::iter(names.iter())
        .map(|name| async move {
            let attr = ddb::AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ddb::ScalarAttributeType::S)
                .build()
                .map_err(|e| e.to_string())?;
            let key = ddb::KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(ddb::KeyType::Hash)
                .build()
                .map_err(|e| e.to_string())?;
            let tags = [("owner", "team-payments"), ("cost-center", "cc-1234")]
                .iter()
                .map(|(k, v)| ddb::Tag::builder().key(*k).value(*v).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())?;
            ctx.dynamodb()
                .create_table()
                .table_name(name)
                .attribute_definitions(attr)
                .key_schema(key)
                .billing_mode(ddb::BillingMode::PayPerRequest)
                .set_tags(Some(tags))
                .send()
                .await
                .map_err(|e| format!("CreateTable {name}: {e}"))?;
            Ok::<(), String>(())
        })
        .buffer_unordered(8)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(())
}

fn record(
    v: &mut GuardVariant,
    out: Result<table_guard::GuardOutcome, table_guard::GuardError>,
    ms: f64,
    calls: BTreeMap<String, u64>,
) {
    v.handler_ms.push(ms);
    v.calls.push(calls.values().sum::<u64>() as f64);
    for (k, n) in calls {
        *v.calls_per_operation.entry(k).or_insert(0) += n;
    }
    match out {
        Ok(o) => {
            let verdict = o
                .verdict
                .map_or("none".to_string(), |x| x.as_str().to_string());
            *v.verdicts.entry(verdict).or_insert(0) += 1;
        }
        Err(e) => v.errors.push(e.to_string()),
    }
}

/// Runs `events` CreateTable events warm and `events` cold against `account` (tables are
/// created first, outside the timing).
pub async fn guard_bench(
    account: &LocalAccount,
    sample: &Value,
    events: usize,
) -> Result<GuardResults, String> {
    let s = account.scenario();
    let env = account.env();
    let settings = Settings::from_vars(&env).map_err(|e| e.to_string())?;
    let names: Vec<String> = (0..2 * events)
        .map(|i| format!("guard-bench-{i:05}"))
        .collect();
    let seed_ctx = account.context().await;
    create_tables(&seed_ctx, &names).await?;
    let mut out = GuardResults {
        events,
        variants: Vec::new(),
    };

    // Warm: one instance for every event; the first event fills the plan/selection cache
    // and is dropped from the statistics (it is the cold path).
    let mut warm = GuardVariant {
        name: "warm".into(),
        ..GuardVariant::default()
    };
    let deps = Deps::new(account.context().await, Policy::default(), settings.clone());
    for (i, name) in names[..events].iter().enumerate() {
        let ev = create_table_event(sample, &s.account, &s.region, name, i)?;
        let before = deps.ctx.calls.snapshot();
        let t = Instant::now();
        let r = run(ev, &deps, Budget::from_now(deps.settings.default_budget)).await;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        let calls = deps.ctx.calls.calls_since(&before).attempts;
        if i > 0 {
            record(&mut warm, r, ms, calls);
        }
    }
    out.variants.push(warm);

    // Cold: new clients and empty caches per event.
    let mut cold = GuardVariant {
        name: "cold".into(),
        ..GuardVariant::default()
    };
    for (i, name) in names[events..].iter().enumerate() {
        let ev = create_table_event(sample, &s.account, &s.region, name, events + i)?;
        let t0 = Instant::now();
        let deps = Deps::new(account.context().await, Policy::default(), settings.clone());
        cold.setup_ms.push(t0.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let r = run(ev, &deps, Budget::from_now(deps.settings.default_budget)).await;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        let calls = deps.ctx.calls.attempts();
        record(&mut cold, r, ms, calls);
    }
    out.variants.push(cold);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_name_the_table_and_are_unique() {
        let sample: Value = serde_json::from_str(
            &std::fs::read_to_string(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../events/create-table.json"
            ))
            .unwrap(),
        )
        .unwrap();
        let a = create_table_event(&sample, "123456789012", "us-east-1", "t-1", 1).unwrap();
        let b = create_table_event(&sample, "123456789012", "us-east-1", "t-2", 2).unwrap();
        let parsed = table_guard::parse_event(&a).unwrap();
        let text = serde_json::to_string(&a).unwrap();
        assert!(text.contains("arn:aws:dynamodb:us-east-1:123456789012:table/t-1"));
        assert!(!text.contains("orders") && !text.contains("eu-west-1"));
        assert_ne!(a["detail"]["eventID"], b["detail"]["eventID"]);
        assert!(format!("{parsed:?}").contains("t-1"));
    }
}
