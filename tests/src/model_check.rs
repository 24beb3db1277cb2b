//! The stand-in follows AWS, never our code: a checker of HTTP exchanges against AWS's own
//! AWS Backup API model (botocore's `backup/2018-11-15/service-2.json`).
//!
//! [`Model::load`] reads the model that `make venv` installs to
//! `.venv/share/botocore-backup/service-2.json` (the botocore release pinned with its hash in
//! `requirements-model.txt`; the venv's own botocore is older, held back by checkov), or the
//! file named by `$BG_BOTOCORE_BACKUP_MODEL`. It fails with a message naming `make venv` when
//! the file is absent, so a missing model is never a silently skipped check.
//!
//! For one [`Operation`] the checker:
//! - builds the request from the model ([`Operation::render`]): the `http` method and the
//!   `requestUri` template with its path labels filled in, query-string names taken from the
//!   input members' `locationName`s; a label or query name the model does not have is a
//!   violation, so a caller cannot test a spelling AWS does not use;
//! - checks a success response ([`Operation::check_response`]): the status is the model's
//!   `responseCode` (200 if unset); the JSON body against the output shape, recursively:
//!   every member present is in the shape (name case-exact), its JSON type is the shape's
//!   (string, integer/long as JSON integers in range, boolean, timestamp as epoch seconds —
//!   REST-JSON's default, list, map, structure), enum values are in the enum, required members
//!   are present, no member is `null` (AWS omits absent members); an operation without output
//!   shape answers with an empty body;
//! - checks an error response ([`Operation::check_error`]): the `x-amzn-ErrorType` header
//!   carries the code (REST-JSON's first source of the code), `__type`/`code` in the body, if
//!   present, agree with it, a `Message` is present, the body's other members are the error
//!   shape's, `fault` errors are 5xx and the others 4xx, and the code is one the operation
//!   declares or one of AWS's common errors ([`COMMON_ERRORS`]);
//! - gives the pagination bounds ([`Operation::page_bounds`]) from the `MaxResults` member's
//!   shape (`min`/`max`) when the input has both `NextToken` and `MaxResults` in the query.
//!
//! Every finding is a [`Violation`] with a JSON path (`$.BackupPlan.Rules[0].RuleName`) or a
//! request part (`request.method`), so one test lists all of them at once.

use serde_json::{Map, Value};
use std::fmt;
use std::path::{Path, PathBuf};

/// Environment variable naming the `service-2.json` to read instead of the venv's.
pub const MODEL_ENV: &str = "BG_BOTOCORE_BACKUP_MODEL";

/// Errors every AWS service may return besides those an operation declares (the AWS API
/// common errors); the model has no shape for them, so only the protocol is checked.
pub const COMMON_ERRORS: &[&str] = &[
    "AccessDeniedException",
    "IncompleteSignature",
    "InternalFailure",
    "InvalidAction",
    "InvalidClientTokenId",
    "NotAuthorized",
    "OptInRequired",
    "RequestExpired",
    "ServiceUnavailable",
    "ThrottlingException",
    "UnknownOperationException",
    "UnrecognizedClientException",
    "ValidationError",
    "ValidationException",
];

/// Where `make venv` installs the model: `<workspace>/.venv/share/botocore-backup/service-2.json`.
pub fn default_model_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(".venv/share/botocore-backup/service-2.json")
}

/// The botocore release `requirements-model.txt` pins (`botocore==X.Y.Z`), if readable.
pub fn pinned_version() -> Option<String> {
    let pins = Path::new(env!("CARGO_MANIFEST_DIR")).join("../requirements-model.txt");
    let text = std::fs::read_to_string(pins).ok()?;
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .find_map(|l| l.trim().strip_prefix("botocore=="))
        .and_then(|rest| rest.split_whitespace().next())
        .map(str::to_string)
}

/// The model could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The file is absent or unreadable.
    #[error(
        "AWS Backup API model not readable at {path} ({reason}): run `make venv` (it downloads the botocore pinned in requirements-model.txt and extracts its backup model there), or set {MODEL_ENV} to a botocore backup service-2.json"
    )]
    Missing {
        /// The path tried.
        path: String,
        /// The I/O error.
        reason: String,
    },
    /// The installed model is of another botocore release than the pinned one.
    #[error(
        "the AWS Backup API model at {path} is botocore {installed}, but requirements-model.txt pins {pinned}: run `make venv`"
    )]
    Stale {
        /// The model file.
        path: String,
        /// The release its VERSION file names.
        installed: String,
        /// The release requirements-model.txt pins.
        pinned: String,
    },
    /// The file is not a botocore model of AWS Backup.
    #[error("{origin} is not botocore's AWS Backup service model: {reason}")]
    Invalid {
        /// Where the text came from.
        origin: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The model has no such operation.
    #[error(
        "the AWS Backup model has no operation {0:?} (names are case-exact, e.g. ListBackupJobs)"
    )]
    UnknownOperation(String),
}

