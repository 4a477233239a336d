// y[j] = exp(y[j]) over n contiguous elements: the inner step of softmax and
// of the cross-entropy kernels. float32 goes through the vectorised kernel of
// vecmath.h when the CPU has it; everything else through std::exp.
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "cpu.h"
#include "ops/vecmath.h"

namespace glassnet {

template <class T>
void exp_inplace(T* y, int64_t n) {
#if defined(__x86_64__) || defined(_M_X64)
  if constexpr (std::is_same_v<T, float>) {
    if (cpu_has_avx2_fma() && unary_f32_vectorised(UnaryOp::Exp, y, y, n)) return;
  }
#endif
  for (int64_t j = 0; j < n; ++j) y[j] = std::exp(y[j]);
}

}  // namespace glassnet
