// Random number generators: explicit Generator objects and the global one that manual_seed sets.
// Values depend only on the seed (drawn serially), never on the thread count.
#pragma once

#include <cmath>
#include <cstdint>
#include <mutex>
#include <random>

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

}  // namespace sinew
