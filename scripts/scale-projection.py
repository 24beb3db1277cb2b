#!/usr/bin/env python3
"""docs/SCALE.md: a nightly run of a whole organization projected from measured per-item figures.

Usage: python3 scripts/scale-projection.py docs/scale-inputs.json > docs/SCALE.md

The inputs file holds what was measured (per account-region item: AWS calls, wall time and
peak memory at 2,500 and 10,000 tables, evidence bytes) with the commands that measured them,
and the assumptions (AWS latency per call, list prices). Everything in SCALE.md is computed
here from those numbers; rerun after a new measurement.
"""

import json
import math
import sys


def money(x):
    return f"${x:,.2f}"


def project(inp, tables):
    m = inp["measured"][str(tables)]
    a = inp["assumptions"]
    p = inp["prices"]
    o = inp["org"]
    items = o["accounts"] * o["regions"]
    # Per item: the verifier's calls plus the fan-out's own (AssumeRole, DescribeEffectivePolicy,
    # the evidence PUTs).
    extra_calls = 2 + a["evidence_puts_per_item"]
    calls = m["calls_first_night"] + extra_calls
    calls_second = m.get("calls_second_night", m["calls_first_night"]) + extra_calls
    # Wall time in AWS: the measured local time (CPU and the local servers) plus the longest
    # chain of sequential calls at the assumed latency, plus the fan-out's own sequential calls.
    chain = m["sequential_chain_calls"] + extra_calls
    wall_s = (m["wall_ms_local"] + chain * a["latency_ms_per_call"]) / 1000.0 + a["lambda_init_s"]
    mem_gb = o["lambda_memory_mb"] / 1024.0
    conc = o["max_concurrency"]
    waves = math.ceil(items / conc)
    run_s = waves * wall_s + a["plan_s"] + a["aggregate_s"]
    nights = a["nights_per_month"]
    gb_s = items * wall_s * mem_gb
    lambda_cost = nights * (gb_s * p["lambda_gb_s"] + (items + 2) * p["lambda_request"])
    # Standard workflow: the parent's states + each child execution's (Task + its end).
    transitions = a["parent_transitions"] + items * a["child_transitions"]
    sfn_cost = nights * transitions * p["sfn_transition"]
    puts = items * a["evidence_puts_per_item"] + a["map_result_puts"] + 2
    gets = 1 + a["map_result_puts"] + 1
    s3_req_cost = nights * (puts * p["s3_put"] + gets * p["s3_get"])
    evidence_gb_night = items * m["evidence_bytes"] / 1e9
    retained_gb = evidence_gb_night * a["evidence_retention_days"]
    storage_cost = retained_gb * p["s3_gb_month"]
    # AWS Backup Audit Manager + AWS Config for the checks Audit Manager can express: each
    # control evaluates each resource (tables for coverage / last point; recovery points for
    # encryption and minimum retention) once a day, and Config records them.
    points = tables * a["points_per_table"]
    new_points_per_day = points * a["new_points_share_per_month"] / nights
    evals_per_day = o["accounts"] * o["regions"] * (
        tables * a["table_controls"] + new_points_per_day * a["point_controls"]
    )
    evals_month = evals_per_day * nights
    bam_cost = evals_month * p["backup_audit_manager_evaluation"]
    config_items_month = o["accounts"] * o["regions"] * (tables + points * a["new_points_share_per_month"])
    config_cost = config_items_month * p["config_item"] + config_eval_cost(evals_month, p)
    return {
        "tables": tables,
        "items": items,
        "calls": calls,
        "calls_second": calls_second,
        "wall_s": wall_s,
        "waves": waves,
        "run_s": run_s,
        "peak_mib": m["peak_rss_mib"],
        "gb_s_night": gb_s,
        "lambda": lambda_cost,
        "transitions": transitions,
        "sfn": sfn_cost,
        "puts": puts,
        "s3_req": s3_req_cost,
        "evidence_gb_night": evidence_gb_night,
        "retained_gb": retained_gb,
        "storage": storage_cost,
        "ours": lambda_cost + sfn_cost + s3_req_cost + storage_cost,
        "evals_month": evals_month,
        "bam": bam_cost,
        "config": config_cost,
        "theirs": bam_cost + config_cost,
    }


