// optim::LBFGST<T> (optim::LBFGS for float): limited-memory BFGS over the flattened parameters,
// with an optional strong-Wolfe line search; a port of PyTorch 1.13's torch.optim.LBFGS
// (_strong_wolfe, _cubic_interpolate).
//
//   optim::LBFGS opt(net.parameters(),
//                    {.lr = 1, .line_search_fn = optim::LineSearch::StrongWolfe});
//   double loss = opt.step([&] {
//     opt.zero_grad();
//     Tensor<float> l = mse(net(x), y);
//     l.backward();
//     return l;
//   });
//
// Parameter groups. PyTorch's LBFGS accepts one group. Sinew accepts several and treats them as
// blocks of a block-coordinate method: step(closure) runs the whole algorithm (its own options,
// flattened vector and history) on group 0 with the other groups held fixed, then on group 1, and
// so on; the closure is re-evaluated for each group. With one group it is exactly PyTorch's LBFGS.
// step() returns the loss of the closure's first evaluation (before any update).
//
// Numerics as PyTorch's: flat vectors have the parameters' element type, dot products are
// accumulated in double, the step length, loss values and curvature scalars are doubles (Python
// floats). Everything is tensor ops on the parameters' device (a scalar is read with item()), so
// LBFGS runs wherever the parameters live.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sinew/ops/arithmetic.hpp"
#include "sinew/ops/linalg.hpp"
#include "sinew/ops/reduce.hpp"
#include "sinew/ops/view.hpp"
#include "sinew/optim/optimizer.hpp"

namespace sinew::optim {

enum class LineSearch { None, StrongWolfe };
SINEW_OPTIM_ENUM(LineSearch, nullptr, "strong_wolfe")  // None is null, as PyTorch's

struct LBFGSOptions {
  double lr = 1;
  int64_t max_iter = 20;
  int64_t max_eval = -1;  // -1: max_iter * 5 / 4 (PyTorch's None)
  double tolerance_grad = 1e-7;
  double tolerance_change = 1e-9;
  int64_t history_size = 100;
  LineSearch line_search_fn = LineSearch::None;
};
SINEW_OPTIM_OPTIONS(LBFGSOptions, lr, max_iter, max_eval, tolerance_grad, tolerance_change,
                    history_size, line_search_fn)

// Per-group overrides of LBFGSOptions: a field left empty takes the optimizer's default.
struct LBFGSGroupOptions {
  std::optional<double> lr = std::nullopt;
  std::optional<int64_t> max_iter = std::nullopt;
  std::optional<int64_t> max_eval = std::nullopt;
  std::optional<double> tolerance_grad = std::nullopt;
  std::optional<double> tolerance_change = std::nullopt;
  std::optional<int64_t> history_size = std::nullopt;
  std::optional<LineSearch> line_search_fn = std::nullopt;
  LBFGSOptions resolve(const LBFGSOptions& d) const {
    LBFGSOptions o{lr.value_or(d.lr),
                   max_iter.value_or(d.max_iter),
                   max_eval.value_or(max_iter ? -1 : d.max_eval),
                   tolerance_grad.value_or(d.tolerance_grad),
                   tolerance_change.value_or(d.tolerance_change),
                   history_size.value_or(d.history_size),
                   line_search_fn.value_or(d.line_search_fn)};
    return o;
  }
};

namespace detail {

// Minimizer of the cubic through (x1, f1, g1) and (x2, f2, g2), clamped to [lo, hi] (default: the
// interval between x1 and x2); the midpoint when the cubic has no real minimizer.
inline double cubic_interpolate(double x1, double f1, double g1, double x2, double f2, double g2,
                                std::optional<std::pair<double, double>> bounds = std::nullopt) {
  double lo, hi;
  if (bounds) {
    lo = bounds->first;
    hi = bounds->second;
  } else {
    lo = x1 <= x2 ? x1 : x2;
    hi = x1 <= x2 ? x2 : x1;
  }
  const double d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2);
  const double d2_square = d1 * d1 - g1 * g2;
  if (d2_square >= 0) {
    const double d2 = std::sqrt(d2_square);
    double min_pos;
    if (x1 <= x2) {
      min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2));
    } else {
      min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
    }
    return std::min(std::max(min_pos, lo), hi);
  }
  return (lo + hi) / 2;
}

