//! `backup-guard-bench`: benchmarks of backup-guard (see the library docs and
//! docs/BENCHMARKS.md).
//!
//! ```text
//! backup-guard-bench generate --tables 1000 [--seed S] --out FILE
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use bench::generate::{DEFAULT_SEED, GenSpec, generate};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "backup-guard benchmarks (make bench)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a generated scenario (the tests' scenario format) of N tables.
    Generate {
        /// Number of tables (besides the state table).
        #[arg(long)]
        tables: usize,
        /// PRNG seed.
        #[arg(long, default_value_t = DEFAULT_SEED)]
        seed: u64,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Generate { tables, seed, out } => {
            let g = generate(&GenSpec {
                seed,
                ..GenSpec::new(tables)
            })
            .map_err(|e| e.to_string())?;
            std::fs::write(&out, g.scenario.to_json())
                .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
            eprintln!(
                "wrote {} ({} tables, {} expected findings; kinds {:?})",
                out.display(),
                g.scenario.tables.len(),
                g.scenario.expectations.len(),
                g.kind_counts()
            );
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("backup-guard-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
