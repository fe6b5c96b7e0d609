#!/usr/bin/env bash
# Compile times of a few translation units with the flags a user gets, printed as one Markdown
# table: wall seconds (the minimum over the runs) and peak memory (the compiler's maximum resident
# set size from `/usr/bin/time -v`, the largest over the runs), at -O0 and -O2.
#
#   benchmarks/compile_time.sh [--quick] [--with-libtorch] [--runs N]
#
#   --quick           one run of each, -O2 only (a quick check while developing)
#   --with-libtorch   install Debian's libtorch-dev when it is missing (also: SINEW_BENCH_LIBTORCH=1);
#                     without it the LibTorch rows are measured only when LibTorch is installed
#   --runs N          runs per measurement (default 3)
#   CXX=clang++ ...   another compiler for the Sinew rows (default g++)
#
# Sinew rows: g++ -std=c++20 -fopenmp -I<repo>/include -I/usr/include/eigen3 (what Sinew::sinew
# gives; its -lz only matters for linking), compiled with -c unless the row says "+ link".
# LibTorch rows: Debian's libtorch-dev 1.13 (C++17, as LibTorch 1.13 documents), the flags that
# find_package(Torch) gives, linked with -ltorch -ltorch_cpu -lc10.
# The numbers depend on the machine's load: run it when nothing else compiles, and say when not.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=3
levels=(-O0 -O2)
want_libtorch=${SINEW_BENCH_LIBTORCH:-0}
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) runs=1; levels=(-O2) ;;
    --with-libtorch) want_libtorch=1 ;;
    --runs) runs=${2:?--runs needs a number}; shift ;;
    -h|--help) sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "compile_time.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
cxx=${CXX:-g++}

# apt-get install, through sudo when not root (as scripts/setup.sh does).
apt_install() {
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "compile_time.sh: need root or sudo to install $*" >&2; return 1; }
    sudo=(sudo)
  fi
  echo "compile_time.sh: installing $*" >&2
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "$@" >&2
}

[ -x /usr/bin/time ] || apt_install time
torch_header=/usr/include/torch/csrc/api/include/torch/torch.h
if [ "$want_libtorch" = 1 ] && [ ! -f "$torch_header" ]; then
  apt_install libtorch-dev
fi
have_libtorch=0
[ -f "$torch_header" ] && have_libtorch=1

sinew_flags="-std=c++20 -fopenmp -I$root/include -I/usr/include/eigen3"
sinew_libs="-lz"
torch_flags="-std=c++17 -D_GLIBCXX_USE_CXX11_ABI=1 -I/usr/include/torch/csrc/api/include"
torch_libs="-ltorch -ltorch_cpu -lc10"

# One row: label | source (relative to the repo) | flags | libs ("" = compile only, -c) | levels
# ("all" = every level in $levels, or one level such as -O2).
rows=(
  "\`empty_main.cpp\` (\`#include <sinew/sinew.hpp>\`)|benchmarks/compile/empty_main.cpp|$sinew_flags||all"
  "\`examples/xor_demo.cpp\` (tensors + autograd)|examples/xor_demo.cpp|$sinew_flags||all"
  "\`trainer.cpp\` (CNN, BatchNorm, Dropout, CrossEntropy, SGD + Adam)|benchmarks/compile/trainer.cpp|$sinew_flags||all"
  "\`trainer.cpp\`, \`-march=native\`|benchmarks/compile/trainer.cpp|$sinew_flags -march=native||-O2"
  "\`trainer.cpp\`, \`-march=native\`, + link|benchmarks/compile/trainer.cpp|$sinew_flags -march=native|$sinew_libs|-O2"
)
if [ "$have_libtorch" = 1 ]; then
  rows+=(
    "LibTorch \`libtorch_minimal.cpp\` (\`#include <torch/torch.h>\`, one Linear)|benchmarks/compile/libtorch_minimal.cpp|$torch_flags||all"
    "LibTorch \`libtorch_minimal.cpp\`, + link|benchmarks/compile/libtorch_minimal.cpp|$torch_flags|$torch_libs|all"
    "LibTorch \`libtorch_trainer.cpp\` (same trainer)|benchmarks/compile/libtorch_trainer.cpp|$torch_flags||all"
    "LibTorch \`libtorch_trainer.cpp\`, \`-march=native\`|benchmarks/compile/libtorch_trainer.cpp|$torch_flags -march=native||-O2"
    "LibTorch \`libtorch_trainer.cpp\`, \`-march=native\`, + link|benchmarks/compile/libtorch_trainer.cpp|$torch_flags -march=native|$torch_libs|-O2"
  )
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0

