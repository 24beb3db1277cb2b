//! The fault matrix's shared part: fault kinds, how a fault is injected into the local account
//! (the [`crate::fault_proxy`] for moto's services, S3 included, the stand-in's faults for AWS Backup),
//! cells and their violations, and the rendering of `docs/FAULT_MATRIX.md`.
//!
//! Each function's `tests/it/fault_matrix.rs` runs every operation of its `AWS_OPERATIONS` ×
//! every [`FaultKind`] that applies, collects every violation of the product's invariants,
//! renders its section of the document and fails once at the end with the table of all
//! violations. The rendering holds no timings, so it is deterministic.

use std::path::PathBuf;
use std::time::Duration;

use crate::LocalAccount;
use crate::fault_proxy::{InjectedError, ProxyFault};
use crate::standin::{FailKind, Fault};

/// The document the matrix tests render into.
pub const DOC_PATH: &str = "docs/FAULT_MATRIX.md";
/// Set to `1` to rewrite the test's section of [`DOC_PATH`] instead of comparing it.
pub const WRITE_DOCS_VAR: &str = "BG_WRITE_DOCS";

/// One kind of fault a cell injects into one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FaultKind {
    /// The protocol's throttling error on every attempt: past the SDK's retries.
    Throttling,
    /// A 5xx on every attempt: past the SDK's retries.
    ServerError,
    /// The protocol's access-denied error (not retried).
    AccessDenied,
    /// The request is held longer than the invocation's deadline.
    Hang,
    /// The first page is read (cut to one item, so a second page follows); every later page
    /// fails with a 5xx past the retries.
    SecondPage,
}

impl FaultKind {
    /// Every kind, in the matrix's column order.
    pub const ALL: [FaultKind; 5] = [
        FaultKind::Throttling,
        FaultKind::ServerError,
        FaultKind::AccessDenied,
        FaultKind::Hang,
        FaultKind::SecondPage,
    ];

    /// The short label used in the document.
    pub fn label(self) -> &'static str {
        match self {
            FaultKind::Throttling => "throttling",
            FaultKind::ServerError => "5xx",
            FaultKind::AccessDenied => "AccessDenied",
            FaultKind::Hang => "hang",
            FaultKind::SecondPage => "2nd page 5xx",
        }
    }

    /// Whether the SDK must retry this fault (throttling, 5xx) — checked through the call
    /// counter's retries; `Some(false)` for a denial (never retried), `None` when the kind
    /// says nothing about retries (a hang).
    pub fn retried(self) -> Option<bool> {
        match self {
            FaultKind::Throttling | FaultKind::ServerError | FaultKind::SecondPage => Some(true),
            FaultKind::AccessDenied => Some(false),
            FaultKind::Hang => None,
        }
    }
}

/// Whether two operation names are the same operation, ignoring spaces: the SDK's service
/// ids are spelled with spaces (`Resource Groups Tagging API`), the wire's without
/// (`ResourceGroupsTaggingAPI`). The completeness checks compare exactly.
pub fn same_operation(a: &str, b: &str) -> bool {
    a.chars()
        .filter(|c| *c != ' ')
        .eq(b.chars().filter(|c| *c != ' '))
}

/// The operation as the wire (and the fault proxy) names it: the SDK's service ids may have
/// spaces (`Resource Groups Tagging API.GetResources` → `ResourceGroupsTaggingAPI.GetResources`).
pub fn wire_operation(operation: &str) -> String {
    operation.replace(' ', "")
}

/// Whether the product reads `operation` page by page (the second-page fault applies).
pub fn is_paginated(operation: &str) -> bool {
    matches!(
        wire_operation(operation).as_str(),
        "DynamoDB.ListTables"
            | "ResourceGroupsTaggingAPI.GetResources"
            | "Backup.ListBackupPlans"
            | "Backup.ListBackupSelections"
            | "Backup.ListBackupVaults"
            | "Backup.ListRecoveryPointsByBackupVault"
            | "Backup.ListBackupJobs"
            | "Backup.ListRestoreJobs"
            | "S3.ListObjectsV2"
            | "Organizations.ListAccounts"
            | "Organizations.ListAccountsForParent"
            | "Organizations.ListOrganizationalUnitsForParent"
    )
}