/// One way an exchange departs from the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// JSON path into the body (`$.BackupVaultList[2].VaultState`), or `request.*`,
    /// `status`, `header.*`.
    pub path: String,
    /// What is wrong, naming what the model says.
    pub problem: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.problem)
    }
}

fn v(path: impl Into<String>, problem: impl Into<String>) -> Violation {
    Violation {
        path: path.into(),
        problem: problem.into(),
    }
}

/// An HTTP response as the checker sees it.
#[derive(Debug, Clone, Copy)]
pub struct Exchange<'a> {
    /// HTTP status.
    pub status: u16,
    /// `x-amzn-ErrorType`, if the response had it.
    pub error_type_header: Option<&'a str>,
    /// `x-amzn-RequestId`, if the response had it.
    pub request_id_header: Option<&'a str>,
    /// The body bytes.
    pub body: &'a [u8],
}

impl<'a> From<&'a crate::http::Response> for Exchange<'a> {
    fn from(r: &'a crate::http::Response) -> Self {
        Exchange {
            status: r.status,
            error_type_header: r.header("x-amzn-errortype"),
            request_id_header: r.header("x-amzn-requestid"),
            body: &r.body,
        }
    }
}

/// AWS's AWS Backup API model.
#[derive(Debug, Clone)]
pub struct Model {
    origin: String,
    operations: Map<String, Value>,
    shapes: Map<String, Value>,
}

