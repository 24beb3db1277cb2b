//! The organization fan-out's AWS reads and the member account's credentials:
//!
//! | reader | calls |
//! |---|---|
//! | [`assume_member`] | 1 `STS.AssumeRole` (a role-chained session: at most 1 hour, [`MEMBER_SESSION`]) |
//! | [`active_accounts`] | `Organizations.ListAccounts` pages (20 per page, AWS's maximum) |
//! | [`accounts_under`] | per OU: `Organizations.ListAccountsForParent` pages + `ListOrganizationalUnitsForParent` pages, recursively |
//! | [`effective_backup_policy`] | 1 `Organizations.DescribeEffectivePolicy` (`BACKUP_POLICY`; `EffectivePolicyNotFoundException` → `None`: no policy applies) |

use std::collections::BTreeSet;
use std::time::Duration;

use crate::config::AwsContext;
use crate::error::{AwsCallError, OperationContext};

/// How long a member session lasts: a role assumed by a role (the verifier's) is limited to
/// one hour by STS, whatever the role's `MaxSessionDuration`.
pub const MEMBER_SESSION: Duration = Duration::from_secs(3600);

/// An account of the organization.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct OrgAccount {
    /// The 12-digit id.
    pub id: String,
    /// Its name.
    pub name: String,
}

/// Clients for `region` of the account whose role `role_arn` the verifier assumes
/// (`sts:AssumeRole` with the home credentials, [`MEMBER_SESSION`], session name
/// `session`).
pub async fn assume_member(
    home: &AwsContext,
    role_arn: &str,
    session: &str,
    region: &str,
) -> Result<AwsContext, AwsCallError> {
    const OP: &str = "STS.AssumeRole";
    let out = home
        .sts()
        .assume_role()
        .role_arn(role_arn)
        .role_session_name(session)
        .duration_seconds(MEMBER_SESSION.as_secs() as i32)
        .send()
        .await
        .op(OP)?;
    let c = out
        .credentials()
        .ok_or_else(|| AwsCallError::invalid_response(OP, "response has no Credentials"))?;
    let expiry = std::time::SystemTime::try_from(*c.expiration()).ok();
    let credentials = aws_credential_types::Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        expiry,
        "backup-guard-member",
    );
    Ok(home.with_credentials(credentials, region))
}

fn account_of(a: &aws_sdk_organizations::types::Account) -> Option<(OrgAccount, bool)> {
    let active = a
        .status()
        .is_some_and(|s| s.as_str().eq_ignore_ascii_case("ACTIVE"));
    Some((
        OrgAccount {
            id: a.id()?.to_string(),
            name: a.name().unwrap_or_default().to_string(),
        },
        active,
    ))
}

/// Every ACTIVE account of the organization (`ListAccounts`), sorted by id.
pub async fn active_accounts(ctx: &AwsContext) -> Result<Vec<OrgAccount>, AwsCallError> {
    let mut pages = ctx.organizations().list_accounts().into_paginator().send();
    let mut out = BTreeSet::new();
    while let Some(page) = pages.try_next().await.op("Organizations.ListAccounts")? {
        out.extend(
            page.accounts()
                .iter()
                .filter_map(account_of)
                .filter(|(_, active)| *active)
                .map(|(a, _)| a),
        );
    }
    Ok(out.into_iter().collect())
}

/// Every ACTIVE account under the OUs (or root) `parents`, nested OUs included, sorted by id.
pub async fn accounts_under(
    ctx: &AwsContext,
    parents: &[String],
) -> Result<Vec<OrgAccount>, AwsCallError> {
    let org = ctx.organizations();
    let mut todo: Vec<String> = parents.to_vec();
    let mut seen = BTreeSet::new();
    let mut out = BTreeSet::new();
    while let Some(parent) = todo.pop() {
        if !seen.insert(parent.clone()) {
            continue;
        }
        let mut pages = org
            .list_accounts_for_parent()
            .parent_id(&parent)
            .into_paginator()
            .send();
        while let Some(page) = pages
            .try_next()
            .await
            .op("Organizations.ListAccountsForParent")?
        {
            out.extend(
                page.accounts()
                    .iter()
                    .filter_map(account_of)
                    .filter(|(_, active)| *active)
                    .map(|(a, _)| a),
            );
        }
        let mut ous = org
            .list_organizational_units_for_parent()
            .parent_id(&parent)
            .into_paginator()
            .send();
        while let Some(page) = ous
            .try_next()
            .await
            .op("Organizations.ListOrganizationalUnitsForParent")?
        {
            todo.extend(
                page.organizational_units()
                    .iter()
                    .filter_map(|u| u.id().map(str::to_string)),
            );
        }
    }
    Ok(out.into_iter().collect())
}

/// The effective backup policy of `account` (its JSON text), `None` if no backup policy
/// applies to it.
pub async fn effective_backup_policy(
    ctx: &AwsContext,
    account: &str,
) -> Result<Option<String>, AwsCallError> {
    const OP: &str = "Organizations.DescribeEffectivePolicy";
    match ctx
        .organizations()
        .describe_effective_policy()
        .policy_type(aws_sdk_organizations::types::EffectivePolicyType::BackupPolicy)
        .target_id(account)
        .send()
        .await
        .op(OP)
    {
        Ok(out) => Ok(out
            .effective_policy()
            .and_then(|p| p.policy_content())
            .map(str::to_string)),
        Err(e) if e.code.as_deref() == Some("EffectivePolicyNotFoundException") => Ok(None),
        Err(e) => Err(e),
    }
}
