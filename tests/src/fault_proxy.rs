//! A fault-injecting HTTP proxy in front of moto (test infrastructure).
//!
//! It recognises the AWS operation of each request — the JSON protocols (DynamoDB, the
//! Resource Groups Tagging API, KMS, Organizations) by the `X-Amz-Target` header
//! (`DynamoDB_20120810.PutItem`, `TrentService.DescribeKey` = `KMS.DescribeKey`,
//! `AWSOrganizationsV20161128.ListAccounts` = `Organizations.ListAccounts`), the query protocol (SNS, STS) by `Action=`
//! in the form body, S3's REST protocol (signed for service `s3`) by method, path (path-style
//! `/bucket/key`) and query — and names it as the SDK call counter does (`DynamoDB.PutItem`,
//! `ResourceGroupsTaggingAPI.GetResources`, `SNS.Publish`, `STS.GetCallerIdentity`,
//! `S3.PutObject`, `S3.GetObject`, `S3.ListObjectsV2`, `STS.AssumeRole`). A request no [`ProxyFault`] matches is forwarded to moto
//! unchanged; a matching one is answered with AWS's error shape for that protocol, or held
//! ("hang") and then dropped with a 504, or — for a second-page fault — forwarded with its
//! page size cut while the first page is read and failed once it carries a pagination token.
//!
//! Error shapes (what the SDK parses and classifies; the fault matrix checks the
//! classification through the call counter: throttling and 5xx are retried, denials are not):
//!
//! | fault | DynamoDB (JSON 1.0) | Tagging (JSON 1.1) | KMS (JSON 1.1) | Organizations (JSON 1.1) | SNS / STS (query, XML) | S3 (REST, XML) |
//! |---|---|---|---|---|---|---|
//! | throttling | 400 `ThrottlingException` (item operations: `ProvisionedThroughputExceededException`) | 400 `ThrottledException` | 400 `ThrottlingException` | 400 `TooManyRequestsException` | 400 `Throttling` | 503 `SlowDown` |
//! | 5xx | 500 `InternalServerError` | 500 `InternalServiceException` | 500 `KMSInternalException` | 500 `ServiceException` | 503 `ServiceUnavailable` | 500 `InternalError` |
//! | denied | 400 `AccessDeniedException` | 400 `AccessDeniedException` | 400 `AccessDeniedException` | 400 `AccessDeniedException` | 403 `AuthorizationError` (SNS) / `AccessDenied` (STS) | 403 `AccessDenied` |
//!
//! S3's second-page fault: the first `ListObjectsV2` page is forwarded with `max-keys` cut,
//! a request carrying `continuation-token` fails.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

/// The error a fault answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum InjectedError {
    /// The protocol's throttling error (retried by the SDK).
    Throttling,
    /// A 5xx (retried by the SDK).
    ServerError,
    /// The protocol's access-denied error (not retried).
    AccessDenied,
}

/// A fault on one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyFault {
    /// `Service.Operation` as the call counter names it, e.g. `DynamoDB.ListTables`.
    pub operation: String,
    /// Answer matching requests with this error.
    pub error: Option<InjectedError>,
    /// Hold matching requests this long, then drop them with a 504 (never forwarded, so a
    /// held write never lands late).
    pub hang: Option<Duration>,
    /// Only requests carrying a pagination token (`ExclusiveStartTableName`,
    /// `PaginationToken`, `NextToken`) match; the others are forwarded with their page size cut to
    /// `page_size`, so a second page follows.
    pub next_page_only: bool,
    /// Page size imposed on forwarded list requests of a `next_page_only` fault.
    pub page_size: u32,
}

impl ProxyFault {
    /// Every call of `operation` fails with `error`.
    pub fn error(operation: impl Into<String>, error: InjectedError) -> Self {
        Self {
            operation: operation.into(),
            error: Some(error),
            hang: None,
            next_page_only: false,
            page_size: 0,
        }
    }

