// The machine's fp32 FMA peak, measured as KERNELS.md asks: a loop of
// independent 256-bit FMAs on 12 accumulators (more than latency × pipes),
// so the only limit is FMA throughput. Returns flops per call of n iterations.
#include <immintrin.h>

#include <cstdint>

namespace glassnet_bench {

double fma_peak_loop(int64_t n, float seed) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps(seed * float(i + 1));
  const __m256 m = _mm256_set1_ps(0.999f), b = _mm256_set1_ps(1e-6f);
  for (int64_t it = 0; it < n; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) acc[i] = _mm256_fmadd_ps(acc[i], m, b);
  }
  __m256 s = acc[0];
  for (int i = 1; i < 12; ++i) s = _mm256_add_ps(s, acc[i]);
  float out[8];
  _mm256_storeu_ps(out, s);
  // Returned through a volatile sink by the caller; the flops are 12·8·2 per iteration.
  return double(out[0]) * 0 + double(n) * 12 * 8 * 2;
}

}  // namespace glassnet_bench
