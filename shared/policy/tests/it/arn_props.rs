//! Property tests of table ARNs: printing and parsing are inverse.

use policy::arn::{TableArn, TableArnError};
use proptest::prelude::*;

fn part() -> impl Strategy<Value = String> {
    "[a-z0-9-]{1,16}"
}

fn name() -> impl Strategy<Value = String> {
    // Table names are [A-Za-z0-9_.-]{3,255}; the parser accepts any non-empty name without '/'.
    "[A-Za-z0-9_.-]{1,64}"
}

proptest! {
    #[test]
    fn display_then_parse_is_the_identity(
        partition in part(), region in part(), account in "[0-9]{1,12}", name in name()
    ) {
        let arn = TableArn::new(partition, region, account, name);
        let text = arn.to_string();
        prop_assert_eq!(text.parse::<TableArn>(), Ok(arn));
    }

    #[test]
    fn parse_then_display_is_the_identity_for_table_arns(
        partition in part(), region in part(), account in "[0-9]{1,12}", name in name()
    ) {
        let text = format!("arn:{partition}:dynamodb:{region}:{account}:table/{name}");
        let arn: TableArn = text.parse().unwrap();
        prop_assert_eq!(&arn.name, &name);
        prop_assert_eq!(arn.to_string(), text);
    }

    #[test]
    fn anything_after_the_table_name_is_part_of_the_table(
        name in name(), rest in "[a-z0-9/-]{1,32}"
    ) {
        let text = format!("arn:aws:dynamodb:eu-west-1:123456789012:table/{name}/{rest}");
        prop_assert_eq!(
            text.parse::<TableArn>(),
            Err(TableArnError::PartOfTable { arn: text.clone(), table: name, rest })
        );
    }
}