// The vector reductions of the algorithm, as tensor ops on the flat vectors' device; each result
// is read back with item(). Dot products and sums are accumulated in double.
template <class T>
double dot(const Tensor<T>& a, const Tensor<T>& b) {
  if (a.numel() == 0) return 0;
  return sinew::dot(a.template to<double>(), b.template to<double>()).item();
}
template <class T>
double abs_max(const Tensor<T>& a) {
  if (a.numel() == 0) return 0;
  return static_cast<double>(a.abs().max().item());
}
template <class T>
double abs_sum(const Tensor<T>& a) {
  if (a.numel() == 0) return 0;
  return a.template to<double>().abs().sum().item();
}
template <class T>
void copy_into(Tensor<T>& dst, const Tensor<T>& src) {
  dst.copy_(src);
}

}  // namespace detail

template <class T>
class LBFGST : public OptimizerWith<T, LBFGSOptions, LBFGSGroupOptions> {
  using Base = OptimizerWith<T, LBFGSOptions, LBFGSGroupOptions>;

 public:
  using typename Base::ParamGroup;
  using Closure = std::function<Tensor<T>()>;

  LBFGST(std::vector<Tensor<T>> params, LBFGSOptions defaults = {}) : Base("LBFGS", defaults) {
    this->init({ParamGroup{std::move(params), {}}});
  }
  LBFGST(std::vector<ParamGroup> groups, LBFGSOptions defaults = {}) : Base("LBFGS", defaults) {
    this->init(std::move(groups));
  }

  // LBFGS re-evaluates the loss: call step(closure).
  void step() override {
    sinew::detail::fail("LBFGS::step",
                        "LBFGS needs a closure: call step(closure), where the "
                        "closure zeroes the gradients, computes the loss, calls "
                        "backward() and returns the loss");
  }

  // Runs up to max_iter iterations on each group; returns the loss the first evaluation gave.
  double step(const Closure& closure) {
    SINEW_CHECK(static_cast<bool>(closure), "LBFGS::step", "the closure is empty");
    NoGradGuard guard;
    double first = 0;
    for (size_t g = 0; g < this->num_param_groups(); ++g) {
      double l = step_group(g, closure);
      if (g == 0) first = l;
    }
    return first;
  }

 protected:
  void validate(const LBFGSOptions& o) const override {
    SINEW_CHECK(o.lr >= 0, "LBFGS", "invalid learning rate: ", o.lr);
    SINEW_CHECK(o.max_iter > 0, "LBFGS", "max_iter must be positive, got ", o.max_iter);
    SINEW_CHECK(o.max_eval == -1 || o.max_eval > 0, "LBFGS",
                "max_eval must be positive (or -1 for max_iter * 5 / 4), got ", o.max_eval);
    SINEW_CHECK(o.history_size > 0, "LBFGS", "history_size must be positive, got ", o.history_size);
    SINEW_CHECK(o.tolerance_grad >= 0 && o.tolerance_change >= 0, "LBFGS",
                "tolerances must be non-negative, got ", o.tolerance_grad, " and ",
                o.tolerance_change);
  }
  void check_state_shape(size_t, const Tensor<T>&, const std::string&,
                         const Tensor<T>&) const override {}  // checked in load_group_states

