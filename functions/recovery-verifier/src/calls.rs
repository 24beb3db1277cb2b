//! The minimal number of API calls a verification of one region needs (the design's
//! "physical limit"), as a pure function of the inventory's shape.
//!
//! For T tables, R tables known to the tagging API, V vaults with R_v DynamoDB points each
//! (inside the look-back), K distinct KMS keys of the vaults with R_v > 0, P plans with S_p
//! selections each, and D tables whose creation time is needed (they miss a slot) and is not
//! in the creation-time cache (the first night: every such table; a later night: only those
//! the cache has not seen, i.e. created or first missing a slot since):
//!
//! ```text
//!   max(1,⌈T/100⌉)  DynamoDB.ListTables
//! + max(1,⌈R/100⌉,⌈G/500⌉) Resource Groups Tagging API.GetResources (G = their tag pairs)
//! + 1               STS.GetCallerIdentity
//! + max(1,⌈V/1000⌉) Backup.ListBackupVaults
//! + Σ_v max(1,⌈R_v/1000⌉)          Backup.ListRecoveryPointsByBackupVault
//! + Σ_v [R_v > 0]   Backup.GetBackupVaultAccessPolicy (vaults holding DynamoDB points)
//! + K               KMS.DescribeKey (K = distinct keys of those vaults)
//! + max(1,⌈P/1000⌉) Backup.ListBackupPlans + P Backup.GetBackupPlan
//! + Σ_p max(1,⌈S_p/1000⌉) Backup.ListBackupSelections + Σ_p S_p Backup.GetBackupSelection
//! + jobs: 1 if ≤ 1000 DynamoDB jobs in 30 days, else 1 + Σ_{FAILED,ABORTED,EXPIRED,PARTIAL} max(1,⌈J_s/1000⌉)
//! + D               DynamoDB.DescribeTable
//! + restore testing configured: max(1,⌈J_r/1000⌉) Backup.ListRestoreJobs (J_r = the
//!   restore testing plan's DynamoDB restore jobs of the last BG_RESTORE_TEST_MAX_AGE_DAYS)
//! ```
//!
//! Restore jobs are one account-wide listing filtered by the plan (`ByRestoreTestingPlanArn`,
//! `ByResourceType`, `ByCreatedAfter`) rather than `ListRestoreJobsByProtectedResource` per
//! table: a monthly test makes about one job per table, so 2,000 tables cost 2 calls, not 2,000.
//!
//! The digest `SNS.Publish` and the state-table reads/writes are not inventory and are not
//! included (the run reports them separately). The creation-time cache's own calls
//! ([`creation_cache_calls`]) are, for one region with C cached tables in I items
//! (I = max(1, chunks of C names), at most 300 KB each) and C' tables to keep after the run:
//!
//! ```text
//!   I               DynamoDB.GetItem (load: the head + its extra chunks; 1 if none saved)
//! + changed: I'     DynamoDB.PutItem (save: one per chunk of the C' names) + (I − 1)
//!                   DynamoDB.DeleteItem (the previous extra chunks); unchanged: nothing
//! ```
//!
//! so a second night over the same tables costs the inventory minus D `DescribeTable`, plus
//! I `GetItem`. Only tables whose creation time was needed are cached (289 of the benchmark's
//! 10,000: one item; an item holds about 5,000 names of 20-odd characters).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Page size of `ListTables` and `GetResources`.
pub const SMALL_PAGE: u64 = 100;
/// Tag pairs per `GetResources` page.
pub const TAG_PAIRS_PAGE: u64 = 500;
/// Page size of the Backup list calls.
pub const BACKUP_PAGE: u64 = 1000;

/// The shape of a region's inventory: the counts the call formula depends on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryShape {
    /// Tables (`ListTables`), before any table filter.
    pub tables: u64,
    /// Tables the tagging API returns (tagged now or once).
    pub tagged_tables: u64,
    /// Their tag pairs (a table without tags counts one, as `TagsPerPage` counts it).
    pub tag_pairs: u64,
    /// DynamoDB recovery points inside the look-back, per vault (one entry per vault).
    pub points_per_vault: Vec<u64>,
    /// Distinct KMS keys of the vaults holding DynamoDB points (one `DescribeKey` each).
    #[serde(default)]
    pub vault_keys: u64,
    /// Selections per plan (one entry per plan).
    pub selections_per_plan: Vec<u64>,
    /// True if every DynamoDB backup job of the last 30 days fits in one page.
    pub jobs_fit_one_page: bool,
    /// Jobs per failure state (FAILED, ABORTED, EXPIRED, PARTIAL); used only when the jobs do
    /// not fit one page.
    pub failed_jobs_per_state: [u64; 4],
    /// Tables whose creation time had to be read.
    pub described_tables: u64,
    /// Restore jobs of the restore testing plan listed; `None` when restore testing is not
    /// configured (no `ListRestoreJobs`).
    #[serde(default)]
    pub restore_jobs: Option<u64>,
    /// Tables that needed their creation time and got it from the creation-time cache (no
    /// `DescribeTable`; not in `described_tables`).
    #[serde(default)]
    pub cached_creation_times: u64,
}

