// Regression and binary losses: mse, l1, smooth_l1, huber, binary cross
// entropy (on probabilities and on logits) and KL divergence. Each is a small
// functor (value and partial derivatives, written as the maths) run by the
// elementwise engine in loss_common.h; formulas follow torch's definitions.
#include <algorithm>
#include <atomic>
#include <cmath>

#include "dispatch.h"
#include "ops/loss.h"
#include "ops/loss_common.h"

namespace glassnet {

using namespace loss_detail;

namespace {

// ---- functors: v = {input, target, ...} -------------------------------------------

template <class T>
struct Mse {
  T value(const T* v) const { const T d = v[0] - v[1]; return d * d; }
  T grad_input(const T* v) const { return T(2) * (v[0] - v[1]); }
  T grad_target(const T* v) const { return -grad_input(v); }
};

// sign(0) = 0: the subgradient torch uses.
template <class T>
struct L1 {
  T value(const T* v) const { return std::abs(v[0] - v[1]); }
  T grad_input(const T* v) const { const T d = v[0] - v[1]; return T((d > T(0)) - (d < T(0))); }
  T grad_target(const T* v) const { return -grad_input(v); }
};

// Quadratic below beta (scaled by 1/beta), linear above; beta > 0.
template <class T>
struct SmoothL1 {
  T beta;
  T value(const T* v) const {
    const T a = std::abs(v[0] - v[1]);
    return a < beta ? T(0.5) * a * a / beta : a - T(0.5) * beta;
  }
  T grad_input(const T* v) const {
    const T d = v[0] - v[1];
    return d <= -beta ? T(-1) : d >= beta ? T(1) : d / beta;
  }
  T grad_target(const T* v) const { return -grad_input(v); }
};

// Quadratic below delta, linear (slope delta) above; delta > 0.
template <class T>
struct Huber {
  T delta;
  T value(const T* v) const {
    const T a = std::abs(v[0] - v[1]);
    return a < delta ? T(0.5) * a * a : delta * (a - T(0.5) * delta);
  }
  T grad_input(const T* v) const {
    const T d = v[0] - v[1];
    return d <= -delta ? -delta : d >= delta ? delta : d;
  }
  T grad_target(const T* v) const { return -grad_input(v); }
};

// v = {p, t, w}: -w (t log p + (1-t) log(1-p)), each log clamped to >= -100 so
// that p = 0 or 1 gives a finite loss, as torch. `bad` records a p or t
// outside [0, 1] (NaN included) for the check after the loop.
template <class T>
struct BinaryCrossEntropy {
  std::atomic<bool>* bad;
  T value(const T* v) const {
    const T p = v[0], t = v[1];
    if (!(p >= T(0) && p <= T(1) && t >= T(0) && t <= T(1))) bad->store(true, std::memory_order_relaxed);
    const T log_p = std::max(std::log(p), T(-100));
    const T log_1mp = std::max(std::log1p(-p), T(-100));
    return -v[2] * (t * log_p + (T(1) - t) * log_1mp);
  }
  // (p - t) / (p (1 - p)), the denominator kept >= 1e-12 as torch does (a float
  // constant there, so float64 gets float(1e-12) too).
  T grad_input(const T* v) const {
    const T p = v[0];
    return v[2] * (p - v[1]) / std::max((T(1) - p) * p, static_cast<T>(1e-12f));
  }
  // -logit(p), unclamped as in torch.
  T grad_target(const T* v) const { return v[2] * (std::log1p(-v[0]) - std::log(v[0])); }
};

// v = {x, t, w, pw}: w ((1-t) x + lw softplus(-x)) with lw = (pw-1) t + 1;
// softplus(-x) = max(-x, 0) + log1p(exp(-|x|)) never overflows.
template <class T>
struct BinaryCrossEntropyWithLogits {
  static T softplus_neg(T x) { return std::max(-x, T(0)) + std::log1p(std::exp(-std::abs(x))); }
  static T sigmoid_neg(T x) {  // 1 / (1 + e^x) without overflow
    const T e = std::exp(-std::abs(x));
    return x >= T(0) ? e / (T(1) + e) : T(1) / (T(1) + e);
  }
  T value(const T* v) const {
    const T x = v[0], t = v[1], lw = (v[3] - T(1)) * t + T(1);
    return v[2] * ((T(1) - t) * x + lw * softplus_neg(x));
  }
  T grad_input(const T* v) const {
    const T x = v[0], t = v[1], lw = (v[3] - T(1)) * t + T(1);
    return v[2] * ((T(1) - t) - lw * sigmoid_neg(x));
  }
  T grad_target(const T* v) const { return v[2] * (-v[0] + (v[3] - T(1)) * softplus_neg(v[0])); }
};

// v = {x, t}: xlogy(t, t) - t x, with 0 log 0 = 0; the target gradient at
// t = 0 is 0/0 = nan, as torch's xlogy derivative gives.
template <class T>
struct KlDiv {
  T value(const T* v) const {
    const T t = v[1];
    return (t == T(0) ? T(0) : t * std::log(t)) - t * v[0];
  }
  T grad_input(const T* v) const { return -v[1]; }
  T grad_target(const T* v) const {
    const T t = v[1];
    return (t != T(0) ? std::log(t) : T(0)) + t / t - v[0];
  }
};

// v = {x, log t}: e^{log t} (log t - x).
template <class T>
struct KlDivLogTarget {
  T value(const T* v) const { return std::exp(v[1]) * (v[1] - v[0]); }
  T grad_input(const T* v) const { return -std::exp(v[1]); }
  T grad_target(const T* v) const { return std::exp(v[1]) * (v[1] - v[0] + T(1)); }
};

// ---- checks -----------------------------------------------------------------------

void check_reduction(Reduction r, const char* op) {
  if (r == Reduction::BatchMean) fail<ValueError>("[", op, "] reduction 'batchmean' is only valid for kl_div");
}

// input and target float, one dtype, on the CPU.
void check_pair(const Tensor& input, const Tensor& target, const char* op) {
  check_cpu(input, op);
  check_float(input, op, "input");
  check_same_dtype(input, target, op, "a target");
}

Tensor weight_or_one(const std::optional<Tensor>& w, const Tensor& input, const char* op, const char* what) {
  if (!w) return Tensor::scalar(1.0, input.dtype());
  check_same_dtype(input, *w, op, what);
  return *w;
}

void check_same_shape(const Tensor& input, const Tensor& target, const char* op) {
  if (input.shape() != target.shape())
    fail<ValueError>("[", op, "] target shape ", shape_str(target.shape()), " must be the same as input shape ",
                     shape_str(input.shape()));
}

// ---- mse / l1 / smooth_l1 / huber -------------------------------------------------

template <class T, class Body>
decltype(auto) with_pointwise(PointwiseLoss kind, double param, const Body& body) {
  switch (kind) {
    case PointwiseLoss::Mse: return body(Mse<T>{});
    case PointwiseLoss::L1: return body(L1<T>{});
    case PointwiseLoss::SmoothL1:
      if (param == 0) return body(L1<T>{});  // beta = 0 is l1, as in torch
      return body(SmoothL1<T>{static_cast<T>(param)});
    case PointwiseLoss::Huber: return body(Huber<T>{static_cast<T>(param)});
  }
  fail<ValueError>("[loss] unknown pointwise loss");
}

const char* pointwise_name(PointwiseLoss kind) {
  switch (kind) {
    case PointwiseLoss::Mse: return "mse_loss";
    case PointwiseLoss::L1: return "l1_loss";
    case PointwiseLoss::SmoothL1: return "smooth_l1_loss";
    case PointwiseLoss::Huber: return "huber_loss";
  }
  return "loss";
}

void check_pointwise(PointwiseLoss kind, const Tensor& input, const Tensor& target, double param,
                     Reduction reduction) {
  const char* op = pointwise_name(kind);
  check_pair(input, target, op);
  check_reduction(reduction, op);
  if (kind == PointwiseLoss::SmoothL1 && !(param >= 0))
    fail<ValueError>("[smooth_l1_loss] beta must be >= 0, got ", param);
  if (kind == PointwiseLoss::Huber && !(param > 0)) fail<ValueError>("[huber_loss] delta must be > 0, got ", param);
}

}  // namespace

Tensor pointwise_loss_forward(PointwiseLoss kind, const Tensor& input, const Tensor& target, double param,
                              Reduction reduction) {
  check_pointwise(kind, input, target, param, reduction);
  const char* op = pointwise_name(kind);
  const Shape shape = broadcast_shapes(input.shape(), target.shape(), op);
  return dispatch_float(input.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    return with_pointwise<T>(kind, param, [&](const auto& f) {
      return elementwise_loss_forward<T, 2>(f, shape, {input, target}, reduction,
                                            static_cast<double>(shape_numel(shape)));
    });
  });
}

