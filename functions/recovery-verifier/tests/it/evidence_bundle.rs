//! The evidence bundle of the `audit-finding` scenario: `verify_region` against the local
//! account → `bundle_for_region` → `evidence.json`, `slots.csv`, `report.html`.
//!
//! The expectations come from the verifier's `RegionReport` and from the scenario's documented
//! violations (`expectations`), never from stored bytes. The page is loaded in a real headless
//! browser (Debian's Chromium, `make browser` installs it) and the DOM it built is checked.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use evidence::{
    Bundle, CSV_COLUMNS, EVIDENCE_JSON, EvidenceDoc, EvidenceError, REPORT_HTML, SLOTS_CSV,
    SlotState, read_bundle, render_bundle, sha256_hex,
};
use local_account::{ExpectedFinding, LocalAccount, Scenario};
use policy::slots::SlotStatus;
use policy::{FindingCode, Policy, TableEvaluation, Verdict};
use recovery_verifier::bundle::{GENERATOR, bundle_for_region};
use recovery_verifier::{RegionReport, VerifyOptions, verify_region};

use crate::common::*;

const RUN_ID: &str = "2026-11-25T120000Z-audit-finding";

/// The verified region and its bundle, written to `target/evidence/audit-finding/<test>/`
/// (one directory per test: tests run in parallel).
async fn audit_finding(test: &str) -> (LocalAccount, RegionReport, Bundle, PathBuf) {
    let account = start(&Scenario::shipped("audit-finding").unwrap()).await;
    let ctx = account.context().await;
    let report = verify_region(
        &ctx,
        &Policy::default(),
        account.now(),
        &VerifyOptions::default(),
    )
    .await;
    assert!(report.failure.is_none(), "{:?}", report.failure);
    let bundle = bundle_for_region(&report, RUN_ID, GENERATOR).unwrap();
    let dir = evidence_dir().join("audit-finding").join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for f in &bundle.files {
        std::fs::write(dir.join(&f.name), &f.bytes).unwrap();
    }
    (account, report, bundle, dir)
}

fn evidence_dir() -> PathBuf {
    local_account::moto::repo_root()
        .join("target")
        .join("evidence")
}

/// RFC 4180 records (quoted fields with doubled quotes, CRLF ends).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => assert_eq!(chars.next(), Some('\n'), "CR without LF"),
            (false, '\n') => panic!("a record ends with a bare LF, not CRLF"),
            (false, c) => field.push(c),
        }
        if !quoted && c == '\r' {
            row.push(std::mem::take(&mut field));
            rows.push(std::mem::take(&mut row));
        }
    }
    assert!(
        field.is_empty() && row.is_empty(),
        "last record without CRLF"
    );
    rows
}

/// What the slot of `t` at `at` must be, from the verifier's evaluation alone.
fn expected_state(t: &TableEvaluation, at: jiff::Timestamp) -> (SlotState, Option<String>) {
    if t.verdict == Verdict::Exempt {
        return (SlotState::Exempt, None);
    }
    match t.slots.iter().find(|s| s.slot.at == at) {
        Some(s) => match &s.status {
            SlotStatus::Satisfied { point_arn } => (SlotState::Satisfied, Some(point_arn.clone())),
            SlotStatus::Missed { .. } => (SlotState::Missed, None),
            SlotStatus::Pending => (SlotState::Pending, None),
        },
        None if t.table.created.is_some_and(|c| at < c) => (SlotState::NotRequired, None),
        None => (SlotState::Unknown, None),
    }
}

