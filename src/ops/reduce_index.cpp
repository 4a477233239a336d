// max/min along a dim with their indices, and argmax/argmin. NaN counts as
// the extreme (as torch); ties keep the first index.
#include <algorithm>

#include "dispatch.h"
#include "errors.h"
#include "ops/reduce.h"
#include "ops/reduce_plan.h"
#include "parallel.h"

namespace glassnet {

namespace {

template <class T, bool kMax>
inline bool beats(T v, T best) {
  if (v != v) return best == best;  // the first NaN wins and stays
  return kMax ? v > best : v < best;
}

// values[k], indices[k] for each group x[o, :, i]; values may be null.
template <class T, bool kMax>
void extreme_with_index(const ReducePlan& p, T* values, int64_t* indices) {
  const T* x = p.x.data<T>();
  const int64_t len = p.len, inner = p.inner;
  if (inner == 1) {
    parallel_for(0, p.outer, std::max<int64_t>(1, 32768 / std::max<int64_t>(len, 1)), [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) {
        const T* row = x + o * len;
        T best = row[0];
        int64_t at = 0;
        for (int64_t r = 1; r < len; ++r)
          if (beats<T, kMax>(row[r], best)) best = row[r], at = r;
        if (values) values[o] = best;
        indices[o] = at;
      }
    });
    return;
  }
  // Columns: compare whole rows against the running best, so the inner loop is contiguous.
  parallel_for(0, p.outer, std::max<int64_t>(1, 32768 / std::max<int64_t>(len * inner, 1)), [&](int64_t b, int64_t e) {
    std::vector<T> best(static_cast<size_t>(inner));
    for (int64_t o = b; o < e; ++o) {
      const T* block = x + o * len * inner;
      int64_t* at = indices + o * inner;
      std::copy(block, block + inner, best.begin());
      std::fill(at, at + inner, 0);
      for (int64_t r = 1; r < len; ++r) {
        const T* row = block + r * inner;
        for (int64_t i = 0; i < inner; ++i)
          if (beats<T, kMax>(row[i], best[i])) best[i] = row[i], at[i] = r;
      }
      if (values) std::copy(best.begin(), best.end(), values + o * inner);
    }
  });
}

template <bool kMax>
std::pair<Tensor, Tensor> extreme_impl(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim,
                                       bool want_values, const char* op) {
  if (x.device().is_cuda()) fail<RuntimeError>("[", op, "] not implemented for cuda tensors");
  const ReducePlan plan = plan_reduction(x, dims, keepdim, op);
  if (plan.len == 0 && x.numel() == 0 && (plan.outer * plan.inner > 0 || dims.empty()))
    fail<IndexError>("[", op, "] cannot take the ", kMax ? "max" : "min", " over an empty dimension (input shape ",
                     shape_str(x.shape()), ")");
  Tensor indices = Tensor::empty(plan.out_shape, DType::Int64);
  Tensor values = want_values ? Tensor::empty(plan.out_shape, x.dtype()) : Tensor();
  if (plan.outer * plan.inner == 0) return {values, indices};
  dispatch_all(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    extreme_with_index<T, kMax>(plan, want_values ? values.data<T>() : nullptr, indices.data<int64_t>());
  });
  return {values, indices};
}

}  // namespace

std::pair<Tensor, Tensor> max_dim(const Tensor& x, int64_t dim, bool keepdim) {
  return extreme_impl<true>(x, {dim}, keepdim, true, "max");
}

std::pair<Tensor, Tensor> min_dim(const Tensor& x, int64_t dim, bool keepdim) {
  return extreme_impl<false>(x, {dim}, keepdim, true, "min");
}

Tensor argmax(const Tensor& x, bool has_dim, int64_t dim, bool keepdim) {
  if (has_dim) return extreme_impl<true>(x, {dim}, keepdim, false, "argmax").second;
  // Flattened: one index into x viewed as 1-d, shaped like keepdim over all dims.
  return extreme_impl<true>(x, {}, keepdim, false, "argmax").second;
}

Tensor argmin(const Tensor& x, bool has_dim, int64_t dim, bool keepdim) {
  if (has_dim) return extreme_impl<false>(x, {dim}, keepdim, false, "argmin").second;
  return extreme_impl<false>(x, {}, keepdim, false, "argmin").second;
}

}  // namespace glassnet
