//! **AWS Backup stand-in — test infrastructure, not a product component.**
//!
//! A local HTTP server that speaks the AWS Backup REST-JSON protocol closely enough for
//! the real `aws-sdk-backup` client to call it and deserialise every answer. Point the
//! product at it with `AWS_ENDPOINT_URL_BACKUP` (or an SDK `endpoint_url`). It keeps its
//! state in memory and only ever binds a loopback address.
//!
//! # Operations served (method and path as `aws-sdk-backup` 1.132 sends them)
//!
//! | operation | request |
//! |---|---|
//! | CreateBackupVault | `PUT /backup-vaults/{name}` |
//! | DescribeBackupVault | `GET /backup-vaults/{name}` |
//! | DeleteBackupVault | `DELETE /backup-vaults/{name}` (`InvalidRequestException` unless empty; its policy and lock go with it) |
//! | ListBackupVaults | `GET /backup-vaults?vaultType&nextToken&maxResults` (with `Locked`, `MinRetentionDays`, `MaxRetentionDays`, `LockDate`, as DescribeBackupVault) |
//! | GetBackupVaultAccessPolicy | `GET /backup-vaults/{name}/access-policy` (`ResourceNotFoundException` when the vault has none) |
//! | PutBackupVaultAccessPolicy | `PUT /backup-vaults/{name}/access-policy` (`Policy` must be a JSON document with a `Statement`) |
//! | DeleteBackupVaultAccessPolicy | `DELETE /backup-vaults/{name}/access-policy` |
//! | PutBackupVaultLockConfiguration | `PUT /backup-vaults/{name}/vault-lock` (`LockDate` = now + `ChangeableForDays`) |
//! | DeleteBackupVaultLockConfiguration | `DELETE /backup-vaults/{name}/vault-lock` (`InvalidRequestException` on and after the `LockDate`) |
//! | CreateBackupPlan | `PUT /backup/plans` |
//! | ListBackupPlans | `GET /backup/plans?includeDeleted&nextToken&maxResults` |
//! | GetBackupPlan | `GET /backup/plans/{id}?versionId&MaxScheduledRunsPreview` (0..=10 as in AWS; only 0 is served, no preview) |
//! | UpdateBackupPlan | `POST /backup/plans/{id}` (new `VersionId`; rule ids kept per rule name) |
//! | DeleteBackupPlan | `DELETE /backup/plans/{id}` (refused while selections remain) |
//! | CreateBackupSelection | `PUT /backup/plans/{id}/selections` |
//! | ListBackupSelections | `GET /backup/plans/{id}/selections?nextToken&maxResults` |
//! | GetBackupSelection | `GET /backup/plans/{id}/selections/{selectionId}` |
//! | DeleteBackupSelection | `DELETE /backup/plans/{id}/selections/{selectionId}` |
//! | ListRecoveryPointsByBackupVault | `GET /backup-vaults/{name}/recovery-points?resourceArn&resourceType&backupPlanId&createdAfter&createdBefore&parentRecoveryPointArn&backupVaultAccountId&nextToken&maxResults` |
//! | ListRecoveryPointsByResource | `GET /resources/{resourceArn}/recovery-points?managedByAWSBackupOnly&nextToken&maxResults` |
//! | DescribeRecoveryPoint | `GET /backup-vaults/{name}/recovery-points/{recoveryPointArn}` |
//! | DeleteRecoveryPoint | `DELETE /backup-vaults/{name}/recovery-points/{recoveryPointArn}` (`InvalidRequestException` while younger than a Vault Lock's `MinRetentionDays`) |
//! | UpdateRecoveryPointLifecycle | `POST /backup-vaults/{name}/recovery-points/{recoveryPointArn}` (`Lifecycle` replaced, `-1` removes a member, `CalculatedLifecycle` recomputed; outside a Vault Lock's bounds `InvalidParameterValueException`; continuous points `InvalidRequestException`) |
//! | DisassociateRecoveryPoint | `POST /backup-vaults/{name}/recovery-points/{recoveryPointArn}/disassociate` (continuous points only, ARN `…:recovery-point:continuous:…`; others `InvalidRequestException`) |
//! | ListBackupJobs | `GET /backup-jobs?state&resourceType&resourceArn&backupVaultName&createdAfter&createdBefore&completeAfter&completeBefore&accountId&parentJobId&messageCategory&nextToken&maxResults` |
//! | DescribeBackupJob | `GET /backup-jobs/{backupJobId}` (the ListBackupJobs member) |
//! | StopBackupJob | `POST /backup-jobs/{backupJobId}` (`CREATED`/`PENDING`/`RUNNING` → `ABORTED`; others, and RDS/Aurora/DocumentDB/Neptune/FSx/SAP HANA jobs, `InvalidRequestException`) |
//! | restore testing and restore jobs | see [`restore`] (`ListRestoreJobs`, `DescribeRestoreJob`, `PutRestoreValidationResult`, `Get`/`ListRestoreTesting{Plans,Selections}`) |
//!
//! Semantics worth knowing:
//! - `maxResults` must be 1..=1000 (else `InvalidParameterValueException`); without it a
//!   page holds [`store::DEFAULT_PAGE_SIZE`] items. `nextToken` is opaque and stable when
//!   records are added between pages.
//! - `createdAfter`/`createdBefore` (and `complete*`) are strict bounds.
//! - `Create*` with a `CreatorRequestId` seen before (the SDK always sends one, and reuses
//!   it on retries) returns the earlier result; a new request for an existing vault or
//!   plan name is an `AlreadyExistsException`.
//! - A query parameter an operation does not support is an `InvalidParameterValueException`
//!   naming it, never silently ignored.
//! - Rules omitting windows/time zone read back with AWS's defaults: start 480, completion
//!   10080 minutes, `ScheduleExpressionTimezone` `Etc/UTC`. `GetBackupSelection` returns
//!   every list (`Resources`, `NotResources`, `ListOfTags`, `Conditions.*`), empty if not given.
//! - Recovery points are listed newest first; `ListRecoveryPointsByResource` items carry no
//!   lifecycle fields, as in AWS. `ListBackupJobs` does not apply AWS's 30-day window.
//! - Errors carry `x-amzn-errortype` and `{"__type", "Message"}`:
//!   `ResourceNotFoundException` 404, `InvalidParameterValueException`,
//!   `MissingParameterValueException`, `AlreadyExistsException`, `InvalidRequestException`
//!   and `ThrottlingException` 400, `AccessDeniedException` 403,
//!   `ServiceUnavailableException` 503, `InternalFailure` 500.
//!
//! # Accounts and regions
//!
//! State (vaults, plans, points, jobs, restore testing) is per account and region, as in
//! AWS Backup: a request's account is the one moto maps its access key to (asked with STS
//! `GetCallerIdentity` once per key, after [`StandIn::resolve_accounts_with_moto`]), its
//! region the SigV4 credential scope's; see [`accounts`]. Without moto, or for a request
//! without credentials, the default account and region ([`Options`]). ARNs the stand-in
//! makes carry the request's account and region. Calls and faults are counted and applied
//! across accounts.
//!
//! # Admin API (test-only, under `/_standin/`)
//!
//! Every admin request acts on one account and region: query `account=` / `region=` or the
//! headers `x-standin-account` / `x-standin-region`, default the stand-in's own.
//!
//! - `POST /_standin/recovery-points` — JSON array of [`RecoveryPoint`] (the
//!   `ListRecoveryPointsByBackupVault` member shape, epoch-second or RFC 3339 timestamps).
//!   All or none are added; an unknown vault is a 404 naming it. → `{"added": n}`
//! - `POST /_standin/backup-jobs` — JSON array of [`BackupJob`] (`ListBackupJobs` member
//!   shape). → `{"added": n}`
//! - `POST /_standin/faults` — one [`Fault`] (replaces a fault with the same `operation` and
//!   `vault`); `GET` lists them; `DELETE` clears them. → `{"faults": [...]}`. A fault with
//!   `next_token_only` and `page_size` fails only second and later pages of a list call.
//! - `POST /_standin/restore-jobs` — JSON array of [`restore::RestoreJob`]
//!   (`RestoreJobsListMember` shape); `GET` returns every job with its validation;
//!   `POST /_standin/restore-testing` — `{"Plans": [...], "Selections": [...]}`.
//! - `GET /_standin/calls` — `{"ListBackupPlans": 3, ...}`: calls per operation, including
//!   failed and injected ones; `DELETE` resets the counts.
//! - `POST /_standin/reset` — forgets all state (of every account), counts and faults.
//!
//! Admin errors are `{"error": "..."}` with 400 (malformed), 404 (unknown vault) or 409
//! (duplicate id). [`admin::AdminClient`] calls this API over HTTP.

