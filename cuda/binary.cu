// Binary elementwise ops with broadcasting on cuda tensors: the CPU's maths
// (src/ops/elementwise.cpp) with operands read through broadcast strides, so
// a (3, 1) + (1, 4) add materialises nothing.
//
// As in unary.cu, one kernel per (dtype, family) holds every op behind a
// switch taken once per thread. Integer division by zero and negative
// integer powers cannot throw on the GPU: the kernel raises a flag, the
// launcher reads it back and throws the CPU's ValueError.
#include <type_traits>

#include "common.cuh"
#include "cuda_api.h"
#include "dispatch.h"
#include "ops/elementwise.h"
#include "ops/iter.h"

namespace glassnet::cuda {

namespace {

enum IntError : int64_t { kNoError = 0, kDivisionByZero = 1, kNegativePower = 2 };

bool is_comparison_or_logical(BinaryOp op) { return op >= BinaryOp::Eq; }

// out[o0] = f(a[o1], b[o2]) over the broadcast shape, grid-stride.
template <class O, class T, class F>
__device__ void map2(const Indexer<3>& ix, O* out, const T* a, const T* b, int64_t n, F f) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t off[3];
    ix.offsets(i, off);
    out[off[0]] = f(a[off[1]], b[off[2]]);
  }
}

// Python's remainder and floor division: the result takes the divisor's sign.
template <class T>
__device__ T py_remainder(T a, T b, int64_t* err) {
  if constexpr (std::is_floating_point_v<T>) {
    const T r = ::fmod(a, b);
    return (r != T(0) && ((r < T(0)) != (b < T(0)))) ? r + b : r;
  } else {
    if (b == 0) {
      *err = kDivisionByZero;
      return 0;
    }
    const T r = a % b;
    return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
  }
}

template <class T>
__device__ T py_floor_divide(T a, T b, int64_t* err) {
  if constexpr (std::is_floating_point_v<T>) {
    return ::floor(a / b);
  } else {
    if (b == 0) {
      *err = kDivisionByZero;
      return 0;
    }
    const T q = a / b;
    return (q * b != a && ((a < 0) != (b < 0))) ? q - 1 : q;
  }
}

__device__ int64_t int_pow(int64_t base, int64_t exp, int64_t* err) {
  if (exp < 0) {
    if (base == 1) return 1;
    if (base == -1) return (exp % 2 == 0) ? 1 : -1;
    *err = kNegativePower;
    return 0;
  }
  int64_t result = 1;
  while (exp) {
    if (exp & 1) result *= base;
    base *= base;
    exp >>= 1;
  }
  return result;
}

// a, b: broadcast to out's shape, all T (float, double or int64). err is
// written only by integer remainder, floor_divide and pow.
template <class T>
__global__ void arith_kernel(BinaryOp op, Indexer<3> ix, T* out, const T* a, const T* b, int64_t n, int64_t* err) {
  switch (op) {
    case BinaryOp::Add: return map2(ix, out, a, b, n, [](T x, T y) { return static_cast<T>(x + y); });
    case BinaryOp::Sub: return map2(ix, out, a, b, n, [](T x, T y) { return static_cast<T>(x - y); });
    case BinaryOp::Mul: return map2(ix, out, a, b, n, [](T x, T y) { return static_cast<T>(x * y); });
    // NaN propagates through maximum/minimum, as in torch.
    case BinaryOp::Maximum:
      return map2(ix, out, a, b, n, [](T x, T y) { return x != x ? x : y != y ? y : x > y ? x : y; });
    case BinaryOp::Minimum:
      return map2(ix, out, a, b, n, [](T x, T y) { return x != x ? x : y != y ? y : x < y ? x : y; });
    case BinaryOp::Remainder: return map2(ix, out, a, b, n, [err](T x, T y) { return py_remainder(x, y, err); });
    case BinaryOp::FloorDivide:
      return map2(ix, out, a, b, n, [err](T x, T y) { return py_floor_divide(x, y, err); });
    default: break;
  }
  if constexpr (std::is_floating_point_v<T>) {
    switch (op) {
      case BinaryOp::Div: return map2(ix, out, a, b, n, [](T x, T y) { return x / y; });
      case BinaryOp::Pow: return map2(ix, out, a, b, n, [](T x, T y) { return ::pow(x, y); });
      case BinaryOp::Atan2: return map2(ix, out, a, b, n, [](T x, T y) { return ::atan2(x, y); });
      default: return;
    }
  } else {
    if (op == BinaryOp::Pow) map2(ix, out, a, b, n, [err](T x, T y) { return int_pow(x, y, err); });
  }
}

