// Classification losses over class scores laid out (N, C, d...): cross
// entropy with class-index or class-probability targets, and negative log
// likelihood. Cross entropy fuses the log-softmax: forward finds each
// sample's max score mx and ls = log Σ exp(x - mx) (the max subtracted first,
// so large scores never overflow) and keeps both as the sample's "stats";
// -log p_c is then (mx - x_c) + ls, which keeps its precision when the scores
// are large and the loss small, and backward rebuilds softmax =
// exp((x - mx) - ls) in one pass without storing the (N, C) probabilities.
//
// A "sample" m is one (n, d...) position, M = N·d... of them; its C scores sit
// `inner` = d1·d2·... elements apart. Label smoothing ε mixes the one-hot
// target with the uniform distribution: t' = (1-ε)·onehot + ε/C, with class
// weights w applied per class as torch does, and the Mean denominator (sum of
// w[target] over non-ignored samples) shared by both parts.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "dispatch.h"
#include "ops/loss.h"
#include "ops/loss_common.h"

namespace glassnet {

using namespace loss_detail;

namespace {

struct ClassLayout {
  int64_t N, C, inner;
  int64_t samples() const { return N * inner; }
  // Offset of sample m's first score; its scores follow `inner` apart.
  int64_t offset(int64_t m) const { return (m / inner) * C * inner + m % inner; }
  // Enough samples per thread chunk to amortise waking a worker.
  int64_t grain() const { return std::max<int64_t>(1, 8192 / std::max<int64_t>(C, 1)); }
};

void check_scores(const Tensor& input, const char* op) {
  check_cpu(input, op);
  check_float(input, op, "input");
  if (input.dim() == 0) fail<ValueError>("[", op, "] expected input of shape (N, C, ...) or (C,), got a 0-d tensor");
}

ClassLayout layout_of(const Tensor& input) {
  if (input.dim() == 1) return {1, input.size(0), 1};
  int64_t inner = 1;
  for (int64_t d = 2; d < input.dim(); ++d) inner *= input.size(d);
  return {input.size(0), input.size(1), inner};
}

// input's shape without the class dim: (N, d...), or () for an unbatched (C,).
Shape sample_shape(const Tensor& input) {
  if (input.dim() == 1) return {};
  Shape s = input.shape();
  s.erase(s.begin() + 1);
  return s;
}

void check_weight(const Tensor& input, const std::optional<Tensor>& weight, int64_t C, const char* op) {
  if (!weight) return;
  check_same_dtype(input, *weight, op, "a weight");
  if (weight->dim() != 1 || weight->size(0) != C)
    fail<ValueError>("[", op, "] weight of shape ", shape_str(weight->shape()), " must have one entry per class: ",
                     "expected shape (", C, ",) for input of shape ", shape_str(input.shape()));
}

// Validates a class-index target (dtype, shape, every value in [0, C) or the
// ignore_index) before anything is computed.
ClassLayout check_class_target(const Tensor& input, const Tensor& target, const std::optional<Tensor>& weight,
                               int64_t ignore_index, const char* op) {
  check_scores(input, op);
  check_cpu(target, op);
  if (target.dtype() != DType::Int64)
    fail<TypeError>("[", op, "] expected an int64 target of class indices, got ", dtype_name(target.dtype()));
  const Shape want = sample_shape(input);
  if (target.shape() != want)
    fail<ValueError>("[", op, "] expected target of shape ", shape_str(want), " for input of shape ",
                     shape_str(input.shape()), ", got target of shape ", shape_str(target.shape()));
  const ClassLayout L = layout_of(input);
  check_weight(input, weight, L.C, op);
  const Tensor t = target.contiguous();
  const int64_t* y = t.data<int64_t>();
  for (int64_t m = 0; m < t.numel(); ++m)
    if (y[m] != ignore_index && (y[m] < 0 || y[m] >= L.C))
      fail<IndexError>("[", op, "] target ", y[m], " is out of bounds for ", L.C, " classes (input of shape ",
                       shape_str(input.shape()), ")");
  return L;
}

void check_label_smoothing(double eps, const char* op) {
  if (!(eps >= 0.0 && eps <= 1.0)) fail<ValueError>("[", op, "] label_smoothing must be in [0, 1], got ", eps);
}

// One sample's (mx, ls) for C scores `stride` apart. Contiguous scores
// (stride 1) go through `scratch` (C elements) so that exp runs vectorised.
template <class T>
void score_stats(const T* x, int64_t C, int64_t stride, T* scratch, T* stats) {
  T mx = -std::numeric_limits<T>::infinity();
  for (int64_t c = 0; c < C; ++c) mx = std::max(mx, x[c * stride]);
  double s = 0;
  if (stride == 1) {
    for (int64_t c = 0; c < C; ++c) scratch[c] = x[c] - mx;
    exp_inplace(scratch, C);
    for (int64_t c = 0; c < C; ++c) s += scratch[c];
  } else {
    for (int64_t c = 0; c < C; ++c) s += std::exp(x[c * stride] - mx);
  }
  stats[0] = mx;
  stats[1] = static_cast<T>(std::log(s));
}

// out[c] = exp((x_c - mx) - ls) = softmax, for C scores `stride` apart.
template <class T>
void softmax_of(const T* x, int64_t C, int64_t stride, const T* stats, T* out) {
  for (int64_t c = 0; c < C; ++c) out[c * stride] = (x[c * stride] - stats[0]) - stats[1];
  if (stride == 1) {
    exp_inplace(out, C);
  } else {
    for (int64_t c = 0; c < C; ++c) out[c * stride] = std::exp(out[c * stride]);
  }
}

void check_stats(const Tensor& stats, const Tensor& input, int64_t M, const char* op) {
  if (stats.shape() != Shape{M, 2} || stats.dtype() != input.dtype())
    fail<ValueError>("[", op, "] stats must be a ", dtype_name(input.dtype()), " tensor of shape (", M,
                     ", 2), got ", dtype_name(stats.dtype()), " ", shape_str(stats.shape()));
}

// Σ w[target] over non-ignored samples (their count when unweighted).
template <class T>
double total_target_weight(const int64_t* y, int64_t M, const T* w, int64_t ignore_index) {
  double total = 0;
  for (int64_t m = 0; m < M; ++m)
    if (y[m] != ignore_index) total += w ? static_cast<double>(w[y[m]]) : 1.0;
  return total;
}

// The loss tensor from per-sample losses: as is for None, else sum or mean.
Tensor finish(const Tensor& per_sample, double count, Reduction reduction) {
  if (reduction == Reduction::None) return per_sample;
  return dispatch_float(per_sample.dtype(), "loss", [&](auto tag) {
    using T = decltype(tag);
    const T* v = per_sample.data<T>();
    const double total = ordered_sum(per_sample.numel(), [v](int64_t i) { return static_cast<double>(v[i]); });
    return reduce_total(total, count, reduction, per_sample.dtype());
  });
}

// The gradient scale per sample: grad[m] for None, else grad / count or grad.
template <class T>
struct GradScale {
  const T* per_sample = nullptr;
  T scalar = 0;
  T operator()(int64_t m) const { return per_sample ? per_sample[m] : scalar; }
};

template <class T>
GradScale<T> grad_scale(const Tensor& grad, double count, Reduction reduction, Tensor& keep_alive) {
  keep_alive = grad.contiguous();
  if (reduction == Reduction::None) return {keep_alive.data<T>(), T(0)};
  const double g = static_cast<double>(*keep_alive.data<T>());
  return {nullptr, static_cast<T>(reduction == Reduction::Mean ? g / count : g)};
}

void check_grad(const Tensor& grad, const Tensor& input, const Shape& want, Reduction reduction, const char* op) {
  const Shape expect = reduction == Reduction::None ? want : Shape{};
  if (grad.shape() != expect)
    fail<ValueError>("[", op, "] expected a gradient of shape ", shape_str(expect), ", got ", shape_str(grad.shape()));
  check_same_dtype(input, grad, op, "a gradient");
}

}  // namespace

// ---- cross entropy, class-index targets ------------------------------------------------

// input (N, C, d...), target (N, d...), weight (C,) -> loss, stats (M, 2), Σ w[target]
std::tuple<Tensor, Tensor, double> cross_entropy_forward(const Tensor& input, const Tensor& target,
                                                        const std::optional<Tensor>& weight, int64_t ignore_index,
                                                        Reduction reduction, double label_smoothing) {
  const char* op = "cross_entropy";
  check_label_smoothing(label_smoothing, op);
  const ClassLayout L = check_class_target(input, target, weight, ignore_index, op);
  const Tensor x_t = input.contiguous(), y_t = target.contiguous();
  const int64_t M = L.samples();
  Tensor losses = Tensor::empty(target.shape(), input.dtype());
  Tensor stats = Tensor::empty({M, 2}, input.dtype());
  double total = 0;
  dispatch_float(input.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* x = x_t.data<T>();
    const int64_t* y = y_t.data<int64_t>();
    const Tensor w_keep = weight ? weight->contiguous() : Tensor();
    const T* w = weight ? w_keep.data<T>() : nullptr;
    T* out = losses.data<T>();
    T* st = stats.data<T>();
    const T eps = static_cast<T>(label_smoothing);
    const int64_t C = L.C, stride = L.inner;
    parallel_for(0, M, L.grain(), [&](int64_t m0, int64_t m1) {
      std::vector<T> scratch(stride == 1 ? C : 0);
      for (int64_t m = m0; m < m1; ++m) {
        const T* r = x + L.offset(m);
        T* sm = st + 2 * m;
        score_stats(r, C, stride, scratch.data(), sm);
        if (y[m] == ignore_index) {
          out[m] = T(0);
          continue;
        }
        const T wy = w ? w[y[m]] : T(1);
        T loss = wy * ((sm[0] - r[y[m] * stride]) + sm[1]);
        if (eps > T(0)) {
          T smooth = 0;  // Σ_c w_c · (-log p_c)
          for (int64_t c = 0; c < C; ++c) smooth += (w ? w[c] : T(1)) * ((sm[0] - r[c * stride]) + sm[1]);
          loss = (T(1) - eps) * loss + eps / static_cast<T>(C) * smooth;
        }
        out[m] = loss;
      }
    });
    total = total_target_weight(y, M, w, ignore_index);
  });
  return {finish(losses, total, reduction), stats, total};
}

