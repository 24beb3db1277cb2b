//! Parsing the CloudTrail "AWS API Call via CloudTrail" events EventBridge delivers.
//!
//! Pure: no I/O. The envelope is `aws_lambda_events`' [`EventBridgeEvent`]; the CloudTrail
//! `detail` is our own [`CloudTrailDetail`], which declares only the fields the guard reads
//! (`aws_lambda_events`' `AWSAPICall` rejects real records, e.g. with an empty
//! `sessionIssuer`).
//!
//! Where the table ARN sits:
//!
//! | event | field |
//! |---|---|
//! | `CreateTable`, `RestoreTableFromBackup`, `RestoreTableToPointInTime` | `detail.responseElements.tableDescription.tableArn` |
//! | `ImportTable` | `detail.responseElements.importTableDescription.tableArn` |
//! | `TagResource`, `UntagResource` | `detail.requestParameters.resourceArn` |
//!
//! Outcomes of [`parse_event`]:
//!
//! * a handled, successful call on a table → [`Disposition::Evaluate`];
//! * a handled call that failed (`detail.errorCode` present; its `responseElements` is null) →
//!   [`Disposition::Ignored`] with the reason (nothing was created or changed);
//! * anything else (another source or event, a missing or malformed field, an ARN that is not a
//!   DynamoDB table) → [`EventError`] naming the field path (`detail.eventName`,
//!   `detail.responseElements.tableDescription.tableArn`, …; `$` is the whole event). The
//!   handler returns it as an error so the event lands in the dead-letter queue.
//!
//! Checked beyond the types:
//!
//! * `detail.eventID` (the ledger key): 1 to [`MAX_EVENT_ID_LEN`] characters of
//!   `A-Z a-z 0-9 - _ . :` (CloudTrail and EventBridge ids are UUIDs);
//! * `detail.recipientAccountId` (else the envelope's `account`): 12 digits;
//!   `detail.awsRegion` (else the envelope's `region`): a region name
//!   ([`policy::names::is_region_name`]);
//! * the table ARN: a known partition ([`policy::names::PARTITIONS`]), a region name, a
//!   12-digit account, `table/<name>`; and its account and region are the event's own
//!   (`recipientAccountId`, `awsRegion`): a contradiction is an error naming both fields
//!   ([`EventError::other_field`]).

use std::collections::BTreeMap;
use std::fmt;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use policy::{json_path, names};
use serde::{Deserialize, Serialize};

/// The EventBridge `source` of DynamoDB CloudTrail events.
pub const SOURCE: &str = "aws.dynamodb";
/// The EventBridge `detail-type` of CloudTrail API-call events.
pub const DETAIL_TYPE: &str = "AWS API Call via CloudTrail";
/// The CloudTrail `eventSource` of DynamoDB.
pub const EVENT_SOURCE: &str = "dynamodb.amazonaws.com";

/// Path of the table ARN in `CreateTable` / restore events.
pub const PATH_TABLE_ARN: &str = "detail.responseElements.tableDescription.tableArn";
/// Path of the table ARN in `ImportTable` events.
pub const PATH_IMPORT_TABLE_ARN: &str = "detail.responseElements.importTableDescription.tableArn";
/// Path of the resource ARN in `TagResource` / `UntagResource` events.
pub const PATH_RESOURCE_ARN: &str = "detail.requestParameters.resourceArn";
/// Path of the event id.
pub const PATH_EVENT_ID: &str = "detail.eventID";
/// Path of the account the event was delivered for.
pub const PATH_ACCOUNT: &str = "detail.recipientAccountId";
/// Path of the region the call was made in.
pub const PATH_REGION: &str = "detail.awsRegion";

/// Longest accepted `detail.eventID` (CloudTrail and EventBridge ids are 36-character UUIDs).
pub const MAX_EVENT_ID_LEN: usize = 128;

/// How many characters of a bad value an error message quotes.
const SHOWN: usize = 80;

/// An event the guard cannot handle, naming the field that was missing or invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("{field}: {problem}")]
pub struct EventError {
    /// JSON path of the field, e.g. `detail.responseElements.tableDescription.tableArn`
    /// (`$` = the event as a whole).
    pub field: String,
    /// What is wrong with it (names [`EventError::other_field`] when there is one).
    pub problem: String,
    /// The second field involved when two fields contradict each other (the table ARN's
    /// account and `detail.recipientAccountId`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_field: Option<String>,
}

impl EventError {
    /// An error on one field.
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        EventError {
            field: field.into(),
            problem: problem.into(),
            other_field: None,
        }
    }

    /// An error on `field` contradicting `other_field`; `problem` should name both values.
    pub fn conflict(
        field: impl Into<String>,
        other_field: impl Into<String>,
        problem: impl Into<String>,
    ) -> Self {
        EventError {
            field: field.into(),
            problem: problem.into(),
            other_field: Some(other_field.into()),
        }
    }

    /// True if the error names `path` (as its field or the contradicting one).
    pub fn names(&self, path: &str) -> bool {
        self.field == path || self.other_field.as_deref() == Some(path)
    }
}

