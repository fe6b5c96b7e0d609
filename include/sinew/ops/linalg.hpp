// Linear algebra: mm, bmm, matmul (PyTorch's broadcasting rules), addmm, dot, outer and the fused
// linear layer op. Forward through the backend GEMM; every backward is written with these ops.
#pragma once

#include <algorithm>
#include <vector>

#include "sinew/backend/cpu/gemm.hpp"
#ifdef SINEW_WITH_CUDA
#include "sinew/backend/cuda/kernels.hpp"
#endif
#include "sinew/ops/common.hpp"
#include "sinew/ops/elementwise.hpp"
#include "sinew/ops/factory.hpp"
#include "sinew/ops/reduce.hpp"
#include "sinew/ops/view.hpp"

namespace sinew {

namespace detail {

inline void check_inner(const char* where, const Shape& a, const Shape& b, int64_t ka, int64_t kb) {
  SINEW_CHECK(ka == kb, where, a, " @ ", b, ": inner dimensions ", ka, " and ", kb, " differ");
}

// All dimensions but the last two.
inline Shape matmul_batch_dims(const Shape& s) {
  return s.size() <= 2 ? Shape{} : Shape(s.begin(), s.end() - 2);
}

// The view transpose of the last two dimensions, for kernels only (records nothing).
template <class T>
Tensor<T> kernel_mT(const Tensor<T>& x) {
  Shape s = x.shape(), st = x.strides();
  int64_t n = s.size();
  std::swap(s[n - 1], s[n - 2]);
  std::swap(st[n - 1], st[n - 2]);
  return make_view(x, s, st, x.storage_offset());
}

// The product of all sizes but the last (1 for a 1-d shape): the row count of a folded matrix.
inline int64_t leading_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d = 0; d + 1 < s.size(); ++d) n *= s[d];
  return n;
}

// x [..., n] as a 2-d [rows, n] tensor for a kernel (records nothing): a view over the same memory
// when the leading dimensions merge into one stride, otherwise a dense copy.
template <class T>
Tensor<T> kernel_matrix(const Tensor<T>& x) {
  int64_t nd = x.dim(), cols = nd ? x.size(-1) : 1, cs = nd ? x.stride(-1) : 1;
  int64_t rows = leading_numel(x.shape()), rs = std::max<int64_t>(cols, 1), expect = -1;
  bool merges = true;
  for (int64_t d = nd - 2; d >= 0 && merges; --d) {
    if (x.size(d) == 1) continue;
    if (expect < 0)
      rs = x.stride(d);
    else
      merges = x.stride(d) == expect;
    expect = x.stride(d) * x.size(d);
  }
  if (merges) return make_view(x, {rows, cols}, {rs, cs}, x.storage_offset());
  Tensor<T> dense = empty<T>(x.shape(), x.device());
  SINEW_DISPATCH(x.device(), copy, dense, x);
  return make_view(dense, {rows, cols}, {cols, 1}, 0);
}

// c = a @ b over matching batch dimensions (either may be an expanded view), as one recorded op:
//   dA = g @ B^T,  dB = A^T @ g  (each GEMM skipped when that input needs no gradient).
template <class T>
Tensor<T> batched_mm(const Tensor<T>& a, const Tensor<T>& b, const char* name) {
  Shape s = a.shape();
  s[s.size() - 1] = b.size(-1);
  Tensor<T> c = empty<T>(s, a.device());
  SINEW_DISPATCH(a.device(), gemm, a, b, c, 1.0, 0.0);
  return autograd::record(
      c, name, {a, b},
      [a, b, name](const Tensor<T>& g, const autograd::BackwardContext<T>& ctx) {
        return std::vector<Tensor<T>>{
            ctx.needs(0) ? batched_mm(g, b.transpose(-1, -2), name) : Tensor<T>(),
            ctx.needs(1) ? batched_mm(a.transpose(-1, -2), g, name) : Tensor<T>()};
      },
      {.saved = {a, b}});
}

}  // namespace detail

