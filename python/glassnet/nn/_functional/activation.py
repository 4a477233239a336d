"""Activations, as torch.nn.functional.

The elementwise ones reuse the C++ unary kernels (forward and backward) of
glassnet._ops.elementwise; softmax, log_softmax and one_hot forward to the
reduction and index ops.

`inplace=True` writes the result into the input and returns it, as torch
does, for tensors autograd is not tracking; a leaf that requires grad raises,
as in torch. A tensor inside a graph (nn.ReLU(inplace=True) after a layer)
gets the result out of place instead: glassnet keeps no version counters, so
overwriting memory that an earlier node saved for its backward could not be
detected, and the value returned, which layers use, is the same."""
import warnings

from ... import _C
from ..._ops import elementwise as E
from ..._ops import index as _index
from ..._ops import reduce as _reduce
from ..._tensor import Tensor
from ...autograd.grad_mode import state

__all__ = ["relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "elu", "elu_", "selu", "selu_", "gelu", "silu",
           "softplus", "sigmoid", "tanh", "hardtanh", "hardtanh_", "softmax", "log_softmax", "normalize",
           "cosine_similarity", "one_hot"]

U = _C.UnaryOp


def _check(x, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"[{op}] expected a Tensor, got {type(x).__name__}")


def _apply(x, op, name, inplace, p0=0.0, p1=0.0):
    """op(x), out of place through autograd, or written into x (see the top of the file)."""
    _check(x, name)
    if inplace and state.grad_enabled and x.requires_grad:
        if x.grad_fn is None:
            x._check_inplace(name + "_")  # raises, with torch's message for a leaf
        inplace = False
    if not inplace:
        return E.Unary.apply(x, op, p0, p1)
    x._impl.copy_(_C.unary(op, x._impl, p0, p1))
    return x


def relu(input, inplace=False):
    return _apply(input, U.relu, "relu", inplace)


def relu6(input, inplace=False):
    return _apply(input, U.relu6, "relu6", inplace)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    return _apply(input, U.leaky_relu, "leaky_relu", inplace, float(negative_slope))


def elu(input, alpha=1.0, inplace=False):
    return _apply(input, U.elu, "elu", inplace, float(alpha))


def selu(input, inplace=False):
    return _apply(input, U.selu, "selu", inplace)


def silu(input, inplace=False):
    return _apply(input, U.silu, "silu", inplace)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    if min_val > max_val:
        raise ValueError(f"[hardtanh] min_val ({min_val}) cannot be greater than max_val ({max_val})")
    return _apply(input, U.hardtanh, "hardtanh", inplace, float(min_val), float(max_val))


def relu_(input):
    return relu(input, inplace=True)


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, inplace=True)


def elu_(input, alpha=1.0):
    return elu(input, alpha, inplace=True)


def selu_(input):
    return selu(input, inplace=True)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


def gelu(input, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"[gelu] approximate must be 'none' or 'tanh', got {approximate!r}")
    _check(input, "gelu")
    return E.Unary.apply(input, U.gelu if approximate == "none" else U.gelu_tanh)


def softplus(input, beta=1.0, threshold=20.0):
    _check(input, "softplus")
    return E.Unary.apply(input, U.softplus, float(beta), float(threshold))


def sigmoid(input):
    _check(input, "sigmoid")
    return E.Unary.apply(input, U.sigmoid)


def tanh(input):
    _check(input, "tanh")
    return E.Unary.apply(input, U.tanh)


# ---- along a dim ------------------------------------------------------------------


def _implicit_dim(name, ndim, stacklevel):
    """torch's legacy choice when dim is omitted: 0 for 0-, 1- and 3-d input, else 1."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. "
                  "Change the call to include dim=X as an argument.", UserWarning, stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    _check(input, "softmax")
    if dim is None:
        dim = _implicit_dim("softmax", input.ndim, _stacklevel)
    return _reduce.softmax(input, dim, dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    _check(input, "log_softmax")
    if dim is None:
        dim = _implicit_dim("log_softmax", input.ndim, _stacklevel)
    return _reduce.log_softmax(input, dim, dtype)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(‖input‖_p, eps) along dim."""
    _check(input, "normalize")
    denom = E.clamp(input.norm(p, dim, keepdim=True), min=eps)
    result = input / denom
    if out is None:
        return result
    return out.copy_(result)


def _clamped_norm(x, dim, eps):
    """‖x‖ along dim (kept) with its value raised to eps but its gradient that
    of the plain norm: torch clamps the norms of cosine_similarity in place
    under no_grad, and this reproduces both its values and its gradients."""
    n = x.norm(2, dim, keepdim=True)
    raw = n.detach()
    return n + (E.clamp(raw, min=eps) - raw)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """Σ (x1/‖x1‖)(x2/‖x2‖) along dim, x1 and x2 broadcast together."""
    _check(x1, "cosine_similarity")
    _check(x2, "cosine_similarity")
    shape = _broadcast_shape(x1.shape, x2.shape)
    x1, x2 = x1.expand(*shape), x2.expand(*shape)
    return ((x1 / _clamped_norm(x1, dim, eps)) * (x2 / _clamped_norm(x2, dim, eps))).sum(dim)


def _broadcast_shape(a, b):
    n = max(len(a), len(b))
    pa, pb = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    if any(p != q and p != 1 and q != 1 for p, q in zip(pa, pb)):
        raise ValueError(f"[cosine_similarity] shapes {tuple(a)} and {tuple(b)} cannot be broadcast together")
    return tuple(q if p == 1 else p for p, q in zip(pa, pb))


def one_hot(tensor, num_classes=-1):
    return _index.one_hot(tensor, num_classes)
