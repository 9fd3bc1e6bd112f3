#!/usr/bin/env bash
# Runs every cargo-fuzz target of client/protocol and client/aecomms, one after the other.
#   FUZZ_RUNS=n      run each target for n executions (the `make fuzz` campaign), else
#   FUZZ_SECONDS=n   run each for n seconds (default 10: the smoke run of `make test`).
#   FUZZ_SANITIZER   cargo-fuzz's sanitizer: `address` (default) or `none` (the campaign: the
#                    fuzzed crates are safe Rust, and without ASan each target runs 2-3x faster).
# Corpora live in client/*/fuzz/corpus/<target> (kept in the repository, grown by each run);
# crashes go to client/*/fuzz/artifacts/<target> and fail the run. Prints each target's
# libFuzzer summary ("Done N runs in S second(s)").
# Needs a nightly toolchain and cargo-fuzz; without them it says so and exits 0. Builds in its
# own target dir so that it never waits for (or invalidates) the node's build.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "[fuzz] skipped: no nightly toolchain (rustup toolchain install nightly)"; exit 0
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "[fuzz] skipped: cargo-fuzz not installed (cargo install cargo-fuzz)"; exit 0
fi
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-${HOME}/.cache/flarechain/fuzz}"
SANITIZER=${FUZZ_SANITIZER:-address}
if [ -n "${FUZZ_RUNS:-}" ]; then
  LIMIT="-runs=${FUZZ_RUNS}"; WHAT="${FUZZ_RUNS} runs"
else
  LIMIT="-max_total_time=${FUZZ_SECONDS:-10}"; WHAT="${FUZZ_SECONDS:-10}s"
fi
for crate in client/protocol client/aecomms; do
  for target in $(cd "$crate" && cargo +nightly fuzz list); do
    echo "[fuzz] $crate: $target for $WHAT (sanitizer $SANITIZER)"
    mkdir -p "$crate/fuzz/corpus/$target"
    (cd "$crate" && cargo +nightly fuzz run -O -s "$SANITIZER" "$target" -- "$LIMIT" \
      -rss_limit_mb=2048 -print_final_stats=1 2>&1 \
      | grep -E '^(Done|stat::number_of_executed_units|stat::average_exec_per_sec|==|SUMMARY|thread)')
  done
done
