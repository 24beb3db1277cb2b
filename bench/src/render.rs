//! docs/BENCHMARKS.md from [`Results`]: tables with min / median / max, the performance
//! targets checked against the numbers, and what the numbers mean.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use crate::run::RunResult;
use crate::stats::{Summary, fmt_of};
use crate::suite::{BinaryResult, Results, SizeResult};

const MIB: f64 = 1024.0 * 1024.0;

fn f(values: impl Iterator<Item = f64>) -> Vec<f64> {
    values.collect()
}

fn med(values: &[f64]) -> Option<f64> {
    Summary::of(values).map(|s| s.median)
}

fn max(values: &[f64]) -> Option<f64> {
    Summary::of(values).map(|s| s.max)
}

fn calls(runs: &[RunResult]) -> Vec<f64> {
    f(runs.iter().map(|r| r.calls_total as f64))
}

fn backup_calls(r: &RunResult) -> u64 {
    r.calls
        .iter()
        .filter(|(k, _)| k.starts_with("Backup."))
        .map(|(_, v)| v)
        .sum()
}

/// A value that is the same in every run is shown once; otherwise min / median / max.
fn same_or_range(values: &[f64], decimals: usize) -> String {
    match Summary::of(values) {
        None => "n/a".into(),
        Some(s) if s.min == s.max => format!("{:.d$}", s.min, d = decimals),
        Some(s) => s.fmt(decimals),
    }
}

fn rss_mib(runs: &[RunResult]) -> Vec<f64> {
    f(runs
        .iter()
        .filter_map(|r| r.peak_rss_kib)
        .map(|k| k as f64 / 1024.0))
}

fn yes(ok: Option<bool>) -> &'static str {
    match ok {
        Some(true) => "**met**",
        Some(false) => "**not met**",
        None => "not measured",
    }
}

struct Target {
    what: String,
    measured: String,
    ok: Option<bool>,
}

fn largest(res: &Results) -> Option<&SizeResult> {
    res.sizes
        .iter()
        .filter(|s| !s.verifier.is_empty())
        .max_by_key(|s| s.n)
}