/// The fault kinds that apply to `operation` (the second page only to paginated reads).
pub fn kinds_for(operation: &str) -> Vec<FaultKind> {
    FaultKind::ALL
        .into_iter()
        .filter(|k| *k != FaultKind::SecondPage || is_paginated(operation))
        .collect()
}

/// Injects `kind` into every call of `operation` (`Service.Operation`): AWS Backup through the
/// stand-in's faults, every other service through the account's fault proxy. A hang holds
/// each call for `hang`.
pub fn inject(
    account: &LocalAccount,
    operation: &str,
    kind: FaultKind,
    hang: Duration,
) -> Result<(), String> {
    let operation = wire_operation(operation);
    let operation = operation.as_str();
    if let Some(op) = operation.strip_prefix("Backup.") {
        let mut f = Fault::new(op);
        match kind {
            FaultKind::Throttling => f.fail_always = Some(FailKind::ThrottlingException),
            FaultKind::ServerError => f.fail_always = Some(FailKind::ServiceUnavailableException),
            FaultKind::AccessDenied => f.fail_always = Some(FailKind::AccessDeniedException),
            FaultKind::Hang => f.latency_ms = u64::try_from(hang.as_millis()).unwrap_or(u64::MAX),
            FaultKind::SecondPage => {
                f.fail_always = Some(FailKind::InternalServerError);
                f.next_token_only = true;
                f.page_size = Some(1);
            }
        }
        return account
            .standin()
            .set_fault(f)
            .map_err(|e| format!("stand-in fault on {operation}: {e}"));
    }
    let proxy = account
        .proxy()
        .ok_or("the account was started without the fault proxy")?;
    proxy.set_fault(match kind {
        FaultKind::Throttling => ProxyFault::error(operation, InjectedError::Throttling),
        FaultKind::ServerError => ProxyFault::error(operation, InjectedError::ServerError),
        FaultKind::AccessDenied => ProxyFault::error(operation, InjectedError::AccessDenied),
        FaultKind::Hang => ProxyFault::hang(operation, hang),
        FaultKind::SecondPage => ProxyFault::second_page(operation, 1, InjectedError::ServerError),
    });
    Ok(())
}

/// Removes every injected fault (proxy and stand-in) and forgets what the proxy saw.
pub fn clear(account: &LocalAccount) {
    account.standin().clear_faults();
    if let Some(p) = account.proxy() {
        p.clear_faults();
        p.reset_seen();
    }
}

/// How many calls of `operation` a fault answered or held since the last [`clear`].
pub fn injected(account: &LocalAccount, operation: &str) -> u64 {
    let operation = wire_operation(operation);
    let operation = operation.as_str();
    if let Some(op) = operation.strip_prefix("Backup.") {
        return account
            .standin()
            .fault_hits()
            .into_iter()
            .filter(|(f, _)| f.operation == op)
            .map(|(_, n)| n)
            .sum();
    }
    account
        .proxy()
        .map(|p| p.injected(operation) as u64)
        .unwrap_or(0)
}

/// One cell: an operation, a fault, what the function did and what went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// `Service.Operation`, or a label such as `(baseline)`.
    pub operation: String,
    /// The fault (none for the baseline).
    pub fault: Option<FaultKind>,
    /// What the function did, deterministic (no timings).
    pub outcome: String,
    /// Every invariant the cell broke.
    pub violations: Vec<String>,
}

/// A function's whole matrix.
#[derive(Debug, Clone, Default)]
pub struct Matrix {
    /// The function (`table-guard`, `recovery-verifier`): the section's name.
    pub function: String,
    /// What every cell asserts, one line each (rendered above the table).
    pub invariants: Vec<String>,
    /// The cells, in run order.
    pub cells: Vec<Cell>,
    /// Violations that belong to no single cell (the operation list's completeness).
    pub global_violations: Vec<String>,
}

impl Matrix {
    /// Checks that `listed` (a function's `AWS_OPERATIONS`) is complete and current: every
    /// operation counted in any cell is listed (the baseline's own are reported on its row),
    /// and every listed one was counted somewhere.
    pub fn check_operations(
        &mut self,
        listed: &[&str],
        baseline: &std::collections::BTreeSet<String>,
        called: &std::collections::BTreeSet<String>,
    ) {
        let unlisted: Vec<&String> = called
            .iter()
            .filter(|k| !listed.contains(&k.as_str()) && !baseline.contains(*k))
            .collect();
        if !unlisted.is_empty() {
            self.global_violations.push(format!(
                "counted on a failure path but not in AWS_OPERATIONS: {unlisted:?}"
            ));
        }
        for op in listed {
            if !called.contains(*op) {
                self.global_violations.push(format!(
                    "{op} is in AWS_OPERATIONS but the call counter never counted an operation of that name"
                ));
            }
        }
    }

