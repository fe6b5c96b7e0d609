// operator<< for tensors, formatted like PyTorch: tensor([[1.0000, 2.5000], ...]) with aligned
// columns, integer-valued floats as "1.", scientific notation for wide ranges, and "..." for large
// tensors (first and last 3 entries of each dimension past 1000 elements).
#pragma once

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "sinew/autograd/node.hpp"

namespace sinew {

namespace detail {

struct PrintFormat {
  bool integer_mode = false;  // floats that are all whole numbers print as "3."
  bool sci = false;
  int precision = 4;
  size_t width = 1;
};

template <class T>
std::string format_value(T v, const PrintFormat& f) {
  std::ostringstream os;
  if constexpr (std::is_same_v<T, bool>) {
    os << (v ? "True" : "False");
  } else if constexpr (std::is_integral_v<T>) {
    os << static_cast<int64_t>(v);
  } else {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    if (f.sci) os << std::scientific << std::setprecision(f.precision) << v;
    else if (f.integer_mode) os << std::fixed << std::setprecision(0) << v << '.';
    else os << std::fixed << std::setprecision(f.precision) << v;
  }
  return os.str();
}

template <class T>
void print_rec(std::ostream& os, const T* base, const Shape& shape, const Shape& strides, int64_t d,
               const PrintFormat& f, bool summarize, int indent) {
  if (d == shape.size()) {
    std::string s = format_value(*base, f);
    os << std::string(f.width > s.size() ? f.width - s.size() : 0, ' ') << s;
    return;
  }
  int64_t n = shape[d];
  os << '[';
  for (int64_t i = 0; i < n; ++i) {
    if (summarize && n > 6 && i == 3) {
      os << "...";
      i = n - 4;
      if (d + 1 < shape.size()) os << ",\n" << std::string(static_cast<size_t>(indent + 1), ' ');
      else os << ", ";
      continue;
    }
    print_rec(os, base + i * strides[d], shape, strides, d + 1, f, summarize, indent + 1);
    if (i + 1 < n) {
      if (d + 1 < shape.size()) {
        os << ',' << std::string(static_cast<size_t>(shape.size() - d - 1), '\n')
           << std::string(static_cast<size_t>(indent + 1), ' ');
      } else {
        os << ", ";
      }
    }
  }
  os << ']';
}

}  // namespace detail

template <class T>
std::ostream& operator<<(std::ostream& os, const Tensor<T>& t) {
  if (!t.defined()) return os << "tensor(undefined)";
  Tensor<T> c = t.is_cpu() ? t : t.to(Device::cpu());
  const T* base = c.data_ptr();
  bool summarize = c.numel() > 1000;
  detail::PrintFormat f;
  std::vector<T> values;  // the values that will be shown, to pick the format
  {
    std::vector<int64_t> idx(static_cast<size_t>(c.dim()), 0);
    for (int64_t k = 0; k < c.numel(); ++k) {
      int64_t off = 0;
      bool shown = true;
      for (int64_t d = 0; d < c.dim(); ++d) {
        off += idx[d] * c.stride(d);
        if (summarize && c.size(d) > 6 && idx[d] >= 3 && idx[d] < c.size(d) - 3) shown = false;
      }
      if (shown) values.push_back(base[off]);
      for (int64_t d = c.dim() - 1; d >= 0; --d) {
        if (++idx[d] < c.size(d)) break;
        idx[d] = 0;
      }
    }
  }
  if constexpr (is_floating_dtype_v<T>) {
    bool all_int = true;
    double max_abs = 0, min_abs = INFINITY;
    for (T v : values) {
      if (!std::isfinite(v)) continue;
      all_int = all_int && std::floor(v) == v;
      max_abs = std::max(max_abs, double(std::abs(v)));
      if (v != 0) min_abs = std::min(min_abs, double(std::abs(v)));
    }
    f.integer_mode = all_int;
    f.sci = all_int ? max_abs >= 1e8 : (max_abs >= 1e8 || (min_abs < 1e-4) || max_abs / min_abs > 1000);
    if (all_int && f.sci) f.integer_mode = false;
  }
  for (T v : values) f.width = std::max(f.width, detail::format_value(v, f).size());
  os << "tensor(";
  if (c.dim() == 0) os << detail::format_value(*base, f);
  else detail::print_rec(os, base, c.shape(), c.strides(), 0, f, summarize, 7);
  if (summarize || c.numel() == 0) os << ", size=" << c.shape();
  if constexpr (!std::is_same_v<T, float>) os << ", dtype=" << dtype_of<T>();
  if (!t.device().is_cpu()) os << ", device='" << t.device() << "'";
  if (t.requires_grad()) {
    if (t.grad_fn()) os << ", grad_fn=<" << t.grad_fn()->name() << ">";
    else os << ", requires_grad=True";
  }
  return os << ')';
}

}  // namespace sinew
