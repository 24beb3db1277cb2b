//! AWS Organizations backup policies (policy type `BACKUP_POLICY`): parsed into the same
//! plan facts as an AWS Backup plan and judged by the same conformance code
//! ([`crate::conformance::check_plan`]).
//!
//! Where an organization manages backups by policy, AWS Backup creates each member account's
//! plans from the account's *effective* policy (`organizations:DescribeEffectivePolicy` with
//! `PolicyType=BACKUP_POLICY`; its `EffectivePolicy.PolicyContent` is the JSON text this module
//! reads). The grammar is AWS's "Backup policy syntax and examples"
//! (<https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_backup_syntax.html>):
//!
//! ```text
//! { "plans": { "<plan>": {
//!     "regions": ["us-east-1", ...],                                   required
//!     "rules": { "<rule>": {                                           required
//!         "schedule_expression": "cron(...)",
//!         "schedule_expression_timezone": "Europe/Berlin",
//!         "start_backup_window_minutes": "60",
//!         "complete_backup_window_minutes": "180",
//!         "target_backup_vault_name": "Default",                       required
//!         "lifecycle": { "delete_after_days": "90", "move_to_cold_storage_after_days": "30" },
//!         "enable_continuous_backup": "false",
//!         "copy_actions": { "<arn>": { "target_backup_vault_arn": "arn:...", "lifecycle": {...} } },
//!         "recovery_point_tags": { "<name>": { "tag_key": "k", "tag_value": "v" } } } },
//!     "selections": {
//!         "tags": { "<name>": { "iam_role_arn": "arn:aws:iam::$account:role/R",
//!                               "tag_key": "backup", "tag_value": ["daily"],
//!                               "conditions": {...} } },
//!         "resources": { "<name>": { "iam_role_arn": "...",
//!                                    "resource_types": ["arn:aws:dynamodb:*:*:table/*"],
//!                                    "not_resource_types": [...],
//!                                    "conditions": { "string_equals": { "<name>": {
//!                                        "condition_key": "aws:ResourceTag/k",
//!                                        "condition_value": "v" } }, ... } } } },
//!     "advanced_backup_settings": { "ec2": { "windows_vss": "enabled" } },
//!     "backup_plan_tags": { "<name>": { "tag_key": "k", "tag_value": "v" } } } } }
//! ```
//!
//! **Both forms are read.** A policy *as written* wraps each value in an inheritance
//! operator (`{"@@assign": "60"}`, `{"@@append": [...]}`); the effective policy has them
//! resolved (`"60"`), although AWS's own examples still show `@@assign` inside some blocks
//! (`copy_actions`). Every value may be either: `@@assign` (or, failing that, `@@append`) is
//! the value; `@@remove` and the child-control operator `@@operators_allowed_for_child_policies`
//! are ignored, wherever they appear (a value with only those has no value of its own). A
//! policy as written is judged as if it were the account's effective policy: it is *not*
//! merged with the policies it inherits from (use the effective policy for that).
//!
//! Numbers are strings in policies (`"60"`); JSON integers are accepted too. Booleans are
//! `"true"`/`"false"` or JSON booleans. Keys AWS documents that do not bear on conformance
//! (`index_actions`, `scan_actions`, `target_logically_air_gapped_backup_vault_arn`,
//! `scan_settings`, …) are ignored, like unknown keys.
//!
//! **Placeholders.** `$account` (and `$region`) in the string values read are replaced by
//! the member account's id (and the region) the caller passes; a placeholder without a value
//! to replace it is an error naming its path ([`OrgPolicyError::PlaceholderWithoutValue`]).
//!
//! **Mapping.** Each plan becomes a [`PlanFacts`] (id and name = the plan's key; ARN and
//! version empty), each rule a [`RuleFacts`] (name = the rule's key); a tag selection
//! becomes a [`SelectionFacts`] with one `ListOfTags` entry (`tag_key` = each `tag_value`), a
//! resource selection one with `Resources` = `resource_types` and `NotResources` =
//! `not_resource_types`; `conditions` become [`Conditions`] in both.
//!
//! Every error names the JSON path of the field (`plans.P.rules.R.lifecycle.delete_after_days`,
//! with `.@@assign` when the operator's value is at fault; keys that are not plain words are
//! written `["key"]`), as [`crate::conformance::PlanDocumentError`] does. Values AWS Backup
//! rejects are errors too, with the plan document's bounds: windows of 60 minutes to 100
//! years, `delete_after_days` of 1 to 36,500 days, no negative cold-storage transition.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::config::{IntBounds, Policy, RETENTION_DAYS, WINDOW_MINUTES};
use crate::conformance::{PlanConformance, check_plan};
use crate::facts::{Conditions, PlanFacts, RuleFacts, SelectionFacts, TagCondition};
use crate::json_path;
use crate::names;

/// The placeholder AWS replaces with the member account's id.
pub const ACCOUNT_PLACEHOLDER: &str = "$account";
/// The placeholder AWS replaces with the region the plan is created in.
pub const REGION_PLACEHOLDER: &str = "$region";

/// The value-setting operator whose value is the field's value.
const ASSIGN: &str = "@@assign";
/// The value-setting operator adding to an inherited list (its value is used).
const APPEND: &str = "@@append";
/// Every key beginning with this is an inheritance or child-control operator.
const OPERATOR_PREFIX: &str = "@@";

/// A backup policy that cannot be judged: not a policy AWS Organizations would accept, or one
/// that needs a placeholder value the caller did not give. Every variant names the JSON path
/// (`$` = the document as a whole).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrgPolicyError {
    /// The field at `path` is missing, of the wrong type or out of bounds.
    #[error("backup policy is invalid: {path}: {problem}")]
    Invalid {
        /// JSON path, e.g. `plans.P.rules.R.lifecycle.delete_after_days`.
        path: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The value at `path` contains `placeholder` (`$account` / `$region`) and the caller gave
    /// no value to replace it with.
    #[error(
        "backup policy uses {placeholder} at {path}, but no {what} was given to replace it",
        what = if *placeholder == ACCOUNT_PLACEHOLDER { "account id" } else { "region" }
    )]
    PlaceholderWithoutValue {
        /// JSON path of the first value using it.
        path: String,
        /// [`ACCOUNT_PLACEHOLDER`] or [`REGION_PLACEHOLDER`].
        placeholder: &'static str,
    },
    /// The account id or region passed by the caller is malformed.
    #[error("{what} {value:?} is invalid: {problem}")]
    BadArgument {
        /// `account id` or `region`.
        what: &'static str,
        /// The value given (cut to 64 characters).
        value: String,
        /// What is accepted.
        problem: &'static str,
    },
}

