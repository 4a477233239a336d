// AVX-512 float32 max/min of one contiguous row (reduce_avx512.cpp), called
// by the AVX2 entry points of reduce_avx2.cpp when cpu_has_avx512() says yes.
#pragma once

#include <cstdint>

namespace glassnet::reduce_detail {

float row_max_f32_avx512(const float* x, int64_t n);
float row_min_f32_avx512(const float* x, int64_t n);

}  // namespace glassnet::reduce_detail
