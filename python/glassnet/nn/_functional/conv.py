"""conv1d, conv2d, conv_transpose1d, conv_transpose2d, as torch.nn.functional.

Each 2-D op is one Function with one kernel call per direction
(src/ops/conv.h: im2col + packed GEMM, a plain GEMM for 1×1, direct loops for
depthwise). The 1-D ops are the 2-D ones on a height-1 view. The wrappers
only normalise arguments (ints to pairs, "same"/"valid" padding, unbatched
inputs); the C++ side checks shapes and names them in its errors."""
import numbers

from ... import _C
from ..._ops.index import cat
from ..._tensor import Tensor
from ...autograd.function import Function
from ...autograd.grad_mode import state

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d"]


def _wrap(impl):
    return None if impl is None else Tensor._wrap(impl)


def _impl(t):
    return None if t is None else t._impl


def _tuple(value, n, name, op):
    """An int or a length-n sequence of ints as an n-tuple."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return (int(value),) * n
    if isinstance(value, (tuple, list)) and len(value) == n and all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value):
        return tuple(int(v) for v in value)
    raise TypeError(f"[{op}] expected {name} to be an int or a tuple of {n} ints, got {value!r}")


def _check_tensors(op, input, weight, bias):
    for name, t in (("input", input), ("weight", weight)):
        if not isinstance(t, Tensor):
            raise TypeError(f"[{op}] expected {name} to be a Tensor, got {type(t).__name__}")
    if bias is not None and not isinstance(bias, Tensor):
        raise TypeError(f"[{op}] expected bias to be a Tensor or None, got {type(bias).__name__}")


class Conv2d(Function):
    """y = conv(x, W) + b for x (N, C_in, H, W), W (C_out, C_in/groups, kh, kw)."""

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups):
        ctx.save_for_backward(x, weight)
        ctx.args = (stride, padding, dilation, groups)
        return Tensor._wrap(_C.conv2d_forward(x._impl, weight._impl, _impl(bias), stride, padding, dilation, groups))

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        if state.grad_enabled:
            return _conv2d_composite_backward(ctx, grad, x, weight, need_x, need_w, need_b) + (None,) * 4
        gx, gw, gb = _C.conv2d_backward(grad._impl, x._impl, weight._impl, *ctx.args, need_x, need_w, need_b)
        return _wrap(gx), _wrap(gw), _wrap(gb), None, None, None, None


class ConvTranspose2d(Function):
    """The adjoint of Conv2d: x (N, C_in, H, W), W (C_in, C_out/groups, kh, kw)."""

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, output_padding, groups, dilation):
        ctx.save_for_backward(x, weight)
        ctx.args = (stride, padding, groups, dilation)
        return Tensor._wrap(_C.conv_transpose2d_forward(x._impl, weight._impl, _impl(bias), stride, padding,
                                                        output_padding, groups, dilation))

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        if state.grad_enabled:
            stride, padding, groups, dilation = ctx.args
            # conv_transpose2d(x, W) = conv2d's input gradient, so its own
            # gradients are conv2d's forward and weight gradient, roles swapped.
            gx = conv2d(grad, weight, None, stride, padding, dilation, groups) if need_x else None
            gw = _conv2d_weight_grad(grad, x, weight.shape, stride, padding, dilation, groups) if need_w else None
            gb = grad.sum((0, 2, 3)) if need_b else None
            return (gx, gw, gb) + (None,) * 5
        gx, gw, gb = _C.conv_transpose2d_backward(grad._impl, x._impl, weight._impl, *ctx.args, need_x, need_w,
                                                  need_b)
        return (_wrap(gx), _wrap(gw), _wrap(gb)) + (None,) * 5


# ---- create_graph=True: the same gradients from differentiable ops --------------


def _conv2d_weight_grad(x, grad, weight_shape, stride, padding, dilation, groups):
    """∂L/∂W of y = conv2d(x, W) as a convolution itself: batch and channels of
    x and grad swap roles, stride and dilation swap, and the result is cropped
    to the kernel size. Groups are taken one at a time."""
    n, c = x.shape[0], x.shape[1]
    k = grad.shape[1]
    cg, kg = c // groups, k // groups
    kh, kw = weight_shape[2], weight_shape[3]
    parts = []
    for g in range(groups):
        xg = x[:, g * cg:(g + 1) * cg].transpose(0, 1)       # (Cg, N, H, W)
        gg = grad[:, g * kg:(g + 1) * kg].transpose(0, 1)    # (Kg, N, Ho, Wo)
        w = conv2d(xg, gg, None, dilation, padding, stride, 1)  # (Cg, Kg, ≥kh, ≥kw)
        parts.append(w[:, :, :kh, :kw].transpose(0, 1))
    return parts[0] if groups == 1 else cat(parts, 0)


def _conv2d_composite_backward(ctx, grad, x, weight, need_x, need_w, need_b):
    stride, padding, dilation, groups = ctx.args
    gx = gw = gb = None
    if need_x:
        # Rows of x beyond the last window's reach get no gradient: output_padding restores them.
        op = tuple(x.shape[2 + i] - ((grad.shape[2 + i] - 1) * stride[i] - 2 * padding[i]
                                     + dilation[i] * (weight.shape[2 + i] - 1) + 1) for i in range(2))
        gx = conv_transpose2d(grad, weight, None, stride, padding, op, groups, dilation)
    if need_w:
        gw = _conv2d_weight_grad(x, grad, weight.shape, stride, padding, dilation, groups)
    if need_b:
        gb = grad.sum((0, 2, 3))
    return gx, gw, gb


# ---- the public functions ----------------------------------------------------------


def _same_padding(op, weight, dilation, stride, n):
    """torch's padding='same': total d·(k-1) per dim, the odd one extra at the end."""
    if any(s != 1 for s in stride):
        raise ValueError(f"[{op}] padding='same' is not supported for strided convolutions, got stride {stride}")
    total = [dilation[i] * (weight.shape[2 + i] - 1) for i in range(n)]
    return tuple(t // 2 for t in total), tuple(t - 2 * (t // 2) for t in total)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation, as torch) of input (N, C_in, H, W) or
    (C_in, H, W) with weight (C_out, C_in/groups, kh, kw), plus bias (C_out).
    padding: int, (ph, pw), "valid" (none) or "same" (output size = input size)."""
    op = "conv2d"
    _check_tensors(op, input, weight, bias)
    if input.ndim not in (3, 4):
        raise ValueError(f"[{op}] expected a 3-D (unbatched) or 4-D (batched) input, got input of shape "
                         f"{tuple(input.shape)}")
    if weight.ndim != 4:
        raise ValueError(f"[{op}] expected a 4-D weight (C_out, C_in/groups, kh, kw), got weight of shape "
                         f"{tuple(weight.shape)}")
    if not isinstance(groups, numbers.Integral) or isinstance(groups, bool):
        raise TypeError(f"[{op}] expected groups to be an int, got {groups!r}")
    stride, dilation = _tuple(stride, 2, "stride", op), _tuple(dilation, 2, "dilation", op)
    unbatched = input.ndim == 3
    x = input.unsqueeze(0) if unbatched else input
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0, 0)
        elif padding == "same":
            padding, extra = _same_padding(op, weight, dilation, stride, 2)
            if any(extra):
                from .pooling import pad
                x = pad(x, (0, extra[1], 0, extra[0]))
        else:
            raise ValueError(f"[{op}] padding must be an int, a tuple, 'valid' or 'same', got {padding!r}")
    else:
        padding = _tuple(padding, 2, "padding", op)
    y = Conv2d.apply(x, weight, bias, stride, padding, dilation, int(groups))
    return y.squeeze(0) if unbatched else y


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution of input (N, C_in, L) or (C_in, L) with weight
    (C_out, C_in/groups, k): conv2d on a height-1 view."""
    op = "conv1d"
    _check_tensors(op, input, weight, bias)
    if input.ndim not in (2, 3):
        raise ValueError(f"[{op}] expected a 2-D (unbatched) or 3-D (batched) input, got input of shape "
                         f"{tuple(input.shape)}")
    if weight.ndim != 3:
        raise ValueError(f"[{op}] expected a 3-D weight (C_out, C_in/groups, k), got weight of shape "
                         f"{tuple(weight.shape)}")
    (s,), (d,) = _tuple(stride, 1, "stride", op), _tuple(dilation, 1, "dilation", op)
    p = padding if isinstance(padding, str) else (0, _tuple(padding, 1, "padding", op)[0])
    y = conv2d(input.unsqueeze(-2), weight.unsqueeze(2), bias, (1, s), p, (1, d), groups)
    return y.squeeze(-2)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 2-D convolution (the gradient of conv2d with respect to its
    input) of input (N, C_in, H, W) or (C_in, H, W) with weight
    (C_in, C_out/groups, kh, kw): output size (H-1)·stride - 2·padding +
    dilation·(kh-1) + output_padding + 1."""
    op = "conv_transpose2d"
    _check_tensors(op, input, weight, bias)
    if input.ndim not in (3, 4):
        raise ValueError(f"[{op}] expected a 3-D (unbatched) or 4-D (batched) input, got input of shape "
                         f"{tuple(input.shape)}")
    if weight.ndim != 4:
        raise ValueError(f"[{op}] expected a 4-D weight (C_in, C_out/groups, kh, kw), got weight of shape "
                         f"{tuple(weight.shape)}")
    if not isinstance(groups, numbers.Integral) or isinstance(groups, bool):
        raise TypeError(f"[{op}] expected groups to be an int, got {groups!r}")
    args = (_tuple(stride, 2, "stride", op), _tuple(padding, 2, "padding", op),
            _tuple(output_padding, 2, "output_padding", op), int(groups), _tuple(dilation, 2, "dilation", op))
    unbatched = input.ndim == 3
    y = ConvTranspose2d.apply(input.unsqueeze(0) if unbatched else input, weight, bias, *args)
    return y.squeeze(0) if unbatched else y


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 1-D convolution of input (N, C_in, L) or (C_in, L) with weight
    (C_in, C_out/groups, k): conv_transpose2d on a height-1 view."""
    op = "conv_transpose1d"
    _check_tensors(op, input, weight, bias)
    if input.ndim not in (2, 3):
        raise ValueError(f"[{op}] expected a 2-D (unbatched) or 3-D (batched) input, got input of shape "
                         f"{tuple(input.shape)}")
    if weight.ndim != 3:
        raise ValueError(f"[{op}] expected a 3-D weight (C_in, C_out/groups, k), got weight of shape "
                         f"{tuple(weight.shape)}")
    (s,), (p,) = _tuple(stride, 1, "stride", op), _tuple(padding, 1, "padding", op)
    (op_,), (d,) = _tuple(output_padding, 1, "output_padding", op), _tuple(dilation, 1, "dilation", op)
    y = conv_transpose2d(input.unsqueeze(-2), weight.unsqueeze(2), bias, (1, s), (0, p), (0, op_), groups, (1, d))
    return y.squeeze(-2)
