// Batch normalisation (Ioffe & Szegedy, 2015) over x viewed as (N, C, L):
// one mean and variance per channel c, taken over its N·L elements.
//
// Two loop shapes cover every input: for (N, C) (L == 1) the channels are the
// contiguous inner dim, so threads split the channels and each row updates a
// block of per-channel accumulators; otherwise a channel is N runs of L
// contiguous elements and threads take whole channels.
#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/norm.h"
#include "ops/norm_common.h"
#include "parallel.h"

namespace glassnet {
namespace {

using namespace norm_detail;

struct NCL {
  int64_t N, C, L;
};

NCL ncl_of(const Tensor& x) {
  int64_t L = 1;
  for (int64_t d = 2; d < x.dim(); ++d) L *= x.size(d);
  return {x.size(0), x.size(1), L};
}

// s1[c] and s2[c] accumulate f(c, i, s1, s2) over the flat indices i of channel c.
template <class F>
void channel_sums(NCL s, double* s1, double* s2, const F& f) {
  const int64_t per_channel = std::max<int64_t>(s.N * s.L, 1);
  if (s.L == 1) {
    parallel_for(0, s.C, std::max<int64_t>(16, kGrain / per_channel), [&](int64_t c0, int64_t c1) {
      std::fill(s1 + c0, s1 + c1, 0.0);
      std::fill(s2 + c0, s2 + c1, 0.0);
      for (int64_t n = 0; n < s.N; ++n)
        for (int64_t c = c0; c < c1; ++c) f(c, n * s.C + c, s1[c], s2[c]);
    });
    return;
  }
  parallel_for(0, s.C, std::max<int64_t>(1, kGrain / per_channel), [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      double a = 0, b = 0;
      for (int64_t n = 0; n < s.N; ++n) {
        const int64_t base = (n * s.C + c) * s.L;
        for (int64_t l = 0; l < s.L; ++l) f(c, base + l, a, b);
      }
      s1[c] = a;
      s2[c] = b;
    }
  });
}

// f(c, i) for every flat index i, c its channel.
template <class F>
void channel_map(NCL s, const F& f) {
  if (s.L == 1) {
    parallel_for(0, s.N, std::max<int64_t>(1, kGrain / std::max<int64_t>(s.C, 1)), [&](int64_t n0, int64_t n1) {
      for (int64_t n = n0; n < n1; ++n)
        for (int64_t c = 0; c < s.C; ++c) f(c, n * s.C + c);
    });
    return;
  }
  parallel_for(0, s.N * s.C, std::max<int64_t>(1, kGrain / std::max<int64_t>(s.L, 1)), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t c = p % s.C;
      for (int64_t l = 0; l < s.L; ++l) f(c, p * s.L + l);
    }
  });
}

void check_batch_norm(const Tensor& x, const char* op) {
  check_input(x, op);
  if (x.dim() < 2)
    fail<ValueError>("[", op, "] expected input of shape (N, C) or (N, C, *), got ", shape_str(x.shape()));
}

// running = (1 - m)·running + m·value, written through running's own stride.
template <class T>
void blend_into(const Tensor& running, const std::vector<double>& value, double m) {
  T* p = running.data<T>();
  const int64_t st = running.strides()[0];
  for (size_t c = 0; c < value.size(); ++c) p[c * st] = static_cast<T>((1 - m) * p[c * st] + m * value[c]);
}

}  // namespace

