#!/usr/bin/env bash
# The README's demo command: installs the web tools if missing (wasm32 target, wasm-bindgen-cli,
# Trunk, all from crates.io), builds the page with the shipped weights into dist/, prints its
# size, and serves dist/ as plain static files on http://127.0.0.1:8080/ (PORT=... to change).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/web-tools.sh

ensure_web_build_tools_beside_the_wasm
trunk build --release
scripts/web-size.sh dist || true
port=${PORT:-8080}
echo "serving dist/ at http://127.0.0.1:$port/ (Ctrl-C stops)"
exec python3 -m http.server --bind 127.0.0.1 --directory dist "$port"
