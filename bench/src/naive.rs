//! The naive per-table baseline (bench code only, not a product path): list the tables, read
//! the plans and selections once, then for every table `DescribeTable` (its ARN and creation
//! time), `ListTagsOfResource` and `ListRecoveryPointsByResource`.
//!
//! It only gathers the facts and counts them; it does not evaluate them. That makes it a
//! *lower bound* of a naive verifier's cost: `ListRecoveryPointsByResource` items lack the
//! lifecycle fields, so a real per-table verifier would also need a `DescribeRecoveryPoint`
//! per point to check retention.

use aws_smithy_types::error::display::DisplayErrorContext;
use awsio::AwsContext;
use futures::{StreamExt, TryStreamExt, stream};
use serde::Serialize;

/// What the naive scan read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NaiveOutcome {
    /// Tables listed.
    pub tables: u64,
    /// Tags read over all tables.
    pub tags: u64,
    /// Recovery points read over all tables.
    pub points: u64,
    /// Plans read.
    pub plans: u64,
    /// Selections read.
    pub selections: u64,
}

fn sdk_err<E: std::error::Error>(what: String) -> impl FnOnce(E) -> String {
    move |e| format!("{what}: {}", DisplayErrorContext(&e))
}

async fn list_tables(ctx: &AwsContext) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    let mut start: Option<String> = None;
    loop {
        let out = ctx
            .dynamodb()
            .list_tables()
            .limit(100)
            .set_exclusive_start_table_name(start.take())
            .send()
            .await
            .map_err(sdk_err("DynamoDB.ListTables".into()))?;
        names.extend(out.table_names.unwrap_or_default());
        match out.last_evaluated_table_name {
            Some(n) => start = Some(n),
            None => return Ok(names),
        }
    }
}

async fn read_plans(ctx: &AwsContext) -> Result<(u64, u64), String> {
    let mut plans = 0;
    let mut selections = 0;
    let mut token: Option<String> = None;
    loop {
        let out = ctx
            .backup()
            .list_backup_plans()
            .set_next_token(token.take())
            .send()
            .await
            .map_err(sdk_err("Backup.ListBackupPlans".into()))?;
        for p in out.backup_plans_list.unwrap_or_default() {
            let Some(id) = p.backup_plan_id else { continue };
            ctx.backup()
                .get_backup_plan()
                .backup_plan_id(&id)
                .send()
                .await
                .map_err(sdk_err(format!("Backup.GetBackupPlan {id}")))?;
            plans += 1;
            let mut stoken: Option<String> = None;
            loop {
                let sel = ctx
                    .backup()
                    .list_backup_selections()
                    .backup_plan_id(&id)
                    .set_next_token(stoken.take())
                    .send()
                    .await
                    .map_err(sdk_err(format!("Backup.ListBackupSelections {id}")))?;
                for s in sel.backup_selections_list.unwrap_or_default() {
                    let Some(sid) = s.selection_id else { continue };
                    ctx.backup()
                        .get_backup_selection()
                        .backup_plan_id(&id)
                        .selection_id(&sid)
                        .send()
                        .await
                        .map_err(sdk_err(format!("Backup.GetBackupSelection {sid}")))?;
                    selections += 1;
                }
                match sel.next_token {
                    Some(t) => stoken = Some(t),
                    None => break,
                }
            }
        }
        match out.next_token {
            Some(t) => token = Some(t),
            None => return Ok((plans, selections)),
        }
    }
}

async fn read_table(ctx: &AwsContext, name: String) -> Result<(u64, u64), String> {
    let d = ctx
        .dynamodb()
        .describe_table()
        .table_name(&name)
        .send()
        .await
        .map_err(sdk_err(format!("DynamoDB.DescribeTable {name}")))?;
    let arn = d
        .table
        .and_then(|t| t.table_arn)
        .ok_or_else(|| format!("DynamoDB.DescribeTable {name}: no TableArn"))?;
    let mut tags = 0;
    let mut token: Option<String> = None;
    loop {
        let out = ctx
            .dynamodb()
            .list_tags_of_resource()
            .resource_arn(&arn)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(sdk_err(format!("DynamoDB.ListTagsOfResource {arn}")))?;
        tags += out.tags.map_or(0, |t| t.len() as u64);
        match out.next_token {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    let mut points = 0;
    let mut token: Option<String> = None;
    loop {
        let out = ctx
            .backup()
            .list_recovery_points_by_resource()
            .resource_arn(&arn)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(sdk_err(format!(
                "Backup.ListRecoveryPointsByResource {arn}"
            )))?;
        points += out.recovery_points.map_or(0, |p| p.len() as u64);
        match out.next_token {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    Ok((tags, points))
}

/// Runs the naive scan with `concurrency` tables in flight (the verifier's default is 8).
pub async fn naive_scan(ctx: &AwsContext, concurrency: usize) -> Result<NaiveOutcome, String> {
    let names = list_tables(ctx).await?;
    let (plans, selections) = read_plans(ctx).await?;
    let tables = names.len() as u64;
    let per_table: Vec<(u64, u64)> = stream::iter(names)
        .map(|n| read_table(ctx, n))
        .buffer_unordered(concurrency.max(1))
        .try_collect()
        .await?;
    Ok(NaiveOutcome {
        tables,
        tags: per_table.iter().map(|(t, _)| t).sum(),
        points: per_table.iter().map(|(_, p)| p).sum(),
        plans,
        selections,
    })
}