// x (N, C, *), running stats / weight / bias (C) -> out like x, mean (C), rstd (C)
std::tuple<Tensor, Tensor, Tensor> batch_norm_forward(const Tensor& x, const Tensor* running_mean,
                                                      const Tensor* running_var, const Tensor* weight,
                                                      const Tensor* bias, bool training, double momentum,
                                                      double eps) {
  const char* op = "batch_norm";
  check_batch_norm(x, op);
  const NCL s = ncl_of(x);
  const Shape cshape{s.C};
  check_param(running_mean, x, cshape, op, "running_mean");
  check_param(running_var, x, cshape, op, "running_var");
  check_param(weight, x, cshape, op, "weight");
  check_param(bias, x, cshape, op, "bias");
  if (!training && (!running_mean || !running_var))
    fail<ValueError>("[batch_norm] running_mean and running_var must be given in evaluation mode (training=False)");
  if (static_cast<bool>(running_mean) != static_cast<bool>(running_var))
    fail<ValueError>("[batch_norm] running_mean and running_var must be given together");
  const int64_t count = s.N * s.L;
  if (training && count == 1)
    fail<ValueError>("[batch_norm] expected more than 1 value per channel when training, got input of shape ",
                     shape_str(x.shape()));

  const Tensor xc = x.contiguous();
  std::vector<double> mean(s.C), var(s.C), unused(s.C);
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* xp = xc.template data<T>();
    if (training) {
      // Two passes (mean, then squared deviations): no cancellation when |mean| ≫ std.
      channel_sums(s, mean.data(), unused.data(), [&](int64_t, int64_t i, double& a, double&) { a += xp[i]; });
      for (double& m : mean) m = count ? m / count : 0.0;
      channel_sums(s, var.data(), unused.data(), [&](int64_t c, int64_t i, double& a, double&) {
        const double d = xp[i] - mean[c];
        a += d * d;
      });
      if (running_mean && count > 0) {
        std::vector<double> unbiased(s.C);
        for (int64_t c = 0; c < s.C; ++c) unbiased[c] = var[c] / (count - 1);
        blend_into<T>(*running_mean, mean, momentum);
        blend_into<T>(*running_var, unbiased, momentum);
      }
      for (double& v : var) v = count ? v / count : 0.0;
    } else {
      mean = load(running_mean, s.C, 0.0);
      var = load(running_var, s.C, 0.0);
    }
  });
  std::vector<double> rstd(s.C);
  for (int64_t c = 0; c < s.C; ++c) rstd[c] = 1.0 / std::sqrt(var[c] + eps);

  Tensor out = Tensor::empty(x.shape(), x.dtype());
  const std::vector<double> w = load(weight, s.C, 1.0), b = load(bias, s.C, 0.0);
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    std::vector<T> scale(s.C), m(s.C), shift(s.C);
    for (int64_t c = 0; c < s.C; ++c) {
      scale[c] = static_cast<T>(rstd[c] * w[c]);
      m[c] = static_cast<T>(mean[c]);
      shift[c] = static_cast<T>(b[c]);
    }
    const T* xp = xc.template data<T>();
    T* yp = out.template data<T>();
    channel_map(s, [&](int64_t c, int64_t i) { yp[i] = (xp[i] - m[c]) * scale[c] + shift[c]; });
  });
  return {out, store(mean, x.dtype()), store(rstd, x.dtype())};
}

// grad, x (N, C, *); weight, mean, rstd (C) -> grad_x like x, grad_weight (C), grad_bias (C)
std::tuple<Tensor, Tensor, Tensor> batch_norm_backward(const Tensor& grad, const Tensor& x, const Tensor* weight,
                                                       const Tensor& mean, const Tensor& rstd, bool training,
                                                       bool need_input, bool need_weight, bool need_bias) {
  const char* op = "batch_norm_backward";
  check_batch_norm(x, op);
  const NCL s = ncl_of(x);
  check_param(&grad, x, x.shape(), op, "grad");
  check_param(weight, x, {s.C}, op, "weight");
  check_param(&mean, x, {s.C}, op, "mean");
  check_param(&rstd, x, {s.C}, op, "rstd");
  const int64_t count = s.N * s.L;
  const Tensor xc = x.contiguous(), gc = grad.contiguous();
  const std::vector<double> w = load(weight, s.C, 1.0), mu = load(&mean, s.C, 0.0), r = load(&rstd, s.C, 0.0);
  Tensor grad_x, grad_w, grad_b;
  // sum_g = Σ grad, sum_gx = Σ grad·x̂ per channel (needed by all three in training).
  std::vector<double> sum_g(s.C, 0.0), sum_gx(s.C, 0.0);
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* xp = xc.template data<T>();
    const T* gp = gc.template data<T>();
    if (training || need_weight || need_bias) {
      std::vector<T> m(s.C);
      for (int64_t c = 0; c < s.C; ++c) m[c] = static_cast<T>(mu[c]);
      channel_sums(s, sum_g.data(), sum_gx.data(), [&](int64_t c, int64_t i, double& a, double& b) {
        a += gp[i];
        b += static_cast<double>(gp[i]) * (xp[i] - m[c]);
      });
      for (int64_t c = 0; c < s.C; ++c) sum_gx[c] *= r[c];
    }
    if (need_input) {
      grad_x = Tensor::empty(x.shape(), x.dtype());
      T* dx = grad_x.template data<T>();
      // grad_x = k·grad + kx·(x - mean) + k0, the training formula with its
      // per-channel factors folded; in evaluation kx = k0 = 0.
      std::vector<T> k(s.C), kx(s.C), k0(s.C), m(s.C);
      for (int64_t c = 0; c < s.C; ++c) {
        const double wr = w[c] * r[c];
        k[c] = static_cast<T>(wr);
        kx[c] = static_cast<T>(training && count ? -wr * r[c] * sum_gx[c] / count : 0.0);
        k0[c] = static_cast<T>(training && count ? -wr * sum_g[c] / count : 0.0);
        m[c] = static_cast<T>(mu[c]);
      }
      channel_map(s, [&](int64_t c, int64_t i) { dx[i] = k[c] * gp[i] + kx[c] * (xp[i] - m[c]) + k0[c]; });
    }
  });
  if (need_weight) grad_w = store(sum_gx, x.dtype());
  if (need_bias) grad_b = store(sum_g, x.dtype());
  return {grad_x, grad_w, grad_b};
}

}  // namespace glassnet
