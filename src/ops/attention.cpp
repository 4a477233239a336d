// The attention forward (attention.h): FlashAttention's outer loop over query
// blocks, inner loop over key blocks with an online softmax. Both products of
// a block, scale·Q_i·K_jᵀ and P·V_j, are calls to the packed/small GEMM with
// Kᵀ read through its strides; the output rows accumulate in place in `out`.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "dispatch.h"
#include "errors.h"
#include "gemm/gemm.h"
#include "ops/attention.h"
#include "ops/attention_plan.h"
#include "ops/exp_inplace.h"
#include "parallel.h"

namespace glassnet {

namespace {

using namespace attention_detail;

// The output (batch..., L, Ev). With two or more batch dims (batch, heads) it
// is stored as (..., L, heads, Ev) so that out.transpose(-3, -2) — the
// merge of the heads before the output projection — is contiguous.
Tensor make_output(const Shape& batch, int64_t L, int64_t Ev, DType dtype) {
  Shape shape = batch;
  shape.push_back(L);
  shape.push_back(Ev);
  if (batch.size() < 2) return Tensor::empty(shape, dtype);
  const size_t n = batch.size();
  Shape phys(batch.begin(), batch.end() - 1);
  phys.push_back(L);
  phys.push_back(batch.back());
  phys.push_back(Ev);
  const Tensor t = Tensor::empty(phys, dtype);
  Shape strides(t.strides().begin(), t.strides().begin() + (n - 1));
  strides.push_back(t.strides()[n]);      // heads
  strides.push_back(t.strides()[n - 1]);  // L
  strides.push_back(1);
  return t.as_strided(shape, strides, t.offset());
}

// One task: query rows [i0, i0 + rows) of batch entry b.
//   Q_i (rows, E) · K_jᵀ → scores (rows, cols) per key block, online softmax,
//   out_i (rows, Ev) += P · V_j (cols, Ev); out_i /= rowsum; lse_i = m + log(l)
template <class T>
void forward_block(const Plan& p, const GeneratorState& rng, int64_t b, int64_t i0, int64_t rows, T* out,
                   int64_t o_rs, T* lse, std::vector<T>& s, std::vector<T>& m, std::vector<T>& l,
                   std::vector<uint8_t>& keep) {
  constexpr T ninf = -std::numeric_limits<T>::infinity();
  const T* Q = p.q.data<T>() + p.q_off[b] + i0 * p.q_rs;
  const T* K = p.k.data<T>() + p.k_off[b];
  const T* V = p.v.data<T>() + p.v_off[b];
  const int64_t ld = kBlockK;
  std::fill(m.begin(), m.begin() + rows, ninf);
  std::fill(l.begin(), l.begin() + rows, T(0));
  for (int64_t r = 0; r < rows; ++r) std::fill(out + r * o_rs, out + r * o_rs + p.Ev, T(0));
  // Causal: the last query of the block sees keys up to its own index.
  const int64_t j_end = p.causal ? std::min(p.S, i0 + rows) : p.S;
  for (int64_t j0 = 0; j0 < j_end; j0 += kBlockK) {
    const int64_t cols = std::min(kBlockK, j_end - j0);
    gemm::gemm<T>(rows, cols, p.E, static_cast<T>(p.scale), Q, p.q_rs, 1, K + j0 * p.k_rs, 1, p.k_rs, T(0), s.data(),
                  ld, 1);
    mask_block<T>(p, b, i0, j0, rows, cols, s.data(), ld);
    if (p.dropout_p > 0) dropout_keep_block(rng, static_cast<float>(p.dropout_p), p.L, p.S, b, i0, j0, rows, cols,
                                            keep.data());
    for (int64_t r = 0; r < rows; ++r) {
      T* sr = s.data() + r * ld;
      const T mx = row_max(sr, cols, m[r]);
      if (mx == ninf) {  // every key so far masked: this block adds nothing to the row
        std::fill(sr, sr + cols, T(0));
        continue;
      }
      for (int64_t c = 0; c < cols; ++c) sr[c] -= mx;
      exp_inplace(sr, cols);
      const T sum = row_sum(sr, cols);
      const T alpha = std::exp(m[r] - mx);  // 0 on the row's first live block
      l[r] = l[r] * alpha + sum;
      m[r] = mx;
      if (alpha != T(1)) {
        T* o = out + r * o_rs;
        for (int64_t e = 0; e < p.Ev; ++e) o[e] *= alpha;
      }
      // The softmax sum counts every probability; dropout zeroes them only in P·V.
      if (p.dropout_p > 0) {
        const uint8_t* kr = keep.data() + r * cols;
        for (int64_t c = 0; c < cols; ++c) sr[c] = kr[c] ? sr[c] : T(0);
      }
    }
    gemm::gemm<T>(rows, p.Ev, cols, T(1), s.data(), ld, 1, V + j0 * p.v_rs, p.v_rs, 1, T(1), out, o_rs, 1);
  }
  const T keep_scale = p.dropout_p >= 1.0 ? T(0) : static_cast<T>(1.0 / (1.0 - p.dropout_p));
  for (int64_t r = 0; r < rows; ++r) {
    T* o = out + r * o_rs;
    if (l[r] > T(0)) {
      const T f = keep_scale / l[r];
      for (int64_t e = 0; e < p.Ev; ++e) o[e] *= f;
      lse[r] = m[r] + std::log(l[r]);
    } else {
      // A fully masked row: zeros out, and +inf makes every recomputed probability 0 backward.
      std::fill(o, o + p.Ev, T(0));
      lse[r] = std::numeric_limits<T>::infinity();
    }
  }
}

}  // namespace

AttentionForward attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor* mask,
                                   double scale, bool is_causal, double dropout_p) {
  const char* op = "scaled_dot_product_attention";
  const Plan p = make_plan(q, k, v, mask, scale, is_causal, dropout_p, op);
  AttentionForward r;
  r.out = make_output(p.batch, p.L, p.Ev, q.dtype());
  Shape lse_shape = p.batch;
  lse_shape.push_back(p.L);
  r.lse = Tensor::empty(lse_shape, q.dtype());
  if (p.dropout_p > 0) r.rng = reserve_random(p.B * p.L * p.S);
  if (r.out.numel() == 0 && r.lse.numel() == 0) return r;
  const std::vector<int64_t> o_off = batch_offsets(r.out, p.batch);
  const int64_t o_rs = r.out.strides()[r.out.dim() - 2];
  const int64_t nqb = (p.L + kBlockQ - 1) / kBlockQ;
  const int64_t tasks = p.B * nqb;
  // About 100k multiply-adds per chunk before a second thread is worth waking.
  const int64_t task_work = std::max<int64_t>(1, std::min(kBlockQ, p.L) * std::max<int64_t>(p.S, 1) * (p.E + p.Ev));
  const int64_t grain = std::max<int64_t>(1, 100000 / task_work);
  dispatch_float(q.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    T* out = r.out.data<T>();
    T* lse = r.lse.data<T>();
    parallel_for(0, tasks, grain, [&](int64_t t0, int64_t t1) {
      std::vector<T> s(static_cast<size_t>(kBlockQ * kBlockK)), m(kBlockQ), l(kBlockQ);
      std::vector<uint8_t> keep(p.dropout_p > 0 ? static_cast<size_t>(kBlockQ * kBlockK) : 0);
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t b = t / nqb, i0 = (t % nqb) * kBlockQ, rows = std::min(kBlockQ, p.L - i0);
        forward_block<T>(p, r.rng, b, i0, rows, out + o_off[b] + i0 * o_rs, o_rs, lse + b * p.L + i0, s, m, l,
                         keep);
      }
    });
  });
  return r;
}

}  // namespace glassnet
