R"SINEW_CUDA(
// Scans and stream compaction: cumsum and cumprod along one dimension, and the kernels behind
// masked_select, masked_scatter and nonzero (each element's output position is the number of
// selected elements before it). Sequential where the CPU is, so that results are bitwise the
// CPU's: a scan walks its dimension in order with the CPU's accumulator (double for floating
// types, wrapping 64-bit integers); a compaction splits the positions into chunks, counts each
// chunk, scans the counts and writes each chunk in order. I is the index type.
namespace sinew {

// out (contiguous [outer, n, inner]) = its inclusive running sum (K: Scan::Sum) or product along
// n, in place: one thread per (outer, inner) column.
template <int K, class R, class I>
__global__ void scan_inplace(R* out, I outer, I n, I inner) {
  typedef typename dev::pick<dev::is_floating<R>::value, double, uint64_t>::type A;
  const bool sum = K == static_cast<int>(Scan::Sum);
  const I columns = outer * inner;
  for (I t = dev::grid_start<I>(); t < columns; t += dev::grid_step<I>()) {
    const I o = t / inner;
    R* p = out + o * n * inner + (t - o * inner);
    A acc = sum ? A(0) : A(1);
    for (I k = 0; k < n; ++k) {
      R& v = p[k * inner];
      acc = sum ? acc + A(v) : acc * A(v);
      v = static_cast<R>(acc);
    }
  }
}

// counts[c] = the number of nonzero elements among positions [c * chunk, (c + 1) * chunk) of v
// (row-major over the descriptor's shape; NaN is nonzero, -0.0 is zero).
template <class T, class I>
__global__ void chunk_count(int64_t* counts, const T* v, dev::Strided<I, 1> s, I n, I chunk) {
  const I chunks = (n + chunk - 1) / chunk;
  for (I c = dev::grid_start<I>(); c < chunks; c += dev::grid_step<I>()) {
    const I end = (c + 1) * chunk < n ? (c + 1) * chunk : n;
    int64_t count = 0;
    for (I i = c * chunk; i < end; ++i) {
      I off[1];
      dev::strided_offsets(s, i, off);
      count += v[off[0]] != T(0) ? 1 : 0;
    }
    counts[c] = count;
  }
}

// The first output position of chunk c: the selected elements of the chunks before it (ends is
// the inclusive scan of the counts).
template <class I>
__device__ __forceinline__ int64_t chunk_begin(const int64_t* ends, I c) {
  return c == 0 ? 0 : ends[c - 1];
}

// out[0, 1, ...] = the elements of x where m, in row-major order over the descriptor's shape
// (operands x, m).
template <class T, class I>
__global__ void masked_select_chunks(T* out, const T* x, const bool* m, dev::Strided<I, 2> s, I n,
                                     I chunk, const int64_t* ends) {
  const I chunks = (n + chunk - 1) / chunk;
  for (I c = dev::grid_start<I>(); c < chunks; c += dev::grid_step<I>()) {
    const I end = (c + 1) * chunk < n ? (c + 1) * chunk : n;
    int64_t next = chunk_begin(ends, c);
    for (I i = c * chunk; i < end; ++i) {
      I off[2];
      dev::strided_offsets(s, i, off);
      if (m[off[1]]) out[next++] = x[off[0]];
    }
  }
}

// out's elements where m (row-major over the descriptor's shape; operands out, m) = src[0, 1,
// ...] in order.
template <class T, class I>
__global__ void masked_scatter_chunks(T* out, const bool* m, const T* src, dev::Strided<I, 2> s,
                                      I n, I chunk, const int64_t* ends) {
  const I chunks = (n + chunk - 1) / chunk;
  for (I c = dev::grid_start<I>(); c < chunks; c += dev::grid_step<I>()) {
    const I end = (c + 1) * chunk < n ? (c + 1) * chunk : n;
    int64_t next = chunk_begin(ends, c);
    for (I i = c * chunk; i < end; ++i) {
      I off[2];
      dev::strided_offsets(s, i, off);
      if (m[off[1]]) out[off[0]] = src[next++];
    }
  }
}

// out (contiguous [count, ndim]) = the coordinates of x's nonzero elements in row-major order. The
// descriptor is x's own shape and strides (not coalesced: the coordinates are x's).
template <class T, class I>
__global__ void nonzero_chunks(int64_t* out, const T* x, dev::Strided<I, 1> s, I n, I chunk,
                               const int64_t* ends) {
  const I chunks = (n + chunk - 1) / chunk;
  for (I c = dev::grid_start<I>(); c < chunks; c += dev::grid_step<I>()) {
    const I end = (c + 1) * chunk < n ? (c + 1) * chunk : n;
    int64_t next = chunk_begin(ends, c);
    for (I i = c * chunk; i < end; ++i) {
      I off[1];
      dev::strided_offsets(s, i, off);
      if (x[off[0]] == T(0)) continue;
      I rest = i;
      for (int d = static_cast<int>(s.ndim) - 1; d >= 0; --d) {
        out[next * s.ndim + d] = static_cast<int64_t>(rest % s.size[d]);
        rest /= s.size[d];
      }
      ++next;
    }
  }
}

}  // namespace sinew
)SINEW_CUDA"
