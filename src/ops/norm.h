// Normalisation layers with torch semantics: batch norm, layer norm, group
// norm. Each forward normalises with (x - mean)·rstd, rstd = 1/sqrt(var + eps)
// using the biased variance, applies the optional affine weight and bias, and
// returns the mean and rstd it used so that the fused backward needs no second
// pass over the statistics. Statistics accumulate in double.
//
// Backward of every family (Ioffe & Szegedy 2015, §3; Ba et al. 2016), over
// the m elements that share one mean/rstd, with x̂ = (x - mean)·rstd and
// g = grad·weight:
//   grad_x = rstd · (g - mean(g) - x̂ · mean(g·x̂))
//   grad_weight = Σ grad·x̂ ,  grad_bias = Σ grad   (per feature or channel)
// Gradients not asked for come back as undefined Tensors.
//
// float32 and float64; every tensor of one call has the input's dtype
// (TypeError otherwise); CPU only. Outputs are fresh contiguous tensors.
#pragma once

#include <tuple>

#include "tensor.h"

namespace glassnet {

// x (N, C, *): statistics per channel c over the N·L elements of that channel
// (L = product of the trailing dims).
// Training: normalises with the batch statistics and, when running stats are
// given, updates them in place: running_mean ← (1-m)·running_mean + m·mean,
// running_var ← (1-m)·running_var + m·var·n/(n-1) (unbiased, as torch).
// Evaluation: normalises with the running stats (required).
// Returns (out, mean (C), rstd (C)) — the statistics actually used.
std::tuple<Tensor, Tensor, Tensor> batch_norm_forward(const Tensor& x, const Tensor* running_mean,
                                                      const Tensor* running_var, const Tensor* weight,
                                                      const Tensor* bias, bool training, double momentum,
                                                      double eps);
// In evaluation mode mean and rstd are constants, so grad_x = grad·weight·rstd.
std::tuple<Tensor, Tensor, Tensor> batch_norm_backward(const Tensor& grad, const Tensor& x, const Tensor* weight,
                                                       const Tensor& mean, const Tensor& rstd, bool training,
                                                       bool need_input, bool need_weight, bool need_bias);

// x (*, normalized_shape): statistics per row over the last
// len(normalized_shape) dims; weight and bias have normalized_shape.
// Returns (out, mean (rows), rstd (rows)).
std::tuple<Tensor, Tensor, Tensor> layer_norm_forward(const Tensor& x, const Shape& normalized_shape,
                                                      const Tensor* weight, const Tensor* bias, double eps);
std::tuple<Tensor, Tensor, Tensor> layer_norm_backward(const Tensor& grad, const Tensor& x,
                                                       const Shape& normalized_shape, const Tensor* weight,
                                                       const Tensor& mean, const Tensor& rstd, bool need_input,
                                                       bool need_weight, bool need_bias);

// x (N, C, *), C divisible by num_groups: statistics per (sample, group) over
// the C/G channels of the group and all trailing dims; weight and bias (C).
// Returns (out, mean (N·G), rstd (N·G)).
std::tuple<Tensor, Tensor, Tensor> group_norm_forward(const Tensor& x, int64_t num_groups, const Tensor* weight,
                                                      const Tensor* bias, double eps);
std::tuple<Tensor, Tensor, Tensor> group_norm_backward(const Tensor& grad, const Tensor& x, int64_t num_groups,
                                                       const Tensor* weight, const Tensor& mean, const Tensor& rstd,
                                                       bool need_input, bool need_weight, bool need_bias);

}  // namespace glassnet
