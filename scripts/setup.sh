#!/usr/bin/env bash
# Installs the Debian 12 packages Sinew needs to build, test and run its examples. Idempotent: asks
# apt only for what is missing, and runs `apt-get update` only when something is.
#
#   scripts/setup.sh           what building, the examples and the main job need
#   scripts/setup.sh --tests   and what only the tests use (a headless browser for report.html)
#   scripts/setup.sh --fuzz    and libFuzzer (scripts/fuzz.sh)
set -euo pipefail

packages=(
  cmake g++ make ninja-build   # toolchain (ninja is optional: the scripts fall back to make)
  clang libomp-14-dev          # the asan, clang and cuda presets (clang 14; OpenMP for clang++)
  libeigen3-dev                # CPU kernels
  zlib1g-dev                   # gzip-compressed datasets
  nlohmann-json3-dev           # safetensors headers
  libgtest-dev libgmock-dev    # tests
  libbenchmark-dev             # benchmarks
  libcli11-dev                 # example command lines
  libopenblas-dev              # BLAS for the benchmarks' comparisons
  ccache                       # faster rebuilds
  dataset-fashion-mnist        # data for the main job
)
if [ "${1:-}" = "--tests" ]; then
  packages+=(chromium fonts-dejavu-core)  # renders report.html in tests/train/browser_test.cpp
fi
if [ "${1:-}" = "--fuzz" ]; then
  packages+=(libclang-rt-14-dev)  # libFuzzer and the sanitizer runtimes (scripts/fuzz.sh)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages are installed"
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "setup: missing packages (${missing[*]}) and not root, and sudo is not installed" >&2
    exit 1
  fi
  sudo=(sudo)
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "setup: done"
