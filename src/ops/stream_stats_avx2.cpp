// Compiled with -mavx2 -mfma; only reached after cpu_has_avx2_fma() said yes.
// Sums, squares and counts run in float vector lanes and are added into
// double every kFoldVectors vectors, so no float lane ever holds more than
// 128 terms (relative error ~1e-6 at worst, even for long runs of one value). The per-unit
// maximum is a vector max over each row of R values (units side by side when
// R == 1). vmaxps drops NaN; the caller looks again when the sum says NaN.
#include <immintrin.h>

#include <algorithm>

#include "ops/stream_stats.h"

namespace glassnet {

namespace {

inline double hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

constexpr int kFoldVectors = 128;

struct Lanes {
  __m256 sum = _mm256_setzero_ps(), sumsq = _mm256_setzero_ps(), nonpos = _mm256_setzero_ps();
  int vectors = 0;  // added since the last fold

  // True when the lanes are due to be folded into double.
  bool add(__m256 v) {
    sum = _mm256_add_ps(sum, v);
    sumsq = _mm256_fmadd_ps(v, v, sumsq);
    nonpos = _mm256_add_ps(nonpos, _mm256_and_ps(_mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LE_OQ),
                                                 _mm256_set1_ps(1.0f)));
    return ++vectors == kFoldVectors;
  }
  void fold(StreamTotals& t) {
    t.sum += hsum(sum);
    t.sumsq += hsum(sumsq);
    t.nonpos += static_cast<int64_t>(hsum(nonpos));
    *this = Lanes{};
  }
};

}  // namespace

StreamTotals stream_stats_f32_avx2(const float* x, int64_t N, int64_t U, int64_t R, float* unit_max) {
  StreamTotals t;
  Lanes lanes;
  // The rows' tails (R % 8 values each) in double: a few values per row.
  double scalar_sum = 0, scalar_sumsq = 0;
  int64_t scalar_nonpos = 0;
  auto fold = [&] {
    lanes.fold(t);
    t.sum += scalar_sum;
    t.sumsq += scalar_sumsq;
    t.nonpos += scalar_nonpos;
    scalar_sum = scalar_sumsq = 0;
    scalar_nonpos = 0;
  };
  auto scalar = [&](float v) {
    scalar_sum += v;
    scalar_sumsq += double(v) * v;
    scalar_nonpos += v <= 0.0f;
  };
  if (R == 1) {  // (N, U): units side by side, their maxima in vectors
    for (int64_t n = 0; n < N; ++n) {
      const float* row = x + n * U;
      int64_t u = 0;
      for (; u + 8 <= U; u += 8) {
        const __m256 v = _mm256_loadu_ps(row + u);
        if (lanes.add(v)) fold();
        _mm256_storeu_ps(unit_max + u, _mm256_max_ps(v, _mm256_loadu_ps(unit_max + u)));
      }
      for (; u < U; ++u) {
        scalar(row[u]);
        unit_max[u] = std::max(unit_max[u], row[u]);
      }
    }
    fold();
    return t;
  }
  for (int64_t n = 0; n < N; ++n)
    for (int64_t u = 0; u < U; ++u) {
      const float* row = x + (n * U + u) * R;
      __m256 m = _mm256_set1_ps(unit_max[u]);
      int64_t r = 0;
      for (; r + 8 <= R; r += 8) {
        const __m256 v = _mm256_loadu_ps(row + r);
        if (lanes.add(v)) fold();
        m = _mm256_max_ps(v, m);
      }
      float mx = hmax(m);
      for (; r < R; ++r) {
        scalar(row[r]);
        mx = std::max(mx, row[r]);
      }
      unit_max[u] = mx;
    }
  fold();
  return t;
}

}  // namespace glassnet