    /// An empty matrix for `function`.
    pub fn new(function: &str, invariants: &[&str]) -> Self {
        Self {
            function: function.to_string(),
            invariants: invariants.iter().map(|s| s.to_string()).collect(),
            ..Self::default()
        }
    }

    /// Every violation as `(operation, fault label, what happened)`.
    pub fn violations(&self) -> Vec<(String, String, String)> {
        let mut out: Vec<(String, String, String)> = self
            .cells
            .iter()
            .flat_map(|c| {
                c.violations.iter().map(|v| {
                    (
                        c.operation.clone(),
                        c.fault.map_or("-", FaultKind::label).to_string(),
                        v.clone(),
                    )
                })
            })
            .collect();
        out.extend(
            self.global_violations
                .iter()
                .map(|v| ("(operation list)".into(), "-".into(), v.clone())),
        );
        out
    }

    /// The cells that inject a fault.
    pub fn fault_cells(&self) -> usize {
        self.cells.iter().filter(|c| c.fault.is_some()).count()
    }

    /// This function's section of the document (markdown, between its markers).
    pub fn render(&self) -> String {
        let esc = |s: &str| s.replace('|', "\\|").replace('\n', " ");
        let mut s = String::new();
        s.push_str(&format!("## {}\n\n", self.function));
        s.push_str(&format!(
            "{} cells ({} faulted + {} fault-free), {} invariant violation(s).\n\n",
            self.cells.len(),
            self.fault_cells(),
            self.cells.len() - self.fault_cells(),
            self.violations().len()
        ));
        if !self.invariants.is_empty() {
            s.push_str("Every cell asserts:\n\n");
            for i in &self.invariants {
                s.push_str(&format!("- {i}\n"));
            }
            s.push('\n');
        }
        s.push_str("| operation | fault | what the function did | violations |\n");
        s.push_str("|---|---|---|---|\n");
        for c in &self.cells {
            s.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                esc(&c.operation),
                c.fault.map_or("none", FaultKind::label),
                esc(&c.outcome),
                if c.violations.is_empty() {
                    "-".to_string()
                } else {
                    esc(&c.violations.join("; "))
                }
            ));
        }
        if !self.global_violations.is_empty() {
            s.push_str("\nOperation list:\n\n");
            for v in &self.global_violations {
                s.push_str(&format!("- {}\n", esc(v)));
            }
        }
        s
    }

    /// The table of every violation, for the failure message.
    pub fn violation_table(&self) -> String {
        let mut s = String::from("operation | fault | violation\n");
        for (op, fault, v) in self.violations() {
            s.push_str(&format!("{op} | {fault} | {v}\n"));
        }
        s
    }

    /// Prints the summary, then writes (`BG_WRITE_DOCS=1`) or compares this section of
    /// [`DOC_PATH`]. Returns the problems: the violations and a stale document.
    pub fn finish(&self) -> Vec<String> {
        // Straight to stderr, past the test harness's capture: shown even when the test passes.
        let summary = format!(
            "{} fault matrix: {} cells ({} faulted), {} violation(s)\n",
            self.function,
            self.cells.len(),
            self.fault_cells(),
            self.violations().len()
        );
        let _ = std::io::Write::write_all(&mut std::io::stderr(), summary.as_bytes());
        let mut problems = Vec::new();
        if let Err(e) = sync_section(&self.function, &self.render()) {
            problems.push(e);
        }
        if !self.violations().is_empty() {
            problems.push(format!(
                "{} invariant violation(s):\n{}",
                self.violations().len(),
                self.violation_table()
            ));
        }
        problems
    }
}

fn doc_path() -> PathBuf {
    crate::moto::repo_root().join(DOC_PATH)
}

