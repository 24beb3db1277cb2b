//! Property tests: slots are exactly the fire times in the horizon; selection outcomes and
//! table evaluations do not depend on list order.

use crate::common::*;
use jiff::{SignedDuration, Timestamp};
use policy::config::Policy;
use policy::evaluate::evaluate_table;
use policy::facts::{Fact, SelectionFacts, TableFacts, TagCondition};
use policy::schedule::Schedule;
use policy::selection::{evaluate_selections, match_selection};
use policy::slots::required_slots;
use proptest::prelude::*;

const SCHEDULES: [(&str, &str); 5] = [
    ("cron(0 0 15,25 * ? *)", "UTC"),
    ("cron(30 2 ? * 1 *)", "Europe/Berlin"),
    ("cron(0 0/6 * * ? *)", "UTC"),
    ("cron(0 23 L * ? *)", "America/New_York"),
    ("cron(15 1 ? * 2#1 *)", "Asia/Kolkata"),
];

// 2024-01-01 .. 2030-01-01 in seconds.
const T0: i64 = 1_704_067_200;
const T1: i64 = 1_893_456_000;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn slots_are_exactly_the_fire_times_in_the_horizon(
        which in 0usize..SCHEDULES.len(),
        now_s in T0..T1,
        created_back in proptest::option::of(0i64..200 * 86_400),
        retention_days in 1i64..120,
    ) {
        let (expr, tz) = SCHEDULES[which];
        let schedule = Schedule::new(expr, tz).unwrap();
        let now = Timestamp::from_second(now_s).unwrap();
        let created = created_back.map(|b| Timestamp::from_second(now_s - b).unwrap());
        let retention = SignedDuration::from_hours(24 * retention_days);
        let start = SignedDuration::from_mins(60);
        let completion = SignedDuration::from_mins(180);
        let slots = required_slots(&schedule, start, completion, retention, created, now);

        let mut lower = now.checked_sub(retention).unwrap();
        if let Some(c) = created {
            lower = lower.max(c);
        }
        for w in slots.windows(2) {
            prop_assert!(w[0].at < w[1].at, "strictly increasing");
        }
        for s in &slots {
            // Every slot is a fire time inside [lower, now] with the right deadlines.
            prop_assert!(schedule.fires_at(s.at), "{} is not a fire time", s.at);
            prop_assert!(s.at >= lower && s.at <= now);
            prop_assert_eq!(s.start_deadline, s.at + start);
            prop_assert_eq!(s.completion_deadline, s.at + start + completion);
        }
        // And no fire time inside the horizon is left out.
        let first_fire = if schedule.fires_at(lower) { Some(lower) } else { schedule.next_after(lower) };
        match first_fire {
            Some(f) if f <= now => {
                prop_assert_eq!(slots.first().map(|s| s.at), Some(f));
                let last = slots.last().map(|s| s.at).unwrap();
                prop_assert!(schedule.next_after(last).is_none_or(|n| n > now));
                // Consecutive slots are consecutive fires.
                for w in slots.windows(2) {
                    prop_assert_eq!(schedule.next_after(w[0].at), Some(w[1].at));
                }
            }
            _ => prop_assert!(slots.is_empty()),
        }
    }
}

fn arn_pool() -> Vec<String> {
    vec![
        "*".into(),
        "arn:aws:dynamodb:*:*:table/*".into(),
        table_arn("orders"),
        table_arn("ord*"),
        table_arn("users"),
        "arn:aws:rds:*".into(),
    ]
}

fn cond_pool() -> Vec<TagCondition> {
    vec![
        TagCondition::new("backup", "yes"),
        TagCondition::new("aws:ResourceTag/backup", "no"),
        TagCondition::new("stage", "prod*"),
        TagCondition::new("aws:ResourceTag/stage", "*"),
        TagCondition::new("team", "core"),
        TagCondition::new("backup-policy", "exempt"),
    ]
}

fn subset<T: Clone + std::fmt::Debug + 'static>(pool: Vec<T>) -> impl Strategy<Value = Vec<T>> {
    proptest::sample::subsequence(pool.clone(), 0..=pool.len())
}

fn arb_selection() -> impl Strategy<Value = SelectionFacts> {
    (
        subset(arn_pool()),
        subset(arn_pool()),
        subset(cond_pool()),
        subset(cond_pool()),
        subset(cond_pool()),
        subset(cond_pool()),
        subset(cond_pool()),
        0u8..4,
    )
        .prop_map(|(res, not_res, lot, se, sne, sl, snl, id)| {
            let mut s = selection(&format!("s{id}"), &format!("p{}", id % 2));
            s.resources = res;
            // Keep exclusions rare enough that inclusion logic is exercised.
            s.not_resources = not_res.into_iter().filter(|p| p != "*").take(1).collect();
            s.list_of_tags = lot;
            s.conditions.string_equals = se.into_iter().take(1).collect();
            s.conditions.string_not_equals = sne.into_iter().take(2).collect();
            s.conditions.string_like = sl.into_iter().take(1).collect();
            s.conditions.string_not_like = snl.into_iter().take(2).collect();
            s
        })
}

