# Installs what building and testing the page needs, each only when missing (sourced by
# demo.sh and test-web.sh). Everything comes from crates.io, npm or Debian: nothing is
# downloaded from GitHub at build time, and Trunk runs offline (Trunk.toml).

TRUNK_VERSION=0.21.14 # 0.22 needs a newer rustc than this project's 1.95

# The wasm-bindgen CLI must be exactly the version of the wasm-bindgen crate in Cargo.lock.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock
}

# Tools are command-line programs, not shipped code: build them quickly (unoptimised, no LTO)
# rather than with their own release profiles (fat LTO, one codegen unit). On 2 cores, Trunk
# and wasm-bindgen took 191 s and 71 s at opt-level 0 against 349 s and 141 s at opt-level 1;
# the unoptimised wasm-bindgen adds about 6 s to each page build.
quick_install() {
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    CARGO_PROFILE_RELEASE_OPT_LEVEL=0 CARGO_PROFILE_RELEASE_DEBUG=false \
    cargo install --quiet "$@"
}

ensure_wasm_target() {
  rustup target list --installed | grep -qx wasm32-unknown-unknown \
    || rustup target add wasm32-unknown-unknown
}

ensure_wasm_bindgen() {
  local want
  want=$(wasm_bindgen_version)
  if [[ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $want" ]]; then
    echo "installing wasm-bindgen-cli $want from crates.io"
    # Not --locked: the CLI's own lock file pins a yanked webpki-roots.
    quick_install wasm-bindgen-cli --version "$want"
  fi
}

ensure_trunk() {
  if [[ "$(trunk --version 2>/dev/null)" != "trunk $TRUNK_VERSION" ]]; then
    echo "installing trunk $TRUNK_VERSION from crates.io"
    # No default features: no TLS stack and no update check, which an offline build never uses.
    quick_install trunk --version "$TRUNK_VERSION" --locked --no-default-features
  fi
}

ensure_web_build_tools() {
  ensure_wasm_target
  ensure_wasm_bindgen
  ensure_trunk
}

# Compiles the page's wasm (what `trunk build` then finds up to date: Trunk runs this same
# cargo command, from index.html's rust link: keep the profile and crate in step) while the
# tools install at the lowest priority. The wasm build leaves a core idle for minutes (its
# last step, fat LTO, is single-threaded), which the tools' build fills; at equal priority
# they took the cores from the wasm build and finished before the idle part. On 2 cores,
# cold: 951 s against 1064 one after the other. The wasm build's output goes to
# target/web-build.log, printed when it fails.
ensure_web_build_tools_beside_the_wasm() {
  ensure_wasm_target
  local log=target/web-build.log
  mkdir -p target
  echo "building the page's wasm while the tools install (log: $log)"
  cargo build --profile web --target wasm32-unknown-unknown -p facegan-web >"$log" 2>&1 &
  local build=$!
  (
    renice -n 19 -p "$BASHPID" >/dev/null
    ensure_web_build_tools
  )
  if ! wait "$build"; then
    cat "$log" >&2
    echo "the page's wasm build failed (log above, also in $log)" >&2
    return 1
  fi
}

apt_install() {
  local missing=()
  for package in "$@"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  ((${#missing[@]} == 0)) && return 0
  if [[ $(id -u) != 0 ]]; then
    echo "please install: ${missing[*]} (apt-get install ${missing[*]})" >&2
    return 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

ensure_browser_test_tools() {
  # Debian's Chromium (never a browser downloaded by a test tool), and playwright-core.
  apt_install chromium
  (cd web/e2e && npm ci --no-audit --no-fund --silent)
}
