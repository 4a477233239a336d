// 2-D pooling with torch semantics over x (N, C, H, W), one plane per (n, c):
// max pooling (with the argmax indices its backward scatters through), average
// pooling, and adaptive average pooling. Output sizes follow torch:
//   H_out = (H + 2·pad - dil·(k-1) - 1 [+ stride-1 if ceil_mode]) / stride + 1,
//   less one if ceil_mode makes the last window start inside the right padding.
// Max pooling pads with -inf (padding never wins); average pooling counts the
// padding in its divisor when count_include_pad, unless divisor_override > 0.
// float32 and float64; outputs are fresh contiguous tensors.
#pragma once

#include <tuple>

#include "tensor.h"

namespace glassnet {

struct Pool2dArgs {
  int64_t kh = 1, kw = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;
  int64_t dilation_h = 1, dilation_w = 1;  // max pooling only
  bool ceil_mode = false;
  bool count_include_pad = true;  // average pooling only
  int64_t divisor_override = 0;   // average pooling only; 0: none
};

// x (N, C, H, W) -> (y (N, C, Ho, Wo), indices (N, C, Ho, Wo) int64 into each H·W plane)
std::tuple<Tensor, Tensor> max_pool2d_forward(const Tensor& x, const Pool2dArgs& a);
// grad, indices (N, C, Ho, Wo) -> grad_x (input_shape): each grad added at its argmax
Tensor max_pool2d_backward(const Tensor& grad, const Tensor& indices, const Shape& input_shape);

// x (N, C, H, W) -> y (N, C, Ho, Wo)
Tensor avg_pool2d_forward(const Tensor& x, const Pool2dArgs& a);
// grad (N, C, Ho, Wo) -> grad_x (input_shape): each grad spread evenly over its window
Tensor avg_pool2d_backward(const Tensor& grad, const Shape& input_shape, const Pool2dArgs& a);

// x (N, C, H, W) -> y (N, C, out_h, out_w); window o covers [⌊o·H/out⌋, ⌈(o+1)·H/out⌉)
Tensor adaptive_avg_pool2d_forward(const Tensor& x, int64_t out_h, int64_t out_w);
Tensor adaptive_avg_pool2d_backward(const Tensor& grad, const Shape& input_shape);

}  // namespace glassnet
