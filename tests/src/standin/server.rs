//! HTTP routing: the AWS Backup REST-JSON operations and the `/_standin/` admin API.
//!
//! Paths are those `aws-sdk-backup` writes (no trailing slash); the API reference's
//! trailing-slash spelling is routed too. Labels arrive percent-encoded (an ARN's `/` as
//! `%2F`), so they never split a path segment, and axum's `Path` extractor decodes them.

use super::error::{ApiError, StandInError};
use super::faults::{Fault, FaultSet};
use super::model::{BackupJob, RecoveryPoint};
use super::store::{JobFilter, Page, PointFilter, Store};
use super::time::parse_text;
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use axum::routing::{get, post, put};
use jiff::Timestamp;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// State shared by the handlers and by [`super::StandIn`]: one account in one region (its
/// store and restore testing) plus what every account of the stand-in shares (call counts,
/// faults, the request counter).
#[derive(Debug)]
pub struct Shared {
    /// The account.
    pub store: Mutex<Store>,
    /// Calls per operation, including failed and injected ones (of every account).
    pub calls: Arc<Mutex<BTreeMap<String, u64>>>,
    /// Active faults (for every account).
    pub faults: Arc<Mutex<FaultSet>>,
    /// Restore testing plans, selections and restore jobs.
    pub restore: Mutex<super::restore::RestoreStore>,
    requests: Arc<AtomicU64>,
}

/// What the accounts of one stand-in share.
#[derive(Debug, Clone, Default)]
pub struct Common {
    /// Calls per operation.
    pub calls: Arc<Mutex<BTreeMap<String, u64>>>,
    /// Active faults.
    pub faults: Arc<Mutex<FaultSet>>,
    requests: Arc<AtomicU64>,
}

/// Locks a mutex, recovering the data if a panicking thread poisoned it.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// Fresh state for an account (sharing nothing with other accounts).
    pub fn new(region: &str, account_id: &str) -> Self {
        Self::with_common(region, account_id, &Common::default())
    }

    /// Fresh state for an account that shares `common` with the stand-in's other accounts.
    pub fn with_common(region: &str, account_id: &str, common: &Common) -> Self {
        Self {
            store: Mutex::new(Store::new(region, account_id)),
            calls: common.calls.clone(),
            faults: common.faults.clone(),
            restore: Mutex::new(super::restore::RestoreStore::new(region, account_id)),
            requests: common.requests.clone(),
        }
    }

    /// Counts a call, applies the faults' latency and returns an injected error if any.
    pub(super) async fn enter(
        &self,
        operation: &'static str,
        vault: Option<&str>,
    ) -> Result<(), ApiError> {
        *lock(&self.calls).entry(operation.to_string()).or_insert(0) += 1;
        let decision = lock(&self.faults).decide(operation, vault);
        Self::apply(decision).await.map(|_| ())
    }

    /// [`Shared::enter`] for a list call: faults see whether it carries a `nextToken`, and the
    /// page is read from `q` with a fault's `page_size` applied.
    pub(super) async fn enter_list(
        &self,
        operation: &'static str,
        vault: Option<&str>,
        q: &HashMap<String, String>,
    ) -> Result<Page, ApiError> {
        *lock(&self.calls).entry(operation.to_string()).or_insert(0) += 1;
        let has_token = q.get("nextToken").is_some_and(|t| !t.is_empty());
        let decision = lock(&self.faults).decide_page(operation, vault, has_token);
        let page_size = Self::apply(decision).await?;
        let mut page = page(q)?;
        if let Some(n) = page_size {
            page.max = page.max.min(n);
        }
        Ok(page)
    }

    async fn apply(decision: super::faults::Decision) -> Result<Option<usize>, ApiError> {
        if !decision.latency.is_zero() {
            tokio::time::sleep(decision.latency).await;
        }
        match decision.error {
            Some(e) => Err(e),
            None => Ok(decision.page_size),
        }
    }
}

type S = State<Arc<Shared>>;
type Q = Query<HashMap<String, String>>;
type ApiResult = Result<Json<Value>, ApiError>;

