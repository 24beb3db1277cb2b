//! `local-account up --scenario FILE [--env-file PATH]`: starts moto and the AWS Backup
//! stand-in, seeds them from a scenario, prints `export ...` lines for the account's
//! variables and stays up until SIGTERM or Ctrl-C. Test infrastructure (used by `make demo`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use local_account::{LocalAccount, Scenario};

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

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Up { scenario, env_file } => up(scenario, env_file).await,
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
