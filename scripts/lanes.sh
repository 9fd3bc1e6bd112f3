#!/usr/bin/env bash
# Runs each argument as a shell command (a lane), all at once, each lane's output in a log of its
# own that is printed whole when the lane ends, so lanes' outputs never mix. Exits non-zero once
# every lane has ended if any lane failed: the last lines printed then name each failed lane with
# its failing tests, panics and last lines (a CI page that shows only the tail of a long log still
# says what failed). Ctrl-C (or a TERM) stops every lane.
#
#   scripts/lanes.sh 'cargo test ... --test smoke' 'bash scripts/zombienet.sh test ...'
#
# `make test-e2e` runs its light end-to-end tests this way (see the Makefile).
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 'command' ['command'...]" >&2; exit 2; }

LOGS=$(mktemp -d)
# Job control: each lane gets a process group of its own, so that stopping a lane stops the
# nodes its tests started.
set -m
declare -A LANE_OF
PIDS=()
stop_lanes() {
  for pid in "${PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
}
trap 'stop_lanes; exit 130' INT TERM
trap 'rm -rf "$LOGS"' EXIT

start=$SECONDS
lane=0
for cmd in "$@"; do
  lane=$((lane + 1))
  echo "== lane $lane: $cmd"
  bash -c "$cmd" >"$LOGS/$lane.log" 2>&1 &
  PIDS+=("$!")
  LANE_OF[$!]=$lane
done

failed=()
running=("${PIDS[@]}")
while [ ${#running[@]} -gt 0 ]; do
  status=0
  wait -n -p ended "${running[@]}" || status=$?
  lane=${LANE_OF[$ended]}
  still=()
  for pid in "${running[@]}"; do [ "$pid" = "$ended" ] || still+=("$pid"); done
  running=("${still[@]+"${still[@]}"}")
  verdict=passed
  [ "$status" -eq 0 ] || { verdict="FAILED (exit $status)"; failed+=("$lane"); }
  echo "== lane $lane $verdict after $((SECONDS - start)) s: ${*:$lane:1}"
  cat "$LOGS/$lane.log"
  echo "== end of lane $lane"
done

# The closing summary of a failed lane: its last TAIL_LINES lines, then at most SUMMARY_LINES
# lines naming what failed (failed tests, panics with their message, zombienet's failures).
TAIL_LINES=25
SUMMARY_LINES=20
if [ ${#failed[@]} -gt 0 ]; then
  for lane in "${failed[@]}"; do
    echo "-- the last $TAIL_LINES lines of failed lane $lane:"
    tail -n "$TAIL_LINES" "$LOGS/$lane.log"
  done
  for lane in "${failed[@]}"; do
    echo "== lane $lane FAILED: ${*:$lane:1}"
    grep -E -A1 "^test .* FAILED$|panicked at|zombienet tests failed|Error:" "$LOGS/$lane.log" |
      grep -v -- "^--$" | head -n "$SUMMARY_LINES" || true
  done
  echo "lanes failed: ${failed[*]} (each one's whole output above, a summary just above)" >&2
  exit 1
fi
echo "all $# lanes passed in $((SECONDS - start)) s"