Tensor pointwise_loss_backward(PointwiseLoss kind, const Tensor& grad, const Tensor& input, const Tensor& target,
                               double param, Reduction reduction) {
  check_pointwise(kind, input, target, param, reduction);
  const char* op = pointwise_name(kind);
  const Shape shape = broadcast_shapes(input.shape(), target.shape(), op);
  return dispatch_float(input.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    return with_pointwise<T>(kind, param, [&](const auto& f) {
      return *elementwise_loss_backward<T, 2>(f, shape, grad, {input, target}, reduction,
                                              static_cast<double>(shape_numel(shape)), true, false)
                  .first;
    });
  });
}

// ---- binary_cross_entropy -----------------------------------------------------------

namespace {
std::array<Tensor, 3> bce_operands(const Tensor& input, const Tensor& target, const std::optional<Tensor>& weight,
                                   Reduction reduction) {
  const char* op = "binary_cross_entropy";
  check_pair(input, target, op);
  check_reduction(reduction, op);
  check_same_shape(input, target, op);
  Tensor w = weight_or_one(weight, input, op, "a weight");
  if (broadcast_shapes(input.shape(), w.shape(), op) != input.shape())
    fail<ValueError>("[", op, "] weight of shape ", shape_str(w.shape()), " cannot be broadcast to input shape ",
                     shape_str(input.shape()));
  return {input, target, w};
}
}  // namespace