// bool arithmetic: add and maximum are "or", mul and minimum are "and".
__global__ void bool_arith_kernel(BinaryOp op, Indexer<3> ix, bool* out, const bool* a, const bool* b, int64_t n) {
  if (op == BinaryOp::Add || op == BinaryOp::Maximum)
    map2(ix, out, a, b, n, [](bool x, bool y) { return x || y; });
  else
    map2(ix, out, a, b, n, [](bool x, bool y) { return x && y; });
}

// a, b: T broadcast to out's shape; out: bool.
template <class T>
__global__ void compare_kernel(BinaryOp op, Indexer<3> ix, bool* out, const T* a, const T* b, int64_t n) {
  switch (op) {
    case BinaryOp::Eq: return map2(ix, out, a, b, n, [](T x, T y) { return x == y; });
    case BinaryOp::Ne: return map2(ix, out, a, b, n, [](T x, T y) { return x != y; });
    case BinaryOp::Lt: return map2(ix, out, a, b, n, [](T x, T y) { return x < y; });
    case BinaryOp::Le: return map2(ix, out, a, b, n, [](T x, T y) { return x <= y; });
    case BinaryOp::Gt: return map2(ix, out, a, b, n, [](T x, T y) { return x > y; });
    case BinaryOp::Ge: return map2(ix, out, a, b, n, [](T x, T y) { return x >= y; });
    case BinaryOp::LogicalAnd: return map2(ix, out, a, b, n, [](T x, T y) { return x && y; });
    case BinaryOp::LogicalOr: return map2(ix, out, a, b, n, [](T x, T y) { return x || y; });
    case BinaryOp::LogicalXor: return map2(ix, out, a, b, n, [](T x, T y) { return bool(x) != bool(y); });
    default: return;
  }
}

bool may_raise(BinaryOp op) {
  return op == BinaryOp::Remainder || op == BinaryOp::FloorDivide || op == BinaryOp::Pow;
}

}  // namespace

void binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out) {
  const char* name = binary_name(op);
  if (a.dtype() != b.dtype() || a.device() != out.device() || b.device() != out.device())
    fail<RuntimeError>("[", name, "] internal: the cuda kernel takes operands of one dtype on the output's device, got ",
                       dtype_name(a.dtype()), " on ", a.device().str(), " and ", dtype_name(b.dtype()), " on ",
                       b.device().str(), " for an output on ", out.device().str());
  const int64_t n = out.numel();
  if (n == 0) return;
  require_device(out.device().index, name);
  const Shape& shape = out.shape();
  const Indexer<3> ix =
      make_indexer<3>(shape, {out.strides(), broadcast_strides(a, shape), broadcast_strides(b, shape)}, name);
  DeviceGuard guard(out.device().index);
  const DType compute = a.dtype();

  if (is_comparison_or_logical(op)) {
    if (out.dtype() != DType::Bool) fail<RuntimeError>("[", name, "] internal: output must be bool");
    dispatch_all(compute, name, [&](auto tag) {
      using T = decltype(tag);
      compare_kernel<T><<<grid_for(n), kThreads>>>(op, ix, out.data<bool>(), a.data<T>(), b.data<T>(), n);
    });
    check_launch("compare_kernel");
    return;
  }
  if (out.dtype() != compute)
    fail<RuntimeError>("[", name, "] internal: output ", dtype_name(out.dtype()), " differs from the operands' ",
                       dtype_name(compute));
  if (compute == DType::Bool) {
    if (op != BinaryOp::Add && op != BinaryOp::Mul && op != BinaryOp::Maximum && op != BinaryOp::Minimum)
      fail<TypeError>("[", name, "] is not supported for bool tensors");
    bool_arith_kernel<<<grid_for(n), kThreads>>>(op, ix, out.data<bool>(), a.data<bool>(), b.data<bool>(), n);
    check_launch("bool_arith_kernel");
    return;
  }
  if (compute == DType::Int64 && (op == BinaryOp::Div || op == BinaryOp::Atan2))
    fail<TypeError>("[", name, "] expected floating-point operands on cuda, got int64");

  // Integer ops that can fail get a flag on the device, read back after the kernel.
  const bool check_errors = compute == DType::Int64 && may_raise(op);
  Tensor flag;
  if (check_errors) flag = Tensor::zeros({1}, DType::Int64, out.device());
  int64_t* err = check_errors ? flag.data<int64_t>() : nullptr;
  dispatch_numeric(compute, name, [&](auto tag) {
    using T = decltype(tag);
    arith_kernel<T><<<grid_for(n), kThreads>>>(op, ix, out.data<T>(), a.data<T>(), b.data<T>(), n, err);
  });
  check_launch("arith_kernel");
  if (!check_errors) return;
  int64_t code = kNoError;
  copy_device_to_host(&code, err, sizeof(code), out.device().index);
  if (code == kDivisionByZero) fail<ValueError>("[", name, "] integer division by zero");
  if (code == kNegativePower) fail<ValueError>("[pow] integers to negative integer powers are not allowed");
}

}  // namespace glassnet::cuda
