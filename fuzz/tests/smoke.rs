//! A bounded run of the fuzzer (20,000 inputs per target) in `cargo test`, so the fuzzer's
//! code is exercised and an easy crash is caught without `make fuzz`.

use bg_fuzz::targets::Target;

/// 20,000 inputs of one target: no crash, no violated invariant, and both outcomes occur.
fn twenty_thousand_inputs(target: Target) {
    let r = bg_fuzz::run(target, 20_000, 1);
    assert_eq!(r.executions, 20_000);
    assert!(r.seeds > 0, "{}: no seeds", target.name());
    let findings: Vec<String> = r
        .panics
        .iter()
        .chain(&r.violations)
        .map(|f| {
            format!(
                "input {}: {} — {}",
                f.iteration,
                f.what,
                bg_fuzz::preview(&f.input)
            )
        })
        .collect();
    assert!(findings.is_empty(), "{}: {findings:#?}", target.name());
    // Both outcomes occur: the mutations reach past the first checks, and break things.
    assert!(r.accepted > 0, "{}: nothing accepted", target.name());
    assert!(r.rejected > 0, "{}: nothing rejected", target.name());
}

// One test per target, so the targets run side by side on the test threads.
#[test]
fn twenty_thousand_events_find_no_crash_and_no_violation() {
    twenty_thousand_inputs(Target::Event);
}

#[test]
fn twenty_thousand_plans_find_no_crash_and_no_violation() {
    twenty_thousand_inputs(Target::Plan);
}

#[test]
fn twenty_thousand_crons_find_no_crash_and_no_violation() {
    twenty_thousand_inputs(Target::Cron);
}

/// The tests above name the targets one by one: a new target breaks this match until it gets
/// its own test.
#[allow(dead_code)]
fn every_target_has_a_smoke_test(t: Target) {
    match t {
        Target::Event | Target::Plan | Target::Cron => {}
    }
}

#[test]
fn planted_panics_and_violations_are_caught_counted_and_recorded() {
    use bg_fuzz::targets::{Verdict, Violation};
    let r = bg_fuzz::run_with(Target::Cron, 2_000, 3, |_, input, _| {
        if input.len() % 7 == 0 {
            panic!("planted panic on a {}-byte input", input.len());
        }
        if input.len() % 7 == 1 {
            return Err(Violation("planted violation".into()));
        }
        Ok(Verdict::Rejected)
    });
    assert_eq!(r.executions, 2_000, "the run went on after panics");
    assert!(!r.panics.is_empty() && !r.violations.is_empty());
    let p = &r.panics[0];
    assert_eq!(p.input.len() % 7, 0);
    assert!(p.what.contains("planted panic"), "{}", p.what);
    assert!(p.what.contains("smoke.rs"), "location missing: {}", p.what);
    assert_eq!(r.violations[0].what.split(' ').next(), Some("planted"));
    // Only 20 of each are kept, the last one saying how many there were.
    assert_eq!(r.panics.len(), 20);
    assert!(
        r.panics[19].what.contains("panics in total"),
        "{}",
        r.panics[19].what
    );
    assert_eq!(r.accepted, 0);
}
