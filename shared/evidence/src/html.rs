//! `report.html`: one self-contained page (inline CSS and a few lines of plain JS, no external
//! asset), rendered from the [`EvidenceDoc`] alone. Every text and attribute value is
//! HTML-escaped.
//!
//! The calendar `#grid` is a header table and chunks of rows (each its own fixed-layout table
//! in a `content-visibility: auto` block, so only the chunks on screen are laid out): one
//! `<tr data-v="VERDICT">` per table (`<th>` name, verdict, finding codes), then one `<td>`
//! per slot of the horizon whose one-letter class is the slot's
//! state ([`SlotState::class`]; `w` added when the satisfying point is itself outside the
//! policy) and whose `title` names the point and its times. Column headers carry the slot
//! instant in `data-at`. The filter (`#f-verdict`, `#f-q`) is mirrored in the URL hash
//! (`#verdict=NON_COMPLIANT&q=orders`): a link shares a view.

use std::fmt::Write as _;

use jiff::Timestamp;

use crate::model::{SlotEvidence, SlotState, VERDICT_CODES};
use crate::{EvidenceDoc, SCHEMA_VERSION, TableEvidence};

/// HTML-escapes `s` for text and (double- or single-quoted) attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    esc_into(&mut out, s);
    out
}

fn esc_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

