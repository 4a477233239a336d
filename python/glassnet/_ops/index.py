"""Indexing, gathering and joining: x[key] and x[key] = v, index_select,
gather/scatter, one_hot, cat/stack, repeat, nonzero, masked_select.

x[key] runs in two steps, as torch does: ints, slices, None and ... become
views (select/slice/unsqueeze, no copy); index tensors, lists and bool masks
left after that go to one advanced-indexing kernel, whose backward
accumulates the gradient at the same positions."""
import builtins
import numbers

import numpy as np

from .. import _C
from .. import _dtype as dtypes
from .._tensor import Tensor, tensor_like
from ..autograd.function import Function
from . import shape as _shape


def _check(x, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"[{op}] expected a Tensor, got {type(x).__name__}")


def _index_tensor(index, op):
    if isinstance(index, Tensor):
        return index
    if isinstance(index, (list, tuple, np.ndarray, numbers.Integral)):
        arr = np.asarray(index)
        if arr.dtype == np.bool_:
            return Tensor._wrap(_C.from_numpy(np.ascontiguousarray(arr)))
        if arr.size == 0:
            arr = arr.astype(np.int64)
        if not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(f"[{op}] indices must be integers or booleans, got {arr.dtype}")
        return Tensor._wrap(_C.from_numpy(np.ascontiguousarray(arr, dtype=np.int64)))
    raise TypeError(f"[{op}] expected an index tensor, got {type(index).__name__}")


# ---- index_select, gather, scatter ---------------------------------------------------


class IndexSelect(Function):
    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.shape, ctx.dim, ctx.index = x.shape, dim, index
        return Tensor._wrap(_C.index_select(x._impl, dim, index._impl))

    @staticmethod
    def backward(ctx, grad):
        g = _C.index_select_backward(grad._impl, list(ctx.shape), ctx.dim, ctx.index._impl)
        return Tensor._wrap(g), None, None


def index_select(x, dim, index):
    _check(x, "index_select")
    return IndexSelect.apply(x, dim, _index_tensor(index, "index_select"))


class Gather(Function):
    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.shape, ctx.dim, ctx.index = x.shape, dim, index
        return Tensor._wrap(_C.gather(x._impl, dim, index._impl))

    @staticmethod
    def backward(ctx, grad):
        g = _C.gather_backward(grad._impl, list(ctx.shape), ctx.dim, ctx.index._impl)
        return Tensor._wrap(g), None, None


def gather(x, dim, index):
    _check(x, "gather")
    return Gather.apply(x, dim, _index_tensor(index, "gather"))


class ScatterAdd(Function):
    @staticmethod
    def forward(ctx, x, dim, index, src):
        ctx.dim, ctx.index = dim, index
        return Tensor._wrap(_C.scatter_add(x._impl, dim, index._impl, src._impl))

    @staticmethod
    def backward(ctx, grad):
        grad_src = Tensor._wrap(_C.gather(grad._impl, ctx.dim, ctx.index._impl)) if ctx.needs_input_grad[3] else None
        return grad, None, None, grad_src


class Scatter(Function):
    """out = x with src written at the indices; those positions of x get no gradient."""

    @staticmethod
    def forward(ctx, x, dim, index, src):
        ctx.dim, ctx.index = dim, index
        return Tensor._wrap(_C.scatter(x._impl, dim, index._impl, src._impl))

    @staticmethod
    def backward(ctx, grad):
        grad_x = grad_src = None
        if ctx.needs_input_grad[0]:
            zeros = _C.full(list(ctx.index.shape), 0.0, grad._impl.dtype, grad._impl.device)
            grad_x = Tensor._wrap(_C.scatter(grad._impl, ctx.dim, ctx.index._impl, zeros))
        if ctx.needs_input_grad[3]:
            grad_src = Tensor._wrap(_C.gather(grad._impl, ctx.dim, ctx.index._impl))
        return grad_x, None, None, grad_src


def scatter_add(x, dim, index, src):
    _check(x, "scatter_add")
    return ScatterAdd.apply(x, dim, _index_tensor(index, "scatter_add"), src)


