#!/usr/bin/env bash
# Runs FlareChain networks with zombienet (native provider), with two detr-discovery daemons
# alongside (daemon B joins through daemon A; Alice and Bob use A, Charlie and Dave use B).
#
#   scripts/zombienet.sh spawn                 zombienet/flarechain-local.toml until Ctrl-C
#   scripts/zombienet.sh test <file.zndsl>...  each test on a fresh network and fresh daemons
#
# flarechain-node and detr-discovery are taken from $CARGO_TARGET_DIR/release (make build).
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

free_port() {
  node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

# start_daemon NAME HTTP_PORT [BOOTSTRAP]: starts a daemon; sets CONTACT to its contact string.
start_daemon() {
  local name=$1 http=$2 boot=${3:-} udp
  udp=$(free_port)
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

# start_daemons PORT_A PORT_B: daemon A, then B joining through A; exports their URLs.
start_daemons() {
  start_daemon a "$1"
  start_daemon b "$2" "$CONTACT"
  export DETR_DISCOVERY_A="http://127.0.0.1:$1" DETR_DISCOVERY_B="http://127.0.0.1:$2"
}

cd "$ROOT/zombienet"
case "${1:-}" in
  spawn)
    start_daemons 30401 30411
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
      export ALICE_RPC_PORT
      ALICE_RPC_PORT=$(free_port)
      start_daemons "$(free_port)" "$(free_port)"
      if ! "$ZOMBIENET" -p native test "$t"; then failed+=("$t"); fi
      stop_daemons
    done
    if [ ${#failed[@]} -gt 0 ]; then echo "zombienet tests failed: ${failed[*]}" >&2; exit 1; fi
    echo "zombienet: all $# tests passed"
    ;;
  *) echo "usage: $0 spawn | test [file.zndsl...]" >&2; exit 2 ;;
esac
