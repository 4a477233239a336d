"""Reductions (sum, mean, prod, max/min, var/std, logsumexp, norm, all/any),
index reductions and softmax.

Each forward is one C++ kernel over any set of dims. Backward spreads the
gradient back over the reduced dims: a broadcast (expand) for sum and mean,
a mask for max/min, the derivative written out for the rest."""
import builtins
import collections
import math

from .. import _C
from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import state

R = _C.ReduceOp

# torch.return_types.max / min: a named pair of values and indices.
MaxResult = collections.namedtuple("max", ["values", "indices"])
MinResult = collections.namedtuple("min", ["values", "indices"])


def _dims(dim):
    """dim=None | int | sequence of ints -> the list the kernels take ([] means all)."""
    if dim is None:
        return []
    if isinstance(dim, (builtins.int,)) and not isinstance(dim, builtins.bool):
        return [dim]
    if isinstance(dim, (tuple, list)):
        for d in dim:
            if not isinstance(d, builtins.int) or isinstance(d, builtins.bool):
                raise TypeError(f"dims must be ints, got {type(d).__name__}")
        return list(dim)
    if hasattr(dim, "__index__"):
        return [dim.__index__()]
    raise TypeError(f"dim must be an int, a tuple of ints or None, got {type(dim).__name__}")


def _check(x, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"[{op}] expected a Tensor, got {type(x).__name__}")


def _keep_shape(ctx):
    return tuple(_C.reduced_shape(list(ctx.shape), ctx.dims, True))


def _spread(grad, ctx):
    """The gradient of a reduction's output broadcast back to the input's shape."""
    if not ctx.keepdim:
        grad = grad.reshape(_keep_shape(ctx))
    return grad.expand(ctx.shape)


def _keep(t, ctx):
    """A reduction output with its reduced dims restored as size 1."""
    return t if ctx.keepdim else t.reshape(_keep_shape(ctx))


# ---- sum, mean, prod -----------------------------------------------------------------


