// Fill a tensor with one value, and the creation ops built on it.
#pragma once

#include "tensor.h"

namespace glassnet {

void fill_(Tensor& t, double value);
// torch.arange(start, end, step) and linspace, as float or int64 tensors.
Tensor arange(double start, double end, double step, DType dtype);
Tensor linspace(double start, double end, int64_t steps, DType dtype);
Tensor eye(int64_t n, int64_t m, DType dtype);

}  // namespace glassnet
