// Recurrent ops (nn::functional): the cells lstm_cell, gru_cell, rnn_tanh_cell and rnn_relu_cell,
// each a GEMM per projection plus one fused gate kernel (one autograd node); their composed
// references (the same cell written with ordinary ops, what the fused kernels are tested
// against); and detail_rnn::recurrent_layer, one layer and direction of RNN / LSTM / GRU over a
// whole (packed) sequence as one autograd node, which the nn::RNN, nn::LSTM and nn::GRU layers
// chain.
#pragma once

#include <cstdint>
#include <tuple>
#include <vector>

#include "sinew/autograd/grad_mode.hpp"
#include "sinew/backend/cpu/rnn.hpp"
#ifdef SINEW_WITH_CUDA
#include "sinew/backend/cuda/kernels.hpp"
#endif
#include "sinew/ops/common.hpp"
#include "sinew/ops/elementwise.hpp"
#include "sinew/ops/factory.hpp"
#include "sinew/ops/linalg.hpp"
#include "sinew/ops/reduce.hpp"
#include "sinew/ops/shape.hpp"
#include "sinew/ops/view.hpp"

namespace sinew::nn {

namespace detail_rnn {

// The recurrent cell kinds, with PyTorch's mode names (RNN_TANH, RNN_RELU, LSTM, GRU).
enum class Cell { RnnTanh, RnnRelu, Lstm, Gru };

inline int64_t gate_count(Cell cell) { return cell == Cell::Lstm ? 4 : cell == Cell::Gru ? 3 : 1; }
inline const char* cell_name(Cell cell) {
  switch (cell) {
    case Cell::Lstm:
      return "LSTM";
    case Cell::Gru:
      return "GRU";
    default:
      return "RNN";
  }
}

// Rows [row, row + rows) of a contiguous [*, cols] tensor t, as a contiguous [rows, cols] view.
template <class T>
Tensor<T> rows_of(const Tensor<T>& t, int64_t row, int64_t rows, int64_t cols) {
  return sinew::detail::make_view(t, {rows, cols}, {cols, 1}, t.storage_offset() + row * cols);
}

template <class T>
void gemm(const Tensor<T>& a, const Tensor<T>& b, const Tensor<T>& c, double beta = 0) {
  SINEW_DISPATCH(c.device(), gemm, a, b, c, 1.0, beta);
}
template <class T>
void copy(const Tensor<T>& dst, const Tensor<T>& src) {
  SINEW_DISPATCH(dst.device(), copy, dst, src);
}

// ---- composed references: the cells written with ordinary ops ----------------------------------

// PyTorch's LSTMCell: gates = x W_ih^T + b_ih + h W_hh^T + b_hh split as i, f, g, o;
// c' = sigmoid(f) c + sigmoid(i) tanh(g), h' = sigmoid(o) tanh(c').
template <class T>
std::tuple<Tensor<T>, Tensor<T>> lstm_cell_reference(const Tensor<T>& x, const Tensor<T>& h,
                                                     const Tensor<T>& c, const Tensor<T>& w_ih,
                                                     const Tensor<T>& w_hh,
                                                     const Tensor<T>& b_ih = Tensor<T>(),
                                                     const Tensor<T>& b_hh = Tensor<T>()) {
  auto g = chunk(linear(x, w_ih, b_ih) + linear(h, w_hh, b_hh), 4, -1);
  Tensor<T> c1 = sigmoid(g[1]) * c + sigmoid(g[0]) * tanh(g[2]);
  return {sigmoid(g[3]) * tanh(c1), c1};
}

// PyTorch's GRUCell: r = sigmoid(x_r + h_r), z = sigmoid(x_z + h_z), n = tanh(x_n + r h_n),
// h' = (1 - z) n + z h, where x_* = x W_i*^T + b_i* and h_* = h W_h*^T + b_h*.
template <class T>
Tensor<T> gru_cell_reference(const Tensor<T>& x, const Tensor<T>& h, const Tensor<T>& w_ih,
                             const Tensor<T>& w_hh, const Tensor<T>& b_ih = Tensor<T>(),
                             const Tensor<T>& b_hh = Tensor<T>()) {
  auto gx = chunk(linear(x, w_ih, b_ih), 3, -1);
  auto gh = chunk(linear(h, w_hh, b_hh), 3, -1);
  Tensor<T> r = sigmoid(gx[0] + gh[0]), z = sigmoid(gx[1] + gh[1]);
  Tensor<T> n = tanh(gx[2] + r * gh[2]);
  return (1.0 - z) * n + z * h;
}

// PyTorch's RNNCell: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (relu with relu set).
template <class T>
Tensor<T> rnn_cell_reference(const Tensor<T>& x, const Tensor<T>& h, const Tensor<T>& w_ih,
                             const Tensor<T>& w_hh, const Tensor<T>& b_ih = Tensor<T>(),
                             const Tensor<T>& b_hh = Tensor<T>(), bool relu = false) {
  Tensor<T> pre = linear(x, w_ih, b_ih) + linear(h, w_hh, b_hh);
  return relu ? sinew::relu(pre) : tanh(pre);
}

// ---- the fused cell nodes
// ------------------------------------------------------------------------- gx = x W_ih^T + b_ih
// and gh = h W_hh^T come from linear (their own nodes); the gate node takes them with b_hh and the
// previous state. Multiple results live in one flat output, returned as views, so one node serves
// them all.

template <class T>
Tensor<T> part_of(const Tensor<T>& flat, int64_t offset, const Shape& shape) {
  return flat.narrow(0, offset, shape.numel()).view(shape);
}

// (h', c') of the LSTM gates; backward as lstm_cell_backward, or with ops under create_graph.
template <class T>
std::tuple<Tensor<T>, Tensor<T>> lstm_gates(const Tensor<T>& gx, const Tensor<T>& gh,
                                            const Tensor<T>& b_hh, const Tensor<T>& c_prev) {
  const int64_t n = c_prev.size(0), H = c_prev.size(1);
  const Device dev = gx.device();
  Tensor<T> flat = empty<T>({2 * n * H}, dev);
  Tensor<T> h = rows_of(flat, 0, n, H), c = rows_of(flat, n, n, H);
  Tensor<T> gates = empty<T>({n, 4 * H}, dev);
  Tensor<T> gxc = gx.detach().contiguous(), ghc = gh.detach().contiguous();
  Tensor<T> bc = b_hh.defined() ? b_hh.detach().contiguous() : Tensor<T>();
  Tensor<T> cpc = c_prev.detach().contiguous();
  SINEW_DISPATCH(dev, lstm_cell_forward, gxc, ghc, bc, cpc, h, c, gates);
  autograd::record(
      flat, "lstm_cell", {gx, gh, b_hh, c_prev},
      [gx, gh, b_hh, c_prev, gates, cpc, c = c.detach(), n, H](
          const Tensor<T>& g, const autograd::BackwardContext<T>& ctx) {
        Tensor<T> dpre, dcp;
        if (autograd::is_grad_enabled()) {  // create_graph: the same formulas with ops
          Tensor<T> dh = part_of(g, 0, {n, H}), dc = part_of(g, n * H, {n, H});
          Tensor<T> pre = b_hh.defined() ? gx + gh + b_hh : gx + gh;
          auto p = chunk(pre, 4, 1);
          Tensor<T> i = sigmoid(p[0]), f = sigmoid(p[1]), gg = tanh(p[2]), o = sigmoid(p[3]);
          Tensor<T> c1 = f * c_prev + i * gg, tc = tanh(c1);
          Tensor<T> dct = dc + dh * o * (1.0 - tc * tc);
          dpre = cat(std::vector<Tensor<T>>{dct * gg * i * (1.0 - i), dct * c_prev * f * (1.0 - f),
                                            dct * i * (1.0 - gg * gg), dh * tc * o * (1.0 - o)},
                     1);
          dcp = dct * f;
        } else {
          Tensor<T> gflat = g.contiguous();
          Tensor<T> dh = rows_of(gflat, 0, n, H), dc = rows_of(gflat, n, n, H);
          dpre = empty<T>({n, 4 * H}, g.device());
          dcp = empty<T>({n, H}, g.device());
          SINEW_DISPATCH(g.device(), lstm_cell_backward, dh, Tensor<T>(), dc, gates, cpc, c, dpre,
                         dcp);
        }
        return std::vector<Tensor<T>>{
            ctx.needs(0) ? dpre : Tensor<T>(), ctx.needs(1) ? dpre : Tensor<T>(),
            ctx.needs(2) ? dpre.sum({0}) : Tensor<T>(), ctx.needs(3) ? dcp : Tensor<T>()};
      },
      {.saved = {gx, gh, b_hh, c_prev}});
  return {part_of(flat, 0, {n, H}), part_of(flat, n * H, {n, H})};
}

// h' of the GRU gates (gh without b_hh, which the node adds inside r (W_hn h + b_hn)).
template <class T>
Tensor<T> gru_gates(const Tensor<T>& gx, const Tensor<T>& gh, const Tensor<T>& b_hh,
                    const Tensor<T>& h_prev) {
  const int64_t n = h_prev.size(0), H = h_prev.size(1);
  const Device dev = gx.device();
  Tensor<T> h = empty<T>({n, H}, dev), ws = empty<T>({n, 4 * H}, dev);
  Tensor<T> hpc = h_prev.detach().contiguous();
  SINEW_DISPATCH(dev, gru_cell_forward, gx.detach().contiguous(), gh.detach().contiguous(),
                 b_hh.defined() ? b_hh.detach().contiguous() : Tensor<T>(), hpc, h, ws);
  return autograd::record(h, "gru_cell", {gx, gh, b_hh, h_prev},
                          [gx, gh, b_hh, h_prev, ws, hpc, n, H](
                              const Tensor<T>& g, const autograd::BackwardContext<T>& ctx) {
                            Tensor<T> dgx, dgh, dhp;
                            if (autograd::is_grad_enabled()) {
                              auto px = chunk(gx, 3, 1);
                              auto ph = chunk(b_hh.defined() ? gh + b_hh : gh, 3, 1);
                              Tensor<T> r = sigmoid(px[0] + ph[0]), z = sigmoid(px[1] + ph[1]);
                              Tensor<T> nn = tanh(px[2] + r * ph[2]);
                              Tensor<T> dn = g * (1.0 - z) * (1.0 - nn * nn);
                              Tensor<T> dz = g * (h_prev - nn) * z * (1.0 - z);
                              Tensor<T> dr = dn * ph[2] * r * (1.0 - r);
                              dgx = cat(std::vector<Tensor<T>>{dr, dz, dn}, 1);
                              dgh = cat(std::vector<Tensor<T>>{dr, dz, dn * r}, 1);
                              dhp = g * z;
                            } else {
                              dgx = empty<T>({n, 3 * H}, g.device());
                              dgh = empty<T>({n, 3 * H}, g.device());
                              dhp = empty<T>({n, H}, g.device());
                              SINEW_DISPATCH(g.device(), gru_cell_backward, g.contiguous(),
                                             Tensor<T>(), ws, hpc, dgx, dgh, dhp);
                            }
                            return std::vector<Tensor<T>>{ctx.needs(0) ? dgx : Tensor<T>(),
                                                          ctx.needs(1) ? dgh : Tensor<T>(),
                                                          ctx.needs(2) ? dgh.sum({0}) : Tensor<T>(),
                                                          ctx.needs(3) ? dhp : Tensor<T>()};
                          },
                          {.saved = {gx, gh, b_hh, h_prev}});
}

// h' = tanh (or relu) of gx + gh + b_hh.
template <class T>
Tensor<T> rnn_gates(const Tensor<T>& gx, const Tensor<T>& gh, const Tensor<T>& b_hh, bool relu) {
  const int64_t n = gx.size(0), H = gx.size(1);
  const Device dev = gx.device();
  Tensor<T> h = empty<T>({n, H}, dev);
  SINEW_DISPATCH(dev, rnn_cell_forward, gx.detach().contiguous(), gh.detach().contiguous(),
                 b_hh.defined() ? b_hh.detach().contiguous() : Tensor<T>(), relu, h);
  return autograd::record(
      h, relu ? "rnn_relu_cell" : "rnn_tanh_cell", {gx, gh, b_hh},
      [relu, n, H](const Tensor<T>& g, const autograd::BackwardContext<T>& ctx) {
        Tensor<T> dpre;
        if (autograd::is_grad_enabled()) {
          Tensor<T> y = ctx.output();
          dpre = relu ? g * (y > 0.0).template to<T>() : g * (1.0 - y * y);
        } else {
          dpre = empty<T>({n, H}, g.device());
          SINEW_DISPATCH(g.device(), rnn_cell_backward, g.contiguous(), Tensor<T>(),
                         ctx.output().detach(), relu, dpre);
        }
        return std::vector<Tensor<T>>{ctx.needs(0) ? dpre : Tensor<T>(),
                                      ctx.needs(1) ? dpre : Tensor<T>(),
                                      ctx.needs(2) ? dpre.sum({0}) : Tensor<T>()};
      },
      {.save_output = true});
}

// Shape checks of the functional cells; returns whether the input is batched.
template <class T>
bool check_cell(const char* name, const Tensor<T>& x, const Tensor<T>& h, const Tensor<T>& c,
                const Tensor<T>& w_ih, const Tensor<T>& w_hh, const Tensor<T>& b_ih,
                const Tensor<T>& b_hh, int64_t gates) {
  sinew::detail::check_floating<T>(name);
  SINEW_CHECK(w_ih.dim() == 2 && w_hh.dim() == 2 && w_ih.size(0) % gates == 0 &&
                  w_hh.size(0) == w_ih.size(0) && w_hh.size(1) * gates == w_hh.size(0),
              name, "expected weight_ih [", gates, " * hidden, input] and weight_hh [", gates,
              " * hidden, hidden], got ", w_ih.shape(), " and ", w_hh.shape());
  const int64_t hidden = w_hh.size(1), in = w_ih.size(1);
  for (const Tensor<T>* b : {&b_ih, &b_hh}) {
    SINEW_CHECK(!b->defined() || b->shape() == Shape({gates * hidden}), name, "expected bias [",
                gates * hidden, "], got ", b->shape());
  }
  SINEW_CHECK((x.dim() == 1 || x.dim() == 2) && x.size(-1) == in, name, "expected input [batch, ",
              in, "] or [", in, "] (input_size = ", in, "), got ", x.shape());
  const bool batched = x.dim() == 2;
  const Shape hs = batched ? Shape({x.size(0), hidden}) : Shape({hidden});
  SINEW_CHECK(h.shape() == hs, name, "expected hidden state ", hs, " for input ", x.shape(),
              ", got ", h.shape());
  SINEW_CHECK(!c.defined() || c.shape() == hs, name, "expected cell state ", hs, " for input ",
              x.shape(), ", got ", c.shape());
  for (const Tensor<T>* t : {&h, &c, &w_ih, &w_hh, &b_ih, &b_hh}) {
    if (t->defined()) sinew::detail::check_same_device(name, x, *t);
  }
  return batched;
}

// ---- one layer and direction over a whole sequence
// ------------------------------------------------

// The outputs of recurrent_layer: y [total, H_out] (the output rows in the packed order), h
// [N, H_out] and, for LSTM, c [N, H]: the state after each sequence's last step.
template <class T>
struct LayerOutput {
  Tensor<T> y, h, c;
};

// One layer and direction of an RNN / LSTM / GRU over a packed sequence, as one autograd node.
// xp [total, G H]: the input projection x W_ih^T + b_ih of every step's rows, in PyTorch's packed
// order (step t holds batch_sizes[t] rows, a prefix of the sequences sorted by length, so the
// padded (L, N) case is batch_sizes = {N, ..., N}). h0 [N, H_out], c0 [N, H] (LSTM) or undefined
// (zeros); w_hh [G H, H_out]; b_hh [G H] or undefined; w_hr [H_out, H] (LSTM with proj_size) or
// undefined. reverse runs the steps from last to first.
//
// Per step: one GEMM h_prev W_hh^T for the active rows, one fused gate kernel, (LSTM with
// projection: one GEMM m W_hr^T); rows of shorter sequences keep their state, so h and c end at
// each sequence's own last step. Backward through time mirrors it: per step one gate-backward
// kernel and one GEMM dgates W_hh; the weight gradients come at the end as one GEMM each over all
// rows (dW_hh = dgates^T h_prev, dW_hr = dh^T m), db_hh as a column sum, dxp = the gate
// gradients. A backward with create_graph through this node raises (the cells of
// nn::functional are twice differentiable).
template <class T>
LayerOutput<T> recurrent_layer(Cell cell, const Tensor<T>& xp, const Tensor<T>& h0,
                               const Tensor<T>& c0, const Tensor<T>& w_hh, const Tensor<T>& b_hh,
                               const Tensor<T>& w_hr, const std::vector<int64_t>& batch_sizes,
                               bool reverse) {
  const char* name = cell == Cell::Lstm ? "lstm" : cell == Cell::Gru ? "gru" : "rnn";
  const int64_t G = gate_count(cell), GH = w_hh.size(0), H = GH / G, Hout = w_hh.size(1);
  const int64_t steps = static_cast<int64_t>(batch_sizes.size());
  const int64_t n = steps > 0 ? batch_sizes[0] : 0;
  std::vector<int64_t> offset(batch_sizes.size() + 1, 0);
  for (size_t t = 0; t < batch_sizes.size(); ++t) offset[t + 1] = offset[t] + batch_sizes[t];
  const int64_t total = offset.back();
  const bool lstm = cell == Cell::Lstm, gru = cell == Cell::Gru, proj = w_hr.defined();
  const bool relu = cell == Cell::RnnRelu;
  const Device dev = xp.device();

  Tensor<T> x = xp.detach().contiguous();
  Tensor<T> w = w_hh.detach(), wr = proj ? w_hr.detach() : Tensor<T>();
  Tensor<T> wT = w.t(), wrT = proj ? wr.t() : Tensor<T>();
  Tensor<T> bias = b_hh.defined() ? b_hh.detach().contiguous() : Tensor<T>();
  // The output: [y | h_n | c_n] in one buffer, returned as three views.
  const int64_t h_at = total * Hout, c_at = h_at + n * Hout;
  Tensor<T> flat = empty<T>({c_at + (lstm ? n * H : 0)}, dev);
  Tensor<T> y = sinew::detail::make_view(flat, {total, Hout}, {Hout, 1}, 0);
  Tensor<T> hs = sinew::detail::make_view(flat, {n, Hout}, {Hout, 1}, h_at);
  Tensor<T> cs = lstm ? sinew::detail::make_view(flat, {n, H}, {H, 1}, c_at) : Tensor<T>();
  {
    NoGradGuard no_grad;
    if (h0.defined())
      copy(hs, h0.detach());
    else
      hs.fill_(0.0);
    if (lstm) {
      if (c0.defined())
        copy(cs, c0.detach());
      else
        cs.fill_(0.0);
    }
  }
  // What the backward reads: the state before each step, the gates, the cell sequence.
  Tensor<T> hprev = empty<T>({total, Hout}, dev);
  Tensor<T> gh = empty<T>({n, GH}, dev);
  Tensor<T> saved = (lstm || gru) ? empty<T>({total, 4 * H}, dev) : Tensor<T>();
  Tensor<T> cprev = lstm ? empty<T>({total, H}, dev) : Tensor<T>();
  Tensor<T> cseq = lstm ? empty<T>({total, H}, dev) : Tensor<T>();
  Tensor<T> m = proj ? empty<T>({total, H}, dev) : y;  // LSTM's o tanh(c) before the projection

  for (int64_t k = 0; k < steps; ++k) {
    const int64_t t = reverse ? steps - 1 - k : k;
    const int64_t bs = batch_sizes[t], at = offset[t];
    Tensor<T> hp = rows_of(hprev, at, bs, Hout);
    copy(hp, rows_of(hs, 0, bs, Hout));
    Tensor<T> ghb = rows_of(gh, 0, bs, GH);
    gemm(hp, wT, ghb);
    Tensor<T> xb = rows_of(x, at, bs, GH), yb = rows_of(y, at, bs, Hout);
    if (lstm) {
      Tensor<T> cp = rows_of(cprev, at, bs, H), cb = rows_of(cseq, at, bs, H);
      copy(cp, rows_of(cs, 0, bs, H));
      SINEW_DISPATCH(dev, lstm_cell_forward, xb, ghb, bias, cp, rows_of(m, at, bs, H), cb,
                     rows_of(saved, at, bs, 4 * H));
      if (proj) gemm(rows_of(m, at, bs, H), wrT, yb);
      copy(rows_of(cs, 0, bs, H), cb);
    } else if (gru) {
      SINEW_DISPATCH(dev, gru_cell_forward, xb, ghb, bias, hp, yb, rows_of(saved, at, bs, 4 * H));
    } else {
      SINEW_DISPATCH(dev, rnn_cell_forward, xb, ghb, bias, relu, yb);
    }
    copy(rows_of(hs, 0, bs, Hout), yb);
  }

  autograd::RecordOptions options{.saved = {w_hh}, .save_output = true};
  if (proj) options.saved.push_back(w_hr);
  autograd::record(
      flat, name, {xp, h0, c0, w_hh, b_hh, w_hr},
      [=, out = flat.detach()](const Tensor<T>& g, const autograd::BackwardContext<T>& ctx) {
        SINEW_CHECK(!autograd::is_grad_enabled(), name,
                    "a backward with create_graph through the fused ", cell_name(cell),
                    " layer is not supported; for higher-order gradients run the cell "
                    "(nn::functional::lstm_cell, gru_cell, rnn_tanh_cell) in a loop");
        Tensor<T> gf = g.contiguous();
        Tensor<T> ys = sinew::detail::make_view(out, {total, Hout}, {Hout, 1}, 0);
        Tensor<T> ms = proj ? m : ys;
        Tensor<T> gy = rows_of(gf, 0, total, Hout);
        Tensor<T> dhs = rows_of(gf, total, n, Hout).clone();
        Tensor<T> dcs =
            lstm ? sinew::detail::make_view(gf, {n, H}, {H, 1}, gf.storage_offset() + c_at).clone()
                 : Tensor<T>();
        Tensor<T> dxp = empty<T>({total, GH}, gf.device());
        Tensor<T> dgh = gru ? empty<T>({total, GH}, gf.device()) : dxp;  // gradient of gh rows
        Tensor<T> dhy = proj ? empty<T>({total, Hout}, gf.device()) : Tensor<T>();
        Tensor<T> dm = proj ? empty<T>({n, H}, gf.device()) : Tensor<T>();
        for (int64_t k = steps - 1; k >= 0; --k) {
          const int64_t t = reverse ? steps - 1 - k : k;
          const int64_t bs = batch_sizes[t], at = offset[t];
          Tensor<T> dhb = rows_of(dhs, 0, bs, Hout), gyb = rows_of(gy, at, bs, Hout);
          Tensor<T> dxb = rows_of(dxp, at, bs, GH);
          if (lstm) {
            Tensor<T> dcb = rows_of(dcs, 0, bs, H);
            Tensor<T> gates = rows_of(saved, at, bs, 4 * H);
            Tensor<T> cp = rows_of(cprev, at, bs, H), cb = rows_of(cseq, at, bs, H);
            if (proj) {
              Tensor<T> dyb = rows_of(dhy, at, bs, Hout), dmb = rows_of(dm, 0, bs, H);
              SINEW_DISPATCH(gf.device(), binary_op<backend::Binary::Add>, gyb, dhb, dyb, 1.0);
              gemm(dyb, wr, dmb);
              SINEW_DISPATCH(gf.device(), lstm_cell_backward, dmb, Tensor<T>(), dcb, gates, cp, cb,
                             dxb, dcb);
            } else {
              SINEW_DISPATCH(gf.device(), lstm_cell_backward, gyb, dhb, dcb, gates, cp, cb, dxb,
                             dcb);
            }
            gemm(dxb, w, dhb);
          } else if (gru) {
            Tensor<T> dghb = rows_of(dgh, at, bs, GH);
            SINEW_DISPATCH(gf.device(), gru_cell_backward, gyb, dhb, rows_of(saved, at, bs, 4 * H),
                           rows_of(hprev, at, bs, Hout), dxb, dghb, dhb);
            gemm(dghb, w, dhb, 1.0);
          } else {
            SINEW_DISPATCH(gf.device(), rnn_cell_backward, gyb, dhb, rows_of(ys, at, bs, Hout),
                           relu, dxb);
            gemm(dxb, w, dhb);
          }
        }
        std::vector<Tensor<T>> grads(6);
        if (ctx.needs(0)) grads[0] = dxp;
        if (ctx.needs(1)) grads[1] = dhs;
        if (ctx.needs(2)) grads[2] = dcs;
        if (ctx.needs(3)) {
          grads[3] = empty<T>({GH, Hout}, gf.device());
          gemm(dgh.t(), hprev, grads[3]);
        }
        if (ctx.needs(4)) grads[4] = dgh.sum({0});
        if (ctx.needs(5)) {
          grads[5] = empty<T>({Hout, H}, gf.device());
          gemm(dhy.t(), ms, grads[5]);
        }
        return grads;
      },
      options);
  LayerOutput<T> r;
  r.y = part_of(flat, 0, {total, Hout});
  r.h = part_of(flat, h_at, {n, Hout});
  if (lstm) r.c = part_of(flat, c_at, {n, H});
  return r;
}

}  // namespace detail_rnn

namespace functional {

// One LSTM step (torch.nn.functional's lstm_cell): x [N, input] or [input], hx = (h, c) each
// [N, hidden] or [hidden]; weights [4 hidden, input] and [4 hidden, hidden], biases [4 hidden] or
// undefined. Returns (h', c'). Differentiable twice.
template <class T>
std::tuple<Tensor<T>, Tensor<T>> lstm_cell(const Tensor<T>& x,
                                           const std::tuple<Tensor<T>, Tensor<T>>& hx,
                                           const Tensor<T>& w_ih, const Tensor<T>& w_hh,
                                           const Tensor<T>& b_ih = Tensor<T>(),
                                           const Tensor<T>& b_hh = Tensor<T>()) {
  const auto& [h, c] = hx;
  SINEW_CHECK(c.defined(), "lstm_cell", "the cell state c is undefined");
  bool batched = detail_rnn::check_cell("lstm_cell", x, h, c, w_ih, w_hh, b_ih, b_hh, 4);
  Tensor<T> x2 = batched ? x : x.unsqueeze(0), h2 = batched ? h : h.unsqueeze(0);
  Tensor<T> c2 = batched ? c : c.unsqueeze(0);
  auto [h1, c1] =
      detail_rnn::lstm_gates(linear(x2, w_ih, b_ih), linear(h2, w_hh, Tensor<T>()), b_hh, c2);
  if (!batched) return {h1.squeeze(0), c1.squeeze(0)};
  return {h1, c1};
}

// One GRU step (gates r, z, n; n = tanh(x_n + r (W_hn h + b_hn))): x [N, input] or [input],
// h [N, hidden] or [hidden]; weights [3 hidden, *]. Differentiable twice.
template <class T>
Tensor<T> gru_cell(const Tensor<T>& x, const Tensor<T>& h, const Tensor<T>& w_ih,
                   const Tensor<T>& w_hh, const Tensor<T>& b_ih = Tensor<T>(),
                   const Tensor<T>& b_hh = Tensor<T>()) {
  bool batched = detail_rnn::check_cell("gru_cell", x, h, Tensor<T>(), w_ih, w_hh, b_ih, b_hh, 3);
  Tensor<T> x2 = batched ? x : x.unsqueeze(0), h2 = batched ? h : h.unsqueeze(0);
  Tensor<T> h1 =
      detail_rnn::gru_gates(linear(x2, w_ih, b_ih), linear(h2, w_hh, Tensor<T>()), b_hh, h2);
  return batched ? h1 : h1.squeeze(0);
}

namespace detail_cell {
template <class T>
Tensor<T> rnn_cell(const char* name, bool relu, const Tensor<T>& x, const Tensor<T>& h,
                   const Tensor<T>& w_ih, const Tensor<T>& w_hh, const Tensor<T>& b_ih,
                   const Tensor<T>& b_hh) {
  bool batched = detail_rnn::check_cell(name, x, h, Tensor<T>(), w_ih, w_hh, b_ih, b_hh, 1);
  Tensor<T> x2 = batched ? x : x.unsqueeze(0), h2 = batched ? h : h.unsqueeze(0);
  Tensor<T> h1 =
      detail_rnn::rnn_gates(linear(x2, w_ih, b_ih), linear(h2, w_hh, Tensor<T>()), b_hh, relu);
  return batched ? h1 : h1.squeeze(0);
}
}  // namespace detail_cell

// One Elman RNN step: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh). Differentiable twice.
template <class T>
Tensor<T> rnn_tanh_cell(const Tensor<T>& x, const Tensor<T>& h, const Tensor<T>& w_ih,
                        const Tensor<T>& w_hh, const Tensor<T>& b_ih = Tensor<T>(),
                        const Tensor<T>& b_hh = Tensor<T>()) {
  return detail_cell::rnn_cell("rnn_tanh_cell", false, x, h, w_ih, w_hh, b_ih, b_hh);
}

// h' = relu(x W_ih^T + b_ih + h W_hh^T + b_hh). Differentiable twice.
template <class T>
Tensor<T> rnn_relu_cell(const Tensor<T>& x, const Tensor<T>& h, const Tensor<T>& w_ih,
                        const Tensor<T>& w_hh, const Tensor<T>& b_ih = Tensor<T>(),
                        const Tensor<T>& b_hh = Tensor<T>()) {
  return detail_cell::rnn_cell("rnn_relu_cell", true, x, h, w_ih, w_hh, b_ih, b_hh);
}

}  // namespace functional

}  // namespace sinew::nn