impl OrgPolicyError {
    fn invalid(path: impl Into<String>, problem: impl Into<String>) -> Self {
        OrgPolicyError::Invalid {
            path: path.into(),
            problem: problem.into(),
        }
    }

    /// The JSON path the error names (`$` for a bad argument).
    pub fn path(&self) -> &str {
        match self {
            OrgPolicyError::Invalid { path, .. }
            | OrgPolicyError::PlaceholderWithoutValue { path, .. } => path,
            OrgPolicyError::BadArgument { .. } => json_path::ROOT,
        }
    }
}

/// A selection of a policy's plan: the facts the coverage code reads plus the IAM role AWS
/// Backup assumes (which must exist in every member account).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgSelection {
    /// The selection as [`crate::selection`] judges it (id and name = the selection's key).
    pub selection: SelectionFacts,
    /// `iam_role_arn`, placeholders replaced.
    pub iam_role_arn: String,
    /// `tags` (a `ListOfTags` selection) or `resources`.
    pub kind: SelectionKind,
}

/// Which block of `selections` a selection comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SelectionKind {
    /// `selections.tags.<name>`.
    Tags,
    /// `selections.resources.<name>`.
    Resources,
}

/// One plan of a backup policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgPlan {
    /// The plan as [`check_plan`] judges it (id and name = the plan's key).
    pub plan: PlanFacts,
    /// `regions`: where AWS Backup creates the plan.
    pub regions: Vec<String>,
    /// `selections.tags` then `selections.resources`, each in key order.
    pub selections: Vec<OrgSelection>,
}

impl OrgPlan {
    /// True if the plan is created in `region` (`None`: every plan applies).
    pub fn applies_to(&self, region: Option<&str>) -> bool {
        region.is_none_or(|r| self.regions.iter().any(|p| p == r))
    }
}

/// One plan of a policy and its conformance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgPlanConformance {
    /// The plan as parsed.
    pub plan: OrgPlan,
    /// [`check_plan`]'s verdict on it.
    pub conformance: PlanConformance,
}

/// True if `value` looks like a backup policy: a JSON object with a top-level `plans` key
/// (lowercase, as AWS spells it; a plan document's keys are PascalCase).
pub fn is_org_policy(value: &Value) -> bool {
    value.get("plans").is_some()
}

/// True if the JSON text `json` uses `$account` anywhere (a caller may ask for an account id
/// only then).
pub fn uses_account_placeholder(json: &str) -> bool {
    json.contains(ACCOUNT_PLACEHOLDER)
}

/// Parses a backup policy (as written or effective) into its plans, in key order,
/// replacing `$account` with `account` and `$region` with `region` (see the module
/// documentation for the grammar and the errors).
pub fn parse_org_policy(
    json: &str,
    account: Option<&str>,
    region: Option<&str>,
) -> Result<Vec<OrgPlan>, OrgPolicyError> {
    if let Some(a) = account
        && !names::is_account_id(a)
    {
        return Err(OrgPolicyError::BadArgument {
            what: "account id",
            value: json_path::cut(a, 64),
            problem: "expected exactly 12 digits",
        });
    }
    if let Some(r) = region
        && !names::is_region_name(r)
    {
        return Err(OrgPolicyError::BadArgument {
            what: "region",
            value: json_path::cut(r, 64),
            problem: "expected a region name such as eu-west-1",
        });
    }
    let value: Value = serde_json::from_str(json).map_err(|e| {
        OrgPolicyError::invalid(json_path::ROOT, format!("not a valid JSON document: {e}"))
    })?;
    let p = Parser { account, region };
    let Value::Object(top) = &value else {
        return Err(OrgPolicyError::invalid(
            json_path::ROOT,
            "expected a JSON object with a \"plans\" key",
        ));
    };
    let plans_value = top
        .get("plans")
        .ok_or_else(|| OrgPolicyError::invalid("plans", "missing"))?;
    let plans = p.map(plans_value, "plans")?;
    let mut out = Vec::with_capacity(plans.len());
    for (name, v, at) in plans {
        out.push(p.plan(name, v, &at)?);
    }
    Ok(out)
}

/// Parses a backup policy ([`parse_org_policy`]) and judges each plan created in `region`
/// (every plan when `None`) with [`check_plan`], the plan-document check of
/// `backup-guard check-plan`. A policy with no plan for `region` gives an empty list.
pub fn check_org_policy(
    json: &str,
    account: Option<&str>,
    region: Option<&str>,
    policy: &Policy,
) -> Result<Vec<OrgPlanConformance>, OrgPolicyError> {
    Ok(parse_org_policy(json, account, region)?
        .into_iter()
        .filter(|p| p.applies_to(region))
        .map(|plan| OrgPlanConformance {
            conformance: check_plan(&plan.plan, policy),
            plan,
        })
        .collect())
}

/// `key` under `parent` as a path segment: `.key` for plain words, `["key"]` otherwise.
fn child(parent: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '@');
    if plain {
        json_path::join(parent, key)
    } else {
        let quoted = serde_json::to_string(key).unwrap_or_else(|_| format!("{key:?}"));
        format!("{parent}[{quoted}]")
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn is_operator(key: &str) -> bool {
    key.starts_with(OPERATOR_PREFIX)
}

struct Parser<'a> {
    account: Option<&'a str>,
    region: Option<&'a str>,
}

