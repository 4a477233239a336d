// stream_stats (stream_stats.h): the AVX2 kernel for float32, a plain loop
// otherwise, and a NaN-aware pass for the maxima when a NaN was seen.
#include "ops/stream_stats.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "cpu.h"
#include "dispatch.h"
#include "errors.h"

namespace glassnet {

namespace {

// NaN wins, as in numpy's maximum.
template <class T>
inline T nan_max(T a, T b) {
  return (b > a || b != b) ? b : a;
}

template <class T>
StreamTotals portable_totals(const T* x, int64_t N, int64_t U, int64_t R, T* unit_max) {
  StreamTotals t;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t u = 0; u < U; ++u) {
      const T* row = x + (n * U + u) * R;
      double s = 0, q = 0;
      for (int64_t r = 0; r < R; ++r) {
        s += row[r];
        q += double(row[r]) * row[r];
        t.nonpos += row[r] <= T(0);
        unit_max[u] = nan_max(unit_max[u], row[r]);
      }
      t.sum += s;
      t.sumsq += q;
    }
  return t;
}

}  // namespace

StreamStats stream_stats(const Tensor& x, bool per_unit) {
  if (!x.defined()) fail<ValueError>("[stream_stats] undefined tensor");
  if (x.device().is_cuda()) fail<RuntimeError>("[stream_stats] needs a CPU tensor");
  if (!is_floating(x.dtype()))
    fail<TypeError>("[stream_stats] needs a floating-point tensor, got ", dtype_name(x.dtype()));
  const Tensor c = x.contiguous();
  const int64_t N = c.dim() >= 1 ? c.size(0) : 1;
  const int64_t U = per_unit && c.dim() >= 2 ? c.size(1) : 1;
  const int64_t R = N * U == 0 ? 0 : c.numel() / (N * U);
  StreamStats out;
  out.max = Tensor::empty({U}, c.dtype());
  dispatch_float(c.dtype(), "stream_stats", [&](auto tag) {
    using T = decltype(tag);
    const T* p = c.data<T>();
    T* unit_max = out.max.data<T>();
    std::fill(unit_max, unit_max + U, -std::numeric_limits<T>::infinity());
    StreamTotals t;
#if defined(__x86_64__) || defined(_M_X64)
    if constexpr (std::is_same_v<T, float>) {
      if (cpu_has_avx2_fma()) {
        t = stream_stats_f32_avx2(p, N, U, R, unit_max);
        // vmaxps drops NaN; a NaN anywhere also makes the sum NaN.
        if (std::isnan(t.sum)) {
          std::fill(unit_max, unit_max + U, -std::numeric_limits<T>::infinity());
          t = portable_totals(p, N, U, R, unit_max);
        }
      } else {
        t = portable_totals(p, N, U, R, unit_max);
      }
    } else {
      t = portable_totals(p, N, U, R, unit_max);
    }
#else
    t = portable_totals(p, N, U, R, unit_max);
#endif
    out.sum = t.sum;
    out.sumsq = t.sumsq;
    out.nonpos = t.nonpos;
  });
  return out;
}

}  // namespace glassnet
