// Compiled with -mavx2 -mfma (see CMakeLists.txt); only reached after
// cpu_has_avx2_fma() said yes. vecmath_avx512.cpp mirrors these kernels.
#include <immintrin.h>

#include <cmath>

#include "ops/vecmath.h"

namespace glassnet {

namespace {

// exp(x) = 2^n · exp(r), n = round(x·log2 e), r = x − n·ln 2 (ln 2 split in two
// parts so the reduction is exact), exp(r) by Cephes' polynomial.
inline __m256 exp8(__m256 x) {
  // Below ln(smallest denormal) the answer is 0; between that and -87.3 it
  // is a denormal, reached by the two-step scaling below.
  const __m256 hi = _mm256_set1_ps(88.72283935546875f), lo = _mm256_set1_ps(-103.9720840454f);
  const __m256 nan_mask = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
  const __m256 underflow = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
  const __m256 overflow = _mm256_cmp_ps(x, hi, _CMP_GT_OQ);
  x = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
  __m256 fx = _mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), _mm256_set1_ps(0.5f));
  fx = _mm256_floor_ps(fx);
  x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
  x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), x);
  __m256 y = _mm256_set1_ps(1.9875691500e-4f);
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.3981999507e-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(8.3334519073e-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(4.1665795894e-2f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.6666665459e-1f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(5.0000001201e-1f));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(x, x), _mm256_add_ps(x, _mm256_set1_ps(1.0f)));
  // 2^n through the exponent bits; n is in [-150, 128] after the clamp, so
  // split it in two halves to reach the extremes without overflow.
  __m256i n = _mm256_cvttps_epi32(fx);
  __m256i n1 = _mm256_srai_epi32(n, 1);
  __m256i n2 = _mm256_sub_epi32(n, n1);
  const __m256i bias = _mm256_set1_epi32(127);
  __m256 p1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
  __m256 p2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
  y = _mm256_andnot_ps(underflow, _mm256_mul_ps(_mm256_mul_ps(y, p1), p2));
  y = _mm256_blendv_ps(y, _mm256_set1_ps(INFINITY), overflow);
  return _mm256_blendv_ps(y, _mm256_set1_ps(NAN), nan_mask);  // NaN in, NaN out (the clamp lost it)
}

// log(x) = e·ln 2 + log(m), m in [√½, √2), Cephes' polynomial for log(1+f).
inline __m256 log8(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 invalid = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_NGE_UQ);  // x < 0 or NaN
  const __m256 zero = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_EQ_OQ);
  const __m256 inf = _mm256_cmp_ps(x, _mm256_set1_ps(INFINITY), _CMP_EQ_OQ);
  // Denormals: scale up by 2^23 first so the exponent trick sees a normal number.
  const __m256 tiny = _mm256_cmp_ps(x, _mm256_set1_ps(1.17549435e-38f), _CMP_LT_OQ);
  x = _mm256_blendv_ps(x, _mm256_mul_ps(x, _mm256_set1_ps(8388608.0f)), tiny);
  __m256i bits = _mm256_castps_si256(x);
  __m256i exp_bits = _mm256_srli_epi32(bits, 23);
  __m256 e = _mm256_cvtepi32_ps(_mm256_sub_epi32(exp_bits, _mm256_set1_epi32(126)));
  e = _mm256_sub_ps(e, _mm256_and_ps(tiny, _mm256_set1_ps(23.0f)));
  __m256 m = _mm256_castsi256_ps(
      _mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi32(0x007fffff)), _mm256_set1_epi32(0x3f000000)));
  // m in [0.5, 1): move to [√½, √2) by doubling the small ones.
  const __m256 small = _mm256_cmp_ps(m, _mm256_set1_ps(0.707106781186547524f), _CMP_LT_OQ);
  e = _mm256_sub_ps(e, _mm256_and_ps(small, one));
  m = _mm256_add_ps(_mm256_sub_ps(m, one), _mm256_and_ps(small, m));
  const __m256 z = _mm256_mul_ps(m, m);
  __m256 y = _mm256_set1_ps(7.0376836292e-2f);
  y = _mm256_fmadd_ps(y, m, _mm256_set1_ps(-1.1514610310e-1f));
  y = _mm256_fmadd_ps(y, m, _mm256_set1_ps(1.1676998740e-1f));
  y = _mm256_fmadd_ps(y, m, _mm256_set1_ps(-1.2420140846e-1f));
  y = _mm256_fmadd_ps(y, m, _mm256_set1_ps(1.4249322787e-1f));
  y = _mm256_fmadd_ps(y, m, _mm256_set1_ps(-1.6668057665e-1f));
  y = _mm256_fmadd_ps(y, m, _mm256_set1_ps(2.0000714765e-1f));
  y = _mm256_fmadd_ps(y, m, _mm256_set1_ps(-2.4999993993e-1f));
  y = _mm256_fmadd_ps(y, m, _mm256_set1_ps(3.3333331174e-1f));
  y = _mm256_mul_ps(_mm256_mul_ps(y, m), z);
  y = _mm256_fmadd_ps(e, _mm256_set1_ps(-2.12194440e-4f), y);
  y = _mm256_fnmadd_ps(z, _mm256_set1_ps(0.5f), y);
  __m256 r = _mm256_add_ps(m, y);
  r = _mm256_fmadd_ps(e, _mm256_set1_ps(0.693359375f), r);
  r = _mm256_blendv_ps(r, _mm256_set1_ps(-INFINITY), zero);
  r = _mm256_blendv_ps(r, _mm256_set1_ps(INFINITY), inf);
  return _mm256_blendv_ps(r, _mm256_set1_ps(NAN), invalid);
}

