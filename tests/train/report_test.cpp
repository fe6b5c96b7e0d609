// Tests of sinew/train/report.hpp: the curves SVG parsed back, the PNG encoder decoded back with
// zlib, and the self-contained HTML report.
#include <zlib.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <sinew/train.hpp>

#include "test_util.hpp"

namespace {
namespace SINEW_UNITY_ID {

using namespace sinew;
using sinew::testing::TempDirTest;

// Checks that every element is closed in order (self-closing and HTML void elements aside), which
// also catches unescaped '<' in text.
::testing::AssertionResult balanced(const std::string& doc) {
  std::vector<std::string> open;
  size_t i = 0;
  while ((i = doc.find('<', i)) != std::string::npos) {
    const size_t end = doc.find('>', i);
    if (end == std::string::npos) return ::testing::AssertionFailure() << "unclosed '<' at " << i;
    const std::string tag = doc.substr(i + 1, end - i - 1);
    i = end + 1;
    if (tag.empty()) return ::testing::AssertionFailure() << "empty tag";
    if (tag[0] == '!') continue;
    if (tag[0] == '/') {
      if (open.empty() || open.back() != tag.substr(1)) {
        return ::testing::AssertionFailure()
               << "</" << tag.substr(1) << "> closes " << (open.empty() ? "nothing" : open.back());
      }
      open.pop_back();
      continue;
    }
    const std::string name = tag.substr(0, tag.find_first_of(" \n/"));
    if (tag.back() == '/' || name == "meta" || name == "img" || name == "br") continue;
    open.push_back(name);
  }
  if (!open.empty()) return ::testing::AssertionFailure() << "<" << open.back() << "> never closed";
  return ::testing::AssertionSuccess();
}

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t i = s.find(what); i != std::string::npos; i = s.find(what, i + what.size())) ++n;
  return n;
}

// The number of x,y pairs of each polyline, in order.
std::vector<size_t> polyline_sizes(const std::string& svg) {
  std::vector<size_t> out;
  for (size_t i = svg.find("<polyline"); i != std::string::npos; i = svg.find("<polyline", i + 1)) {
    const size_t p = svg.find("points=\"", i) + 8;
    const std::string pts = svg.substr(p, svg.find('"', p) - p);
    out.push_back(pts.empty() ? 0 : count(pts, ","));
  }
  return out;
}

std::vector<std::string> tick_labels(const std::string& svg) {
  std::vector<std::string> out;
  const std::string key = "<text class=\"tick\"";
  for (size_t i = svg.find(key); i != std::string::npos; i = svg.find(key, i + 1)) {
    const size_t a = svg.find('>', i) + 1;
    out.push_back(svg.substr(a, svg.find('<', a) - a));
  }
  return out;
}

train::History five_epochs() {
  train::History h;
  const double tl[] = {0.9, 0.6, 0.45, 0.38, 0.33}, vl[] = {0.7, 0.55, 0.5, 0.47, 0.46};
  const double ta[] = {0.7, 0.8, 0.84, 0.86, 0.88}, va[] = {0.75, 0.8, 0.82, 0.83, 0.835};
  for (int e = 0; e < 5; ++e) {
    h.record(e + 1, {{"train_loss", tl[e]},
                     {"train_acc", ta[e]},
                     {"test_loss", vl[e]},
                     {"test_accuracy", va[e]},
                     {"lr", 0.01}});
  }
  return h;
}

