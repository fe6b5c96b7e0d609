#!/usr/bin/env bash
# Builds and runs Sinew's tests: the `release` preset, then `asan` (AddressSanitizer + UBSan), then
# `clang` (the same suites built with clang 14, so that both supported compilers are proven).
# Installs what is missing first (with the headless browser the report test uses). Exits non-zero
# if any configure, build or test step fails.
#
#   scripts/test.sh [preset...]    (default: release asan clang)
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 1
"$root/scripts/setup.sh" --tests || exit 1

presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(release asan clang)
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
  if ! cmake --preset "$preset"; then
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