// tanh by a 13/6 rational function on [-7.9, 7.9] (beyond, ±1 in float);
// below 4e-4 tanh(x) = x to float precision.
inline __m256 tanh8(__m256 x) {
  const __m256 bound = _mm256_set1_ps(7.90531110763549805f);
  const __m256 tiny = _mm256_cmp_ps(_mm256_andnot_ps(_mm256_set1_ps(-0.0f), x), _mm256_set1_ps(0.0004f), _CMP_LT_OQ);
  const __m256 c = _mm256_min_ps(_mm256_max_ps(x, _mm256_sub_ps(_mm256_setzero_ps(), bound)), bound);
  const __m256 x2 = _mm256_mul_ps(c, c);
  __m256 p = _mm256_set1_ps(-2.76076847742355e-16f);
  p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(2.00018790482477e-13f));
  p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-8.60467152213735e-11f));
  p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(5.12229709037114e-08f));
  p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(1.48572235717979e-05f));
  p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(6.37261928875436e-04f));
  p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(4.89352455891786e-03f));
  p = _mm256_mul_ps(p, c);
  __m256 q = _mm256_set1_ps(1.19825839466702e-06f);
  q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(1.18534705686654e-04f));
  q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(2.26843463243900e-03f));
  q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(4.89352518554385e-03f));
  __m256 y = _mm256_blendv_ps(_mm256_div_ps(p, q), x, tiny);
  // Past |x| = 9, tanh rounds to ±1 in float; the clamped rational stops just short of it.
  const __m256 sign = _mm256_and_ps(x, _mm256_set1_ps(-0.0f));
  const __m256 saturated = _mm256_cmp_ps(_mm256_andnot_ps(_mm256_set1_ps(-0.0f), x), _mm256_set1_ps(9.0f), _CMP_GT_OQ);
  y = _mm256_blendv_ps(y, _mm256_or_ps(sign, _mm256_set1_ps(1.0f)), saturated);
  return _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));  // NaN in, NaN out (the clamp lost it)
}

inline __m256 sigmoid8(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  return _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}

// x where x > 0 or NaN (NaN passes through, as in torch), else +0.
inline __m256 relu8(__m256 x) {
  return _mm256_and_ps(x, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_NLE_UQ));
}

// erfc(z) for z ≥ 0 (NaN passes through) as t·exp(P(t) − z²), t = 1/(1 + z/2):
// the Chebyshev fit of Numerical Recipes' erfcc, relative error below
// 1.2e-7 over the whole range, so its tail keeps full precision.
inline __m256 erfc_nonneg8(__m256 z) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 t = _mm256_div_ps(one, _mm256_fmadd_ps(z, _mm256_set1_ps(0.5f), one));
  __m256 p = _mm256_set1_ps(0.17087277f);
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-0.82215223f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.48851587f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-1.13520398f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.27886807f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-0.18628806f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.09678418f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.37409196f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.00002368f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-1.26551223f));
  return _mm256_mul_ps(t, exp8(_mm256_fnmadd_ps(z, z, p)));
}