// grad_input[m, c] = s_m · ((1-ε) w_y (p_c - [c = y]) + ε/C (W p_c - w_c)),
// p = softmax, W = Σ w; zero for ignored samples.
Tensor cross_entropy_backward(const Tensor& grad, const Tensor& input, const Tensor& target,
                              const std::optional<Tensor>& weight, const Tensor& stats, double total_weight,
                              int64_t ignore_index, Reduction reduction, double label_smoothing) {
  const char* op = "cross_entropy_backward";
  check_label_smoothing(label_smoothing, op);
  const ClassLayout L = check_class_target(input, target, weight, ignore_index, op);
  check_grad(grad, input, target.shape(), reduction, op);
  const int64_t M = L.samples();
  check_stats(stats, input, M, op);
  const Tensor x_t = input.contiguous(), y_t = target.contiguous(), st_t = stats.contiguous();
  Tensor grad_input = Tensor::empty(input.shape(), input.dtype());
  dispatch_float(input.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* x = x_t.data<T>();
    const int64_t* y = y_t.data<int64_t>();
    const T* st = st_t.data<T>();
    const Tensor w_keep = weight ? weight->contiguous() : Tensor();
    const T* w = weight ? w_keep.data<T>() : nullptr;
    T W = static_cast<T>(L.C);
    if (w) {
      W = 0;
      for (int64_t c = 0; c < L.C; ++c) W += w[c];
    }
    Tensor g_keep;
    const GradScale<T> scale = grad_scale<T>(grad, total_weight, reduction, g_keep);
    T* gi = grad_input.data<T>();
    const T eps = static_cast<T>(label_smoothing);
    const int64_t C = L.C, stride = L.inner;
    parallel_for(0, M, L.grain(), [&](int64_t m0, int64_t m1) {
      for (int64_t m = m0; m < m1; ++m) {
        const T* r = x + L.offset(m);
        T* o = gi + L.offset(m);
        if (y[m] == ignore_index) {
          for (int64_t c = 0; c < C; ++c) o[c * stride] = T(0);
          continue;
        }
        const T s = scale(m);
        const T a = s * (T(1) - eps) * (w ? w[y[m]] : T(1));
        const T b = s * eps / static_cast<T>(C);
        softmax_of(r, C, stride, st + 2 * m, o);
        if (eps > T(0)) {
          for (int64_t c = 0; c < C; ++c) {
            const T p = o[c * stride];
            o[c * stride] = a * p + b * (W * p - (w ? w[c] : T(1)));
          }
        } else {
          for (int64_t c = 0; c < C; ++c) o[c * stride] *= a;
        }
        o[y[m] * stride] -= a;
      }
    });
  });
  return grad_input;
}

