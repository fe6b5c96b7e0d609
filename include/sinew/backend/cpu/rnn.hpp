// CPU kernels of the recurrent cells: for each of LSTM, GRU and the Elman RNN, one pass that
// applies the gate nonlinearities and the state update to a block of rows (forward), and one that
// turns the output gradient into the gate gradients (backward). The GEMMs around them (input and
// hidden projections) are the ops' business; these kernels only see their results.
//
// Every 2-d argument is a contiguous [rows, k] block; a 1-d bias is [k] or undefined (no bias);
// an undefined "second addend" gradient counts as zero. Float rows use Eigen's vectorized
// logistic and tanh; each row is independent, so rows are split across threads.
#pragma once

#include <cstdint>
#include <vector>

#include "sinew/backend/cpu/eigen.hpp"
#include "sinew/backend/cpu/parallel.hpp"
#include "sinew/core/tensor.hpp"

namespace sinew::backend::cpu {

namespace detail_rnn {

template <class T>
using Vec = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
template <class T>
using CVec = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;

template <class T>
const T* ptr_or_null(const Tensor<T>& t) {
  return t.defined() ? t.data_ptr() : nullptr;
}

// The bias, or zeros of length k when there is none (so the kernels have one code path).
template <class T>
struct BiasOrZero {
  std::vector<T> zeros;
  const T* data;
  BiasOrZero(const Tensor<T>& bias, int64_t k)
      : zeros(bias.defined() ? 0 : static_cast<size_t>(k), T(0)),
        data(bias.defined() ? bias.data_ptr() : zeros.data()) {}
};

// Runs f(row) for every row, in parallel when rows * cost_per_row is large enough.
template <class F>
void each_row(int64_t rows, int64_t cost_per_row, F&& f) {
  parallel_for(rows, cost_per_row, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) f(r);
  });
}

// A sum of the first gradient and the optional second one, row r, length h.
template <class T>
Eigen::Array<T, Eigen::Dynamic, 1> sum_rows(const T* a, const T* b, int64_t r, int64_t h) {
  if (b == nullptr) return CVec<T>(a + r * h, h);
  return CVec<T>(a + r * h, h) + CVec<T>(b + r * h, h);
}

}  // namespace detail_rnn

// LSTM forward for rows of gx, gh [rows, 4H] (input and hidden projections, gates i, f, g, o in
// that order) and bias [4H] (added to both, may be undefined):
//   i, f, o = sigmoid(gx + gh + b), g = tanh(gx + gh + b), c = f c_prev + i g, h = o tanh(c).
// Writes h, c [rows, H] and the activated gates [rows, 4H] (what the backward reads).
template <class T>
void lstm_cell_forward(const Tensor<T>& gx, const Tensor<T>& gh, const Tensor<T>& bias,
                       const Tensor<T>& c_prev, const Tensor<T>& h, const Tensor<T>& c,
                       const Tensor<T>& gates) {
  using namespace detail_rnn;
  const int64_t rows = c.size(0), H = c.size(1), G = 4 * H;
  const T* x = gx.data_ptr();
  const T* y = gh.data_ptr();
  const T* cp = c_prev.data_ptr();
  T* ho = h.data_ptr();
  T* co = c.data_ptr();
  T* ga = gates.data_ptr();
  BiasOrZero<T> b(bias, G);
  each_row(rows, 40 * H, [&](int64_t r) {
    auto pre = [&](int64_t k) {
      return CVec<T>(x + r * G + k * H, H) + CVec<T>(y + r * G + k * H, H) +
             CVec<T>(b.data + k * H, H);
    };
    Vec<T> i(ga + r * G, H), f(ga + r * G + H, H), g(ga + r * G + 2 * H, H),
        o(ga + r * G + 3 * H, H);
    i = pre(0).logistic();
    f = pre(1).logistic();
    g = pre(2).tanh();
    o = pre(3).logistic();
    Vec<T> cr(co + r * H, H);
    cr = f * CVec<T>(cp + r * H, H) + i * g;
    Vec<T>(ho + r * H, H) = o * cr.tanh();
  });
}

