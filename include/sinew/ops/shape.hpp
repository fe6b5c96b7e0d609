// Shape ops that combine or rearrange tensors: cat, stack, split, chunk, pad (constant), flip,
// repeat.
#pragma once

#include <algorithm>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "sinew/backend/cpu/index.hpp"
#ifdef SINEW_WITH_CUDA
#include "sinew/backend/cuda/kernels.hpp"
#endif
#include "sinew/ops/cast.hpp"
#include "sinew/ops/common.hpp"
#include "sinew/ops/factory.hpp"
#include "sinew/ops/reduce.hpp"
#include "sinew/ops/view.hpp"

namespace sinew {

namespace detail {

// "[2, 3], [4, 3]": the shapes of a tensor list, for error messages.
template <class T>
std::string shapes_of(const std::vector<Tensor<T>>& ts) {
  std::ostringstream os;
  for (size_t i = 0; i < ts.size(); ++i) {
    os << (i ? ", " : "");
    if (ts[i].defined())
      os << ts[i].shape();
    else
      os << "(undefined)";
  }
  return os.str();
}

// Copies src into the block of dst that starts at `offset` (elements) and has src's shape.
template <class T>
void copy_into_block(const Tensor<T>& dst, int64_t offset, const Tensor<T>& src) {
  Tensor<T> block = make_view(dst, src.shape(), dst.strides(), dst.storage_offset() + offset);
  SINEW_DISPATCH(dst.device(), copy, block, src);
}

}  // namespace detail

// y = the tensors joined along `dim` (all sizes equal except there);  dL/dx_i = dL/dy narrowed to
// x_i's block. As in PyTorch, 1-d empty tensors (shape [0]) are skipped whatever the others' shape.
template <class T>
Tensor<T> cat(const std::vector<Tensor<T>>& tensors, int64_t dim = 0) {
  SINEW_CHECK(!tensors.empty(), "cat", "expected a non-empty list of tensors");
  for (size_t i = 0; i < tensors.size(); ++i) {
    SINEW_CHECK(tensors[i].defined(), "cat", "tensor ", i, " is undefined");
  }
  auto skipped = [](const Tensor<T>& t) { return t.dim() == 1 && t.numel() == 0; };
  size_t ref = 0;
  while (ref + 1 < tensors.size() && skipped(tensors[ref])) ++ref;
  const Tensor<T>& r = tensors[ref];
  SINEW_CHECK(r.dim() > 0, "cat", "zero-dimensional tensor (at position ", ref,
              ") cannot be concatenated; got shapes ", detail::shapes_of(tensors));
  int64_t d = detail::wrap_dim(dim, r.dim(), "cat");
  Shape out_shape = r.shape();
  out_shape[d] = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor<T>& t = tensors[i];
    detail::check_same_device("cat", r, t);
    if (skipped(t) && r.dim() != 1) continue;
    bool match = t.dim() == r.dim();
    for (int64_t k = 0; match && k < r.dim(); ++k) match = k == d || t.size(k) == r.size(k);
    SINEW_CHECK(match, "cat", "sizes of tensors must match except in dimension ", d, "; tensor ", i,
                " differs; got shapes ", detail::shapes_of(tensors));
    out_shape[d] += t.size(d);
  }
  Tensor<T> y = empty<T>(out_shape, r.device());
  std::vector<int64_t> starts, lengths;  // each input's block along d; start -1 where skipped
  int64_t at = 0;
  for (const auto& t : tensors) {
    if (skipped(t) && r.dim() != 1) {
      starts.push_back(-1);
      lengths.push_back(0);
      continue;
    }
    starts.push_back(at);
    lengths.push_back(t.size(d));
    if (t.numel() > 0) detail::copy_into_block(y, at * y.stride(d), t);
    at += t.size(d);
  }
  if constexpr (is_floating_dtype_v<T>) {
    std::vector<autograd::Input> inputs(tensors.begin(), tensors.end());
    autograd::record(
        y, "cat", inputs,
        [d, starts, lengths](const Tensor<T>& g, const autograd::BackwardContext<T>& ctx) {
          std::vector<Tensor<T>> grads;
          for (size_t i = 0; i < starts.size(); ++i) {
            if (!ctx.needs(i)) {
              grads.emplace_back();
            } else if (starts[i] < 0) {
              grads.push_back(zeros<T>({0}, g.device()));
            } else {
              grads.push_back(g.narrow(d, starts[i], lengths[i]));
            }
          }
          return grads;
        });
  }
  return y;
}