fn bundle_file<'a>(b: &'a Bundle, name: &str) -> &'a [u8] {
    &b.file(name).unwrap().bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slots_csv_and_evidence_json_match_the_verifiers_findings_exactly() {
    let (account, report, bundle, dir) = audit_finding("json-csv").await;
    let scenario = account.scenario();
    let expected = account.expected_findings().unwrap();
    let doc: EvidenceDoc = serde_json::from_slice(bundle_file(&bundle, EVIDENCE_JSON)).unwrap();
    assert_eq!(doc, bundle.doc);

    // The horizon: every fire time in [now − 90 days, now].
    let policy = Policy::default();
    let fires: Vec<jiff::Timestamp> = policy::slots::required_slots(
        policy.schedule(),
        policy.start_window(),
        policy.completion_window(),
        policy.retention(),
        None,
        account.now(),
    )
    .iter()
    .map(|s| s.at)
    .collect();
    assert_eq!(doc.horizon.slots, fires);
    assert_eq!(fires.len(), 6, "90 days of the 15th and 25th");

    // slots.csv: the header, then one row per table × slot, each as the evaluation says.
    let rows = parse_csv(std::str::from_utf8(bundle_file(&bundle, SLOTS_CSV)).unwrap());
    assert_eq!(rows[0], CSV_COLUMNS.map(String::from).to_vec());
    let col = |name: &str| CSV_COLUMNS.iter().position(|c| *c == name).unwrap();
    let body = &rows[1..];
    assert_eq!(body.len(), report.report.tables.len() * fires.len());
    assert_eq!(report.report.tables.len(), scenario.tables.len());
    let mut missed_in_csv = BTreeSet::new();
    for t in &report.report.tables {
        let mine: Vec<&Vec<String>> = body
            .iter()
            .filter(|r| r[col("table")] == t.table.name)
            .collect();
        assert_eq!(mine.len(), fires.len(), "{}", t.table.name);
        for (r, at) in mine.iter().zip(&fires) {
            let (state, arn) = expected_state(t, *at);
            let ctx = format!("{} {at}: {r:?}", t.table.name);
            assert_eq!(r[col("account")], scenario.account, "{ctx}");
            assert_eq!(r[col("region")], scenario.region, "{ctx}");
            assert_eq!(
                r[col("verdict")],
                evidence::verdict_code(t.verdict),
                "{ctx}"
            );
            assert_eq!(r[col("slot_at")], at.to_string(), "{ctx}");
            assert_eq!(r[col("status")], state.as_str(), "{ctx}");
            assert_eq!(
                r[col("point_arn")],
                arn.clone().unwrap_or_default(),
                "{ctx}"
            );
            assert_eq!(r[col("run_id")], RUN_ID, "{ctx}");
            if state == SlotState::Satisfied {
                // The satisfying point as the scenario seeded it: created in the slot's
                // start window, 90 days, by the policy's plan and rule.
                let created: jiff::Timestamp = r[col("point_created")].parse().unwrap();
                assert!(
                    created >= *at && created <= *at + jiff::SignedDuration::from_mins(60),
                    "{ctx}"
                );
                assert!(
                    !r[col("point_completed")].is_empty() && !r[col("delete_at")].is_empty(),
                    "{ctx}"
                );
                assert_eq!(r[col("plan")], "backup-guard-policy", "{ctx}");
                assert_eq!(r[col("rule")], "twice-monthly-90d", "{ctx}");
                assert_eq!(r[col("vault")], "backup-guard-vault", "{ctx}");
            } else {
                assert!(
                    r[col("point_created")].is_empty() && r[col("plan")].is_empty(),
                    "{ctx}"
                );
            }
            if state == SlotState::Missed {
                missed_in_csv.insert((t.table.name.clone(), at.to_string()));
            }
        }
    }
    // Exactly the scenario's documented MISSED_SLOT violations are missed cells.
    let missed_expected: BTreeSet<(String, String)> = expected
        .iter()
        .filter(|e| e.code == FindingCode::MissedSlot)
        .map(|e| (e.table.clone(), e.subject.clone().unwrap()))
        .collect();
    assert_eq!(missed_in_csv, missed_expected);
    let states_of = |name: &str| -> BTreeSet<String> {
        body.iter()
            .filter(|r| r[col("table")] == name)
            .map(|r| r[col("status")].clone())
            .collect()
    };
    assert_eq!(
        states_of("session-cache"),
        BTreeSet::from(["exempt".to_string()])
    );
    assert_eq!(
        states_of("ml-features"),
        BTreeSet::from(["not_required".to_string()])
    );
    assert!(states_of("feature-flags").contains("not_required"));
    assert!(states_of("feature-flags").contains("satisfied"));

    // evidence.json: every finding of the report (id, code, severity, subject), per table,
    // and they are exactly the scenario's documented violations.
    let mut got = BTreeSet::new();
    for (t, e) in report.report.tables.iter().zip(&doc.tables) {
        assert_eq!(t.table.name, e.name);
        assert_eq!(e.verdict, evidence::verdict_code(t.verdict));
        let want: Vec<(String, String, String, Option<String>)> = t
            .findings
            .iter()
            .map(|f| {
                (
                    f.id.clone(),
                    f.code.as_str().into(),
                    f.severity.as_str().into(),
                    f.subject.clone(),
                )
            })
            .collect();
        let have: Vec<(String, String, String, Option<String>)> = e
            .findings
            .iter()
            .map(|f| {
                (
                    f.id.clone(),
                    f.code.clone(),
                    f.severity.clone(),
                    f.subject.clone(),
                )
            })
            .collect();
        assert_eq!(have, want, "{}", e.name);
        for f in &e.findings {
            got.insert(ExpectedFinding {
                table: e.name.clone(),
                code: FindingCode::parse(&f.code).unwrap(),
                subject: f.subject.clone(),
            });
        }
        assert_eq!(e.slots.len(), fires.len());
        for s in &e.slots {
            assert_eq!(s.status, expected_state(t, s.at).0, "{} {}", e.name, s.at);
        }
    }
    assert_eq!(got, expected);
    assert_eq!(
        doc.verdicts.values().sum::<u64>(),
        report.report.tables.len() as u64
    );
    for (v, n) in &report.report.verdicts {
        assert_eq!(doc.verdicts[evidence::verdict_code(*v)], *n);
    }
    let table = |name: &str| doc.tables.iter().find(|t| t.name == name).unwrap();

    // Every point finding names a point the table's evidence lists, with that code.
    for e in &expected {
        let Some(subject) = &e.subject else { continue };
        if !subject.starts_with("arn:") {
            continue;
        }
        let p = table(&e.table)
            .points
            .items
            .iter()
            .find(|p| &p.arn == subject);
        let p = p.unwrap_or_else(|| panic!("{e:?}: point not in the evidence"));
        assert!(
            p.findings.contains(&e.code.as_str().to_string()),
            "{e:?}: {p:?}"
        );
        assert!(
            !p.retention_issues.is_empty() || p.status != "AVAILABLE",
            "{e:?}: {p:?}"
        );
    }
    // The 35-day point of reports-archive satisfied its slot, and is itself too short.
    let ra = table("reports-archive");
    let short = ra
        .slots
        .iter()
        .find(|s| s.at.to_string() == "2026-11-15T00:00:00Z")
        .unwrap();
    assert_eq!(short.status, SlotState::Satisfied);
    assert_eq!(
        short.point_findings,
        vec!["RETENTION_TOO_SHORT".to_string()]
    );
    let point = ra
        .points
        .items
        .iter()
        .find(|p| Some(&p.arn) == short.point.as_ref().map(|p| &p.arn))
        .unwrap();
    assert_eq!(point.delete_after_days, Some(35));
    assert_eq!(point.satisfies, vec![short.at]);
    // analytics-events: the drifted rule's 35-day point does not count for its slot.
    let ae = table("analytics-events");
    assert_eq!(ae.coverage.state, "drifted_only");
    let missed = ae
        .slots
        .iter()
        .find(|s| s.status == SlotState::Missed)
        .unwrap();
    assert!(
        missed
            .near_misses
            .iter()
            .any(|n| n.why.contains("analytics-35d")),
        "{missed:?}"
    );
    assert!(
        ae.points
            .items
            .iter()
            .all(|p| !p.by_conforming_rule && p.delete_after_days == Some(35))
    );
    // Coverage names plan, selection and rule; the uncovered table says why.
    let orders = table("orders");
    assert_eq!(orders.coverage.state, "protected");
    assert_eq!(
        (
            orders.coverage.by[0].plan_name.as_str(),
            orders.coverage.by[0].selection_name.as_str(),
            orders.coverage.by[0].rule_name.as_deref()
        ),
        (
            "backup-guard-policy",
            "all-tables",
            Some("twice-monthly-90d")
        )
    );
    let legacy = table("legacy-reports");
    assert_eq!(legacy.coverage.state, "not_covered");
    assert!(
        legacy
            .coverage
            .not_covered_by
            .iter()
            .any(|m| m.why.contains("legacy-*")),
        "{:?}",
        legacy.coverage
    );
    assert_eq!(
        table("session-cache").exempt_reason.as_deref(),
        Some("ephemeral session cache, rebuilt on login")
    );

    // The failed job, the plans' conformance, the sources and the calls.
    // The scenario's failed jobs of the last 30 days (what ListBackupJobs covers).
    let since = account.now() - jiff::SignedDuration::from_hours(24 * 30);
    let want: Vec<(&str, &str, Option<&str>)> = scenario
        .backup_jobs
        .iter()
        .filter(|j| ["FAILED", "ABORTED", "EXPIRED", "PARTIAL"].contains(&j.state.as_str()))
        .filter(|j| j.created > since)
        .map(|j| {
            (
                j.table.as_str(),
                j.state.as_str(),
                j.status_message.as_deref(),
            )
        })
        .collect();
    let jobs: Vec<(&str, &str, Option<&str>)> = doc
        .failed_jobs
        .items
        .iter()
        .map(|j| {
            (
                j.table.as_str(),
                j.state.as_str(),
                j.status_message.as_deref(),
            )
        })
        .collect();
    assert_eq!(jobs, want);
    assert_eq!(
        jobs.len(),
        1,
        "the scenario documents one failed job: {jobs:?}"
    );
    let job_id = doc.failed_jobs.items[0].job_id.clone();
    assert_eq!(
        doc.failed_jobs.items[0].plan_name.as_deref(),
        Some("backup-guard-policy")
    );
    assert_eq!(table("carts").failed_jobs, vec![job_id]);
    let plans: BTreeMap<&str, bool> = doc
        .plans
        .items
        .iter()
        .map(|p| (p.plan_name.as_str(), p.conforms))
        .collect();
    assert_eq!(
        plans,
        BTreeMap::from([("analytics-35d", false), ("backup-guard-policy", true)])
    );
    let drift = doc
        .plans
        .items
        .iter()
        .find(|p| p.plan_name == "analytics-35d")
        .unwrap();
    assert!(
        drift.rules[0].deviations.iter().any(|d| d.contains("35")),
        "{drift:?}"
    );
    assert!(doc.plans.unread.is_none() && doc.failed_jobs.unread.is_none());
    assert_eq!(doc.sources.len(), report.sources.len());
    assert!(doc.unread_sources().next().is_none());
    assert_eq!(doc.api_calls, report.report.api_calls);
    assert_eq!(doc.policy.schedule_expression, "cron(0 0 15,25 * ? *)");
    assert_eq!(
        (
            doc.policy.retention_days,
            doc.policy.start_window_minutes,
            doc.policy.completion_window_minutes
        ),
        (90, 60, 180)
    );

    // The hashes of the other files.
    assert_eq!(
        doc.files[SLOTS_CSV],
        sha256_hex(bundle_file(&bundle, SLOTS_CSV))
    );
    assert_eq!(
        doc.files[REPORT_HTML],
        sha256_hex(bundle_file(&bundle, REPORT_HTML))
    );

    // The JSON validates against the documented schema (and a broken one does not).
    let schema = local_account::moto::repo_root().join("shared/evidence/evidence.schema.json");
    let json_path = dir.join(EVIDENCE_JSON);
    assert_eq!(validate(&schema, &json_path), Ok(()));
    let mut broken: serde_json::Value =
        serde_json::from_slice(bundle_file(&bundle, EVIDENCE_JSON)).unwrap();
    broken["tables"][0]["slots"][0]["status"] = serde_json::json!("fine");
    let broken_path = dir.with_file_name("broken-evidence.json");
    std::fs::write(&broken_path, serde_json::to_vec(&broken).unwrap()).unwrap();
    let err = validate(&schema, &broken_path).unwrap_err();
    assert!(err.contains("fine"), "{err}");
}

