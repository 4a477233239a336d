// gather, scatter and scatter_add (gather's backward). The loops run over the
// index tensor's positions; x (or the output, for scatter) is viewed with the
// index's shape and stride 0 along `dim`, and the kernel adds index * stride.
#include <algorithm>

#include "dispatch.h"
#include "errors.h"
#include "ops/copy.h"
#include "ops/index.h"
#include "ops/iter.h"

namespace glassnet {

namespace {

// Element strides of t viewed with `shape`, with `dim` zeroed (0-d: none).
Shape strides_without_dim(const Tensor& t, int64_t dim) {
  Shape s = t.strides();
  if (!s.empty()) s[dim] = 0;
  return s;
}

int64_t dim_stride(const Tensor& t, int64_t dim) { return t.dim() == 0 ? 0 : t.strides()[dim]; }
int64_t dim_size(const Tensor& t, int64_t dim) { return t.dim() == 0 ? 1 : t.size(dim); }

// Checks shared by gather and scatter; returns the wrapped dim.
int64_t check_gather_args(const Tensor& x, int64_t dim, const Tensor& index, const char* op) {
  detail::check_cpu(x, op);
  detail::check_cpu(index, op);
  detail::check_index_dtype(index, op);
  if (index.dim() != x.dim())
    fail<ValueError>("[", op, "] index ", shape_str(index.shape()), " must have the same number of dims as x ",
                     shape_str(x.shape()));
  dim = wrap_dim(dim, std::max<int64_t>(x.dim(), 1), op);
  for (int64_t d = 0; d < x.dim(); ++d)
    if (d != dim && index.size(d) > x.size(d))
      fail<ValueError>("[", op, "] index ", shape_str(index.shape()), " must be no larger than x ",
                       shape_str(x.shape()), " apart from dim ", dim, " (dim ", d, ")");
  detail::check_index_range(index, dim_size(x, dim), dim, false, op);
  return dim;
}

template <bool Accumulate>
Tensor scatter_impl(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src, const char* op) {
  detail::check_cpu(src, op);
  if (x.dtype() != src.dtype())
    fail<TypeError>("[", op, "] x (", dtype_name(x.dtype()), ") and src (", dtype_name(src.dtype()),
                    ") must have the same dtype");
  if (src.dim() != x.dim())
    fail<ValueError>("[", op, "] src ", shape_str(src.shape()), " must have the same number of dims as x ",
                     shape_str(x.shape()));
  for (int64_t d = 0; d < index.dim() && d < src.dim(); ++d)
    if (index.size(d) > src.size(d))
      fail<ValueError>("[", op, "] index ", shape_str(index.shape()), " must be no larger than src ",
                       shape_str(src.shape()), " (dim ", d, ")");
  dim = check_gather_args(x, dim, index, op);
  Tensor out = clone(x);
  if (index.numel() == 0) return out;
  // Positions differing outside `dim` write to different elements, so the
  // loop runs over index's shape with dim collapsed to 1 and walks dim
  // inside the kernel: duplicates along dim stay on one thread.
  Shape loop_shape = index.shape();
  if (!loop_shape.empty()) loop_shape[dim] = 1;
  const int64_t K = dim_size(index, dim);
  const int64_t isz = 8, esz = static_cast<int64_t>(x.itemsize());
  const int64_t o_step = dim_stride(out, dim) * esz;
  const int64_t i_step = dim_stride(index, dim) * isz;
  const int64_t s_step = dim_stride(src, dim) * esz;
  Shape src_strides = src.strides();
  StridedLoop<3> loop(loop_shape,
                      {static_cast<char*>(out.raw_data()), static_cast<char*>(index.raw_data()),
                       static_cast<char*>(src.raw_data())},
                      {strides_without_dim(out, dim), index.strides(), src_strides}, {esz, isz, esz});
  dispatch_all(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    loop.run([&](char* const* p, const int64_t* s, int64_t n) {
      for (int64_t e = 0; e < n; ++e) {
        char* o = p[0] + e * s[0];
        const char* ip = p[1] + e * s[1];
        const char* sp = p[2] + e * s[2];
        for (int64_t k = 0; k < K; ++k) {
          const int64_t iv = *reinterpret_cast<const int64_t*>(ip + k * i_step);
          T& dst = *reinterpret_cast<T*>(o + iv * o_step);
          const T v = *reinterpret_cast<const T*>(sp + k * s_step);
          if constexpr (Accumulate) dst = static_cast<T>(dst + v);
          else dst = v;
        }
      }
    }, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, K)));
  });
  return out;
}

}  // namespace

// x (..., S, ...), index (..., K, ...) -> (..., K, ...)
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  dim = check_gather_args(x, dim, index, "gather");
  Tensor out = Tensor::empty(index.shape(), x.dtype());
  if (out.numel() == 0) return out;
  const int64_t esz = static_cast<int64_t>(x.itemsize());
  const int64_t x_step = dim_stride(x, dim) * esz;
  StridedLoop<3> loop(index.shape(),
                      {static_cast<char*>(out.raw_data()), static_cast<char*>(index.raw_data()),
                       static_cast<char*>(x.raw_data())},
                      {out.strides(), index.strides(), strides_without_dim(x, dim)}, {esz, 8, esz});
  dispatch_all(x.dtype(), "gather", [&](auto tag) {
    using T = decltype(tag);
    loop.run([&](char* const* p, const int64_t* s, int64_t n) {
      for (int64_t e = 0; e < n; ++e) {
        const int64_t iv = *reinterpret_cast<const int64_t*>(p[1] + e * s[1]);
        *reinterpret_cast<T*>(p[0] + e * s[0]) = *reinterpret_cast<const T*>(p[2] + e * s[2] + iv * x_step);
      }
    });
  });
  return out;
}

Tensor scatter(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  return scatter_impl<false>(x, dim, index, src, "scatter");
}

Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  return scatter_impl<true>(x, dim, index, src, "scatter_add");
}

Tensor gather_backward(const Tensor& grad, const Shape& input_shape, int64_t dim, const Tensor& index) {
  return scatter_add(Tensor::zeros(input_shape, grad.dtype()), dim, index, grad);
}

}  // namespace glassnet
