//! `slots.csv`: one row per table × slot of the horizon, the columns an auditor filters on.
//! RFC 4180: CRLF line ends, a header row, fields with a comma, a double quote, CR or LF
//! quoted, double quotes doubled.

use crate::EvidenceDoc;

/// The columns of `slots.csv`, in order.
pub const CSV_COLUMNS: [&str; 14] = [
    "account",
    "region",
    "table",
    "verdict",
    "slot_at",
    "status",
    "point_arn",
    "point_created",
    "point_completed",
    "delete_at",
    "vault",
    "plan",
    "rule",
    "run_id",
];

/// Appends `field` to `out`, quoted if RFC 4180 requires it.
fn field(out: &mut String, field: &str) {
    if field.contains([',', '"', '\r', '\n']) {
        out.push('"');
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}

fn row(out: &mut String, fields: &[&str]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        field(out, f);
    }
    out.push_str("\r\n");
}

/// The CSV of `doc`.
pub(crate) fn render(doc: &EvidenceDoc) -> String {
    let rows: usize = doc.tables.iter().map(|t| t.slots.len()).sum();
    // About 300 bytes a row (two ARNs' worth of ids, three instants).
    let mut out = String::with_capacity(256 + rows * 320);
    row(&mut out, &CSV_COLUMNS);
    let account = doc.run.account.as_deref().unwrap_or("");
    let ts = |t: Option<jiff::Timestamp>| t.map(|t| t.to_string()).unwrap_or_default();
    for t in &doc.tables {
        for s in &t.slots {
            let p = s.point.as_ref();
            let at = s.at.to_string();
            let created = ts(p.map(|p| p.created));
            let completed = ts(p.and_then(|p| p.completed));
            let delete_at = ts(p.and_then(|p| p.delete_at));
            let plan = p.and_then(|p| p.plan.as_deref()).unwrap_or("");
            let rule = p.and_then(|p| p.rule.as_deref()).unwrap_or("");
            row(
                &mut out,
                &[
                    account,
                    &doc.run.region,
                    &t.name,
                    &t.verdict,
                    &at,
                    s.status.as_str(),
                    p.map_or("", |p| p.arn.as_str()),
                    &created,
                    &completed,
                    &delete_at,
                    p.map_or("", |p| p.vault.as_str()),
                    plan,
                    rule,
                    &doc.run.run_id,
                ],
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_when_rfc_4180_requires_it() {
        let mut out = String::new();
        row(&mut out, &["plain", "a,b", "say \"hi\"", "two\nlines", ""]);
        assert_eq!(out, "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\r\n");
    }
}
