//! JSON paths for deserialisation errors, shared by the parsers of JSON documents (plan
//! documents here, CloudTrail events in the table guard): every rejection names the field.
//!
//! Paths are written as `serde_path_to_error` prints them (`Rules[0].StartWindowMinutes`,
//! `detail.responseElements.tableDescription.tableArn`); `$` is the document as a whole.

/// The path of the whole document.
pub const ROOT: &str = "$";

/// Longest problem text kept from a serde message (serde quotes a mistyped string whole; a
/// multi-megabyte value must not make a multi-megabyte error).
pub const MAX_PROBLEM_CHARS: usize = 300;

/// Deserialises `value` as `T`; an error is `(path, problem)`, the path including the name of
/// a missing field (serde reports it only in the message; its path stops at the parent).
pub fn deserialize<'de, T: serde::Deserialize<'de>>(
    value: &'de serde_json::Value,
) -> Result<T, (String, String)> {
    serde_path_to_error::deserialize(value).map_err(|e| split(&e))
}

/// `(path, problem)` of a `serde_path_to_error` error on JSON (see [`deserialize`]).
pub fn split(e: &serde_path_to_error::Error<serde_json::Error>) -> (String, String) {
    let parent = e.path().to_string();
    let parent = if parent == "." { String::new() } else { parent };
    let message = e.inner().to_string();
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next());
    let path = match (missing, parent.is_empty()) {
        (Some(name), true) => name.to_string(),
        (Some(name), false) => format!("{parent}.{name}"),
        (None, true) => ROOT.to_string(),
        (None, false) => parent,
    };
    let problem = if missing.is_some() {
        "missing".to_string()
    } else {
        cut(&message, MAX_PROBLEM_CHARS)
    };
    (path, problem)
}

/// `s` cut to `max` characters, the cut marked with the full length.
pub fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((at, _)) => format!("{}… ({} characters)", &s[..at], s.chars().count()),
    }
}

/// `child` under `parent` (`parent` empty or [`ROOT`]: `child` itself).
pub fn join(parent: &str, child: &str) -> String {
    if parent.is_empty() || parent == ROOT {
        child.to_string()
    } else if child == ROOT {
        parent.to_string()
    } else if child.starts_with('[') {
        format!("{parent}{child}")
    } else {
        format!("{parent}.{child}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Outer {
        list: Vec<Inner>,
    }

    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Inner {
        n: i64,
    }

    #[test]
    fn wrong_types_and_missing_fields_name_the_full_path() {
        let v = json!({"list": [{"n": 1}, {"n": 60.5}]});
        let (path, problem) = deserialize::<Outer>(&v).unwrap_err();
        assert_eq!(path, "list[1].n");
        assert!(problem.contains("60.5"), "{problem}");
        let v = json!({"list": [{}]});
        assert_eq!(
            deserialize::<Outer>(&v).unwrap_err(),
            ("list[0].n".to_string(), "missing".to_string())
        );
        assert_eq!(deserialize::<Outer>(&json!({})).unwrap_err().0, "list");
        assert_eq!(deserialize::<Outer>(&json!(5)).unwrap_err().0, ROOT);
    }

    #[test]
    fn a_huge_mistyped_string_makes_a_short_problem() {
        let v = json!({"list": "x".repeat(1_000_000)});
        let (path, problem) = deserialize::<Outer>(&v).unwrap_err();
        assert_eq!(path, "list");
        assert!(
            problem.chars().count() < MAX_PROBLEM_CHARS + 40,
            "{}",
            problem.len()
        );
        assert!(problem.ends_with("characters)"), "{problem}");
    }

    #[test]
    fn join_handles_root_and_indices() {
        assert_eq!(join(ROOT, "Rules"), "Rules");
        assert_eq!(
            join("BackupPlan", "Rules[0].RuleName"),
            "BackupPlan.Rules[0].RuleName"
        );
        assert_eq!(join("BackupPlan", ROOT), "BackupPlan");
        assert_eq!(join("Rules", "[2]"), "Rules[2]");
    }
}
