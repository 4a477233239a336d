// index_select and its backward, index_add. Both see x as (outer, size, inner)
// around `dim`: a selected slice is `inner` contiguous elements, so the
// forward copies rows and the backward adds rows.
#include <algorithm>
#include <cstring>

#include "dispatch.h"
#include "errors.h"
#include "ops/copy.h"
#include "ops/index.h"
#include "parallel.h"

namespace glassnet {

namespace {

struct Extents {
  int64_t outer = 1, size = 1, inner = 1;
};

// A 0-d tensor is treated as shape (1,), as torch does for these ops.
Extents extents(const Shape& shape, int64_t dim) {
  Extents e;
  if (shape.empty()) return e;
  for (int64_t d = 0; d < dim; ++d) e.outer *= shape[d];
  e.size = shape[dim];
  for (size_t d = dim + 1; d < shape.size(); ++d) e.inner *= shape[d];
  return e;
}

void check_vector_index(const Tensor& index, const char* op) {
  detail::check_cpu(index, op);
  detail::check_index_dtype(index, op);
  if (index.dim() > 1)
    fail<IndexError>("[", op, "] index is supposed to be a 0-d or 1-d tensor, got shape ", shape_str(index.shape()));
}

}  // namespace

// x (..., S, ...), index (J,) -> (..., J, ...)
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  detail::check_cpu(x, "index_select");
  check_vector_index(index, "index_select");
  dim = wrap_dim(dim, std::max<int64_t>(x.dim(), 1), "index_select");
  Shape out_shape = x.shape();
  const int64_t J = index.numel();
  if (x.dim() == 0) {
    if (J != 1)
      fail<IndexError>("[index_select] a 0-d tensor takes exactly one index, got shape ", shape_str(index.shape()));
  } else {
    out_shape[dim] = J;
  }
  const Extents e = extents(x.shape(), dim);
  detail::check_index_range(index, e.size, dim, false, "index_select");
  Tensor out = Tensor::empty(out_shape, x.dtype());
  if (out.numel() == 0) return out;
  const Tensor xc = x.contiguous();
  const Tensor ic = index.contiguous();
  const int64_t* idx = ic.data<int64_t>();
  dispatch_all(x.dtype(), "index_select", [&](auto tag) {
    using T = decltype(tag);
    const T* src = xc.data<T>();
    T* dst = out.data<T>();
    const int64_t rows = e.outer * J;
    parallel_for(0, rows, std::max<int64_t>(1, 32768 / e.inner), [&](int64_t b, int64_t end) {
      for (int64_t r = b; r < end; ++r) {
        const int64_t o = r / J, j = r % J;
        const T* from = src + (o * e.size + idx[j]) * e.inner;
        std::copy(from, from + e.inner, dst + r * e.inner);
      }
    });
  });
  return out;
}

// out = x; out[o, index[j], i] += source[o, j, i]
Tensor index_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& source) {
  detail::check_cpu(x, "index_add");
  detail::check_cpu(source, "index_add");
  check_vector_index(index, "index_add");
  if (x.dtype() != source.dtype())
    fail<TypeError>("[index_add] x (", dtype_name(x.dtype()), ") and source (", dtype_name(source.dtype()),
                    ") must have the same dtype");
  dim = wrap_dim(dim, std::max<int64_t>(x.dim(), 1), "index_add");
  const int64_t J = index.numel();
  Shape expected = x.shape();
  if (x.dim() > 0) expected[dim] = J;
  // A 0-d source stands for one slice of a 0-d or 1-d x.
  const bool shapes_ok = source.shape() == expected || (source.dim() == 0 && x.dim() <= 1 && J == 1) ||
                         (x.dim() == 0 && source.dim() == 1 && J == 1 && source.size(0) == 1);
  if (!shapes_ok)
    fail<ValueError>("[index_add] source of shape ", shape_str(source.shape()), " does not match x of shape ",
                     shape_str(x.shape()), " with ", J, " indices along dim ", dim, " (expected ",
                     shape_str(expected), ")");
  if (x.dim() == 0 && J != 1)
    fail<IndexError>("[index_add] a 0-d tensor takes exactly one index, got shape ", shape_str(index.shape()));
  const Extents e = extents(x.shape(), dim);
  detail::check_index_range(index, e.size, dim, false, "index_add");
  Tensor out = clone(x);
  if (source.numel() == 0) return out;
  const Tensor sc = source.contiguous();
  const Tensor ic = index.contiguous();
  const int64_t* idx = ic.data<int64_t>();
  dispatch_all(x.dtype(), "index_add", [&](auto tag) {
    using T = decltype(tag);
    const T* src = sc.data<T>();
    T* dst = out.data<T>();
    // Duplicate indices add into the same row, so threads split the work by
    // outer slab or by column, never by j.
    auto add_rows = [&](int64_t o0, int64_t o1, int64_t i0, int64_t i1) {
      for (int64_t o = o0; o < o1; ++o)
        for (int64_t j = 0; j < J; ++j) {
          T* d = dst + (o * e.size + idx[j]) * e.inner;
          const T* s = src + (o * J + j) * e.inner;
          for (int64_t i = i0; i < i1; ++i) d[i] = static_cast<T>(d[i] + s[i]);
        }
    };
    const int64_t work_per_outer = J * e.inner;
    if (e.outer >= e.inner) {
      parallel_for(0, e.outer, std::max<int64_t>(1, 32768 / std::max<int64_t>(1, work_per_outer)),
                   [&](int64_t b, int64_t end) { add_rows(b, end, 0, e.inner); });
    } else {
      parallel_for(0, e.inner, std::max<int64_t>(64, 32768 / std::max<int64_t>(1, e.outer * J)),
                   [&](int64_t b, int64_t end) { add_rows(0, e.outer, b, end); });
    }
  });
  return out;
}

Tensor index_select_backward(const Tensor& grad, const Shape& input_shape, int64_t dim, const Tensor& index) {
  return index_add(Tensor::zeros(input_shape, grad.dtype()), dim, index, grad);
}

}  // namespace glassnet
