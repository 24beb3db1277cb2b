//! Verifying one region, as a pipeline:
//!
//! ```text
//! read_inventory → Inventory (facts + completeness per source)
//!   → evaluate every table with one policy::Evaluator
//!   → creation times of earlier runs (VerifyOptions::creation_cache) → re-evaluate
//!   → DescribeTable for the few tables whose missed slot may predate their birth and whose
//!     creation time is not cached → re-evaluate
//!   → RegionReport
//! ```
//!
//! Read-only: nothing is published or saved here, so the CLI `audit` reuses it as is (without
//! a cache). The creation-time cache is loaded here (its key needs the account the inventory
//! read), within its share of the run; the caller saves [`CacheUse::times`] when
//! [`CacheUse::changed`]. A cached creation time is a fact an earlier run read; a cache that
//! cannot be read only means `DescribeTable` as without one.
//!
//! Unknown is never compliant: every source the [`Inventory`] did not read completely is a
//! `Fact::Unknown` for the tables that depend on it (see [`crate::inventory`] for which), so
//! the policy makes them `UNVERIFIABLE` naming the source, or keeps them `NON_COMPLIANT` when a
//! fact that *was* read already proves a violation. The identity or the table list unreadable
//! → nothing in the region can be verified ([`RegionReport::failure`]).
//!
//! The Lambda deadline ([`VerifyOptions::deadline`]) stops new work: vaults not read in time
//! count as unread ("not reached before the deadline"), and tables whose creation time was not
//! read in time (or could not be read) are re-evaluated with their points unknown, so they are
//! `UNVERIFIABLE` rather than judged without their grace period; those not reached in time are
//! listed in [`RegionReport::unreached_tables`].

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use awsio::AwsContext;
use awsio::chunked::Generation;
use awsio::creation_cache;
use futures::{StreamExt, stream};
use jiff::{SignedDuration, Timestamp};
use policy::arn::TableArn;
use policy::facts::{BackupSetup, Fact, TableFacts};
use policy::report::RunReport;
use policy::selection::wildcard_match;
use policy::{Evaluator, Policy, TableEvaluation, Verdict, needs_creation_time};
use serde::Serialize;

use evidence::InventoryFacts;

use crate::calls::{InventoryShape, minimal_calls};
use crate::inventory::{
    Inventory, JOB_LOOKBACK, ReadOptions, RegionFailure, Source, SourceRead, deadline_reason,
    read_inventory, short_reason, unreachable_of,
};

/// Options of one region's verification.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Table-name globs (`*` wildcards); empty means every table.
    pub tables: Vec<String>,
    /// Start no new AWS call after this instant (the Lambda deadline minus a safety margin).
    pub deadline: Option<Instant>,
    /// No call may still run after this instant: the clients' timeouts are capped to it (an
    /// AWS call that hangs ends there as unread). Later than `deadline`, so calls in flight
    /// when new work stops may finish; earlier than the Lambda deadline, so the digest still
    /// has time to go out. `None`: no cap.
    pub call_deadline: Option<Instant>,
    /// Recovery points are listed from `now − retention − lookback_slack`, so points near the
    /// oldest slot (and their near misses) are seen.
    pub lookback_slack: SignedDuration,
    /// Concurrent calls for independent reads (vaults, `DescribeTable`).
    pub concurrency: usize,
    /// Where the creation times of earlier runs are kept (`None`: no cache, every creation
    /// time needed is read with `DescribeTable`).
    pub creation_cache: Option<CacheSource>,
}

/// The state table holding the creation-time cache ([`awsio::creation_cache`]) and how long
/// its load may take: a small fixed share of the run, so a state table that hangs cannot eat
/// the time of the verification or of the digest.
#[derive(Debug, Clone)]
pub struct CacheSource {
    /// The clients of the state table's region (the function's own); the load caps their
    /// timeouts to its share when it starts.
    pub home: AwsContext,
    /// The state table.
    pub table: String,
    /// The load must end within this long of its start (on timeout or failure the run goes
    /// on with an empty cache, which is the run without a cache).
    pub timeout: Duration,
}

