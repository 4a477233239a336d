// Compiled with -mavx512f/dq/bw/vl (see CMakeLists.txt); only reached after
// cpu_has_avx512() said yes. The same algorithms and constants as
// vecmath_avx2.cpp, sixteen lanes wide, so both paths give the same bits on
// the same input. AVX-512 buys more than width: compares write mask
// registers (no blend chains), the tail is one masked load/store, and
// scalef does exp's 2^n scaling with a single rounding into the denormals,
// which the AVX2 version needs two multiplies and four integer ops for.
// The memory-bound binary ops stay on the AVX2 kernels: on Zen 4, 512-bit
// stores bring no extra bandwidth and measured a little slower.
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's own AVX-512 headers trip this on _mm512_undefined_ps (GCC bug 105593).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cmath>

#include "ops/vecmath.h"

namespace glassnet {

namespace {

// exp(x) = 2^n · exp(r), n = floor(x·log2 e + ½), r = x − n·ln 2 (ln 2 split in
// two parts so the reduction is exact), exp(r) by Cephes' polynomial.
inline __m512 exp16(__m512 x) {
  // Above hi the answer overflows (scalef gives inf from the clamped value);
  // below lo it is 0; between lo and -87.3 it is a denormal.
  const __m512 hi = _mm512_set1_ps(88.72283935546875f), lo = _mm512_set1_ps(-103.9720840454f);
  const __mmask16 nan_mask = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
  const __mmask16 keep = _mm512_cmp_ps_mask(x, lo, _CMP_NLT_UQ);  // not underflowed (NaN kept, fixed below)
  __m512 c = _mm512_min_ps(_mm512_max_ps(x, lo), hi);
  __m512 fx = _mm512_fmadd_ps(c, _mm512_set1_ps(1.44269504088896341f), _mm512_set1_ps(0.5f));
  fx = _mm512_roundscale_ps(fx, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  c = _mm512_fnmadd_ps(fx, _mm512_set1_ps(0.693359375f), c);
  c = _mm512_fnmadd_ps(fx, _mm512_set1_ps(-2.12194440e-4f), c);
  __m512 y = _mm512_set1_ps(1.9875691500e-4f);
  y = _mm512_fmadd_ps(y, c, _mm512_set1_ps(1.3981999507e-3f));
  y = _mm512_fmadd_ps(y, c, _mm512_set1_ps(8.3334519073e-3f));
  y = _mm512_fmadd_ps(y, c, _mm512_set1_ps(4.1665795894e-2f));
  y = _mm512_fmadd_ps(y, c, _mm512_set1_ps(1.6666665459e-1f));
  y = _mm512_fmadd_ps(y, c, _mm512_set1_ps(5.0000001201e-1f));
  y = _mm512_fmadd_ps(y, _mm512_mul_ps(c, c), _mm512_add_ps(c, _mm512_set1_ps(1.0f)));
  y = _mm512_maskz_scalef_ps(keep, y, fx);
  return _mm512_mask_mov_ps(y, nan_mask, x);  // NaN in, NaN out (the clamp lost it)
}

// log(x) = e·ln 2 + log(m), m in [√½, √2), Cephes' polynomial for log(1+f).
inline __m512 log16(__m512 x) {
  const __m512 one = _mm512_set1_ps(1.0f);
  const __mmask16 invalid = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_NGE_UQ);  // x < 0 or NaN
  const __mmask16 zero = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_EQ_OQ);
  const __mmask16 inf = _mm512_cmp_ps_mask(x, _mm512_set1_ps(INFINITY), _CMP_EQ_OQ);
  // Denormals: scale up by 2^23 first so the exponent trick sees a normal number.
  const __mmask16 tiny = _mm512_cmp_ps_mask(x, _mm512_set1_ps(1.17549435e-38f), _CMP_LT_OQ);
  x = _mm512_mask_mul_ps(x, tiny, x, _mm512_set1_ps(8388608.0f));
  const __m512i bits = _mm512_castps_si512(x);
  __m512 e = _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_srli_epi32(bits, 23), _mm512_set1_epi32(126)));
  e = _mm512_mask_sub_ps(e, tiny, e, _mm512_set1_ps(23.0f));
  __m512 m = _mm512_castsi512_ps(_mm512_or_si512(_mm512_and_si512(bits, _mm512_set1_epi32(0x007fffff)),
                                                 _mm512_set1_epi32(0x3f000000)));
  // m in [0.5, 1): move to [√½, √2) by doubling the small ones.
  const __mmask16 small = _mm512_cmp_ps_mask(m, _mm512_set1_ps(0.707106781186547524f), _CMP_LT_OQ);
  e = _mm512_mask_sub_ps(e, small, e, one);
  m = _mm512_mask_add_ps(_mm512_sub_ps(m, one), small, _mm512_sub_ps(m, one), m);
  const __m512 z = _mm512_mul_ps(m, m);
  __m512 y = _mm512_set1_ps(7.0376836292e-2f);
  y = _mm512_fmadd_ps(y, m, _mm512_set1_ps(-1.1514610310e-1f));
  y = _mm512_fmadd_ps(y, m, _mm512_set1_ps(1.1676998740e-1f));
  y = _mm512_fmadd_ps(y, m, _mm512_set1_ps(-1.2420140846e-1f));
  y = _mm512_fmadd_ps(y, m, _mm512_set1_ps(1.4249322787e-1f));
  y = _mm512_fmadd_ps(y, m, _mm512_set1_ps(-1.6668057665e-1f));
  y = _mm512_fmadd_ps(y, m, _mm512_set1_ps(2.0000714765e-1f));
  y = _mm512_fmadd_ps(y, m, _mm512_set1_ps(-2.4999993993e-1f));
  y = _mm512_fmadd_ps(y, m, _mm512_set1_ps(3.3333331174e-1f));
  y = _mm512_mul_ps(_mm512_mul_ps(y, m), z);
  y = _mm512_fmadd_ps(e, _mm512_set1_ps(-2.12194440e-4f), y);
  y = _mm512_fnmadd_ps(z, _mm512_set1_ps(0.5f), y);
  __m512 r = _mm512_add_ps(m, y);
  r = _mm512_fmadd_ps(e, _mm512_set1_ps(0.693359375f), r);
  r = _mm512_mask_mov_ps(r, zero, _mm512_set1_ps(-INFINITY));
  r = _mm512_mask_mov_ps(r, inf, _mm512_set1_ps(INFINITY));
  return _mm512_mask_mov_ps(r, invalid, _mm512_set1_ps(NAN));
}