// ---- cross entropy, probability targets ------------------------------------------------

namespace {
ClassLayout check_prob_target(const Tensor& input, const Tensor& target, const std::optional<Tensor>& weight,
                              const char* op) {
  check_scores(input, op);
  check_cpu(target, op);
  check_float(target, op, "probability target");
  if (target.shape() != input.shape())
    fail<ValueError>("[", op, "] a probability target must have the input's shape: input ",
                     shape_str(input.shape()), ", target ", shape_str(target.shape()));
  check_same_dtype(input, target, op, "a probability target");
  const ClassLayout L = layout_of(input);
  check_weight(input, weight, L.C, op);
  return L;
}
}  // namespace

// loss_m = Σ_c w_c t'_c (-log p_c), t' = (1-ε) t + ε/C; Mean divides by M.
std::pair<Tensor, Tensor> cross_entropy_prob_forward(const Tensor& input, const Tensor& target,
                                                     const std::optional<Tensor>& weight, Reduction reduction,
                                                     double label_smoothing) {
  const char* op = "cross_entropy";
  check_label_smoothing(label_smoothing, op);
  const ClassLayout L = check_prob_target(input, target, weight, op);
  const Tensor x_t = input.contiguous(), t_t = target.contiguous();
  const int64_t M = L.samples();
  Tensor losses = Tensor::empty(sample_shape(input), input.dtype());
  Tensor stats = Tensor::empty({M, 2}, input.dtype());
  dispatch_float(input.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* x = x_t.data<T>();
    const T* t = t_t.data<T>();
    const Tensor w_keep = weight ? weight->contiguous() : Tensor();
    const T* w = weight ? w_keep.data<T>() : nullptr;
    T* out = losses.data<T>();
    T* st = stats.data<T>();
    const T keep = T(1) - static_cast<T>(label_smoothing);
    const T spread = static_cast<T>(label_smoothing) / static_cast<T>(L.C);
    const int64_t C = L.C, stride = L.inner;
    parallel_for(0, M, L.grain(), [&](int64_t m0, int64_t m1) {
      std::vector<T> scratch(stride == 1 ? C : 0);
      for (int64_t m = m0; m < m1; ++m) {
        const T* r = x + L.offset(m);
        const T* tr = t + L.offset(m);
        T* sm = st + 2 * m;
        score_stats(r, C, stride, scratch.data(), sm);
        T loss = 0;
        for (int64_t c = 0; c < C; ++c)
          loss += (w ? w[c] : T(1)) * (keep * tr[c * stride] + spread) * ((sm[0] - r[c * stride]) + sm[1]);
        out[m] = loss;
      }
    });
  });
  return {finish(losses, static_cast<double>(M), reduction), stats};
}

