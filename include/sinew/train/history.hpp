// train::History: the per-epoch values of a training run (losses, accuracies, ...), saved and
// loaded as CSV.
#pragma once

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "sinew/core/error.hpp"

namespace sinew::train {

namespace detail {

// Writes `text` to a new temporary file beside `path`, then renames it over `path`, so a crash
// or a full disk never leaves a partial file there. Raises naming `path` on any failure (and
// removes the temporary file).
inline void write_text_atomically(const std::string& path, const std::string& text,
                                  const char* where) {
  std::random_device rd;
  std::string tmp;
  std::FILE* f = nullptr;
  int err = 0;
  for (int attempt = 0; attempt < 16 && f == nullptr; ++attempt) {
    char suffix[32];
    std::snprintf(suffix, sizeof suffix, ".tmp-%08x%08x", rd(), rd());
    tmp = path + suffix;
    f = std::fopen(tmp.c_str(), "wbx");  // exclusive: never clobbers another writer's file
    err = errno;
    if (f == nullptr && err != EEXIST) break;
  }
  SINEW_CHECK(f != nullptr, where, "cannot write ", path, " (creating ", tmp, ": ",
              static_cast<const char*>(std::strerror(err)), ")");
  std::string problem;
  if (!text.empty() && std::fwrite(text.data(), 1, text.size(), f) != text.size()) {
    problem = std::string("write failed: ") + std::strerror(errno);
  }
  if (problem.empty() && std::fflush(f) != 0) {
    problem = std::string("flush failed: ") + std::strerror(errno);
  }
  if (std::fclose(f) != 0 && problem.empty()) {
    problem = std::string("close failed: ") + std::strerror(errno);
  }
  std::error_code ec;
  if (problem.empty()) {
    std::filesystem::rename(tmp, path, ec);
    if (ec) problem = "rename of " + tmp + " failed: " + ec.message();
  }
  if (!problem.empty()) std::filesystem::remove(tmp, ec);
  SINEW_CHECK(problem.empty(), where, "cannot write ", path, " (", problem, ")");
}

// The shortest decimal text that reads back as exactly `x` ("0.41", "1e-05", "inf", "nan").
inline std::string shortest_text(double x) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, r.ptr);
}

}  // namespace detail

// One row per epoch, one column per recorded name, in first-seen order. A value an epoch did not
// record reads as NaN and is an empty field in the CSV.
//
//   train::History h;
//   h.record(1, {{"train_loss", 0.52}, {"train_acc", 0.81}});
//   h.record(1, {{"test_loss", 0.45}});   // the same epoch again: adds to its row
//   h.save_csv("history.csv");           // epoch,train_loss,train_acc,test_loss
class History {
 public:
  using Values = std::vector<std::pair<std::string, double>>;

  // Sets `values` in the row of `epoch` (a new row at the end, or the existing one).
  void record(int64_t epoch, const Values& values) {
    for (const auto& [name, value] : values) {
      check_name(name, "History::record");
      (void)value;
    }
    size_t r = 0;
    while (r < epochs_.size() && epochs_[r] != epoch) ++r;
    if (r == epochs_.size()) {
      epochs_.push_back(epoch);
      rows_.emplace_back(names_.size(), std::numeric_limits<double>::quiet_NaN());
    }
    for (const auto& [name, value] : values) rows_[r][column_index(name, true)] = value;
  }

  // The recorded epochs, in row order.
  const std::vector<int64_t>& epochs() const { return epochs_; }
  // The column names (without "epoch"), in first-seen order.
  const std::vector<std::string>& names() const { return names_; }
  size_t size() const { return epochs_.size(); }
  bool empty() const { return epochs_.empty(); }
  bool has(const std::string& name) const { return find(name) < names_.size(); }

  // The values of one column, one per epoch (NaN where missing). An unknown name raises.
  std::vector<double> column(const std::string& name) const {
    const size_t c = find(name);
    SINEW_CHECK(c < names_.size(), "History::column", "no column named \"", name, "\" (have ",
                joined(), ")");
    std::vector<double> out;
    out.reserve(rows_.size());
    for (const auto& row : rows_) out.push_back(row[c]);
    return out;
  }

  // The value of `name` at the last epoch that recorded it; NaN when none did.
  double last(const std::string& name) const {
    const size_t c = find(name);
    if (c >= names_.size()) return std::numeric_limits<double>::quiet_NaN();
    for (size_t r = rows_.size(); r-- > 0;) {
      if (!std::isnan(rows_[r][c])) return rows_[r][c];
    }
    return std::numeric_limits<double>::quiet_NaN();
  }

