#!/usr/bin/env bash
# Runs go-core fuzz targets, each for SECONDS: scripts/fuzz-go.sh SECONDS package:Target...
#
# A target fails when the fuzzer finds an input: Go writes it to
# <package>/testdata/fuzz/<Target>/ and says "Failing input written to" (keep the file: it is a
# regression seed from then on). Go's fuzzing engine can also exit non-zero with nothing found,
# at the -fuzztime boundary ("context deadline exceeded", golang/go#51484) or when a worker is
# slow on a loaded machine (golang/go#56238); such a run prints its whole output and the target
# runs once more, and fails if that run fails too.
set -uo pipefail
cd "$(dirname "$0")/../go-core"
seconds=$1
shift
for t in "$@"; do
  pkg=${t%%:*} target=${t#*:}
  for attempt in 1 2; do
    if out=$(go test -run '^$' -fuzz "^${target}\$" -fuzztime "${seconds}s" "./${pkg}" 2>&1); then
      tail -1 <<<"$out"
      break
    fi
    echo "$out"
    if grep -q "Failing input written to" <<<"$out" || [ "$attempt" = 2 ]; then
      echo "fuzz-go: $target failed" >&2
      exit 1
    fi
    echo "fuzz-go: $target stopped with nothing found (Go's fuzzing engine); once more" >&2
  done
done
