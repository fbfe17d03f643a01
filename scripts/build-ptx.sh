#!/usr/bin/env bash
# Regenerates the PTX the GPU backend loads (src/main/resources/cuda/tripletflow.ptx) from
# src/main/cuda/tripletflow.cu. Needs nvcc (CUDA 12 or 13); no GPU.
#
# -fmad=false: no fused multiply-adds, so distances and hinges round exactly as in Java.
# nvcc 13 writes PTX ISA 9.0, which only drivers from CUDA 13 (580+) can JIT; the kernels use
# nothing newer than ISA 8.0 (CUDA 12.0), so the header is lowered to let any CUDA 12 driver
# load it (and JCuda's bundled PTX compiler, CUDA 12.6, check it). PtxResourceTest verifies both.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/src/main/resources/cuda/tripletflow.ptx}"
tmp="$(mktemp)"
trap 'rm -f "$tmp"' EXIT
nvcc -ptx -arch=compute_80 -fmad=false -O3 -o "$tmp" "$root/src/main/cuda/tripletflow.cu"
# Drop nvcc's banner (it names the compiler build) and lower the ISA version.
grep -v '^//' "$tmp" | sed -E 's/^\.version [0-9]+\.[0-9]+$/.version 8.0/' > "$out"
echo "wrote $out ($(wc -c < "$out") bytes)"
