//! Scenario generator: a deterministic (seeded) account of N tables in the same scenario
//! format as `tests/scenarios/*.json`, with a realistic mix of healthy tables and a few per
//! cent of violations, and the findings each violation must produce as `expectations`.
//!
//! The mix (per mille of the tables, drawn per table from a seeded PRNG):
//!
//! | kind | ‰ | what | expected findings |
//! |---|---|---|---|
//! | missed slot | 10 | one required slot has no point | `MISSED_SLOT` (slot) |
//! | short retention | 5 | one recent point kept 35 days | `RETENTION_TOO_SHORT` (point) |
//! | long retention | 5 | one point kept 3650 days | `RETENTION_TOO_LONG` (point) |
//! | partial | 10 | one point (older than the 30-day job history) is `PARTIAL` | `BAD_RECOVERY_POINT` (point) + `MISSED_SLOT` (slot) |
//! | uncovered | 5 | `legacy-*` name (excluded by `NotResources`) without the backup tag | `NOT_COVERED` + `MISSED_SLOT` per required slot |
//! | exempt | 20 | `backup-policy=exempt` with a reason | `EXEMPT` |
//! | missing owner | 5 | healthy backups, no `owner` tag | `MISSING_TAG` (`owner`) |
//! | pending | 5 | created after the last slot | `PENDING_FIRST_BACKUP` |
//! | legacy tagged | 50 | `legacy-*` name covered by the tag-based selection | none |
//! | young | 20 | created inside the retention horizon | none |
//! | healthy | rest | ≈6 good points | none |
//!
//! Two selections of one conforming plan: `all-tables` (ARN wildcard, `NotResources`
//! `table/legacy-*`, `StringNotEquals backup-policy=exempt`) and `tagged` (`ListOfTags
//! backup-policy=twice-monthly-90d`). One in ten tables uses the DynamoDB recovery-point ARN
//! form. Recovery points come from the scenario's `backups` shorthand (one per slot), so a
//! 10,000-table file stays small; [`local_account::Scenario::expand`] makes them explicit.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use local_account::scenario::{
    ArnForm, BackupsShorthand, ConditionsSpec, Expectation, PlanSpec, PointOverride, RuleSpec,
    STATE_TABLE, SelectionSpec, SubjectRef, SubjectSpec, TableSpec, TagMatch, VaultSpec,
};
use local_account::{Scenario, ScenarioError};
use policy::schedule::Schedule;
use serde::Serialize;

/// The vault of the conforming plan.
pub const VAULT: &str = "backup-guard-vault";
/// The conforming plan.
pub const PLAN: &str = "backup-guard-policy";
/// Its rule.
pub const RULE: &str = "twice-monthly-90d";
/// The policy's schedule.
pub const SCHEDULE: &str = "cron(0 0 15,25 * ? *)";
/// The "now" of generated scenarios (same as the shipped scenarios).
pub const DEFAULT_NOW: &str = "2026-11-25T12:00:00Z";
/// The default PRNG seed.
pub const DEFAULT_SEED: u64 = 20_261_125;

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";
const RETENTION_DAYS: i64 = 90;
/// Minutes after the slot a generated point is created (the shorthand's default).
const START_DELAY_MIN: i64 = 5;
/// Start + completion window: a slot is due this long after it fires.
const SLOT_DEADLINE_MIN: i64 = 60 + 180;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenSpec {
    /// Number of tables besides the state table.
    pub tables: usize,
    /// PRNG seed: the same spec always gives the same scenario.
    pub seed: u64,
    /// The scenario's "now".
    pub now: Timestamp,
}

impl GenSpec {
    /// `tables` tables with the default seed and now.
    pub fn new(tables: usize) -> GenSpec {
        GenSpec {
            tables,
            seed: DEFAULT_SEED,
            // A constant that parses (checked by the unit tests).
            now: DEFAULT_NOW.parse().unwrap_or(Timestamp::UNIX_EPOCH),
        }
    }
}

/// The kind of a generated table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// ≈6 good points.
    Healthy,
    /// Created inside the horizon; good points since.
    Young,
    /// `legacy-*`, covered by the tag-based selection.
    LegacyTagged,
    /// One slot has no point.
    MissedSlot,
    /// One point kept 35 days.
    ShortRetention,
    /// One point kept 3650 days.
    LongRetention,
    /// One point is `PARTIAL`.
    Partial,
    /// Not covered by any selection.
    Uncovered,
    /// Exempt with a reason.
    Exempt,
    /// No `owner` tag.
    MissingOwner,
    /// Created after the last slot.
    Pending,
}

