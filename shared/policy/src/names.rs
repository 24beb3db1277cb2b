//! Syntax of the AWS names several parsers check (the table guard's event parser, the
//! verifier's payload and `BG_REGIONS`): partitions, region names, account ids. One definition,
//! so an event and a payload agree on what a region is.

/// The AWS partitions (the second field of an ARN).
pub const PARTITIONS: [&str; 8] = [
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];

/// True for a known AWS partition ([`PARTITIONS`]; exact, case-sensitive as in ARNs).
pub fn is_partition(s: &str) -> bool {
    PARTITIONS.contains(&s)
}

/// True for a region name such as `eu-west-1`, `us-gov-west-1` or `cn-north-1`: at least three
/// non-empty groups of lowercase ASCII letters and digits joined by `-`, the last group all
/// digits.
pub fn is_region_name(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()))
}

/// True for an AWS account id: exactly 12 ASCII digits.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// `s` for an error message: at most `max` characters (a longer value is cut and its length
/// given), so a multi-megabyte field does not make a multi-megabyte message.
pub fn shown(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => format!("{s:?}"),
        Some((cut, _)) => format!("{:?}… ({} characters)", &s[..cut], s.chars().count()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_of_every_partition_are_region_names() {
        for r in [
            "eu-west-1",
            "us-east-1",
            "us-gov-west-1",
            "cn-north-1",
            "us-isob-east-1",
            "eusc-de-east-1",
            "ap-southeast-5",
        ] {
            assert!(is_region_name(r), "{r}");
        }
    }

    #[test]
    fn malformed_regions_are_not() {
        for r in [
            "",
            "---",
            "eu",
            "eu-west",
            "eu-west-",
            "-eu-west-1",
            "EU-WEST-1",
            "eu_west_1",
            "eu-west-1a",
            "eu--west-1",
            "eu-wést-1",
            "Ireland",
        ] {
            assert!(!is_region_name(r), "{r}");
        }
    }

    #[test]
    fn partitions_are_the_known_list_only() {
        for p in PARTITIONS {
            assert!(is_partition(p), "{p}");
        }
        for p in ["", "awsfoo", "AWS", "aws-", "aws-iso-z", "aws-us-gov "] {
            assert!(!is_partition(p), "{p}");
        }
    }

    #[test]
    fn account_ids_are_twelve_digits() {
        assert!(is_account_id("123456789012"));
        for a in [
            "",
            "12345678901",
            "1234567890123",
            "12345678901a",
            "１２３４５６７８９０１２",
        ] {
            assert!(!is_account_id(a), "{a}");
        }
    }

    #[test]
    fn shown_cuts_long_values_and_gives_their_length() {
        assert_eq!(shown("abc", 5), "\"abc\"");
        let long = "é".repeat(5_000);
        let s = shown(&long, 10);
        assert!(
            s.starts_with(
                &format!("{:?}", "é".repeat(10))
                    .trim_end_matches('"')
                    .to_string()
            )
        );
        assert!(s.ends_with("(5000 characters)"), "{s}");
        assert!(s.len() < 64, "{s}");
    }
}