// C = A B for A [m, k], B [k, n];  dA = g B^T, dB = A^T g.
template <class T>
Tensor<T> mm(const Tensor<T>& a, const Tensor<T>& b) {
  detail::check_floating<T>("mm");
  SINEW_CHECK(a.dim() == 2 && b.dim() == 2, "mm", "expects two 2-d tensors, got ", a.shape(),
              " and ", b.shape());
  detail::check_inner("mm", a.shape(), b.shape(), a.size(1), b.size(0));
  detail::check_same_device("mm", a, b);
  return detail::batched_mm(a, b, "mm");
}

// C[i] = A[i] B[i] for A [batch, m, k], B [batch, k, n] (no broadcasting, as torch.bmm).
template <class T>
Tensor<T> bmm(const Tensor<T>& a, const Tensor<T>& b) {
  detail::check_floating<T>("bmm");
  SINEW_CHECK(a.dim() == 3 && b.dim() == 3, "bmm", "expects two 3-d tensors, got ", a.shape(),
              " and ", b.shape());
  SINEW_CHECK(a.size(0) == b.size(0), "bmm", a.shape(), " @ ", b.shape(), ": batch sizes ",
              a.size(0), " and ", b.size(0), " differ");
  detail::check_inner("bmm", a.shape(), b.shape(), a.size(2), b.size(1));
  detail::check_same_device("bmm", a, b);
  return detail::batched_mm(a, b, "bmm");
}

// a . b for two 1-d tensors of equal length (a 0-d result);  da = g b, db = g a.
template <class T>
Tensor<T> dot(const Tensor<T>& a, const Tensor<T>& b) {
  detail::check_floating<T>("dot");
  SINEW_CHECK(a.dim() == 1 && b.dim() == 1, "dot", "expects two 1-d tensors, got ", a.shape(),
              " and ", b.shape());
  SINEW_CHECK(a.size(0) == b.size(0), "dot", a.shape(), " . ", b.shape(), ": sizes ", a.size(0),
              " and ", b.size(0), " differ");
  detail::check_same_device("dot", a, b);
  int64_t n = a.size(0);
  Tensor<T> y = empty<T>({}, a.device());
  SINEW_DISPATCH(a.device(), gemm,
                 detail::make_view(a, {1, n}, {n * a.stride(0), a.stride(0)}, a.storage_offset()),
                 detail::make_view(b, {n, 1}, {b.stride(0), 1}, b.storage_offset()),
                 detail::make_view(y, {1, 1}, {1, 1}, 0), 1.0, 0.0);
  return autograd::record(y, "dot", {a, b},
                          [a, b](const Tensor<T>& g, const autograd::BackwardContext<T>& ctx) {
                            return std::vector<Tensor<T>>{ctx.needs(0) ? g * b : Tensor<T>(),
                                                          ctx.needs(1) ? g * a : Tensor<T>()};
                          },
                          {.saved = {a, b}});
}

// a b^T for 1-d a [n], b [m]: [n, m]. A broadcast product (no GEMM), differentiable through mul.
template <class T>
Tensor<T> outer(const Tensor<T>& a, const Tensor<T>& b) {
  detail::check_floating<T>("outer");
  SINEW_CHECK(a.dim() == 1 && b.dim() == 1, "outer", "expects two 1-d tensors, got ", a.shape(),
              " and ", b.shape());
  detail::check_same_device("outer", a, b);
  return a.unsqueeze(1) * b.unsqueeze(0);
}

