//! The domain types the parser produces: the handled event names, who called, what to do
//! with the event ([`Disposition`]), the parsed event, and [`EventError`].

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::{PATH_IMPORT_TABLE_ARN, PATH_RESOURCE_ARN, PATH_TABLE_ARN, TableRef};

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
    /// `UpdateTable` that creates global-table replicas (`requestParameters.replicaUpdates`
    /// with a `create`); any other `UpdateTable` is ignored.
    UpdateTable,
}

impl TableEventName {
    /// Every handled event.
    pub const ALL: [TableEventName; 7] = [
        TableEventName::CreateTable,
        TableEventName::RestoreTableFromBackup,
        TableEventName::RestoreTableToPointInTime,
        TableEventName::ImportTable,
        TableEventName::TagResource,
        TableEventName::UntagResource,
        TableEventName::UpdateTable,
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
            TableEventName::UpdateTable => "UpdateTable",
        }
    }

    /// Parses a CloudTrail `eventName` (exact, case-sensitive as CloudTrail writes it).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|n| n.as_str() == name)
    }

    /// True for events that bring a table into existence (`UpdateTable`: a replica, a new
    /// table in its region).
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
            | TableEventName::RestoreTableToPointInTime
            | TableEventName::UpdateTable => PATH_TABLE_ARN,
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

/// An `UpdateTable` that created global-table replicas: each replica is a new table, the
/// same name in another region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicaEvent {
    /// The table the call updated (`responseElements.tableDescription.tableArn`, in the
    /// event's own region).
    pub source: TableRef,
    /// The replicas created, one per region (same partition, account and name; the region of
    /// `replicaUpdates[].create.regionName`), in the order the call named them.
    pub replicas: Vec<TableRef>,
}

/// What the guard does with an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum Disposition {
    /// Evaluate the table.
    Evaluate(TableEvent),
    /// Global-table replicas were created (`UpdateTable`); the handler checks one in its own
    /// region like a new table and alerts on the others (regions it does not watch).
    Replicas(ReplicaEvent),
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
    /// The table, if the event is to be evaluated (for replicas: the table updated).
    pub fn table(&self) -> Option<&TableRef> {
        match &self.disposition {
            Disposition::Evaluate(e) => Some(&e.table),
            Disposition::Replicas(r) => Some(&r.source),
            Disposition::Ignored { .. } => None,
        }
    }

    /// `evaluate`, `replicas` or `ignored`.
    pub fn outcome_word(&self) -> &'static str {
        match self.disposition {
            Disposition::Evaluate(_) => "evaluate",
            Disposition::Replicas(_) => "replicas",
            Disposition::Ignored { .. } => "ignored",
        }
    }

    /// The reason an event is ignored.
    pub fn ignore_reason(&self) -> Option<&str> {
        match &self.disposition {
            Disposition::Evaluate(_) | Disposition::Replicas(_) => None,
            Disposition::Ignored { reason } => Some(reason),
        }
    }
}
