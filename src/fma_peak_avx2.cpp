// The CPU's fp32 FMA peak, measured the way KERNELS.md asks: independent
// 256-bit FMAs on 12 accumulators (more than latency × pipes), so nothing but
// FMA throughput limits the loop. GEMM and convolution report their GFLOP/s
// as a fraction of this. Compiled with -mavx2 -mfma; called only after
// cpu_has_avx2_fma() said yes.
#include <immintrin.h>

#include <cstdint>

#include "cpu.h"

namespace glassnet {

double fma_peak_loop(int64_t iterations) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps(0.001f * float(i + 1));
  const __m256 m = _mm256_set1_ps(0.999f), b = _mm256_set1_ps(1e-6f);
  for (int64_t it = 0; it < iterations; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) acc[i] = _mm256_fmadd_ps(acc[i], m, b);
  }
  __m256 s = acc[0];
  for (int i = 1; i < 12; ++i) s = _mm256_add_ps(s, acc[i]);
  alignas(32) float out[8];
  _mm256_store_ps(out, s);
  // The sum keeps the loop alive; it is tiny and finite, so the product is 0.
  return double(out[0]) * 0.0 + double(iterations) * 12 * 8 * 2;
}

}  // namespace glassnet
