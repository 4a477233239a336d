// Elementwise ops with broadcasting and torch's type promotion, and the
// backward kernels of the unary ones.
#pragma once

#include <cstdint>

#include "tensor.h"

namespace glassnet {

enum class UnaryOp : uint8_t {
  Neg, Abs, Exp, Log, Log1p, Sqrt, Rsqrt, Sin, Cos, Sign, Reciprocal, Expm1,
  Relu, Sigmoid, Tanh, Relu6, LeakyRelu /*p0=slope*/, Elu /*p0=alpha*/, Selu, Gelu, GeluTanh,
  Silu, Softplus /*p0=beta, p1=threshold*/, Hardtanh /*p0=min, p1=max*/, ClampMin /*p0*/, ClampMax /*p0*/,
  Clamp /*p0=min, p1=max*/, Square, Floor, Ceil, Round, Trunc,
  IsNan, IsInf, IsFinite, LogicalNot,
};

enum class BinaryOp : uint8_t {
  Add, Sub, Mul, Div, Pow, Maximum, Minimum, Atan2, Remainder, FloorDivide,
  Eq, Ne, Lt, Le, Gt, Ge, LogicalAnd, LogicalOr, LogicalXor,
};

const char* unary_name(UnaryOp op);
const char* binary_name(BinaryOp op);

// torch.result_type for two tensors: 0-d tensors only raise the category
// (bool < integer < floating) of tensors with dims, never their width.
DType result_type(const Tensor& a, const Tensor& b);

Tensor unary(UnaryOp op, const Tensor& x, double p0 = 0, double p1 = 0);
// grad_x = grad · f'(x) for the differentiable unary ops; uses x or the
// forward output y, whichever the derivative is cheaper in.
Tensor unary_backward(UnaryOp op, const Tensor& grad, const Tensor& x, const Tensor& y,
                      double p0 = 0, double p1 = 0);
Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b);
// a = a (op) b in place; b broadcast to a, result cast to a's dtype.
void binary_(BinaryOp op, Tensor& a, const Tensor& b);
// cond ? a : b with broadcasting of all three.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);

}  // namespace glassnet
