//! The stand-in's accounts, keyed the way moto keys its own.
//!
//! AWS Backup is regional and per account; so is the stand-in. Each request goes to the state
//! of one (account, region):
//!
//! - **Backup API requests**: the account is the one moto maps the request's access key to
//!   (an assumed role's key → the role's account; anything else → moto's default account),
//!   asked once per access key id with moto's STS `GetCallerIdentity` (moto does not verify
//!   signatures, so the key id alone is enough) and cached. The region is the SigV4 credential
//!   scope's. Without an `Authorization` header, or before [`Accounts::set_moto`] was called,
//!   or when moto cannot be asked, the request goes to the stand-in's default account.
//! - **Admin requests** (`/_standin/...`): query `account=` / `region=` or the headers
//!   [`ACCOUNT_HEADER`] / [`REGION_HEADER`], defaulting to the stand-in's own.
//!
//! Call counts, faults and request ids are shared by all accounts. `POST /_standin/reset`
//! forgets every account.

use super::server::{self, Common, Shared, lock};
use axum::Router;
use axum::extract::{Request, State};
use axum::response::Response;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tower::ServiceExt;

/// Header naming the account of an admin request.
pub const ACCOUNT_HEADER: &str = "x-standin-account";
/// Header naming the region of an admin request.
pub const REGION_HEADER: &str = "x-standin-region";

type Key = (String, String);

/// Every (account, region) the stand-in has state for, and how requests find theirs.
#[derive(Debug)]
pub struct Accounts {
    default_account: String,
    default_region: String,
    common: Common,
    states: Mutex<BTreeMap<Key, (Arc<Shared>, Router)>>,
    keys: Mutex<HashMap<String, String>>,
    moto: Mutex<Option<String>>,
}

impl Accounts {
    /// No state yet; `region`/`account` are the defaults.
    pub fn new(region: &str, account: &str) -> Accounts {
        Accounts {
            default_account: account.to_string(),
            default_region: region.to_string(),
            common: Common::default(),
            states: Mutex::new(BTreeMap::new()),
            keys: Mutex::new(HashMap::new()),
            moto: Mutex::new(None),
        }
    }

    /// The default account id.
    pub fn default_account(&self) -> &str {
        &self.default_account
    }

    /// The default region.
    pub fn default_region(&self) -> &str {
        &self.default_region
    }

    /// What all accounts share (calls, faults).
    pub fn common(&self) -> &Common {
        &self.common
    }

    fn entry(&self, account: &str, region: &str) -> (Arc<Shared>, Router) {
        let mut states = lock(&self.states);
        states
            .entry((account.to_string(), region.to_string()))
            .or_insert_with(|| {
                let shared = Arc::new(Shared::with_common(region, account, &self.common));
                let router = server::router(shared.clone());
                (shared, router)
            })
            .clone()
    }

    /// The state of `account` in `region` (created empty on first use).
    pub fn shared(&self, account: &str, region: &str) -> Arc<Shared> {
        self.entry(account, region).0
    }

    /// The default account's state in the default region.
    pub fn default_shared(&self) -> Arc<Shared> {
        self.shared(&self.default_account, &self.default_region)
    }

    /// Every (account, region) with state so far.
    pub fn keys(&self) -> Vec<(String, String)> {
        lock(&self.states).keys().cloned().collect()
    }

    /// Resolves access keys by asking the moto server at `authority` (`127.0.0.1:PORT`).
    pub fn set_moto(&self, authority: &str) {
        *lock(&self.moto) = Some(authority.to_string());
    }

    /// Maps an access key id to an account without asking moto.
    pub fn map_access_key(&self, access_key_id: &str, account: &str) {
        lock(&self.keys).insert(access_key_id.to_string(), account.to_string());
    }

    /// Forgets every account's state, the counts and the faults (not the key mapping: moto's
    /// keys keep their accounts).
    pub fn reset(&self) {
        lock(&self.states).clear();
        lock(&self.common.calls).clear();
        lock(&self.common.faults).clear();
    }

    /// The account moto maps `access_key_id` to (cached), or the default one.
    pub async fn account_of_key(&self, access_key_id: &str) -> String {
        if let Some(a) = lock(&self.keys).get(access_key_id) {
            return a.clone();
        }
        let Some(moto) = lock(&self.moto).clone() else {
            return self.default_account.clone();
        };
        match caller_account(&moto, access_key_id).await {
            Ok(account) => {
                self.map_access_key(access_key_id, &account);
                account
            }
            Err(e) => {
                tracing::warn!(access_key_id, error = %e, "Backup stand-in: cannot ask moto for the key's account; using the default account");
                self.default_account.clone()
            }
        }
    }

