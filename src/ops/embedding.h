// Embedding lookup (torch.nn.functional.embedding) on the index kernels of
// index.h: the forward is index_select of weight rows, the backward
// index_select's backward (a scatter-add of grad rows) plus torch's two
// adjustments, both per weight row: the padding row gets no gradient, and with
// scale_grad_by_freq each row's gradient is divided by how often its index
// occurs in the batch.
#pragma once

#include <optional>

#include "tensor.h"

namespace glassnet {

// weight (V, D), indices (...) int64 in [0, V) -> (..., D). An index outside
// [0, V) is an IndexError naming the value and num_embeddings.
Tensor embedding_forward(const Tensor& weight, const Tensor& indices);
// grad (..., D), indices (...) -> grad_weight (V, D), dense.
Tensor embedding_backward(const Tensor& grad, const Tensor& indices, int64_t num_weights,
                          std::optional<int64_t> padding_idx, bool scale_grad_by_freq);
// In place, for max_norm: every weight row named in indices whose norm_type
// norm exceeds max_norm is scaled by max_norm / (norm + 1e-7), as torch's
// embedding_renorm_.
void embedding_renorm_(Tensor& weight, const Tensor& indices, double max_norm, double norm_type);

}  // namespace glassnet
