// Joining and tiling: cat, stack (cat of unsqueezed views), repeat and its
// backward. cat copies contiguous same-dtype inputs row by row with memcpy
// and hands any other input (strided, or needing a dtype cast) to copy_.
#include <algorithm>
#include <cstring>
#include <type_traits>

#include "dispatch.h"
#include "errors.h"
#include "ops/copy.h"
#include "ops/index.h"
#include "parallel.h"

namespace glassnet {

// xs[i] (..., n_i, ...) -> (..., sum n_i, ...)
Tensor cat(const std::vector<Tensor>& xs, int64_t dim) {
  if (xs.empty()) fail<ValueError>("[cat] expected a non-empty list of tensors");
  DType dtype = xs[0].dtype();
  std::vector<size_t> used;  // inputs that take part; 1-d (0,) tensors are skipped, as in torch
  for (size_t i = 0; i < xs.size(); ++i) {
    detail::check_cpu(xs[i], "cat");
    dtype = promote_types(dtype, xs[i].dtype());
    if (xs[i].dim() == 1 && xs[i].size(0) == 0) continue;
    if (xs[i].dim() == 0)
      fail<ValueError>("[cat] zero-dimensional tensor (at position ", i, ") cannot be concatenated");
    used.push_back(i);
  }
  if (used.empty()) return Tensor::empty({0}, dtype);
  const Tensor& ref = xs[used[0]];
  dim = wrap_dim(dim, ref.dim(), "cat");
  Shape shape = ref.shape();
  shape[dim] = 0;
  for (size_t i : used) {
    const Tensor& t = xs[i];
    if (t.dim() != ref.dim())
      fail<ValueError>("[cat] tensors must have the same number of dims: shapes ", shape_str(ref.shape()),
                       " (tensor ", used[0], ") and ", shape_str(t.shape()), " (tensor ", i, ")");
    for (int64_t d = 0; d < t.dim(); ++d)
      if (d != dim && t.size(d) != ref.size(d))
        fail<ValueError>("[cat] shapes ", shape_str(ref.shape()), " (tensor ", used[0], ") and ",
                         shape_str(t.shape()), " (tensor ", i, ") must match except in dim ", dim,
                         ", but differ in dim ", d);
    shape[dim] += t.size(dim);
  }
  Tensor out = Tensor::empty(shape, dtype);
  if (out.numel() == 0) return out;

  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < dim; ++d) outer *= shape[d];
  for (size_t d = dim + 1; d < shape.size(); ++d) inner *= shape[d];
  const int64_t esz = static_cast<int64_t>(out.itemsize());
  const int64_t out_row = shape[dim] * inner * esz;  // bytes per outer index
  struct Piece {
    const char* src;
    int64_t row_bytes, offset_bytes;
  };
  std::vector<Piece> fast;
  int64_t along = 0;
  for (size_t i : used) {
    const Tensor& t = xs[i];
    if (t.numel() > 0) {
      if (t.is_contiguous() && t.dtype() == dtype) {
        fast.push_back({static_cast<const char*>(t.raw_data()), t.size(dim) * inner * esz, along * inner * esz});
      } else {
        Tensor view = out.as_strided(t.shape(), out.strides(), out.offset() + along * inner);
        copy_(view, t);
      }
    }
    along += t.size(dim);
  }
  if (!fast.empty()) {
    char* dst = static_cast<char*>(out.raw_data());
    const int64_t bytes_per_outer = std::max<int64_t>(1, out_row);
    parallel_for(0, outer, std::max<int64_t>(1, (1 << 18) / bytes_per_outer), [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o)
        for (const Piece& p : fast)
          std::memcpy(dst + o * out_row + p.offset_bytes, p.src + o * p.row_bytes, p.row_bytes);
    });
  }
  return out;
}

// xs[i] (...) -> (..., len(xs) at dim, ...)
Tensor stack(const std::vector<Tensor>& xs, int64_t dim) {
  if (xs.empty()) fail<ValueError>("[stack] expected a non-empty list of tensors");
  const Shape& s0 = xs[0].shape();
  for (size_t i = 1; i < xs.size(); ++i)
    if (xs[i].shape() != s0)
      fail<ValueError>("[stack] expects each tensor to be equal size, but got ", shape_str(s0), " at entry 0 and ",
                       shape_str(xs[i].shape()), " at entry ", i);
  dim = wrap_dim(dim, xs[0].dim() + 1, "stack");
  std::vector<Tensor> views;
  views.reserve(xs.size());
  for (const Tensor& t : xs) {
    Shape shape = t.shape(), strides = t.strides();
    // The stride a contiguous tensor would have there, so contiguous inputs stay contiguous.
    const int64_t st = dim < t.dim() ? strides[dim] * shape[dim] : 1;
    shape.insert(shape.begin() + dim, 1);
    strides.insert(strides.begin() + dim, st);
    views.push_back(t.as_strided(shape, strides, t.offset()));
  }
  return cat(views, dim);
}

