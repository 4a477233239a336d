// The backward of nn.Linear (its forward, linear_forward, lives in matmul.h
// beside the GEMM whose epilogue fuses the bias).
#pragma once

#include <tuple>

#include "tensor.h"

namespace glassnet {

// Gradients of y = x·Wᵀ + b, each computed only when asked for (undefined
// Tensor otherwise):
//   grad (..., out), x (..., in), weight (out, in)
//   grad_x (..., in) = grad · W            one GEMM, batch dims folded into rows
//   grad_w (out, in) = gradᵀ · x           mm_tn: the transpose is read through strides
//   grad_b (out)     = grad summed over every dim but the last
std::tuple<Tensor, Tensor, Tensor> linear_backward(const Tensor& grad, const Tensor& x, const Tensor& weight,
                                                   bool need_input, bool need_weight, bool need_bias);

// Column sums of a (rows, cols) matrix given by strides, accumulated in
// double: out (cols). Also the bias gradient of convolutions and norms.
template <class T>
void column_sums(const T* a, int64_t rows, int64_t cols, int64_t row_stride, T* out);

}  // namespace glassnet
