// Embedding forward/backward and max_norm renormalisation (see embedding.h).
#include "ops/embedding.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "dispatch.h"
#include "errors.h"
#include "ops/index.h"
#include "ops/shape.h"

namespace glassnet {
namespace {

void check_weight(const Tensor& weight, const char* op) {
  if (weight.device().is_cuda()) fail<RuntimeError>("[", op, "] not implemented for cuda tensors yet");
  if (weight.dim() != 2) fail<ValueError>("[", op, "] expected a 2-D weight (num_embeddings, embedding_dim), got shape ",
                                          shape_str(weight.shape()));
  if (!is_floating(weight.dtype()))
    fail<TypeError>("[", op, "] expected a float32 or float64 weight, got ", dtype_name(weight.dtype()));
}

// The indices as a contiguous 1-D int64 tensor, every value checked against V.
Tensor flat_indices(const Tensor& indices, int64_t V, const char* op) {
  if (indices.device().is_cuda()) fail<RuntimeError>("[", op, "] not implemented for cuda tensors yet");
  if (indices.dtype() != DType::Int64)
    fail<TypeError>("[", op, "] expected int64 indices, got ", dtype_name(indices.dtype()));
  const Tensor c = indices.contiguous();
  const Tensor f = c.as_strided({c.numel()}, {1}, c.offset());
  const int64_t* p = f.data<int64_t>();
  for (int64_t i = 0; i < f.numel(); ++i)
    if (p[i] < 0 || p[i] >= V)
      fail<IndexError>("[", op, "] index ", p[i], " is out of range for an embedding with num_embeddings=", V);
  return f;
}

}  // namespace

// weight (V, D), indices (...) -> (..., D)
Tensor embedding_forward(const Tensor& weight, const Tensor& indices) {
  check_weight(weight, "embedding");
  const Tensor idx = flat_indices(indices, weight.size(0), "embedding");
  Shape out_shape = indices.shape();
  out_shape.push_back(weight.size(1));
  return reshape(index_select(weight, 0, idx), out_shape);
}

// grad (..., D), indices (...) -> (V, D)
Tensor embedding_backward(const Tensor& grad, const Tensor& indices, int64_t num_weights,
                          std::optional<int64_t> padding_idx, bool scale_grad_by_freq) {
  const char* op = "embedding_backward";
  const Tensor idx = flat_indices(indices, num_weights, op);
  Shape expect = indices.shape();
  if (grad.dim() != indices.dim() + 1 || !std::equal(expect.begin(), expect.end(), grad.shape().begin()))
    fail<ValueError>("[", op, "] grad of shape ", shape_str(grad.shape()), " does not fit indices of shape ",
                     shape_str(indices.shape()));
  if (padding_idx && (*padding_idx < 0 || *padding_idx >= num_weights))
    fail<ValueError>("[", op, "] padding_idx=", *padding_idx, " must be within num_embeddings=", num_weights);
  const int64_t D = grad.size(grad.dim() - 1);
  Tensor grad_w = index_select_backward(reshape(grad, {idx.numel(), D}), {num_weights, D}, 0, idx);
  if (!padding_idx && !scale_grad_by_freq) return grad_w;
  std::vector<int64_t> count;
  if (scale_grad_by_freq) {
    count.assign(num_weights, 0);
    const int64_t* p = idx.data<int64_t>();
    for (int64_t i = 0; i < idx.numel(); ++i) ++count[p[i]];
  }
  dispatch_float(grad_w.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    T* g = grad_w.template data<T>();
    // Only the padding index adds into its row, so zeroing the summed row
    // drops exactly the contributions torch skips; likewise every addend of
    // row v is divided by the same count[v].
    if (padding_idx) std::fill(g + *padding_idx * D, g + (*padding_idx + 1) * D, T(0));
    if (scale_grad_by_freq)
      for (int64_t v = 0; v < num_weights; ++v)
        if (count[v] > 1)
          for (int64_t j = 0; j < D; ++j) g[v * D + j] /= static_cast<T>(count[v]);
  });
  return grad_w;
}

void embedding_renorm_(Tensor& weight, const Tensor& indices, double max_norm, double norm_type) {
  const char* op = "embedding_renorm_";
  check_weight(weight, op);
  if (!(max_norm >= 0)) fail<ValueError>("[", op, "] expected max_norm >= 0, got ", max_norm);
  const Tensor idx = flat_indices(indices, weight.size(0), op);
  std::vector<int64_t> rows(idx.data<int64_t>(), idx.data<int64_t>() + idx.numel());
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  const int64_t D = weight.size(1), rs = weight.strides()[0], cs = weight.strides()[1];
  dispatch_float(weight.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    T* w = weight.template data<T>();
    for (int64_t v : rows) {
      T* row = w + v * rs;
      double norm = 0;
      if (std::isinf(norm_type)) {
        for (int64_t j = 0; j < D; ++j) norm = std::max(norm, std::abs(static_cast<double>(row[j * cs])));
      } else if (norm_type == 0) {
        for (int64_t j = 0; j < D; ++j) norm += row[j * cs] != T(0);
      } else if (norm_type == 1) {
        for (int64_t j = 0; j < D; ++j) norm += std::abs(static_cast<double>(row[j * cs]));
      } else if (norm_type == 2) {
        for (int64_t j = 0; j < D; ++j) norm += static_cast<double>(row[j * cs]) * row[j * cs];
        norm = std::sqrt(norm);
      } else {
        for (int64_t j = 0; j < D; ++j) norm += std::pow(std::abs(static_cast<double>(row[j * cs])), norm_type);
        norm = std::pow(norm, 1.0 / norm_type);
      }
      if (norm > max_norm) {
        const T scale = static_cast<T>(max_norm / (norm + 1e-7));
        for (int64_t j = 0; j < D; ++j) row[j * cs] *= scale;
      }
    }
  });
}

}  // namespace glassnet
