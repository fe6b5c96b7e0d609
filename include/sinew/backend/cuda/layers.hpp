// The layer kernels of the kernel list on the CUDA backend, with backend::cpu's signatures:
// convolution as im2col / col2im (kernels/layers.cuh) around cuBLAS GEMMs (gemm.hpp), max,
// average and adaptive pooling, batch norm statistics and backward, the per-channel affine, the
// row normalization of layer norm and group norm, and the fused LSTM, GRU and Elman RNN cells.
// Every tensor operand is contiguous (the ops make it so) and on one device; the kernels take
// 64-bit indices and one instantiation per element type (float, double).
//
// Convolution keeps every image of the batch in one launch: the columns of the whole batch
// ([N, C kh kw, gh gw]) and one batched GEMM per group, the weight broadcast over the batch. The
// weight gradient lays the columns out as [C kh kw, N gh gw] and the output gradient as
// [O, N gh gw], so that the sum over the batch is the inner dimension of a single GEMM.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>

#include "sinew/backend/cuda/elementwise.hpp"
#include "sinew/backend/cuda/gemm.hpp"
#include "sinew/backend/cuda/launch.hpp"
#include "sinew/backend/cuda/source.hpp"
#include "sinew/backend/descriptors.hpp"
#include "sinew/core/tensor.hpp"

