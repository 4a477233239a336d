"""dropout and the channel-wise dropout1d/2d/3d, as torch.nn.functional.

The mask comes from glassnet's Philox stream (gn.manual_seed makes it
reproducible); kept elements are scaled by 1/(1-p). The forward kernel returns
the bool mask, and the backward multiplies the gradient by the same mask and
scale."""
import warnings

from ... import _C
from ..._tensor import Tensor
from ...autograd.function import Function
from ...autograd.grad_mode import state

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d", "feature_dropout"]


class Dropout(Function):
    """mask_dims leading dims of x get one keep/drop decision per index; the
    trailing dims share it (x.ndim for plain dropout, 2 for channels)."""

    @staticmethod
    def forward(ctx, x, p, mask_dims):
        out, mask = _C.dropout_forward(x._impl, p, mask_dims)
        ctx.mask = mask
        ctx.p = p
        return Tensor._wrap(out)

    @staticmethod
    def backward(ctx, grad):
        if state.grad_enabled:
            # create_graph=True: grad·m as a differentiable product.
            scale = 0.0 if ctx.p == 1.0 else 1.0 / (1.0 - ctx.p)
            return grad * (Tensor._wrap(ctx.mask).to(grad.dtype) * scale), None, None
        return Tensor._wrap(_C.dropout_backward(grad._impl, ctx.mask, ctx.p)), None, None


def _dropout(op, input, p, training, inplace, mask_dims):
    if not isinstance(input, Tensor):
        raise TypeError(f"[{op}] expected input to be a Tensor, got {type(input).__name__}")
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0 or input.numel() == 0:
        return input  # torch returns the input itself here
    if inplace:
        # In place on a tensor the graph depends on is refused, as for every
        # in-place op in glassnet (Tensor._check_inplace).
        input._check_inplace(op + "_")
        _C.dropout_(input._impl, p, mask_dims)
        return input
    return Dropout.apply(input, p, mask_dims)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zeroes each element with probability p and scales the rest by 1/(1-p)."""
    return _dropout("dropout", input, p, training, inplace, input.ndim if isinstance(input, Tensor) else 0)


def feature_dropout(input, p, train, inplace=False):
    """Zeroes whole channels input[n, c] of input (N, C, *) with probability p."""
    if isinstance(input, Tensor) and input.ndim < 2:
        raise ValueError(f"[feature_dropout] expected input with at least 2 dims (N, C, *), got {tuple(input.shape)}")
    return _dropout("feature_dropout", input, p, train, inplace, 2)


def _channel_dropout(op, input, p, training, inplace, spatial):
    """dropout{spatial}d: (N, C, *spatial) batched or (C, *spatial) unbatched."""
    if not isinstance(input, Tensor):
        raise TypeError(f"[{op}] expected input to be a Tensor, got {type(input).__name__}")
    batched = input.ndim == spatial + 2
    if input.ndim not in (spatial + 1, spatial + 2):
        raise ValueError(f"[{op}] expected a {spatial + 1}-D or {spatial + 2}-D input, got shape {tuple(input.shape)}")
    return _dropout(op, input, p, training, inplace, 2 if batched else 1)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, L) or (C, L) input with probability p."""
    return _channel_dropout("dropout1d", input, p, training, inplace, 1)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, H, W) input with probability p.

    As torch: a 3-D input is taken as (N, C, L) with a warning, and other ranks
    get channel dropout over their first two dims with a deprecation warning."""
    if not isinstance(input, Tensor):
        raise TypeError(f"[dropout2d] expected input to be a Tensor, got {type(input).__name__}")
    if input.ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is deprecated and will result "
                      "in an error in a future release. To retain the behavior and silence this warning, please use "
                      "dropout instead.", stacklevel=2)
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior "
                      "is desired - input is interpreted as shape (N, C, L), where C is the channel dim. To maintain "
                      "the 1D channel-wise dropout behavior, please switch to using dropout1d instead.", stacklevel=2)
    if input.ndim < 2:
        raise ValueError(f"[dropout2d] expected input with at least 2 dims, got shape {tuple(input.shape)}")
    return _dropout("dropout2d", input, p, training, inplace, 2)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, D, H, W) or (C, D, H, W) input with probability p.

    As torch, other ranks warn and are taken as unbatched: one decision per
    index of the first dim."""
    if not isinstance(input, Tensor):
        raise TypeError(f"[dropout3d] expected input to be a Tensor, got {type(input).__name__}")
    if input.ndim not in (4, 5):
        warnings.warn(f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is deprecated and will result "
                      "in an error in a future release. To retain the behavior and silence this warning, please use "
                      "dropout instead.", stacklevel=2)
    if input.ndim < 1:
        raise ValueError(f"[dropout3d] expected input with at least 1 dim, got shape {tuple(input.shape)}")
    return _dropout("dropout3d", input, p, training, inplace, 2 if input.ndim == 5 else 1)
