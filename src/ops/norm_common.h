// Checks and small helpers shared by the normalisation kernels (batch_norm.cpp,
// layer_norm.cpp, group_norm.cpp). Internal: not part of the core's API.
#pragma once

#include <cstdint>
#include <vector>

#include "dispatch.h"
#include "errors.h"
#include "tensor.h"

namespace glassnet::norm_detail {

// Below this many elements a loop runs on the caller's thread.
constexpr int64_t kGrain = 32768;

inline void check_input(const Tensor& x, const char* op) {
  if (!x.defined()) fail<ValueError>("[", op, "] undefined input tensor");
  if (x.device().is_cuda()) fail<RuntimeError>("[", op, "] not implemented for cuda tensors yet");
  if (!is_floating(x.dtype()))
    fail<TypeError>("[", op, "] expected a float32 or float64 input, got ", dtype_name(x.dtype()));
}

// t (may be null) must have x's dtype and the given shape.
inline void check_param(const Tensor* t, const Tensor& x, const Shape& shape, const char* op, const char* name) {
  if (!t) return;
  if (t->device().is_cuda()) fail<RuntimeError>("[", op, "] not implemented for cuda tensors yet");
  if (t->dtype() != x.dtype())
    fail<TypeError>("[", op, "] expected ", name, " to have the input's dtype ", dtype_name(x.dtype()), ", got ",
                    dtype_name(t->dtype()));
  if (t->shape() != shape)
    fail<ValueError>("[", op, "] expected ", name, " of shape ", shape_str(shape), " for input of shape ",
                     shape_str(x.shape()), ", got ", shape_str(t->shape()));
}

// The n elements of t in row-major order as doubles, or n copies of `fill`
// when t is null. Parameters are small: one copy keeps the kernels simple.
inline std::vector<double> load(const Tensor* t, int64_t n, double fill) {
  std::vector<double> v(n, fill);
  if (!t || n == 0) return v;
  const Tensor c = t->contiguous();
  dispatch_float(c.dtype(), "norm", [&](auto tag) {
    using T = decltype(tag);
    const T* p = c.template data<T>();
    for (int64_t i = 0; i < n; ++i) v[i] = p[i];
  });
  return v;
}

// A fresh 1-D tensor of dtype d holding v.
inline Tensor store(const std::vector<double>& v, DType d) {
  Tensor t = Tensor::empty({static_cast<int64_t>(v.size())}, d);
  dispatch_float(d, "norm", [&](auto tag) {
    using T = decltype(tag);
    T* p = t.template data<T>();
    for (size_t i = 0; i < v.size(); ++i) p[i] = static_cast<T>(v[i]);
  });
  return t;
}

// Mean and biased variance of n contiguous values, in two passes (mean, then
// squared deviations) so that a large mean does not cancel the variance away.
template <class T>
void moments(const T* x, int64_t n, double& mean, double& var) {
  double s = 0;
  for (int64_t j = 0; j < n; ++j) s += x[j];
  mean = n ? s / n : 0.0;
  double q = 0;
  for (int64_t j = 0; j < n; ++j) {
    const double d = x[j] - mean;
    q += d * d;
  }
  var = n ? q / n : 0.0;
}

}  // namespace glassnet::norm_detail