/// What the creation-time cache did in a region's verification.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CacheUse {
    /// The cache's head key (`created#<account>#<region>`).
    pub key: String,
    /// Why the cache could not be read, if so (the run then read every creation time it
    /// needed with `DescribeTable`, as without a cache).
    pub error: Option<String>,
    /// Items read by the load (1 `GetItem` + 1 per extra chunk; attempted ones when it
    /// failed).
    pub items_read: u64,
    /// Tables in the cache when it was loaded.
    pub loaded: u64,
    /// How long the load took (bounded by [`CacheSource::timeout`]).
    pub load_ms: u64,
    /// Tables that needed their creation time and got it from the cache, sorted.
    pub hits: Vec<String>,
    /// True if the times to keep differ from the loaded ones (new reads, deleted tables).
    pub changed: bool,
    /// True if the cache may be saved: it was read (or was corrupt, and saving replaces it).
    /// False after a failed or timed-out read: the saved items are kept as they are.
    pub saveable: bool,
    /// The times to keep: the loaded ones of tables still listed, plus this run's reads.
    #[serde(skip)]
    pub times: BTreeMap<String, Timestamp>,
    /// Where the loaded cache is (its items are replaced by a save).
    #[serde(skip)]
    pub previous: Option<Generation>,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self {
            tables: Vec::new(),
            deadline: None,
            call_deadline: None,
            lookback_slack: SignedDuration::from_hours(24 * 7),
            concurrency: 8,
            creation_cache: None,
        }
    }
}

impl VerifyOptions {
    fn out_of_time(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    fn selects(&self, name: &str) -> bool {
        self.tables.is_empty() || self.tables.iter().any(|g| wildcard_match(g, name))
    }
}

/// The result of verifying one region.
#[derive(Debug, Clone, Serialize)]
pub struct RegionReport {
    /// The region.
    pub region: String,
    /// The account, if it could be read.
    pub account: Option<String>,
    /// The policy's report: every table's evaluation, counts, API calls, unreachable parts.
    pub report: RunReport,
    /// Why nothing in the region could be verified, if so.
    pub failure: Option<String>,
    /// Every source of facts read, with whether it was read completely (see
    /// [`crate::inventory`]): what an unverifiable verdict or a problem kept open traces to.
    pub sources: Vec<SourceRead>,
    /// Tables whose creation time was read (`DescribeTable`).
    pub described_tables: Vec<String>,
    /// Tables the run could not finish before the deadline.
    pub unreached_tables: Vec<String>,
    /// What the creation-time cache did (`None`: no cache configured, or the inventory was
    /// not read).
    pub creation_cache: Option<CacheUse>,
    /// The inventory's shape (counts that drive the call formula), when the inventory was read.
    pub shape: Option<InventoryShape>,
    /// The minimal calls for that shape ([`crate::calls::minimal_calls`]).
    pub minimal_calls: Option<u64>,
    /// Calls counted during this verification (attempts, retries included).
    pub counted_calls: u64,
    /// Retries among them.
    pub retries: u64,
    /// How long the verification took.
    pub duration_ms: u64,
    /// The inventory's facts the report does not carry (each table's points, the plans and
    /// selections, the failed jobs), for the evidence bundle ([`crate::bundle`]). Not part of
    /// the JSON report.
    #[serde(skip)]
    pub facts: InventoryFacts,
}

impl RegionReport {
    /// The sources not read completely.
    pub fn unread_sources(&self) -> impl Iterator<Item = &SourceRead> {
        self.sources.iter().filter(|s| s.unread.is_some())
    }

