// Indexing, gathering and joining ops with torch semantics, and the backward
// kernels autograd needs for them:
//   index_select / index_add          (index_select's backward)   index_select.cpp
//   gather / scatter / scatter_add    (gather's backward)          index_gather.cpp
//   index / index_put(_)              (advanced indexing, numpy)   index_advanced.cpp
//   nonzero / masked_select / one_hot                              index_mask.cpp
//   cat / stack / repeat / repeat_backward                         join.cpp
// All take any input strides and return fresh contiguous tensors. Index
// tensors are int64; every index is range-checked before anything is written,
// and an out-of-range one is an IndexError naming the op, the value and the
// dim size. Only advanced indexing (index, index_put) wraps negative indices,
// as torch does.
#pragma once

#include <optional>
#include <vector>

#include "tensor.h"

namespace glassnet {

// out = x with dim `dim` replaced by x.select(dim, index[j]) for each j.
// index is 0-d or 1-d int64; negative indices are errors (torch).
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
// Out of place: out = x; out.select(dim, index[j]) += source.select(dim, j),
// duplicates summed.
Tensor index_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& source);
// Gradient of index_select: zeros(input_shape) index_add'ed with grad.
Tensor index_select_backward(const Tensor& grad, const Shape& input_shape, int64_t dim, const Tensor& index);

// out[p] = x[p with p[dim] = index[p]]; out has index's shape. index has x's
// ndim and index.size(d) <= x.size(d) for d != dim.
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
// Out of place: out = x; out[p with p[dim] = index[p]] = src[p] (last write
// wins for duplicates) or += src[p] (scatter_add, duplicates summed).
// index.size(d) <= src.size(d) for all d, <= x.size(d) for d != dim.
Tensor scatter(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);
Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);
// Gradient of gather: zeros(input_shape) scatter_add'ed with grad.
Tensor gather_backward(const Tensor& grad, const Shape& input_shape, int64_t dim, const Tensor& index);

// Advanced indexing, numpy/torch rules. indices[d] indexes dim d of x (int64,
// or a bool mask covering mask.ndim dims from d); nullopt is a full slice, and
// dims past the end of `indices` are full slices. Index tensors broadcast
// together to a shape B; if they are adjacent, B replaces them in place in the
// result, otherwise B goes first.
using IndexList = std::vector<std::optional<Tensor>>;
Tensor index(const Tensor& x, const IndexList& indices);
// x[indices] = values (or += with accumulate, duplicates summed); values
// broadcast to the shape index(x, indices) would have and are cast to x's dtype.
void index_put_(Tensor& x, const IndexList& indices, const Tensor& values, bool accumulate);
Tensor index_put(const Tensor& x, const IndexList& indices, const Tensor& values, bool accumulate);
// Gradient of index: zeros(input_shape) with grad accumulated at the indices.
Tensor index_backward(const Tensor& grad, const Shape& input_shape, const IndexList& indices);

// (N, ndim) int64 coordinates of the nonzero elements, in row-major order.
Tensor nonzero(const Tensor& x);
// 1-d tensor of x's elements where the bool mask (broadcast with x) is true.
Tensor masked_select(const Tensor& x, const Tensor& mask);
// int64 labels -> labels.shape + (num_classes,) int64; num_classes -1 means max + 1.
Tensor one_hot(const Tensor& labels, int64_t num_classes);

// Concatenation along dim with torch's dtype promotion; 1-d inputs of shape
// (0,) are skipped (torch's legacy rule).
Tensor cat(const std::vector<Tensor>& xs, int64_t dim);
// Joins equal-shaped tensors along a new dim.
Tensor stack(const std::vector<Tensor>& xs, int64_t dim);
// torch.Tensor.repeat: tiles x repeats[d] times along each dim (x's shape is
// padded with leading 1s to len(repeats)).
Tensor repeat(const Tensor& x, const Shape& repeats);
// Gradient of repeat: grad summed over the tiles, shape input_shape.
Tensor repeat_backward(const Tensor& grad, const Shape& input_shape, const Shape& repeats);

namespace detail {
// Shared checks of the index ops (index.cpp).
void check_cpu(const Tensor& t, const char* op);
void check_index_dtype(const Tensor& index, const char* op);
// IndexError unless every element of index lies in [0, size) (or [-size, size)
// when wrap is true); names op, the bad value, dim and size.
void check_index_range(const Tensor& index, int64_t size, int64_t dim, bool wrap, const char* op);
}  // namespace detail

}  // namespace glassnet
