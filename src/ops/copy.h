// Copies between tensors: any strides, any dtypes (converted as a C cast,
// as torch does), src broadcast to dst's shape, and across devices.
#pragma once

#include "tensor.h"

namespace glassnet {

// dst[...] = src[...] (broadcast), converting dtype; dst keeps its strides.
void copy_(Tensor& dst, const Tensor& src);
// A contiguous copy with the given dtype (this tensor itself when nothing changes and copy is false).
Tensor to_dtype(const Tensor& t, DType dtype, bool copy = false);
// A contiguous copy on `device` (t itself when already there).
Tensor to_device(const Tensor& t, Device device);
// A contiguous copy.
Tensor clone(const Tensor& t);

}  // namespace glassnet
