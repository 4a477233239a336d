// AVX2 packing for the float32 6×16 tile: the two layouts that need a
// transpose, done 8×8 at a time in registers instead of element by element.
//   - A row-major (csA = 1): 6 rows contiguous in k → k-major 6-wide panel.
//   - B "transposed" (rsB = 1, e.g. the Wᵀ of a linear layer): 16 columns
//     contiguous in k → k-major 16-wide panel.
// Only called after CPUID said AVX2 (pack.cpp); full panels only, the
// scalar code in pack.cpp does the edges.
#include <immintrin.h>

#include <cstdint>

namespace glassnet::gemm::detail {
namespace {

// In-register transpose of r[0..7] (rows) into columns.
inline void transpose8x8(__m256 r[8]) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
  r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
  r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
  r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
  r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
  r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
  r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
  r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

}  // namespace

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
