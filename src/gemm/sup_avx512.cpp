// AVX-512 kernels of the unpacked small-problem path (the "sup" kernels of
// BLIS kernels/zen4/3/sup, in spirit): A is read in place through its
// strides, B in place when its rows are unit-stride, C written with masked
// stores. Compiled with -mavx512f/dq/bw/vl only in this file and called only
// after cpu_has_avx512() said yes (gemm.cpp).
//
// Why a second kernel next to the 6×16 AVX2 one: Zen 4 executes a 512-bit
// FMA as two 256-bit halves, so the peak is the same, but one instruction
// does twice the work and 32 registers hold an 8×32 tile (16 accumulators),
// and masks make narrow N (the N = 10 of a classifier layer) and short rows
// cost no padding, no packing and no scalar tail.
//
// Only intrinsics, this file's own templates and the vector traits of
// vec_avx512.h (a private copy per file) live here, nothing shared with
// other translation units (an inline function instantiated here would carry
// AVX-512 code into callers on CPUs without it).
#include <immintrin.h>

#include <cstdint>

// GCC 12 reports the undefined pass-through operand inside its own
// _mm512_max_ps as "may be used uninitialized": a false positive.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "gemm/transpose8x8_avx2.h"
#include "gemm/vec_avx512.h"
#include "kernel.h"

namespace glassnet::gemm::detail {
namespace {

// One tile of exactly MR rows and NV vectors (n ≤ NV·W columns, the last
// vector masked to what is left unless Full says n == NV·W) into rows of C
// with unit column stride. m is a template parameter so edge rows cost
// nothing: the dispatcher below picks the instance.
template <class Vt, int MR, int NV, bool Full>
__attribute__((noinline)) void tile(int64_t k, const typename Vt::T* a, int64_t rsA, int64_t csA,
                                    const typename Vt::T* b, int64_t rsB, typename Vt::T alpha,
                                    typename Vt::T beta, typename Vt::T* c, int64_t rsC, int n,
                                    const TileEpilogue<typename Vt::T>* ep) {
  using T = typename Vt::T;
  using V = typename Vt::V;
  constexpr int W = Vt::W;
  const typename Vt::Mask last = Vt::mask(n - (NV - 1) * W);
  V acc[MR][NV];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) acc[i][v] = Vt::zero();

  const T* row[MR];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) row[i] = a + i * rsA;
  int64_t off = 0;
#pragma GCC unroll 4
  for (int64_t p = 0; p < k; ++p) {
    V bv[NV];
#pragma GCC unroll 2
    for (int v = 0; v + 1 < NV; ++v) bv[v] = Vt::load(b + v * W);
    bv[NV - 1] = Full ? Vt::load(b + (NV - 1) * W) : Vt::load(last, b + (NV - 1) * W);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const V ai = Vt::set1(row[i][off]);
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) acc[i][v] = Vt::fma(ai, bv[v], acc[i][v]);
    }
    off += csA;
    b += rsB;
  }

  const T* bias = ep ? ep->bias : nullptr;
  const bool per_row = ep && ep->per_row, relu = ep && ep->relu;
  // Each step of the epilogue is one branch around an unrolled block, not a
  // test per accumulator: with K = 64 a tile is ~1000 cycles of FMAs, and 16
  // accumulators × five tests each cost several percent of that.
  if (alpha != T(1)) {
    const V valpha = Vt::set1(alpha);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) acc[i][v] = Vt::mul(valpha, acc[i][v]);
  }
  if (beta != T(0)) {
    const V vbeta = Vt::set1(beta);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) {
        const T* cv = c + i * rsC + v * W;
        const V old = Full || v + 1 < NV ? Vt::load(cv) : Vt::load(last, cv);
        acc[i][v] = Vt::fma(vbeta, old, acc[i][v]);
      }
  }
  if (bias && per_row) {
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const V bi = Vt::set1(bias[i]);
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) acc[i][v] = Vt::add(acc[i][v], bi);
    }
  } else if (bias) {
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) {
      const V bv = Full || v + 1 < NV ? Vt::load(bias + v * W) : Vt::load(last, bias + v * W);
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i) acc[i][v] = Vt::add(acc[i][v], bv);
    }
  }
  if (relu) {
    // max(0, NaN) is NaN: NaN propagates, as torch.relu.
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) acc[i][v] = Vt::max(Vt::zero(), acc[i][v]);
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) {
      T* cv = c + i * rsC + v * W;
      if (Full || v + 1 < NV) Vt::store(cv, acc[i][v]);
      else Vt::store(last, cv, acc[i][v]);
    }
}