  // The per-group state in state dicts: the tensors "state.<i>.d", "prev_flat_grad",
  // "old_dirs.<k>", "old_stps.<k>" (i: the group's first parameter) and the scalars as metadata
  // "lbfgs_state" (JSON: {"<i>": {"t", "H_diag", "prev_loss", "ro", "n_iter", "func_evals",
  // "history"}}).
  const char* group_state_name() const override { return "lbfgs_state"; }
  bool save_group_state(size_t g, const std::string& prefix, nn::StateDictT<T>& tensors,
                        FieldVisitor& scalars) const override {
    if (g >= groups_state_.size() || !groups_state_[g].d.defined()) return false;  // never stepped
    GroupState s = groups_state_[g];  // a copy of the handles: the visitor takes references
    tensors.insert(prefix + "d", s.d.clone());
    tensors.insert(prefix + "prev_flat_grad", s.prev_flat_grad.clone());
    for (size_t k = 0; k < s.old_dirs.size(); ++k) {
      tensors.insert(prefix + "old_dirs." + std::to_string(k), s.old_dirs[k].clone());
      tensors.insert(prefix + "old_stps." + std::to_string(k), s.old_stps[k].clone());
    }
    int64_t history = static_cast<int64_t>(s.old_dirs.size());
    visit_scalars(scalars, s, history);
    return true;
  }
  void load_group_states(const std::vector<FieldVisitor*>& scalars) override {
    const char* fn = "load_state_dict";
    std::vector<GroupState> fresh(this->num_param_groups());
    for (size_t g = 0; g < this->num_param_groups(); ++g) {
      ParamStateT<T>& ps = this->state(this->params_[g][0]);
      if (scalars[g] != nullptr) {
        GroupState& s = fresh[g];
        int64_t history = 0;
        visit_scalars(*scalars[g], s, history);
        const size_t n = static_cast<size_t>(history);
        SINEW_CHECK(s.ro.size() == n, fn, "LBFGS history of group ", g, " has ", n, " entries but ",
                    s.ro.size(), " curvature values");
        auto take = [&](const std::string& key) {
          Tensor<T>* t = ps.buffers.find(key);
          SINEW_CHECK(t != nullptr && t->numel() == group_numel(g), fn, "LBFGS state of group ", g,
                      " needs '", key, "' with ", group_numel(g), " values");
          return t->contiguous().reshape({group_numel(g)});
        };
        s.d = take("d");
        s.prev_flat_grad = take("prev_flat_grad");
        for (size_t k = 0; k < n; ++k) {
          s.old_dirs.push_back(take("old_dirs." + std::to_string(k)));
          s.old_stps.push_back(take("old_stps." + std::to_string(k)));
        }
      }
      ps = ParamStateT<T>{};
    }
    this->clear_state();
    groups_state_ = std::move(fresh);
  }

 private:
  struct GroupState {
    Tensor<T> d, prev_flat_grad;  // saved between steps
    std::vector<Tensor<T>> old_dirs, old_stps;
    std::vector<double> ro;
    double t = 0, h_diag = 1, prev_loss = 0;
    int64_t n_iter = 0, func_evals = 0;
    // Scratch, allocated once: gradient, line-search start point and trial gradients.
    Tensor<T> flat_grad, x_init, g_prev, g_new, bracket_g[2];
    std::vector<double> al;
  };

  static void visit_scalars(FieldVisitor& v, GroupState& s, int64_t& history) {
    v.field("t", s.t);
    v.field("H_diag", s.h_diag);
    v.field("prev_loss", s.prev_loss);
    v.field("ro", s.ro);
    v.field("n_iter", s.n_iter);
    v.field("func_evals", s.func_evals);
    v.field("history", history);
  }

  int64_t group_numel(size_t g) const {
    int64_t n = 0;
    for (const auto& p : this->params_[g]) n += p.numel();
    return n;
  }
  // A flat vector of the group's length on the device of its first parameter.
  Tensor<T> flat_buffer(size_t g) const {
    return zeros<T>({group_numel(g)}, this->params_[g][0].device());
  }