const DOC_HEADER: &str = "# Fault matrix\n\n\
Generated by the fault-matrix tests (`functions/*/tests/it/fault_matrix.rs`, part of `make test`);\n\
do not edit by hand. Regenerate with `BG_WRITE_DOCS=1 cargo test -p <function> --test it fault_matrix`;\n\
without it the tests fail when this file differs from what they generate.\n\n\
Each function's every AWS operation (its `AWS_OPERATIONS`) × every fault, injected into every\n\
call of that operation by `tests/src/fault_proxy.rs` (in front of moto) or by the AWS Backup\n\
stand-in:\n\n\
- **throttling** / **5xx**: the protocol's throttling error or a 5xx on every attempt, so the\n\
  call fails past the SDK's retries (standard mode, 6 attempts, 5 ms initial backoff in tests);\n\
- **AccessDenied**: the protocol's denial (never retried);\n\
- **hang**: every call held longer than the invocation's deadline (verifier 6 s, guard 3 s in\n\
  tests); the clients keep the production timeouts (attempt 30 s, operation 120 s), so only a\n\
  deadline-derived call budget bounds the call; the harness kills the invocation at the deadline,\n\
  as Lambda does;\n\
- **2nd page 5xx** (paginated reads only): pages are cut to one item, the first is read, every\n\
  page after it fails with a 5xx past the retries.\n";

fn markers(function: &str) -> (String, String) {
    (
        format!("<!-- BEGIN {function} (generated) -->"),
        format!("<!-- END {function} (generated) -->"),
    )
}

/// The document `current` with `function`'s section set to `section`: the header
/// regenerated, the other functions' sections kept, a missing section appended.
pub fn with_section(current: &str, function: &str, section: &str) -> String {
    let (begin, end) = markers(function);
    let block = format!("{begin}\n{section}{end}");
    let mut rest = current
        .find("<!-- BEGIN ")
        .map_or(String::new(), |i| current[i..].to_string());
    let located = rest
        .find(&begin)
        .and_then(|b| rest[b..].find(&end).map(|e| (b, b + e + end.len())));
    match located {
        Some((b, e)) => rest.replace_range(b..e, &block),
        None => {
            let kept = rest.trim_end().len();
            rest.truncate(kept);
            if !rest.is_empty() {
                rest.push_str("\n\n");
            }
            rest.push_str(&block);
        }
    }
    format!("{DOC_HEADER}\n{}\n", rest.trim_end())
}

/// Writes (`BG_WRITE_DOCS=1`) or checks the section of `function` in [`DOC_PATH`] (and the
/// document's header).
pub fn sync_section(function: &str, section: &str) -> Result<(), String> {
    let path = doc_path();
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    let wanted = with_section(&current, function, section);
    if wanted == current {
        return Ok(());
    }
    if std::env::var(WRITE_DOCS_VAR).as_deref() == Ok("1") {
        return std::fs::write(&path, wanted)
            .map_err(|e| format!("cannot write {}: {e}", path.display()));
    }
    Err(format!(
        "{DOC_PATH}: the {function} section differs from what the test generated; regenerate it with\n  \
         {WRITE_DOCS_VAR}=1 cargo test -p {package} --test it fault_matrix\n\
         generated section:\n{section}",
        // A section such as `recovery-verifier org` belongs to the package `recovery-verifier`.
        package = function.split(' ').next().unwrap_or(function)
    ))
}

/// What is wrong with how a cell's fault was met, from the injector's hit count (`fired`) and
/// the call counter's snapshot: the fault never fired (the operation, or its second page, was
/// not called), or the SDK classified it against the kind (throttling and 5xx must be retried,
/// AccessDenied must not; a hang says nothing about retries).
pub fn fault_violations(
    operation: &str,
    kind: FaultKind,
    fired: u64,
    counted: &std::collections::BTreeMap<String, awsio::OperationCalls>,
) -> Vec<String> {
    if fired == 0 {
        let page = if kind == FaultKind::SecondPage {
            " for a second page"
        } else {
            ""
        };
        return vec![format!(
            "the fault never fired: {operation} was not called{page}"
        )];
    }
    let Some(retried) = kind.retried() else {
        return Vec::new();
    };
    let retries: u64 = counted
        .iter()
        .filter(|(name, _)| same_operation(name, operation))
        .map(|(_, c)| c.retries)
        .sum();
    match (retried, retries) {
        (true, 0) => vec![format!(
            "the SDK did not retry the injected {}",
            kind.label()
        )],
        (false, n) if n > 0 => vec![format!(
            "the SDK retried the injected {} ({n} retries)",
            kind.label()
        )],
        _ => Vec::new(),
    }
}

