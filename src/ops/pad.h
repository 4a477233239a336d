// F.pad with torch semantics: `pads` lists (before, after) pairs starting from
// the last dim, so {1, 2} pads the last dim by 1 before and 2 after, and
// {1, 2, 3, 4} also pads the dim before it by 3 and 4.
//   constant   value outside the input; negative pads crop
//   reflect    mirror without repeating the edge (pad < size)
//   replicate  repeat the edge element
//   circular   wrap around (pad <= size)
// Any dtype for constant, float for the others; out is fresh and contiguous.
#pragma once

#include <cstdint>
#include <vector>

#include "tensor.h"

namespace glassnet {

enum class PadMode { Constant, Reflect, Replicate, Circular };

// x (*, d_1 .. d_m) -> (*, d_1 + before_1 + after_1, ...), m = pads.size() / 2
Tensor pad_forward(const Tensor& x, const std::vector<int64_t>& pads, PadMode mode, double value);
// grad (padded shape) -> grad_x (input_shape): each output's grad added at the input element it copies
Tensor pad_backward(const Tensor& grad, const Shape& input_shape, const std::vector<int64_t>& pads, PadMode mode);

}  // namespace glassnet
