// Compiled with -mavx2 -mfma; only reached after cpu_has_avx2_fma() said yes.
// Sums, squares and counts run in float vector lanes and are added into
// double every kFoldVectors vectors, so no float lane ever holds more than
// 128 terms (relative error ~1e-6 at worst, even for long runs of one value).
// The per-unit maximum is a vector max over each row of R values (units side
// by side when R == 1). vmaxps drops NaN; the caller looks again when the sum
// says NaN.
#include <immintrin.h>

#include <algorithm>
#include <limits>
#include <vector>

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

// Sum, sum of squares and count of values <= 0 over n contiguous floats.
// The units don't matter to these, so the whole tensor is one stream, read
// 32 values at a time into four sets of lanes: one set alone waits on its
// own adds (~3 cycles each), which made small maps (2×2: R = 4, no full
// vector per row) and every other size latency-bound.
StreamTotals flat_totals(const float* x, int64_t n) {
  StreamTotals t;
  Lanes lanes[4];
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    bool due = false;
    for (int k = 0; k < 4; ++k) due |= lanes[k].add(_mm256_loadu_ps(x + i + 8 * k));
    if (due)  // all four reach kFoldVectors together
      for (Lanes& l : lanes) l.fold(t);
  }
  for (; i + 8 <= n; i += 8)
    if (lanes[0].add(_mm256_loadu_ps(x + i))) lanes[0].fold(t);
  for (Lanes& l : lanes) l.fold(t);
  for (; i < n; ++i) {
    t.sum += x[i];
    t.sumsq += double(x[i]) * x[i];
    t.nonpos += x[i] <= 0.0f;
  }
  return t;
}

// unit_max[u] = max(unit_max[u], every value of unit u) over (N, U, R) data.
void unit_maxima(const float* x, int64_t N, int64_t U, int64_t R, float* unit_max) {
  if (R == 1) {  // (N, U): units side by side, their maxima in vectors
    for (int64_t n = 0; n < N; ++n) {
      const float* row = x + n * U;
      int64_t u = 0;
      for (; u + 8 <= U; u += 8)
        _mm256_storeu_ps(unit_max + u, _mm256_max_ps(_mm256_loadu_ps(row + u), _mm256_loadu_ps(unit_max + u)));
      for (; u < U; ++u) unit_max[u] = std::max(unit_max[u], row[u]);
    }
    return;
  }
  if (R < 8) {  // small maps (2×2): a vector's set-up and horizontal max would cost more than the row
    for (int64_t n = 0; n < N; ++n)
      for (int64_t u = 0; u < U; ++u) {
        const float* row = x + (n * U + u) * R;
        float mx = unit_max[u];
        for (int64_t r = 0; r < R; ++r) mx = std::max(mx, row[r]);
        unit_max[u] = mx;
      }
    return;
  }
  // Each unit's maximum stays a vector of 8 partial maxima until the end: a
  // horizontal max per row cost more than the row itself (R = 64: 8 vectors).
  std::vector<float> partial(static_cast<size_t>(U) * 8, -std::numeric_limits<float>::infinity());
  for (int64_t n = 0; n < N; ++n)
    for (int64_t u = 0; u < U; ++u) {
      const float* row = x + (n * U + u) * R;
      __m256 m = _mm256_loadu_ps(&partial[u * 8]);
      int64_t r = 0;
      for (; r + 8 <= R; r += 8) m = _mm256_max_ps(_mm256_loadu_ps(row + r), m);
      _mm256_storeu_ps(&partial[u * 8], m);
      float mx = unit_max[u];
      for (; r < R; ++r) mx = std::max(mx, row[r]);
      unit_max[u] = mx;
    }
  for (int64_t u = 0; u < U; ++u) unit_max[u] = std::max(unit_max[u], hmax(_mm256_loadu_ps(&partial[u * 8])));
}

}  // namespace

// Two reads of the tensor (the second usually from cache) rather than one
// that interleaves sums and maxima: each loop then stays simple enough to
// run at full width.
StreamTotals stream_stats_f32_avx2(const float* x, int64_t N, int64_t U, int64_t R, float* unit_max) {
  unit_maxima(x, N, U, R, unit_max);
  return flat_totals(x, N * U * R);
}

}  // namespace glassnet
