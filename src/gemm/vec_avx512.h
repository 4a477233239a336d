// 512-bit vector traits shared by the AVX-512 GEMM kernels (Zf32: 16
// floats, Zf64: 8 doubles), so one kernel template serves both dtypes.
// Include only from *_avx512.cpp files (compiled with the AVX-512 flags);
// the anonymous namespace gives each such file its own copy, so no
// AVX-512 code is ever shared with, or picked by the linker for, a file
// that runs on CPUs without it.
#pragma once

#include <immintrin.h>

namespace glassnet::gemm::detail {
namespace {

struct Zf32 {
  using T = float;
  using V = __m512;
  using Mask = __mmask16;
  static constexpr int W = 16;
  static Mask mask(int n) { return n >= W ? Mask(0xFFFF) : n <= 0 ? Mask(0) : Mask((1u << n) - 1); }
  static V zero() { return _mm512_setzero_ps(); }
  static V set1(T x) { return _mm512_set1_ps(x); }
  static V load(const T* p) { return _mm512_loadu_ps(p); }
  static V load(Mask m, const T* p) { return _mm512_maskz_loadu_ps(m, p); }
  static void store(T* p, V v) { _mm512_storeu_ps(p, v); }
  static void store(Mask m, T* p, V v) { _mm512_mask_storeu_ps(p, m, v); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V max(V a, V b) { return _mm512_max_ps(a, b); }
};

struct Zf64 {
  using T = double;
  using V = __m512d;
  using Mask = __mmask8;
  static constexpr int W = 8;
  static Mask mask(int n) { return n >= W ? Mask(0xFF) : n <= 0 ? Mask(0) : Mask((1u << n) - 1); }
  static V zero() { return _mm512_setzero_pd(); }
  static V set1(T x) { return _mm512_set1_pd(x); }
  static V load(const T* p) { return _mm512_loadu_pd(p); }
  static V load(Mask m, const T* p) { return _mm512_maskz_loadu_pd(m, p); }
  static void store(T* p, V v) { _mm512_storeu_pd(p, v); }
  static void store(Mask m, T* p, V v) { _mm512_mask_storeu_pd(p, m, v); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
  static V mul(V a, V b) { return _mm512_mul_pd(a, b); }
  static V add(V a, V b) { return _mm512_add_pd(a, b); }
  static V max(V a, V b) { return _mm512_max_pd(a, b); }
};

}  // namespace
}  // namespace glassnet::gemm::detail