fn allow(q: &HashMap<String, String>, allowed: &[&str]) -> Result<(), ApiError> {
    match q.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(ApiError::invalid_parameter(format!(
            "query parameter {k:?} is not supported by this operation in the Backup stand-in (supported: {})",
            allowed.join(", ")
        ))),
        None => Ok(()),
    }
}

fn page(q: &HashMap<String, String>) -> Result<Page, ApiError> {
    Page::parse(
        q.get("nextToken").map(String::as_str),
        q.get("maxResults").map(String::as_str),
    )
}

fn ts(q: &HashMap<String, String>, name: &str) -> Result<Option<Timestamp>, ApiError> {
    q.get(name)
        .map(|v| parse_text(v).map_err(|e| ApiError::invalid_parameter(format!("{name}: {e}"))))
        .transpose()
}

fn flag(q: &HashMap<String, String>, name: &str) -> Result<bool, ApiError> {
    match q.get(name).map(String::as_str) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(ApiError::invalid_parameter(format!(
            "{name} {other:?} is not a boolean"
        ))),
    }
}

fn s(q: &HashMap<String, String>, name: &str) -> Option<String> {
    q.get(name).cloned()
}

// ---- vaults ---------------------------------------------------------------------------

async fn create_backup_vault(State(st): S, Path(name): Path<String>, body: Bytes) -> ApiResult {
    st.enter("CreateBackupVault", Some(&name)).await?;
    Ok(Json(lock(&st.store).create_backup_vault(
        &name,
        &body,
        Timestamp::now(),
    )?))
}

async fn describe_backup_vault(State(st): S, Path(name): Path<String>, Query(q): Q) -> ApiResult {
    st.enter("DescribeBackupVault", Some(&name)).await?;
    allow(&q, &["backupVaultAccountId"])?;
    Ok(Json(lock(&st.store).describe_backup_vault(&name)?))
}

async fn list_backup_vaults(State(st): S, Query(q): Q) -> ApiResult {
    let page = st.enter_list("ListBackupVaults", None, &q).await?;
    allow(&q, &["vaultType", "shared", "nextToken", "maxResults"])?;
    if flag(&q, "shared")? {
        return Err(ApiError::invalid_parameter(
            "shared=true is not supported by the Backup stand-in (it has no shared vaults)",
        ));
    }
    Ok(Json(lock(&st.store).list_backup_vaults(
        q.get("vaultType").map(String::as_str),
        &page,
    )))
}

async fn get_backup_vault_access_policy(State(st): S, Path(name): Path<String>) -> ApiResult {
    st.enter("GetBackupVaultAccessPolicy", Some(&name)).await?;
    Ok(Json(lock(&st.store).get_backup_vault_access_policy(&name)?))
}

async fn put_backup_vault_access_policy(
    State(st): S,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    st.enter("PutBackupVaultAccessPolicy", Some(&name)).await?;
    lock(&st.store).put_backup_vault_access_policy(&name, &body)?;
    Ok(StatusCode::OK)
}

async fn delete_backup_vault_access_policy(
    State(st): S,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    st.enter("DeleteBackupVaultAccessPolicy", Some(&name))
        .await?;
    lock(&st.store).delete_backup_vault_access_policy(&name)?;
    Ok(StatusCode::OK)
}

async fn put_backup_vault_lock_configuration(
    State(st): S,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    st.enter("PutBackupVaultLockConfiguration", Some(&name))
        .await?;
    lock(&st.store).put_backup_vault_lock_configuration(&name, &body, Timestamp::now())?;
    Ok(StatusCode::OK)
}

async fn delete_backup_vault(
    State(st): S,
    Path(name): Path<String>,
    Query(q): Q,
) -> Result<StatusCode, ApiError> {
    st.enter("DeleteBackupVault", Some(&name)).await?;
    allow(&q, &[])?;
    lock(&st.store).delete_backup_vault(&name)?;
    Ok(StatusCode::OK)
}

