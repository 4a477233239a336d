// 2-D convolution and transposed convolution with torch semantics (1-D is
// the 2-D case with height 1). Layout NCHW; weight (C_out, C_in/groups, kh, kw)
// for convolution and (C_in, C_out/groups, kh, kw) for the transposed one.
//
// Three kernels do all the work (conv2d.cpp, conv_backward.cpp), picked per
// shape: a 1×1 stride-1 unpadded convolution is a plain GEMM on the input; a
// depthwise one (one input channel per group) is a direct loop; anything else
// is im2col (Chellapilla et al. 2006) into a per-thread buffer followed by the
// packed GEMM of src/gemm. Transposed convolution is the adjoint: its forward
// is conv2d's backward-data, its backward-data is conv2d's forward, and its
// weight gradient is conv2d's with the roles of input and output swapped.
//
// float32 and float64; every tensor of one call has the input's dtype. Inputs
// may be any strided view (made contiguous once); outputs are fresh and
// contiguous. Gradients not asked for come back undefined.
#pragma once

#include <functional>
#include <tuple>

#include "tensor.h"

namespace glassnet {

struct Conv2dArgs {
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t groups = 1;
};

// x (N, C_in, H, W), weight (C_out, C_in/groups, kh, kw), bias (C_out) or null
//   -> y (N, C_out, H_out, W_out), H_out = (H + 2·pad_h - dil_h·(kh-1) - 1)/stride_h + 1
Tensor conv2d_forward(const Tensor& x, const Tensor& weight, const Tensor* bias, const Conv2dArgs& a);
// grad (N, C_out, H_out, W_out) -> (grad_x, grad_weight, grad_bias)
std::tuple<Tensor, Tensor, Tensor> conv2d_backward(const Tensor& grad, const Tensor& x, const Tensor& weight,
                                                   const Conv2dArgs& a, bool need_input, bool need_weight,
                                                   bool need_bias);

// x (N, C_in, H, W), weight (C_in, C_out/groups, kh, kw), bias (C_out) or null
//   -> y (N, C_out, H_out, W_out),
//   H_out = (H-1)·stride_h - 2·pad_h + dil_h·(kh-1) + output_padding_h + 1
Tensor conv_transpose2d_forward(const Tensor& x, const Tensor& weight, const Tensor* bias, const Conv2dArgs& a,
                                int64_t output_padding_h, int64_t output_padding_w);
// grad (N, C_out, H_out, W_out) -> (grad_x, grad_weight, grad_bias)
std::tuple<Tensor, Tensor, Tensor> conv_transpose2d_backward(const Tensor& grad, const Tensor& x,
                                                             const Tensor& weight, const Conv2dArgs& a,
                                                             bool need_input, bool need_weight, bool need_bias);

namespace conv_detail {

// The sizes of one convolution, in conv2d's terms (x -> y).
struct ConvShape {
  int64_t N, C, H, W;     // input
  int64_t K, Ho, Wo;      // output channels and size
  int64_t kh, kw;
  Conv2dArgs a;
  int64_t Cg() const { return C / a.groups; }   // input channels per group
  int64_t Kg() const { return K / a.groups; }   // output channels per group
  int64_t rows() const { return Cg() * kh * kw; }  // im2col rows = GEMM depth
  int64_t P() const { return Ho * Wo; }
};

// Operand checks at the op boundary (conv2d.cpp): dtype, rank, channel and
// group counts, kernel against the padded input; errors name the shapes.
ConvShape conv2d_shape(const Tensor& x, const Tensor& weight, const Tensor* bias, const Conv2dArgs& a,
                       const char* op);
// In conv2d's terms: the transposed convolution's output is the conv input.
ConvShape conv_transpose2d_shape(const Tensor& x, const Tensor& weight, const Tensor* bias, const Conv2dArgs& a,
                                 int64_t output_padding_h, int64_t output_padding_w, const char* op);
void check_grad(const Tensor& grad, const Tensor& x, const Shape& expected, const char* op);

// Splits the batch into slices for the threads: f(slice, n_begin, n_end).
// Slices are whole samples, so each thread runs its own GEMMs (which then
// stay on that thread); a batch smaller than the thread count runs as one
// slice and the GEMMs inside take the threads instead.
int64_t batch_slices(int64_t N, double flops_per_sample);
void for_batch_slices(int64_t N, int64_t slices, const std::function<void(int64_t, int64_t, int64_t)>& f);

// Algorithm choice: 1×1, stride 1, no padding -> GEMM on the input itself;
// one input channel per group (groups > 1) -> the direct depthwise loops.
bool is_pointwise(const ConvShape& s);
bool is_depthwise(const ConvShape& s);

// y (N, K, Ho, Wo) = conv(x (N, C, H, W), w (K, Cg, kh, kw)) + bias (K) or null
template <class T>
void conv_forward_kernel(const ConvShape& s, const T* x, const T* w, const T* bias, T* y);
// gx (N, C, H, W) += adjoint conv(gy (N, K, Ho, Wo), w); gx must arrive zeroed.
template <class T>
void conv_backward_data_kernel(const ConvShape& s, const T* gy, const T* w, T* gx);
// gw (K, Cg, kh, kw) = Σ_n gy_n · im2col(x_n)ᵀ; gw is overwritten.
template <class T>
void conv_backward_weight_kernel(const ConvShape& s, const T* gy, const T* x, T* gw);
// gb (K) = Σ over n, positions of gy (N, K, P)
template <class T>
void conv_backward_bias_kernel(int64_t N, int64_t K, int64_t P, const T* gy, T* gb);

}  // namespace conv_detail

}  // namespace glassnet
