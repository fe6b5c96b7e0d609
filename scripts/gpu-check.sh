#!/usr/bin/env bash
# What only a GPU shows, in one call of a few minutes on a machine with an NVIDIA GPU, the CUDA
# toolkit, CMake, ninja and PyTorch (no internet needed):
#   1. builds the CUDA test programs and the examples (Release, SINEW_WITH_CUDA) against the
#      dependencies that scripts/device-bundle.sh gathered into .device-bundle/ (carry that folder
#      to the machine)
#   2. the op-level parity suite and every example's --device cuda run (fashion_mnist: all four
#      models) on the real device: ctest -L cuda_device, and the runtime tests
#   3. compute-sanitizer memcheck over a subset of the parity suite
#   4. the first CUDA op with a cold and with a warm kernel cache
#   5. GEMM GFLOP/s (FP32, TF32, FP64) next to PyTorch's on the same GPU
# and prints a summary table. Exits non-zero when a step fails; later steps still run.
#
#   scripts/device-bundle.sh                      (on the build machine)
#   scripts/gpu-check.sh [--out DIR]              (on the GPU machine, from the repository root)
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 1
out="${OUT:-$root/build/gpu-check}"
[ "${1:-}" = "--out" ] && out="$2"
mkdir -p "$out"
bundle="$root/.device-bundle"
build="$root/build/gpu"
jobs=$(nproc 2>/dev/null || echo 4)
status=0
summary=()
# The toolkit's tools (compute-sanitizer) where they are not on PATH.
for d in "${CUDAToolkit_ROOT:-}" /usr/local/cuda; do
  [ -n "$d" ] && [ -d "$d/bin" ] && PATH="$PATH:$d/bin"
done
step() { echo; echo "==== $*"; }
record() { summary+=("$1"); echo "$1"; }

if [ ! -d "$bundle" ]; then
  echo "gpu-check: $bundle is missing: run scripts/device-bundle.sh on a machine with the packages and carry the folder" >&2
  exit 1
fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt"

step "GoogleTest from the bundle"
gtest_prefix="$root/build/gtest-prefix"
if [ ! -f "$gtest_prefix/lib/cmake/GTest/GTestConfig.cmake" ] && [ ! -f "$gtest_prefix/lib64/cmake/GTest/GTestConfig.cmake" ]; then
  cmake -S "$bundle/src/googletest" -B "$root/build/gtest-build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$gtest_prefix" -DBUILD_GMOCK=OFF >"$out/gtest.log" 2>&1 &&
    cmake --build "$root/build/gtest-build" -j "$jobs" >>"$out/gtest.log" 2>&1 &&
    cmake --install "$root/build/gtest-build" >>"$out/gtest.log" 2>&1 || { tail -20 "$out/gtest.log"; exit 1; }
fi

step "configure and build (Release, SINEW_WITH_CUDA)"
start=$SECONDS
export LD_LIBRARY_PATH="$bundle/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if ! cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSINEW_WITH_CUDA=ON \
    -DSINEW_BUILD_EXAMPLES=ON -DSINEW_BUILD_BENCHMARKS=OFF -DSINEW_INSTALL=OFF \
    -DCMAKE_PREFIX_PATH="$bundle;$gtest_prefix" -DZLIB_ROOT="$bundle" >"$out/configure.log" 2>&1; then
  tail -30 "$out/configure.log"
  exit 1
fi
if ! cmake --build "$build" -j "$jobs" --target sinew_cuda_device_tests sinew_cuda_tests \
    sinew_cuda_gpu_probe sinew_examples >"$out/build.log" 2>&1; then
  grep -m 20 -E "error|Error" "$out/build.log"
  exit 1
fi
record "build: $((SECONDS - start)) s"

step "parity suite and the examples' --device cuda runs on the device (ctest -L cuda_device), the runtime tests"
export SINEW_KERNEL_CACHE="$root/build/gpu-kernel-cache"
start=$SECONDS
(cd "$build" && ctest -L 'cuda_device|^cuda$' -E CompileAll -j 4 --output-on-failure --timeout 300) \
  >"$out/ctest.log" 2>&1
rc=$?
line=$(grep -E '^[0-9]+% tests passed' "$out/ctest.log" | tail -1)
record "parity + runtime tests: ${line:-no summary} ($((SECONDS - start)) s)"
[ $rc -eq 0 ] || { status=1; grep -E "Failed|\*\*\*" "$out/ctest.log" | head -20; }

step "compute-sanitizer memcheck (subset)"
if command -v compute-sanitizer >/dev/null 2>&1; then
  start=$SECONDS
  compute-sanitizer --tool memcheck --error-exitcode 3 "$build/tests/cuda/sinew_cuda_device_tests" \
    --gtest_filter='CudaElementwise.*:CudaIndex.*:CudaReduce.Softmax*:CudaLinalg.Matrix*' \
    >"$out/memcheck.log" 2>&1
  rc=$?
  record "memcheck: exit $rc, $(grep -c 'ERROR SUMMARY: 0 errors' "$out/memcheck.log") clean summaries ($((SECONDS - start)) s)"
  [ $rc -eq 0 ] || { status=1; grep -m 10 -E "Invalid|ERROR" "$out/memcheck.log"; }
else
  record "memcheck: compute-sanitizer not found"
fi

step "first CUDA op, cold and warm kernel cache"
probe="$build/tests/cuda/sinew_cuda_gpu_probe"
rm -rf "$root/build/gpu-cold-cache"
cold=$(SINEW_KERNEL_CACHE="$root/build/gpu-cold-cache" "$probe" first-op | tr '\n' ' ') || status=1
warm=$(SINEW_KERNEL_CACHE="$root/build/gpu-cold-cache" "$probe" first-op | tr '\n' ' ') || status=1
record "first op, cold cache: $cold"
record "first op, warm cache: $warm"

step "GEMM, Sinew and PyTorch"
for n in 1024 4096; do
  sinew=$("$probe" gemm "$n" | tr '\n' ' ') || status=1
  record "sinew: $sinew"
  torch=$(python3 - "$n" <<'PY' 2>&1
import sys, torch
n = int(sys.argv[1])
out = []
for name, dtype, tf32 in (("fp32", torch.float32, False), ("tf32", torch.float32, True), ("fp64", torch.float64, False)):
    torch.backends.cuda.matmul.allow_tf32 = tf32
    a = torch.randn(n, n, device="cuda", dtype=dtype); b = torch.randn(n, n, device="cuda", dtype=dtype)
    for _ in range(3): a @ b
    torch.cuda.synchronize()
    ts = []
    for _ in range(10):
        s = torch.cuda.Event(enable_timing=True); e = torch.cuda.Event(enable_timing=True)
        s.record(); a @ b; e.record(); torch.cuda.synchronize(); ts.append(s.elapsed_time(e))
    ts.sort()
    out.append(f"gemm_{name}_gflops {2 * n**3 / (ts[len(ts) // 2] * 1e6):.0f}")
print(f"torch {torch.__version__} n {n} " + " ".join(out))
PY
)
  record "pytorch: $torch"
done

echo
echo "==== summary"
printf '%s\n' "${summary[@]}" | tee "$out/summary.txt"
exit $status