// LSTM backward for the rows of lstm_cell_forward: dh (+ dh2) the gradient of h, dc that of c
// (either of the two last may be undefined); gates, c_prev, c as saved. Writes the gradient of the
// pre-activations, dgates [rows, 4H] (= the gradient of gx, of gh and, summed over rows, of the
// bias), and dc_prev = dc_total f [rows, H] (dc_prev may be dc itself):
//   dc_total = dc + dh o (1 - tanh(c)^2),  do = dh tanh(c) o (1 - o),  di = dc_total g i (1 - i),
//   df = dc_total c_prev f (1 - f),  dg = dc_total i (1 - g^2).
template <class T>
void lstm_cell_backward(const Tensor<T>& dh, const Tensor<T>& dh2, const Tensor<T>& dc,
                        const Tensor<T>& gates, const Tensor<T>& c_prev, const Tensor<T>& c,
                        const Tensor<T>& dgates, const Tensor<T>& dc_prev) {
  using namespace detail_rnn;
  const int64_t rows = c.size(0), H = c.size(1), G = 4 * H;
  const T* dhp = dh.data_ptr();
  const T* dh2p = ptr_or_null(dh2);
  const T* dcp = ptr_or_null(dc);
  const T* ga = gates.data_ptr();
  const T* cpp = c_prev.data_ptr();
  const T* cc = c.data_ptr();
  T* dg = dgates.data_ptr();
  T* dcout = dc_prev.data_ptr();
  each_row(rows, 40 * H, [&](int64_t r) {
    CVec<T> i(ga + r * G, H), f(ga + r * G + H, H), g(ga + r * G + 2 * H, H),
        o(ga + r * G + 3 * H, H);
    Eigen::Array<T, Eigen::Dynamic, 1> dhr = sum_rows(dhp, dh2p, r, H);
    Eigen::Array<T, Eigen::Dynamic, 1> tc = CVec<T>(cc + r * H, H).tanh();
    Eigen::Array<T, Eigen::Dynamic, 1> dct = dhr * o * (T(1) - tc * tc);
    if (dcp != nullptr) dct += CVec<T>(dcp + r * H, H);
    Vec<T>(dg + r * G, H) = dct * g * i * (T(1) - i);
    Vec<T>(dg + r * G + H, H) = dct * CVec<T>(cpp + r * H, H) * f * (T(1) - f);
    Vec<T>(dg + r * G + 2 * H, H) = dct * i * (T(1) - g * g);
    Vec<T>(dg + r * G + 3 * H, H) = dhr * tc * o * (T(1) - o);
    Vec<T>(dcout + r * H, H) = dct * f;
  });
}

// GRU forward for rows of gx, gh [rows, 3H] (gates r, z, n; gh without bias) and bias [3H] (the
// hidden bias b_hh, may be undefined):
//   r = sigmoid(gx_r + gh_r + b_r), z = sigmoid(gx_z + gh_z + b_z), hn = gh_n + b_n,
//   n = tanh(gx_n + r hn), h = (1 - z) n + z h_prev.
// Writes h [rows, H] and the workspace [rows, 4H] = (r, z, n, hn) that the backward reads.
template <class T>
void gru_cell_forward(const Tensor<T>& gx, const Tensor<T>& gh, const Tensor<T>& bias,
                      const Tensor<T>& h_prev, const Tensor<T>& h, const Tensor<T>& workspace) {
  using namespace detail_rnn;
  const int64_t rows = h.size(0), H = h.size(1), G = 3 * H, W = 4 * H;
  const T* x = gx.data_ptr();
  const T* y = gh.data_ptr();
  const T* hp = h_prev.data_ptr();
  T* ho = h.data_ptr();
  T* ws = workspace.data_ptr();
  BiasOrZero<T> b(bias, G);
  each_row(rows, 30 * H, [&](int64_t row) {
    auto part = [&](const T* base, int64_t k) { return CVec<T>(base + row * G + k * H, H); };
    Vec<T> r(ws + row * W, H), z(ws + row * W + H, H), n(ws + row * W + 2 * H, H),
        hn(ws + row * W + 3 * H, H);
    r = (part(x, 0) + part(y, 0) + CVec<T>(b.data, H)).logistic();
    z = (part(x, 1) + part(y, 1) + CVec<T>(b.data + H, H)).logistic();
    hn = part(y, 2) + CVec<T>(b.data + 2 * H, H);
    n = (part(x, 2) + r * hn).tanh();
    Vec<T>(ho + row * H, H) = (T(1) - z) * n + z * CVec<T>(hp + row * H, H);
  });
}

