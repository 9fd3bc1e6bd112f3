# FlareChain DETR P2P: one entry point for building, running and testing.
#   make build   release node (with runtime wasm)
#   make run     the zombienet local network (Alice, Bob, Charlie, Dave + discovery daemons),
#                Alice on ws://127.0.0.1:9944
#   make run-dev one --dev node on ws://127.0.0.1:9944
#   make test    every test of the project (setup and build included)
#   make bench   benchmarks, printed as ratios against a baseline of the same run (needs the
#                node: block propagation runs two 3-validator networks, ~12 min; the priority
#                flood beside its one-level baseline, ~6 min)
#   make lint    rustfmt, gofmt, go vet, clippy on every crate (make test runs the fast part)
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c

# One target dir outside the clone, shared by every checkout and by CI.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/flarechain/target
# The runtime wasm is built by Debian's rustc (see DESIGN.md, scripts/setup.sh).
export WASM_BUILD_TOOLCHAIN ?= debian-web
export WASM_BUILD_RUSTFLAGS ?= -C link-arg=--allow-undefined
# The target dir is outside the clone: tell wasm-builder where Cargo.lock is, so the wasm
# build uses the locked versions.
export WASM_BUILD_WORKSPACE_HINT := $(CURDIR)

NODE := $(CARGO_TARGET_DIR)/release/flarechain-node
# The Go discovery daemon, next to the node.
DISCOVERY := $(CARGO_TARGET_DIR)/release/detr-discovery
# Seconds of each Go fuzz target in the smoke run.
GO_FUZZ_SECONDS ?= 5
export FLARECHAIN_NODE ?= $(NODE)
export DETR_DISCOVERY ?= $(DISCOVERY)
# One feature set, one build. Every cargo command of `make build` and `make test` selects the whole
# workspace with the release profile and dev-dependencies in play, so cargo unifies features once
# and compiles each dependency once: a command that selected a subset of the crates would resolve
# other features (clap, governor, frame-support, ...) and recompile sc-network and its tree. Which
# tests run is chosen by target, never by package.
CARGO_ALL := --release --locked --workspace
# Integration tests of the crates that build without polkadot-sdk and of the plugin's in-process
# peers (quick); `--lib` adds every crate's unit tests.
UNIT_TESTS := --lib --test codec --test session --test flow --test registry --test cache
# Real nodes, on free 127.0.0.1 ports. The end-to-end tests wait on 6-second blocks with both
# cores mostly idle (1-7 % CPU for minutes between node starts; 20-60 % in 10-second means
# under the bridge and rekey bursts; measured 2026-11-27), so they run in four lanes side by
# side (scripts/lanes.sh), one test binary at a time in each: three lanes of cargo tests and the
# zombienet tests. The priority flood asserts on GRANDPA's queue delay under load, so it runs
# afterwards, alone. Each cargo lane takes its nodes' ports from a range of its own below the
# OS's ephemeral range (DETR_TEST_PORTS, tests/src/ports.rs; the zombienet lane's nodes and
# daemons: DETR_ZOMBIENET_PORTS, zombienet/scripts/ports.js), so that no lane or outbound
# connection takes a port between its choice and the node's bind.
E2E_LANE_1 := --test connect_peer --test carrier --test discovery --test rekey
E2E_LANE_2 := --test smoke --test detr --test governance --test bridge_replay
E2E_LANE_3 := --test misbehaviour
E2E_ALONE := --test priority
# Crates that build without polkadot-sdk: clippy on them is quick, so `make test` runs it.
PURE_CRATES := etrid-protocol etrid-aecomms etrid-p2p-fluent etrid-p2p-dpeers etrid-p2p-stored flarechain-tests detr-bench-report

.PHONY: setup build run run-dev test test-unit test-go test-e2e test-zombienet fuzz-smoke fuzz fuzz-go fuzz-rust bench lint lint-fast fmt

setup:
	@bash scripts/setup.sh

# The node, the rogue test peer and every test binary, in one cargo invocation.
build: setup
	cargo build $(CARGO_ALL) --bins --tests
	cd go-core && go build -o $(DISCOVERY) ./cmd/detr-discovery

run: build
	@bash scripts/zombienet.sh spawn

run-dev: build
	@bash scripts/run-dev.sh "$(NODE)"

test: build
	$(MAKE) --no-print-directory lint-fast test-unit test-go fuzz-smoke test-e2e

