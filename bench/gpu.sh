#!/usr/bin/env bash
# facegan's training speed on a GPU (wgpu): images/s and the fraction of the GPU's f32 peak
# for DCGAN-64 and the ResNet, at batch 64 and 512, Burn's convolutions against facegan's
# matrix-product ones (`--gpu-convolutions matmul`), with kernels compiled to WGSL (the
# default build) and to SPIR-V (the `vulkan` feature, built into target/vulkan). One command for
# anyone with a GPU:
#   bench/gpu.sh [--peak-tflops T]   (BATCHES="64 512", STEPS=20, SPIRV=1, RESNET_WIDTH=24 by default)
# The peak comes from a table of known GPUs by adapter name unless --peak-tflops is given.
# SPIRV=0 skips the SPIR-V build: software Vulkan (lavapipe) crashes on SPIR-V pipelines.
# LAYERS=0 skips the per-layer timings. FACEGAN_BIN / VULKAN_BIN take ready binaries instead of
# building them (bench/device-session.sh runs this on a lent machine that has no Rust).
set -euo pipefail
cd "$(dirname "$0")/.."
facegan=${FACEGAN_BIN:-target/release/facegan}
# The same command as scripts/test-all.sh: one feature set, so Burn is never rebuilt between them.
[[ -x $facegan ]] || cargo build --release -q --workspace --all-targets
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
builds=("WGSL:$facegan")
if [[ ${SPIRV:-1} == 1 ]]; then
  vulkan=${VULKAN_BIN:-target/vulkan/release/facegan}
  # Its own target dir: the feature would otherwise rebuild Burn under the tests' build.
  [[ -n ${VULKAN_BIN:-} ]] ||
    cargo build --release -q -p facegan-trainer --features vulkan --target-dir target/vulkan
  builds+=("SPIR-V:$vulkan")
fi
# Each line times Burn's convolutions and then facegan's matrix-product ones in one process.
# Batch by batch, build by build, so that a call cut short by a time limit has the WGSL figures
# at batch 64 first. The ResNet at the width the long run trains (RESNET_WIDTH).
for batch in ${BATCHES:-64 512}; do
  for build in "${builds[@]}"; do
    echo "== DCGAN-64, batch $batch, kernels compiled to ${build%%:*} =="
    "${build#*:}" bench --backend wgpu --batch-size "$batch" --steps "${STEPS:-20}" "$@"
    echo "== ResNet-64 (generator width ${RESNET_WIDTH:-24}), batch $batch, kernels compiled to ${build%%:*} =="
    "${build#*:}" bench --model resnet --generator-width "${RESNET_WIDTH:-24}" --backend wgpu \
      --batch-size "$batch" --steps "${STEPS:-20}" "$@"
  done
done
# Where a step's time goes, layer by layer, with the default build.
if [[ ${LAYERS:-1} == 1 ]]; then
  for batch in ${BATCHES:-64 512}; do
    "$facegan" bench --layers --backend wgpu --batch-size "$batch"
  done
fi