// y = the tensors (all of one shape) stacked along a new dimension `dim`;  written with cat.
template <class T>
Tensor<T> stack(const std::vector<Tensor<T>>& tensors, int64_t dim = 0) {
  SINEW_CHECK(!tensors.empty(), "stack", "expected a non-empty list of tensors");
  for (size_t i = 0; i < tensors.size(); ++i) {
    SINEW_CHECK(tensors[i].defined(), "stack", "tensor ", i, " is undefined");
    SINEW_CHECK(tensors[i].shape() == tensors[0].shape(), "stack",
                "expects each tensor to be equal size, but tensor ", i, " differs; got shapes ",
                detail::shapes_of(tensors));
  }
  int64_t d = detail::wrap_dim(dim, tensors[0].dim() + 1, "stack");
  std::vector<Tensor<T>> parts;
  parts.reserve(tensors.size());
  for (const auto& t : tensors) parts.push_back(t.unsqueeze(d));
  return cat(parts, d);
}

// Views of consecutive blocks of `split_size` along dim (the last may be smaller).
template <class T>
std::vector<Tensor<T>> split(const Tensor<T>& x, int64_t split_size, int64_t dim = 0) {
  SINEW_CHECK(x.dim() > 0, "split", "cannot split a 0-d tensor");
  int64_t d = detail::wrap_dim(dim, x.dim(), "split");
  int64_t n = x.size(d);
  SINEW_CHECK(split_size >= 0, "split", "split_size must be non-negative, got ", split_size);
  SINEW_CHECK(split_size > 0 || n == 0, "split", "split_size can only be 0 if dimension ", d,
              " has size 0, but it has size ", n);
  std::vector<Tensor<T>> out;
  if (split_size == 0 || n == 0) {
    out.push_back(x.narrow(d, 0, 0));
    return out;
  }
  for (int64_t start = 0; start < n; start += split_size) {
    out.push_back(x.narrow(d, start, std::min(split_size, n - start)));
  }
  return out;
}

// Views of blocks with the given sizes along dim (they must add up to the dimension's size).
template <class T>
std::vector<Tensor<T>> split(const Tensor<T>& x, const Shape& sizes, int64_t dim = 0) {
  SINEW_CHECK(x.dim() > 0, "split", "cannot split a 0-d tensor");
  int64_t d = detail::wrap_dim(dim, x.dim(), "split");
  int64_t total = 0;
  for (int64_t s : sizes) {
    SINEW_CHECK(s >= 0, "split", "split sizes must be non-negative, got ", sizes);
    total += s;
  }
  SINEW_CHECK(total == x.size(d), "split", "split sizes ", sizes, " add up to ", total,
              " but dimension ", d, " has size ", x.size(d), " (shape ", x.shape(), ")");
  std::vector<Tensor<T>> out;
  int64_t start = 0;
  for (int64_t s : sizes) {
    out.push_back(x.narrow(d, start, s));
    start += s;
  }
  return out;
}

// `chunks` views of (nearly) equal size along dim, as torch.chunk: blocks of ceil(n / chunks), so
// fewer than `chunks` may come back.
template <class T>
std::vector<Tensor<T>> chunk(const Tensor<T>& x, int64_t chunks, int64_t dim = 0) {
  SINEW_CHECK(chunks > 0, "chunk", "number of chunks must be positive, got ", chunks);
  SINEW_CHECK(x.dim() > 0, "chunk", "cannot chunk a 0-d tensor");
  int64_t d = detail::wrap_dim(dim, x.dim(), "chunk");
  int64_t n = x.size(d);
  if (n == 0) return split(x, Shape(std::vector<int64_t>(static_cast<size_t>(chunks), 0)), d);
  return split(x, (n + chunks - 1) / chunks, d);
}

