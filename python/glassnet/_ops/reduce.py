# LOCAL DEV SHIM for wip/train only (main lacks this module); NEVER COMMIT.
import numpy as np
from .._tensor import Tensor


def _t(a):
    from .._creation import tensor
    return tensor(np.ascontiguousarray(a))


def _ax(dim):
    return tuple(dim) if isinstance(dim, list) else dim


def sum(x, dim=None, keepdim=False):
    a = x.detach().numpy()
    r = a.sum(axis=_ax(dim), keepdims=keepdim)
    return _t(r.astype(np.int64) if a.dtype == np.bool_ else r)


def mean(x, dim=None, keepdim=False):
    return _t(x.detach().numpy().mean(axis=_ax(dim), keepdims=keepdim))


def max(x, dim=None, keepdim=False):
    return _t(x.detach().numpy().max(axis=_ax(dim), keepdims=keepdim))


def min(x, dim=None, keepdim=False):
    return _t(x.detach().numpy().min(axis=_ax(dim), keepdims=keepdim))


amax, amin = max, min


def argmax(x, dim=None, keepdim=False):
    return _t(x.detach().numpy().argmax(axis=dim, keepdims=keepdim))


def argmin(x, dim=None, keepdim=False):
    return _t(x.detach().numpy().argmin(axis=dim, keepdims=keepdim))


def all(x, dim=None, keepdim=False):
    return _t(x.detach().numpy().all(axis=_ax(dim), keepdims=keepdim))


def any(x, dim=None, keepdim=False):
    return _t(x.detach().numpy().any(axis=_ax(dim), keepdims=keepdim))


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    def missing(*a, **k):
        raise NotImplementedError(name)
    return missing
