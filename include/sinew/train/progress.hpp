// train::ProgressBar: a per-epoch progress display, redrawn in place on a terminal and written as
// a few plain lines to a log file or CI output.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <iostream>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#if __has_include(<unistd.h>)
#include <unistd.h>
#define SINEW_TRAIN_HAVE_ISATTY 1
#endif

#include "sinew/core/error.hpp"

namespace sinew::train {

// Named values shown after the bar, in the given order: {{"loss", 0.41}, {"acc", 0.87}}.
using Metrics = std::vector<std::pair<std::string, double>>;

struct ProgressBarOptions {
  std::ostream* out = &std::cout;
  // Redraw one line with '\r' (a terminal) or write plain lines (a file, a CI log). Unset: a
  // terminal when `out` is std::cout or std::cerr/std::clog and that file descriptor is a tty.
  std::optional<bool> interactive = std::nullopt;
  int64_t period = 10;     // plain mode: a line each time another `period` percent is done
  bool silent = false;     // print nothing at all
  int64_t width = 30;      // characters inside the bar's brackets
  std::string label = "";  // printed first, e.g. "epoch 1/5"
  // > 0: the rate is shown in samples/s (batches/s times batch_size), else in batches/s.
  int64_t batch_size = 0;
  // Interactive mode: the least time in seconds between two redraws (the last one always draws),
  // so a fast loop does not spend its time writing to the terminal.
  double refresh = 0.1;
  // Seconds from an arbitrary origin; empty: std::chrono::steady_clock. Tests inject a fake one.
  std::function<double()> clock = nullptr;
};

namespace detail {

// mm:ss, or h:mm:ss from one hour on; "--:--" when unknown.
inline std::string clock_text(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--";
  const auto s = static_cast<int64_t>(std::llround(seconds));
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%02lld:%02lld", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  }
  return buf;
}

inline bool stream_is_terminal([[maybe_unused]] const std::ostream* out) {
#ifdef SINEW_TRAIN_HAVE_ISATTY
  if (out == &std::cout) return ::isatty(1) == 1;
  if (out == &std::cerr || out == &std::clog) return ::isatty(2) == 1;
#endif
  return false;
}

}  // namespace detail

// Progress over `total` batches of one epoch.
//
//   train::ProgressBar bar(loader.size(), {.label = "epoch 1/5"});
//   for (...) { ...; bar.step({{"loss", running.mean()}}); }
//   bar.finish({{"loss", loss}, {"acc", acc}});
//
// Interactive, one line redrawn with '\r':
//   epoch 1/5 [===========>                  ] 375/938 52.3 batches/s 00:07<00:10 loss 0.4100
// Plain, a line at every `period` percent and a final one (never '\r'):
//   epoch 1/5 375/938 (40%) 52.3 batches/s elapsed 00:07 eta 00:10 loss 0.4100
// The rate is batches (or samples) done over the seconds since construction; the ETA is the
// batches left over that rate.
class ProgressBar {
 public:
  explicit ProgressBar(int64_t total, ProgressBarOptions options = {})
      : total_(total), opt_(std::move(options)) {
    SINEW_CHECK(total >= 1, "ProgressBar", "total must be >= 1 batch, got ", total);
    SINEW_CHECK(opt_.period >= 1 && opt_.period <= 100, "ProgressBar",
                "period must be in [1, 100] percent, got ", opt_.period);
    SINEW_CHECK(opt_.width >= 1, "ProgressBar", "width must be >= 1, got ", opt_.width);
    SINEW_CHECK(opt_.batch_size >= 0, "ProgressBar", "batch_size must be >= 0, got ",
                opt_.batch_size);
    if (opt_.out == nullptr) opt_.silent = true;
    interactive_ = opt_.interactive ? *opt_.interactive : detail::stream_is_terminal(opt_.out);
    if (!opt_.clock) {
      opt_.clock = [] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
            .count();
      };
    }
    start_ = opt_.clock();
    next_percent_ = opt_.period;
  }

