// Depthwise convolution (one input channel per group, any channel
// multiplier): direct loops, since a GEMM with one input channel has depth
// kh·kw and would spend its time packing. The work is memory-bound; each
// output row is accumulated tap by tap over a contiguous run, which the
// compiler vectorises for stride 1. Internal to the convolution kernels.
#pragma once

#include "ops/conv.h"

namespace glassnet::conv_detail {

// y (N, K, Ho, Wo) = depthwise(x (N, C, H, W), w (K, 1, kh, kw)) + bias (K) or null; K = C·multiplier
template <class T>
void depthwise_forward(const ConvShape& s, const T* x, const T* w, const T* bias, T* y);
// gx (N, C, H, W) = adjoint of the above applied to gy (N, K, Ho, Wo); overwritten
template <class T>
void depthwise_backward_data(const ConvShape& s, const T* gy, const T* w, T* gx);
// gw (K, 1, kh, kw) = Σ_n,positions gy · x at each tap; overwritten
template <class T>
void depthwise_backward_weight(const ConvShape& s, const T* gy, const T* x, T* gw);

}  // namespace glassnet::conv_detail
