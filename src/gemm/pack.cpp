// Packing routines: see pack.h. The common layouts get their own loops
// (unit stride along the copied rows, or along k), so both plain and
// transposed operands copy at close to memory speed.
#include "pack.h"

#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>

#include "kernel.h"

namespace glassnet::gemm::detail {

template <class T, int MR>
void pack_a(int64_t mc, int64_t kc, const T* a, int64_t rsA, int64_t csA, T* ap) {
  int64_t i0 = 0;
  if (rsA == 1) {
    // Column-major A (Aᵀ of a row-major matrix, as in grad_W = gᵀ·x): walk
    // k outermost so each column of the block is read once, sequentially;
    // panel by panel would hit the same L1 set on every k for a 4 KiB lda.
    const int64_t full = mc / MR;
    for (int64_t k = 0; k < kc; ++k) {
      const T* src = a + k * csA;
      for (int64_t p = 0; p < full; ++p) std::memcpy(ap + (p * kc + k) * MR, src + p * MR, MR * sizeof(T));
    }
    i0 = full * MR;
    ap += full * kc * MR;
  }
  for (; i0 < mc; i0 += MR, ap += kc * MR) {
    const int rows = mc - i0 < MR ? static_cast<int>(mc - i0) : MR;
    const T* a0 = a + i0 * rsA;
#ifdef GLASSNET_GEMM_HAVE_AVX2
    if constexpr (std::is_same_v<T, float> && MR == 6) {
      if (rows == MR && csA == 1 && use_avx2()) {
        pack_a6_rowmajor_avx2(kc, a0, rsA, ap);
        continue;
      }
    }
    if constexpr (std::is_same_v<T, float> && MR == 12) {
      if (rows == MR && csA == 1 && use_avx512()) {
        pack_a12_rowmajor_avx512(kc, a0, rsA, ap, i0 + 2 * MR <= mc ? a0 + MR * rsA : nullptr);
        continue;
      }
    }
#endif
    if (rows == MR && csA == 1) {
      // Row-major A: MR rows, each contiguous in k; an MR-way interleave.
      const T* row[MR];
      for (int i = 0; i < MR; ++i) row[i] = a0 + i * rsA;
      for (int64_t k = 0; k < kc; ++k)
        for (int i = 0; i < MR; ++i) ap[k * MR + i] = row[i][k];
    } else {
      for (int64_t k = 0; k < kc; ++k) {
        int i = 0;
        for (; i < rows; ++i) ap[k * MR + i] = a0[i * rsA + k * csA];
        for (; i < MR; ++i) ap[k * MR + i] = T(0);
      }
    }
  }
}

template <class T, int NR>
void pack_b(int64_t kc, int64_t nc, const T* b, int64_t rsB, int64_t csB, T* bp) {
  int64_t j0 = 0;
  if (csB == 1 && nc >= 2 * NR) {
    // Row-major B, several full panels: walk k outermost so each row of the
    // block is read once, front to back, and lands NR values in each panel.
    // Panel by panel would read kc rows one page apart per panel (rows of a
    // wide B are KiBs apart) and come back to the same pages for the next.
    const int64_t full = nc / NR;
    for (int64_t k = 0; k < kc; ++k) {
      const T* src = b + k * rsB;
      for (int64_t q = 0; q < full; ++q) std::memcpy(bp + (q * kc + k) * NR, src + q * NR, NR * sizeof(T));
    }
    j0 = full * NR;
    bp += full * kc * NR;
  }
  for (; j0 < nc; j0 += NR, bp += kc * NR) {
    const int cols = nc - j0 < NR ? static_cast<int>(nc - j0) : NR;
    const T* b0 = b + j0 * csB;
#ifdef GLASSNET_GEMM_HAVE_AVX2
    if constexpr (std::is_same_v<T, float> && NR == 16) {
      if (cols == NR && rsB == 1 && csB != 1 && use_avx2()) {
        pack_b16_colmajor_avx2(kc, b0, csB, bp);
        continue;
      }
    }
    if constexpr (std::is_same_v<T, float> && NR == 32) {
      if (cols == NR && rsB == 1 && csB != 1 && use_avx512()) {
        pack_b32_colmajor_avx512(kc, b0, csB, bp, j0 + 2 * NR <= nc ? b0 + NR * csB : nullptr);
        continue;
      }
    }
#endif
    if (cols == NR && csB == 1) {
      // Row-major B: each k row of the panel is NR contiguous values.
      for (int64_t k = 0; k < kc; ++k) std::memcpy(bp + k * NR, b0 + k * rsB, NR * sizeof(T));
    } else if (cols == NR && rsB == 1) {
      // Bᵀ of a row-major matrix (the A·Bᵀ of linear layers): each column of
      // the panel is contiguous in k; read along k, scatter by NR.
      for (int j = 0; j < NR; ++j) {
        const T* col = b0 + j * csB;
        for (int64_t k = 0; k < kc; ++k) bp[k * NR + j] = col[k];
      }
    } else {
      for (int64_t k = 0; k < kc; ++k) {
        int j = 0;
        for (; j < cols; ++j) bp[k * NR + j] = b0[k * rsB + j * csB];
        for (; j < NR; ++j) bp[k * NR + j] = T(0);
      }
    }
  }
}

PackBuffer::~PackBuffer() { std::free(data_); }

void* PackBuffer::reserve(size_t bytes) {
  if (bytes <= bytes_) return data_;
  std::free(data_);
  // Round up to whole cache lines, plus slack so growth is rare.
  size_t want = ((bytes + bytes / 4) + 63) / 64 * 64;
  data_ = std::aligned_alloc(64, want);
  if (!data_) {
    bytes_ = 0;
    throw std::bad_alloc();
  }
  bytes_ = want;
  return data_;
}

template void pack_a<float, Tile<float>::MR>(int64_t, int64_t, const float*, int64_t, int64_t, float*);
template void pack_a<double, Tile<double>::MR>(int64_t, int64_t, const double*, int64_t, int64_t, double*);
template void pack_a<float, PackedTile512<float>::MR>(int64_t, int64_t, const float*, int64_t, int64_t, float*);
template void pack_a<double, PackedTile512<double>::MR>(int64_t, int64_t, const double*, int64_t, int64_t, double*);
template void pack_b<float, Tile<float>::NR>(int64_t, int64_t, const float*, int64_t, int64_t, float*);
template void pack_b<double, Tile<double>::NR>(int64_t, int64_t, const double*, int64_t, int64_t, double*);
template void pack_b<float, SupTile<float>::NR>(int64_t, int64_t, const float*, int64_t, int64_t, float*);
template void pack_b<double, SupTile<double>::NR>(int64_t, int64_t, const double*, int64_t, int64_t, double*);

}  // namespace glassnet::gemm::detail