/// The CloudTrail record in `detail`: only the fields the guard reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudTrailDetail {
    /// `eventID`: unique per CloudTrail record; the idempotency key.
    #[serde(rename = "eventID")]
    pub event_id: String,
    /// `eventName`, e.g. `CreateTable`.
    pub event_name: String,
    /// `eventSource`, `dynamodb.amazonaws.com`.
    pub event_source: String,
    /// `awsRegion`.
    #[serde(default)]
    pub aws_region: Option<String>,
    /// `recipientAccountId`.
    #[serde(default)]
    pub recipient_account_id: Option<String>,
    /// `errorCode`: present only when the call failed.
    #[serde(default)]
    pub error_code: Option<String>,
    /// `errorMessage`.
    #[serde(default)]
    pub error_message: Option<String>,
    /// `requestParameters` (null for some calls).
    #[serde(default)]
    pub request_parameters: Option<RequestParameters>,
    /// `responseElements` (null for failed calls and for `TagResource`/`UntagResource`).
    #[serde(default)]
    pub response_elements: Option<ResponseElements>,
    /// `userIdentity`.
    #[serde(default)]
    pub user_identity: Option<UserIdentity>,
}

/// `requestParameters` fields read by the guard.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestParameters {
    /// `tableName` (`CreateTable`).
    #[serde(default)]
    pub table_name: Option<String>,
    /// `targetTableName` (restores).
    #[serde(default)]
    pub target_table_name: Option<String>,
    /// `resourceArn` (`TagResource`, `UntagResource`).
    #[serde(default)]
    pub resource_arn: Option<String>,
    /// `tags` (`CreateTable`, `TagResource`): `[{"key": …, "value": …}]`.
    #[serde(default)]
    pub tags: Option<Vec<TagEntry>>,
    /// `tagKeys` (`UntagResource`).
    #[serde(default)]
    pub tag_keys: Option<Vec<String>>,
}

/// One tag in CloudTrail's rendering.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagEntry {
    /// Tag key.
    pub key: String,
    /// Tag value (may be empty).
    #[serde(default)]
    pub value: String,
}

/// `responseElements` fields read by the guard.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseElements {
    /// `tableDescription` (`CreateTable`, restores).
    #[serde(default)]
    pub table_description: Option<TableDescription>,
    /// `importTableDescription` (`ImportTable`).
    #[serde(default)]
    pub import_table_description: Option<ImportTableDescription>,
}

/// `responseElements.tableDescription`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TableDescription {
    /// `tableArn`.
    #[serde(default)]
    pub table_arn: Option<String>,
    /// `tableName`.
    #[serde(default)]
    pub table_name: Option<String>,
    /// `tableStatus` (`CREATING` right after the call).
    #[serde(default)]
    pub table_status: Option<String>,
}

/// `responseElements.importTableDescription`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportTableDescription {
    /// `tableArn`.
    #[serde(default)]
    pub table_arn: Option<String>,
    /// `importStatus`.
    #[serde(default)]
    pub import_status: Option<String>,
}

/// `userIdentity` fields read by the guard.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity {
    /// `type` (`IAMUser`, `AssumedRole`, `AWSService` …).
    #[serde(default, rename = "type")]
    pub identity_type: Option<String>,
    /// `arn` of the caller.
    #[serde(default)]
    pub arn: Option<String>,
    /// `invokedBy`, e.g. `cloudformation.amazonaws.com`.
    #[serde(default)]
    pub invoked_by: Option<String>,
}

/// The events the guard handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TableEventName {
    /// `CreateTable`.
    CreateTable,
    /// `RestoreTableFromBackup`.
    RestoreTableFromBackup,
    /// `RestoreTableToPointInTime`.
    RestoreTableToPointInTime,
    /// `ImportTable`.
    ImportTable,
    /// `TagResource`.
    TagResource,
    /// `UntagResource`.
    UntagResource,
}

impl TableEventName {
    /// Every handled event.
    pub const ALL: [TableEventName; 6] = [
        TableEventName::CreateTable,
        TableEventName::RestoreTableFromBackup,
        TableEventName::RestoreTableToPointInTime,
        TableEventName::ImportTable,
        TableEventName::TagResource,
        TableEventName::UntagResource,
    ];

    /// The CloudTrail `eventName`.
    pub fn as_str(self) -> &'static str {
        match self {
            TableEventName::CreateTable => "CreateTable",
            TableEventName::RestoreTableFromBackup => "RestoreTableFromBackup",
            TableEventName::RestoreTableToPointInTime => "RestoreTableToPointInTime",
            TableEventName::ImportTable => "ImportTable",
            TableEventName::TagResource => "TagResource",
            TableEventName::UntagResource => "UntagResource",
        }
    }

    /// Parses a CloudTrail `eventName` (exact, case-sensitive as CloudTrail writes it).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|n| n.as_str() == name)
    }

    /// True for events that bring a table into existence.
    pub fn creates_table(self) -> bool {
        !matches!(
            self,
            TableEventName::TagResource | TableEventName::UntagResource
        )
    }

    /// Where this event carries the table ARN.
    pub fn arn_path(self) -> &'static str {
        match self {
            TableEventName::CreateTable
            | TableEventName::RestoreTableFromBackup
            | TableEventName::RestoreTableToPointInTime => PATH_TABLE_ARN,
            TableEventName::ImportTable => PATH_IMPORT_TABLE_ARN,
            TableEventName::TagResource | TableEventName::UntagResource => PATH_RESOURCE_ARN,
        }
    }
}