Tensor binary_cross_entropy_forward(const Tensor& input, const Tensor& target, const std::optional<Tensor>& weight,
                                    Reduction reduction) {
  const auto ops = bce_operands(input, target, weight, reduction);
  std::atomic<bool> bad{false};
  Tensor out = dispatch_float(input.dtype(), "binary_cross_entropy", [&](auto tag) {
    using T = decltype(tag);
    return elementwise_loss_forward<T, 3>(BinaryCrossEntropy<T>{&bad}, input.shape(), ops, reduction,
                                          static_cast<double>(input.numel()));
  });
  if (bad.load())
    fail<RuntimeError>("[binary_cross_entropy] all elements of input and target should be between 0 and 1");
  return out;
}

std::pair<std::optional<Tensor>, std::optional<Tensor>> binary_cross_entropy_backward(
    const Tensor& grad, const Tensor& input, const Tensor& target, const std::optional<Tensor>& weight,
    Reduction reduction, bool need_input_grad, bool need_target_grad) {
  const auto ops = bce_operands(input, target, weight, reduction);
  std::atomic<bool> bad{false};
  return dispatch_float(input.dtype(), "binary_cross_entropy", [&](auto tag) {
    using T = decltype(tag);
    return elementwise_loss_backward<T, 3>(BinaryCrossEntropy<T>{&bad}, input.shape(), grad, ops, reduction,
                                           static_cast<double>(input.numel()), need_input_grad, need_target_grad);
  });
}

// ---- binary_cross_entropy_with_logits --------------------------------------------------

namespace {
std::pair<Shape, std::array<Tensor, 4>> bce_logits_operands(const Tensor& input, const Tensor& target,
                                                            const std::optional<Tensor>& weight,
                                                            const std::optional<Tensor>& pos_weight,
                                                            Reduction reduction) {
  const char* op = "binary_cross_entropy_with_logits";
  check_pair(input, target, op);
  check_reduction(reduction, op);
  check_same_shape(input, target, op);
  Tensor w = weight_or_one(weight, input, op, "a weight");
  Tensor pw = weight_or_one(pos_weight, input, op, "a pos_weight");
  Shape shape = broadcast_shapes(broadcast_shapes(input.shape(), w.shape(), op), pw.shape(), op);
  return {shape, {input, target, w, pw}};
}
}  // namespace