impl Model {
    /// Reads the model from `$BG_BOTOCORE_BACKUP_MODEL` or [`default_model_path`].
    pub fn load() -> Result<Model, ModelError> {
        let path = std::env::var_os(MODEL_ENV)
            .map(PathBuf::from)
            .unwrap_or_else(default_model_path);
        let text = std::fs::read_to_string(&path).map_err(|e| ModelError::Missing {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        // The installer writes VERSION beside the model: it must be the pinned release.
        let installed = path
            .parent()
            .map(|d| d.join("VERSION"))
            .and_then(|f| std::fs::read_to_string(f).ok());
        if let (Some(installed), Some(pinned)) = (installed, pinned_version()) {
            let installed = installed
                .trim()
                .trim_start_matches("botocore==")
                .to_string();
            if installed != pinned {
                return Err(ModelError::Stale {
                    path: path.display().to_string(),
                    installed,
                    pinned,
                });
            }
        }
        Self::from_json(&text, &path.display().to_string())
    }

    /// Parses a botocore `service-2.json` text; `origin` names it in errors.
    pub fn from_json(text: &str, origin: &str) -> Result<Model, ModelError> {
        let invalid = |reason: String| ModelError::Invalid {
            origin: origin.to_string(),
            reason,
        };
        let mut doc: Value = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let service = doc
            .pointer("/metadata/serviceId")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if service != "Backup" {
            return Err(invalid(format!(
                "metadata.serviceId is {service:?}, not \"Backup\""
            )));
        }
        let mut take = |key: &str| match doc.get_mut(key).map(Value::take) {
            Some(Value::Object(m)) => Ok(m),
            _ => Err(invalid(format!("no {key} object"))),
        };
        let operations = take("operations")?;
        let shapes = take("shapes")?;
        Ok(Model {
            origin: origin.to_string(),
            operations,
            shapes,
        })
    }

    /// Where the model was read from.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The operation `name` (e.g. `ListBackupJobs`).
    pub fn operation(&self, name: &str) -> Result<Operation<'_>, ModelError> {
        match self.operations.get(name).filter(|o| o.is_object()) {
            Some(op) => Ok(Operation {
                model: self,
                name: name.to_string(),
                op,
            }),
            None => Err(ModelError::UnknownOperation(name.to_string())),
        }
    }

    fn shape(&self, name: &str) -> Option<&Value> {
        self.shapes.get(name).filter(|s| s.is_object())
    }

    /// Checks `value` (found at `path`) against shape `shape`, recursively.
    pub fn check_shape(&self, shape: &str, value: &Value, path: &str) -> Vec<Violation> {
        let mut out = Vec::new();
        self.walk(shape, None, value, path, &mut out);
        out
    }

    fn walk(
        &self,
        shape_name: &str,
        member: Option<&Map<String, Value>>,
        value: &Value,
        path: &str,
        out: &mut Vec<Violation>,
    ) {
        let Some(shape) = self.shape(shape_name) else {
            out.push(v(path, format!("model has no shape {shape_name:?}")));
            return;
        };
        if value.is_null() {
            out.push(v(
                path,
                "is null: AWS omits a member that has no value, it never sends null",
            ));
            return;
        }
        let kind = shape
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let wrong = |out: &mut Vec<Violation>| {
            out.push(v(
                path,
                format!(
                    "is {}, but shape {shape_name} is of type {kind}",
                    json_kind(value)
                ),
            ));
        };
        match kind {
            "structure" => {
                let Some(obj) = value.as_object() else {
                    return wrong(out);
                };
                let members = shape.get("members").and_then(Value::as_object);
                for (key, item) in obj {
                    let m = members
                        .and_then(|ms| ms.get(key))
                        .and_then(Value::as_object);
                    let Some(m) = m else {
                        let hint = members
                            .and_then(|ms| ms.keys().find(|k| k.eq_ignore_ascii_case(key)))
                            .map(|k| format!(" (AWS spells it {k:?})"))
                            .unwrap_or_default();
                        out.push(v(
                            format!("{path}.{key}"),
                            format!("is not a member of {shape_name}{hint}"),
                        ));
                        continue;
                    };
                    if let Some(loc) = m.get("location").and_then(Value::as_str) {
                        out.push(v(
                            format!("{path}.{key}"),
                            format!("is bound to the {loc} in {shape_name}, not to the JSON body"),
                        ));
                        continue;
                    }
                    let target = m.get("shape").and_then(Value::as_str).unwrap_or_default();
                    self.walk(target, Some(m), item, &format!("{path}.{key}"), out);
                }
                let bound = |name: &str| {
                    members
                        .and_then(|ms| ms.get(name))
                        .is_some_and(|m| m.get("location").is_some())
                };
                for req in shape
                    .get("required")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    if !obj.contains_key(req) && !bound(req) {
                        out.push(v(
                            format!("{path}.{req}"),
                            format!("is required by {shape_name} but missing"),
                        ));
                    }
                }
            }
            "list" => {
                let Some(items) = value.as_array() else {
                    return wrong(out);
                };
                let target = shape
                    .pointer("/member/shape")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                for (i, item) in items.iter().enumerate() {
                    self.walk(target, None, item, &format!("{path}[{i}]"), out);
                }
            }
            "map" => {
                let Some(obj) = value.as_object() else {
                    return wrong(out);
                };
                let key_shape = shape
                    .pointer("/key/shape")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let value_shape = shape
                    .pointer("/value/shape")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                for (k, item) in obj {
                    let p = format!("{path}[{k:?}]");
                    self.walk(key_shape, None, &Value::String(k.clone()), &p, out);
                    self.walk(value_shape, None, item, &p, out);
                }
            }
            "string" => {
                let Some(s) = value.as_str() else {
                    return wrong(out);
                };
                let chars = i64::try_from(s.chars().count()).unwrap_or(i64::MAX);
                out.extend(bounds(shape, shape_name, chars, "length", path));
                if let Some(values) = shape.get("enum").and_then(Value::as_array)
                    && !values.iter().any(|e| e.as_str() == Some(s))
                {
                    let list: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
                    out.push(v(
                        path,
                        format!("{s:?} is not in enum {shape_name} ({})", list.join(", ")),
                    ));
                }
            }
            "integer" | "long" => match value.as_i64() {
                Some(n) if kind == "long" || i32::try_from(n).is_ok() => {
                    out.extend(bounds(shape, shape_name, n, "value", path));
                }
                _ => wrong(out),
            },
            "boolean" => {
                if !value.is_boolean() {
                    wrong(out);
                }
            }
            "double" | "float" => {
                if !value.is_number() {
                    wrong(out);
                }
            }
            "timestamp" => {
                let format = member
                    .and_then(|m| m.get("timestampFormat"))
                    .or_else(|| shape.get("timestampFormat"))
                    .and_then(Value::as_str)
                    .unwrap_or("unixTimestamp");
                let ok = match format {
                    "unixTimestamp" => value.is_number(),
                    _ => value.is_string(),
                };
                if !ok {
                    out.push(v(
                        path,
                        format!(
                            "is {}, but a timestamp of REST-JSON ({format}) is {}",
                            json_kind(value),
                            if format == "unixTimestamp" {
                                "a number of epoch seconds"
                            } else {
                                "a string"
                            }
                        ),
                    ));
                }
            }
            "blob" => {
                if !value.is_string() {
                    wrong(out);
                }
            }
            other => out.push(v(
                path,
                format!("shape {shape_name} has unknown type {other:?}"),
            )),
        }
    }
}

