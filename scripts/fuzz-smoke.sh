#!/usr/bin/env bash
# Short fuzz runs of every cargo-fuzz target (a smoke test, not a campaign).
# Needs a nightly toolchain and cargo-fuzz; without them it says so and exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${FUZZ_SECONDS:-10}
if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "[fuzz] skipped: no nightly toolchain (rustup toolchain install nightly)"; exit 0
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "[fuzz] skipped: cargo-fuzz not installed (cargo install cargo-fuzz)"; exit 0
fi
for crate in client/protocol client/aecomms; do
  for target in $(cd "$crate" && cargo +nightly fuzz list); do
    echo "[fuzz] $crate: $target for ${SECONDS_PER_TARGET}s"
    (cd "$crate" && cargo +nightly fuzz run "$target" -- -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 2>&1 | tail -3)
  done
done
