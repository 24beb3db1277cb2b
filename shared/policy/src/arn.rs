//! DynamoDB table ARNs: `arn:<partition>:dynamodb:<region>:<account>:table/<name>`.
//!
//! [`TableArn`] is the one place table ARNs are built ([`std::fmt::Display`]) and parsed
//! ([`std::str::FromStr`]); a string that is not a table ARN is a [`TableArnError`] that says
//! which part is wrong. Only the ARN's shape is checked (every field present and non-empty,
//! service `dynamodb`, resource `table/<name>` with nothing after the name), not whether the
//! region or account exists.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// The ARN of a DynamoDB table, by its four parts.
///
/// ```
/// use policy::arn::TableArn;
/// let arn: TableArn = "arn:aws-cn:dynamodb:cn-north-1:123456789012:table/orders".parse().unwrap();
/// assert_eq!(arn.name, "orders");
/// assert_eq!(arn.to_string(), "arn:aws-cn:dynamodb:cn-north-1:123456789012:table/orders");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TableArn {
    /// The AWS partition the table lives in (`aws`, `aws-cn`, `aws-us-gov`).
    pub partition: String,
    /// The region code of the table (`eu-west-1`).
    pub region: String,
    /// The id of the account that owns the table.
    pub account: String,
    /// The table's name (the part after `table/`).
    pub name: String,
}

impl TableArn {
    /// The ARN of table `name` of `account` in `region` of `partition` (the parts are taken
    /// as given; build from values AWS returned).
    pub fn new(
        partition: impl Into<String>,
        region: impl Into<String>,
        account: impl Into<String>,
        name: impl Into<String>,
    ) -> Self {
        TableArn {
            partition: partition.into(),
            region: region.into(),
            account: account.into(),
            name: name.into(),
        }
    }
}

impl fmt::Display for TableArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:dynamodb:{}:{}:table/{}",
            self.partition, self.region, self.account, self.name
        )
    }
}

/// Why a string is not a DynamoDB table ARN.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TableArnError {
    /// Not of the form `arn:<partition>:<service>:<region>:<account>:<resource>`.
    #[error(
        "{arn:?} is not an ARN (expected arn:<partition>:dynamodb:<region>:<account>:table/<name>)"
    )]
    NotAnArn {
        /// The string that was parsed.
        arn: String,
    },
    /// One of the ARN's fields (partition, region, account, table name) is empty.
    #[error("table ARN {arn:?} has an empty {field}")]
    EmptyField {
        /// The string that was parsed.
        arn: String,
        /// Which field is empty: `partition`, `region`, `account` or `table name`.
        field: &'static str,
    },
    /// An ARN of another service than DynamoDB.
    #[error("{arn:?} is an ARN of service {service:?}, not of dynamodb")]
    NotDynamoDb {
        /// The string that was parsed.
        arn: String,
        /// The ARN's service field.
        service: String,
    },
    /// A DynamoDB ARN whose resource is not `table/…`.
    #[error(
        "{arn:?} names the DynamoDB resource {resource:?}, not a table (expected table/<name>)"
    )]
    NotATable {
        /// The string that was parsed.
        arn: String,
        /// The ARN's resource field.
        resource: String,
    },
    /// The ARN of something inside a table (a backup, stream, index or export), not of the
    /// table itself.
    #[error("{arn:?} names {rest:?} of table {table:?}, not the table itself")]
    PartOfTable {
        /// The string that was parsed.
        arn: String,
        /// The table the ARN points into.
        table: String,
        /// What follows `table/<name>/`.
        rest: String,
    },
}

/// The resource field of a DynamoDB ARN (`arn:<p>:dynamodb:<r>:<a>:<resource>`); partition,
/// region and account are not checked.
pub(crate) fn dynamodb_resource(arn: &str) -> Option<&str> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" || parts[2] != "dynamodb" {
        return None;
    }
    Some(parts[5])
}

impl FromStr for TableArn {
    type Err = TableArnError;

