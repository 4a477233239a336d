// Strided iteration over several operands of one broadcast shape: the loop
// every elementwise kernel runs. Operands are given as byte pointers and byte
// strides (a broadcast dim has stride 0), dims that are contiguous in every
// operand are merged, and the flattened range is split over threads. The
// kernel sees only its innermost run:
//
//   kernel(char* const* ptrs, const int64_t* strides, int64_t n)
//
// and writes its fast path for the case where every stride equals the
// element size, which the compiler vectorises.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "parallel.h"
#include "tensor.h"

namespace glassnet {

// Broadcast shape of two shapes, numpy/torch rules; ValueError naming `op`.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
// Strides (in elements) that view `t` with shape `shape` (t broadcast to it).
Shape broadcast_strides(const Tensor& t, const Shape& shape);

// Elements per chunk below which a loop stays on one thread.
constexpr int64_t kElementwiseGrain = 32768;

template <size_t N>
class StridedLoop {
 public:
  // `strides[i]` are operand i's element strides for `shape`; `sizes[i]` its itemsize.
  StridedLoop(const Shape& shape, const std::array<char*, N>& base,
              const std::array<Shape, N>& strides, const std::array<int64_t, N>& itemsize)
      : base_(base) {
    // Drop size-1 dims, convert to bytes, then merge dims that are contiguous
    // with their inner neighbour in every operand.
    for (size_t d = 0; d < shape.size(); ++d) {
      if (shape[d] == 1) continue;
      shape_.push_back(shape[d]);
      for (size_t i = 0; i < N; ++i) strides_[i].push_back(strides[i][d] * itemsize[i]);
    }
    numel_ = shape_numel(shape);
    for (int64_t d = static_cast<int64_t>(shape_.size()) - 2; d >= 0; --d) {
      bool mergeable = true;
      for (size_t i = 0; i < N; ++i)
        mergeable &= strides_[i][d] == strides_[i][d + 1] * shape_[d + 1];
      if (!mergeable) continue;
      shape_[d] *= shape_[d + 1];
      shape_.erase(shape_.begin() + d + 1);
      for (size_t i = 0; i < N; ++i) {
        strides_[i][d] = strides_[i][d + 1];
        strides_[i].erase(strides_[i].begin() + d + 1);
      }
    }
    if (shape_.empty()) {  // a single element
      shape_.push_back(1);
      for (size_t i = 0; i < N; ++i) strides_[i].push_back(0);
    }
  }

  int64_t numel() const { return numel_; }

  template <class Kernel>
  void run(const Kernel& kernel, int64_t grain = kElementwiseGrain) const {
    if (numel_ == 0) return;
    parallel_for(0, numel_, grain, [&](int64_t begin, int64_t end) { run_range(kernel, begin, end); });
  }

 private:
  template <class Kernel>
  void run_range(const Kernel& kernel, int64_t begin, int64_t end) const {
    const int64_t ndim = static_cast<int64_t>(shape_.size());
    if (ndim == 1) {  // everything merged into one run (the contiguous case): no index bookkeeping
      std::array<char*, N> ptrs;
      std::array<int64_t, N> inner_strides;
      for (size_t i = 0; i < N; ++i) {
        inner_strides[i] = strides_[i][0];
        ptrs[i] = base_[i] + begin * inner_strides[i];
      }
      kernel(ptrs.data(), inner_strides.data(), end - begin);
      return;
    }
    const int64_t inner = shape_[ndim - 1];
    std::vector<int64_t> index(ndim, 0);
    int64_t rest = begin;
    for (int64_t d = ndim - 1; d >= 0; --d) {
      index[d] = rest % shape_[d];
      rest /= shape_[d];
    }
    std::array<int64_t, N> inner_strides;
    for (size_t i = 0; i < N; ++i) inner_strides[i] = strides_[i][ndim - 1];
    int64_t pos = begin;
    while (pos < end) {
      std::array<char*, N> ptrs;
      for (size_t i = 0; i < N; ++i) {
        int64_t off = 0;
        for (int64_t d = 0; d < ndim; ++d) off += index[d] * strides_[i][d];
        ptrs[i] = base_[i] + off;
      }
      int64_t n = inner - index[ndim - 1];
      if (n > end - pos) n = end - pos;
      kernel(ptrs.data(), inner_strides.data(), n);
      pos += n;
      index[ndim - 1] += n;
      for (int64_t d = ndim - 1; d > 0 && index[d] >= shape_[d]; --d) {
        index[d] = 0;
        ++index[d - 1];
      }
    }
  }

  std::array<char*, N> base_;
  Shape shape_;
  std::array<std::vector<int64_t>, N> strides_;
  int64_t numel_ = 0;
};

// A loop over `out` and `inputs` broadcast to out's shape.
template <size_t N>
StridedLoop<N> make_loop(const Tensor& out, const std::array<const Tensor*, N - 1>& inputs) {
  std::array<char*, N> base;
  std::array<Shape, N> strides;
  std::array<int64_t, N> itemsize;
  base[0] = static_cast<char*>(out.raw_data());
  strides[0] = out.strides();
  itemsize[0] = static_cast<int64_t>(out.itemsize());
  for (size_t i = 0; i + 1 < N; ++i) {
    base[i + 1] = static_cast<char*>(inputs[i]->raw_data());
    strides[i + 1] = broadcast_strides(*inputs[i], out.shape());
    itemsize[i + 1] = static_cast<int64_t>(inputs[i]->itemsize());
  }
  return StridedLoop<N>(out.shape(), base, strides, itemsize);
}

}  // namespace glassnet
