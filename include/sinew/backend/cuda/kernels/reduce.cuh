R"SINEW_CUDA(
// Reduction kernels: sum, prod, all/any, max/min with indices, argmax/argmin, var/std, norm,
// logsumexp over a DimMask, and softmax/log_softmax along one dim; the arithmetic of
// backend/cpu/reduce.hpp.
namespace sinew {

}  // namespace sinew
)SINEW_CUDA"
