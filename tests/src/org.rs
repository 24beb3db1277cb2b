//! The local organization: one moto and one Backup stand-in holding an AWS Organizations
//! organization whose accounts each hold an ordinary [`Scenario`] in each region.
//!
//! An org scenario (`tests/scenarios/org-*.json`, documented in `tests/scenarios/README.md`):
//!
//! ```json
//! {"name": "org-small", "now": "2026-11-25T12:00:00Z", "management_account": "100000000001",
//!  "regions": ["us-east-1", "eu-west-1"], "member_role_name": "backup-guard-member",
//!  "organizational_units": [{"name": "prod", "accounts": ["100000000002"]}],
//!  "accounts": [
//!    {"id": "100000000001", "name": "management", "scenario": {"base": "healthy"}},
//!    {"id": "100000000002", "name": "prod-1", "scenario": {"generate": {"tables": 50, "seed": 2}},
//!     "regions": {"eu-west-1": {"base": "audit-finding"}}},
//!    {"id": "100000000003", "name": "sandbox", "member_role": false,
//!     "scenario": {"base": "healthy", "tables": [...]}}]}
//! ```
//!
//! An account's `scenario` (and a per-region override in `regions`) is one of:
//! - `{"base": "<shipped scenario>", <top-level scenario fields replacing the base's>}`;
//! - `{"generate": {"tables": N, "seed": S}}`: the [`crate::generate`] generator's account;
//! - an ordinary scenario inline (`name`, `now`, `account`, `region` may be left out).
//!
//! Each is moved into the account and region ([`Scenario::rehomed`]: ARNs rewritten) and must
//! have the org's `now`.
//!
//! Seeding ([`OrgAccount::start`], also [`LocalAccount::start_org`]):
//! - Organizations in moto: `CreateOrganization` as the management account, `CreateAccount`
//!   per other account — moto 5.2.5 draws random account ids, so the launcher pins each
//!   account name's id first (`/_local/organizations/account-ids`) and the seeding checks
//!   the id moto gave — then `CreateOrganizationalUnit` under the root and `MoveAccount`.
//! - In each account with `member_role` (default true): the IAM role `member_role_name`
//!   trusting the management account (`arn:aws:iam::<management>:root`). Without it,
//!   `AssumeRole` is `AccessDenied`: moto itself lets any role ARN be assumed, the launcher
//!   (`tests/moto/local_moto.py`) makes it answer as AWS does.
//! - Each account's scenario in each region, as [`LocalAccount`] seeds one (moto and the
//!   stand-in under that account, through that account's [`crate::account::LOCAL_ROLE`]
//!   credentials).
//!
//! The code under test runs as the management account: [`OrgAccount::management`]`(region)`
//! `.env()` (its [`crate::account::LOCAL_ROLE`] credentials, or moto's test key when the
//! management account is moto's default `123456789012`), and reaches a member by assuming
//! [`OrgAccount::member_role_arn`].

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use futures::{StreamExt, TryStreamExt};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::account::{AccountError, LocalAccount, trust_policy};
use crate::fault_proxy::FaultProxy;
use crate::moto::MotoServer;
use crate::scenario::{Scenario, ScenarioError, scenarios_dir};
use crate::standin::{self, StandIn};

/// The member role's default name.
pub const DEFAULT_MEMBER_ROLE: &str = "backup-guard-member";
/// How many accounts are seeded at once.
const ACCOUNT_CONCURRENCY: usize = 3;

fn default_member_role() -> String {
    DEFAULT_MEMBER_ROLE.to_string()
}

fn yes() -> bool {
    true
}

/// An org scenario file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgScenario {
    /// Short name (`org-12x2`).
    pub name: String,
    /// What it is for.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The instant every account's scenario describes.
    pub now: Timestamp,
    /// The management account's id (must be one of `accounts`).
    pub management_account: String,
    /// The regions every account's scenario is seeded in.
    pub regions: Vec<String>,
    /// Organizational units under the root, with their accounts.
    #[serde(default)]
    pub organizational_units: Vec<OuSpec>,
    /// The accounts.
    pub accounts: Vec<OrgAccountSpec>,
    /// The role each member account grants the management account.
    #[serde(default = "default_member_role")]
    pub member_role_name: String,
}

/// An organizational unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OuSpec {
    /// Name.
    pub name: String,
    /// Account ids in it.
    #[serde(default)]
    pub accounts: Vec<String>,
}

