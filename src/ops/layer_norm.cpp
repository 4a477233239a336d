// Layer normalisation (Ba, Kiros & Hinton, 2016): x seen as (rows, n) with n
// the product of normalized_shape; one mean/rstd per row, an affine weight
// and bias per feature. Rows are contiguous, so threads take whole rows; the
// weight and bias gradients, sums over rows, are taken by a second pass in
// which threads split the features instead.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "ops/norm.h"
#include "ops/norm_common.h"
#include "parallel.h"

namespace glassnet {
namespace {

using namespace norm_detail;

// rows and n of x (*, normalized_shape), after validating the shapes.
std::pair<int64_t, int64_t> rows_and_features(const Tensor& x, const Shape& normalized_shape, const char* op) {
  check_input(x, op);
  const int64_t k = static_cast<int64_t>(normalized_shape.size());
  bool ok = k >= 1 && k <= x.dim();
  for (int64_t d = 0; ok && d < k; ++d) ok = x.size(x.dim() - k + d) == normalized_shape[d];
  if (!ok) {
    std::string dims = shape_str(normalized_shape);  // "(a, b)" -> "a, b"; "(a,)" -> "a"
    dims = dims.substr(1, dims.size() - 2);
    if (!dims.empty() && dims.back() == ',') dims.pop_back();
    fail<ValueError>("[", op, "] given normalized_shape=", shape_str(normalized_shape), ", expected input of shape (*, ",
                     dims, "), got ", shape_str(x.shape()));
  }
  const int64_t n = shape_numel(normalized_shape);
  const int64_t rows = n ? x.numel() / n : shape_numel(Shape(x.shape().begin(), x.shape().end() - k));
  return {rows, n};
}

template <class T>
std::vector<T> load_as(const Tensor* t, int64_t n, double fill) {
  const std::vector<double> v = load(t, n, fill);
  return std::vector<T>(v.begin(), v.end());
}

}  // namespace

// x (*, normalized_shape), weight/bias normalized_shape -> out like x, mean (rows), rstd (rows)
std::tuple<Tensor, Tensor, Tensor> layer_norm_forward(const Tensor& x, const Shape& normalized_shape,
                                                      const Tensor* weight, const Tensor* bias, double eps) {
  const char* op = "layer_norm";
  const auto [rows, n] = rows_and_features(x, normalized_shape, op);
  check_param(weight, x, normalized_shape, op, "weight");
  check_param(bias, x, normalized_shape, op, "bias");
  const Tensor xc = x.contiguous();
  Tensor out = Tensor::empty(x.shape(), x.dtype());
  Tensor mean = Tensor::empty({rows}, x.dtype()), rstd = Tensor::empty({rows}, x.dtype());
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const std::vector<T> w = load_as<T>(weight, n, 1.0), b = load_as<T>(bias, n, 0.0);
    const T* xp = xc.template data<T>();
    T* yp = out.template data<T>();
    T* mp = mean.template data<T>();
    T* rp = rstd.template data<T>();
    parallel_for(0, rows, std::max<int64_t>(1, kGrain / std::max<int64_t>(n, 1)), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        double mu, var;
        moments(xp + r * n, n, mu, var);
        const T m = static_cast<T>(mu), rs = static_cast<T>(1.0 / std::sqrt(var + eps));
        mp[r] = m;
        rp[r] = rs;
        const T* xr = xp + r * n;
        T* yr = yp + r * n;
        for (int64_t j = 0; j < n; ++j) yr[j] = (xr[j] - m) * rs * w[j] + b[j];
      }
    });
  });
  return {out, mean, rstd};
}

// grad, x (*, normalized_shape), mean/rstd (rows) -> grad_x like x, grad_weight/grad_bias normalized_shape
std::tuple<Tensor, Tensor, Tensor> layer_norm_backward(const Tensor& grad, const Tensor& x,
                                                       const Shape& normalized_shape, const Tensor* weight,
                                                       const Tensor& mean, const Tensor& rstd, bool need_input,
                                                       bool need_weight, bool need_bias) {
  const char* op = "layer_norm_backward";
  const auto [rows, n] = rows_and_features(x, normalized_shape, op);
  check_param(&grad, x, x.shape(), op, "grad");
  check_param(weight, x, normalized_shape, op, "weight");
  check_param(&mean, x, {rows}, op, "mean");
  check_param(&rstd, x, {rows}, op, "rstd");
  const Tensor xc = x.contiguous(), gc = grad.contiguous(), mc = mean.contiguous(), rc = rstd.contiguous();
  Tensor grad_x, grad_w, grad_b;
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* xp = xc.template data<T>();
    const T* gp = gc.template data<T>();
    const T* mp = mc.template data<T>();
    const T* rp = rc.template data<T>();
    if (need_input) {
      const std::vector<T> w = load_as<T>(weight, n, 1.0);
      grad_x = Tensor::empty(x.shape(), x.dtype());
      T* dx = grad_x.template data<T>();
      parallel_for(0, rows, std::max<int64_t>(1, kGrain / std::max<int64_t>(n, 1)), [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
          const T* xr = xp + r * n;
          const T* gr = gp + r * n;
          const T m = mp[r], rs = rp[r];
          double a = 0, b = 0;  // Σ g, Σ g·x̂ with g = grad·weight
          for (int64_t j = 0; j < n; ++j) {
            const T g = gr[j] * w[j];
            a += g;
            b += static_cast<double>(g) * ((xr[j] - m) * rs);
          }
          const T ka = static_cast<T>(a / n), kb = static_cast<T>(b / n);
          T* dr = dx + r * n;
          for (int64_t j = 0; j < n; ++j) dr[j] = rs * (gr[j] * w[j] - ka - (xr[j] - m) * rs * kb);
        }
      });
    }
    if (need_weight || need_bias) {
      grad_w = Tensor::empty(normalized_shape, x.dtype());
      grad_b = Tensor::empty(normalized_shape, x.dtype());
      T* dw = grad_w.template data<T>();
      T* db = grad_b.template data<T>();
      const int64_t grain = std::max<int64_t>(16, kGrain / std::max<int64_t>(rows, 1));
      parallel_for(0, n, grain, [&](int64_t j0, int64_t j1) {
        std::vector<double> aw(j1 - j0, 0.0), ab(j1 - j0, 0.0);
        for (int64_t r = 0; r < rows; ++r) {
          const T* xr = xp + r * n;
          const T* gr = gp + r * n;
          const T m = mp[r], rs = rp[r];
          for (int64_t j = j0; j < j1; ++j) {
            aw[j - j0] += static_cast<double>(gr[j]) * ((xr[j] - m) * rs);
            ab[j - j0] += gr[j];
          }
        }
        for (int64_t j = j0; j < j1; ++j) {
          dw[j] = static_cast<T>(aw[j - j0]);
          db[j] = static_cast<T>(ab[j - j0]);
        }
      });
    }
  });
  if (!need_weight) grad_w = Tensor();
  if (!need_bias) grad_b = Tensor();
  return {grad_x, grad_w, grad_b};
}

}  // namespace glassnet
