//! The whole benchmark (`backup-guard-bench report`): for each size N a generated scenario
//! seeded into a local account started by `local-account up` (another process), verifier and
//! naive runs (each in its own process), the same with stand-in latency; the guard benchmark;
//! cold start and sizes. The results go to a JSON file and to docs/BENCHMARKS.md
//! ([`crate::render`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use local_account::standin::Fault;
use local_account::standin::admin::AdminClient;
use local_account::{LocalAccount, Scenario};
use serde::{Deserialize, Serialize};

use crate::coldstart::{lambda_env, measure_init};
use crate::generate::{GenSpec, Kind, generate};
use crate::guard::{GuardResults, guard_bench};
use crate::run::{Mode, RunResult, parse_env_file, spawn_run};

/// Label of the comparison build (`--profile release-o3`).
pub const COMPARE_VARIANT: &str = "x86_64 release-o3 (opt-level 3, otherwise the release profile)";
/// Label of the `sam build` bootstraps.
pub const ARM64_VARIANT: &str = "arm64 bootstrap (sam build, cargo-lambda + zig)";

/// What to run.
#[derive(Debug, Clone)]
pub struct SuiteOptions {
    /// Table counts.
    pub sizes: Vec<usize>,
    /// Verifier runs per size (and per latency setting).
    pub repeats: usize,
    /// Naive runs per size without latency.
    pub naive_repeats: usize,
    /// Latency injected on every Backup stand-in call for the latency runs (0 = skip them).
    pub latency_ms: u64,
    /// Concurrency of verifier and naive.
    pub concurrency: usize,
    /// The `local-account` binary.
    pub local_account: PathBuf,
    /// This binary (for `run-once` children).
    pub bench_exe: PathBuf,
    /// Work directory for scenarios and env files.
    pub work_dir: PathBuf,
    /// Guard events per variant (0 = skip).
    pub guard_events: usize,
    /// `events/create-table.json`.
    pub guard_sample: PathBuf,
    /// Function binaries (x86_64) to time and size: (name, path).
    pub functions: Vec<(String, PathBuf)>,
    /// How they were built (shown in the document).
    pub functions_variant: String,
    /// The same built with the opt-level 3 comparison profile, if built: (name, path).
    pub functions_compare: Vec<(String, PathBuf)>,
    /// `sam build` output directory (`.aws-sam/build`).
    pub sam_build_dir: PathBuf,
    /// Init runs per binary.
    pub init_runs: usize,
}

/// Per-size results.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SizeResult {
    /// Tables requested (N).
    pub n: usize,
    /// Tables in the scenario (N + the state table).
    pub tables: usize,
    /// Recovery points after expansion.
    pub recovery_points: usize,
    /// Backup jobs after expansion.
    pub backup_jobs: usize,
    /// Tables per generated kind.
    pub kinds: BTreeMap<String, usize>,
    /// Expected findings per code (the generator's expectations).
    pub expected_per_code: BTreeMap<String, u64>,
    /// Seconds from `local-account up` to a seeded account.
    pub seed_secs: Option<f64>,
    /// Verifier runs.
    pub verifier: Vec<RunResult>,
    /// Naive runs.
    pub naive: Vec<RunResult>,
    /// Verifier runs with stand-in latency.
    pub verifier_latency: Vec<RunResult>,
    /// Naive runs with stand-in latency.
    pub naive_latency: Vec<RunResult>,
    /// Two nights of the verifier with its creation-time cache, first then second
    /// ([`Mode::Night`]; the cache starts empty).
    #[serde(default)]
    pub nights: Vec<RunResult>,
    /// What went wrong.
    pub errors: Vec<String>,
}

/// A function binary's size and init times.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BinaryResult {
    /// Function name.
    pub name: String,
    /// Variant (`x86_64 release`, `x86_64 opt-level=s`, `arm64 sam build`).
    pub variant: String,
    /// Path.
    pub path: String,
    /// Size in bytes, if the file exists.
    pub size_bytes: Option<u64>,
    /// Init times (spawn → first Runtime API poll), ms.
    pub init_ms: Vec<f64>,
    /// Why it could not be measured.
    pub error: Option<String>,
}

