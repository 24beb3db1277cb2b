//! The table an event is about: [`TableRef`], parsed from the event's table ARN with
//! [`policy::TableArn`] (the ARN's shape) plus the guard's own checks of its parts (a known
//! partition, a region name, a 12-digit account, a valid DynamoDB table name).

use policy::{TableArn, TableArnError, names};
use serde::{Deserialize, Serialize};

use super::{EventError, shown};

/// A DynamoDB table identified by its ARN.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TableRef {
    /// `arn:<partition>:dynamodb:<region>:<account>:table/<name>`.
    pub arn: String,
    /// Partition (`aws`, `aws-cn`, `aws-us-gov` …).
    pub partition: String,
    /// The region the table lives in (the ARN's fourth field, e.g. `eu-west-1`).
    pub region: String,
    /// Account id (12 digits).
    pub account: String,
    /// Table name.
    pub name: String,
}

impl TableRef {
    /// Parses a table ARN; the error's `field` is `field`, its problem quotes the ARN (cut to a
    /// short length) and says which part is wrong.
    pub fn parse_arn(arn: &str, field: &str) -> Result<Self, EventError> {
        let bad = |why: String| {
            EventError::new(
                field,
                format!("{} is not a DynamoDB table ARN: {why}", shown(arn)),
            )
        };
        let parsed: TableArn = arn.parse().map_err(|e| bad(shape_problem(arn, &e)))?;
        check_parts(&parsed).map_err(bad)?;
        let TableArn {
            partition,
            region,
            account,
            name,
        } = parsed;
        Ok(TableRef {
            arn: arn.to_string(),
            partition,
            region,
            account,
            name,
        })
    }
}

/// What is wrong with the shape of `arn`, in the words of [`check_parts`] where the wrong part
/// is an empty one. The [`TableArnError`] itself quotes the whole ARN, which may be huge.
fn shape_problem(arn: &str, e: &TableArnError) -> String {
    match e {
        // Six `:`-separated fields, but the first is not `arn`.
        TableArnError::NotAnArn { .. } if arn.matches(':').count() >= 5 => {
            "does not start with arn:".to_string()
        }
        TableArnError::NotAnArn { .. } => {
            "expected arn:<partition>:dynamodb:<region>:<account>:table/<name>".to_string()
        }
        TableArnError::EmptyField { field, .. } => match *field {
            "partition" => unknown_partition(""),
            "region" => invalid_region(""),
            "account" => bad_account(""),
            _ => bad_table_name(""),
        },
        TableArnError::NotDynamoDb { service, .. } => {
            format!("service is {}, not dynamodb", shown(service))
        }
        TableArnError::NotATable { resource, .. } => {
            format!("resource {} is not table/<name>", shown(resource))
        }
        TableArnError::PartOfTable { table, rest, .. } => format!(
            "resource {} is a sub-resource of a table, not a table",
            shown(&format!("table/{table}/{rest}"))
        ),
    }
}

/// The guard's checks of a well-shaped table ARN's parts, in the order the ARN writes them.
fn check_parts(arn: &TableArn) -> Result<(), String> {
    if !names::is_partition(&arn.partition) {
        return Err(unknown_partition(&arn.partition));
    }
    if !names::is_region_name(&arn.region) {
        return Err(invalid_region(&arn.region));
    }
    if !names::is_account_id(&arn.account) {
        return Err(bad_account(&arn.account));
    }
    let len = arn.name.chars().count();
    if !(3..=255).contains(&len)
        || !arn
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(bad_table_name(&arn.name));
    }
    Ok(())
}

fn unknown_partition(partition: &str) -> String {
    format!(
        "unknown partition {} (known: {})",
        shown(partition),
        names::PARTITIONS.join(", ")
    )
}

fn invalid_region(region: &str) -> String {
    format!(
        "invalid region {} (expected a region name such as eu-west-1)",
        shown(region)
    )
}

fn bad_account(account: &str) -> String {
    format!("account {} is not 12 digits", shown(account))
}

fn bad_table_name(name: &str) -> String {
    format!(
        "table name {} is not 3-255 characters of a-z A-Z 0-9 _ - .",
        shown(name)
    )
}