class Sum(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        return Tensor._wrap(_C.reduce(R.sum, x._impl, dims, keepdim))

    @staticmethod
    def backward(ctx, grad):
        return _spread(grad, ctx), None, None


class Mean(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        out = _C.reduce(R.mean, x._impl, dims, keepdim)
        ctx.count = x._impl.numel() // builtins.max(out.numel(), 1)
        return Tensor._wrap(out)

    @staticmethod
    def backward(ctx, grad):
        scale = 1.0 / ctx.count if ctx.count else 0.0
        return _spread(grad * scale, ctx), None, None


class Prod(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        ctx.save_for_backward(x)
        return Tensor._wrap(_C.reduce(R.prod, x._impl, dims, keepdim))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        g = _keep(grad, ctx).contiguous()
        return Tensor._wrap(_C.prod_backward(g._impl, x._impl, ctx.dims)), None, None


def sum(x, dim=None, keepdim=False, *, dtype=None):
    _check(x, "sum")
    if dtype is not None:
        x = x.to(dtype)
    return Sum.apply(x, _dims(dim), keepdim)


def mean(x, dim=None, keepdim=False, *, dtype=None):
    _check(x, "mean")
    if dtype is not None:
        x = x.to(dtype)
    return Mean.apply(x, _dims(dim), keepdim)


def prod(x, dim=None, keepdim=False, *, dtype=None):
    _check(x, "prod")
    if dtype is not None:
        x = x.to(dtype)
    return Prod.apply(x, _dims(dim), keepdim)


# ---- max and min ---------------------------------------------------------------------


class Extreme(Function):
    """amax / amin: the gradient is shared evenly among the elements that tie
    for the extreme, as torch does."""

    @staticmethod
    def forward(ctx, x, dims, keepdim, op):
        ctx.shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        out = Tensor._wrap(_C.reduce(op, x._impl, dims, keepdim))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        mask = (x == _keep(out, ctx)).to(grad.dtype)
        count = mask.sum(ctx.dims, keepdim=True)
        return mask * (_keep(grad, ctx) / count), None, None, None


class ExtremeAt(Function):
    """max/min along a dim: the values at precomputed indices; the gradient
    goes to exactly those positions."""

    @staticmethod
    def forward(ctx, x, values, indices, dim, keepdim):
        ctx.shape, ctx.dim, ctx.keepdim, ctx.indices = x.shape, dim, keepdim, indices
        return Tensor._wrap(values)

    @staticmethod
    def backward(ctx, grad):
        idx = ctx.indices
        dim = ctx.dim % builtins.max(len(ctx.shape), 1)
        if not ctx.keepdim and len(ctx.shape) > 0:
            grad = grad.unsqueeze(dim)
            idx = _C.unsqueeze(idx, dim)
        if len(ctx.shape) == 0:
            return grad.reshape(()), None, None, None, None
        g = _C.gather_backward(grad.contiguous()._impl, list(ctx.shape), dim, idx)
        return Tensor._wrap(g), None, None, None, None


def amax(x, dim=(), keepdim=False):
    _check(x, "amax")
    return Extreme.apply(x, _dims(dim), keepdim, R.amax)


def amin(x, dim=(), keepdim=False):
    _check(x, "amin")
    return Extreme.apply(x, _dims(dim), keepdim, R.amin)


def _extreme_dim(x, dim, keepdim, is_max):
    if not isinstance(dim, builtins.int) or isinstance(dim, builtins.bool):
        raise TypeError(f"[{'max' if is_max else 'min'}] dim must be an int, got {type(dim).__name__}")
    values, indices = (_C.max_dim if is_max else _C.min_dim)(x._impl, dim, keepdim)
    out = ExtremeAt.apply(x, values, indices, dim, keepdim)
    result = MaxResult if is_max else MinResult
    return result(out, Tensor._wrap(indices))


def _max_or_min(x, dim, keepdim, is_max):
    """x alone: the extreme element; with a dim: (values, indices); with a tensor: elementwise."""
    _check(x, "max" if is_max else "min")
    if isinstance(dim, Tensor):
        from .elementwise import maximum, minimum

        return (maximum if is_max else minimum)(x, dim)
    if dim is None:
        return Extreme.apply(x, [], False, R.amax if is_max else R.amin)
    return _extreme_dim(x, dim, keepdim, is_max)


def max(x, dim=None, keepdim=False):
    return _max_or_min(x, dim, keepdim, True)


def min(x, dim=None, keepdim=False):
    return _max_or_min(x, dim, keepdim, False)


def argmax(x, dim=None, keepdim=False):
    _check(x, "argmax")
    return Tensor._wrap(_C.argmax(x._impl, dim is not None, 0 if dim is None else dim, keepdim))


def argmin(x, dim=None, keepdim=False):
    _check(x, "argmin")
    return Tensor._wrap(_C.argmin(x._impl, dim is not None, 0 if dim is None else dim, keepdim))


# ---- statistics ----------------------------------------------------------------------


def _correction(op, unbiased, correction):
    if correction is not None and unbiased is not None:
        raise ValueError(f"[{op}] give either unbiased or correction, not both")
    if correction is not None:
        return builtins.float(correction)
    return 0.0 if unbiased is False else 1.0


class Var(Function):
    @staticmethod
    def forward(ctx, x, dims, correction, keepdim):
        ctx.shape, ctx.dims, ctx.keepdim, ctx.correction = x.shape, dims, keepdim, correction
        ctx.save_for_backward(x)
        out = _C.var(x._impl, dims, correction, keepdim)
        ctx.count = x._impl.numel() // builtins.max(out.numel(), 1)
        return Tensor._wrap(out)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        divisor = builtins.max(0.0, ctx.count - ctx.correction)
        scale = 2.0 / divisor if divisor else math.nan
        centred = x - x.mean(ctx.dims, keepdim=True)
        return centred * (_keep(grad, ctx) * scale), None, None, None


def var(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    _check(x, "var")
    if isinstance(dim, builtins.bool):  # var(x, False): torch's overload taking `unbiased` first
        dim, unbiased = None, dim
    return Var.apply(x, _dims(dim), _correction("var", unbiased, correction), keepdim)


def std(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    _check(x, "std")
    if isinstance(dim, builtins.bool):
        dim, unbiased = None, dim
    return var(x, dim, unbiased, keepdim, correction=correction).sqrt()


class LogSumExp(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        out = Tensor._wrap(_C.logsumexp(x._impl, dims, keepdim))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        return _keep(grad, ctx) * (x - _keep(out, ctx)).exp(), None, None


def logsumexp(x, dim, keepdim=False):
    _check(x, "logsumexp")
    return LogSumExp.apply(x, _dims(dim), keepdim)


class Norm(Function):
    @staticmethod
    def forward(ctx, x, p, dims, keepdim):
        ctx.shape, ctx.dims, ctx.keepdim, ctx.p = x.shape, dims, keepdim, p
        out = Tensor._wrap(_C.norm(x._impl, p, dims, keepdim))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        from .elementwise import where

        x, out = ctx.saved_tensors
        p, g, n = ctx.p, _keep(grad, ctx), _keep(out, ctx)
        if p == 0:
            return x * 0, None, None, None
        if p == 1:
            return g * x.sign(), None, None, None
        if math.isinf(p):
            mask = (x.abs() == n).to(x.dtype)
            return x.sign() * mask * (g / mask.sum(ctx.dims, keepdim=True)), None, None, None
        # d|x|_p / dx = sign(x) |x|^(p-1) / |x|_p^(p-1); zero where the norm is zero, as torch.
        safe = where(n == 0, 1.0, n)
        if p == 2:
            grad_x = x * (g / safe)
        else:
            grad_x = x.sign() * x.abs() ** (p - 1) * (g / safe ** (p - 1))
        return where(n == 0, 0.0, grad_x), None, None, None


def norm(x, p="fro", dim=None, keepdim=False, dtype=None):
    _check(x, "norm")
    if dtype is not None:
        x = x.to(dtype)
    if p == "fro" or p is None:
        p = 2.0
    elif isinstance(p, str):
        raise ValueError(f"[norm] unsupported norm type {p!r}; use a number, inf or 'fro'")
    return Norm.apply(x, builtins.float(p), _dims(dim), keepdim)


# ---- logical -------------------------------------------------------------------------


def all(x, dim=None, keepdim=False):
    _check(x, "all")
    return Tensor._wrap(_C.reduce(R.all, x._impl, _dims(dim), keepdim))


def any(x, dim=None, keepdim=False):
    _check(x, "any")
    return Tensor._wrap(_C.reduce(R.any, x._impl, _dims(dim), keepdim))


# ---- softmax -------------------------------------------------------------------------


class Softmax(Function):
    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        out = Tensor._wrap(_C.softmax(x._impl, dim))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        if state.grad_enabled:  # create_graph: stay differentiable
            return y * (grad - (grad * y).sum(ctx.dim, keepdim=True)), None
        return Tensor._wrap(_C.softmax_backward(grad._impl, y._impl, ctx.dim)), None


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        out = Tensor._wrap(_C.log_softmax(x._impl, dim))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        if state.grad_enabled:
            return grad - y.exp() * grad.sum(ctx.dim, keepdim=True), None
        return Tensor._wrap(_C.log_softmax_backward(grad._impl, y._impl, ctx.dim)), None


def _softmax_dim(op, dim):
    if dim is None:
        raise TypeError(f"[{op}] missing the dim to normalise over, e.g. {op}(x, dim=-1)")
    if not isinstance(dim, builtins.int) or isinstance(dim, builtins.bool):
        raise TypeError(f"[{op}] dim must be an int, got {type(dim).__name__}")
    return dim


def softmax(x, dim=None, dtype=None):
    _check(x, "softmax")
    if dtype is not None:
        x = x.to(dtype)
    return Softmax.apply(x, _softmax_dim("softmax", dim))


def log_softmax(x, dim=None, dtype=None):
    _check(x, "log_softmax")
    if dtype is not None:
        x = x.to(dtype)
    return LogSoftmax.apply(x, _softmax_dim("log_softmax", dim))

