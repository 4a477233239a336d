"""Pooling and padding, as torch.nn.functional: max_pool1d/2d, avg_pool1d/2d,
adaptive_avg_pool1d/2d and pad.

Each 2-D op is one Function with one kernel call per direction (src/ops/pool.h,
src/ops/pad.h); the 1-D ops run the 2-D kernels on a height-1 view. Max
pooling's forward returns the argmax of each window, which its backward
scatters the gradient through (and return_indices hands to the caller)."""
import numbers

from ... import _C
from ..._tensor import Tensor
from ...autograd.function import Function

__all__ = ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
           "pad"]


def _tuple(value, n, name, op):
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return (int(value),) * n
    if isinstance(value, (tuple, list)) and len(value) == n and all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value):
        return tuple(int(v) for v in value)
    raise TypeError(f"[{op}] expected {name} to be an int or a tuple of {n} ints, got {value!r}")


def _batched(op, input, n):
    """input with a batch dim (added for the unbatched form), and whether one was added."""
    if not isinstance(input, Tensor):
        raise TypeError(f"[{op}] expected input to be a Tensor, got {type(input).__name__}")
    if input.ndim not in (n + 1, n + 2):
        raise ValueError(f"[{op}] expected a {n + 1}-D (unbatched) or {n + 2}-D (batched) input, got input of "
                         f"shape {tuple(input.shape)}")
    return (input.unsqueeze(0), True) if input.ndim == n + 1 else (input, False)


class MaxPool2d(Function):
    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding, dilation, ceil_mode):
        y, indices = _C.max_pool2d_forward(x._impl, kernel_size, stride, padding, dilation, ceil_mode)
        ctx.indices = indices
        ctx.input_shape = tuple(x.shape)
        indices = Tensor._wrap(indices)
        ctx.mark_non_differentiable(indices)
        return Tensor._wrap(y), indices

    @staticmethod
    def backward(ctx, grad, _grad_indices):
        # The gradient of a max is a scatter through the argmax, itself linear
        # in grad: the same kernel serves create_graph, with this as its graph.
        return (MaxPool2dBackward.apply(grad, ctx.indices, ctx.input_shape),) + (None,) * 5


class MaxPool2dBackward(Function):
    """grad_x = scatter of grad to the argmax indices; its own gradient gathers back."""

    @staticmethod
    def forward(ctx, grad, indices, input_shape):
        ctx.indices = indices
        return Tensor._wrap(_C.max_pool2d_backward(grad._impl, indices, input_shape))

    @staticmethod
    def backward(ctx, gg):
        n, c, h, w = gg.shape
        flat = gg.reshape(n, c, h * w)
        index = Tensor._wrap(ctx.indices)
        return flat.gather(2, index.reshape(n, c, -1)).reshape(index.shape), None, None


class AvgPool2d(Function):
    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
        ctx.args = (kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)
        ctx.input_shape = tuple(x.shape)
        return Tensor._wrap(_C.avg_pool2d_forward(x._impl, *ctx.args))

    @staticmethod
    def backward(ctx, grad):
        return (AvgPool2dBackward.apply(grad, ctx.input_shape, ctx.args),) + (None,) * 6


class AvgPool2dBackward(Function):
    """grad_x spreads grad over each window: linear, its adjoint is the forward pooling."""

    @staticmethod
    def forward(ctx, grad, input_shape, args):
        ctx.args = args
        return Tensor._wrap(_C.avg_pool2d_backward(grad._impl, input_shape, *args))

    @staticmethod
    def backward(ctx, gg):
        return AvgPool2d.apply(gg, *ctx.args), None, None


class AdaptiveAvgPool2d(Function):
    @staticmethod
    def forward(ctx, x, output_size):
        ctx.input_shape = tuple(x.shape)
        return Tensor._wrap(_C.adaptive_avg_pool2d_forward(x._impl, output_size))

    @staticmethod
    def backward(ctx, grad):
        return AdaptiveAvgPool2dBackward.apply(grad, ctx.input_shape), None


class AdaptiveAvgPool2dBackward(Function):
    @staticmethod
    def forward(ctx, grad, input_shape):
        ctx.output_size = tuple(grad.shape[2:])
        return Tensor._wrap(_C.adaptive_avg_pool2d_backward(grad._impl, input_shape))

    @staticmethod
    def backward(ctx, gg):
        return AdaptiveAvgPool2d.apply(gg, ctx.output_size), None


class Pad(Function):
    @staticmethod
    def forward(ctx, x, pads, mode, value):
        ctx.args = (tuple(x.shape), pads, mode)
        return Tensor._wrap(_C.pad_forward(x._impl, pads, mode, value))

    @staticmethod
    def backward(ctx, grad):
        return PadBackward.apply(grad, *ctx.args), None, None, None


