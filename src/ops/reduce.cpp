// sum, mean, prod, amax/amin, all, any over any dims, and prod's backward.
#include "ops/reduce.h"

#include <cmath>
#include <limits>
#include <type_traits>

#include "cuda_api.h"
#include "dispatch.h"
#include "errors.h"
#include "ops/reduce_kernels.h"
#include "ops/reduce_plan.h"

namespace glassnet {

using reduce_detail::ExtremePolicy;
using reduce_detail::ProdPolicy;
using reduce_detail::reduce_plan_into;
using reduce_detail::SumPolicy;

const char* reduce_name(ReduceOp op) {
  switch (op) {
    case ReduceOp::Sum: return "sum";
    case ReduceOp::Mean: return "mean";
    case ReduceOp::Prod: return "prod";
    case ReduceOp::Max: return "amax";
    case ReduceOp::Min: return "amin";
    case ReduceOp::All: return "all";
    case ReduceOp::Any: return "any";
  }
  return "reduce";
}

namespace {

template <class T, bool kAll>
struct LogicalPolicy {
  using Acc = bool;
  using Total = bool;
  static Acc init() { return kAll; }
  template <class A> static A step(A acc, T v) { return kAll ? (acc && v != T(0)) : (acc || v != T(0)); }
  template <class A> static A merge(A a, A b) { return kAll ? (a && b) : (a || b); }
};

DType result_dtype(ReduceOp op, DType in) {
  switch (op) {
    case ReduceOp::Sum:
    case ReduceOp::Prod: return is_floating(in) ? in : DType::Int64;
    case ReduceOp::All:
    case ReduceOp::Any: return DType::Bool;
    default: return in;
  }
}

void check_reduce(ReduceOp op, const Tensor& x, const ReducePlan& plan) {
  if (op == ReduceOp::Mean && !is_floating(x.dtype()))
    fail<TypeError>("[mean] needs a floating-point tensor to average, got ", dtype_name(x.dtype()),
                    "; convert it with .float() first");
  if ((op == ReduceOp::Max || op == ReduceOp::Min) && plan.len == 0 && plan.outer * plan.inner > 0)
    fail<IndexError>("[", reduce_name(op), "] cannot reduce over an empty dimension: input shape ",
                     shape_str(x.shape()), " has no elements to compare");
  if ((op == ReduceOp::Max || op == ReduceOp::Min) && x.numel() == 0 && plan.out_shape.empty())
    fail<IndexError>("[", reduce_name(op), "] cannot reduce an empty tensor of shape ", shape_str(x.shape()),
                     " to one value; name the dim to reduce");
}

}  // namespace

Tensor reduce(ReduceOp op, const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  const char* name = reduce_name(op);
  if (x.device().is_cuda()) {
    if (!dims.empty() && static_cast<int64_t>(dims.size()) != x.dim())
      fail<RuntimeError>("[", name, "] on cuda tensors reduces over all dims only, got dims over shape ",
                         shape_str(x.shape()));
    Tensor out = Tensor::empty(reduced_shape(x.shape(), dims, keepdim, name), result_dtype(op, x.dtype()),
                               x.device());
    cuda::reduce_all(op, x.contiguous(), out);
    return out;
  }
  const ReducePlan plan = plan_reduction(x, dims, keepdim, name);
  check_reduce(op, x, plan);
  Tensor out = Tensor::empty(plan.out_shape, result_dtype(op, x.dtype()));
  const double len = static_cast<double>(plan.len);
  dispatch_all(x.dtype(), name, [&](auto tag) {
    using T = decltype(tag);
    switch (op) {
      case ReduceOp::Sum:
      case ReduceOp::Mean: {
        using Out = std::conditional_t<std::is_floating_point_v<T>, T, int64_t>;
        if (op == ReduceOp::Mean) {
          reduce_plan_into<SumPolicy<T>, T>(plan, out.data<Out>(), [len](auto t) { return static_cast<Out>(t / len); });
        } else {
          reduce_plan_into<SumPolicy<T>, T>(plan, out.data<Out>(), [](auto t) { return static_cast<Out>(t); });
        }
        break;
      }
      case ReduceOp::Prod: {
        using Out = std::conditional_t<std::is_floating_point_v<T>, T, int64_t>;
        reduce_plan_into<ProdPolicy<T>, T>(plan, out.data<Out>(), [](auto t) { return static_cast<Out>(t); });
        break;
      }
      case ReduceOp::Max:
        reduce_plan_into<ExtremePolicy<T, true>, T>(plan, out.data<T>(), [](T t) { return t; });
        break;
      case ReduceOp::Min:
        reduce_plan_into<ExtremePolicy<T, false>, T>(plan, out.data<T>(), [](T t) { return t; });
        break;
      case ReduceOp::All:
        reduce_plan_into<LogicalPolicy<T, true>, T>(plan, out.data<bool>(), [](bool t) { return t; });
        break;
      case ReduceOp::Any:
        reduce_plan_into<LogicalPolicy<T, false>, T>(plan, out.data<bool>(), [](bool t) { return t; });
        break;
    }
  });
  return out;
}

// For each group x[o, :, i]: grad_x[o, r, i] = g[o, i] · prod over r' != r,
// from a prefix product written forward and a suffix product applied
// backward, so zeros in the group need no special case.
Tensor prod_backward(const Tensor& grad, const Tensor& x, const std::vector<int64_t>& dims) {
  if (x.device().is_cuda()) fail<RuntimeError>("[prod_backward] not implemented for cuda tensors");
  const ReducePlan plan = plan_reduction(x, dims, true, "prod_backward");
  if (grad.numel() != plan.outer * plan.inner)
    fail<ValueError>("[prod_backward] gradient of shape ", shape_str(grad.shape()), " does not match ",
                     shape_str(plan.keep_shape));
  const Tensor g = grad.contiguous();
  Tensor out = Tensor::empty(plan.x.shape(), x.dtype());
  dispatch_float(x.dtype(), "prod_backward", [&](auto tag) {
    using T = decltype(tag);
    const T* src = plan.x.data<T>();
    const T* gp = g.data<T>();
    T* dst = out.data<T>();
    const int64_t len = plan.len, inner = plan.inner;
    parallel_for(0, plan.outer * inner, std::max<int64_t>(1, 8192 / std::max<int64_t>(len, 1)),
                 [&](int64_t b, int64_t e) {
                   for (int64_t k = b; k < e; ++k) {
                     const int64_t o = k / inner, i = k % inner;
                     const int64_t base = o * len * inner + i;
                     T prefix = 1;
                     for (int64_t r = 0; r < len; ++r) {
                       dst[base + r * inner] = prefix;
                       prefix *= src[base + r * inner];
                     }
                     T suffix = gp[k];
                     for (int64_t r = len - 1; r >= 0; --r) {
                       dst[base + r * inner] *= suffix;
                       suffix *= src[base + r * inner];
                     }
                   }
                 });
  });
  return unplan(plan, out).contiguous();
}

}  // namespace glassnet
