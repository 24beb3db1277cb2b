//! `report --out DIR` against the local account seeded with the `audit-finding` scenario: the
//! evidence bundle of the same evaluation `audit` prints, written read-only to DIR.

use std::collections::BTreeMap;
use std::path::PathBuf;

use local_account::{LocalAccount, Scenario};

use crate::common::{bg, json, run};

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "bg-report-{name}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn read_dir_files(dir: &std::path::Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_writes_the_bundle_of_the_audits_evaluation_and_prints_its_page() {
    let account = LocalAccount::start(&Scenario::shipped("audit-finding").unwrap())
        .await
        .unwrap();
    let env = account.env();
    let now = account.now().to_string();
    let dir = fresh_dir("all");

    let out = run(bg(&env).args(["report", "--now", &now, "--out"]).arg(&dir));
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Findings at or above the default --fail-on (warning): exit 1, as audit.
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    assert_eq!(stdout, format!("{}\n", dir.join("report.html").display()));

    let files = read_dir_files(&dir);
    assert_eq!(
        files.keys().map(String::as_str).collect::<Vec<_>>(),
        vec!["evidence.json", "report.html", "slots.csv"]
    );
    let doc = evidence::read_bundle(&files).unwrap();
    assert_eq!(doc.run.account.as_deref(), Some("123456789012"));
    assert_eq!(doc.run.region, "us-east-1");
    assert!(doc.run.generator.starts_with("backup-guard report "));
    assert_eq!(doc.run.run_id, "cli-20261125T120000Z");
    assert_eq!(doc.generated_at, account.now());

    // The same evaluation as `audit`: every table with the verdict audit gives it.
    let audit = json(&run(
        bg(&env).args(["audit", "--now", &now, "--format", "json"])
    ));
    let audit_verdicts: BTreeMap<String, String> = audit["report"]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let v: policy::Verdict = serde_json::from_value(t["verdict"].clone()).unwrap();
            (
                t["table"]["name"].as_str().unwrap().to_string(),
                evidence::verdict_code(v).to_string(),
            )
        })
        .collect();
    let doc_verdicts: BTreeMap<String, String> = doc
        .tables
        .iter()
        .map(|t| (t.name.clone(), t.verdict.clone()))
        .collect();
    assert_eq!(doc_verdicts, audit_verdicts);
    assert_eq!(doc.tables.len(), account.scenario().tables.len());

    // JSON output: the paths and the SHA-256 of every file written, for one table only.
    let one = fresh_dir("one");
    let out = run(bg(&env)
        .args([
            "report", "--now", &now, "--table", "orders", "--format", "json", "--out",
        ])
        .arg(&one));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out);
    let b = &v["bundles"][0];
    assert_eq!(b["region"], "us-east-1");
    let files = read_dir_files(&one);
    for (name, bytes) in &files {
        assert_eq!(b["sha256"][name], evidence::sha256_hex(bytes), "{name}");
    }
    let doc = evidence::read_bundle(&files).unwrap();
    assert_eq!(
        doc.tables
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>(),
        vec!["orders"]
    );

    // An --out that cannot be a directory is an input error naming it.
    let file = fresh_dir("file");
    std::fs::write(&file, b"x").unwrap();
    let out = run(bg(&env).args(["report", "--now", &now, "--out"]).arg(&file));
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&file.display().to_string()), "{stderr}");

    for d in [&dir, &one] {
        let _ = std::fs::remove_dir_all(d);
    }
    let _ = std::fs::remove_file(&file);
}