pub mod accounts;
pub mod admin;
pub mod error;
pub mod faults;
pub mod model;
pub mod restore;
pub mod server;
pub mod store;
pub mod time;

pub use error::{ApiError, StandInError};
pub use faults::{FailKind, Fault, OPERATIONS};
pub use model::{
    BackupJob, BackupRule, BackupSelection, CalculatedLifecycle, Condition, ConditionParameter,
    Conditions, CreatedBy, Lifecycle, RecoveryPoint,
};

use accounts::Accounts;
use server::{Shared, lock};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::task::JoinHandle;

/// Region used in ARNs when none is configured.
pub const DEFAULT_REGION: &str = "us-east-1";
/// Account id used in ARNs when none is configured (moto's default account).
pub const DEFAULT_ACCOUNT_ID: &str = "123456789012";

/// Account identity the stand-in puts into ARNs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Region, e.g. `us-east-1`.
    pub region: String,
    /// 12-digit account id.
    pub account_id: String,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            region: DEFAULT_REGION.to_string(),
            account_id: DEFAULT_ACCOUNT_ID.to_string(),
        }
    }
}

/// A running stand-in. Dropping it stops the server.
#[derive(Debug)]
pub struct StandIn {
    addr: SocketAddr,
    accounts: Arc<Accounts>,
    task: JoinHandle<()>,
}

