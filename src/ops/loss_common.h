// Pieces shared by the loss kernels (internal to src/ops/loss_*.cpp): input
// checks, the deterministic sum every reduction uses, and the strided
// elementwise engine the regression and binary losses run on.
//
// Sums are formed in double over fixed blocks of the flattened operand and the
// block sums are added in order, so a loss is the same bit for bit whatever
// the thread count.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <vector>

#include "cpu.h"
#include "errors.h"
#include "ops/exp_inplace.h"
#include "ops/iter.h"
#include "ops/loss.h"
#include "ops/vecmath.h"
#include "parallel.h"
#include "tensor.h"

namespace glassnet::loss_detail {

constexpr int64_t kSumBlock = 4096;

using glassnet::exp_inplace;

inline void check_cpu(const Tensor& t, const char* op) {
  if (!t.device().is_cpu()) fail<RuntimeError>("[", op, "] not implemented for cuda yet");
}

inline void check_float(const Tensor& t, const char* op, const char* what) {
  if (t.dtype() != DType::Float32 && t.dtype() != DType::Float64)
    fail<TypeError>("[", op, "] expected a float32 or float64 ", what, ", got ", dtype_name(t.dtype()));
}

// An optional operand must share the input's dtype (torch does not promote these).
inline void check_same_dtype(const Tensor& input, const Tensor& other, const char* op, const char* what) {
  check_cpu(other, op);
  if (other.dtype() != input.dtype())
    fail<TypeError>("[", op, "] expected ", what, " of dtype ", dtype_name(input.dtype()), " (the input's), got ",
                    dtype_name(other.dtype()));
}

// Σ value(i) for i in [0, n), in double, deterministic (see top of file).
template <class F>
double ordered_sum(int64_t n, const F& value) {
  const int64_t blocks = (n + kSumBlock - 1) / kSumBlock;
  if (blocks <= 1) {
    double s = 0;
    for (int64_t i = 0; i < n; ++i) s += value(i);
    return s;
  }
  std::vector<double> partial(blocks, 0.0);
  parallel_for(0, blocks, 4, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t end = (b + 1) * kSumBlock < n ? (b + 1) * kSumBlock : n;
      double s = 0;
      for (int64_t i = b * kSumBlock; i < end; ++i) s += value(i);
      partial[b] = s;
    }
  });
  double s = 0;
  for (double p : partial) s += p;
  return s;
}

// The reduced loss as a 0-d tensor: Mean divides by `count` (0/0 gives nan, as torch).
inline Tensor reduce_total(double total, double count, Reduction reduction, DType dtype) {
  const double v = reduction == Reduction::Sum ? total : total / count;
  return Tensor::scalar(v, dtype);
}

// ---- the elementwise engine ----------------------------------------------------------
//
// A loss functor F over K operands (input, target, then any weights, all of one
// float dtype T, broadcast to one shape) provides
//   T value(const T* v)                               the pointwise loss
//   T grad_input(const T* v), T grad_target(const T* v)   its partial derivatives
// The engine loops, reduces, and scales by the incoming gradient.

template <class T, size_t K>
std::array<const Tensor*, K> operand_ptrs(const std::array<Tensor, K>& ops) {
  std::array<const Tensor*, K> p;
  for (size_t k = 0; k < K; ++k) p[k] = &ops[k];
  return p;
}

// The pointwise losses in `shape`, as a contiguous tensor.
template <class T, size_t K, class F>
Tensor pointwise_values(const F& f, const Shape& shape, const std::array<Tensor, K>& ops) {
  Tensor out = Tensor::empty(shape, ops[0].dtype());
  auto loop = make_loop<K + 1>(out, operand_ptrs<T, K>(ops));
  loop.run([&f](char* const* p, const int64_t* s, int64_t n) {
    T v[K];
    for (int64_t i = 0; i < n; ++i) {
      for (size_t k = 0; k < K; ++k) v[k] = *reinterpret_cast<const T*>(p[k + 1] + i * s[k + 1]);
      *reinterpret_cast<T*>(p[0] + i * s[0]) = f.value(v);
    }
  });
  return out;
}

// Forward: the loss per element (None) or its sum / mean over `count` elements.
template <class T, size_t K, class F>
Tensor elementwise_loss_forward(const F& f, const Shape& shape, const std::array<Tensor, K>& ops,
                                Reduction reduction, double count) {
  if (reduction == Reduction::None) return pointwise_values<T, K>(f, shape, ops);
  bool flat = true;  // every operand already laid out as `shape`: sum straight from memory
  for (const Tensor& t : ops) flat &= t.shape() == shape && t.is_contiguous();
  double total;
  if (flat) {
    std::array<const T*, K> ptr;
    for (size_t k = 0; k < K; ++k) ptr[k] = ops[k].template data<T>();
    total = ordered_sum(shape_numel(shape), [&](int64_t i) {
      T v[K];
      for (size_t k = 0; k < K; ++k) v[k] = ptr[k][i];
      return static_cast<double>(f.value(v));
    });
  } else {
    Tensor values = pointwise_values<T, K>(f, shape, ops);
    const T* y = values.data<T>();
    total = ordered_sum(values.numel(), [y](int64_t i) { return static_cast<double>(y[i]); });
  }
  return reduce_total(total, count, reduction, ops[0].dtype());
}

// Backward: grad_input and/or grad_target in `shape`. `grad` is the incoming
// gradient: of `shape` for None, else 0-d (scaled by 1/count for the means).
template <class T, size_t K, class F>
std::pair<std::optional<Tensor>, std::optional<Tensor>> elementwise_loss_backward(
    const F& f, const Shape& shape, const Tensor& grad, const std::array<Tensor, K>& ops, Reduction reduction,
    double count, bool need_input, bool need_target) {
  Tensor g = grad;
  if (reduction != Reduction::None) {
    const double scale = reduction == Reduction::Sum ? 1.0 : 1.0 / count;
    g = Tensor::scalar(static_cast<double>(*grad.contiguous().data<T>()) * scale, ops[0].dtype());
  }
  std::optional<Tensor> gi, gt;
  if (need_input) gi = Tensor::empty(shape, ops[0].dtype());
  if (need_target) gt = Tensor::empty(shape, ops[0].dtype());
  if (!need_input && !need_target) return {gi, gt};
  // Loop operands: 0 the first gradient asked for, 1 grad_target when both are
  // asked for (else operand 0 again, never written), 2 the incoming gradient,
  // then the loss operands. Outputs are written through the loop's pointers.
  const Tensor& first = need_input ? *gi : *gt;
  std::array<const Tensor*, K + 2> in;
  in[0] = need_input && need_target ? &*gt : &first;
  in[1] = &g;
  for (size_t k = 0; k < K; ++k) in[k + 2] = &ops[k];
  const int tgt = need_input ? 1 : 0;
  auto loop = make_loop<K + 3>(first, in);
  loop.run([&](char* const* p, const int64_t* s, int64_t n) {
    T v[K];
    for (int64_t i = 0; i < n; ++i) {
      for (size_t k = 0; k < K; ++k) v[k] = *reinterpret_cast<const T*>(p[k + 3] + i * s[k + 3]);
      const T gv = *reinterpret_cast<const T*>(p[2] + i * s[2]);
      if (need_input) *reinterpret_cast<T*>(p[0] + i * s[0]) = gv * f.grad_input(v);
      if (need_target) *reinterpret_cast<T*>(p[tgt] + i * s[tgt]) = gv * f.grad_target(v);
    }
  });
  return {gi, gt};
}

}  // namespace glassnet::loss_detail
