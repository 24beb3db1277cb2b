//! The evidence report at scale: the bundle of a verified N-table region (the verifier's own
//! `verify_region` → `bundle_for_region`), its file sizes, the time to build it, and how long
//! a real browser (headless Chromium) takes to load `report.html`.
//!
//! Chromium's time is the wall time of `chromium --headless --dump-dom file://…/report.html`
//! (a fresh profile per run: start, parse, lay out, run the filter script, serialise the DOM),
//! next to the same command on a one-line page (the browser's own start), so the page's share
//! is the difference of the medians. A run with `#verdict=NON_COMPLIANT` measures the filter
//! over every row at load.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use awsio::AwsContext;
use jiff::Timestamp;
use policy::Policy;
use recovery_verifier::bundle::{GENERATOR, bundle_for_region};
use recovery_verifier::{VerifyOptions, verify_region};
use serde::{Deserialize, Serialize};

use crate::stats::Summary;

/// The measurements of one evidence bundle.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EvidenceBench {
    /// Tables in the bundle.
    pub tables: usize,
    /// Calendar cells (tables × slots).
    pub cells: usize,
    /// Size of `evidence.json` in bytes.
    pub evidence_json_bytes: usize,
    /// Size of `slots.csv` in bytes.
    pub slots_csv_bytes: usize,
    /// Size of `report.html` in bytes.
    pub report_html_bytes: usize,
    /// Time to build and render the bundle (ms), from the verified region.
    pub build_ms: f64,
    /// Resident memory the bundle's construction added at its peak (MiB): `VmHWM` after
    /// building (the peak reset just before via `/proc/self/clear_refs`) minus `VmRSS` before.
    /// `None` if `/proc` does not allow it.
    pub build_peak_mib: Option<f64>,
    /// `chromium --version`.
    pub chromium: String,
    /// Wall ms of `--dump-dom` of `report.html`, per run.
    pub load_ms: Vec<f64>,
    /// Wall ms of `--dump-dom` of `report.html#verdict=NON_COMPLIANT`, per run.
    pub filtered_load_ms: Vec<f64>,
    /// Wall ms of `--dump-dom` of a one-line page (the browser's start), per run.
    pub blank_ms: Vec<f64>,
    /// The page's own time as the browser measured it, per run: `performance.now()` at the
    /// load event after forcing style and layout (navigation start → parsed, script run,
    /// laid out), from a copy of `report.html` with that one timing line added.
    pub in_page_ms: Vec<f64>,
    /// Rows the browser built, and rows hidden by the filtered load (a check the page works).
    pub rows_built: usize,
    /// Rows the filtered load left visible.
    pub rows_shown_filtered: usize,
    /// Where the bundle was written.
    pub dir: String,
}

impl EvidenceBench {
    /// Median of the page loads minus the median of the blank loads (ms): the page's own share.
    pub fn page_ms(&self) -> Option<f64> {
        Some(Summary::of(&self.load_ms)?.median - Summary::of(&self.blank_ms)?.median)
    }
}