impl fmt::Display for TableEventName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A DynamoDB table identified by its ARN.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TableRef {
    /// `arn:<partition>:dynamodb:<region>:<account>:table/<name>`.
    pub arn: String,
    /// Partition (`aws`, `aws-cn`, `aws-us-gov` …).
    pub partition: String,
    /// Region.
    pub region: String,
    /// Account id (12 digits).
    pub account: String,
    /// Table name.
    pub name: String,
}

impl TableRef {
    /// Parses a table ARN; the error's `field` is `field`.
    pub fn parse_arn(arn: &str, field: &str) -> Result<Self, EventError> {
        let bad = |why: String| {
            EventError::new(
                field,
                format!("{} is not a DynamoDB table ARN: {why}", shown(arn)),
            )
        };
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let [prefix, partition, service, region, account, resource] = parts.as_slice() else {
            return Err(bad(
                "expected arn:<partition>:dynamodb:<region>:<account>:table/<name>".into(),
            ));
        };
        if *prefix != "arn" {
            return Err(bad("does not start with arn:".into()));
        }
        if !names::is_partition(partition) {
            return Err(bad(format!(
                "unknown partition {} (known: {})",
                shown(partition),
                names::PARTITIONS.join(", ")
            )));
        }
        if *service != "dynamodb" {
            return Err(bad(format!("service is {}, not dynamodb", shown(service))));
        }
        if !names::is_region_name(region) {
            return Err(bad(format!(
                "invalid region {} (expected a region name such as eu-west-1)",
                shown(region)
            )));
        }
        if !names::is_account_id(account) {
            return Err(bad(format!("account {} is not 12 digits", shown(account))));
        }
        let Some(name) = resource.strip_prefix("table/") else {
            return Err(bad(format!(
                "resource {} is not table/<name>",
                shown(resource)
            )));
        };
        if name.contains('/') {
            return Err(bad(format!(
                "resource {} is a sub-resource of a table, not a table",
                shown(resource)
            )));
        }
        let len = name.chars().count();
        if !(3..=255).contains(&len)
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            return Err(bad(format!(
                "table name {} is not 3-255 characters of a-z A-Z 0-9 _ - .",
                shown(name)
            )));
        }
        Ok(TableRef {
            arn: arn.to_string(),
            partition: partition.to_string(),
            region: region.to_string(),
            account: account.to_string(),
            name: name.to_string(),
        })
    }
}

/// Who made the call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// Caller ARN (`userIdentity.arn`).
    pub arn: Option<String>,
    /// Service that made the call on the caller's behalf (`userIdentity.invokedBy`), e.g.
    /// `cloudformation.amazonaws.com`.
    pub invoked_by: Option<String>,
}

impl Actor {
    /// True if CloudFormation made the call (a stack owns the table: a tag added by the guard
    /// is drift for the stack, so alerts say to add it to the template too).
    pub fn is_cloudformation(&self) -> bool {
        self.invoked_by.as_deref() == Some("cloudformation.amazonaws.com")
    }
}

/// A handled event on a table that must be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableEvent {
    /// The table.
    pub table: TableRef,
    /// Tags the call set (`requestParameters.tags` of `CreateTable` / `TagResource`).
    pub tags_in_request: BTreeMap<String, String>,
    /// Tag keys the call removed (`UntagResource`).
    pub tag_keys_removed: Vec<String>,
}

/// What the guard does with an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum Disposition {
    /// Evaluate the table.
    Evaluate(TableEvent),
    /// Nothing to do (a failed call); `reason` says why.
    Ignored {
        /// Why the event is ignored.
        reason: String,
    },
}

/// A parsed event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParsedEvent {
    /// `detail.eventID`.
    pub event_id: String,
    /// `detail.eventName`.
    pub event_name: TableEventName,
    /// `detail.recipientAccountId` (or the envelope's `account`).
    pub account: Option<String>,
    /// `detail.awsRegion` (or the envelope's `region`).
    pub region: Option<String>,
    /// Who made the call.
    pub actor: Actor,
    /// Evaluate or ignore.
    pub disposition: Disposition,
}

impl ParsedEvent {
    /// The table, if the event is to be evaluated.
    pub fn table(&self) -> Option<&TableRef> {
        match &self.disposition {
            Disposition::Evaluate(e) => Some(&e.table),
            Disposition::Ignored { .. } => None,
        }
    }

    /// `evaluate` or `ignored`.
    pub fn outcome_word(&self) -> &'static str {
        match self.disposition {
            Disposition::Evaluate(_) => "evaluate",
            Disposition::Ignored { .. } => "ignored",
        }
    }

    /// The reason an event is ignored.
    pub fn ignore_reason(&self) -> Option<&str> {
        match &self.disposition {
            Disposition::Evaluate(_) => None,
            Disposition::Ignored { reason } => Some(reason),
        }
    }
}

/// The typed envelope.
pub type CloudTrailEvent = EventBridgeEvent<CloudTrailDetail>;

/// Parses an event given as JSON text (e.g. a file); invalid JSON is an [`EventError`] on `$`.
pub fn parse_event_str(text: &str) -> Result<ParsedEvent, EventError> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| EventError::new("$", format!("not valid JSON: {e}")))?;
    parse_event(&value)
}