TEST(CurvesSvg, IsWellFormedWithOnePolylinePerSeriesAndRoundTicks) {
  const std::string svg = train::curves_svg(five_epochs(), {.width = 800, .height = 300});
  EXPECT_TRUE(balanced(svg));
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_NE(svg.find("width=\"800\" height=\"300\""), std::string::npos);
  // Loss panel: train_loss, test_loss; accuracy panel: train_acc, test_accuracy; lr is neither.
  EXPECT_EQ(polyline_sizes(svg), (std::vector<size_t>{5, 5, 5, 5}));
  EXPECT_EQ(count(svg, "<circle"), 20u);
  // Loss 0.33..0.9: (0.9 - 0.33) / 5 = 0.114 -> step 0.2 over [0.2, 1.0]. Accuracy 0.7..0.88:
  // 0.036 -> step 0.05 over [0.70, 0.90]. Epochs 1..5: step 1.
  EXPECT_EQ(
      tick_labels(svg),
      (std::vector<std::string>{"1", "2", "3", "4", "5", "0.2",  "0.4",  "0.6",  "0.8",  "1.0",
                                "1", "2", "3", "4", "5", "0.70", "0.75", "0.80", "0.85", "0.90"}));
  for (const char* s : {">train_loss<", ">test_loss<", ">train_acc<", ">test_accuracy<", ">epoch<",
                        ">loss<", ">accuracy<", ">Loss<", ">Accuracy<"}) {
    EXPECT_NE(svg.find(s), std::string::npos) << s;
  }
  EXPECT_EQ(svg.find(">lr<"), std::string::npos);
}

TEST(CurvesSvg, HandlesOneEpochAndMissingValues) {
  train::History one;
  one.record(1, {{"train_loss", 0.5}, {"train_acc", 0.9}});
  const std::string a = train::curves_svg(one);
  EXPECT_TRUE(balanced(a));
  EXPECT_EQ(polyline_sizes(a), (std::vector<size_t>{1, 1}));
  EXPECT_EQ(a.find("nan"), std::string::npos);
  EXPECT_EQ(a.find("inf"), std::string::npos);
  // One epoch: the x axis runs 0..2 with the epoch in the middle.
  auto labels = tick_labels(a);
  ASSERT_GE(labels.size(), 3u);
  EXPECT_EQ((std::vector<std::string>(labels.begin(), labels.begin() + 3)),
            (std::vector<std::string>{"0", "1", "2"}));

  train::History gaps = five_epochs();
  gaps.record(3, {{"test_loss", std::numeric_limits<double>::quiet_NaN()}});
  gaps.record(6, {{"train_loss", 0.3}});
  const std::string b = train::curves_svg(gaps);
  EXPECT_TRUE(balanced(b));
  EXPECT_EQ(polyline_sizes(b), (std::vector<size_t>{6, 4, 5, 5}));
  EXPECT_EQ(b.find("nan"), std::string::npos);

  const std::string empty = train::curves_svg(train::History());
  EXPECT_TRUE(balanced(empty));
  EXPECT_EQ(count(empty, "no data"), 2u);
}

TEST(CurvesSvg, EscapesNamesAndRejectsTinySizes) {
  train::History h;
  h.record(1, {{"<b>&'loss", 1.0}});  // a CSV column name cannot hold a quote
  const std::string svg = train::curves_svg(h);
  EXPECT_TRUE(balanced(svg));
  EXPECT_NE(svg.find("&lt;b&gt;&amp;&#39;loss"), std::string::npos);
  SINEW_EXPECT_ERROR(train::curves_svg(h, {.width = 10}), "curves_svg", "10");
}

uint32_t be32(const std::string& s, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = v << 8 | static_cast<unsigned char>(s[at + i]);
  return v;
}

struct DecodedPng {
  uint32_t width = 0, height = 0;
  std::string ihdr_tail;  // bit depth, colour type, compression, filter, interlace
  std::vector<std::string> chunk_types;
  std::vector<uint8_t> pixels;
};

