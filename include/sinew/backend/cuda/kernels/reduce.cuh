R"SINEW_CUDA(
// Reduction kernels: sum, prod, all/any, max/min with indices, argmax/argmin, var/std, norm,
// logsumexp over a DimMask, and softmax/log_softmax along one dim; the arithmetic of
// backend/cpu/reduce.hpp.
//
// The host (backend/cuda/reduce_plan.hpp) splits the input's dimensions into kept ones (the
// outputs, row-major, written contiguously as the CPU kernels write them) and reduced ones (each
// output's region, walked in row-major order, coalesced as the CPU does), and picks one of two
// layouts, a run-time flag of the same kernel (so that each family has one instantiation per
// element type and index width):
//   rows     one block per output (grid-stride over the outputs): the block's threads share the
//            region and combine their partial results with warp shuffles and shared memory;
//   columns  one thread per output, walking its region alone: for short regions, and for regions
//            along a strided dimension while the outputs are adjacent in memory (a sum over the
//            batch dimension), where neighbouring threads then read neighbouring elements.
// Accumulators are the CPU's: double for float and double sums, products, variances and norms;
// uint64 for integer sums and products (overflow wraps); max/min in the element type with NaN
// propagating. Differences from the CPU: the order of summation (a tree instead of a loop), and
// logsumexp and softmax exponentiate in the element type everywhere (the CPU does so on
// contiguous rows and in double on strided ones).
namespace sinew {
namespace dev {

// The launch's geometry, passed by value (reduce_plan.hpp's ReduceArgs, byte for byte). Element
// r of an output's region (row-major) is at rows-offset(r / inner) + (r % inner) * inner_stride
// from the output's start, kept-offset(m).
template <class I>
struct ReduceShape {
  I outputs;       // kept elements (0: nothing to launch)
  I region;        // elements each output reduces (may be 0)
  I inner;         // extent of the region's innermost coalesced dimension
  I inner_stride;  // its element stride
  I columns;       // non-zero: one thread per output; zero: one block per output
  Strided<I, 1> kept;  // the kept dimensions (sizes, input strides)
  Strided<I, 1> rows;  // the region's other dimensions (ndim 0 when it is one dimension)
};

template <class I>
__device__ __forceinline__ I kept_offset(const ReduceShape<I>& s, I m) {
  I off[1];
  strided_offsets(s.kept, m, off);
  return off[0];
}

// Calls f(offset, r) for this thread's share of the region of the output whose region starts at
// `base`, r increasing: every element in the columns layout, every blockDim.x-th in the rows one.
template <class I, class F>
__device__ __forceinline__ void for_each_element(const ReduceShape<I>& s, I base, F& f) {
  if (s.columns) {
    I r = 0;
    for (I row = 0; r < s.region; ++row) {
      I off[1];
      strided_offsets(s.rows, row, off);
      const I start = base + off[0];
      for (I k = 0; k < s.inner; ++k, ++r) f(start + k * s.inner_stride, r);
    }
    return;
  }
  for (I r = static_cast<I>(threadIdx.x); r < s.region; r += static_cast<I>(blockDim.x)) {
    I off = r * s.inner_stride;
    if (s.rows.ndim > 0) {  // no division on the common one-dimensional region
      const I row = r / s.inner;
      I o[1];
      strided_offsets(s.rows, row, o);
      off = o[0] + (r - row * s.inner) * s.inner_stride;
    }
    f(base + off, r);
  }
}

// for_each_element for a one-dimensional region (softmax's): one loop for both layouts.
template <class I, class F>
__device__ __forceinline__ void for_each_element_1d(const ReduceShape<I>& s, I base, F& f) {
  const I start = s.columns ? I(0) : static_cast<I>(threadIdx.x);
  const I step = s.columns ? I(1) : static_cast<I>(blockDim.x);
  for (I r = start; r < s.region; r += step) f(base + r * s.inner_stride, r);
}

// Calls out(m) for this thread's (columns) or block's (rows) outputs; uniform across a block in
// the rows layout, so that out() may synchronize.
template <class I, class F>
__device__ __forceinline__ void for_each_output(const ReduceShape<I>& s, F& out) {
  if (s.columns) {
    for (I m = grid_start<I>(); m < s.outputs; m += grid_step<I>()) out(m);
  } else {
    for (I m = static_cast<I>(blockIdx.x); m < s.outputs; m += static_cast<I>(gridDim.x)) out(m);
  }
}

// Whether this thread writes output m's result (every thread holds it).
template <class I>
__device__ __forceinline__ bool writes(const ReduceShape<I>& s) {
  return s.columns || threadIdx.x == 0;
}

// The dynamic shared memory of a rows launch (reduce_plan.hpp's kReduceShared): 32 partial values
// of up to 8 bytes, 32 indices, one broadcast slot.
struct Shared {
  unsigned char* bytes;
  template <class A>
  __device__ __forceinline__ A* scratch() const {
    return reinterpret_cast<A*>(bytes);
  }
  __device__ __forceinline__ int64_t* index_scratch() const {
    return reinterpret_cast<int64_t*>(bytes + 256);
  }
  template <class A>
  __device__ __forceinline__ A* slot() const {
    return reinterpret_cast<A*>(bytes + 512);
  }
};

// v combined over the block and handed to every thread (rows), or v itself (columns).
template <class I, class A, class Op>
__device__ __forceinline__ A all_reduce(const ReduceShape<I>& s, A v, Op op, A identity,
                                        const Shared& sh) {
  if (s.columns) return v;
  v = block_reduce(v, op, identity, sh.scratch<A>());
  if (threadIdx.x == 0) *sh.slot<A>() = v;
  __syncthreads();
  // Read before any thread can write the slot again: that happens only after the two barriers
  // of the next block_reduce.
  return *sh.slot<A>();
}

struct ProdOp {
  template <class T>
  __device__ __forceinline__ T operator()(T a, T b) const {
    return a * b;
  }
};

// Max or min with NaN winning (any NaN makes the result NaN, as the CPU's extreme()).
struct ExtremeOp {
  bool is_max;
  template <class T>
  __device__ __forceinline__ T operator()(T a, T b) const {
    if (a != a) return a;
    if (b != b) return b;
    return (is_max ? b > a : b < a) ? b : a;
  }
};

// The accumulator of a sum or product with result R: double, or uint64 (wrapping) for integers.
template <class R>
struct acc_of {
  typedef typename pick<is_floating<R>::value, double, uint64_t>::type type;
};

// Max/min in T, or in int for 1-byte types (shuffles move 4 or 8 bytes).
template <class T>
struct extreme_of {
  typedef typename pick<(sizeof(T) < 4), int, T>::type type;
};

// The start value of a max (lowest) or min (highest): -inf / +inf, or the type's limits.
template <class T>
__device__ __forceinline__ T extreme_init(bool is_max) {
  if constexpr (is_floating<T>::value) {
    const T inf = max_finite(T(0)) * T(2);
    return is_max ? -inf : inf;
  } else if constexpr (same_type<T, bool>::value) {
    return !is_max;
  } else if constexpr (same_type<T, uint8_t>::value) {
    return static_cast<T>(is_max ? 0 : 255);
  } else {
    return static_cast<T>(is_max ? (-9223372036854775807LL - 1) : 9223372036854775807LL);
  }
}

// ---- argmax / argmin: (value, first index) pairs ------------------------------------------
template <class E>
struct Best {
  E v;
  int64_t i;
};

// Whether b replaces a: the first NaN wins; else a strictly better value; ties go to the lower
// index, so the result is the first occurrence whatever the order of combining.
template <class E>
__device__ __forceinline__ bool better(const Best<E>& a, const Best<E>& b, bool is_max) {
  const bool an = a.v != a.v, bn = b.v != b.v;
  if (an || bn) return bn && (!an || b.i < a.i);
  if (b.v == a.v) return b.i < a.i;
  return is_max ? b.v > a.v : b.v < a.v;
}

template <class I, class E>
__device__ __forceinline__ Best<E> all_reduce_best(const ReduceShape<I>& s, Best<E> b, bool is_max,
                                                   Best<E> identity, const Shared& sh) {
  if (s.columns) return b;
  for (int offset = 16; offset > 0; offset >>= 1) {
    Best<E> o;
    o.v = __shfl_down_sync(0xffffffffu, b.v, offset);
    o.i = __shfl_down_sync(0xffffffffu, b.i, offset);
    if (better(b, o, is_max)) b = o;
  }
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int warps = (blockDim.x + 31) >> 5;
  E* sv = sh.scratch<E>();
  int64_t* si = sh.index_scratch();
  if (lane == 0) {
    sv[warp] = b.v;
    si[warp] = b.i;
  }
  __syncthreads();
  if (warp == 0) {
    b = identity;
    if (lane < warps) {
      b.v = sv[lane];
      b.i = si[lane];
    }
    for (int offset = 16; offset > 0; offset >>= 1) {
      Best<E> o;
      o.v = __shfl_down_sync(0xffffffffu, b.v, offset);
      o.i = __shfl_down_sync(0xffffffffu, b.i, offset);
      if (better(b, o, is_max)) b = o;
    }
    if (lane == 0) {
      sv[0] = b.v;
      si[0] = b.i;
    }
  }
  __syncthreads();
  b.v = sv[0];
  b.i = si[0];
  __syncthreads();  // the scratch is written again by the next output's combine
  return b;
}

}  // namespace dev

// ---- kernels ----------------------------------------------------------------------------------
// Every kernel: out[m] for m < s.outputs (contiguous), x the input's data pointer.

// sum: R is T for float and double, int64 for integer and bool inputs.
template <class T, class R, class I>
__global__ void reduce_sum(R* out, const T* x, dev::ReduceShape<I> s) {
  typedef typename dev::acc_of<R>::type A;
  SINEW_DYNAMIC_SHARED(unsigned char, smem);
  const dev::Shared sh = {smem};
  auto output = [&](I m) {
    A acc = 0;
    auto add = [&](I off, I) { acc += static_cast<A>(x[off]); };
    dev::for_each_element(s, dev::kept_offset(s, m), add);
    acc = dev::all_reduce(s, acc, dev::SumOp(), A(0), sh);
    if (dev::writes(s)) out[m] = static_cast<R>(acc);
  };
  dev::for_each_output(s, output);
}

// prod: 1 over nothing; R as for sum.
template <class T, class R, class I>
__global__ void reduce_prod(R* out, const T* x, dev::ReduceShape<I> s) {
  typedef typename dev::acc_of<R>::type A;
  SINEW_DYNAMIC_SHARED(unsigned char, smem);
  const dev::Shared sh = {smem};
  auto output = [&](I m) {
    A acc = 1;
    auto mul = [&](I off, I) { acc *= static_cast<A>(x[off]); };
    dev::for_each_element(s, dev::kept_offset(s, m), mul);
    acc = dev::all_reduce(s, acc, dev::ProdOp(), A(1), sh);
    if (dev::writes(s)) out[m] = static_cast<R>(acc);
  };
  dev::for_each_output(s, output);
}

// all_any: whether every (OP = Quantifier::All) or some element is non-zero (NaN is non-zero);
// over nothing All is true and Any false.
template <int OP, class T, class I>
__global__ void reduce_all_any(bool* out, const T* x, dev::ReduceShape<I> s) {
  const bool all = static_cast<Quantifier>(OP) == Quantifier::All;
  SINEW_DYNAMIC_SHARED(unsigned char, smem);
  const dev::Shared sh = {smem};
  auto output = [&](I m) {
    int acc = all ? 1 : 0;
    auto test = [&](I off, I) {
      const int nz = x[off] != T(0);
      acc = all ? (acc & nz) : (acc | nz);
    };
    dev::for_each_element(s, dev::kept_offset(s, m), test);
    if (all)
      acc = dev::all_reduce(s, acc, dev::MinOp(), 1, sh);
    else
      acc = dev::all_reduce(s, acc, dev::MaxOp(), 0, sh);
    if (dev::writes(s)) out[m] = acc != 0;
  };
  dev::for_each_output(s, output);
}

// extremum: max (is_max) or min, NaN propagating; -inf / +inf (the type's limits) over nothing.
template <class T, class I>
__global__ void reduce_extremum(T* out, const T* x, dev::ReduceShape<I> s, int is_max) {
  typedef typename dev::extreme_of<T>::type E;
  SINEW_DYNAMIC_SHARED(unsigned char, smem);
  const dev::Shared sh = {smem};
  const dev::ExtremeOp op = {is_max != 0};
  const E init = static_cast<E>(dev::extreme_init<T>(is_max != 0));
  auto output = [&](I m) {
    E best = init;
    auto visit = [&](I off, I) { best = op(best, static_cast<E>(x[off])); };
    dev::for_each_element(s, dev::kept_offset(s, m), visit);
    best = dev::all_reduce(s, best, op, init, sh);
    if (dev::writes(s)) out[m] = static_cast<T>(best);
  };
  dev::for_each_output(s, output);
}

// arg_extremum: values[m] = max or min, indices[m] = the row-major position within the region of
// its first occurrence (of the first NaN when there is one).
template <class T, class I>
__global__ void reduce_arg_extremum(T* values, int64_t* indices, const T* x,
                                    dev::ReduceShape<I> s, int is_max) {
  typedef typename dev::extreme_of<T>::type E;
  SINEW_DYNAMIC_SHARED(unsigned char, smem);
  const dev::Shared sh = {smem};
  const bool mx = is_max != 0;
  dev::Best<E> identity;
  identity.v = static_cast<E>(dev::extreme_init<T>(mx));
  identity.i = 9223372036854775807LL;  // loses every tie
  auto output = [&](I m) {
    dev::Best<E> best = identity;
    auto visit = [&](I off, I r) {
      dev::Best<E> c;
      c.v = static_cast<E>(x[off]);
      c.i = static_cast<int64_t>(r);
      if (dev::better(best, c, mx)) best = c;
    };
    dev::for_each_element(s, dev::kept_offset(s, m), visit);
    best = dev::all_reduce_best(s, best, mx, identity, sh);
    if (dev::writes(s)) {
      values[m] = static_cast<T>(best.v);
      indices[m] = s.region == 0 ? 0 : best.i;
    }
  };
  dev::for_each_output(s, output);
}

// var: sum (x - mean)^2 / denom in double, two passes (denom = max(0, N - correction)).
template <class T, class I>
__global__ void reduce_var(T* out, const T* x, dev::ReduceShape<I> s, double denom) {
  SINEW_DYNAMIC_SHARED(unsigned char, smem);
  const dev::Shared sh = {smem};
  const double count = static_cast<double>(s.region);
  auto output = [&](I m) {
    const I base = dev::kept_offset(s, m);
    double acc = 0;
    auto add = [&](I off, I) { acc += static_cast<double>(x[off]); };
    dev::for_each_element(s, base, add);
    const double mu = dev::all_reduce(s, acc, dev::SumOp(), 0.0, sh) / count;
    double ss = 0;
    auto square = [&](I off, I) {
      const double d = static_cast<double>(x[off]) - mu;
      ss += d * d;
    };
    dev::for_each_element(s, base, square);
    ss = dev::all_reduce(s, ss, dev::SumOp(), 0.0, sh);
    if (dev::writes(s)) out[m] = static_cast<T>(ss / denom);
  };
  dev::for_each_output(s, output);
}

// norm: the p-norm. mode (reduce_plan.hpp's NormMode): 0 general p, 1 (p = 1), 2 (p = 2),
// 3 (+inf: max |x|), 4 (-inf: min |x|), 5 (p = 0: the count of non-zeros). Sums in double; the
// infinite norms in T with NaN propagating.
template <class T, class I>
__global__ void reduce_norm(T* out, const T* x, dev::ReduceShape<I> s, int mode, double p) {
  SINEW_DYNAMIC_SHARED(unsigned char, smem);
  const dev::Shared sh = {smem};
  auto output = [&](I m) {
    const I base = dev::kept_offset(s, m);
    double y;
    if (mode == 3 || mode == 4) {
      const dev::ExtremeOp op = {mode == 3};
      const T init = dev::extreme_init<T>(mode == 3);
      T best = init;
      auto visit = [&](I off, I) { best = op(best, dev::m_abs(x[off])); };
      dev::for_each_element(s, base, visit);
      y = static_cast<double>(dev::all_reduce(s, best, op, init, sh));
    } else {
      double acc = 0;
      auto add = [&](I off, I) {
        const double v = static_cast<double>(x[off]);
        if (mode == 2)
          acc += v * v;
        else if (mode == 1)
          acc += dev::m_abs(v);
        else if (mode == 5)
          acc += x[off] != T(0) ? 1.0 : 0.0;
        else
          acc += dev::m_pow(dev::m_abs(v), p);
      };
      dev::for_each_element(s, base, add);
      acc = dev::all_reduce(s, acc, dev::SumOp(), 0.0, sh);
      y = mode == 2 ? dev::m_sqrt(acc) : mode == 0 ? dev::m_pow(acc, 1.0 / p) : acc;
    }
    if (dev::writes(s)) out[m] = static_cast<T>(y);
  };
  dev::for_each_output(s, output);
}

// logsumexp: m + log sum exp(x - m) with m the max; a NaN or infinite max (all -inf, nothing, or
// some +inf) is the result itself. The exponentials in T, their sum in double.
template <class T, class I>
__global__ void reduce_logsumexp(T* out, const T* x, dev::ReduceShape<I> s) {
  SINEW_DYNAMIC_SHARED(unsigned char, smem);
  const dev::Shared sh = {smem};
  const dev::ExtremeOp op = {true};
  const T init = dev::extreme_init<T>(true);
  auto output = [&](I m) {
    const I base = dev::kept_offset(s, m);
    T mx = init;
    auto visit = [&](I off, I) { mx = op(mx, x[off]); };
    dev::for_each_element(s, base, visit);
    mx = dev::all_reduce(s, mx, op, init, sh);
    if (mx != mx || mx == init || mx == -init) {  // uniform: every thread holds mx
      if (dev::writes(s)) out[m] = mx;
      return;
    }
    double sum = 0;
    auto add = [&](I off, I) { sum += static_cast<double>(dev::m_exp(x[off] - mx)); };
    dev::for_each_element(s, base, add);
    sum = dev::all_reduce(s, sum, dev::SumOp(), 0.0, sh);
    if (dev::writes(s)) out[m] = static_cast<T>(static_cast<double>(mx) + dev::m_log(sum));
  };
  dev::for_each_output(s, output);
}

// softmax along one dimension (log: log_softmax), all in T as the CPU: y = exp(x - max) / sum, or
// x - (max + log sum). The region is that dimension; out is contiguous in x's shape, so output
// m's row starts at (m / inner) * region * inner + m % inner and steps by inner (the extent of the
// dimensions after it).
template <class T, class I>
__global__ void softmax_dim(T* out, const T* x, dev::ReduceShape<I> s, I inner, int log) {
  SINEW_DYNAMIC_SHARED(unsigned char, smem);
  const dev::Shared sh = {smem};
  const dev::ExtremeOp op = {true};
  const T init = dev::extreme_init<T>(true);
  auto output = [&](I m) {
    const I base = dev::kept_offset(s, m);
    const I q = m / inner;
    T* o = out + (q * s.region * inner + (m - q * inner));
    T mx = init;
    auto visit = [&](I off, I) { mx = op(mx, x[off]); };
    dev::for_each_element_1d(s, base, visit);
    mx = dev::all_reduce(s, mx, op, init, sh);
    T sum = 0;
    auto add = [&](I off, I) { sum += dev::m_exp(x[off] - mx); };
    dev::for_each_element_1d(s, base, add);
    sum = dev::all_reduce(s, sum, dev::SumOp(), T(0), sh);
    // One write loop for both (two would each be inlined per layout: more registers).
    const T lse = mx + dev::m_log(sum), inv = T(1) / sum;
    auto write = [&](I off, I r) {
      const T v = x[off];
      o[r * inner] = log ? v - lse : dev::m_exp(v - mx) * inv;
    };
    dev::for_each_element_1d(s, base, write);
  };
  dev::for_each_output(s, output);
}

}  // namespace sinew
)SINEW_CUDA"
