# LOCAL DEV SHIM for wip/train only (main lacks this module); NEVER COMMIT.
import numpy as np
from .. import _C
from .._tensor import Tensor


def _np(x):
    return x.detach().numpy() if isinstance(x, Tensor) else x


def _t(a):
    from .._creation import tensor
    return tensor(np.ascontiguousarray(a))


def getitem(x, key):
    if isinstance(key, Tensor):
        key = _np(key)
    if isinstance(key, tuple):
        key = tuple(_np(k) for k in key)
    return _t(_np(x)[key])


def setitem(x, key, value):
    a = x.numpy(force=True)
    a[key] = _np(value)


def repeat(x, *sizes):
    return _t(np.tile(_np(x), sizes))


def index_select(x, dim, index):
    return Tensor._wrap(_C.index_select(x._impl, dim, index._impl))


def gather(x, dim, index):
    return Tensor._wrap(_C.gather(x._impl, dim, index._impl))


def scatter_add(x, dim, index, src):
    return Tensor._wrap(_C.scatter_add(x._impl, dim, index._impl, src._impl))


def scatter(x, dim, index, src):
    return Tensor._wrap(_C.scatter(x._impl, dim, index._impl, src._impl))


def nonzero(x):
    return Tensor._wrap(_C.nonzero(x._impl))


def cat(ts, dim=0):
    return Tensor._wrap(_C.cat([t._impl for t in ts], dim))


def stack(ts, dim=0):
    return Tensor._wrap(_C.stack([t._impl for t in ts], dim))


def masked_select(x, mask):
    return Tensor._wrap(_C.masked_select(x._impl, mask._impl))
