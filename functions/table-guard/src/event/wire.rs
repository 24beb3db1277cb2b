//! The wire format: serde types of the EventBridge envelope's CloudTrail `detail`, declaring
//! only the fields the guard reads (JSON names as CloudTrail writes them).

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use serde::{Deserialize, Serialize};

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
    /// `replicaUpdates` (`UpdateTable` of a global table, version 2019.11.21): one entry
    /// per replica created, updated or deleted.
    #[serde(default)]
    pub replica_updates: Option<Vec<ReplicaUpdate>>,
}

/// One entry of `requestParameters.replicaUpdates`: `create`, `update` or `delete` of a
/// replica (only `create` brings a new table into existence; the others are not read).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplicaUpdate {
    /// `create`: a new replica.
    #[serde(default)]
    pub create: Option<ReplicaCreate>,
}

/// `replicaUpdates[].create`: the replica to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplicaCreate {
    /// `regionName`: the region the new replica (the same table name) lives in.
    pub region_name: String,
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

/// The typed envelope.
pub type CloudTrailEvent = EventBridgeEvent<CloudTrailDetail>;
