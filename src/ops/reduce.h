// Reductions over any set of dims, index reductions, and softmax, with the
// backward kernels autograd calls for the ones whose gradient is not a plain
// composition of other ops.
//
//   reduce / var / logsumexp / norm           reduce.cpp, reduce_stats.cpp
//   max_dim / min_dim / argmax / argmin        reduce_index.cpp
//   softmax / log_softmax and their backward   softmax.cpp
//
// `dims` empty means every dim. Reduced dims are dropped from the result, or
// kept with size 1 when keepdim is true. Duplicate dims are a ValueError,
// out-of-range dims an IndexError, both naming the op.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "tensor.h"

namespace glassnet {

enum class ReduceOp : uint8_t { Sum, Mean, Prod, Max, Min, All, Any };

const char* reduce_name(ReduceOp op);

// Sum/Prod of bool or int64 give int64; Mean needs a float tensor; Max/Min
// keep the dtype and reject an empty reduction; All/Any give bool.
Tensor reduce(ReduceOp op, const Tensor& x, const std::vector<int64_t>& dims, bool keepdim);

// Gradient of prod: grad · (product of the other elements of each group),
// exact when the group holds zeros. grad has the keepdim shape.
Tensor prod_backward(const Tensor& grad, const Tensor& x, const std::vector<int64_t>& dims);

// Variance with `correction` subtracted from the divisor (1: unbiased).
Tensor var(const Tensor& x, const std::vector<int64_t>& dims, double correction, bool keepdim);
// log(sum(exp(x))) without overflow.
Tensor logsumexp(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim);
// Vector p-norm over dims (p = inf/-inf: max/min of |x|, p = 0: count of nonzeros).
Tensor norm(const Tensor& x, double p, const std::vector<int64_t>& dims, bool keepdim);

// (values, int64 indices) of the max/min along dim; NaN wins, first index on ties.
std::pair<Tensor, Tensor> max_dim(const Tensor& x, int64_t dim, bool keepdim);
std::pair<Tensor, Tensor> min_dim(const Tensor& x, int64_t dim, bool keepdim);
// Index of the max/min along dim, or into the flattened tensor when has_dim is false.
Tensor argmax(const Tensor& x, bool has_dim, int64_t dim, bool keepdim);
Tensor argmin(const Tensor& x, bool has_dim, int64_t dim, bool keepdim);

// y = exp(x - max) / sum(exp(x - max)) along dim; log_softmax = log of that.
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);
// grad_x = y · (grad - sum(grad · y)), y the softmax output.
Tensor softmax_backward(const Tensor& grad, const Tensor& y, int64_t dim);
// grad_x = grad - exp(y) · sum(grad), y the log_softmax output.
Tensor log_softmax_backward(const Tensor& grad, const Tensor& y, int64_t dim);

// The shape `x` reduced over `dims` would have (dims empty: all).
Shape reduced_shape(const Shape& shape, const std::vector<int64_t>& dims, bool keepdim, const char* op);

}  // namespace glassnet