// Matrix product with PyTorch's rules: 1-d . 1-d is a dot product; a 1-d operand is promoted to a
// row (left) or column (right) matrix and that dimension removed afterwards; leading batch
// dimensions broadcast. [..., m, k] @ [k, n] is folded into one [.. * m, k] GEMM. Gradients of
// broadcast batch dimensions are summed back (expand's backward).
template <class T>
Tensor<T> matmul(const Tensor<T>& a, const Tensor<T>& b) {
  detail::check_floating<T>("matmul");
  SINEW_CHECK(a.dim() >= 1 && b.dim() >= 1, "matmul",
              "both arguments need at least 1 dimension, got ", a.shape(), " and ", b.shape());
  detail::check_same_device("matmul", a, b);
  int64_t ka = a.size(-1), kb = b.dim() == 1 ? b.size(0) : b.size(-2);
  detail::check_inner("matmul", a.shape(), b.shape(), ka, kb);
  if (a.dim() == 1 && b.dim() == 1) return dot(a, b);
  if (a.dim() <= 2 && b.dim() <= 2) {
    Tensor<T> a2 = a.dim() == 1 ? a.unsqueeze(0) : a, b2 = b.dim() == 1 ? b.unsqueeze(1) : b;
    Tensor<T> c = detail::batched_mm(a2, b2, "matmul");
    return a.dim() == 1 ? c.squeeze(0) : b.dim() == 1 ? c.squeeze(1) : c;
  }
  if (b.dim() <= 2) {
    // Fold the batch into the rows: one large GEMM instead of many small ones.
    Shape out(a.shape().begin(), a.shape().end() - 1);
    if (b.dim() == 2) out.push_back(b.size(1));
    Tensor<T> b2 = b.dim() == 1 ? b.unsqueeze(1) : b;
    return detail::batched_mm(a.reshape({detail::leading_numel(a.shape()), ka}), b2, "matmul")
        .reshape(out);
  }
  Tensor<T> a2 = a.dim() == 1 ? a.unsqueeze(0) : a, b2 = b.dim() == 1 ? b.unsqueeze(1) : b;
  Shape ba = detail::matmul_batch_dims(a2.shape()), bb = detail::matmul_batch_dims(b2.shape());
  int64_t n = std::max(ba.size(), bb.size());
  Shape batch;
  for (int64_t i = 0; i < n; ++i) {
    int64_t da = i < n - ba.size() ? 1 : ba[i - (n - ba.size())];
    int64_t db = i < n - bb.size() ? 1 : bb[i - (n - bb.size())];
    SINEW_CHECK(da == db || da == 1 || db == 1, "matmul", a.shape(), " @ ", b.shape(),
                ": batch dimensions ", ba, " and ", bb, " do not broadcast");
    batch.push_back(da == 1 ? db : da);
  }
  auto expand_to = [&batch](const Tensor<T>& x) {
    Shape s = batch;
    s.push_back(x.size(-2));
    s.push_back(x.size(-1));
    return s == x.shape() ? x : x.expand(s);
  };
  Tensor<T> c = detail::batched_mm(expand_to(a2), expand_to(b2), "matmul");
  if (a.dim() == 1) return c.squeeze(-2);
  if (b.dim() == 1) return c.squeeze(-1);
  return c;
}

// out = beta input + alpha (a @ b) for a [m, k], b [k, n], input broadcastable to [m, n]; the
// GEMM accumulates into the broadcast input (beta == 0 ignores input, NaNs included, as PyTorch).
//   d input = beta g (summed to its shape), da = alpha g b^T, db = alpha a^T g.
template <class T>
Tensor<T> addmm(const Tensor<T>& input, const Tensor<T>& a, const Tensor<T>& b, double beta = 1,
                double alpha = 1) {
  detail::check_floating<T>("addmm");
  SINEW_CHECK(a.dim() == 2 && b.dim() == 2, "addmm", "expects 2-d matrices, got ", a.shape(),
              " and ", b.shape());
  detail::check_inner("addmm", a.shape(), b.shape(), a.size(1), b.size(0));
  detail::check_same_device("addmm", input, a);
  detail::check_same_device("addmm", a, b);
  Shape s{a.size(0), b.size(1)};
  SINEW_CHECK(input.dim() <= 2 && detail::broadcast_shapes(input.shape(), s, "addmm") == s, "addmm",
              "input of shape ", input.shape(), " does not broadcast to the product's shape ", s);
  Tensor<T> y = empty<T>(s, a.device());
  if (beta != 0) SINEW_DISPATCH(a.device(), copy, y, input);
  SINEW_DISPATCH(a.device(), gemm, a, b, y, alpha, beta == 0 ? 0.0 : beta);
  auto scaled = [](Tensor<T> t, double f) { return f == 1 ? t : t * f; };
  return autograd::record(
      y, "addmm", {input, a, b},
      [a, b, si = input.shape(), beta, alpha, scaled](const Tensor<T>& g,
                                                      const autograd::BackwardContext<T>& ctx) {
        Tensor<T> gi;
        if (ctx.needs(0))
          gi = beta == 0 ? zeros<T>(si, g.device()) : detail::reduce_grad(scaled(g, beta), si);
        return std::vector<Tensor<T>>{gi, ctx.needs(1) ? scaled(mm(g, b.t()), alpha) : Tensor<T>(),
                                      ctx.needs(2) ? scaled(mm(a.t(), g), alpha) : Tensor<T>()};
      },
      {.saved = {a, b}});
}

