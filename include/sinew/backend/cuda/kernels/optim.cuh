R"SINEW_CUDA(
// Optimizer step kernels: SGD, Adam/AdamW, RMSprop and Adagrad, one fused pass over a parameter,
// its gradient and its state buffers; the arithmetic of backend/cpu/optim.hpp, element for element.
namespace sinew {

}  // namespace sinew
)SINEW_CUDA"