/// Validates `json` against `schema` with Python's `jsonschema` (in the project venv).
fn validate(schema: &Path, json: &Path) -> Result<(), String> {
    let python = local_account::moto::repo_root().join(".venv/bin/python");
    let out = Command::new(&python)
        .args([
            "-c",
            "import json, sys, jsonschema\n\
             schema = json.load(open(sys.argv[1])); doc = json.load(open(sys.argv[2]))\n\
             jsonschema.Draft202012Validator.check_schema(schema)\n\
             errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(doc), key=str)\n\
             [print(list(e.absolute_path), e.message) for e in errors[:5]]\n\
             sys.exit(1 if errors else 0)",
        ])
        .arg(schema)
        .arg(json)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e} (make venv)", python.display()));
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_bundle_renders_again_to_the_same_bytes_and_tampering_is_detected() {
    let (_account, _report, bundle, _dir) = audit_finding("round-trip").await;
    let stored: BTreeMap<String, Vec<u8>> = bundle
        .files
        .iter()
        .map(|f| (f.name.clone(), f.bytes.clone()))
        .collect();
    let doc = read_bundle(&stored).unwrap();
    let again = render_bundle(doc).unwrap();
    assert_eq!(again.files.len(), 3);
    for (a, b) in again.files.iter().zip(&bundle.files) {
        assert_eq!(a.name, b.name);
        assert!(a.bytes == b.bytes, "{} differs after re-rendering", a.name);
    }
    assert_eq!(again.manifest(), bundle.manifest());

    let mut tampered = stored.clone();
    let html = tampered.get_mut(REPORT_HTML).unwrap();
    let at = html.windows(9).position(|w| w == b"MISSED_SL").unwrap();
    html[at] = b'N';
    match read_bundle(&tampered) {
        Err(EvidenceError::Tampered { file, .. }) => assert_eq!(file, REPORT_HTML),
        other => panic!("a modified report.html must be Tampered, got {other:?}"),
    }
    let mut missing = stored;
    missing.remove(SLOTS_CSV);
    assert!(matches!(read_bundle(&missing), Err(EvidenceError::Missing(f)) if f == SLOTS_CSV));
}