/// Parses an EventBridge-delivered CloudTrail event (see the module docs for the outcomes).
pub fn parse_event(value: &serde_json::Value) -> Result<ParsedEvent, EventError> {
    if !value.is_object() {
        return Err(EventError::new(
            "$",
            format!("expected a JSON object, got {}", json_kind(value)),
        ));
    }
    let event: CloudTrailEvent = serde_path_to_error::deserialize(value).map_err(serde_error)?;
    if event.source != SOURCE {
        return Err(EventError::new(
            "source",
            format!("{} is not {SOURCE:?}", shown(&event.source)),
        ));
    }
    if event.detail_type != DETAIL_TYPE {
        return Err(EventError::new(
            "detail-type",
            format!("{} is not {DETAIL_TYPE:?}", shown(&event.detail_type)),
        ));
    }
    let detail = event.detail;
    if detail.event_source != EVENT_SOURCE {
        return Err(EventError::new(
            "detail.eventSource",
            format!("{} is not {EVENT_SOURCE:?}", shown(&detail.event_source)),
        ));
    }
    let Some(event_name) = TableEventName::parse(&detail.event_name) else {
        let handled: Vec<&str> = TableEventName::ALL.iter().map(|n| n.as_str()).collect();
        return Err(EventError::new(
            "detail.eventName",
            format!(
                "{} is not handled (handled: {})",
                shown(&detail.event_name),
                handled.join(", ")
            ),
        ));
    };
    check_event_id(&detail.event_id)?;
    let identity = detail.user_identity.clone().unwrap_or_default();
    let actor = Actor {
        arn: identity.arn,
        invoked_by: identity.invoked_by,
    };
    // The account and region the event is about, and the field each came from.
    let account = match (&detail.recipient_account_id, &event.account) {
        (Some(a), _) => Some((a.clone(), PATH_ACCOUNT)),
        (None, Some(a)) => Some((a.clone(), "account")),
        (None, None) => None,
    };
    if let Some((a, path)) = &account
        && !names::is_account_id(a)
    {
        return Err(EventError::new(
            *path,
            format!("{} is not an account id (12 digits)", shown(a)),
        ));
    }
    let region = match (&detail.aws_region, &event.region) {
        (Some(r), _) => Some((r.clone(), PATH_REGION)),
        (None, Some(r)) => Some((r.clone(), "region")),
        (None, None) => None,
    };
    if let Some((r, path)) = &region
        && !names::is_region_name(r)
    {
        return Err(EventError::new(
            *path,
            format!("{} is not a region name (such as eu-west-1)", shown(r)),
        ));
    }
    let parsed = |disposition| ParsedEvent {
        event_id: detail.event_id.clone(),
        event_name,
        account: account.as_ref().map(|(a, _)| a.clone()),
        region: region.as_ref().map(|(r, _)| r.clone()),
        actor: actor.clone(),
        disposition,
    };
    if let Some(code) = detail.error_code.as_deref().filter(|c| !c.is_empty()) {
        let message = detail
            .error_message
            .as_deref()
            .map(|m| format!(": {}", json_path::cut(m, 300)))
            .unwrap_or_default();
        let code = json_path::cut(code, 80);
        let effect = if event_name.creates_table() {
            "no table was created"
        } else {
            "no tag was changed"
        };
        return Ok(parsed(Disposition::Ignored {
            reason: format!("the {event_name} call failed ({code}{message}); {effect}"),
        }));
    }

    let arn_path = event_name.arn_path();
    let arn = table_arn(&detail, event_name)
        .ok_or_else(|| EventError::new(arn_path, missing_arn_problem(&detail, event_name)))?;
    let table = TableRef::parse_arn(arn, arn_path)?;
    if let Some((a, path)) = &account
        && *a != table.account
    {
        return Err(EventError::conflict(
            arn_path,
            *path,
            format!(
                "the table's account {} is not {path} {a}: the event is about another account's table",
                table.account
            ),
        ));
    }
    if let Some((r, path)) = &region
        && *r != table.region
    {
        return Err(EventError::conflict(
            arn_path,
            *path,
            format!(
                "the table's region {} is not {path} {r}: the call was made in another region",
                table.region
            ),
        ));
    }
    let params = detail.request_parameters.clone().unwrap_or_default();
    let tags_in_request = match event_name {
        TableEventName::UntagResource => BTreeMap::new(),
        _ => tag_map(params.tags.as_deref().unwrap_or_default()),
    };
    let tag_keys_removed = match event_name {
        TableEventName::UntagResource => params.tag_keys.clone().ok_or_else(|| {
            EventError::new(
                "detail.requestParameters.tagKeys",
                "missing (UntagResource names the keys it removes)",
            )
        })?,
        _ => Vec::new(),
    };
    if event_name == TableEventName::TagResource && params.tags.is_none() {
        return Err(EventError::new(
            "detail.requestParameters.tags",
            "missing (TagResource names the tags it sets)",
        ));
    }
    Ok(parsed(Disposition::Evaluate(TableEvent {
        table,
        tags_in_request,
        tag_keys_removed,
    })))
}

fn table_arn(detail: &CloudTrailDetail, name: TableEventName) -> Option<&str> {
    let arn = match name {
        TableEventName::CreateTable
        | TableEventName::RestoreTableFromBackup
        | TableEventName::RestoreTableToPointInTime => detail
            .response_elements
            .as_ref()?
            .table_description
            .as_ref()?
            .table_arn
            .as_deref(),
        TableEventName::ImportTable => detail
            .response_elements
            .as_ref()?
            .import_table_description
            .as_ref()?
            .table_arn
            .as_deref(),
        TableEventName::TagResource | TableEventName::UntagResource => {
            detail.request_parameters.as_ref()?.resource_arn.as_deref()
        }
    };
    arn.filter(|a| !a.is_empty())
}

