// Group normalisation (Wu & He, 2018): x (N, C, *) seen as (N·G, K) rows with
// K = (C/G)·L contiguous elements each (L = product of the trailing dims);
// one mean/rstd per row, an affine weight and bias per channel. Threads take
// whole rows; the weight and bias gradients, sums over samples and positions,
// are taken by a second pass in which threads split the channels.
#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/norm.h"
#include "ops/norm_common.h"
#include "parallel.h"

namespace glassnet {
namespace {

using namespace norm_detail;

struct Groups {
  int64_t N, C, G, Cg, L, K;  // K = Cg·L elements per (sample, group)
};

Groups groups_of(const Tensor& x, int64_t G, const char* op) {
  check_input(x, op);
  if (x.dim() < 2)
    fail<ValueError>("[", op, "] expected input of shape (N, C, *) with at least 2 dims, got ", shape_str(x.shape()));
  const int64_t C = x.size(1);
  if (G <= 0 || C % G != 0)
    fail<ValueError>("[", op, "] expected the number of channels of input ", shape_str(x.shape()),
                     " to be divisible by num_groups=", G);
  int64_t L = 1;
  for (int64_t d = 2; d < x.dim(); ++d) L *= x.size(d);
  return {x.size(0), C, G, C / G, L, C / G * L};
}

template <class T>
std::vector<T> load_as(const Tensor* t, int64_t n, double fill) {
  const std::vector<double> v = load(t, n, fill);
  return std::vector<T>(v.begin(), v.end());
}

}  // namespace

// x (N, C, *), weight/bias (C) -> out like x, mean (N·G), rstd (N·G)
std::tuple<Tensor, Tensor, Tensor> group_norm_forward(const Tensor& x, int64_t num_groups, const Tensor* weight,
                                                      const Tensor* bias, double eps) {
  const char* op = "group_norm";
  const Groups s = groups_of(x, num_groups, op);
  check_param(weight, x, {s.C}, op, "weight");
  check_param(bias, x, {s.C}, op, "bias");
  const Tensor xc = x.contiguous();
  Tensor out = Tensor::empty(x.shape(), x.dtype());
  Tensor mean = Tensor::empty({s.N * s.G}, x.dtype()), rstd = Tensor::empty({s.N * s.G}, x.dtype());
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const std::vector<T> w = load_as<T>(weight, s.C, 1.0), b = load_as<T>(bias, s.C, 0.0);
    const T* xp = xc.template data<T>();
    T* yp = out.template data<T>();
    T* mp = mean.template data<T>();
    T* rp = rstd.template data<T>();
    const int64_t rows = s.N * s.G;
    parallel_for(0, rows, std::max<int64_t>(1, kGrain / std::max<int64_t>(s.K, 1)), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        double mu, var;
        moments(xp + r * s.K, s.K, mu, var);
        const T m = static_cast<T>(mu), rs = static_cast<T>(1.0 / std::sqrt(var + eps));
        mp[r] = m;
        rp[r] = rs;
        const int64_t c0 = (r % s.G) * s.Cg;
        for (int64_t k = 0; k < s.Cg; ++k) {
          const T scale = rs * w[c0 + k], shift = b[c0 + k];
          const T* xr = xp + r * s.K + k * s.L;
          T* yr = yp + r * s.K + k * s.L;
          for (int64_t l = 0; l < s.L; ++l) yr[l] = (xr[l] - m) * scale + shift;
        }
      }
    });
  });
  return {out, mean, rstd};
}

// grad, x (N, C, *), mean/rstd (N·G) -> grad_x like x, grad_weight (C), grad_bias (C)
std::tuple<Tensor, Tensor, Tensor> group_norm_backward(const Tensor& grad, const Tensor& x, int64_t num_groups,
                                                       const Tensor* weight, const Tensor& mean, const Tensor& rstd,
                                                       bool need_input, bool need_weight, bool need_bias) {
  const char* op = "group_norm_backward";
  const Groups s = groups_of(x, num_groups, op);
  check_param(&grad, x, x.shape(), op, "grad");
  check_param(weight, x, {s.C}, op, "weight");
  check_param(&mean, x, {s.N * s.G}, op, "mean");
  check_param(&rstd, x, {s.N * s.G}, op, "rstd");
  const Tensor xc = x.contiguous(), gc = grad.contiguous(), mc = mean.contiguous(), rc = rstd.contiguous();
  Tensor grad_x, grad_w, grad_b;
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* xp = xc.template data<T>();
    const T* gp = gc.template data<T>();
    const T* mp = mc.template data<T>();
    const T* rp = rc.template data<T>();
    if (need_input) {
      const std::vector<T> w = load_as<T>(weight, s.C, 1.0);
      grad_x = Tensor::empty(x.shape(), x.dtype());
      T* dx = grad_x.template data<T>();
      const int64_t rows = s.N * s.G;
      parallel_for(0, rows, std::max<int64_t>(1, kGrain / std::max<int64_t>(s.K, 1)), [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
          const int64_t c0 = (r % s.G) * s.Cg;
          const T m = mp[r], rs = rp[r];
          double a = 0, b = 0;  // Σ g, Σ g·x̂ with g = grad·weight over the group
          for (int64_t k = 0; k < s.Cg; ++k) {
            const T* xr = xp + r * s.K + k * s.L;
            const T* gr = gp + r * s.K + k * s.L;
            double sa = 0, sb = 0;
            for (int64_t l = 0; l < s.L; ++l) {
              sa += gr[l];
              sb += static_cast<double>(gr[l]) * ((xr[l] - m) * rs);
            }
            a += w[c0 + k] * sa;
            b += w[c0 + k] * sb;
          }
          const T ka = static_cast<T>(a / s.K), kb = static_cast<T>(b / s.K);
          for (int64_t k = 0; k < s.Cg; ++k) {
            const T wk = w[c0 + k];
            const T* xr = xp + r * s.K + k * s.L;
            const T* gr = gp + r * s.K + k * s.L;
            T* dr = dx + r * s.K + k * s.L;
            for (int64_t l = 0; l < s.L; ++l) dr[l] = rs * (gr[l] * wk - ka - (xr[l] - m) * rs * kb);
          }
        }
      });
    }
    if (need_weight || need_bias) {
      std::vector<double> aw(s.C), ab(s.C);
      parallel_for(0, s.C, std::max<int64_t>(1, kGrain / std::max<int64_t>(s.N * s.L, 1)), [&](int64_t c0, int64_t c1) {
        for (int64_t c = c0; c < c1; ++c) {
          const int64_t g = c / s.Cg;
          double sw = 0, sb = 0;
          for (int64_t n = 0; n < s.N; ++n) {
            const int64_t r = n * s.G + g;
            const T m = mp[r], rs = rp[r];
            const T* xr = xp + (n * s.C + c) * s.L;
            const T* gr = gp + (n * s.C + c) * s.L;
            for (int64_t l = 0; l < s.L; ++l) {
              sw += static_cast<double>(gr[l]) * ((xr[l] - m) * rs);
              sb += gr[l];
            }
          }
          aw[c] = sw;
          ab[c] = sb;
        }
      });
      if (need_weight) grad_w = store(aw, x.dtype());
      if (need_bias) grad_b = store(ab, x.dtype());
    }
  });
  return {grad_x, grad_w, grad_b};
}

}  // namespace glassnet
