"""batch_norm, layer_norm, group_norm, as torch.nn.functional.

Each is one Function: the forward kernel normalises and returns the mean and
rstd it used, which the fused backward kernel takes back (src/ops/norm.h)."""
import numbers

from ... import _C
from ..._tensor import Tensor
from ...autograd.function import Function
from ...autograd.grad_mode import state

__all__ = ["batch_norm", "layer_norm", "group_norm"]


def _no_double_backward(op):
    if state.grad_enabled:
        raise RuntimeError(f"[{op}] differentiating the gradient (create_graph=True) is not supported")


def _wrap(impl):
    return None if impl is None else Tensor._wrap(impl)


def _impl(t):
    return None if t is None else t._impl


def _check_tensors(op, **named):
    for name, t in named.items():
        if t is not None and not isinstance(t, Tensor):
            raise TypeError(f"[{op}] expected {name} to be a Tensor or None, got {type(t).__name__}")


class BatchNorm(Function):
    """Running stats travel as C++ tensors, not graph inputs: they are updated
    in place and never receive a gradient."""

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, training, momentum, eps):
        out, mean, rstd = _C.batch_norm_forward(x._impl, running_mean, running_var, _impl(weight), _impl(bias),
                                                training, momentum, eps)
        ctx.save_for_backward(x, weight)
        ctx.stats = (mean, rstd)
        ctx.training = training
        return Tensor._wrap(out)

    @staticmethod
    def backward(ctx, grad):
        _no_double_backward("batch_norm")
        x, weight = ctx.saved_tensors
        mean, rstd = ctx.stats
        need = ctx.needs_input_grad
        grads = _C.batch_norm_backward(grad._impl, x._impl, _impl(weight), mean, rstd, ctx.training, need[0], need[1],
                                       need[2])
        return tuple(_wrap(g) for g in grads) + (None,) * 5


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalises input (N, C, *) per channel.

    training=True uses the batch's mean and biased variance and, when running
    stats are given, updates them in place with `momentum` (running_var gets the
    unbiased variance, as torch); training=False uses the running stats."""
    _check_tensors("batch_norm", running_mean=running_mean, running_var=running_var, weight=weight,
                   bias=bias)
    if not isinstance(input, Tensor):
        raise TypeError(f"[batch_norm] expected input to be a Tensor, got {type(input).__name__}")
    if not isinstance(momentum, numbers.Real):
        raise TypeError(f"[batch_norm] expected momentum to be a number, got {type(momentum).__name__}")
    return BatchNorm.apply(input, weight, bias, _impl(running_mean), _impl(running_var), bool(training),
                           float(momentum), float(eps))


class LayerNorm(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, normalized_shape, eps):
        out, mean, rstd = _C.layer_norm_forward(x._impl, normalized_shape, _impl(weight), _impl(bias), eps)
        ctx.save_for_backward(x, weight)
        ctx.stats = (mean, rstd)
        ctx.normalized_shape = normalized_shape
        return Tensor._wrap(out)

    @staticmethod
    def backward(ctx, grad):
        _no_double_backward("layer_norm")
        x, weight = ctx.saved_tensors
        mean, rstd = ctx.stats
        need = ctx.needs_input_grad
        grads = _C.layer_norm_backward(grad._impl, x._impl, ctx.normalized_shape, _impl(weight), mean, rstd, need[0],
                                       need[1], need[2])
        return tuple(_wrap(g) for g in grads) + (None, None)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalises over the last len(normalized_shape) dims of input."""
    _check_tensors("layer_norm", weight=weight, bias=bias)
    if not isinstance(input, Tensor):
        raise TypeError(f"[layer_norm] expected input to be a Tensor, got {type(input).__name__}")
    if isinstance(normalized_shape, numbers.Integral):
        normalized_shape = (normalized_shape,)
    normalized_shape = [int(d) for d in normalized_shape]
    return LayerNorm.apply(input, weight, bias, normalized_shape, float(eps))


class GroupNorm(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, num_groups, eps):
        out, mean, rstd = _C.group_norm_forward(x._impl, num_groups, _impl(weight), _impl(bias), eps)
        ctx.save_for_backward(x, weight)
        ctx.stats = (mean, rstd)
        ctx.num_groups = num_groups
        return Tensor._wrap(out)

    @staticmethod
    def backward(ctx, grad):
        _no_double_backward("group_norm")
        x, weight = ctx.saved_tensors
        mean, rstd = ctx.stats
        need = ctx.needs_input_grad
        grads = _C.group_norm_backward(grad._impl, x._impl, ctx.num_groups, _impl(weight), mean, rstd, need[0],
                                       need[1], need[2])
        return tuple(_wrap(g) for g in grads) + (None, None)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalises input (N, C, *) over groups of C // num_groups channels."""
    _check_tensors("group_norm", weight=weight, bias=bias)
    if not isinstance(input, Tensor):
        raise TypeError(f"[group_norm] expected input to be a Tensor, got {type(input).__name__}")
    return GroupNorm.apply(input, weight, bias, int(num_groups), float(eps))