// Constant padding like torch.nn.functional.pad: pads = {left, right} for the last dimension, then
// {top, bottom} for the one before, and so on; negative amounts crop. The new cells hold `value`.
// dL/dx = dL/dy on the region x landed in (zero where x was cropped).
template <class T>
Tensor<T> pad(const Tensor<T>& x, const Shape& pads, double value = 0) {
  SINEW_CHECK(pads.size() % 2 == 0, "pad", "padding length must be even, got ", pads.size(), " (",
              pads, ")");
  SINEW_CHECK(pads.size() / 2 <= x.dim(), "pad", "padding ", pads, " covers ", pads.size() / 2,
              " dimensions but the input has shape ", x.shape());
  Tensor<T> xc = x;  // x with the negative amounts cropped (views)
  Shape lead(std::vector<int64_t>(static_cast<size_t>(x.dim()), 0));
  Shape out_shape = x.shape();
  for (int64_t k = 0; k < pads.size() / 2; ++k) {
    int64_t d = x.dim() - 1 - k, left = pads[2 * k], right = pads[2 * k + 1];
    int64_t n = x.size(d);
    int64_t crop_l = std::max<int64_t>(-left, 0), crop_r = std::max<int64_t>(-right, 0);
    SINEW_CHECK(crop_l + crop_r <= n, "pad", "padding (", left, ", ", right, ") of dimension ", d,
                " crops more than its size ", n, " (input shape ", x.shape(), ")");
    if (crop_l + crop_r > 0) xc = xc.narrow(d, crop_l, n - crop_l - crop_r);
    lead[d] = std::max<int64_t>(left, 0);
    out_shape[d] = n + left + right;
  }
  Tensor<T> y = full<T>(out_shape, value, x.device());
  int64_t offset = 0;
  for (int64_t d = 0; d < x.dim(); ++d) offset += lead[d] * y.stride(d);
  if (xc.numel() > 0) detail::copy_into_block(y, offset, xc);
  if constexpr (is_floating_dtype_v<T>) {
    autograd::record(y, "pad", {xc}, [lead, kept = xc.shape()](const Tensor<T>& g) {
      Tensor<T> r = g;
      for (int64_t d = 0; d < kept.size(); ++d) {
        if (kept[d] != g.size(d)) r = r.narrow(d, lead[d], kept[d]);
      }
      return r;
    });
  }
  return y;
}

// y = x reversed along each of dims (a copy, as torch.flip);  dL/dx = flip(dL/dy, dims).
template <class T>
Tensor<T> flip(const Tensor<T>& x, const Shape& dims) {
  SINEW_CHECK(x.dim() <= backend::DimMask::kMaxDims, "flip", "a tensor of shape ", x.shape(),
              " has more than ", backend::DimMask::kMaxDims, " dimensions");
  backend::DimMask mask(x.dim(), false);
  for (int64_t d : dims) {
    int64_t w = detail::wrap_dim(d, x.dim(), "flip");
    if (x.dim() == 0) continue;
    SINEW_CHECK(!mask[w], "flip", "dimension ", w, " appears more than once in dims ", dims);
    mask.set(w);
  }
  Tensor<T> y = empty<T>(x.shape(), x.device());
  SINEW_DISPATCH(x.device(), flip, x, mask, y);
  if constexpr (is_floating_dtype_v<T>) {
    autograd::record(y, "flip", {x}, [dims](const Tensor<T>& g) { return flip(g, dims); });
  }
  return y;
}

// y = x tiled repeats[i] times along dimension i (leading repeats add dimensions), as
// torch.Tensor.repeat. Written as a stride-0 expand and one copy, so dL/dx sums the tiles.
template <class T>
Tensor<T> repeat(const Tensor<T>& x, const Shape& repeats) {
  SINEW_CHECK(repeats.size() >= x.dim(), "repeat", "number of repeats ", repeats,
              " can not be smaller than the number of dimensions of the input ", x.shape());
  for (int64_t r : repeats) {
    SINEW_CHECK(r >= 0, "repeat", "repeats must be non-negative, got ", repeats);
  }
  int64_t lead = repeats.size() - x.dim();
  Tensor<T> v = x;
  for (int64_t i = 0; i < lead; ++i) v = v.unsqueeze(0);
  // [s0, s1, ...] -> [1, s0, 1, s1, ...] -> [r0, s0, r1, s1, ...] -> [r0 s0, r1 s1, ...]
  Shape tiled, flat;
  for (int64_t i = 0; i < repeats.size(); ++i) {
    v = v.unsqueeze(2 * i);
    tiled.push_back(repeats[i]);
    tiled.push_back(v.size(2 * i + 1));
    flat.push_back(repeats[i] * v.size(2 * i + 1));
  }
  return v.expand(tiled).clone().view(flat);
}

template <class T>
Tensor<T> Tensor<T>::flip(const Shape& dims) const {
  return sinew::flip(*this, dims);
}

template <class T>
Tensor<T> Tensor<T>::repeat(const Shape& repeats) const {
  return sinew::repeat(*this, repeats);
}

}  // namespace sinew