  // The group's gradients, concatenated (a parameter without .grad contributes zeros).
  void gather_flat_grad(size_t g, Tensor<T>& out) const {
    int64_t offset = 0;
    for (const auto& p : this->params_[g]) {
      Tensor<T> gr = this->grad_of(p);
      const int64_t n = p.numel();
      Tensor<T> slot = out.narrow(0, offset, n);
      if (gr.defined()) {
        slot.copy_(gr.detach().reshape({n}));
      } else {
        slot.zero_();
      }
      offset += n;
    }
  }
  // p <- p + t * d over the group's parameters (PyTorch's p.add_(d_slice, alpha=t)).
  void add_grad(size_t g, double t, const Tensor<T>& d) const {
    int64_t offset = 0;
    for (const auto& p : this->params_[g]) {
      this->check_param(p);
      const int64_t n = p.numel();
      Tensor<T> w = p.detach();
      w.add_(d.narrow(0, offset, n).view(p.shape()), t);
      offset += n;
    }
  }
  void clone_params(size_t g, Tensor<T>& out) const {
    int64_t offset = 0;
    for (const auto& p : this->params_[g]) {
      const int64_t n = p.numel();
      out.narrow(0, offset, n).copy_(p.detach().reshape({n}));
      offset += n;
    }
  }
  void set_params(size_t g, const Tensor<T>& x) const {
    int64_t offset = 0;
    for (const auto& p : this->params_[g]) {
      this->check_param(p);
      const int64_t n = p.numel();
      Tensor<T> w = p.detach();
      w.copy_(x.narrow(0, offset, n).view(p.shape()));
      offset += n;
    }
  }
  static double evaluate(const Closure& closure) {
    EnableGradGuard enable;
    Tensor<T> loss = closure();
    SINEW_CHECK(loss.defined() && loss.numel() == 1, "LBFGS::step",
                "the closure must return the one-element loss tensor");
    return static_cast<double>(loss.item());
  }
  // Loss and gradient at x + t d (x: the saved parameters); the parameters are restored after.
  double directional_evaluate(size_t g, const Closure& closure, double t, const Tensor<T>& d,
                              Tensor<T>& grad_out) {
    GroupState& s = groups_state_[g];
    add_grad(g, t, d);
    double loss = evaluate(closure);
    gather_flat_grad(g, grad_out);
    set_params(g, s.x_init);
    return loss;
  }

  // PyTorch's _strong_wolfe: returns the accepted loss and step; the accepted gradient is written
  // into s.flat_grad.
  double strong_wolfe(size_t g, const Closure& closure, double& t, const Tensor<T>& d, double f,
                      double gtd, double tolerance_change, int64_t& ls_func_evals) {
    const double c1 = 1e-4, c2 = 0.9;
    const int64_t max_ls = 25;
    GroupState& s = groups_state_[g];
    const double d_norm = detail::abs_max(d);
    Tensor<T>& g0 = s.flat_grad;  // g (its values are read only until the end)
    double f_new = directional_evaluate(g, closure, t, d, s.g_new);
    ls_func_evals = 1;
    double gtd_new = detail::dot(s.g_new, d);

    double t_prev = 0, f_prev = f, gtd_prev = gtd;
    bool g_prev_is_g0 = true;  // g_prev is g itself until the first interpolation
    bool done = false;
    int64_t ls_iter = 0;
    double bracket[2] = {0, 0}, bracket_f[2] = {0, 0}, bracket_gtd[2] = {0, 0};
    int n_bracket = 0;
    auto set_prev_new = [&] {  // bracket = [prev, new]
      bracket[0] = t_prev, bracket[1] = t;
      bracket_f[0] = f_prev, bracket_f[1] = f_new;
      bracket_gtd[0] = gtd_prev, bracket_gtd[1] = gtd_new;
      detail::copy_into(s.bracket_g[0], g_prev_is_g0 ? g0 : s.g_prev);
      detail::copy_into(s.bracket_g[1], s.g_new);
      n_bracket = 2;
    };
    while (ls_iter < max_ls) {
      if (f_new > f + c1 * t * gtd || (ls_iter > 1 && f_new >= f_prev)) {
        set_prev_new();
        break;
      }
      if (std::fabs(gtd_new) <= -c2 * gtd) {
        bracket[0] = t, bracket_f[0] = f_new;
        detail::copy_into(s.bracket_g[0], s.g_new);
        n_bracket = 1;
        done = true;
        break;
      }
      if (gtd_new >= 0) {
        set_prev_new();
        break;
      }
      const double min_step = t + 0.01 * (t - t_prev);
      const double max_step = t * 10;
      const double tmp = t;
      t = detail::cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                                    std::make_pair(min_step, max_step));
      t_prev = tmp;
      f_prev = f_new;
      detail::copy_into(s.g_prev, s.g_new);
      g_prev_is_g0 = false;
      gtd_prev = gtd_new;
      f_new = directional_evaluate(g, closure, t, d, s.g_new);
      ls_func_evals += 1;
      gtd_new = detail::dot(s.g_new, d);
      ls_iter += 1;
    }
    if (ls_iter == max_ls) {
      bracket[0] = 0, bracket[1] = t;
      bracket_f[0] = f, bracket_f[1] = f_new;
      detail::copy_into(s.bracket_g[0], g0);
      detail::copy_into(s.bracket_g[1], s.g_new);
      n_bracket = 2;
    }