// Reads a PNG as the encoder writes it (8-bit gray, filter 0), checking every chunk's CRC.
DecodedPng decode_png(const std::string& png) {
  DecodedPng d;
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n"));
  std::string idat;
  for (size_t at = 8; at + 12 <= png.size();) {
    const uint32_t len = be32(png, at);
    const std::string type = png.substr(at + 4, 4), data = png.substr(at + 8, len);
    const uint32_t crc = be32(png, at + 8 + len);
    const std::string body = type + data;
    EXPECT_EQ(crc,
              crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size())))
        << type;
    d.chunk_types.push_back(type);
    if (type == "IHDR") {
      d.width = be32(data, 0);
      d.height = be32(data, 4);
      d.ihdr_tail = data.substr(8);
    } else if (type == "IDAT") {
      idat += data;
    }
    at += 12 + len;
  }
  std::string raw((d.width + 1) * d.height, '\0');
  uLongf raw_len = raw.size();
  EXPECT_EQ(
      uncompress(reinterpret_cast<Bytef*>(raw.data()), &raw_len,
                 reinterpret_cast<const Bytef*>(idat.data()), static_cast<uLong>(idat.size())),
      Z_OK);
  EXPECT_EQ(raw_len, raw.size());
  for (uint32_t y = 0; y < d.height; ++y) {
    EXPECT_EQ(raw[y * (d.width + 1)], '\0') << "row " << y << " filter";
    for (uint32_t x = 0; x < d.width; ++x) {
      d.pixels.push_back(static_cast<uint8_t>(raw[y * (d.width + 1) + 1 + x]));
    }
  }
  return d;
}

TEST(Png, EncoderOutputDecodesToTheSamePixels) {
  std::vector<uint8_t> px(7 * 3);
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>(i * 12 + 1);
  DecodedPng d = decode_png(train::encode_png(px, 7, 3));
  EXPECT_EQ(d.width, 7u);
  EXPECT_EQ(d.height, 3u);
  EXPECT_EQ(d.ihdr_tail, std::string("\x08\x00\x00\x00\x00", 5));
  EXPECT_EQ(d.chunk_types, (std::vector<std::string>{"IHDR", "IDAT", "IEND"}));
  EXPECT_EQ(d.pixels, px);
  SINEW_EXPECT_ERROR(train::encode_png(px, 7, 4), "encode_png", "21 pixels", "7 x 4");
}

TEST(Png, ImageIsClampedAndScaledUpByNearestNeighbour) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor<float> img =
      from_vector(std::vector<float>{0.f, 0.5f, 1.f, -1.f, 2.f, nan}, Shape{1, 2, 3});
  DecodedPng d = decode_png(train::image_png(img, 2));
  EXPECT_EQ(d.width, 6u);
  EXPECT_EQ(d.height, 4u);
  // 0.5 * 255 = 127.5 rounds to 128; -1 and NaN become 0, 2 becomes 255.
  const std::vector<uint8_t> row0 = {0, 0, 128, 128, 255, 255}, row1 = {0, 0, 255, 255, 0, 0};
  std::vector<uint8_t> want;
  for (const auto* r : {&row0, &row0, &row1, &row1}) want.insert(want.end(), r->begin(), r->end());
  EXPECT_EQ(d.pixels, want);
  SINEW_EXPECT_ERROR(train::image_png(zeros<float>({2, 2, 2})), "image_png", "[2, 2, 2]");
}

TEST(PngGrid, LaysOutImagesRowByRowWithPaddingAndScale) {
  // Three 1 x 2 images, two a row, scale 2, padding 1 of 0.2 (51): 2 rows of cells 5 x 3 wide and
  // high, so 11 x 7 pixels; the last row's second cell stays padding.
  Tensor<float> images =
      from_vector(std::vector<float>{0.f, 1.f, 0.4f, 0.6f, 2.f, -1.f}, Shape{3, 1, 1, 2});
  DecodedPng d = decode_png(train::image_grid_png(images, 2, 2, 1, 0.2f));
  ASSERT_EQ(d.width, 11u);
  ASSERT_EQ(d.height, 7u);
  const uint8_t p = 51;
  const std::vector<uint8_t> border(11, p), row0 = {p, 0, 0, 255, 255, p, 102, 102, 153, 153, p},
                                            row1 = {p, 255, 255, 0, 0, p, p, p, p, p, p};
  std::vector<uint8_t> want;
  for (const auto* r : {&border, &row0, &row0, &border, &row1, &row1, &border}) {
    want.insert(want.end(), r->begin(), r->end());
  }
  EXPECT_EQ(d.pixels, want);
}

