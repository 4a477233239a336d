// Shape ops. Everything here except reshape-of-an-incompatible-layout returns
// a view that shares storage with its input.
#pragma once

#include <optional>
#include <vector>

#include "tensor.h"

namespace glassnet {

// Resolves one -1 in `shape` against numel; ValueError naming `op` when impossible.
Shape infer_shape(const Shape& shape, int64_t numel, const char* op);

Tensor view(const Tensor& x, const Shape& shape);     // error if the strides can't express it
Tensor reshape(const Tensor& x, const Shape& shape);  // a view when possible, else a copy
Tensor permute(const Tensor& x, const std::vector<int64_t>& dims);
Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1);
Tensor expand(const Tensor& x, const Shape& shape);   // -1 keeps a size; new dims lead
Tensor squeeze(const Tensor& x, const std::optional<std::vector<int64_t>>& dims);
Tensor unsqueeze(const Tensor& x, int64_t dim);
// x[..., start:stop:step, ...] along `dim`, with Python's clamping of start/stop.
Tensor slice(const Tensor& x, int64_t dim, std::optional<int64_t> start, std::optional<int64_t> stop,
             int64_t step);
Tensor select(const Tensor& x, int64_t dim, int64_t index);  // removes `dim`
Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length);
Tensor flatten(const Tensor& x, int64_t start_dim, int64_t end_dim);
// Gradient of expand: sums `grad` down to `shape` (the broadcast reduction).
Tensor sum_to_shape(const Tensor& grad, const Shape& shape);

}  // namespace glassnet
