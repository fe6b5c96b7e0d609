R"SINEW_CUDA(
// Elementwise kernels: fill, copy with cast, unary and binary math, comparisons, logical ops,
// isnan/isinf/isfinite, isclose, where and masked_fill; the math of backend/cpu/elementwise.hpp, case for case.
// Each family has two layouts: *_flat, a 1-D grid-stride loop over contiguous operands that moves
// V elements per access (Pack), and *_strided, one element per step through the strided-offset
// helper (broadcast operands have stride 0). I is the index type (int32_t or int64_t); the host
// (backend/cuda/launch_plan.hpp) picks layout, V and I after coalescing dimensions as the CPU does.
namespace sinew {
namespace dev {

// ---- loops -----------------------------------------------------------------------------------
template <class T, int V, class I>
__device__ __forceinline__ Pack<T, V> load_pack(const T* p, I j) {
  return reinterpret_cast<const Pack<T, V>*>(p)[j];
}

template <class Out, int V, class F, class... P>
__device__ __forceinline__ void apply_packs(Pack<Out, V>& o, F& f, const P&... p) {
  SINEW_UNROLL
  for (int k = 0; k < V; ++k) o.v[k] = f(p.v[k]...);
}

// out[i] = f(in[i]...) for i < n, all operands contiguous and aligned to V elements.
template <class I, int V, class Out, class F, class... In>
__device__ __forceinline__ void flat_map(I n, Out* out, F f, const In*... in) {
  const I start = grid_start<I>(), step = grid_step<I>();
  const I packs = n / V;
  for (I j = start; j < packs; j += step) {
    Pack<Out, V> o;
    apply_packs<Out, V>(o, f, load_pack<In, V>(in, j)...);
    reinterpret_cast<Pack<Out, V>*>(out)[j] = o;
  }
  for (I i = packs * V + start; i < n; i += step) out[i] = f(in[i]...);
}

// The same through element offsets (operand 0 the output), for 0 to 3 inputs.
template <class I, class Out, class F>
__device__ __forceinline__ void strided_map(const Strided<I, 1>& s, I n, Out* out, F f) {
  const I start = grid_start<I>(), step = grid_step<I>();
  for (I i = start; i < n; i += step) {
    I off[1];
    strided_offsets(s, i, off);
    out[off[0]] = f();
  }
}
template <class I, class Out, class F, class A>
__device__ __forceinline__ void strided_map(const Strided<I, 2>& s, I n, Out* out, F f,
                                            const A* a) {
  const I start = grid_start<I>(), step = grid_step<I>();
  for (I i = start; i < n; i += step) {
    I off[2];
    strided_offsets(s, i, off);
    out[off[0]] = f(a[off[1]]);
  }
}
template <class I, class Out, class F, class A, class B>
__device__ __forceinline__ void strided_map(const Strided<I, 3>& s, I n, Out* out, F f,
                                            const A* a, const B* b) {
  const I start = grid_start<I>(), step = grid_step<I>();
  for (I i = start; i < n; i += step) {
    I off[3];
    strided_offsets(s, i, off);
    out[off[0]] = f(a[off[1]], b[off[2]]);
  }
}
template <class I, class Out, class F, class A, class B, class C>
__device__ __forceinline__ void strided_map(const Strided<I, 4>& s, I n, Out* out, F f,
                                            const A* a, const B* b, const C* c) {
  const I start = grid_start<I>(), step = grid_step<I>();
  for (I i = start; i < n; i += step) {
    I off[4];
    strided_offsets(s, i, off);
    out[off[0]] = f(a[off[1]], b[off[2]], c[off[3]]);
  }
}

// ---- values ----------------------------------------------------------------------------------
template <class T>
__device__ __forceinline__ T sigmoid(T x) {
  // Stable for large |x|: never exponentiates a large positive number.
  if (x >= 0) return T(1) / (T(1) + m_exp(-x));
  T e = m_exp(x);
  return e / (T(1) + e);
}

template <class T>
__device__ __forceinline__ T wrap_add(T x, T y, T alpha) {
  typedef typename wrap_of<T>::type W;
  return static_cast<T>(W(x) + W(alpha) * W(y));
}

// x^e by squaring, wrapping on overflow; a negative exponent gives 0 except for the bases 1 and
// -1 (the integer part of the true power), as the CPU's integer pow.
template <class T>
__device__ __forceinline__ T int_pow(T base, T e) {
  if constexpr (is_signed_int<T>::value) {
    if (e < 0) {
      if (base == 1) return 1;
      if (base == -1) return (e & 1) ? T(-1) : T(1);
      return 0;
    }
  }
  typedef typename wrap_of<T>::type W;
  W r = 1, b = W(base);
  for (uint64_t k = static_cast<uint64_t>(e); k != 0; k >>= 1) {
    if (k & 1) r *= b;
    b *= b;
  }
  return static_cast<T>(r);
}

// y = f(x; a, b) for float and double.
template <int OP, class T>
__device__ __forceinline__ T float_unary(T x, T a, T b) {
  switch (static_cast<Unary>(OP)) {
    case Unary::Neg:
      return -x;
    case Unary::Exp:
      return m_exp(x);
    case Unary::Log:
      return m_log(x);
    case Unary::Log1p:
      return m_log1p(x);
    case Unary::Sqrt:
      return m_sqrt(x);
    case Unary::Rsqrt:
      return T(1) / m_sqrt(x);
    case Unary::Abs:
      return m_abs(x);
    case Unary::Sign:
      return x != x ? x : T((x > T(0)) - (x < T(0)));  // NaN stays NaN
    case Unary::Sin:
      return m_sin(x);
    case Unary::Cos:
      return m_cos(x);
    case Unary::Tanh:
      return m_tanh(x);
    case Unary::Sigmoid:
      return sigmoid(x);
    case Unary::Erf:
      return m_erf(x);
    case Unary::Relu:
      return x < T(0) ? T(0) : x;  // NaN propagates
    case Unary::LeakyRelu:
      return x > T(0) ? x : a * x;
    case Unary::Elu:
      return x > T(0) ? x : a * (m_exp(x) - T(1));
    case Unary::Gelu:
      return T(0.5) * x * (T(1) + m_erf(x * T(0.70710678118654752440)));
    case Unary::Softplus:
      return x * a > b ? x : m_log1p(m_exp(x * a)) / a;
    case Unary::Silu:
      return x * sigmoid(x);
    case Unary::ClampMin:
      return x < a ? a : x;
    case Unary::ClampMax:
      return x > a ? a : x;
    case Unary::Clamp: {  // min(max(x, a), b): a > b gives b; NaN stays NaN
      T y = x < a ? a : x;
      return y > b ? b : y;
    }
    case Unary::AddScalar:
      return x + a;
    case Unary::MulScalar:
      return x * a;
    case Unary::RSubScalar:
      return a - x;
    case Unary::DivScalar:
      return x / a;
    case Unary::RDivScalar:
      return a / x;
    case Unary::PowScalar:
      return m_pow(x, a);
    case Unary::RPowScalar:
      return m_pow(a, x);
    case Unary::Step:
      return x > a ? T(1) : T(0);
    case Unary::InRange:
      return (x >= a && x <= b) ? T(1) : T(0);
    case Unary::LeakyStep:
      return x > T(0) ? T(1) : a;
    case Unary::Floor:
      return m_floor(x);
    case Unary::Ceil:
      return m_ceil(x);
    case Unary::Round:
      return m_round_even(x);
    case Unary::Trunc:
      return m_trunc(x);
  }
  return x;
}

// The unary kinds integer and bool tensors have; the others are the identity here (the host
// never instantiates them). Integer arithmetic wraps; rounding an integer is the identity.
template <int OP, class T>
__device__ __forceinline__ T integer_unary(T x, T a, T b) {
  typedef typename wrap_of<T>::type W;
  switch (static_cast<Unary>(OP)) {
    case Unary::Neg:
      return static_cast<T>(W(0) - W(x));
    case Unary::Abs:
      if constexpr (is_signed_int<T>::value) return x < 0 ? static_cast<T>(W(0) - W(x)) : x;
      return x;
    case Unary::Sign:
      if constexpr (same_type<T, bool>::value)
        return x;
      else if constexpr (is_signed_int<T>::value)
        return T((x > 0) - (x < 0));
      else
        return T(x != 0);
    case Unary::Relu:
      if constexpr (is_signed_int<T>::value) return x < 0 ? T(0) : x;
      return x;
    case Unary::ClampMin:
      return x < a ? a : x;
    case Unary::ClampMax:
      return x > a ? a : x;
    case Unary::Clamp: {
      T y = x < a ? a : x;
      return y > b ? b : y;
    }
    case Unary::AddScalar:
      return wrap_add(x, a, T(1));
    case Unary::MulScalar:
      return static_cast<T>(W(x) * W(a));
    case Unary::RSubScalar:
      return static_cast<T>(W(a) - W(x));
    case Unary::PowScalar:
      return int_pow(x, a);
    case Unary::RPowScalar:
      return int_pow(a, x);
    default:  // Floor, Ceil, Round, Trunc
      return x;
  }
}

template <int OP, class T>
__device__ __forceinline__ T unary_value(T x, T a, T b) {
  if constexpr (is_floating<T>::value)
    return float_unary<OP>(x, a, b);
  else
    return integer_unary<OP>(x, a, b);
}

// z = f(x, y); Add and Sub scale y by alpha; Minimum/Maximum propagate NaN; integer arithmetic
// wraps (integer Div is the identity: the ops divide integers in float).
template <int OP, class T>
__device__ __forceinline__ T binary_value(T x, T y, T alpha) {
  if constexpr (!is_floating<T>::value) {
    typedef typename wrap_of<T>::type W;
    switch (static_cast<Binary>(OP)) {
      case Binary::Add:
        return wrap_add(x, y, alpha);
      case Binary::Sub:
        return static_cast<T>(W(x) - W(alpha) * W(y));
      case Binary::Mul:
        return static_cast<T>(W(x) * W(y));
      case Binary::Pow:
        return int_pow(x, y);
      case Binary::Minimum:
        return x < y ? x : y;
      case Binary::Maximum:
        return x > y ? x : y;
      case Binary::ReluGrad:
        return y > T(0) ? x : static_cast<T>(W(x) * W(alpha));
      case Binary::Div:
        return x;
    }
    return x;
  } else {
    switch (static_cast<Binary>(OP)) {
      case Binary::Add:
        return x + alpha * y;
      case Binary::Sub:
        return x - alpha * y;
      case Binary::Mul:
        return x * y;
      case Binary::Div:
        return x / y;
      case Binary::Pow:
        return m_pow(x, y);
      case Binary::Minimum:
        return (x < y || x != x) ? x : y;
      case Binary::Maximum:
        return (x > y || x != x) ? x : y;
      case Binary::ReluGrad:
        return y > T(0) ? x : (alpha == T(0) ? T(0) : x * alpha);
    }
    return x;
  }
}

template <int OP, class U>
__device__ __forceinline__ bool compare_value(U u, U v) {
  switch (static_cast<Compare>(OP)) {
    case Compare::Eq:
      return u == v;
    case Compare::Ne:
      return u != v;
    case Compare::Lt:
      return u < v;
    case Compare::Le:
      return u <= v;
    case Compare::Gt:
      return u > v;
    case Compare::Ge:
      return u >= v;
  }
  return false;
}

template <int OP>
__device__ __forceinline__ bool logical_value(bool u, bool v) {
  switch (static_cast<Logical>(OP)) {
    case Logical::And:
      return u && v;
    case Logical::Or:
      return u || v;
    case Logical::Xor:
      return u != v;
  }
  return false;
}

// isnan, isinf, isfinite; integer and bool values are all finite.
template <int OP, class T>
__device__ __forceinline__ bool classify_value(T v) {
  if constexpr (!is_floating<T>::value) {
    return static_cast<Classify>(OP) == Classify::Finite;
  } else {
    switch (static_cast<Classify>(OP)) {
      case Classify::Nan:
        return v != v;
      case Classify::Inf:
        return m_abs(v) > max_finite(v);
      case Classify::Finite:
        return m_abs(v) <= max_finite(v);
    }
    return false;
  }
}

// |x - y| <= atol + rtol |y| (or x == y, which covers equal infinities; or both NaN when
// equal_nan), in T for floating types, in double for integer ones.
template <class T>
__device__ __forceinline__ bool isclose_value(T u, T v, double rtol, double atol, bool equal_nan) {
  typedef typename pick<is_floating<T>::value, T, double>::type C;
  if (u == v) return true;
  const C cu = C(u), cv = C(v), r = static_cast<C>(rtol), a = static_cast<C>(atol);
  if (cu != cu || cv != cv) return equal_nan && cu != cu && cv != cv;
  const C err = m_abs(cu - cv);
  return m_abs(err) <= max_finite(err) && err <= a + r * m_abs(cv);
}

}  // namespace dev

// ---- kernels ---------------------------------------------------------------------------------
// fill: out = v (the host converts the value as the CPU's fill does).
template <class T, class I, int V>
__global__ void fill_flat(T* out, I n, T v) {
  dev::flat_map<I, V>(n, out, [v]() { return v; });
}
template <class T, class I>
__global__ void fill_strided(T* out, dev::Strided<I, 1> s, I n, T v) {
  dev::strided_map(s, n, out, [v]() { return v; });
}

// copy: out = static_cast<To>(x).
template <class To, class From, class I, int V>
__global__ void copy_flat(To* out, const From* x, I n) {
  dev::flat_map<I, V>(n, out, [](From u) { return static_cast<To>(u); }, x);
}
template <class To, class From, class I>
__global__ void copy_strided(To* out, const From* x, dev::Strided<I, 2> s, I n) {
  dev::strided_map(s, n, out, [](From u) { return static_cast<To>(u); }, x);
}

// unary: out = op(x; a, b), OP a Unary.
template <class T, int OP, class I, int V>
__global__ void unary_flat(T* out, const T* x, I n, T a, T b) {
  dev::flat_map<I, V>(n, out, [a, b](T u) { return dev::unary_value<OP>(u, a, b); }, x);
}
template <class T, int OP, class I>
__global__ void unary_strided(T* out, const T* x, dev::Strided<I, 2> s, I n, T a, T b) {
  dev::strided_map(s, n, out, [a, b](T u) { return dev::unary_value<OP>(u, a, b); }, x);
}

// binary: out = op(x, y; alpha), OP a Binary.
template <class T, int OP, class I, int V>
__global__ void binary_flat(T* out, const T* x, const T* y, I n, T alpha) {
  dev::flat_map<I, V>(n, out, [alpha](T u, T v) { return dev::binary_value<OP>(u, v, alpha); }, x,
                      y);
}
template <class T, int OP, class I>
__global__ void binary_strided(T* out, const T* x, const T* y, dev::Strided<I, 3> s, I n,
                               T alpha) {
  dev::strided_map(s, n, out, [alpha](T u, T v) { return dev::binary_value<OP>(u, v, alpha); }, x,
                   y);
}

// compare: out = x op y, OP a Compare.
template <class T, int OP, class I, int V>
__global__ void compare_flat(bool* out, const T* x, const T* y, I n) {
  dev::flat_map<I, V>(n, out, [](T u, T v) { return dev::compare_value<OP>(u, v); }, x, y);
}
template <class T, int OP, class I>
__global__ void compare_strided(bool* out, const T* x, const T* y, dev::Strided<I, 3> s, I n) {
  dev::strided_map(s, n, out, [](T u, T v) { return dev::compare_value<OP>(u, v); }, x, y);
}

// compare with a scalar: out = C(x) op v, C the comparison type the host chose (T for floating
// tensors; int64 or double for integer ones, by the scalar's kind).
template <class T, class C, int OP, class I, int V>
__global__ void compare_scalar_flat(bool* out, const T* x, C v, I n) {
  dev::flat_map<I, V>(n, out, [v](T u) { return dev::compare_value<OP>(C(u), v); }, x);
}
template <class T, class C, int OP, class I>
__global__ void compare_scalar_strided(bool* out, const T* x, C v, dev::Strided<I, 2> s, I n) {
  dev::strided_map(s, n, out, [v](T u) { return dev::compare_value<OP>(C(u), v); }, x);
}

// logical: out = x op y on bool, OP a Logical.
template <int OP, class I, int V>
__global__ void logical_flat(bool* out, const bool* x, const bool* y, I n) {
  dev::flat_map<I, V>(n, out, [](bool u, bool v) { return dev::logical_value<OP>(u, v); }, x, y);
}
template <int OP, class I>
__global__ void logical_strided(bool* out, const bool* x, const bool* y, dev::Strided<I, 3> s,
                                I n) {
  dev::strided_map(s, n, out, [](bool u, bool v) { return dev::logical_value<OP>(u, v); }, x, y);
}

// classify: out = isnan / isinf / isfinite (x), OP a Classify.
template <class T, int OP, class I, int V>
__global__ void classify_flat(bool* out, const T* x, I n) {
  dev::flat_map<I, V>(n, out, [](T u) { return dev::classify_value<OP>(u); }, x);
}
template <class T, int OP, class I>
__global__ void classify_strided(bool* out, const T* x, dev::Strided<I, 2> s, I n) {
  dev::strided_map(s, n, out, [](T u) { return dev::classify_value<OP>(u); }, x);
}

// isclose: out = |x - y| <= atol + rtol |y| (see dev::isclose_value).
template <class T, class I, int V>
__global__ void isclose_flat(bool* out, const T* x, const T* y, I n, double rtol, double atol,
                             bool equal_nan) {
  dev::flat_map<I, V>(
      n, out,
      [rtol, atol, equal_nan](T u, T v) { return dev::isclose_value(u, v, rtol, atol, equal_nan); },
      x, y);
}
template <class T, class I>
__global__ void isclose_strided(bool* out, const T* x, const T* y, dev::Strided<I, 3> s, I n,
                                double rtol, double atol, bool equal_nan) {
  dev::strided_map(
      s, n, out,
      [rtol, atol, equal_nan](T u, T v) { return dev::isclose_value(u, v, rtol, atol, equal_nan); },
      x, y);
}

// where: out = c ? x : y.
template <class T, class I, int V>
__global__ void where_flat(T* out, const bool* c, const T* x, const T* y, I n) {
  dev::flat_map<I, V>(n, out, [](bool k, T u, T v) { return k ? u : v; }, c, x, y);
}
template <class T, class I>
__global__ void where_strided(T* out, const bool* c, const T* x, const T* y, dev::Strided<I, 4> s,
                              I n) {
  dev::strided_map(s, n, out, [](bool k, T u, T v) { return k ? u : v; }, c, x, y);
}

// masked_fill: out = m ? v : x.
template <class T, class I, int V>
__global__ void masked_fill_flat(T* out, const T* x, const bool* m, I n, T v) {
  dev::flat_map<I, V>(n, out, [v](T a, bool k) { return k ? v : a; }, x, m);
}
template <class T, class I>
__global__ void masked_fill_strided(T* out, const T* x, const bool* m, dev::Strided<I, 3> s, I n,
                                    T v) {
  dev::strided_map(s, n, out, [v](T a, bool k) { return k ? v : a; }, x, m);
}

}  // namespace sinew
)SINEW_CUDA"
