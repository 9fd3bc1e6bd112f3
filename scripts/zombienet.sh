#!/usr/bin/env bash
# Runs FlareChain networks with zombienet (native provider), with two detr-discovery daemons
# alongside (daemon B joins through daemon A; Alice and Bob use A, Charlie and Dave use B).
#
#   scripts/zombienet.sh spawn                 zombienet/flarechain-local.toml until Ctrl-C
#   scripts/zombienet.sh test <file.zndsl>...  each test on a fresh network and fresh daemons
#
# flarechain-node and detr-discovery are taken from $CARGO_TARGET_DIR/release (make build).
# Tests take every port of their network from the range DETR_ZOMBIENET_PORTS..+2000 when it is set
# (make test-e2e sets it: see zombienet/scripts/ports.js), else the OS picks them.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${CARGO_TARGET_DIR:-$HOME/.cache/flarechain/target}/release
export PATH="$BIN:$ROOT/zombienet/bin:$PATH"
for b in flarechain-node detr-discovery; do
  command -v "$b" >/dev/null || { echo "$b not found in $BIN: run 'make build'" >&2; exit 1; }
done
ZOMBIENET="$ROOT/zombienet/node_modules/.bin/zombienet"
[ -x "$ZOMBIENET" ] || { echo "zombienet not installed: run 'make setup'" >&2; exit 1; }

WORK=$(mktemp -d)
DAEMONS=()
stop_daemons() {
  for pid in "${DAEMONS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  DAEMONS=()
}
trap 'stop_daemons; rm -rf "$WORK"' EXIT

# The offset in DETR_ZOMBIENET_PORTS's range of the next port to try: each network takes ports
# after the last one's, so none waits on a port the network before it held.
NEXT_PORT=0
# take_ports N: sets PORTS to N free ports.
take_ports() {
  # shellcheck disable=SC2207 # one port per line, digits only
  PORTS=($(node "$ROOT/zombienet/scripts/ports.js" "$1" ${DETR_ZOMBIENET_PORTS:+"$DETR_ZOMBIENET_PORTS" "$NEXT_PORT"}))
  [ ${#PORTS[@]} -eq "$1" ] || { echo "no $1 free ports" >&2; exit 1; }
  if [ -n "${DETR_ZOMBIENET_PORTS:-}" ]; then NEXT_PORT=$((PORTS[-1] - DETR_ZOMBIENET_PORTS + 1)); fi
}

# start_daemon NAME UDP_PORT HTTP_PORT [BOOTSTRAP]: starts a daemon; sets CONTACT to its contact
# string.
start_daemon() {
  local name=$1 udp=$2 http=$3 boot=${4:-}
  detr-discovery -listen "127.0.0.1:$udp" -http "127.0.0.1:$http" \
    -key-file "$WORK/$name.key" -refresh 500ms -bootstrap "$boot" >/dev/null 2>"$WORK/$name.log" &
  DAEMONS+=($!)
  for _ in $(seq 1 50); do
    if CONTACT=$(node -e "fetch('http://127.0.0.1:$http/v1/health').then(r=>r.json()).then(j=>console.log(j.contact)).catch(()=>process.exit(1))" 2>/dev/null); then
      return
    fi
    sleep 0.2
  done
  echo "detr-discovery $name did not start:" >&2; cat "$WORK/$name.log" >&2; exit 1
}

# start_daemons UDP_A HTTP_A UDP_B HTTP_B: daemon A, then B joining through A; exports their URLs.
start_daemons() {
  start_daemon a "$1" "$2"
  start_daemon b "$3" "$4" "$CONTACT"
  export DETR_DISCOVERY_A="http://127.0.0.1:$2" DETR_DISCOVERY_B="http://127.0.0.1:$4"
}

# Each node's p2p, RPC and Prometheus ports, read by the network files (0: zombienet picks one).
NODE_PORTS=(ALICE_P2P_PORT ALICE_RPC_PORT ALICE_PROMETHEUS_PORT BOB_P2P_PORT BOB_RPC_PORT
  BOB_PROMETHEUS_PORT CHARLIE_P2P_PORT CHARLIE_RPC_PORT CHARLIE_PROMETHEUS_PORT DAVE_P2P_PORT
  DAVE_RPC_PORT DAVE_PROMETHEUS_PORT)

cd "$ROOT/zombienet"
case "${1:-}" in
  spawn)
    take_ports 2
    start_daemons "${PORTS[0]}" 30401 "${PORTS[1]}" 30411
    cat <<TXT
FlareChain local network (zombienet, native): alice, bob, charlie validate; dave follows.
  Alice RPC/WS:  ws://127.0.0.1:9944
  polkadot-js:   https://polkadot.js.org/apps/?rpc=ws%3A%2F%2F127.0.0.1%3A9944#/explorer
  inspect:       node zombienet/scripts/inspect.js ws://127.0.0.1:9944
  discovery:     $DETR_DISCOVERY_A (alice, bob), $DETR_DISCOVERY_B (charlie, dave)
  other nodes:   zombienet prints their ws URLs below once they are up
  stop:          Ctrl-C (zombienet removes the network, the daemons stop)
TXT
    "$ZOMBIENET" -p native spawn flarechain-local.toml
    ;;
  test)
    shift
    [ $# -gt 0 ] || set -- ./*.zndsl
    failed=()
    for t in "$@"; do
      echo "== zombienet test $t"
      take_ports $((${#NODE_PORTS[@]} + 4))
      for i in "${!NODE_PORTS[@]}"; do export "${NODE_PORTS[$i]}=${PORTS[$i]}"; done
      start_daemons "${PORTS[@]: -4}"
      if ! "$ZOMBIENET" -p native test "$t"; then failed+=("$t"); fi
      stop_daemons
    done
    if [ ${#failed[@]} -gt 0 ]; then echo "zombienet tests failed: ${failed[*]}" >&2; exit 1; fi
    echo "zombienet: all $# tests passed"
    ;;
  *) echo "usage: $0 spawn | test [file.zndsl...]" >&2; exit 2 ;;
esac
