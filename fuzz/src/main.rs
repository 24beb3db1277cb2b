//! `backup-guard-fuzz`: fuzz the event, plan and cron parsers (see the `bg_fuzz` crate docs).
//!
//! ```text
//! backup-guard-fuzz [--target event|plan|cron|all] [--iterations N] [--seed S]
//!                   [--report docs/FUZZING.md] [--crash-dir DIR]
//! backup-guard-fuzz --write-seeds DIR [--target ...]   # the seed corpora as files (AFL++)
//! ```
//!
//! Exit 0 when no target crashed or broke its contract, 1 otherwise, 2 on bad arguments.

use std::path::PathBuf;
use std::process::ExitCode;

use bg_fuzz::targets::Target;

struct Args {
    targets: Vec<Target>,
    iterations: u64,
    seed: u64,
    report: Option<PathBuf>,
    crash_dir: PathBuf,
    write_seeds: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        targets: Target::ALL.to_vec(),
        iterations: 1_000_000,
        seed: 20_261_201,
        report: None,
        crash_dir: PathBuf::from("target/fuzz-crashes"),
        write_seeds: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--target" => {
                let v = value()?;
                args.targets = if v == "all" {
                    Target::ALL.to_vec()
                } else {
                    vec![Target::parse(&v).ok_or_else(|| {
                        format!("--target {v}: accepted: event, plan, cron or all")
                    })?]
                };
            }
            "--iterations" => {
                let v = value()?;
                args.iterations = v
                    .parse()
                    .map_err(|_| format!("--iterations {v}: accepted: a whole number"))?;
            }
            "--seed" => {
                let v = value()?;
                args.seed = v
                    .parse()
                    .map_err(|_| format!("--seed {v}: accepted: a whole number"))?;
            }
            "--report" => args.report = Some(PathBuf::from(value()?)),
            "--crash-dir" => args.crash_dir = PathBuf::from(value()?),
            "--write-seeds" => args.write_seeds = Some(PathBuf::from(value()?)),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("backup-guard-fuzz: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(dir) = &args.write_seeds {
        // The seed corpora as files, `<dir>/<target>/<n>` (AFL++'s input directories).
        for target in &args.targets {
            let sub = dir.join(target.name());
            let corpus = bg_fuzz::targets::corpus(*target);
            let written = std::fs::create_dir_all(&sub).and_then(|_| {
                corpus
                    .bytes
                    .iter()
                    .enumerate()
                    .try_for_each(|(i, b)| std::fs::write(sub.join(format!("{i:03}")), b))
            });
            if let Err(e) = written {
                eprintln!(
                    "backup-guard-fuzz: cannot write seeds to {}: {e}",
                    sub.display()
                );
                return ExitCode::from(2);
            }
            eprintln!("wrote {} seeds to {}", corpus.bytes.len(), sub.display());
        }
        return ExitCode::SUCCESS;
    }
    let mut reports = Vec::new();
    for target in &args.targets {
        eprintln!(
            "==> fuzzing {} ({}) with {} inputs, seed {}",
            target.name(),
            target.parser(),
            args.iterations,
            args.seed
        );
        let r = bg_fuzz::run(*target, args.iterations, args.seed);
        eprintln!(
            "    {} executions ({} accepted, {} rejected), {} panics, {} violations, {:.1} s",
            r.executions,
            r.accepted,
            r.rejected,
            r.panics.len(),
            r.violations.len(),
            r.elapsed.as_secs_f64()
        );
        for f in r.panics.iter().chain(&r.violations) {
            eprintln!("    input {}: {}", f.iteration, f.what);
            let path = args
                .crash_dir
                .join(format!("{}-{}.bin", target.name(), f.iteration));
            let saved = std::fs::create_dir_all(&args.crash_dir)
                .and_then(|_| std::fs::write(&path, &f.input));
            match saved {
                Ok(()) => eprintln!("      saved {}", path.display()),
                Err(e) => eprintln!("      cannot save {}: {e}", path.display()),
            }
        }
        reports.push(r);
    }
    if let Some(path) = &args.report {
        let command = format!(
            "backup-guard-fuzz --iterations {} --seed {} --report {}",
            args.iterations,
            args.seed,
            path.display()
        );
        let md = bg_fuzz::markdown(&reports, &command, args.seed, "fuzz");
        if let Err(e) = std::fs::write(path, md) {
            eprintln!("backup-guard-fuzz: cannot write {}: {e}", path.display());
            return ExitCode::from(2);
        }
        eprintln!("==> wrote {}", path.display());
    }
    let clean = reports
        .iter()
        .all(|r| r.panics.is_empty() && r.violations.is_empty());
    if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
