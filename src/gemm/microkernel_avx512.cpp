// AVX-512 micro-kernels of the packed path: 12×32 float and 12×16 double,
// 24 zmm accumulators (12 rows × 2 vectors), two B vectors and broadcasts
// of A per k step: the register budget of BLIS's zen4 sgemm kernel (its
// 32×12 column-major tile, transposed to glassnet's row-major C).
//
// Why this beats the 6×16 AVX2 kernel on Zen 4 although both hit the same
// FMA peak (a 512-bit FMA is two 256-bit halves): per k step 2 loads of B
// feed 24 FMAs instead of 12, each broadcast of A feeds 32 columns instead
// of 16, and a micro-kernel call covers 4× the tile, so B panels and the C
// tile are touched half as often per flop.
//
// Contract (kernel.h): packed A (rsA = 1, csA = MR, zero-padded rows) and a
// packed, zero-padded B panel (rsB = NR). Rows ≥ m and columns ≥ n are
// computed on the padding and never stored (masked stores for columns).
// Compiled with the AVX-512 flags only in this file and called only after
// cpu_has_avx512() said yes (gemm.cpp).
#include <immintrin.h>

#include <cstdint>

#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC's own _mm512_max_ps pass-through

#include "gemm/transpose8x8_avx2.h"
#include "gemm/vec_avx512.h"
#include "kernel.h"

