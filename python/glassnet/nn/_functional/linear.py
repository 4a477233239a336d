"""linear and bilinear, as torch.nn.functional.

linear is the hottest op of small networks, so it is one Function with one
kernel call per direction: the GEMM with the bias fused into its epilogue
forward, and `_C.linear_backward` (grad·W, gradᵀ·x with the transpose read
through strides, the bias's column sum) backward."""
from ... import _C
from ..._tensor import Tensor
from ...autograd.function import Function
from ...autograd.grad_mode import state

__all__ = ["linear", "bilinear"]


def _wrap(impl):
    return None if impl is None else Tensor._wrap(impl)


class Linear(Function):
    """y = x·Wᵀ + b for x (..., in), W (out, in), b (out) or None."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        return Tensor._wrap(_C.linear(x._impl, weight._impl, None if bias is None else bias._impl))

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        if state.grad_enabled:
            # create_graph=True: the same products from differentiable ops, so
            # the gradients can themselves be differentiated.
            g2, x2 = grad.reshape(-1, grad.shape[-1]), x.reshape(-1, x.shape[-1])
            return (grad @ weight if need_x else None, g2.mT @ x2 if need_w else None,
                    g2.sum(0) if need_b else None)
        grad_x, grad_w, grad_b = _C.linear_backward(grad._impl, x._impl, weight._impl, need_x, need_w, need_b)
        return _wrap(grad_x), _wrap(grad_w), _wrap(grad_b)


def _check_tensor(op, name, t, optional=False):
    if optional and t is None:
        return
    if not isinstance(t, Tensor):
        raise TypeError(f"[{op}] expected {name} to be a Tensor, got {type(t).__name__}")


def linear(input, weight, bias=None):
    """y = input·weightᵀ + bias over the last dim of input (any leading dims)."""
    _check_tensor("linear", "input", input)
    _check_tensor("linear", "weight", weight)
    _check_tensor("linear", "bias", bias, optional=True)
    if weight.ndim == 1:
        # torch accepts a vector weight: a single output feature, dim dropped.
        out = Linear.apply(input, weight.unsqueeze(0), None).squeeze(-1)
        return out if bias is None else out + bias
    return Linear.apply(input, weight, bias)


def bilinear(input1, input2, weight, bias=None):
    """y[..., o] = Σ_ij input1[..., i]·weight[o, i, j]·input2[..., j] + bias[o].

    Written as linear on the outer product of the two inputs, so the gradients
    of every argument come from Mul and Linear."""
    for name, t in (("input1", input1), ("input2", input2), ("weight", weight)):
        _check_tensor("bilinear", name, t)
    _check_tensor("bilinear", "bias", bias, optional=True)
    if input1.ndim < 1 or input1.ndim != input2.ndim or tuple(input1.shape[:-1]) != tuple(input2.shape[:-1]):
        raise ValueError(f"[bilinear] input1 {tuple(input1.shape)} and input2 {tuple(input2.shape)} must have the "
                         "same batch dimensions")
    if weight.ndim != 3 or weight.shape[1] != input1.shape[-1] or weight.shape[2] != input2.shape[-1]:
        raise ValueError(f"[bilinear] expected weight of shape (out, {input1.shape[-1]}, {input2.shape[-1]}) for "
                         f"inputs {tuple(input1.shape)} and {tuple(input2.shape)}, got {tuple(weight.shape)}")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(f"[bilinear] expected bias of shape ({weight.shape[0]},), got {tuple(bias.shape)}")
    n1, n2 = input1.shape[-1], input2.shape[-1]
    outer = input1.unsqueeze(-1) * input2.unsqueeze(-2)
    outer = outer.reshape(tuple(input1.shape[:-1]) + (n1 * n2,))
    return Linear.apply(outer, weight.reshape(weight.shape[0], n1 * n2), bias)
