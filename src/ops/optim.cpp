// Fused optimiser steps (see optim.h for the references). Each public entry
// point validates its lists once, then runs one elementwise kernel per
// parameter. The kernels mirror torch's op sequence per element:
//   add(alpha)   a + alpha * b
//   addcmul      a + value * t1 * t2
//   addcdiv      a + value * t1 / t2
//   lerp(w)      |w| < 0.5 ? a + w * (b - a) : b - (b - a) * (1 - w)
// with every Python-float hyper-parameter combined in double first and then
// rounded to the parameter dtype, as torch's Scalar arguments are.
#include "ops/optim.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>

#include "dispatch.h"
#include "errors.h"
#include "ops/copy.h"
#include "parallel.h"

namespace glassnet {

namespace {

// Below this many elements a parameter is updated on the calling thread:
// the update is a few flops per element and memory bound.
constexpr int64_t kGrain = 1 << 15;

// ---- validation -------------------------------------------------------------

void check_count(const char* op, const char* what, size_t expected, size_t got) {
  if (expected != got)
    fail<ValueError>("[", op, "] expected ", expected, " ", what, " (one per parameter), got ", got);
}

void check_param(const char* op, const Tensor& p, size_t i) {
  if (!p.defined()) fail<ValueError>("[", op, "] parameter ", i, " is an undefined tensor");
  if (p.device().is_cuda())
    fail<RuntimeError>("[", op, "] parameter ", i, " lives on ", p.device().str(),
                       "; the fused optimiser kernels run on CPU tensors only");
  if (p.dtype() != DType::Float32 && p.dtype() != DType::Float64)
    fail<TypeError>("[", op, "] parameter ", i, " has dtype ", dtype_name(p.dtype()),
                    "; only float32 and float64 parameters can be optimised");
}

// A gradient or state buffer must match its parameter exactly.
void check_like(const char* op, const char* what, const Tensor& p, const Tensor& t, size_t i) {
  if (!t.defined()) fail<ValueError>("[", op, "] ", what, " ", i, " is an undefined tensor");
  if (t.shape() != p.shape())
    fail<ValueError>("[", op, "] ", what, " ", i, " has shape ", shape_str(t.shape()), " but its parameter has shape ",
                     shape_str(p.shape()));
  if (t.dtype() != p.dtype())
    fail<TypeError>("[", op, "] ", what, " ", i, " has dtype ", dtype_name(t.dtype()), " but its parameter has dtype ",
                    dtype_name(p.dtype()));
  if (!(t.device() == p.device()))
    fail<RuntimeError>("[", op, "] ", what, " ", i, " is on ", t.device().str(), " but its parameter is on ",
                       p.device().str());
}

void check_group(const char* op, const TensorList& params, const TensorList& grads) {
  check_count(op, "gradients", params.size(), grads.size());
  for (size_t i = 0; i < params.size(); ++i) {
    check_param(op, params[i], i);
    check_like(op, "gradient", params[i], grads[i], i);
  }
}

void check_state(const char* op, const char* what, const TensorList& params, const TensorList& state) {
  check_count(op, what, params.size(), state.size());
  for (size_t i = 0; i < params.size(); ++i) check_like(op, what, params[i], state[i], i);
}

void check_steps(const char* op, const TensorList& params, const TensorList& steps) {
  check_count(op, "step counters", params.size(), steps.size());
  for (size_t i = 0; i < steps.size(); ++i) {
    const Tensor& s = steps[i];
    if (!s.defined() || s.numel() != 1 || s.dtype() != DType::Float32 || s.device().is_cuda())
      fail<ValueError>("[", op, "] step counter ", i, " must be a one-element float32 CPU tensor, got ",
                       s.defined() ? dtype_name(s.dtype()) : "undefined", " of shape ",
                       s.defined() ? shape_str(s.shape()) : "()");
  }
}

// torch's state["step"] += 1 on a float32 scalar, then read back as a double.
double advance_step(const Tensor& step) {
  float* s = step.data<float>();
  *s += 1.0f;
  return static_cast<double>(*s);
}

// Runs update(i) for every parameter. Large parameters split their own
// elements across threads; a group of many small ones (none holding half
// the elements) is instead split by parameter, so that a network of many
// modest layers still uses every core.
template <class F>
void for_each_param(const TensorList& params, const F& update) {
  const int64_t count = static_cast<int64_t>(params.size());
  int64_t total = 0, largest = 0;
  for (const Tensor& p : params) {
    total += p.numel();
    largest = std::max(largest, p.numel());
  }
  if (total >= 2 * kGrain && largest <= total / 2) {
    parallel_for(0, count, 1, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) update(static_cast<size_t>(i));
    });
  } else {
    for (int64_t i = 0; i < count; ++i) update(static_cast<size_t>(i));
  }
}

