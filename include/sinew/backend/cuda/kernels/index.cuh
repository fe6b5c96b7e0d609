R"SINEW_CUDA(
// Indexing kernels: gather and scatter-add along a dimension (index_select, gather, embedding,
// index_add, scatter_add and their gradients), as backend/cpu/index.hpp. Every index is checked on
// the device (dev::checked_index): an index outside [0, bound) is recorded for the host, which
// raises it at the next synchronization, and its element is skipped (gather writes 0), never read
// or written out of bounds. I is the index type of positions and offsets.
namespace sinew {

// out[p] = x[p with coordinate `dim` replaced by index[p]] for every position p of out. The
// descriptor's operands: out, x with stride 0 along dim, index; x_dim_stride is x's stride along
// dim and bound its size there.
template <class T, class I>
__global__ void gather_strided(T* out, const T* x, const int64_t* index, dev::Strided<I, 3> s,
                               I n, I x_dim_stride, int64_t bound, dev::CheckRecord* record,
                               unsigned long long tag) {
  const I start = dev::grid_start<I>(), step = dev::grid_step<I>();
  for (I i = start; i < n; i += step) {
    I off[3];
    dev::strided_offsets(s, i, off);
    const int64_t j = dev::checked_index(index[off[2]], bound, i, record, tag);
    out[off[0]] = j >= 0 ? x[off[1] + static_cast<I>(j) * x_dim_stride] : T(0);
  }
}

// a + b, wrapping for integers (two's complement, as the CPU's) instead of undefined.
template <class T>
__device__ __forceinline__ T wrapping_add(T a, T b) {
  typedef typename dev::pick<dev::is_floating<T>::value, T, typename dev::wrap_of<T>::type>::type W;
  return static_cast<T>(static_cast<W>(a) + static_cast<W>(b));
}

// out[p with coordinate `dim` replaced by index[p]] += src[p] for every position p of index. One
// thread per position outside dim walks dim itself, in order (the CPU's order: the same sums,
// bitwise), so no two threads ever add into one element of out. The descriptor runs over index's
// shape with dim of size 1 (operands out, index, src); k is index's size along dim, inner the
// product of its sizes after dim, *_dim_stride each operand's stride along dim and bound out's
// size there.
template <class T, class I>
__global__ void scatter_add_strided(T* out, const int64_t* index, const T* src,
                                    dev::Strided<I, 3> s, I n, I k, I inner, I out_dim_stride,
                                    I index_dim_stride, I src_dim_stride, int64_t bound,
                                    dev::CheckRecord* record, unsigned long long tag) {
  const I start = dev::grid_start<I>(), step = dev::grid_step<I>();
  for (I i = start; i < n; i += step) {
    I off[3];
    dev::strided_offsets(s, i, off);
    const I outer = i / inner, rest = i - outer * inner;
    for (I j = 0; j < k; ++j) {
      const int64_t position = (static_cast<int64_t>(outer) * k + j) * inner + rest;
      const int64_t t =
          dev::checked_index(index[off[1] + j * index_dim_stride], bound, position, record, tag);
      if (t < 0) continue;
      T& o = out[off[0] + static_cast<I>(t) * out_dim_stride];
      o = wrapping_add(o, src[off[2] + j * src_dim_stride]);
    }
  }
}

}  // namespace sinew
)SINEW_CUDA"