  // "epoch,<names...>\n" then one line per epoch; numbers in their shortest round-trip form, a
  // missing (NaN) value as an empty field.
  std::string to_csv() const {
    std::string s = "epoch";
    for (const auto& n : names_) s += ',' + n;
    s += '\n';
    for (size_t r = 0; r < rows_.size(); ++r) {
      s += std::to_string(epochs_[r]);
      for (double v : rows_[r]) {
        s += ',';
        if (!std::isnan(v)) s += detail::shortest_text(v);
      }
      s += '\n';
    }
    return s;
  }

  // Writes to_csv() to `path` atomically (a temporary file beside it, then a rename).
  void save_csv(const std::string& path) const {
    detail::write_text_atomically(path, to_csv(), "History::save_csv");
  }

  // Parses what to_csv() writes (also "\r\n" line ends); `source` names the text in errors.
  static History from_csv(const std::string& text, const std::string& source = "CSV text") {
    const char* where = "History::from_csv";
    History h;
    std::vector<std::string> lines;
    {
      std::istringstream in(text);
      std::string line;
      while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        lines.push_back(line);
      }
    }
    while (!lines.empty() && lines.back().empty()) lines.pop_back();
    SINEW_CHECK(!lines.empty(), where, source, ": empty, expected a header row \"epoch,...\"");
    std::vector<std::string> header = split(lines[0]);
    SINEW_CHECK(header[0] == "epoch", where, source,
                ": the header row must start with \"epoch\", got \"", lines[0], "\"");
    for (size_t c = 1; c < header.size(); ++c) {
      check_name(header[c], where);
      SINEW_CHECK(!h.has(header[c]), where, source, ": column \"", header[c], "\" appears twice");
      h.column_index(header[c], true);
    }
    for (size_t l = 1; l < lines.size(); ++l) {
      std::vector<std::string> f = split(lines[l]);
      SINEW_CHECK(f.size() == header.size(), where, source, ": line ", l + 1, " has ", f.size(),
                  " fields, the header ", header.size());
      int64_t epoch = 0;
      auto er = std::from_chars(f[0].data(), f[0].data() + f[0].size(), epoch);
      SINEW_CHECK(er.ec == std::errc() && er.ptr == f[0].data() + f[0].size(), where, source,
                  ": line ", l + 1, ": the epoch \"", f[0], "\" is not an integer");
      Values values;
      for (size_t c = 1; c < f.size(); ++c) {
        if (f[c].empty()) continue;
        errno = 0;
        char* end = nullptr;
        const double v = std::strtod(f[c].c_str(), &end);
        SINEW_CHECK(end == f[c].c_str() + f[c].size(), where, source, ": line ", l + 1,
                    ": the value \"", f[c], "\" of column ", header[c], " is not a number");
        values.emplace_back(header[c], v);
      }
      h.record(epoch, values);
    }
    return h;
  }

  static History load_csv(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    SINEW_CHECK(in.good(), "History::load_csv", "cannot open ", path, " (",
                static_cast<const char*>(std::strerror(errno)), ")");
    std::ostringstream ss;
    ss << in.rdbuf();
    return from_csv(ss.str(), path);
  }

 private:
  static void check_name(const std::string& name, const char* where) {
    SINEW_CHECK(
        !name.empty() && name != "epoch" && name.find_first_of(",\"\r\n") == std::string::npos,
        where, "column name \"", name,
        "\" must be non-empty, not \"epoch\", without commas, quotes or line breaks");
  }
  static std::vector<std::string> split(const std::string& line) {
    std::vector<std::string> out(1);
    for (char ch : line) {
      if (ch == ',') {
        out.emplace_back();
      } else {
        out.back() += ch;
      }
    }
    return out;
  }
  size_t find(const std::string& name) const {
    size_t c = 0;
    while (c < names_.size() && names_[c] != name) ++c;
    return c;
  }
  size_t column_index(const std::string& name, bool add) {
    const size_t c = find(name);
    if (c == names_.size() && add) {
      names_.push_back(name);
      for (auto& row : rows_) row.push_back(std::numeric_limits<double>::quiet_NaN());
    }
    return c;
  }
  std::string joined() const {
    std::string s;
    for (const auto& n : names_) s += (s.empty() ? "" : ", ") + n;
    return s.empty() ? "none" : s;
  }

  std::vector<int64_t> epochs_;
  std::vector<std::string> names_;
  std::vector<std::vector<double>> rows_;  // [row][column], NaN where missing
};

}  // namespace sinew::train