// Φ(x), the standard normal CDF, = ½·erfc(−x/√2): taken from erfc directly
// below 0, where 1 + erf(x/√2) would cancel to nothing in the tail.
inline __m256 normal_cdf8(__m256 x) {
  const __m256 z = _mm256_mul_ps(_mm256_andnot_ps(_mm256_set1_ps(-0.0f), x), _mm256_set1_ps(0.70710678118654752f));
  const __m256 half_erfc = _mm256_mul_ps(_mm256_set1_ps(0.5f), erfc_nonneg8(z));
  const __m256 negative = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ);
  return _mm256_blendv_ps(_mm256_sub_ps(_mm256_set1_ps(1.0f), half_erfc), half_erfc, negative);
}

// GELU(x) = x·Φ(x) and its derivative Φ(x) + x·φ(x), φ(x) = exp(−x²/2)/√(2π).
inline __m256 gelu8(__m256 x) { return _mm256_mul_ps(x, normal_cdf8(x)); }
inline __m256 gelu_grad8(__m256 x) {
  const __m256 pdf = _mm256_mul_ps(_mm256_set1_ps(0.398942280401432678f),
                                   exp8(_mm256_mul_ps(_mm256_set1_ps(-0.5f), _mm256_mul_ps(x, x))));
  return _mm256_fmadd_ps(x, pdf, normal_cdf8(x));
}

// The tanh approximation ½·x·(1 + tanh(u)), u = √(2/π)·(x + 0.044715·x³),
// evaluated as x·σ(2u) (the same function): 1 + tanh(u) would cancel for
// x << 0. Its derivative: σ + x·σ·(1 − σ)·2u′.
inline __m256 gelu_tanh_2u8(__m256 x) {
  const __m256 x3 = _mm256_mul_ps(_mm256_mul_ps(x, x), x);
  return _mm256_mul_ps(_mm256_set1_ps(2 * 0.797884560802865356f), _mm256_fmadd_ps(_mm256_set1_ps(0.044715f), x3, x));
}
inline __m256 gelu_tanh8(__m256 x) { return _mm256_mul_ps(x, sigmoid8(gelu_tanh_2u8(x))); }
inline __m256 gelu_tanh_grad8(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 s = sigmoid8(gelu_tanh_2u8(x));
  const __m256 du2 = _mm256_mul_ps(_mm256_set1_ps(2 * 0.797884560802865356f),
                                   _mm256_fmadd_ps(_mm256_set1_ps(3 * 0.044715f), _mm256_mul_ps(x, x), one));
  return _mm256_fmadd_ps(_mm256_mul_ps(_mm256_mul_ps(x, s), _mm256_sub_ps(one, s)), du2, s);
}

template <class F>
void map8(const float* x, float* y, int64_t n, F f) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, f(_mm256_loadu_ps(x + i)));
  if (i < n) {  // the tail through a padded buffer, so lanes never read past x
    alignas(32) float buf[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int64_t j = i; j < n; ++j) buf[j - i] = x[j];
    _mm256_store_ps(buf, f(_mm256_load_ps(buf)));
    for (int64_t j = i; j < n; ++j) y[j] = buf[j - i];
  }
}

// y = f(a, b) with a and/or b a broadcast scalar when its flag is false.
template <bool AContiguous, bool BContiguous, class F>
void zip8(const float* a, const float* b, float* y, int64_t n, F f) {
  const __m256 as = AContiguous ? _mm256_setzero_ps() : _mm256_set1_ps(*a);
  const __m256 bs = BContiguous ? _mm256_setzero_ps() : _mm256_set1_ps(*b);
  auto load_a = [&](int64_t i) { return AContiguous ? _mm256_loadu_ps(a + i) : as; };
  auto load_b = [&](int64_t i) { return BContiguous ? _mm256_loadu_ps(b + i) : bs; };
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 r0 = f(load_a(i), load_b(i)), r1 = f(load_a(i + 8), load_b(i + 8));
    _mm256_storeu_ps(y + i, r0);
    _mm256_storeu_ps(y + i + 8, r1);
  }
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, f(load_a(i), load_b(i)));
  for (; i < n; ++i) {  // scalar tail through lane 0
    const __m256 va = _mm256_set1_ps(AContiguous ? a[i] : *a);
    const __m256 vb = _mm256_set1_ps(BContiguous ? b[i] : *b);
    y[i] = _mm256_cvtss_f32(f(va, vb));
  }
}