Tensor binary_cross_entropy_with_logits_forward(const Tensor& input, const Tensor& target,
                                                const std::optional<Tensor>& weight,
                                                const std::optional<Tensor>& pos_weight, Reduction reduction) {
  const auto [shape, ops] = bce_logits_operands(input, target, weight, pos_weight, reduction);
  return dispatch_float(input.dtype(), "binary_cross_entropy_with_logits", [&](auto tag) {
    using T = decltype(tag);
    return elementwise_loss_forward<T, 4>(BinaryCrossEntropyWithLogits<T>{}, shape, ops, reduction,
                                          static_cast<double>(shape_numel(shape)));
  });
}

std::pair<std::optional<Tensor>, std::optional<Tensor>> binary_cross_entropy_with_logits_backward(
    const Tensor& grad, const Tensor& input, const Tensor& target, const std::optional<Tensor>& weight,
    const std::optional<Tensor>& pos_weight, Reduction reduction, bool need_input_grad, bool need_target_grad) {
  const auto [shape, ops] = bce_logits_operands(input, target, weight, pos_weight, reduction);
  return dispatch_float(input.dtype(), "binary_cross_entropy_with_logits", [&](auto tag) {
    using T = decltype(tag);
    return elementwise_loss_backward<T, 4>(BinaryCrossEntropyWithLogits<T>{}, shape, grad, ops, reduction,
                                           static_cast<double>(shape_numel(shape)), need_input_grad,
                                           need_target_grad);
  });
}

// ---- kl_div -------------------------------------------------------------------------

namespace {
// Mean divides by every element; BatchMean by input.size(0) (an unbatched 0-d
// input divides by 1), as torch.
double kl_div_count(const Tensor& input, const Shape& shape, Reduction reduction) {
  if (reduction == Reduction::BatchMean) return input.dim() > 0 ? static_cast<double>(input.size(0)) : 1.0;
  return static_cast<double>(shape_numel(shape));
}

Reduction kl_div_reduction(Reduction r) { return r == Reduction::BatchMean ? Reduction::Mean : r; }
}  // namespace

Tensor kl_div_forward(const Tensor& input, const Tensor& target, Reduction reduction, bool log_target) {
  check_pair(input, target, "kl_div");
  const Shape shape = broadcast_shapes(input.shape(), target.shape(), "kl_div");
  const double count = kl_div_count(input, shape, reduction);
  return dispatch_float(input.dtype(), "kl_div", [&](auto tag) {
    using T = decltype(tag);
    if (log_target)
      return elementwise_loss_forward<T, 2>(KlDivLogTarget<T>{}, shape, {input, target},
                                            kl_div_reduction(reduction), count);
    return elementwise_loss_forward<T, 2>(KlDiv<T>{}, shape, {input, target}, kl_div_reduction(reduction), count);
  });
}

std::pair<std::optional<Tensor>, std::optional<Tensor>> kl_div_backward(const Tensor& grad, const Tensor& input,
                                                                        const Tensor& target, Reduction reduction,
                                                                        bool log_target, bool need_input_grad,
                                                                        bool need_target_grad) {
  check_pair(input, target, "kl_div");
  const Shape shape = broadcast_shapes(input.shape(), target.shape(), "kl_div");
  const double count = kl_div_count(input, shape, reduction);
  return dispatch_float(input.dtype(), "kl_div", [&](auto tag) {
    using T = decltype(tag);
    if (log_target)
      return elementwise_loss_backward<T, 2>(KlDivLogTarget<T>{}, shape, grad, {input, target},
                                             kl_div_reduction(reduction), count, need_input_grad, need_target_grad);
    return elementwise_loss_backward<T, 2>(KlDiv<T>{}, shape, grad, {input, target}, kl_div_reduction(reduction),
                                           count, need_input_grad, need_target_grad);
  });
}

}  // namespace glassnet