/// One account in one region of a running stand-in (seeding and reading its state in-process).
#[derive(Debug, Clone)]
pub struct StandInAccount {
    shared: Arc<Shared>,
}

impl StandInAccount {
    /// Seeds recovery points (all or none); returns how many were added.
    pub fn add_recovery_points(&self, points: Vec<RecoveryPoint>) -> Result<usize, StandInError> {
        lock(&self.shared.store).add_recovery_points(points)
    }

    /// Seeds backup jobs (all or none); returns how many were added.
    pub fn add_backup_jobs(&self, jobs: Vec<BackupJob>) -> Result<usize, StandInError> {
        lock(&self.shared.store).add_backup_jobs(jobs)
    }

    /// Seeds restore jobs (all or none); returns how many were added.
    pub fn add_restore_jobs(&self, jobs: Vec<restore::RestoreJob>) -> Result<usize, StandInError> {
        lock(&self.shared.restore).add_jobs(jobs)
    }

    /// Every restore job, newest first, with the validations put so far.
    pub fn restore_jobs(&self) -> Vec<restore::RestoreJob> {
        lock(&self.shared.restore).jobs()
    }

    /// Seeds restore testing plans and selections (all or none).
    pub fn add_restore_testing(
        &self,
        seed: restore::RestoreTestingSeed,
    ) -> Result<usize, StandInError> {
        lock(&self.shared.restore).add_testing(seed, jiff::Timestamp::now())
    }

    /// The ARN the stand-in gives the restore testing plan `name` in this account.
    pub fn restore_testing_plan_arn(&self, name: &str) -> String {
        lock(&self.shared.restore).plan_arn(name)
    }
}

impl StandIn {
    /// Starts on a free loopback port (`127.0.0.1:0`).
    pub async fn start() -> std::io::Result<StandIn> {
        Self::start_with(SocketAddr::from(([127, 0, 0, 1], 0)), Options::default()).await
    }

    /// Starts on `addr`, which must be a loopback address.
    pub async fn start_on(addr: SocketAddr) -> std::io::Result<StandIn> {
        Self::start_with(addr, Options::default()).await
    }

