#include "tensor.h"

#include "errors.h"
#include "ops/copy.h"
#include "ops/fill.h"

namespace glassnet {

Shape contiguous_strides(const Shape& shape) {
  Shape strides(shape.size());
  int64_t stride = 1;
  for (int64_t i = static_cast<int64_t>(shape.size()) - 1; i >= 0; --i) {
    strides[i] = stride;
    stride *= shape[i] > 0 ? shape[i] : 1;
  }
  return strides;
}

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

Tensor::Tensor(std::shared_ptr<Storage> storage, Shape shape, Shape strides, int64_t offset,
               DType dtype)
    : storage_(std::move(storage)),
      shape_(std::move(shape)),
      strides_(std::move(strides)),
      offset_(offset),
      numel_(shape_numel(shape_)),
      dtype_(dtype) {}

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  constexpr int64_t kMaxBytes = int64_t(1) << 46;  // 64 TiB: anything larger is a mistake
  int64_t n = 1;
  for (int64_t s : shape) {
    if (s < 0) fail<ValueError>("[empty] negative dimension in shape ", shape_str(shape));
    if (s != 0 && n > kMaxBytes / s) fail<ValueError>("[empty] shape ", shape_str(shape), " is too large");
    n *= s;
  }
  if (n * static_cast<int64_t>(dtype_size(dtype)) > kMaxBytes)
    fail<ValueError>("[empty] shape ", shape_str(shape), " is too large");
  auto storage = Storage::allocate(static_cast<size_t>(n) * dtype_size(dtype), device);
  return Tensor(std::move(storage), shape, contiguous_strides(shape), 0, dtype);
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  return full(shape, 0.0, dtype, device);
}

Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  fill_(t, value);
  return t;
}

Tensor Tensor::scalar(double value, DType dtype, Device device) {
  return full({}, value, dtype, device);
}

bool Tensor::is_contiguous() const {
  int64_t expected = 1;
  for (int64_t i = dim() - 1; i >= 0; --i) {
    if (shape_[i] == 1) continue;
    if (strides_[i] != expected) return numel_ == 0;
    expected *= shape_[i];
  }
  return true;
}

Tensor Tensor::as_strided(Shape shape, Shape strides, int64_t offset) const {
  return Tensor(storage_, std::move(shape), std::move(strides), offset, dtype_);
}

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  Tensor out = empty(shape_, dtype_, device());
  copy_(out, *this);
  return out;
}

int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op) {
  int64_t n = ndim == 0 ? 1 : ndim;  // a 0-d tensor accepts dim 0 and -1, as torch
  if (dim < -n || dim >= n)
    fail<IndexError>("[", op, "] dim ", dim, " is out of range for a tensor with ", ndim,
                     " dimension", ndim == 1 ? "" : "s", " (expected in [", -n, ", ", n - 1, "])");
  return dim < 0 ? dim + n : dim;
}

}  // namespace glassnet
