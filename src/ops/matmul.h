// Matrix products on tensors with torch semantics, all on gemm::gemm (src/gemm).
// Operands are used through their strides: a transposed or sliced matrix is
// passed to the GEMM as (row stride, column stride), never copied.
//
// float32 and float64 only, both operands the same dtype (TypeError
// otherwise), CPU only for now (RuntimeError for CUDA tensors).
#pragma once

#include "tensor.h"

namespace glassnet {

// torch.matmul: 1-D·1-D is a dot product (0-d result); 2-D·2-D; a 1-D
// operand is promoted to a matrix and the added dim removed from the result;
// batch dims broadcast: (2,1,3,4)@(5,4,6) → (2,5,3,6). K = 0 gives zeros.
//   a (..., M, K) · b (..., K, N) → (..., M, N)
Tensor matmul(const Tensor& a, const Tensor& b);

// The forward of nn.Linear, bias fused into the GEMM's epilogue:
//   x (..., in) · weight (out, in)ᵀ + bias (out) → (..., out)
// bias may be null.
Tensor linear_forward(const Tensor& x, const Tensor& weight, const Tensor* bias);

// torch.addmm: beta·input + alpha·(a·b) for 2-D a (M, K), b (K, N) and input
// broadcastable to (M, N). beta == 0 ignores input (NaN in it does not
// propagate), as torch.
Tensor addmm(const Tensor& input, const Tensor& a, const Tensor& b, double beta, double alpha);

// Products with one operand transposed, for the backward passes:
//   mm_nt: a (M, K) · b (N, K)ᵀ → (M, N)     e.g. grad_x = grad_out · W is mm
//   mm_tn: a (K, M)ᵀ · b (K, N) → (M, N)     e.g. grad_W = grad_outᵀ · x
Tensor mm_nt(const Tensor& a, const Tensor& b);
Tensor mm_tn(const Tensor& a, const Tensor& b);

}  // namespace glassnet
