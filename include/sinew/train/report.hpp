// Reports of a training run: the loss and accuracy curves as SVG, a minimal grayscale PNG encoder
// (one image or a grid of them), and one self-contained HTML page (settings, model summary,
// curves, confusion heat map, misclassified images).
#pragma once

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sinew/core/error.hpp"
#include "sinew/core/tensor.hpp"
#include "sinew/train/history.hpp"
#include "sinew/train/metrics.hpp"

namespace sinew::train {

struct CurvesOptions {
  int64_t width = 900;  // the whole picture, both panels side by side
  int64_t height = 360;
};

namespace detail {

// Text made safe inside an HTML or SVG element or a double-quoted attribute.
inline std::string escape_xml(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

inline std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// Axis ticks at round values (1, 2 or 5 times a power of ten apart) covering [lo, hi]; the axis
// runs from the first tick to the last. integer: steps of at least 1 (epochs).
struct Ticks {
  double lo = 0, hi = 1, step = 1;
  std::vector<double> values;
  int decimals = 0;  // for the labels
};

inline Ticks nice_ticks(double lo, double hi, bool integer, int target = 5) {
  if (!(hi > lo)) {
    const double d = integer ? 1.0 : (lo == 0 ? 1.0 : std::abs(lo) * 0.1);
    lo -= d;
    hi += d;
  }
  const double raw = (hi - lo) / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag;
  double step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
  if (integer) step = std::max(1.0, std::round(step));
  Ticks t;
  t.step = step;
  t.lo = std::floor(lo / step + 1e-9) * step;
  t.hi = std::ceil(hi / step - 1e-9) * step;
  const auto n = static_cast<int64_t>(std::llround((t.hi - t.lo) / step));
  for (int64_t k = 0; k <= n; ++k) {
    double v = t.lo + static_cast<double>(k) * step;
    if (std::abs(v) < step * 1e-9) v = 0;  // no "-0.00"
    t.values.push_back(v);
  }
  t.decimals = std::max(0, -static_cast<int>(std::floor(std::log10(step) + 1e-9)));
  return t;
}

inline std::string tick_label(double v, int decimals) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

struct Series {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (epoch, value), finite values only
};

inline bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// One panel: frame, ticks with labels, axis titles, a polyline and markers per series, legend.
inline void curves_panel(std::string& svg, const std::string& title, const std::string& y_title,
                         const std::vector<Series>& series, double x0, double width,
                         double height) {
  static const char* colors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"};
  const double left = x0 + 64, right = x0 + width - 16, top = 34, bottom = height - 78;
  double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
  for (const auto& s : series) {
    for (auto [x, y] : s.points) {
      xmin = std::min(xmin, x), xmax = std::max(xmax, x);
      ymin = std::min(ymin, y), ymax = std::max(ymax, y);
    }
  }
  const bool any = xmin <= xmax;
  if (!any) xmin = 1, xmax = 1, ymin = 0, ymax = 1;
  const Ticks tx = nice_ticks(xmin, xmax, true), ty = nice_ticks(ymin, ymax, false);
  auto px = [&](double x) { return left + (x - tx.lo) / (tx.hi - tx.lo) * (right - left); };
  auto py = [&](double y) { return bottom - (y - ty.lo) / (ty.hi - ty.lo) * (bottom - top); };
  svg += "<g class=\"panel\">\n";
  svg += "<text x=\"" + num((left + right) / 2) +
         "\" y=\"20\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">" +
         escape_xml(title) + "</text>\n";
  svg += "<rect x=\"" + num(left) + "\" y=\"" + num(top) + "\" width=\"" + num(right - left) +
         "\" height=\"" + num(bottom - top) + "\" fill=\"#ffffff\" stroke=\"#444444\"/>\n";
  for (double v : tx.values) {
    const std::string x = num(px(v));
    svg += "<line x1=\"" + x + "\" y1=\"" + num(bottom) + "\" x2=\"" + x + "\" y2=\"" +
           num(bottom + 5) + "\" stroke=\"#444444\"/>\n";
    svg += "<text class=\"tick\" x=\"" + x + "\" y=\"" + num(bottom + 18) +
           "\" text-anchor=\"middle\">" + tick_label(v, tx.decimals) + "</text>\n";
  }
  for (double v : ty.values) {
    const std::string y = num(py(v));
    svg += "<line x1=\"" + num(left) + "\" y1=\"" + y + "\" x2=\"" + num(right) + "\" y2=\"" + y +
           "\" stroke=\"#e5e5e5\"/>\n";
    svg += "<line x1=\"" + num(left - 5) + "\" y1=\"" + y + "\" x2=\"" + num(left) + "\" y2=\"" +
           y + "\" stroke=\"#444444\"/>\n";
    svg += "<text class=\"tick\" x=\"" + num(left - 8) + "\" y=\"" + num(py(v) + 4) +
           "\" text-anchor=\"end\">" + tick_label(v, ty.decimals) + "</text>\n";
  }
  svg += "<text x=\"" + num((left + right) / 2) + "\" y=\"" + num(bottom + 38) +
         "\" text-anchor=\"middle\">epoch</text>\n";
  svg += "<text x=\"" + num(x0 + 16) + "\" y=\"" + num((top + bottom) / 2) +
         "\" text-anchor=\"middle\" transform=\"rotate(-90 " + num(x0 + 16) + " " +
         num((top + bottom) / 2) + ")\">" + escape_xml(y_title) + "</text>\n";
  if (!any) {
    svg += "<text x=\"" + num((left + right) / 2) + "\" y=\"" + num((top + bottom) / 2) +
           "\" text-anchor=\"middle\" fill=\"#888888\">no data</text>\n";
  }
  double legend_x = left;
  for (size_t i = 0; i < series.size(); ++i) {
    const std::string color = colors[i % 6];
    const bool dashed = series[i].name.find("test") != std::string::npos ||
                        series[i].name.find("val") != std::string::npos;
    const std::string dash = dashed ? "\" stroke-dasharray=\"6 3" : "";
    svg += "<polyline class=\"series\" fill=\"none\" stroke=\"" + color + dash +
           "\" stroke-width=\"2\" points=\"";
    for (size_t k = 0; k < series[i].points.size(); ++k) {
      if (k > 0) svg += ' ';
      svg += num(px(series[i].points[k].first));
      svg += ',';
      svg += num(py(series[i].points[k].second));
    }
    svg += "\"/>\n";
    for (auto [x, y] : series[i].points) {
      svg += "<circle cx=\"" + num(px(x)) + "\" cy=\"" + num(py(y)) + "\" r=\"3\" fill=\"" + color +
             "\"/>\n";
    }
    const double ly = bottom + 60;
    svg += "<line x1=\"" + num(legend_x) + "\" y1=\"" + num(ly - 4) + "\" x2=\"" +
           num(legend_x + 22) + "\" y2=\"" + num(ly - 4) + "\" stroke=\"" + color + dash +
           "\" stroke-width=\"2\"/>\n";
    svg += "<text class=\"legend\" x=\"" + num(legend_x + 27) + "\" y=\"" + num(ly) + "\">" +
           escape_xml(series[i].name) + "</text>\n";
    legend_x += 40 + 7.5 * static_cast<double>(series[i].name.size());
  }
  svg += "</g>\n";
}

inline std::string curves_svg(const History& history, const CurvesOptions& options,
                              bool standalone) {
  SINEW_CHECK(options.width >= 200 && options.height >= 150, "curves_svg",
              "the picture must be at least 200 x 150, got ", options.width, " x ", options.height);
  std::vector<Series> loss, acc;
  for (const auto& name : history.names()) {
    const bool is_loss = ends_with(name, "loss");
    if (!is_loss && !ends_with(name, "acc") && !ends_with(name, "accuracy")) continue;
    Series s{name, {}};
    const std::vector<double> v = history.column(name);
    for (size_t r = 0; r < v.size(); ++r) {
      if (std::isfinite(v[r]))
        s.points.emplace_back(static_cast<double>(history.epochs()[r]), v[r]);
    }
    (is_loss ? loss : acc).push_back(std::move(s));
  }
  const double w = static_cast<double>(options.width), h = static_cast<double>(options.height);
  std::string svg = "<svg";
  if (standalone) svg += " xmlns=\"http://www.w3.org/2000/svg\"";
  svg += " class=\"curves\" width=\"" + std::to_string(options.width) + "\" height=\"" +
         std::to_string(options.height) + "\" viewBox=\"0 0 " + std::to_string(options.width) +
         " " + std::to_string(options.height) + "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  svg += "<rect width=\"" + num(w) + "\" height=\"" + num(h) + "\" fill=\"#ffffff\"/>\n";
  curves_panel(svg, "Loss", "loss", loss, 0, w / 2, h);
  curves_panel(svg, "Accuracy", "accuracy", acc, w / 2, w / 2, h);
  svg += "</svg>\n";
  return svg;
}

inline void append_be32(std::string& s, uint32_t v) {
  for (int i = 3; i >= 0; --i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
}

inline std::string base64(const std::string& bytes) {
  static const char* abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (i + 1 < bytes.size())
      v |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    if (i + 2 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 2]);
    out += abc[(v >> 18) & 63];
    out += abc[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? abc[(v >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? abc[v & 63] : '=';
  }
  return out;
}

}  // namespace detail

// The loss and accuracy curves of `history` as one SVG document: two panels side by side, one
// polyline (with a marker per epoch) for each column whose name ends in "loss" (left) or in "acc"
// / "accuracy" (right); epochs on x. Axes have ticks at round values with labels, titles and a
// legend of the column names. Missing and non-finite values are left out of a series.
inline std::string curves_svg(const History& history, const CurvesOptions& options = {}) {
  return detail::curves_svg(history, options, true);
}

// Writes an SVG (or any text) to `path` atomically.
inline void save_svg(const std::string& path, const std::string& svg) {
  detail::write_text_atomically(path, svg, "save_svg");
}

// An 8-bit grayscale PNG (colour type 0, no interlace, filter 0 on every row) of `pixels`,
// row-major height x width: signature, IHDR, one zlib-compressed IDAT, IEND.
inline std::string encode_png(const std::vector<uint8_t>& pixels, int64_t width, int64_t height) {
  SINEW_CHECK(width >= 1 && height >= 1 && width <= (1 << 24) && height <= (1 << 24), "encode_png",
              "width and height must be in [1, 2^24], got ", width, " x ", height);
  SINEW_CHECK(static_cast<int64_t>(pixels.size()) == width * height, "encode_png", "got ",
              pixels.size(), " pixels for ", width, " x ", height);
  std::string raw;
  raw.reserve(static_cast<size_t>((width + 1) * height));
  for (int64_t y = 0; y < height; ++y) {
    raw += '\0';  // filter type None
    raw.append(reinterpret_cast<const char*>(pixels.data() + y * width),
               static_cast<size_t>(width));
  }
  uLongf packed_size = compressBound(static_cast<uLong>(raw.size()));
  std::string packed(packed_size, '\0');
  const int rc =
      compress2(reinterpret_cast<Bytef*>(packed.data()), &packed_size,
                reinterpret_cast<const Bytef*>(raw.data()), static_cast<uLong>(raw.size()), 9);
  SINEW_CHECK(rc == Z_OK, "encode_png", "zlib compress2 failed with code ", rc);
  packed.resize(packed_size);
  std::string png = "\x89PNG\r\n\x1a\n";
  auto chunk = [&png](const char* type, const std::string& data) {
    detail::append_be32(png, static_cast<uint32_t>(data.size()));
    const std::string body = std::string(type, 4) + data;
    png += body;
    detail::append_be32(png,
                        static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(body.data()),
                                                    static_cast<uInt>(body.size()))));
  };
  std::string ihdr;
  detail::append_be32(ihdr, static_cast<uint32_t>(width));
  detail::append_be32(ihdr, static_cast<uint32_t>(height));
  ihdr += std::string("\x08\x00\x00\x00\x00",
                      5);  // bit depth 8, grayscale, deflate, filter 0, no interlace
  chunk("IHDR", ihdr);
  chunk("IDAT", packed);
  chunk("IEND", "");
  return png;
}

// A PNG of a grayscale image [H, W] or [1, H, W] with values in [0, 1] (clamped; NaN as 0), each
// pixel repeated scale x scale times (nearest-neighbour upscaling).
inline std::string image_png(const Tensor<float>& image, int64_t scale = 1) {
  SINEW_CHECK(image.defined(), "image_png", "the image is an undefined tensor");
  SINEW_CHECK(image.dim() == 2 || (image.dim() == 3 && image.size(0) == 1), "image_png",
              "expected an image [H, W] or [1, H, W], got shape ", image.shape());
  SINEW_CHECK(scale >= 1 && scale <= 64, "image_png", "scale must be in [1, 64], got ", scale);
  const int64_t h = image.size(-2), w = image.size(-1);
  SINEW_CHECK(h >= 1 && w >= 1, "image_png", "the image of shape ", image.shape(), " is empty");
  const std::vector<float> v = image.to_vector();
  std::vector<uint8_t> px(static_cast<size_t>(h * scale * w * scale));
  for (int64_t y = 0; y < h * scale; ++y) {
    for (int64_t x = 0; x < w * scale; ++x) {
      float f = v[static_cast<size_t>((y / scale) * w + x / scale)];
      f = std::isnan(f) ? 0.f : std::clamp(f, 0.f, 1.f);
      px[static_cast<size_t>(y * w * scale + x)] = static_cast<uint8_t>(std::lround(f * 255.f));
    }
  }
  return encode_png(px, w * scale, h * scale);
}

// A PNG of N grayscale images [N, H, W] or [N, 1, H, W] with values in [0, 1] (clamped; NaN as 0)
// laid out as a grid, in index order row by row: min(columns, N) images a row, ceil(N / columns)
// rows, each image scaled up scale x scale (nearest neighbour), `padding` pixels of `pad_value`
// around and between the images, and the empty cells of a short last row in `pad_value` too.
// The picture is (cols (W scale + padding) + padding) x (rows (H scale + padding) + padding), as
// torchvision's make_grid; the padding defaults to mid-gray (not make_grid's black) so the
// borders show between dark-background images such as MNIST's.
inline std::string image_grid_png(const Tensor<float>& images, int64_t columns, int64_t scale = 1,
                                  int64_t padding = 1, float pad_value = 0.5f) {
  SINEW_CHECK(images.defined(), "image_grid_png", "the images are an undefined tensor");
  SINEW_CHECK(images.dim() == 3 || (images.dim() == 4 && images.size(1) == 1), "image_grid_png",
              "expected images [N, H, W] or [N, 1, H, W], got shape ", images.shape());
  const int64_t n = images.size(0), h = images.size(-2), w = images.size(-1);
  SINEW_CHECK(n >= 1 && h >= 1 && w >= 1, "image_grid_png", "the images of shape ", images.shape(),
              " are empty");
  SINEW_CHECK(columns >= 1, "image_grid_png", "columns must be >= 1, got ", columns);
  SINEW_CHECK(scale >= 1 && scale <= 64, "image_grid_png", "scale must be in [1, 64], got ", scale);
  SINEW_CHECK(padding >= 0 && padding <= 64, "image_grid_png", "padding must be in [0, 64], got ",
              padding);
  SINEW_CHECK(pad_value >= 0.f && pad_value <= 1.f, "image_grid_png",
              "pad_value must be in [0, 1], got ", pad_value);
  const int64_t cols = std::min(columns, n), rows = (n + cols - 1) / cols;
  const int64_t cell_w = w * scale + padding, cell_h = h * scale + padding;
  // Checked before multiplying out, so that no size overflows; encode_png's limit.
  constexpr int64_t max_side = int64_t{1} << 24;
  SINEW_CHECK(cell_w <= max_side / cols && cell_h <= max_side / rows, "image_grid_png",
              "a grid of ", rows, " x ", cols, " images of ", h, " x ", w, " at scale ", scale,
              " exceeds 2^24 pixels a side");
  const int64_t width = cols * cell_w + padding, height = rows * cell_h + padding;
  const auto gray = [](float f) {
    f = std::isnan(f) ? 0.f : std::clamp(f, 0.f, 1.f);
    return static_cast<uint8_t>(std::lround(f * 255.f));
  };
  const std::vector<float> v = images.to_vector();
  std::vector<uint8_t> px(static_cast<size_t>(width * height), gray(pad_value));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t x0 = padding + (i % cols) * cell_w, y0 = padding + (i / cols) * cell_h;
    const float* image = v.data() + i * h * w;
    for (int64_t y = 0; y < h * scale; ++y) {
      uint8_t* row = px.data() + (y0 + y) * width + x0;
      for (int64_t x = 0; x < w * scale; ++x) row[x] = gray(image[(y / scale) * w + x / scale]);
    }
  }
  return encode_png(px, width, height);
}

// Writes a PNG made by encode_png, image_png or image_grid_png to `path` atomically (a binary
// file: the bytes as they are).
inline void save_png(const std::string& path, const std::string& png) {
  SINEW_CHECK(png.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0, "save_png", "the data for ", path,
              " does not start with the PNG signature");
  detail::write_text_atomically(path, png, "save_png");
}

// The confusion matrix as an SVG heat map: one cell per (true, predicted) pair coloured by its
// share of the true class's samples (row-normalised), its count written in it, the class names
// on both axes (true on the left, predicted below).
inline std::string confusion_svg(const ConfusionMatrix& cm) {
  using detail::num;
  const int64_t n = cm.num_classes();
  const double cell = std::clamp(520.0 / static_cast<double>(n), 16.0, 48.0);
  size_t longest = 1;
  for (const auto& s : cm.class_names()) longest = std::max(longest, s.size());
  const double left = 40 + 7.0 * static_cast<double>(longest), top = 16;
  const double grid = cell * static_cast<double>(n);
  const double bottom = top + grid + 36 + 5.5 * static_cast<double>(longest);
  const double width = left + grid + 16;
  std::string svg = "<svg class=\"confusion\" width=\"" + num(width) + "\" height=\"" +
                    num(bottom) + "\" viewBox=\"0 0 " + num(width) + " " + num(bottom) +
                    "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  const std::string font = num(std::max(8.0, cell * 0.3));
  for (int64_t i = 0; i < n; ++i) {
    int64_t row = 0;
    for (int64_t j = 0; j < n; ++j) row += cm.count(i, j);
    for (int64_t j = 0; j < n; ++j) {
      const int64_t c = cm.count(i, j);
      const double frac = row > 0 ? static_cast<double>(c) / static_cast<double>(row) : 0.0;
      // From #f7fbff (none) to #08306b (the whole row).
      const auto mix = [frac](int a, int b) {
        return static_cast<int>(std::lround(a + (b - a) * frac));
      };
      char color[16];
      std::snprintf(color, sizeof color, "#%02x%02x%02x", mix(247, 8), mix(251, 48), mix(255, 107));
      const double x = left + cell * static_cast<double>(j),
                   y = top + cell * static_cast<double>(i);
      svg +=
          "<rect class=\"cell\" x=\"" + num(x) + "\" y=\"" + num(y) + "\" width=\"" + num(cell) +
          "\" height=\"" + num(cell) + "\" fill=\"" + color + "\" stroke=\"#ffffff\"><title>" +
          detail::escape_xml("true " + cm.class_names()[i] + ", predicted " + cm.class_names()[j]) +
          ": " + std::to_string(c) + "</title></rect>\n";
      svg += "<text x=\"" + num(x + cell / 2) + "\" y=\"" + num(y + cell / 2 + 4) +
             "\" text-anchor=\"middle\" font-size=\"" + font + "\" fill=\"" +
             (frac > 0.5 ? "#ffffff" : "#222222") + "\">" + std::to_string(c) + "</text>\n";
    }
    svg += "<text x=\"" + num(left - 6) + "\" y=\"" + num(top + cell * (i + 0.5) + 4) +
           "\" text-anchor=\"end\">" + detail::escape_xml(cm.class_names()[i]) + "</text>\n";
    const double lx = left + cell * (i + 0.5), ly = top + grid + 12;
    svg += "<text x=\"" + num(lx) + "\" y=\"" + num(ly) +
           "\" text-anchor=\"end\" transform=\"rotate(-45 " + num(lx) + " " + num(ly) + ")\">" +
           detail::escape_xml(cm.class_names()[i]) + "</text>\n";
  }
  svg += "<text x=\"" + num(left + grid / 2) + "\" y=\"" + num(bottom - 6) +
         "\" text-anchor=\"middle\">predicted class</text>\n";
  svg += "<text x=\"12\" y=\"" + num(top + grid / 2) +
         "\" text-anchor=\"middle\" transform=\"rotate(-90 12 " + num(top + grid / 2) +
         ")\">true class</text>\n";
  svg += "</svg>\n";
  return svg;
}

// One misclassified test image and its labels.
struct ReportImage {
  Tensor<float> image = {};  // [H, W] or [1, H, W], values in [0, 1]
  std::string true_label = "";
  std::string predicted_label = "";
};

// What write_report puts on the page; an empty part leaves its section out.
struct ReportData {
  std::string title = "Training report";
  std::vector<std::pair<std::string, std::string>> settings = {};  // the run's options, in order
  std::vector<std::pair<std::string, std::string>> results = {};   // final metrics, in order
  std::string model_summary = "";                                  // e.g. nn::summary(...).str()
  History history = {};
  std::optional<ConfusionMatrix> confusion = std::nullopt;
  std::vector<ReportImage> misclassified = {};
  size_t max_images = 36;   // at most this many of `misclassified` are shown
  int64_t image_size = 56;  // images smaller than this are scaled up by a whole factor
  CurvesOptions curves = {};
};

namespace detail {
inline void key_value_section(std::string& html, const char* id, const char* heading,
                              const std::vector<std::pair<std::string, std::string>>& rows) {
  if (rows.empty()) return;
  html += std::string("<section id=\"") + id + "\">\n<h2>" + heading + "</h2>\n<table>\n";
  for (const auto& [k, v] : rows) {
    html += "<tr><th>" + escape_xml(k) + "</th><td>" + escape_xml(v) + "</td></tr>\n";
  }
  html += "</table>\n</section>\n";
}
}  // namespace detail

// The report as one self-contained HTML page: inline CSS and SVG, images as data: URIs, no
// scripts and no reference to anything outside the file. Every inserted text is escaped.
inline std::string report_html(const ReportData& data) {
  SINEW_CHECK(data.image_size >= 1 && data.image_size <= 1024, "report_html",
              "image_size must be in [1, 1024], got ", data.image_size);
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
      detail::escape_xml(data.title) +
      "</title>\n<style>\n"
      "body{font-family:sans-serif;margin:24px auto;max-width:1000px;color:#222;}\n"
      "h1{font-size:1.6em;} h2{font-size:1.2em;border-bottom:1px solid #ddd;padding-bottom:4px;}\n"
      "table{border-collapse:collapse;} th,td{text-align:left;padding:3px 12px 3px 0;"
      "border-bottom:1px solid #eee;font-weight:normal;} th{color:#555;}\n"
      "pre{background:#f6f8fa;padding:10px;overflow-x:auto;font-size:12px;}\n"
      ".grid{display:flex;flex-wrap:wrap;gap:10px;} figure{margin:0;text-align:center;"
      "font-size:11px;} figure img{image-rendering:pixelated;border:1px solid #ccc;display:block;"
      "margin:0 auto 2px;}\n"
      "</style>\n</head>\n<body>\n<h1>" +
      detail::escape_xml(data.title) + "</h1>\n";
  detail::key_value_section(html, "settings", "Settings", data.settings);
  detail::key_value_section(html, "results", "Results", data.results);
  if (!data.model_summary.empty()) {
    html += "<section id=\"model\">\n<h2>Model</h2>\n<pre>" +
            detail::escape_xml(data.model_summary) + "</pre>\n</section>\n";
  }
  if (!data.history.empty()) {
    html += "<section id=\"curves\">\n<h2>Training curves</h2>\n" +
            detail::curves_svg(data.history, data.curves, false) + "</section>\n";
  }
  if (data.confusion) {
    html += "<section id=\"confusion\">\n<h2>Confusion matrix</h2>\n" +
            confusion_svg(*data.confusion) + "</section>\n";
  }
  if (!data.misclassified.empty()) {
    const size_t shown = std::min(data.max_images, data.misclassified.size());
    html += "<section id=\"misclassified\">\n<h2>Misclassified test images</h2>\n";
    html += "<p>" + std::to_string(shown) + " of " + std::to_string(data.misclassified.size()) +
            " shown, captioned true / predicted.</p>\n<div class=\"grid\">\n";
    for (size_t i = 0; i < shown; ++i) {
      const ReportImage& im = data.misclassified[i];
      SINEW_CHECK(im.image.defined() && im.image.dim() >= 2, "report_html", "misclassified image ",
                  i, " must be [H, W] or [1, H, W]");
      const int64_t h = im.image.size(-2), w = im.image.size(-1);
      const int64_t scale =
          std::clamp<int64_t>(data.image_size / std::max<int64_t>(1, std::max(h, w)), 1, 64);
      const std::string caption = im.true_label + " / " + im.predicted_label;
      html += "<figure><img src=\"data:image/png;base64," +
              detail::base64(image_png(im.image, scale)) + "\" width=\"" +
              std::to_string(w * scale) + "\" height=\"" + std::to_string(h * scale) + "\" alt=\"" +
              detail::escape_xml(caption) + "\"><figcaption>" + detail::escape_xml(caption) +
              "</figcaption></figure>\n";
    }
    html += "</div>\n</section>\n";
  }
  html += "</body>\n</html>\n";
  return html;
}

// Writes report_html(data) to `path` atomically.
inline void write_report(const std::string& path, const ReportData& data) {
  detail::write_text_atomically(path, report_html(data), "write_report");
}

}  // namespace sinew::train