const CSS: &str = r#"
:root{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1a1a1a}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
body{margin:1.5em;font-size:14px}
h1{font-size:1.4em;margin:0 0 .3em}h2{font-size:1.15em;margin:1.4em 0 .4em;border-bottom:1px solid #ccc}
code,.mono{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.92em}
table{border-collapse:collapse}
th,td{text-align:left;vertical-align:top;padding:2px 6px;border:1px solid #ddd}
thead th{background:#f3f3f3}
.bad{color:#b71c1c;font-weight:600}.ok{color:#1b5e20}
#summary{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.5em}
#summary li a{display:block;padding:.35em .8em;border-radius:4px;text-decoration:none;color:inherit;border:1px solid #ccc}
#summary b{font-size:1.3em;margin-right:.3em}
.V-COMPLIANT{background:#e8f5e9}.V-NON_COMPLIANT{background:#ffebee}.V-EXEMPT{background:#e1f5fe}.V-PENDING{background:#fff8e1}.V-UNVERIFIABLE{background:#eeeeee}
#filters{margin:.5em 0}#filters input{width:16em}
#grid table{table-layout:fixed}#grid col.cv{width:16ch}#grid col.cf{width:28ch}#grid col.cd{width:7.5em}
#grid th,#grid td{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}#grid td.f{white-space:normal}
.gh{position:sticky;top:0;z-index:1}.gc{content-visibility:auto;contain-intrinsic-size:auto 5000px}
#grid td.v{font-size:.85em}
tr[data-v=NON_COMPLIANT] td.v{color:#b71c1c;font-weight:600}tr[data-v=UNVERIFIABLE] td.v{color:#6d4c41;font-weight:600}
tr[data-v=PENDING] td.v{color:#8d6e00}tr[data-v=EXEMPT] td.v{color:#01579b}tr[data-v=COMPLIANT] td.v{color:#1b5e20}
#grid td.f{font-size:.8em;color:#444}
#grid td.s,#grid td.m,#grid td.p,#grid td.n,#grid td.e,#grid td.u,.k{width:2.4em;min-width:2.4em;text-align:center;padding:0;font-size:.85em}
.s{background:#a5d6a7}.m{background:#e57373}.p{background:#ffd54f}.n{background:#f5f5f5}.e{background:#b3e5fc}.u{background:repeating-linear-gradient(45deg,#bdbdbd,#bdbdbd 3px,#e0e0e0 3px,#e0e0e0 6px)}
.s.w{background:#ffb74d}
.s::after{content:"\2713"}.m::after{content:"\2717"}.p::after{content:"\2026"}.n::after{content:"\2013";color:#999}.e::after{content:"E"}.u::after{content:"?"}.s.w::after{content:"!";font-weight:700}
.k{display:inline-block;height:1.2em;vertical-align:middle;border:1px solid #ccc;margin:0 .2em 0 .8em}
.legend{font-size:.9em}
footer{margin-top:2em;font-size:.85em;color:#555}
@media print{body{margin:0;font-size:8pt}.noprint{display:none}thead{display:table-header-group}tr{break-inside:avoid}.gh{position:static}.gc{content-visibility:visible}a{color:inherit;text-decoration:none}h2{break-after:avoid}}
"#;

const JS: &str = r#"
(function(){
var g=document.getElementById('grid');if(!g)return;
var rows=g.querySelectorAll('tbody tr'),chunks=g.querySelectorAll('.gc'),fv=document.getElementById('f-verdict'),fq=document.getElementById('f-q'),fc=document.getElementById('f-count'),keys=[];
for(var i=0;i<rows.length;i++)keys.push((rows[i].cells[0].textContent+' '+rows[i].cells[2].textContent).toLowerCase());
function read(){var o={};location.hash.slice(1).split('&').forEach(function(kv){var i=kv.indexOf('=');if(i>0){try{o[decodeURIComponent(kv.slice(0,i))]=decodeURIComponent(kv.slice(i+1).replace(/\+/g,' '));}catch(e){}}});return o;}
function apply(){var v=fv.value,q=fq.value.trim().toLowerCase(),n=0;for(var i=0;i<rows.length;i++){var s=(!v||rows[i].getAttribute('data-v')===v)&&(!q||keys[i].indexOf(q)>=0);rows[i].hidden=!s;if(s)n++;}fc.textContent=n+' of '+rows.length+' tables shown';
for(var c=0;c<chunks.length;c++){var k=chunks[c].querySelectorAll('tbody tr:not([hidden])').length;chunks[c].hidden=!k;chunks[c].style.containIntrinsicSize='auto '+(k*21)+'px';}}
function fromHash(){var h=read();fv.value=h.verdict||'';fq.value=h.q||'';apply();}
function toHash(){var p=[];if(fv.value)p.push('verdict='+encodeURIComponent(fv.value));if(fq.value)p.push('q='+encodeURIComponent(fq.value));try{history.replaceState(null,'',p.length?'#'+p.join('&'):location.pathname+location.search);}catch(e){location.hash=p.join('&');}apply();}
fv.addEventListener('change',toHash);fq.addEventListener('input',toHash);window.addEventListener('hashchange',fromHash);fromHash();
})();
"#;

/// The policy as one sentence (the page's `#policy` line).
pub(crate) fn policy_line(doc: &EvidenceDoc) -> String {
    let p = &doc.policy;
    format!(
        "{} in {}, start window {} min, completion window {} min, each backup kept exactly {} days, cold storage {}, vault {}, selection {}, mode {}; required tags {}; exemption {} with a reason in {}.",
        p.schedule_expression,
        p.timezone,
        p.start_window_minutes,
        p.completion_window_minutes,
        p.retention_days,
        if p.cold_storage_allowed {
            "allowed"
        } else {
            "not allowed"
        },
        p.vault_name.as_deref().unwrap_or("any"),
        p.selection_mode,
        p.mode,
        if p.required_tags.is_empty() {
            "none".to_string()
        } else {
            p.required_tags.join(", ")
        },
        p.exempt_tag,
        p.exempt_reason_tag
    )
}

fn day(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d").to_string()
}

fn opt_ts(t: Option<Timestamp>) -> String {
    t.map_or_else(|| "-".to_string(), |t| t.to_string())
}

/// The page of `doc`.
pub(crate) fn render(doc: &EvidenceDoc) -> String {
    let cells: usize = doc.tables.iter().map(|t| t.slots.len()).sum();
    let mut out = String::with_capacity(16 * 1024 + doc.tables.len() * 160 + cells * 240);
    let account = doc.run.account.as_deref().unwrap_or("(unknown account)");
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"generator\" content=\"{gen}\">\
         <title>Backup evidence {acc} {reg} {at}</title><style>{CSS}</style></head>\n<body>\n\
         <header><h1>Backup evidence: account {acc}, region {reg}</h1>\
         <p id=\"generated\">Evaluated at <time datetime=\"{at}\">{at}</time> by <b id=\"generator\">{gen}</b>, run <code id=\"run-id\">{run}</code>, evidence schema {SCHEMA_VERSION}.</p></header>\n",
        gen = esc(&doc.run.generator),
        acc = esc(account),
        reg = esc(&doc.run.region),
        at = doc.generated_at,
        run = esc(&doc.run.run_id),
    );
    if let Some(f) = &doc.failure {
        let _ = writeln!(
            out,
            "<p id=\"failure\" class=\"bad\">Nothing in this region could be verified: {}</p>",
            esc(f)
        );
    }
    let _ = writeln!(
        out,
        "<section><h2>Policy</h2><p id=\"policy\">{}</p><p>Horizon {} .. {}: {} slot(s).</p></section>",
        esc(&policy_line(doc)),
        doc.horizon.from,
        doc.horizon.to,
        doc.horizon.slots.len()
    );
    summary(&mut out, doc);
    grid(&mut out, doc);
    findings(&mut out, doc);
    plans(&mut out, doc);
    jobs(&mut out, doc);
    sources(&mut out, doc);
    calls(&mut out, doc);
    let _ = write!(
        out,
        "<footer>Generated by {} for run {} (evaluated at {}). This page, <code>slots.csv</code> and <code>evidence.json</code> form the run's evidence bundle; <code>evidence.json</code> records the SHA-256 of this page and of <code>slots.csv</code>.</footer>\n<script>{JS}</script>\n</body></html>\n",
        esc(&doc.run.generator),
        esc(&doc.run.run_id),
        doc.generated_at
    );
    out
}

fn summary(out: &mut String, doc: &EvidenceDoc) {
    let _ = write!(
        out,
        "<section><h2>Summary</h2><p id=\"total\">{} table(s).</p><ul id=\"summary\">",
        doc.tables.len()
    );
    for v in VERDICT_CODES {
        let n = doc.verdicts.get(v).copied().unwrap_or(0);
        let _ = write!(
            out,
            "<li data-verdict=\"{v}\" class=\"V-{v}\"><a href=\"#verdict={v}\"><b>{n}</b>{v}</a></li>"
        );
    }
    out.push_str("</ul>");
    if !doc.findings_per_code.is_empty() {
        out.push_str("<p id=\"finding-counts\">Findings: ");
        let parts: Vec<String> = doc
            .findings_per_code
            .iter()
            .map(|(c, n)| format!("{} {n}", esc(c)))
            .collect();
        out.push_str(&parts.join(", "));
        out.push_str(".</p>");
    }
    out.push_str("</section>\n");
}

fn coverage_title(t: &TableEvidence) -> String {
    let c = &t.coverage;
    let by = |v: &[crate::model::CoverEvidence]| {
        v.iter()
            .map(|b| {
                format!(
                    "{} / {}{}",
                    b.plan_name,
                    b.selection_name,
                    b.rule_name
                        .as_deref()
                        .map(|r| format!(" / {r}"))
                        .unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    match c.state.as_str() {
        "protected" => format!("protected by {}", by(&c.by)),
        "drifted_only" => format!("covered only by drifted {}", by(&c.drifted)),
        "not_covered" => "covered by no selection".to_string(),
        _ => format!(
            "coverage unknown: {}",
            c.unknown_reason.as_deref().unwrap_or("")
        ),
    }
}

fn cell(out: &mut String, s: &SlotEvidence) {
    let class = s.status.class();
    let mut title = String::new();
    match s.status {
        SlotState::Satisfied => {
            if let Some(p) = &s.point {
                let _ = write!(
                    title,
                    "{}\ncreated {}\ncompleted {}\ndeletes {}",
                    p.arn,
                    p.created,
                    opt_ts(p.completed),
                    opt_ts(p.delete_at)
                );
            }
            if !s.point_findings.is_empty() {
                let _ = write!(title, "\nfindings: {}", s.point_findings.join(", "));
            }
        }
        SlotState::Missed => {
            let _ = write!(title, "missed (due by {})", opt_ts(s.completion_deadline));
            for n in &s.near_misses {
                let _ = write!(
                    title,
                    "\nnot counted: {} created {} {}",
                    n.point_arn, n.created, n.why
                );
            }
        }
        SlotState::Pending => {
            let _ = write!(title, "pending (due by {})", opt_ts(s.completion_deadline));
        }
        SlotState::NotRequired | SlotState::Exempt | SlotState::Unknown => {}
    }
    let w = if s.status == SlotState::Satisfied && !s.point_findings.is_empty() {
        " w"
    } else {
        ""
    };
    if title.is_empty() {
        let _ = write!(out, "<td class=\"{class}{w}\"></td>");
    } else {
        let _ = write!(out, "<td class=\"{class}{w}\" title=\"");
        esc_into(out, &title);
        out.push_str("\"></td>");
    }
}

/// Rows per calendar chunk: each chunk is its own `<table>` in a `content-visibility: auto`
/// block, so the browser lays out and paints only the chunks on screen (at 10,000 tables a
/// single table took seconds to lay out; see docs/EVIDENCE.md).
const ROWS_PER_CHUNK: usize = 250;

/// Opens a calendar table with the `<colgroup>` every one of them shares (fixed layout and
/// width: the header table and every chunk line up without measuring the rows).
fn table_open(out: &mut String, class: &str, name_ch: usize, slots: usize) {
    let _ = write!(
        out,
        "<table class=\"{class}\" style=\"width:calc({}ch + {}em)\"><colgroup><col style=\"width:{name_ch}ch\"><col class=\"cv\"><col class=\"cf\">",
        name_ch + 16 + 28,
        slots as f64 * 7.5
    );
    for _ in 0..slots {
        out.push_str("<col class=\"cd\">");
    }
    out.push_str("</colgroup>");
}

fn grid(out: &mut String, doc: &EvidenceDoc) {
    out.push_str("<section id=\"calendar\"><h2>Calendar: tables × slots</h2>\n<div id=\"filters\" class=\"noprint\"><label>Verdict <select id=\"f-verdict\"><option value=\"\">all</option>");
    for v in VERDICT_CODES {
        let _ = write!(out, "<option>{v}</option>");
    }
    out.push_str("</select></label> <label>Search <input id=\"f-q\" type=\"search\" placeholder=\"table name or finding code\"></label> <output id=\"f-count\"></output></div>\n");
    out.push_str("<p class=\"legend\"><span class=\"k s\"></span>satisfied<span class=\"k s w\"></span>satisfied by a point that is itself outside the policy<span class=\"k m\"></span>missed<span class=\"k p\"></span>pending<span class=\"k n\"></span>not required (before the table existed)<span class=\"k e\"></span>exempt<span class=\"k u\"></span>unknown (could not be read)</p>\n");
    let name_ch = doc
        .tables
        .iter()
        .map(|t| t.name.chars().count())
        .max()
        .unwrap_or(5)
        .clamp(5, 64)
        + 3;
    let slots = doc.horizon.slots.len();
    out.push_str("<div id=\"grid\">");
    table_open(out, "gh", name_ch, slots);
    out.push_str("<thead><tr><th>Table</th><th>Verdict</th><th>Findings</th>");
    for at in &doc.horizon.slots {
        let _ = write!(out, "<th data-at=\"{at}\" title=\"{at}\">{}</th>", day(*at));
    }
    out.push_str("</tr></thead></table>\n");
    for chunk in doc.tables.chunks(ROWS_PER_CHUNK) {
        out.push_str("<div class=\"gc\">");
        table_open(out, "gt", name_ch, slots);
        out.push_str("<tbody>\n");
        for t in chunk {
            row(out, t);
        }
        out.push_str("</tbody></table></div>\n");
    }
    out.push_str("</div></section>\n");
}

/// One table's calendar row.
fn row(out: &mut String, t: &TableEvidence) {
    let _ = write!(out, "<tr data-v=\"{}\"><th title=\"", esc(&t.verdict));
    esc_into(out, &coverage_title(t));
    out.push_str("\">");
    esc_into(out, &t.name);
    let _ = write!(
        out,
        "</th><td class=\"v\">{}</td><td class=\"f\">",
        esc(&t.verdict)
    );
    let mut codes: Vec<&str> = Vec::new();
    for f in &t.findings {
        if !codes.contains(&f.code.as_str()) {
            codes.push(&f.code);
        }
    }
    esc_into(out, &codes.join(" "));
    out.push_str("</td>");
    for s in &t.slots {
        cell(out, s);
    }
    out.push_str("</tr>\n");
}

fn findings(out: &mut String, doc: &EvidenceDoc) {
    let mut all: Vec<(&TableEvidence, &crate::model::FindingEvidence)> = doc
        .tables
        .iter()
        .flat_map(|t| t.findings.iter().map(move |f| (t, f)))
        .collect();
    let rank = |s: &str| match s {
        "critical" => 0,
        "high" => 1,
        "warning" => 2,
        _ => 3,
    };
    all.sort_by(|a, b| {
        rank(&a.1.severity)
            .cmp(&rank(&b.1.severity))
            .then(a.0.name.cmp(&b.0.name))
            .then(a.1.code.cmp(&b.1.code))
            .then(a.1.id.cmp(&b.1.id))
    });
    let _ = write!(
        out,
        "<section id=\"findings\"><h2>Findings ({})</h2>",
        all.len()
    );
    if all.is_empty() {
        out.push_str("<p class=\"ok\">No findings.</p></section>\n");
        return;
    }
    out.push_str("<table><thead><tr><th>Severity</th><th>Table</th><th>Code</th><th>What is wrong</th><th>Fix</th></tr></thead><tbody>\n");
    for (t, f) in all {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            esc(&f.severity),
            esc(&t.name),
            esc(&f.code),
            esc(&f.message),
            esc(f.remedy.as_deref().unwrap_or(""))
        );
    }
    out.push_str("</tbody></table></section>\n");
}

fn plans(out: &mut String, doc: &EvidenceDoc) {
    out.push_str("<section id=\"plans\"><h2>Plan conformance</h2>");
    if let Some(r) = &doc.plans.unread {
        let _ = write!(
            out,
            "<p class=\"bad\">The plans could not be read completely: {}</p>",
            esc(r)
        );
    }
    if doc.plans.items.is_empty() {
        out.push_str("<p>No backup plan.</p></section>\n");
        return;
    }
    out.push_str("<table><thead><tr><th>Plan</th><th>Conforms</th><th>Rule</th><th>Deviations</th><th>Selections</th></tr></thead><tbody>\n");
    for p in &doc.plans.items {
        let rows = p.rules.len().max(1);
        let selections: Vec<String> = p.selections.values().map(|s| esc(s)).collect();
        let _ = write!(
            out,
            "<tr><td rowspan=\"{rows}\">{} <span class=\"mono\">{}</span></td><td rowspan=\"{rows}\" class=\"{}\">{}</td>",
            esc(&p.plan_name),
            esc(&p.plan_id),
            if p.conforms { "ok" } else { "bad" },
            if p.conforms { "yes" } else { "no" }
        );
        let plan_devs: Vec<String> = p.deviations.iter().map(|d| esc(d)).collect();
        if p.rules.is_empty() {
            let _ = writeln!(
                out,
                "<td>-</td><td>{}</td><td rowspan=\"{rows}\">{}</td></tr>",
                plan_devs.join("<br>"),
                selections.join("<br>")
            );
            continue;
        }
        for (i, r) in p.rules.iter().enumerate() {
            if i > 0 {
                out.push_str("<tr>");
            }
            let mut devs = plan_devs.clone();
            devs.extend(r.deviations.iter().map(|d| esc(d)));
            let _ = write!(
                out,
                "<td>{}</td><td class=\"{}\">{}</td>",
                esc(&r.rule_name),
                if r.conforms { "ok" } else { "bad" },
                if devs.is_empty() {
                    "none".to_string()
                } else {
                    devs.join("<br>")
                }
            );
            if i == 0 {
                let _ = write!(
                    out,
                    "<td rowspan=\"{rows}\">{}</td>",
                    selections.join("<br>")
                );
            }
            out.push_str("</tr>\n");
        }
    }
    out.push_str("</tbody></table></section>\n");
}

fn jobs(out: &mut String, doc: &EvidenceDoc) {
    out.push_str("<section id=\"jobs\"><h2>Failed backup jobs</h2>");
    if let Some(r) = &doc.failed_jobs.unread {
        let _ = writeln!(
            out,
            "<p class=\"bad\">The backup jobs could not be read: {}</p></section>",
            esc(r)
        );
        return;
    }
    if doc.failed_jobs.items.is_empty() {
        out.push_str("<p class=\"ok\">No failed backup job.</p></section>\n");
        return;
    }
    out.push_str("<table><thead><tr><th>Created</th><th>Table</th><th>State</th><th>Job</th><th>Plan</th><th>Message</th></tr></thead><tbody>\n");
    for j in &doc.failed_jobs.items {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"mono\">{}</td><td>{}</td><td>{}</td></tr>",
            j.created,
            esc(&j.table),
            esc(&j.state),
            esc(&j.job_id),
            esc(j
                .plan_name
                .as_deref()
                .or(j.plan_id.as_deref())
                .unwrap_or("on demand")),
            esc(j.status_message.as_deref().unwrap_or(""))
        );
    }
    out.push_str("</tbody></table></section>\n");
}

fn sources(out: &mut String, doc: &EvidenceDoc) {
    out.push_str("<section id=\"sources\"><h2>Unverifiable sources</h2>");
    let unread: Vec<_> = doc.unread_sources().collect();
    if unread.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"ok\">Every source was read completely ({} sources).</p></section>",
            doc.sources.len()
        );
        return;
    }
    out.push_str("<p class=\"bad\">Not read completely (unknown is never compliant: the tables that depend on them are unverifiable):</p><ul>");
    for s in unread {
        let _ = write!(
            out,
            "<li><code>{}</code>: {}</li>",
            esc(&s.source),
            esc(s.unread.as_deref().unwrap_or(""))
        );
    }
    out.push_str("</ul></section>\n");
}

fn calls(out: &mut String, doc: &EvidenceDoc) {
    let total: u64 = doc.api_calls.values().sum();
    let _ = write!(
        out,
        "<section id=\"calls\"><h2>AWS API calls ({total})</h2>"
    );
    if !doc.api_calls.is_empty() {
        out.push_str("<table><tbody>");
        for (op, n) in &doc.api_calls {
            let _ = write!(
                out,
                "<tr><td><code>{}</code></td><td>{n}</td></tr>",
                esc(op)
            );
        }
        out.push_str("</tbody></table>");
    }
    for n in &doc.notes {
        let _ = write!(out, "<p>Note: {}</p>", esc(n));
    }
    out.push_str("</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_markup_character() {
        assert_eq!(
            esc("<a href=\"x\">&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
    }
}
