#!/usr/bin/env bash
# Sinew against LibTorch on the workloads W1-W5 of DESIGN.md, on this machine, in one run. It
# installs what it needs (scripts/setup.sh, and libtorch-dev), builds both programs and prints one
# table.
#   - W1-W4: seconds per epoch, the median of the timed epochs.
#   - W5: seconds per DCGAN step, the median of the timed steps.
#
#   benchmarks/compare.sh           two epochs on all 60,000 images (W5: 40 steps)
#   benchmarks/compare.sh --quick   one epoch on 6,400 images (W5: 10 steps), a fast check
#   benchmarks/compare.sh [--quick] mlp cnn ...   only these (mlp cnn lstm bncnn dcgan)
#
# The last rows are the framework overhead: a chain of 1,000 small ops, forward and forward plus
# backward, in ns per op, for Sinew and for LibTorch.
#
# Each library runs with 1 and with 2 threads, and its best is compared.
#   - LibTorch runs with OPENBLAS_NUM_THREADS=1, so OpenBLAS's pool does not fight LibTorch's. It
#     also tries OPENBLAS_CORETYPE=SkylakeX besides the environment's setting.
#   - Sinew uses its one OpenMP pool.
#   - Both train on the same batches in the same order.
# The logs are kept in build/compare/.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$root/build/compare
mkdir -p "$out"
quick=0
models=()
for arg in "$@"; do
  case $arg in
    --quick) quick=1 ;;
    mlp | cnn | lstm | bncnn | dcgan) models+=("$arg") ;;
    -h | --help)
      sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "compare.sh: unknown argument $arg" >&2
      exit 2
      ;;
  esac
