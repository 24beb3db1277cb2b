//! # backup-guard-fuzz
//!
//! An in-house fuzzer of the three parsers that read input from outside: table-guard's
//! CloudTrail event parser, the plan-document parser and the AWS cron parser (see
//! [`targets`] for what each must do). A seeded PRNG ([`rng`]) drives byte- and
//! structure-level mutations ([`mutate`]) of the repository's own samples; every input runs
//! under `catch_unwind`, so a panic is recorded with its input instead of ending the run.
//!
//! Not coverage-guided: it reaches the parsers' branches through mutations of valid seeds and
//! domain values (odd partitions, regions, windows, cron tokens) instead.
//!
//! `make fuzz` runs [`run`] for every target (1,000,000 inputs each) and writes
//! `docs/FUZZING.md`; `tests/smoke.rs` runs 20,000 per target in `cargo test`.

pub mod mutate;
pub mod rng;
pub mod targets;

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::time::{Duration, Instant};

use crate::rng::Rng;
use crate::targets::{Target, Verdict};

/// A finding: the input and what went wrong.
#[derive(Debug, Clone)]
pub struct Finding {
    /// Which input of the run (0-based).
    pub iteration: u64,
    /// The input.
    pub input: Vec<u8>,
    /// The panic message or the broken contract.
    pub what: String,
}

/// The result of fuzzing one target.
#[derive(Debug, Clone)]
pub struct TargetReport {
    /// The target.
    pub target: Target,
    /// Inputs run.
    pub executions: u64,
    /// Inputs the parser accepted.
    pub accepted: u64,
    /// Inputs it rejected properly.
    pub rejected: u64,
    /// Panics (crashes).
    pub panics: Vec<Finding>,
    /// Broken contracts other than panics.
    pub violations: Vec<Finding>,
    /// Seeds in the corpus.
    pub seeds: usize,
    /// Largest input run, bytes.
    pub max_input_len: usize,
    /// Wall time.
    pub elapsed: Duration,
}

/// Findings kept per kind (the counts stay exact).
const KEEP: usize = 20;

thread_local! {
    static PANIC_MESSAGE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs `iterations` inputs of `target` from PRNG seed `seed` through [`targets::check`].
pub fn run(target: Target, iterations: u64, seed: u64) -> TargetReport {
    run_with(target, iterations, seed, targets::check)
}

/// [`run`] with another check (the driver's own tests plant panics and violations).
pub fn run_with(
    target: Target,
    iterations: u64,
    seed: u64,
    check: impl Fn(Target, &[u8], &mut Rng) -> Result<Verdict, targets::Violation>,
) -> TargetReport {
    let corpus = targets::corpus(target);
    let mut rng = Rng::new(seed ^ (target as u64).wrapping_mul(0x9E37_79B9));
    let mut report = TargetReport {
        target,
        executions: 0,
        accepted: 0,
        rejected: 0,
        panics: Vec::new(),
        violations: Vec::new(),
        seeds: corpus.bytes.len(),
        max_input_len: 0,
        elapsed: Duration::ZERO,
    };
    let mut panic_count = 0u64;
    let mut violation_count = 0u64;
    // Record panic messages instead of printing a backtrace per input.
    let previous_hook = panic::take_hook();
    panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "non-string panic payload".to_string());
        PANIC_MESSAGE.with(|m| *m.borrow_mut() = Some(format!("{msg}{at}")));
    }));
    let started = Instant::now();
    for iteration in 0..iterations {
        let input = if corpus.bytes.is_empty() {
            Vec::new()
        } else if iteration < corpus.bytes.len() as u64 {
            // The seeds themselves first.
            corpus.bytes[iteration as usize].clone()
        } else {
            targets::generate(target, &corpus, &mut rng)
        };
        report.max_input_len = report.max_input_len.max(input.len());
        let mut check_rng = Rng::new(rng.next_u64());
        let outcome =
            panic::catch_unwind(AssertUnwindSafe(|| check(target, &input, &mut check_rng)));
        report.executions += 1;
        match outcome {
            Ok(Ok(Verdict::Accepted)) => report.accepted += 1,
            Ok(Ok(Verdict::Rejected)) => report.rejected += 1,
            Ok(Err(v)) => {
                violation_count += 1;
                if report.violations.len() < KEEP {
                    report.violations.push(Finding {
                        iteration,
                        input,
                        what: v.0,
                    });
                }
            }
            Err(_) => {
                panic_count += 1;
                let what = PANIC_MESSAGE
                    .with(|m| m.borrow_mut().take())
                    .unwrap_or_else(|| "panic".to_string());
                if report.panics.len() < KEEP {
                    report.panics.push(Finding {
                        iteration,
                        input,
                        what,
                    });
                }
            }
        }
    }
    report.elapsed = started.elapsed();
    panic::set_hook(previous_hook);
    // Keep the exact counts visible even when only KEEP findings are stored.
    if panic_count > report.panics.len() as u64
        && let Some(last) = report.panics.last_mut()
    {
        last.what
            .push_str(&format!(" ({panic_count} panics in total)"));
    }
    if violation_count > report.violations.len() as u64
        && let Some(last) = report.violations.last_mut()
    {
        last.what
            .push_str(&format!(" ({violation_count} violations in total)"));
    }
    report
}

