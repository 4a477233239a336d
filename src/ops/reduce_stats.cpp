// var, logsumexp and norm: reductions that need two passes or a transform of
// each element. Each output walks its group x[o, :, i] (stride `inner`) and
// accumulates in double.
#include <algorithm>
#include <cmath>
#include <limits>

#include "dispatch.h"
#include "errors.h"
#include "ops/reduce.h"
#include "ops/reduce_plan.h"
#include "parallel.h"

namespace glassnet {

namespace {

// out[k] = group_fn(first element of group k, stride, len) for every output k.
template <class T, class GroupFn>
void for_each_group(const ReducePlan& p, T* out, const GroupFn& group_fn) {
  const T* x = p.x.data<T>();
  const int64_t len = p.len, inner = p.inner;
  parallel_for(0, p.outer * inner, std::max<int64_t>(1, 16384 / std::max<int64_t>(len, 1)),
               [&](int64_t b, int64_t e) {
                 for (int64_t k = b; k < e; ++k) {
                   const int64_t o = k / inner, i = k % inner;
                   out[k] = static_cast<T>(group_fn(x + o * len * inner + i, inner, len));
                 }
               });
}

void check_cpu_float(const Tensor& x, const char* op) {
  if (x.device().is_cuda()) fail<RuntimeError>("[", op, "] not implemented for cuda tensors");
  if (!is_floating(x.dtype()))
    fail<TypeError>("[", op, "] needs a floating-point tensor, got ", dtype_name(x.dtype()));
}

}  // namespace

Tensor var(const Tensor& x, const std::vector<int64_t>& dims, double correction, bool keepdim) {
  check_cpu_float(x, "var");
  const ReducePlan plan = plan_reduction(x, dims, keepdim, "var");
  Tensor out = Tensor::empty(plan.out_shape, x.dtype());
  // torch divides by max(0, N - correction): 0/0 gives nan, as it does there.
  const double divisor = std::max(0.0, static_cast<double>(plan.len) - correction);
  dispatch_float(x.dtype(), "var", [&](auto tag) {
    using T = decltype(tag);
    for_each_group<T>(plan, out.data<T>(), [&](const T* g, int64_t stride, int64_t len) {
      double sum = 0;
      for (int64_t r = 0; r < len; ++r) sum += g[r * stride];
      const double mean = sum / static_cast<double>(len);
      double sq = 0;
      for (int64_t r = 0; r < len; ++r) {
        const double d = g[r * stride] - mean;
        sq += d * d;
      }
      return sq / divisor;
    });
  });
  return out;
}

Tensor logsumexp(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  check_cpu_float(x, "logsumexp");
  const ReducePlan plan = plan_reduction(x, dims, keepdim, "logsumexp");
  Tensor out = Tensor::empty(plan.out_shape, x.dtype());
  dispatch_float(x.dtype(), "logsumexp", [&](auto tag) {
    using T = decltype(tag);
    for_each_group<T>(plan, out.data<T>(), [&](const T* g, int64_t stride, int64_t len) {
      double m = -std::numeric_limits<double>::infinity();
      for (int64_t r = 0; r < len; ++r) {
        const double v = g[r * stride];
        if (v > m || v != v) m = v;
      }
      // All -inf gives -inf, any +inf gives +inf, NaN stays NaN: no shift then.
      if (std::isinf(m) || std::isnan(m)) return m;
      double s = 0;
      for (int64_t r = 0; r < len; ++r) s += std::exp(g[r * stride] - m);
      return m + std::log(s);
    });
  });
  return out;
}

Tensor norm(const Tensor& x, double p, const std::vector<int64_t>& dims, bool keepdim) {
  check_cpu_float(x, "norm");
  const ReducePlan plan = plan_reduction(x, dims, keepdim, "norm");
  if (std::isinf(p) && p < 0 && plan.len == 0 && plan.outer * plan.inner > 0)
    fail<IndexError>("[norm] the -inf norm of an empty dimension is undefined (input shape ",
                     shape_str(x.shape()), ")");
  Tensor out = Tensor::empty(plan.out_shape, x.dtype());
  dispatch_float(x.dtype(), "norm", [&](auto tag) {
    using T = decltype(tag);
    for_each_group<T>(plan, out.data<T>(), [&](const T* g, int64_t stride, int64_t len) {
      double acc = 0;
      if (std::isinf(p)) {
        acc = p > 0 ? 0.0 : std::numeric_limits<double>::infinity();
        for (int64_t r = 0; r < len; ++r) {
          const double a = std::fabs(static_cast<double>(g[r * stride]));
          if (a != a) return a;
          acc = p > 0 ? std::max(acc, a) : std::min(acc, a);
        }
        return acc;
      }
      if (p == 0) {
        for (int64_t r = 0; r < len; ++r) acc += g[r * stride] != T(0);
        return acc;
      }
      if (p == 1) {
        for (int64_t r = 0; r < len; ++r) acc += std::fabs(static_cast<double>(g[r * stride]));
        return acc;
      }
      if (p == 2) {
        for (int64_t r = 0; r < len; ++r) {
          const double v = g[r * stride];
          acc += v * v;
        }
        return std::sqrt(acc);
      }
      for (int64_t r = 0; r < len; ++r) acc += std::pow(std::fabs(static_cast<double>(g[r * stride])), p);
      return std::pow(acc, 1.0 / p);
    });
  });
  return out;
}

}  // namespace glassnet
