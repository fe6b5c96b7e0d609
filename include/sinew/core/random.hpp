// Random number generators: explicit Generator objects and the global one that manual_seed sets,
// all over one Philox4x32-10 stream per seed (core/philox.hpp). Values depend only on the seed and
// the order of the calls, never on the thread count.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <sstream>
#include <string>

#include "sinew/core/error.hpp"
#include "sinew/core/philox.hpp"

namespace sinew {

// The numbers of one tensor fill: element i of a fill that reserved blocks from `block` on uses
// Philox block (block + i / 2) of the stream `seed`, its words 0-1 (even i) or 2-3 (odd i) for a
// uniform or 64 random bits, and the whole block for a normal (Box-Muller: u1 from words 0-1, u2
// from words 2-3; even i takes r cos, odd i r sin). So a value depends only on the seed, the
// generator's position and i: a fill can be computed in any order, by any thread or device.
struct RandomStream {
  uint64_t seed = 0;
  uint64_t block = 0;

  Philox4x32 at(int64_t i) const {
    return philox_block(seed, block + static_cast<uint64_t>(i) / 2);
  }
  // 64 random bits.
  uint64_t bits(int64_t i) const {
    const Philox4x32 b = at(i);
    const int h = static_cast<int>(i & 1) * 2;
    return (uint64_t{b.v[h]} << 32) | b.v[h + 1];
  }
  // Uniform in [0, 1) (53 bits).
  double uniform(int64_t i) const {
    const Philox4x32 b = at(i);
    const int h = static_cast<int>(i & 1) * 2;
    return philox_uniform(b.v[h], b.v[h + 1]);
  }
  // Standard normal.
  double normal(int64_t i) const {
    const Philox4x32 b = at(i);
    const double u1 = 1.0 - philox_uniform(b.v[0], b.v[1]);  // (0, 1]: log(u1) is finite
    const double u2 = philox_uniform(b.v[2], b.v[3]);
    constexpr double two_pi = 6.283185307179586476925286766559;
    const double r = std::sqrt(-2.0 * std::log(u1));
    return (i & 1) != 0 ? r * std::sin(two_pi * u2) : r * std::cos(two_pi * u2);
  }
  // An integer in [low, high) (low < high) from 64 random bits, by multiplication (Lemire's
  // method without rejection: a value's probability is off by at most (high - low) / 2^64).
  int64_t randint(int64_t i, int64_t low, int64_t high) const {
    const uint64_t range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
    const uint64_t r =
        static_cast<uint64_t>((static_cast<unsigned __int128>(bits(i)) * range) >> 64);
    return static_cast<int64_t>(static_cast<uint64_t>(low) + r);
  }
};

// uniform_(from, to) from a uniform u in [0, 1) (from <= to, both finite): T(from + span * u) in
// double, where a value that rounds up to `to` becomes the largest T below it (when from < to)
// and one below `from` becomes from. Every backend's uniform fill maps through these numbers.
template <class T>
struct UniformParams {
  double from, span;
  T to_t, below_to, from_t;
  bool step_back;

  T operator()(double u) const {
    T v = static_cast<T>(from + span * u);
    if (v >= to_t && step_back) v = below_to;
    return v < from_t ? from_t : v;
  }
};
template <class T>
UniformParams<T> uniform_params(double from, double to) {
  return {from,
          to - from,
          static_cast<T>(to),
          std::nextafter(static_cast<T>(to), static_cast<T>(from)),
          static_cast<T>(from),
          from < to};
}

// A generator: a seed and a position in its Philox4x32-10 stream (in 32-bit words). Tensor fills
// (rand, randn, randint, dropout masks, init, in-place random fills) reserve whole blocks through
// fill_stream() and compute their elements independently; the serial draws below (shuffles,
// per-example augmentation) take the stream's next words in order. Values depend only on the
// seed and the order of the calls, never on the thread count.
class Generator {
 public:
  explicit Generator(uint64_t seed = 67280421310721ULL) : seed_(seed) {}

  void manual_seed(uint64_t seed) {
    seed_ = seed;
    offset_ = 0;
    has_spare_ = false;
  }
  uint64_t seed() const { return seed_; }
  // The position: 32-bit words of the stream used so far.
  uint64_t offset() const { return offset_; }

  // Reserves the blocks of a fill of n elements (two a block, from the next whole block) under
  // the generator's mutex; the returned stream gives each element its value.
  RandomStream fill_stream(int64_t n) {
    std::lock_guard<std::mutex> lock(mutex_);
    const uint64_t block = (offset_ + 3) / 4;
    offset_ = (block + (static_cast<uint64_t>(n) + 1) / 2) * 4;
    return {seed_, block};
  }

  // ---- serial draws (the caller holds mutex() when the generator is shared)
  uint32_t next_u32() {
    const uint64_t block = offset_ / 4;
    if (!cached_ || cached_index_ != block) {
      cache_ = philox_block(seed_, block);
      cached_index_ = block;
      cached_ = true;
    }
    return cache_.v[offset_++ % 4];
  }
  uint64_t next_u64() {
    const uint64_t hi = next_u32();
    return (hi << 32) | next_u32();
  }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() {
    const uint32_t hi = next_u32();
    return philox_uniform(hi, next_u32());
  }
  // Standard normal (Box-Muller, both values used), the same on every platform.
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double u1 = 1.0 - uniform();  // (0, 1]
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
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
    uint64_t x = next_u64();
    while (x >= limit) x = next_u64();
    return static_cast<int64_t>(static_cast<uint64_t>(low) + x % range);
  }

  // The whole state as text (seed, position, the spare normal value), so that a checkpoint can
  // restore a run's random stream exactly: set_state(state()) changes nothing.
  std::string state() const {
    std::ostringstream os;
    os << "philox4x32-10 " << seed_ << ' ' << offset_ << ' ' << (has_spare_ ? 1 : 0) << ' '
       << std::hexfloat << spare_;
    return os.str();
  }
  // Restores a state() string; anything else raises an Error and leaves the generator as it was.
  void set_state(const std::string& state) {
    std::istringstream is(state);
    std::string kind, spare_text;
    uint64_t seed = 0, offset = 0;
    int has_spare = -1;
    is >> kind >> seed >> offset >> has_spare >> spare_text;
    const bool read = !is.fail() && kind == "philox4x32-10" && (has_spare == 0 || has_spare == 1);
    SINEW_CHECK(read && (is >> std::ws).eof(), "Generator::set_state",
                "not a generator state (expected what Generator::state() returns, got ",
                state.size(), " characters starting '", state.substr(0, 24), "')");
    char* end = nullptr;
    const double spare = std::strtod(spare_text.c_str(), &end);
    SINEW_CHECK(end != nullptr && *end == '\0', "Generator::set_state", "the spare normal value '",
                spare_text, "' is not a number");
    seed_ = seed;
    offset_ = offset;
    has_spare_ = has_spare == 1;
    spare_ = spare;
  }

  std::mutex& mutex() { return mutex_; }

 private:
  uint64_t seed_;
  uint64_t offset_ = 0;
  Philox4x32 cache_ = {};
  uint64_t cached_index_ = 0;
  bool cached_ = false;
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
