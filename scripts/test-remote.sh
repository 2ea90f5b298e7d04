#!/usr/bin/env bash
# Remote devices (`--devices ws://HOST:PORT`, `facegan serve-device`): builds facegan with the
# opt-in `remote` feature into its own target dir (Burn's remote client brings the iroh stack,
# 291 more crates; the first build takes a while) and runs the test in which a replica trains
# on a device served by a second process on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
target=target/remote
cargo build --release -p facegan-trainer --features remote --all-targets --target-dir "$target"
cargo test --release -p facegan-trainer --features remote --target-dir "$target" \
  --test devices -- --nocapture --test-threads 1