TEST(PngGrid, AcceptsThreeDimensionsAndCapsColumnsAtTheImageCount) {
  // Two 2 x 1 images [N, H, W], 8 columns asked, no padding: one row of two, 2 x 2 pixels.
  Tensor<float> images = from_vector(std::vector<float>{0.f, 1.f, 1.f, 0.f}, Shape{2, 2, 1});
  DecodedPng d = decode_png(train::image_grid_png(images, 8, 1, 0));
  EXPECT_EQ(d.width, 2u);
  EXPECT_EQ(d.height, 2u);
  EXPECT_EQ(d.pixels, (std::vector<uint8_t>{0, 255, 255, 0}));
  // Non-contiguous input (a transposed view) is read in its logical order.
  Tensor<float> t = from_vector(std::vector<float>{0.f, 1.f, 1.f, 1.f}, Shape{1, 2, 2});
  d = decode_png(train::image_grid_png(t.transpose(1, 2), 1, 1, 0));
  EXPECT_EQ(d.pixels, (std::vector<uint8_t>{0, 255, 255, 255}));
}

TEST(PngGrid, RejectsBadShapesAndOptions) {
  const Tensor<float> ok = zeros<float>({4, 1, 3, 3});
  SINEW_EXPECT_ERROR(train::image_grid_png(Tensor<float>(), 2), "image_grid_png", "undefined");
  SINEW_EXPECT_ERROR(train::image_grid_png(zeros<float>({4, 3, 3, 3}), 2), "image_grid_png",
                     "[4, 3, 3, 3]");
  SINEW_EXPECT_ERROR(train::image_grid_png(zeros<float>({3, 3}), 2), "image_grid_png", "[3, 3]");
  SINEW_EXPECT_ERROR(train::image_grid_png(zeros<float>({0, 1, 3, 3}), 2), "image_grid_png",
                     "[0, 1, 3, 3]", "empty");
  SINEW_EXPECT_ERROR(train::image_grid_png(ok, 0), "image_grid_png", "columns", "got 0");
  SINEW_EXPECT_ERROR(train::image_grid_png(ok, 2, 0), "image_grid_png", "scale", "got 0");
  SINEW_EXPECT_ERROR(train::image_grid_png(ok, 2, 1, -1), "image_grid_png", "padding", "got -1");
  SINEW_EXPECT_ERROR(train::image_grid_png(ok, 2, 1, 1, 1.5f), "image_grid_png", "pad_value");
  SINEW_EXPECT_ERROR(train::image_grid_png(zeros<float>({1, 1, 1 << 20}), 1, 32), "image_grid_png",
                     "exceeds 2^24");
}

class Report : public TempDirTest {};

train::ReportData sample_report(size_t images) {
  train::ReportData data;
  data.title = "Fashion <MNIST> & \"CNN\"";
  data.settings = {{"model", "cnn"}, {"lr", "0.01"}, {"note", "a<b"}};
  data.results = {{"test accuracy", "91.2 %"}};
  data.model_summary = "Sequential\n├─Linear: 1-1  [64, 10]  <7,850>\n";
  data.history = five_epochs();
  train::ConfusionMatrix cm(3, {"T-shirt/top", "<Trouser>", "A&B"});
  cm.update(from_vector(std::vector<int64_t>{0, 0, 1, 2, 2, 1}),
            from_vector(std::vector<int64_t>{0, 1, 1, 2, 0, 1}));
  data.confusion = cm;
  for (size_t i = 0; i < images; ++i) {
    data.misclassified.push_back(
        {full<float>({1, 28, 28}, 0.1f * static_cast<float>(i % 10)), "<Trouser>", "A&B"});
  }
  return data;
}