/// One planned cell: the operation, the fault, and the cell's number in the matrix's order
/// (operation, then kind; the fault-free baseline is number 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannedCell<'a> {
    /// The cell's number (1-based: 0 is the baseline); results are put back in this order.
    pub number: usize,
    /// The operation the fault goes into (`Service.Operation`).
    pub operation: &'a str,
    /// The fault.
    pub kind: FaultKind,
}

/// Every cell of `operations` × [`kinds_for`] each, dealt into `1 + hang_lanes` lanes that run
/// side by side, each on its own local account and one cell after the other: every cell but
/// the hangs in lane 0, the hangs round-robin in the others. A hang cell spends its time idle,
/// waiting out the invocation's deadline, so running the hangs beside the busy cells shortens
/// the matrix without adding CPU load to the cells whose timing matters.
pub fn plan_lanes<'a>(operations: &[&'a str], hang_lanes: usize) -> Vec<Vec<PlannedCell<'a>>> {
    let mut lanes: Vec<Vec<PlannedCell<'a>>> = vec![Vec::new(); 1 + hang_lanes];
    let mut number = 0;
    let mut hangs = 0;
    for operation in operations {
        for kind in kinds_for(operation) {
            number += 1;
            let cell = PlannedCell {
                number,
                operation,
                kind,
            };
            let lane = if kind == FaultKind::Hang && hang_lanes > 0 {
                hangs += 1;
                1 + (hangs - 1) % hang_lanes
            } else {
                0
            };
            lanes[lane].push(cell);
        }
    }
    lanes
}

/// A retry-partition name no other context of this process uses
/// (`awsio::config::ClientSettings::retry_partition`): every cell's clients get a full retry
/// quota, so a cell that exhausts retries on purpose cannot stop the next cell's retries (the
/// SDK's token bucket is otherwise shared per service by the whole process).
pub fn fresh_retry_partition() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("fault-matrix-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_are_added_replaced_and_kept() {
        let one = with_section("", "a", "A1\n");
        assert!(one.starts_with(DOC_HEADER));
        assert!(one.contains("<!-- BEGIN a (generated) -->\nA1\n<!-- END a (generated) -->"));
        let two = with_section(&one, "b", "B1\n");
        assert!(two.contains("A1") && two.contains("B1"));
        assert_eq!(with_section(&two, "b", "B1\n"), two, "idempotent");
        let replaced = with_section(&two, "a", "A2\n");
        assert!(replaced.contains("A2") && !replaced.contains("A1") && replaced.contains("B1"));
        let stale_header = two.replacen("Generated", "Old text", 1);
        assert_eq!(with_section(&stale_header, "a", "A1\n"), two);
    }

    #[test]
    fn lanes_hold_every_cell_once_with_the_hangs_apart() {
        let ops = [
            "DynamoDB.ListTables",
            "SNS.Publish",
            "Backup.ListBackupPlans",
        ];
        let lanes = plan_lanes(&ops, 2);
        assert_eq!(lanes.len(), 3);
        let mut numbers: Vec<usize> = lanes.iter().flatten().map(|c| c.number).collect();
        numbers.sort_unstable();
        let total: usize = ops.iter().map(|o| kinds_for(o).len()).sum();
        assert_eq!(numbers, (1..=total).collect::<Vec<_>>());
        assert!(lanes[0].iter().all(|c| c.kind != FaultKind::Hang));
        for lane in &lanes[1..] {
            assert!(!lane.is_empty() && lane.iter().all(|c| c.kind == FaultKind::Hang));
        }
        // Without hang lanes everything runs in one lane, in the matrix's order.
        let one = plan_lanes(&ops, 0);
        assert_eq!(one.len(), 1);
        assert!(one[0].windows(2).all(|w| w[0].number < w[1].number));
    }

    #[test]
    fn second_page_only_for_paginated_reads() {
        assert!(kinds_for("DynamoDB.ListTables").contains(&FaultKind::SecondPage));
        assert!(!kinds_for("DynamoDB.PutItem").contains(&FaultKind::SecondPage));
        assert_eq!(kinds_for("SNS.Publish").len(), 4);
        assert!(same_operation(
            "Resource Groups Tagging API.GetResources",
            "ResourceGroupsTaggingAPI.GetResources"
        ));
        assert!(!same_operation("DynamoDB.GetItem", "DynamoDB.PutItem"));
        assert!(
            kinds_for("Resource Groups Tagging API.GetResources").contains(&FaultKind::SecondPage)
        );
    }
}
