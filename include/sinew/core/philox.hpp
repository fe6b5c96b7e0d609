// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011): a
// counter-based generator, four 32-bit words out of a 128-bit counter and a 64-bit key, checked
// against Random123's known-answer vectors. Every random number Sinew draws comes from it, on the
// CPU now and on CUDA with the same code, so that a value depends only on (seed, position) and
// never on which thread or device computed it.
//
// Plain C++ with no includes beyond <cstdint>: the same text can serve as device code.
#pragma once

#include <cstdint>

namespace sinew {

struct Philox4x32 {
  uint32_t v[4];
};

// One Philox4x32-10 block: counter (c0 lowest word), key (k0, k1).
constexpr Philox4x32 philox4x32_10(Philox4x32 counter, uint32_t k0, uint32_t k1) {
  constexpr uint32_t m0 = 0xD2511F53u, m1 = 0xCD9E8D57u;  // multipliers
  constexpr uint32_t w0 = 0x9E3779B9u, w1 = 0xBB67AE85u;  // Weyl key increments
  uint32_t c0 = counter.v[0], c1 = counter.v[1], c2 = counter.v[2], c3 = counter.v[3];
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = uint64_t{m0} * c0, p1 = uint64_t{m1} * c2;
    const uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
    const uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += w0;
    k1 += w1;
  }
  return {{c0, c1, c2, c3}};
}

// Block `index` of the stream of `seed`: counter (index low, index high, 0, 0), key = seed.
constexpr Philox4x32 philox_block(uint64_t seed, uint64_t index) {
  return philox4x32_10({{static_cast<uint32_t>(index), static_cast<uint32_t>(index >> 32), 0u, 0u}},
                       static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

// Uniform in [0, 1) with 53 random bits from two words (hi supplies the top 32).
constexpr double philox_uniform(uint32_t hi, uint32_t lo) {
  return static_cast<double>(((uint64_t{hi} << 32) | lo) >> 11) * 0x1.0p-53;
}

}  // namespace sinew
