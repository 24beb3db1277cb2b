//! Mutations: byte level (bit flips, random and "interesting" bytes, insertions, deletions,
//! duplications, truncation, splices) and JSON structure level (value swaps between paths, type
//! changes, removals, huge and fractional numbers, unicode and huge strings, deep nesting,
//! domain strings such as odd ARNs, regions and cron expressions).
//!
//! [`mutate_cron_field`] replaces whole fields of a cron expression with dialect tokens, so
//! many mutants stay parseable and reach the schedule code.

use serde_json::{Map, Number, Value, json};

use crate::rng::Rng;

/// Byte sequences that often matter to a JSON or cron parser.
const TOKENS: &[&str] = &[
    "\"",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "null",
    "true",
    "-",
    "0",
    "1e999",
    "-1e999",
    "1e-999",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "18446744073709551616",
    "60.5",
    "-0",
    "\\u0000",
    "\\ud800",
    "\\udfff\\ud800",
    "\\\"",
    "é",
    "\u{1D11E}",
    "\u{202E}",
    "\u{FEFF}",
    "\u{0663}",
    "\t",
    "\n",
    "\r",
    " ",
    "*",
    "?",
    "L",
    "W",
    "#",
    "/",
    "cron(",
    ")",
    "rate(",
    "arn:",
    "aws",
    "aws-cn",
    "::",
    "table/",
    "-1",
    "99999",
];

/// Strings worth planting into fields.
const DOMAIN_STRINGS: &[&str] = &[
    "",
    " ",
    "aws.dynamodb",
    "AWS API Call via CloudTrail",
    "dynamodb.amazonaws.com",
    "CreateTable",
    "TagResource",
    "UntagResource",
    "ImportTable",
    "RestoreTableFromBackup",
    "RestoreTableToPointInTime",
    "DeleteTable",
    "arn:aws:dynamodb:eu-west-1:123456789012:table/orders",
    "arn:awsfoo:dynamodb:eu-west-1:123456789012:table/orders",
    "arn:aws:dynamodb:---:123456789012:table/orders",
    "arn:aws:dynamodb:eu-west-1:999999999999:table/orders",
    "arn:aws:dynamodb:us-east-1:123456789012:table/orders",
    "arn:aws-us-gov:dynamodb:us-gov-west-1:123456789012:table/orders",
    "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/x",
    "arn:aws:dynamodb:eu-west-1:123456789012:table/é",
    "arn:aws:s3:::bucket",
    "eu-west-1",
    "us-gov-west-1",
    "---",
    "EU-WEST-1",
    "123456789012",
    "12345678901",
    "7c1e5a2b-3f4d-4e6a-9b8c-0d1e2f3a4b01",
    "event#1",
    "ResourceInUseException",
    "cron(0 0 15,25 * ? *)",
    "cron(0 0 ? * 6L *)",
    "cron(0 0 L * ? *)",
    "cron(0 0 15W * ? 2026-2199)",
    "cron(0 0 32 * ? *)",
    "cron(0 0 * * * *)",
    "rate(1 day)",
    "UTC",
    "Europe/Berlin",
    "Mars/Olympus",
    "Default",
    "e\u{301}",
    "\u{1F600}",
    "\u{0}",
];

/// Numbers worth planting.
fn interesting_number(rng: &mut Rng) -> Value {
    match rng.below(14) {
        0 => json!(i64::MAX),
        1 => json!(i64::MIN),
        2 => json!(u64::MAX),
        3 => json!(-5),
        4 => json!(0),
        5 => json!(59),
        6 => json!(60),
        7 => json!(60.5),
        8 => json!(1e300),
        9 => json!(-0.0),
        10 => json!(52_560_001),
        11 => json!(36_501),
        12 => json!(153_722_867_280_912_931_i64),
        _ => Value::Number(Number::from(rng.next_u64() as i64)),
    }
}

/// A random string: a domain string, unicode, a long run, or random characters.
fn interesting_string(rng: &mut Rng) -> String {
    match rng.below(8) {
        0..=2 => rng.pick(DOMAIN_STRINGS).to_string(),
        3 => {
            // Long: up to 4 Ki characters, rarely 1 Mi.
            let n = if rng.one_in(1000) {
                1 << 20
            } else {
                rng.below(1 << 12)
            };
            let c = *rng.pick(&['a', 'é', '-', '0', '\u{1F600}']);
            std::iter::repeat_n(c, n).collect()
        }
        4 => (0..rng.below(12))
            .map(|_| char::from_u32(rng.below(0x11_0000) as u32).unwrap_or('\u{FFFD}'))
            .collect(),
        _ => (0..rng.below(16))
            .map(|_| (b' ' + rng.below(95) as u8) as char)
            .collect(),
    }
}

/// A random JSON value of depth at most `depth`.
pub fn random_value(rng: &mut Rng, depth: usize) -> Value {
    let kinds = if depth == 0 { 4 } else { 6 };
    match rng.below(kinds) {
        0 => Value::Null,
        1 => Value::Bool(rng.one_in(2)),
        2 => interesting_number(rng),
        3 => Value::String(interesting_string(rng)),
        4 => Value::Array(
            (0..rng.below(4))
                .map(|_| random_value(rng, depth - 1))
                .collect(),
        ),
        _ => Value::Object(
            (0..rng.below(4))
                .map(|_| (interesting_string(rng), random_value(rng, depth - 1)))
                .collect::<Map<String, Value>>(),
        ),
    }
}