    /// Every call of `operation` is held for `hang`.
    pub fn hang(operation: impl Into<String>, hang: Duration) -> Self {
        Self {
            operation: operation.into(),
            error: None,
            hang: Some(hang),
            next_page_only: false,
            page_size: 0,
        }
    }

    /// Pages of `operation` hold `page_size` items; every second or later page fails with
    /// `error`.
    pub fn second_page(operation: impl Into<String>, page_size: u32, error: InjectedError) -> Self {
        Self {
            operation: operation.into(),
            error: Some(error),
            hang: None,
            next_page_only: true,
            page_size: page_size.max(1),
        }
    }
}

/// One request the proxy saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRequest {
    /// `Service.Operation`, or `Unknown.Unknown` if not recognised.
    pub operation: String,
    /// `TableName` of a DynamoDB request, if it has one.
    pub table_name: Option<String>,
    /// Whether a fault answered (or held) it instead of moto.
    pub injected: bool,
}

#[derive(Debug)]
struct Inner {
    upstream: SocketAddr,
    faults: Mutex<Vec<ProxyFault>>,
    seen: Mutex<Vec<SeenRequest>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running proxy. Dropping it stops it.
#[derive(Debug)]
pub struct FaultProxy {
    addr: SocketAddr,
    inner: Arc<Inner>,
    task: JoinHandle<()>,
}

impl FaultProxy {
    /// Starts on a free loopback port, forwarding to `upstream` (moto's loopback address).
    pub async fn start(upstream: SocketAddr) -> std::io::Result<FaultProxy> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener.local_addr()?;
        let inner = Arc::new(Inner {
            upstream,
            faults: Mutex::new(Vec::new()),
            seen: Mutex::new(Vec::new()),
        });
        let app = Router::new().fallback(handle).with_state(inner.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "fault proxy stopped");
            }
        });
        Ok(FaultProxy { addr, inner, task })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Adds a fault (faults are tried in the order added; the first match applies).
    pub fn set_fault(&self, fault: ProxyFault) {
        lock(&self.inner.faults).push(fault);
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        lock(&self.inner.faults).clear();
    }

    /// Every request seen since the last [`FaultProxy::reset_seen`], in arrival order.
    pub fn seen(&self) -> Vec<SeenRequest> {
        lock(&self.inner.seen).clone()
    }

    /// How many requests of `operation` a fault answered or held.
    pub fn injected(&self, operation: &str) -> usize {
        lock(&self.inner.seen)
            .iter()
            .filter(|s| s.injected && s.operation == operation)
            .count()
    }

    /// Requests seen per operation.
    pub fn calls(&self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for s in lock(&self.inner.seen).iter() {
            *out.entry(s.operation.clone()).or_insert(0) += 1;
        }
        out
    }

    /// Forgets the requests seen.
    pub fn reset_seen(&self) {
        lock(&self.inner.seen).clear();
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The wire protocol of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    /// `application/x-amz-json-1.0` (DynamoDB).
    Json10,
    /// `application/x-amz-json-1.1` (Tagging).
    Json11,
    /// The query protocol (SNS, STS): form body, XML answers.
    Query,
    /// S3's REST protocol: the operation is in the method, path and query; XML errors.
    RestXml,
}

