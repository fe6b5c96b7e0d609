// operator<< for tensors, formatted like PyTorch's repr: tensor([[1.0000, 2.5000], ...]) with
// aligned columns, integer-valued floats as "1.", scientific notation for wide ranges, lines
// wrapped at 80 columns, and "..." for large tensors (first and last 3 entries of each dimension
// past 1000 elements). set_printoptions changes these as torch.set_printoptions does, and can add
// LibTorch's footer line naming the type and device ("[ CPUFloatType{2,3} ]").
#pragma once

#include <optional>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "sinew/autograd/node.hpp"

namespace sinew {

namespace detail {}  // namespace detail

// How tensors print (PyTorch's torch.set_printoptions, defaults included), plus LibTorch's footer.
struct PrintOptions {
  int precision = 4;         // digits after the point
  int64_t threshold = 1000;  // more elements than this print summarized with "..."
  int64_t edgeitems = 3;     // entries kept at each end of a summarized dimension
  int64_t linewidth = 80;
  std::optional<bool> sci_mode = std::nullopt;  // nullopt: chosen from the values
  bool footer = false;  // a last line "[ CPUFloatType{2,3} ]" as LibTorch prints
};

namespace detail {
inline PrintOptions& print_options_ref() {
  static PrintOptions options;
  return options;
}
}  // namespace detail

// The options in effect (process-wide, as in PyTorch), and how to change them:
//   sinew::set_printoptions({.precision = 2, .footer = true});
inline const PrintOptions& print_options() { return detail::print_options_ref(); }
inline void set_printoptions(const PrintOptions& options) {
  SINEW_CHECK(options.precision >= 0 && options.precision <= 30 && options.threshold >= 0 &&
                  options.edgeitems >= 0 && options.linewidth > 0,
              "set_printoptions", "precision in [0, 30], threshold >= 0, edgeitems >= 0 and ",
              "linewidth > 0 expected, got precision ", options.precision, ", threshold ",
              options.threshold, ", edgeitems ", options.edgeitems, ", linewidth ",
              options.linewidth);
  detail::print_options_ref() = options;
}

namespace detail {

// LibTorch's name of a tensor type: CPUFloatType, CUDALongType, ...
inline std::string libtorch_type_name(DType d, const Device& device) {
  const char* scalar = "Float";
  switch (d) {
    case DType::Float32:
      scalar = "Float";
      break;
    case DType::Float64:
      scalar = "Double";
      break;
    case DType::Int64:
      scalar = "Long";
      break;
    case DType::UInt8:
      scalar = "Byte";
      break;
    case DType::Bool:
      scalar = "Bool";
      break;
  }
  return std::string(device.is_cpu() ? "CPU" : "CUDA") + scalar + "Type";
}

struct PrintFormat {
  bool int_mode = false;  // floats that are all whole numbers print as "3."
  bool sci = false;
  int precision = 4;
  size_t width = 1;
};

// One value without padding.
template <class T>
std::string format_raw(T v, const PrintFormat& f) {
  std::ostringstream os;
  if constexpr (std::is_same_v<T, bool>) {
    os << (v ? "True" : "False");
  } else if constexpr (std::is_integral_v<T>) {
    os << static_cast<int64_t>(v);
  } else {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    if (f.sci)
      os << std::scientific << std::setprecision(f.precision) << double(v);
    else if (f.int_mode)
      os << std::fixed << std::setprecision(0) << double(v) << '.';
    else
      os << std::fixed << std::setprecision(f.precision) << double(v);
  }
  return os.str();
}

// One value right-aligned to the common width.
template <class T>
std::string format_value(T v, const PrintFormat& f) {
  std::string s = format_raw(v, f);
  return std::string(f.width > s.size() ? f.width - s.size() : 0, ' ') + s;
}

// PyTorch's _Formatter: the mode and width are chosen from the values that will be shown; for
// floats only the non-zero finite ones count.
template <class T>
PrintFormat choose_format(const std::vector<T>& values) {
  PrintFormat f;
  f.precision = print_options().precision;
  if constexpr (is_floating_dtype_v<T>) {
    f.int_mode = true;
    std::vector<double> nz;
    for (T v : values) {
      if (std::isfinite(v) && v != 0) nz.push_back(double(v));
    }
    if (nz.empty()) return f;
    double lo = INFINITY, hi = 0;
    for (double v : nz) {
      lo = std::min(lo, std::abs(v));
      hi = std::max(hi, std::abs(v));
      if (v != std::ceil(v)) f.int_mode = false;
    }
    f.sci = print_options().sci_mode.value_or(hi / lo > 1000.0 || hi > 1.0e8 ||
                                              (!f.int_mode && lo < 1.0e-4));
    if (f.sci) f.int_mode = false;
    for (double v : nz) f.width = std::max(f.width, format_raw(v, f).size());
  } else {
    for (T v : values) f.width = std::max(f.width, format_raw(v, f).size());
  }
  return f;
}

template <class T>
std::string tensor_str(const T* base, const Shape& shape, const Shape& strides, int64_t d,
                       const PrintFormat& f, bool summarize, int64_t indent) {
  int64_t n = shape[d];
  bool last = d + 1 == shape.size();
  const int64_t edge = print_options().edgeitems;
  bool cut = summarize && n > 2 * edge;
  std::vector<std::string> items;
  for (int64_t i = 0; i < n; ++i) {
    if (cut && i == edge) {
      items.emplace_back(last ? " ..." : "...");
      i = n - edge - 1;
      continue;
    }
    const T* p = base + i * strides[d];
    items.push_back(last ? format_value(*p, f)
                         : tensor_str(p, shape, strides, d + 1, f, summarize, indent + 1));
  }
  std::string out = "[";
  if (last) {
    // Wrapped to the line width like PyTorch's _vector_str.
    int64_t per_line = std::max<int64_t>(
        1, (print_options().linewidth - indent) / static_cast<int64_t>(f.width + 2));
    std::string line_sep = ",\n" + std::string(static_cast<size_t>(indent + 1), ' ');
    for (size_t i = 0; i < items.size(); ++i) {
      if (i > 0) out += i % static_cast<size_t>(per_line) == 0 ? line_sep : ", ";
      out += items[i];
    }
  } else {
    std::string sep = "," + std::string(static_cast<size_t>(shape.size() - d - 1), '\n') +
                      std::string(static_cast<size_t>(indent + 1), ' ');
    for (size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
  }
  return out + "]";
}

}  // namespace detail

template <class T>
std::ostream& operator<<(std::ostream& os, const Tensor<T>& t) {
  if (!t.defined()) return os << "tensor(undefined)";
  Tensor<T> c = t.is_cpu() ? t : t.to(Device::cpu());
  const T* base = c.data_ptr();
  const std::string prefix = "tensor(";
  const int64_t indent = static_cast<int64_t>(prefix.size());
  const PrintOptions& opt = print_options();
  bool summarize = c.numel() > opt.threshold;
  std::vector<std::string> suffixes;
  if (!t.device().is_cpu()) suffixes.push_back(detail::str("device='", t.device(), "'"));
  std::string body;
  if (c.numel() == 0) {
    // As PyTorch: the size unless it is (0,), and the dtype unless it is the default float.
    body = "[]";
    if (c.dim() != 1) suffixes.push_back(detail::str("size=", c.shape()));
    if (!std::is_same_v<T, float>) suffixes.push_back(detail::str("dtype=", dtype_of<T>()));
  } else {
    std::vector<T> values;  // the values that will be shown, to pick the format
    std::vector<int64_t> idx(static_cast<size_t>(c.dim()), 0);
    for (int64_t k = 0; k < c.numel(); ++k) {
      int64_t off = 0;
      bool shown = true;
      for (int64_t d = 0; d < c.dim(); ++d) {
        off += idx[d] * c.stride(d);
        int64_t n = c.size(d);
        if (summarize && n > 2 * opt.edgeitems && idx[d] >= opt.edgeitems &&
            idx[d] < n - opt.edgeitems) {
          shown = false;
        }
      }
      if (shown) values.push_back(base[off]);
      for (int64_t d = c.dim() - 1; d >= 0; --d) {
        if (++idx[d] < c.size(d)) break;
        idx[d] = 0;
      }
    }
    detail::PrintFormat f = detail::choose_format(values);
    body = c.dim() == 0 ? detail::format_raw(*base, f)
                        : detail::tensor_str(base, c.shape(), c.strides(), 0, f, summarize, indent);
    // PyTorch names the dtype except for its defaults (float32, int64, bool).
    if (std::is_same_v<T, double> || std::is_same_v<T, uint8_t>) {
      suffixes.push_back(detail::str("dtype=", dtype_of<T>()));
    }
  }
  if (t.requires_grad()) {
    if (t.grad_fn())
      suffixes.push_back("grad_fn=<" + t.grad_fn()->name() + ">");
    else
      suffixes.push_back("requires_grad=True");
  }
  // Suffixes go on a new line when they would pass the line width (PyTorch's _add_suffixes).
  std::string out = prefix + body;
  size_t nl = out.rfind('\n');
  int64_t last_line = static_cast<int64_t>(out.size()) -
                      (nl == std::string::npos ? -1 : static_cast<int64_t>(nl)) + 1;
  for (const auto& s : suffixes) {
    int64_t len = static_cast<int64_t>(s.size());
    if (last_line + len + 2 > opt.linewidth) {
      out += ",\n" + std::string(static_cast<size_t>(indent), ' ') + s;
      last_line = indent + len;
    } else {
      out += ", " + s;
      last_line += len + 2;
    }
  }
  out += ')';
  if (opt.footer) {
    out += "\n[ " + detail::libtorch_type_name(dtype_of<T>(), t.device()) + "{";
    for (int64_t d = 0; d < t.dim(); ++d) out += (d ? "," : "") + std::to_string(t.size(d));
    out += "} ]";
  }
  return os << out;
}

}  // namespace sinew