/// An account of the organization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgAccountSpec {
    /// 12-digit id.
    pub id: String,
    /// Account name (unique in the org).
    pub name: String,
    /// Email (default `<name>@example.com`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Its scenario in every region (see the module docs).
    pub scenario: Value,
    /// Region → the scenario there instead.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub regions: BTreeMap<String, Value>,
    /// Whether the account has the member role.
    #[serde(default = "yes")]
    pub member_role: bool,
}

impl OrgAccountSpec {
    /// The email given to `CreateAccount`.
    pub fn email(&self) -> String {
        self.email
            .clone()
            .unwrap_or_else(|| format!("{}@example.com", self.name))
    }
}

fn invalid(name: &str, what: impl Into<String>) -> ScenarioError {
    ScenarioError::Invalid {
        scenario: name.to_string(),
        what: what.into(),
    }
}

impl OrgScenario {
    /// Parses and validates an org scenario.
    pub fn from_json(text: &str, origin: &str) -> Result<OrgScenario, ScenarioError> {
        let org: OrgScenario =
            serde_json::from_str(text).map_err(|source| ScenarioError::Parse {
                path: origin.to_string(),
                source,
            })?;
        org.validate()?;
        Ok(org)
    }

    /// Reads and validates an org scenario file.
    pub fn load(path: impl AsRef<Path>) -> Result<OrgScenario, ScenarioError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json(&text, &path.display().to_string())
    }

    /// `tests/scenarios/<name>.json`.
    pub fn shipped(name: &str) -> Result<OrgScenario, ScenarioError> {
        Self::load(scenarios_dir().join(format!("{name}.json")))
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The management account's spec.
    pub fn management(&self) -> Option<&OrgAccountSpec> {
        self.account(&self.management_account)
    }

    /// An account's spec.
    pub fn account(&self, id: &str) -> Option<&OrgAccountSpec> {
        self.accounts.iter().find(|a| a.id == id)
    }

    /// Ids, names, regions, OUs and every account's scenario in every region.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        let bad = |w: String| invalid(&self.name, w);
        if self.regions.is_empty() {
            return Err(bad("no regions".into()));
        }
        let mut ids = BTreeSet::new();
        let mut names = BTreeSet::new();
        for a in &self.accounts {
            if a.id.len() != 12 || !a.id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad(format!("account id {:?} is not 12 digits", a.id)));
            }
            if !ids.insert(a.id.as_str()) {
                return Err(bad(format!("account {} listed twice", a.id)));
            }
            if !names.insert(a.name.as_str()) {
                return Err(bad(format!("account name {:?} used twice", a.name)));
            }
            for r in a.regions.keys() {
                if !self.regions.contains(r) {
                    return Err(bad(format!(
                        "account {} overrides region {r}, not one of the org's",
                        a.id
                    )));
                }
            }
        }
        if !ids.contains(self.management_account.as_str()) {
            return Err(bad(format!(
                "management account {} is not one of the accounts",
                self.management_account
            )));
        }
        let mut placed = BTreeSet::new();
        for ou in &self.organizational_units {
            for id in &ou.accounts {
                if !ids.contains(id.as_str()) {
                    return Err(bad(format!("OU {} lists unknown account {id}", ou.name)));
                }
                if *id == self.management_account {
                    return Err(bad(format!(
                        "OU {} lists the management account (it stays under the root)",
                        ou.name
                    )));
                }
                if !placed.insert(id.as_str()) {
                    return Err(bad(format!("account {id} is in two OUs")));
                }
            }
        }
        for a in &self.accounts {
            for r in &self.regions {
                self.account_scenario(&a.id, r)?;
            }
        }
        Ok(())
    }

    /// The scenario of account `id` in `region` (resolved, moved into the account and
    /// region, not expanded).
    pub fn account_scenario(&self, id: &str, region: &str) -> Result<Scenario, ScenarioError> {
        let a = self
            .account(id)
            .ok_or_else(|| invalid(&self.name, format!("no account {id}")))?;
        let spec = a.regions.get(region).unwrap_or(&a.scenario);
        let origin = format!("{} account {} ({}) in {region}", self.name, a.id, a.name);
        let scenario = self.resolve(spec, &a.name, &origin)?;
        if scenario.now != self.now {
            return Err(invalid(
                &origin,
                format!("its now {} is not the org's {}", scenario.now, self.now),
            ));
        }
        scenario.rehomed(id, region)
    }

    fn resolve(&self, spec: &Value, name: &str, origin: &str) -> Result<Scenario, ScenarioError> {
        let obj = spec
            .as_object()
            .ok_or_else(|| invalid(origin, "the scenario is not a JSON object"))?;
        if let Some(g) = obj.get("generate") {
            let tables = g["tables"]
                .as_u64()
                .ok_or_else(|| invalid(origin, "generate.tables is not a number"))?;
            let seed = g
                .get("seed")
                .and_then(Value::as_u64)
                .unwrap_or(crate::generate::DEFAULT_SEED);
            let generated = crate::generate::generate(&crate::generate::GenSpec {
                tables: tables as usize,
                seed,
                now: self.now,
            })?;
            return Ok(generated.scenario);
        }
        let mut v = match obj.get("base") {
            Some(base) => {
                let base = base
                    .as_str()
                    .ok_or_else(|| invalid(origin, "base is not a scenario name"))?;
                let path = scenarios_dir().join(format!("{base}.json"));
                let text =
                    std::fs::read_to_string(&path).map_err(|source| ScenarioError::Read {
                        path: path.display().to_string(),
                        source,
                    })?;
                let mut v: Value =
                    serde_json::from_str(&text).map_err(|source| ScenarioError::Parse {
                        path: path.display().to_string(),
                        source,
                    })?;
                for (k, val) in obj.iter().filter(|(k, _)| *k != "base") {
                    v[k.as_str()] = val.clone();
                }
                v
            }
            None => {
                let mut v = spec.clone();
                let defaults = [
                    ("name", json!(name)),
                    ("now", json!(self.now)),
                    ("account", json!(crate::account::MOTO_DEFAULT_ACCOUNT)),
                    ("region", json!(self.regions[0])),
                ];
                for (k, d) in defaults {
                    if v.get(k).is_none() {
                        v[k] = d;
                    }
                }
                v
            }
        };
        if let Some(n) = v.get("name").and_then(Value::as_str) {
            v["name"] = json!(format!("{name}/{n}"));
        }
        Scenario::from_json(&v.to_string(), origin)
    }
}