async fn delete_backup_vault_lock_configuration(
    State(st): S,
    Path(name): Path<String>,
    Query(q): Q,
) -> Result<StatusCode, ApiError> {
    st.enter("DeleteBackupVaultLockConfiguration", Some(&name))
        .await?;
    allow(&q, &[])?;
    lock(&st.store).delete_backup_vault_lock_configuration(&name, Timestamp::now())?;
    Ok(StatusCode::OK)
}

// ---- plans ----------------------------------------------------------------------------

async fn create_backup_plan(State(st): S, body: Bytes) -> ApiResult {
    st.enter("CreateBackupPlan", None).await?;
    Ok(Json(
        lock(&st.store).create_backup_plan(&body, Timestamp::now())?,
    ))
}

async fn get_backup_plan(State(st): S, Path(id): Path<String>, Query(q): Q) -> ApiResult {
    st.enter("GetBackupPlan", None).await?;
    allow(&q, &["versionId", "MaxScheduledRunsPreview"])?;
    // AWS: MaxScheduledRunsPreview is an integer 0..=10 (else InvalidParameterValueException);
    // n > 0 adds ScheduledRunsPreview, which the stand-in does not compute, so it refuses.
    if let Some(raw) = q.get("MaxScheduledRunsPreview") {
        match raw.parse::<i64>() {
            Ok(0) => {}
            Ok(1..=10) => {
                return Err(ApiError::invalid_parameter(format!(
                    "MaxScheduledRunsPreview {raw}: the Backup stand-in computes no ScheduledRunsPreview (only 0 is supported)"
                )));
            }
            _ => {
                return Err(ApiError::invalid_parameter(format!(
                    "MaxScheduledRunsPreview {raw:?} is not an integer from 0 to 10"
                )));
            }
        }
    }
    Ok(Json(lock(&st.store).get_backup_plan(
        &id,
        q.get("versionId").map(String::as_str),
    )?))
}

async fn update_backup_plan(State(st): S, Path(id): Path<String>, body: Bytes) -> ApiResult {
    st.enter("UpdateBackupPlan", None).await?;
    Ok(Json(lock(&st.store).update_backup_plan(
        &id,
        &body,
        Timestamp::now(),
    )?))
}

async fn delete_backup_plan(State(st): S, Path(id): Path<String>) -> ApiResult {
    st.enter("DeleteBackupPlan", None).await?;
    Ok(Json(
        lock(&st.store).delete_backup_plan(&id, Timestamp::now())?,
    ))
}

async fn list_backup_plans(State(st): S, Query(q): Q) -> ApiResult {
    let page = st.enter_list("ListBackupPlans", None, &q).await?;
    allow(&q, &["nextToken", "maxResults", "includeDeleted"])?;
    let include_deleted = flag(&q, "includeDeleted")?;
    Ok(Json(
        lock(&st.store).list_backup_plans(include_deleted, &page),
    ))
}

// ---- selections -----------------------------------------------------------------------

async fn create_backup_selection(State(st): S, Path(plan): Path<String>, body: Bytes) -> ApiResult {
    st.enter("CreateBackupSelection", None).await?;
    Ok(Json(lock(&st.store).create_backup_selection(
        &plan,
        &body,
        Timestamp::now(),
    )?))
}

async fn get_backup_selection(
    State(st): S,
    Path((plan, sel)): Path<(String, String)>,
) -> ApiResult {
    st.enter("GetBackupSelection", None).await?;
    Ok(Json(lock(&st.store).get_backup_selection(&plan, &sel)?))
}

