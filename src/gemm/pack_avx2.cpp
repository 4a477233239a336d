// AVX2 packing for the float32 6×16 tile: the two layouts that need a
// transpose, done 8×8 at a time in registers instead of element by element.
//   - A row-major (csA = 1): 6 rows contiguous in k → k-major 6-wide panel.
//   - B "transposed" (rsB = 1, e.g. the Wᵀ of a linear layer): 16 columns
//     contiguous in k → k-major 16-wide panel.
// Only called after CPUID said AVX2 (pack.cpp); full panels only, the
// scalar code in pack.cpp does the edges.
#include <immintrin.h>

#include <cstdint>

#include "gemm/transpose8x8_avx2.h"

namespace glassnet::gemm::detail {

// ap[k·6 + i] = a[i·rsA + k] for i < 6, k < kc. Each k row is written with an
// 8-wide store whose last two lanes the next row overwrites; the caller's
// buffer has room for the two past the panel's end.
void pack_a6_rowmajor_avx2(int64_t kc, const float* a, int64_t rsA, float* ap) {
  int64_t k = 0;
  for (; k + 8 <= kc; k += 8) {
    __m256 r[8];
    for (int i = 0; i < 6; ++i) r[i] = _mm256_loadu_ps(a + i * rsA + k);
    r[6] = r[7] = _mm256_setzero_ps();
    transpose8x8(r);
    for (int j = 0; j < 8; ++j) _mm256_storeu_ps(ap + (k + j) * 6, r[j]);
  }
  for (; k < kc; ++k)
    for (int i = 0; i < 6; ++i) ap[k * 6 + i] = a[i * rsA + k];
}

// bp[k·16 + j] = b[j·csB + k] for j < 16, k < kc.
void pack_b16_colmajor_avx2(int64_t kc, const float* b, int64_t csB, float* bp) {
  int64_t k = 0;
  for (; k + 8 <= kc; k += 8) {
    for (int h = 0; h < 2; ++h) {
      __m256 r[8];
      for (int j = 0; j < 8; ++j) r[j] = _mm256_loadu_ps(b + (h * 8 + j) * csB + k);
      transpose8x8(r);
      for (int j = 0; j < 8; ++j) _mm256_storeu_ps(bp + (k + j) * 16 + h * 8, r[j]);
    }
  }
  for (; k < kc; ++k)
    for (int j = 0; j < 16; ++j) bp[k * 16 + j] = b[j * csB + k];
}

}  // namespace glassnet::gemm::detail
