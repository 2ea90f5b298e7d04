#!/usr/bin/env bash
# The page's tests (called by test-all.sh): builds dist/ with Trunk for a sub-path, prints its
# size report, renders reference faces with the native `facegan generate`, and runs the browser
# test in Debian's headless Chromium (web/e2e/page.test.mjs). Screenshots: target/screenshots/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/web-tools.sh

section() { printf '\n== %s ==\n' "$*"; }

section "web tools, beside the page's wasm build"
ensure_web_build_tools_beside_the_wasm
ensure_browser_test_tools

section "trunk build (served under /facegan/ as a sub-path host would)"
dist=target/web-dist
trunk build --release --public-url /facegan/ --dist "$dist"

section "size report"
scripts/web-size.sh "$dist"

section "native reference faces"
facegan=${FACEGAN_BIN:-target/release/facegan}
# The same build as scripts/test-all.sh (one feature set: Burn is not rebuilt).
[[ -x $facegan ]] || cargo build --release --workspace --all-targets
native=target/web-native-faces
rm -rf "$native"
"$facegan" generate --backend cpu --weights weights/anime-faces-64.fgw --seed 100 --count 16 \
  --out-dir "$native"

section "a DCGAN generator for the page, the architecture not shipped (16 fast steps on faces of the shipped one: not faces yet, but far from flat)"
other=target/web-dcgan
rm -rf "$other"
"$facegan" generate --backend cpu --weights weights/anime-faces-64.fgw --seed 0 --count 32 \
  --out-dir "$other/faces"
"$facegan" train --model dcgan --backend cpu --data "$other/faces" --out "$other/run" \
  --epochs 8 --batch-size 16 --generator-width 16 --discriminator-width 16 --generator-lr 2e-3 --ema-decay 0
"$facegan" export "$other/run" --out "$other/dcgan.fgw" --precision int8
"$facegan" generate --backend cpu --weights "$other/dcgan.fgw" --seed 100 --count 16 \
  --out-dir "$other/native"

section "browser test"
FACEGAN_DIST=$PWD/$dist FACEGAN_NATIVE_DIR=$PWD/$native FACEGAN_SHOTS=$PWD/target/screenshots \
  FACEGAN_BIN=$(realpath "$facegan") \
  FACEGAN_OTHER_WEIGHTS=$PWD/$other/dcgan.fgw FACEGAN_OTHER_NATIVE_DIR=$PWD/$other/native \
  npm --prefix web/e2e test