namespace sinew::backend::cuda {

namespace detail_layers {

template <class T>
T* ptr_or_null(const Tensor<T>& t) {
  return t.defined() ? t.data_ptr() : nullptr;
}

// A strided view of base's memory from `offset` elements past base's first element.
template <class T>
Tensor<T> view(const Tensor<T>& base, Shape shape, Shape strides, int64_t offset = 0) {
  auto impl = std::make_shared<::sinew::detail::TensorImpl>();
  impl->storage = base.impl().storage;
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->offset = base.storage_offset() + offset;
  impl->dtype = dtype_of<T>();
  return Tensor<T>(impl);
}

// "sinew::<kernel><T>".
template <class T>
std::string kernel_name(const char* kernel) {
  return name_expression(kernel, {std::string(type_name<T>())});
}

// A grid-stride launch of kernel<T> over n items.
template <class T>
KernelLaunch items_launch(const Device& device, const char* kernel, int64_t n) {
  const PlanOptions o = plan_options(device.index());
  return kernel_launch(device, kLayers, kernel_name<T>(kernel), grid_blocks(n, o.block, o),
                       static_cast<uint32_t>(o.block));
}

// Launches kernel<T> (host: its host instantiation) over n items of device with the arguments
// args..., then n; nothing for n == 0.
template <class T, class HostKernel, class... A>
void launch_items(const Device& device, const char* kernel, HostKernel host, int64_t n,
                  const A&... args) {
  if (n == 0) return;
  launch(items_launch<T>(device, kernel, n), host, args..., n);
}

// A read-only operand's first element, as the kernels' const T* parameters take it.
template <class T>
const T* in(const Tensor<T>& t) {
  return t.data_ptr();
}

// A launch of kernel<T> with one block per channel or row (blocks loop when there are more than
// the grid cap), a whole number of warps per block and dev::block_sum_all's 33 doubles of shared
// memory.
template <class T>
KernelLaunch blocks_launch(const Device& device, const char* kernel, int64_t blocks) {
  const PlanOptions o = plan_options(device.index());
  const int block = std::clamp(o.block / 32 * 32, 32, 1024);
  const auto grid = static_cast<uint32_t>(std::clamp<int64_t>(blocks, 1, o.max_blocks));
  return kernel_launch(device, kLayers, kernel_name<T>(kernel), grid, static_cast<uint32_t>(block),
                       33 * sizeof(double));
}

// The sizes of one convolution's GEMMs: per group, the weight is [og, k] and the columns
// [k, cells].
struct ConvSizes {
  int64_t cg, og, k, rows, cells;  // rows: C kh kw, the column rows of all groups
  explicit ConvSizes(const ConvGeometry& g)
      : cg(g.image_channels / g.groups),
        og(g.grid_channels / g.groups),
        k(cg * g.kernel_h * g.kernel_w),
        rows(g.image_channels * g.kernel_h * g.kernel_w),
        cells(g.grid_h * g.grid_w) {}
};

// The columns of image's batch, [N, rows, cells] (transposed: [rows, N, cells]).
template <class T>
Tensor<T> columns(const Tensor<T>& image, const ConvGeometry& g, bool transposed) {
  const ConvSizes z(g);
  Tensor<T> col =
      empty<T>(transposed ? Shape{z.rows, g.batch, z.cells} : Shape{g.batch, z.rows, z.cells},
               image.device());
  const int64_t n = g.batch * z.rows * z.cells;
  if (n == 0) return col;
  const int64_t batch_stride = transposed ? z.cells : z.rows * z.cells;
  const int64_t row_stride = transposed ? g.batch * z.cells : z.cells;
  const T* in = image.data_ptr();
  T* out = col.data_ptr();
  launch(items_launch<T>(image.device(), "im2col_cells", n),
         SINEW_CUDA_HOST_KERNEL(im2col_cells<T>), in, out, g, batch_stride, row_stride, n);
  return col;
}

// out [N, channels, cells] = bias[channel].
template <class T>
void fill_channels(const Tensor<T>& bias, const Tensor<T>& out, int64_t channels, int64_t cells) {
  const int64_t n = out.numel();
  if (n == 0) return;
  const T* b = bias.data_ptr();
  T* o = out.data_ptr();
  launch(items_launch<T>(out.device(), "channel_fill", n), SINEW_CUDA_HOST_KERNEL(channel_fill<T>),
         b, o, channels, cells, n);
}

}  // namespace detail_layers

// ---- convolution -------------------------------------------------------------------------------

// grid = w (*) image + bias (backend::cpu::conv_im2col).
template <class T>
void conv_im2col(const Tensor<T>& image, const Tensor<T>& w, const Tensor<T>& bias,
                 const Tensor<T>& grid, const ConvGeometry& g) {
  static_assert(std::is_floating_point_v<T>, "conv_im2col: float or double only");
  using namespace detail_layers;
  const ConvSizes z(g);
  if (g.batch == 0 || grid.numel() == 0) return;
  if (bias.defined())
    fill_channels(bias, grid, g.grid_channels, z.cells);
  else if (z.k == 0)
    fill(grid, 0.0);
  if (z.k == 0) return;
  const Tensor<T> col = columns(image, g, /*transposed=*/false);
  for (int64_t grp = 0; grp < g.groups; ++grp) {
    gemm(view(w, {g.batch, z.og, z.k}, {0, z.k, 1}, grp * z.og * z.k),
         view(col, {g.batch, z.k, z.cells}, {z.rows * z.cells, z.cells, 1}, grp * z.k * z.cells),
         view(grid, {g.batch, z.og, z.cells}, {g.grid_channels * z.cells, z.cells, 1},
              grp * z.og * z.cells),
         1.0, bias.defined() ? 1.0 : 0.0);
  }
}

// image = col2im(W^T grid) + bias (backend::cpu::conv_col2im).
template <class T>
void conv_col2im(const Tensor<T>& grid, const Tensor<T>& w, const Tensor<T>& bias,
                 const Tensor<T>& image, const ConvGeometry& g) {
  static_assert(std::is_floating_point_v<T>, "conv_col2im: float or double only");
  using namespace detail_layers;
  const ConvSizes z(g);
  const int64_t plane = g.image_h * g.image_w;
  if (g.batch == 0 || image.numel() == 0) return;
  if (z.og == 0 || z.k == 0 || z.cells == 0) {
    if (bias.defined())
      fill_channels(bias, image, g.image_channels, plane);
    else
      fill(image, 0.0);
    return;
  }
  // col[n, grp] [k, cells] = W_grp^T [k, og] grid[n, grp] [og, cells].
  Tensor<T> col = empty<T>({g.batch, z.rows, z.cells}, image.device());
  for (int64_t grp = 0; grp < g.groups; ++grp) {
    gemm(view(w, {g.batch, z.k, z.og}, {0, 1, z.k}, grp * z.og * z.k),
         view(grid, {g.batch, z.og, z.cells}, {g.grid_channels * z.cells, z.cells, 1},
              grp * z.og * z.cells),
         view(col, {g.batch, z.k, z.cells}, {z.rows * z.cells, z.cells, 1}, grp * z.k * z.cells),
         1.0, 0.0);
  }
  const int64_t n = image.numel();
  const T* c = col.data_ptr();
  const T* b = ptr_or_null(bias);
  T* out = image.data_ptr();
  launch(items_launch<T>(image.device(), "col2im_pixels", n),
         SINEW_CUDA_HOST_KERNEL(col2im_pixels<T>), c, b, out, g, n);
}

// dw[grp] = sum_n grid[n, grp] im2col(image[n, grp])^T (backend::cpu::conv_weight): one GEMM per
// group over the batch's columns [rows, N cells] and the gradient laid out as [O, N cells].
template <class T>
void conv_weight(const Tensor<T>& image, const Tensor<T>& grid, const Tensor<T>& dw,
                 const ConvGeometry& g) {
  static_assert(std::is_floating_point_v<T>, "conv_weight: float or double only");
  using namespace detail_layers;
  const ConvSizes z(g);
  if (dw.numel() == 0) return;
  if (g.batch == 0 || z.cells == 0) {
    fill(dw, 0.0);
    return;
  }
  const int64_t inner = g.batch * z.cells;
  const Tensor<T> col = columns(image, g, /*transposed=*/true);
  Tensor<T> gt = empty<T>({g.grid_channels, g.batch, z.cells}, grid.device());
  copy(view(gt, {g.batch, g.grid_channels, z.cells}, {z.cells, inner, 1}),
       view(grid, {g.batch, g.grid_channels, z.cells}, {g.grid_channels * z.cells, z.cells, 1}));
  for (int64_t grp = 0; grp < g.groups; ++grp) {
    gemm(view(gt, {z.og, inner}, {inner, 1}, grp * z.og * inner),
         view(col, {inner, z.k}, {1, inner}, grp * z.k * inner),
         view(dw, {z.og, z.k}, {z.k, 1}, grp * z.og * z.k), 1.0, 0.0);
  }
}

// ---- pooling -----------------------------------------------------------------------------------

template <class T>
void max_pool2d(const Tensor<T>& x, const Pool2dParams& p, const Tensor<T>& y,
                const Tensor<int64_t>& idx) {
  detail_layers::launch_items<T>(x.device(), "max_pool2d_cells",
                                 SINEW_CUDA_HOST_KERNEL(max_pool2d_cells<T>), y.numel(),
                                 detail_layers::in(x), y.data_ptr(), idx.data_ptr(), p);
}

// gx = 0, then g added at idx per plane (max and adaptive max pooling).
template <class T>
void max_pool2d_backward(const Tensor<T>& g, const Tensor<int64_t>& idx, const Pool2dParams& p,
                         const Tensor<T>& gx) {
  if (gx.numel() == 0) return;
  detail_layers::launch_items<T>(g.device(), "max_pool2d_backward_planes",
                                 SINEW_CUDA_HOST_KERNEL(max_pool2d_backward_planes<T>), p.planes,
                                 detail_layers::in(g), detail_layers::in(idx), gx.data_ptr(),
                                 p.in_h * p.in_w, p.out_h * p.out_w);
}

template <class T>
void avg_pool2d(const Tensor<T>& x, const Pool2dParams& p, bool count_include_pad,
                int64_t divisor_override, const Tensor<T>& y) {
  detail_layers::launch_items<T>(
      x.device(), "avg_pool2d_cells", SINEW_CUDA_HOST_KERNEL(avg_pool2d_cells<T>), y.numel(),
      detail_layers::in(x), y.data_ptr(), p, count_include_pad, divisor_override);
}

template <class T>
void avg_pool2d_backward(const Tensor<T>& g, const Pool2dParams& p, bool count_include_pad,
                         int64_t divisor_override, const Tensor<T>& gx) {
  detail_layers::launch_items<T>(g.device(), "avg_pool2d_backward_pixels",
                                 SINEW_CUDA_HOST_KERNEL(avg_pool2d_backward_pixels<T>), gx.numel(),
                                 detail_layers::in(g), gx.data_ptr(), p, count_include_pad,
                                 divisor_override);
}

template <class T>
void adaptive_avg_pool2d(const Tensor<T>& x, const Pool2dParams& p, const Tensor<T>& y) {
  detail_layers::launch_items<T>(x.device(), "adaptive_avg_pool2d_cells",
                                 SINEW_CUDA_HOST_KERNEL(adaptive_avg_pool2d_cells<T>), y.numel(),
                                 detail_layers::in(x), y.data_ptr(), p);
}

template <class T>
void adaptive_avg_pool2d_backward(const Tensor<T>& g, const Pool2dParams& p, const Tensor<T>& gx) {
  detail_layers::launch_items<T>(g.device(), "adaptive_avg_pool2d_backward_pixels",
                                 SINEW_CUDA_HOST_KERNEL(adaptive_avg_pool2d_backward_pixels<T>),
                                 gx.numel(), detail_layers::in(g), gx.data_ptr(), p);
}

template <class T>
void adaptive_max_pool2d(const Tensor<T>& x, const Pool2dParams& p, const Tensor<T>& y,
                         const Tensor<int64_t>& idx) {
  detail_layers::launch_items<T>(x.device(), "adaptive_max_pool2d_cells",
                                 SINEW_CUDA_HOST_KERNEL(adaptive_max_pool2d_cells<T>), y.numel(),
                                 detail_layers::in(x), y.data_ptr(), idx.data_ptr(), p);
}

// ---- normalization -----------------------------------------------------------------------------

template <class T>
void batch_norm_stats(const Tensor<T>& x, int64_t n, int64_t c, int64_t s, const Tensor<T>& mean,
                      const Tensor<T>& var) {
  if (c == 0) return;
  const T* in = x.data_ptr();
  T* m = mean.data_ptr();
  T* v = var.data_ptr();
  launch(detail_layers::blocks_launch<T>(x.device(), "batch_norm_stats_channels", c),
         SINEW_CUDA_HOST_KERNEL(batch_norm_stats_channels<T>), in, m, v, n, c, s);
}

template <class T>
void channel_affine(const Tensor<T>& x, int64_t n, int64_t c, int64_t s, const Tensor<T>& scale,
                    const Tensor<T>& shift, const Tensor<T>& y) {
  const int64_t total = n * c * s;
  if (total == 0) return;
  const T* in = x.data_ptr();
  const T* sc = scale.data_ptr();
  const T* sh = shift.data_ptr();
  T* out = y.data_ptr();
  launch(detail_layers::items_launch<T>(x.device(), "channel_affine_cells", total),
         SINEW_CUDA_HOST_KERNEL(channel_affine_cells<T>), in, sc, sh, out, c, s, total);
}

template <class T>
void batch_norm_backward(const Tensor<T>& g, const Tensor<T>& x, const Tensor<T>& mean,
                         const Tensor<T>& invstd, const Tensor<T>& weight, bool training, int64_t n,
                         int64_t c, int64_t s, const Tensor<T>& gx, const Tensor<T>& grad_weight,
                         const Tensor<T>& grad_bias) {
  using detail_layers::ptr_or_null;
  if (c == 0) return;
  const T* gd = g.data_ptr();
  const T* xd = x.data_ptr();
  const T* md = mean.data_ptr();
  const T* id = invstd.data_ptr();
  const T* wd = ptr_or_null(weight);
  T* gxd = ptr_or_null(gx);
  T* gwd = ptr_or_null(grad_weight);
  T* gbd = ptr_or_null(grad_bias);
  launch(detail_layers::blocks_launch<T>(g.device(), "batch_norm_backward_channels", c),
         SINEW_CUDA_HOST_KERNEL(batch_norm_backward_channels<T>), gd, xd, md, id, wd, training, n,
         c, s, gxd, gwd, gbd);
}

template <class T>
void row_normalize(const Tensor<T>& x, int64_t r, int64_t k, double eps, const Tensor<T>& y,
                   const Tensor<T>& mean, const Tensor<T>& invstd) {
  if (r == 0) return;
  const T* in = x.data_ptr();
  T* out = y.data_ptr();
  T* m = mean.data_ptr();
  T* inv = invstd.data_ptr();
  launch(detail_layers::blocks_launch<T>(x.device(), "row_normalize_rows", r),
         SINEW_CUDA_HOST_KERNEL(row_normalize_rows<T>), in, out, m, inv, r, k, eps);
}

template <class T>
void row_normalize_backward(const Tensor<T>& g, const Tensor<T>& x, const Tensor<T>& mean,
                            const Tensor<T>& invstd, int64_t r, int64_t k, const Tensor<T>& gx) {
  if (r == 0) return;
  const T* gd = g.data_ptr();
  const T* xd = x.data_ptr();
  const T* m = mean.data_ptr();
  const T* inv = invstd.data_ptr();
  T* out = gx.data_ptr();
  launch(detail_layers::blocks_launch<T>(g.device(), "row_normalize_backward_rows", r),
         SINEW_CUDA_HOST_KERNEL(row_normalize_backward_rows<T>), gd, xd, m, inv, out, r, k);
}

// ---- recurrent cells ---------------------------------------------------------------------------

template <class T>
void lstm_cell_forward(const Tensor<T>& gx, const Tensor<T>& gh, const Tensor<T>& bias,
                       const Tensor<T>& c_prev, const Tensor<T>& h, const Tensor<T>& c,
                       const Tensor<T>& gates) {
  const int64_t H = c.size(1), n = c.numel();
  if (n == 0) return;
  const T *x = gx.data_ptr(), *y = gh.data_ptr(), *b = detail_layers::ptr_or_null(bias);
  const T* cp = c_prev.data_ptr();
  T *ho = h.data_ptr(), *co = c.data_ptr(), *ga = gates.data_ptr();
  launch(detail_layers::items_launch<T>(c.device(), "lstm_cell_forward_units", n),
         SINEW_CUDA_HOST_KERNEL(lstm_cell_forward_units<T>), x, y, b, cp, ho, co, ga, H, n);
}

template <class T>
void lstm_cell_backward(const Tensor<T>& dh, const Tensor<T>& dh2, const Tensor<T>& dc,
                        const Tensor<T>& gates, const Tensor<T>& c_prev, const Tensor<T>& c,
                        const Tensor<T>& dgates, const Tensor<T>& dc_prev) {
  using detail_layers::ptr_or_null;
  const int64_t H = c.size(1), n = c.numel();
  if (n == 0) return;
  const T *d = dh.data_ptr(), *d2 = ptr_or_null(dh2), *dcp = ptr_or_null(dc);
  const T *ga = gates.data_ptr(), *cp = c_prev.data_ptr(), *cc = c.data_ptr();
  T *dg = dgates.data_ptr(), *dco = dc_prev.data_ptr();
  launch(detail_layers::items_launch<T>(c.device(), "lstm_cell_backward_units", n),
         SINEW_CUDA_HOST_KERNEL(lstm_cell_backward_units<T>), d, d2, dcp, ga, cp, cc, dg, dco, H,
         n);
}

template <class T>
void gru_cell_forward(const Tensor<T>& gx, const Tensor<T>& gh, const Tensor<T>& bias,
                      const Tensor<T>& h_prev, const Tensor<T>& h, const Tensor<T>& workspace) {
  const int64_t H = h.size(1), n = h.numel();
  if (n == 0) return;
  const T *x = gx.data_ptr(), *y = gh.data_ptr(), *b = detail_layers::ptr_or_null(bias);
  const T* hp = h_prev.data_ptr();
  T *ho = h.data_ptr(), *ws = workspace.data_ptr();
  launch(detail_layers::items_launch<T>(h.device(), "gru_cell_forward_units", n),
         SINEW_CUDA_HOST_KERNEL(gru_cell_forward_units<T>), x, y, b, hp, ho, ws, H, n);
}

template <class T>
void gru_cell_backward(const Tensor<T>& dh, const Tensor<T>& dh2, const Tensor<T>& workspace,
                       const Tensor<T>& h_prev, const Tensor<T>& dgx, const Tensor<T>& dgh,
                       const Tensor<T>& dh_prev) {
  const int64_t H = h_prev.size(1), n = h_prev.numel();
  if (n == 0) return;
  const T *d = dh.data_ptr(), *d2 = detail_layers::ptr_or_null(dh2), *ws = workspace.data_ptr();
  const T* hp = h_prev.data_ptr();
  T *dx = dgx.data_ptr(), *dy = dgh.data_ptr(), *dho = dh_prev.data_ptr();
  launch(detail_layers::items_launch<T>(h_prev.device(), "gru_cell_backward_units", n),
         SINEW_CUDA_HOST_KERNEL(gru_cell_backward_units<T>), d, d2, ws, hp, dx, dy, dho, H, n);
}

template <class T>
void rnn_cell_forward(const Tensor<T>& gx, const Tensor<T>& gh, const Tensor<T>& bias, bool relu,
                      const Tensor<T>& h) {
  const int64_t H = h.size(1), n = h.numel();
  if (n == 0) return;
  const T *x = gx.data_ptr(), *y = gh.data_ptr(), *b = detail_layers::ptr_or_null(bias);
  T* ho = h.data_ptr();
  launch(detail_layers::items_launch<T>(h.device(), "rnn_cell_forward_units", n),
         SINEW_CUDA_HOST_KERNEL(rnn_cell_forward_units<T>), x, y, b, relu, ho, H, n);
}

template <class T>
void rnn_cell_backward(const Tensor<T>& dh, const Tensor<T>& dh2, const Tensor<T>& h, bool relu,
                       const Tensor<T>& dpre) {
  const int64_t n = h.numel();
  if (n == 0) return;
  const T *d = dh.data_ptr(), *d2 = detail_layers::ptr_or_null(dh2), *hp = h.data_ptr();
  T* out = dpre.data_ptr();
  launch(detail_layers::items_launch<T>(h.device(), "rnn_cell_backward_units", n),
         SINEW_CUDA_HOST_KERNEL(rnn_cell_backward_units<T>), d, d2, hp, relu, out, n);
}

}  // namespace sinew::backend::cuda