/// The creation-time cache's calls in one region (see the module docs).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheShape {
    /// Items the load read (the head and its extra chunks; 1 when nothing was saved).
    pub items_loaded: u64,
    /// Items written by the save (chunks of the names kept), `None` when it was not saved
    /// (unchanged, or unreadable).
    pub items_saved: Option<u64>,
}

/// The creation-time cache's calls per operation for `shape`.
pub fn creation_cache_calls(shape: &CacheShape) -> BTreeMap<&'static str, u64> {
    let mut m = BTreeMap::new();
    m.insert("DynamoDB.GetItem", shape.items_loaded);
    if let Some(saved) = shape.items_saved {
        m.insert("DynamoDB.PutItem", saved);
        m.insert("DynamoDB.DeleteItem", shape.items_loaded.saturating_sub(1));
    }
    m.retain(|_, v| *v > 0);
    m
}

/// `max(1, ⌈n / page⌉)`: pages of a listing (an empty listing still costs one call).
pub fn pages(n: u64, page: u64) -> u64 {
    n.div_ceil(page.max(1)).max(1)
}

/// The minimal calls per operation (keys as the call counter names them).
pub fn minimal_calls_by_operation(shape: &InventoryShape) -> BTreeMap<&'static str, u64> {
    let plans = shape.selections_per_plan.len() as u64;
    let mut m = BTreeMap::new();
    m.insert("DynamoDB.ListTables", pages(shape.tables, SMALL_PAGE));
    m.insert(
        "Resource Groups Tagging API.GetResources",
        pages(shape.tagged_tables, SMALL_PAGE).max(pages(shape.tag_pairs, TAG_PAIRS_PAGE)),
    );
    m.insert("STS.GetCallerIdentity", 1);
    m.insert(
        "Backup.ListBackupVaults",
        pages(shape.points_per_vault.len() as u64, BACKUP_PAGE),
    );
    m.insert(
        "Backup.ListRecoveryPointsByBackupVault",
        shape
            .points_per_vault
            .iter()
            .map(|r| pages(*r, BACKUP_PAGE))
            .sum(),
    );
    m.insert(
        "Backup.GetBackupVaultAccessPolicy",
        shape.points_per_vault.iter().filter(|r| **r > 0).count() as u64,
    );
    m.insert("KMS.DescribeKey", shape.vault_keys);
    m.insert("Backup.ListBackupPlans", pages(plans, BACKUP_PAGE));
    m.insert("Backup.GetBackupPlan", plans);
    m.insert(
        "Backup.ListBackupSelections",
        shape
            .selections_per_plan
            .iter()
            .map(|s| pages(*s, BACKUP_PAGE))
            .sum(),
    );
    m.insert(
        "Backup.GetBackupSelection",
        shape.selections_per_plan.iter().sum(),
    );
    m.insert(
        "Backup.ListBackupJobs",
        if shape.jobs_fit_one_page {
            1
        } else {
            1 + shape
                .failed_jobs_per_state
                .iter()
                .map(|j| pages(*j, BACKUP_PAGE))
                .sum::<u64>()
        },
    );
    m.insert("DynamoDB.DescribeTable", shape.described_tables);
    if let Some(j) = shape.restore_jobs {
        m.insert("Backup.ListRestoreJobs", pages(j, BACKUP_PAGE));
    }
    m.retain(|_, v| *v > 0);
    m
}

/// The minimal number of calls (sum of [`minimal_calls_by_operation`]).
pub fn minimal_calls(shape: &InventoryShape) -> u64 {
    minimal_calls_by_operation(shape).values().sum()
}