/// One step from a value to a child.
#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

/// Every path in `v` (the root is the empty path).
fn paths(v: &Value, prefix: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    out.push(prefix.clone());
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                prefix.push(Step::Key(k.clone()));
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                prefix.push(Step::Index(i));
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

fn get_mut<'a>(v: &'a mut Value, path: &[Step]) -> Option<&'a mut Value> {
    let mut cur = v;
    for s in path {
        cur = match s {
            Step::Key(k) => cur.get_mut(k.as_str())?,
            Step::Index(i) => cur.get_mut(*i)?,
        };
    }
    Some(cur)
}

fn get<'a>(v: &'a Value, path: &[Step]) -> Option<&'a Value> {
    let mut cur = v;
    for s in path {
        cur = match s {
            Step::Key(k) => cur.get(k.as_str())?,
            Step::Index(i) => cur.get(*i)?,
        };
    }
    Some(cur)
}

/// A value of another JSON type than `v`, built from it where that makes sense.
fn change_type(rng: &mut Rng, v: &Value) -> Value {
    match v {
        Value::String(s) => match rng.below(4) {
            0 => s.parse::<f64>().map_or(json!(s.len()), |n| json!(n)),
            1 => json!([s]),
            2 => json!({ "value": s }),
            _ => Value::Null,
        },
        Value::Number(n) => match rng.below(3) {
            0 => json!(n.to_string()),
            1 => n.as_f64().map_or(Value::Null, |f| json!(f + 0.5)),
            _ => json!([n]),
        },
        Value::Array(a) => match rng.below(3) {
            0 => a.first().cloned().unwrap_or(Value::Null),
            1 => json!({}),
            _ => json!(a.len()),
        },
        Value::Object(_) => match rng.below(3) {
            0 => json!([v]),
            1 => json!("object"),
            _ => Value::Null,
        },
        Value::Bool(b) => json!(b.to_string()),
        Value::Null => random_value(rng, 1),
    }
}

/// Applies 1-4 structure-level mutations to `doc` (paths are collected once: a path an earlier
/// mutation removed is skipped).
pub fn mutate_json(rng: &mut Rng, doc: &mut Value) {
    let mut all = Vec::new();
    paths(doc, &mut Vec::new(), &mut all);
    for _ in 0..=rng.below(4) {
        let path = rng.pick(&all).clone();
        match rng.below(11) {
            // Swap the values at two paths (unless one contains the other).
            0 => {
                let other = rng.pick(&all).clone();
                let (Some(a), Some(b)) = (get(doc, &path).cloned(), get(doc, &other).cloned())
                else {
                    continue;
                };
                if let Some(slot) = get_mut(doc, &path) {
                    *slot = b;
                }
                if let Some(slot) = get_mut(doc, &other) {
                    *slot = a;
                }
            }
            1 => {
                if let Some(slot) = get_mut(doc, &path) {
                    *slot = change_type(rng, slot);
                }
            }
            // Remove the field / element.
            2 => {
                let Some((last, parent)) = path.split_last() else {
                    continue;
                };
                match (get_mut(doc, parent), last) {
                    (Some(Value::Object(m)), Step::Key(k)) => {
                        m.remove(k);
                    }
                    (Some(Value::Array(a)), Step::Index(i)) if *i < a.len() => {
                        a.remove(*i);
                    }
                    _ => {}
                }
            }
            3 => {
                if let Some(slot) = get_mut(doc, &path) {
                    *slot = interesting_number(rng);
                }
            }
            4 => {
                if let Some(slot) = get_mut(doc, &path) {
                    *slot = Value::String(interesting_string(rng));
                }
            }
            // Edit a string in place: append, prepend, cut, or swap case.
            5 => {
                if let Some(Value::String(s)) = get_mut(doc, &path) {
                    match rng.below(4) {
                        0 => s.push_str(rng.pick::<&str>(TOKENS)),
                        1 => s.insert_str(0, rng.pick::<&str>(TOKENS)),
                        2 => {
                            let mut cut = rng.below(s.len() + 1);
                            while !s.is_char_boundary(cut) {
                                cut -= 1;
                            }
                            s.truncate(cut);
                        }
                        _ => *s = s.to_uppercase(),
                    }
                }
            }
            // Deep nesting: wrap the value in up to 300 arrays/objects.
            6 => {
                if let Some(slot) = get_mut(doc, &path) {
                    let depth = if rng.one_in(4) { 300 } else { rng.below(20) };
                    let mut v = slot.take();
                    for _ in 0..depth {
                        v = if rng.one_in(2) {
                            json!([v])
                        } else {
                            json!({ "a": v })
                        };
                    }
                    *slot = v;
                }
            }
            7 => {
                if let Some(slot) = get_mut(doc, &path) {
                    *slot = random_value(rng, 3);
                }
            }
            // Add a field with a known or random key.
            8 => {
                if let Some(Value::Object(m)) = get_mut(doc, &path) {
                    let key = interesting_string(rng);
                    m.insert(key, random_value(rng, 2));
                }
            }
            // Duplicate an array element (many rules, many tags).
            9 => {
                if let Some(Value::Array(a)) = get_mut(doc, &path)
                    && let Some(first) = a.first().cloned()
                {
                    for _ in 0..=rng.below(8) {
                        a.push(first.clone());
                    }
                }
            }
            _ => {
                if let Some(slot) = get_mut(doc, &path) {
                    *slot = Value::Null;
                }
            }
        }
    }
}

