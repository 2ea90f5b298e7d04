#!/usr/bin/env bash
# Every test facegan has, on a fresh Debian machine: installs what is missing, then runs
# formatting and lint checks (native and wasm32), the native test suite (release mode: Burn
# trains far too slowly unoptimised to test learning), and the page's build, size report and
# headless-browser test (scripts/test-web.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/web-tools.sh

section() { printf '\n== %s ==\n' "$*"; }

section "tools"
# lavapipe (a software Vulkan driver) lets the wgpu smoke test run without a GPU; Chromium
# runs the browser test. They install beside the native build (downloading and unpacking
# take little CPU) and are waited for before the tests.
apt_install mesa-vulkan-drivers chromium &
debian_packages=$!
ensure_wasm_target
rustup component list --installed | grep -q '^clippy' || rustup component add clippy rustfmt
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}

section "format"
cargo fmt --all -- --check

section "native build"
cargo build --release --workspace --all-targets

section "clippy"
cargo clippy --release --workspace --all-targets -- -D warnings
# The page's browser code only compiles for wasm32.
cargo clippy --profile web -p facegan-web --target wasm32-unknown-unknown -- -D warnings

section "tests"
wait "$debian_packages"
cargo test --release --workspace -- --nocapture 2>&1 | tee target/test-output.log

section "web page"
FACEGAN_BIN=target/release/facegan scripts/test-web.sh