def scatter(x, dim, index, src=None, value=None):
    _check(x, "scatter")
    index = _index_tensor(index, "scatter")
    if src is None and value is None:
        raise TypeError("[scatter] give src (a tensor) or value (a number)")
    if not isinstance(src, Tensor):
        fill = src if value is None else value
        src = Tensor._wrap(_C.full(list(index.shape), builtins.float(fill), x._impl.dtype, x._impl.device))
    return Scatter.apply(x, dim, index, src)


# ---- advanced indexing ---------------------------------------------------------------


class Index(Function):
    @staticmethod
    def forward(ctx, x, indices):
        ctx.shape, ctx.indices = x.shape, indices
        return Tensor._wrap(_C.index(x._impl, indices))

    @staticmethod
    def backward(ctx, grad):
        return Tensor._wrap(_C.index_backward(grad.contiguous()._impl, list(ctx.shape), ctx.indices)), None


def _expand_key(key, ndim):
    """key as a tuple with ... replaced by full slices; TypeError for what can't index."""
    if not isinstance(key, tuple):
        key = (key,)
    consumed = 0
    ellipses = 0
    for k in key:
        if k is None:
            continue
        if k is Ellipsis:
            ellipses += 1
        elif isinstance(k, Tensor) and k.dtype is dtypes.bool:
            consumed += builtins.max(k.ndim, 0)
        elif isinstance(k, np.ndarray) and k.dtype == np.bool_:
            consumed += k.ndim
        else:
            consumed += 1
    if ellipses > 1:
        raise IndexError("[getitem] an index can only have a single ellipsis ('...')")
    if consumed > ndim:
        raise IndexError(f"[getitem] too many indices for a tensor of dimension {ndim} ({consumed} given)")
    out = []
    for k in key:
        if k is Ellipsis:
            out.extend([slice(None)] * (ndim - consumed))
        else:
            out.append(k)
    return out


def _apply_basic(x, key):
    """Ints, slices and None as views; returns the view and the advanced
    indices (an IndexList over the view's dims), or None if there are none."""
    view = x
    advanced = []
    dim = 0  # the view's dim the next key entry applies to
    for k in key:
        if k is None:
            view = _shape.unsqueeze(view, dim)
            advanced.append(None)
            dim += 1
        elif isinstance(k, builtins.bool):
            raise TypeError("[getitem] indexing with a Python bool is not supported; use a bool tensor mask")
        elif isinstance(k, numbers.Integral):
            size = view.shape[dim]
            i = builtins.int(k)
            if not -size <= i < size:
                raise IndexError(f"[getitem] index {i} is out of bounds for dimension {dim} with size {size}")
            view = _shape.select(view, dim, i)
        elif isinstance(k, slice):
            step = 1 if k.step is None else builtins.int(k.step)
            if step <= 0:
                raise ValueError(f"[getitem] slice step must be positive, got {step}")
            start = None if k.start is None else builtins.int(k.start)
            stop = None if k.stop is None else builtins.int(k.stop)
            if not (start is None and stop is None and step == 1):
                view = _shape.slice(view, dim, start, stop, step)
            advanced.append(None)
            dim += 1
        else:
            t = _index_tensor(k, "getitem")
            if t.dtype is not dtypes.int64 and t.dtype is not dtypes.bool:
                raise IndexError(f"[getitem] tensors used as indices must be int64 or bool, got {t.dtype}")
            # One entry per key entry: the kernel reads a bool mask as covering
            # mask.ndim dims from where it stands.
            advanced.append(t._impl)
            dim += t.ndim if t.dtype is dtypes.bool else 1
    if builtins.all(a is None for a in advanced):
        return view, None
    while advanced[-1] is None:
        advanced.pop()
    return view, advanced


def getitem(x, key):
    _check(x, "getitem")
    view, advanced = _apply_basic(x, _expand_key(key, x.ndim))
    if advanced is None:
        return view
    return Index.apply(view, advanced)


