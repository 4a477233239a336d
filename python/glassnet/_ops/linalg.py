"""Matrix products on the packed GEMM: matmul (torch's broadcasting rules),
mm, bmm and dot. (F.linear, with its fused bias, lives in nn/_functional/linear.py.)"""
from .. import _C
from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import state


class Matmul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return Tensor._wrap(_C.matmul(a._impl, b._impl))

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        if a.ndim == 1 and b.ndim == 1:  # dot product: a 0-d gradient
            return (grad * b if ctx.needs_input_grad[0] else None,
                    grad * a if ctx.needs_input_grad[1] else None)
        # Lift 1-D operands to matrices, as the forward did, so one formula serves all cases.
        a2 = a.unsqueeze(0) if a.ndim == 1 else a
        b2 = b.unsqueeze(-1) if b.ndim == 1 else b
        g = grad
        if a.ndim == 1:
            g = g.unsqueeze(-2)
        if b.ndim == 1:
            g = g.unsqueeze(-1)
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = matmul(g, b2.mT)
            grad_a = grad_a.sum_to_size(a2.shape) if grad_a.shape != a2.shape else grad_a
            grad_a = grad_a.reshape(a.shape)
        if ctx.needs_input_grad[1]:
            grad_b = matmul(a2.mT, g)
            grad_b = grad_b.sum_to_size(b2.shape) if grad_b.shape != b2.shape else grad_b
            grad_b = grad_b.reshape(b.shape)
        return grad_a, grad_b


def _check_tensors(op, *ts):
    for t in ts:
        if not isinstance(t, Tensor):
            raise TypeError(f"[{op}] expected Tensors, got {type(t).__name__}")


def matmul(a, b):
    if not (type(a) is Tensor and type(b) is Tensor):  # subclasses (Parameter) are fine too
        _check_tensors("matmul", a, b)
    if not (state.grad_enabled and (a.requires_grad or b.requires_grad)):
        # Nothing to record: skip the graph node, which costs as much as a small product.
        return Tensor._wrap(_C.matmul(a._impl, b._impl))
    return Matmul.apply(a, b)


def mm(a, b):
    _check_tensors("mm", a, b)
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"[mm] expects 2-D tensors, got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    return Matmul.apply(a, b)


def bmm(a, b):
    _check_tensors("bmm", a, b)
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0]:
        raise ValueError(f"[bmm] expects 3-D tensors with equal batch sizes, got {tuple(a.shape)} and {tuple(b.shape)}")
    return Matmul.apply(a, b)


def dot(a, b):
    _check_tensors("dot", a, b)
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"[dot] expects 1-D tensors, got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    return Matmul.apply(a, b)
