#!/usr/bin/env bash
# Runs bench/compare_opencv.py: OpenCV's CascadeClassifier.detectMultiScale against
# `facegan detect` on the same composites. OpenCV comes from PyPI into a venv outside the repo
# (opencv-python-headless 4.x: OpenCV 5 dropped CascadeClassifier). Faces and cascade come from
# ../shared beside the repository unless given.
#   bench/compare_opencv.sh [CASCADE.xml] [FACE_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
shared=../shared/data
cascade=${1:-$shared/lbpcascade_animeface.xml}
faces=${2:-}
venv=${FACEGAN_BENCH_VENV:-$HOME/.cache/facegan-bench-venv}
if ! "$venv/bin/python" -c 'import cv2, numpy; cv2.CascadeClassifier' 2>/dev/null; then
  echo "installing opencv-python-headless into $venv (once)..." >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "opencv-python-headless<5" numpy
fi
if [[ -z $faces ]]; then
  faces=${TMPDIR:-/tmp}/facegan-anime-faces
  if [[ ! -d $faces/anime-faces-96 ]]; then
    mkdir -p "$faces"
    tar -xf "$shared/anime-faces-96.tar" -C "$faces"
  fi
  faces=$faces/anime-faces-96
fi
# The same command as scripts/test-all.sh: one feature set, so Burn is never rebuilt between them.
cargo build --release -q --workspace --all-targets
"$venv/bin/python" bench/compare_opencv.py --cascade "$cascade" --faces "$faces" --facegan target/release/facegan
