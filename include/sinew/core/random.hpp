// Random number generators: explicit Generator objects and the global one that manual_seed sets.
// Values depend only on the seed (drawn serially), never on the thread count.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <random>
#include <sstream>
#include <string>

#include "sinew/core/error.hpp"

namespace sinew {

class Generator {
 public:
  explicit Generator(uint64_t seed = 67280421310721ULL) : engine_(seed) {}

  void manual_seed(uint64_t seed) {
    engine_.seed(seed);
    has_spare_ = false;
  }
  uint64_t next_u64() { return engine_(); }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  // Standard normal (Box-Muller, both values used), the same on every platform.
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1 = 0;
    while (u1 <= 0) u1 = uniform();
    double u2 = uniform();
    double r = std::sqrt(-2.0 * std::log(u1));
    constexpr double two_pi = 6.283185307179586476925286766559;
    spare_ = r * std::sin(two_pi * u2);
    has_spare_ = true;
    return r * std::cos(two_pi * u2);
  }
  // Uniform integer in [low, high) (low < high), by rejection so every value is equally likely.
  // Unsigned range arithmetic: any low < high works, [INT64_MIN, INT64_MAX) included.
  int64_t randint(int64_t low, int64_t high) {
    uint64_t range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
    uint64_t limit = UINT64_MAX - UINT64_MAX % range;
    uint64_t x = engine_();
    while (x >= limit) x = engine_();
    return static_cast<int64_t>(static_cast<uint64_t>(low) + x % range);
  }

  // The whole state as text (the engine's words, then the spare normal value), so that a
  // checkpoint can restore a run's random stream exactly: set_state(state()) changes nothing.
  std::string state() const {
    std::ostringstream os;
    os << "mt19937_64 " << engine_ << ' ' << (has_spare_ ? 1 : 0) << ' ' << std::hexfloat << spare_;
    return os.str();
  }
  // Restores a state() string; anything else raises an Error and leaves the generator as it was.
  void set_state(const std::string& state) {
    std::istringstream is(state);
    std::string kind;
    std::mt19937_64 engine;
    int has_spare = -1;
    std::string spare_text;
    is >> kind >> engine >> has_spare >> spare_text;
    const bool read = !is.fail() && kind == "mt19937_64" && (has_spare == 0 || has_spare == 1);
    SINEW_CHECK(read && (is >> std::ws).eof(), "Generator::set_state",
                "not a generator state (expected what Generator::state() returns, got ",
                state.size(), " characters starting '", state.substr(0, 24), "')");
    char* end = nullptr;
    const double spare = std::strtod(spare_text.c_str(), &end);
    SINEW_CHECK(end != nullptr && *end == '\0', "Generator::set_state", "the spare normal value '",
                spare_text, "' is not a number");
    engine_ = engine;
    has_spare_ = has_spare == 1;
    spare_ = spare;
  }

  std::mutex& mutex() { return mutex_; }

 private:
  std::mt19937_64 engine_;
  double spare_ = 0;
  bool has_spare_ = false;
  std::mutex mutex_;
};

// The generator used when none is passed (shared by all threads, drawn under its mutex).
inline Generator& default_generator() {
  static Generator g;
  return g;
}

inline void manual_seed(uint64_t seed) {
  std::lock_guard<std::mutex> lock(default_generator().mutex());
  default_generator().manual_seed(seed);
}

// The default generator's state (Generator::state), and its restoration: what a checkpoint saves
// so that a resumed run draws the same dropout masks and initial values as an uninterrupted one.
inline std::string get_rng_state() {
  std::lock_guard<std::mutex> lock(default_generator().mutex());
  return default_generator().state();
}
inline void set_rng_state(const std::string& state) {
  std::lock_guard<std::mutex> lock(default_generator().mutex());
  default_generator().set_state(state);
}

}  // namespace sinew
