// report.html in a real browser: headless Chromium parses the page (its DOM has every curve,
// the heat map and the images) and renders it to a PNG whose pixels show the heat map's cells and
// the misclassified images. Skipped when no Chromium is installed (scripts/test.sh installs
// Debian's `chromium`); SINEW_CHROMIUM names another browser binary.
#include <zlib.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <sinew/sinew.hpp>
#include <sinew/train.hpp>

#include "test_util.hpp"

namespace {
namespace SINEW_UNITY_ID {

using namespace sinew;
using sinew::testing::TempDirTest;

std::string find_chromium() {
  if (const char* env = std::getenv("SINEW_CHROMIUM"); env != nullptr && *env != '\0') return env;
  const char* path = std::getenv("PATH");
  if (path == nullptr) return "";
  std::stringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
      std::filesystem::path p = std::filesystem::path(dir) / name;
      std::error_code ec;
      if (std::filesystem::is_regular_file(p, ec)) return p.string();
    }
  }
  return "";
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Image {
  int64_t width = 0, height = 0;
  std::vector<std::array<uint8_t, 3>> rgb;  // row-major
};

uint32_t be32(const std::string& s, size_t at) {
  return (uint32_t(uint8_t(s[at])) << 24) | (uint32_t(uint8_t(s[at + 1])) << 16) |
         (uint32_t(uint8_t(s[at + 2])) << 8) | uint32_t(uint8_t(s[at + 3]));
}

// A minimal PNG decoder for what Chromium writes: 8-bit RGB or RGBA, not interlaced.
::testing::AssertionResult decode_png(const std::string& png, Image* out) {
  if (png.size() < 33 || png.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0)
    return ::testing::AssertionFailure() << "not a PNG (" << png.size() << " bytes)";
  std::string idat;
  int channels = 0;
  for (size_t at = 8; at + 12 <= png.size();) {
    const uint32_t len = be32(png, at);
    const std::string type = png.substr(at + 4, 4);
    if (at + 12 + len > png.size()) return ::testing::AssertionFailure() << "truncated chunk";
    if (type == "IHDR") {
      out->width = be32(png, at + 8);
      out->height = be32(png, at + 12);
      const int depth = uint8_t(png[at + 16]), color = uint8_t(png[at + 17]);
      if (depth != 8 || (color != 2 && color != 6) || png[at + 20] != 0)
        return ::testing::AssertionFailure()
               << "unsupported PNG: depth " << depth << " colour " << color;
      channels = color == 6 ? 4 : 3;
    } else if (type == "IDAT") {
      idat += png.substr(at + 8, len);
    }
    at += 12 + len;
  }
  if (channels == 0 || out->width <= 0 || out->height <= 0)
    return ::testing::AssertionFailure() << "no IHDR";
  const size_t stride = size_t(out->width) * channels;
  std::vector<uint8_t> raw((stride + 1) * size_t(out->height));
  uLongf raw_size = raw.size();
  if (uncompress(raw.data(), &raw_size, reinterpret_cast<const Bytef*>(idat.data()), idat.size()) !=
          Z_OK ||
      raw_size != raw.size())
    return ::testing::AssertionFailure() << "bad IDAT data";
  std::vector<uint8_t> prev(stride, 0), cur(stride);
  out->rgb.resize(size_t(out->width * out->height));
  for (int64_t y = 0; y < out->height; ++y) {
    const uint8_t* line = raw.data() + size_t(y) * (stride + 1);
    const int filter = line[0];
    for (size_t i = 0; i < stride; ++i) {
      const int a = i >= size_t(channels) ? cur[i - channels] : 0, b = prev[i],
                c = i >= size_t(channels) ? prev[i - channels] : 0;
      int pred = 0;
      switch (filter) {
        case 0:
          pred = 0;
          break;
        case 1:
          pred = a;
          break;
        case 2:
          pred = b;
          break;
        case 3:
          pred = (a + b) / 2;
          break;
        case 4: {
          const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
          pred = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c);
          break;
        }
        default:
          return ::testing::AssertionFailure() << "bad filter " << filter;
      }
      cur[i] = uint8_t(line[1 + i] + pred);
    }
    for (int64_t x = 0; x < out->width; ++x) {
      const uint8_t* px = cur.data() + size_t(x) * channels;
      out->rgb[size_t(y * out->width + x)] = {px[0], px[1], px[2]};
    }
    std::swap(prev, cur);
  }
  return ::testing::AssertionSuccess();
}