# Rust unit and in-process tests, then the zombienet scripts' own (`node --test`: *.test.js).
test-unit:
	cargo test $(CARGO_ALL) $(UNIT_TESTS)
	node --test zombienet/scripts/

# go-core: vet, every test with the race detector (vectors, transport, 50-daemon network, HTTP
# API), then a short run of each fuzz target.
test-go:
	cd go-core && go vet ./... && go test -race -count=1 ./...
	bash scripts/fuzz-go.sh $(GO_FUZZ_SECONDS) $(GO_FUZZ_TARGETS)

# Go fuzz targets (every one) for FUZZ_SECONDS each; seeds and found inputs under each package's
# testdata/fuzz/<target>, kept in the repository. `make fuzz` runs this and the cargo-fuzz part.
FUZZ_SECONDS ?= 60
GO_FUZZ_TARGETS := crypto:FuzzOpen transport:FuzzPacket discovery:FuzzDecodeRecord discovery:FuzzMessages
fuzz-go:
	bash scripts/fuzz-go.sh $(FUZZ_SECONDS) $(GO_FUZZ_TARGETS)

# Every cargo-fuzz target for FUZZ_RUNS executions each (`FUZZ_RUNS=` for FUZZ_SECONDS each),
# without ASan (see scripts/fuzz-rust.sh).
FUZZ_RUNS ?= 10000000
fuzz-rust:
	FUZZ_RUNS=$(FUZZ_RUNS) FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_SANITIZER=none bash scripts/fuzz-rust.sh

fuzz: fuzz-go fuzz-rust

# Every zombienet/*.zndsl, each on a fresh 4-node network with its own discovery daemons.
test-zombienet:
	bash scripts/zombienet.sh test

fuzz-smoke:
	bash scripts/fuzz-rust.sh

# In-process sc-network peers (connect_peer on both backends), real node processes and the
# zombienet tests in lanes side by side, then the priority flood alone.
test-e2e:
	bash scripts/lanes.sh \
	  "DETR_TEST_PORTS=20000 cargo test $(CARGO_ALL) $(E2E_LANE_1) -- --test-threads=1" \
	  "DETR_TEST_PORTS=22000 cargo test $(CARGO_ALL) $(E2E_LANE_2) -- --test-threads=1" \
	  "DETR_TEST_PORTS=24000 cargo test $(CARGO_ALL) $(E2E_LANE_3) -- --test-threads=1" \
	  "DETR_ZOMBIENET_PORTS=26000 bash scripts/zombienet.sh test"
	DETR_TEST_PORTS=20000 cargo test $(CARGO_ALL) $(E2E_ALONE) -- --test-threads=1

bench: build
	cargo bench --locked --workspace --benches
	cargo test $(CARGO_ALL) --test priority -- --ignored --test-threads=1 --nocapture
	cd go-core && go test -run '^$$' -bench . -benchtime 1x -timeout 30m ./discovery && go test -run '^$$' -bench . ./crypto
	cd go-core/bench/secretconn && go test -run '^$$' -bench Ratios -benchtime 1x .
	cd client/aecomms/secretconn && cargo run --release --locked -q

# Formatting and clippy on the crates without polkadot-sdk (part of `make test`).
lint-fast:
	cargo fmt --all -- --check
	cargo fmt --manifest-path client/aecomms/secretconn/Cargo.toml -- --check
	@test -z "$$(gofmt -l go-core)" || { gofmt -l go-core; echo "gofmt: files above need formatting"; exit 1; }
	cargo clippy --locked --all-targets $(addprefix -p ,$(PURE_CRATES)) -- -D warnings

# Everything `lint-fast` does, and clippy on the whole workspace and on the SecretConnection
# comparison. Clippy checks polkadot-sdk's tree in its own (check) mode, which the release build
# cannot reuse: ~12 min the first time, so developers run it before committing rather than every
# cold CI run paying it.
# The runtime's wasm blob is not needed to lint its native code (and its build script would
# look for a rustup wasm target under clippy): SKIP_WASM_BUILD.
lint: lint-fast
	cd go-core && go vet ./...
	SKIP_WASM_BUILD=1 cargo clippy $(CARGO_ALL) --all-targets -- -D warnings
	cargo clippy --manifest-path client/aecomms/secretconn/Cargo.toml --locked --all-targets -- -D warnings

fmt:
	cargo fmt --all
