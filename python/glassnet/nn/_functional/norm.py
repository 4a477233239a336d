"""batch_norm, layer_norm, group_norm, as torch.nn.functional.

Each is one Function: the forward kernel normalises and returns the mean and
rstd it used, which the fused backward kernel takes back (src/ops/norm.h)."""
import numbers

from ... import _C
from ..._tensor import Tensor
from ...autograd.function import Function
from ...autograd.grad_mode import state

__all__ = ["batch_norm", "layer_norm", "group_norm"]


# ---- create_graph=True: the same gradients from differentiable ops ---------------
# The fused kernels are not themselves differentiable, so when the backward
# pass must build a graph, each norm writes its gradient out with tensor ops
# (statistics recomputed from x) and the engine differentiates those.


def _normalize(x, dims, eps):
    """x̂ = (x - mean)·rstd over dims, and rstd (keepdim), from differentiable ops."""
    xc = x - x.mean(dims, keepdim=True)
    rstd = ((xc * xc).mean(dims, keepdim=True) + eps).rsqrt()
    return xc * rstd, rstd


def _grad_input(g, xhat, rstd, dims):
    """rstd·(g - mean(g) - x̂·mean(g·x̂)) over the dims that share a mean and rstd."""
    return rstd * (g - g.mean(dims, keepdim=True) - xhat * (g * xhat).mean(dims, keepdim=True))


def _affine_grads(grad, xhat, dims, need_w, need_b):
    """Σ grad·x̂ and Σ grad over dims (none: no reduction)."""
    if not dims:
        return (grad * xhat if need_w else None), (grad if need_b else None)
    return ((grad * xhat).sum(dims) if need_w else None), (grad.sum(dims) if need_b else None)


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
        ctx.eps = eps
        return Tensor._wrap(out)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        mean, rstd = ctx.stats
        need = ctx.needs_input_grad
        if state.grad_enabled:
            return BatchNorm.composite_backward(ctx, grad, x, weight, need) + (None,) * 5
        grads = _C.batch_norm_backward(grad._impl, x._impl, _impl(weight), mean, rstd, ctx.training, need[0], need[1],
                                       need[2])
        return tuple(_wrap(g) for g in grads) + (None,) * 5

    @staticmethod
    def composite_backward(ctx, grad, x, weight, need):
        dims = (0,) + tuple(range(2, x.ndim))
        channel = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        if ctx.training:
            xhat, rstd = _normalize(x, dims, ctx.eps)
        else:  # the running stats are constants
            mean, rstd = (Tensor._wrap(t).reshape(channel) for t in ctx.stats)
            xhat = (x - mean) * rstd
        g = grad * weight.reshape(channel) if weight is not None else grad
        grad_x = None
        if need[0]:
            grad_x = _grad_input(g, xhat, rstd, dims) if ctx.training else g * rstd
        return (grad_x,) + _affine_grads(grad, xhat, dims, need[1], need[2])


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


def _save_stats(ctx, x, weight, stats, shape_arg, eps):
    ctx.save_for_backward(x, weight)
    ctx.stats = stats
    ctx.shape_arg = shape_arg  # normalized_shape for LayerNorm, num_groups for GroupNorm
    ctx.eps = eps


def _fused_backward(kernel, ctx, grad):
    """The C++ backward of LayerNorm/GroupNorm: both take the same arguments."""
    x, weight = ctx.saved_tensors
    mean, rstd = ctx.stats
    need = ctx.needs_input_grad
    grads = kernel(grad._impl, x._impl, ctx.shape_arg, _impl(weight), mean, rstd, need[0], need[1], need[2])
    return tuple(_wrap(g) for g in grads) + (None, None)


class LayerNorm(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, normalized_shape, eps):
        out, mean, rstd = _C.layer_norm_forward(x._impl, normalized_shape, _impl(weight), _impl(bias), eps)
        _save_stats(ctx, x, weight, (mean, rstd), normalized_shape, eps)
        return Tensor._wrap(out)

    @staticmethod
    def backward(ctx, grad):
        if not state.grad_enabled:
            return _fused_backward(_C.layer_norm_backward, ctx, grad)
        x, weight = ctx.saved_tensors
        need = ctx.needs_input_grad
        k = len(ctx.shape_arg)
        dims = tuple(range(x.ndim - k, x.ndim))
        xhat, r = _normalize(x, dims, ctx.eps)
        g = grad * weight if weight is not None else grad
        grad_x = _grad_input(g, xhat, r, dims) if need[0] else None
        return (grad_x,) + _affine_grads(grad, xhat, tuple(range(x.ndim - k)), need[1], need[2]) + (None, None)


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
        _save_stats(ctx, x, weight, (mean, rstd), num_groups, eps)
        return Tensor._wrap(out)

    @staticmethod
    def backward(ctx, grad):
        if not state.grad_enabled:
            return _fused_backward(_C.group_norm_backward, ctx, grad)
        x, weight = ctx.saved_tensors
        need = ctx.needs_input_grad
        N, C = x.shape[0], x.shape[1]
        grouped = (N, ctx.shape_arg, -1)
        xhat_g, r = _normalize(x.reshape(grouped), (2,), ctx.eps)
        xhat = xhat_g.reshape(x.shape)
        g = grad * weight.reshape((1, C) + (1,) * (x.ndim - 2)) if weight is not None else grad
        grad_x = _grad_input(g.reshape(grouped), xhat_g, r, (2,)).reshape(x.shape) if need[0] else None
        dims = (0,) + tuple(range(2, x.ndim))
        return (grad_x,) + _affine_grads(grad, xhat, dims, need[1], need[2]) + (None, None)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalises input (N, C, *) over groups of C // num_groups channels."""
    _check_tensors("group_norm", weight=weight, bias=bias)
    if not isinstance(input, Tensor):
        raise TypeError(f"[group_norm] expected input to be a Tensor, got {type(input).__name__}")
    return GroupNorm.apply(input, weight, bias, int(num_groups), float(eps))
