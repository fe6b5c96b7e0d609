R"SINEW_CUDA(
// Optimizer step kernels: SGD, Adam/AdamW, RMSprop and Adagrad, one fused pass over a parameter,
// its gradient and its state buffers; the arithmetic of backend/cpu/optim.hpp, element for element.
//
// Every operand is contiguous (the optimizer makes them so) and aligned to V elements (the host,
// backend/cuda/optim_plan.hpp, picks V); I is the index type (int32_t or int64_t). Each kernel
// is a 1-D grid-stride loop that moves V elements of every operand per access, then the last
// n % V elements one at a time. Which state buffers exist is a template argument (an absent one
// is a null pointer, never read); the other options are run-time flags in the scalars struct, as
// in the CPU kernels, so the table holds few instantiations. Each scalars struct has the members
// of the CPU's detail_optim::*Scalars<T> in the same order, with the same values (cast from the
// descriptor's doubles once, on the host).
namespace sinew {
namespace dev {

template <class T>
struct SgdScalars {
  T wd, mu, damp, lr;
  bool has_wd, nesterov, maximize, first;
};

template <class T>
struct AdamScalars {
  T b1, b2, one_b1, one_b2, wd, decay, step_size, c2_sqrt, eps;
  bool maximize, decay_param, decay_grad;
};

template <class T>
struct RmspropScalars {
  T alpha, one_alpha, wd, eps, mu, lr;
  bool has_wd, maximize;
};

template <class T>
struct AdagradScalars {
  T wd, eps, clr;
  bool has_wd, maximize;
};

// ---- one element of each step: the expressions of the CPU kernels, in their order ------------

// w - lr * d, d the (decayed, momentum) gradient.
template <class T, bool kMomentum>
__device__ __forceinline__ void sgd_element(T& w, T g, T& buf, const SgdScalars<T>& c) {
  const T wi = w;
  T d = c.maximize ? -g : g;
  d = c.has_wd ? d + c.wd * wi : d;
  if constexpr (kMomentum) {
    const T b = c.first ? d : buf * c.mu + c.damp * d;
    buf = b;
    d = c.nesterov ? d + c.mu * b : b;
  }
  w = wi - c.lr * d;
}

template <class T, bool kAmsgrad>
__device__ __forceinline__ void adam_element(T& w, T gi, T& m, T& v, T& vmax,
                                             const AdamScalars<T>& c) {
  T wi = w;
  T g = c.maximize ? -gi : gi;
  wi = c.decay_param ? wi * c.decay : wi;
  g = c.decay_grad ? g + c.wd * wi : g;
  const T mi = m * c.b1 + c.one_b1 * g;
  const T vi = v * c.b2 + c.one_b2 * (g * g);
  m = mi;
  v = vi;
  T second = vi;
  if constexpr (kAmsgrad) {
    second = vmax < vi ? vi : vmax;  // std::max(vmax, vi): vmax unless vi is larger
    vmax = second;
  }
  const T denom = m_sqrt(second) / c.c2_sqrt + c.eps;
  w = wi - c.step_size * (mi / denom);
}

template <class T, bool kMomentum, bool kCentered>
__device__ __forceinline__ void rmsprop_element(T& w, T gi, T& sq, T& buf, T& ga,
                                                const RmspropScalars<T>& c) {
  const T wi = w;
  T g = c.maximize ? -gi : gi;
  g = c.has_wd ? g + c.wd * wi : g;
  const T si = sq * c.alpha + c.one_alpha * (g * g);
  sq = si;
  T root = si;
  if constexpr (kCentered) {
    const T ai = ga * c.alpha + c.one_alpha * g;
    ga = ai;
    root = si - ai * ai;
  }
  const T avg = m_sqrt(root) + c.eps;
  if constexpr (kMomentum) {
    const T bi = buf * c.mu + g / avg;
    buf = bi;
    w = wi - c.lr * bi;
  } else {
    w = wi - c.lr * (g / avg);
  }
}

template <class T>
__device__ __forceinline__ void adagrad_element(T& w, T gi, T& sum, const AdagradScalars<T>& c) {
  const T wi = w;
  T g = c.maximize ? -gi : gi;
  g = c.has_wd ? g + c.wd * wi : g;
  const T si = sum + g * g;
  sum = si;
  const T std_ = m_sqrt(si) + c.eps;
  w = wi - c.clr * (g / std_);
}

// ---- the loop --------------------------------------------------------------------------------

// Pack j (U elements from element j * U) of p; a buffer that is absent (kHas false) is not read.
template <bool kHas, int U, class T, class I>
__device__ __forceinline__ Pack<T, U> step_load(const T* p, I j) {
  Pack<T, U> r = {};
  if constexpr (kHas) r = reinterpret_cast<const Pack<T, U>*>(p)[j];
  return r;
}
template <bool kHas, int U, class T, class I>
__device__ __forceinline__ void step_store(T* p, I j, const Pack<T, U>& v) {
  if constexpr (kHas) reinterpret_cast<Pack<T, U>*>(p)[j] = v;
}

// f(w, g, s0, s1, s2) on references to element i of the parameter, the gradient and up to three
// state buffers (kS0..kS2: which exist), for every i < n. Pack j covers elements j*U .. j*U+U-1.
template <int U, bool kS0, bool kS1, bool kS2, class T, class I, class F>
__device__ __forceinline__ void step_pack(I j, T* w, const T* g, T* s0, T* s1, T* s2, F& f) {
  Pack<T, U> pw = step_load<true, U>(w, j);
  const Pack<T, U> pg = step_load<true, U>(g, j);
  Pack<T, U> p0 = step_load<kS0, U>(s0, j), p1 = step_load<kS1, U>(s1, j),
             p2 = step_load<kS2, U>(s2, j);
  SINEW_UNROLL
  for (int k = 0; k < U; ++k) f(pw.v[k], pg.v[k], p0.v[k], p1.v[k], p2.v[k]);
  step_store<true, U>(w, j, pw);
  step_store<kS0, U>(s0, j, p0);
  step_store<kS1, U>(s1, j, p1);
  step_store<kS2, U>(s2, j, p2);
}

template <int V, bool kS0, bool kS1, bool kS2, class T, class I, class F>
__device__ __forceinline__ void step_loop(I n, T* w, const T* g, T* s0, T* s1, T* s2, F f) {
  const I start = grid_start<I>(), step = grid_step<I>();
  const I packs = n / V;
  for (I j = start; j < packs; j += step) step_pack<V, kS0, kS1, kS2>(j, w, g, s0, s1, s2, f);
  for (I i = packs * V + start; i < n; i += step)
    step_pack<1, kS0, kS1, kS2>(i, w, g, s0, s1, s2, f);
}

}  // namespace dev

// ---- kernels ---------------------------------------------------------------------------------

// SGD; buf is the momentum buffer (kMomentum: momentum != 0), else null.
template <class T, bool kMomentum, class I, int V>
__global__ void sgd_step_flat(T* w, const T* g, T* buf, I n, dev::SgdScalars<T> c) {
  dev::step_loop<V, kMomentum, false, false>(
      n, w, g, buf, static_cast<T*>(nullptr), static_cast<T*>(nullptr),
      [&c](T& wi, T gi, T& bi, T&, T&) { dev::sgd_element<T, kMomentum>(wi, gi, bi, c); });
}

// Adam / AdamW; vmax is max_exp_avg_sq (kAmsgrad), else null.
template <class T, bool kAmsgrad, class I, int V>
__global__ void adam_step_flat(T* w, const T* g, T* m, T* v, T* vmax, I n,
                               dev::AdamScalars<T> c) {
  dev::step_loop<V, true, true, kAmsgrad>(
      n, w, g, m, v, vmax, [&c](T& wi, T gi, T& mi, T& vi, T& xi) {
        dev::adam_element<T, kAmsgrad>(wi, gi, mi, vi, xi, c);
      });
}

// RMSprop; buf is the momentum buffer (kMomentum: momentum > 0), ga the average gradient
// (kCentered), else null.
template <class T, bool kMomentum, bool kCentered, class I, int V>
__global__ void rmsprop_step_flat(T* w, const T* g, T* sq, T* buf, T* ga, I n,
                                  dev::RmspropScalars<T> c) {
  dev::step_loop<V, true, kMomentum, kCentered>(
      n, w, g, sq, buf, ga, [&c](T& wi, T gi, T& si, T& bi, T& ai) {
        dev::rmsprop_element<T, kMomentum, kCentered>(wi, gi, si, bi, ai, c);
      });
}

// Adagrad; sum is the running sum of squared gradients.
template <class T, class I, int V>
__global__ void adagrad_step_flat(T* w, const T* g, T* sum, I n, dev::AdagradScalars<T> c) {
  dev::step_loop<V, true, false, false>(
      n, w, g, sum, static_cast<T*>(nullptr), static_cast<T*>(nullptr),
      [&c](T& wi, T gi, T& si, T&, T&) { dev::adagrad_element<T>(wi, gi, si, c); });
}

}  // namespace sinew
)SINEW_CUDA"