impl Kind {
    /// Is the kind a policy violation?
    pub fn is_violation(self) -> bool {
        matches!(
            self,
            Kind::MissedSlot
                | Kind::ShortRetention
                | Kind::LongRetention
                | Kind::Partial
                | Kind::Uncovered
                | Kind::MissingOwner
        )
    }

    /// Draws a kind from a uniform number in `0..1000` (the table in the module docs).
    fn from_per_mille(r: u64) -> Kind {
        match r {
            0..10 => Kind::MissedSlot,
            10..15 => Kind::ShortRetention,
            15..20 => Kind::LongRetention,
            20..30 => Kind::Partial,
            30..35 => Kind::Uncovered,
            35..55 => Kind::Exempt,
            55..60 => Kind::MissingOwner,
            60..65 => Kind::Pending,
            65..115 => Kind::LegacyTagged,
            115..135 => Kind::Young,
            _ => Kind::Healthy,
        }
    }
}

/// SplitMix64: a tiny, well-distributed, seedable PRNG (no dependency needed).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n` ≥ 1; 0 is treated as 1).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// One element of a non-empty slice (`None` if empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() {
            return None;
        }
        items.get(self.below(items.len() as u64) as usize)
    }
}

const TEAMS: &[&str] = &[
    "orders",
    "payments",
    "identity",
    "catalog",
    "search",
    "billing",
    "logistics",
    "crm",
    "analytics",
    "platform",
    "messaging",
    "media",
    "security",
    "checkout",
    "reporting",
];
const ENTITIES: &[&str] = &[
    "events",
    "items",
    "profiles",
    "sessions",
    "ledger",
    "index",
    "state",
    "cache-meta",
    "audit",
    "jobs",
    "config",
    "snapshots",
];

fn ts(s: &str) -> Result<Timestamp, String> {
    s.parse().map_err(|e| format!("{s}: {e}"))
}

/// A generated scenario and the kind of each table.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The scenario (shorthand form, as written to disk).
    pub scenario: Scenario,
    /// Table name → kind (the state table is `Healthy`).
    pub kinds: BTreeMap<String, Kind>,
}

impl Generated {
    /// Tables per kind.
    pub fn kind_counts(&self) -> BTreeMap<Kind, usize> {
        let mut out = BTreeMap::new();
        for k in self.kinds.values() {
            *out.entry(*k).or_insert(0) += 1;
        }
        out
    }

    /// Expected findings per code (from the scenario's expectations).
    pub fn expected_per_code(&self) -> BTreeMap<String, u64> {
        expected_per_code(&self.scenario)
    }
}

/// Expected findings per code of any scenario (its `expectations`).
pub fn expected_per_code(s: &Scenario) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for e in &s.expectations {
        *out.entry(e.code.clone()).or_insert(0) += 1;
    }
    out
}

fn scenario_error(name: &str, what: String) -> ScenarioError {
    ScenarioError::Invalid {
        scenario: name.to_string(),
        what,
    }
}

fn backups(
    overrides: BTreeMap<Timestamp, PointOverride>,
    skip: Vec<Timestamp>,
    form: ArnForm,
) -> BackupsShorthand {
    BackupsShorthand {
        plan: PLAN.into(),
        rule: RULE.into(),
        from: None,
        until: None,
        skip,
        overrides,
        start_delay_minutes: None,
        duration_minutes: None,
        arn_form: form,
    }
}

fn expect(table: &str, code: &str, subject: Option<SubjectSpec>) -> Expectation {
    Expectation {
        table: table.to_string(),
        code: code.to_string(),
        subject,
        note: None,
    }
}

fn point_subject(table: &str, slot: Timestamp) -> Option<SubjectSpec> {
    Some(SubjectSpec::Ref(SubjectRef::Point {
        table: table.to_string(),
        slot: Some(slot),
        created: None,
    }))
}

fn slot_subject(slot: Timestamp) -> Option<SubjectSpec> {
    Some(SubjectSpec::Text(slot.to_string()))
}