template <class F>
void zip8(const float* a, int64_t sa, const float* b, int64_t sb, float* y, int64_t n, F f) {
  if (n <= 0) return;
  if (sa && sb) zip8<true, true>(a, b, y, n, f);
  else if (sa) zip8<true, false>(a, b, y, n, f);
  else if (sb) zip8<false, true>(a, b, y, n, f);
  else zip8<false, false>(a, b, y, n, f);
}

}  // namespace

bool binary_f32_vectorised(BinaryOp op, const float* a, int64_t sa, const float* b, int64_t sb, float* y,
                           int64_t n) {
  switch (op) {
    case BinaryOp::Add: zip8(a, sa, b, sb, y, n, [](__m256 u, __m256 v) { return _mm256_add_ps(u, v); }); return true;
    case BinaryOp::Sub: zip8(a, sa, b, sb, y, n, [](__m256 u, __m256 v) { return _mm256_sub_ps(u, v); }); return true;
    case BinaryOp::Mul: zip8(a, sa, b, sb, y, n, [](__m256 u, __m256 v) { return _mm256_mul_ps(u, v); }); return true;
    case BinaryOp::Div: zip8(a, sa, b, sb, y, n, [](__m256 u, __m256 v) { return _mm256_div_ps(u, v); }); return true;
    default: return false;
  }
}

bool unary_f32_vectorised(UnaryOp op, const float* x, float* y, int64_t n) {
  switch (op) {
    case UnaryOp::Exp: map8(x, y, n, exp8); return true;
    case UnaryOp::Log: map8(x, y, n, log8); return true;
    case UnaryOp::Tanh: map8(x, y, n, tanh8); return true;
    case UnaryOp::Sigmoid: map8(x, y, n, sigmoid8); return true;
    case UnaryOp::Silu: map8(x, y, n, [](__m256 v) { return _mm256_mul_ps(v, sigmoid8(v)); }); return true;
    case UnaryOp::Relu: map8(x, y, n, relu8); return true;
    case UnaryOp::Gelu: map8(x, y, n, gelu8); return true;
    case UnaryOp::GeluTanh: map8(x, y, n, gelu_tanh8); return true;
    default: return false;
  }
}

bool unary_backward_f32_vectorised(UnaryOp op, const float* g, const float* x, const float* y, float* out,
                                   int64_t n) {
  const __m256 one = _mm256_set1_ps(1.0f);
  switch (op) {
    case UnaryOp::Relu:  // g where y > 0 (NaN: 0, as the portable loop)
      zip8(g, 1, y, 1, out, n, [](__m256 u, __m256 v) {
        return _mm256_and_ps(u, _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_GT_OQ));
      });
      return true;
    case UnaryOp::Sigmoid:  // g·y·(1 − y)
      zip8(g, 1, y, 1, out, n,
           [one](__m256 u, __m256 v) { return _mm256_mul_ps(_mm256_mul_ps(u, v), _mm256_sub_ps(one, v)); });
      return true;
    case UnaryOp::Tanh:  // g·(1 − y²)
      zip8(g, 1, y, 1, out, n, [one](__m256 u, __m256 v) { return _mm256_mul_ps(u, _mm256_fnmadd_ps(v, v, one)); });
      return true;
    case UnaryOp::Gelu: zip8(g, 1, x, 1, out, n, [](__m256 u, __m256 v) { return _mm256_mul_ps(u, gelu_grad8(v)); });
      return true;
    case UnaryOp::GeluTanh:
      zip8(g, 1, x, 1, out, n, [](__m256 u, __m256 v) { return _mm256_mul_ps(u, gelu_tanh_grad8(v)); });
      return true;
    default: return false;
  }
}

}  // namespace glassnet
