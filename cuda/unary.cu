// Unary elementwise ops on contiguous cuda tensors: the same maths as the CPU
// kernels in src/ops/elementwise.cpp, with the same NaN and integer rules.
//
// One kernel per dtype holds every op: the switch on the op is taken once
// per thread, outside the element loop, so each case is a tight grid-stride
// loop, while the build compiles 3 + 4 kernels instead of one per (op, dtype).
#include <limits>
#include <type_traits>

#include "common.cuh"
#include "cuda_api.h"
#include "dispatch.h"
#include "ops/elementwise.h"

namespace glassnet::cuda {

namespace {

constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;
constexpr double kSqrt2OverPi = 0.79788456080286535587989211986876;
constexpr double kInvSqrt2 = 0.70710678118654752440084436210485;

bool is_float_only(UnaryOp op) {
  switch (op) {
    case UnaryOp::Exp: case UnaryOp::Log: case UnaryOp::Log1p: case UnaryOp::Sqrt:
    case UnaryOp::Rsqrt: case UnaryOp::Sin: case UnaryOp::Cos: case UnaryOp::Reciprocal:
    case UnaryOp::Expm1: case UnaryOp::Sigmoid: case UnaryOp::Tanh: case UnaryOp::LeakyRelu:
    case UnaryOp::Elu: case UnaryOp::Selu: case UnaryOp::Gelu: case UnaryOp::GeluTanh:
    case UnaryOp::Silu: case UnaryOp::Softplus:
      return true;
    default:
      return false;
  }
}

bool is_predicate(UnaryOp op) {
  return op == UnaryOp::IsNan || op == UnaryOp::IsInf || op == UnaryOp::IsFinite || op == UnaryOp::LogicalNot;
}

// out[i] = f(x[i]) for i < n, grid-stride.
template <class O, class I, class F>
__device__ void map(O* out, const I* x, int64_t n, F f) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = f(x[i]);
}

// The transcendental and activation ops; T is float or double. The overloads
// of ::exp etc. for float keep float32 in single precision.
template <class T>
__device__ void unary_float(UnaryOp op, T* out, const T* x, int64_t n, T p0, T p1) {
  switch (op) {
    case UnaryOp::Exp: return map(out, x, n, [](T v) { return ::exp(v); });
    case UnaryOp::Log: return map(out, x, n, [](T v) { return ::log(v); });
    case UnaryOp::Log1p: return map(out, x, n, [](T v) { return ::log1p(v); });
    case UnaryOp::Expm1: return map(out, x, n, [](T v) { return ::expm1(v); });
    case UnaryOp::Sqrt: return map(out, x, n, [](T v) { return ::sqrt(v); });
    case UnaryOp::Rsqrt: return map(out, x, n, [](T v) { return T(1) / ::sqrt(v); });
    case UnaryOp::Sin: return map(out, x, n, [](T v) { return ::sin(v); });
    case UnaryOp::Cos: return map(out, x, n, [](T v) { return ::cos(v); });
    case UnaryOp::Reciprocal: return map(out, x, n, [](T v) { return T(1) / v; });
    case UnaryOp::Sigmoid: return map(out, x, n, [](T v) { return T(1) / (T(1) + ::exp(-v)); });
    case UnaryOp::Tanh: return map(out, x, n, [](T v) { return ::tanh(v); });
    case UnaryOp::LeakyRelu: return map(out, x, n, [p0](T v) { return v > T(0) ? v : v * p0; });
    case UnaryOp::Elu: return map(out, x, n, [p0](T v) { return v > T(0) ? v : p0 * ::expm1(v); });
    case UnaryOp::Selu:
      return map(out, x, n, [](T v) { return T(kSeluScale) * (v > T(0) ? v : T(kSeluAlpha) * ::expm1(v)); });
    case UnaryOp::Gelu:
      return map(out, x, n, [](T v) { return T(0.5) * v * (T(1) + ::erf(v * T(kInvSqrt2))); });
    case UnaryOp::GeluTanh:
      return map(out, x, n, [](T v) {
        return T(0.5) * v * (T(1) + ::tanh(T(kSqrt2OverPi) * (v + T(0.044715) * v * v * v)));
      });
    case UnaryOp::Silu: return map(out, x, n, [](T v) { return v / (T(1) + ::exp(-v)); });
    case UnaryOp::Softplus:
      // Linear above the threshold, where log1p(exp(βx))/β == x in float.
      return map(out, x, n, [p0, p1](T v) { return v * p0 > p1 ? v : ::log1p(::exp(v * p0)) / p0; });
    case UnaryOp::Floor: return map(out, x, n, [](T v) { return ::floor(v); });
    case UnaryOp::Ceil: return map(out, x, n, [](T v) { return ::ceil(v); });
    // rint rounds half to even in the default rounding mode, as torch.round.
    case UnaryOp::Round: return map(out, x, n, [](T v) { return ::rint(v); });
    case UnaryOp::Trunc: return map(out, x, n, [](T v) { return ::trunc(v); });
    default: return;
  }
}

// x: (n,) T, out: (n,) T; T is float, double or int64. Comparisons are
// written so that NaN passes through, as on the CPU.
template <class T>
__global__ void unary_kernel(UnaryOp op, T* out, const T* x, int64_t n, T p0, T p1) {
  switch (op) {
    case UnaryOp::Neg: return map(out, x, n, [](T v) { return static_cast<T>(-v); });
    case UnaryOp::Abs: return map(out, x, n, [](T v) { return v < T(0) ? static_cast<T>(-v) : v; });
    case UnaryOp::Sign: return map(out, x, n, [](T v) { return static_cast<T>((T(0) < v) - (v < T(0))); });
    case UnaryOp::Relu: return map(out, x, n, [](T v) { return v > T(0) || v != v ? v : T(0); });
    case UnaryOp::Relu6:
      return map(out, x, n, [](T v) { return v != v ? v : v < T(0) ? T(0) : v > T(6) ? T(6) : v; });
    case UnaryOp::Hardtanh:
    case UnaryOp::Clamp:
      return map(out, x, n, [p0, p1](T v) { return v != v ? v : v < p0 ? p0 : v > p1 ? p1 : v; });
    case UnaryOp::ClampMin: return map(out, x, n, [p0](T v) { return v != v ? v : v < p0 ? p0 : v; });
    case UnaryOp::ClampMax: return map(out, x, n, [p0](T v) { return v != v ? v : v > p0 ? p0 : v; });
    case UnaryOp::Square: return map(out, x, n, [](T v) { return static_cast<T>(v * v); });
    default: break;
  }
  if constexpr (std::is_floating_point_v<T>) {
    unary_float<T>(op, out, x, n, p0, p1);
  } else {
    // floor, ceil, round and trunc of an integer are the integer itself.
    map(out, x, n, [](T v) { return v; });
  }
}

// x: (n,) T, out: (n,) bool.
template <class T>
__global__ void predicate_kernel(UnaryOp op, bool* out, const T* x, int64_t n) {
  switch (op) {
    case UnaryOp::IsNan: return map(out, x, n, [](T v) { return v != v; });
    case UnaryOp::IsInf:
      if constexpr (std::is_floating_point_v<T>) {
        constexpr T inf = std::numeric_limits<T>::infinity();
        return map(out, x, n, [](T v) { return v == inf || v == -inf; });
      } else {
        return map(out, x, n, [](T) { return false; });
      }
    case UnaryOp::IsFinite:
      if constexpr (std::is_floating_point_v<T>) {
        // x - x is 0 for finite x and NaN for ±inf and NaN.
        return map(out, x, n, [](T v) { return v - v == T(0); });
      } else {
        return map(out, x, n, [](T) { return true; });
      }
    case UnaryOp::LogicalNot: return map(out, x, n, [](T v) { return !v; });
    default: return;
  }
}

}  // namespace