template <class Vt, int NV, bool Full>
void tile_m(int m, int64_t k, const typename Vt::T* a, int64_t rsA, int64_t csA,
            const typename Vt::T* b, int64_t rsB, typename Vt::T alpha, typename Vt::T beta,
            typename Vt::T* c, int64_t rsC, int n, const TileEpilogue<typename Vt::T>* ep) {
  switch (m) {
    case 8: return tile<Vt, 8, NV, Full>(k, a, rsA, csA, b, rsB, alpha, beta, c, rsC, n, ep);
    case 7: return tile<Vt, 7, NV, Full>(k, a, rsA, csA, b, rsB, alpha, beta, c, rsC, n, ep);
    case 6: return tile<Vt, 6, NV, Full>(k, a, rsA, csA, b, rsB, alpha, beta, c, rsC, n, ep);
    case 5: return tile<Vt, 5, NV, Full>(k, a, rsA, csA, b, rsB, alpha, beta, c, rsC, n, ep);
    case 4: return tile<Vt, 4, NV, Full>(k, a, rsA, csA, b, rsB, alpha, beta, c, rsC, n, ep);
    case 3: return tile<Vt, 3, NV, Full>(k, a, rsA, csA, b, rsB, alpha, beta, c, rsC, n, ep);
    case 2: return tile<Vt, 2, NV, Full>(k, a, rsA, csA, b, rsB, alpha, beta, c, rsC, n, ep);
    default: return tile<Vt, 1, NV, Full>(k, a, rsA, csA, b, rsB, alpha, beta, c, rsC, n, ep);
  }
}

template <class Vt>
void tile_mn(int64_t k, const typename Vt::T* a, int64_t rsA, int64_t csA,
             const typename Vt::T* b, int64_t rsB, typename Vt::T alpha, typename Vt::T beta,
             typename Vt::T* c, int64_t rsC, int m, int n, const TileEpilogue<typename Vt::T>* ep) {
  // A tile no wider than one vector (N = 10) runs at half the FMAs.
  // A full-width tile (the usual case) uses no masked loads or stores.
  if (n == 2 * Vt::W) tile_m<Vt, 2, true>(m, k, a, rsA, csA, b, rsB, alpha, beta, c, rsC, n, ep);
  else if (n <= Vt::W) tile_m<Vt, 1, false>(m, k, a, rsA, csA, b, rsB, alpha, beta, c, rsC, n, ep);
  else tile_m<Vt, 2, false>(m, k, a, rsA, csA, b, rsB, alpha, beta, c, rsC, n, ep);
}

// A C with general strides (rare: the driver transposes column-major C
// away) goes through a contiguous copy of its tile, so the tile kernels
// keep only unit-stride stores and no spill buffer in their frames.
template <class Vt>
__attribute__((noinline)) void tile_strided_c(int64_t k, const typename Vt::T* a, int64_t rsA,
                                              int64_t csA, const typename Vt::T* b, int64_t rsB,
                                              typename Vt::T alpha, typename Vt::T beta,
                                              typename Vt::T* c, int64_t rsC, int64_t csC, int m,
                                              int n, const TileEpilogue<typename Vt::T>* ep) {
  using T = typename Vt::T;
  constexpr int MR = SupTile<T>::MR, NR = SupTile<T>::NR;
  alignas(64) T buf[MR * NR];
  if (beta != T(0))
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < n; ++j) buf[i * NR + j] = c[i * rsC + j * csC];
  tile_mn<Vt>(k, a, rsA, csA, b, rsB, alpha, beta, buf, NR, m, n, ep);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) c[i * rsC + j * csC] = buf[i * NR + j];
}

