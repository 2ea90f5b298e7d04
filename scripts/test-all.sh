#!/usr/bin/env bash
# Every test facegan has, on a fresh Debian machine: installs what is missing, then runs
# formatting and lint checks, the wasm32 build of the model crate, and the native test suite
# (release mode: Burn trains far too slowly unoptimised to test learning).
set -euo pipefail
cd "$(dirname "$0")/.."

section() { printf '\n== %s ==\n' "$*"; }

section "tools"
if [[ $(id -u) == 0 ]] && ! dpkg -s mesa-vulkan-drivers >/dev/null 2>&1; then
  # lavapipe: a software Vulkan driver, so the wgpu smoke test runs without a GPU.
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mesa-vulkan-drivers >/dev/null
fi
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
rustup component list --installed | grep -q '^clippy' || rustup component add clippy rustfmt
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}

section "format"
cargo fmt --all -- --check

section "native build"
cargo build --release --workspace --all-targets

section "wasm32 build of the model crate"
cargo build --release -p facegan-model --target wasm32-unknown-unknown

section "clippy"
cargo clippy --release --workspace --all-targets -- -D warnings

section "tests"
cargo test --release --workspace -- --nocapture 2>&1 | tee target/test-output.log
