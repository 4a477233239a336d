// Vectorised float32 transcendental kernels on contiguous arrays (AVX2/FMA,
// eight lanes): exp and log after Cephes' expf/logf (range reduction plus a
// degree-6 polynomial), tanh as the rational approximation Eigen uses, and
// sigmoid/silu built on exp. All stay within a few ulp of the C library.
// Called by the unary ops when the CPU has AVX2 and FMA (src/cpu.h).
#pragma once

#include <cstdint>

#include "ops/elementwise.h"

namespace glassnet {

// y[i] = op(x[i]) for i < n; returns false (and writes nothing) when `op`
// has no vectorised kernel here or the build has none for this CPU.
bool unary_f32_vectorised(UnaryOp op, const float* x, float* y, int64_t n);

}  // namespace glassnet