/// The shape's `min`/`max` against `n` (a string's length or a number's value).
fn bounds(shape: &Value, shape_name: &str, n: i64, what: &str, path: &str) -> Option<Violation> {
    let min = shape.get("min").and_then(Value::as_i64);
    let max = shape.get("max").and_then(Value::as_i64);
    let outside = min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m);
    outside.then(|| {
        let range = |b: Option<i64>| b.map(|b| b.to_string()).unwrap_or_default();
        v(
            path,
            format!(
                "{what} {n} is outside {shape_name}'s {}..={}",
                range(min),
                range(max)
            ),
        )
    })
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a fractional number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// One input member bound to the HTTP request line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The member name (e.g. `ByResourceType`).
    pub member: String,
    /// `uri` or `querystring`.
    pub location: String,
    /// The name on the wire (e.g. `resourceType`).
    pub wire_name: String,
}

/// `MaxResults` bounds of a paginated operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageBounds {
    /// The query-string name of `MaxResults` (e.g. `maxResults`).
    pub max_results: String,
    /// The query-string name of `NextToken` (e.g. `nextToken`).
    pub next_token: String,
    /// The smallest page size AWS accepts.
    pub min: i64,
    /// The largest page size AWS accepts.
    pub max: i64,
}

/// One operation of the model.
#[derive(Debug, Clone)]
pub struct Operation<'m> {
    model: &'m Model,
    name: String,
    op: &'m Value,
}