/// The query string's parameters (undecoded).
fn query_params(uri: &axum::http::Uri) -> Vec<(String, String)> {
    uri.query()
        .unwrap_or("")
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// The S3 operation of a path-style REST request (`/bucket` or `/bucket/key`), for the
/// operations backup-guard and the local account call; `Unknown` for others.
fn s3_operation(method: &axum::http::Method, uri: &axum::http::Uri, headers: &HeaderMap) -> String {
    use axum::http::Method;
    let path = uri.path().trim_start_matches('/');
    let has_key = path.split_once('/').is_some_and(|(_, k)| !k.is_empty());
    let params = query_params(uri);
    let has = |name: &str| params.iter().any(|(k, _)| k == name);
    let op = match (method, has_key) {
        (&Method::PUT, true) if headers.contains_key("x-amz-copy-source") => "CopyObject",
        (&Method::PUT, true) if has("retention") => "PutObjectRetention",
        (&Method::PUT, true) => "PutObject",
        (&Method::GET, true) if has("retention") => "GetObjectRetention",
        (&Method::GET, true) => "GetObject",
        (&Method::HEAD, true) => "HeadObject",
        (&Method::DELETE, true) => "DeleteObject",
        (&Method::GET, false) if params.iter().any(|(k, v)| k == "list-type" && v == "2") => {
            "ListObjectsV2"
        }
        (&Method::GET, false) if has("versions") => "ListObjectVersions",
        (&Method::GET, false) if has("object-lock") => "GetObjectLockConfiguration",
        (&Method::GET, false) if has("versioning") => "GetBucketVersioning",
        (&Method::GET, false) => "ListObjects",
        (&Method::PUT, false) if has("object-lock") => "PutObjectLockConfiguration",
        (&Method::PUT, false) if has("versioning") => "PutBucketVersioning",
        (&Method::PUT, false) if has("publicAccessBlock") => "PutPublicAccessBlock",
        (&Method::PUT, false) => "CreateBucket",
        (&Method::HEAD, false) => "HeadBucket",
        _ => "Unknown",
    };
    format!("S3.{op}")
}

/// The service a request was signed for (`Credential=KEY/DATE/REGION/SERVICE/aws4_request`).
fn signing_service(headers: &HeaderMap) -> Option<String> {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|a| a.split("Credential=").nth(1))
        .and_then(|c| c.split('/').nth(3))
        .map(str::to_string)
}

/// The operation of a request: `(Service.Operation, protocol)`.
fn recognise(
    method: &axum::http::Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> (String, Protocol) {
    if signing_service(headers).as_deref() == Some("s3") {
        return (s3_operation(method, uri, headers), Protocol::RestXml);
    }
    if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        let (prefix, op) = target.split_once('.').unwrap_or((target, ""));
        let service = prefix.split('_').next().unwrap_or(prefix);
        // KMS's and Organizations' target prefixes are their models' names, not the SDK's
        // service ids.
        let service = match service {
            "TrentService" => "KMS",
            "AWSOrganizationsV20161128" => "Organizations",
            other => other,
        };
        let protocol = if service == "DynamoDB" {
            Protocol::Json10
        } else {
            Protocol::Json11
        };
        return (format!("{service}.{op}"), protocol);
    }
    let form = String::from_utf8_lossy(body);
    let field = |name: &str| {
        form.split('&')
            .find_map(|kv| kv.strip_prefix(name).and_then(|r| r.strip_prefix('=')))
            .map(str::to_string)
    };
    let action = field("Action").unwrap_or_else(|| "Unknown".into());
    let scope_service = signing_service(headers);
    let service = match (field("Version").as_deref(), scope_service.as_deref()) {
        (Some("2010-03-31"), _) | (_, Some("sns")) => "SNS",
        (Some("2011-06-15"), _) | (_, Some("sts")) => "STS",
        _ => "Unknown",
    };
    (format!("{service}.{action}"), Protocol::Query)
}

/// The pagination token and page-size members of the paginated JSON reads.
fn paging_members(operation: &str) -> Option<(&'static str, &'static str)> {
    match operation {
        "DynamoDB.ListTables" => Some(("ExclusiveStartTableName", "Limit")),
        "ResourceGroupsTaggingAPI.GetResources" => Some(("PaginationToken", "ResourcesPerPage")),
        "Organizations.ListAccounts"
        | "Organizations.ListAccountsForParent"
        | "Organizations.ListOrganizationalUnitsForParent" => Some(("NextToken", "MaxResults")),
        _ => None,
    }
}