    /// True if at least one table got a verdict other than `unverifiable`, or the region has
    /// no tables and nothing failed.
    pub fn verified_something(&self) -> bool {
        if self.failure.is_some() {
            return false;
        }
        self.report.tables.is_empty()
            || self
                .report
                .tables
                .iter()
                .any(|t| t.verdict != Verdict::Unverifiable)
    }
}

/// Calls made on `ctx` since `before` (attempts per operation, and retries).
fn calls_since(ctx: &AwsContext, before: &awsio::Snapshot) -> (BTreeMap<String, u64>, u64) {
    let since = ctx.calls.calls_since(before);
    (since.attempts, since.retries)
}

/// What the verification of a region found, before the call counts are added.
struct Verified {
    account: Option<String>,
    tables: Vec<TableEvaluation>,
    sources: Vec<SourceRead>,
    notes: Vec<String>,
    failure: Option<String>,
    creation: CreationTimes,
    cache: Option<CacheUse>,
    shape: Option<InventoryShape>,
    facts: InventoryFacts,
}

/// Verifies every table of `ctx`'s region at `now` (read-only).
pub async fn verify_region(
    ctx: &AwsContext,
    policy: &Policy,
    now: Timestamp,
    opts: &VerifyOptions,
) -> RegionReport {
    let started = Instant::now();
    let before = ctx.calls.snapshot();
    let region = ctx.region().unwrap_or("(no region)").to_string();
    let verified = match read_inventory(&capped(ctx, opts), &read_options(policy, now, opts)).await
    {
        Ok(mut inventory) => verify_inventory(ctx, &mut inventory, policy, now, opts).await,
        Err(failure) => failed(failure),
    };
    let (api_calls, retries) = calls_since(ctx, &before);
    let unreachable = unreachable_of(&verified.sources, &region);
    RegionReport {
        account: verified.account,
        report: RunReport::new(
            now,
            policy.clone(),
            verified.tables,
            api_calls.clone(),
            unreachable,
            verified.notes,
        ),
        failure: verified.failure,
        sources: verified.sources,
        described_tables: verified.creation.described,
        unreached_tables: verified.creation.unreached,
        creation_cache: verified.cache,
        minimal_calls: verified.shape.as_ref().map(minimal_calls),
        shape: verified.shape,
        counted_calls: api_calls.values().sum(),
        retries,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        facts: verified.facts,
        region,
    }
}

/// `ctx` with its clients' timeouts capped to the time left before the call deadline (no hung
/// call outlives it), sharing `ctx`'s call counter; `ctx` itself without one. Built per phase,
/// so a phase that starts late gets the time actually left.
fn capped(ctx: &AwsContext, opts: &VerifyOptions) -> AwsContext {
    match opts.call_deadline {
        Some(d) => ctx.with_deadline(d),
        None => ctx.clone(),
    }
}

fn read_options(policy: &Policy, now: Timestamp, opts: &VerifyOptions) -> ReadOptions {
    ReadOptions {
        points_after: now
            .checked_sub(policy.retention())
            .and_then(|t| t.checked_sub(opts.lookback_slack))
            .unwrap_or(Timestamp::MIN),
        jobs_after: now.checked_sub(JOB_LOOKBACK).unwrap_or(Timestamp::MIN),
        deadline: opts.deadline,
        concurrency: opts.concurrency,
        restore_jobs: policy.restore_testing.plan_arn.clone().map(|p| {
            let window =
                SignedDuration::from_hours(24 * i64::from(policy.restore_testing.max_age_days));
            (p, now.checked_sub(window).unwrap_or(Timestamp::MIN))
        }),
    }
}

fn failed(failure: RegionFailure) -> Verified {
    Verified {
        facts: InventoryFacts::unread(&failure.reason),
        account: failure.account,
        tables: Vec::new(),
        sources: vec![SourceRead {
            source: failure.source,
            unread: Some(failure.reason.clone()),
        }],
        notes: Vec::new(),
        failure: Some(failure.reason),
        creation: CreationTimes::default(),
        cache: None,
        shape: None,
    }
}

/// Evaluation → creation times where needed → re-evaluation, over a read inventory.
async fn verify_inventory(
    ctx: &AwsContext,
    inventory: &mut Inventory,
    policy: &Policy,
    now: Timestamp,
    opts: &VerifyOptions,
) -> Verified {
    let tables = table_facts(inventory, opts);
    let mut cache = match &opts.creation_cache {
        Some(source) => Some(load_cache(source, inventory).await),
        None => None,
    };
    let notes = filter_notes(opts, tables.len(), inventory.table_names.len());
    let evaluator = Evaluator::new(&inventory.setup, policy).with_vaults(&inventory.vaults);
    let judge = |t: &TableFacts| {
        evaluator.evaluate_table(
            t,
            &inventory.points.for_table(&t.arn),
            &inventory.jobs_for(&t.arn),
            now,
        )
    };
    let mut evaluations: Vec<TableEvaluation> = tables.iter().map(judge).collect();
    if let Some(cache) = &mut cache {
        apply_cached_times(cache, &mut evaluations, judge);
    }
    let creation = read_creation_times(&capped(ctx, opts), &mut evaluations, opts).await;
    if let Some(cache) = &mut cache {
        keep_new_times(cache, &creation, &evaluations, &inventory.table_names);
    }
    for (i, created) in &creation.results {
        let mut table = evaluations[*i].table.clone();
        evaluations[*i] = match created {
            Ok(c) => {
                table.created = Some(*c);
                judge(&table)
            }
            Err(reason) => evaluator.evaluate_table(
                &table,
                &Fact::unknown(format!(
                    "the creation time of {} {reason}; its missed slots may predate it",
                    table.name
                )),
                &inventory.jobs_for(&table.arn),
                now,
            ),
        };
    }
    if let Some(jobs) = &inventory.restore_jobs {
        let options = policy.restore_testing.readiness();
        evaluations = evaluations
            .into_iter()
            .map(|ev| {
                let points = inventory.points.for_table(&ev.table.arn);
                policy::restore::apply_readiness(ev, jobs, &points, now, options).0
            })
            .collect();
    }
    evaluations.sort_by(|a, b| a.table.name.cmp(&b.table.name));
    let mut sources = inventory.sources.clone();
    sources.extend(creation.sources.iter().cloned());
    let shape = InventoryShape {
        tables: inventory.table_names.len() as u64,
        tagged_tables: inventory.tagged_tables,
        tag_pairs: inventory.tag_pairs,
        points_per_vault: inventory.points_per_vault.clone(),
        vault_keys: inventory.vault_keys,
        selections_per_plan: selections_per_plan(&inventory.setup),
        jobs_fit_one_page: inventory.jobs_fit_one_page,
        failed_jobs_per_state: inventory.failed_jobs_per_state,
        described_tables: creation.described.len() as u64,
        restore_jobs: inventory.restore_jobs_listed,
        cached_creation_times: cache.as_ref().map_or(0, |c| c.hits.len() as u64),
    };
    let facts = InventoryFacts {
        setup: inventory.setup.clone(),
        points: evaluations
            .iter()
            .map(|e| {
                (
                    e.table.arn.clone(),
                    inventory.points.take_for_table(&e.table.arn),
                )
            })
            .collect(),
        failed_jobs: inventory.jobs.clone(),
    };
    Verified {
        facts,
        account: Some(inventory.identity.account.clone()),
        tables: evaluations,
        sources,
        notes,
        failure: None,
        creation,
        cache,
        shape: Some(shape),
    }
}

/// The report's note on the table filter, if there is one.
fn filter_notes(opts: &VerifyOptions, selected: usize, listed: usize) -> Vec<String> {
    if opts.tables.is_empty() {
        return Vec::new();
    }
    vec![format!(
        "table filter {:?}: {selected} of {listed} tables selected",
        opts.tables
    )]
}

/// The facts of every table the options select (tags from the inventory; absent from the
/// tagging result means no tags: such a table is never skipped).
fn table_facts(inventory: &Inventory, opts: &VerifyOptions) -> Vec<TableFacts> {
    let id = &inventory.identity;
    inventory
        .table_names
        .iter()
        .filter(|n| opts.selects(n))
        .map(|name| TableFacts {
            arn: TableArn::new(&id.partition, &inventory.region, &id.account, name).to_string(),
            name: name.clone(),
            account: id.account.clone(),
            region: inventory.region.clone(),
            created: None,
            tags: match &inventory.tags {
                Fact::Known(m) => Fact::Known(m.get(name).cloned().unwrap_or_default()),
                Fact::Unknown { reason } => Fact::unknown(reason.clone()),
            },
        })
        .collect()
}

/// One `DescribeTable` read: evaluation index, table, and the result (`None`: not started
/// before the deadline).
type CreationRead = (
    usize,
    String,
    Option<Result<Option<Timestamp>, awsio::AwsCallError>>,
);

/// The creation times read for the tables that need one.
#[derive(Debug, Default)]
struct CreationTimes {
    /// Per evaluation index: the creation time, or why it is unknown.
    results: Vec<(usize, Result<Timestamp, String>)>,
    /// Tables whose `DescribeTable` was called, sorted.
    described: Vec<String>,
    /// Tables not reached before the deadline, sorted.
    unreached: Vec<String>,
    /// One source per table needing its creation time.
    sources: Vec<SourceRead>,
}

/// `DescribeTable` for the tables whose missed slot may predate their birth
/// ([`needs_creation_time`]), concurrently, none started after the deadline.
async fn read_creation_times(
    ctx: &AwsContext,
    evaluations: &mut [TableEvaluation],
    opts: &VerifyOptions,
) -> CreationTimes {
    let wanted: Vec<(usize, String)> = evaluations
        .iter()
        .enumerate()
        .filter(|(_, e)| needs_creation_time(e))
        .map(|(i, e)| (i, e.table.name.clone()))
        .collect();
    let reads: Vec<CreationRead> = stream::iter(wanted)
        .map(|(i, name)| async move {
            if opts.out_of_time() {
                return (i, name, None);
            }
            let r = awsio::inventory::table_creation_time(ctx.dynamodb(), &name).await;
            (i, name, Some(r))
        })
        .buffer_unordered(opts.concurrency.max(1))
        .collect()
        .await;
    let mut out = CreationTimes::default();
    for (i, name, read) in reads {
        let result = match read {
            None => {
                out.unreached.push(name.clone());
                Err(deadline_reason())
            }
            Some(r) => {
                out.described.push(name.clone());
                match r {
                    Ok(Some(c)) => Ok(c),
                    Ok(None) => Err("is not in the DescribeTable response".to_string()),
                    Err(e) => Err(format!("could not be read ({})", short_reason(&e))),
                }
            }
        };
        out.sources.push(SourceRead {
            source: Source::CreationTime(name),
            unread: result.as_ref().err().cloned(),
        });
        out.results.push((i, result));
    }
    out.described.sort();
    out.unreached.sort();
    out.sources.sort_by(|a, b| a.source.cmp(&b.source));
    out
}

/// Loads the region's creation-time cache within the source's timeout; on failure or timeout
/// an empty cache that is not saved (the run is then the run without a cache).
async fn load_cache(source: &CacheSource, inventory: &Inventory) -> CacheUse {
    let account = &inventory.identity.account;
    let key = creation_cache::head_key(account, &inventory.region);
    let started = Instant::now();
    let deadline = started + source.timeout;
    let home = source.home.with_deadline(deadline);
    let load = creation_cache::load(home.dynamodb(), &source.table, account, &inventory.region);
    let loaded = match tokio::time::timeout_at(deadline.into(), load).await {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(_) => Err(format!(
            "not read within its {} ms share of the run",
            source.timeout.as_millis()
        )),
    };
    let load_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    match loaded {
        Ok(c) => CacheUse {
            load_ms,
            key,
            items_read: c.items_read(),
            loaded: c.times.len() as u64,
            saveable: true,
            times: c.times,
            previous: c.saved,
            ..CacheUse::default()
        },
        Err(e) => {
            tracing::warn!(region = %inventory.region, key = %key, error = %e, "creation-time cache unreadable: DescribeTable as without one");
            CacheUse {
                key,
                load_ms,
                // A corrupt cache is replaced by the next save; an unread one is kept.
                saveable: e.contains("is malformed"),
                items_read: 1,
                error: Some(format!(
                    "creation-time cache unreadable ({e}): DescribeTable for every table that needs its creation time"
                )),
                ..CacheUse::default()
            }
        }
    }
}

/// Gives the evaluations that need a creation time ([`needs_creation_time`]) the cached one,
/// if any, and evaluates them again (a cached time is a fact read by an earlier run).
fn apply_cached_times(
    cache: &mut CacheUse,
    evaluations: &mut [TableEvaluation],
    judge: impl Fn(&TableFacts) -> TableEvaluation,
) {
    for ev in evaluations.iter_mut() {
        if !needs_creation_time(ev) {
            continue;
        }
        if let Some(created) = cache.times.get(&ev.table.name) {
            let mut table = ev.table.clone();
            table.created = Some(*created);
            *ev = judge(&table);
            cache.hits.push(table.name);
        }
    }
    cache.hits.sort();
}

/// Adds this run's `DescribeTable` reads to the cache and drops the tables no longer listed.
fn keep_new_times(
    cache: &mut CacheUse,
    creation: &CreationTimes,
    evaluations: &[TableEvaluation],
    listed: &[String],
) {
    let before = cache.times.len();
    let listed: std::collections::BTreeSet<&str> = listed.iter().map(String::as_str).collect();
    cache.times.retain(|name, _| listed.contains(name.as_str()));
    let mut changed = cache.times.len() != before;
    for (i, read) in &creation.results {
        if let (Ok(created), Some(ev)) = (read, evaluations.get(*i)) {
            let old = cache.times.insert(ev.table.name.clone(), *created);
            changed |= old != Some(*created);
        }
    }
    cache.changed = changed;
}

fn selections_per_plan(setup: &BackupSetup) -> Vec<u64> {
    let (Some(plans), Some(selections)) = (setup.plans.known(), setup.selections.known()) else {
        return Vec::new();
    };
    plans
        .iter()
        .map(|p| selections.iter().filter(|s| s.plan_id == p.plan_id).count() as u64)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use policy::evaluate::Coverage;
    use policy::slots::{Slot, SlotResult, SlotStatus};

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    /// An evaluation with one missed slot (so it needs its creation time unless it has one).
    fn missed(name: &str) -> TableEvaluation {
        TableEvaluation {
            table: TableFacts {
                arn: format!("arn:aws:dynamodb:eu-west-1:123456789012:table/{name}"),
                name: name.into(),
                account: "123456789012".into(),
                region: "eu-west-1".into(),
                created: None,
                tags: Fact::Known(Default::default()),
            },
            verdict: Verdict::NonCompliant,
            coverage: Coverage::Unknown {
                reason: "test".into(),
            },
            slots: vec![SlotResult {
                slot: Slot {
                    at: at("2026-11-01T00:00:00Z"),
                    start_deadline: at("2026-11-01T08:00:00Z"),
                    completion_deadline: at("2026-11-01T12:00:00Z"),
                },
                status: SlotStatus::Missed {
                    near_misses: Vec::new(),
                },
            }],
            findings: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// A stand-in for the evaluator: a table created after its slot is compliant.
    fn judge(t: &TableFacts) -> TableEvaluation {
        let mut ev = missed(&t.name);
        ev.table = t.clone();
        if t.created.is_some_and(|c| c > at("2026-11-01T00:00:00Z")) {
            ev.verdict = Verdict::Compliant;
            ev.slots.clear();
        }
        ev
    }

    #[test]
    fn cached_times_go_to_the_evaluations_that_need_one_and_only_those() {
        let mut cache = CacheUse {
            times: BTreeMap::from([
                ("young".to_string(), at("2026-11-10T00:00:00Z")),
                ("old".to_string(), at("2025-01-01T00:00:00Z")),
                ("fine".to_string(), at("2025-01-01T00:00:00Z")),
            ]),
            ..CacheUse::default()
        };
        let mut fine = missed("fine");
        fine.slots.clear();
        fine.verdict = Verdict::Compliant;
        let mut evs = vec![missed("young"), missed("old"), missed("unseen"), fine];
        apply_cached_times(&mut cache, &mut evs, judge);
        assert_eq!(cache.hits, vec!["old".to_string(), "young".to_string()]);
        assert_eq!(evs[0].table.created, Some(at("2026-11-10T00:00:00Z")));
        assert_eq!(evs[0].verdict, Verdict::Compliant);
        // An older creation time keeps the slot required: still non-compliant.
        assert_eq!(evs[1].verdict, Verdict::NonCompliant);
        assert!(!needs_creation_time(&evs[1]));
        // Not in the cache: still needs DescribeTable.
        assert!(needs_creation_time(&evs[2]));
        // Did not need one: untouched.
        assert_eq!(evs[3].table.created, None);
    }

    #[test]
    fn new_reads_are_kept_deleted_tables_dropped_and_changes_noticed() {
        let mut cache = CacheUse {
            times: BTreeMap::from([
                ("kept".to_string(), at("2025-01-01T00:00:00Z")),
                ("deleted".to_string(), at("2025-01-01T00:00:00Z")),
            ]),
            ..CacheUse::default()
        };
        let evs = vec![missed("kept"), missed("new"), missed("failed")];
        let creation = CreationTimes {
            results: vec![
                (1, Ok(at("2026-11-20T00:00:00Z"))),
                (2, Err("could not be read".into())),
            ],
            ..CreationTimes::default()
        };
        let listed: Vec<String> = ["kept", "new", "failed"].map(String::from).to_vec();
        keep_new_times(&mut cache, &creation, &evs, &listed);
        assert!(cache.changed);
        assert_eq!(
            cache.times.keys().collect::<Vec<_>>(),
            vec!["kept", "new"],
            "a failed read is not cached, a table no longer listed is dropped"
        );
        // Nothing new, nothing deleted: unchanged (no save).
        keep_new_times(&mut cache, &CreationTimes::default(), &evs, &listed[..2]);
        assert!(!cache.changed);
    }
}