namespace glassnet::gemm::detail {
namespace {

// RM ≤ MR rows of the tile are computed (the packed A panel keeps its MR
// stride): the last tile of M = 256 has 4 rows, and computing all 12 would
// cost a full tile for a third of one.
template <class Vt, int RM>
void kernel(int64_t k, const typename Vt::T* a, const typename Vt::T* b, int64_t rsB,
            typename Vt::T alpha, typename Vt::T beta, typename Vt::T* c, int64_t rsC,
            int64_t csC, int m, int n, const TileEpilogue<typename Vt::T>* ep) {
  using T = typename Vt::T;
  using V = typename Vt::V;
  constexpr int W = Vt::W;
  constexpr int MR = PackedTile512<T>::MR, NR = PackedTile512<T>::NR;
  static_assert(NR == 2 * W, "two vectors per row");
  static_assert(RM <= MR);
  // The C tile is read (beta != 0) or written only after the k loop: start
  // fetching its lines now so the update does not wait on L2/L3.
  if (csC == 1) {
    for (int i = 0; i < m; ++i) {
      _mm_prefetch(reinterpret_cast<const char*>(c + i * rsC), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(c + i * rsC + NR - 1), _MM_HINT_T0);
    }
  }
  V acc[RM][2];
#pragma GCC unroll 12
  for (int i = 0; i < RM; ++i) acc[i][0] = acc[i][1] = Vt::zero();
  // The packed A panel streams from L2: fetch it a few k steps ahead (one
  // step is MR·sizeof(T) bytes, under one line), one prefetch per step.
  constexpr int64_t kAhead = 16 * MR;
#pragma GCC unroll 4
  for (int64_t p = 0; p < k; ++p) {
    _mm_prefetch(reinterpret_cast<const char*>(a + kAhead), _MM_HINT_T0);
    const V b0 = Vt::load(b), b1 = Vt::load(b + W);
#pragma GCC unroll 12
    for (int i = 0; i < RM; ++i) {
      const V ai = Vt::set1(a[i]);
      acc[i][0] = Vt::fma(ai, b0, acc[i][0]);
      acc[i][1] = Vt::fma(ai, b1, acc[i][1]);
    }
    a += MR;
    b += rsB;
  }
  if (csC != 1) {
    alignas(64) T buf[RM * NR];
#pragma GCC unroll 12
    for (int i = 0; i < RM; ++i) {
      Vt::store(buf + i * NR, acc[i][0]);
      Vt::store(buf + i * NR + W, acc[i][1]);
    }
    store_tile_scalar<T, RM, NR>(buf, alpha, beta, c, rsC, csC, m, n, ep);
    return;
  }
  // Each step of the update is one branch around an unrolled block (not a
  // test per row); rows ≥ m are computed on but never read from or stored.
  const typename Vt::Mask m0 = Vt::mask(n), m1 = Vt::mask(n - W);
  if (alpha != T(1)) {
    const V valpha = Vt::set1(alpha);
#pragma GCC unroll 12
    for (int i = 0; i < RM; ++i) {
      acc[i][0] = Vt::mul(valpha, acc[i][0]);
      acc[i][1] = Vt::mul(valpha, acc[i][1]);
    }
  }
  if (beta != T(0)) {
    const V vbeta = Vt::set1(beta);
#pragma GCC unroll 12
    for (int i = 0; i < RM; ++i) {
      if (i >= m) break;
      acc[i][0] = Vt::fma(vbeta, Vt::load(m0, c + i * rsC), acc[i][0]);
      acc[i][1] = Vt::fma(vbeta, Vt::load(m1, c + i * rsC + W), acc[i][1]);
    }
  }
  const T* bias = ep ? ep->bias : nullptr;
  if (bias && ep->per_row) {
#pragma GCC unroll 12
    for (int i = 0; i < RM; ++i) {
      const V bi = Vt::set1(bias[i < m ? i : 0]);  // rows ≥ m: any value, never stored
      acc[i][0] = Vt::add(acc[i][0], bi);
      acc[i][1] = Vt::add(acc[i][1], bi);
    }
  } else if (bias) {
    const V bias0 = Vt::load(m0, bias), bias1 = Vt::load(m1, bias + W);
#pragma GCC unroll 12
    for (int i = 0; i < RM; ++i) {
      acc[i][0] = Vt::add(acc[i][0], bias0);
      acc[i][1] = Vt::add(acc[i][1], bias1);
    }
  }
  if (ep && ep->relu) {  // max(0, NaN) is NaN: NaN propagates, as torch.relu
#pragma GCC unroll 12
    for (int i = 0; i < RM; ++i) {
      acc[i][0] = Vt::max(Vt::zero(), acc[i][0]);
      acc[i][1] = Vt::max(Vt::zero(), acc[i][1]);
    }
  }
#pragma GCC unroll 12
  for (int i = 0; i < RM; ++i) {
    if (i >= m) break;
    Vt::store(m0, c + i * rsC, acc[i][0]);
    Vt::store(m1, c + i * rsC + W, acc[i][1]);
  }
}

// Edge tiles compute only the rows they store, rounded up to 4.
template <class Vt>
void kernel_m(int64_t k, const typename Vt::T* a, const typename Vt::T* b, int64_t rsB,
              typename Vt::T alpha, typename Vt::T beta, typename Vt::T* c, int64_t rsC,
              int64_t csC, int m, int n, const TileEpilogue<typename Vt::T>* ep) {
  static_assert(PackedTile512<typename Vt::T>::MR == 12);
  if (m > 8) kernel<Vt, 12>(k, a, b, rsB, alpha, beta, c, rsC, csC, m, n, ep);
  else if (m > 4) kernel<Vt, 8>(k, a, b, rsB, alpha, beta, c, rsC, csC, m, n, ep);
  else kernel<Vt, 4>(k, a, b, rsB, alpha, beta, c, rsC, csC, m, n, ep);
}

}  // namespace

template <>
void micro_kernel_avx512<float>(int64_t k, const float* a, int64_t, int64_t, const float* b,
                                int64_t rsB, float alpha, float beta, float* c, int64_t rsC,
                                int64_t csC, int m, int n, const TileEpilogue<float>* ep) {
  kernel_m<Zf32>(k, a, b, rsB, alpha, beta, c, rsC, csC, m, n, ep);
}

template <>
void micro_kernel_avx512<double>(int64_t k, const double* a, int64_t, int64_t, const double* b,
                                 int64_t rsB, double alpha, double beta, double* c, int64_t rsC,
                                 int64_t csC, int m, int n, const TileEpilogue<double>* ep) {
  kernel_m<Zf64>(k, a, b, rsB, alpha, beta, c, rsC, csC, m, n, ep);
}

// ap[k·12 + i] = a[i·rsA + k] for i < 12, k < kc: rows 0-7 and 8-11 through
// two 8×8 register transposes per 8 k steps (the second with four zero rows,
// of which only the first four lanes are stored).
//
// A panel is 12 short row segments (kc floats each) far apart: too short for
// the hardware prefetcher to ramp up, so packing from DRAM waits on every
// line. When `next` (the next panel's first row, same rsA) is given, its
// lines are requested while this panel is transposed: one line per row
// every 16 k.
void pack_a12_rowmajor_avx512(int64_t kc, const float* a, int64_t rsA, float* ap, const float* next) {
  int64_t k = 0;
  for (; k + 8 <= kc; k += 8) {
    if (next && (k & 8) == 0)
      for (int i = 0; i < 12; ++i) _mm_prefetch(reinterpret_cast<const char*>(next + i * rsA + k), _MM_HINT_T0);
    __m256 r[8], s[8];
    for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(a + i * rsA + k);
    for (int i = 0; i < 4; ++i) s[i] = _mm256_loadu_ps(a + (8 + i) * rsA + k);
    s[4] = s[5] = s[6] = s[7] = _mm256_setzero_ps();
    transpose8x8(r);
    transpose8x8(s);
    for (int j = 0; j < 8; ++j) {
      _mm256_storeu_ps(ap + (k + j) * 12, r[j]);
      _mm_storeu_ps(ap + (k + j) * 12 + 8, _mm256_castps256_ps128(s[j]));
    }
  }
  for (; k < kc; ++k)
    for (int i = 0; i < 12; ++i) ap[k * 12 + i] = a[i * rsA + k];
}

// bp[k·32 + j] = b[j·csB + k] for j < 32, k < kc: four 8×8 transposes per
// 8 k steps; `next` as for pack_a12_rowmajor_avx512 (32 segments).
void pack_b32_colmajor_avx512(int64_t kc, const float* b, int64_t csB, float* bp, const float* next) {
  int64_t k = 0;
  for (; k + 8 <= kc; k += 8) {
    if (next && (k & 8) == 0)
      for (int j = 0; j < 32; ++j) _mm_prefetch(reinterpret_cast<const char*>(next + j * csB + k), _MM_HINT_T0);
    for (int h = 0; h < 4; ++h) {
      __m256 r[8];
      for (int j = 0; j < 8; ++j) r[j] = _mm256_loadu_ps(b + (h * 8 + j) * csB + k);
      transpose8x8(r);
      for (int j = 0; j < 8; ++j) _mm256_storeu_ps(bp + (k + j) * 32 + h * 8, r[j]);
    }
  }
  for (; k < kc; ++k)
    for (int j = 0; j < 32; ++j) bp[k * 32 + j] = b[j * csB + k];
}

}  // namespace glassnet::gemm::detail
