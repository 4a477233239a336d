// The per-element optimiser updates, shared by the CPU loops (optim.cpp) and
// the CUDA kernels (cuda/optim.cu) so both devices compute the same maths.
//
// Each update mirrors torch's single-tensor op sequence for one element:
//   add(alpha)   a + alpha * b
//   addcmul      a + value * t1 * t2
//   addcdiv      a + value * t1 / t2
//   lerp(w)      |w| < 0.5 ? a + w * (b - a) : b - (b - a) * (1 - w)
// with every Python-float hyper-parameter combined in double on the host and
// rounded to the parameter dtype, as torch's Scalar arguments are.
//
// Options are template flags, so each combination compiles to a branch-free
// body; with_static_flags turns the runtime options into those flags once per
// parameter. Buffers an option leaves unused may be null: they are never
// touched.
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

#ifdef __CUDACC__
#define GLASSNET_HOST_DEVICE __host__ __device__
#else
#define GLASSNET_HOST_DEVICE
#endif

namespace glassnet::optim_math {

// Calls f(std::bool_constant<flags>...) with each runtime flag turned into a
// compile-time constant.
template <class F>
void with_static_flags(F&& f) {
  f();
}
template <class F, class... Rest>
void with_static_flags(F&& f, bool first, Rest... rest) {
  if (first)
    with_static_flags([&](auto... flags) { f(std::true_type{}, flags...); }, rest...);
  else
    with_static_flags([&](auto... flags) { f(std::false_type{}, flags...); }, rest...);
}

// Both branches are computed and one selected, which vectorises; the weight
// is the same for every element.
template <class T>
GLASSNET_HOST_DEVICE inline T lerp(T a, T b, T w) {
  const T small = a + w * (b - a);
  const T large = b - (b - a) * (T(1) - w);
  return std::abs(w) < T(0.5) ? small : large;
}

// torch.maximum: NaN in either operand wins.
template <class T>
GLASSNET_HOST_DEVICE inline T nan_max(T a, T b) {
  return (a != a || a > b) ? a : b;
}

// ---- SGD ----------------------------------------------------------------------

template <class T>
struct SgdScalars {
  T neg_lr, momentum, one_minus_dampening, weight_decay;
};

// Flags: maximize, weight decay, momentum, nesterov, fresh buffer (set to the
// first decayed gradient instead of updated, as torch's clone).
template <bool Maximize, bool Decay, bool Momentum, bool Nesterov, bool Fresh, class T>
GLASSNET_HOST_DEVICE inline void sgd_update(int64_t i, T* p, const T* g, T* buf, const SgdScalars<T>& s) {
  T d = g[i];
  if constexpr (Maximize) d = -d;
  if constexpr (Decay) d = d + s.weight_decay * p[i];
  if constexpr (Momentum) {
    if constexpr (Fresh)
      buf[i] = d;
    else
      buf[i] = buf[i] * s.momentum + s.one_minus_dampening * d;
    if constexpr (Nesterov)
      d = d + s.momentum * buf[i];
    else
      d = buf[i];
  }
  p[i] = p[i] + s.neg_lr * d;
}

// ---- Adam / AdamW -----------------------------------------------------------------

template <class T>
struct AdamScalars {
  T decay_factor, weight_decay, one_minus_beta1, beta2, one_minus_beta2, bias_correction2_sqrt, eps, neg_step_size;
};

// Flags: maximize, L2 decay added to the gradient (Adam), decoupled decay of
// the parameter (AdamW), amsgrad. m: exp_avg, v: exp_avg_sq, vmax: max_exp_avg_sq.
template <bool Maximize, bool CoupledDecay, bool DecoupledDecay, bool Amsgrad, class T>
GLASSNET_HOST_DEVICE inline void adam_update(int64_t i, T* p, const T* g, T* m, T* v, T* vmax,
                                             const AdamScalars<T>& s) {
  if constexpr (DecoupledDecay) p[i] = p[i] * s.decay_factor;
  T d = g[i];
  if constexpr (Maximize) d = -d;
  if constexpr (CoupledDecay) d = d + s.weight_decay * p[i];
  m[i] = lerp(m[i], d, s.one_minus_beta1);
  v[i] = v[i] * s.beta2 + s.one_minus_beta2 * d * d;
  T second = v[i];
  if constexpr (Amsgrad) second = vmax[i] = nan_max(vmax[i], v[i]);
  const T denom = std::sqrt(second) / s.bias_correction2_sqrt + s.eps;
  p[i] = p[i] + s.neg_step_size * m[i] / denom;
}

// ---- RMSprop ------------------------------------------------------------------------

template <class T>
struct RmspropScalars {
  T weight_decay, alpha, one_minus_alpha, eps, momentum, neg_lr;
};

// Flags: maximize, weight decay, centred, momentum. sq: square_avg,
// ga: grad_avg, buf: momentum_buffer.
template <bool Maximize, bool Decay, bool Centered, bool Momentum, class T>
GLASSNET_HOST_DEVICE inline void rmsprop_update(int64_t i, T* p, const T* g, T* sq, T* ga, T* buf,
                                                const RmspropScalars<T>& s) {
  T d = g[i];
  if constexpr (Maximize) d = -d;
  if constexpr (Decay) d = d + s.weight_decay * p[i];
  sq[i] = sq[i] * s.alpha + s.one_minus_alpha * d * d;
  T avg;
  if constexpr (Centered) {
    ga[i] = lerp(ga[i], d, s.one_minus_alpha);
    avg = std::sqrt(sq[i] - ga[i] * ga[i]);
  } else {
    avg = std::sqrt(sq[i]);
  }
  avg = avg + s.eps;
  if constexpr (Momentum) {
    buf[i] = buf[i] * s.momentum + d / avg;
    p[i] = p[i] + s.neg_lr * buf[i];
  } else {
    p[i] = p[i] + s.neg_lr * d / avg;
  }
}

// ---- Adagrad ------------------------------------------------------------------------

template <class T>
struct AdagradScalars {
  T weight_decay, eps, neg_clr;
};

// Flags: maximize, weight decay. sum: the accumulated squared gradients.
template <bool Maximize, bool Decay, class T>
GLASSNET_HOST_DEVICE inline void adagrad_update(int64_t i, T* p, const T* g, T* sum, const AdagradScalars<T>& s) {
  T d = g[i];
  if constexpr (Maximize) d = -d;
  if constexpr (Decay) d = d + s.weight_decay * p[i];
  sum[i] = sum[i] + d * d;
  p[i] = p[i] + s.neg_clr * d / (std::sqrt(sum[i]) + s.eps);
}

}  // namespace glassnet::optim_math
