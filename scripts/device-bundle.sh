#!/usr/bin/env bash
# Gathers what scripts/gpu-check.sh needs on a GPU machine that has the CUDA toolkit, CMake, a C++
# compiler and PyTorch but no internet and no package manager: Sinew's header-only dependencies
# (Eigen, nlohmann-json, CLI11) with their CMake package files, zlib's headers and library, and
# GoogleTest's sources (gpu-check.sh builds them there). Writes them to .device-bundle/ (ignored by
# git, about 16 MB), laid out as an install prefix: pass it as CMAKE_PREFIX_PATH.
#
#   scripts/device-bundle.sh           then carry .device-bundle to the GPU machine and run
#                                      scripts/gpu-check.sh there
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/setup.sh" --tests
out="$root/.device-bundle"
rm -rf "$out"
mkdir -p "$out/include" "$out/share/cmake" "$out/lib" "$out/src"

cp -r /usr/include/eigen3 "$out/include/"
mkdir -p "$out/share/eigen3"
cp -r /usr/share/eigen3/cmake "$out/share/eigen3/"
cp -r /usr/include/nlohmann "$out/include/"
cp -r /usr/share/cmake/nlohmann_json "$out/share/cmake/"
[ -d /usr/include/CLI ] && cp -r /usr/include/CLI "$out/include/"
cp /usr/include/zlib.h /usr/include/zconf.h "$out/include/"
z=$(readlink -f /usr/lib/x86_64-linux-gnu/libz.so)
cp "$z" "$out/lib/"
ln -sf "$(basename "$z")" "$out/lib/libz.so"
ln -sf "$(basename "$z")" "$out/lib/libz.so.1"
cp -r /usr/src/googletest "$out/src/"

du -sh "$out"
echo "device bundle: $out"
