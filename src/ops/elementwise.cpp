#include "ops/elementwise.h"

#include <cmath>
#include <type_traits>

#include "cpu.h"
#include "cuda_api.h"
#include "dispatch.h"
#include "errors.h"
#include "ops/copy.h"
#include "ops/iter.h"
#include "ops/vecmath.h"

namespace glassnet {

namespace {

// ---- loops -----------------------------------------------------------------

// out[i] = f(x[i]) where out has type O and x has type I.
template <class O, class I, class F>
void unary_loop(const StridedLoop<2>& loop, F f) {
  loop.run([f](char* const* p, const int64_t* s, int64_t n) {
    if (s[0] == sizeof(O) && s[1] == sizeof(I)) {
      O* out = reinterpret_cast<O*>(p[0]);
      const I* x = reinterpret_cast<const I*>(p[1]);
      for (int64_t i = 0; i < n; ++i) out[i] = f(x[i]);
    } else {
      for (int64_t i = 0; i < n; ++i)
        *reinterpret_cast<O*>(p[0] + i * s[0]) = f(*reinterpret_cast<const I*>(p[1] + i * s[1]));
    }
  });
}

// out[i] = f(a[i], b[i]) over one run of the loop; the contiguous case and
// the scalar-operand cases vectorise.
template <class O, class I, class F>
void binary_run(const F& f, char* const* p, const int64_t* s, int64_t n) {
  O* out = reinterpret_cast<O*>(p[0]);
  const I* a = reinterpret_cast<const I*>(p[1]);
  const I* b = reinterpret_cast<const I*>(p[2]);
  if (s[0] == sizeof(O) && s[1] == sizeof(I) && s[2] == sizeof(I)) {
    for (int64_t i = 0; i < n; ++i) out[i] = f(a[i], b[i]);
  } else if (s[0] == sizeof(O) && s[1] == sizeof(I) && s[2] == 0) {
    const I bv = *b;
    for (int64_t i = 0; i < n; ++i) out[i] = f(a[i], bv);
  } else if (s[0] == sizeof(O) && s[1] == 0 && s[2] == sizeof(I)) {
    const I av = *a;
    for (int64_t i = 0; i < n; ++i) out[i] = f(av, b[i]);
  } else {
    for (int64_t i = 0; i < n; ++i)
      *reinterpret_cast<O*>(p[0] + i * s[0]) = f(*reinterpret_cast<const I*>(p[1] + i * s[1]),
                                                 *reinterpret_cast<const I*>(p[2] + i * s[2]));
  }
}

template <class O, class I, class F>
void binary_loop(const StridedLoop<3>& loop, F f) {
  loop.run([f](char* const* p, const int64_t* s, int64_t n) { binary_run<O, I>(f, p, s, n); });
}

// ---- SIMD kernels (vecmath.h) ----------------------------------------------

using UnaryF32Kernel = bool (*)(UnaryOp, const float*, float*, int64_t);
using BinaryF32Kernel = bool (*)(BinaryOp, const float*, int64_t, const float*, int64_t, float*, int64_t);

// The widest build of the float32 kernel for `op` this CPU runs (AVX2 for
// the binary ops, see vecmath.h), or null when there is none (other ops,
// other CPUs).
UnaryF32Kernel unary_f32_kernel(UnaryOp op) {
#if defined(__x86_64__) || defined(_M_X64)
  if (cpu_has_avx512()) return unary_f32_vectorised_avx512(op, nullptr, nullptr, 0) ? unary_f32_vectorised_avx512 : nullptr;
  if (cpu_has_avx2_fma()) return unary_f32_vectorised(op, nullptr, nullptr, 0) ? unary_f32_vectorised : nullptr;
#endif
  (void)op;
  return nullptr;
}

using UnaryBackwardF32Kernel = bool (*)(UnaryOp, const float*, const float*, const float*, float*, int64_t);

UnaryBackwardF32Kernel unary_backward_f32_kernel(UnaryOp op) {
#if defined(__x86_64__) || defined(_M_X64)
  if (cpu_has_avx2_fma() && unary_backward_f32_vectorised(op, nullptr, nullptr, nullptr, nullptr, 0))
    return unary_backward_f32_vectorised;
#endif
  (void)op;
  return nullptr;
}

BinaryF32Kernel binary_f32_kernel(BinaryOp op) {
#if defined(__x86_64__) || defined(_M_X64)
  if (cpu_has_avx2_fma())
    return binary_f32_vectorised(op, nullptr, 0, nullptr, 0, nullptr, 0) ? binary_f32_vectorised : nullptr;
#endif
  (void)op;
  return nullptr;
}

// float32 binary loop: runs whose output is contiguous and whose inputs are
// each contiguous or a broadcast scalar go to the SIMD kernel, the rest to f.
template <class F>
void binary_loop_f32(BinaryOp op, const StridedLoop<3>& loop, F f) {
  const BinaryF32Kernel simd = binary_f32_kernel(op);
  if (!simd) return binary_loop<float, float>(loop, f);
  loop.run([simd, op, f](char* const* p, const int64_t* s, int64_t n) {
    constexpr int64_t k = sizeof(float);
    if (s[0] == k && (s[1] == k || s[1] == 0) && (s[2] == k || s[2] == 0)) {
      simd(op, reinterpret_cast<const float*>(p[1]), s[1] / k, reinterpret_cast<const float*>(p[2]), s[2] / k,
           reinterpret_cast<float*>(p[0]), n);
    } else {
      binary_run<float, float>(f, p, s, n);
    }
  });
}

// A transcendental costs several times a memory-bound op per element, so its
// loops split four times finer than kElementwiseGrain.
constexpr int64_t kTranscendentalGrain = kElementwiseGrain / 4;

template <class T>
constexpr bool is_float_v = std::is_floating_point_v<T>;

// ---- unary forward ---------------------------------------------------------

bool unary_is_float_only(UnaryOp op) {
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

bool unary_is_predicate(UnaryOp op) {
  return op == UnaryOp::IsNan || op == UnaryOp::IsInf || op == UnaryOp::IsFinite ||
         op == UnaryOp::LogicalNot;
}

constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;
constexpr double kSqrt2OverPi = 0.79788456080286535587989211986876;
constexpr double kInvSqrt2 = 0.70710678118654752440084436210485;

template <class T>
void unary_float(UnaryOp op, const StridedLoop<2>& loop, T p0, T p1) {
  using std::exp;
  switch (op) {
    case UnaryOp::Exp: return unary_loop<T, T>(loop, [](T v) { return std::exp(v); });
    case UnaryOp::Log: return unary_loop<T, T>(loop, [](T v) { return std::log(v); });
    case UnaryOp::Log1p: return unary_loop<T, T>(loop, [](T v) { return std::log1p(v); });
    case UnaryOp::Expm1: return unary_loop<T, T>(loop, [](T v) { return std::expm1(v); });
    case UnaryOp::Sqrt: return unary_loop<T, T>(loop, [](T v) { return std::sqrt(v); });
    case UnaryOp::Rsqrt: return unary_loop<T, T>(loop, [](T v) { return T(1) / std::sqrt(v); });
    case UnaryOp::Sin: return unary_loop<T, T>(loop, [](T v) { return std::sin(v); });
    case UnaryOp::Cos: return unary_loop<T, T>(loop, [](T v) { return std::cos(v); });
    case UnaryOp::Reciprocal: return unary_loop<T, T>(loop, [](T v) { return T(1) / v; });
    case UnaryOp::Sigmoid: return unary_loop<T, T>(loop, [](T v) { return T(1) / (T(1) + std::exp(-v)); });
    case UnaryOp::Tanh: return unary_loop<T, T>(loop, [](T v) { return std::tanh(v); });
    case UnaryOp::LeakyRelu: return unary_loop<T, T>(loop, [p0](T v) { return v > T(0) ? v : v * p0; });
    case UnaryOp::Elu: return unary_loop<T, T>(loop, [p0](T v) { return v > T(0) ? v : p0 * std::expm1(v); });
    case UnaryOp::Selu:
      return unary_loop<T, T>(loop, [](T v) {
        return T(kSeluScale) * (v > T(0) ? v : T(kSeluAlpha) * std::expm1(v));
      });
    case UnaryOp::Gelu:
      return unary_loop<T, T>(loop, [](T v) { return T(0.5) * v * (T(1) + std::erf(v * T(kInvSqrt2))); });
    case UnaryOp::GeluTanh:
      return unary_loop<T, T>(loop, [](T v) {
        return T(0.5) * v * (T(1) + std::tanh(T(kSqrt2OverPi) * (v + T(0.044715) * v * v * v)));
      });
    case UnaryOp::Silu: return unary_loop<T, T>(loop, [](T v) { return v / (T(1) + std::exp(-v)); });
    case UnaryOp::Softplus:
      // Linear above the threshold, where log1p(exp(βx))/β == x in float.
      return unary_loop<T, T>(loop, [p0, p1](T v) {
        return v * p0 > p1 ? v : std::log1p(std::exp(v * p0)) / p0;
      });
    default: break;
  }
  fail<RuntimeError>("[", unary_name(op), "] not a floating-point unary op");
}

template <class T>
void unary_same(UnaryOp op, const StridedLoop<2>& loop, T p0, T p1) {
  switch (op) {
    case UnaryOp::Neg: return unary_loop<T, T>(loop, [](T v) { return static_cast<T>(-v); });
    case UnaryOp::Abs:
      return unary_loop<T, T>(loop, [](T v) { return v < T(0) ? static_cast<T>(-v) : v; });
    case UnaryOp::Sign:
      return unary_loop<T, T>(loop, [](T v) { return static_cast<T>((T(0) < v) - (v < T(0))); });
    case UnaryOp::Relu:
      // Written as a select, not max(v, 0), so NaN passes through as in torch.
      return unary_loop<T, T>(loop, [](T v) { return v > T(0) || v != v ? v : T(0); });
    case UnaryOp::Relu6:
      return unary_loop<T, T>(loop, [](T v) { return v != v ? v : v < T(0) ? T(0) : v > T(6) ? T(6) : v; });
    case UnaryOp::Hardtanh:
    case UnaryOp::Clamp:
      return unary_loop<T, T>(loop, [p0, p1](T v) { return v != v ? v : v < p0 ? p0 : v > p1 ? p1 : v; });
    case UnaryOp::ClampMin: return unary_loop<T, T>(loop, [p0](T v) { return v != v ? v : v < p0 ? p0 : v; });
    case UnaryOp::ClampMax: return unary_loop<T, T>(loop, [p0](T v) { return v != v ? v : v > p0 ? p0 : v; });
    case UnaryOp::Square: return unary_loop<T, T>(loop, [](T v) { return static_cast<T>(v * v); });
    case UnaryOp::Floor:
      if constexpr (is_float_v<T>) return unary_loop<T, T>(loop, [](T v) { return std::floor(v); });
      else return unary_loop<T, T>(loop, [](T v) { return v; });
    case UnaryOp::Ceil:
      if constexpr (is_float_v<T>) return unary_loop<T, T>(loop, [](T v) { return std::ceil(v); });
      else return unary_loop<T, T>(loop, [](T v) { return v; });
    case UnaryOp::Round:
      // Half to even, as torch.round.
      if constexpr (is_float_v<T>) return unary_loop<T, T>(loop, [](T v) { return std::nearbyint(v); });
      else return unary_loop<T, T>(loop, [](T v) { return v; });
    case UnaryOp::Trunc:
      if constexpr (is_float_v<T>) return unary_loop<T, T>(loop, [](T v) { return std::trunc(v); });
      else return unary_loop<T, T>(loop, [](T v) { return v; });
    default: break;
  }
  if constexpr (is_float_v<T>) return unary_float<T>(op, loop, p0, p1);
  fail<RuntimeError>("[", unary_name(op), "] internal: unhandled op");
}

template <class T>
void unary_predicate(UnaryOp op, const StridedLoop<2>& loop) {
  switch (op) {
    case UnaryOp::IsNan: return unary_loop<bool, T>(loop, [](T v) { return v != v; });
    case UnaryOp::IsInf:
      if constexpr (is_float_v<T>) return unary_loop<bool, T>(loop, [](T v) { return std::isinf(v); });
      else return unary_loop<bool, T>(loop, [](T) { return false; });
    case UnaryOp::IsFinite:
      if constexpr (is_float_v<T>) return unary_loop<bool, T>(loop, [](T v) { return std::isfinite(v); });
      else return unary_loop<bool, T>(loop, [](T) { return true; });
    case UnaryOp::LogicalNot: return unary_loop<bool, T>(loop, [](T v) { return !v; });
    default: break;
  }
  fail<RuntimeError>("[", unary_name(op), "] internal: not a predicate");
}

// ---- unary backward --------------------------------------------------------

// out = g · f'(x, y): three operands (grad, x, y) broadcast together.
template <class T, class F>
void backward_loop(const Tensor& out, const Tensor& g, const Tensor& x, const Tensor& y, F f) {
  auto loop = make_loop<4>(out, {&g, &x, &y});
  loop.run([f](char* const* p, const int64_t* s, int64_t n) {
    for (int64_t i = 0; i < n; ++i)
      *reinterpret_cast<T*>(p[0] + i * s[0]) =
          f(*reinterpret_cast<const T*>(p[1] + i * s[1]), *reinterpret_cast<const T*>(p[2] + i * s[2]),
            *reinterpret_cast<const T*>(p[3] + i * s[3]));
  });
}

template <class T>
void unary_backward_kernel(UnaryOp op, const Tensor& out, const Tensor& g, const Tensor& x,
                           const Tensor& y, T p0, T p1) {
  auto run = [&](auto f) { backward_loop<T>(out, g, x, y, f); };
  switch (op) {
    case UnaryOp::Neg: return run([](T g, T, T) { return -g; });
    case UnaryOp::Abs: return run([](T g, T x, T) { return x > T(0) ? g : x < T(0) ? -g : T(0); });
    case UnaryOp::Exp: return run([](T g, T, T y) { return g * y; });
    case UnaryOp::Expm1: return run([](T g, T, T y) { return g * (y + T(1)); });
    case UnaryOp::Log: return run([](T g, T x, T) { return g / x; });
    case UnaryOp::Log1p: return run([](T g, T x, T) { return g / (x + T(1)); });
    case UnaryOp::Sqrt: return run([](T g, T, T y) { return g / (T(2) * y); });
    case UnaryOp::Rsqrt: return run([](T g, T, T y) { return T(-0.5) * g * y * y * y; });
    case UnaryOp::Sin: return run([](T g, T x, T) { return g * std::cos(x); });
    case UnaryOp::Cos: return run([](T g, T x, T) { return -g * std::sin(x); });
    case UnaryOp::Reciprocal: return run([](T g, T, T y) { return -g * y * y; });
    case UnaryOp::Sign: case UnaryOp::Floor: case UnaryOp::Ceil: case UnaryOp::Round: case UnaryOp::Trunc:
      return run([](T, T, T) { return T(0); });
    case UnaryOp::Square: return run([](T g, T x, T) { return T(2) * g * x; });
    case UnaryOp::Relu: return run([](T g, T, T y) { return y > T(0) ? g : T(0); });
    case UnaryOp::Relu6: return run([](T g, T x, T) { return x > T(0) && x < T(6) ? g : T(0); });
    case UnaryOp::Sigmoid: return run([](T g, T, T y) { return g * y * (T(1) - y); });
    case UnaryOp::Tanh: return run([](T g, T, T y) { return g * (T(1) - y * y); });
    case UnaryOp::LeakyRelu: return run([p0](T g, T x, T) { return x > T(0) ? g : g * p0; });
    case UnaryOp::Elu: return run([p0](T g, T x, T y) { return x > T(0) ? g : g * (y + p0); });
    case UnaryOp::Selu:
      return run([](T g, T x, T y) { return x > T(0) ? g * T(kSeluScale) : g * (y + T(kSeluScale * kSeluAlpha)); });
    case UnaryOp::Gelu:
      return run([](T g, T x, T) {
        const T cdf = T(0.5) * (T(1) + std::erf(x * T(kInvSqrt2)));
        const T pdf = std::exp(T(-0.5) * x * x) * T(kSqrt2OverPi * 0.5);
        return g * (cdf + x * pdf);
      });
    case UnaryOp::GeluTanh:
      return run([](T g, T x, T) {
        const T inner = T(kSqrt2OverPi) * (x + T(0.044715) * x * x * x);
        const T t = std::tanh(inner);
        const T dinner = T(kSqrt2OverPi) * (T(1) + T(3 * 0.044715) * x * x);
        return g * (T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * dinner);
      });
    case UnaryOp::Silu:
      return run([](T g, T x, T) {
        const T s = T(1) / (T(1) + std::exp(-x));
        return g * s * (T(1) + x * (T(1) - s));
      });
    case UnaryOp::Softplus:
      return run([p0, p1](T g, T x, T) {
        if (x * p0 > p1) return g;
        const T z = std::exp(x * p0);
        return g * z / (z + T(1));
      });
    // torch passes the gradient where min <= x <= max for clamp, but strictly
    // inside for hardtanh.
    case UnaryOp::Hardtanh: return run([p0, p1](T g, T x, T) { return x > p0 && x < p1 ? g : T(0); });
    case UnaryOp::Clamp: return run([p0, p1](T g, T x, T) { return x >= p0 && x <= p1 ? g : T(0); });
    case UnaryOp::ClampMin: return run([p0](T g, T x, T) { return x >= p0 ? g : T(0); });
    case UnaryOp::ClampMax: return run([p0](T g, T x, T) { return x <= p0 ? g : T(0); });
    default: break;
  }
  fail<ValueError>("[", unary_name(op), "] has no gradient");
}

// ---- binary ----------------------------------------------------------------

bool binary_is_comparison(BinaryOp op) {
  return op >= BinaryOp::Eq && op <= BinaryOp::Ge;
}
bool binary_is_logical(BinaryOp op) { return op >= BinaryOp::LogicalAnd; }

template <class T>
T py_remainder(T a, T b) {
  if constexpr (is_float_v<T>) {
    T r = std::fmod(a, b);
    return (r != T(0) && ((r < T(0)) != (b < T(0)))) ? r + b : r;
  } else {
    if (b == 0) fail<ValueError>("[remainder] integer division by zero");
    T r = a % b;
    return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
  }
}

template <class T>
T py_floor_divide(T a, T b) {
  if constexpr (is_float_v<T>) {
    return std::floor(a / b);
  } else {
    if (b == 0) fail<ValueError>("[floor_divide] integer division by zero");
    T q = a / b;
    return (q * b != a && ((a < 0) != (b < 0))) ? q - 1 : q;
  }
}

template <class T>
T int_pow(T base, T exp) {
  if (exp < 0) {
    if (base == 1) return 1;
    if (base == -1) return (exp % 2 == 0) ? 1 : -1;
    fail<ValueError>("[pow] integers to negative integer powers are not allowed");
  }
  T result = 1;
  while (exp) {
    if (exp & 1) result *= base;
    base *= base;
    exp >>= 1;
  }
  return result;
}

template <class T>
void binary_arith(BinaryOp op, const StridedLoop<3>& loop) {
  if constexpr (std::is_same_v<T, bool>) {
    // bool only reaches here for add (or), mul (and), maximum (or), minimum (and).
    if (op == BinaryOp::Add || op == BinaryOp::Maximum)
      return binary_loop<bool, bool>(loop, [](bool a, bool b) { return a || b; });
    if (op == BinaryOp::Mul || op == BinaryOp::Minimum)
      return binary_loop<bool, bool>(loop, [](bool a, bool b) { return a && b; });
    fail<TypeError>("[", binary_name(op), "] is not supported for bool tensors");
  } else {
  if constexpr (std::is_same_v<T, float>) {
    switch (op) {
      case BinaryOp::Add: return binary_loop_f32(op, loop, [](float a, float b) { return a + b; });
      case BinaryOp::Sub: return binary_loop_f32(op, loop, [](float a, float b) { return a - b; });
      case BinaryOp::Mul: return binary_loop_f32(op, loop, [](float a, float b) { return a * b; });
      case BinaryOp::Div: return binary_loop_f32(op, loop, [](float a, float b) { return a / b; });
      default: break;
    }
  }
  switch (op) {
    case BinaryOp::Add: return binary_loop<T, T>(loop, [](T a, T b) { return static_cast<T>(a + b); });
    case BinaryOp::Sub: return binary_loop<T, T>(loop, [](T a, T b) { return static_cast<T>(a - b); });
    case BinaryOp::Mul: return binary_loop<T, T>(loop, [](T a, T b) { return static_cast<T>(a * b); });
    case BinaryOp::Div:
      if constexpr (is_float_v<T>) return binary_loop<T, T>(loop, [](T a, T b) { return a / b; });
      break;
    case BinaryOp::Pow:
      if constexpr (is_float_v<T>) return binary_loop<T, T>(loop, [](T a, T b) { return std::pow(a, b); });
      else return binary_loop<T, T>(loop, [](T a, T b) { return int_pow(a, b); });
    // NaN propagates through maximum/minimum, as in torch.
    case BinaryOp::Maximum:
      return binary_loop<T, T>(loop, [](T a, T b) { return a != a ? a : b != b ? b : a > b ? a : b; });
    case BinaryOp::Minimum:
      return binary_loop<T, T>(loop, [](T a, T b) { return a != a ? a : b != b ? b : a < b ? a : b; });
    case BinaryOp::Atan2:
      if constexpr (is_float_v<T>) return binary_loop<T, T>(loop, [](T a, T b) { return std::atan2(a, b); });
      break;
    case BinaryOp::Remainder: return binary_loop<T, T>(loop, [](T a, T b) { return py_remainder(a, b); });
    case BinaryOp::FloorDivide: return binary_loop<T, T>(loop, [](T a, T b) { return py_floor_divide(a, b); });
    default: break;
  }
  }
  fail<RuntimeError>("[", binary_name(op), "] internal: unhandled op");
}

template <class T>
void binary_compare(BinaryOp op, const StridedLoop<3>& loop) {
  switch (op) {
    case BinaryOp::Eq: return binary_loop<bool, T>(loop, [](T a, T b) { return a == b; });
    case BinaryOp::Ne: return binary_loop<bool, T>(loop, [](T a, T b) { return a != b; });
    case BinaryOp::Lt: return binary_loop<bool, T>(loop, [](T a, T b) { return a < b; });
    case BinaryOp::Le: return binary_loop<bool, T>(loop, [](T a, T b) { return a <= b; });
    case BinaryOp::Gt: return binary_loop<bool, T>(loop, [](T a, T b) { return a > b; });
    case BinaryOp::Ge: return binary_loop<bool, T>(loop, [](T a, T b) { return a >= b; });
    case BinaryOp::LogicalAnd: return binary_loop<bool, T>(loop, [](T a, T b) { return a && b; });
    case BinaryOp::LogicalOr: return binary_loop<bool, T>(loop, [](T a, T b) { return a || b; });
    case BinaryOp::LogicalXor: return binary_loop<bool, T>(loop, [](T a, T b) { return bool(a) != bool(b); });
    default: break;
  }
  fail<RuntimeError>("[", binary_name(op), "] internal: unhandled op");
}

void check_same_device(const Tensor& a, const Tensor& b, const char* op) {
  if (a.device() != b.device())
    fail<RuntimeError>("[", op, "] expected all tensors on the same device, got ", a.device().str(),
                       " and ", b.device().str());
}

DType binary_compute_type(BinaryOp op, const Tensor& a, const Tensor& b) {
  DType common = result_type(a, b);
  if (!is_floating(common) && (op == BinaryOp::Div || op == BinaryOp::Atan2)) common = DType::Float32;
  if (common == DType::Bool && (op == BinaryOp::Sub))
    fail<TypeError>("[sub] subtracting bool tensors is not supported; use logical_xor instead");
  if (common == DType::Bool && !binary_is_comparison(op) && !binary_is_logical(op) &&
      op != BinaryOp::Add && op != BinaryOp::Mul && op != BinaryOp::Maximum && op != BinaryOp::Minimum)
    common = DType::Int64;
  return common;
}

void run_binary(BinaryOp op, Tensor& out, const Tensor& a, const Tensor& b, DType compute) {
  auto loop = make_loop<3>(out, {&a, &b});
  if (binary_is_comparison(op) || binary_is_logical(op)) {
    dispatch_all(compute, binary_name(op), [&](auto tag) { binary_compare<decltype(tag)>(op, loop); });
  } else {
    dispatch_all(compute, binary_name(op), [&](auto tag) { binary_arith<decltype(tag)>(op, loop); });
  }
}

}  // namespace

const char* unary_name(UnaryOp op) {
  static const char* names[] = {
      "neg", "abs", "exp", "log", "log1p", "sqrt", "rsqrt", "sin", "cos", "sign", "reciprocal", "expm1",
      "relu", "sigmoid", "tanh", "relu6", "leaky_relu", "elu", "selu", "gelu", "gelu", "silu",
      "softplus", "hardtanh", "clamp", "clamp", "clamp", "square", "floor", "ceil", "round", "trunc",
      "isnan", "isinf", "isfinite", "logical_not"};
  return names[static_cast<int>(op)];
}

const char* binary_name(BinaryOp op) {
  static const char* names[] = {"add", "sub", "mul", "div", "pow", "maximum", "minimum", "atan2",
                                "remainder", "floor_divide", "eq", "ne", "lt", "le", "gt", "ge",
                                "logical_and", "logical_or", "logical_xor"};
  return names[static_cast<int>(op)];
}

DType result_type(const Tensor& a, const Tensor& b) {
  auto category = [](DType d) { return is_floating(d) ? 2 : d == DType::Int64 ? 1 : 0; };
  const bool a_dims = a.dim() > 0, b_dims = b.dim() > 0;
  if (a_dims == b_dims) return promote_types(a.dtype(), b.dtype());
  const Tensor& dimmed = a_dims ? a : b;
  const Tensor& zero_dim = a_dims ? b : a;
  if (category(zero_dim.dtype()) > category(dimmed.dtype())) return zero_dim.dtype();
  return dimmed.dtype();
}

Tensor unary(UnaryOp op, const Tensor& x, double p0, double p1) {
  const char* name = unary_name(op);
  DType out_dtype = x.dtype();
  if (unary_is_predicate(op)) out_dtype = DType::Bool;
  else if (unary_is_float_only(op) && !is_floating(x.dtype())) out_dtype = DType::Float32;
  else if (x.dtype() == DType::Bool && op != UnaryOp::Abs && op != UnaryOp::Relu)
    fail<TypeError>("[", name, "] is not supported for bool tensors");
  if (x.device().is_cuda()) {
    Tensor xin = x.contiguous();
    if (xin.dtype() != out_dtype && !unary_is_predicate(op)) xin = to_dtype(xin, out_dtype);
    Tensor out = Tensor::empty(x.shape(), out_dtype, x.device());
    cuda::unary(op, xin, out, p0, p1);
    return out;
  }
  Tensor out = Tensor::empty(x.shape(), out_dtype);
  if (unary_is_predicate(op)) {
    auto loop = make_loop<2>(out, {&x});
    dispatch_all(x.dtype(), name, [&](auto tag) { unary_predicate<decltype(tag)>(op, loop); });
    return out;
  }
  const Tensor xin = x.dtype() == out_dtype ? x : to_dtype(x, out_dtype);
  // Contiguous float32 with a SIMD kernel: one flat loop, split over threads.
  if (out_dtype == DType::Float32 && xin.is_contiguous()) {
    if (const UnaryF32Kernel simd = unary_f32_kernel(op)) {
      const float* src = xin.data<float>();
      float* dst = out.data<float>();
      const int64_t grain = op == UnaryOp::Relu ? kElementwiseGrain : kTranscendentalGrain;
      parallel_for(0, x.numel(), grain, [&](int64_t b, int64_t e) { simd(op, src + b, dst + b, e - b); });
      return out;
    }
  }
  auto loop = make_loop<2>(out, {&xin});
  dispatch_all(out_dtype, name, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, bool>) {
      unary_loop<bool, bool>(loop, [](bool v) { return v; });  // abs/relu of bool: identity
    } else {
      unary_same<T>(op, loop, static_cast<T>(p0), static_cast<T>(p1));
    }
  });
  return out;
}

