#!/usr/bin/env bash
# make fuzz, coverage-guided part: the same three targets (fuzz/src/bin/afl.rs) under AFL++ for
# SECONDS each, via cargo-afl on the stable toolchain. Prints a Markdown section for
# docs/FUZZING.md on stdout (progress on stderr); exits 1 if AFL++ saved a crash.
# Usage: scripts/fuzz-afl.sh [SECONDS]   (needs `cargo install cargo-afl`)
set -euo pipefail
secs=${1:-60}
runs=target/afl-runs
export CARGO_TARGET_DIR=target/afl
# cargo-afl compiles every crate with its RUSTFLAGS (instrumentation, codegen-units=1); opt-level 2
# keeps the build of the SDK crates table-guard links bearable on a small machine.
export AFL_OPT_LEVEL=${AFL_OPT_LEVEL:-2}
cargo afl build --locked --profile fuzz --features afl -p backup-guard-fuzz \
  --bin backup-guard-fuzz-afl >&2
bin=$CARGO_TARGET_DIR/fuzz/backup-guard-fuzz-afl
rm -rf "$runs"
mkdir -p "$runs"
target/fuzz/backup-guard-fuzz --write-seeds "$runs/seeds" >&2

echo
echo "## Coverage-guided: $(cargo afl --version 2>/dev/null | head -n1), stable toolchain"
echo
echo "Command: \`scripts/fuzz-afl.sh $secs\` (run by \`make fuzz\` when cargo-afl is installed):"
echo "\`BG_FUZZ_TARGET=<target> cargo afl fuzz -V $secs -i <seeds> -o <out> $bin\`, the same"
echo "checks as above, a broken contract panicking so AFL++ saves it as a crash; seeds are the"
echo "same corpora (\`backup-guard-fuzz --write-seeds\`), AFL_OPT_LEVEL=$AFL_OPT_LEVEL."
echo "The first \`cargo afl build\` instruments every dependency, the AWS SDK crates table-guard"
echo "links included (about 20 minutes on a 2-core machine); later runs reuse target/afl."
echo
echo "| target | executions | crashes | corpus (inputs kept for new coverage) | edge coverage | wall time | inputs/s |"
echo "|---|---|---|---|---|---|---|"
crashed=0
for t in event plan cron; do
  echo "==> AFL++ on $t for ${secs}s" >&2
  BG_FUZZ_TARGET=$t AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
    cargo afl fuzz -V "$secs" -i "$runs/seeds/$t" -o "$runs/$t" "$bin" >"$runs/$t.log" 2>&1 || {
      echo "AFL++ on $t failed, see $runs/$t.log" >&2
      tail -n 20 "$runs/$t.log" >&2
      echo "| \`$t\` | (AFL++ did not run: see $runs/$t.log) | | | | | |"
      crashed=1
      continue
    }
  stats=$runs/$t/default/fuzzer_stats
  get() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
  crashes=$(get saved_crashes)
  echo "| \`$t\` | $(get execs_done) | $crashes | $(get corpus_count) | $(get bitmap_cvg) | $(get run_time) s | $(get execs_per_sec) |"
  if [ "${crashes:-0}" != "0" ]; then
    crashed=1
    echo "AFL++ saved $crashes crash(es) of $t in $runs/$t/default/crashes" >&2
  fi
done
exit $crashed