fn error_response(operation: &str, protocol: Protocol, error: InjectedError) -> Response {
    let (service, op) = operation.split_once('.').unwrap_or((operation, ""));
    let item_op = matches!(
        op,
        "GetItem" | "PutItem" | "DeleteItem" | "UpdateItem" | "Query" | "Scan"
    );
    let (status, code) = match (protocol, error) {
        (Protocol::Json10, InjectedError::Throttling) if item_op => {
            (400, "ProvisionedThroughputExceededException")
        }
        (Protocol::Json10, InjectedError::Throttling) => (400, "ThrottlingException"),
        (Protocol::Json10, InjectedError::ServerError) => (500, "InternalServerError"),
        (Protocol::Json11, InjectedError::Throttling) if service == "KMS" => {
            (400, "ThrottlingException")
        }
        (Protocol::Json11, InjectedError::ServerError) if service == "KMS" => {
            (500, "KMSInternalException")
        }
        (Protocol::Json11, InjectedError::Throttling) if service == "Organizations" => {
            (400, "TooManyRequestsException")
        }
        (Protocol::Json11, InjectedError::ServerError) if service == "Organizations" => {
            (500, "ServiceException")
        }
        (Protocol::Json11, InjectedError::Throttling) => (400, "ThrottledException"),
        (Protocol::Json11, InjectedError::ServerError) => (500, "InternalServiceException"),
        (Protocol::Json10 | Protocol::Json11, InjectedError::AccessDenied) => {
            (400, "AccessDeniedException")
        }
        (Protocol::Query, InjectedError::Throttling) => (400, "Throttling"),
        (Protocol::Query, InjectedError::ServerError) => (503, "ServiceUnavailable"),
        (Protocol::Query, InjectedError::AccessDenied) if service == "SNS" => {
            (403, "AuthorizationError")
        }
        (Protocol::Query, InjectedError::AccessDenied) => (403, "AccessDenied"),
        (Protocol::RestXml, InjectedError::Throttling) => (503, "SlowDown"),
        (Protocol::RestXml, InjectedError::ServerError) => (500, "InternalError"),
        (Protocol::RestXml, InjectedError::AccessDenied) => (403, "AccessDenied"),
    };
    let message = format!("injected by the fault proxy: {operation}");
    let (content_type, body) = match protocol {
        Protocol::Json10 => (
            "application/x-amz-json-1.0",
            serde_json::json!({
                "__type": format!("com.amazonaws.dynamodb.v20120810#{code}"),
                "message": message,
            })
            .to_string(),
        ),
        Protocol::Json11 => (
            "application/x-amz-json-1.1",
            serde_json::json!({"__type": code, "Message": message}).to_string(),
        ),
        Protocol::RestXml => (
            "application/xml",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>fault-proxy</RequestId></Error>"
            ),
        ),
        Protocol::Query => {
            let kind = if status >= 500 { "Receiver" } else { "Sender" };
            (
                "text/xml",
                format!(
                    "<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>"
                ),
            )
        }
    };
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    r.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    if matches!(protocol, Protocol::Json10 | Protocol::Json11)
        && let Ok(v) = HeaderValue::from_str(code)
    {
        r.headers_mut().insert("x-amzn-errortype", v);
    }
    r.headers_mut().insert(
        "x-amzn-requestid",
        HeaderValue::from_static("fault-proxy-request"),
    );
    r
}

fn plain(status: StatusCode, text: String) -> Response {
    let mut r = Response::new(Body::from(text));
    *r.status_mut() = status;
    r
}

