// What the attention forward and backward kernels share: the validated
// problem (sizes, per-batch offsets of every operand, mask strides), the
// block sizes, and the two per-block steps both directions repeat — masking a
// score block and drawing its dropout decisions.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "ops/attention.h"
#include "random.h"
#include "tensor.h"

namespace glassnet::attention_detail {

// Query rows × key columns per block. Br·Bc scores (32 KiB in float32) stay
// in L1/L2 beside the Br×E query rows; Bc = 128 keys amortise the rescaling
// of the output rows that each new block's max may cause.
constexpr int64_t kBlockQ = 64;
constexpr int64_t kBlockK = 128;

// A validated attention problem over B flat batch entries.
struct Plan {
  Shape batch;                            // the broadcast batch shape (...)
  int64_t B = 1, L = 0, S = 0, E = 0, Ev = 0;
  Tensor q, k, v;                         // unit stride in the last dim
  int64_t q_rs = 0, k_rs = 0, v_rs = 0;   // row strides (L or S dim)
  std::vector<int64_t> q_off, k_off, v_off;  // element offset of batch entry b
  const Tensor* mask = nullptr;           // as given (unpadded)
  bool mask_bool = false;
  int64_t m_rs = 0, m_cs = 0;             // mask strides along L and S (0 when broadcast)
  std::vector<int64_t> m_off;
  bool causal = false;
  double scale = 0, dropout_p = 0;
};

// Validates q, k, v and mask for `op` (ValueError/TypeError naming the
// shapes) and fills the plan.
Plan make_plan(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor* mask, double scale, bool is_causal,
               double dropout_p, const char* op);

// Element offset of each flat batch entry of `t` viewed with shape
// (batch..., rows, cols); t's own leading dims broadcast to batch.
std::vector<int64_t> batch_offsets(const Tensor& t, const Shape& batch);

// t itself when its last dim is unit-stride (or has size ≤ 1), else a contiguous copy.
Tensor unit_last(const Tensor& t);

// Applies mask and causality to the rows × cols score block s (leading dim
// ld) whose first element is (query i0, key j0) of batch entry b.
template <class T>
void mask_block(const Plan& p, int64_t b, int64_t i0, int64_t j0, int64_t rows, int64_t cols, T* s, int64_t ld) {
  constexpr T ninf = -std::numeric_limits<T>::infinity();
  if (p.mask) {
    const int64_t off = p.m_off[b] + i0 * p.m_rs + j0 * p.m_cs;
    if (p.mask_bool) {
      const bool* m = p.mask->data<bool>() + off;
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c)
          if (!m[r * p.m_rs + c * p.m_cs]) s[r * ld + c] = ninf;
    } else {
      const T* m = p.mask->data<T>() + off;
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) s[r * ld + c] += m[r * p.m_rs + c * p.m_cs];
    }
  }
  // Key j is masked for query i when j > i; only blocks reaching past the diagonal need it.
  if (p.causal && j0 + cols - 1 > i0) {
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = std::max<int64_t>(0, i0 + r - j0 + 1); c < cols; ++c) s[r * ld + c] = ninf;
  }
}

// Max and sum of a row, in 16 independent lanes so that the compiler
// vectorises them (a single running max or sum is a serial dependency chain
// it may not reorder).
template <class T>
T row_max(const T* x, int64_t n, T init) {
  constexpr int64_t W = 16;
  T acc[W];
  for (int64_t l = 0; l < W; ++l) acc[l] = init;
  int64_t c = 0;
  for (; c + W <= n; c += W)
    for (int64_t l = 0; l < W; ++l) acc[l] = acc[l] < x[c + l] ? x[c + l] : acc[l];
  T m = init;
  for (int64_t l = 0; l < W; ++l) m = m < acc[l] ? acc[l] : m;
  for (; c < n; ++c) m = m < x[c] ? x[c] : m;
  return m;
}

template <class T>
T row_sum(const T* x, int64_t n) {
  constexpr int64_t W = 16;
  T acc[W] = {};
  int64_t c = 0;
  for (; c + W <= n; c += W)
    for (int64_t l = 0; l < W; ++l) acc[l] += x[c + l];
  T s = 0;
  for (int64_t l = 0; l < W; ++l) s += acc[l];
  for (; c < n; ++c) s += x[c];
  return s;
}

// keep[r·cols + c] = 1 when probability (b, i0 + r, j0 + c) survives dropout:
// uniform number (b·L + i)·S + j of the stream is ≥ p. One Philox call gives
// four consecutive numbers.
void dropout_keep_block(const GeneratorState& rng, float p, int64_t L, int64_t S, int64_t b, int64_t i0, int64_t j0,
                        int64_t rows, int64_t cols, uint8_t* keep);

}  // namespace glassnet::attention_detail
