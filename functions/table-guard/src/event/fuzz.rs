//! Property tests of the event parser: arbitrary and mutated events never panic, and every
//! rejection names a field (for mutations: the mutated field, or a field inside/around it).

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use crate::event::{parse_event, parse_event_str};

const SAMPLES: [&str; 8] = [
    "create-table.json",
    "create-table-cloudformation.json",
    "restore-table-from-backup.json",
    "restore-table-to-point-in-time.json",
    "import-table.json",
    "tag-resource.json",
    "untag-resource.json",
    "create-table-failed.json",
];

fn sample_text(name: &str) -> String {
    let path = format!("{}/../../events/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Keys the parser looks at, so random objects sometimes get far.
const KEYS: [&str; 16] = [
    "source",
    "detail-type",
    "detail",
    "eventID",
    "eventName",
    "eventSource",
    "errorCode",
    "requestParameters",
    "responseElements",
    "tableDescription",
    "importTableDescription",
    "tableArn",
    "resourceArn",
    "tags",
    "tagKeys",
    "userIdentity",
];

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        prop_oneof![
            Just("aws.dynamodb".to_string()),
            Just("AWS API Call via CloudTrail".to_string()),
            Just("dynamodb.amazonaws.com".to_string()),
            Just("CreateTable".to_string()),
            Just("TagResource".to_string()),
            Just("arn:aws:dynamodb:eu-west-1:123456789012:table/orders".to_string()),
            ".{0,12}",
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        prop::sample::select(KEYS.to_vec()).prop_map(String::from),
                        "[a-z]{1,6}"
                    ],
                    inner
                ),
                0..6
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

/// Every path in `v` (objects by key, arrays by `[i]`), in parser notation.
fn paths(v: &Value, prefix: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                out.push(p.clone());
                paths(child, &p, out);
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                let p = format!("{prefix}[{i}]");
                out.push(p.clone());
                paths(child, &p, out);
            }
        }
        _ => {}
    }
}

/// Splits `a.b[2].c` into steps.
enum Step {
    Key(String),
    Index(usize),
}

fn steps(path: &str) -> Vec<Step> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            out.push(Step::Key(key.to_string()));
        }
        for idx in rest.split('[').filter(|s| !s.is_empty()) {
            out.push(Step::Index(idx.trim_end_matches(']').parse().unwrap()));
        }
    }
    out
}

/// Replaces (Some) or removes (None) the value at `path`.
fn mutate(v: &mut Value, path: &str, new: Option<Value>) {
    let steps = steps(path);
    let (last, parents) = steps.split_last().unwrap();
    let mut cur = v;
    for s in parents {
        cur = match s {
            Step::Key(k) => cur.get_mut(k.as_str()).unwrap(),
            Step::Index(i) => cur.get_mut(*i).unwrap(),
        };
    }
    match (last, new) {
        (Step::Key(k), Some(n)) => {
            cur.as_object_mut().unwrap().insert(k.clone(), n);
        }
        (Step::Key(k), None) => {
            cur.as_object_mut().unwrap().remove(k);
        }
        (Step::Index(i), Some(n)) => cur.as_array_mut().unwrap()[*i] = n,
        (Step::Index(i), None) => {
            cur.as_array_mut().unwrap().remove(*i);
        }
    }
}

fn related(a: &str, b: &str) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

fn replacement() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        Just(None),
        Just(Some(Value::Null)),
        any::<i32>().prop_map(|n| Some(json!(n))),
        ".{0,20}".prop_map(|s| Some(json!(s))),
        Just(Some(json!({}))),
        Just(Some(json!([]))),
        Just(Some(json!([{"key": 1}]))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_json_never_panics_and_rejections_name_a_field(v in arb_json()) {
        if let Err(e) = parse_event(&v) {
            prop_assert!(!e.field.is_empty());
            prop_assert!(e.to_string().starts_with(&e.field));
        }
    }

    #[test]
    fn mutated_samples_never_panic_and_name_the_mutated_field(
        sample in prop::sample::select(SAMPLES.to_vec()),
        pick in any::<prop::sample::Index>(),
        new in replacement(),
    ) {
        let mut v: Value = serde_json::from_str(&sample_text(sample)).unwrap();
        let mut all = Vec::new();
        paths(&v, "", &mut all);
        let path = pick.get(&all).clone();
        mutate(&mut v, &path, new.clone());
        match parse_event(&v) {
            Ok(_) => {}
            Err(e) => {
                prop_assert!(!e.field.is_empty());
                // A failed call turned into a successful one by the mutation legitimately
                // fails on its (null) response instead.
                if sample != "create-table-failed.json" {
                    prop_assert!(
                        related(&e.field, &path)
                            || e.other_field.as_deref().is_some_and(|o| related(o, &path)),
                        "mutating {} ({:?}) was rejected on {}: {}", path, new, e.field, e
                    );
                }
            }
        }
    }

    #[test]
    fn truncated_samples_are_rejected_as_invalid_json(
        sample in prop::sample::select(SAMPLES.to_vec()),
        frac in 0.0f64..0.999,
    ) {
        let text = sample_text(sample);
        let mut cut = ((text.len() as f64) * frac) as usize;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let e = parse_event_str(&text[..cut]).unwrap_err();
        prop_assert_eq!(e.field.as_str(), "$");
    }
}