# measure <compiler> <level> <source> <flags> <libs>: prints "<min wall s> <max RSS KiB>", or
# "failed" (the compiler's messages go to stderr).
measure() {
  local compiler=$1 level=$2 src=$3 flags=$4 libs=$5 best="" peak=0 i wall rss
  local cmd
  # shellcheck disable=SC2206  # the flag strings are split on purpose
  if [ -n "$libs" ]; then
    cmd=("$compiler" $flags "$level" "$root/$src" -o "$tmp/a.out" $libs)
  else
    cmd=("$compiler" $flags "$level" -c "$root/$src" -o "$tmp/a.o")
  fi
  for ((i = 0; i < runs; ++i)); do
    if ! /usr/bin/time -v -o "$tmp/time.txt" "${cmd[@]}" 2>"$tmp/err.txt"; then
      echo "compile_time.sh: failed: ${cmd[*]}" >&2
      tail -n 30 "$tmp/err.txt" >&2
      echo failed
      return 1
    fi
    # "Elapsed (wall clock) time (h:mm:ss or m:ss): 0:37.51"
    wall=$(sed -n 's/.*Elapsed (wall clock) time.*: //p' "$tmp/time.txt" |
           awk -F: '{ s = 0; for (i = 1; i <= NF; ++i) s = s * 60 + $i; print s }')
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/time.txt")
    if [ -z "$best" ] || awk -v a="$wall" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$wall; fi
    [ "$rss" -gt "$peak" ] && peak=$rss
  done
  echo "$best $peak"
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
commit=$(git -C "$root" log -1 --format=%h 2>/dev/null || echo unknown)
dirty=""
[ -n "$(git -C "$root" status --porcelain -- include 2>/dev/null)" ] && dirty=" (include/ has uncommitted changes)"
header="| translation unit |"
rule="|---|"
for level in "${levels[@]}"; do
  header+=" \`$level\` wall | \`$level\` peak memory |"
  rule+="---:|---:|"
done
lines=()
for row in "${rows[@]}"; do
  IFS='|' read -r label src flags libs row_levels <<<"$row"
  line="| $label |"
  for level in "${levels[@]}"; do
    if [ "$row_levels" != all ] && [ "$row_levels" != "$level" ]; then
      line+=" – | – |"
      continue
    fi
    compiler=$cxx
    case "$src" in *libtorch_*) compiler=g++ ;; esac
    echo "compile_time.sh: $src $level${libs:+ + link} ($runs run(s))" >&2
    if result=$(measure "$compiler" "$level" "$src" "$flags" "$libs"); then
      read -r wall rss <<<"$result"
      line+=" $(printf '%.1f' "$wall") s | $(awk -v k="$rss" 'BEGIN { printf "%.0f", k / 1024 }') MB |"
    else
      line+=" failed | – |"
      status=1
    fi
  done
  lines+=("$line")
done

echo
echo "Commit \`$commit\`$dirty, $(date -u '+%Y-%m-%d %H:%M UTC'), $($cxx --version | head -1)," \
     "$(nproc) cores, load average $load_start at the start and $(cut -d' ' -f1-3 /proc/loadavg) at the end; minimum wall time of" \
     "$runs run(s), peak memory = the compiler's maximum resident set size. Compile only (\`-c\`)" \
     "unless the row says \"+ link\"."
echo
echo "$header"
echo "$rule"
printf '%s\n' "${lines[@]}"
echo
echo "Sinew flags: \`$cxx ${sinew_flags//$root/<repo>}\` (+ link: \`$sinew_libs\`)."
if [ "$have_libtorch" = 1 ]; then
  echo "LibTorch flags: \`g++ $torch_flags\` (+ link: \`$torch_libs\`), Debian libtorch-dev" \
       "$(dpkg-query -W -f='${Version}' libtorch-dev 2>/dev/null || echo '?')."
else
  echo "LibTorch: not installed, its rows were skipped (--with-libtorch installs libtorch-dev)."
fi
exit $status