/// A running local organization. Dropping it stops moto and the stand-in.
#[derive(Debug)]
pub struct OrgAccount {
    org: OrgScenario,
    moto: Arc<MotoServer>,
    standin: Arc<StandIn>,
    accounts: BTreeMap<(String, String), LocalAccount>,
    organization_id: String,
    root_id: String,
    ou_ids: BTreeMap<String, String>,
}

fn org_err(what: impl Into<String>, reason: impl Into<String>) -> AccountError {
    AccountError::Aws {
        what: what.into(),
        reason: reason.into(),
    }
}

impl LocalAccount {
    /// Starts a local organization (see [`crate::org`]).
    pub async fn start_org(org: &OrgScenario) -> Result<OrgAccount, AccountError> {
        OrgAccount::start(org).await
    }

    /// [`LocalAccount::start_org`] with a [`FaultProxy`] in front of moto for the management
    /// account (see [`OrgAccount::start_with_proxy`]).
    pub async fn start_org_with_proxy(org: &OrgScenario) -> Result<OrgAccount, AccountError> {
        OrgAccount::start_with_proxy(org).await
    }
}

impl OrgAccount {
    /// Starts moto and the stand-in and seeds the organization and every account's scenario
    /// in every region.
    pub async fn start(org: &OrgScenario) -> Result<OrgAccount, AccountError> {
        Self::start_inner(org, false).await
    }

    /// Like [`OrgAccount::start`], with a [`FaultProxy`] in front of moto for the management
    /// account in each region: its [`LocalAccount::env`] / [`LocalAccount::context`] (what the
    /// code under test uses) go through the proxy, [`LocalAccount::proxy`] is it (so
    /// `matrix::inject` / `injected` / `clear` work with [`OrgAccount::management`]); seeding
    /// and the members' own accounts talk to moto directly. Member clients built from the
    /// management context's endpoints (an assumed role's) go through the proxy too.
    pub async fn start_with_proxy(org: &OrgScenario) -> Result<OrgAccount, AccountError> {
        Self::start_inner(org, true).await
    }

