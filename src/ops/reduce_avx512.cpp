// AVX-512 float32 max/min of a contiguous row (see reduce_avx512.h).
//
// The AVX2 version keeps NaN sticky with compare + blend per vector, a
// 4-op chain. Here the extreme is a plain vmaxps/vminps (1 op, no blend) and
// NaN is tracked apart: one unordered compare per pair of vectors into a
// mask register, OR-ed into a running mask. So the loop is bound by loads
// (a 4 MiB row streams from L3 at numpy's speed) instead of by the chain.
// Compiled with the AVX-512 flags only in this file.
#include "ops/reduce_avx512.h"

#include <immintrin.h>

#include <cmath>
#include <limits>

namespace glassnet::reduce_detail {
namespace {

template <bool kMax>
inline __m512 extreme(__m512 a, __m512 b) {
  return kMax ? _mm512_max_ps(a, b) : _mm512_min_ps(a, b);
}

template <bool kMax>
float row_extreme(const float* x, int64_t n) {
  const float init = kMax ? -INFINITY : INFINITY;
  __m512 acc[4];
  for (auto& a : acc) a = _mm512_set1_ps(init);
  __mmask16 nan = 0;
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    const __m512 v0 = _mm512_loadu_ps(x + i), v1 = _mm512_loadu_ps(x + i + 16);
    const __m512 v2 = _mm512_loadu_ps(x + i + 32), v3 = _mm512_loadu_ps(x + i + 48);
    // unord(a, b) is true where a or b is NaN: two vectors per compare.
    nan |= _mm512_cmp_ps_mask(v0, v1, _CMP_UNORD_Q) | _mm512_cmp_ps_mask(v2, v3, _CMP_UNORD_Q);
    acc[0] = extreme<kMax>(acc[0], v0);
    acc[1] = extreme<kMax>(acc[1], v1);
    acc[2] = extreme<kMax>(acc[2], v2);
    acc[3] = extreme<kMax>(acc[3], v3);
  }
  for (; i + 16 <= n; i += 16) {
    const __m512 v = _mm512_loadu_ps(x + i);
    nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    acc[0] = extreme<kMax>(acc[0], v);
  }
  if (i < n) {  // the tail, masked: lanes past n load the identity
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m512 v = _mm512_mask_loadu_ps(_mm512_set1_ps(init), m, x + i);
    nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    acc[0] = extreme<kMax>(acc[0], v);
  }
  if (nan) return std::numeric_limits<float>::quiet_NaN();
  const __m512 a = extreme<kMax>(extreme<kMax>(acc[0], acc[1]), extreme<kMax>(acc[2], acc[3]));
  return kMax ? _mm512_reduce_max_ps(a) : _mm512_reduce_min_ps(a);
}

}  // namespace

float row_max_f32_avx512(const float* x, int64_t n) { return row_extreme<true>(x, n); }
float row_min_f32_avx512(const float* x, int64_t n) { return row_extreme<false>(x, n); }

}  // namespace glassnet::reduce_detail
