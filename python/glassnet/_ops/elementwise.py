"""Elementwise ops: arithmetic with broadcasting, comparisons, activations.

Forward is one C++ kernel; backward is the derivative written out. Broadcast
gradients are summed back to each input's shape by the engine."""
import math

from .. import _C
from .. import _dtype as dtypes
from .._tensor import Tensor, tensor_like
from ..autograd.function import Function
from ..autograd.grad_mode import state

U = _C.UnaryOp
B = _C.BinaryOp


def _pair(a, b):
    """Both operands as Tensors; a Python number takes the other's dtype rules."""
    if not isinstance(a, Tensor):
        if not isinstance(b, Tensor):
            raise TypeError(f"expected at least one Tensor operand, got {type(a).__name__} and {type(b).__name__}")
        a = tensor_like(a, b)
    elif not isinstance(b, Tensor):
        b = tensor_like(b, a)
    return a, b


# ---- binary arithmetic ---------------------------------------------------------------


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        return Tensor._wrap(_C.binary(B.add, a._impl, b._impl))

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        return Tensor._wrap(_C.binary(B.sub, a._impl, b._impl))

    @staticmethod
    def backward(ctx, grad):
        return grad, (-grad if ctx.needs_input_grad[1] else None)


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return Tensor._wrap(_C.binary(B.mul, a._impl, b._impl))

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return (grad * b if ctx.needs_input_grad[0] else None,
                grad * a if ctx.needs_input_grad[1] else None)


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return Tensor._wrap(_C.binary(B.div, a._impl, b._impl))

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        grad_a = grad / b if ctx.needs_input_grad[0] else None
        grad_b = -grad * a / (b * b) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Pow(Function):
    @staticmethod
    def forward(ctx, a, b):
        y = Tensor._wrap(_C.binary(B.pow, a._impl, b._impl))
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        a, b, y = ctx.saved_tensors
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            # b * a^(b-1), with 0^0 contributing b * 0^-1 = nan avoided as torch does: 0 where b == 0.
            grad_a = where(b == 0, 0.0, grad * b * pow(a, b - 1))
        if ctx.needs_input_grad[1]:
            # y * log(a); at a == 0 with b >= 0 the limit is 0, not nan.
            grad_b = where((a == 0) & (b >= 0), 0.0, grad * y * log(a))
        return grad_a, grad_b


class Maximum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return Tensor._wrap(_C.binary(B.maximum, a._impl, b._impl))

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return _split_by_mask(ctx, grad, a > b, a == b)


class Minimum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return Tensor._wrap(_C.binary(B.minimum, a._impl, b._impl))

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return _split_by_mask(ctx, grad, a < b, a == b)


def _split_by_mask(ctx, grad, a_wins, tie):
    """The gradient goes to the winner; ties share it equally, as in torch."""
    half = grad * 0.5
    grad_a = where(a_wins, grad, where(tie, half, 0.0)) if ctx.needs_input_grad[0] else None
    grad_b = where(a_wins, 0.0, where(tie, half, grad)) if ctx.needs_input_grad[1] else None
    return grad_a, grad_b