fn targets(res: &Results) -> Vec<Target> {
    let mut t = Vec::new();
    let big = largest(res);
    let label = big.map_or("10,000 tables".to_string(), |s| {
        format!("{} tables / {} points", s.tables, s.recovery_points)
    });
    let (v, m, n) = big.map_or((None, None, None), |s| {
        (
            med(&calls(&s.verifier)),
            med(&f(s
                .verifier
                .iter()
                .filter_map(|r| r.minimal_total.map(|x| x as f64)))),
            med(&calls(&s.naive)),
        )
    });
    t.push(Target {
        what: format!("{label}: calls ≤ 1.1 × minimal formula"),
        measured: match (v, m) {
            (Some(v), Some(m)) => format!("{v:.0} calls / {m:.0} minimal = {:.3}×", v / m),
            _ => "n/a".into(),
        },
        ok: v.zip(m).map(|(v, m)| v <= 1.1 * m),
    });
    t.push(Target {
        what: format!("{label}: ≥ 50× fewer calls than the naive baseline"),
        measured: match (v, n) {
            (Some(v), Some(n)) => format!("{n:.0} naive / {v:.0} = {:.1}×", n / v),
            _ => "n/a".into(),
        },
        ok: v.zip(n).map(|(v, n)| n / v >= 50.0),
    });
    let rss = big.and_then(|s| {
        let all: Vec<RunResult> = s
            .verifier
            .iter()
            .chain(s.verifier_latency.iter())
            .cloned()
            .collect();
        max(&rss_mib(&all))
    });
    t.push(Target {
        what: format!(
            "{label}: verifier peak RSS < 128 MB (Lambda's memory setting; its \"MB\" are MiB)"
        ),
        measured: rss.map_or("n/a".into(), |r| {
            format!(
                "max {r:.1} MiB ({:.1} MB decimal) over all verifier runs",
                r * MIB / 1e6
            )
        }),
        ok: rss.map(|r| r < 128.0),
    });
    let warm = res
        .guard
        .as_ref()
        .and_then(|g| g.variants.iter().find(|v| v.name == "warm"));
    let warm_max = warm.and_then(|w| max(&w.calls));
    t.push(Target {
        what: "Guard: ≤ 4 AWS calls for a CreateTable with warm caches".into(),
        measured: warm.map_or("n/a".into(), |w| {
            format!(
                "{} calls (min / median / max over {} events)",
                fmt_of(&w.calls, 0),
                w.calls.len()
            )
        }),
        ok: warm_max.map(|m| m <= 4.0),
    });
    let arm: Vec<&BinaryResult> = res
        .binaries
        .iter()
        .filter(|b| b.variant.starts_with("arm64") && b.size_bytes.is_some())
        .collect();
    let x86: Vec<&BinaryResult> = res
        .binaries
        .iter()
        .filter(|b| b.variant.starts_with("x86_64 release (") && b.size_bytes.is_some())
        .collect();
    let (sized, which) = if arm.is_empty() {
        (x86.clone(), "x86_64 (no arm64 build measured)")
    } else {
        (arm, "arm64 bootstrap")
    };
    let biggest = sized.iter().filter_map(|b| b.size_bytes).max();
    t.push(Target {
        what: "Each bootstrap ≤ 8 MB (judged as 8,000,000 B, the stricter reading)".into(),
        measured: if sized.is_empty() {
            "n/a".into()
        } else {
            format!(
                "{which}: {}",
                sized
                    .iter()
                    .map(|b| format!(
                        "{} {:.2} MiB ({} B)",
                        b.name,
                        b.size_bytes.unwrap_or(0) as f64 / MIB,
                        b.size_bytes.unwrap_or(0)
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        },
        ok: biggest.map(|b| b <= 8_000_000),
    });
    let inits: Vec<(&str, f64)> = x86
        .iter()
        .filter_map(|b| med(&b.init_ms).map(|m| (b.name.as_str(), m)))
        .collect();
    t.push(Target {
        what: "Init ≤ 50 ms (x86_64, spawn → first Runtime API poll, median)".into(),
        measured: if inits.is_empty() {
            "n/a".into()
        } else {
            inits
                .iter()
                .map(|(n, m)| format!("{n} {m:.1} ms"))
                .collect::<Vec<_>>()
                .join(", ")
        },
        ok: (!inits.is_empty()).then(|| inits.iter().all(|(_, m)| *m <= 50.0)),
    });
    let night = res
        .sizes
        .iter()
        .filter(|s| s.nights.len() == 2)
        .max_by_key(|s| s.n);
    t.push(Target {
        what: format!(
            "{}: second night's calls ≤ 0.55 × the first's (creation-time cache)",
            night.map_or("10,000 tables".to_string(), |s| format!(
                "{} tables",
                s.tables
            ))
        ),
        measured: night.map_or("n/a".into(), |s| {
            let (a, b) = (&s.nights[0], &s.nights[1]);
            format!(
                "{} / {} calls = {:.3}× (DescribeTable {} → {})",
                b.calls_total,
                a.calls_total,
                b.calls_total as f64 / a.calls_total.max(1) as f64,
                describe_calls(a),
                describe_calls(b)
            )
        }),
        ok: night.map(|s| s.nights[1].calls_total as f64 <= 0.55 * s.nights[0].calls_total as f64),
    });
    t
}

/// Renders the whole document.
pub fn render(res: &Results, command: &str) -> String {
    let mut o = String::new();
    let m = &res.machine;
    let _ = writeln!(o, "# Benchmarks\n");
    let _ = writeln!(
        o,
        "Generated by `{command}` (`make bench`) on {}. Every number below comes from that \
         command; rerun it to reproduce. Raw results: `target/bench/results.json`.\n",
        res.generated_at
    );
    let _ = writeln!(o, "## Machine and setup\n");
    let _ = writeln!(o, "| | |\n|---|---|");
    let _ = writeln!(o, "| CPU | {} ({} logical CPUs) |", m.cpu, m.cpus);
    let _ = writeln!(o, "| Memory | {} MiB |", m.memory_mib);
    let _ = writeln!(o, "| Kernel | {} |", m.kernel);
    let _ = writeln!(o, "| Rust | {} |", m.rustc);
    let _ = writeln!(
        o,
        "| moto | {} |",
        if m.moto.is_empty() { "?" } else { &m.moto }
    );
    let _ = writeln!(
        o,
        "| Load average at start | {} (the machine is shared) |",
        m.load_at_start
    );
    let _ = writeln!(o, "| Bench binary profile | {} |", res.profile);
    let _ = writeln!(o, "| Verifier / naive concurrency | {} |", res.concurrency);
    let _ = writeln!(o, "| Suite wall time | {:.0} s |\n", res.suite_secs);
    let _ = writeln!(
        o,
        "The AWS account is the local account (`tests/`): moto server for DynamoDB, Resource \
         Groups Tagging, STS, SNS, SQS and the AWS Backup stand-in, both on loopback, seeded \
         from generated scenarios (`backup-guard-bench generate`, same format as \
         `tests/scenarios/*.json`, deterministic seed). **Call counts are exact and \
         portable**; wall times are those of this machine against local servers (moto is a \
         Python process that shares the 2 CPUs with the code under test), so they measure the \
         client side plus a slow server, not AWS latency. Each verifier/naive run is a fresh \
         process (`backup-guard-bench run-once`) started after seeding, so its peak RSS \
         (`VmHWM`) is the run's alone (runtime, SDK clients and the verification).\n"
    );

    let _ = writeln!(o, "## Targets\n");
    let _ = writeln!(o, "| Target | Measured | |\n|---|---|---|");
    for t in targets(res) {
        let _ = writeln!(o, "| {} | {} | {} |", t.what, t.measured, yes(t.ok));
    }
    o.push('\n');

    verifier_section(&mut o, res);
    o.push_str(&second_night_section(&res.sizes));
    latency_section(&mut o, res);
    guard_section(&mut o, res);
    binaries_section(&mut o, res);

    let errors: Vec<String> = res
        .sizes
        .iter()
        .flat_map(|s| s.errors.iter().map(move |e| format!("N={}: {e}", s.n)))
        .chain(res.guard_error.iter().map(|e| format!("guard: {e}")))
        .chain(res.binaries.iter().filter_map(|b| {
            b.error
                .as_ref()
                .map(|e| format!("{} ({}): {e}", b.name, b.variant))
        }))
        .collect();
    if !errors.is_empty() {
        let _ = writeln!(o, "## Problems during this run\n");
        for e in errors {
            let _ = writeln!(o, "- {e}");
        }
        o.push('\n');
    }
    o
}

fn describe_calls(r: &RunResult) -> u64 {
    r.calls.get("DynamoDB.DescribeTable").copied().unwrap_or(0)
}

/// The "second night" section: two nights with the creation-time cache per size (also what
/// `backup-guard-bench second-night` prints).
pub fn second_night_section(sizes: &[SizeResult]) -> String {
    let mut o = String::new();
    let with: Vec<&SizeResult> = sizes.iter().filter(|s| s.nights.len() == 2).collect();
    if with.is_empty() {
        return o;
    }
    let _ = writeln!(
        o,
        "## Second night: the creation-time cache
"
    );
    let _ = writeln!(
        o,
        "A table's creation time never changes, so the verifier keeps those it read in the \
         state table (`created#<account>#<region>`, chunked like the finding state) and the \
         next night reads `DescribeTable` only for tables it has not seen. Each night is \
         `verify_region` with the cache (loaded from the state table before `DescribeTable`) \
         followed by the cache's save when it changed, in a fresh process \
         (`backup-guard-bench run-once --mode night`) against the same seeded account, the \
         cache empty before the first night. Calls include the cache's `GetItem`/`PutItem`.\n"
    );
    let _ = writeln!(
        o,
        "| Tables | Night | Calls | DescribeTable | Cache hits | GetItem | PutItem | Wall ms | Findings | Second / first |"
    );
    let _ = writeln!(o, "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for s in with {
        let first = s.nights[0].calls_total.max(1) as f64;
        for (i, r) in s.nights.iter().enumerate() {
            let op = |k: &str| r.calls.get(k).copied().unwrap_or(0);
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | {} | {:.0} | {} | {} |",
                s.tables,
                if i == 0 { "first" } else { "second" },
                r.calls_total,
                describe_calls(r),
                r.cache_hits,
                op("DynamoDB.GetItem"),
                op("DynamoDB.PutItem"),
                r.wall_ms,
                r.findings_total,
                if i == 0 {
                    "–".to_string()
                } else {
                    format!("{:.3}×", r.calls_total as f64 / first)
                }
            );
        }
    }
    o.push('\n');
    o
}

fn verifier_section(o: &mut String, res: &Results) {
    let _ = writeln!(o, "## Recovery verifier: API calls, time, memory\n");
    let _ = writeln!(
        o,
        "Scenario per size: N generated tables plus the state table, ≈6 recovery points per \
         table (90 days × 2 slots a month), ~4% violating (missed slot, wrong retention, \
         PARTIAL point, uncovered), 2% exempt, 0.5% missing `owner`, 0.5% brand new, 2% \
         created inside the 90-day horizon; one conforming plan with an ARN-based selection \
         (`table/*` minus `legacy-*`, minus exempt) and a tag-based one. Verifier: \
         `recovery_verifier::verify_region` (read-only, exactly the Lambda's code path). \
         Naive baseline (`bench/src/naive.rs`): ListTables, the same plan reads, then per \
         table DescribeTable + ListTagsOfResource + ListRecoveryPointsByResource. {} runs per \
         size for the verifier; times are min / median / max.\n",
        res.repeats
    );
    let _ = writeln!(
        o,
        "| Tables | Points | Seeding | Verifier calls | Minimal formula | Calls / minimal | Naive calls | Naive / verifier | Verifier wall ms | Verifier CPU ms | Peak RSS MiB | Naive wall ms | Findings (expected) |"
    );
    let _ = writeln!(
        o,
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for s in &res.sizes {
        let vc = calls(&s.verifier);
        let mins = f(s
            .verifier
            .iter()
            .filter_map(|r| r.minimal_total.map(|x| x as f64)));
        let nc = calls(&s.naive);
        let ratio = med(&vc).zip(med(&mins)).map(|(v, m)| v / m);
        let naive_ratio = med(&nc).zip(med(&vc)).map(|(n, v)| n / v);
        let findings = f(s.verifier.iter().map(|r| r.findings_total as f64));
        let expected: u64 = s.expected_per_code.values().sum();
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} ({expected}) |",
            s.tables,
            s.recovery_points,
            s.seed_secs.map_or("n/a".into(), |x| format!("{x:.0} s")),
            same_or_range(&vc, 0),
            same_or_range(&mins, 0),
            ratio.map_or("n/a".into(), |r| format!("{r:.3}×")),
            same_or_range(&nc, 0),
            naive_ratio.map_or("n/a".into(), |r| format!("{r:.1}×")),
            fmt_of(&f(s.verifier.iter().map(|r| r.wall_ms)), 0),
            fmt_of(
                &f(s.verifier.iter().filter_map(|r| r.cpu_ms.map(|c| c as f64))),
                0
            ),
            fmt_of(&rss_mib(&s.verifier), 1),
            fmt_of(&f(s.naive.iter().map(|r| r.wall_ms)), 0),
            same_or_range(&findings, 0),
        );
    }
    o.push('\n');

    if let Some(big) = largest(res) {
        let _ = writeln!(
            o,
            "### Calls per operation at {} tables (first verifier run, first naive run)\n",
            big.tables
        );
        let v = big.verifier.first();
        let nv = big.naive.first();
        let mut ops: BTreeSet<String> = BTreeSet::new();
        for r in v.iter().chain(nv.iter()) {
            ops.extend(r.calls.keys().cloned());
            ops.extend(r.minimal.keys().cloned());
        }
        let _ = writeln!(
            o,
            "| Operation | Verifier | Minimal formula | Naive |\n|---|---:|---:|---:|"
        );
        let get = |m: Option<&BTreeMap<String, u64>>, k: &str| {
            m.and_then(|m| m.get(k))
                .map_or("–".to_string(), |x| x.to_string())
        };
        for op in &ops {
            let _ = writeln!(
                o,
                "| {op} | {} | {} | {} |",
                get(v.map(|r| &r.calls), op),
                get(v.map(|r| &r.minimal), op),
                get(nv.map(|r| &r.calls), op)
            );
        }
        o.push('\n');
        if let Some(v) = v {
            let described = v.described_tables;
            let _ = writeln!(
                o,
                "`DynamoDB.DescribeTable` is read only for tables whose missed slot may precede \
                 their creation (no satisfied earlier slot proves the table existed; the \
                 creation time then decides whether the slot counts): {described} of {} tables \
                 here. Each such table costs one call, so it is the verifier's largest term; \
                 the call ratio to the naive baseline depends on that share of the account.\n",
                big.tables
            );
        }
        let _ = writeln!(
            o,
            "### Findings at {} tables: reported vs the generator's expectations\n",
            big.tables
        );
        let _ = writeln!(o, "| Code | Reported | Expected |\n|---|---:|---:|");
        let mut codes: BTreeSet<String> = big.expected_per_code.keys().cloned().collect();
        if let Some(v) = big.verifier.first() {
            codes.extend(v.findings_per_code.keys().cloned());
        }
        for c in codes {
            let rep = big
                .verifier
                .first()
                .and_then(|v| v.findings_per_code.get(&c))
                .copied()
                .unwrap_or(0);
            let exp = big.expected_per_code.get(&c).copied().unwrap_or(0);
            let _ = writeln!(o, "| {c} | {rep} | {exp} |");
        }
        o.push('\n');
    }
}

fn latency_section(o: &mut String, res: &Results) {
    if res.latency_ms == 0 || res.sizes.iter().all(|s| s.verifier_latency.is_empty()) {
        return;
    }
    let _ = writeln!(
        o,
        "## Wall time follows call count: {} ms added to every AWS Backup call\n",
        res.latency_ms
    );
    let _ = writeln!(
        o,
        "The Backup stand-in's fault injection (`Fault {{ latency_ms: {} }}` on every \
         operation) delays each Backup answer; DynamoDB/tagging (moto) are unchanged. Medians. \
         *Expected added time*: for the naive baseline, Backup calls × {} ms ÷ concurrency {} \
         (per-table calls run {} at a time); for the verifier, the longest chain of sequential \
         Backup calls × {} ms (ListBackupVaults, then the vault's recovery-point pages one \
         after the other; the other reads run concurrently with it).\n",
        res.latency_ms, res.latency_ms, res.concurrency, res.concurrency, res.latency_ms
    );
    let _ = writeln!(
        o,
        "| Tables | Run | Backup calls | Wall ms, no latency | Wall ms, +{} ms per Backup call | Added | Expected added |",
        res.latency_ms
    );
    let _ = writeln!(o, "|---:|---|---:|---:|---:|---:|---:|");
    for s in &res.sizes {
        for (name, base, lat) in [
            ("verifier", &s.verifier, &s.verifier_latency),
            ("naive", &s.naive, &s.naive_latency),
        ] {
            let (Some(b), Some(l)) = (
                med(&f(base.iter().map(|r| r.wall_ms))),
                med(&f(lat.iter().map(|r| r.wall_ms))),
            ) else {
                continue;
            };
            let bc = lat.first().map_or(0, backup_calls);
            let expected = if name == "verifier" {
                // The longest chain of sequential Backup calls: the vault list, then the
                // vault's recovery-point pages one after the other.
                lat.first().map_or(0, |r| {
                    r.calls.get("Backup.ListBackupVaults").copied().unwrap_or(0)
                        + r.calls
                            .get("Backup.ListRecoveryPointsByBackupVault")
                            .copied()
                            .unwrap_or(0)
                }) as f64
                    * res.latency_ms as f64
            } else {
                bc as f64 * res.latency_ms as f64 / res.concurrency.max(1) as f64
            };
            let _ = writeln!(
                o,
                "| {} | {name} | {bc} | {b:.0} | {l:.0} | {:.0} | {expected:.0} |",
                s.tables,
                l - b
            );
        }
    }
    o.push('\n');
}

fn guard_section(o: &mut String, res: &Results) {
    let _ = writeln!(o, "## Table guard: CreateTable events\n");
    let Some(g) = &res.guard else {
        let _ = writeln!(
            o,
            "Not measured{}.\n",
            res.guard_error
                .as_deref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        );
        return;
    };
    let _ = writeln!(
        o,
        "`table_guard::run` called in process (as the Lambda runtime calls it) with a \
         CreateTable event (`events/create-table.json`, table name, ARN and event id replaced) \
         for {} freshly created tables per variant, policy defaults (`all-tables` selection \
         mode), local account seeded with `tests/scenarios/healthy.json`. *Warm*: one \
         `Deps` for all events (as a warm Lambda instance; the first event, which fills \
         the plan/selection cache, is excluded). *Cold*: new SDK clients and empty caches for \
         every event (as a fresh instance; client construction time shown separately).\n",
        g.events
    );
    let _ = writeln!(
        o,
        "| Variant | Events | Handler ms (min / median / max) | Client setup ms | AWS calls per event (min / median / max) | Calls per operation (total) | Verdicts | Errors |"
    );
    let _ = writeln!(o, "|---|---:|---:|---:|---:|---|---|---:|");
    for v in &g.variants {
        let ops = v
            .calls_per_operation
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let verdicts = v
            .verdicts
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {ops} | {verdicts} | {} |",
            v.name,
            v.handler_ms.len(),
            fmt_of(&v.handler_ms, 1),
            if v.setup_ms.is_empty() {
                "–".into()
            } else {
                fmt_of(&v.setup_ms, 1)
            },
            fmt_of(&v.calls, 0),
            v.errors.len()
        );
    }
    o.push('\n');
    let errs: Vec<&String> = g
        .variants
        .iter()
        .flat_map(|v| v.errors.iter())
        .take(3)
        .collect();
    if !errs.is_empty() {
        let _ = writeln!(o, "First handler errors:\n");
        for e in errs {
            let _ = writeln!(o, "- `{e}`");
        }
        o.push('\n');
    }
}

