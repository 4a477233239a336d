"""Shape ops and copies: views share memory with their input; their
backward maps the gradient back through the inverse view."""
from .. import _C
from .._tensor import Tensor
from ..autograd.function import Function


class View(Function):
    @staticmethod
    def forward(ctx, x, shape, copy_ok):
        ctx.shape = x.shape
        return Tensor._wrap((_C.reshape if copy_ok else _C.view)(x._impl, list(shape)))

    @staticmethod
    def backward(ctx, grad):
        return reshape(grad, ctx.shape), None, None


def view(x, shape):
    return View.apply(x, shape, False)


def reshape(x, shape):
    return View.apply(x, shape, True)


class Permute(Function):
    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return Tensor._wrap(_C.permute(x._impl, list(dims)))

    @staticmethod
    def backward(ctx, grad):
        n = len(ctx.dims)
        inverse = [0] * n
        for i, d in enumerate(ctx.dims):
            inverse[d % n] = i
        return permute(grad, tuple(inverse)), None


def permute(x, dims):
    return Permute.apply(x, tuple(dims))


class Transpose(Function):
    @staticmethod
    def forward(ctx, x, dim0, dim1):
        ctx.dims = (dim0, dim1)
        return Tensor._wrap(_C.transpose(x._impl, dim0, dim1))

    @staticmethod
    def backward(ctx, grad):
        return transpose(grad, *ctx.dims), None, None


def transpose(x, dim0, dim1):
    return Transpose.apply(x, dim0, dim1)


class Expand(Function):
    @staticmethod
    def forward(ctx, x, shape):
        return Tensor._wrap(_C.expand(x._impl, list(shape)))

    @staticmethod
    def backward(ctx, grad):
        return grad, None  # the engine sums it back to the input's shape


def expand(x, shape):
    return Expand.apply(x, tuple(shape))


class Squeeze(Function):
    @staticmethod
    def forward(ctx, x, dims):
        ctx.shape = x.shape
        return Tensor._wrap(_C.squeeze(x._impl, None if dims is None else list(dims)))

    @staticmethod
    def backward(ctx, grad):
        return reshape(grad, ctx.shape), None


def squeeze(x, dim=None):
    if dim is not None and not isinstance(dim, (tuple, list)):
        dim = (dim,)
    return Squeeze.apply(x, dim)


class Unsqueeze(Function):
    @staticmethod
    def forward(ctx, x, dim):
        ctx.shape = x.shape
        return Tensor._wrap(_C.unsqueeze(x._impl, dim))

    @staticmethod
    def backward(ctx, grad):
        return reshape(grad, ctx.shape), None


def unsqueeze(x, dim):
    return Unsqueeze.apply(x, dim)


def flatten(x, start_dim=0, end_dim=-1):
    return reshape(x, _C.flatten(x._impl, start_dim, end_dim).shape)


def unflatten(x, dim, sizes):
    shape = list(x.shape)
    d = dim % len(shape) if shape else 0
    return reshape(x, tuple(shape[:d]) + tuple(sizes) + tuple(shape[d + 1:]))


class ViewOf(Function):
    """A strided sub-view (slice, select, narrow); backward writes the
    gradient into zeros at the same place."""

    @staticmethod
    def forward(ctx, x, make_view):
        ctx.shape, ctx.make_view = x.shape, make_view
        return Tensor._wrap(make_view(x._impl))

    @staticmethod
    def backward(ctx, grad):
        return ScatterIntoZeros.apply(grad, ctx.shape, ctx.make_view), None


class ScatterIntoZeros(Function):
    @staticmethod
    def forward(ctx, grad, shape, make_view):
        ctx.make_view = make_view
        out = _C.full(list(shape), 0.0, grad._impl.dtype, grad._impl.device)
        make_view(out).copy_(grad._impl)
        return Tensor._wrap(out)

    @staticmethod
    def backward(ctx, grad):
        return ViewOf.apply(grad, ctx.make_view), None, None


def slice(x, dim, start=None, stop=None, step=1):
    _C.slice(x._impl, dim, start, stop, step)  # validates eagerly, before recording the graph
    return ViewOf.apply(x, lambda impl: _C.slice(impl, dim, start, stop, step))


def select(x, dim, index):
    index = int(index)
    _C.select(x._impl, dim, index)
    return ViewOf.apply(x, lambda impl: _C.select(impl, dim, index))


def narrow(x, dim, start, length):
    _C.narrow(x._impl, dim, int(start), int(length))
    return ViewOf.apply(x, lambda impl: _C.narrow(impl, dim, int(start), int(length)))


def split(x, split_size_or_sections, dim=0):
    size = x.shape[dim % max(x.ndim, 1)] if x.ndim else 0
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0 and not (step == 0 and size == 0):
            raise ValueError(f"[split] split_size must be positive, got {step}")
        starts = range(0, size, step) if step > 0 else [0]
        return tuple(narrow(x, dim, s, min(step, size - s)) for s in starts)
    sections = list(split_size_or_sections)
    if sum(sections) != size:
        raise ValueError(f"[split] sizes {sections} don't sum to the size of dim {dim} ({size})")
    out, start = [], 0
    for s in sections:
        out.append(narrow(x, dim, start, s))
        start += s
    return tuple(out)


def chunk(x, chunks, dim=0):
    if chunks <= 0:
        raise ValueError(f"[chunk] number of chunks must be positive, got {chunks}")
    size = x.shape[dim % max(x.ndim, 1)]
    step = max(1, -(-size // chunks))
    return split(x, step, dim)


def unbind(x, dim=0):
    return tuple(select(x, dim, i) for i in range(x.shape[dim % max(x.ndim, 1)]))


class SumToSize(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return Tensor._wrap(_C.sum_to_shape(x._impl, list(shape)))

    @staticmethod
    def backward(ctx, grad):
        return expand(grad, ctx.shape), None


def sum_to_size(x, shape):
    return SumToSize.apply(x, tuple(shape))


class Clone(Function):
    @staticmethod
    def forward(ctx, x):
        return Tensor._wrap(x._impl.clone())

    @staticmethod
    def backward(ctx, grad):
        return grad


def clone(x):
    return Clone.apply(x)


class ToDtype(Function):
    @staticmethod
    def forward(ctx, x, dtype, copy):
        return Tensor._wrap(x._impl.to_dtype(dtype._c, copy))

    @staticmethod
    def backward(ctx, grad):
        return grad, None, None  # the engine casts it back to the input's dtype


def to_dtype(x, dtype, copy=False):
    if dtype is x.dtype and not copy:
        return x
    if not dtype.is_floating_point:
        return Tensor._wrap(x._impl.to_dtype(dtype._c, copy))
    return ToDtype.apply(x, dtype, copy)


class ToDevice(Function):
    @staticmethod
    def forward(ctx, x, device):
        ctx.device = x.device
        return Tensor._wrap(x._impl.to_device(device._c))

    @staticmethod
    def backward(ctx, grad):
        return to_device(grad, ctx.device), None


def to_device(x, device):
    if device == x.device:
        return x
    return ToDevice.apply(x, device)