namespace {

Shape check_repeats(const Shape& input_shape, const Shape& repeats, const char* op) {
  if (repeats.size() < input_shape.size())
    fail<ValueError>("[", op, "] number of repeats (", repeats.size(),
                     ") can not be smaller than the number of dims of the tensor (", input_shape.size(), ")");
  for (int64_t r : repeats)
    if (r < 0) fail<ValueError>("[", op, "] repeats must be non-negative, got ", shape_str(repeats));
  Shape padded(repeats.size() - input_shape.size(), 1);
  padded.insert(padded.end(), input_shape.begin(), input_shape.end());
  return padded;
}

}  // namespace

// x (s0, ..., sn-1) -> (r0*s0, ..., rn-1*sn-1); x's shape padded with leading 1s.
Tensor repeat(const Tensor& x, const Shape& repeats) {
  detail::check_cpu(x, "repeat");
  const Shape padded = check_repeats(x.shape(), repeats, "repeat");
  const size_t n = repeats.size();
  Shape out_shape(n), tiled(2 * n), x_strides(2 * n, 0);
  const size_t lead = n - x.shape().size();
  for (size_t d = 0; d < n; ++d) {
    out_shape[d] = repeats[d] * padded[d];
    tiled[2 * d] = repeats[d];
    tiled[2 * d + 1] = padded[d];
    if (d >= lead) x_strides[2 * d + 1] = x.strides()[d - lead];
  }
  Tensor out = Tensor::empty(out_shape, x.dtype());
  if (out.numel() == 0) return out;
  // out viewed as (r0, s0, r1, s1, ...) is x broadcast along every r dim.
  Tensor out_view = out.as_strided(tiled, contiguous_strides(tiled), out.offset());
  copy_(out_view, x.as_strided(tiled, x_strides, x.offset()));
  return out;
}

// grad (r0*s0, ...) -> (s0, ...) summed over the tiles.
Tensor repeat_backward(const Tensor& grad, const Shape& input_shape, const Shape& repeats) {
  detail::check_cpu(grad, "repeat_backward");
  const Shape padded = check_repeats(input_shape, repeats, "repeat_backward");
  const size_t n = repeats.size();
  Shape expected(n), tiled(2 * n);
  for (size_t d = 0; d < n; ++d) {
    expected[d] = repeats[d] * padded[d];
    tiled[2 * d] = repeats[d];
    tiled[2 * d + 1] = padded[d];
  }
  if (grad.shape() != expected)
    fail<ValueError>("[repeat_backward] grad of shape ", shape_str(grad.shape()), " does not match input ",
                     shape_str(input_shape), " repeated ", shape_str(repeats), " (expected ", shape_str(expected), ")");
  Tensor out = Tensor::zeros(input_shape, grad.dtype());
  const int64_t N = out.numel(), R = shape_numel(repeats);
  if (N == 0 || R == 0) return out;
  const Tensor g = grad.contiguous();
  const Shape gs = contiguous_strides(tiled);
  // Element offsets of each tile's corner, and of each input element within a tile.
  std::vector<int64_t> tile_off(R);
  {
    std::vector<int64_t> t(n, 0);
    for (int64_t k = 0; k < R; ++k) {
      int64_t off = 0;
      for (size_t d = 0; d < n; ++d) off += t[d] * gs[2 * d];
      tile_off[k] = off;
      for (int64_t d = static_cast<int64_t>(n) - 1; d >= 0; --d) {
        if (++t[d] < repeats[d]) break;
        t[d] = 0;
      }
    }
  }
  dispatch_all(grad.dtype(), "repeat_backward", [&](auto tag) {
    using T = decltype(tag);
    using Acc = std::conditional_t<std::is_floating_point_v<T>, double, T>;
    const T* gp = g.data<T>();
    T* op = out.data<T>();
    parallel_for(0, N, std::max<int64_t>(256, 32768 / R), [&](int64_t b, int64_t e) {
      std::vector<int64_t> base(e - b);
      std::vector<Acc> acc(e - b, Acc(0));
      for (int64_t i = b; i < e; ++i) {
        int64_t rest = i, off = 0;
        for (int64_t d = static_cast<int64_t>(n) - 1; d >= 0; --d) {
          off += (rest % padded[d]) * gs[2 * d + 1];
          rest /= padded[d];
        }
        base[i - b] = off;
      }
      // Tiles outer, elements inner: each tile is read as a contiguous stream.
      for (int64_t k = 0; k < R; ++k) {
        const T* tile = gp + tile_off[k];
        for (int64_t j = 0; j < e - b; ++j) acc[j] = static_cast<Acc>(acc[j] + tile[base[j]]);
      }
      for (int64_t j = 0; j < e - b; ++j) op[b + j] = static_cast<T>(acc[j]);
    });
  });
  return out;
}

}  // namespace glassnet
