#!/usr/bin/env bash
# Builds Sinew's fuzz targets (the fuzz preset: clang 14, libFuzzer, ASan + UBSan) and runs each
# for a while, as many at once as there are cores. Each starts from its committed seed corpus
# (tests/fuzz/corpus/<target>). New inputs go to build/fuzz/corpus/<target>, and any crash, leak,
# timeout or out-of-memory input goes to build/fuzz/artifacts/<target>. Prints one line per
# target and exits non-zero if any target found anything. A found input becomes a regression:
# fix the bug and copy the input to tests/fuzz/regressions/<target>/, where the normal suite
# (io.FuzzCorpus) runs it.
#
#   scripts/fuzz.sh [seconds per target, default 600] [target...]
#   targets: safetensors state_dict optimizer_state checkpoint idx
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 1
"$root/scripts/setup.sh" --fuzz || exit 1

seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(safetensors state_dict optimizer_state checkpoint idx)
if [ -z "${CMAKE_GENERATOR:-}" ] && command -v ninja >/dev/null 2>&1; then
  export CMAKE_GENERATOR=Ninja
fi
jobs=$(nproc 2>/dev/null || echo 2)

cmake --preset fuzz >/dev/null || exit 1
build_targets=()
for t in "${targets[@]}"; do build_targets+=("sinew_fuzz_$t"); done
cmake --build --preset fuzz -j "$jobs" --target "${build_targets[@]}" || exit 1

out="$root/build/fuzz"
# One thread per fuzzer (the fuzzers themselves fill the cores); every allocation is capped
# well below the machine's memory, so a file that makes a reader allocate by its header's word
# is an out-of-memory report, not a slow success.
export OMP_NUM_THREADS=1
export ASAN_OPTIONS="detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

run_one() {
  local t=$1
  local corpus="$out/corpus/$t" artifacts="$out/artifacts/$t/" log="$out/fuzz-$t.log"
  mkdir -p "$corpus" "$artifacts"
  local dict=() max_len=8192
  [ "$t" != idx ] && dict=(-dict="$root/tests/fuzz/safetensors.dict")
  [ "$t" = state_dict ] && max_len=2000000  # the seeds are whole W2 and LSTM state dicts
  "$out/tests/fuzz/sinew_fuzz_$t" "$corpus" "$root/tests/fuzz/corpus/$t" "${dict[@]}" \
    -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
    -print_final_stats=1 -artifact_prefix="$artifacts" >"$log" 2>&1
}

echo "fuzz: ${targets[*]}, ${seconds} s each, $jobs at a time; logs in $out/fuzz-<target>.log"
running=0
for t in "${targets[@]}"; do
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n
    running=$((running - 1))
  fi
done
wait

status=0
printf '%-16s %12s %10s %8s %s\n' target executions exec/s corpus found
for t in "${targets[@]}"; do
  log="$out/fuzz-$t.log"
  execs=$(grep -oE 'stat::number_of_executed_units: [0-9]+' "$log" | awk '{print $2}' | tail -1)
  rate=$(grep -oE 'stat::average_exec_per_sec: +[0-9]+' "$log" | awk '{print $2}' | tail -1)
  corpus=$(find "$out/corpus/$t" -type f | wc -l)
  found=$(find "$out/artifacts/$t" -type f | wc -l)
  if [ "$found" -gt 0 ] || ! grep -q 'Done [0-9]* runs' "$log"; then
    status=1
    found="$found (see $log)"
  fi
  printf '%-16s %12s %10s %8s %s\n' "$t" "${execs:-?}" "${rate:-?}" "$corpus" "$found"
done
exit $status
