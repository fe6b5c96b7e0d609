R"SINEW_CUDA(
// Random fills: the values of uniform_, normal_ and bernoulli_ (ops/factory.hpp), bitwise those of
// the CPU for the same generator state. A fill of n elements owns the Philox blocks block ..
// block + (n + 1) / 2 - 1 of the stream of `seed` (Generator::fill_stream); elements 2p and 2p + 1
// come from block + p (core/random.hpp's RandomStream), so each step of the grid-stride loop
// computes one Philox block and writes that pair. The output is contiguous (a fresh tensor); I is
// the index type. The arithmetic is the CPU's, in double, then cast to T.
namespace sinew {

// uniform_(from, to): T(from + span * u), span = to - from; a value that rounds up to `to`
// becomes `below_to` (the largest T below it, when from < to) and one below `from_t` becomes
// from_t.
template <class T, class I>
__global__ void uniform_fill(T* out, I n, uint64_t seed, uint64_t block, double from, double span,
                             T to_t, T below_to, T from_t, bool step_back) {
  const I pairs = n / 2 + n % 2;
  for (I p = dev::grid_start<I>(); p < pairs; p += dev::grid_step<I>()) {
    const dev::PhiloxWords b = dev::philox_block(seed, block + static_cast<uint64_t>(p));
    SINEW_UNROLL
    for (int h = 0; h < 2; ++h) {
      const I i = 2 * p + h;
      if (i >= n) break;
      T v = static_cast<T>(from + span * dev::philox_uniform(b.v[2 * h], b.v[2 * h + 1]));
      if (v >= to_t && step_back) v = below_to;
      out[i] = v < from_t ? from_t : v;
    }
  }
}

// normal_(mean, std): T(mean + std * z), z the Box-Muller normal of the pair's block: cosine for
// the even element, sine for the odd one.
template <class T, class I>
__global__ void normal_fill(T* out, I n, uint64_t seed, uint64_t block, double mean, double std_) {
  const I pairs = n / 2 + n % 2;
  for (I p = dev::grid_start<I>(); p < pairs; p += dev::grid_step<I>()) {
    const dev::PhiloxWords b = dev::philox_block(seed, block + static_cast<uint64_t>(p));
    const double u1 = 1.0 - dev::philox_uniform(b.v[0], b.v[1]);  // (0, 1]: log(u1) is finite
    const double u2 = dev::philox_uniform(b.v[2], b.v[3]);
    const double two_pi = 6.283185307179586476925286766559;
    const double r = dev::m_sqrt(-2.0 * dev::m_log(u1));
    const I i = 2 * p;
    out[i] = static_cast<T>(mean + std_ * (r * dev::m_cos(two_pi * u2)));
    if (i + 1 < n) out[i + 1] = static_cast<T>(mean + std_ * (r * dev::m_sin(two_pi * u2)));
  }
}

// bernoulli_(p): 1 where the element's uniform is below prob, else 0 (any element type).
template <class T, class I>
__global__ void bernoulli_fill(T* out, I n, uint64_t seed, uint64_t block, double prob) {
  const I pairs = n / 2 + n % 2;
  for (I p = dev::grid_start<I>(); p < pairs; p += dev::grid_step<I>()) {
    const dev::PhiloxWords b = dev::philox_block(seed, block + static_cast<uint64_t>(p));
    SINEW_UNROLL
    for (int h = 0; h < 2; ++h) {
      const I i = 2 * p + h;
      if (i >= n) break;
      out[i] = static_cast<T>(dev::philox_uniform(b.v[2 * h], b.v[2 * h + 1]) < prob ? 1.0 : 0.0);
    }
  }
}

}  // namespace sinew
)SINEW_CUDA"
