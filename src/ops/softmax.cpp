// softmax and log_softmax along one dim, and their backward kernels.
//
// Rows (dim last, inner == 1) are the common case: three passes over a row
// held in cache — max, exp(x - max) with its sum, scale — with the float32 exp
// vectorised (vecmath.h). Other dims walk whole (len, inner) blocks row by row
// so the innermost loop stays contiguous.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "dispatch.h"
#include "errors.h"
#include "ops/exp_inplace.h"
#include "ops/reduce.h"
#include "ops/reduce_kernels.h"
#include "ops/reduce_plan.h"
#include "parallel.h"

namespace glassnet {

namespace {

// One row of `len` elements: out = softmax(x) or log_softmax(x).
template <class T, bool kLog>
void softmax_row(const T* x, T* out, int64_t len, std::vector<T>& scratch) {
  using reduce_detail::reduce_row;
  T m = reduce_row<reduce_detail::ExtremePolicy<T, true>>(x, len);
  if (std::isinf(m) && m < 0) m = 0;  // an all -inf row: exp gives zeros and the 0/0 nan torch returns
  T* e = kLog ? scratch.data() : out;
  for (int64_t j = 0; j < len; ++j) e[j] = x[j] - m;
  exp_inplace(e, len);
  const double sum = reduce_row<reduce_detail::SumPolicy<T>>(e, len);
  if constexpr (kLog) {
    // (x - max) - log(sum), not x - (max + log(sum)): the latter rounds at max's scale.
    const T log_sum = static_cast<T>(std::log(sum));
    for (int64_t j = 0; j < len; ++j) out[j] = (x[j] - m) - log_sum;
  } else {
    const T scale = static_cast<T>(1.0 / sum);
    for (int64_t j = 0; j < len; ++j) out[j] *= scale;
  }
}

// A (len, inner) block, softmax down each column.
template <class T, bool kLog>
void softmax_block(const T* x, T* out, int64_t len, int64_t inner, std::vector<T>& m, std::vector<double>& sum,
                   std::vector<T>& row) {
  std::fill(m.begin(), m.end(), -std::numeric_limits<T>::infinity());
  for (int64_t r = 0; r < len; ++r)
    for (int64_t i = 0; i < inner; ++i) m[i] = std::max(m[i], x[r * inner + i]);
  for (int64_t i = 0; i < inner; ++i)
    if (std::isinf(m[i]) && m[i] < 0) m[i] = 0;
  std::fill(sum.begin(), sum.end(), 0.0);
  for (int64_t r = 0; r < len; ++r) {
    T* e = kLog ? row.data() : out + r * inner;
    for (int64_t i = 0; i < inner; ++i) e[i] = x[r * inner + i] - m[i];
    exp_inplace(e, inner);
    for (int64_t i = 0; i < inner; ++i) sum[i] += e[i];
  }
  for (int64_t r = 0; r < len; ++r) {
    T* y = out + r * inner;
    if constexpr (kLog) {
      for (int64_t i = 0; i < inner; ++i) y[i] = (x[r * inner + i] - m[i]) - static_cast<T>(std::log(sum[i]));
    } else {
      for (int64_t i = 0; i < inner; ++i) y[i] = static_cast<T>(y[i] / sum[i]);
    }
  }
}

template <bool kLog>
Tensor softmax_impl(const Tensor& x, int64_t dim, const char* op) {
  if (x.device().is_cuda()) fail<RuntimeError>("[", op, "] not implemented for cuda tensors");
  if (!is_floating(x.dtype()))
    fail<TypeError>("[", op, "] needs a floating-point tensor, got ", dtype_name(x.dtype()));
  const ReducePlan plan = plan_reduction(x, {dim}, true, op);
  Tensor out = Tensor::empty(x.shape(), x.dtype());
  if (x.numel() == 0) return out;
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* src = plan.x.data<T>();
    T* dst = out.data<T>();
    const int64_t len = plan.len, inner = plan.inner, block = len * inner;
    parallel_for(0, plan.outer, std::max<int64_t>(1, 16384 / block), [&](int64_t b, int64_t e) {
      std::vector<T> scratch(static_cast<size_t>(inner == 1 ? len : inner));
      std::vector<T> m(static_cast<size_t>(inner));
      std::vector<double> sum(static_cast<size_t>(inner));
      for (int64_t o = b; o < e; ++o) {
        if (inner == 1) softmax_row<T, kLog>(src + o * block, dst + o * block, len, scratch);
        else softmax_block<T, kLog>(src + o * block, dst + o * block, len, inner, m, sum, scratch);
      }
    });
  });
  return out;
}

// grad_x = y · (g - Σ g·y)  (softmax)   or   g - exp(y) · Σ g  (log_softmax).
template <bool kLog>
Tensor softmax_backward_impl(const Tensor& grad, const Tensor& y_in, int64_t dim, const char* op) {
  if (grad.shape() != y_in.shape())
    fail<ValueError>("[", op, "] gradient of shape ", shape_str(grad.shape()), " does not match output shape ",
                     shape_str(y_in.shape()));
  if (grad.dtype() != y_in.dtype())
    fail<TypeError>("[", op, "] gradient dtype ", dtype_name(grad.dtype()), " differs from output dtype ",
                    dtype_name(y_in.dtype()));
  if (grad.device().is_cuda()) fail<RuntimeError>("[", op, "] not implemented for cuda tensors");
  const ReducePlan plan = plan_reduction(y_in, {dim}, true, op);
  const Tensor g = grad.contiguous();
  Tensor out = Tensor::empty(y_in.shape(), y_in.dtype());
  if (y_in.numel() == 0) return out;
  dispatch_float(y_in.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* y = plan.x.data<T>();
    const T* gp = g.data<T>();
    T* dst = out.data<T>();
    const int64_t len = plan.len, inner = plan.inner, block = len * inner;
    parallel_for(0, plan.outer, std::max<int64_t>(1, 16384 / block), [&](int64_t b, int64_t e) {
      std::vector<double> dot(static_cast<size_t>(inner));
      for (int64_t o = b; o < e; ++o) {
        const T* yb = y + o * block;
        const T* gb = gp + o * block;
        T* db = dst + o * block;
        std::fill(dot.begin(), dot.end(), 0.0);
        for (int64_t r = 0; r < len; ++r)
          for (int64_t i = 0; i < inner; ++i)
            dot[i] += kLog ? gb[r * inner + i] : gb[r * inner + i] * yb[r * inner + i];
        for (int64_t r = 0; r < len; ++r)
          for (int64_t i = 0; i < inner; ++i) {
            const int64_t k = r * inner + i;
            if constexpr (kLog) db[k] = gb[k] - std::exp(yb[k]) * static_cast<T>(dot[i]);
            else db[k] = yb[k] * (gb[k] - static_cast<T>(dot[i]));
          }
      }
    });
  });
  return out;
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) { return softmax_impl<false>(x, dim, "softmax"); }
Tensor log_softmax(const Tensor& x, int64_t dim) { return softmax_impl<true>(x, dim, "log_softmax"); }

Tensor softmax_backward(const Tensor& grad, const Tensor& y, int64_t dim) {
  return softmax_backward_impl<false>(grad, y, dim, "softmax_backward");
}

Tensor log_softmax_backward(const Tensor& grad, const Tensor& y, int64_t dim) {
  return softmax_backward_impl<true>(grad, y, dim, "log_softmax_backward");
}

}  // namespace glassnet