void unary(UnaryOp op, const Tensor& x, Tensor& out, double p0, double p1) {
  const char* name = unary_name(op);
  if (x.shape() != out.shape() || !x.is_contiguous() || !out.is_contiguous() || x.device() != out.device())
    fail<RuntimeError>("[", name, "] internal: the cuda kernel takes contiguous tensors of one shape on one device, got ",
                       shape_str(x.shape()), " on ", x.device().str(), " and ", shape_str(out.shape()), " on ",
                       out.device().str());
  const int64_t n = out.numel();
  if (n == 0) return;
  require_device(out.device().index, name);
  DeviceGuard guard(out.device().index);
  if (is_predicate(op)) {
    if (out.dtype() != DType::Bool) fail<RuntimeError>("[", name, "] internal: output must be bool");
    dispatch_all(x.dtype(), name, [&](auto tag) {
      using T = decltype(tag);
      predicate_kernel<T><<<grid_for(n), kThreads>>>(op, out.data<bool>(), x.data<T>(), n);
    });
    check_launch("predicate_kernel");
    return;
  }
  if (x.dtype() != out.dtype())
    fail<RuntimeError>("[", name, "] internal: input ", dtype_name(x.dtype()), " and output ",
                       dtype_name(out.dtype()), " differ");
  if (out.dtype() == DType::Bool) {
    // abs and relu of a bool tensor are the identity; nothing else reaches here.
    if (op != UnaryOp::Abs && op != UnaryOp::Relu) fail<TypeError>("[", name, "] is not supported for bool tensors");
    copy_device_to_device(out.raw_data(), x.raw_data(), static_cast<size_t>(n), out.device().index);
    return;
  }
  // The CPU-side op converts integer inputs of float-only ops to float32 first.
  if (out.dtype() == DType::Int64 && is_float_only(op))
    fail<TypeError>("[", name, "] expected a float32 or float64 tensor, got int64");
  dispatch_numeric(out.dtype(), name, [&](auto tag) {
    using T = decltype(tag);
    unary_kernel<T><<<grid_for(n), kThreads>>>(op, out.data<T>(), x.data<T>(), n, static_cast<T>(p0),
                                               static_cast<T>(p1));
  });
  check_launch("unary_kernel");
}

}  // namespace glassnet::cuda