    /// Starts on `addr` (loopback only) with the given account identity.
    pub async fn start_with(addr: SocketAddr, options: Options) -> std::io::Result<StandIn> {
        if !addr.ip().is_loopback() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("the Backup stand-in only binds loopback addresses, not {addr}"),
            ));
        }
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let accounts = Arc::new(Accounts::new(&options.region, &options.account_id));
        let app = accounts::router(accounts.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "Backup stand-in server stopped");
            }
        });
        Ok(StandIn {
            addr,
            accounts,
            task,
        })
    }

    /// Keys each Backup request's state by the account moto (at `http://127.0.0.1:PORT` or
    /// `127.0.0.1:PORT`) maps its access key to (see [`accounts`]). Until called, every
    /// request goes to the default account.
    pub fn resolve_accounts_with_moto(&self, moto_endpoint: &str) {
        let authority = moto_endpoint
            .trim_start_matches("http://")
            .trim_end_matches('/');
        self.accounts.set_moto(authority);
    }

    /// Maps an access key id to an account without asking moto.
    pub fn map_access_key(&self, access_key_id: &str, account: &str) {
        self.accounts.map_access_key(access_key_id, account);
    }

    /// The account moto maps `access_key_id` to, as the stand-in resolves it.
    pub async fn account_of_key(&self, access_key_id: &str) -> String {
        self.accounts.account_of_key(access_key_id).await
    }

    /// `account` in `region` (its state created empty on first use).
    pub fn account(&self, account: &str, region: &str) -> StandInAccount {
        StandInAccount {
            shared: self.accounts.shared(account, region),
        }
    }

    /// The default account in the default region (what the seeding methods below use).
    pub fn default_account(&self) -> StandInAccount {
        StandInAccount {
            shared: self.accounts.default_shared(),
        }
    }

    /// Every (account, region) that has state.
    pub fn accounts(&self) -> Vec<(String, String)> {
        self.accounts.keys()
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, for `endpoint_url` / `AWS_ENDPOINT_URL_BACKUP`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Calls per operation so far, including failed and injected ones.
    pub fn calls(&self) -> BTreeMap<String, u64> {
        lock(&self.accounts.common().calls).clone()
    }

    /// Resets the call counts.
    pub fn reset_calls(&self) {
        lock(&self.accounts.common().calls).clear();
    }

    /// Adds a fault (replacing one with the same operation and vault).
    pub fn set_fault(&self, fault: Fault) -> Result<(), StandInError> {
        lock(&self.accounts.common().faults).set(fault)
    }

    /// The active faults.
    pub fn faults(&self) -> Vec<Fault> {
        lock(&self.accounts.common().faults).list()
    }

    /// The active faults with how many calls each has matched.
    pub fn fault_hits(&self) -> Vec<(Fault, u64)> {
        lock(&self.accounts.common().faults).hits()
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        lock(&self.accounts.common().faults).clear();
    }

    /// Seeds recovery points (all or none); returns how many were added.
    pub fn add_recovery_points(&self, points: Vec<RecoveryPoint>) -> Result<usize, StandInError> {
        self.default_account().add_recovery_points(points)
    }

    /// Seeds backup jobs (all or none); returns how many were added.
    pub fn add_backup_jobs(&self, jobs: Vec<BackupJob>) -> Result<usize, StandInError> {
        self.default_account().add_backup_jobs(jobs)
    }

    /// Seeds restore jobs (all or none); returns how many were added.
    pub fn add_restore_jobs(&self, jobs: Vec<restore::RestoreJob>) -> Result<usize, StandInError> {
        self.default_account().add_restore_jobs(jobs)
    }

    /// Every restore job, newest first, with the validations put so far.
    pub fn restore_jobs(&self) -> Vec<restore::RestoreJob> {
        self.default_account().restore_jobs()
    }

    /// Seeds restore testing plans and selections (all or none).
    pub fn add_restore_testing(
        &self,
        seed: restore::RestoreTestingSeed,
    ) -> Result<usize, StandInError> {
        self.default_account().add_restore_testing(seed)
    }

    /// The ARN the stand-in gives the restore testing plan `name`.
    pub fn restore_testing_plan_arn(&self, name: &str) -> String {
        self.default_account().restore_testing_plan_arn(name)
    }

    /// Forgets all state, counts and faults.
    pub fn reset(&self) {
        self.accounts.reset();
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.task.abort();
    }
}
