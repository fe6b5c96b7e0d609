R"SINEW_CUDA(
// Scans, stream compaction and sorting: cumsum and cumprod along one dimension, the kernels
// behind masked_select, masked_scatter and nonzero (each element's output position is the number
// of selected elements before it), and sort. Sequential where the CPU is, so that results are bitwise the
// CPU's: a scan walks its dimension in order with the CPU's accumulator (double for floating
// types, wrapping 64-bit integers); a compaction splits the positions into chunks, counts each
// chunk, scans the counts and writes each chunk in order; a sort ranks every element of its row.
// I is the index type.
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

// Calls f(i, next) for every position i of a grid-stride loop over chunks of `chunk` positions
// of [0, n), each chunk walked in order by one thread; `next` starts at the chunk's first output
// position (the selected elements of the chunks before it: ends is the inclusive scan of the
// chunk counts) and f advances it for each element it selects.
template <class I, class F>
__device__ __forceinline__ void for_each_chunked(I n, I chunk, const int64_t* ends, F f) {
  const I chunks = (n + chunk - 1) / chunk;
  for (I c = dev::grid_start<I>(); c < chunks; c += dev::grid_step<I>()) {
    const I end = (c + 1) * chunk < n ? (c + 1) * chunk : n;
    int64_t next = c == 0 ? 0 : ends[c - 1];
    for (I i = c * chunk; i < end; ++i) f(i, next);
  }
}

// out[0, 1, ...] = the elements of x where m, in row-major order over the descriptor's shape
// (operands x, m).
template <class T, class I>
__global__ void masked_select_chunks(T* out, const T* x, const bool* m, dev::Strided<I, 2> s, I n,
                                     I chunk, const int64_t* ends) {
  for_each_chunked(n, chunk, ends, [&](I i, int64_t& next) {
    I off[2];
    dev::strided_offsets(s, i, off);
    if (m[off[1]]) out[next++] = x[off[0]];
  });
}

// out's elements where m (row-major over the descriptor's shape; operands out, m) = src[0, 1,
// ...] in order.
template <class T, class I>
__global__ void masked_scatter_chunks(T* out, const bool* m, const T* src, dev::Strided<I, 2> s,
                                      I n, I chunk, const int64_t* ends) {
  for_each_chunked(n, chunk, ends, [&](I i, int64_t& next) {
    I off[2];
    dev::strided_offsets(s, i, off);
    if (m[off[1]]) out[off[0]] = src[next++];
  });
}

// out (contiguous [count, ndim]) = the coordinates of x's nonzero elements in row-major order. The
// descriptor is x's own shape and strides (not coalesced: the coordinates are x's).
template <class T, class I>
__global__ void nonzero_chunks(int64_t* out, const T* x, dev::Strided<I, 1> s, I n, I chunk,
                               const int64_t* ends) {
  for_each_chunked(n, chunk, ends, [&](I i, int64_t& next) {
    I off[1];
    dev::strided_offsets(s, i, off);
    if (x[off[0]] == T(0)) return;
    I rest = i;
    for (int d = static_cast<int>(s.ndim) - 1; d >= 0; --d) {
      out[next * s.ndim + d] = static_cast<int64_t>(rest % s.size[d]);
      rest /= s.size[d];
    }
    ++next;
  });
}

// a < b with NaN above every number (the CPU's nan_last_less).
template <class T>
__device__ __forceinline__ bool nan_last_less(T a, T b) {
  if (dev::is_floating<T>::value) return a == a && (b != b || a < b);
  return a < b;
}

// For every row of x along a dimension of n elements: the k first elements of the stable order
// (ascending, or descending; NaN counts as the largest; ties keep their position) into values and
// their positions into indices. One thread per element finds its rank among the row (how many
// elements come before it) and writes it there if the rank is below k: the result is a
// permutation, bitwise the CPU's. The descriptor runs over the rows (the shape with the sorted
// dimension of size 1; operands x, values, indices); *_dim_stride are the strides along it.
template <class T, class I>
__global__ void sort_rank(T* values, int64_t* indices, const T* x, dev::Strided<I, 3> s, I rows,
                          I n, I k, I x_dim_stride, I values_dim_stride, I indices_dim_stride,
                          int descending) {
  const I total = rows * n;
  for (I t = dev::grid_start<I>(); t < total; t += dev::grid_step<I>()) {
    const I row = t / n, i = t - row * n;
    I off[3];
    dev::strided_offsets(s, row, off);
    const T* xr = x + off[0];
    const T v = xr[i * x_dim_stride];
    I rank = 0;
    for (I j = 0; j < n; ++j) {
      if (j == i) continue;
      const T u = xr[j * x_dim_stride];
      const bool lt = descending ? nan_last_less(v, u) : nan_last_less(u, v);
      const bool gt = descending ? nan_last_less(u, v) : nan_last_less(v, u);
      if (lt || (!gt && j < i)) ++rank;
    }
    if (rank < k) {
      values[off[1] + rank * values_dim_stride] = v;
      indices[off[2] + rank * indices_dim_stride] = static_cast<int64_t>(i);
    }
  }
}

}  // namespace sinew
)SINEW_CUDA"
