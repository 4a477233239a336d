// The one tensor type: a view (shape, strides in elements, offset) onto a
// shared Storage, with a dtype. Copying a Tensor copies the view, never the
// data; views made by reshape/transpose/slicing share the storage.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "device.h"
#include "dtype.h"
#include "storage.h"

namespace glassnet {

using Shape = std::vector<int64_t>;

// Row-major strides for a shape.
Shape contiguous_strides(const Shape& shape);
int64_t shape_numel(const Shape& shape);

class Tensor {
 public:
  Tensor() = default;
  Tensor(std::shared_ptr<Storage> storage, Shape shape, Shape strides, int64_t offset, DType dtype);

  // Uninitialised memory for a contiguous tensor.
  static Tensor empty(const Shape& shape, DType dtype, Device device = cpu_device());
  static Tensor zeros(const Shape& shape, DType dtype, Device device = cpu_device());
  static Tensor full(const Shape& shape, double value, DType dtype, Device device = cpu_device());
  // A 0-d tensor holding one value.
  static Tensor scalar(double value, DType dtype, Device device = cpu_device());

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  const Shape& strides() const { return strides_; }
  int64_t offset() const { return offset_; }
  DType dtype() const { return dtype_; }
  Device device() const { return storage_->device(); }
  const std::shared_ptr<Storage>& storage() const { return storage_; }
  int64_t dim() const { return static_cast<int64_t>(shape_.size()); }
  int64_t size(int64_t d) const { return shape_[d]; }
  int64_t numel() const { return numel_; }
  size_t itemsize() const { return dtype_size(dtype_); }
  bool is_contiguous() const;

  // Element pointer at the view's offset; T must match dtype().
  template <class T>
  T* data() const {
    return static_cast<T*>(storage_->data()) + offset_;
  }
  void* raw_data() const {
    return static_cast<char*>(storage_->data()) + offset_ * static_cast<int64_t>(itemsize());
  }

  // A new view onto the same storage.
  Tensor as_strided(Shape shape, Shape strides, int64_t offset) const;
  // This tensor if contiguous, else a contiguous copy.
  Tensor contiguous() const;

 private:
  std::shared_ptr<Storage> storage_;
  Shape shape_;
  Shape strides_;
  int64_t offset_ = 0;
  int64_t numel_ = 0;
  DType dtype_ = DType::Float32;
};

// Wraps a possibly negative dim into [0, ndim); IndexError naming op otherwise.
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op);

}  // namespace glassnet