class PadBackward(Function):
    """grad_x sums grad over the output elements that copy each input element."""

    @staticmethod
    def forward(ctx, grad, input_shape, pads, mode):
        ctx.args = (pads, mode)
        return Tensor._wrap(_C.pad_backward(grad._impl, input_shape, pads, mode))

    @staticmethod
    def backward(ctx, gg):
        pads, mode = ctx.args
        return Pad.apply(gg, pads, mode, 0.0), None, None, None


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over kernel_size windows of input (N, C, H, W) or (C, H, W); stride
    defaults to kernel_size. return_indices also returns each maximum's flat
    index into its H·W plane (as torch, for max_unpool2d)."""
    op = "max_pool2d"
    x, unbatched = _batched(op, input, 2)
    k = _tuple(kernel_size, 2, "kernel_size", op)
    s = k if stride is None or stride == [] or stride == () else _tuple(stride, 2, "stride", op)
    y, indices = MaxPool2d.apply(x, k, s, _tuple(padding, 2, "padding", op), _tuple(dilation, 2, "dilation", op),
                                 bool(ceil_mode))
    if unbatched:
        y, indices = y.squeeze(0), indices.squeeze(0)
    return (y, indices) if return_indices else y


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max pooling over the last dim of input (N, C, L) or (C, L)."""
    op = "max_pool1d"
    x, unbatched = _batched(op, input, 1)
    (k,) = _tuple(kernel_size, 1, "kernel_size", op)
    (s,) = (k,) if stride is None or stride == [] or stride == () else _tuple(stride, 1, "stride", op)
    (p,), (d,) = _tuple(padding, 1, "padding", op), _tuple(dilation, 1, "dilation", op)
    y, indices = MaxPool2d.apply(x.unsqueeze(2), (1, k), (1, s), (0, p), (1, d), bool(ceil_mode))
    y, indices = y.squeeze(2), indices.squeeze(2)
    if unbatched:
        y, indices = y.squeeze(0), indices.squeeze(0)
    return (y, indices) if return_indices else y


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over kernel_size windows of input (N, C, H, W) or (C, H, W); the
    divisor counts the zero padding when count_include_pad, and is
    divisor_override when given."""
    op = "avg_pool2d"
    x, unbatched = _batched(op, input, 2)
    k = _tuple(kernel_size, 2, "kernel_size", op)
    s = k if stride is None or stride == [] or stride == () else _tuple(stride, 2, "stride", op)
    if divisor_override is not None and (not isinstance(divisor_override, numbers.Integral) or divisor_override <= 0):
        raise ValueError(f"[{op}] divisor_override must be a positive int, got {divisor_override!r}")
    y = AvgPool2d.apply(x, k, s, _tuple(padding, 2, "padding", op), bool(ceil_mode), bool(count_include_pad),
                        int(divisor_override or 0))
    return y.squeeze(0) if unbatched else y


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Mean pooling over the last dim of input (N, C, L) or (C, L)."""
    op = "avg_pool1d"
    x, unbatched = _batched(op, input, 1)
    (k,) = _tuple(kernel_size, 1, "kernel_size", op)
    (s,) = (k,) if stride is None or stride == [] or stride == () else _tuple(stride, 1, "stride", op)
    (p,) = _tuple(padding, 1, "padding", op)
    y = AvgPool2d.apply(x.unsqueeze(2), (1, k), (1, s), (0, p), bool(ceil_mode), bool(count_include_pad), 0)
    y = y.squeeze(2)
    return y.squeeze(0) if unbatched else y


def adaptive_avg_pool2d(input, output_size):
    """Mean pooling of input (N, C, H, W) or (C, H, W) to output_size (an int,
    or (h, w) where None keeps that input dim); window i of n over a dim of
    size L covers [⌊i·L/n⌋, ⌈(i+1)·L/n⌉)."""
    op = "adaptive_avg_pool2d"
    x, unbatched = _batched(op, input, 2)
    if isinstance(output_size, (tuple, list)) and len(output_size) == 2:
        output_size = tuple(x.shape[2 + i] if v is None else v for i, v in enumerate(output_size))
    size = _tuple(output_size, 2, "output_size", op)
    y = AdaptiveAvgPool2d.apply(x, size)
    return y.squeeze(0) if unbatched else y


def adaptive_avg_pool1d(input, output_size):
    """Mean pooling of input (N, C, L) or (C, L) to output_size positions."""
    op = "adaptive_avg_pool1d"
    x, unbatched = _batched(op, input, 1)
    (n,) = _tuple(output_size, 1, "output_size", op)
    y = AdaptiveAvgPool2d.apply(x.unsqueeze(2), (1, n)).squeeze(2)
    return y.squeeze(0) if unbatched else y


def pad(input, pad, mode="constant", value=None):
    """Pads input: `pad` lists (before, after) pairs from the last dim backwards.
    mode: "constant" (value, default 0; negative pads crop), "reflect",
    "replicate" or "circular" (the last 1-3 dims, after a batch/channel dim)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"[pad] expected input to be a Tensor, got {type(input).__name__}")
    if not isinstance(pad, (tuple, list)) or not all(
            isinstance(p, numbers.Integral) and not isinstance(p, bool) for p in pad):
        raise TypeError(f"[pad] expected pad to be a tuple of ints, got {pad!r}")
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise ValueError(f"[pad] unknown mode {mode!r}; expected 'constant', 'reflect', 'replicate' or 'circular'")
    if mode != "constant" and value not in (None, 0):
        raise ValueError(f"[pad] padding mode {mode!r} does not take a value, got value={value!r}")
    return Pad.apply(input, [int(p) for p in pad], mode, float(value or 0.0))
