//! `backup-guard-bench`: benchmarks of backup-guard (see the library docs and
//! docs/BENCHMARKS.md).
//!
//! ```text
//! backup-guard-bench generate --tables 1000 [--seed S] --out FILE
//! backup-guard-bench report [--sizes 100,1000,10000] ...   # make bench: writes docs/BENCHMARKS.md
//! backup-guard-bench render                               # re-render from target/bench/results.json
//! backup-guard-bench run-once --mode verifier|naive --now T   # env: the local account's
//! backup-guard-bench evidence [--tables 10000] [--runs 5]  # the evidence report in Chromium
//! backup-guard-bench second-night [--tables 10000]      # first vs second night (creation-time cache)
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bench::generate::{DEFAULT_SEED, GenSpec, generate};
use bench::render::{render, second_night_section};
use bench::run::{Mode, run_once};
use bench::suite::{
    ARM64_VARIANT, COMPARE_VARIANT, Results, SuiteOptions, binary, run_suite, sam_bootstraps,
    second_night,
};
use clap::{Parser, Subcommand};
use jiff::Timestamp;

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
    /// One measured run against the account in the environment; prints one JSON line.
    /// (Used by `report`, one process per run so peak RSS is the run's.)
    RunOnce {
        /// What to run.
        #[arg(long, value_enum)]
        mode: Mode,
        /// The scenario's "now" (RFC 3339).
        #[arg(long)]
        now: Timestamp,
        /// Concurrent independent calls.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
    },
    /// Run the whole suite and write docs/BENCHMARKS.md (what `make bench` runs).
    Report(ReportArgs),
    /// The evidence bundle of a generated N-table account (seeded into an in-process local
    /// account, verified, bundled): file sizes, build time, and headless Chromium's time to
    /// load report.html (median of several runs). Prints the results; `--json` writes them.
    Evidence {
        /// Number of tables (besides the state table).
        #[arg(long, default_value_t = 10_000)]
        tables: usize,
        /// Chromium loads per page.
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Where the bundle is written.
        #[arg(long, default_value = "target/bench/evidence")]
        out: PathBuf,
        /// The browser (`make browser` installs Debian's chromium).
        #[arg(long, default_value_os_t = bench::evidence::default_chromium())]
        chromium: PathBuf,
        /// Also write the results as JSON to this file.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Only the "second night" measurement of `report`: seed a generated N-table account,
    /// run two nights of the verifier with its creation-time cache, print the section in the
    /// document's format (and the results as JSON to `--json`).
    SecondNight {
        /// Number of tables (besides the state table).
        #[arg(long, default_value_t = 10_000)]
        tables: usize,
        /// The `local-account` binary.
        #[arg(long, default_value = "target/release/local-account")]
        local_account: PathBuf,
        /// Concurrency of the verifier.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        /// Work directory (scenario, env file, logs).
        #[arg(long, default_value = "target/bench")]
        work_dir: PathBuf,
        /// Also write the size's results as JSON to this file.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Re-render the document from a results file of an earlier `report`.
    Render {
        /// Results JSON written by `report`.
        #[arg(long, default_value = "target/bench/results.json")]
        results: PathBuf,
        /// Hand-written observations appended to the document.
        #[arg(long, default_value = "bench/observations.md")]
        observations: PathBuf,
        /// Output.
        #[arg(long, default_value = "docs/BENCHMARKS.md")]
        out: PathBuf,
        /// Re-read the arm64 bootstraps of this `sam build` output (sizes only).
        #[arg(long)]
        sam_build_dir: Option<PathBuf>,
        /// Measure (size, init) the opt-level 3 comparison build in this directory and add it.
        #[arg(long)]
        compare_dir: Option<PathBuf>,
        /// Init runs per comparison binary.
        #[arg(long, default_value_t = 20)]
        init_runs: usize,
    },
}

#[derive(clap::Args)]
struct ReportArgs {
    /// Output document.
    #[arg(long, default_value = "docs/BENCHMARKS.md")]
    out: PathBuf,
    /// Raw results (JSON).
    #[arg(long, default_value = "target/bench/results.json")]
    results: PathBuf,
    /// Hand-written observations appended to the document (skipped if absent).
    #[arg(long, default_value = "bench/observations.md")]
    observations: PathBuf,
    /// Table counts, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "100,1000,10000")]
    sizes: Vec<usize>,
    /// Verifier runs per size (each latency setting).
    #[arg(long, default_value_t = 5)]
    repeats: usize,
    /// Naive runs per size without latency.
    #[arg(long, default_value_t = 3)]
    naive_repeats: usize,
    /// Latency added to every Backup stand-in call for the latency runs (0 = none).
    #[arg(long, default_value_t = 30)]
    latency_ms: u64,
    /// Concurrency of verifier and naive.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// The `local-account` binary.
    #[arg(long, default_value = "target/debug/local-account")]
    local_account: PathBuf,
    /// Directory of the x86_64 release binaries of both functions.
    #[arg(long, default_value = "target/release")]
    functions_dir: PathBuf,
    /// Directory of the opt-level 3 comparison build of both functions (`cargo build --profile
    /// release-o3`); skipped if the binaries are not there.
    #[arg(long, default_value = "target/release-o3")]
    compare_dir: PathBuf,
    /// `sam build` output.
    #[arg(long, default_value = ".aws-sam/build")]
    sam_build_dir: PathBuf,
    /// Guard events per variant (warm, cold); 0 skips the guard benchmark.
    #[arg(long, default_value_t = 300)]
    guard_events: usize,
    /// CreateTable sample event.
    #[arg(long, default_value = "events/create-table.json")]
    guard_sample: PathBuf,
    /// Init runs per function binary.
    #[arg(long, default_value_t = 20)]
    init_runs: usize,
    /// Work directory (scenarios, env files, logs).
    #[arg(long, default_value = "target/bench")]
    work_dir: PathBuf,
}

/// The label of the workspace's release profile build (the profile in the root Cargo.toml).
const X86_RELEASE: &str =
    "x86_64 release (opt-level \"s\", fat LTO, codegen-units 1, strip, panic=abort)";

const FUNCTIONS: &[&str] = &["table-guard", "recovery-verifier"];

fn write_doc(results: &Results, observations: &Path, out: &Path) -> Result<(), String> {
    let command = "backup-guard-bench report";
    let mut doc = render(results, command);
    if let Ok(text) = std::fs::read_to_string(observations) {
        doc.push_str(&text);
    }
    std::fs::write(out, doc).map_err(|e| format!("cannot write {}: {e}", out.display()))
}

fn report(a: ReportArgs) -> Result<(), String> {
    let bench_exe = std::env::current_exe().map_err(|e| format!("own path: {e}"))?;
    let functions = |dir: &Path| -> Vec<(String, PathBuf)> {
        FUNCTIONS
            .iter()
            .map(|f| (f.to_string(), dir.join(f)))
            .collect()
    };
    let o = SuiteOptions {
        sizes: a.sizes,
        repeats: a.repeats,
        naive_repeats: a.naive_repeats,
        latency_ms: a.latency_ms,
        concurrency: a.concurrency,
        local_account: a.local_account,
        bench_exe,
        work_dir: a.work_dir,
        guard_events: a.guard_events,
        guard_sample: a.guard_sample,
        functions: functions(&a.functions_dir),
        functions_variant: if a.functions_dir.ends_with("release") {
            X86_RELEASE.to_string()
        } else {
            format!("x86_64 from {}", a.functions_dir.display())
        },
        functions_compare: functions(&a.compare_dir)
            .into_iter()
            .filter(|(_, p)| p.exists())
            .collect(),
        sam_build_dir: a.sam_build_dir,
        init_runs: a.init_runs,
    };
    let results = run_suite(&o);
    let json = serde_json::to_string_pretty(&results).map_err(|e| e.to_string())?;
    if let Some(dir) = a.results.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    std::fs::write(&a.results, json)
        .map_err(|e| format!("cannot write {}: {e}", a.results.display()))?;
    write_doc(&results, &a.observations, &a.out)?;
    eprintln!("wrote {} and {}", a.out.display(), a.results.display());
    Ok(())
}

fn evidence(
    tables: usize,
    runs: usize,
    out: &Path,
    chromium: &Path,
    json: Option<&Path>,
) -> Result<(), String> {
    if !chromium.exists() {
        return Err(format!(
            "{} is missing: run `make browser`",
            chromium.display()
        ));
    }
    let g = generate(&GenSpec::new(tables)).map_err(|e| e.to_string())?;
    let rt = tokio::runtime::Runtime::new()
        .map_err(|e| format!("cannot start the tokio runtime: {e}"))?;
    let r = rt.block_on(async {
        eprintln!(
            "seeding {} tables into the local account",
            g.scenario.tables.len()
        );
        let started = std::time::Instant::now();
        let account = local_account::LocalAccount::start(&g.scenario)
            .await
            .map_err(|e| format!("cannot start the local account: {e}"))?;
        eprintln!(
            "seeded in {:.0} s; verifying and rendering",
            started.elapsed().as_secs_f64()
        );
        let ctx = account.context().await;
        bench::evidence::evidence_bench(&ctx, g.scenario.now, out, chromium, runs).await
    })?;
    print!("{}", bench::evidence::render(&r));
    if let Some(path) = json {
        let text = serde_json::to_string_pretty(&r).map_err(|e| e.to_string())?;
        std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
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
        Command::RunOnce {
            mode,
            now,
            concurrency,
        } => {
            let rt = tokio::runtime::Runtime::new()
                .map_err(|e| format!("cannot start the tokio runtime: {e}"))?;
            let r = rt.block_on(run_once(mode, now, concurrency));
            let line = serde_json::to_string(&r).map_err(|e| e.to_string())?;
            println!("{line}");
            Ok(())
        }
        Command::Report(a) => report(a),
        Command::SecondNight {
            tables,
            local_account,
            concurrency,
            work_dir,
            json,
        } => {
            let o = SuiteOptions {
                sizes: vec![tables],
                repeats: 0,
                naive_repeats: 0,
                latency_ms: 0,
                concurrency,
                local_account,
                bench_exe: std::env::current_exe().map_err(|e| format!("own path: {e}"))?,
                work_dir,
                guard_events: 0,
                guard_sample: PathBuf::new(),
                functions: Vec::new(),
                functions_variant: String::new(),
                functions_compare: Vec::new(),
                sam_build_dir: PathBuf::new(),
                init_runs: 0,
            };
            let r = second_night(&o, tables);
            print!("{}", second_night_section(std::slice::from_ref(&r)));
            for e in &r.errors {
                eprintln!("problem: {e}");
            }
            if let Some(path) = json {
                let text = serde_json::to_string_pretty(&r).map_err(|e| e.to_string())?;
                std::fs::write(&path, text)
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            }
            if r.nights.len() == 2 {
                Ok(())
            } else {
                Err("the two nights did not both run".into())
            }
        }
        Command::Evidence {
            tables,
            runs,
            out,
            chromium,
            json,
        } => evidence(tables, runs, &out, &chromium, json.as_deref()),
        Command::Render {
            results,
            observations,
            out,
            sam_build_dir,
            compare_dir,
            init_runs,
        } => {
            let text = std::fs::read_to_string(&results)
                .map_err(|e| format!("cannot read {}: {e}", results.display()))?;
            let mut r: Results = serde_json::from_str(&text)
                .map_err(|e| format!("{} is not a results file: {e}", results.display()))?;
            if let Some(dir) = sam_build_dir {
                r.binaries.retain(|b| b.variant != ARM64_VARIANT);
                for (name, path) in sam_bootstraps(&dir) {
                    r.binaries.push(binary(&name, ARM64_VARIANT, &path, 0));
                }
            }
            if let Some(dir) = compare_dir {
                r.binaries.retain(|b| b.variant != COMPARE_VARIANT);
                for f in FUNCTIONS {
                    r.binaries
                        .push(binary(f, COMPARE_VARIANT, &dir.join(f), init_runs));
                }
            }
            let json = serde_json::to_string_pretty(&r).map_err(|e| e.to_string())?;
            std::fs::write(&results, json)
                .map_err(|e| format!("cannot write {}: {e}", results.display()))?;
            write_doc(&r, &observations, &out)
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