TEST_F(Report, HtmlIsSelfContainedWithEverySectionEscaped) {
  const train::ReportData data = sample_report(3);
  const std::string html = train::report_html(data);
  EXPECT_TRUE(balanced(html));
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  for (const char* id : {"settings", "results", "model", "curves", "confusion", "misclassified"}) {
    EXPECT_EQ(count(html, std::string("<section id=\"") + id + "\">"), 1u) << id;
  }
  EXPECT_EQ(html.find("http"), std::string::npos);  // nothing fetched from anywhere
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(html.find("<style>"), std::string::npos);
  EXPECT_NE(html.find("<title>Fashion &lt;MNIST&gt; &amp; &quot;CNN&quot;</title>"),
            std::string::npos);
  EXPECT_NE(html.find("<th>note</th><td>a&lt;b</td>"), std::string::npos);
  EXPECT_NE(html.find("<pre>Sequential\n├─Linear: 1-1  [64, 10]  &lt;7,850&gt;\n</pre>"),
            std::string::npos);
  EXPECT_EQ(html.find("<Trouser>"), std::string::npos);
  EXPECT_EQ(html.find("A&B"), std::string::npos);
  EXPECT_NE(html.find(">&lt;Trouser&gt;</text>"), std::string::npos);
  EXPECT_NE(html.find("<figcaption>&lt;Trouser&gt; / A&amp;B</figcaption>"), std::string::npos);
  EXPECT_EQ(count(html, "data:image/png;base64,"), 3u);
  EXPECT_EQ(count(html, "width=\"56\" height=\"56\""), 3u);  // 28 px scaled by 2
  // The heat map: 9 cells, each with a tooltip and its count.
  EXPECT_EQ(count(html, "<rect class=\"cell\""), 9u);
  EXPECT_NE(html.find("true T-shirt/top, predicted A&amp;B: 1</title>"), std::string::npos);
  EXPECT_NE(html.find("true &lt;Trouser&gt;, predicted &lt;Trouser&gt;: 2</title>"),
            std::string::npos);
  // Row-normalised colour: true "<Trouser>" has 2 of 3 predicted as itself -> 2/3 of the way
  // from #f7fbff to #08306b: (247 - 239 * 2/3, 251 - 203 * 2/3, 255 - 148 * 2/3) rounded =
  // (88, 116, 156) = #58749c.
  EXPECT_NE(html.find("fill=\"#58749c\" stroke=\"#ffffff\"><title>true &lt;Trouser&gt;, "
                      "predicted &lt;Trouser&gt;"),
            std::string::npos);
}

TEST_F(Report, ShowsAtMostMaxImagesAndWritesTheFile) {
  train::ReportData data = sample_report(5);
  data.max_images = 2;
  const std::string html = train::report_html(data);
  EXPECT_EQ(count(html, "data:image/png;base64,"), 2u);
  EXPECT_NE(html.find("2 of 5 shown"), std::string::npos);
  const std::string p = path("report.html");
  train::write_report(p, data);
  std::ifstream in(p, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, html);
  SINEW_EXPECT_ERROR(train::write_report(path("missing/r.html"), data), "write_report",
                     "missing/r.html");
  train::save_svg(path("c.svg"), train::curves_svg(data.history));
  EXPECT_TRUE(std::filesystem::exists(path("c.svg")));
}

TEST_F(Report, EmptyPartsLeaveTheirSectionsOut) {
  train::ReportData data;
  const std::string html = train::report_html(data);
  EXPECT_TRUE(balanced(html));
  EXPECT_EQ(html.find("<section"), std::string::npos);
  EXPECT_NE(html.find("<h1>Training report</h1>"), std::string::npos);
}

TEST_F(Report, SavePngWritesTheBytesAndRejectsWhatIsNoPng) {
  const std::string png = train::image_grid_png(full<float>({3, 4, 4}, 0.5f), 2);
  const std::string p = path("grid.png");
  train::save_png(p, png);
  std::ifstream in(p, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(bytes, png);
  SINEW_EXPECT_ERROR(train::save_png(path("x.png"), "<svg/>"), "save_png", "x.png", "signature");
  SINEW_EXPECT_ERROR(train::save_png(path("missing/g.png"), png), "save_png", "missing/g.png");
  EXPECT_FALSE(std::filesystem::exists(path("x.png")));
}

}  // namespace SINEW_UNITY_ID
}  // namespace
