//! The parser: [`parse_event`] checks an EventBridge-delivered CloudTrail event step by step,
//! in the order the module docs list, and turns it into a [`ParsedEvent`] or an [`EventError`]
//! naming the field.

use std::collections::BTreeMap;

use policy::{json_path, names};

use super::{
    Actor, CloudTrailDetail, CloudTrailEvent, DETAIL_TYPE, Disposition, EVENT_SOURCE, EventError,
    MAX_EVENT_ID_LEN, PATH_ACCOUNT, PATH_EVENT_ID, PATH_REGION, PATH_REPLICA_UPDATES, ParsedEvent,
    ReplicaEvent, SOURCE, TableEvent, TableEventName, TableRef, TagEntry, shown,
};

/// A value the event is about and the field it was read from (a `detail` field, else the
/// envelope's).
struct Sourced {
    value: String,
    field: &'static str,
}

impl Sourced {
    /// `detail`'s value if present, else the envelope's.
    fn pick(
        detail: &Option<String>,
        detail_field: &'static str,
        envelope: &Option<String>,
        envelope_field: &'static str,
    ) -> Option<Self> {
        match (detail, envelope) {
            (Some(v), _) => Some(Sourced {
                value: v.clone(),
                field: detail_field,
            }),
            (None, Some(v)) => Some(Sourced {
                value: v.clone(),
                field: envelope_field,
            }),
            (None, None) => None,
        }
    }
}

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
    let event_name = handled_event_name(&event)?;
    let detail = &event.detail;
    check_event_id(&detail.event_id)?;
    let account = event_account(&event)?;
    let region = event_region(&event)?;
    let identity = detail.user_identity.clone().unwrap_or_default();
    let parsed = |disposition| ParsedEvent {
        event_id: detail.event_id.clone(),
        event_name,
        account: account.as_ref().map(|a| a.value.clone()),
        region: region.as_ref().map(|r| r.value.clone()),
        actor: Actor {
            arn: identity.arn.clone(),
            invoked_by: identity.invoked_by.clone(),
        },
        disposition,
    };
    if let Some(reason) = failed_call_reason(detail, event_name) {
        return Ok(parsed(Disposition::Ignored { reason }));
    }
    if event_name == TableEventName::UpdateTable {
        let regions = created_replica_regions(detail)?;
        if regions.is_empty() {
            return Ok(parsed(Disposition::Ignored {
                reason: "the UpdateTable call created no replica (no requestParameters.replicaUpdates[].create): no new table".to_string(),
            }));
        }
        let source = event_table(detail, event_name, account.as_ref(), region.as_ref())?;
        let replicas = regions
            .into_iter()
            .map(|(path, r)| replica_of(&source, &r, &path))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(parsed(Disposition::Replicas(ReplicaEvent {
            source,
            replicas,
        })));
    }
    let table = event_table(detail, event_name, account.as_ref(), region.as_ref())?;
    let table_event = table_event(detail, event_name, table)?;
    Ok(parsed(Disposition::Evaluate(table_event)))
}

/// The event's name, once `source`, `detail-type` and `detail.eventSource` are DynamoDB's
/// CloudTrail API calls and `detail.eventName` is one the guard handles.
fn handled_event_name(event: &CloudTrailEvent) -> Result<TableEventName, EventError> {
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
    let detail = &event.detail;
    if detail.event_source != EVENT_SOURCE {
        return Err(EventError::new(
            "detail.eventSource",
            format!("{} is not {EVENT_SOURCE:?}", shown(&detail.event_source)),
        ));
    }
    TableEventName::parse(&detail.event_name).ok_or_else(|| {
        let handled: Vec<&str> = TableEventName::ALL.iter().map(|n| n.as_str()).collect();
        EventError::new(
            "detail.eventName",
            format!(
                "{} is not handled (handled: {})",
                shown(&detail.event_name),
                handled.join(", ")
            ),
        )
    })
}

/// The account the event was delivered for (`detail.recipientAccountId`, else the envelope's
/// `account`), if it says: 12 digits.
fn event_account(event: &CloudTrailEvent) -> Result<Option<Sourced>, EventError> {
    let account = Sourced::pick(
        &event.detail.recipient_account_id,
        PATH_ACCOUNT,
        &event.account,
        "account",
    );
    if let Some(a) = &account
        && !names::is_account_id(&a.value)
    {
        return Err(EventError::new(
            a.field,
            format!("{} is not an account id (12 digits)", shown(&a.value)),
        ));
    }
    Ok(account)
}