// GRU backward for the rows of gru_cell_forward: dh (+ dh2) the gradient of h; workspace and
// h_prev as saved. Writes dgx [rows, 3H] (gradient of gx), dgh [rows, 3H] (of gh and, summed over
// rows, of the bias) and dh_prev [rows, H], the part of h_prev's gradient that bypasses gh
// (dh_prev may be dh2 itself):
//   dn = dh (1 - z) (1 - n^2),  dz = dh (h_prev - n) z (1 - z),  dr = dn hn r (1 - r),
//   dgx = (dr, dz, dn),  dgh = (dr, dz, dn r),  dh_prev = dh z.
template <class T>
void gru_cell_backward(const Tensor<T>& dh, const Tensor<T>& dh2, const Tensor<T>& workspace,
                       const Tensor<T>& h_prev, const Tensor<T>& dgx, const Tensor<T>& dgh,
                       const Tensor<T>& dh_prev) {
  using namespace detail_rnn;
  const int64_t rows = h_prev.size(0), H = h_prev.size(1), G = 3 * H, W = 4 * H;
  const T* dhp = dh.data_ptr();
  const T* dh2p = ptr_or_null(dh2);
  const T* ws = workspace.data_ptr();
  const T* hp = h_prev.data_ptr();
  T* dx = dgx.data_ptr();
  T* dy = dgh.data_ptr();
  T* dho = dh_prev.data_ptr();
  each_row(rows, 30 * H, [&](int64_t row) {
    CVec<T> r(ws + row * W, H), z(ws + row * W + H, H), n(ws + row * W + 2 * H, H),
        hn(ws + row * W + 3 * H, H);
    Eigen::Array<T, Eigen::Dynamic, 1> dhr = sum_rows(dhp, dh2p, row, H);
    Eigen::Array<T, Eigen::Dynamic, 1> dn = dhr * (T(1) - z) * (T(1) - n * n);
    Eigen::Array<T, Eigen::Dynamic, 1> dz = dhr * (CVec<T>(hp + row * H, H) - n) * z * (T(1) - z);
    Eigen::Array<T, Eigen::Dynamic, 1> dr = dn * hn * r * (T(1) - r);
    Vec<T>(dx + row * G, H) = dr;
    Vec<T>(dx + row * G + H, H) = dz;
    Vec<T>(dx + row * G + 2 * H, H) = dn;
    Vec<T>(dy + row * G, H) = dr;
    Vec<T>(dy + row * G + H, H) = dz;
    Vec<T>(dy + row * G + 2 * H, H) = dn * r;
    Vec<T>(dho + row * H, H) = dhr * z;
  });
}

// Elman RNN forward for rows of gx, gh [rows, H] and bias [H] (may be undefined):
// h = tanh(gx + gh + b), or relu(...) with relu set.
template <class T>
void rnn_cell_forward(const Tensor<T>& gx, const Tensor<T>& gh, const Tensor<T>& bias, bool relu,
                      const Tensor<T>& h) {
  using namespace detail_rnn;
  const int64_t rows = h.size(0), H = h.size(1);
  const T* x = gx.data_ptr();
  const T* y = gh.data_ptr();
  T* ho = h.data_ptr();
  BiasOrZero<T> b(bias, H);
  each_row(rows, 10 * H, [&](int64_t r) {
    auto pre = CVec<T>(x + r * H, H) + CVec<T>(y + r * H, H) + CVec<T>(b.data, H);
    if (relu)
      Vec<T>(ho + r * H, H) = pre.max(T(0));
    else
      Vec<T>(ho + r * H, H) = pre.tanh();
  });
}

// Elman RNN backward: dpre = (dh + dh2) (1 - h^2) for tanh, (dh + dh2) [h > 0] for relu; h as
// saved. dpre [rows, H] is the gradient of gx, of gh and (summed over rows) of the bias.
template <class T>
void rnn_cell_backward(const Tensor<T>& dh, const Tensor<T>& dh2, const Tensor<T>& h, bool relu,
                       const Tensor<T>& dpre) {
  using namespace detail_rnn;
  const int64_t rows = h.size(0), H = h.size(1);
  const T* dhp = dh.data_ptr();
  const T* dh2p = ptr_or_null(dh2);
  const T* hp = h.data_ptr();
  T* out = dpre.data_ptr();
  each_row(rows, 4 * H, [&](int64_t r) {
    CVec<T> hr(hp + r * H, H);
    if (relu)
      Vec<T>(out + r * H, H) = (hr > T(0)).select(sum_rows(dhp, dh2p, r, H), T(0));
    else
      Vec<T>(out + r * H, H) = sum_rows(dhp, dh2p, r, H) * (T(1) - hr * hr);
  });
}

}  // namespace sinew::backend::cpu
