// Grad mode: whether ops record autograd history on this thread, and the guards that switch it;
// anomaly detection, the debugging mode that makes backward check every gradient.
#pragma once

namespace sinew::autograd {

namespace detail {
inline bool& grad_mode_flag() {
  thread_local bool enabled = true;
  return enabled;
}
}  // namespace detail

inline bool is_grad_enabled() { return detail::grad_mode_flag(); }
inline void set_grad_enabled(bool on) { detail::grad_mode_flag() = on; }

// Sets grad mode for a scope and restores the previous mode on exit.
class GradModeGuard {
 public:
  explicit GradModeGuard(bool enabled) : previous_(is_grad_enabled()) { set_grad_enabled(enabled); }
  ~GradModeGuard() { set_grad_enabled(previous_); }
  GradModeGuard(const GradModeGuard&) = delete;
  GradModeGuard& operator=(const GradModeGuard&) = delete;

 private:
  bool previous_;
};

// No history is recorded inside the scope (inference, optimizer updates).
class NoGradGuard : public GradModeGuard {
 public:
  NoGradGuard() : GradModeGuard(false) {}
};

// History is recorded inside the scope even within a NoGradGuard.
class EnableGradGuard : public GradModeGuard {
 public:
  EnableGradGuard() : GradModeGuard(true) {}
};

namespace detail {
inline bool& anomaly_flag() {
  thread_local bool enabled = false;
  return enabled;
}
}  // namespace detail

// Anomaly detection (torch.autograd.detect_anomaly): while it is on, each op recorded notes its
// name and input shapes, and backward checks every gradient a node returns; the first one holding
// a NaN or an infinity raises sinew::Error naming the node, the input it was for and the forward
// op it came from. Per thread, as grad mode. Each check is a reduction and a read to the host, so
// it is for finding a bug, not for every run.
inline bool is_anomaly_enabled() { return detail::anomaly_flag(); }
inline void set_detect_anomaly(bool on) { detail::anomaly_flag() = on; }

// Anomaly detection on (or off) for a scope; the previous setting comes back on exit.
class DetectAnomalyGuard {
 public:
  explicit DetectAnomalyGuard(bool enabled = true) : previous_(is_anomaly_enabled()) {
    set_detect_anomaly(enabled);
  }
  ~DetectAnomalyGuard() { set_detect_anomaly(previous_); }
  DetectAnomalyGuard(const DetectAnomalyGuard&) = delete;
  DetectAnomalyGuard& operator=(const DetectAnomalyGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace sinew::autograd

namespace sinew {
using autograd::EnableGradGuard;
using autograd::NoGradGuard;
}  // namespace sinew