// m rows of one column panel, in tiles of MR rows.
template <class Vt>
void sup_rows(int64_t k, const typename Vt::T* a, int64_t rsA, int64_t csA,
              const typename Vt::T* b, int64_t rsB, typename Vt::T alpha, typename Vt::T beta,
              typename Vt::T* c, int64_t rsC, int64_t csC, int64_t m, int n,
              const TileEpilogue<typename Vt::T>* ep) {
  using T = typename Vt::T;
  constexpr int MR = SupTile<T>::MR;
  static_assert(MR == 8 && SupTile<T>::NR == 2 * Vt::W);
  TileEpilogue<T> shifted;
  const bool bias_per_row = ep && ep->bias && ep->per_row;
  auto ep_at = [&](int64_t i) {
    if (!bias_per_row) return ep;
    shifted = *ep;
    shifted.bias = ep->bias + i;
    return static_cast<const TileEpilogue<T>*>(&shifted);
  };
  int64_t i = 0;
  if (csC == 1 && n == SupTile<T>::NR)  // the usual case straight to its kernel
    for (; i + MR <= m; i += MR)
      tile<Vt, MR, 2, true>(k, a + i * rsA, rsA, csA, b, rsB, alpha, beta, c + i * rsC, rsC, n, ep_at(i));
  for (; i < m; i += MR) {
    const int rows = m - i < MR ? static_cast<int>(m - i) : MR;
    if (csC == 1)
      tile_mn<Vt>(k, a + i * rsA, rsA, csA, b, rsB, alpha, beta, c + i * rsC, rsC, rows, n, ep_at(i));
    else
      tile_strided_c<Vt>(k, a + i * rsA, rsA, csA, b, rsB, alpha, beta, c + i * rsC, rsC, csC, rows,
                         n, ep_at(i));
  }
}

}  // namespace

template <>
void sup_rows_avx512<float>(int64_t k, const float* a, int64_t rsA, int64_t csA, const float* b,
                            int64_t rsB, float alpha, float beta, float* c, int64_t rsC,
                            int64_t csC, int64_t m, int n, const TileEpilogue<float>* ep) {
  sup_rows<Zf32>(k, a, rsA, csA, b, rsB, alpha, beta, c, rsC, csC, m, n, ep);
}

template <>
void sup_rows_avx512<double>(int64_t k, const double* a, int64_t rsA, int64_t csA,
                             const double* b, int64_t rsB, double alpha, double beta, double* c,
                             int64_t rsC, int64_t csC, int64_t m, int n,
                             const TileEpilogue<double>* ep) {
  sup_rows<Zf64>(k, a, rsA, csA, b, rsB, alpha, beta, c, rsC, csC, m, n, ep);
}

// bp[p·32 + j] = b[j·csB + p] for j < n ≤ 32, p < kc: 8×8 blocks through
// registers, scalar edges. Columns ≥ n are left unwritten (the kernel masks them).
template <>
void sup_pack_b_colmajor_avx512<float>(int64_t kc, int n, const float* b, int64_t csB, float* bp) {
  constexpr int NR = SupTile<float>::NR;
  int j0 = 0;
  for (; j0 + 8 <= n; j0 += 8) {
    int64_t p = 0;
    for (; p + 8 <= kc; p += 8) {
      __m256 r[8];
      for (int j = 0; j < 8; ++j) r[j] = _mm256_loadu_ps(b + (j0 + j) * csB + p);
      transpose8x8(r);
      for (int q = 0; q < 8; ++q) _mm256_storeu_ps(bp + (p + q) * NR + j0, r[q]);
    }
    for (; p < kc; ++p)
      for (int j = j0; j < j0 + 8; ++j) bp[p * NR + j] = b[j * csB + p];
  }
  for (int j = j0; j < n; ++j) {
    const float* col = b + j * csB;
    for (int64_t p = 0; p < kc; ++p) bp[p * NR + j] = col[p];
  }
}

template <>
void sup_pack_b_colmajor_avx512<double>(int64_t kc, int n, const double* b, int64_t csB,
                                        double* bp) {
  constexpr int NR = SupTile<double>::NR;
  for (int j = 0; j < n; ++j) {
    const double* col = b + j * csB;
    for (int64_t p = 0; p < kc; ++p) bp[p * NR + j] = col[p];
  }
}

}  // namespace glassnet::gemm::detail
