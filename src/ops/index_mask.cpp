// Ops whose output size depends on the data: nonzero and masked_select (both
// a count pass and a fill pass over fixed chunks, so threads write disjoint
// ranges in row-major order), and one_hot.
#include <algorithm>

#include "dispatch.h"
#include "errors.h"
#include "ops/index.h"
#include "ops/iter.h"
#include "parallel.h"

namespace glassnet {

namespace {

constexpr int64_t kChunk = 65536;

// Runs count(begin, end) -> int64 on every chunk of [0, n), then
// emit(begin, end, first_out) with each chunk's output position; returns the total.
template <class Count, class Emit>
int64_t compact(int64_t n, const Count& count, const Emit& emit_fn, const std::function<void(int64_t)>& alloc) {
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<int64_t> start(chunks + 1, 0);
  parallel_for(0, chunks, 1, [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) start[c + 1] = count(c * kChunk, std::min(n, (c + 1) * kChunk));
  });
  for (int64_t c = 0; c < chunks; ++c) start[c + 1] += start[c];
  alloc(start[chunks]);
  parallel_for(0, chunks, 1, [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) emit_fn(c * kChunk, std::min(n, (c + 1) * kChunk), start[c]);
  });
  return start[chunks];
}

}  // namespace

// x (d0, ..., dk-1) -> (N, k) int64
Tensor nonzero(const Tensor& x) {
  detail::check_cpu(x, "nonzero");
  const Tensor xc = x.contiguous();
  const int64_t nd = x.dim();
  const Shape& shape = x.shape();
  Tensor out;
  dispatch_all(x.dtype(), "nonzero", [&](auto tag) {
    using T = decltype(tag);
    const T* v = xc.data<T>();
    compact(
        x.numel(),
        [&](int64_t b, int64_t e) {
          int64_t c = 0;
          for (int64_t i = b; i < e; ++i) c += v[i] != T(0);
          return c;
        },
        [&](int64_t b, int64_t e, int64_t pos) {
          // Coordinates of element b, then counted up as i advances.
          std::vector<int64_t> coord(nd, 0);
          int64_t rest = b;
          for (int64_t d = nd - 1; d >= 0; --d) {
            coord[d] = rest % shape[d];
            rest /= shape[d];
          }
          int64_t* o = out.data<int64_t>() + pos * nd;
          for (int64_t i = b; i < e; ++i) {
            if (v[i] != T(0)) {
              std::copy(coord.begin(), coord.end(), o);
              o += nd;
            }
            for (int64_t d = nd - 1; d >= 0; --d) {
              if (++coord[d] < shape[d]) break;
              coord[d] = 0;
            }
          }
        },
        [&](int64_t total) { out = Tensor::empty({total, nd}, DType::Int64); });
  });
  return out;
}

Tensor masked_select(const Tensor& x, const Tensor& mask) {
  detail::check_cpu(x, "masked_select");
  detail::check_cpu(mask, "masked_select");
  if (mask.dtype() != DType::Bool)
    fail<TypeError>("[masked_select] expected a bool mask, got ", dtype_name(mask.dtype()));
  const Shape shape = broadcast_shapes(x.shape(), mask.shape(), "masked_select");
  const Tensor xc = x.as_strided(shape, broadcast_strides(x, shape), x.offset()).contiguous();
  const Tensor mc = mask.as_strided(shape, broadcast_strides(mask, shape), mask.offset()).contiguous();
  const bool* m = mc.data<bool>();
  Tensor out;
  dispatch_all(x.dtype(), "masked_select", [&](auto tag) {
    using T = decltype(tag);
    const T* v = xc.data<T>();
    compact(
        xc.numel(),
        [&](int64_t b, int64_t e) {
          int64_t c = 0;
          for (int64_t i = b; i < e; ++i) c += m[i];
          return c;
        },
        [&](int64_t b, int64_t e, int64_t pos) {
          T* o = out.data<T>() + pos;
          for (int64_t i = b; i < e; ++i)
            if (m[i]) *o++ = v[i];
        },
        [&](int64_t total) { out = Tensor::empty({total}, x.dtype()); });
  });
  return out;
}

// labels (...) int64 -> (..., C) int64
Tensor one_hot(const Tensor& labels, int64_t num_classes) {
  detail::check_cpu(labels, "one_hot");
  if (labels.dtype() != DType::Int64)
    fail<TypeError>("[one_hot] expected an int64 tensor of class indices, got ", dtype_name(labels.dtype()));
  if (num_classes < -1) fail<ValueError>("[one_hot] num_classes must be -1 or non-negative, got ", num_classes);
  const Tensor lc = labels.contiguous();
  const int64_t* l = lc.data<int64_t>();
  const int64_t n = lc.numel();
  if (num_classes == -1 && n == 0)
    fail<ValueError>("[one_hot] can not infer the number of classes from an empty tensor");
  int64_t lo = 0, hi = -1;
  if (n > 0) {
    lo = *std::min_element(l, l + n);
    hi = *std::max_element(l, l + n);
  }
  if (n > 0 && lo < 0)
    fail<IndexError>("[one_hot] class value ", lo, " is negative: class values must be non-negative");
  if (num_classes == -1) num_classes = hi + 1;
  if (n > 0 && hi >= num_classes)
    fail<IndexError>("[one_hot] class value ", hi, " is out of range: class values must be smaller than num_classes (",
                     num_classes, ")");
  Shape shape = labels.shape();
  shape.push_back(num_classes);
  Tensor out = Tensor::zeros(shape, DType::Int64);
  int64_t* o = out.data<int64_t>();
  parallel_for(0, n, kElementwiseGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) o[i * num_classes + l[i]] = 1;
  });
  return out;
}

}  // namespace glassnet
