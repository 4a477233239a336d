// Winograd minimal filtering F(2×2, 3×3) (Lavin & Gray, Fast Algorithms for
// Convolutional Neural Networks, CVPR 2016) for 3×3, stride-1, undilated
// convolutions with enough channels: each 4×4 input tile and each 3×3 filter
// are transformed (V = Bᵀ d B, U = G g Gᵀ), the 16 positions of the transformed
// tile become 16 GEMMs M_ξ (Kg, tiles) = U_ξ (Kg, Cg) · V_ξ (Cg, tiles), and
// each 4×4 M tile is transformed back to a 2×2 output (Y = Aᵀ M A): 2.25× fewer
// multiplies than im2col + GEMM. Internal to the convolution kernels.
#pragma once

#include "ops/conv.h"

namespace glassnet::conv_detail {

// True for 3×3, stride 1, dilation 1, padding ≤ 2 and at least 16 channels in
// and out per group, where the transforms are cheap next to the GEMMs.
bool use_winograd(const ConvShape& s);

// y (N, K, Ho, Wo) = conv(x (N, C, H, W), w (K, Cg, 3, 3)) + bias (K) or null
template <class T>
void winograd_forward(const ConvShape& s, const T* x, const T* w, const T* bias, T* y);

// gw (K, Cg, 3, 3) = the weight gradient from gy (N, K, Ho, Wo) and x; overwritten
template <class T>
void winograd_backward_weight(const ConvShape& s, const T* gy, const T* x, T* gw);

}  // namespace glassnet::conv_detail