Tensor unary_backward(UnaryOp op, const Tensor& grad, const Tensor& x, const Tensor& y, double p0, double p1) {
  const char* name = unary_name(op);
  if (grad.device().is_cuda()) fail<RuntimeError>("[", name, "_backward] not implemented for cuda yet");
  const DType dtype = grad.dtype();
  Shape shape = broadcast_shapes(grad.shape(), x.shape(), name);
  Tensor out = Tensor::empty(shape, dtype);
  const Tensor xin = x.dtype() == dtype ? x : to_dtype(x, dtype);
  const Tensor yin = y.dtype() == dtype ? y : to_dtype(y, dtype);
  // Contiguous float32 of one shape with a SIMD kernel: one flat loop, split over threads.
  if (dtype == DType::Float32 && grad.shape() == xin.shape() && yin.shape() == xin.shape() && grad.is_contiguous() &&
      xin.is_contiguous() && yin.is_contiguous()) {
    if (const UnaryBackwardF32Kernel simd = unary_backward_f32_kernel(op)) {
      const float *g = grad.data<float>(), *xs = xin.data<float>(), *ys = yin.data<float>();
      float* dst = out.data<float>();
      const int64_t grain = op == UnaryOp::Relu ? kElementwiseGrain : kTranscendentalGrain;
      parallel_for(0, out.numel(), grain,
                   [&](int64_t b, int64_t e) { simd(op, g + b, xs + b, ys + b, dst + b, e - b); });
      return out;
    }
  }
  dispatch_float(dtype, name, [&](auto tag) {
    using T = decltype(tag);
    unary_backward_kernel<T>(op, out, grad, xin, yin, static_cast<T>(p0), static_cast<T>(p1));
  });
  return out;
}

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  const char* name = binary_name(op);
  check_same_device(a, b, name);
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  const DType compute = binary_compute_type(op, a, b);
  const DType out_dtype = binary_is_comparison(op) || binary_is_logical(op) ? DType::Bool : compute;
  const Tensor ain = a.dtype() == compute ? a : to_dtype(a, compute);
  const Tensor bin = b.dtype() == compute ? b : to_dtype(b, compute);
  Tensor out = Tensor::empty(shape, out_dtype, a.device());
  if (a.device().is_cuda()) {
    cuda::binary(op, ain, bin, out);
    return out;
  }
  run_binary(op, out, ain, bin, compute);
  return out;
}