impl Parser<'_> {
    /// The value of a leaf field: its `@@assign` (or `@@append`) when written with operators,
    /// itself otherwise; `None` when it has only ignored operators. The path returned is the
    /// value's own (with `.@@assign`).
    fn leaf<'v>(
        &self,
        v: &'v Value,
        at: &str,
    ) -> Result<Option<(&'v Value, String)>, OrgPolicyError> {
        let Value::Object(obj) = v else {
            return Ok(Some((v, at.to_string())));
        };
        for op in [ASSIGN, APPEND] {
            if let Some(inner) = obj.get(op) {
                return Ok(Some((inner, child(at, op))));
            }
        }
        if let Some(k) = obj.keys().find(|k| !is_operator(k)) {
            return Err(OrgPolicyError::invalid(
                child(at, k),
                "unexpected key: expected a value, or an object of inheritance operators (@@assign, @@append, @@remove)",
            ));
        }
        Ok(None)
    }

    /// A map of named entries (`plans`, `rules`, `tags`, ...): each non-operator key with its
    /// value and path, in key order.
    fn map<'v>(
        &self,
        v: &'v Value,
        at: &str,
    ) -> Result<Vec<(&'v str, &'v Value, String)>, OrgPolicyError> {
        let obj = object(v, at)?;
        Ok(obj
            .iter()
            .filter(|(k, _)| !is_operator(k))
            .map(|(k, v)| (k.as_str(), v, child(at, k)))
            .collect())
    }

    fn replace(&self, s: &str, at: &str) -> Result<String, OrgPolicyError> {
        let mut out = s.to_string();
        for (placeholder, value) in [
            (ACCOUNT_PLACEHOLDER, self.account),
            (REGION_PLACEHOLDER, self.region),
        ] {
            if out.contains(placeholder) {
                let Some(value) = value else {
                    return Err(OrgPolicyError::PlaceholderWithoutValue {
                        path: at.to_string(),
                        placeholder,
                    });
                };
                out = out.replace(placeholder, value);
            }
        }
        Ok(out)
    }

    fn string(
        &self,
        obj: &Map<String, Value>,
        key: &str,
        at: &str,
    ) -> Result<Option<String>, OrgPolicyError> {
        let at = child(at, key);
        let Some(v) = obj.get(key) else {
            return Ok(None);
        };
        match self.leaf(v, &at)? {
            None => Ok(None),
            Some((Value::String(s), at)) => self.replace(s, &at).map(Some),
            Some((other, at)) => Err(OrgPolicyError::invalid(
                at,
                format!("expected a string, got {}", type_name(other)),
            )),
        }
    }

    fn required_string(
        &self,
        obj: &Map<String, Value>,
        key: &str,
        at: &str,
    ) -> Result<String, OrgPolicyError> {
        match self.string(obj, key, at)? {
            None => Err(OrgPolicyError::invalid(child(at, key), "missing")),
            Some(s) if s.trim().is_empty() => Err(OrgPolicyError::invalid(child(at, key), "empty")),
            Some(s) => Ok(s),
        }
    }

    /// A list of strings; a single string is a list of one (AWS's examples write both).
    fn strings(
        &self,
        obj: &Map<String, Value>,
        key: &str,
        at: &str,
    ) -> Result<Option<Vec<String>>, OrgPolicyError> {
        let at = child(at, key);
        let Some(v) = obj.get(key) else {
            return Ok(None);
        };
        match self.leaf(v, &at)? {
            None => Ok(None),
            Some((Value::String(s), at)) => Ok(Some(vec![self.replace(s, &at)?])),
            Some((Value::Array(items), at)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let item_at = format!("{at}[{i}]");
                    match item {
                        Value::String(s) => self.replace(s, &item_at),
                        other => Err(OrgPolicyError::invalid(
                            item_at,
                            format!("expected a string, got {}", type_name(other)),
                        )),
                    }
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some((other, at)) => Err(OrgPolicyError::invalid(
                at,
                format!("expected a list of strings, got {}", type_name(other)),
            )),
        }
    }

    /// A whole number, written `"60"` (AWS's form) or `60`.
    fn integer(
        &self,
        obj: &Map<String, Value>,
        key: &str,
        at: &str,
    ) -> Result<Option<i64>, OrgPolicyError> {
        let at = child(at, key);
        let Some(v) = obj.get(key) else {
            return Ok(None);
        };
        let bad = |at: String, got: String| {
            OrgPolicyError::invalid(
                at,
                format!(
                    "expected a whole number (a string such as \"60\", or a JSON integer), got {got}"
                ),
            )
        };
        match self.leaf(v, &at)? {
            None => Ok(None),
            Some((Value::String(s), at)) => s
                .parse::<i64>()
                .map(Some)
                .map_err(|_| bad(at, names::shown(s, 40))),
            Some((Value::Number(n), at)) => {
                n.as_i64().map(Some).ok_or_else(|| bad(at, n.to_string()))
            }
            Some((other, at)) => Err(bad(at, type_name(other).to_string())),
        }
    }

    fn bounded(
        &self,
        obj: &Map<String, Value>,
        key: &str,
        at: &str,
        bounds: IntBounds,
    ) -> Result<Option<i64>, OrgPolicyError> {
        let n = self.integer(obj, key, at)?;
        if let Some(n) = n
            && let Err(e) = bounds.check(n)
        {
            return Err(OrgPolicyError::invalid(
                child(at, key),
                format!("{n} is {e} (AWS Backup rejects the rule otherwise)"),
            ));
        }
        Ok(n)
    }

    fn boolean(
        &self,
        obj: &Map<String, Value>,
        key: &str,
        at: &str,
    ) -> Result<Option<bool>, OrgPolicyError> {
        let at = child(at, key);
        let Some(v) = obj.get(key) else {
            return Ok(None);
        };
        match self.leaf(v, &at)? {
            None => Ok(None),
            Some((Value::Bool(b), _)) => Ok(Some(*b)),
            Some((Value::String(s), at)) => match s.to_ascii_lowercase().as_str() {
                "true" => Ok(Some(true)),
                "false" => Ok(Some(false)),
                _ => Err(OrgPolicyError::invalid(
                    at,
                    format!(
                        "expected \"true\" or \"false\", got {}",
                        names::shown(s, 40)
                    ),
                )),
            },
            Some((other, at)) => Err(OrgPolicyError::invalid(
                at,
                format!("expected a boolean, got {}", type_name(other)),
            )),
        }
    }

    fn plan(&self, name: &str, v: &Value, at: &str) -> Result<OrgPlan, OrgPolicyError> {
        let obj = object(v, at)?;
        let regions_at = child(at, "regions");
        let regions = self
            .strings(obj, "regions", at)?
            .ok_or_else(|| OrgPolicyError::invalid(&regions_at, "missing"))?;
        let regions_value_at = obj
            .get("regions")
            .and_then(|r| self.leaf(r, &regions_at).ok().flatten())
            .map(|(_, p)| p)
            .unwrap_or_else(|| regions_at.clone());
        for (i, r) in regions.iter().enumerate() {
            if !names::is_region_name(r) {
                return Err(OrgPolicyError::invalid(
                    format!("{regions_value_at}[{i}]"),
                    format!(
                        "{} is not a region name such as eu-west-1",
                        names::shown(r, 40)
                    ),
                ));
            }
        }
        let rules_at = child(at, "rules");
        let rules_value = obj
            .get("rules")
            .ok_or_else(|| OrgPolicyError::invalid(&rules_at, "missing"))?;
        let mut rules = Vec::new();
        for (rule_name, rv, rule_at) in self.map(rules_value, &rules_at)? {
            rules.push(self.rule(rule_name, rv, &rule_at)?);
        }
        let mut selections = Vec::new();
        if let Some(sv) = obj.get("selections") {
            let sel_at = child(at, "selections");
            let sel = object(sv, &sel_at)?;
            for (kind, key) in [
                (SelectionKind::Tags, "tags"),
                (SelectionKind::Resources, "resources"),
            ] {
                if let Some(block) = sel.get(key) {
                    for (sel_name, v, s_at) in self.map(block, &child(&sel_at, key))? {
                        selections.push(self.selection(name, sel_name, kind, v, &s_at)?);
                    }
                }
            }
        }
        if let Some(v) = obj.get("backup_plan_tags") {
            self.tags(v, &child(at, "backup_plan_tags"))?;
        }
        if let Some(v) = obj.get("advanced_backup_settings") {
            object(v, &child(at, "advanced_backup_settings"))?;
        }
        Ok(OrgPlan {
            plan: PlanFacts {
                plan_id: name.to_string(),
                plan_arn: String::new(),
                name: name.to_string(),
                version_id: String::new(),
                rules,
            },
            regions,
            selections,
        })
    }

    fn rule(&self, name: &str, v: &Value, at: &str) -> Result<RuleFacts, OrgPolicyError> {
        let obj = object(v, at)?;
        let target_vault = self.required_string(obj, "target_backup_vault_name", at)?;
        let schedule_expression = self
            .string(obj, "schedule_expression", at)?
            .unwrap_or_default();
        let schedule_timezone = self.string(obj, "schedule_expression_timezone", at)?;
        let start = self.bounded(obj, "start_backup_window_minutes", at, WINDOW_MINUTES)?;
        let completion = self.bounded(obj, "complete_backup_window_minutes", at, WINDOW_MINUTES)?;
        let (delete_after_days, cold) = match obj.get("lifecycle") {
            Some(lv) => self.lifecycle(lv, &child(at, "lifecycle"), true)?,
            None => (None, None),
        };
        self.boolean(obj, "enable_continuous_backup", at)?;
        if let Some(cv) = obj.get("copy_actions") {
            let copy_at = child(at, "copy_actions");
            for (_, v, c_at) in self.map(cv, &copy_at)? {
                let c = object(v, &c_at)?;
                self.required_string(c, "target_backup_vault_arn", &c_at)?;
                if let Some(lv) = c.get("lifecycle") {
                    self.lifecycle(lv, &child(&c_at, "lifecycle"), false)?;
                }
            }
        }
        if let Some(tv) = obj.get("recovery_point_tags") {
            self.tags(tv, &child(at, "recovery_point_tags"))?;
        }
        Ok(RuleFacts {
            rule_id: None,
            name: name.to_string(),
            target_vault,
            schedule_expression,
            schedule_timezone,
            start_window_minutes: start,
            completion_window_minutes: completion,
            delete_after_days,
            move_to_cold_storage_after_days: cold,
        })
    }

    /// `(delete_after_days, move_to_cold_storage_after_days)`. A rule's lifecycle has the
    /// plan document's bounds; a copy's is only checked to be numbers (AWS accepts `-1` there
    /// to keep copies forever).
    fn lifecycle(
        &self,
        v: &Value,
        at: &str,
        rule: bool,
    ) -> Result<(Option<i64>, Option<i64>), OrgPolicyError> {
        let obj = object(v, at)?;
        self.boolean(obj, "opt_in_to_archive_for_supported_resources", at)?;
        if !rule {
            self.integer(obj, "delete_after_days", at)?;
            self.integer(obj, "move_to_cold_storage_after_days", at)?;
            return Ok((None, None));
        }
        let delete = self.bounded(obj, "delete_after_days", at, RETENTION_DAYS)?;
        let cold = self.integer(obj, "move_to_cold_storage_after_days", at)?;
        if let Some(n) = cold
            && n < 0
        {
            return Err(OrgPolicyError::invalid(
                child(at, "move_to_cold_storage_after_days"),
                format!("{n} is negative; accepted: a number of days, 0 or more"),
            ));
        }
        Ok((delete, cold))
    }

    /// `recovery_point_tags` / `backup_plan_tags`: named `{tag_key, tag_value}` entries.
    fn tags(&self, v: &Value, at: &str) -> Result<(), OrgPolicyError> {
        for (_, tv, t_at) in self.map(v, at)? {
            let t = object(tv, &t_at)?;
            self.required_string(t, "tag_key", &t_at)?;
            self.string(t, "tag_value", &t_at)?;
        }
        Ok(())
    }

    fn selection(
        &self,
        plan: &str,
        name: &str,
        kind: SelectionKind,
        v: &Value,
        at: &str,
    ) -> Result<OrgSelection, OrgPolicyError> {
        let obj = object(v, at)?;
        let iam_role_arn = self.required_string(obj, "iam_role_arn", at)?;
        let mut selection = SelectionFacts {
            selection_id: name.to_string(),
            name: name.to_string(),
            plan_id: plan.to_string(),
            resources: Vec::new(),
            not_resources: Vec::new(),
            list_of_tags: Vec::new(),
            conditions: Conditions::default(),
        };
        match kind {
            SelectionKind::Tags => {
                let key = self.required_string(obj, "tag_key", at)?;
                let values = self
                    .strings(obj, "tag_value", at)?
                    .ok_or_else(|| OrgPolicyError::invalid(child(at, "tag_value"), "missing"))?;
                if values.is_empty() {
                    // No value would make an empty ListOfTags: a selection of every resource.
                    return Err(OrgPolicyError::invalid(
                        child(at, "tag_value"),
                        "empty: a tag selection needs at least one value",
                    ));
                }
                selection.list_of_tags = values
                    .into_iter()
                    .map(|v| TagCondition::new(key.clone(), v))
                    .collect();
            }
            SelectionKind::Resources => {
                selection.resources =
                    self.strings(obj, "resource_types", at)?.ok_or_else(|| {
                        OrgPolicyError::invalid(child(at, "resource_types"), "missing")
                    })?;
                selection.not_resources = self
                    .strings(obj, "not_resource_types", at)?
                    .unwrap_or_default();
            }
        }
        if let Some(cv) = obj.get("conditions") {
            selection.conditions = self.conditions(cv, &child(at, "conditions"))?;
        }
        Ok(OrgSelection {
            selection,
            iam_role_arn,
            kind,
        })
    }

    fn conditions(&self, v: &Value, at: &str) -> Result<Conditions, OrgPolicyError> {
        let obj = object(v, at)?;
        let mut out = Conditions::default();
        for (key, cv) in obj.iter().filter(|(k, _)| !is_operator(k)) {
            let op_at = child(at, key);
            let list = match key.as_str() {
                "string_equals" => &mut out.string_equals,
                "string_not_equals" => &mut out.string_not_equals,
                "string_like" => &mut out.string_like,
                "string_not_like" => &mut out.string_not_like,
                _ => {
                    return Err(OrgPolicyError::invalid(
                        op_at,
                        "unknown condition; expected string_equals, string_not_equals, string_like or string_not_like",
                    ));
                }
            };
            for (_, c, c_at) in self.map(cv, &op_at)? {
                let c = object(c, &c_at)?;
                let key = self.required_string(c, "condition_key", &c_at)?;
                let value = self.string(c, "condition_value", &c_at)?.ok_or_else(|| {
                    OrgPolicyError::invalid(child(&c_at, "condition_value"), "missing")
                })?;
                list.push(TagCondition::new(key, value));
            }
        }
        Ok(out)
    }
}