fn missing_arn_problem(detail: &CloudTrailDetail, name: TableEventName) -> String {
    let responses = detail.response_elements.as_ref();
    match name {
        TableEventName::TagResource | TableEventName::UntagResource => {
            if detail.request_parameters.is_none() {
                "missing (requestParameters is null)".to_string()
            } else {
                "missing or empty".to_string()
            }
        }
        _ if responses.is_none() => {
            "missing (responseElements is null although the call did not fail)".to_string()
        }
        TableEventName::ImportTable
            if responses.is_some_and(|r| r.import_table_description.is_none()) =>
        {
            "missing (no importTableDescription)".to_string()
        }
        TableEventName::ImportTable => "missing or empty".to_string(),
        _ if responses.is_some_and(|r| r.table_description.is_none()) => {
            "missing (no tableDescription)".to_string()
        }
        _ => "missing or empty".to_string(),
    }
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

fn tag_map(tags: &[TagEntry]) -> BTreeMap<String, String> {
    tags.iter()
        .map(|t| (t.key.clone(), t.value.clone()))
        .collect()
}

/// Turns a serde error into an [`EventError`] naming the full path, including the name of a
/// missing field ([`policy::json_path::split`]).
fn serde_error(e: serde_path_to_error::Error<serde_json::Error>) -> EventError {
    let (field, problem) = json_path::split(&e);
    EventError::new(field, problem)
}

/// The ledger key's requirements of `detail.eventID`.
fn check_event_id(id: &str) -> Result<(), EventError> {
    let problem = if id.trim().is_empty() {
        "empty".to_string()
    } else if id.chars().count() > MAX_EVENT_ID_LEN {
        format!(
            "{} is longer than {MAX_EVENT_ID_LEN} characters (CloudTrail event ids are UUIDs)",
            shown(id)
        )
    } else if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
    {
        format!(
            "{} has a character other than A-Z a-z 0-9 - _ . : (CloudTrail event ids are UUIDs)",
            shown(id)
        )
    } else {
        return Ok(());
    };
    Err(EventError::new(PATH_EVENT_ID, problem))
}

/// A value quoted in a message, cut to [`SHOWN`] characters.
fn shown(s: &str) -> String {
    names::shown(s, SHOWN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn sample(name: &str) -> Value {
        let path = format!("{}/../../events/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).unwrap()
    }

    fn evaluate(parsed: &ParsedEvent) -> &TableEvent {
        match &parsed.disposition {
            Disposition::Evaluate(e) => e,
            other => panic!("expected evaluate, got {other:?}"),
        }
    }

    fn err_of(v: &Value) -> EventError {
        match parse_event(v) {
            Err(e) => e,
            Ok(p) => panic!("expected an error, got {p:?}"),
        }
    }

    /// Sets `path` (dot-separated object keys) to `new`, or removes it when `new` is None.
    fn set(v: &mut Value, path: &str, new: Option<Value>) {
        let keys: Vec<&str> = path.split('.').collect();
        let (last, parents) = keys.split_last().unwrap();
        let mut cur = v;
        for k in parents {
            cur = cur.get_mut(*k).unwrap();
        }
        let obj = cur.as_object_mut().unwrap();
        match new {
            Some(n) => {
                obj.insert(last.to_string(), n);
            }
            None => {
                obj.remove(*last);
            }
        }
    }

    #[test]
    fn create_table_sample_carries_arn_and_request_tags() {
        let p = parse_event(&sample("create-table.json")).unwrap();
        assert_eq!(p.event_name, TableEventName::CreateTable);
        assert_eq!(p.event_id, "7c1e5a2b-3f4d-4e6a-9b8c-0d1e2f3a4b01");
        assert_eq!(p.account.as_deref(), Some("123456789012"));
        assert_eq!(p.region.as_deref(), Some("eu-west-1"));
        assert!(!p.actor.is_cloudformation());
        let e = evaluate(&p);
        assert_eq!(
            e.table.arn,
            "arn:aws:dynamodb:eu-west-1:123456789012:table/orders"
        );
        assert_eq!(e.table.name, "orders");
        assert_eq!(e.table.partition, "aws");
        assert_eq!(e.table.account, "123456789012");
        assert_eq!(e.table.region, "eu-west-1");
        assert_eq!(
            e.tags_in_request.get("owner").map(String::as_str),
            Some("team-payments")
        );
        assert_eq!(e.tags_in_request.len(), 2);
        assert_eq!(p.outcome_word(), "evaluate");
    }

    #[test]
    fn cloudformation_sample_is_recognised() {
        let p = parse_event(&sample("create-table-cloudformation.json")).unwrap();
        assert!(p.actor.is_cloudformation());
        assert_eq!(
            evaluate(&p).table.name,
            "inventory-stack-InventoryTable-1A2B3C4D5E6F"
        );
    }

    #[test]
    fn restore_and_import_samples_take_the_arn_from_their_response() {
        for (file, name, table) in [
            (
                "restore-table-from-backup.json",
                TableEventName::RestoreTableFromBackup,
                "orders-restored",
            ),
            (
                "restore-table-to-point-in-time.json",
                TableEventName::RestoreTableToPointInTime,
                "orders-pitr",
            ),
            (
                "import-table.json",
                TableEventName::ImportTable,
                "customers-imported",
            ),
        ] {
            let p = parse_event(&sample(file)).unwrap();
            assert_eq!(p.event_name, name, "{file}");
            assert_eq!(evaluate(&p).table.name, table, "{file}");
            assert!(evaluate(&p).tags_in_request.is_empty(), "{file}");
        }
    }

    #[test]
    fn tag_and_untag_samples_take_the_arn_from_the_request() {
        let p = parse_event(&sample("tag-resource.json")).unwrap();
        let e = evaluate(&p);
        assert_eq!(e.table.name, "orders");
        assert_eq!(
            e.tags_in_request.get("backup-policy").map(String::as_str),
            Some("twice-monthly-90d")
        );
        let p = parse_event(&sample("untag-resource.json")).unwrap();
        let e = evaluate(&p);
        assert_eq!(e.table.name, "orders");
        assert_eq!(e.tag_keys_removed, vec!["backup-policy".to_string()]);
        assert!(e.tags_in_request.is_empty());
    }

    #[test]
    fn failed_call_is_ignored_with_the_error_code() {
        let p = parse_event(&sample("create-table-failed.json")).unwrap();
        assert_eq!(p.outcome_word(), "ignored");
        assert!(p.table().is_none());
        let reason = p.ignore_reason().unwrap();
        assert!(reason.contains("ResourceInUseException"), "{reason}");
        assert!(reason.contains("no table was created"), "{reason}");
    }

    #[test]
    fn every_sample_file_parses() {
        let dir = format!("{}/../../events", env!("CARGO_MANIFEST_DIR"));
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let parsed = parse_event_str(&text);
            assert!(parsed.is_ok(), "{}: {parsed:?}", path.display());
            n += 1;
        }
        assert!(n >= 8, "only {n} samples");
    }

    #[test]
    fn missing_detail_names_detail() {
        let mut v = sample("create-table.json");
        set(&mut v, "detail", None);
        let e = err_of(&v);
        assert_eq!(e.field, "detail");
        assert_eq!(e.to_string(), "detail: missing");
    }

    #[test]
    fn null_detail_names_detail() {
        let mut v = sample("create-table.json");
        set(&mut v, "detail", Some(Value::Null));
        assert_eq!(err_of(&v).field, "detail");
    }

    #[test]
    fn wrong_source_names_source() {
        let mut v = sample("create-table.json");
        set(&mut v, "source", Some(json!("aws.s3")));
        let e = err_of(&v);
        assert_eq!(e.field, "source");
        assert!(e.problem.contains("aws.s3"), "{e}");
    }

    #[test]
    fn wrong_detail_type_and_event_source_are_named() {
        let mut v = sample("create-table.json");
        set(&mut v, "detail-type", Some(json!("Scheduled Event")));
        assert_eq!(err_of(&v).field, "detail-type");
        let mut v = sample("create-table.json");
        set(
            &mut v,
            "detail.eventSource",
            Some(json!("s3.amazonaws.com")),
        );
        assert_eq!(err_of(&v).field, "detail.eventSource");
    }

    #[test]
    fn unknown_event_names_event_name() {
        let mut v = sample("create-table.json");
        set(&mut v, "detail.eventName", Some(json!("DeleteTable")));
        let e = err_of(&v);
        assert_eq!(e.field, "detail.eventName");
        assert!(e.problem.contains("DeleteTable"), "{e}");
    }

    #[test]
    fn null_response_elements_of_a_successful_create_names_the_arn_path() {
        let mut v = sample("create-table.json");
        set(&mut v, "detail.responseElements", Some(Value::Null));
        let e = err_of(&v);
        assert_eq!(e.field, PATH_TABLE_ARN);
        assert!(e.problem.contains("responseElements is null"), "{e}");
        let mut v = sample("import-table.json");
        set(&mut v, "detail.responseElements", Some(Value::Null));
        assert_eq!(err_of(&v).field, PATH_IMPORT_TABLE_ARN);
    }

    #[test]
    fn null_response_elements_of_tag_resource_is_normal() {
        let v = sample("tag-resource.json");
        assert!(v["detail"]["responseElements"].is_null());
        assert!(parse_event(&v).is_ok());
    }

    #[test]
    fn missing_resource_arn_names_it() {
        let mut v = sample("untag-resource.json");
        set(&mut v, "detail.requestParameters.resourceArn", None);
        assert_eq!(err_of(&v).field, PATH_RESOURCE_ARN);
        let mut v = sample("untag-resource.json");
        set(&mut v, "detail.requestParameters", Some(Value::Null));
        let e = err_of(&v);
        assert_eq!(e.field, PATH_RESOURCE_ARN);
        assert!(e.problem.contains("requestParameters is null"), "{e}");
    }

    #[test]
    fn missing_tag_keys_of_untag_names_it() {
        let mut v = sample("untag-resource.json");
        set(&mut v, "detail.requestParameters.tagKeys", None);
        assert_eq!(err_of(&v).field, "detail.requestParameters.tagKeys");
    }

    #[test]
    fn non_table_arns_are_rejected_naming_the_field() {
        for arn in [
            "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-11-25T09:00:00.000",
            "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/backup/01732521600000-a1b2c3d4",
            "arn:aws:s3:::my-bucket",
            "arn:aws:dynamodb:eu-west-1:1234:table/orders",
            "arn:aws:dynamodb:eu-west-1:123456789012:global-table/orders",
            "arn:aws:dynamodb:eu-west-1:123456789012:table/o",
            "not-an-arn",
            "",
        ] {
            let mut v = sample("tag-resource.json");
            set(
                &mut v,
                "detail.requestParameters.resourceArn",
                Some(json!(arn)),
            );
            let e = err_of(&v);
            assert_eq!(e.field, PATH_RESOURCE_ARN, "{arn}: {e}");
        }
    }

    #[test]
    fn arn_parts_are_parsed_in_other_partitions() {
        let t = TableRef::parse_arn(
            "arn:aws-cn:dynamodb:cn-north-1:123456789012:table/a.b_c-d",
            "f",
        )
        .unwrap();
        assert_eq!(t.partition, "aws-cn");
        assert_eq!(t.region, "cn-north-1");
        assert_eq!(t.name, "a.b_c-d");
    }

    #[test]
    fn wrong_types_name_the_nested_field() {
        let mut v = sample("create-table.json");
        set(&mut v, "detail.eventID", Some(json!(42)));
        assert_eq!(err_of(&v).field, "detail.eventID");
        let mut v = sample("create-table.json");
        set(
            &mut v,
            "detail.requestParameters.tags",
            Some(json!([{"key": "owner", "value": 7}])),
        );
        assert_eq!(err_of(&v).field, "detail.requestParameters.tags[0].value");
        let mut v = sample("create-table.json");
        set(
            &mut v,
            "detail.responseElements.tableDescription.tableArn",
            Some(json!(true)),
        );
        assert_eq!(err_of(&v).field, PATH_TABLE_ARN);
    }

    #[test]
    fn missing_event_id_names_it() {
        let mut v = sample("create-table.json");
        set(&mut v, "detail.eventID", None);
        assert_eq!(err_of(&v).field, "detail.eventID");
        let mut v = sample("create-table.json");
        set(&mut v, "detail.eventID", Some(json!("  ")));
        assert_eq!(err_of(&v).field, "detail.eventID");
    }

    #[test]
    fn truncated_json_is_an_error_on_the_whole_event() {
        let path = format!(
            "{}/../../events/create-table.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(path).unwrap();
        for cut in [0, 1, text.len() / 3, text.len() / 2, text.len() - 3] {
            let e = parse_event_str(&text[..cut]).unwrap_err();
            assert_eq!(e.field, "$", "cut at {cut}: {e}");
            assert!(e.problem.starts_with("not valid JSON"), "{e}");
        }
    }

    #[test]
    fn non_object_event_is_an_error_on_the_whole_event() {
        for v in [json!(null), json!([1, 2]), json!("x"), json!(3)] {
            assert_eq!(err_of(&v).field, "$", "{v}");
        }
    }

    #[test]
    fn unknown_partition_is_rejected_naming_the_arn_field() {
        for partition in ["awsfoo", "aws-", "AWS", "aws-iso-z"] {
            let mut v = sample("create-table.json");
            set(
                &mut v,
                PATH_TABLE_ARN,
                Some(json!(format!(
                    "arn:{partition}:dynamodb:eu-west-1:123456789012:table/orders"
                ))),
            );
            let e = err_of(&v);
            assert_eq!(e.field, PATH_TABLE_ARN, "{partition}: {e}");
            assert!(e.problem.contains("unknown partition"), "{e}");
        }
        // Every known partition parses.
        for partition in policy::names::PARTITIONS {
            let arn = format!("arn:{partition}:dynamodb:eu-west-1:123456789012:table/orders");
            assert!(TableRef::parse_arn(&arn, "f").is_ok(), "{arn}");
        }
    }

    #[test]
    fn malformed_regions_are_rejected_in_the_arn_and_in_aws_region() {
        for region in ["---", "eu", "EU-WEST-1", "eu-west-1a", "eu--west-1"] {
            let mut v = sample("create-table.json");
            set(
                &mut v,
                PATH_TABLE_ARN,
                Some(json!(format!(
                    "arn:aws:dynamodb:{region}:123456789012:table/orders"
                ))),
            );
            let e = err_of(&v);
            assert_eq!(e.field, PATH_TABLE_ARN, "{region}: {e}");
            assert!(e.problem.contains("invalid region"), "{e}");

            let mut v = sample("create-table.json");
            set(&mut v, "detail.awsRegion", Some(json!(region)));
            let e = err_of(&v);
            assert_eq!(e.field, PATH_REGION, "{region}: {e}");
        }
        // Without detail.awsRegion the envelope's region is checked, and named.
        let mut v = sample("create-table.json");
        set(&mut v, "detail.awsRegion", None);
        set(&mut v, "region", Some(json!("---")));
        assert_eq!(err_of(&v).field, "region");
    }

    #[test]
    fn arn_account_other_than_recipient_account_names_both_fields() {
        let mut v = sample("create-table.json");
        set(
            &mut v,
            PATH_TABLE_ARN,
            Some(json!(
                "arn:aws:dynamodb:eu-west-1:999999999999:table/orders"
            )),
        );
        let e = err_of(&v);
        assert_eq!(e.field, PATH_TABLE_ARN);
        assert_eq!(e.other_field.as_deref(), Some(PATH_ACCOUNT));
        let msg = e.to_string();
        assert!(
            msg.contains(PATH_TABLE_ARN) && msg.contains(PATH_ACCOUNT),
            "{msg}"
        );
        assert!(
            msg.contains("999999999999") && msg.contains("123456789012"),
            "{msg}"
        );
        assert!(e.names(PATH_ACCOUNT) && e.names(PATH_TABLE_ARN));
        // The same for a TagResource ARN (another field) ...
        let mut v = sample("tag-resource.json");
        set(
            &mut v,
            PATH_RESOURCE_ARN,
            Some(json!(
                "arn:aws:dynamodb:eu-west-1:999999999999:table/orders"
            )),
        );
        let e = err_of(&v);
        assert_eq!(
            (e.field.as_str(), e.other_field.as_deref()),
            (PATH_RESOURCE_ARN, Some(PATH_ACCOUNT))
        );
        // ... and against the envelope's account when recipientAccountId is absent.
        let mut v = sample("create-table.json");
        set(&mut v, "detail.recipientAccountId", None);
        set(&mut v, "account", Some(json!("111122223333")));
        let e = err_of(&v);
        assert_eq!(e.other_field.as_deref(), Some("account"), "{e}");
    }

    #[test]
    fn malformed_recipient_account_is_rejected() {
        for account in ["12345", "12345678901a", ""] {
            let mut v = sample("create-table.json");
            set(&mut v, "detail.recipientAccountId", Some(json!(account)));
            assert_eq!(err_of(&v).field, PATH_ACCOUNT, "{account:?}");
        }
    }

    #[test]
    fn arn_region_other_than_aws_region_names_both_fields() {
        let mut v = sample("import-table.json");
        let arn = v["detail"]["responseElements"]["importTableDescription"]["tableArn"]
            .as_str()
            .unwrap()
            .replace("eu-west-1", "us-east-1");
        set(
            &mut v,
            "detail.responseElements.importTableDescription.tableArn",
            Some(json!(arn)),
        );
        let e = err_of(&v);
        assert_eq!(e.field, PATH_IMPORT_TABLE_ARN);
        assert_eq!(e.other_field.as_deref(), Some(PATH_REGION));
        let msg = e.to_string();
        assert!(
            msg.contains(PATH_REGION) && msg.contains("us-east-1") && msg.contains("eu-west-1"),
            "{msg}"
        );
    }

    #[test]
    fn huge_or_odd_event_ids_are_rejected_with_a_short_message() {
        let huge = "a".repeat(5 * 1024 * 1024);
        let mut v = sample("create-table.json");
        set(&mut v, "detail.eventID", Some(json!(huge)));
        let e = err_of(&v);
        assert_eq!(e.field, PATH_EVENT_ID);
        assert!(
            e.problem.contains("longer than 128"),
            "{}",
            &e.problem[..200]
        );
        assert!(
            e.problem.len() < 400,
            "message is {} bytes",
            e.problem.len()
        );
        for id in [
            "a".repeat(129),
            "id with spaces".to_string(),
            "event#1".to_string(),
            "ünïcode".to_string(),
            "tab\t".to_string(),
        ] {
            let mut v = sample("create-table.json");
            set(&mut v, "detail.eventID", Some(json!(id)));
            assert_eq!(err_of(&v).field, PATH_EVENT_ID, "{id:?}");
        }
        // UUIDs, and the longest accepted id, pass.
        for id in [
            "7c1e5a2b-3f4d-4e6a-9b8c-0d1e2f3a4b01".to_string(),
            "a".repeat(128),
            "ev-born-1".to_string(),
        ] {
            let mut v = sample("create-table.json");
            set(&mut v, "detail.eventID", Some(json!(id)));
            assert!(parse_event(&v).is_ok(), "{id}");
        }
    }

    #[test]
    fn huge_values_are_quoted_shortly_in_messages() {
        let mut v = sample("create-table.json");
        let arn = format!(
            "arn:aws:dynamodb:eu-west-1:123456789012:table/{}",
            "x".repeat(1_000_000)
        );
        set(&mut v, PATH_TABLE_ARN, Some(json!(arn)));
        let e = err_of(&v);
        assert_eq!(e.field, PATH_TABLE_ARN);
        assert!(
            e.problem.len() < 600,
            "message is {} bytes",
            e.problem.len()
        );
        let mut v = sample("create-table.json");
        set(&mut v, "source", Some(json!("s".repeat(1_000_000))));
        assert!(err_of(&v).problem.len() < 300);
    }

    #[test]
    fn a_huge_error_message_of_a_failed_call_is_cut_in_the_reason() {
        let mut v = sample("create-table-failed.json");
        set(
            &mut v,
            "detail.errorMessage",
            Some(json!("m".repeat(1_000_000))),
        );
        let p = parse_event(&v).unwrap();
        let reason = p.ignore_reason().unwrap();
        assert!(reason.len() < 600, "reason is {} bytes", reason.len());
        assert!(reason.contains("1000000 characters"), "{}", &reason[..100]);
        assert!(reason.contains("no table was created"));
    }

    #[test]
    fn failed_call_without_response_is_ignored_for_every_handled_event() {
        for name in TableEventName::ALL {
            let mut v = sample("create-table-failed.json");
            set(&mut v, "detail.eventName", Some(json!(name.as_str())));
            set(&mut v, "detail.errorCode", Some(json!("AccessDenied")));
            let p = parse_event(&v).unwrap();
            assert_eq!(p.outcome_word(), "ignored", "{name}");
        }
    }
}
