"""A user-defined autograd op, checked with gradcheck: the same recipe as
torch.autograd.Function.

    python examples/custom_function.py
"""
import glassnet as gn


class SoftClip(gn.autograd.Function):
    """y = x / (1 + |x|): a smooth clip to (-1, 1)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x / (1 + x.abs())

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1 + x.abs()) ** 2


x = gn.randn(5, dtype=gn.float64, requires_grad=True)
print("output:   ", SoftClip.apply(x))
print("gradcheck:", gn.autograd.gradcheck(SoftClip.apply, (x,)))
