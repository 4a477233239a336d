// Hand-vectorised float32 max/min for reduce_kernels.h: compilers leave a
// NaN-propagating select loop scalar, and max is one of the reductions
// training runs on every step (softmax, argmax, amax). Compiled with -mavx2;
// called only after cpu_has_avx2_fma() said yes.
#include <immintrin.h>

#include <cmath>

#include "cpu.h"
#include "ops/reduce_avx512.h"
#include "ops/reduce_kernels.h"

namespace glassnet::reduce_detail {

namespace {

// acc' = v where v beats acc or v is NaN, else acc: NaN, once in, stays.
template <bool kMax>
inline __m256 take_extreme(__m256 acc, __m256 v) {
  const __m256 beats = kMax ? _mm256_cmp_ps(v, acc, _CMP_GT_OQ) : _mm256_cmp_ps(v, acc, _CMP_LT_OQ);
  return _mm256_blendv_ps(acc, v, _mm256_or_ps(beats, _mm256_cmp_ps(v, v, _CMP_UNORD_Q)));
}

template <bool kMax>
float row_extreme(const float* x, int64_t n, float init) {
  // Eight independent accumulators: compare + blend is a ~4-cycle chain, so
  // fewer would leave the loads waiting on it.
  __m256 acc[8];
  for (auto& a : acc) a = _mm256_set1_ps(init);
  int64_t i = 0;
  for (; i + 64 <= n; i += 64)
    for (int j = 0; j < 8; ++j) acc[j] = take_extreme<kMax>(acc[j], _mm256_loadu_ps(x + i + 8 * j));
  for (; i + 8 <= n; i += 8) acc[0] = take_extreme<kMax>(acc[0], _mm256_loadu_ps(x + i));
  for (int j = 1; j < 8; ++j) acc[0] = take_extreme<kMax>(acc[0], acc[j]);
  __m256 a0 = acc[0];
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, a0);
  float best = init;
  auto merge = [&best](float v) {
    if ((kMax ? v > best : v < best) || v != v) best = v;
  };
  for (float v : lanes) merge(v);
  for (; i < n; ++i) merge(x[i]);
  return best;
}

template <bool kMax>
void cols_extreme(float* acc, const float* row, int64_t w) {
  int64_t i = 0;
  for (; i + 8 <= w; i += 8)
    _mm256_storeu_ps(acc + i, take_extreme<kMax>(_mm256_loadu_ps(acc + i), _mm256_loadu_ps(row + i)));
  for (; i < w; ++i)
    if ((kMax ? row[i] > acc[i] : row[i] < acc[i]) || row[i] != row[i]) acc[i] = row[i];
}

}  // namespace

// On AVX-512 CPUs the row kernels of reduce_avx512.cpp (no blend chain).
float row_max_f32_avx2(const float* x, int64_t n) {
  if (cpu_has_avx512()) return row_max_f32_avx512(x, n);
  return row_extreme<true>(x, n, -INFINITY);
}
float row_min_f32_avx2(const float* x, int64_t n) {
  if (cpu_has_avx512()) return row_min_f32_avx512(x, n);
  return row_extreme<false>(x, n, INFINITY);
}
void cols_max_f32_avx2(float* acc, const float* row, int64_t w) { cols_extreme<true>(acc, row, w); }
void cols_min_f32_avx2(float* acc, const float* row, int64_t w) { cols_extreme<false>(acc, row, w); }

}  // namespace glassnet::reduce_detail