// grad_input_c = s (p_c Σ_k w_k t'_k - w_c t'_c); grad_target_c = s (1-ε) w_c (-log p_c).
std::pair<Tensor, std::optional<Tensor>> cross_entropy_prob_backward(
    const Tensor& grad, const Tensor& input, const Tensor& target, const std::optional<Tensor>& weight,
    const Tensor& stats, Reduction reduction, double label_smoothing, bool need_target_grad) {
  const char* op = "cross_entropy_backward";
  check_label_smoothing(label_smoothing, op);
  const ClassLayout L = check_prob_target(input, target, weight, op);
  check_grad(grad, input, sample_shape(input), reduction, op);
  const int64_t M = L.samples();
  check_stats(stats, input, M, op);
  const Tensor x_t = input.contiguous(), t_t = target.contiguous(), st_t = stats.contiguous();
  Tensor grad_input = Tensor::empty(input.shape(), input.dtype());
  std::optional<Tensor> grad_target;
  if (need_target_grad) grad_target = Tensor::empty(input.shape(), input.dtype());
  dispatch_float(input.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* x = x_t.data<T>();
    const T* t = t_t.data<T>();
    const T* st = st_t.data<T>();
    const Tensor w_keep = weight ? weight->contiguous() : Tensor();
    const T* w = weight ? w_keep.data<T>() : nullptr;
    Tensor g_keep;
    const GradScale<T> scale = grad_scale<T>(grad, static_cast<double>(M), reduction, g_keep);
    T* gi = grad_input.data<T>();
    T* gt = grad_target ? grad_target->data<T>() : nullptr;
    const T keep = T(1) - static_cast<T>(label_smoothing);
    const T spread = static_cast<T>(label_smoothing) / static_cast<T>(L.C);
    const int64_t C = L.C, stride = L.inner;
    parallel_for(0, M, L.grain(), [&](int64_t m0, int64_t m1) {
      for (int64_t m = m0; m < m1; ++m) {
        const int64_t off = L.offset(m);
        const T* r = x + off;
        const T* tr = t + off;
        const T s = scale(m);
        const T* sm = st + 2 * m;
        T mass = 0;  // Σ_k w_k t'_k
        for (int64_t c = 0; c < C; ++c) mass += (w ? w[c] : T(1)) * (keep * tr[c * stride] + spread);
        T* o = gi + off;
        softmax_of(r, C, stride, sm, o);
        for (int64_t c = 0; c < C; ++c) {
          const T wc = w ? w[c] : T(1);
          o[c * stride] = s * (o[c * stride] * mass - wc * (keep * tr[c * stride] + spread));
          if (gt) gt[off + c * stride] = s * keep * wc * ((sm[0] - r[c * stride]) + sm[1]);
        }
      }
    });
  });
  return {grad_input, grad_target};
}