// tanh by a 13/6 rational function on [-7.9, 7.9]; below 4e-4 tanh(x) = x to
// float precision, past |x| = 9 it rounds to ±1.
inline __m512 tanh16(__m512 x) {
  const __m512 bound = _mm512_set1_ps(7.90531110763549805f);
  const __m512 ax = _mm512_abs_ps(x);
  const __mmask16 tiny = _mm512_cmp_ps_mask(ax, _mm512_set1_ps(0.0004f), _CMP_LT_OQ);
  const __mmask16 saturated = _mm512_cmp_ps_mask(ax, _mm512_set1_ps(9.0f), _CMP_GT_OQ);
  const __m512 c = _mm512_min_ps(_mm512_max_ps(x, _mm512_sub_ps(_mm512_setzero_ps(), bound)), bound);
  const __m512 x2 = _mm512_mul_ps(c, c);
  __m512 p = _mm512_set1_ps(-2.76076847742355e-16f);
  p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(2.00018790482477e-13f));
  p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(-8.60467152213735e-11f));
  p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(5.12229709037114e-08f));
  p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(1.48572235717979e-05f));
  p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(6.37261928875436e-04f));
  p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(4.89352455891786e-03f));
  p = _mm512_mul_ps(p, c);
  __m512 q = _mm512_set1_ps(1.19825839466702e-06f);
  q = _mm512_fmadd_ps(q, x2, _mm512_set1_ps(1.18534705686654e-04f));
  q = _mm512_fmadd_ps(q, x2, _mm512_set1_ps(2.26843463243900e-03f));
  q = _mm512_fmadd_ps(q, x2, _mm512_set1_ps(4.89352518554385e-03f));
  __m512 y = _mm512_div_ps(p, q);
  // ±1 with x's sign bit where saturated; x itself where tiny or NaN.
  const __m512 sign = _mm512_and_ps(x, _mm512_set1_ps(-0.0f));
  y = _mm512_mask_mov_ps(y, saturated, _mm512_or_ps(sign, _mm512_set1_ps(1.0f)));
  return _mm512_mask_mov_ps(y, tiny | _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), x);
}

