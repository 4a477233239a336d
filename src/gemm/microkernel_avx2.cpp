// AVX2/FMA micro-kernels: 6×16 float and 6×8 double, 12 ymm accumulators,
// two B vectors and one broadcast of A per step (the register budget of BLIS
// kernels/haswell/3/bli_gemm_haswell_asm_d6x8.c). Compiled with -mavx2 -mfma
// only in this file and called only after CPUID said yes (gemm.cpp).
//
// One template serves both dtypes through a small vector-traits struct.
#include <immintrin.h>

#include <algorithm>

#include "kernel.h"

namespace glassnet::gemm::detail {
namespace {

struct VecF32 {
  using T = float;
  using V = __m256;
  static constexpr int W = 8;
  static V zero() { return _mm256_setzero_ps(); }
  static V set1(T x) { return _mm256_set1_ps(x); }
  static V load(const T* p) { return _mm256_loadu_ps(p); }
  static V bcast(const T* p) { return _mm256_broadcast_ss(p); }
  static void store(T* p, V v) { _mm256_storeu_ps(p, v); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V max(V a, V b) { return _mm256_max_ps(a, b); }
};

struct VecF64 {
  using T = double;
  using V = __m256d;
  static constexpr int W = 4;
  static V zero() { return _mm256_setzero_pd(); }
  static V set1(T x) { return _mm256_set1_pd(x); }
  static V load(const T* p) { return _mm256_loadu_pd(p); }
  static V bcast(const T* p) { return _mm256_broadcast_sd(p); }
  static void store(T* p, V v) { _mm256_storeu_pd(p, v); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
  static V mul(V a, V b) { return _mm256_mul_pd(a, b); }
  static V add(V a, V b) { return _mm256_add_pd(a, b); }
  static V max(V a, V b) { return _mm256_max_pd(a, b); }
};

constexpr int MR = 6;

// acc[i][h] += a(i,p) · b(p, h·W .. h·W+W) for p < k. A packed (rsA = 1,
// csA = MR) walks one pointer; unpacked A walks MR row pointers.
template <class Vt, bool kPackedA>
__attribute__((always_inline)) inline void accumulate(int64_t k, const typename Vt::T* a,
                                                      int64_t rsA, int64_t csA,
                                                      const typename Vt::T* b, int64_t rsB,
                                                      int m, typename Vt::V (&acc)[MR][2]) {
  using T = typename Vt::T;
  using V = typename Vt::V;
  if constexpr (kPackedA) {
#pragma GCC unroll 4
    for (int64_t p = 0; p < k; ++p) {
      const V b0 = Vt::load(b), b1 = Vt::load(b + Vt::W);
#pragma GCC unroll 6
      for (int i = 0; i < MR; ++i) {
        const V ai = Vt::bcast(a + i);
        acc[i][0] = Vt::fma(ai, b0, acc[i][0]);
        acc[i][1] = Vt::fma(ai, b1, acc[i][1]);
      }
      a += MR;
      b += rsB;
    }
  } else {
    const T* row[MR];
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) row[i] = a + std::min(i, m - 1) * rsA;
    int64_t off = 0;
#pragma GCC unroll 2
    for (int64_t p = 0; p < k; ++p) {
      const V b0 = Vt::load(b), b1 = Vt::load(b + Vt::W);
#pragma GCC unroll 6
      for (int i = 0; i < MR; ++i) {
        const V ai = Vt::bcast(row[i] + off);
        acc[i][0] = Vt::fma(ai, b0, acc[i][0]);
        acc[i][1] = Vt::fma(ai, b1, acc[i][1]);
      }
      off += csA;
      b += rsB;
    }
  }
}

template <class Vt>
void kernel(int64_t k, const typename Vt::T* a, int64_t rsA, int64_t csA,
            const typename Vt::T* b, int64_t rsB, typename Vt::T alpha, typename Vt::T beta,
            typename Vt::T* c, int64_t rsC, int64_t csC, int m, int n,
            const TileEpilogue<typename Vt::T>* ep) {
  using T = typename Vt::T;
  using V = typename Vt::V;
  constexpr int W = Vt::W, NR = 2 * W;
  // The C tile is read (beta != 0) or written only after the k loop: start
  // fetching its lines now so the update does not wait on L2/L3.
  if (csC == 1) {
    for (int i = 0; i < m; ++i) {
      _mm_prefetch(reinterpret_cast<const char*>(c + i * rsC), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(c + i * rsC + NR - 1), _MM_HINT_T0);
    }
  }
  V acc[MR][2];
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = Vt::zero();

  if (rsA == 1 && csA == MR && m == MR)
    accumulate<Vt, true>(k, a, rsA, csA, b, rsB, m, acc);
  else
    accumulate<Vt, false>(k, a, rsA, csA, b, rsB, m, acc);

  if (csC != 1 || n != NR) {
    alignas(64) T buf[MR * NR];
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) {
      Vt::store(buf + i * NR, acc[i][0]);
      Vt::store(buf + i * NR + W, acc[i][1]);
    }
    store_tile_scalar<T, MR, NR>(buf, alpha, beta, c, rsC, csC, m, n, ep);
    return;
  }
  // Full-width rows with unit column stride: vector stores straight from the
  // accumulators, epilogue included.
  const V valpha = Vt::set1(alpha), vbeta = Vt::set1(beta);
  const bool read_c = beta != T(0);
  const T* bias = ep ? ep->bias : nullptr;
  const bool relu = ep && ep->relu;
  V bias0 = Vt::zero(), bias1 = Vt::zero();
  if (bias && !ep->per_row) {
    bias0 = Vt::load(bias);
    bias1 = Vt::load(bias + W);
  }
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i) {
    if (i >= m) break;
    T* cr = c + i * rsC;
    V r0 = Vt::mul(valpha, acc[i][0]), r1 = Vt::mul(valpha, acc[i][1]);
    if (read_c) {
      r0 = Vt::fma(vbeta, Vt::load(cr), r0);
      r1 = Vt::fma(vbeta, Vt::load(cr + W), r1);
    }
    if (bias) {
      if (ep->per_row) {
        const V bi = Vt::set1(bias[i]);
        r0 = Vt::add(r0, bi);
        r1 = Vt::add(r1, bi);
      } else {
        r0 = Vt::add(r0, bias0);
        r1 = Vt::add(r1, bias1);
      }
    }
    if (relu) {  // max(0, x) returns x when x is NaN: NaN propagates, as in torch.relu
      r0 = Vt::max(Vt::zero(), r0);
      r1 = Vt::max(Vt::zero(), r1);
    }
    Vt::store(cr, r0);
    Vt::store(cr + W, r1);
  }
}

}  // namespace

template <>
void micro_kernel_avx2<float>(int64_t k, const float* a, int64_t rsA, int64_t csA, const float* b,
                              int64_t rsB, float alpha, float beta, float* c, int64_t rsC,
                              int64_t csC, int m, int n, const TileEpilogue<float>* ep) {
  kernel<VecF32>(k, a, rsA, csA, b, rsB, alpha, beta, c, rsC, csC, m, n, ep);
}

template <>
void micro_kernel_avx2<double>(int64_t k, const double* a, int64_t rsA, int64_t csA,
                               const double* b, int64_t rsB, double alpha, double beta, double* c,
                               int64_t rsC, int64_t csC, int m, int n,
                               const TileEpilogue<double>* ep) {
  kernel<VecF64>(k, a, rsA, csA, b, rsB, alpha, beta, c, rsC, csC, m, n, ep);
}

}  // namespace glassnet::gemm::detail