// ---- nll_loss ---------------------------------------------------------------------------

// input (N, C, d...) log-probabilities: loss_m = -w_y x[m, y]
std::pair<Tensor, double> nll_loss_forward(const Tensor& input, const Tensor& target,
                                           const std::optional<Tensor>& weight, int64_t ignore_index,
                                           Reduction reduction) {
  const char* op = "nll_loss";
  const ClassLayout L = check_class_target(input, target, weight, ignore_index, op);
  const Tensor x_t = input.contiguous(), y_t = target.contiguous();
  const int64_t M = L.samples();
  Tensor losses = Tensor::empty(target.shape(), input.dtype());
  double total = 0;
  dispatch_float(input.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* x = x_t.data<T>();
    const int64_t* y = y_t.data<int64_t>();
    const Tensor w_keep = weight ? weight->contiguous() : Tensor();
    const T* w = weight ? w_keep.data<T>() : nullptr;
    T* out = losses.data<T>();
    for (int64_t m = 0; m < M; ++m)
      out[m] = y[m] == ignore_index ? T(0) : -(w ? w[y[m]] : T(1)) * x[L.offset(m) + y[m] * L.inner];
    total = total_target_weight(y, M, w, ignore_index);
  });
  return {finish(losses, total, reduction), total};
}

// grad_input[m, y] = -w_y s_m, zero elsewhere.
Tensor nll_loss_backward(const Tensor& grad, const Tensor& input, const Tensor& target,
                         const std::optional<Tensor>& weight, double total_weight, int64_t ignore_index,
                         Reduction reduction) {
  const char* op = "nll_loss_backward";
  const ClassLayout L = check_class_target(input, target, weight, ignore_index, op);
  check_grad(grad, input, target.shape(), reduction, op);
  const Tensor y_t = target.contiguous();
  Tensor grad_input = Tensor::zeros(input.shape(), input.dtype());
  dispatch_float(input.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const int64_t* y = y_t.data<int64_t>();
    const Tensor w_keep = weight ? weight->contiguous() : Tensor();
    const T* w = weight ? w_keep.data<T>() : nullptr;
    Tensor g_keep;
    const GradScale<T> scale = grad_scale<T>(grad, total_weight, reduction, g_keep);
    T* gi = grad_input.data<T>();
    for (int64_t m = 0; m < L.samples(); ++m)
      if (y[m] != ignore_index) gi[L.offset(m) + y[m] * L.inner] = -(w ? w[y[m]] : T(1)) * scale(m);
  });
  return grad_input;
}

}  // namespace glassnet
