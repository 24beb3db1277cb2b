//! `backup-guard restore-command TABLE [--at INSTANT] [--target-name NAME]`: the newest good
//! recovery point of the table at or before the instant (read with `awsio::restore`), and the
//! exact `aws backup start-restore-job` command that restores it into a new table.

use jiff::Timestamp;
use serde_json::json;

use awsio::restore::{RestorePoint, newest_good_point};

use crate::error::{CliError, ExitStatus};
use crate::output::{Format, Paint, print_json};

/// Arguments of `restore-command`: the table, the time to restore to and the target.
#[derive(Debug, Clone)]
pub(crate) struct RestoreArgs {
    /// The table to restore: its name or its table ARN.
    pub table: String,
    /// Restore the state at or before this instant.
    pub at: Timestamp,
    /// Name of the table to restore into (a new table).
    pub target_name: Option<String>,
    /// Role for the restore job.
    pub role_arn: Option<String>,
    /// The region of the table (default: the SDK's region from the environment).
    pub region: Option<String>,
}

/// DynamoDB's table-name rule: 3-255 characters of `[A-Za-z0-9_.-]`.
pub(crate) fn valid_table_name(name: &str) -> bool {
    (3..=255).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// The default target name: `<table>-restored-<yyyymmddThhmm>` of the point's creation (UTC),
/// the table part shortened so the whole stays within 255 characters.
pub(crate) fn default_target_name(table: &str, created: Timestamp) -> String {
    let stamp = created
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .strftime("%Y%m%dT%H%M")
        .to_string();
    let suffix = format!("-restored-{stamp}");
    let keep = 255usize.saturating_sub(suffix.len()).min(table.len());
    format!("{}{suffix}", &table[..keep])
}

/// Quotes a shell word if it needs it (single quotes; `'` escaped).
pub(crate) fn shell_word(s: &str) -> String {
    let safe = !s.is_empty()
        && s.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'-' | b'_' | b'.' | b'/' | b':' | b'=' | b'@' | b'+' | b','
                )
        });
    if safe {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The `aws backup start-restore-job` argument vector.
pub(crate) fn restore_argv(
    point_arn: &str,
    role_arn: &str,
    target: &str,
    region: Option<&str>,
) -> Vec<String> {
    let metadata = json!({ "targetTableName": target }).to_string();
    let mut argv: Vec<String> = [
        "aws",
        "backup",
        "start-restore-job",
        "--recovery-point-arn",
        point_arn,
        "--iam-role-arn",
        role_arn,
        "--metadata",
        &metadata,
        "--resource-type",
        "DynamoDB",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if let Some(r) = region {
        argv.push("--region".into());
        argv.push(r.to_string());
    }
    argv
}

/// The command line as one shell-ready string (`--metadata` always single-quoted).
pub(crate) fn render_command(argv: &[String]) -> String {
    argv.iter()
        .enumerate()
        .map(|(i, a)| {
            if i > 0 && argv[i - 1] == "--metadata" {
                format!("'{}'", a.replace('\'', r"'\''"))
            } else {
                shell_word(a)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn table_name_of(table: &str) -> Option<&str> {
    awsio::inventory::table_name_of_arn(table)
}

/// Finds the newest good recovery point and prints the restore command for it; exits 1 if there is
/// none.
pub(crate) async fn run(
    args: &RestoreArgs,
    format: Format,
    paint: Paint,
) -> Result<ExitStatus, CliError> {
    // Resolve the table's name and ARN.
    let (name, arn_given) = if args.table.starts_with("arn:") {
        let n = table_name_of(&args.table).ok_or_else(|| {
            CliError::usage(format!(
                "TABLE {}: not a DynamoDB table ARN (arn:<partition>:dynamodb:<region>:<account>:table/<name>)",
                args.table
            ))
        })?;
        (n.to_string(), Some(args.table.clone()))
    } else {
        (args.table.clone(), None)
    };
    if !valid_table_name(&name) {
        return Err(CliError::usage(format!(
            "TABLE {name}: not a DynamoDB table name (3-255 characters of A-Z a-z 0-9 _ . -)"
        )));
    }
    if let Some(t) = &args.target_name {
        if !valid_table_name(t) {
            return Err(CliError::usage(format!(
                "--target-name {t}: not a DynamoDB table name (3-255 characters of A-Z a-z 0-9 _ . -)"
            )));
        }
        if *t == name {
            return Err(CliError::usage(format!(
                "--target-name {t}: a restore must create a new table, never overwrite the source {name}"
            )));
        }
    }
    let region = args.region.clone().or_else(|| {
        arn_given
            .as_deref()
            .and_then(|a| a.split(':').nth(3))
            .map(str::to_string)
    });
    let ctx = awsio::AwsContext::from_env(region.as_deref()).await;
    let region = ctx.region().map(str::to_string).ok_or_else(|| {
        CliError::usage("no AWS region: set AWS_REGION or pass --region".to_string())
    })?;
    let table_arn = match arn_given {
        Some(a) => a,
        None => {
            let id = awsio::inventory::caller_identity(ctx.sts())
                .await
                .map_err(|e| CliError::runtime(format!("cannot identify the account: {e}")))?;
            awsio::inventory::table_arn(&id.partition, &region, &id.account, &name)
        }
    };
    let search = newest_good_point(ctx.backup(), &table_arn, args.at)
        .await
        .map_err(|e| {
            CliError::runtime(format!(
                "cannot read the recovery points of {table_arn}: {e}"
            ))
        })?;
    let calls = ctx.calls.total();

    let Some(point) = search.point else {
        let reason = format!(
            "no good recovery point (AVAILABLE or COMPLETED, completed) of table {name} created at or before {} \
             ({} point(s) listed, {} candidate(s))",
            args.at, search.listed, search.candidates
        );
        match format {
            Format::Json => print_json(&json!({
                "table_name": name,
                "table_arn": table_arn,
                "at": args.at.to_string(),
                "recovery_point": null,
                "reason": reason,
                "api_calls": calls,
            }))?,
            Format::Text => println!("{}", paint.red(&reason)),
        }
        return Ok(ExitStatus::Findings);
    };

    let target = args
        .target_name
        .clone()
        .unwrap_or_else(|| default_target_name(&name, point.created));
    let role = match (&args.role_arn, &point.iam_role_arn) {
        (Some(r), _) => r.clone(),
        (None, Some(r)) => r.clone(),
        (None, None) => {
            return Err(CliError::usage(format!(
                "recovery point {} has no IamRoleArn; pass --role-arn with a role AWS Backup can assume",
                point.arn
            )));
        }
    };
    let argv = restore_argv(&point.arn, &role, &target, Some(&region));
    let command = render_command(&argv);
    match format {
        Format::Json => print_json(&json!({
            "table_name": name,
            "table_arn": table_arn,
            "at": args.at.to_string(),
            "recovery_point": point_json(&point),
            "target_table_name": target,
            "iam_role_arn": role,
            "region": region,
            "command": command,
            "argv": argv,
            "api_calls": calls,
        }))?,
        Format::Text => {
            println!(
                "newest good recovery point of {} at or before {}:",
                paint.bold(&name),
                args.at
            );
            println!("  arn        {}", point.arn);
            println!("  vault      {}", point.vault_name);
            println!(
                "  created    {}   completed {}",
                point.created,
                point
                    .completed
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "-".into())
            );
            println!("  status     {}", paint.green(point.status.as_api()));
            println!(
                "  made by    {}",
                match &point.created_by {
                    Some(cb) => format!(
                        "plan {}{}",
                        cb.plan_id,
                        cb.rule_id
                            .as_deref()
                            .map(|r| format!(" rule {r}"))
                            .unwrap_or_default()
                    ),
                    None => paint.yellow("on-demand backup (not made by a backup plan)"),
                }
            );
            println!();
            println!("restore it into the new table {}:", paint.bold(&target));
            println!();
            println!("{command}");
            println!();
            println!(
                "{}",
                paint.dim(
                    "then: aws backup describe-restore-job --restore-job-id <id> until COMPLETED; \
                     see docs/RUNBOOK.md for the checks after a restore"
                )
            );
        }
    }
    Ok(ExitStatus::Ok)
}

fn point_json(p: &RestorePoint) -> serde_json::Value {
    json!({
        "arn": p.arn,
        "vault_name": p.vault_name,
        "resource_arn": p.resource_arn,
        "created": p.created.to_string(),
        "completed": p.completed.map(|c| c.to_string()),
        "status": p.status.as_api(),
        "iam_role_arn": p.iam_role_arn,
        "on_demand": p.created_by.is_none(),
        "created_by": p.created_by,
        "delete_after_days": p.delete_after_days,
        "delete_at": p.delete_at.map(|d| d.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_name_carries_the_point_time_and_never_the_source_name() {
        let t: Timestamp = "2026-11-15T00:07:00Z".parse().unwrap();
        assert_eq!(
            default_target_name("orders", t),
            "orders-restored-20261115T0007"
        );
        let long = "x".repeat(255);
        let n = default_target_name(&long, t);
        assert_eq!(n.len(), 255);
        assert!(n.ends_with("-restored-20261115T0007"));
        assert!(valid_table_name(&n));
    }

    #[test]
    fn command_is_shell_ready() {
        let argv = restore_argv(
            "arn:aws:backup:eu-west-1:123456789012:recovery-point:abc",
            "arn:aws:iam::123456789012:role/service-role/AWSBackupDefaultServiceRole",
            "orders-restored-20261115T0007",
            Some("eu-west-1"),
        );
        assert_eq!(
            render_command(&argv),
            "aws backup start-restore-job --recovery-point-arn \
             arn:aws:backup:eu-west-1:123456789012:recovery-point:abc --iam-role-arn \
             arn:aws:iam::123456789012:role/service-role/AWSBackupDefaultServiceRole \
             --metadata '{\"targetTableName\":\"orders-restored-20261115T0007\"}' \
             --resource-type DynamoDB --region eu-west-1"
        );
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }

    #[test]
    fn table_names() {
        assert!(valid_table_name("orders"));
        assert!(!valid_table_name("ab"));
        assert!(!valid_table_name("bad name"));
    }
}