    fn from_str(arn: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let [prefix, partition, service, region, account, resource] = parts[..] else {
            return Err(TableArnError::NotAnArn { arn: arn.into() });
        };
        if prefix != "arn" {
            return Err(TableArnError::NotAnArn { arn: arn.into() });
        }
        let empty = |field| TableArnError::EmptyField {
            arn: arn.into(),
            field,
        };
        if partition.is_empty() {
            return Err(empty("partition"));
        }
        if service != "dynamodb" {
            return Err(TableArnError::NotDynamoDb {
                arn: arn.into(),
                service: service.into(),
            });
        }
        if region.is_empty() {
            return Err(empty("region"));
        }
        if account.is_empty() {
            return Err(empty("account"));
        }
        let Some(name) = resource.strip_prefix("table/") else {
            return Err(TableArnError::NotATable {
                arn: arn.into(),
                resource: resource.into(),
            });
        };
        if let Some((table, rest)) = name.split_once('/') {
            return Err(TableArnError::PartOfTable {
                arn: arn.into(),
                table: table.into(),
                rest: rest.into(),
            });
        }
        if name.is_empty() {
            return Err(empty("table name"));
        }
        Ok(TableArn::new(partition, region, account, name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_every_partition() {
        for partition in ["aws", "aws-cn", "aws-us-gov"] {
            let text = format!("arn:{partition}:dynamodb:eu-west-1:123456789012:table/orders");
            let arn: TableArn = text.parse().unwrap();
            assert_eq!(
                arn,
                TableArn::new(partition, "eu-west-1", "123456789012", "orders")
            );
            assert_eq!(arn.to_string(), text);
        }
    }

    #[test]
    fn each_wrong_part_is_named() {
        let err = |s: &str| s.parse::<TableArn>().unwrap_err();
        assert_eq!(
            err("orders"),
            TableArnError::NotAnArn {
                arn: "orders".into()
            }
        );
        assert!(matches!(
            err("urn:aws:dynamodb:eu-west-1:1:table/t"),
            TableArnError::NotAnArn { .. }
        ));
        assert!(matches!(
            err("arn:aws:dynamodb:eu-west-1:1"),
            TableArnError::NotAnArn { .. }
        ));
        for (arn, field) in [
            ("arn::dynamodb:eu-west-1:1:table/t", "partition"),
            ("arn:aws:dynamodb::1:table/t", "region"),
            ("arn:aws:dynamodb:eu-west-1::table/t", "account"),
            ("arn:aws:dynamodb:eu-west-1:1:table/", "table name"),
        ] {
            assert_eq!(
                err(arn),
                TableArnError::EmptyField {
                    arn: arn.into(),
                    field
                },
                "{arn}"
            );
            assert!(err(arn).to_string().contains(field));
        }
        assert_eq!(
            err("arn:aws:backup:eu-west-1:1:table/t"),
            TableArnError::NotDynamoDb {
                arn: "arn:aws:backup:eu-west-1:1:table/t".into(),
                service: "backup".into()
            }
        );
        assert!(matches!(
            err("arn:aws:dynamodb:eu-west-1:1:global-table/t"),
            TableArnError::NotATable { resource, .. } if resource == "global-table/t"
        ));
        let e = err("arn:aws:dynamodb:eu-west-1:1:table/orders/backup/0123");
        assert_eq!(
            e,
            TableArnError::PartOfTable {
                arn: "arn:aws:dynamodb:eu-west-1:1:table/orders/backup/0123".into(),
                table: "orders".into(),
                rest: "backup/0123".into()
            }
        );
        assert!(e.to_string().contains("not the table itself"), "{e}");
    }

    #[test]
    fn dynamodb_resource_is_the_sixth_field_of_dynamodb_arns_only() {
        assert_eq!(
            dynamodb_resource("arn:aws:dynamodb:eu-west-1:1:table/t/backup/b:c"),
            Some("table/t/backup/b:c")
        );
        assert_eq!(
            dynamodb_resource("arn:aws:backup:eu-west-1:1:recovery-point:x"),
            None
        );
        assert_eq!(dynamodb_resource("arn:aws:dynamodb"), None);
    }
}
