//! `local-account up --scenario FILE [--env-file PATH]`: starts moto and the AWS Backup
//! stand-in, seeds them from a scenario, prints `export ...` lines for the account's
//! variables and stays up until SIGTERM or Ctrl-C. Test infrastructure (used by `make demo`).
//!
//! `local-account up-org --scenario tests/scenarios/org-12x2.json`: the same for a local
//! organization (the management account's variables); `local-account generate-org ...
//! --out FILE` writes a generated org scenario.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use local_account::{LocalAccount, OrgScenario, Scenario};

#[derive(Parser)]
#[command(about = "The local AWS account (moto + AWS Backup stand-in) for tests and demos")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start both servers, seed the scenario, print the environment and wait for SIGTERM.
    Up {
        /// Scenario file (JSON), e.g. tests/scenarios/audit-finding.json.
        #[arg(long)]
        scenario: PathBuf,
        /// Also write the `export` lines to this file.
        #[arg(long)]
        env_file: Option<PathBuf>,
    },
    /// Start both servers, seed an org scenario (`tests/scenarios/org-*.json`), print the
    /// management account's environment in the first region and wait for SIGTERM.
    UpOrg {
        /// Org scenario file (JSON), e.g. tests/scenarios/org-12x2.json.
        #[arg(long)]
        scenario: PathBuf,
        /// Also write the `export` lines to this file.
        #[arg(long)]
        env_file: Option<PathBuf>,
    },
    /// Write a generated org scenario (the `org-12x2.json` format).
    GenerateOrg {
        /// Accounts (the first is the management account, the last has no member role).
        #[arg(long, default_value_t = 12)]
        accounts: usize,
        /// Regions, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "us-east-1,eu-west-1")]
        regions: Vec<String>,
        /// Tables per account and region.
        #[arg(long, default_value_t = 50)]
        tables: usize,
        /// Seed of the first account-region.
        #[arg(long, default_value_t = local_account::generate::DEFAULT_SEED)]
        seed: u64,
        /// Output file (stdout if absent).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print the expanded scenario (every recovery point and job explicit) as JSON.
    Expand {
        /// Scenario file (JSON).
        #[arg(long)]
        scenario: PathBuf,
    },
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

async fn up(scenario: PathBuf, env_file: Option<PathBuf>) -> Result<(), String> {
    let scenario = Scenario::load(&scenario).map_err(|e| e.to_string())?;
    let account = LocalAccount::start(&scenario)
        .await
        .map_err(|e| format!("cannot start the local account: {e}"))?;
    let exports: String = account
        .env()
        .iter()
        .map(|(k, v)| format!("export {k}={}\n", shell_quote(v)))
        .collect();
    if let Some(path) = &env_file {
        std::fs::write(path, &exports)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    print!("{exports}");
    let s = account.scenario();
    eprintln!(
        "local account up: scenario `{}` (now {}), {} tables, {} plans, {} recovery points, \
         {} backup jobs; moto {}, Backup stand-in {}. SIGTERM or Ctrl-C stops it.",
        s.name,
        s.now,
        s.tables.len(),
        s.plans.len(),
        s.recovery_points.len(),
        s.backup_jobs.len(),
        account.moto().endpoint(),
        account.standin().endpoint()
    );
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| format!("cannot wait for SIGTERM: {e}"))?;
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    drop(account);
    if let Some(path) = &env_file {
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}

async fn up_org(scenario: PathBuf, env_file: Option<PathBuf>) -> Result<(), String> {
    let org = OrgScenario::load(&scenario).map_err(|e| e.to_string())?;
    let local = LocalAccount::start_org(&org)
        .await
        .map_err(|e| format!("cannot start the local organization: {e}"))?;
    let region = &org.regions[0];
    let mgmt = local
        .management(region)
        .ok_or_else(|| "no management account".to_string())?;
    let exports: String = mgmt
        .env()
        .iter()
        .map(|(k, v)| format!("export {k}={}\n", shell_quote(v)))
        .collect();
    if let Some(path) = &env_file {
        std::fs::write(path, &exports)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    print!("{exports}");
    eprintln!(
        "local organization up: `{}` ({}), management account {}, {} accounts x {} regions; \
         member role {}; moto {}, Backup stand-in {}. SIGTERM or Ctrl-C stops it.",
        org.name,
        local.organization_id(),
        org.management_account,
        org.accounts.len(),
        org.regions.len(),
        local.member_role_arn("<account>"),
        local.moto().endpoint(),
        local.standin().endpoint()
    );
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| format!("cannot wait for SIGTERM: {e}"))?;
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    drop(local);
    if let Some(path) = &env_file {
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}

fn generate_org(
    accounts: usize,
    regions: Vec<String>,
    tables: usize,
    seed: u64,
    out: Option<PathBuf>,
) -> Result<(), String> {
    let now = local_account::generate::DEFAULT_NOW
        .parse()
        .map_err(|e| format!("{e}"))?;
    let org = local_account::org::generate_org(&local_account::org::OrgGenSpec {
        accounts,
        regions,
        tables,
        seed,
        now,
    })
    .map_err(|e| e.to_string())?;
    let text = format!("{}\n", org.to_json());
    match out {
        Some(p) => {
            std::fs::write(&p, text).map_err(|e| format!("cannot write {}: {e}", p.display()))
        }
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Up { scenario, env_file } => up(scenario, env_file).await,
        Command::UpOrg { scenario, env_file } => up_org(scenario, env_file).await,
        Command::GenerateOrg {
            accounts,
            regions,
            tables,
            seed,
            out,
        } => generate_org(accounts, regions, tables, seed, out),
        Command::Expand { scenario } => Scenario::load(&scenario)
            .and_then(|s| s.expand())
            .map(|s| println!("{}", s.to_json()))
            .map_err(|e| e.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("local-account: {e}");
            ExitCode::FAILURE
        }
    }
}