fn object<'v>(v: &'v Value, at: &str) -> Result<&'v Map<String, Value>, OrgPolicyError> {
    match v {
        Value::Object(o) => Ok(o),
        other => Err(OrgPolicyError::invalid(
            at,
            format!("expected an object, got {}", type_name(other)),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::{Deviation, check_plan_document};
    use serde_json::json;

    const ACCOUNT: &str = "111122223333";

    /// The policy's plan as an Organizations backup policy, written with operators.
    fn written() -> Value {
        json!({"plans": {
            "@@operators_allowed_for_child_policies": ["@@none"],
            "DynamoDBTwiceMonthly": {
                "@@operators_allowed_for_child_policies": ["@@none"],
                "regions": {"@@append": ["eu-west-1", "us-east-1"]},
                "rules": {"TwiceMonthly": {
                    "schedule_expression": {"@@assign": "cron(0 0 15,25 * ? *)"},
                    "start_backup_window_minutes": {"@@assign": "60"},
                    "complete_backup_window_minutes": {"@@assign": "180"},
                    "target_backup_vault_name": {"@@assign": "Default"},
                    "enable_continuous_backup": {"@@assign": "false"},
                    "lifecycle": {"delete_after_days": {"@@assign": "90"}},
                    "copy_actions": {"arn:aws:backup:us-west-2:$account:backup-vault:dr": {
                        "target_backup_vault_arn": {"@@assign": "arn:aws:backup:us-west-2:$account:backup-vault:dr"},
                        "lifecycle": {"delete_after_days": {"@@assign": "90"}}
                    }},
                    "recovery_point_tags": {"Owner": {
                        "tag_key": {"@@assign": "owner"}, "tag_value": {"@@assign": "platform"}
                    }}
                }},
                "selections": {
                    "tags": {"policy-tag": {
                        "iam_role_arn": {"@@assign": "arn:aws:iam::$account:role/BackupRole"},
                        "tag_key": {"@@assign": "backup-policy"},
                        "tag_value": {"@@assign": ["twice-monthly-90d"]},
                        "@@remove": ["x"]
                    }},
                    "resources": {"all-tables": {
                        "iam_role_arn": {"@@assign": "arn:aws:iam::$account:role/BackupRole"},
                        "resource_types": {"@@assign": ["arn:aws:dynamodb:*:*:table/*"]},
                        "not_resource_types": {"@@assign": ["arn:aws:dynamodb:*:*:table/scratch-*"]},
                        "conditions": {"string_not_equals": {"exempt": {
                            "condition_key": {"@@assign": "aws:ResourceTag/backup-policy"},
                            "condition_value": {"@@assign": "exempt"}
                        }}}
                    }}
                },
                "advanced_backup_settings": {"ec2": {"windows_vss": {"@@assign": "disabled"}}},
                "backup_plan_tags": {"team": {"tag_key": {"@@assign": "team"}, "tag_value": {"@@assign": "platform"}}}
            }
        }})
    }

    /// The same policy as DescribeEffectivePolicy renders it: operators resolved, the account
    /// id already in the role (AWS leaves `$account` in some ARNs).
    fn effective() -> Value {
        json!({"plans": {"DynamoDBTwiceMonthly": {
            "regions": ["eu-west-1", "us-east-1"],
            "rules": {"TwiceMonthly": {
                "schedule_expression": "cron(0 0 15,25 * ? *)",
                "start_backup_window_minutes": "60",
                "complete_backup_window_minutes": "180",
                "target_backup_vault_name": "Default",
                "enable_continuous_backup": "false",
                "lifecycle": {"delete_after_days": "90"},
                "copy_actions": {"arn:aws:backup:us-west-2:$account:backup-vault:dr": {
                    "target_backup_vault_arn": {"@@assign": "arn:aws:backup:us-west-2:$account:backup-vault:dr"},
                    "lifecycle": {"delete_after_days": "90"}
                }},
                "recovery_point_tags": {"Owner": {"tag_key": "owner", "tag_value": "platform"}}
            }},
            "selections": {
                "tags": {"policy-tag": {
                    "iam_role_arn": "arn:aws:iam::111122223333:role/BackupRole",
                    "tag_key": "backup-policy",
                    "tag_value": ["twice-monthly-90d"]
                }},
                "resources": {"all-tables": {
                    "iam_role_arn": "arn:aws:iam::111122223333:role/BackupRole",
                    "resource_types": ["arn:aws:dynamodb:*:*:table/*"],
                    "not_resource_types": ["arn:aws:dynamodb:*:*:table/scratch-*"],
                    "conditions": {"string_not_equals": {"exempt": {
                        "condition_key": "aws:ResourceTag/backup-policy",
                        "condition_value": "exempt"
                    }}}
                }}
            },
            "advanced_backup_settings": {"ec2": {"windows_vss": "disabled"}},
            "backup_plan_tags": {"team": {"tag_key": "team", "tag_value": "platform"}}
        }}})
    }

    fn rule_mut<'a>(doc: &'a mut Value, field: &str) -> &'a mut Value {
        &mut doc["plans"]["DynamoDBTwiceMonthly"]["rules"]["TwiceMonthly"][field]
    }

    fn check(doc: &Value) -> Result<Vec<OrgPlanConformance>, OrgPolicyError> {
        check_org_policy(&doc.to_string(), Some(ACCOUNT), None, &Policy::default())
    }

    fn error(doc: &Value) -> OrgPolicyError {
        let e = check(doc).unwrap_err();
        assert!(e.to_string().contains(e.path()), "{e}");
        e
    }

    #[test]
    fn a_policy_implementing_the_default_policy_conforms() {
        let out = check(&written()).unwrap();
        assert_eq!(out.len(), 1);
        let c = &out[0].conformance;
        assert!(c.clean(), "{c:?}");
        assert_eq!(c.plan_name, "DynamoDBTwiceMonthly");
        assert_eq!(c.plan_id, "DynamoDBTwiceMonthly");
        assert_eq!(c.rules[0].rule_name, "TwiceMonthly");
        let plan = &out[0].plan;
        assert_eq!(plan.regions, ["eu-west-1", "us-east-1"]);
        assert_eq!(plan.plan.plan_arn, "");
        assert_eq!(plan.plan.version_id, "");
        let rule = &plan.plan.rules[0];
        assert_eq!(rule.target_vault, "Default");
        assert_eq!(rule.start_window_minutes, Some(60));
        assert_eq!(rule.completion_window_minutes, Some(180));
        assert_eq!(rule.delete_after_days, Some(90));
        assert_eq!(rule.move_to_cold_storage_after_days, None);
    }

    #[test]
    fn the_written_and_the_effective_form_give_the_same_result() {
        let a = check(&written()).unwrap();
        let b = check(&effective()).unwrap();
        assert_eq!(a, b);
        // And the same drift in both forms gives the same deviation.
        let mut w = written();
        *rule_mut(&mut w, "lifecycle") = json!({"delete_after_days": {"@@assign": "35"}});
        let mut e = effective();
        *rule_mut(&mut e, "lifecycle") = json!({"delete_after_days": "35"});
        assert_eq!(check(&w).unwrap(), check(&e).unwrap());
    }

    #[test]
    fn a_35_day_lifecycle_is_the_deviation_a_plan_document_gets() {
        let mut doc = effective();
        *rule_mut(&mut doc, "lifecycle") = json!({"delete_after_days": "35"});
        let out = check(&doc).unwrap();
        let expected = Deviation::RetentionTooShort {
            policy: 90,
            actual: 35,
        };
        assert_eq!(
            out[0].conformance.rules[0].deviations,
            std::slice::from_ref(&expected)
        );
        // The same rule as a console plan document: the same deviation from the same code.
        let plan = json!({"BackupPlanName": "DynamoDBTwiceMonthly", "Rules": [{
            "RuleName": "TwiceMonthly", "TargetBackupVaultName": "Default",
            "ScheduleExpression": "cron(0 0 15,25 * ? *)",
            "StartWindowMinutes": 60, "CompletionWindowMinutes": 180,
            "Lifecycle": {"DeleteAfterDays": 35}
        }]});
        let pc = check_plan_document(&plan.to_string(), &Policy::default()).unwrap();
        assert_eq!(pc, out[0].conformance);
        assert_eq!(pc.rules[0].deviations, [expected]);
    }

    #[test]
    fn json_numbers_and_booleans_are_accepted_too() {
        let mut doc = effective();
        *rule_mut(&mut doc, "start_backup_window_minutes") = json!(60);
        *rule_mut(&mut doc, "complete_backup_window_minutes") = json!({"@@assign": 180});
        *rule_mut(&mut doc, "lifecycle") = json!({"delete_after_days": 90});
        *rule_mut(&mut doc, "enable_continuous_backup") = json!(false);
        assert_eq!(check(&doc).unwrap(), check(&effective()).unwrap());
    }

    #[test]
    fn account_and_region_placeholders_are_replaced() {
        let plans = parse_org_policy(&written().to_string(), Some(ACCOUNT), None).unwrap();
        let s = &plans[0].selections;
        assert_eq!(s.len(), 2);
        assert_eq!(
            s[0].iam_role_arn,
            "arn:aws:iam::111122223333:role/BackupRole"
        );
        assert_eq!(
            s[1].iam_role_arn,
            "arn:aws:iam::111122223333:role/BackupRole"
        );

        let mut doc = written();
        doc["plans"]["DynamoDBTwiceMonthly"]["selections"]["resources"]["all-tables"]["resource_types"] =
            json!(["arn:aws:dynamodb:$region:$account:table/*"]);
        let plans = parse_org_policy(&doc.to_string(), Some(ACCOUNT), Some("eu-west-1")).unwrap();
        assert_eq!(
            plans[0].selections[1].selection.resources,
            ["arn:aws:dynamodb:eu-west-1:111122223333:table/*"]
        );
        // `$region` without a region names the field.
        let e = parse_org_policy(&doc.to_string(), Some(ACCOUNT), None).unwrap_err();
        assert_eq!(
            e,
            OrgPolicyError::PlaceholderWithoutValue {
                path:
                    "plans.DynamoDBTwiceMonthly.selections.resources.all-tables.resource_types[0]"
                        .into(),
                placeholder: REGION_PLACEHOLDER,
            }
        );
    }

    #[test]
    fn account_placeholder_without_an_account_names_the_first_use() {
        let e = parse_org_policy(&written().to_string(), None, None).unwrap_err();
        assert_eq!(
            e,
            OrgPolicyError::PlaceholderWithoutValue {
                path: r#"plans.DynamoDBTwiceMonthly.rules.TwiceMonthly.copy_actions["arn:aws:backup:us-west-2:$account:backup-vault:dr"].target_backup_vault_arn.@@assign"#.into(),
                placeholder: ACCOUNT_PLACEHOLDER,
            }
        );
        assert!(e.to_string().contains("account id"), "{e}");
        assert!(uses_account_placeholder(&written().to_string()));
        // The effective form's role has the id already; only the copy ARN still uses it.
        let mut doc = effective();
        *rule_mut(&mut doc, "copy_actions") = json!({});
        assert!(!uses_account_placeholder(&doc.to_string()));
        assert!(parse_org_policy(&doc.to_string(), None, None).is_ok());
    }

    #[test]
    fn bad_arguments_are_rejected() {
        let doc = effective().to_string();
        assert!(matches!(
            parse_org_policy(&doc, Some("12345"), None),
            Err(OrgPolicyError::BadArgument {
                what: "account id",
                ..
            })
        ));
        assert!(matches!(
            parse_org_policy(&doc, Some(ACCOUNT), Some("Ireland")),
            Err(OrgPolicyError::BadArgument { what: "region", .. })
        ));
    }

    #[test]
    fn selections_become_selection_facts() {
        let plans = parse_org_policy(&effective().to_string(), Some(ACCOUNT), None).unwrap();
        let [tags, resources] = &plans[0].selections[..] else {
            panic!("{:?}", plans[0].selections);
        };
        assert_eq!(tags.kind, SelectionKind::Tags);
        assert_eq!(tags.selection.name, "policy-tag");
        assert_eq!(tags.selection.plan_id, "DynamoDBTwiceMonthly");
        assert_eq!(
            tags.selection.list_of_tags,
            [TagCondition::new("backup-policy", "twice-monthly-90d")]
        );
        assert!(tags.selection.resources.is_empty());
        assert_eq!(resources.kind, SelectionKind::Resources);
        assert_eq!(
            resources.selection.resources,
            ["arn:aws:dynamodb:*:*:table/*"]
        );
        assert_eq!(
            resources.selection.not_resources,
            ["arn:aws:dynamodb:*:*:table/scratch-*"]
        );
        assert_eq!(
            resources.selection.conditions.string_not_equals,
            [TagCondition::new("aws:ResourceTag/backup-policy", "exempt")]
        );
        // Several tag values: one ListOfTags entry each (OR).
        let mut doc = effective();
        doc["plans"]["DynamoDBTwiceMonthly"]["selections"]["tags"]["policy-tag"]["tag_value"] =
            json!({"@@assign": ["a", "b"]});
        let plans = parse_org_policy(&doc.to_string(), Some(ACCOUNT), None).unwrap();
        assert_eq!(
            plans[0].selections[0].selection.list_of_tags,
            [
                TagCondition::new("backup-policy", "a"),
                TagCondition::new("backup-policy", "b")
            ]
        );
    }

    #[test]
    fn only_the_plans_of_the_region_are_judged() {
        let mut doc = effective();
        let other = doc["plans"]["DynamoDBTwiceMonthly"].clone();
        doc["plans"]["Elsewhere"] = other;
        doc["plans"]["Elsewhere"]["regions"] = json!(["ap-south-1"]);
        let all =
            check_org_policy(&doc.to_string(), Some(ACCOUNT), None, &Policy::default()).unwrap();
        assert_eq!(all.len(), 2);
        let eu = check_org_policy(
            &doc.to_string(),
            Some(ACCOUNT),
            Some("eu-west-1"),
            &Policy::default(),
        )
        .unwrap();
        assert_eq!(eu.len(), 1);
        assert_eq!(eu[0].conformance.plan_name, "DynamoDBTwiceMonthly");
        let none = check_org_policy(
            &doc.to_string(),
            Some(ACCOUNT),
            Some("sa-east-1"),
            &Policy::default(),
        )
        .unwrap();
        assert!(none.is_empty());
    }

    #[test]
    fn not_json_is_an_error_at_the_root() {
        let e = check_org_policy("{not json", Some(ACCOUNT), None, &Policy::default()).unwrap_err();
        assert_eq!(e.path(), "$");
        assert!(e.to_string().contains("not a valid JSON"), "{e}");
        let e = check_org_policy("[1]", Some(ACCOUNT), None, &Policy::default()).unwrap_err();
        assert_eq!(e.path(), "$");
    }

    #[test]
    fn plans_must_be_an_object() {
        let e = error(&json!({"plans": ["p"]}));
        assert_eq!(
            e,
            OrgPolicyError::Invalid {
                path: "plans".into(),
                problem: "expected an object, got a list".into()
            }
        );
        assert_eq!(error(&json!({"Plans": {}})).path(), "plans");
    }

    #[test]
    fn a_rule_without_a_vault_names_the_field() {
        let mut doc = written();
        let obj = doc["plans"]["DynamoDBTwiceMonthly"]["rules"]["TwiceMonthly"]
            .as_object_mut()
            .unwrap();
        obj.remove("target_backup_vault_name");
        let e = error(&doc);
        assert_eq!(
            e,
            OrgPolicyError::Invalid {
                path: "plans.DynamoDBTwiceMonthly.rules.TwiceMonthly.target_backup_vault_name"
                    .into(),
                problem: "missing".into()
            }
        );
    }

    #[test]
    fn delete_after_days_abc_names_the_field_in_both_forms() {
        let mut doc = effective();
        *rule_mut(&mut doc, "lifecycle") = json!({"delete_after_days": "abc"});
        let e = error(&doc);
        assert_eq!(
            e.path(),
            "plans.DynamoDBTwiceMonthly.rules.TwiceMonthly.lifecycle.delete_after_days"
        );
        assert!(e.to_string().contains("\"abc\""), "{e}");
        let mut doc = written();
        *rule_mut(&mut doc, "lifecycle") = json!({"delete_after_days": {"@@assign": "abc"}});
        assert_eq!(
            error(&doc).path(),
            "plans.DynamoDBTwiceMonthly.rules.TwiceMonthly.lifecycle.delete_after_days.@@assign"
        );
    }

    #[test]
    fn an_assign_of_the_wrong_type_names_the_operator() {
        let mut doc = written();
        *rule_mut(&mut doc, "start_backup_window_minutes") = json!({"@@assign": ["60"]});
        let e = error(&doc);
        assert_eq!(
            e.path(),
            "plans.DynamoDBTwiceMonthly.rules.TwiceMonthly.start_backup_window_minutes.@@assign"
        );
        assert!(e.to_string().contains("a list"), "{e}");
        let mut doc = written();
        *rule_mut(&mut doc, "schedule_expression") = json!({"@@assign": 5});
        assert_eq!(
            error(&doc).path(),
            "plans.DynamoDBTwiceMonthly.rules.TwiceMonthly.schedule_expression.@@assign"
        );
        let mut doc = written();
        doc["plans"]["DynamoDBTwiceMonthly"]["regions"] = json!({"@@assign": "eu-west-1x"});
        assert_eq!(
            error(&doc).path(),
            "plans.DynamoDBTwiceMonthly.regions.@@assign[0]"
        );
    }

    #[test]
    fn values_aws_rejects_are_errors_like_in_a_plan_document() {
        let mut doc = effective();
        *rule_mut(&mut doc, "complete_backup_window_minutes") = json!("30");
        let e = error(&doc);
        assert!(e.to_string().contains("from 60 to 52560000"), "{e}");
        let mut doc = effective();
        *rule_mut(&mut doc, "lifecycle") = json!({"delete_after_days": "0"});
        assert!(error(&doc).path().ends_with("lifecycle.delete_after_days"));
        let mut doc = effective();
        *rule_mut(&mut doc, "lifecycle") =
            json!({"delete_after_days": "90", "move_to_cold_storage_after_days": "-1"});
        assert!(
            error(&doc)
                .path()
                .ends_with("move_to_cold_storage_after_days")
        );
        let mut doc = effective();
        doc["plans"]["DynamoDBTwiceMonthly"]["selections"]["tags"]["policy-tag"]["tag_value"] =
            json!([]);
        assert!(error(&doc).to_string().contains("at least one value"));
        let mut doc = effective();
        doc["plans"]["DynamoDBTwiceMonthly"]
            .as_object_mut()
            .unwrap()
            .remove("regions");
        assert_eq!(error(&doc).path(), "plans.DynamoDBTwiceMonthly.regions");
    }

    #[test]
    fn drift_that_conformance_reports_is_not_a_parse_error() {
        // Cold storage, a longer window, a missing schedule: deviations, as for a plan.
        let mut doc = written();
        *rule_mut(&mut doc, "lifecycle") = json!({
            "delete_after_days": {"@@assign": "90"},
            "move_to_cold_storage_after_days": {"@@assign": "30"}
        });
        *rule_mut(&mut doc, "start_backup_window_minutes") = json!({"@@assign": "480"});
        doc["plans"]["DynamoDBTwiceMonthly"]["rules"]["TwiceMonthly"]
            .as_object_mut()
            .unwrap()
            .remove("schedule_expression");
        let out = check(&doc).unwrap();
        assert_eq!(
            out[0].conformance.rules[0].deviations,
            [
                Deviation::ScheduleMissing,
                Deviation::StartWindowTooLong {
                    policy: 60,
                    actual: 480
                },
                Deviation::ColdStorageSet { after_days: 30 },
            ]
        );
        // A plan without rules backs nothing up.
        let mut doc = effective();
        doc["plans"]["DynamoDBTwiceMonthly"]["rules"] = json!({});
        assert_eq!(
            check(&doc).unwrap()[0].conformance.deviations,
            [Deviation::NoRules]
        );
    }

    #[test]
    fn unexpected_keys_in_a_value_are_named() {
        let mut doc = written();
        *rule_mut(&mut doc, "target_backup_vault_name") = json!({"assign": "Default"});
        assert_eq!(
            error(&doc).path(),
            "plans.DynamoDBTwiceMonthly.rules.TwiceMonthly.target_backup_vault_name.assign"
        );
        let mut doc = effective();
        doc["plans"]["DynamoDBTwiceMonthly"]["selections"]["resources"]["all-tables"]["conditions"] =
            json!({"string_equal": {}});
        assert!(error(&doc).path().ends_with("conditions.string_equal"));
    }

    #[test]
    fn a_policy_is_recognised_by_its_plans_key() {
        assert!(is_org_policy(&written()));
        assert!(is_org_policy(&effective()));
        assert!(!is_org_policy(&json!({"BackupPlanName": "p", "Rules": []})));
        assert!(!is_org_policy(&json!({"Plans": {}})));
    }
}
