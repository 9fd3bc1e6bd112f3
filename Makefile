# FlareChain DETR P2P: one entry point for building, running and testing.
#   make build   release node (with runtime wasm)
#   make run     the zombienet local network (Alice, Bob, Charlie, Dave + discovery daemons),
#                Alice on ws://127.0.0.1:9944
#   make run-dev one --dev node on ws://127.0.0.1:9944
#   make test    every test of the project (setup and build included)
#   make bench   benchmarks, printed as ratios against a baseline of the same run
#   make lint    rustfmt, clippy on the fast crates and the plugin crates
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
# The crates that build without polkadot-sdk: quick to test.
PURE_CRATES := etrid-protocol etrid-aecomms etrid-p2p-fluent etrid-p2p-dpeers etrid-p2p-stored
TEST_CRATES := flarechain-tests detr-bench-report
# The runtime-side crates, tested natively (no wasm needed).
RUNTIME_CRATES := detrp2p-runtime-api pallet-detr-p2p
# The plugin crates that need polkadot-sdk (checked against the release build's dependencies).
SDK_CRATES := detrp2p detrp2p-rpc detr-inproc

.PHONY: setup build run run-dev test test-unit test-go test-e2e test-zombienet fuzz-smoke bench lint fmt

setup:
	@bash scripts/setup.sh

build: setup
	cargo build --release --locked -p flarechain-node
	cargo build --release --locked -p detr-inproc --bin detr-rogue-peer
	cd go-core && go build -o $(DISCOVERY) ./cmd/detr-discovery

run: build
	@bash scripts/zombienet.sh spawn

run-dev: build
	@bash scripts/run-dev.sh "$(NODE)"

test: build
	$(MAKE) --no-print-directory lint test-unit test-go fuzz-smoke test-e2e test-zombienet

test-unit:
	cargo test --locked $(addprefix -p ,$(PURE_CRATES))
	SKIP_WASM_BUILD=1 cargo test --locked $(addprefix -p ,$(RUNTIME_CRATES))
	cargo test --release --locked --lib $(addprefix -p ,$(SDK_CRATES))

# go-core: vet, every test with the race detector (vectors, transport, 50-daemon network, HTTP
# API), then a short run of each fuzz target.
test-go:
	cd go-core && go vet ./... && go test -race -count=1 ./...
	cd go-core && for t in crypto:FuzzOpen transport:FuzzPacket discovery:FuzzDecodeRecord discovery:FuzzMessages; do \
	  go test -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(GO_FUZZ_SECONDS)s ./$${t%%:*} | tail -1; done

# Every zombienet/*.zndsl, each on a fresh 4-node network with its own discovery daemons.
test-zombienet:
	bash scripts/zombienet.sh test

fuzz-smoke:
	bash scripts/fuzz-smoke.sh

# In-process sc-network peers (connect_peer on both backends), then real node processes.
test-e2e:
	cargo test --release --locked -p detr-inproc --test connect_peer
	cargo test --locked -p flarechain-tests -- --test-threads=1

bench: setup
	cargo bench --locked $(addprefix -p ,$(PURE_CRATES))
	cargo bench --locked -p detr-inproc
	cd go-core && go test -run '^$$' -bench . -benchtime 2x ./discovery && go test -run '^$$' -bench . ./crypto

lint:
	cargo fmt --all -- --check
	@test -z "$$(gofmt -l go-core)" || { gofmt -l go-core; echo "gofmt: files above need formatting"; exit 1; }
	cargo clippy --locked --all-targets $(addprefix -p ,$(PURE_CRATES) $(TEST_CRATES)) -- -D warnings
	SKIP_WASM_BUILD=1 cargo clippy --locked --all-targets $(addprefix -p ,$(RUNTIME_CRATES)) -- -D warnings
	cargo clippy --release --locked --all-targets $(addprefix -p ,$(SDK_CRATES)) -- -D warnings

fmt:
	cargo fmt --all