/// Machine facts.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Machine {
    /// CPU model.
    pub cpu: String,
    /// Logical CPUs.
    pub cpus: usize,
    /// Memory, MiB.
    pub memory_mib: u64,
    /// Kernel release.
    pub kernel: String,
    /// `rustc --version`.
    pub rustc: String,
    /// moto version of the project venv.
    pub moto: String,
    /// Load average when the run started.
    pub load_at_start: String,
}

/// Everything measured.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Results {
    /// When (UTC).
    pub generated_at: String,
    /// The machine.
    pub machine: Machine,
    /// Build profile of the bench binary (and so of the verifier and guard code it runs).
    pub profile: String,
    /// Latency injected for the latency runs, ms per Backup call.
    pub latency_ms: u64,
    /// Concurrency of verifier and naive.
    pub concurrency: usize,
    /// Verifier runs per size.
    pub repeats: usize,
    /// Per size.
    pub sizes: Vec<SizeResult>,
    /// Guard benchmark.
    pub guard: Option<GuardResults>,
    /// Why the guard benchmark did not run.
    pub guard_error: Option<String>,
    /// Binaries.
    pub binaries: Vec<BinaryResult>,
    /// Total wall time of the suite, s.
    pub suite_secs: f64,
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn command_line(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// Reads the machine's facts (Linux `/proc`).
pub fn machine() -> Machine {
    let cpuinfo = read("/proc/cpuinfo");
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let memory_mib = crate::procstat::parse_status_kib(&read("/proc/meminfo"), "MemTotal:")
        .map_or(0, |k| k / 1024);
    Machine {
        cpu,
        cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
        memory_mib,
        kernel: read("/proc/sys/kernel/osrelease").trim().to_string(),
        rustc: command_line("rustc", &["--version"]),
        moto: command_line(
            ".venv/bin/python",
            &["-c", "import moto; print(moto.__version__)"],
        ),
        load_at_start: read("/proc/loadavg")
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// An account's variables.
type Env = Vec<(String, String)>;

/// A running `local-account up`, stopped with SIGTERM on drop (so it stops moto too).
struct UpProcess {
    child: Child,
}

impl Drop for UpProcess {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_account(
    bin: &Path,
    scenario: &Path,
    env_file: &Path,
    log: &Path,
) -> Result<(UpProcess, Env, f64), String> {
    let _ = std::fs::remove_file(env_file);
    let log_file =
        std::fs::File::create(log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
    let started = Instant::now();
    let child = Command::new(bin)
        .arg("up")
        .arg("--scenario")
        .arg(scenario)
        .arg("--env-file")
        .arg(env_file)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log_file)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let mut up = UpProcess { child };
    loop {
        if let Ok(text) = std::fs::read_to_string(env_file)
            && text.contains("BG_STATE_TABLE")
        {
            let env = parse_env_file(&text)?;
            return Ok((up, env, started.elapsed().as_secs_f64()));
        }
        if let Ok(Some(status)) = up.child.try_wait() {
            return Err(format!(
                "local-account up exited with {status} while seeding; see {}",
                log.display()
            ));
        }
        if started.elapsed() > Duration::from_secs(45 * 60) {
            return Err("local-account up did not finish seeding within 45 minutes".into());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn standin_endpoint(env: &[(String, String)]) -> Result<String, String> {
    env.iter()
        .find(|(k, _)| k == "AWS_ENDPOINT_URL_BACKUP")
        .map(|(_, v)| v.clone())
        .ok_or_else(|| "the account's variables lack AWS_ENDPOINT_URL_BACKUP".into())
}

fn set_latency(
    rt: &tokio::runtime::Runtime,
    env: &[(String, String)],
    ms: u64,
) -> Result<(), String> {
    let admin = AdminClient::new(&standin_endpoint(env)?).map_err(|e| e.to_string())?;
    rt.block_on(async {
        admin.clear_faults().await.map_err(|e| e.to_string())?;
        if ms > 0 {
            let fault = Fault {
                latency_ms: ms,
                ..Fault::new("*")
            };
            admin.set_fault(&fault).await.map_err(|e| e.to_string())?;
        }
        Ok(())
    })
}

fn progress(msg: &str) {
    eprintln!(
        "[bench {}] {msg}",
        jiff::Timestamp::now().strftime("%H:%M:%S")
    );
}

fn runs(
    o: &SuiteOptions,
    env: &[(String, String)],
    mode: Mode,
    now: jiff::Timestamp,
    count: usize,
    label: &str,
    errors: &mut Vec<String>,
) -> Vec<RunResult> {
    let mut out = Vec::new();
    for i in 0..count {
        match spawn_run(&o.bench_exe, env, mode, now, o.concurrency) {
            Ok(r) => {
                progress(&format!(
                    "{label} {}/{count}: {} calls, {:.0} ms, peak RSS {} KiB{}",
                    i + 1,
                    r.calls_total,
                    r.wall_ms,
                    r.peak_rss_kib.unwrap_or(0),
                    r.failure
                        .as_deref()
                        .map(|f| format!(", FAILURE: {f}"))
                        .unwrap_or_default()
                ));
                if let Some(f) = &r.failure {
                    errors.push(format!("{label}: {f}"));
                }
                out.push(r);
            }
            Err(e) => {
                progress(&format!("{label}: {e}"));
                errors.push(format!("{label}: {e}"));
            }
        }
    }
    out
}

/// Generates the N-table scenario and seeds a local account with it; on failure the size's
/// result saying why.
fn seed_size(
    o: &SuiteOptions,
    n: usize,
) -> Result<(SizeResult, jiff::Timestamp, UpProcess, Env), Box<SizeResult>> {
    let mut r = SizeResult {
        n,
        ..SizeResult::default()
    };
    let g = match generate(&GenSpec::new(n)) {
        Ok(g) => g,
        Err(e) => {
            r.errors.push(format!("generate: {e}"));
            return Err(Box::new(r));
        }
    };
    r.tables = g.scenario.tables.len();
    r.kinds = g
        .kind_counts()
        .into_iter()
        .map(|(k, c)| (kind_name(k), c))
        .collect();
    r.expected_per_code = g.expected_per_code();
    match g.scenario.expand() {
        Ok(e) => {
            r.recovery_points = e.recovery_points.len();
            r.backup_jobs = e.backup_jobs.len();
        }
        Err(e) => r.errors.push(format!("expand: {e}")),
    }
    let now = g.scenario.now;
    let file = o.work_dir.join(format!("scenario-{n}.json"));
    if let Err(e) = std::fs::write(&file, g.scenario.to_json()) {
        r.errors
            .push(format!("cannot write {}: {e}", file.display()));
        return Err(Box::new(r));
    }
    drop(g);
    progress(&format!(
        "N={n}: seeding {} tables, {} points",
        r.tables, r.recovery_points
    ));
    let env_file = o.work_dir.join(format!("env-{n}"));
    let log = o.work_dir.join(format!("local-account-{n}.log"));
    let (up, env, secs) = match start_account(&o.local_account, &file, &env_file, &log) {
        Ok(x) => x,
        Err(e) => {
            r.errors.push(e);
            return Err(Box::new(r));
        }
    };
    r.seed_secs = Some(secs);
    progress(&format!("N={n}: seeded in {secs:.1} s"));
    Ok((r, now, up, env))
}

/// Only the two nights with the creation-time cache at N tables (`backup-guard-bench
/// second-night`): seeding, then the first and the second night.
pub fn second_night(o: &SuiteOptions, n: usize) -> SizeResult {
    let _ = std::fs::create_dir_all(&o.work_dir);
    let (mut r, now, up, env) = match seed_size(o, n) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let mut errors = Vec::new();
    r.nights = runs(
        o,
        &env,
        Mode::Night,
        now,
        2,
        &format!("N={n} night"),
        &mut errors,
    );
    r.errors.extend(errors);
    drop(up);
    r
}

fn one_size(o: &SuiteOptions, rt: &tokio::runtime::Runtime, n: usize) -> SizeResult {
    let (mut r, now, up, env) = match seed_size(o, n) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let mut errors = Vec::new();
    r.verifier = runs(
        o,
        &env,
        Mode::Verifier,
        now,
        o.repeats,
        &format!("N={n} verifier"),
        &mut errors,
    );
    r.naive = runs(
        o,
        &env,
        Mode::Naive,
        now,
        o.naive_repeats,
        &format!("N={n} naive"),
        &mut errors,
    );
    r.nights = runs(
        o,
        &env,
        Mode::Night,
        now,
        2,
        &format!("N={n} night"),
        &mut errors,
    );
    if o.latency_ms > 0 {
        match set_latency(rt, &env, o.latency_ms) {
            Ok(()) => {
                let label = format!("N={n} verifier +{} ms", o.latency_ms);
                r.verifier_latency =
                    runs(o, &env, Mode::Verifier, now, o.repeats, &label, &mut errors);
                let label = format!("N={n} naive +{} ms", o.latency_ms);
                r.naive_latency = runs(o, &env, Mode::Naive, now, 1, &label, &mut errors);
                if let Err(e) = set_latency(rt, &env, 0) {
                    errors.push(format!("clearing the latency fault: {e}"));
                }
            }
            Err(e) => errors.push(format!("setting the latency fault: {e}")),
        }
    }
    r.errors.extend(errors);
    drop(up);
    r
}

fn kind_name(k: Kind) -> String {
    serde_json::to_value(k)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{k:?}"))
}

/// Size and (if `init_runs` > 0) init times of one binary.
pub fn binary(name: &str, variant: &str, path: &Path, init_runs: usize) -> BinaryResult {
    let mut b = BinaryResult {
        name: name.to_string(),
        variant: variant.to_string(),
        path: path.display().to_string(),
        ..BinaryResult::default()
    };
    match std::fs::metadata(path) {
        Ok(m) => b.size_bytes = Some(m.len()),
        Err(e) => {
            b.error = Some(format!("{}: {e}", path.display()));
            return b;
        }
    }
    if init_runs > 0 {
        match measure_init(path, &lambda_env(name), init_runs) {
            Ok(v) => b.init_ms = v,
            Err(e) => b.error = Some(e),
        }
    }
    b
}

/// The arm64 bootstraps `sam build` left in `dir` (`<LogicalId>/bootstrap`).
pub fn sam_bootstraps(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path().join("bootstrap");
            if p.is_file() {
                out.push((e.file_name().to_string_lossy().to_string(), p));
            }
        }
    }
    out.sort();
    out
}

/// Runs everything in `o`.
pub fn run_suite(o: &SuiteOptions) -> Results {
    let started = Instant::now();
    let mut res = Results {
        generated_at: jiff::Timestamp::now()
            .strftime("%Y-%m-%d %H:%M UTC")
            .to_string(),
        machine: machine(),
        profile: if cfg!(debug_assertions) {
            "debug (unoptimised)"
        } else {
            "release"
        }
        .into(),
        latency_ms: o.latency_ms,
        concurrency: o.concurrency,
        repeats: o.repeats,
        ..Results::default()
    };
    let _ = std::fs::create_dir_all(&o.work_dir);
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            res.guard_error = Some(format!("cannot start tokio: {e}"));
            return res;
        }
    };
    // Cold start first, while the machine is quiet (no moto running).
    for (name, path) in &o.functions {
        progress(&format!("init time of {name} ({})", path.display()));
        res.binaries
            .push(binary(name, &o.functions_variant, path, o.init_runs));
    }
    for (name, path) in &o.functions_compare {
        res.binaries
            .push(binary(name, COMPARE_VARIANT, path, o.init_runs));
    }
    for (name, path) in sam_bootstraps(&o.sam_build_dir) {
        res.binaries
            .push(binary(&name, "arm64 bootstrap (sam build)", &path, 0));
    }
    if o.guard_events > 0 {
        progress(&format!(
            "guard: {} events warm + {} cold",
            o.guard_events, o.guard_events
        ));
        res.guard = match guard(o, &rt) {
            Ok(g) => Some(g),
            Err(e) => {
                res.guard_error = Some(e);
                None
            }
        };
    }
    for &n in &o.sizes {
        res.sizes.push(one_size(o, &rt, n));
    }
    res.suite_secs = started.elapsed().as_secs_f64();
    res
}

fn guard(o: &SuiteOptions, rt: &tokio::runtime::Runtime) -> Result<GuardResults, String> {
    let sample: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&o.guard_sample)
            .map_err(|e| format!("cannot read {}: {e}", o.guard_sample.display()))?,
    )
    .map_err(|e| format!("{}: {e}", o.guard_sample.display()))?;
    rt.block_on(async {
        let scenario = Scenario::shipped("healthy").map_err(|e| e.to_string())?;
        let account = LocalAccount::start(&scenario)
            .await
            .map_err(|e| format!("cannot start the local account: {e}"))?;
        guard_bench(&account, &sample, o.guard_events).await
    })
}
