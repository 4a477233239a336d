// How a reduction sees its input: a contiguous (outer, len, inner) block
// where `len` runs over the reduced elements of each output. The reduced dims
// are brought together (by a contiguous copy with them moved last, when they
// are not already adjacent), so every kernel is one of two loops:
//   inner == 1: each output reduces one contiguous row of `len` elements;
//   inner  > 1: each output column i reduces x[o, :, i], walked row by row
//               so that the inner loop is contiguous and vectorises.
#pragma once

#include <cstdint>
#include <vector>

#include "tensor.h"

namespace glassnet {

struct ReducePlan {
  Tensor x;             // contiguous data in (outer, len, inner) order
  int64_t outer = 1;
  int64_t len = 1;
  int64_t inner = 1;
  Shape out_shape;      // the result's shape (keepdim applied)
  Shape keep_shape;     // the result's shape with reduced dims kept as 1
  std::vector<int64_t> perm;  // the permutation applied to the input; empty if none
};

// dims empty: every dim. Validates dims (IndexError/ValueError naming op).
ReducePlan plan_reduction(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim, const char* op);

// A contiguous tensor laid out like plan.x, viewed back in the input's dim
// order (a view; call contiguous() for a dense copy).
Tensor unplan(const ReducePlan& plan, const Tensor& data_like_plan);

}  // namespace glassnet