    async fn start_inner(org: &OrgScenario, with_proxy: bool) -> Result<OrgAccount, AccountError> {
        org.validate()?;
        let mgmt = org.management_account.clone();
        let (moto, standin) = tokio::join!(
            MotoServer::start(),
            StandIn::start_with(
                SocketAddr::from(([127, 0, 0, 1], 0)),
                standin::Options {
                    region: org.regions[0].clone(),
                    account_id: mgmt.clone(),
                },
            )
        );
        let moto = Arc::new(moto?);
        let standin = Arc::new(standin.map_err(AccountError::StandInStart)?);
        standin.resolve_accounts_with_moto(&moto.endpoint());

        // The organization, its accounts (ids pinned: moto draws random ones) and OUs.
        let pins: BTreeMap<String, String> = org
            .accounts
            .iter()
            .filter(|a| a.id != mgmt)
            .map(|a| (a.name.clone(), a.id.clone()))
            .collect();
        moto.pin_account_ids(&pins).await?;
        let created = moto
            .organizations(&mgmt, "CreateOrganization", &json!({"FeatureSet": "ALL"}))
            .await?;
        let organization_id = created["Organization"]["Id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let master = created["Organization"]["MasterAccountId"]
            .as_str()
            .unwrap_or_default();
        if master != mgmt {
            return Err(org_err(
                "Organizations.CreateOrganization",
                format!("management account {master}, not {mgmt}"),
            ));
        }
        let roots = moto.organizations(&mgmt, "ListRoots", &json!({})).await?;
        let root_id = roots["Roots"][0]["Id"]
            .as_str()
            .ok_or_else(|| org_err("Organizations.ListRoots", "no root"))?
            .to_string();
        for a in org.accounts.iter().filter(|a| a.id != mgmt) {
            let out = moto
                .organizations(
                    &mgmt,
                    "CreateAccount",
                    &json!({"AccountName": a.name, "Email": a.email()}),
                )
                .await?;
            let got = out["CreateAccountStatus"]["AccountId"]
                .as_str()
                .unwrap_or_default();
            if got != a.id {
                return Err(org_err(
                    format!("Organizations.CreateAccount {}", a.name),
                    format!("moto gave id {got:?}, not the pinned {}", a.id),
                ));
            }
        }
        let mut ou_ids = BTreeMap::new();
        for ou in &org.organizational_units {
            let out = moto
                .organizations(
                    &mgmt,
                    "CreateOrganizationalUnit",
                    &json!({"ParentId": root_id, "Name": ou.name}),
                )
                .await?;
            let id = out["OrganizationalUnit"]["Id"]
                .as_str()
                .ok_or_else(|| {
                    org_err(
                        format!("Organizations.CreateOrganizationalUnit {}", ou.name),
                        "no Id",
                    )
                })?
                .to_string();
            for account in &ou.accounts {
                moto.organizations(
                    &mgmt,
                    "MoveAccount",
                    &json!({"AccountId": account, "SourceParentId": root_id,
                            "DestinationParentId": id}),
                )
                .await?;
            }
            ou_ids.insert(ou.name.clone(), id);
        }
        // The member role, trusting the management account.
        let trust = trust_policy(&[format!("arn:aws:iam::{mgmt}:root")]);
        for a in org.accounts.iter().filter(|a| a.member_role) {
            moto.create_role(&a.id, &org.member_role_name, &trust)
                .await?;
        }

        // Every account's scenario in every region (an account's regions in order: the
        // first creates the evidence bucket, whose name is global).
        let seeded: Vec<Vec<((String, String), LocalAccount)>> =
            futures::stream::iter(org.accounts.iter())
                .map(|a| {
                    let moto = moto.clone();
                    let standin = standin.clone();
                    async move {
                        let mut out = Vec::new();
                        let mut bucket: Option<String> = None;
                        for r in &org.regions {
                            let scenario = org.account_scenario(&a.id, r)?.expand()?;
                            let proxy = if with_proxy && a.id == org.management_account {
                                Some(
                                    FaultProxy::start(SocketAddr::from((
                                        [127, 0, 0, 1],
                                        moto.port(),
                                    )))
                                    .await
                                    .map_err(AccountError::ProxyStart)?,
                                )
                            } else {
                                None
                            };
                            let la = LocalAccount::seeded(
                                scenario,
                                moto.clone(),
                                standin.clone(),
                                proxy,
                                bucket.clone(),
                            )
                            .await?;
                            bucket = Some(la.evidence_bucket().to_string());
                            out.push(((a.id.clone(), r.clone()), la));
                        }
                        Ok::<_, AccountError>(out)
                    }
                })
                .buffer_unordered(ACCOUNT_CONCURRENCY)
                .try_collect()
                .await?;
        standin.reset_calls();
        Ok(OrgAccount {
            org: org.clone(),
            moto,
            standin,
            accounts: seeded.into_iter().flatten().collect(),
            organization_id,
            root_id,
            ou_ids,
        })
    }

    /// The org scenario.
    pub fn org(&self) -> &OrgScenario {
        &self.org
    }

    /// Account `id` in `region`: its seeded scenario, and [`LocalAccount::env`] /
    /// [`LocalAccount::context`] acting as that account.
    pub fn account(&self, id: &str, region: &str) -> Option<&LocalAccount> {
        self.accounts.get(&(id.to_string(), region.to_string()))
    }

    /// The management account in `region`: the code under test runs with its `env()`.
    pub fn management(&self, region: &str) -> Option<&LocalAccount> {
        self.account(&self.org.management_account, region)
    }

    /// Every (account, region) seeded.
    pub fn accounts(&self) -> impl Iterator<Item = (&(String, String), &LocalAccount)> {
        self.accounts.iter()
    }

    /// `arn:aws:iam::<id>:role/<member_role_name>`.
    pub fn member_role_arn(&self, id: &str) -> String {
        format!("arn:aws:iam::{id}:role/{}", self.org.member_role_name)
    }

    /// The organization's id (`o-...`).
    pub fn organization_id(&self) -> &str {
        &self.organization_id
    }

    /// The root's id (`r-...`).
    pub fn root_id(&self) -> &str {
        &self.root_id
    }

    /// An OU's id by name.
    pub fn ou_id(&self, name: &str) -> Option<&str> {
        self.ou_ids.get(name).map(String::as_str)
    }

    /// The moto server.
    pub fn moto(&self) -> &MotoServer {
        &self.moto
    }

    /// The Backup stand-in.
    pub fn standin(&self) -> &StandIn {
        &self.standin
    }
}

/// What [`generate_org`] makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgGenSpec {
    /// Accounts (the first is the management account).
    pub accounts: usize,
    /// Regions.
    pub regions: Vec<String>,
    /// Tables per account and region (besides the state table).
    pub tables: usize,
    /// Seed of the first account-region (each next one adds 1).
    pub seed: u64,
    /// The org's "now".
    pub now: Timestamp,
}