/// Debian's Chromium (`make browser` installs it); `BG_CHROMIUM` overrides the path.
fn chromium() -> PathBuf {
    let path = std::env::var_os("BG_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        path.exists(),
        "{} is missing: the report test needs a real headless browser; run `make browser` \
         (scripts/install-browser.sh installs Debian's chromium)",
        path.display()
    );
    path
}

/// Runs headless Chromium on `url` with `extra` arguments (a fresh profile each time) and
/// returns its stdout. A browser that exits with an error is started again, up to three times
/// (on a loaded 2-core machine Chromium's start now and then fails before it loads the page,
/// with nothing but its usual D-Bus noise on stderr); what the page shows is asserted on the
/// output of a run that succeeded, never skipped.
fn run_chromium(url: &str, extra: &[&str]) -> String {
    let mut failures = Vec::new();
    for attempt in 1..=3 {
        let profile = std::env::temp_dir().join(format!(
            "bg-chromium-{}-{}-{attempt}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        let out = Command::new(chromium())
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(extra)
            .arg(url)
            .output()
            .unwrap();
        let _ = std::fs::remove_dir_all(&profile);
        if out.status.success() {
            return String::from_utf8(out.stdout).unwrap();
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(15).collect();
        failures.push(format!(
            "attempt {attempt}: {}; stderr (last lines, newest first): {}",
            out.status,
            tail.join(" | ")
        ));
    }
    panic!("chromium failed three times:\n{}", failures.join("\n"));
}

/// The DOM the browser built for `url`.
fn dump_dom(url: &str) -> String {
    let dom = run_chromium(url, &["--dump-dom"]);
    assert!(dom.contains("</html>"), "no DOM dumped: {dom:.200}");
    dom
}

/// Decodes the entities Chromium's serialiser writes.
fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}

/// The attributes of the start tag `tag` (`<td class="s" title="…">`), as Chromium serialises
/// them (double-quoted values, bare `hidden=""`).
fn attrs(tag: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let inner = tag.trim_start_matches('<').trim_end_matches('>');
    let mut rest = inner.split_once(' ').map_or("", |(_, r)| r).trim_start();
    while !rest.is_empty() {
        let end = rest.find(['=', ' ']).unwrap_or(rest.len());
        let name = rest[..end].to_string();
        rest = &rest[end..];
        if let Some(r) = rest.strip_prefix("=\"") {
            let close = r.find('"').unwrap();
            out.insert(name, unescape(&r[..close]));
            rest = r[close + 1..].trim_start();
        } else {
            out.insert(name, String::new());
            rest = rest.trim_start();
        }
    }
    out
}

/// One row of the calendar as the browser built it.
#[derive(Debug)]
struct GridRow {
    name: String,
    verdict: String,
    hidden: bool,
    /// Per slot column: the cell's class and title.
    cells: Vec<(String, String)>,
}

/// The text between `<… id="id"…>` and the next `</tag>`.
fn element_text(dom: &str, tag: &str, id: &str) -> String {
    let open = format!("<{tag} id=\"{id}\"");
    let start = dom.find(&open).unwrap_or_else(|| panic!("no #{id}"));
    let body = &dom[start..];
    let gt = body.find('>').unwrap();
    let end = body.find(&format!("</{tag}>")).unwrap();
    let mut text = String::new();
    let mut in_tag = false;
    for c in body[gt + 1..end].chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    unescape(&text)
}

/// The slot instants of the calendar's columns and its rows (the calendar `#grid` is a header
/// table and chunks of rows, each its own table).
fn grid(dom: &str) -> (Vec<String>, Vec<GridRow>) {
    let start = dom.find("<div id=\"grid\">").expect("the calendar");
    let grid = &dom[start..];
    let grid = &grid[..grid.find("</section>").unwrap()];
    let (head, body) = grid.split_once("</thead>").unwrap();
    let slots = head
        .split("<th ")
        .skip(1)
        .map(|t| attrs(&format!("<th {}", &t[..t.find('>').unwrap() + 1]))["data-at"].clone())
        .collect();
    let rows = body
        .split("<tr ")
        .skip(1)
        .map(|r| {
            let r = &r[..r.find("</tr>").unwrap()];
            let tr = attrs(&format!("<tr {}", &r[..r.find('>').unwrap() + 1]));
            let th_end = r.find("</th>").unwrap();
            let name_start = r[..th_end].rfind('>').unwrap() + 1;
            let cells = r
                .split("<td ")
                .skip(1)
                .map(|c| attrs(&format!("<td {}", &c[..c.find('>').unwrap() + 1])))
                .filter(|a| a.get("class").is_some_and(|c| c != "v" && c != "f"))
                .map(|a| {
                    (
                        a["class"].clone(),
                        a.get("title").cloned().unwrap_or_default(),
                    )
                })
                .collect();
            GridRow {
                name: unescape(&r[name_start..th_end]),
                verdict: tr["data-v"].clone(),
                hidden: tr.contains_key("hidden"),
                cells,
            }
        })
        .collect();
    (slots, rows)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_html_in_a_real_browser_shows_every_table_and_the_seeded_violations() {
    let (account, report, _bundle, dir) = audit_finding("browser").await;
    let expected = account.expected_findings().unwrap();
    let url = format!("file://{}", dir.join(REPORT_HTML).display());

    let dom = dump_dom(&url);
    let (slots, rows) = grid(&dom);
    // One row per table, in the report's order, each with its verdict and one cell per slot.
    let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    let want: Vec<&str> = report
        .report
        .tables
        .iter()
        .map(|t| t.table.name.as_str())
        .collect();
    assert_eq!(names, want);
    assert_eq!(slots.len(), 6);
    for (r, t) in rows.iter().zip(&report.report.tables) {
        assert_eq!(r.verdict, evidence::verdict_code(t.verdict), "{}", r.name);
        assert_eq!(r.cells.len(), slots.len(), "{}", r.name);
        assert!(!r.hidden, "no filter: {} is shown", r.name);
    }
    let cell = |table: &str, at: &str| -> (String, String) {
        let col = slots.iter().position(|s| s == at).unwrap();
        rows.iter().find(|r| r.name == table).unwrap().cells[col].clone()
    };
    // The missed slots: exactly the scenario's MISSED_SLOT violations are red.
    let missed: BTreeSet<(String, String)> = rows
        .iter()
        .flat_map(|r| {
            r.cells
                .iter()
                .zip(&slots)
                .filter(|(c, _)| c.0 == "m")
                .map(|(_, at)| (r.name.clone(), at.clone()))
        })
        .collect();
    let missed_expected: BTreeSet<(String, String)> = expected
        .iter()
        .filter(|e| e.code == FindingCode::MissedSlot)
        .map(|e| (e.table.clone(), e.subject.clone().unwrap()))
        .collect();
    assert_eq!(missed, missed_expected);
    let (class, title) = cell("billing-ledger", "2026-10-15T00:00:00Z");
    assert_eq!(class, "m");
    assert!(
        title.starts_with("missed (due by 2026-10-15T04:00:00Z)"),
        "{title}"
    );
    // The 35-day point: it satisfied its slot, but is flagged, and its title names it.
    let short = expected
        .iter()
        .find(|e| e.code == FindingCode::RetentionTooShort && e.table == "reports-archive")
        .unwrap();
    let (class, title) = cell("reports-archive", "2026-11-15T00:00:00Z");
    assert_eq!(class, "s w");
    assert!(
        title.starts_with(short.subject.as_deref().unwrap())
            && title.contains("created 2026-11-15T00:"),
        "{title}"
    );
    assert!(title.contains("findings: RETENTION_TOO_SHORT"), "{title}");
    // The drifted plan's 35-day point did not count for analytics-events' slot.
    let (class, title) = cell("analytics-events", "2026-11-25T00:00:00Z");
    assert_eq!(class, "m");
    assert!(
        title.contains("by non-conforming plan analytics-35d"),
        "{title}"
    );
    // A satisfied slot's title gives the point's ARN and times.
    let (class, title) = cell("orders", "2026-11-25T00:00:00Z");
    assert_eq!(class, "s");
    let orders = report
        .report
        .tables
        .iter()
        .find(|t| t.table.name == "orders")
        .unwrap();
    let (_, arn) = expected_state(orders, "2026-11-25T00:00:00Z".parse().unwrap());
    assert!(title.starts_with(&arn.unwrap()), "{title}");
    assert!(
        title.contains("\ncompleted 2026-11-25T") && title.contains("\ndeletes 2027-02-23T"),
        "{title}"
    );
    // The pending table (created after the last slot: nothing owed yet) and the exempt one.
    let row = |name: &str| rows.iter().find(|r| r.name == name).unwrap();
    assert_eq!(row("ml-features").verdict, "PENDING");
    assert!(
        row("ml-features").cells.iter().all(|c| c.0 == "n"),
        "{:?}",
        row("ml-features")
    );
    assert_eq!(row("session-cache").verdict, "EXEMPT");
    assert!(row("session-cache").cells.iter().all(|c| c.0 == "e"));
    // The policy line and the summary.
    let policy = element_text(&dom, "p", "policy");
    for part in [
        "cron(0 0 15,25 * ? *) in UTC",
        "start window 60 min",
        "completion window 180 min",
        "exactly 90 days",
        "cold storage not allowed",
    ] {
        assert!(policy.contains(part), "{part:?} not in {policy:?}");
    }
    let summary = element_text(&dom, "ul", "summary");
    let non_compliant = report.report.verdicts[&Verdict::NonCompliant];
    assert!(
        summary.contains(&format!("{non_compliant}NON_COMPLIANT")),
        "{summary}"
    );
    let n = rows.len();
    assert_eq!(
        element_text(&dom, "output", "f-count"),
        format!("{n} of {n} tables shown")
    );

    // The filter from the URL hash: only non-compliant tables, then one of them by search.
    let dom = dump_dom(&format!("{url}#verdict=NON_COMPLIANT"));
    let (_, rows) = grid(&dom);
    for r in &rows {
        assert_eq!(r.hidden, r.verdict != "NON_COMPLIANT", "{}", r.name);
    }
    assert_eq!(
        element_text(&dom, "output", "f-count"),
        format!("{non_compliant} of {n} tables shown")
    );
    let dom = dump_dom(&format!("{url}#verdict=NON_COMPLIANT&q=ledger"));
    let (_, rows) = grid(&dom);
    let shown: Vec<&str> = rows
        .iter()
        .filter(|r| !r.hidden)
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(shown, vec!["billing-ledger"]);
    // The search matches finding codes too.
    let dom = dump_dom(&format!("{url}#q=missing_tag"));
    let (_, rows) = grid(&dom);
    let shown: Vec<&str> = rows
        .iter()
        .filter(|r| !r.hidden)
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(shown, vec!["temp-exports"]);

    // A search that matches nothing hides every row and the emptied chunk (no blank space).
    let dom = dump_dom(&format!("{url}#q=no-such-table"));
    let (_, rows) = grid(&dom);
    assert!(rows.iter().all(|r| r.hidden));
    assert_eq!(
        element_text(&dom, "output", "f-count"),
        format!("0 of {n} tables shown")
    );
    assert!(
        dom.contains("<div class=\"gc\" hidden=\"\""),
        "the empty chunk is not hidden"
    );

    // A screenshot for people to look at.
    let png = evidence_dir().join("report.png");
    let _ = std::fs::remove_file(&png);
    run_chromium(
        &url,
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1400,1000",
        ],
    );
    let bytes = std::fs::read(&png).unwrap();
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 10_000,
        "{} bytes",
        bytes.len()
    );
}