  // `done` batches of `total` are finished (0 <= done <= total, not decreasing).
  void update(int64_t done, const Metrics& metrics = {}) {
    SINEW_CHECK(done >= 0 && done <= total_, "ProgressBar::update", "done must be in [0, ", total_,
                "], got ", done);
    SINEW_CHECK(!finished_, "ProgressBar::update", "the bar is already finished");
    done_ = done;
    if (opt_.silent) return;
    const double now = opt_.clock();
    if (interactive_) {
      if (drawn_ && done < total_ && now - last_draw_ < opt_.refresh) return;
      draw_interactive(now, metrics);
    } else {
      const int64_t percent = done * 100 / total_;
      if (done == total_ || percent < next_percent_) return;  // finish() writes the last line
      *opt_.out << plain_line(now, metrics) << '\n' << std::flush;
      next_percent_ = (percent / opt_.period + 1) * opt_.period;
    }
  }

  // One more batch done.
  void step(const Metrics& metrics = {}) {
    SINEW_CHECK(done_ < total_, "ProgressBar::step", "all ", total_, " batches are already done");
    update(done_ + 1, metrics);
  }

  // Writes the final state (the batches done so far, usually all) with `metrics` and ends the
  // line. Later calls do nothing.
  void finish(const Metrics& metrics = {}) {
    if (finished_) return;
    finished_ = true;
    if (opt_.silent) return;
    const double now = opt_.clock();
    if (interactive_) {
      draw_interactive(now, metrics);
      *opt_.out << '\n' << std::flush;
    } else {
      *opt_.out << plain_line(now, metrics) << '\n' << std::flush;
    }
  }

  int64_t total() const { return total_; }
  int64_t done() const { return done_; }
  bool interactive() const { return interactive_; }
  // Seconds since construction.
  double elapsed() const { return opt_.clock() - start_; }

  // The text of the line for `done` batches at `now` seconds (as the clock reads), without '\r'
  // or '\n': the interactive form when `interactive`, else the plain one.
  std::string line(int64_t done, double now, const Metrics& metrics, bool interactive) const {
    const double elapsed = now - start_;
    const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
    const double eta = done >= total_ ? 0.0
                       : rate > 0     ? static_cast<double>(total_ - done) / rate
                                      : -1.0;
    std::string s = opt_.label;
    auto sep = [&s] {
      if (!s.empty()) s += ' ';
    };
    char buf[64];
    if (interactive) {
      const int64_t filled = done * opt_.width / total_;
      sep();
      s += '[';
      s.append(static_cast<size_t>(filled), '=');
      if (filled < opt_.width) {
        s += '>';
        s.append(static_cast<size_t>(opt_.width - filled - 1), ' ');
      }
      s += ']';
    }
    sep();
    s += std::to_string(done) + '/' + std::to_string(total_);
    if (!interactive) s += " (" + std::to_string(done * 100 / total_) + "%)";
    if (rate > 0) {
      const bool samples = opt_.batch_size > 0;
      std::snprintf(buf, sizeof buf, " %.1f %s/s",
                    samples ? rate * static_cast<double>(opt_.batch_size) : rate,
                    samples ? "samples" : "batches");
      s += buf;
    } else {
      s += opt_.batch_size > 0 ? " -- samples/s" : " -- batches/s";
    }
    if (interactive) {
      s += ' ' + detail::clock_text(elapsed) + '<' + detail::clock_text(eta);
    } else {
      s += " elapsed " + detail::clock_text(elapsed);
      if (done < total_) s += " eta " + detail::clock_text(eta);
    }
    for (const auto& [name, value] : metrics) {
      std::snprintf(buf, sizeof buf, " %.4f", value);
      s += ' ' + name + buf;
    }
    return s;
  }

 private:
  std::string plain_line(double now, const Metrics& metrics) const {
    return line(done_, now, metrics, false);
  }

  // '\r', the line, and spaces over what remains of a longer previous line.
  void draw_interactive(double now, const Metrics& metrics) {
    std::string s = line(done_, now, metrics, true);
    const size_t len = s.size();
    if (len < last_len_) s.append(last_len_ - len, ' ');
    *opt_.out << '\r' << s << std::flush;
    last_len_ = len;
    last_draw_ = now;
    drawn_ = true;
  }

  int64_t total_;
  ProgressBarOptions opt_;
  bool interactive_ = false;
  double start_ = 0;
  int64_t done_ = 0;
  int64_t next_percent_ = 0;
  bool finished_ = false;
  bool drawn_ = false;
  double last_draw_ = 0;
  size_t last_len_ = 0;
};

}  // namespace sinew::train