def setitem(x, key, value):
    """x[key] = value, in place: the view it names is written, or the advanced kernel scatters."""
    _check(x, "setitem")
    x._check_inplace("setitem")
    view, advanced = _apply_basic(x, _expand_key(key, x.ndim))
    if not isinstance(value, Tensor):
        value = tensor_like(value, x) if isinstance(value, (numbers.Number, np.bool_)) else \
            Tensor._wrap(_C.from_numpy(np.ascontiguousarray(np.asarray(value, dtype=x.dtype.numpy))))
    if advanced is None:
        view._impl.copy_(value._impl)  # copy_ broadcasts and casts
    else:
        _C.index_put_(view._impl, advanced, value._impl, False)


def masked_select(x, mask):
    _check(x, "masked_select")
    return getitem(x.expand(_broadcast(x.shape, mask.shape)), mask.expand(_broadcast(x.shape, mask.shape)))


def _broadcast(a, b):
    return tuple(np.broadcast_shapes(tuple(a), tuple(b)))


def nonzero(x, as_tuple=False):
    _check(x, "nonzero")
    out = Tensor._wrap(_C.nonzero(x._impl))
    if as_tuple:
        return tuple(out[:, d] for d in range(out.shape[1]))
    return out


def one_hot(labels, num_classes=-1):
    _check(labels, "one_hot")
    return Tensor._wrap(_C.one_hot(labels._impl, num_classes))


# ---- joining -------------------------------------------------------------------------


class Cat(Function):
    @staticmethod
    def forward(ctx, dim, *tensors):
        ctx.dim = dim
        ctx.sizes = [t.shape[dim] if t.ndim else 0 for t in tensors]
        ctx.skipped = [t.ndim == 1 and t.shape[0] == 0 for t in tensors]
        return Tensor._wrap(_C.cat([t._impl for t in tensors], dim))

    @staticmethod
    def backward(ctx, grad):
        grads, start = [None], 0
        for size, skipped in zip(ctx.sizes, ctx.skipped):
            if skipped:
                grads.append(None)
                continue
            grads.append(_shape.narrow(grad, ctx.dim, start, size))
            start += size
        return tuple(grads)


def cat(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("[cat] expected a non-empty list of tensors")
    for t in tensors:
        _check(t, "cat")
    ref = next((t for t in tensors if not (t.ndim == 1 and t.shape[0] == 0)), tensors[0])
    d = dim % ref.ndim if ref.ndim and -ref.ndim <= dim < ref.ndim else dim
    if not isinstance(d, builtins.int) or (ref.ndim and not 0 <= d < ref.ndim) or ref.ndim == 0:
        # Let the kernel word the error (0-d inputs, dim out of range).
        return Tensor._wrap(_C.cat([t._impl for t in tensors], dim))
    return Cat.apply(d, *tensors)


def stack(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("[stack] expected a non-empty list of tensors")
    for t in tensors:
        _check(t, "stack")
    shape = tensors[0].shape
    for t in tensors[1:]:
        if t.shape != shape:
            raise ValueError(f"[stack] expects tensors of equal shape, got {tuple(shape)} and {tuple(t.shape)}")
    ndim = len(shape) + 1
    if not -ndim <= dim < ndim:
        raise IndexError(f"[stack] dim {dim} is out of range for a result with {ndim} dimensions")
    d = dim % ndim
    return cat([_shape.unsqueeze(t, d) for t in tensors], d)


class Repeat(Function):
    @staticmethod
    def forward(ctx, x, repeats):
        ctx.shape, ctx.repeats = x.shape, repeats
        return Tensor._wrap(_C.repeat(x._impl, list(repeats)))

    @staticmethod
    def backward(ctx, grad):
        g = _C.repeat_backward(grad.contiguous()._impl, list(ctx.shape), list(ctx.repeats))
        return Tensor._wrap(g), None


def repeat(x, *repeats):
    _check(x, "repeat")
    if len(repeats) == 1 and isinstance(repeats[0], (tuple, list)):
        repeats = tuple(repeats[0])
    return Repeat.apply(x, tuple(builtins.int(r) for r in repeats))