/// The input shortened for a report line.
pub fn preview(input: &[u8]) -> String {
    let text = String::from_utf8_lossy(input);
    let mut s: String = text.chars().take(160).collect();
    if text.chars().count() > 160 {
        s.push_str(&format!("… ({} bytes)", input.len()));
    }
    format!("{s:?}")
}

/// `docs/FUZZING.md` for the reports of one run.
pub fn markdown(reports: &[TargetReport], command: &str, seed: u64, profile: &str) -> String {
    let mut out = String::new();
    out.push_str("# Fuzzing the parsers\n\n");
    out.push_str(
        "Generated by `make fuzz` (the in-house fuzzer, crate `fuzz/`, binary \
         `backup-guard-fuzz`); do not edit by hand.\n\n",
    );
    out.push_str(&format!(
        "Command: `{command}` (PRNG seed {seed}, cargo profile `{profile}`: opt-level 3, \
         panic = unwind, overflow and debug assertions on).\n\n"
    ));
    out.push_str(
        "Each input is a mutated seed (byte level: bit flips, random and interesting bytes, \
         insertions, deletions, duplications, truncation, splices; structure level: value \
         swaps between paths, type changes, removals, huge and fractional numbers, unicode and \
         up to 1 MiB strings, nesting up to 300 levels, planted domain values such as odd \
         partitions, regions, windows and cron tokens) or a generated one, run under \
         `catch_unwind`. What each target checks besides \"no panic\" is in \
         `fuzz/src/targets.rs`: every rejection of an event or plan names a field or JSON path \
         and is at most 1,024 characters; accepted inputs round-trip (event ARN re-parse and \
         JSON form, plan document rebuilt from the facts, cron normalised form and next fire \
         instant).\n\n",
    );
    out.push_str("| target | parser | seeds | executions | accepted | rejected | crashes (panics) | contract violations | largest input | wall time | inputs/s |\n");
    out.push_str("|---|---|---|---|---|---|---|---|---|---|---|\n");
    for r in reports {
        let secs = r.elapsed.as_secs_f64();
        out.push_str(&format!(
            "| `{}` | `{}` | {} | {} | {} | {} | {} | {} | {} B | {:.1} s | {:.0} |\n",
            r.target.name(),
            r.target.parser(),
            r.seeds,
            r.executions,
            r.accepted,
            r.rejected,
            r.panics.len(),
            r.violations.len(),
            r.max_input_len,
            secs,
            if secs > 0.0 {
                r.executions as f64 / secs
            } else {
                0.0
            }
        ));
    }
    let findings: Vec<(&TargetReport, &Finding, &str)> = reports
        .iter()
        .flat_map(|r| {
            r.panics
                .iter()
                .map(move |f| (r, f, "panic"))
                .chain(r.violations.iter().map(move |f| (r, f, "violation")))
        })
        .collect();
    if findings.is_empty() {
        out.push_str("\nNo crashes and no contract violations.\n");
    } else {
        out.push_str("\n## Findings\n\n");
        for (r, f, kind) in findings {
            out.push_str(&format!(
                "- `{}` {kind} at input {}: {} — input {}\n",
                r.target.name(),
                f.iteration,
                f.what,
                preview(&f.input)
            ));
        }
    }
    out
}