// ---- contiguous working memory ------------------------------------------------

// The kernels index flat arrays. A contiguous tensor is updated where it
// lives (no copy of the view is made: this runs per parameter per step);
// any other view is updated through a contiguous copy that commit() writes
// back. A null tensor (a buffer the options leave unused) gives nullptr.
class Workspace {
 public:
  explicit Workspace(const Tensor* t) : target_(t) {
    if (t == nullptr) return;
    if (!t->is_contiguous()) scratch_ = t->contiguous();
    data_ = scratch_.defined() ? scratch_.raw_data() : t->raw_data();
  }
  template <class T>
  T* data() const {
    return static_cast<T*>(data_);
  }
  void commit() {
    if (target_ == nullptr || !scratch_.defined()) return;
    Tensor target = *target_;
    copy_(target, scratch_);
  }

 private:
  const Tensor* target_;
  Tensor scratch_;
  void* data_ = nullptr;
};

// Calls f(std::bool_constant<flags>...) with each runtime flag turned into a
// compile-time constant, so every combination of options gets its own
// branch-free loop that the compiler vectorises.
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
inline T lerp(T a, T b, T w) {
  const T small = a + w * (b - a);
  const T large = b - (b - a) * (T(1) - w);
  return std::abs(w) < T(0.5) ? small : large;
}

// torch.maximum: NaN in either operand wins.
template <class T>
inline T nan_max(T a, T b) {
  return (a != a || a > b) ? a : b;
}

// ---- SGD ----------------------------------------------------------------------

template <class T>
struct SgdScalars {
  T neg_lr, momentum, one_minus_dampening, weight_decay;
  bool use_momentum, nesterov, maximize, decay;
};

// p, g, buf: [n]. buf is unused without momentum.
template <class T>
void sgd_kernel(T* p, const T* g, T* buf, bool fresh, int64_t n, const SgdScalars<T>& scalars) {
  with_static_flags([&](auto maximize, auto decay, auto use_momentum, auto nesterov, auto fresh_buffer) {
    parallel_for(0, n, kGrain, [&](int64_t b, int64_t e) {
      const SgdScalars<T> s = scalars;  // a local copy: stores through T* cannot alias it
      for (int64_t i = b; i < e; ++i) {
        T d = g[i];
        if constexpr (decltype(maximize)::value) d = -d;
        if constexpr (decltype(decay)::value) d = d + s.weight_decay * p[i];
        if constexpr (decltype(use_momentum)::value) {
          if constexpr (decltype(fresh_buffer)::value)
            buf[i] = d;
          else
            buf[i] = buf[i] * s.momentum + s.one_minus_dampening * d;
          if constexpr (decltype(nesterov)::value)
            d = d + s.momentum * buf[i];
          else
            d = buf[i];
        }
        p[i] = p[i] + s.neg_lr * d;
      }
    });
  }, scalars.maximize, scalars.decay, scalars.use_momentum, scalars.use_momentum && scalars.nesterov,
     scalars.use_momentum && fresh);
}

// ---- Adam / AdamW -----------------------------------------------------------------

template <class T>
struct AdamScalars {
  T decay_factor, weight_decay, one_minus_beta1, beta2, one_minus_beta2, bias_correction2_sqrt, eps, neg_step_size;
  bool decoupled_decay, coupled_decay, amsgrad, maximize;
};

// p, g, m (exp_avg), v (exp_avg_sq), vmax (max_exp_avg_sq, amsgrad only): [n]
template <class T>
void adam_kernel(T* p, const T* g, T* m, T* v, T* vmax, int64_t n, const AdamScalars<T>& scalars) {
  with_static_flags([&](auto maximize, auto coupled_decay, auto decoupled_decay, auto amsgrad) {
    parallel_for(0, n, kGrain, [&](int64_t b, int64_t e) {
      const AdamScalars<T> s = scalars;
      for (int64_t i = b; i < e; ++i) {
        if constexpr (decltype(decoupled_decay)::value) p[i] = p[i] * s.decay_factor;
        T d = g[i];
        if constexpr (decltype(maximize)::value) d = -d;
        if constexpr (decltype(coupled_decay)::value) d = d + s.weight_decay * p[i];
        m[i] = lerp(m[i], d, s.one_minus_beta1);
        v[i] = v[i] * s.beta2 + s.one_minus_beta2 * d * d;
        T second = v[i];
        if constexpr (decltype(amsgrad)::value) second = vmax[i] = nan_max(vmax[i], v[i]);
        const T denom = std::sqrt(second) / s.bias_correction2_sqrt + s.eps;
        p[i] = p[i] + s.neg_step_size * m[i] / denom;
      }
    });
  }, scalars.maximize, scalars.coupled_decay, scalars.decoupled_decay, scalars.amsgrad);
}

