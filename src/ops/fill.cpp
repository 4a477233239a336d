#include "ops/fill.h"

#include <cmath>

#include "cuda_api.h"
#include "dispatch.h"
#include "errors.h"
#include "ops/iter.h"

namespace glassnet {

void fill_(Tensor& t, double value) {
  if (t.numel() == 0) return;
  if (t.device().is_cuda()) {
    cuda::fill(t, value);
    return;
  }
  auto loop = make_loop<1>(t, {});
  dispatch_all(t.dtype(), "fill_", [&](auto tag) {
    using T = decltype(tag);
    const T v = static_cast<T>(value);
    loop.run([v](char* const* p, const int64_t* s, int64_t n) {
      if (s[0] == sizeof(T)) {
        T* d = reinterpret_cast<T*>(p[0]);
        for (int64_t i = 0; i < n; ++i) d[i] = v;
      } else {
        for (int64_t i = 0; i < n; ++i) *reinterpret_cast<T*>(p[0] + i * s[0]) = v;
      }
    });
  });
}

Tensor arange(double start, double end, double step, DType dtype) {
  if (step == 0) fail<ValueError>("[arange] step must be nonzero");
  if (!std::isfinite(start) || !std::isfinite(end) || !std::isfinite(step))
    fail<ValueError>("[arange] start, end and step must be finite, got ", start, ", ", end, ", ", step);
  if ((end - start) / step < 0)
    fail<ValueError>("[arange] upper bound and step sign are inconsistent: start=", start, " end=", end, " step=", step);
  const int64_t n = static_cast<int64_t>(std::ceil((end - start) / step));
  Tensor out = Tensor::empty({n}, dtype);
  dispatch_numeric(dtype, "arange", [&](auto tag) {
    using T = decltype(tag);
    T* d = out.data<T>();
    for (int64_t i = 0; i < n; ++i) d[i] = static_cast<T>(start + static_cast<double>(i) * step);
  });
  return out;
}

Tensor linspace(double start, double end, int64_t steps, DType dtype) {
  if (steps < 0) fail<ValueError>("[linspace] number of steps must be non-negative, got ", steps);
  Tensor out = Tensor::empty({steps}, dtype);
  dispatch_numeric(dtype, "linspace", [&](auto tag) {
    using T = decltype(tag);
    T* d = out.data<T>();
    const double step = steps > 1 ? (end - start) / static_cast<double>(steps - 1) : 0.0;
    // Fill symmetric halves from both ends, as torch does, so the last value is exactly `end`.
    const int64_t half = steps / 2;
    for (int64_t i = 0; i < steps; ++i)
      d[i] = static_cast<T>(i < half ? start + step * static_cast<double>(i)
                                     : end - step * static_cast<double>(steps - 1 - i));
  });
  return out;
}

Tensor eye(int64_t n, int64_t m, DType dtype) {
  if (n < 0 || m < 0) fail<ValueError>("[eye] sizes must be non-negative, got n=", n, " m=", m);
  Tensor out = Tensor::zeros({n, m}, dtype);
  dispatch_all(dtype, "eye", [&](auto tag) {
    using T = decltype(tag);
    T* d = out.data<T>();
    for (int64_t i = 0; i < std::min(n, m); ++i) d[i * m + i] = static_cast<T>(1);
  });
  return out;
}

}  // namespace glassnet
