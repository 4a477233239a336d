// Fused optimiser steps (see optim.h for the references). Each public entry
// point validates its lists once, then runs one update per parameter: the
// element maths of optim_math.h in a vectorisable CPU loop, or, for a
// parameter on a GPU, in the CUDA kernel of cuda/optim.cu.
#include "ops/optim.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>

#include "dispatch.h"
#include "errors.h"
#include "ops/copy.h"
#include "ops/optim_cuda.h"  // declarations only; called in a CUDA build alone
#include "ops/optim_math.h"
#include "parallel.h"

namespace glassnet {

using namespace optim_math;

#ifdef GLASSNET_WITH_CUDA
constexpr bool kWithCuda = true;
#else
constexpr bool kWithCuda = false;
#endif

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
  if (p.device().is_cuda() && !kWithCuda)
    fail<RuntimeError>("[", op, "] parameter ", i, " lives on ", p.device().str(),
                       " but glassnet was built without CUDA");
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
  bool any_cuda = false;
  for (const Tensor& p : params) {
    total += p.numel();
    largest = std::max(largest, p.numel());
    any_cuda = any_cuda || p.device().is_cuda();
  }
  // GPU updates are launches on one stream: they gain nothing from host threads.
  if (!any_cuda && total >= 2 * kGrain && largest <= total / 2) {
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

// ---- CPU loops ----------------------------------------------------------------
// Each loop runs one parameter's update over [0, n) with the options turned
// into template flags; the scalars are copied into the chunk so that stores
// through T* cannot alias them and the loop vectorises.

template <class T>
void sgd_cpu(int64_t n, T* p, const T* g, T* buf, const SgdScalars<T>& scalars, bool maximize, bool decay,
             bool momentum, bool nesterov, bool fresh) {
  with_static_flags([&](auto... flags) {
    parallel_for(0, n, kGrain, [&](int64_t b, int64_t e) {
      const SgdScalars<T> s = scalars;
      for (int64_t i = b; i < e; ++i) sgd_update<decltype(flags)::value...>(i, p, g, buf, s);
    });
  }, maximize, decay, momentum, nesterov, fresh);
}

template <class T>
void adam_cpu(int64_t n, T* p, const T* g, T* m, T* v, T* vmax, const AdamScalars<T>& scalars, bool maximize,
              bool coupled_decay, bool decoupled_decay, bool amsgrad) {
  with_static_flags([&](auto... flags) {
    parallel_for(0, n, kGrain, [&](int64_t b, int64_t e) {
      const AdamScalars<T> s = scalars;
      for (int64_t i = b; i < e; ++i) adam_update<decltype(flags)::value...>(i, p, g, m, v, vmax, s);
    });
  }, maximize, coupled_decay, decoupled_decay, amsgrad);
}

template <class T>
void rmsprop_cpu(int64_t n, T* p, const T* g, T* sq, T* ga, T* buf, const RmspropScalars<T>& scalars,
                 bool maximize, bool decay, bool centered, bool momentum) {
  with_static_flags([&](auto... flags) {
    parallel_for(0, n, kGrain, [&](int64_t b, int64_t e) {
      const RmspropScalars<T> s = scalars;
      for (int64_t i = b; i < e; ++i) rmsprop_update<decltype(flags)::value...>(i, p, g, sq, ga, buf, s);
    });
  }, maximize, decay, centered, momentum);
}

template <class T>
void adagrad_cpu(int64_t n, T* p, const T* g, T* sum, const AdagradScalars<T>& scalars, bool maximize, bool decay) {
  with_static_flags([&](auto... flags) {
    parallel_for(0, n, kGrain, [&](int64_t b, int64_t e) {
      const AdagradScalars<T> s = scalars;
      for (int64_t i = b; i < e; ++i) adagrad_update<decltype(flags)::value...>(i, p, g, sum, s);
    });
  }, maximize, decay);
}

}  // namespace

// Each step function: validate the lists, then per parameter compute the
// scalars on the host and run the update where the parameter lives. The
// `if constexpr (kWithCuda)` branches are discarded in a CPU-only build,
// where no tensor can live on a GPU.

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
    const bool decay = weight_decay != 0, first = use_momentum && fresh[i];
    const bool use_nesterov = use_momentum && nesterov;
    dispatch_float(params[i].dtype(), op, [&](auto tag) {
      using T = decltype(tag);
      const SgdScalars<T> s{static_cast<T>(-lr), static_cast<T>(momentum), static_cast<T>(1 - dampening),
                            static_cast<T>(weight_decay)};
      const int64_t n = params[i].numel();
      if constexpr (kWithCuda) {
        if (params[i].device().is_cuda()) {
          cuda::sgd_param<T>(params[i].device().index, n, p.data<T>(), g.data<T>(), buf.data<T>(), s, maximize,
                             decay, use_momentum, use_nesterov, first);
          return;
        }
      }
      sgd_cpu<T>(n, p.data<T>(), g.data<T>(), buf.data<T>(), s, maximize, decay, use_momentum, use_nesterov, first);
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
  const bool coupled = weight_decay != 0 && !decoupled_weight_decay;
  const bool decoupled = weight_decay != 0 && decoupled_weight_decay;
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
      const AdamScalars<T> s{static_cast<T>(1 - lr * weight_decay),
                             static_cast<T>(weight_decay),
                             static_cast<T>(1 - beta1),
                             static_cast<T>(beta2),
                             static_cast<T>(1 - beta2),
                             static_cast<T>(std::sqrt(bias_correction2)),
                             static_cast<T>(eps),
                             static_cast<T>(-step_size)};
      const int64_t n = params[i].numel();
      if constexpr (kWithCuda) {
        if (params[i].device().is_cuda()) {
          cuda::adam_param<T>(params[i].device().index, n, p.data<T>(), g.data<T>(), m.data<T>(), v.data<T>(),
                              vmax.data<T>(), s, maximize, coupled, decoupled, amsgrad);
          return;
        }
      }
      adam_cpu<T>(n, p.data<T>(), g.data<T>(), m.data<T>(), v.data<T>(), vmax.data<T>(), s, maximize, coupled,
                  decoupled, amsgrad);
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
  const bool decay = weight_decay != 0;
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
                                static_cast<T>(eps),          static_cast<T>(momentum), static_cast<T>(-lr)};
      const int64_t n = params[i].numel();
      if constexpr (kWithCuda) {
        if (params[i].device().is_cuda()) {
          cuda::rmsprop_param<T>(params[i].device().index, n, p.data<T>(), g.data<T>(), sq.data<T>(), ga.data<T>(),
                                 buf.data<T>(), s, maximize, decay, centered, use_momentum);
          return;
        }
      }
      rmsprop_cpu<T>(n, p.data<T>(), g.data<T>(), sq.data<T>(), ga.data<T>(), buf.data<T>(), s, maximize, decay,
                     centered, use_momentum);
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
  const bool decay = weight_decay != 0;
  for_each_param(params, [&](size_t i) {
    const double step = advance_step(steps[i]);
    const double clr = lr / (1 + (step - 1) * lr_decay);
    Workspace p(&params[i]);
    const Workspace g(&grads[i]);  // read only
    Workspace sum(&state_sums[i]);
    dispatch_float(params[i].dtype(), op, [&](auto tag) {
      using T = decltype(tag);
      const AdagradScalars<T> s{static_cast<T>(weight_decay), static_cast<T>(eps), static_cast<T>(-clr)};
      const int64_t n = params[i].numel();
      if constexpr (kWithCuda) {
        if (params[i].device().is_cuda()) {
          cuda::adagrad_param<T>(params[i].device().index, n, p.data<T>(), g.data<T>(), sum.data<T>(), s, maximize,
                                 decay);
          return;
        }
      }
      adagrad_cpu<T>(n, p.data<T>(), g.data<T>(), sum.data<T>(), s, maximize, decay);
    });
    p.commit();
    sum.commit();
  });
}

}  // namespace glassnet