/// Generates the scenario for `spec` (deterministic: same spec, same scenario).
pub fn generate(spec: &GenSpec) -> Result<Generated, ScenarioError> {
    let name = format!("generated-{}", spec.tables);
    let err = |what: String| scenario_error(&name, what);
    let now = spec.now;
    let day = |d: i64| SignedDuration::from_hours(24 * d);
    let schedule = Schedule::new(SCHEDULE, "UTC").map_err(|e| err(e.to_string()))?;
    let horizon = now - day(RETENTION_DAYS);
    // Required slots: inside the horizon and past their deadline.
    let required: Vec<Timestamp> = schedule
        .fires_between(horizon, now)
        .into_iter()
        .filter(|s| *s + SignedDuration::from_mins(SLOT_DEADLINE_MIN) <= now)
        .collect();
    if required.len() < 2 {
        return Err(err(format!(
            "now {now}: fewer than 2 required slots in the horizon"
        )));
    }
    let last_slot = *required
        .last()
        .ok_or_else(|| err("no required slot".into()))?;
    let job_cutoff = now - day(local_account::scenario::JOB_HISTORY_DAYS);
    // A 35-day point must still exist at "now"; a PARTIAL point must have no job in the
    // 30-day history (so the only findings are the point's and its slot's).
    let short_ok: Vec<Timestamp> = required
        .iter()
        .copied()
        .filter(|s| *s + SignedDuration::from_mins(START_DELAY_MIN) + day(35) > now)
        .collect();
    let partial_ok: Vec<Timestamp> = required
        .iter()
        .copied()
        .filter(|s| *s < job_cutoff)
        .collect();
    if short_ok.is_empty() || partial_ok.is_empty() {
        return Err(err(format!(
            "now {now}: the slot mix cannot place every violation"
        )));
    }
    let old_created_from = ts("2023-01-01T00:00:00Z").map_err(err)?;
    let young_from = horizon + day(5);
    let young_until = last_slot - day(15);

    let mut rng = Rng::new(spec.seed);
    let mut tables = Vec::with_capacity(spec.tables + 1);
    let mut kinds = BTreeMap::new();
    let mut expectations = Vec::new();

    tables.push(TableSpec {
        name: STATE_TABLE.into(),
        created: ts("2026-04-02T09:12:00Z").map_err(err)?,
        tags: BTreeMap::from([
            ("owner".to_string(), "platform-team".to_string()),
            ("backup-policy".to_string(), "twice-monthly-90d".to_string()),
        ]),
        pitr: false,
        status: None,
        ttl_attribute: Some("expires_at".into()),
        backups: Some(backups(BTreeMap::new(), Vec::new(), ArnForm::Backup)),
        note: Some("backup-guard's own state table".into()),
    });
    kinds.insert(STATE_TABLE.to_string(), Kind::Healthy);

    let span_old = (horizon - day(30)).as_second() - old_created_from.as_second();
    for i in 0..spec.tables {
        let kind = Kind::from_per_mille(rng.below(1000));
        let team = rng.pick(TEAMS).copied().unwrap_or("team");
        let entity = rng.pick(ENTITIES).copied().unwrap_or("data");
        let legacy = matches!(kind, Kind::Uncovered | Kind::LegacyTagged);
        let name = if legacy {
            format!("legacy-{team}-{entity}-{i:05}")
        } else {
            format!("{team}-{entity}-{i:05}")
        };
        let form = if rng.below(10) == 0 {
            ArnForm::Dynamodb
        } else {
            ArnForm::Backup
        };
        let old = Timestamp::from_second(
            old_created_from.as_second() + rng.below(span_old as u64) as i64,
        )
        .map_err(|e| err(e.to_string()))?;
        let mut tags = BTreeMap::from([
            ("owner".to_string(), format!("team-{team}")),
            ("backup-policy".to_string(), "twice-monthly-90d".to_string()),
        ]);
        let mut created = old;
        let mut b = Some(backups(BTreeMap::new(), Vec::new(), form));
        match kind {
            Kind::Healthy | Kind::LegacyTagged => {}
            Kind::Young => {
                let span = (young_until - young_from).as_secs().max(1) as u64;
                created = young_from + SignedDuration::from_secs(rng.below(span) as i64);
            }
            Kind::MissedSlot => {
                let slot = *rng.pick(&required).ok_or_else(|| err("no slot".into()))?;
                b = Some(backups(BTreeMap::new(), vec![slot], form));
                expectations.push(expect(&name, "MISSED_SLOT", slot_subject(slot)));
            }
            Kind::ShortRetention | Kind::LongRetention => {
                let (pool, days, code) = if kind == Kind::ShortRetention {
                    (&short_ok, 35, "RETENTION_TOO_SHORT")
                } else {
                    (&required, 3650, "RETENTION_TOO_LONG")
                };
                let slot = *rng.pick(pool).ok_or_else(|| err("no slot".into()))?;
                let o = PointOverride {
                    delete_after_days: Some(days),
                    ..PointOverride::default()
                };
                b = Some(backups(BTreeMap::from([(slot, o)]), Vec::new(), form));
                expectations.push(expect(&name, code, point_subject(&name, slot)));
            }
            Kind::Partial => {
                let slot = *rng.pick(&partial_ok).ok_or_else(|| err("no slot".into()))?;
                let o = PointOverride {
                    status: Some("PARTIAL".into()),
                    ..PointOverride::default()
                };
                b = Some(backups(BTreeMap::from([(slot, o)]), Vec::new(), form));
                expectations.push(expect(
                    &name,
                    "BAD_RECOVERY_POINT",
                    point_subject(&name, slot),
                ));
                expectations.push(expect(&name, "MISSED_SLOT", slot_subject(slot)));
            }
            Kind::Uncovered => {
                tags.remove("backup-policy");
                b = None;
                expectations.push(expect(&name, "NOT_COVERED", None));
                for s in required.iter().filter(|s| **s >= created) {
                    expectations.push(expect(&name, "MISSED_SLOT", slot_subject(*s)));
                }
            }
            Kind::Exempt => {
                tags.insert("backup-policy".into(), "exempt".into());
                tags.insert(
                    "exempt-reason".into(),
                    "rebuilt from the event stream".into(),
                );
                b = None;
                expectations.push(expect(&name, "EXEMPT", None));
            }
            Kind::MissingOwner => {
                tags.remove("owner");
                expectations.push(expect(
                    &name,
                    "MISSING_TAG",
                    Some(SubjectSpec::Text("owner".into())),
                ));
            }
            Kind::Pending => {
                let span = (now - last_slot).as_secs().max(2) as u64;
                created = last_slot + SignedDuration::from_secs(1 + rng.below(span - 1) as i64);
                b = None;
                expectations.push(expect(&name, "PENDING_FIRST_BACKUP", None));
            }
        }
        kinds.insert(name.clone(), kind);
        tables.push(TableSpec {
            name,
            created,
            tags,
            pitr: false,
            status: None,
            ttl_attribute: None,
            backups: b,
            note: None,
        });
    }

    let arn_prefix = format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/");
    let scenario = Scenario {
        name,
        description: format!(
            "Generated by backup-guard-bench (seed {}): {} tables plus the state table; a few per \
             cent violate the policy, 2% are exempt; expectations list every finding the \
             violations must produce.",
            spec.seed, spec.tables
        ),
        now,
        account: ACCOUNT.into(),
        region: REGION.into(),
        vaults: vec![VaultSpec {
            name: VAULT.into(),
            access_policy: Some(local_account::scenario::DENY_DELETION_POLICY.into()),
            ..VaultSpec::default()
        }],
        plans: vec![PlanSpec {
            name: PLAN.into(),
            rules: vec![RuleSpec {
                name: RULE.into(),
                vault: VAULT.into(),
                schedule: SCHEDULE.into(),
                timezone: Some("UTC".into()),
                start_window_minutes: Some(60),
                completion_window_minutes: Some(180),
                delete_after_days: Some(RETENTION_DAYS),
                move_to_cold_storage_after_days: None,
            }],
        }],
        selections: vec![
            SelectionSpec {
                plan: PLAN.into(),
                name: "all-tables".into(),
                iam_role_arn: None,
                resources: vec![format!("{arn_prefix}*")],
                not_resources: vec![format!("{arn_prefix}legacy-*")],
                list_of_tags: Vec::new(),
                conditions: ConditionsSpec {
                    string_not_equals: vec![TagMatch {
                        key: "aws:ResourceTag/backup-policy".into(),
                        value: "exempt".into(),
                    }],
                    ..ConditionsSpec::default()
                },
            },
            SelectionSpec {
                plan: PLAN.into(),
                name: "tagged".into(),
                iam_role_arn: None,
                resources: Vec::new(),
                not_resources: Vec::new(),
                list_of_tags: vec![TagMatch {
                    key: "backup-policy".into(),
                    value: "twice-monthly-90d".into(),
                }],
                conditions: ConditionsSpec::default(),
            },
        ],
        tables,
        recovery_points: Vec::new(),
        backup_jobs: Vec::new(),
        restore_testing: None,
        expectations,
    };
    scenario.validate()?;
    Ok(Generated { scenario, kinds })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_scenario_other_seed_differs() {
        let a = generate(&GenSpec::new(300)).unwrap();
        let b = generate(&GenSpec::new(300)).unwrap();
        assert_eq!(a.scenario.to_json(), b.scenario.to_json());
        let c = generate(&GenSpec {
            seed: 7,
            ..GenSpec::new(300)
        })
        .unwrap();
        assert_ne!(a.scenario.to_json(), c.scenario.to_json());
    }

    #[test]
    fn counts_mix_and_points_per_table() {
        let g = generate(&GenSpec::new(2000)).unwrap();
        let s = &g.scenario;
        assert_eq!(s.tables.len(), 2001, "N tables plus the state table");
        assert_eq!(s.tables[0].name, STATE_TABLE);
        let counts = g.kind_counts();
        let violating: usize = counts
            .iter()
            .filter(|(k, _)| k.is_violation())
            .map(|(_, n)| n)
            .sum();
        // 4% expected; a seeded draw of 2000 stays well inside 2–7%.
        assert!((40..140).contains(&violating), "{counts:?}");
        assert!(
            counts.get(&Kind::Exempt).copied().unwrap_or(0) > 10,
            "{counts:?}"
        );
        assert!(
            counts.get(&Kind::LegacyTagged).copied().unwrap_or(0) > 40,
            "{counts:?}"
        );
        // Both selection kinds.
        assert!(s.selections.iter().any(|x| !x.resources.is_empty()));
        assert!(s.selections.iter().any(|x| !x.list_of_tags.is_empty()));

        let e = s.expand().unwrap();
        let healthy: Vec<&str> = g
            .kinds
            .iter()
            .filter(|(_, k)| **k == Kind::Healthy)
            .map(|(n, _)| n.as_str())
            .collect();
        // Every old healthy table has exactly one point per required slot (6 at the default now).
        let mut per_table: BTreeMap<&str, usize> = BTreeMap::new();
        for p in &e.recovery_points {
            *per_table.entry(p.table.as_str()).or_insert(0) += 1;
        }
        for t in &healthy {
            if *t != STATE_TABLE {
                assert_eq!(per_table.get(t), Some(&6), "{t}");
            }
        }
        let avg = e.recovery_points.len() as f64 / s.tables.len() as f64;
        assert!((5.0..6.5).contains(&avg), "{avg}");
        // Expectations match the kinds.
        let per_code = g.expected_per_code();
        assert_eq!(
            per_code.get("EXEMPT").copied().unwrap_or(0),
            counts.get(&Kind::Exempt).copied().unwrap_or(0) as u64
        );
        assert_eq!(
            per_code.get("NOT_COVERED").copied().unwrap_or(0),
            counts.get(&Kind::Uncovered).copied().unwrap_or(0) as u64
        );
        let missed = per_code.get("MISSED_SLOT").copied().unwrap_or(0);
        let expected_missed = counts.get(&Kind::MissedSlot).copied().unwrap_or(0)
            + counts.get(&Kind::Partial).copied().unwrap_or(0)
            + 6 * counts.get(&Kind::Uncovered).copied().unwrap_or(0);
        assert_eq!(missed, expected_missed as u64);
        // Point subjects resolve (every overridden slot produced a point).
        e.expected_findings(|_| Some("plan-id".into())).unwrap();
    }

    #[test]
    fn the_file_round_trips() {
        let g = generate(&GenSpec::new(50)).unwrap();
        let back = Scenario::from_json(&g.scenario.to_json(), "generated").unwrap();
        assert_eq!(back, g.scenario);
    }

    #[test]
    fn default_now_parses() {
        assert_eq!(GenSpec::new(1).now.to_string(), DEFAULT_NOW);
    }
}