/// Applies 1-8 byte-level mutations to `data`; `donor` is another input to splice from.
pub fn mutate_bytes(rng: &mut Rng, data: &mut Vec<u8>, donor: &[u8]) {
    for _ in 0..=rng.below(8) {
        let len = data.len();
        match rng.below(9) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                data[i] = rng.next_u64() as u8;
            }
            2 => {
                let at = rng.below(len + 1);
                let t = rng.pick(TOKENS).as_bytes();
                data.splice(at..at, t.iter().copied());
            }
            3 if len > 0 => {
                let start = rng.below(len);
                let end = (start + 1 + rng.below(64)).min(len);
                data.drain(start..end);
            }
            4 if len > 0 => {
                let start = rng.below(len);
                let end = (start + 1 + rng.below(64)).min(len);
                let chunk: Vec<u8> = data[start..end].to_vec();
                let at = rng.below(len + 1);
                data.splice(at..at, chunk);
            }
            5 => data.truncate(rng.below(len + 1)),
            6 if !donor.is_empty() => {
                let start = rng.below(donor.len());
                let end = (start + 1 + rng.below(256)).min(donor.len());
                let at = rng.below(len + 1);
                data.splice(at..at, donor[start..end].iter().copied());
            }
            7 => {
                let at = rng.below(len + 1);
                let n = rng.below(8);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
                data.splice(at..at, bytes);
            }
            _ if len > 1 => {
                // Swap two bytes.
                let (i, j) = (rng.below(len), rng.below(len));
                data.swap(i, j);
            }
            _ => {}
        }
    }
}

/// Cron field tokens: valid, edge and invalid values of every field kind.
pub const CRON_TOKENS: &[&str] = &[
    "*",
    "?",
    "0",
    "1",
    "5",
    "7",
    "12",
    "15",
    "23",
    "25",
    "31",
    "32",
    "59",
    "60",
    "1970",
    "2026",
    "2199",
    "2200",
    "L",
    "W",
    "LW",
    "6L",
    "15W",
    "2#1",
    "5#5",
    "8#1",
    "0/15",
    "*/20",
    "10-50/10",
    "1-7",
    "MON-FRI",
    "SUN",
    "sat",
    "JAN-MAR",
    "DEC",
    "1,15,25",
    "L-3",
    "-1",
    "99999999999999999999",
    "",
    "\u{663}",
    "\u{FF11}",
    "5-1",
    "1/0",
    "0/60",
    "FRIL",
    "TUE#3",
    "30",
    "29",
    "2",
    "2027-2028",
    "2026/2",
    "3-3",
    "*/1",
];

/// Replaces 1-2 fields of the cron expression `text` (`cron(...)` or bare) with tokens.
pub fn mutate_cron_field(rng: &mut Rng, text: &str) -> String {
    let (wrapped, body) = match text
        .trim()
        .strip_prefix("cron(")
        .and_then(|b| b.strip_suffix(')'))
    {
        Some(b) => (true, b),
        None => (false, text.trim()),
    };
    let mut fields: Vec<String> = body.split_whitespace().map(str::to_string).collect();
    if fields.is_empty() {
        fields.push("*".into());
    }
    for _ in 0..=rng.below(2) {
        let i = rng.below(fields.len());
        let token = rng.pick(CRON_TOKENS);
        fields[i] = token.to_string();
    }
    let body = fields.join(" ");
    if wrapped {
        format!("cron({body})")
    } else {
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_mutations_change_the_document_and_stay_serialisable() {
        let mut rng = Rng::new(7);
        let seed = json!({"a": {"b": [1, "x", {"c": null}]}, "d": "eu-west-1"});
        let mut changed = 0;
        for _ in 0..500 {
            let mut v = seed.clone();
            mutate_json(&mut rng, &mut v);
            if v != seed {
                changed += 1;
            }
            // Deep values serialise (serde_json writes without a depth limit).
            assert!(serde_json::to_vec(&v).is_ok());
        }
        assert!(
            changed > 400,
            "only {changed} of 500 mutations changed the document"
        );
    }

    #[test]
    fn byte_mutations_change_the_input() {
        let mut rng = Rng::new(11);
        let seed = b"cron(0 0 15,25 * ? *)".to_vec();
        let changed = (0..500)
            .filter(|_| {
                let mut d = seed.clone();
                mutate_bytes(&mut rng, &mut d, b"donor");
                d != seed
            })
            .count();
        assert!(changed > 400, "only {changed} of 500");
    }
}
