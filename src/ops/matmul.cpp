// Tensor-level matrix products (see matmul.h). Shapes are validated here,
// once; everything behind calls gemm::gemm with the operands' own strides.
#include "ops/matmul.h"

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include "dispatch.h"
#include "errors.h"
#include "gemm/gemm.h"
#include "ops/copy.h"
#include "parallel.h"

namespace glassnet {
namespace {

// Device and dtype checks shared by every entry point.
void check_operands(const char* op, const Tensor& a, const Tensor& b) {
  if (!a.defined() || !b.defined()) fail<ValueError>("[", op, "] undefined tensor");
  if (a.device().is_cuda() || b.device().is_cuda())
    fail<RuntimeError>("[", op, "] not implemented for cuda tensors yet");
  if (a.dtype() != b.dtype())
    fail<TypeError>("[", op, "] expected both operands to have the same dtype, got ",
                    dtype_name(a.dtype()), " and ", dtype_name(b.dtype()));
  if (!is_floating(a.dtype()))
    fail<TypeError>("[", op, "] expected a float32 or float64 tensor, got ", dtype_name(a.dtype()));
}

void check_2d(const char* op, const Tensor& a, const Tensor& b) {
  if (a.dim() != 2 || b.dim() != 2)
    fail<ValueError>("[", op, "] expected 2-D tensors, got shapes ", shape_str(a.shape()), " and ",
                     shape_str(b.shape()));
}

// A matrix operand as the GEMM sees it: base pointer and two strides.
template <class T>
struct Mat {
  const T* p;
  int64_t rs, cs;
};

// One batched GEMM: out[b] = a[b]·b[b] for every batch index, operands given
// by per-batch element offsets. Small products run one per thread; large ones
// one after another, each using every thread.
template <class T>
void batched_gemm(int64_t batches, int64_t M, int64_t N, int64_t K, const T* a, int64_t rsA,
                  int64_t csA, const std::vector<int64_t>& offA, const T* b, int64_t rsB,
                  int64_t csB, const std::vector<int64_t>& offB, T* c) {
  auto one = [&](int64_t i) {
    gemm::gemm<T>(M, N, K, T(1), a + offA[i], rsA, csA, b + offB[i], rsB, csB, T(0),
                  c + i * M * N, N, 1);
  };
  const double flops = 2.0 * double(M) * double(N) * double(K);
  if (batches > 1 && flops < 4e6) {
    const int64_t grain = std::max<int64_t>(1, static_cast<int64_t>(4e6 / (flops + 1)));
    parallel_for(0, batches, grain, [&](int64_t b0, int64_t b1) {
      for (int64_t i = b0; i < b1; ++i) one(i);
    });
  } else {
    for (int64_t i = 0; i < batches; ++i) one(i);
  }
}

// Element offsets of every batch index of t (batch dims = all but the last
// two of t, right-aligned against `batch` and broadcast).
std::vector<int64_t> batch_offsets(const Tensor& t, const Shape& batch) {
  const int64_t nb = static_cast<int64_t>(batch.size());
  const int64_t tb = t.dim() - 2;
  Shape strides(nb, 0);
  for (int64_t d = 0; d < tb; ++d) {
    const int64_t bd = nb - tb + d;
    strides[bd] = t.shape()[d] == 1 ? 0 : t.strides()[d];
  }
  int64_t total = 1;
  for (int64_t s : batch) total *= s;
  std::vector<int64_t> offs(total);
  Shape idx(nb, 0);
  int64_t off = 0;
  for (int64_t i = 0; i < total; ++i) {
    offs[i] = off;
    for (int64_t d = nb - 1; d >= 0; --d) {
      if (++idx[d] < batch[d]) {
        off += strides[d];
        break;
      }
      off -= strides[d] * (batch[d] - 1);
      idx[d] = 0;
    }
  }
  return offs;
}

// When t's dims before the last can be merged into one row dim (its rows
// equally spaced in memory), the row count and row stride; else rows = -1.
std::pair<int64_t, int64_t> fold_rows(const Tensor& t) {
  int64_t rows = 1, rs = 0;
  bool first = true;
  for (int64_t d = t.dim() - 2; d >= 0; --d) {
    const int64_t n = t.shape()[d], s = t.strides()[d];
    if (n == 1) continue;
    if (first) {
      rs = s;
      first = false;
    } else if (s != rs * rows) {
      return {-1, 0};
    }
    rows *= n;
  }
  return {rows, first ? 1 : rs};
}

// The plain 2-D product, the most frequent call and often a small one: no
// operand views or batch shapes to build, so the fixed cost per call is the
// output's allocation and little else.
Tensor matmul_2d(const Tensor& a, const Tensor& b) {
  const int64_t M = a.size(0), K = a.size(1), N = b.size(1);
  if (b.size(0) != K)
    fail<ValueError>("[matmul] shapes ", shape_str(a.shape()), " and ", shape_str(b.shape()),
                     " cannot be multiplied (", K, " != ", b.size(0), ")");
  Tensor out = Tensor::empty({M, N}, a.dtype());
  if (M == 0 || N == 0) return out;
  dispatch_float(a.dtype(), "matmul", [&](auto tag) {
    using T = decltype(tag);
    gemm::gemm<T>(M, N, K, T(1), a.template data<T>(), a.strides()[0], a.strides()[1], b.template data<T>(),
                  b.strides()[0], b.strides()[1], T(0), out.template data<T>(), N, 1);
  });
  return out;
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_operands("matmul", a, b);
  if (a.dim() == 2 && b.dim() == 2) return matmul_2d(a, b);
  if (a.dim() == 0 || b.dim() == 0)
    fail<ValueError>("[matmul] both arguments need to be at least 1-D, got shapes ",
                     shape_str(a.shape()), " and ", shape_str(b.shape()));
  // Promote 1-D operands: (K,) → (1, K) on the left, (K, 1) on the right.
  const bool a_vec = a.dim() == 1, b_vec = b.dim() == 1;
  const Tensor A = a_vec ? a.as_strided({1, a.size(0)}, {0, a.strides()[0]}, a.offset()) : a;
  const Tensor B = b_vec ? b.as_strided({b.size(0), 1}, {b.strides()[0], 0}, b.offset()) : b;
  const int64_t M = A.size(A.dim() - 2), K = A.size(A.dim() - 1);
  const int64_t K2 = B.size(B.dim() - 2), N = B.size(B.dim() - 1);
  if (K != K2)
    fail<ValueError>("[matmul] shapes ", shape_str(a.shape()), " and ", shape_str(b.shape()),
                     " cannot be multiplied (", K, " != ", K2, ")");

  // Broadcast the batch dims.
  const int64_t na = A.dim() - 2, nb = B.dim() - 2, nbatch = std::max(na, nb);
  Shape batch(nbatch, 1);
  for (int64_t d = 0; d < nbatch; ++d) {
    const int64_t da = d - (nbatch - na), db = d - (nbatch - nb);
    const int64_t sa = da >= 0 ? A.size(da) : 1, sb = db >= 0 ? B.size(db) : 1;
    if (sa != sb && sa != 1 && sb != 1)
      fail<ValueError>("[matmul] shapes ", shape_str(a.shape()), " and ", shape_str(b.shape()),
                       ": batch dimensions cannot be broadcast (", sa, " != ", sb, ")");
    batch[d] = sa == 1 ? sb : sa;
  }
  Shape out_shape = batch;
  if (!a_vec) out_shape.push_back(M);
  if (!b_vec) out_shape.push_back(N);
  Tensor out = Tensor::empty(out_shape, a.dtype());
  if (out.numel() == 0) return out;

  const int64_t rsA = A.strides()[A.dim() - 2], csA = A.strides()[A.dim() - 1];
  const int64_t rsB = B.strides()[B.dim() - 2], csB = B.strides()[B.dim() - 1];
  dispatch_float(a.dtype(), "matmul", [&](auto tag) {
    using T = decltype(tag);
    // b shared by every batch and a's batch rows evenly spaced: one GEMM
    // with the batch folded into M, as torch does for x·W.
    if (na == 0 && nb == 0) {  // plain 2-D product: no batch bookkeeping
      gemm::gemm<T>(M, N, K, T(1), A.template data<T>(), rsA, csA, B.template data<T>(), rsB, csB,
                    T(0), out.template data<T>(), N, 1);
      return;
    }
    bool b_shared = true;
    for (int64_t d = 0; d < nb; ++d) b_shared = b_shared && B.size(d) == 1;
    if (b_shared && na > 0) {
      auto [rows, rs] = fold_rows(A);
      if (rows >= 0) {
        gemm::gemm<T>(rows, N, K, T(1), A.template data<T>(), rs, csA, B.template data<T>(), rsB,
                      csB, T(0), out.template data<T>(), N, 1);
        return;
      }
    }
    int64_t total = 1;
    for (int64_t s : batch) total *= s;
    batched_gemm<T>(total, M, N, K, A.template data<T>(), rsA, csA, batch_offsets(A, batch),
                    B.template data<T>(), rsB, csB, batch_offsets(B, batch),
                    out.template data<T>());
  });
  return out;
}

Tensor linear_forward(const Tensor& x, const Tensor& weight, const Tensor* bias) {
  check_operands("linear", x, weight);
  if (bias) check_operands("linear", x, *bias);
  if (weight.dim() != 2 || x.dim() < 1)
    fail<ValueError>("[linear] expected input (..., in) and weight (out, in), got shapes ",
                     shape_str(x.shape()), " and ", shape_str(weight.shape()));
  const int64_t in = x.size(x.dim() - 1), out_f = weight.size(0);
  if (weight.size(1) != in)
    fail<ValueError>("[linear] input shape ", shape_str(x.shape()), " and weight shape ",
                     shape_str(weight.shape()), " do not match (", in, " != ", weight.size(1), ")");
  if (bias && (bias->dim() != 1 || bias->size(0) != out_f))
    fail<ValueError>("[linear] expected bias of shape (", out_f, ",), got ",
                     shape_str(bias->shape()));

  Shape out_shape(x.shape().begin(), x.shape().end() - 1);
  out_shape.push_back(out_f);
  Tensor out = Tensor::empty(out_shape, x.dtype());
  if (out.numel() == 0) return out;
  // The epilogue reads bias contiguously: copy it if it is strided (tiny).
  const Tensor b = bias ? (bias->strides()[0] == 1 ? *bias : bias->contiguous()) : Tensor();
  const Tensor xs = x.dim() == 1 ? x.as_strided({1, in}, {0, x.strides()[0]}, x.offset()) : x;
  auto [rows, rs] = fold_rows(xs);
  const Tensor xm = rows >= 0 ? xs : xs.contiguous();
  if (rows < 0) std::tie(rows, rs) = fold_rows(xm);
  const int64_t cs = xm.strides()[xm.dim() - 1];
  dispatch_float(x.dtype(), "linear", [&](auto tag) {
    using T = decltype(tag);
    gemm::Epilogue<T> ep;
    if (bias) ep.bias = b.template data<T>();
    // x·Wᵀ: W (out, in) read as an in×out matrix by swapping its strides.
    gemm::gemm<T>(rows, out_f, in, T(1), xm.template data<T>(), rs, cs, weight.template data<T>(),
                  weight.strides()[1], weight.strides()[0], T(0), out.template data<T>(), out_f, 1,
                  ep);
  });
  return out;
}

Tensor addmm(const Tensor& input, const Tensor& a, const Tensor& b, double beta, double alpha) {
  check_operands("addmm", a, b);
  check_operands("addmm", input, a);
  check_2d("addmm", a, b);
  const int64_t M = a.size(0), K = a.size(1), N = b.size(1);
  if (b.size(0) != K)
    fail<ValueError>("[addmm] shapes ", shape_str(a.shape()), " and ", shape_str(b.shape()),
                     " cannot be multiplied (", K, " != ", b.size(0), ")");
  // input must broadcast to (M, N).
  const Shape& is = input.shape();
  const int64_t id = input.dim();
  const bool fits = id <= 2 && (id < 1 || is[id - 1] == N || is[id - 1] == 1) &&
                    (id < 2 || is[0] == M || is[0] == 1);
  if (!fits)
    fail<ValueError>("[addmm] input of shape ", shape_str(is), " cannot be broadcast to (", M, ", ",
                     N, ")");
  Tensor out = Tensor::empty({M, N}, a.dtype());
  if (out.numel() == 0) return out;

  // A row vector (N,) or (1, N) with N > 1 becomes the epilogue's bias
  // (scaled by beta when beta != 1); anything else is copied into out first.
  const bool row_bias = beta != 0 && N > 1 && input.numel() == N && (id == 1 || (id == 2 && is[0] == 1));
  Tensor bias;
  if (row_bias) {
    bias = input.as_strided({N}, {input.strides()[id - 1]}, input.offset());
    if (beta != 1 || bias.strides()[0] != 1) {
      Tensor scaled = Tensor::empty({N}, a.dtype());
      copy_(scaled, bias);
      bias = scaled;
      dispatch_float(a.dtype(), "addmm", [&](auto tag) {
        using T = decltype(tag);
        T* p = bias.template data<T>();
        for (int64_t j = 0; j < N; ++j) p[j] = static_cast<T>(beta) * p[j];
      });
    }
  } else if (beta != 0) {
    copy_(out, input);
  }
  dispatch_float(a.dtype(), "addmm", [&](auto tag) {
    using T = decltype(tag);
    gemm::Epilogue<T> ep;
    if (row_bias) ep.bias = bias.template data<T>();
    const T gemm_beta = row_bias ? T(0) : static_cast<T>(beta);
    gemm::gemm<T>(M, N, K, static_cast<T>(alpha), a.template data<T>(), a.strides()[0],
                  a.strides()[1], b.template data<T>(), b.strides()[0], b.strides()[1], gemm_beta,
                  out.template data<T>(), N, 1, ep);
  });
  return out;
}

namespace {
// out (M, N) = op(a)·op(b) for 2-D operands given as (rows, cols, strides).
Tensor mm_strided(const char* op, const Tensor& a, const Tensor& b, bool ta, bool tb) {
  check_operands(op, a, b);
  check_2d(op, a, b);
  const int64_t M = ta ? a.size(1) : a.size(0), K = ta ? a.size(0) : a.size(1);
  const int64_t Kb = tb ? b.size(1) : b.size(0), N = tb ? b.size(0) : b.size(1);
  if (K != Kb)
    fail<ValueError>("[", op, "] shapes ", shape_str(a.shape()), " and ", shape_str(b.shape()),
                     " cannot be multiplied (", K, " != ", Kb, ")");
  Tensor out = Tensor::empty({M, N}, a.dtype());
  if (out.numel() == 0) return out;
  const int64_t rsA = a.strides()[ta ? 1 : 0], csA = a.strides()[ta ? 0 : 1];
  const int64_t rsB = b.strides()[tb ? 1 : 0], csB = b.strides()[tb ? 0 : 1];
  dispatch_float(a.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    gemm::gemm<T>(M, N, K, T(1), a.template data<T>(), rsA, csA, b.template data<T>(), rsB, csB,
                  T(0), out.template data<T>(), N, 1);
  });
  return out;
}
}  // namespace

Tensor mm_nt(const Tensor& a, const Tensor& b) { return mm_strided("mm_nt", a, b, false, true); }
Tensor mm_tn(const Tensor& a, const Tensor& b) { return mm_strided("mm_tn", a, b, true, false); }

}  // namespace glassnet