void binary_(BinaryOp op, Tensor& a, const Tensor& b) {
  const char* name = binary_name(op);
  check_same_device(a, b, name);
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  if (shape != a.shape())
    fail<ValueError>("[", name, "_] output with shape ", shape_str(a.shape()),
                     " doesn't match the broadcast shape ", shape_str(shape));
  const DType compute = binary_compute_type(op, a, b);
  if (binary_is_comparison(op) || binary_is_logical(op) || promote_types(compute, a.dtype()) != a.dtype())
    fail<TypeError>("[", name, "_] result type ", dtype_name(compute), " can't be cast to the in-place output dtype ",
                    dtype_name(a.dtype()));
  const Tensor bin = b.dtype() == compute ? b : to_dtype(b, compute);
  if (a.device().is_cuda()) {
    Tensor tmp = binary(op, a, bin);
    copy_(a, tmp);
    return;
  }
  // Writing into `a` while reading a view of it that is laid out differently
  // would read already-updated values: compute into a temporary then.
  if (bin.storage() == a.storage() && (bin.raw_data() != a.raw_data() || bin.strides() != a.strides())) {
    Tensor tmp = binary(op, a, bin);
    copy_(a, tmp);
    return;
  }
  run_binary(op, a, a, bin, compute);
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  if (cond.dtype() != DType::Bool)
    fail<TypeError>("[where] condition must be a bool tensor, got ", dtype_name(cond.dtype()));
  check_same_device(a, b, "where");
  check_same_device(cond, a, "where");
  if (a.device().is_cuda()) fail<RuntimeError>("[where] not implemented for cuda yet");
  const Shape shape = broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(), "where");
  const DType dtype = result_type(a, b);
  const Tensor ain = a.dtype() == dtype ? a : to_dtype(a, dtype);
  const Tensor bin = b.dtype() == dtype ? b : to_dtype(b, dtype);
  Tensor out = Tensor::empty(shape, dtype);
  auto loop = make_loop<4>(out, {&cond, &ain, &bin});
  dispatch_all(dtype, "where", [&](auto tag) {
    using T = decltype(tag);
    loop.run([](char* const* p, const int64_t* s, int64_t n) {
      for (int64_t i = 0; i < n; ++i)
        *reinterpret_cast<T*>(p[0] + i * s[0]) = *reinterpret_cast<const bool*>(p[1] + i * s[1])
                                                    ? *reinterpret_cast<const T*>(p[2] + i * s[2])
                                                    : *reinterpret_cast<const T*>(p[3] + i * s[3]);
    });
  });
  return out;
}

}  // namespace glassnet
