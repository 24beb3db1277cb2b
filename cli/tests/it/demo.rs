//! `make demo` end to end (scripts/demo.sh): venv, build, local account, both functions under
//! `cargo lambda watch`, the alerts as the SQS subscriber received them, `backup-guard audit`,
//! shutdown. Run twice: a second run must work too. Takes a minute or two (it builds and
//! starts real processes); it needs the project venv, which the script creates (`make venv`).

use std::path::PathBuf;
use std::process::Command;

fn run_demo() -> (bool, String) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut c = Command::new("bash");
    c.arg("scripts/demo.sh").current_dir(&root);
    // The demo talks only to its own local account: nothing from the caller's AWS or policy
    // environment may leak in.
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") || k.starts_with("BG_") {
            c.env_remove(&k);
        }
    }
    c.env_remove("NO_COLOR").env_remove("DEMO_KEEP_LOGS");
    let out = c.output().expect("bash runs");
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

fn check(text: &str) {
    // The guard's alert on the new untagged table, as the subscriber received it.
    assert!(
        text.contains("Subject: WARNING backup-guard invoices-2027: MISSING_TAG"),
        "{text}"
    );
    assert!(
        text.contains("\"kind\": \"backup-guard.table-guard\""),
        "{text}"
    );
    assert!(
        text.contains("Attribute table (String): invoices-2027"),
        "{text}"
    );
    // The verifier's digest.
    assert!(
        text.contains("\"kind\": \"backup-guard.verifier-digest\""),
        "{text}"
    );
    assert!(text.contains("Attribute kind (String): digest"), "{text}");
    assert!(text.contains("2 alert(s) received"), "{text}");
    // The audit: the scenario's violations and the new table.
    assert!(
        text.contains("backup-guard audit: account 123456789012, region us-east-1"),
        "{text}"
    );
    let row = text
        .lines()
        .find(|l| l.starts_with("legacy-reports "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(row.contains("NOT_COVERED"), "{row}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("invoices-2027 ") && l.contains("MISSING_TAG"))
    );
    assert!(text.contains("AWS API calls:"), "{text}");
    // The verifier's evidence bundle in the local account's S3, listed and rendered again.
    assert!(
        text.contains(
            "bundle: s3://backup-guard-evidence-123456789012/evidence/123456789012/us-east-1/"
        ),
        "{text}"
    );
    assert!(text.contains("backup-guard history: 1 run(s)"), "{text}");
    assert!(
        text.contains("verified: every stored hash matches"),
        "{text}"
    );
    assert!(text.contains("/target/demo-report/report.html"), "{text}");
    // Shut down.
    assert!(
        text.contains("stopped the local account and cargo lambda watch"),
        "{text}"
    );
}

#[test]
fn make_demo_shows_the_guard_alert_the_digest_and_the_audit_and_runs_twice() {
    let (ok, text) = run_demo();
    assert!(ok, "demo failed:\n{text}");
    check(&text);
    let (ok, text) = run_demo();
    assert!(ok, "second demo run failed:\n{text}");
    check(&text);
}