/// A generated org: `accounts` accounts `100000000001…` (the first manages), each region of
/// each account the [`crate::generate`] generator's `tables`-table account with its own seed
/// (so violations are spread differently across accounts and regions), half the members in
/// OU `prod`, the rest in `dev`, and the last account without the member role.
pub fn generate_org(spec: &OrgGenSpec) -> Result<OrgScenario, ScenarioError> {
    let name = format!("org-{}x{}", spec.accounts, spec.regions.len());
    if spec.accounts == 0 || spec.regions.is_empty() {
        return Err(invalid(&name, "needs at least one account and one region"));
    }
    let mut seed = spec.seed;
    let mut next_seed = || {
        let s = seed;
        seed += 1;
        s
    };
    let accounts: Vec<OrgAccountSpec> = (0..spec.accounts)
        .map(|i| {
            let id = format!("{:012}", 100_000_000_001u64 + i as u64);
            let name = if i == 0 {
                "management".to_string()
            } else {
                format!("member-{i:02}")
            };
            let scenario = json!({"generate": {"tables": spec.tables, "seed": next_seed()}});
            let regions = spec.regions[1..]
                .iter()
                .map(|r| {
                    (
                        r.clone(),
                        json!({"generate": {"tables": spec.tables, "seed": next_seed()}}),
                    )
                })
                .collect();
            OrgAccountSpec {
                id,
                name,
                email: None,
                scenario,
                regions,
                member_role: i + 1 != spec.accounts || spec.accounts == 1,
            }
        })
        .collect();
    let members: Vec<String> = accounts.iter().skip(1).map(|a| a.id.clone()).collect();
    let half = members.len().div_ceil(2);
    let organizational_units = [("prod", &members[..half]), ("dev", &members[half..])]
        .into_iter()
        .filter(|(_, ids)| !ids.is_empty())
        .map(|(n, ids)| OuSpec {
            name: n.to_string(),
            accounts: ids.to_vec(),
        })
        .collect();
    let org = OrgScenario {
        name,
        description: format!(
            "Generated by `cargo run -p local-account --bin local-account -- generate-org \
             --accounts {} --regions {} --tables {} --seed {}`: {} accounts x {} regions of {} \
             tables each (the bench generator's mix, one seed per account-region); the last \
             account has no member role, so assuming it is AccessDenied.",
            spec.accounts,
            spec.regions.join(","),
            spec.tables,
            spec.seed,
            spec.accounts,
            spec.regions.len(),
            spec.tables
        ),
        now: spec.now,
        management_account: accounts[0].id.clone(),
        regions: spec.regions.clone(),
        organizational_units,
        accounts,
        member_role_name: DEFAULT_MEMBER_ROLE.to_string(),
    };
    org.validate()?;
    Ok(org)
}
