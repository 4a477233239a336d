// The attention backward (attention.h), after FlashAttention-2 (Dao, 2023):
// the outer loop runs over key blocks, so each task owns its rows of dK and
// dV; the inner loop over query blocks recomputes the scores from Q, K and
// the saved log-sum-exp, so no L×S matrix is ever stored. With
//   P = exp(scale·Q·Kᵀ + mask - lse),  Pd = P ∘ keep / (1 - p),
//   D_i = Σ_e dO_ie · O_ie  (= Σ_j Pd_ij · dPd_ij),
// each (query block i, key block j) adds
//   dV_j += Pdᵀ·dO_i,   dPd = dO_i·V_jᵀ,   dS = P ∘ (dPd ∘ keep / (1 - p) − D_i),
//   dK_j += scale·dSᵀ·Q_i,   dQ_i += scale·dS·K_j.
// dQ_i receives from every key block, so each thread group accumulates into
// its own buffer covering the batch entries its tasks touch, and the buffers
// are summed at the end: memory stays linear in the sequence length.
#include <algorithm>
#include <cmath>
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

// Key block [j0, j0 + cols) of batch entry b against every query block that
// can see it. dk_j, dv_j: (cols, E) and (cols, Ev) rows of the outputs;
// dq: this group's buffer for batch entry b, (L, E); dmask: (L, S) or null.
template <class T>
void backward_block(const Plan& p, const GeneratorState& rng, int64_t b, int64_t j0, int64_t cols, const T* dO,
                    int64_t do_rs, const T* lse, const T* D, T* dq, T* dk_j, T* dv_j, T* dmask,
                    std::vector<T>& P, std::vector<T>& Pd, std::vector<T>& dS, std::vector<uint8_t>& keep) {
  const T* Q = p.q.data<T>() + p.q_off[b];
  const T* K_j = p.k.data<T>() + p.k_off[b] + j0 * p.k_rs;
  const T* V_j = p.v.data<T>() + p.v_off[b] + j0 * p.v_rs;
  const T scale = static_cast<T>(p.scale);
  const bool drop = p.dropout_p > 0;
  const T keep_scale = p.dropout_p >= 1.0 ? T(0) : static_cast<T>(1.0 / (1.0 - p.dropout_p));
  const int64_t ld = kBlockK;
  // Causal: query i sees key j only when i ≥ j, so queries before j0 are skipped.
  const int64_t i_first = p.causal ? (j0 / kBlockQ) * kBlockQ : 0;
  for (int64_t i0 = i_first; i0 < p.L; i0 += kBlockQ) {
    const int64_t rows = std::min(kBlockQ, p.L - i0);
    const T* Q_i = Q + i0 * p.q_rs;
    const T* dO_i = dO + i0 * do_rs;
    gemm::gemm<T>(rows, cols, p.E, scale, Q_i, p.q_rs, 1, K_j, 1, p.k_rs, T(0), P.data(), ld, 1);
    mask_block<T>(p, b, i0, j0, rows, cols, P.data(), ld);
    for (int64_t r = 0; r < rows; ++r) {
      T* pr = P.data() + r * ld;
      const T lr = lse[i0 + r];
      for (int64_t c = 0; c < cols; ++c) pr[c] -= lr;  // lse = +inf (a fully masked row) gives 0
      exp_inplace(pr, cols);
    }
    const T* Pv = P.data();
    if (drop) {
      dropout_keep_block(rng, static_cast<float>(p.dropout_p), p.L, p.S, b, i0, j0, rows, cols, keep.data());
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c)
          Pd[r * ld + c] = keep[r * cols + c] ? P[r * ld + c] * keep_scale : T(0);
      Pv = Pd.data();
    }
    // dV_j (cols, Ev) += Pdᵀ (cols, rows) · dO_i (rows, Ev)
    gemm::gemm<T>(cols, p.Ev, rows, T(1), Pv, 1, ld, dO_i, do_rs, 1, T(1), dv_j, p.Ev, 1);
    // dPd (rows, cols) = dO_i (rows, Ev) · V_jᵀ (Ev, cols)
    gemm::gemm<T>(rows, cols, p.Ev, T(1), dO_i, do_rs, 1, V_j, 1, p.v_rs, T(0), dS.data(), ld, 1);
    for (int64_t r = 0; r < rows; ++r) {
      T* g = dS.data() + r * ld;
      const T* pr = P.data() + r * ld;
      const T d = D[i0 + r];
      if (drop) {
        const uint8_t* kr = keep.data() + r * cols;
        for (int64_t c = 0; c < cols; ++c) g[c] = pr[c] * ((kr[c] ? g[c] * keep_scale : T(0)) - d);
      } else {
        for (int64_t c = 0; c < cols; ++c) g[c] = pr[c] * (g[c] - d);
      }
      if (dmask) std::copy(g, g + cols, dmask + (i0 + r) * p.S + j0);
    }
    // dK_j (cols, E) += scale · dSᵀ (cols, rows) · Q_i (rows, E)
    gemm::gemm<T>(cols, p.E, rows, scale, dS.data(), 1, ld, Q_i, p.q_rs, 1, T(1), dk_j, p.E, 1);
    // dQ_i (rows, E) += scale · dS (rows, cols) · K_j (cols, E)
    gemm::gemm<T>(rows, p.E, cols, scale, dS.data(), ld, 1, K_j, p.k_rs, 1, T(1), dq + i0 * p.E, p.E, 1);
  }
}

}  // namespace