/// Headless Chromium with a fresh profile on `url`; its stdout and the wall time in ms.
fn dump_dom(chromium: &Path, url: &str) -> Result<(String, f64), String> {
    let profile = std::env::temp_dir().join(format!(
        "bg-bench-chromium-{}-{}",
        std::process::id(),
        Timestamp::now().as_nanosecond()
    ));
    let started = Instant::now();
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(url)
        .output()
        .map_err(|e| format!("cannot run {}: {e} (make browser)", chromium.display()))?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let _ = std::fs::remove_dir_all(&profile);
    if !out.status.success() {
        return Err(format!(
            "chromium failed on {url}: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok((String::from_utf8_lossy(&out.stdout).into_owned(), ms))
}

/// Appended to the timed copy: at the load event, force style and layout, then record the
/// time since navigation start.
const TIMING: &str = "<script>addEventListener('load',function(){var h=document.body.offsetHeight;document.body.setAttribute('data-load-ms',String(Math.round(performance.now())));});</script>";

/// The `data-load-ms` the timed page recorded.
fn in_page_ms(dom: &str) -> Option<f64> {
    let at = dom.find("data-load-ms=\"")? + "data-load-ms=\"".len();
    let end = dom[at..].find('"')?;
    dom[at..at + end].parse().ok()
}

/// The calendar rows of a dumped DOM that are not hidden.
fn visible_rows(dom: &str) -> usize {
    dom.match_indices("<tr data-v=\"")
        .filter(|(i, _)| {
            let tag = &dom[*i..];
            let end = tag.find('>').unwrap_or(tag.len());
            !tag[..end].contains("hidden")
        })
        .count()
}

/// Verifies `ctx`'s region at `now`, writes the bundle to `dir` and loads its page `runs`
/// times in `chromium`.
pub async fn evidence_bench(
    ctx: &AwsContext,
    now: Timestamp,
    dir: &Path,
    chromium: &Path,
    runs: usize,
) -> Result<EvidenceBench, String> {
    let report = verify_region(ctx, &Policy::default(), now, &VerifyOptions::default()).await;
    if let Some(f) = &report.failure {
        return Err(format!("the region could not be verified: {f}"));
    }
    // Reset the peak RSS (Linux: "5" to clear_refs), so the peak after building is the bundle's.
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let rss_before = crate::procstat::rss_kib();
    let started = Instant::now();
    let bundle =
        bundle_for_region(&report, "bench", GENERATOR).map_err(|e| format!("bundle: {e}"))?;
    let build_ms = started.elapsed().as_secs_f64() * 1000.0;
    let build_peak_mib = match (reset, rss_before, crate::procstat::peak_rss_kib()) {
        (true, Some(before), Some(peak)) => Some(peak.saturating_sub(before) as f64 / 1024.0),
        _ => None,
    };
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let size = |name: &str| bundle.file(name).map_or(0, |f| f.bytes.len());
    for f in &bundle.files {
        std::fs::write(dir.join(&f.name), &f.bytes)
            .map_err(|e| format!("cannot write {}: {e}", f.name))?;
    }
    // A copy of the page that records its own load-and-layout time in the DOM.
    let timed = dir.join("report-timed.html");
    let html = String::from_utf8_lossy(
        &bundle
            .file(evidence::REPORT_HTML)
            .ok_or("no report.html")?
            .bytes,
    )
    .replace("</body></html>", &format!("{TIMING}</body></html>"));
    std::fs::write(&timed, html).map_err(|e| format!("cannot write {}: {e}", timed.display()))?;
    let blank = dir.join("blank.html");
    std::fs::write(&blank, "<!DOCTYPE html><title>blank</title><p>blank</p>\n")
        .map_err(|e| format!("cannot write {}: {e}", blank.display()))?;
    let abs = std::fs::canonicalize(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let page = format!("file://{}", abs.join(evidence::REPORT_HTML).display());
    let blank = format!("file://{}", abs.join("blank.html").display());
    let timed = format!("file://{}", abs.join("report-timed.html").display());
    let version = Command::new(chromium)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .map_err(|e| format!("cannot run {}: {e} (make browser)", chromium.display()))?;
    let mut r = EvidenceBench {
        tables: bundle.doc.tables.len(),
        cells: bundle.doc.tables.iter().map(|t| t.slots.len()).sum(),
        evidence_json_bytes: size(evidence::EVIDENCE_JSON),
        slots_csv_bytes: size(evidence::SLOTS_CSV),
        report_html_bytes: size(evidence::REPORT_HTML),
        build_ms,
        build_peak_mib,
        chromium: version,
        dir: abs.display().to_string(),
        ..EvidenceBench::default()
    };
    let non_compliant = bundle
        .doc
        .tables
        .iter()
        .filter(|t| t.verdict == "NON_COMPLIANT")
        .count();
    drop(bundle);
    drop(report);
    for _ in 0..runs.max(1) {
        r.blank_ms.push(dump_dom(chromium, &blank)?.1);
        let (dom, ms) = dump_dom(chromium, &page)?;
        r.load_ms.push(ms);
        r.rows_built = dom.matches("<tr data-v=").count();
        let (dom, ms) = dump_dom(chromium, &format!("{page}#verdict=NON_COMPLIANT"))?;
        r.filtered_load_ms.push(ms);
        r.rows_shown_filtered = visible_rows(&dom);
        let (dom, _) = dump_dom(chromium, &timed)?;
        r.in_page_ms
            .push(in_page_ms(&dom).ok_or("the timed page recorded no time")?);
    }
    if r.rows_built != r.tables {
        return Err(format!(
            "the browser built {} rows for {} tables",
            r.rows_built, r.tables
        ));
    }
    if r.rows_shown_filtered != non_compliant {
        return Err(format!(
            "the filtered page shows {} rows, {} tables are non-compliant",
            r.rows_shown_filtered, non_compliant
        ));
    }
    Ok(r)
}

/// The lines of the benchmark's result, as people read them.
pub fn render(r: &EvidenceBench) -> String {
    let med = |v: &[f64]| Summary::of(v).map_or_else(|| "-".to_string(), |s| s.fmt(0));
    format!(
        "evidence bundle of {} tables ({} calendar cells): report.html {:.1} MB, slots.csv {:.1} MB, evidence.json {:.1} MB; built in {:.0} ms, peak memory added {}\n\
         {} --dump-dom (ms, min / median / max of {} runs): report.html {}, with #verdict=NON_COMPLIANT {}, one-line page {}; the page's share (median − blank median): {}\n\
         in the page (navigation start → loaded, script run, laid out; ms): {}\n\
         written to {}\n",
        r.tables,
        r.cells,
        r.report_html_bytes as f64 / 1e6,
        r.slots_csv_bytes as f64 / 1e6,
        r.evidence_json_bytes as f64 / 1e6,
        r.build_ms,
        r.build_peak_mib
            .map_or_else(|| "-".to_string(), |m| format!("{m:.0} MiB")),
        r.chromium,
        r.load_ms.len(),
        med(&r.load_ms),
        med(&r.filtered_load_ms),
        med(&r.blank_ms),
        r.page_ms()
            .map_or_else(|| "-".to_string(), |m| format!("{m:.0} ms")),
        med(&r.in_page_ms),
        r.dir
    )
}

/// The default Chromium (`make browser`).
pub fn default_chromium() -> PathBuf {
    PathBuf::from("/usr/bin/chromium")
}