def config_eval_cost(evals, p):
    tiers = p["config_rule_evaluation_tiers"]
    left, cost = evals, 0.0
    for upto, price in tiers:
        n = left if upto is None else min(left, upto)
        cost += n * price
        left -= n
        if left <= 0:
            break
    return cost


def main():
    inp = json.load(open(sys.argv[1]))
    o = inp["org"]
    rows = [project(inp, t) for t in inp["project_at"]]
    out = []
    w = out.append
    w("# A whole organization every night: projected cost and time")
    w("")
    w(f"*Made by `python3 scripts/scale-projection.py docs/scale-inputs.json > docs/SCALE.md` from the measured figures in [docs/scale-inputs.json](scale-inputs.json) (each with the command that measured it). Nothing here is measured in AWS: it is the local measurements plus the stated assumptions.*")
    w("")
    w(f"The run: **{o['accounts']:,} accounts × {o['regions']} regions** = {o['accounts'] * o['regions']:,} items (account-regions), each with the tables below, `MaxConcurrency` {o['max_concurrency']}, the verifier at {o['lambda_memory_mb']} MB (arm64), {inp['assumptions']['nights_per_month']} nights a month.")
    w("")
    w("## Per item (measured locally, projected to AWS)")
    w("")
    w("| Tables per item | AWS calls, first night | second night (creation-time cache) | Wall s in AWS (projected) | Peak memory MiB (measured) |")
    w("|---:|---:|---:|---:|---:|")
    for r in rows:
        w(f"| {r['tables']:,} | {r['calls']:,} | {r['calls_second']:,} | {r['wall_s']:.1f} | {r['peak_mib']:.0f} |")
    w("")
    w("## The whole run, per night and per month")
    w("")
    w("| Tables per item | Waves | Run wall time | Lambda GB-s / night | State transitions / night | S3 PUTs / night | Evidence GB / night |")
    w("|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        w(f"| {r['tables']:,} | {r['waves']:,} | {r['run_s'] / 60:.0f} min | {r['gb_s_night']:,.0f} | {r['transitions']:,} | {r['puts']:,} | {r['evidence_gb_night']:,.0f} |")
    w("")
    w("| Tables per item | Lambda | Step Functions | S3 requests | Evidence storage (steady state, Object Lock retention) | **backup-guard / month** | Backup Audit Manager | AWS Config | **Audit Manager + Config / month** |")
    w("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        w(f"| {r['tables']:,} | {money(r['lambda'])} | {money(r['sfn'])} | {money(r['s3_req'])} | {money(r['storage'])} ({r['retained_gb']:,.0f} GB) | **{money(r['ours'])}** | {money(r['bam'])} | {money(r['config'])} | **{money(r['theirs'])}** |")
    w("")
    w("## Assumptions")
    w("")
    for k, v in inp["assumptions"].items():
        w(f"- `{k}` = {v}: {inp['notes'].get(k, '')}")
    w("")
    w("List prices assumed (us-east-1, check the pricing pages before relying on them): " + inp.get("prices_note", ""))
    w("")
    for k, v in inp["prices"].items():
        w(f"- `{k}` = {v}")
    w("")
    w("## Measured")
    w("")
    for size, m in inp["measured"].items():
        w(f"- {int(size):,} tables: " + ", ".join(f"`{k}` {v}" for k, v in m.items() if k != "command"))
        w(f"  (`{m['command']}`)")
    w("")
    for line in inp["conclusions"]:
        w(line)
    print("\n".join(out))


if __name__ == "__main__":
    main()
