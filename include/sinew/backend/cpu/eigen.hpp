// The one place Sinew includes Eigen (Eigen/Core only: dense maps, arrays and the GEMM), so that
// every CPU kernel sees it configured the same way.
#pragma once

// GCC 12's AVX-512 intrinsics, inlined into Eigen's packet code, trip -Wuninitialized on their
// deliberately undefined registers (GCC bug 105593). The pragma must cover the first inclusion
// of Eigen's headers, which is why every kernel includes Eigen through this header.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <Eigen/Core>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
