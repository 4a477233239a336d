// Hand-vectorised float32 kernels on contiguous arrays, in two builds:
// vecmath_avx2.cpp (AVX2/FMA, eight lanes) and vecmath_avx512.cpp (AVX-512
// F/DQ/BW/VL, sixteen lanes), with the same algorithms and constants, so both
// give the same bits. exp and log follow Cephes' expf/logf (range reduction
// plus a polynomial), tanh is the rational approximation Eigen uses,
// sigmoid/silu are built on exp, and GELU on Numerical Recipes' erfc fit; all stay within a few ulp of the C library
// and keep its NaN/inf/overflow/denormal behaviour. The unary and binary ops
// (elementwise.cpp) call the widest build the CPU runs (src/cpu.h) and fall
// back to their portable loops otherwise.
#pragma once

#include <cstdint>

#include "ops/elementwise.h"

namespace glassnet {

// y[i] = op(x[i]) for i < n. Returns false (and writes nothing) when `op`
// has no kernel here, so a call with n = 0 asks whether it has one. Only
// call the _avx2 one when cpu_has_avx2_fma(), the _avx512 one when
// cpu_has_avx512().
bool unary_f32_vectorised(UnaryOp op, const float* x, float* y, int64_t n);
bool unary_f32_vectorised_avx512(UnaryOp op, const float* x, float* y, int64_t n);

// out[i] = g[i]·f′(x[i]) (from y[i] = f(x[i]) where that is cheaper) for
// contiguous arrays, for relu, sigmoid, tanh and GELU (both forms); the same
// contract for `false`. AVX2 only, like the binary ops below.
bool unary_backward_f32_vectorised(UnaryOp op, const float* g, const float* x, const float* y, float* out,
                                   int64_t n);

// y[i] = a[i·sa] op b[i·sb] for i < n, with sa and sb each 0 (a broadcast
// scalar) or 1 (contiguous); y may be a or b (in place) but must not
// overlap them otherwise. Same contract for `false` as above: add, sub, mul
// and div only. AVX2 only: these ops are memory-bound, and 512-bit lanes
// don't move bytes any faster.
bool binary_f32_vectorised(BinaryOp op, const float* a, int64_t sa, const float* b, int64_t sb,
                           float* y, int64_t n);

}  // namespace glassnet
