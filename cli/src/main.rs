//! `backup-guard`: audit an account's DynamoDB backups against the policy from a laptop, check
//! a cron expression, a plan document or an event by hand, and print the exact restore command.
//!
//! Every check reuses the code the Lambda functions run (crates `policy`, `awsio`,
//! `table_guard`, `recovery_verifier`); nothing is implemented twice. Exit codes: 0 ok,
//! 1 findings at or above `--fail-on` (or deviations / nothing to restore), 2 usage, input or
//! account errors (the message names what was wrong).

mod audit_cmd;
mod error;
mod event_cmd;
mod history_cmd;
mod iam_cmd;
mod org_cmd;
mod output;
mod plan_cmd;
mod report_cmd;
mod restore_cmd;
mod schedule_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::error::{CliError, ExitStatus};
use crate::output::{ColorChoice, FailOn, Format, Paint, parse_instant};

#[derive(Parser, Debug)]
#[command(
    name = "backup-guard",
    version,
    about = "Check DynamoDB backups against the backup policy (AWS Backup, cron(0 0 15,25 * ? *), 90 days)",
    long_about = "Check DynamoDB backups against the backup policy.\n\n\
        The policy comes from the BG_* environment variables, exactly as the Lambda functions \
        read it (defaults: the policy document's cron(0 0 15,25 * ? *) UTC, windows 60/180 \
        minutes, 90 days). AWS access uses the standard AWS_* variables and profiles; endpoints \
        only AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE>.\n\n\
        Exit codes: 0 ok/compliant, 1 findings at or above --fail-on (or deviations, or no \
        recovery point to restore), 2 usage, input or account error."
)]
struct Cli {
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Lowest finding severity that makes the exit code 1.
    #[arg(long, global = true, value_enum, default_value_t = FailOn::Warning)]
    fail_on: FailOn,
    /// Colour the text output.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
// `restore-command` is the command's name: it prints a command.
#[allow(clippy::enum_variant_names)]
enum Command {
    /// The next fire instants of an AWS cron expression, with start and completion deadlines.
    Schedule {
        /// AWS cron expression, `cron(0 0 15,25 * ? *)` or bare `0 0 15,25 * ? *`.
        expression: String,
        /// IANA time zone the expression is evaluated in (AWS Backup's
        /// ScheduleExpressionTimezone).
        #[arg(long, default_value = "UTC")]
        tz: String,
        /// List fires strictly after this instant (RFC 3339, a date, or `now`).
        #[arg(long, default_value = "now")]
        from: String,
        /// Number of fires (1 to 1000).
        #[arg(long, default_value = "5", value_parser = schedule_cmd::parse_count)]
        count: usize,
        /// Start window in minutes, 60 to 52560000 (default: the policy's,
        /// BG_START_WINDOW_MINUTES).
        #[arg(long, value_parser = schedule_cmd::parse_window_minutes)]
        start_window: Option<i64>,
        /// Completion window in minutes, 60 to 52560000 (default: the policy's,
        /// BG_COMPLETION_WINDOW_MINUTES).
        #[arg(long, value_parser = schedule_cmd::parse_window_minutes)]
        completion_window: Option<i64>,
    },
    /// Judge an AWS Backup plan document (console/CLI JSON) or an AWS Organizations backup
    /// policy (top-level `plans`, as written or effective) against the policy.
    CheckPlan {
        /// The plan JSON (`{"BackupPlanName", "Rules"}` or get-backup-plan output), or a backup
        /// policy (`{"plans": ...}` or describe-effective-policy output); `-` = stdin.
        file: PathBuf,
        /// Backup policy only: the member account id that replaces `$account` (required when
        /// the policy uses it; default: describe-effective-policy's TargetId).
        #[arg(long)]
        account: Option<String>,
        /// Backup policy only: judge only the plans created in this region (it also replaces
        /// `$region`); default: every plan.
        #[arg(long)]
        region: Option<String>,
    },
    /// What table-guard would do with an event file (EventBridge-delivered CloudTrail event).
    CheckEvent {
        /// The event JSON; `-` = stdin.
        file: PathBuf,
        /// Run table-guard's handler in report-only mode against the account (AWS_* env,
        /// BG_TOPIC_ARN, BG_STATE_TABLE): reads the table's tags and the backup plans,
        /// evaluates, never tags; the report-only alert goes to the topic.
        #[arg(long)]
        live: bool,
    },
    /// The verifier's evaluation of every table, read-only: verdict, last good slot, findings.
    Audit {
        /// Region to audit (repeatable; default: AWS_REGION / the profile's).
        #[arg(long = "region")]
        regions: Vec<String>,
        /// Only tables whose name matches this glob (`*` wildcards; repeatable).
        #[arg(long = "table")]
        tables: Vec<String>,
        /// Evaluate as of this instant (RFC 3339, a date, or `now`).
        #[arg(long, default_value = "now")]
        now: String,
        /// Every member account of the organization (the credentials' account must be the
        /// management account or a delegated administrator): each account × region verified
        /// through the member role, then the org digest.
        #[arg(long)]
        org: bool,
        /// With --org: the member role's name in every account.
        #[arg(long, default_value = "backup-guard-member")]
        member_role: String,
        /// With --org: only the accounts under this OU or root id (repeatable).
        #[arg(long = "include-ou")]
        include_ous: Vec<String>,
        /// With --org: leave out the accounts under this OU (repeatable).
        #[arg(long = "exclude-ou")]
        exclude_ous: Vec<String>,
        /// With --org: leave this account out (repeatable).
        #[arg(long = "exclude-account")]
        exclude_accounts: Vec<String>,
        /// With --org: account-regions verified at once.
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
        /// With --org: write each account-region's evidence bundle to this bucket.
        #[arg(long)]
        evidence_bucket: Option<String>,
    },
    /// The evidence bundle of the verifier's evaluation (evidence.json, slots.csv, report.html),
    /// read-only, written to --out; prints the path of report.html. With --run ID --bucket B:
    /// a run the nightly verifier stored, its hashes verified, rendered again.
    Report(report_cmd::ReportOpts),
    /// The newest good recovery point of a table and the exact command that restores it.
    RestoreCommand {
        /// Table name (in the configured account and region) or table ARN.
        table: String,
        /// Restore the newest good point created at or before this instant (RFC 3339, a date,
        /// or `now`).
        #[arg(long, default_value = "now")]
        at: String,
        /// Name of the new table (default `<table>-restored-<yyyymmddThhmm>` of the point).
        #[arg(long)]
        target_name: Option<String>,
        /// Role AWS Backup assumes for the restore (default: the point's IamRoleArn).
        #[arg(long)]
        role_arn: Option<String>,
        /// AWS region (default: AWS_REGION / the profile's, or the table ARN's).
        #[arg(long)]
        region: Option<String>,
    },
    /// Print the effective policy (BG_* variables over the defaults) as JSON.
    /// The verifier's stored runs in the evidence bucket: date, run id, verdict counts,
    /// new/resolved, and each table's verdict per run.
    History {
        /// The evidence bucket (the stack's EvidenceBucketName output).
        #[arg(long)]
        bucket: String,
        /// Only runs on or after this date (UTC, YYYY-MM-DD).
        #[arg(long, value_parser = history_cmd::parse_date)]
        since: Option<jiff::civil::Date>,
        /// Only this account's runs.
        #[arg(long)]
        account: Option<String>,
        /// Only the runs of this verified region.
        #[arg(long)]
        region: Option<String>,
    },
    #[command(hide = true)]
    PolicyDefaults {
        /// Print it as the `BG_*` variables that configure it (what the template must set).
        #[arg(long)]
        vars: bool,
    },
    /// Print, per template function (logical id), the IAM actions its code's AWS operations
    /// need, as JSON (the template test compares the grants with it).
    #[command(hide = true)]
    IamActions,
}

fn run(cli: Cli) -> Result<ExitStatus, CliError> {
    let paint = Paint::new(cli.color);
    match cli.command {
        Command::Schedule {
            expression,
            tz,
            from,
            count,
            start_window,
            completion_window,
        } => {
            let from = parse_instant("--from", &from)?;
            // The policy supplies the default windows; only read it when it is needed, so a
            // broken BG_* variable does not block checking an expression with explicit windows.
            let (start, completion) = match (start_window, completion_window) {
                (Some(s), Some(c)) => (s, c),
                (s, c) => {
                    let p = error::policy_from_env()?;
                    (
                        s.unwrap_or(p.start_window_minutes),
                        c.unwrap_or(p.completion_window_minutes),
                    )
                }
            };
            schedule_cmd::run(
                &schedule_cmd::ScheduleArgs {
                    expression,
                    tz,
                    from,
                    count,
                    start_window_minutes: start,
                    completion_window_minutes: completion,
                },
                cli.format,
                paint,
            )
        }
        Command::CheckPlan {
            file,
            account,
            region,
        } => plan_cmd::run(
            &file,
            &plan_cmd::OrgArgs { account, region },
            cli.format,
            paint,
        ),
        Command::CheckEvent { file, live } => {
            if live {
                runtime()?.block_on(event_cmd::run_live(&file, cli.format, cli.fail_on, paint))
            } else {
                event_cmd::run_offline(&file, cli.format, paint)
            }
        }
        Command::Audit {
            regions,
            now,
            org: true,
            member_role,
            include_ous,
            exclude_ous,
            exclude_accounts,
            concurrency,
            evidence_bucket,
            ..
        } => {
            let args = org_cmd::OrgArgs {
                now: parse_instant("--now", &now)?,
                regions,
                include_ous,
                exclude_ous,
                exclude_accounts,
                member_role_name: member_role,
                concurrency,
                bucket: evidence_bucket,
            };
            runtime()?.block_on(org_cmd::run(&args, cli.format, cli.fail_on))
        }
        Command::Audit {
            regions,
            tables,
            now,
            ..
        } => {
            let args = audit_cmd::AuditArgs {
                now: parse_instant("--now", &now)?,
                regions,
                tables,
            };
            runtime()?.block_on(audit_cmd::run(&args, cli.format, cli.fail_on, paint))
        }
        Command::Report(opts) => {
            runtime()?.block_on(report_cmd::run(&opts, cli.format, cli.fail_on, paint))
        }
        Command::RestoreCommand {
            table,
            at,
            target_name,
            role_arn,
            region,
        } => {
            let args = restore_cmd::RestoreArgs {
                at: parse_instant("--at", &at)?,
                table,
                target_name,
                role_arn,
                region,
            };
            runtime()?.block_on(restore_cmd::run(&args, cli.format, paint))
        }
        Command::History {
            bucket,
            since,
            account,
            region,
        } => {
            let args = history_cmd::HistoryArgs {
                bucket,
                account,
                region,
                since,
            };
            runtime()?.block_on(history_cmd::run_history(&args, cli.format, paint))
        }
        Command::PolicyDefaults { vars } => {
            let p = error::policy_from_env()?;
            let v = if vars {
                serde_json::to_value(p.to_vars())
            } else {
                serde_json::to_value(&p)
            }
            .map_err(|e| CliError::runtime(format!("cannot render the policy: {e}")))?;
            output::print_json(&v)?;
            Ok(ExitStatus::Ok)
        }
        Command::IamActions => {
            iam_cmd::run()?;
            Ok(ExitStatus::Ok)
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::runtime(format!("cannot start the async runtime: {e}")))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(v) => v.exit_code(),
        Err(e) => {
            eprintln!("backup-guard: error: {e}");
            e.exit_code()
        }
    }
}