// ---- RMSprop ------------------------------------------------------------------------

template <class T>
struct RmspropScalars {
  T weight_decay, alpha, one_minus_alpha, eps, momentum, neg_lr;
  bool decay, centered, use_momentum, maximize;
};

// p, g, sq (square_avg), ga (grad_avg, centred only), buf (momentum only): [n]
template <class T>
void rmsprop_kernel(T* p, const T* g, T* sq, T* ga, T* buf, int64_t n, const RmspropScalars<T>& scalars) {
  with_static_flags([&](auto maximize, auto decay, auto centered, auto use_momentum) {
    parallel_for(0, n, kGrain, [&](int64_t b, int64_t e) {
      const RmspropScalars<T> s = scalars;
      for (int64_t i = b; i < e; ++i) {
        T d = g[i];
        if constexpr (decltype(maximize)::value) d = -d;
        if constexpr (decltype(decay)::value) d = d + s.weight_decay * p[i];
        sq[i] = sq[i] * s.alpha + s.one_minus_alpha * d * d;
        T avg;
        if constexpr (decltype(centered)::value) {
          ga[i] = lerp(ga[i], d, s.one_minus_alpha);
          avg = std::sqrt(sq[i] - ga[i] * ga[i]);
        } else {
          avg = std::sqrt(sq[i]);
        }
        avg = avg + s.eps;
        if constexpr (decltype(use_momentum)::value) {
          buf[i] = buf[i] * s.momentum + d / avg;
          p[i] = p[i] + s.neg_lr * buf[i];
        } else {
          p[i] = p[i] + s.neg_lr * d / avg;
        }
      }
    });
  }, scalars.maximize, scalars.decay, scalars.centered, scalars.use_momentum);
}

// ---- Adagrad ------------------------------------------------------------------------

template <class T>
struct AdagradScalars {
  T weight_decay, eps, neg_clr;
  bool decay, maximize;
};

// p, g, sum: [n]
template <class T>
void adagrad_kernel(T* p, const T* g, T* sum, int64_t n, const AdagradScalars<T>& scalars) {
  with_static_flags([&](auto maximize, auto decay) {
    parallel_for(0, n, kGrain, [&](int64_t b, int64_t e) {
      const AdagradScalars<T> s = scalars;
      for (int64_t i = b; i < e; ++i) {
        T d = g[i];
        if constexpr (decltype(maximize)::value) d = -d;
        if constexpr (decltype(decay)::value) d = d + s.weight_decay * p[i];
        sum[i] = sum[i] + d * d;
        p[i] = p[i] + s.neg_clr * d / (std::sqrt(sum[i]) + s.eps);
      }
    });
  }, scalars.maximize, scalars.decay);
}


}  // namespace

void sgd_step(const TensorList& params, const TensorList& grads, const TensorList& momentum_buffers,
              const std::vector<bool>& fresh, double lr, double momentum, double dampening, double weight_decay,
              bool nesterov, bool maximize) {
  const char* op = "sgd_step";
  check_group(op, params, grads);
  const bool use_momentum = momentum != 0;
  if (use_momentum) {
    check_state(op, "momentum buffers", params, momentum_buffers);
    check_count(op, "fresh-buffer flags", params.size(), fresh.size());
  }
  for_each_param(params, [&](size_t i) {
    Workspace p(&params[i]);
    const Workspace g(&grads[i]);  // read only
    Workspace buf(use_momentum ? &momentum_buffers[i] : nullptr);
    dispatch_float(params[i].dtype(), op, [&](auto tag) {
      using T = decltype(tag);
      const SgdScalars<T> s{static_cast<T>(-lr), static_cast<T>(momentum), static_cast<T>(1 - dampening),
                            static_cast<T>(weight_decay), use_momentum, nesterov, maximize, weight_decay != 0};
      sgd_kernel<T>(p.data<T>(), g.data<T>(), buf.data<T>(), use_momentum && fresh[i],
                    params[i].numel(), s);
    });
    p.commit();
    buf.commit();
  });
}

