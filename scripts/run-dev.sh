#!/usr/bin/env bash
# Starts one FlareChain --dev node on 127.0.0.1 (RPC ws://127.0.0.1:9944) until Ctrl-C.
set -euo pipefail
node_bin=${1:?usage: run-dev.sh <path to flarechain-node>}
[ -x "$node_bin" ] || { echo "flarechain-node not found at $node_bin: run 'make build'" >&2; exit 1; }
cat <<TXT
FlareChain --dev node starting
  RPC/WS:      ws://127.0.0.1:9944
  polkadot-js: https://polkadot.js.org/apps/?rpc=ws%3A%2F%2F127.0.0.1%3A9944#/explorer
  Prometheus:  http://127.0.0.1:9615/metrics
  stop:        Ctrl-C (state is temporary: --tmp)
TXT
exec "$node_bin" --dev --tmp --rpc-port 9944 --prometheus-port 9615 \
  --listen-addr /ip4/127.0.0.1/tcp/30333 --no-mdns --no-telemetry