// y = x w^T + b, PyTorch's Linear layout: x [..., in], w [out, in], optional bias [out] (an
// undefined tensor for none); y [..., out]. Fused: the bias is broadcast into y, then one GEMM
// accumulates into it (beta = 1), with w^T folded into the GEMM. The hot path of every MLP.
//   dx = g w,  dw = g^T x,  db = sum of g over all but the last dimension.
template <class T>
Tensor<T> linear(const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& bias = Tensor<T>()) {
  detail::check_floating<T>("linear");
  SINEW_CHECK(w.dim() == 2, "linear", "weight must be 2-d [out_features, in_features], got ",
              w.shape());
  SINEW_CHECK(x.dim() >= 1, "linear", "input must have at least 1 dimension, got ", x.shape());
  SINEW_CHECK(x.size(-1) == w.size(1), "linear", "input ", x.shape(), " has ", x.size(-1),
              " features but weight ", w.shape(), " expects ", w.size(1),
              " (weight is [out_features, in_features])");
  detail::check_same_device("linear", x, w);
  const bool has_bias = bias.defined();
  const int64_t out_f = w.size(0), in_f = w.size(1);
  if (has_bias) {
    SINEW_CHECK(bias.dim() == 1 && bias.size(0) == out_f, "linear", "bias must have shape [", out_f,
                "] for weight ", w.shape(), ", got ", bias.shape());
    detail::check_same_device("linear", x, bias);
  }
  Shape ys(x.shape().begin(), x.shape().end() - 1);
  ys.push_back(out_f);
  const int64_t rows = detail::leading_numel(x.shape());
  Tensor<T> y = empty<T>(ys, x.device());
  Tensor<T> y2 = detail::make_view(y, {rows, out_f}, {out_f, 1}, 0);
  if (has_bias) SINEW_DISPATCH(x.device(), copy, y2, bias);
  SINEW_DISPATCH(x.device(), gemm, detail::kernel_matrix(x), detail::kernel_mT(w), y2, 1.0,
                 has_bias ? 1.0 : 0.0);
  return autograd::record(y, "linear", {x, w, bias},
                          [x, w, has_bias, rows, out_f, in_f](
                              const Tensor<T>& g, const autograd::BackwardContext<T>& ctx) {
                            Tensor<T> g2 = g.reshape({rows, out_f});
                            return std::vector<Tensor<T>>{
                                ctx.needs(0) ? mm(g2, w).reshape(x.shape()) : Tensor<T>(),
                                ctx.needs(1) ? mm(g2.t(), x.reshape({rows, in_f})) : Tensor<T>(),
                                has_bias && ctx.needs(2) ? g2.sum({0}) : Tensor<T>()};
                          },
                          {.saved = {x, w}});
}

template <class T>
Tensor<T> Tensor<T>::matmul(const Tensor<T>& other) const {
  return sinew::matmul(*this, other);
}
template <class T>
Tensor<T> Tensor<T>::mm(const Tensor<T>& other) const {
  return sinew::mm(*this, other);
}

}  // namespace sinew
