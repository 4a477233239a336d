// Dropout (Srivastava et al., 2014) and its feature-map variant (Tompson et
// al., 2015, torch's dropout1d/2d/3d), with the mask drawn from glassnet's
// Philox stream (src/random.h): mask element i keeps its elements when the
// i-th uniform of the reserved counters is >= p, so a seed fixes the mask on
// any number of threads.
#pragma once

#include <tuple>

#include "tensor.h"

namespace glassnet {

// x (d0, ..., dk-1, rest...) with k = mask_dims: one keep/drop decision per
// index of the first k dims, shared by the trailing elements (k = x.dim() is
// plain dropout; k = 2 drops whole channels of (N, C, *)).
//   out = x · m,  m = keep / (1 - p)  (m = 0 for every element when p == 1)
// so NaN and inf stay NaN where dropped, as torch. Returns (out, mask) with
// mask bool of shape (d0, ..., dk-1, 1, ..., 1). p outside [0, 1] is a ValueError.
std::tuple<Tensor, Tensor> dropout_forward(const Tensor& x, double p, int64_t mask_dims);
// grad like x, mask from dropout_forward -> grad · m.
Tensor dropout_backward(const Tensor& grad, const Tensor& mask, double p);
// In place: x ← x · m; returns the mask.
Tensor dropout_(Tensor& x, double p, int64_t mask_dims);

}  // namespace glassnet