fn arb_table() -> impl Strategy<Value = TableFacts> {
    (
        prop_oneof![Just("orders"), Just("users"), Just("order-items")],
        proptest::option::of(prop_oneof![Just("yes"), Just("no")]),
        proptest::option::of(prop_oneof![Just("prod"), Just("production"), Just("dev")]),
        proptest::option::of(Just("core")),
        any::<bool>(),
    )
        .prop_map(|(name, backup, stage, team, unknown)| {
            let mut pairs = vec![];
            if let Some(b) = backup {
                pairs.push(("backup", b));
            }
            if let Some(s) = stage {
                pairs.push(("stage", s));
            }
            if let Some(t) = team {
                pairs.push(("team", t));
            }
            let mut t = table(name, &pairs);
            if unknown {
                t.tags = Fact::unknown("denied");
            }
            t
        })
}

fn shuffled(s: &SelectionFacts, seed: u64) -> SelectionFacts {
    fn permute<T: Clone>(v: &[T], seed: u64) -> Vec<T> {
        let mut out = v.to_vec();
        // Deterministic Fisher-Yates driven by a simple LCG.
        let mut x = seed | 1;
        for i in (1..out.len()).rev() {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let j = (x >> 33) as usize % (i + 1);
            out.swap(i, j);
        }
        out
    }
    let mut t = s.clone();
    t.resources = permute(&s.resources, seed);
    t.not_resources = permute(&s.not_resources, seed ^ 1);
    t.list_of_tags = permute(&s.list_of_tags, seed ^ 2);
    t.conditions.string_equals = permute(&s.conditions.string_equals, seed ^ 3);
    t.conditions.string_not_equals = permute(&s.conditions.string_not_equals, seed ^ 4);
    t.conditions.string_like = permute(&s.conditions.string_like, seed ^ 5);
    t.conditions.string_not_like = permute(&s.conditions.string_not_like, seed ^ 6);
    t
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn selection_outcome_is_independent_of_list_order(
        sel in arb_selection(),
        t in arb_table(),
        seed in any::<u64>(),
    ) {
        let a = match_selection(&t.arn, &t.tags, &sel);
        let b = match_selection(&t.arn, &t.tags, &shuffled(&sel, seed));
        prop_assert_eq!(a, b);
    }

    #[test]
    fn selection_list_order_does_not_matter(
        sels in proptest::collection::vec(arb_selection(), 0..5),
        t in arb_table(),
        perm in Just((0..5usize).collect::<Vec<_>>()).prop_shuffle(),
    ) {
        let reordered: Vec<SelectionFacts> = perm
            .iter()
            .filter(|i| **i < sels.len())
            .map(|i| sels[*i].clone())
            .collect();
        prop_assert_eq!(evaluate_selections(&t, &sels), evaluate_selections(&t, &reordered));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn table_evaluation_is_independent_of_point_order(
        keep in proptest::collection::vec(any::<bool>(), 6),
        extra_on_demand in any::<bool>(),
        perm in Just((0..7usize).collect::<Vec<_>>()).prop_shuffle(),
    ) {
        let slots = [
            "2025-12-15T00:00:00Z",
            "2025-12-25T00:00:00Z",
            "2026-01-15T00:00:00Z",
            "2026-01-25T00:00:00Z",
            "2026-02-15T00:00:00Z",
            "2026-02-25T00:00:00Z",
        ];
        let mut points: Vec<_> = slots
            .iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(s, _)| point("orders", ts(s) + mins(7)))
            .collect();
        if extra_on_demand {
            points.push(on_demand("orders", ts("2026-01-15T00:10:00Z"), Some(10)));
        }
        let reordered: Vec<_> = perm.iter().filter(|i| **i < points.len()).map(|i| points[*i].clone()).collect();
        let t = table("orders", &[("owner", "a")]);
        let now = ts("2026-03-01T00:00:00Z");
        let p = Policy::default();
        let a = evaluate_table(&t, &good_setup(), &Fact::Known(points), &Fact::Known(vec![]), &p, now);
        let b = evaluate_table(&t, &good_setup(), &Fact::Known(reordered), &Fact::Known(vec![]), &p, now);
        prop_assert_eq!(&a, &b);
        let missed = keep.iter().filter(|k| !**k).count();
        prop_assert_eq!(
            a.findings.iter().filter(|f| f.code == policy::findings::FindingCode::MissedSlot).count(),
            missed
        );
    }
}
