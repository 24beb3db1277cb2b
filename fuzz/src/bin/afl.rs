//! `backup-guard-fuzz-afl`: the same three targets under AFL++ (coverage-guided), for
//! `make fuzz` when `cargo afl` is installed. Built only with the `afl` feature, by
//! `cargo afl build`; the target comes from `BG_FUZZ_TARGET` (`event`, `plan`, `cron`).
//!
//! A broken contract ([`bg_fuzz::targets::Violation`]) is turned into a panic, so AFL++
//! records it as a crash like any other.

use bg_fuzz::rng::Rng;
use bg_fuzz::targets::{self, Target};

fn main() {
    let name = std::env::var("BG_FUZZ_TARGET").unwrap_or_default();
    let Some(target) = Target::parse(&name) else {
        eprintln!("backup-guard-fuzz-afl: BG_FUZZ_TARGET={name:?}; accepted: event, plan, cron");
        std::process::exit(2);
    };
    afl::fuzz!(|data: &[u8]| {
        if let Err(v) = targets::check(target, data, &mut Rng::new(0)) {
            panic!("{}: contract violation: {}", target.name(), v.0);
        }
    });
}