void adam_step(const TensorList& params, const TensorList& grads, const TensorList& exp_avgs,
               const TensorList& exp_avg_sqs, const TensorList& max_exp_avg_sqs, const TensorList& steps, double lr,
               double beta1, double beta2, double eps, double weight_decay, bool amsgrad, bool maximize,
               bool decoupled_weight_decay) {
  const char* op = decoupled_weight_decay ? "adamw_step" : "adam_step";
  check_group(op, params, grads);
  check_state(op, "exp_avg buffers", params, exp_avgs);
  check_state(op, "exp_avg_sq buffers", params, exp_avg_sqs);
  if (amsgrad) check_state(op, "max_exp_avg_sq buffers", params, max_exp_avg_sqs);
  check_steps(op, params, steps);
  for_each_param(params, [&](size_t i) {
    const double step = advance_step(steps[i]);
    const double bias_correction1 = 1 - std::pow(beta1, step);
    const double bias_correction2 = 1 - std::pow(beta2, step);
    const double step_size = lr / bias_correction1;
    Workspace p(&params[i]);
    const Workspace g(&grads[i]);  // read only
    Workspace m(&exp_avgs[i]);
    Workspace v(&exp_avg_sqs[i]);
    Workspace vmax(amsgrad ? &max_exp_avg_sqs[i] : nullptr);
    dispatch_float(params[i].dtype(), op, [&](auto tag) {
      using T = decltype(tag);
      AdamScalars<T> s{};
      s.decay_factor = static_cast<T>(1 - lr * weight_decay);
      s.weight_decay = static_cast<T>(weight_decay);
      s.one_minus_beta1 = static_cast<T>(1 - beta1);
      s.beta2 = static_cast<T>(beta2);
      s.one_minus_beta2 = static_cast<T>(1 - beta2);
      s.bias_correction2_sqrt = static_cast<T>(std::sqrt(bias_correction2));
      s.eps = static_cast<T>(eps);
      s.neg_step_size = static_cast<T>(-step_size);
      s.decoupled_decay = weight_decay != 0 && decoupled_weight_decay;
      s.coupled_decay = weight_decay != 0 && !decoupled_weight_decay;
      s.amsgrad = amsgrad;
      s.maximize = maximize;
      adam_kernel<T>(p.data<T>(), g.data<T>(), m.data<T>(), v.data<T>(), vmax.data<T>(),
                     params[i].numel(), s);
    });
    p.commit();
    m.commit();
    v.commit();
    vmax.commit();
  });
}

void rmsprop_step(const TensorList& params, const TensorList& grads, const TensorList& square_avgs,
                  const TensorList& grad_avgs, const TensorList& momentum_buffers, const TensorList& steps, double lr,
                  double alpha, double eps, double weight_decay, double momentum, bool centered, bool maximize) {
  const char* op = "rmsprop_step";
  const bool use_momentum = momentum > 0;
  check_group(op, params, grads);
  check_state(op, "square_avg buffers", params, square_avgs);
  if (centered) check_state(op, "grad_avg buffers", params, grad_avgs);
  if (use_momentum) check_state(op, "momentum buffers", params, momentum_buffers);
  check_steps(op, params, steps);
  for_each_param(params, [&](size_t i) {
    advance_step(steps[i]);  // kept for torch's state layout; RMSprop's update does not read it
    Workspace p(&params[i]);
    const Workspace g(&grads[i]);  // read only
    Workspace sq(&square_avgs[i]);
    Workspace ga(centered ? &grad_avgs[i] : nullptr);
    Workspace buf(use_momentum ? &momentum_buffers[i] : nullptr);
    dispatch_float(params[i].dtype(), op, [&](auto tag) {
      using T = decltype(tag);
      const RmspropScalars<T> s{static_cast<T>(weight_decay), static_cast<T>(alpha), static_cast<T>(1 - alpha),
                                static_cast<T>(eps), static_cast<T>(momentum), static_cast<T>(-lr),
                                weight_decay != 0, centered, use_momentum, maximize};
      rmsprop_kernel<T>(p.data<T>(), g.data<T>(), sq.data<T>(), ga.data<T>(),
                        buf.data<T>(), params[i].numel(), s);
    });
    p.commit();
    sq.commit();
    ga.commit();
    buf.commit();
  });
}

void adagrad_step(const TensorList& params, const TensorList& grads, const TensorList& state_sums,
                  const TensorList& steps, double lr, double lr_decay, double weight_decay, double eps,
                  bool maximize) {
  const char* op = "adagrad_step";
  check_group(op, params, grads);
  check_state(op, "sum buffers", params, state_sums);
  check_steps(op, params, steps);
  for_each_param(params, [&](size_t i) {
    const double step = advance_step(steps[i]);
    const double clr = lr / (1 + (step - 1) * lr_decay);
    Workspace p(&params[i]);
    const Workspace g(&grads[i]);  // read only
    Workspace sum(&state_sums[i]);
    dispatch_float(params[i].dtype(), op, [&](auto tag) {
      using T = decltype(tag);
      const AdagradScalars<T> s{static_cast<T>(weight_decay), static_cast<T>(eps), static_cast<T>(-clr),
                                weight_decay != 0, maximize};
      adagrad_kernel<T>(p.data<T>(), g.data<T>(), sum.data<T>(), params[i].numel(), s);
    });
    p.commit();
    sum.commit();
  });
}

}  // namespace glassnet