async fn handle(State(inner): State<Arc<Inner>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => return plain(StatusCode::BAD_REQUEST, format!("fault proxy: body: {e}")),
    };
    let (operation, protocol) = recognise(&parts.method, &parts.uri, &parts.headers, &body);
    let json: Option<Value> = matches!(protocol, Protocol::Json10 | Protocol::Json11)
        .then(|| serde_json::from_slice(&body).ok())
        .flatten();
    let table_name = json
        .as_ref()
        .filter(|_| operation.starts_with("DynamoDB."))
        .and_then(|j| j.get("TableName"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let has_token = if protocol == Protocol::RestXml {
        query_params(&parts.uri)
            .iter()
            .any(|(k, v)| k == "continuation-token" && !v.is_empty())
    } else {
        paging_members(&operation).is_some_and(|(token, _)| {
            json.as_ref()
                .and_then(|j| j.get(token))
                .and_then(Value::as_str)
                .is_some_and(|t| !t.is_empty())
        })
    };
    let mut parts = parts;
    let fault = lock(&inner.faults)
        .iter()
        .find(|f| f.operation == operation)
        .cloned();
    let mut body = body;
    let mut injected = false;
    let mut answer: Option<Response> = None;
    let mut hold = None;
    if let Some(f) = &fault {
        if f.next_page_only && !has_token {
            // The first page: forwarded with a small page size, so a second page follows.
            if protocol == Protocol::RestXml {
                let mut q: Vec<String> = query_params(&parts.uri)
                    .into_iter()
                    .filter(|(k, _)| k != "max-keys")
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                q.push(format!("max-keys={}", f.page_size));
                if let Ok(uri) = format!("{}?{}", parts.uri.path(), q.join("&")).parse() {
                    parts.uri = uri;
                }
            } else if let (Some((_, size_member)), Some(mut j)) =
                (paging_members(&operation), json.clone())
            {
                j[size_member] = Value::from(f.page_size);
                body = Bytes::from(j.to_string());
            }
        } else {
            injected = true;
            hold = f.hang;
            answer = f.error.map(|e| error_response(&operation, protocol, e));
        }
    }
    lock(&inner.seen).push(SeenRequest {
        operation: operation.clone(),
        table_name,
        injected,
    });
    if let Some(d) = hold {
        tokio::time::sleep(d).await;
        if answer.is_none() {
            return plain(
                StatusCode::GATEWAY_TIMEOUT,
                format!("fault proxy: {operation} held for {d:?}"),
            );
        }
    }
    if let Some(r) = answer {
        return r;
    }
    match forward(inner.upstream, &parts, &body).await {
        Ok(r) => r,
        Err(e) => plain(
            StatusCode::BAD_GATEWAY,
            format!("fault proxy: forwarding {operation} to moto failed: {e}"),
        ),
    }
}

/// Sends the request to moto over a fresh connection (`Connection: close`) and returns its
/// answer.
async fn forward(
    upstream: SocketAddr,
    parts: &axum::http::request::Parts,
    body: &[u8],
) -> std::io::Result<Response> {
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let mut head = format!("{} {path} HTTP/1.1\r\n", parts.method);
    for (name, value) in &parts.headers {
        let n = name.as_str();
        if matches!(
            n,
            "connection" | "content-length" | "transfer-encoding" | "expect"
        ) {
            continue;
        }
        head.push_str(n);
        head.push_str(": ");
        head.push_str(&String::from_utf8_lossy(value.as_bytes()));
        head.push_str("\r\n");
    }
    head.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    ));
    let mut stream = TcpStream::connect(upstream).await?;
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    parse_response(&raw)
}

fn bad(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string())
}

fn parse_response(raw: &[u8]) -> std::io::Result<Response> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("moto's answer has no end of headers"))?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let mut payload = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("moto's answer has no status"))?;
    let mut headers = HeaderMap::new();
    let mut chunked = false;
    for line in lines {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let k = k.trim().to_ascii_lowercase();
        let v = v.trim();
        if k == "transfer-encoding" {
            chunked = v.eq_ignore_ascii_case("chunked");
            continue;
        }
        if matches!(k.as_str(), "connection" | "content-length") {
            continue;
        }
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(k), HeaderValue::from_str(v)) {
            headers.append(name, value);
        }
    }
    if chunked {
        payload = dechunk(&payload)?;
    }
    let mut r = Response::new(Body::from(payload));
    *r.status_mut() = StatusCode::from_u16(status).map_err(|_| bad("bad status"))?;
    *r.headers_mut() = headers;
    Ok(r)
}