    // Headers are read before the first await (`target_now`): a request body is not `Sync`.
    async fn target_auth(&self, auth: Option<String>) -> Key {
        match auth.as_deref().and_then(credential_scope) {
            Some((key, region)) => {
                let region = region.unwrap_or_else(|| self.default_region.clone());
                (self.account_of_key(&key).await, region)
            }
            None => (self.default_account.clone(), self.default_region.clone()),
        }
    }

    fn target_now(&self, req: &Request) -> (Option<Key>, Option<String>) {
        let header = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        if req.uri().path().starts_with("/_standin/") {
            let query = |name: &str| {
                req.uri().query().and_then(|q| {
                    q.split('&')
                        .filter_map(|kv| kv.split_once('='))
                        .find(|(k, _)| *k == name)
                        .map(|(_, v)| v.to_string())
                })
            };
            let account = query("account")
                .or_else(|| header(ACCOUNT_HEADER))
                .unwrap_or_else(|| self.default_account.clone());
            let region = query("region")
                .or_else(|| header(REGION_HEADER))
                .unwrap_or_else(|| self.default_region.clone());
            return (Some((account, region)), None);
        }
        (None, header("authorization"))
    }
}

/// The access key id and region of a SigV4 `Authorization` header
/// (`AWS4-HMAC-SHA256 Credential=<AKID>/<date>/<region>/<service>/aws4_request, ...`).
pub fn credential_scope(authorization: &str) -> Option<(String, Option<String>)> {
    let start = authorization.find("Credential=")? + "Credential=".len();
    let credential = authorization[start..].split([',', ' ']).next()?;
    let mut parts = credential.split('/');
    let key = parts.next().filter(|k| !k.is_empty())?.to_string();
    let region = parts.nth(1).filter(|r| !r.is_empty()).map(str::to_string);
    Some((key, region))
}

/// Asks moto's STS which account `access_key_id` belongs to.
async fn caller_account(moto: &str, access_key_id: &str) -> Result<String, String> {
    let date = jiff::Timestamp::now().strftime("%Y%m%d").to_string();
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={access_key_id}/{date}/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=0"
    );
    let r = crate::http::request_with(
        moto,
        "POST",
        "/",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        Some(b"Action=GetCallerIdentity&Version=2011-06-15"),
        Duration::from_secs(10),
    )
    .await
    .map_err(|e| e.to_string())?;
    let body = String::from_utf8_lossy(&r.body);
    if r.status != 200 {
        return Err(format!("STS.GetCallerIdentity: HTTP {}: {body}", r.status));
    }
    let account = body
        .split_once("<Account>")
        .and_then(|(_, rest)| rest.split_once("</Account>"))
        .map(|(a, _)| a.trim().to_string())
        .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| format!("STS.GetCallerIdentity: no <Account> in {body}"))?;
    Ok(account)
}

/// The stand-in's outer router: every request to its (account, region)'s router.
pub fn router(accounts: Arc<Accounts>) -> Router {
    Router::new().fallback(dispatch).with_state(accounts)
}

async fn dispatch(State(accounts): State<Arc<Accounts>>, req: Request) -> Response {
    if req.uri().path() == "/_standin/reset" {
        accounts.reset();
    }
    let (account, region) = {
        let (admin, auth) = accounts.target_now(&req);
        match admin {
            Some(key) => key,
            None => accounts.target_auth(auth).await,
        }
    };
    let (_, router) = accounts.entry(&account, &region);
    match router.oneshot(req).await {
        Ok(r) => r,
        Err(never) => match never {},
    }
}

#[cfg(test)]
mod tests {
    use super::credential_scope;

    #[test]
    fn reads_the_credential_scope() {
        let h = "AWS4-HMAC-SHA256 Credential=ASIAXYZ/20261201/eu-west-1/backup/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc";
        assert_eq!(
            credential_scope(h),
            Some(("ASIAXYZ".into(), Some("eu-west-1".into())))
        );
        assert_eq!(
            credential_scope("AWS4-HMAC-SHA256 Credential=K"),
            Some(("K".into(), None))
        );
        assert_eq!(credential_scope("Bearer x"), None);
    }
}
