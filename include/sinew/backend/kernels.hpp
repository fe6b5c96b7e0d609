// The kernel list: every kernel an op may reach through SINEW_DISPATCH, by family. Each backend
// (backend::cpu, backend::cuda) provides every name with the same signature; the signatures take
// tensors and the plain descriptors of backend/descriptors.hpp and backend/optim_step.hpp. A
// backend that lacks a name fails to build (SINEW_REQUIRE_BACKEND_KERNELS below, used by each
// backend's kernels.hpp), and a test checks that every name used with SINEW_DISPATCH is listed.
//
// Kernels never check shapes or values (the op did) and never touch autograd. Where an op must
// validate data (an index in range), the CPU kernel reports it at once; a device kernel records it
// and the backend raises it at the next synchronization point.
#pragma once

// clang-format off
// Elementwise (backend/cpu/elementwise.hpp): fills, copies between any dtypes and devices, the
// op kinds of backend/kinds.hpp, where.
#define SINEW_ELEMENTWISE_KERNELS(X)                                                             \
  X(fill) X(copy) X(unary_op) X(binary_op) X(compare_op) X(compare_scalar_op) X(logical_op)      \
  X(classify_op) X(isclose) X(where)

// Reductions over a DimMask, softmax along one dim, inclusive scans, sorting and counting.
#define SINEW_REDUCTION_KERNELS(X)                                                               \
  X(sum) X(prod) X(all_any) X(extremum) X(arg_extremum) X(var) X(norm) X(logsumexp) X(softmax)   \
  X(scan) X(sort) X(count_nonzero) X(nonzero)

// Indexing: gather/scatter along a dim (a device kernel checks each index it reads), masks, flip.
#define SINEW_INDEX_KERNELS(X)                                                                   \
  X(gather) X(scatter_add) X(masked_fill) X(count_true) X(masked_select)        \
  X(masked_scatter) X(flip)

// Random fills of a contiguous tensor from a RandomStream (core/random.hpp): the same numbers on
// every backend and for any thread count.
#define SINEW_RANDOM_KERNELS(X) X(uniform_fill) X(normal_fill) X(bernoulli_fill)

// Dense linear algebra: C = alpha op(A) op(B) + beta C, batched over leading dims.
#define SINEW_LINALG_KERNELS(X) X(gemm)

// Convolution (ConvGeometry) and pooling (Pool2dParams).
#define SINEW_CONV_POOL_KERNELS(X)                                                               \
  X(conv_im2col) X(conv_col2im) X(conv_weight) X(max_pool2d) X(max_pool2d_backward)              \
  X(avg_pool2d) X(avg_pool2d_backward) X(adaptive_max_pool2d) X(adaptive_avg_pool2d)             \
  X(adaptive_avg_pool2d_backward)

// Normalization: batch-norm statistics and backward, per-channel affine, row normalization
// (layer norm, group norm).
#define SINEW_NORMALIZATION_KERNELS(X)                                                           \
  X(batch_norm_stats) X(batch_norm_backward) X(channel_affine) X(row_normalize)                  \
  X(row_normalize_backward)

// Recurrent cells: the fused gate arithmetic of one step, forward and backward.
#define SINEW_RNN_KERNELS(X)                                                                     \
  X(lstm_cell_forward) X(lstm_cell_backward) X(gru_cell_forward) X(gru_cell_backward)            \
  X(rnn_cell_forward) X(rnn_cell_backward)

// Optimizer steps (backend/optim_step.hpp's descriptors): one fused pass over a parameter, its
// gradient and its state buffers.
#define SINEW_OPTIM_KERNELS(X) X(sgd_step) X(adam_step) X(rmsprop_step) X(adagrad_step)

#define SINEW_BACKEND_KERNELS(X)                                                                 \
  SINEW_ELEMENTWISE_KERNELS(X) SINEW_REDUCTION_KERNELS(X) SINEW_INDEX_KERNELS(X)                 \
  SINEW_RANDOM_KERNELS(X) SINEW_LINALG_KERNELS(X) SINEW_CONV_POOL_KERNELS(X)                     \
  SINEW_NORMALIZATION_KERNELS(X) SINEW_RNN_KERNELS(X) SINEW_OPTIM_KERNELS(X)
// clang-format on

// In a backend's kernels.hpp, after including all of its kernels:
//   #define SINEW_CPU_KERNEL_(name) using ::sinew::backend::cpu::name;
//   namespace sinew::backend::cpu::detail_kernel_list { SINEW_BACKEND_KERNELS(SINEW_CPU_KERNEL_) }
// A missing name is a compile error naming the kernel.
