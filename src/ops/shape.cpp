#include "ops/shape.h"

#include <algorithm>

#include "dispatch.h"
#include "errors.h"
#include "ops/copy.h"
#include "ops/iter.h"
#include "ops/reduce.h"

namespace glassnet {

namespace {

// Strides that let a tensor with (shape, strides) be read as `new_shape`
// without a copy, or nullopt. Groups of old dims that are contiguous with
// each other can be split or merged freely (the algorithm of torch's
// computeStride).
std::optional<Shape> view_strides(const Shape& shape, const Shape& strides, const Shape& new_shape) {
  if (shape.empty()) return Shape(new_shape.size(), 1);
  const int64_t numel = shape_numel(shape);
  if (numel == 0) return contiguous_strides(new_shape);
  Shape new_strides(new_shape.size());
  int64_t view_d = static_cast<int64_t>(new_shape.size()) - 1;
  int64_t chunk_base_stride = strides.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    tensor_numel *= shape[d];
    // At the start of a contiguous chunk of old dims, or at the end of all.
    if (d == 0 || (shape[d - 1] != 1 && strides[d - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || new_shape[view_d] == 1)) {
        new_strides[view_d] = view_numel * chunk_base_stride;
        view_numel *= new_shape[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return std::nullopt;
      if (d > 0) {
        chunk_base_stride = strides[d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  if (view_d != -1) return std::nullopt;
  return new_strides;
}

}  // namespace

Shape infer_shape(const Shape& shape, int64_t numel, const char* op) {
  Shape out = shape;
  int64_t known = 1, infer_at = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (infer_at >= 0) fail<ValueError>("[", op, "] only one dimension can be inferred in ", shape_str(shape));
      infer_at = static_cast<int64_t>(i);
    } else if (shape[i] < 0) {
      fail<ValueError>("[", op, "] invalid shape dimension ", shape[i], " in ", shape_str(shape));
    } else {
      known *= shape[i];
    }
  }
  if (infer_at >= 0) {
    if (known == 0 || numel % known != 0)
      fail<ValueError>("[", op, "] shape ", shape_str(shape), " is invalid for input of size ", numel);
    out[infer_at] = numel / known;
  } else if (known != numel) {
    fail<ValueError>("[", op, "] shape ", shape_str(shape), " is invalid for input of size ", numel);
  }
  return out;
}

Tensor view(const Tensor& x, const Shape& shape) {
  Shape new_shape = infer_shape(shape, x.numel(), "view");
  auto strides = view_strides(x.shape(), x.strides(), new_shape);
  if (!strides)
    fail<ValueError>("[view] size ", shape_str(new_shape), " is not compatible with the input's size ",
                     shape_str(x.shape()), " and strides ", shape_str(x.strides()),
                     " (at least one dimension spans two contiguous subspaces); use reshape instead");
  return x.as_strided(new_shape, *strides, x.offset());
}

Tensor reshape(const Tensor& x, const Shape& shape) {
  Shape new_shape = infer_shape(shape, x.numel(), "reshape");
  if (auto strides = view_strides(x.shape(), x.strides(), new_shape))
    return x.as_strided(new_shape, *strides, x.offset());
  Tensor c = clone(x);
  return c.as_strided(new_shape, contiguous_strides(new_shape), 0);
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) {
  const int64_t n = x.dim();
  if (static_cast<int64_t>(dims.size()) != n)
    fail<ValueError>("[permute] number of dims ", dims.size(), " doesn't match the tensor's ", n,
                     " dimensions (shape ", shape_str(x.shape()), ")");
  Shape shape(n), strides(n);
  std::vector<bool> seen(n, false);
  for (int64_t i = 0; i < n; ++i) {
    int64_t d = wrap_dim(dims[i], n, "permute");
    if (seen[d]) fail<ValueError>("[permute] repeated dim ", dims[i], " in ", shape_str(dims));
    seen[d] = true;
    shape[i] = x.shape()[d];
    strides[i] = x.strides()[d];
  }
  return x.as_strided(shape, strides, x.offset());
}

Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1) {
  if (x.dim() == 0) {
    wrap_dim(dim0, 0, "transpose");
    wrap_dim(dim1, 0, "transpose");
    return x;
  }
  int64_t a = wrap_dim(dim0, x.dim(), "transpose"), b = wrap_dim(dim1, x.dim(), "transpose");
  Shape shape = x.shape(), strides = x.strides();
  std::swap(shape[a], shape[b]);
  std::swap(strides[a], strides[b]);
  return x.as_strided(shape, strides, x.offset());
}

Tensor expand(const Tensor& x, const Shape& shape) {
  const int64_t n = static_cast<int64_t>(shape.size()), lead = n - x.dim();
  if (lead < 0)
    fail<ValueError>("[expand] the number of sizes provided (", n, ") must be greater or equal to the number of "
                     "dimensions in the tensor (", x.dim(), ")");
  Shape out_shape(n), out_strides(n);
  for (int64_t i = 0; i < n; ++i) {
    if (i < lead) {
      if (shape[i] < 0) fail<ValueError>("[expand] the expanded size -1 is not allowed in a leading, new dimension");
      out_shape[i] = shape[i];
      out_strides[i] = 0;
      continue;
    }
    const int64_t have = x.shape()[i - lead];
    const int64_t want = shape[i] == -1 ? have : shape[i];
    if (have == want) {
      out_shape[i] = have;
      out_strides[i] = x.strides()[i - lead];
    } else if (have == 1 && want >= 0) {
      out_shape[i] = want;
      out_strides[i] = 0;
    } else {
      fail<ValueError>("[expand] the expanded size of the tensor (", want, ") must match the existing size (",
                       have, ") at non-singleton dimension ", i, ". Target sizes: ", shape_str(shape),
                       ". Tensor sizes: ", shape_str(x.shape()));
    }
  }
  return x.as_strided(out_shape, out_strides, x.offset());
}

Tensor squeeze(const Tensor& x, const std::optional<std::vector<int64_t>>& dims) {
  std::vector<bool> drop(x.dim(), false);
  if (dims) {
    for (int64_t d : *dims) {
      int64_t w = wrap_dim(d, x.dim(), "squeeze");
      if (x.dim() > 0 && x.shape()[w] == 1) drop[w] = true;
    }
  } else {
    for (int64_t d = 0; d < x.dim(); ++d) drop[d] = x.shape()[d] == 1;
  }
  Shape shape, strides;
  for (int64_t d = 0; d < x.dim(); ++d)
    if (!drop[d]) {
      shape.push_back(x.shape()[d]);
      strides.push_back(x.strides()[d]);
    }
  return x.as_strided(shape, strides, x.offset());
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  const int64_t d = wrap_dim(dim, x.dim() + 1, "unsqueeze");
  Shape shape = x.shape(), strides = x.strides();
  const int64_t stride = d < x.dim() ? x.strides()[d] * x.shape()[d] : 1;
  shape.insert(shape.begin() + d, 1);
  strides.insert(strides.begin() + d, stride);
  return x.as_strided(shape, strides, x.offset());
}

Tensor slice(const Tensor& x, int64_t dim, std::optional<int64_t> start, std::optional<int64_t> stop,
             int64_t step) {
  if (x.dim() == 0) fail<IndexError>("[slice] a 0-d tensor cannot be sliced");
  const int64_t d = wrap_dim(dim, x.dim(), "slice");
  if (step <= 0) fail<ValueError>("[slice] step must be greater than zero, got ", step);
  const int64_t size = x.shape()[d];
  auto clamp_index = [size](int64_t i) {
    if (i < 0) i += size;
    return std::min(std::max<int64_t>(i, 0), size);
  };
  const int64_t b = start ? clamp_index(*start) : 0;
  const int64_t e = stop ? clamp_index(*stop) : size;
  const int64_t len = e > b ? (e - b + step - 1) / step : 0;
  Shape shape = x.shape(), strides = x.strides();
  shape[d] = len;
  strides[d] = x.strides()[d] * step;
  return x.as_strided(shape, strides, x.offset() + (len > 0 ? b * x.strides()[d] : 0));
}

Tensor select(const Tensor& x, int64_t dim, int64_t index) {
  if (x.dim() == 0) fail<IndexError>("[select] invalid index of a 0-dim tensor");
  const int64_t d = wrap_dim(dim, x.dim(), "select");
  const int64_t size = x.shape()[d];
  if (index < -size || index >= size)
    fail<IndexError>("[select] index ", index, " is out of bounds for dimension ", d, " with size ", size);
  if (index < 0) index += size;
  Shape shape = x.shape(), strides = x.strides();
  shape.erase(shape.begin() + d);
  strides.erase(strides.begin() + d);
  return x.as_strided(shape, strides, x.offset() + index * x.strides()[d]);
}

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  if (x.dim() == 0) fail<IndexError>("[narrow] cannot be applied to a 0-dim tensor");
  const int64_t d = wrap_dim(dim, x.dim(), "narrow");
  const int64_t size = x.shape()[d];
  if (start < -size || start > size)
    fail<IndexError>("[narrow] start ", start, " is out of range for dimension ", d, " of size ", size);
  if (start < 0) start += size;
  if (length < 0 || start + length > size)
    fail<ValueError>("[narrow] start (", start, ") + length (", length, ") exceeds dimension size (", size, ")");
  return slice(x, d, start, start + length, 1);
}

Tensor flatten(const Tensor& x, int64_t start_dim, int64_t end_dim) {
  if (x.dim() == 0) return reshape(x, {1});
  const int64_t s = wrap_dim(start_dim, x.dim(), "flatten"), e = wrap_dim(end_dim, x.dim(), "flatten");
  if (s > e) fail<ValueError>("[flatten] start_dim (", start_dim, ") cannot come after end_dim (", end_dim, ")");
  Shape shape(x.shape().begin(), x.shape().begin() + s);
  int64_t merged = 1;
  for (int64_t d = s; d <= e; ++d) merged *= x.shape()[d];
  shape.push_back(merged);
  shape.insert(shape.end(), x.shape().begin() + e + 1, x.shape().end());
  return reshape(x, shape);
}

Tensor sum_to_shape(const Tensor& grad, const Shape& shape) {
  if (grad.shape() == shape) return grad;
  if (broadcast_shapes(grad.shape(), shape, "sum_to_shape") != grad.shape())
    fail<ValueError>("[sum_to_shape] gradient of shape ", shape_str(grad.shape()),
                     " cannot be reduced to shape ", shape_str(shape));
  // Sum the leading dims `shape` lacks and the dims it holds as 1, then drop
  // the leading ones: a reshape of the contiguous sum.
  const int64_t lead = grad.dim() - static_cast<int64_t>(shape.size());
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < grad.dim(); ++d)
    if (d < lead || (shape[d - lead] == 1 && grad.size(d) != 1)) dims.push_back(d);
  if (dims.empty()) return reshape(grad, shape);
  return reshape(reduce(ReduceOp::Sum, grad, dims, true), shape);
}

}  // namespace glassnet