impl Operation<'_> {
    /// The operation name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The HTTP method (`GET`, `PUT`, ...).
    pub fn method(&self) -> &str {
        self.op
            .pointer("/http/method")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// The `requestUri` template, e.g. `/backup-vaults/{backupVaultName}/recovery-points/`.
    pub fn request_uri(&self) -> &str {
        self.op
            .pointer("/http/requestUri")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// The status of a success: `http.responseCode`, else 200.
    pub fn response_code(&self) -> u16 {
        self.op
            .pointer("/http/responseCode")
            .and_then(Value::as_u64)
            .and_then(|c| u16::try_from(c).ok())
            .unwrap_or(200)
    }

    fn io_shape(&self, which: &str) -> Option<&str> {
        self.op
            .get(which)
            .and_then(|s| s.get("shape"))
            .and_then(Value::as_str)
    }

    /// The output shape's name, if the operation has one.
    pub fn output_shape(&self) -> Option<&str> {
        self.io_shape("output")
    }

    /// The error codes the operation declares.
    pub fn errors(&self) -> Vec<&str> {
        self.op
            .get("errors")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|e| e.get("shape").and_then(Value::as_str))
            .collect()
    }

    fn input_members(&self) -> Option<&Map<String, Value>> {
        let input = self.io_shape("input")?;
        self.model.shape(input)?.get("members")?.as_object()
    }

    /// The input members bound to the path (`uri`) and the query string.
    pub fn bindings(&self) -> Vec<Binding> {
        let mut out = Vec::new();
        for (name, m) in self.input_members().into_iter().flatten() {
            let loc = m.get("location").and_then(Value::as_str);
            if let Some(loc @ ("uri" | "querystring")) = loc {
                out.push(Binding {
                    member: name.clone(),
                    location: loc.to_string(),
                    wire_name: m
                        .get("locationName")
                        .and_then(Value::as_str)
                        .unwrap_or(name)
                        .to_string(),
                });
            }
        }
        out
    }

    /// The query-string names the operation takes (wire names, e.g. `maxResults`).
    pub fn query_names(&self) -> Vec<String> {
        self.bindings()
            .into_iter()
            .filter(|b| b.location == "querystring")
            .map(|b| b.wire_name)
            .collect()
    }

    /// The request target (`/path?query`) built from the model: `labels` fill the
    /// `requestUri`'s `{label}`s (percent-encoded, `/` included unless the label is greedy
    /// `{label+}`), `query` pairs are appended. A label or query name that the model does not
    /// have, or a label left unfilled, is a violation.
    pub fn render(
        &self,
        labels: &[(&str, &str)],
        query: &[(&str, &str)],
    ) -> Result<String, Vec<Violation>> {
        let mut problems = Vec::new();
        let template = self.request_uri();
        let (path_t, literal_query) = template.split_once('?').unwrap_or((template, ""));
        let mut path = String::new();
        let mut rest = path_t;
        let mut used = Vec::new();
        while let Some(start) = rest.find('{') {
            path.push_str(&rest[..start]);
            let Some(len) = rest[start..].find('}') else {
                problems.push(v("request.uri", format!("bad template {template:?}")));
                break;
            };
            let label = &rest[start + 1..start + len];
            let (label, greedy) = match label.strip_suffix('+') {
                Some(l) => (l, true),
                None => (label, false),
            };
            match labels.iter().find(|(k, _)| *k == label) {
                Some((_, value)) => {
                    path.push_str(&encode(value, greedy));
                    used.push(label);
                }
                None => problems.push(v(
                    format!("request.uri.{label}"),
                    format!("label of {} {template} not given", self.name),
                )),
            }
            rest = &rest[start + len + 1..];
        }
        path.push_str(rest);
        for (k, _) in labels {
            if !used.contains(k) {
                problems.push(v(
                    format!("request.uri.{k}"),
                    format!("{} {template} has no label {k:?}", self.name),
                ));
            }
        }
        let names = self.query_names();
        let mut pairs: Vec<String> = literal_query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect();
        for (k, value) in query {
            if !names.iter().any(|n| n == k) {
                problems.push(v(
                    format!("request.query.{k}"),
                    format!(
                        "{} has no query-string parameter {k:?} (the model's: {})",
                        self.name,
                        names.join(", ")
                    ),
                ));
            }
            pairs.push(format!("{}={}", encode(k, false), encode(value, false)));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        if !pairs.is_empty() {
            path.push('?');
            path.push_str(&pairs.join("&"));
        }
        Ok(path)
    }

    /// Checks a request's JSON body against the input shape (members bound to the path,
    /// query or headers excluded), so a test cannot send what AWS would not accept.
    pub fn check_request_body(&self, body: &Value) -> Vec<Violation> {
        match self.io_shape("input") {
            Some(shape) => self.model.check_shape(shape, body, "request.body"),
            None => vec![v("request.body", format!("{} takes no input", self.name))],
        }
    }

    /// The query-string members of integer type with `min`/`max` bounds in their shape
    /// (`maxResults`, `MaxScheduledRunsPreview`, ...): `(wire name, min, max)`.
    pub fn bounded_query(&self) -> Vec<(String, Option<i64>, Option<i64>)> {
        let mut out = Vec::new();
        for (name, m) in self.input_members().into_iter().flatten() {
            if m.get("location").and_then(Value::as_str) != Some("querystring") {
                continue;
            }
            let shape = m
                .get("shape")
                .and_then(Value::as_str)
                .and_then(|s| self.model.shape(s));
            let Some(shape) = shape else { continue };
            let kind = shape.get("type").and_then(Value::as_str);
            let min = shape.get("min").and_then(Value::as_i64);
            let max = shape.get("max").and_then(Value::as_i64);
            if matches!(kind, Some("integer" | "long")) && (min.is_some() || max.is_some()) {
                let wire = m
                    .get("locationName")
                    .and_then(Value::as_str)
                    .unwrap_or(name);
                out.push((wire.to_string(), min, max));
            }
        }
        out
    }

    /// Checks query values against their members' shapes as the REST-JSON protocol writes
    /// them: booleans `true`/`false`, integers, timestamps in ISO 8601 (the query string's
    /// default), enum values in the enum. (Bounds are left out: tests send values past
    /// them on purpose.)
    pub fn check_query_values(&self, query: &[(&str, &str)]) -> Vec<Violation> {
        let mut out = Vec::new();
        let members = self.input_members();
        for (k, value) in query {
            let shape_name = members
                .into_iter()
                .flatten()
                .map(|(_, m)| m)
                .find(|m| {
                    m.get("location").and_then(Value::as_str) == Some("querystring")
                        && m.get("locationName").and_then(Value::as_str) == Some(k)
                })
                .and_then(|m| m.get("shape"))
                .and_then(Value::as_str);
            let Some((shape_name, shape)) =
                shape_name.and_then(|n| self.model.shape(n).map(|s| (n, s)))
            else {
                continue; // render() reports unknown names
            };
            let path = format!("request.query.{k}");
            let ok = match shape.get("type").and_then(Value::as_str) {
                Some("boolean") => matches!(*value, "true" | "false"),
                Some("integer" | "long") => value.parse::<i64>().is_ok(),
                Some("timestamp") => value.parse::<jiff::Timestamp>().is_ok(),
                Some("string") => match shape.get("enum").and_then(Value::as_array) {
                    Some(values) => values.iter().any(|e| e.as_str() == Some(value)),
                    None => true,
                },
                _ => true,
            };
            if !ok {
                out.push(v(path, format!("{value:?} is not a valid {shape_name}")));
            }
        }
        out
    }

    /// The pagination bounds, if the input has `NextToken` and `MaxResults` query members
    /// and `MaxResults`' shape has `min`/`max`.
    pub fn page_bounds(&self) -> Option<PageBounds> {
        let members = self.input_members()?;
        let wire = |name: &str| {
            let m = members.get(name)?;
            (m.get("location").and_then(Value::as_str) == Some("querystring"))
                .then(|| m.get("locationName").and_then(Value::as_str))
                .flatten()
        };
        let next_token = wire("NextToken")?.to_string();
        let max_results = wire("MaxResults")?.to_string();
        let shape = members.get("MaxResults")?.get("shape")?.as_str()?;
        let shape = self.model.shape(shape)?;
        Some(PageBounds {
            max_results,
            next_token,
            min: shape.get("min").and_then(Value::as_i64).unwrap_or(1),
            max: shape.get("max").and_then(Value::as_i64)?,
        })
    }

    /// Checks a success response: status and body against the output shape.
    pub fn check_response(&self, r: Exchange<'_>) -> Vec<Violation> {
        let mut out = request_id(r);
        let expected = self.response_code();
        if r.status != expected {
            out.push(v(
                "status",
                format!(
                    "{} answered {}, the model's success status is {expected}",
                    self.name, r.status
                ),
            ));
        }
        let Some(shape) = self.output_shape() else {
            if !r.body.is_empty() {
                out.push(v(
                    "$",
                    format!(
                        "{} has no output shape, so AWS sends an empty body, not {:?}",
                        self.name,
                        String::from_utf8_lossy(&r.body[..r.body.len().min(80)])
                    ),
                ));
            }
            return out;
        };
        match serde_json::from_slice::<Value>(r.body) {
            Ok(body) => out.extend(self.model.check_shape(shape, &body, "$")),
            Err(e) => out.push(v("$", format!("body is not JSON ({e})"))),
        }
        out
    }

    /// Checks an error response that should carry error `code`.
    pub fn check_error(&self, r: Exchange<'_>, code: &str) -> Vec<Violation> {
        if r.status < 400 {
            return vec![v(
                "status",
                format!(
                    "{} answered {} where AWS answers {code}: {}",
                    self.name,
                    r.status,
                    String::from_utf8_lossy(&r.body[..r.body.len().min(120)])
                ),
            )];
        }
        let mut out = request_id(r);
        let shape = self
            .model
            .shape(code)
            .filter(|s| s.get("exception").and_then(Value::as_bool) == Some(true));
        let common = COMMON_ERRORS.contains(&code);
        if shape.is_none() && !common {
            out.push(v(
                "code",
                format!("{code} is neither an error shape of the model nor an AWS common error"),
            ));
        }
        if shape.is_some() && !self.errors().contains(&code) {
            out.push(v(
                "code",
                format!(
                    "{} does not declare {code} (it declares {})",
                    self.name,
                    self.errors().join(", ")
                ),
            ));
        }
        let fault = shape.and_then(|s| s.get("fault")).and_then(Value::as_bool) == Some(true)
            || matches!(code, "InternalFailure" | "ServiceUnavailable");
        let status_ok = if fault {
            (500..600).contains(&r.status)
        } else {
            (400..500).contains(&r.status) || (common && r.status >= 500)
        };
        if !status_ok {
            out.push(v(
                "status",
                format!(
                    "{} for {code}: a {} error is {}",
                    r.status,
                    if fault { "server (fault)" } else { "client" },
                    if fault { "5xx" } else { "4xx" }
                ),
            ));
        }
        match r
            .error_type_header
            .map(|h| h.split(':').next().unwrap_or_default())
        {
            Some(h) if h == code => {}
            Some(h) => out.push(v(
                "header.x-amzn-ErrorType",
                format!("is {h:?}, not {code:?}"),
            )),
            None => out.push(v(
                "header.x-amzn-ErrorType",
                "missing: REST-JSON clients read the error code from it first",
            )),
        }
        let body: Value = match serde_json::from_slice(r.body) {
            Ok(b) => b,
            Err(e) => {
                out.push(v("$", format!("error body is not JSON ({e})")));
                return out;
            }
        };
        let Some(obj) = body.as_object() else {
            out.push(v("$", "error body is not a JSON object"));
            return out;
        };
        for field in ["__type", "code"] {
            if let Some(t) = obj.get(field) {
                let t = t.as_str().unwrap_or_default();
                let bare = t.rsplit('#').next().unwrap_or_default();
                let bare = bare.split(':').next().unwrap_or_default();
                if bare != code {
                    out.push(v(format!("$.{field}"), format!("is {t:?}, not {code:?}")));
                }
            }
        }
        if !obj.contains_key("Message") && !obj.contains_key("message") {
            out.push(v("$.Message", "missing: AWS errors carry a message"));
        }
        let rest: Map<String, Value> = obj
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "__type" | "code"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if shape.is_some() {
            out.extend(self.model.check_shape(code, &Value::Object(rest), "$"));
        } else {
            for k in rest
                .keys()
                .filter(|k| !matches!(k.as_str(), "Message" | "message"))
            {
                out.push(v(
                    format!("$.{k}"),
                    format!("common error {code} has only a message"),
                ));
            }
        }
        out
    }
}

/// Every AWS response carries `x-amzn-RequestId` (the SDK reports it with every error).
fn request_id(r: Exchange<'_>) -> Vec<Violation> {
    match r.request_id_header {
        Some(id) if !id.is_empty() => Vec::new(),
        _ => vec![v(
            "header.x-amzn-RequestId",
            "missing: every AWS response has one",
        )],
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters (and `/` when `keep_slash`).
fn encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || (keep_slash && b == b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn model() -> Model {
        let doc = json!({
            "metadata": {"serviceId": "Backup"},
            "operations": {
                "ListThings": {
                    "http": {"method": "GET", "requestUri": "/vaults/{name}/things/"},
                    "input": {"shape": "ListThingsInput"},
                    "output": {"shape": "ListThingsOutput"},
                    "errors": [{"shape": "NotFound"}]
                }
            },
            "shapes": {
                "ListThingsInput": {"type": "structure", "required": ["Name"], "members": {
                    "Name": {"shape": "string", "location": "uri", "locationName": "name"},
                    "ByState": {"shape": "State", "location": "querystring", "locationName": "state"},
                    "NextToken": {"shape": "string", "location": "querystring", "locationName": "nextToken"},
                    "MaxResults": {"shape": "Max", "location": "querystring", "locationName": "maxResults"}
                }},
                "ListThingsOutput": {"type": "structure", "members": {
                    "Things": {"shape": "Things"}, "NextToken": {"shape": "string"}
                }},
                "Things": {"type": "list", "member": {"shape": "Thing"}},
                "Thing": {"type": "structure", "required": ["Id"], "members": {
                    "Id": {"shape": "string"}, "State": {"shape": "State"},
                    "Size": {"shape": "integer"}, "At": {"shape": "timestamp"},
                    "Tags": {"shape": "Tags"}
                }},
                "Tags": {"type": "map", "key": {"shape": "string"}, "value": {"shape": "string"}},
                "State": {"type": "string", "enum": ["ON", "OFF"]},
                "Max": {"type": "integer", "min": 1, "max": 50},
                "Short": {"type": "string", "min": 2, "max": 3},
                "NotFound": {"type": "structure", "members": {"Message": {"shape": "string"}}, "exception": true},
                "string": {"type": "string"}, "integer": {"type": "integer"},
                "timestamp": {"type": "timestamp"}
            }
        });
        Model::from_json(&doc.to_string(), "test").unwrap()
    }

    fn problems(vs: &[Violation]) -> Vec<String> {
        vs.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_body_is_checked_member_by_member_with_json_paths() {
        let m = model();
        let op = m.operation("ListThings").unwrap();
        let good = json!({"Things": [{"Id": "a", "State": "ON", "Size": 3, "At": 1.5e9, "Tags": {"k": "v"}}]});
        let body = good.to_string();
        let r = Exchange {
            status: 200,
            error_type_header: None,
            request_id_header: Some("r-1"),
            body: body.as_bytes(),
        };
        assert!(op.check_response(r).is_empty());
        let bad = json!({"Things": [{"id": "a", "State": "DONE", "Size": 1.5, "At": "2026-01-01T00:00:00Z", "Tags": {"k": 1}}], "NextToken": null});
        let body = bad.to_string();
        let r = Exchange {
            status: 201,
            error_type_header: None,
            request_id_header: Some("r-1"),
            body: body.as_bytes(),
        };
        let got = problems(&op.check_response(r));
        for want in [
            "status: ListThings answered 201",
            "$.Things[0].id: is not a member of Thing (AWS spells it \"Id\")",
            "$.Things[0].State: \"DONE\" is not in enum State (ON, OFF)",
            "$.Things[0].Size: is a fractional number, but shape integer is of type integer",
            "$.Things[0].At: is a string, but a timestamp",
            "$.Things[0].Tags[\"k\"]: is an integer, but shape string is of type string",
            "$.Things[0].Id: is required by Thing but missing",
            "$.NextToken: is null",
        ] {
            assert!(
                got.iter().any(|g| g.starts_with(want)),
                "{want:?} not in {got:#?}"
            );
        }
        assert_eq!(got.len(), 8, "{got:#?}");
        let got = problems(&m.check_shape("Short", &json!("abcd"), "$.S"));
        assert_eq!(got, ["$.S: length 4 is outside Short's 2..=3"]);
        let got = problems(&m.check_shape("Max", &json!(51), "$.M"));
        assert_eq!(got, ["$.M: value 51 is outside Max's 1..=50"]);
        assert!(m.check_shape("Max", &json!(50), "$.M").is_empty());
    }

    #[test]
    fn requests_are_rendered_from_the_model_and_foreign_names_refused() {
        let m = model();
        let op = m.operation("ListThings").unwrap();
        assert_eq!(op.method(), "GET");
        assert_eq!(
            op.render(&[("name", "a/b c")], &[("state", "ON")]).unwrap(),
            "/vaults/a%2Fb%20c/things/?state=ON"
        );
        let err = problems(
            &op.render(&[("vault", "x")], &[("State", "ON")])
                .unwrap_err(),
        );
        assert_eq!(err.len(), 3, "{err:#?}");
        assert!(err[0].starts_with("request.uri.name: label"));
        assert!(err[2].contains("no query-string parameter \"State\""));
        assert_eq!(
            op.page_bounds(),
            Some(PageBounds {
                max_results: "maxResults".into(),
                next_token: "nextToken".into(),
                min: 1,
                max: 50
            })
        );
        assert!(op.check_query_values(&[("state", "ON")]).is_empty());
        assert_eq!(op.check_query_values(&[("state", "on")]).len(), 1);
        assert_eq!(
            op.bounded_query(),
            [("maxResults".to_string(), Some(1), Some(50))]
        );
        assert!(matches!(
            m.operation("listThings"),
            Err(ModelError::UnknownOperation(_))
        ));
    }

    #[test]
    fn errors_need_the_header_a_message_and_a_declared_code() {
        let m = model();
        let op = m.operation("ListThings").unwrap();
        let body = json!({"__type": "NotFound", "Message": "no"}).to_string();
        let ok = Exchange {
            status: 404,
            error_type_header: Some("NotFound:http://internal"),
            request_id_header: Some("r-1"),
            body: body.as_bytes(),
        };
        assert!(op.check_error(ok, "NotFound").is_empty());
        let body = json!({"__type": "Other", "Reason": "x"}).to_string();
        let bad = Exchange {
            status: 500,
            error_type_header: None,
            request_id_header: None,
            body: body.as_bytes(),
        };
        let got = problems(&op.check_error(bad, "NotFound"));
        assert_eq!(got.len(), 6, "{got:#?}");
        assert!(got[0].starts_with("header.x-amzn-RequestId: missing"));
        let body = json!({"message": "slow down"}).to_string();
        let throttled = Exchange {
            status: 400,
            error_type_header: Some("ThrottlingException"),
            request_id_header: Some("r-1"),
            body: body.as_bytes(),
        };
        assert!(op.check_error(throttled, "ThrottlingException").is_empty());
        assert_eq!(op.check_error(throttled, "Throttled").len(), 2);
    }

    #[test]
    fn a_missing_model_names_make_venv() {
        let e = Model::from_json("{}", "x").unwrap_err().to_string();
        assert!(e.contains("serviceId"), "{e}");
        let e = ModelError::Missing {
            path: "p".into(),
            reason: "gone".into(),
        }
        .to_string();
        assert!(e.contains("make venv") && e.contains(MODEL_ENV), "{e}");
        let pinned = pinned_version().unwrap();
        assert_eq!(pinned.split('.').count(), 3, "{pinned}");
    }
}
