"""torch's top-level functions (gn.exp(x), gn.cat([...]), gn.sum(x, 1)...),
each forwarding to the op module that implements it."""
from ._ops.elementwise import (abs, add, atan2, ceil, clamp, clip, cos, div, eq, exp, exp2, expm1, floor,
                               floor_divide, ge, gt, isfinite, isinf, isnan, le, log, log1p, log2, log10,
                               logical_and, logical_not, logical_or, logical_xor, lt, masked_fill, maximum,
                               minimum, mul, ne, neg, pow, reciprocal, relu, remainder, round, rsqrt, sigmoid,
                               sign, sin, sqrt, square, sub, tanh, trunc, where)
from ._ops.index import (cat, gather, index_select, masked_select, nonzero, scatter, scatter_add, stack)
from ._ops.linalg import bmm, dot, matmul, mm
from ._ops.reduce import (all, amax, amin, any, argmax, argmin, log_softmax, logsumexp, max, mean, min, norm,
                          prod, softmax, std, sum, var)
from ._ops.shape import (chunk, flatten, narrow, permute, reshape, select, split, squeeze, transpose, unbind,
                         unsqueeze)

concat = concatenate = cat
multiply = mul
subtract = sub
divide = div
negative = neg
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def t(x):
    return x.t()


def clone(x):
    return x.clone()


def broadcast_to(x, shape):
    return x.expand(tuple(shape))


def swapaxes(x, a, b):
    return transpose(x, a, b)


def flip(x, dims):
    """A copy of x with the given dims reversed."""
    from ._ops.index import index_select
    from ._creation import arange

    if isinstance(dims, int):
        dims = (dims,)
    out = x
    for d in dims:
        n = x.shape[d]
        out = index_select(out, d, arange(n - 1, -1, -1))
    return out
