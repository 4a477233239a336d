// stream_stats: what glassnet.explain's RunningStats folds from each recorded
// activation or gradient — sum and sum of squares (in double), the count of
// values <= 0, and the maximum per unit (dim 1) or over everything — in one
// C++ call, where numpy needs four passes and a temporary.
#pragma once

#include <cstdint>

#include "tensor.h"

namespace glassnet {

struct StreamStats {
  double sum = 0, sumsq = 0;
  int64_t nonpos = 0;
  Tensor max;  // (U,) with U = size(1) when per_unit, else (1,); -inf where nothing was seen
};

StreamStats stream_stats(const Tensor& x, bool per_unit);

// The float32 kernel over contiguous (N, U, R) data, AVX2 (stream_stats_avx2.cpp);
// unit_max must hold U values, already set to -inf. Returns the totals.
struct StreamTotals {
  double sum = 0, sumsq = 0;
  int64_t nonpos = 0;
};
StreamTotals stream_stats_f32_avx2(const float* x, int64_t N, int64_t U, int64_t R, float* unit_max);

}  // namespace glassnet