done
[ ${#models[@]} -eq 0 ] && models=(mlp cnn lstm bncnn dcgan)

"$root/scripts/setup.sh" >/dev/null
if ! dpkg -s libtorch-dev 2>/dev/null | grep -q '^Status: install ok installed'; then
  sudo=()
  [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends \
    libtorch-dev
fi

sinew_bin=$out/sinew_epoch_time
torch_bin=$out/libtorch_epoch_time
src=$root/benchmarks/workloads
if [[ ! -x $sinew_bin || $src/epoch_time.cpp -nt $sinew_bin ||
  -n $(find "$root/include" -newer "$sinew_bin" -name '*.hpp' -print -quit) ]]; then
  echo "building $sinew_bin"
  # -fno-tree-slp-vectorize: GCC 12 at -march=native folds some vector constants wrongly (the
  # check and the same flag are in CMakeLists.txt's SINEW_GCC_SLP_BROKEN).
  g++ -std=c++20 -O3 -DNDEBUG -march=native -fno-tree-slp-vectorize -fopenmp -I"$root/include" \
    -isystem /usr/include/eigen3 "$src/epoch_time.cpp" -o "$sinew_bin" -lz
fi
if [[ ! -x $out/sinew_overhead || $src/overhead.cpp -nt $out/sinew_overhead ||
  -n $(find "$root/include" -newer "$out/sinew_overhead" -name '*.hpp' -print -quit) ]]; then
  g++ -std=c++20 -O3 -DNDEBUG -march=native -fno-tree-slp-vectorize -fopenmp -I"$root/include" \
    -isystem /usr/include/eigen3 "$src/overhead.cpp" -o "$out/sinew_overhead"
fi
if [[ ! -x $out/libtorch_overhead || $src/libtorch_overhead.cpp -nt $out/libtorch_overhead ]]; then
  g++ -std=c++17 -O3 -DNDEBUG -I/usr/include/torch/csrc/api/include "$src/libtorch_overhead.cpp" \
    -o "$out/libtorch_overhead" -ltorch -ltorch_cpu -lc10
fi
if [[ ! -x $torch_bin || $src/libtorch_epoch_time.cpp -nt $torch_bin ]]; then
  echo "building $torch_bin"
  g++ -std=c++17 -O3 -DNDEBUG -I/usr/include/torch/csrc/api/include \
    "$src/libtorch_epoch_time.cpp" -o "$torch_bin" -ltorch -ltorch_cpu -lc10 -lz
fi

if [ $quick -eq 1 ]; then
  args=(--epochs 1 --limit 6400)
  dcgan_args=(--steps 10)
else
  args=(--epochs 2)
  dcgan_args=(--steps 40)
fi

# field NAME LINE: the value of NAME=... in a RESULT line.
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }

# best_of LOGPREFIX CMD...: runs CMD with --threads 1 and 2, keeps the RESULT line of the faster.
best_line=""
run_best() {
  local tag=$1 key=$2
  shift 2
  best_line=""
  local best="" line s
  for t in 1 2; do
    line=$("$@" --threads "$t" 2>&1 | tee "$out/$tag-t$t.log" | grep '^RESULT' | tail -1)
    [ -n "$line" ] || {
      echo "compare.sh: no RESULT from $tag with $t threads (see $out/$tag-t$t.log)" >&2
      exit 1
    }
    s=$(field "$key" "$line")
    if [ -z "$best" ] || awk -v a="$s" -v b="$best" 'BEGIN { exit !(a < b) }'; then
      best=$s
      best_line="$line threads_best=$t"
    fi
  done
}

echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"
printf '%-7s %-10s %10s %9s %12s %9s %7s %10s %10s %9s %9s\n' workload unit sinew threads \
  libtorch threads ratio sinew_acc torch_acc sinew_MB torch_MB
for m in "${models[@]}"; do
  if [ "$m" = dcgan ]; then
    key=s_per_step unit=s/step margs=("${dcgan_args[@]}")
  else
    key=s_per_epoch unit=s/epoch margs=("${args[@]}")
  fi
  run_best "sinew-$m" "$key" env OMP_NUM_THREADS=2 "$sinew_bin" --model "$m" "${margs[@]}"
  sinew_line=$best_line
  torch_best=""
  torch_line=""
  for core in "${OPENBLAS_CORETYPE:-default}" SkylakeX; do
    coreenv=()
    [ "$core" != default ] && coreenv=(OPENBLAS_CORETYPE="$core")
    run_best "libtorch-$m-$core" "$key" env OPENBLAS_NUM_THREADS=1 ${coreenv[@]+"${coreenv[@]}"} \
      "$torch_bin" --model "$m" "${margs[@]}"
    s=$(field "$key" "$best_line")
    if [ -z "$torch_best" ] || awk -v a="$s" -v b="$torch_best" 'BEGIN { exit !(a < b) }'; then
      torch_best=$s
      torch_line="$best_line coretype=$core"
    fi
  done
  s_sinew=$(field "$key" "$sinew_line")
  ratio=$(awk -v a="$s_sinew" -v b="$torch_best" 'BEGIN { printf "%.2f", a / b }')
  acc() { local v; v=$(field test_acc "$1"); echo "${v:--}"; }
  printf '%-7s %-10s %10s %9s %12s %9s %7s %10s %10s %9s %9s\n' "$m" "$unit" "$s_sinew" \
    "$(field threads_best "$sinew_line")" "$torch_best" \
    "$(field threads_best "$torch_line")/$(field coretype "$torch_line")" "$ratio" \
    "$(acc "$sinew_line")" "$(acc "$torch_line")" "$(field peak_rss_mb "$sinew_line")" \
    "$(field peak_rss_mb "$torch_line")"
done

# Framework overhead: 1,000 small ops (16 elements), ns per op, one thread each.
sinew_o=$(OMP_NUM_THREADS=1 "$out/sinew_overhead" | tee "$out/sinew-overhead.log" | grep '^RESULT')
torch_o=$(OPENBLAS_NUM_THREADS=1 "$out/libtorch_overhead" | tee "$out/libtorch-overhead.log" |
  grep '^RESULT')
for k in forward_ns_per_op forward_backward_ns_per_op; do
  a=$(field "$k" "$sinew_o")
  b=$(field "$k" "$torch_o")
  printf '%-26s %10s %12s %7s\n' "overhead $k" "$a" "$b" \
    "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }')"
done