AttentionGrads attention_backward(const Tensor& grad_out, const Tensor& q, const Tensor& k, const Tensor& v,
                                  const Tensor* mask, const Tensor& out, const Tensor& lse, double scale,
                                  bool is_causal, double dropout_p, GeneratorState rng, bool need_mask_grad) {
  const char* op = "scaled_dot_product_attention_backward";
  const Plan p = make_plan(q, k, v, mask, scale, is_causal, dropout_p, op);
  Shape out_shape = p.batch;
  out_shape.push_back(p.L);
  out_shape.push_back(p.Ev);
  Shape lse_shape = p.batch;
  lse_shape.push_back(p.L);
  if (grad_out.shape() != out_shape || out.shape() != out_shape)
    fail<ValueError>("[", op, "] grad_out ", shape_str(grad_out.shape()), " and out ", shape_str(out.shape()),
                     " must have the output shape ", shape_str(out_shape));
  if (lse.shape() != lse_shape || !lse.is_contiguous())
    fail<ValueError>("[", op, "] lse of shape ", shape_str(lse.shape()), " must be a contiguous ",
                     shape_str(lse_shape));
  if (grad_out.dtype() != q.dtype() || out.dtype() != q.dtype() || lse.dtype() != q.dtype())
    fail<TypeError>("[", op, "] grad_out, out and lse must have the query dtype ", dtype_name(q.dtype()));
  if (need_mask_grad && (!mask || p.mask_bool))
    fail<ValueError>("[", op, "] a mask gradient needs a float attn_mask");
  const Tensor dO = unit_last(grad_out), O = unit_last(out);
  auto shape_with = [&](int64_t rows, int64_t cols) {
    Shape s = p.batch;
    s.push_back(rows);
    s.push_back(cols);
    return s;
  };
  AttentionGrads g;
  g.grad_q = Tensor::zeros(shape_with(p.L, p.E), q.dtype());
  g.grad_k = Tensor::zeros(shape_with(p.S, p.E), q.dtype());
  g.grad_v = Tensor::zeros(shape_with(p.S, p.Ev), q.dtype());
  if (need_mask_grad) g.grad_mask = Tensor::zeros(shape_with(p.L, p.S), q.dtype());
  if (p.B == 0 || p.L == 0 || p.S == 0) return g;
  const std::vector<int64_t> do_off = batch_offsets(dO, p.batch), o_off = batch_offsets(O, p.batch);
  const int64_t do_rs = dO.strides()[dO.dim() - 2], o_rs = O.strides()[O.dim() - 2];
  const int64_t nkb = (p.S + kBlockK - 1) / kBlockK;
  const int64_t tasks = p.B * nkb;
  const int64_t task_work = std::min(kBlockK, p.S) * p.L * (2 * p.E + 2 * p.Ev) + 1;
  const int threads = in_parallel_region() ? 1 : get_num_threads();
  const int64_t groups = std::max<int64_t>(1, std::min<int64_t>({threads, tasks, tasks * task_work / 200000 + 1}));

  dispatch_float(q.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    // D = rowsum(dO ∘ O): (B, L)
    std::vector<T> D(static_cast<size_t>(p.B * p.L));
    parallel_for(0, p.B * p.L, std::max<int64_t>(1, 16384 / std::max<int64_t>(p.Ev, 1)), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t b = r / p.L, i = r % p.L;
        const T* a = dO.data<T>() + do_off[b] + i * do_rs;
        const T* o = O.data<T>() + o_off[b] + i * o_rs;
        T acc = 0;
        for (int64_t e = 0; e < p.Ev; ++e) acc += a[e] * o[e];
        D[r] = acc;
      }
    });
    T* dq_out = g.grad_q.data<T>();
    T* dk = g.grad_k.data<T>();
    T* dv = g.grad_v.data<T>();
    T* dmask = need_mask_grad ? g.grad_mask.data<T>() : nullptr;
    const T* lse_p = lse.data<T>();
    // Group gi runs tasks [t0, t1) in (b, key block) order and owns dQ rows of
    // batch entries [b_lo, b_hi]; group 0 writes straight into the output
    // when it is the only one.
    auto task_range = [&](int64_t gi) { return std::make_pair(gi * tasks / groups, (gi + 1) * tasks / groups); };
    std::vector<std::vector<T>> bufs(static_cast<size_t>(groups));
    parallel_for(0, groups, 1, [&](int64_t g0, int64_t g1) {
      const size_t block = static_cast<size_t>(kBlockQ * kBlockK);
      std::vector<T> P(block), Pd(p.dropout_p > 0 ? block : 0), dS(block);
      std::vector<uint8_t> keep(p.dropout_p > 0 ? static_cast<size_t>(kBlockQ * kBlockK) : 0);
      for (int64_t gi = g0; gi < g1; ++gi) {
        const auto [t0, t1] = task_range(gi);
        if (t0 >= t1) continue;
        const int64_t b_lo = t0 / nkb;
        if (groups > 1) bufs[gi].assign(static_cast<size_t>(((t1 - 1) / nkb - b_lo + 1) * p.L * p.E), T(0));
        for (int64_t t = t0; t < t1; ++t) {
          const int64_t b = t / nkb, j0 = (t % nkb) * kBlockK, cols = std::min(kBlockK, p.S - j0);
          T* dq_b = groups > 1 ? bufs[gi].data() + (b - b_lo) * p.L * p.E : dq_out + b * p.L * p.E;
          backward_block<T>(p, rng, b, j0, cols, dO.data<T>() + do_off[b], do_rs, lse_p + b * p.L, D.data() + b * p.L,
                            dq_b, dk + (b * p.S + j0) * p.E, dv + (b * p.S + j0) * p.Ev,
                            dmask ? dmask + b * p.L * p.S : nullptr, P, Pd, dS, keep);
        }
      }
    });
    if (groups > 1) {
      // Sum the groups' dQ rows: entry b lives in the buffers of the (consecutive) groups whose tasks touch it.
      parallel_for(0, p.B, 1, [&](int64_t b0, int64_t b1) {
        for (int64_t b = b0; b < b1; ++b) {
          T* dst = dq_out + b * p.L * p.E;
          for (int64_t gi = 0; gi < groups; ++gi) {
            const auto [t0, t1] = task_range(gi);
            if (t0 >= t1 || b < t0 / nkb || b > (t1 - 1) / nkb) continue;
            const T* src = bufs[gi].data() + (b - t0 / nkb) * p.L * p.E;
            for (int64_t e = 0; e < p.L * p.E; ++e) dst[e] += src[e];
          }
        }
      });
    }
  });
  return g;
}

}  // namespace glassnet
