// Scaled dot-product attention, torch.nn.functional.scaled_dot_product_attention,
// as one fused kernel per direction after FlashAttention (Dao et al., NeurIPS
// 2022) and FlashAttention-2 (Dao, 2023): queries are processed in blocks of
// Br rows against blocks of Bc keys with an online softmax (running row max
// and sum, Milakov & Gimelshein 2018), so at most one Br×Bc block of the
// L×S score matrix exists per thread. The forward saves only the output and
// the row log-sum-exp; the backward recomputes each score block from them.
//
//   q (..., L, E), k (..., S, E), v (..., S, Ev) → out (..., L, Ev)
//   out = dropout(softmax(scale·q·kᵀ + mask)) · v
//
// The batch dims (...) of q, k and v broadcast against each other. mask is
// optional and broadcasts to (..., L, S): bool (true = attend; false entries
// get -inf) or a float tensor of q's dtype that is added to the scores.
// is_causal masks key j for query i when j > i (the top-left alignment torch
// uses, also for L ≠ S) and excludes an explicit mask. A query row with every
// key masked gives zeros (and zero gradients), as torch does.
//
// Dropout on the attention probabilities draws its keep decisions from the
// Philox stream (src/random.h): element (b, i, j) of the flat (B, L, S)
// probability tensor is kept when uniform number (b·L + i)·S + j of the
// reserved counters is ≥ p. The backward regenerates the same decisions from
// the saved (seed, offset), so no mask is stored.
//
// float32 and float64, CPU. q, k, v and grad_out are read through their
// strides (any batch and row strides; a last dim that is not unit-stride is
// copied first), so heads split out of a packed projection need no copy.
#pragma once

#include <cstdint>
#include <tuple>

#include "random.h"
#include "tensor.h"

namespace glassnet {

struct AttentionForward {
  Tensor out;            // (..., L, Ev); for ≥ 2 batch dims laid out as (..., L, heads, Ev) in memory
  Tensor lse;            // (..., L) contiguous: row log-sum-exp of the masked scores, +inf for fully masked rows
  GeneratorState rng{};  // the dropout stream, for the backward
};

// scale NaN means the default 1/sqrt(E). dropout_p in [0, 1] (1 drops everything: zeros).
AttentionForward attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor* mask,
                                   double scale, bool is_causal, double dropout_p);

struct AttentionGrads {
  Tensor grad_q, grad_k, grad_v;  // in the broadcast batch shape: the autograd engine sums broadcast dims
  Tensor grad_mask;               // (..., L, S), only when asked for a float mask's gradient
};

// grad_out like out; out and lse from attention_forward with the same
// arguments and rng.
AttentionGrads attention_backward(const Tensor& grad_out, const Tensor& q, const Tensor& k, const Tensor& v,
                                  const Tensor* mask, const Tensor& out, const Tensor& lse, double scale,
                                  bool is_causal, double dropout_p, GeneratorState rng, bool need_mask_grad);

// The keep decisions attention_forward drew, as a bool (batch..., L, S)
// tensor: the test oracle for the fused dropout.
Tensor attention_dropout_mask(const Shape& batch, int64_t L, int64_t S, double dropout_p, GeneratorState rng);

}  // namespace glassnet