int64_t count_pixels(const Image& im, std::array<int, 3> rgb, int tolerance) {
  int64_t n = 0;
  for (const auto& p : im.rgb) {
    bool near = true;
    for (int c = 0; c < 3; ++c)
      near = near && std::abs(int(p[size_t(c)]) - rgb[size_t(c)]) <= tolerance;
    n += near;
  }
  return n;
}

int64_t count_of(const std::string& text, const std::string& what) {
  int64_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

class BrowserReport : public TempDirTest {};

TEST_F(BrowserReport, ChromiumParsesAndRendersTheReport) {
  const std::string chromium = find_chromium();
  if (chromium.empty()) GTEST_SKIP() << "no Chromium (apt-get install chromium, or SINEW_CHROMIUM)";

  train::ReportData data;
  data.title = "Browser check";
  data.settings = {{"model", "cnn"}, {"epochs", "3"}};
  data.results = {{"test accuracy", "90.00 %"}};
  data.model_summary = "Sequential\n  Linear(4, 3)";
  data.history.record(
      1, {{"train_loss", 0.9}, {"test_loss", 0.8}, {"train_acc", 0.6}, {"test_acc", 0.65}});
  data.history.record(
      2, {{"train_loss", 0.5}, {"test_loss", 0.55}, {"train_acc", 0.8}, {"test_acc", 0.78}});
  data.history.record(
      3, {{"train_loss", 0.3}, {"test_loss", 0.45}, {"train_acc", 0.9}, {"test_acc", 0.84}});
  train::ConfusionMatrix cm(3, {"cat", "dog", "bird"});
  // Everything on the diagonal: three cells of the darkest blue, #08306b.
  cm.update(from_vector<int64_t>({0, 1, 2, 0, 1, 2}, {6}),
            from_vector<int64_t>({0, 1, 2, 0, 1, 2}, {6}));
  data.confusion = cm;
  for (int i = 0; i < 4; ++i)  // mid-grey 28 x 28 images, shown 56 x 56: (128, 128, 128)
    data.misclassified.push_back({full<float>({1, 28, 28}, 128.0 / 255.0), "cat", "dog"});
  const std::string page = path("report.html");
  train::write_report(page, data);
  const std::string html = read_file(page);
  EXPECT_EQ(count_of(html, "src=\"http"), 0);
  EXPECT_EQ(count_of(html, "href=\"http"), 0);

  const std::string common = "'" + chromium +
                             "' --headless --no-sandbox --disable-gpu --disable-dev-shm-usage "
                             "--no-first-run --hide-scrollbars --user-data-dir='" +
                             path("profile") + "' ";
  const std::string timeout =
      std::system("command -v timeout >/dev/null 2>&1") == 0 ? "timeout 120 " : "";
  const std::string dom_cmd = timeout + common + "--dump-dom 'file://" + page + "' > '" +
                              path("dom.html") + "' 2> '" + path("dom.log") + "'";
  ASSERT_EQ(std::system(dom_cmd.c_str()), 0) << read_file(path("dom.log"));
  const std::string dom = read_file(path("dom.html"));
  EXPECT_EQ(count_of(dom, "<svg"), 2) << dom.substr(0, 400);  // the curves and the heat map
  EXPECT_EQ(count_of(dom, "class=\"cell\""), 9);
  EXPECT_EQ(count_of(dom, "<img"), 4);
  EXPECT_NE(dom.find("Browser check"), std::string::npos);

  const std::string png_cmd = timeout + common + "--window-size=1000,2400 --screenshot='" +
                              path("report.png") + "' 'file://" + page + "' > '" + path("png.log") +
                              "' 2>&1";
  ASSERT_EQ(std::system(png_cmd.c_str()), 0) << read_file(path("png.log"));
  Image im;
  ASSERT_TRUE(decode_png(read_file(path("report.png")), &im));
  EXPECT_EQ(im.width, 1000);
  EXPECT_EQ(im.height, 2400);
  // Three 48 x 48 heat-map cells (less their white borders and the counts written in them).
  EXPECT_GE(count_pixels(im, {8, 48, 107}, 6), 3 * 40 * 40);
  // Four 56 x 56 grey images.
  EXPECT_GE(count_pixels(im, {128, 128, 128}, 1), 4 * 56 * 56);
  EXPECT_LT(count_pixels(im, {255, 255, 255}, 0), im.width * im.height);  // not a blank page
}

}  // namespace SINEW_UNITY_ID
}  // namespace