/// Calls a naive scan would make: per table `DescribeTable` + `ListTagsOfResource` +
/// `ListRecoveryPointsByResource`, plus the same plan reads (for comparison in reports).
pub fn naive_calls(shape: &InventoryShape) -> u64 {
    let plan_reads: u64 = 1
        + shape.selections_per_plan.len() as u64
        + shape.selections_per_plan.iter().map(|s| 1 + s).sum::<u64>();
    pages(shape.tables, SMALL_PAGE) + 3 * shape.tables + plan_reads
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_round_up_and_cost_at_least_one_call() {
        assert_eq!(pages(0, 100), 1);
        assert_eq!(pages(1, 100), 1);
        assert_eq!(pages(100, 100), 1);
        assert_eq!(pages(101, 100), 2);
        assert_eq!(pages(2000, 100), 20);
    }

    #[test]
    fn formula_adds_every_term() {
        let shape = InventoryShape {
            tables: 250,
            tagged_tables: 120,
            tag_pairs: 240,
            points_per_vault: vec![2500, 0],
            vault_keys: 1,
            selections_per_plan: vec![2, 1],
            jobs_fit_one_page: true,
            failed_jobs_per_state: [0; 4],
            described_tables: 3,
            restore_jobs: None,
            cached_creation_times: 0,
        };
        // 3 ListTables + 2 GetResources + 1 STS + 1 vaults + (3 + 1) points
        // + 1 access policy (one vault holds points) + 1 DescribeKey
        // + 1 plans + 2 GetBackupPlan + 2 ListBackupSelections + 3 GetBackupSelection
        // + 1 jobs + 3 DescribeTable
        assert_eq!(
            minimal_calls(&shape),
            3 + 2 + 1 + 1 + 4 + 1 + 1 + 1 + 2 + 2 + 3 + 1 + 3
        );
        let by_op = minimal_calls_by_operation(&shape);
        assert_eq!(by_op["Backup.GetBackupVaultAccessPolicy"], 1);
        assert_eq!(by_op["KMS.DescribeKey"], 1);
        let big_jobs = InventoryShape {
            jobs_fit_one_page: false,
            failed_jobs_per_state: [1200, 0, 3, 0],
            ..shape.clone()
        };
        assert_eq!(minimal_calls(&big_jobs), minimal_calls(&shape) + 5);
        let restore_tested = InventoryShape {
            restore_jobs: Some(2000),
            ..shape.clone()
        };
        assert_eq!(minimal_calls(&restore_tested), minimal_calls(&shape) + 2);
    }

    #[test]
    fn at_ten_thousand_tables_the_formula_is_far_below_a_naive_scan() {
        let shape = InventoryShape {
            tables: 10_000,
            tagged_tables: 10_000,
            tag_pairs: 30_000,
            points_per_vault: vec![60_000],
            vault_keys: 1,
            selections_per_plan: vec![1],
            jobs_fit_one_page: false,
            failed_jobs_per_state: [10, 0, 0, 0],
            described_tables: 10,
            restore_jobs: Some(10_000),
            cached_creation_times: 0,
        };
        assert!(naive_calls(&shape) >= 50 * minimal_calls(&shape));
    }

    #[test]
    fn a_second_night_pays_describe_table_only_for_uncached_tables_plus_the_cache_reads() {
        // The benchmark's 10,000-table shape (docs/BENCHMARKS.md): 289 DescribeTable the
        // first night.
        let first = InventoryShape {
            tables: 10_001,
            tagged_tables: 10_001,
            tag_pairs: 30_000,
            points_per_vault: vec![57_655],
            vault_keys: 0,
            selections_per_plan: vec![2],
            jobs_fit_one_page: false,
            failed_jobs_per_state: [1, 1, 1, 0],
            described_tables: 289,
            restore_jobs: None,
            cached_creation_times: 0,
        };
        let second = InventoryShape {
            described_tables: 0,
            cached_creation_times: 289,
            ..first.clone()
        };
        assert_eq!(minimal_calls(&first) - minimal_calls(&second), 289);
        assert!(!minimal_calls_by_operation(&second).contains_key("DynamoDB.DescribeTable"));
        // First night: an empty cache (1 GetItem) saved in 2 items; second: 2 GetItem, no save.
        let first_cache = CacheShape {
            items_loaded: 1,
            items_saved: Some(2),
        };
        let c = creation_cache_calls(&first_cache);
        assert_eq!(c["DynamoDB.GetItem"], 1);
        assert_eq!(c["DynamoDB.PutItem"], 2);
        assert!(!c.contains_key("DynamoDB.DeleteItem"));
        let second_cache = CacheShape {
            items_loaded: 2,
            items_saved: None,
        };
        assert_eq!(
            creation_cache_calls(&second_cache),
            BTreeMap::from([("DynamoDB.GetItem", 2)])
        );
        // A changed cache of 2 items replaced by 2: 2 PutItem + 1 DeleteItem.
        let changed = CacheShape {
            items_loaded: 2,
            items_saved: Some(2),
        };
        assert_eq!(creation_cache_calls(&changed)["DynamoDB.DeleteItem"], 1);
        let total = |s: &InventoryShape, c: &CacheShape| {
            minimal_calls(s) + creation_cache_calls(c).values().sum::<u64>()
        };
        let ratio = total(&second, &second_cache) as f64 / total(&first, &first_cache) as f64;
        assert!(ratio <= 0.55, "second night / first night = {ratio}");
    }
}