/// The region the call was made in (`detail.awsRegion`, else the envelope's `region`), if it
/// says: a region name.
fn event_region(event: &CloudTrailEvent) -> Result<Option<Sourced>, EventError> {
    let region = Sourced::pick(
        &event.detail.aws_region,
        PATH_REGION,
        &event.region,
        "region",
    );
    if let Some(r) = &region
        && !names::is_region_name(&r.value)
    {
        return Err(EventError::new(
            r.field,
            format!(
                "{} is not a region name (such as eu-west-1)",
                shown(&r.value)
            ),
        ));
    }
    Ok(region)
}

/// Why the event is ignored if the call failed (`detail.errorCode` present and not empty):
/// nothing was created or changed.
fn failed_call_reason(detail: &CloudTrailDetail, event_name: TableEventName) -> Option<String> {
    let code = detail.error_code.as_deref().filter(|c| !c.is_empty())?;
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
    Some(format!(
        "the {event_name} call failed ({code}{message}); {effect}"
    ))
}

/// The table of a successful call: its ARN where `event_name` carries it, parsed, in the
/// event's own account and region (a contradiction names both fields).
fn event_table(
    detail: &CloudTrailDetail,
    event_name: TableEventName,
    account: Option<&Sourced>,
    region: Option<&Sourced>,
) -> Result<TableRef, EventError> {
    let arn_path = event_name.arn_path();
    let arn = table_arn(detail, event_name)
        .ok_or_else(|| EventError::new(arn_path, missing_arn_problem(detail, event_name)))?;
    let table = TableRef::parse_arn(arn, arn_path)?;
    if let Some(Sourced { value: a, field }) = account
        && *a != table.account
    {
        return Err(EventError::conflict(
            arn_path,
            *field,
            format!(
                "the table's account {} is not {field} {a}: the event is about another account's table",
                table.account
            ),
        ));
    }
    if let Some(Sourced { value: r, field }) = region
        && *r != table.region
    {
        return Err(EventError::conflict(
            arn_path,
            *field,
            format!(
                "the table's region {} is not {field} {r}: the call was made in another region",
                table.region
            ),
        ));
    }
    Ok(table)
}

/// The regions of the replicas an `UpdateTable` created (`replicaUpdates[i].create.regionName`,
/// each with its JSON path), without repeats, in the call's order; empty if it created none.
/// A region that is not a region name is an error naming its path.
fn created_replica_regions(detail: &CloudTrailDetail) -> Result<Vec<(String, String)>, EventError> {
    let updates = detail
        .request_parameters
        .as_ref()
        .and_then(|p| p.replica_updates.as_deref())
        .unwrap_or_default();
    let mut regions: Vec<(String, String)> = Vec::new();
    for (i, update) in updates.iter().enumerate() {
        let Some(create) = &update.create else {
            continue;
        };
        let path = format!("{PATH_REPLICA_UPDATES}[{i}].create.regionName");
        let r = &create.region_name;
        if !names::is_region_name(r) {
            return Err(EventError::new(
                path,
                format!("{} is not a region name (such as eu-west-1)", shown(r)),
            ));
        }
        if !regions.iter().any(|(_, seen)| seen == r) {
            regions.push((path, r.clone()));
        }
    }
    Ok(regions)
}

/// The replica of `source` in `region`: the same partition, account and table name.
fn replica_of(source: &TableRef, region: &str, path: &str) -> Result<TableRef, EventError> {
    let arn = format!(
        "arn:{}:dynamodb:{region}:{}:table/{}",
        source.partition, source.account, source.name
    );
    TableRef::parse_arn(&arn, path)
}

/// What a successful call on `table` did to its tags: the tags `CreateTable` / `TagResource`
/// set (`TagResource` must name them), the keys `UntagResource` removed (it must name them).
fn table_event(
    detail: &CloudTrailDetail,
    event_name: TableEventName,
    table: TableRef,
) -> Result<TableEvent, EventError> {
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
    Ok(TableEvent {
        table,
        tags_in_request,
        tag_keys_removed,
    })
}

fn table_arn(detail: &CloudTrailDetail, name: TableEventName) -> Option<&str> {
    let arn = match name {
        TableEventName::CreateTable
        | TableEventName::RestoreTableFromBackup
        | TableEventName::RestoreTableToPointInTime
        | TableEventName::UpdateTable => detail
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

/// The JSON kind of a value, for messages (`an object`, `a string`, …).
pub(super) fn json_kind(v: &serde_json::Value) -> &'static str {
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
