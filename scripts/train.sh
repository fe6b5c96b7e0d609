#!/usr/bin/env bash
# The main job: installs what is missing, builds the examples of the `release` preset and runs the
# main example. Arguments are passed to it.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
"$root/scripts/setup.sh"

if [ -z "${CMAKE_GENERATOR:-}" ] && command -v ninja >/dev/null 2>&1; then
  export CMAKE_GENERATOR=Ninja
fi
jobs=$(nproc 2>/dev/null || echo 2)

cmake --preset release
cmake --build --preset release --target sinew_examples -j "$jobs"

# The main job is the Fashion-MNIST trainer; until that example exists it is the XOR demo.
bin="$root/build/release/examples"
if [ -x "$bin/fashion_mnist" ]; then
  main=fashion_mnist
else
  main=xor_demo
fi
echo "==== running examples/$main $*"
exec "$bin/$main" "$@"
