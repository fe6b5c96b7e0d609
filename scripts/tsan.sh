#!/usr/bin/env bash
# Builds the data, autograd and nn suites with ThreadSanitizer (the tsan preset: clang 14, libomp's
# Archer tool for OpenMP's synchronization) and runs them; any data race fails. Not part of CI
# (about 25 CPU-minutes to build). Extra arguments go to ctest, e.g. -R ThreadSafety.
#
#   scripts/tsan.sh [ctest arguments...]
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 1
"$root/scripts/setup.sh" || exit 1
if [ -z "${CMAKE_GENERATOR:-}" ] && command -v ninja >/dev/null 2>&1; then
  export CMAKE_GENERATOR=Ninja
fi
jobs=$(nproc 2>/dev/null || echo 2)
cmake --preset tsan >/dev/null || exit 1
cmake --build --preset tsan -j "$jobs" || exit 1
ctest --preset tsan -j "$jobs" "$@"