    // Zoom: refine the bracket until a point satisfies the strong Wolfe conditions.
    bool insuf_progress = false;
    int low = 0, high = 1;
    if (n_bracket == 2 && !(bracket_f[0] <= bracket_f[1])) low = 1, high = 0;
    if (n_bracket == 1) low = 0;
    while (!done && ls_iter < max_ls) {
      if (std::fabs(bracket[1] - bracket[0]) * d_norm < tolerance_change) break;
      t = detail::cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1],
                                    bracket_f[1], bracket_gtd[1]);
      const double bmax = std::max(bracket[0], bracket[1]);
      const double bmin = std::min(bracket[0], bracket[1]);
      const double eps = 0.1 * (bmax - bmin);
      if (std::min(bmax - t, t - bmin) < eps) {
        if (insuf_progress || t >= bmax || t <= bmin) {
          t = std::fabs(t - bmax) < std::fabs(t - bmin) ? bmax - eps : bmin + eps;
          insuf_progress = false;
        } else {
          insuf_progress = true;
        }
      } else {
        insuf_progress = false;
      }
      f_new = directional_evaluate(g, closure, t, d, s.g_new);
      ls_func_evals += 1;
      gtd_new = detail::dot(s.g_new, d);
      ls_iter += 1;
      if (f_new > f + c1 * t * gtd || f_new >= bracket_f[low]) {
        bracket[high] = t;
        bracket_f[high] = f_new;
        detail::copy_into(s.bracket_g[high], s.g_new);
        bracket_gtd[high] = gtd_new;
        if (bracket_f[0] <= bracket_f[1]) {
          low = 0, high = 1;
        } else {
          low = 1, high = 0;
        }
      } else {
        if (std::fabs(gtd_new) <= -c2 * gtd) {
          done = true;
        } else if (gtd_new * (bracket[high] - bracket[low]) >= 0) {
          bracket[high] = bracket[low];
          bracket_f[high] = bracket_f[low];
          detail::copy_into(s.bracket_g[high], s.bracket_g[low]);
          bracket_gtd[high] = bracket_gtd[low];
        }
        bracket[low] = t;
        bracket_f[low] = f_new;
        detail::copy_into(s.bracket_g[low], s.g_new);
        bracket_gtd[low] = gtd_new;
      }
    }
    t = bracket[low];
    detail::copy_into(s.flat_grad, s.bracket_g[low]);
    return bracket_f[low];
  }

  // PyTorch's LBFGS.step on one group.
  double step_group(size_t g, const Closure& closure) {
    if (groups_state_.size() < this->num_param_groups())
      groups_state_.resize(this->num_param_groups());
    GroupState& s = groups_state_[g];
    const LBFGSOptions& o = this->options(g);
    const int64_t max_eval = o.max_eval == -1 ? o.max_iter * 5 / 4 : o.max_eval;
    if (!s.flat_grad.defined()) {
      s.flat_grad = flat_buffer(g);
      s.x_init = flat_buffer(g);
      s.g_prev = flat_buffer(g);
      s.g_new = flat_buffer(g);
      s.bracket_g[0] = flat_buffer(g);
      s.bracket_g[1] = flat_buffer(g);
    }
    if (!s.d.defined()) {
      s.d = flat_buffer(g);
      s.prev_flat_grad = flat_buffer(g);
    }

    const double orig_loss = evaluate(closure);
    double loss = orig_loss;
    int64_t current_evals = 1;
    s.func_evals += 1;
    gather_flat_grad(g, s.flat_grad);
    if (detail::abs_max(s.flat_grad) <= o.tolerance_grad) return orig_loss;

    Tensor<T>& d = s.d;
    const Tensor<T>& fg = s.flat_grad;
    int64_t n_iter = 0;
    while (n_iter < o.max_iter) {
      n_iter += 1;
      s.n_iter += 1;
      // ---- direction -----------------------------------------------------------------------
      if (s.n_iter == 1) {
        d.copy_(fg.neg());
        s.old_dirs.clear();
        s.old_stps.clear();
        s.ro.clear();
        s.h_diag = 1;
      } else {
        // y = flat_grad - prev_flat_grad, s = d * t.
        Tensor<T> y = fg - s.prev_flat_grad;
        Tensor<T> st = d * s.t;
        const double ys = detail::dot(y, st);
        if (ys > 1e-10) {
          if (static_cast<int64_t>(s.old_dirs.size()) == o.history_size) {
            s.old_dirs.erase(s.old_dirs.begin());
            s.old_stps.erase(s.old_stps.begin());
            s.ro.erase(s.ro.begin());
          }
          const double yy = detail::dot(y, y);
          s.old_dirs.push_back(y);
          s.old_stps.push_back(st);
          s.ro.push_back(1.0 / ys);
          s.h_diag = ys / yy;
        }
        // Two-loop recursion; q and r share the direction buffer d.
        const size_t num_old = s.old_dirs.size();
        s.al.resize(std::max<size_t>(s.al.size(), num_old));
        d.copy_(fg.neg());
        for (size_t k = num_old; k-- > 0;) {
          s.al[k] = detail::dot(s.old_stps[k], d) * s.ro[k];
          d.add_(s.old_dirs[k], -s.al[k]);
        }
        d.mul_(s.h_diag);
        for (size_t k = 0; k < num_old; ++k) {
          const double be_i = detail::dot(s.old_dirs[k], d) * s.ro[k];
          d.add_(s.old_stps[k], s.al[k] - be_i);
        }
      }
      detail::copy_into(s.prev_flat_grad, s.flat_grad);
      s.prev_loss = loss;

      // ---- step length -----------------------------------------------------------------------
      if (s.n_iter == 1) {
        s.t = std::min(1.0, 1.0 / detail::abs_sum(fg)) * o.lr;
      } else {
        s.t = o.lr;
      }
      const double gtd = detail::dot(s.flat_grad, s.d);
      if (gtd > -o.tolerance_change) break;

      int64_t ls_func_evals = 0;
      bool opt_cond = false;
      if (o.line_search_fn == LineSearch::StrongWolfe) {
        clone_params(g, s.x_init);
        loss = strong_wolfe(g, closure, s.t, s.d, loss, gtd, o.tolerance_change, ls_func_evals);
        add_grad(g, s.t, s.d);
        opt_cond = detail::abs_max(s.flat_grad) <= o.tolerance_grad;
      } else {
        add_grad(g, s.t, s.d);
        if (n_iter != o.max_iter) {
          loss = evaluate(closure);
          gather_flat_grad(g, s.flat_grad);
          opt_cond = detail::abs_max(s.flat_grad) <= o.tolerance_grad;
          ls_func_evals = 1;
        }
      }
      current_evals += ls_func_evals;
      s.func_evals += ls_func_evals;

      // ---- stopping conditions ---------------------------------------------------------------
      if (n_iter == o.max_iter) break;
      if (current_evals >= max_eval) break;
      if (opt_cond) break;
      if (detail::abs_max(s.d) * std::fabs(s.t) <= o.tolerance_change) break;
      if (std::fabs(loss - s.prev_loss) < o.tolerance_change) break;
    }
    return orig_loss;
  }

  std::vector<GroupState> groups_state_ = {};
};

using LBFGS = LBFGST<float>;

}  // namespace sinew::optim
