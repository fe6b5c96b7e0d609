#!/usr/bin/env bash
# Runs sinew_bench_core the way benchmarks/RESULTS.md reports it: 1 and 2 threads, Sinew and
# OpenBLAS in separate processes (so one library's spinning worker threads never overlap the
# other's timings), OpenBLAS with its default kernel and with OPENBLAS_CORETYPE=SkylakeX.
# Usage: benchmarks/run_core.sh <build-dir> <output-dir>   (JSON files, one per run)
set -euo pipefail
bin="$1/benchmarks/sinew_bench_core"
out="$2"
mkdir -p "$out"
common=(--benchmark_repetitions=5 --benchmark_report_aggregates_only=true --benchmark_format=console
        --benchmark_out_format=json)
for t in 1 2; do
  echo "== Sinew, $t thread(s); load: $(cut -d' ' -f1-3 /proc/loadavg)"
  OMP_NUM_THREADS=$t "$bin" "${common[@]}" --benchmark_filter='^BM_(Sgemm_Sinew|Mm_SinewOp|Sgemm_EigenProduct|Add|Relu|Softmax|MlpStep)' \
    --benchmark_out="$out/sinew_t$t.json"
  for core in default SkylakeX; do
    echo "== OpenBLAS ($core), $t thread(s); load: $(cut -d' ' -f1-3 /proc/loadavg)"
    if [[ $core == default ]]; then unset OPENBLAS_CORETYPE; else export OPENBLAS_CORETYPE=$core; fi
    OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t "$bin" "${common[@]}" --benchmark_filter='^BM_Sgemm_OpenBLAS' \
      --benchmark_out="$out/openblas_${core}_t$t.json"
  done
  unset OPENBLAS_CORETYPE
done