async fn delete_backup_selection(
    State(st): S,
    Path((plan, sel)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    st.enter("DeleteBackupSelection", None).await?;
    lock(&st.store).delete_backup_selection(&plan, &sel)?;
    Ok(StatusCode::OK)
}

async fn list_backup_selections(State(st): S, Path(plan): Path<String>, Query(q): Q) -> ApiResult {
    let page = st.enter_list("ListBackupSelections", None, &q).await?;
    allow(&q, &["nextToken", "maxResults"])?;
    Ok(Json(lock(&st.store).list_backup_selections(&plan, &page)?))
}

// ---- recovery points and jobs -----------------------------------------------------------

async fn list_recovery_points_by_backup_vault(
    State(st): S,
    Path(vault): Path<String>,
    Query(q): Q,
) -> ApiResult {
    let page = st
        .enter_list("ListRecoveryPointsByBackupVault", Some(&vault), &q)
        .await?;
    allow(
        &q,
        &[
            "backupVaultAccountId",
            "nextToken",
            "maxResults",
            "resourceArn",
            "resourceType",
            "backupPlanId",
            "createdBefore",
            "createdAfter",
            "parentRecoveryPointArn",
        ],
    )?;
    let filter = PointFilter {
        resource_arn: s(&q, "resourceArn"),
        resource_type: s(&q, "resourceType"),
        backup_plan_id: s(&q, "backupPlanId"),
        created_after: ts(&q, "createdAfter")?,
        created_before: ts(&q, "createdBefore")?,
        parent_recovery_point_arn: s(&q, "parentRecoveryPointArn"),
        account_id: s(&q, "backupVaultAccountId"),
    };
    Ok(Json(lock(&st.store).list_recovery_points_by_backup_vault(
        &vault, &filter, &page,
    )?))
}

async fn list_recovery_points_by_resource(
    State(st): S,
    Path(arn): Path<String>,
    Query(q): Q,
) -> ApiResult {
    st.enter("ListRecoveryPointsByResource", None).await?;
    allow(&q, &["nextToken", "maxResults", "managedByAWSBackupOnly"])?;
    flag(&q, "managedByAWSBackupOnly")?; // every seeded point is managed by AWS Backup
    let page = page(&q)?;
    Ok(Json(
        lock(&st.store).list_recovery_points_by_resource(&arn, &page),
    ))
}

async fn describe_recovery_point(
    State(st): S,
    Path((vault, arn)): Path<(String, String)>,
    Query(q): Q,
) -> ApiResult {
    st.enter("DescribeRecoveryPoint", Some(&vault)).await?;
    allow(&q, &["backupVaultAccountId"])?;
    Ok(Json(lock(&st.store).describe_recovery_point(&vault, &arn)?))
}

async fn delete_recovery_point(
    State(st): S,
    Path((vault, arn)): Path<(String, String)>,
    Query(q): Q,
) -> Result<StatusCode, ApiError> {
    st.enter("DeleteRecoveryPoint", Some(&vault)).await?;
    allow(&q, &[])?;
    lock(&st.store).delete_recovery_point(&vault, &arn, Timestamp::now())?;
    Ok(StatusCode::OK)
}

async fn update_recovery_point_lifecycle(
    State(st): S,
    Path((vault, arn)): Path<(String, String)>,
    Query(q): Q,
    body: Bytes,
) -> ApiResult {
    st.enter("UpdateRecoveryPointLifecycle", Some(&vault))
        .await?;
    allow(&q, &[])?;
    Ok(Json(
        lock(&st.store).update_recovery_point_lifecycle(&vault, &arn, &body)?,
    ))
}

async fn disassociate_recovery_point(
    State(st): S,
    Path((vault, arn)): Path<(String, String)>,
    Query(q): Q,
) -> Result<StatusCode, ApiError> {
    st.enter("DisassociateRecoveryPoint", Some(&vault)).await?;
    allow(&q, &[])?;
    lock(&st.store).disassociate_recovery_point(&vault, &arn)?;
    Ok(StatusCode::OK)
}

async fn describe_backup_job(State(st): S, Path(id): Path<String>, Query(q): Q) -> ApiResult {
    st.enter("DescribeBackupJob", None).await?;
    allow(&q, &[])?;
    Ok(Json(lock(&st.store).describe_backup_job(&id)?))
}

async fn stop_backup_job(
    State(st): S,
    Path(id): Path<String>,
    Query(q): Q,
) -> Result<StatusCode, ApiError> {
    st.enter("StopBackupJob", None).await?;
    allow(&q, &[])?;
    lock(&st.store).stop_backup_job(&id)?;
    Ok(StatusCode::OK)
}

async fn list_backup_jobs(State(st): S, Query(q): Q) -> ApiResult {
    let page = st
        .enter_list(
            "ListBackupJobs",
            q.get("backupVaultName").map(String::as_str),
            &q,
        )
        .await?;
    allow(
        &q,
        &[
            "nextToken",
            "maxResults",
            "resourceArn",
            "state",
            "backupVaultName",
            "createdBefore",
            "createdAfter",
            "resourceType",
            "accountId",
            "completeAfter",
            "completeBefore",
            "parentJobId",
            "messageCategory",
        ],
    )?;
    let filter = JobFilter {
        resource_arn: s(&q, "resourceArn"),
        state: s(&q, "state"),
        backup_vault_name: s(&q, "backupVaultName"),
        resource_type: s(&q, "resourceType"),
        account_id: s(&q, "accountId"),
        created_after: ts(&q, "createdAfter")?,
        created_before: ts(&q, "createdBefore")?,
        complete_after: ts(&q, "completeAfter")?,
        complete_before: ts(&q, "completeBefore")?,
        parent_job_id: s(&q, "parentJobId"),
        message_category: s(&q, "messageCategory"),
    };
    Ok(Json(lock(&st.store).list_backup_jobs(&filter, &page)))
}

async fn unknown_operation(method: Method, uri: Uri) -> ApiError {
    ApiError::unknown_operation(method.as_str(), uri.path())
}

// ---- admin ----------------------------------------------------------------------------

fn admin_json<T: serde::de::DeserializeOwned>(what: &str, body: &[u8]) -> Result<T, StandInError> {
    serde_json::from_slice(body).map_err(|e| StandInError::Invalid {
        what: what.to_string(),
        reason: e.to_string(),
    })
}

async fn admin_add_recovery_points(State(st): S, body: Bytes) -> Result<Json<Value>, StandInError> {
    let points: Vec<RecoveryPoint> = admin_json("recovery points (a JSON array)", &body)?;
    let added = lock(&st.store).add_recovery_points(points)?;
    Ok(Json(json!({ "added": added })))
}

async fn admin_add_backup_jobs(State(st): S, body: Bytes) -> Result<Json<Value>, StandInError> {
    let jobs: Vec<BackupJob> = admin_json("backup jobs (a JSON array)", &body)?;
    let added = lock(&st.store).add_backup_jobs(jobs)?;
    Ok(Json(json!({ "added": added })))
}

async fn admin_set_fault(State(st): S, body: Bytes) -> Result<Json<Value>, StandInError> {
    let fault: Fault = admin_json("fault", &body)?;
    let mut faults = lock(&st.faults);
    faults.set(fault)?;
    Ok(Json(json!({ "faults": faults.list() })))
}

async fn admin_list_faults(State(st): S) -> Json<Value> {
    Json(json!({ "faults": lock(&st.faults).list() }))
}

async fn admin_clear_faults(State(st): S) -> Json<Value> {
    lock(&st.faults).clear();
    Json(json!({ "faults": [] }))
}

async fn admin_calls(State(st): S) -> Json<BTreeMap<String, u64>> {
    Json(lock(&st.calls).clone())
}

async fn admin_reset_calls(State(st): S) -> Json<Value> {
    lock(&st.calls).clear();
    Json(json!({}))
}

async fn admin_reset(State(st): S) -> Json<Value> {
    lock(&st.store).reset();
    lock(&st.restore).reset();
    lock(&st.calls).clear();
    lock(&st.faults).clear();
    Json(json!({}))
}

async fn add_request_id(State(st): S, mut response: Response) -> Response {
    let n = st.requests.fetch_add(1, Ordering::Relaxed) + 1;
    if let Ok(v) = HeaderValue::from_str(&format!("5a0d1e00-0000-4000-8000-{n:012x}")) {
        response.headers_mut().insert("x-amzn-requestid", v);
    }
    response
}

/// The stand-in's router over `shared`.
pub fn router(shared: Arc<Shared>) -> Router {
    super::restore::routes(Router::new())
        // vaults
        .route("/backup-vaults", get(list_backup_vaults))
        .route("/backup-vaults/", get(list_backup_vaults))
        .route(
            "/backup-vaults/{name}",
            put(create_backup_vault)
                .get(describe_backup_vault)
                .delete(delete_backup_vault),
        )
        .route(
            "/backup-vaults/{name}/",
            put(create_backup_vault)
                .get(describe_backup_vault)
                .delete(delete_backup_vault),
        )
        .route(
            "/backup-vaults/{name}/access-policy",
            get(get_backup_vault_access_policy)
                .put(put_backup_vault_access_policy)
                .delete(delete_backup_vault_access_policy),
        )
        .route(
            "/backup-vaults/{name}/access-policy/",
            get(get_backup_vault_access_policy)
                .put(put_backup_vault_access_policy)
                .delete(delete_backup_vault_access_policy),
        )
        .route(
            "/backup-vaults/{name}/vault-lock",
            put(put_backup_vault_lock_configuration).delete(delete_backup_vault_lock_configuration),
        )
        .route(
            "/backup-vaults/{name}/vault-lock/",
            put(put_backup_vault_lock_configuration).delete(delete_backup_vault_lock_configuration),
        )
        .route(
            "/backup-vaults/{name}/recovery-points",
            get(list_recovery_points_by_backup_vault),
        )
        .route(
            "/backup-vaults/{name}/recovery-points/",
            get(list_recovery_points_by_backup_vault),
        )
        .route(
            "/backup-vaults/{name}/recovery-points/{arn}",
            get(describe_recovery_point)
                .post(update_recovery_point_lifecycle)
                .delete(delete_recovery_point),
        )
        .route(
            "/backup-vaults/{name}/recovery-points/{arn}/",
            get(describe_recovery_point)
                .post(update_recovery_point_lifecycle)
                .delete(delete_recovery_point),
        )
        .route(
            "/backup-vaults/{name}/recovery-points/{arn}/disassociate",
            post(disassociate_recovery_point),
        )
        .route(
            "/backup-vaults/{name}/recovery-points/{arn}/disassociate/",
            post(disassociate_recovery_point),
        )
        // plans
        .route(
            "/backup/plans",
            put(create_backup_plan).get(list_backup_plans),
        )
        .route(
            "/backup/plans/",
            put(create_backup_plan).get(list_backup_plans),
        )
        .route(
            "/backup/plans/{id}",
            get(get_backup_plan)
                .post(update_backup_plan)
                .delete(delete_backup_plan),
        )
        .route(
            "/backup/plans/{id}/",
            get(get_backup_plan)
                .post(update_backup_plan)
                .delete(delete_backup_plan),
        )
        // selections
        .route(
            "/backup/plans/{id}/selections",
            put(create_backup_selection).get(list_backup_selections),
        )
        .route(
            "/backup/plans/{id}/selections/",
            put(create_backup_selection).get(list_backup_selections),
        )
        .route(
            "/backup/plans/{id}/selections/{sel}",
            get(get_backup_selection).delete(delete_backup_selection),
        )
        // resources and jobs
        .route(
            "/resources/{arn}/recovery-points",
            get(list_recovery_points_by_resource),
        )
        .route(
            "/resources/{arn}/recovery-points/",
            get(list_recovery_points_by_resource),
        )
        .route("/backup-jobs", get(list_backup_jobs))
        .route("/backup-jobs/", get(list_backup_jobs))
        .route(
            "/backup-jobs/{id}",
            get(describe_backup_job).post(stop_backup_job),
        )
        .route(
            "/backup-jobs/{id}/",
            get(describe_backup_job).post(stop_backup_job),
        )
        // admin (test infrastructure)
        .route("/_standin/recovery-points", post(admin_add_recovery_points))
        .route("/_standin/backup-jobs", post(admin_add_backup_jobs))
        .route(
            "/_standin/faults",
            post(admin_set_fault)
                .get(admin_list_faults)
                .delete(admin_clear_faults),
        )
        .route(
            "/_standin/calls",
            get(admin_calls).delete(admin_reset_calls),
        )
        .route("/_standin/reset", post(admin_reset))
        .fallback(unknown_operation)
        .layer(axum::middleware::map_response_with_state(
            shared.clone(),
            add_request_id,
        ))
        .with_state(shared)
}
