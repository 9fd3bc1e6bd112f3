#!/usr/bin/env bash
# Installs what building and testing FlareChain DETR P2P needs on a fresh machine.
# Idempotent: every step checks first and is skipped when already done.
# See DESIGN.md "Toolchain recipe for the runtime wasm" for why each wasm step exists.
set -euo pipefail

log() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/flarechain/target}
WASM_TOOLCHAIN=debian-web
WASM_TARGET=wasm32v1-none
WASM_SYSROOT=/usr/lib/rustlib/$WASM_TARGET/lib
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# 1. Debian packages: protoc, clang/libclang, Debian's rustc-web with its library sources.
need_pkgs=()
for p in protobuf-compiler clang libclang-dev rustc-web cargo-web rust-web-src; do
  dpkg -s "$p" >/dev/null 2>&1 || need_pkgs+=("$p")
done
if [ ${#need_pkgs[@]} -gt 0 ]; then
  log "installing Debian packages: ${need_pkgs[*]}"
  $SUDO apt-get update -qq || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_pkgs[@]}" >/dev/null \
    || die "apt-get install ${need_pkgs[*]} failed"
else
  log "Debian packages present (protoc, clang, rustc-web, rust-web-src)"
fi
command -v protoc >/dev/null || die "protoc not found after install"

# Rust (host toolchain) must come from rustup.
command -v rustup >/dev/null || die "rustup not found: install Rust with rustup (https://rustup.rs) first"

# 2. Link Debian's rustc as a rustup toolchain for the wasm build.
if ! rustup toolchain list | grep -q "^$WASM_TOOLCHAIN"; then
  log "linking toolchain $WASM_TOOLCHAIN -> /usr"
  rustup toolchain link "$WASM_TOOLCHAIN" /usr
else
  log "toolchain $WASM_TOOLCHAIN linked"
fi
[ -d /usr/lib/rustlib/src/rust/library ] || die "rust-web-src sources missing under /usr/lib/rustlib/src/rust/library"

# 3. A wasm linker for that toolchain: rustup's rust-lld.
host_bin=/usr/lib/rustlib/x86_64-unknown-linux-gnu/bin
if [ ! -x "$host_bin/rust-lld" ]; then
  lld="$(rustc --print sysroot)/lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld"
  [ -x "$lld" ] || die "rust-lld not found at $lld (rustup's stable toolchain ships it)"
  $SUDO mkdir -p "$host_bin"
  $SUDO ln -sf "$lld" "$host_bin/rust-lld"
  log "linked rust-lld into $host_bin"
else
  log "rust-lld present for $WASM_TOOLCHAIN"
fi

# 4. The wasm32v1-none sysroot (core, alloc, compiler_builtins with embedded bitcode).
web_version=$(rustc +"$WASM_TOOLCHAIN" --version)
stamp="$WASM_SYSROOT/.flarechain-sysroot-stamp"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$web_version" ]; then
  log "building the $WASM_TARGET sysroot with $web_version (once, ~1 min)"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/src"
  cat >"$work/Cargo.toml" <<'TOML'
[package]
name = "sysroot-seed"
version = "0.0.0"
edition = "2021"
[lib]
crate-type = ["cdylib"]
path = "src/lib.rs"
[profile.release]
panic = "abort"
[workspace]
TOML
  cat >"$work/src/lib.rs" <<'RS'
#![no_std]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! { loop {} }
RS
  (cd "$work" && RUSTFLAGS=-Cembed-bitcode=yes RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$work/target" \
    cargo +"$WASM_TOOLCHAIN" build --release --target "$WASM_TARGET" -Zbuild-std=core,alloc -q) \
    || die "building the $WASM_TARGET sysroot failed"
  $SUDO mkdir -p "$WASM_SYSROOT"
  $SUDO rm -f "$WASM_SYSROOT"/*.rlib
  deps="$work/target/$WASM_TARGET/release/deps"
  for lib in core alloc compiler_builtins; do
    ls "$deps"/lib"$lib"-*.rlib >/dev/null 2>&1 || die "sysroot build produced no lib$lib"
    $SUDO cp "$deps"/lib"$lib"-*.rlib "$WASM_SYSROOT/"
  done
  echo "$web_version" | $SUDO tee "$stamp" >/dev/null
  # cargo does not notice a changed sysroot: stale wasm builds fail with "can't find crate".
  rm -rf "$CARGO_TARGET_DIR"/*/wbuild
  log "sysroot installed in $WASM_SYSROOT"
else
  log "$WASM_TARGET sysroot up to date ($web_version)"
fi

# 5. Go and Node must be present (not installed here); go-core's modules are fetched once.
go_v=$(go env GOVERSION 2>/dev/null | sed 's/^go//') || die "Go (>= 1.26) not found"
[ "$(printf '%s\n1.26\n' "$go_v" | sort -V | head -1)" = "1.26" ] || die "Go >= 1.26 needed (go-core/go.mod), found $go_v"
(cd "$ROOT/go-core" && go mod download) || die "go mod download in go-core/ failed"
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null) || die "Node.js (>= 18) not found"
[ "$node_major" -ge 18 ] || die "Node.js >= 18 needed, found $node_major"
log "Go $go_v and Node $node_major present"

# 6. cargo-fuzz, for the fuzz smoke runs (only where a nightly toolchain exists).
if cargo +nightly --version >/dev/null 2>&1; then
  if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    log "installing cargo-fuzz (once, ~2 min)"
    cargo install cargo-fuzz --locked -q || log "WARNING: cargo-fuzz could not be installed; fuzz smoke runs will be skipped"
  else
    log "cargo-fuzz present"
  fi
else
  log "no nightly toolchain: fuzz smoke runs will be skipped"
fi

# 7. npm packages of zombienet/ (when the folder has a lockfile).
if [ -f "$ROOT/zombienet/package-lock.json" ]; then
  if [ ! -d "$ROOT/zombienet/node_modules" ] || [ "$ROOT/zombienet/package-lock.json" -nt "$ROOT/zombienet/node_modules/.package-lock.json" ]; then
    log "installing zombienet npm packages (npm ci)"
    (cd "$ROOT/zombienet" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci in zombienet/ failed"
  else
    log "zombienet npm packages present"
  fi
fi
log "ready"