class Atan2(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return Tensor._wrap(_C.binary(B.atan2, a._impl, b._impl))

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        denom = a * a + b * b
        return grad * b / denom, -grad * a / denom


def _binary_fn(fn_cls):
    def op(a, b):
        a, b = _pair(a, b)
        return fn_cls.apply(a, b)

    return op


add = _binary_fn(Add)
sub = _binary_fn(Sub)
mul = _binary_fn(Mul)
_true_div = _binary_fn(Div)
pow = _binary_fn(Pow)
maximum = _binary_fn(Maximum)
minimum = _binary_fn(Minimum)
atan2 = _binary_fn(Atan2)


def div(a, b, rounding_mode=None):
    if rounding_mode is None:
        return _true_div(a, b)
    if rounding_mode == "floor":
        return floor_divide(a, b)
    if rounding_mode == "trunc":
        return trunc(_true_div(a, b)) if _pair(a, b)[0].is_floating_point() or _pair(a, b)[1].is_floating_point() \
            else _no_grad_binary(B.div, a, b).trunc().to(dtypes.int64)
    raise ValueError(f"[div] rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")


true_divide = _true_div
multiply = mul
subtract = sub


def _no_grad_binary(op, a, b):
    a, b = _pair(a, b)
    return Tensor._wrap(_C.binary(op, a._impl, b._impl))


def remainder(a, b):
    return _no_grad_binary(B.remainder, a, b)


def floor_divide(a, b):
    return _no_grad_binary(B.floor_divide, a, b)


def eq(a, b):
    return _no_grad_binary(B.eq, a, b)


def ne(a, b):
    return _no_grad_binary(B.ne, a, b)


def lt(a, b):
    return _no_grad_binary(B.lt, a, b)


def le(a, b):
    return _no_grad_binary(B.le, a, b)


def gt(a, b):
    return _no_grad_binary(B.gt, a, b)


def ge(a, b):
    return _no_grad_binary(B.ge, a, b)


def logical_and(a, b):
    return _no_grad_binary(B.logical_and, a, b)


def logical_or(a, b):
    return _no_grad_binary(B.logical_or, a, b)


def logical_xor(a, b):
    return _no_grad_binary(B.logical_xor, a, b)


greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne

# ---- unary ops ---------------------------------------------------------------------


class Unary(Function):
    """y = f(x) for one of the C++ unary ops; p0, p1 are its parameters."""

    @staticmethod
    def forward(ctx, x, op, p0=0.0, p1=0.0):
        y = Tensor._wrap(_C.unary(op, x._impl, p0, p1))
        ctx.op, ctx.p0, ctx.p1 = op, p0, p1
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        if state.grad_enabled and ctx.op in _DIFFERENTIABLE_DERIVATIVES:
            # create_graph: the derivative as Tensor ops, so it can be differentiated again.
            return _DIFFERENTIABLE_DERIVATIVES[ctx.op](grad, x, y, ctx.p0, ctx.p1)
        if state.grad_enabled and (grad.requires_grad or x.requires_grad):
            raise RuntimeError(f"[{ctx.op.name}] double backward is not supported for this op")
        return Tensor._wrap(_C.unary_backward(ctx.op, grad._impl, x._impl, y._impl, ctx.p0, ctx.p1))

    def name(self):
        return self.op.name.capitalize() + "Backward" if hasattr(self, "op") else "UnaryBackward"


_DIFFERENTIABLE_DERIVATIVES = {
    U.neg: lambda g, x, y, p0, p1: -g,
    U.exp: lambda g, x, y, p0, p1: g * exp(x),
    U.log: lambda g, x, y, p0, p1: g / x,
    U.log1p: lambda g, x, y, p0, p1: g / (x + 1),
    U.expm1: lambda g, x, y, p0, p1: g * exp(x),
    U.sqrt: lambda g, x, y, p0, p1: g / (2 * sqrt(x)),
    U.rsqrt: lambda g, x, y, p0, p1: -0.5 * g * rsqrt(x) / x,
    U.sin: lambda g, x, y, p0, p1: g * cos(x),
    U.cos: lambda g, x, y, p0, p1: -g * sin(x),
    U.tanh: lambda g, x, y, p0, p1: g * (1 - tanh(x) ** 2),
    U.sigmoid: lambda g, x, y, p0, p1: g * sigmoid(x) * (1 - sigmoid(x)),
    U.relu: lambda g, x, y, p0, p1: g * (x > 0),
    U.abs: lambda g, x, y, p0, p1: g * sign(x),
    U.square: lambda g, x, y, p0, p1: 2 * g * x,
    U.reciprocal: lambda g, x, y, p0, p1: -g / (x * x),
    U.silu: lambda g, x, y, p0, p1: g * (sigmoid(x) * (1 + x * (1 - sigmoid(x)))),
    U.softplus: lambda g, x, y, p0, p1: g * where(x * p0 > p1, 1.0, sigmoid(x * p0)),
    U.elu: lambda g, x, y, p0, p1: g * where(x > 0, 1.0, p0 * exp(x)),
    U.leaky_relu: lambda g, x, y, p0, p1: g * where(x > 0, 1.0, p0),
    U.sign: lambda g, x, y, p0, p1: g * 0,
    U.floor: lambda g, x, y, p0, p1: g * 0,
    U.ceil: lambda g, x, y, p0, p1: g * 0,
    U.round: lambda g, x, y, p0, p1: g * 0,
    U.trunc: lambda g, x, y, p0, p1: g * 0,
}


def _unary(op, name, differentiable=True):
    def fn(x, *_unused):
        if not isinstance(x, Tensor):
            raise TypeError(f"[{name}] expected a Tensor, got {type(x).__name__}")
        if differentiable:
            return Unary.apply(x, op)
        return Tensor._wrap(_C.unary(op, x._impl))

    fn.__name__ = name
    return fn


neg = _unary(U.neg, "neg")
negative = neg
abs = _unary(U.abs, "abs")
exp = _unary(U.exp, "exp")
log = _unary(U.log, "log")
log1p = _unary(U.log1p, "log1p")
expm1 = _unary(U.expm1, "expm1")
sqrt = _unary(U.sqrt, "sqrt")
rsqrt = _unary(U.rsqrt, "rsqrt")
sin = _unary(U.sin, "sin")
cos = _unary(U.cos, "cos")
sign = _unary(U.sign, "sign")
reciprocal = _unary(U.reciprocal, "reciprocal")
relu = _unary(U.relu, "relu")
sigmoid = _unary(U.sigmoid, "sigmoid")
tanh = _unary(U.tanh, "tanh")
square = _unary(U.square, "square")
floor = _unary(U.floor, "floor")
ceil = _unary(U.ceil, "ceil")
round = _unary(U.round, "round")
trunc = _unary(U.trunc, "trunc")
silu = _unary(U.silu, "silu")
selu = _unary(U.selu, "selu")
relu6 = _unary(U.relu6, "relu6")
isnan = _unary(U.isnan, "isnan", differentiable=False)
isinf = _unary(U.isinf, "isinf", differentiable=False)
isfinite = _unary(U.isfinite, "isfinite", differentiable=False)
logical_not = _unary(U.logical_not, "logical_not", differentiable=False)


def log2(x):
    return log(x) * (1.0 / math.log(2.0))


def log10(x):
    return log(x) * (1.0 / math.log(10.0))


def exp2(x):
    return exp(x * math.log(2.0))


def gelu(x, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"[gelu] approximate must be 'none' or 'tanh', got {approximate!r}")
    return Unary.apply(x, U.gelu if approximate == "none" else U.gelu_tanh)


def leaky_relu(x, negative_slope=0.01):
    return Unary.apply(x, U.leaky_relu, float(negative_slope))


def elu(x, alpha=1.0):
    return Unary.apply(x, U.elu, float(alpha))


def softplus(x, beta=1.0, threshold=20.0):
    return Unary.apply(x, U.softplus, float(beta), float(threshold))


def hardtanh(x, min_val=-1.0, max_val=1.0):
    if min_val > max_val:
        raise ValueError(f"[hardtanh] min_val ({min_val}) cannot be greater than max_val ({max_val})")
    return Unary.apply(x, U.hardtanh, float(min_val), float(max_val))


def clamp(x, min=None, max=None):
    """Bounds may be numbers or tensors (then broadcast, through maximum/minimum)."""
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = x
        if min is not None:
            out = maximum(out, min)
        if max is not None:
            out = minimum(out, max)
        return out
    if min is None and max is None:
        raise ValueError("[clamp] at least one of min or max must not be None")
    if x.dtype is dtypes.int64 and (isinstance(min, float) or isinstance(max, float)):
        x = x.float()
    if min is None:
        return Unary.apply(x, U.clamp_max, float(max))
    if max is None:
        return Unary.apply(x, U.clamp_min, float(min))
    return Unary.apply(x, U.clamp, float(min), float(max))


clip = clamp

# ---- selection -----------------------------------------------------------------------


class Where(Function):
    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.save_for_backward(cond)
        return Tensor._wrap(_C.where(cond._impl, a._impl, b._impl))

    @staticmethod
    def backward(ctx, grad):
        (cond,) = ctx.saved_tensors
        zero = Tensor._wrap(_C.full([], 0.0, grad._impl.dtype, grad._impl.device))
        grad_a = where(cond, grad, zero) if ctx.needs_input_grad[1] else None
        grad_b = where(cond, zero, grad) if ctx.needs_input_grad[2] else None
        return None, grad_a, grad_b


def where(condition, input=None, other=None):
    if input is None and other is None:
        from . import index

        return tuple(index.nonzero(condition).unbind(1))
    if not isinstance(condition, Tensor):
        raise TypeError(f"[where] condition must be a bool Tensor, got {type(condition).__name__}")
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input = tensor_like(input, Tensor._full((), 0.0, dtypes.get_default_dtype()))
    input, other = _pair(input, other)
    return Where.apply(condition, input, other)


def masked_fill(x, mask, value):
    if not isinstance(mask, Tensor) or mask.dtype is not dtypes.bool:
        raise TypeError(f"[masked_fill] mask must be a bool Tensor, got {getattr(mask, 'dtype', type(mask).__name__)}")
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise ValueError(f"[masked_fill] only supports a 0-dimensional value tensor, got {value.ndim} dimensions")
        value = value.to(x.dtype)
    else:
        value = Tensor._wrap(_C.full([], float(value), x._impl.dtype, x._impl.device))
    return where(mask, value, x).expand_as(x) if mask.shape != x.shape else where(mask, value, x)
