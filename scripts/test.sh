#!/usr/bin/env bash
# Builds and runs Sinew's tests: the `release` preset (GCC, optimized, AVX-512 kernels, the NVRTC
# compile of every CUDA kernel where the toolkit is), then `asan` (clang: AddressSanitizer + UBSan
# over every suite, the CUDA kernel sources on the fiber emulator and the parity suite on the
# emulated device), then, where the CUDA toolkit is installed, `cuda` (clang with the CUDA
# backend: every example, which runs its tests there, and the CUDA runtime and device tests). So
# both supported compilers and both backends' builds are proven, each suite compiled twice, not
# three times. Installs what is missing first (with the headless browser the report test uses).
# Exits non-zero if any configure, build or test step fails.
#
#   scripts/test.sh [preset...]    (default: release asan cuda, or release asan)
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 1
"$root/scripts/setup.sh" --tests || exit 1

presets=("$@")
if [ ${#presets[@]} -eq 0 ]; then
  # The toolkit where CMake's FindCUDAToolkit looks for it (nvcc on PATH, CUDAToolkit_ROOT or
  # /usr/local/cuda).
  if command -v nvcc >/dev/null 2>&1 || [ -x "${CUDAToolkit_ROOT:-/usr/local/cuda}/bin/nvcc" ]; then
    presets=(release asan cuda)
  else
    echo "scripts/test.sh: no CUDA toolkit found; the cuda preset is left out"
    presets=(release asan)
  fi
fi
# The examples are built once: by the cuda preset when it runs (against the CUDA backend, so their
# --device cuda code compiles too), else by release. `cmake --preset release` sets them back on.
release_options=()
for p in "${presets[@]}"; do
  [ "$p" = cuda ] && release_options=(-DSINEW_BUILD_EXAMPLES=OFF)
done
jobs=$(nproc 2>/dev/null || echo 2)
# Ninja when it is there (the presets name no generator); an existing build dir keeps its own.
if [ -z "${CMAKE_GENERATOR:-}" ] && command -v ninja >/dev/null 2>&1; then
  export CMAKE_GENERATOR=Ninja
fi

status=0
total_passed=0
total_failed=0
summary=()
for preset in "${presets[@]}"; do
  echo "==== $preset: configure"
  start=$SECONDS
  options=()
  [ "$preset" = release ] && options=("${release_options[@]}")
  if ! cmake --preset "$preset" "${options[@]}"; then
    summary+=("$preset: configure FAILED")
    status=1
    continue
  fi
  echo "==== $preset: build ($jobs jobs)"
  if ! cmake --build --preset "$preset" -j "$jobs"; then
    summary+=("$preset: build FAILED")
    status=1
    continue
  fi
  built=$((SECONDS - start))
  echo "==== $preset: test"
  log="$root/build/$preset/ctest.log"
  ctest --preset "$preset" -j "$jobs" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  tested=$((SECONDS - start - built))
  line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1)
  if [ -n "$line" ]; then
    failed=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
    count=$(sed -E 's/.* failed out of ([0-9]+).*/\1/' <<<"$line")
    total_failed=$((total_failed + failed))
    total_passed=$((total_passed + count - failed))
  fi
  if [ "$rc" -ne 0 ]; then
    status=1
    summary+=("$preset: tests FAILED (${line:-no summary}); build ${built}s, tests ${tested}s")
  else
    summary+=("$preset: ${line}; build ${built}s, tests ${tested}s")
  fi
done

echo
echo "==== summary"
printf '%s\n' "${summary[@]}"
echo "tests: $total_passed passed, $total_failed failed"
exit $status