inline __m512 sigmoid16(__m512 x) {
  const __m512 one = _mm512_set1_ps(1.0f);
  return _mm512_div_ps(one, _mm512_add_ps(one, exp16(_mm512_sub_ps(_mm512_setzero_ps(), x))));
}

inline __m512 silu16(__m512 x) { return _mm512_mul_ps(x, sigmoid16(x)); }

// x where x > 0 or NaN (NaN passes through, as in torch), else +0.
inline __m512 relu16(__m512 x) {
  return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_NLE_UQ), x);
}

// erfc for z ≥ 0, Φ, GELU and its tanh form: vecmath_avx2.cpp says why.
inline __m512 erfc_nonneg16(__m512 z) {
  const __m512 one = _mm512_set1_ps(1.0f);
  const __m512 t = _mm512_div_ps(one, _mm512_fmadd_ps(z, _mm512_set1_ps(0.5f), one));
  __m512 p = _mm512_set1_ps(0.17087277f);
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-0.82215223f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.48851587f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-1.13520398f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.27886807f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-0.18628806f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.09678418f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.37409196f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.00002368f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-1.26551223f));
  return _mm512_mul_ps(t, exp16(_mm512_fnmadd_ps(z, z, p)));
}

inline __m512 gelu16(__m512 x) {
  const __m512 z = _mm512_mul_ps(_mm512_abs_ps(x), _mm512_set1_ps(0.70710678118654752f));
  const __m512 half_erfc = _mm512_mul_ps(_mm512_set1_ps(0.5f), erfc_nonneg16(z));
  const __mmask16 negative = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ);
  const __m512 cdf = _mm512_mask_mov_ps(_mm512_sub_ps(_mm512_set1_ps(1.0f), half_erfc), negative, half_erfc);
  return _mm512_mul_ps(x, cdf);
}

inline __m512 gelu_tanh16(__m512 x) {
  const __m512 x3 = _mm512_mul_ps(_mm512_mul_ps(x, x), x);
  const __m512 u2 =
      _mm512_mul_ps(_mm512_set1_ps(2 * 0.797884560802865356f), _mm512_fmadd_ps(_mm512_set1_ps(0.044715f), x3, x));
  return _mm512_mul_ps(x, sigmoid16(u2));
}

// Two vectors per step so the long dependency chains of neighbouring
// elements overlap; the tail is one masked step.
template <class F>
void map16(const float* x, float* y, int64_t n, F f) {
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m512 a = _mm512_loadu_ps(x + i), b = _mm512_loadu_ps(x + i + 16);
    _mm512_storeu_ps(y + i, f(a));
    _mm512_storeu_ps(y + i + 16, f(b));
  }
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, f(_mm512_loadu_ps(x + i)));
  if (i < n) {  // masked lanes neither read past x nor write past y
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1u);
    _mm512_mask_storeu_ps(y + i, m, f(_mm512_maskz_loadu_ps(m, x + i)));
  }
}

}  // namespace

bool unary_f32_vectorised_avx512(UnaryOp op, const float* x, float* y, int64_t n) {
  switch (op) {
    case UnaryOp::Exp: map16(x, y, n, exp16); return true;
    case UnaryOp::Log: map16(x, y, n, log16); return true;
    case UnaryOp::Tanh: map16(x, y, n, tanh16); return true;
    case UnaryOp::Sigmoid: map16(x, y, n, sigmoid16); return true;
    case UnaryOp::Silu: map16(x, y, n, silu16); return true;
    case UnaryOp::Relu: map16(x, y, n, relu16); return true;
    case UnaryOp::Gelu: map16(x, y, n, gelu16); return true;
    case UnaryOp::GeluTanh: map16(x, y, n, gelu_tanh16); return true;
    default: return false;
  }
}

}  // namespace glassnet
