// Loss functions, each one fused forward kernel and one backward kernel, with
// torch's semantics for reduction, class weights, ignore_index and label
// smoothing (torch.nn.functional). Every op validates its inputs here, at the
// boundary, and throws a typed error naming the op and the shapes at fault.
//
// Shapes: "input (N, C, d...)" means class scores with the class dim second;
// an unbatched input (C,) pairs with a 0-d target. Backward kernels return
// gradients in the broadcast shape of the forward's operands; the autograd
// engine sums them down to each operand's shape.
#pragma once

#include <cstdint>
#include <optional>
#include <tuple>
#include <utility>

#include "tensor.h"

namespace glassnet {

// BatchMean (sum / input.size(0)) is accepted by kl_div only.
enum class Reduction : uint8_t { None, Mean, Sum, BatchMean };

// ---- classification (loss_classification.cpp) --------------------------------------

// Class-index targets. input (N, C, d...) float, target (N, d...) int64,
// weight (C,). Returns the loss (shape (N, d...) for None, else 0-d), each
// sample's score stats (M, 2): the max score and log Σ exp(x - max), saved for
// backward; and the total weight of non-ignored targets (the Mean denominator).
std::tuple<Tensor, Tensor, double> cross_entropy_forward(const Tensor& input, const Tensor& target,
                                                        const std::optional<Tensor>& weight, int64_t ignore_index,
                                                        Reduction reduction, double label_smoothing);
// grad (N, d...) for None else 0-d  ->  grad_input (N, C, d...).
Tensor cross_entropy_backward(const Tensor& grad, const Tensor& input, const Tensor& target,
                              const std::optional<Tensor>& weight, const Tensor& stats, double total_weight,
                              int64_t ignore_index, Reduction reduction, double label_smoothing);

// Class-probability targets: target has input's shape and dtype. Returns the
// loss and the per-sample stats as above.
std::pair<Tensor, Tensor> cross_entropy_prob_forward(const Tensor& input, const Tensor& target,
                                                     const std::optional<Tensor>& weight, Reduction reduction,
                                                     double label_smoothing);
// -> (grad_input, grad_target); grad_target is computed only if asked for.
std::pair<Tensor, std::optional<Tensor>> cross_entropy_prob_backward(
    const Tensor& grad, const Tensor& input, const Tensor& target, const std::optional<Tensor>& weight,
    const Tensor& stats, Reduction reduction, double label_smoothing, bool need_target_grad);

// input (N, C, d...) of log-probabilities, target (N, d...) int64.
// Returns the loss and the total weight of non-ignored targets.
std::pair<Tensor, double> nll_loss_forward(const Tensor& input, const Tensor& target,
                                           const std::optional<Tensor>& weight, int64_t ignore_index,
                                           Reduction reduction);
Tensor nll_loss_backward(const Tensor& grad, const Tensor& input, const Tensor& target,
                         const std::optional<Tensor>& weight, double total_weight, int64_t ignore_index,
                         Reduction reduction);

// ---- regression and binary losses (loss_regression.cpp) ---------------------------

// mse (x-t)², l1 |x-t|, smooth_l1 with beta, huber with delta; input and
// target broadcast together and share one float dtype.
enum class PointwiseLoss : uint8_t { Mse, L1, SmoothL1, Huber };

Tensor pointwise_loss_forward(PointwiseLoss kind, const Tensor& input, const Tensor& target, double param,
                              Reduction reduction);
// grad_input in the broadcast shape; grad_target is its negation.
Tensor pointwise_loss_backward(PointwiseLoss kind, const Tensor& grad, const Tensor& input, const Tensor& target,
                               double param, Reduction reduction);

// input probabilities in [0, 1], target of input's shape; weight broadcasts
// to it. log is clamped to >= -100 as torch does.
Tensor binary_cross_entropy_forward(const Tensor& input, const Tensor& target, const std::optional<Tensor>& weight,
                                    Reduction reduction);
std::pair<std::optional<Tensor>, std::optional<Tensor>> binary_cross_entropy_backward(
    const Tensor& grad, const Tensor& input, const Tensor& target, const std::optional<Tensor>& weight,
    Reduction reduction, bool need_input_grad, bool need_target_grad);

// input logits, target of input's shape; weight and pos_weight broadcast.
Tensor binary_cross_entropy_with_logits_forward(const Tensor& input, const Tensor& target,
                                                const std::optional<Tensor>& weight,
                                                const std::optional<Tensor>& pos_weight, Reduction reduction);
std::pair<std::optional<Tensor>, std::optional<Tensor>> binary_cross_entropy_with_logits_backward(
    const Tensor& grad, const Tensor& input, const Tensor& target, const std::optional<Tensor>& weight,
    const std::optional<Tensor>& pos_weight, Reduction reduction, bool need_input_grad, bool need_target_grad);

// input log-probabilities; target probabilities (or log-probabilities with
// log_target); the two broadcast.
Tensor kl_div_forward(const Tensor& input, const Tensor& target, Reduction reduction, bool log_target);
std::pair<std::optional<Tensor>, std::optional<Tensor>> kl_div_backward(const Tensor& grad, const Tensor& input,
                                                                        const Tensor& target, Reduction reduction,
                                                                        bool log_target, bool need_input_grad,
                                                                        bool need_target_grad);

}  // namespace glassnet