fn dechunk(mut data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| bad("chunk size line"))?;
        let size_text = String::from_utf8_lossy(&data[..eol]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| bad("chunk size"))?;
        data = &data[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        if data.len() < size + 2 {
            return Err(bad("truncated chunk"));
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use axum::http::{Method, Uri};

    fn root() -> Uri {
        Uri::from_static("/")
    }

    #[test]
    fn recognises_s3_rest_operations_by_method_path_and_query() {
        let mut h = HeaderMap::new();
        h.insert(
            "authorization",
            HeaderValue::from_static(
                "AWS4-HMAC-SHA256 Credential=testing/20261201/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=x",
            ),
        );
        let op = |m: Method, uri: &'static str| {
            let (op, protocol) = recognise(&m, &Uri::from_static(uri), &h, b"");
            assert_eq!(protocol, Protocol::RestXml);
            op
        };
        assert_eq!(
            op(Method::PUT, "/b/evidence/a/r/x/report.html?x-id=PutObject"),
            "S3.PutObject"
        );
        assert_eq!(op(Method::GET, "/b/evidence/a/latest.json"), "S3.GetObject");
        assert_eq!(
            op(Method::GET, "/b?list-type=2&prefix=evidence%2F"),
            "S3.ListObjectsV2"
        );
        assert_eq!(op(Method::PUT, "/b"), "S3.CreateBucket");
        assert_eq!(
            op(Method::PUT, "/b?object-lock"),
            "S3.PutObjectLockConfiguration"
        );
        let r = error_response("S3.PutObject", Protocol::RestXml, InjectedError::Throttling);
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    }

    #[test]
    fn recognises_json_and_query_operations() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-amz-target",
            HeaderValue::from_static("DynamoDB_20120810.PutItem"),
        );
        assert_eq!(
            recognise(&Method::POST, &root(), &h, b"{}"),
            ("DynamoDB.PutItem".to_string(), Protocol::Json10)
        );
        h.insert(
            "x-amz-target",
            HeaderValue::from_static("ResourceGroupsTaggingAPI_20170126.GetResources"),
        );
        assert_eq!(
            recognise(&Method::POST, &root(), &h, b"{}").0,
            "ResourceGroupsTaggingAPI.GetResources"
        );
        h.insert(
            "x-amz-target",
            HeaderValue::from_static("TrentService.DescribeKey"),
        );
        assert_eq!(
            recognise(&Method::POST, &root(), &h, b"{}"),
            ("KMS.DescribeKey".to_string(), Protocol::Json11)
        );
        h.insert(
            "x-amz-target",
            HeaderValue::from_static("AWSOrganizationsV20161128.ListAccountsForParent"),
        );
        assert_eq!(
            recognise(&Method::POST, &root(), &h, b"{}"),
            (
                "Organizations.ListAccountsForParent".to_string(),
                Protocol::Json11
            )
        );
        assert_eq!(
            paging_members("Organizations.ListOrganizationalUnitsForParent"),
            Some(("NextToken", "MaxResults"))
        );
        let r = error_response(
            "Organizations.ListAccounts",
            Protocol::Json11,
            InjectedError::Throttling,
        );
        assert_eq!(
            r.headers().get("x-amzn-errortype").unwrap(),
            "TooManyRequestsException"
        );
        let q = HeaderMap::new();
        assert_eq!(
            recognise(
                &Method::POST,
                &root(),
                &q,
                b"Action=AssumeRole&Version=2011-06-15&RoleArn=x"
            )
            .0,
            "STS.AssumeRole"
        );
        assert_eq!(
            recognise(
                &Method::POST,
                &root(),
                &q,
                b"Action=Publish&Version=2010-03-31&TopicArn=x"
            )
            .0,
            "SNS.Publish"
        );
        assert_eq!(
            recognise(
                &Method::POST,
                &root(),
                &q,
                b"Action=GetCallerIdentity&Version=2011-06-15"
            )
            .0,
            "STS.GetCallerIdentity"
        );
    }

    #[test]
    fn dechunks_and_parses_an_answer() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        let r = parse_response(raw).unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.headers().get("transfer-encoding").is_none());
        assert_eq!(dechunk(b"3\r\nabc\r\n0\r\n\r\n").unwrap(), b"abc");
    }
}
