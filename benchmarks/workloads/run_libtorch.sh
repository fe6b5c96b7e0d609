#!/usr/bin/env bash
# Builds libtorch_epoch_time.cpp with g++ against the system LibTorch (Debian libtorch-dev) into
# build/libtorch_bench/ and runs one workload with 1 and 2 LibTorch threads (OPENBLAS_NUM_THREADS=1,
# so that OpenBLAS's own thread pool does not compete with LibTorch's), printing each RESULT line
# and the fastest configuration.
#
#   benchmarks/workloads/run_libtorch.sh MODEL [ARGS...]
#   benchmarks/workloads/run_libtorch.sh lstm --epochs 1 --limit 6400
#
# MODEL is mlp, cnn, lstm or bncnn; ARGS go to the program as they are (--epochs, --limit, --seed,
# --data, --phases). Environment: THREADS (default "1 2"), CXX (default g++), TORCH_INCLUDE
# (default /usr/include), TORCH_LIBDIR (optional -L directory). Each run's full output is kept in
# build/libtorch_bench/MODEL-tN.log.
set -euo pipefail

if [[ $# -lt 1 || $1 == -h || $1 == --help ]]; then
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi
model=$1
shift

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
src=$root/benchmarks/workloads/libtorch_epoch_time.cpp
out=$root/build/libtorch_bench
bin=$out/libtorch_epoch_time
mkdir -p "$out"

cxx=${CXX:-g++}
inc=${TORCH_INCLUDE:-/usr/include}
libflags=()
[[ -n ${TORCH_LIBDIR:-} ]] && libflags+=("-L$TORCH_LIBDIR" "-Wl,-rpath,$TORCH_LIBDIR")

if [[ ! -x $bin || $src -nt $bin ]]; then
  echo "building $bin"
  "$cxx" -std=c++17 -O3 -DNDEBUG -I"$inc" -I"$inc/torch/csrc/api/include" "$src" -o "$bin" \
    ${libflags[@]+"${libflags[@]}"} -ltorch -ltorch_cpu -lc10 -lz
fi

export OPENBLAS_NUM_THREADS=1
best_line=""
best_s=""
for t in ${THREADS:-1 2}; do
  log=$out/$model-t$t.log
  "$bin" --model "$model" --threads "$t" "$@" >"$log" 2>&1 || {
    cat "$log" >&2
    exit 1
  }
  line=$(grep '^RESULT' "$log" | tail -n 1)
  echo "$line"
  s=$(sed -n 's/.* s_per_epoch=\([0-9.]*\).*/\1/p' <<<"$line")
  if [[ -z $best_s ]] || awk -v a="$s" -v b="$best_s" 'BEGIN { exit !(a < b) }'; then
    best_s=$s
    best_line=$line
  fi
done
threads=$(sed -n 's/.* threads=\([0-9]*\).*/\1/p' <<<"$best_line")
echo "BEST model=$model threads=$threads s_per_epoch=$best_s (OPENBLAS_NUM_THREADS=1)"