fn binaries_section(o: &mut String, res: &Results) {
    let _ = writeln!(o, "## Cold start and size\n");
    let _ = writeln!(
        o,
        "Init = process spawn → first `GET /2018-06-01/runtime/invocation/next` on a minimal \
         Runtime API emulator (`bench/src/coldstart.rs`, loopback), with a Lambda-like \
         environment (cleared; runtime variables, region, fake credentials, `BG_TOPIC_ARN`, \
         `BG_STATE_TABLE`); the process is killed at its first poll. This is the function's \
         own init (config, SDK clients, runtime start); Lambda adds its sandbox start.\n"
    );
    let _ = writeln!(
        o,
        "| Function | Build | Size | Init ms (min / median / max) | Runs |"
    );
    let _ = writeln!(o, "|---|---|---:|---:|---:|");
    for b in &res.binaries {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} |",
            b.name,
            b.variant,
            b.size_bytes.map_or("missing".into(), |s| format!(
                "{:.2} MiB ({s} B)",
                s as f64 / MIB
            )),
            if b.init_ms.is_empty() {
                "–".into()
            } else {
                fmt_of(&b.init_ms, 1)
            },
            b.init_ms.len()
        );
    }
    o.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::SizeResult;

    fn run(calls: u64, minimal: Option<u64>, rss_kib: u64) -> RunResult {
        RunResult {
            mode: "verifier".into(),
            calls: BTreeMap::from([("Backup.ListRecoveryPointsByBackupVault".to_string(), calls)]),
            calls_total: calls,
            minimal_total: minimal,
            peak_rss_kib: Some(rss_kib),
            wall_ms: 10.0,
            ..RunResult::default()
        }
    }

    #[test]
    fn targets_are_judged_from_the_numbers() {
        let res = Results {
            sizes: vec![
                SizeResult {
                    n: 100,
                    verifier: vec![run(50, Some(10), 1000)],
                    naive: vec![run(60, None, 1000)],
                    ..SizeResult::default()
                },
                SizeResult {
                    n: 10_000,
                    tables: 10_001,
                    verifier: vec![
                        run(105, Some(100), 200 * 1024),
                        run(105, Some(100), 100 * 1024),
                    ],
                    naive: vec![run(30_000, None, 1000)],
                    ..SizeResult::default()
                },
            ],
            ..Results::default()
        };
        let t = targets(&res);
        // The largest size decides: 105/100 ≤ 1.1, 30000/105 ≥ 50, max RSS 200 MiB ≥ 128 MiB.
        assert!(t[0].what.contains("10001 tables"), "{}", t[0].what);
        assert_eq!(t[0].ok, Some(true), "{}", t[0].measured);
        assert_eq!(t[1].ok, Some(true), "{}", t[1].measured);
        assert_eq!(t[2].ok, Some(false), "{}", t[2].measured);
        assert_eq!(t[3].ok, None, "guard not measured");
        let doc = render(&res, "cmd");
        assert!(doc.contains("| 10001 | 0 |"), "{doc}");
        assert!(doc.contains("1.050×"), "{doc}");
        assert!(doc.contains("**not met**") && doc.contains("not measured"));
        assert!(
            !doc.contains("## Second night"),
            "no nights measured, no section"
        );
    }

    #[test]
    fn the_second_night_is_judged_against_the_first() {
        let night = |calls: u64, describe: u64, hits: u64| RunResult {
            mode: "night".into(),
            calls: BTreeMap::from([
                ("DynamoDB.DescribeTable".to_string(), describe),
                ("DynamoDB.GetItem".to_string(), 2),
            ]),
            calls_total: calls,
            cache_hits: hits,
            ..RunResult::default()
        };
        let res = Results {
            sizes: vec![SizeResult {
                n: 10_000,
                tables: 10_001,
                nights: vec![night(564, 289, 0), night(275, 0, 289)],
                ..SizeResult::default()
            }],
            ..Results::default()
        };
        let t = targets(&res);
        let last = t.last().unwrap();
        assert!(last.what.contains("second night"), "{}", last.what);
        assert_eq!(last.ok, Some(true), "{}", last.measured);
        assert!(
            last.measured.contains("DescribeTable 289 → 0"),
            "{}",
            last.measured
        );
        let doc = render(&res, "cmd");
        assert!(
            doc.contains("## Second night: the creation-time cache"),
            "{doc}"
        );
        assert!(
            doc.contains("| 10001 | second | 275 | 0 | 289 | 2 | 0 |"),
            "{doc}"
        );
        assert!(doc.contains("0.488×"), "{doc}");
    }
}
