"""Creating tensors: from data, filled, ranges, random."""
import builtins

import numpy as np

from . import _C
from . import _dtype as dtypes
from ._device import to_device
from ._tensor import Tensor, _impl_from_data, _shape_arg


def _finish(impl, device, requires_grad):
    if device is not None:
        impl = impl.to_device(to_device(device)._c)
    t = Tensor._wrap(impl)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of `data` (nested lists, numbers, numpy arrays, tensors)."""
    if isinstance(data, Tensor):
        impl = _impl_from_data(data.detach(), dtype, copy=True)
    else:
        impl = _impl_from_data(data, dtype, copy=True)
    return _finish(impl, device, requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Like tensor(), but shares memory with a numpy array or tensor when it can."""
    if isinstance(data, Tensor):
        out = data if dtype is None else data.to(dtype)
        return out if device is None else out.to(device)
    if isinstance(data, np.ndarray) and (dtype is None or dtypes.to_dtype(dtype).numpy == data.dtype):
        try:
            return _finish(_C.from_numpy(data), device, False)
        except TypeError:
            pass
    return _finish(_impl_from_data(data, dtype, copy=False), device, False)


def from_numpy(array):
    """A tensor sharing memory with `array` (float32, float64, int64, bool without a copy)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"[from_numpy] expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor._wrap(_C.from_numpy(array))


def _filled(shape, value, dtype, device, requires_grad, op):
    shape = _shape_arg(shape)
    for s in shape:
        if s < 0:
            raise ValueError(f"[{op}] negative dimension {s} in shape {shape}")
    dt = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    dev = (to_device(device) or to_device("cpu"))._c
    impl = _C.empty(list(shape), dt._c, dev) if value is None else _C.full(list(shape), builtins.float(value), dt._c, dev)
    return _finish(impl, None, requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    return _filled(size, 0, dtype, device, requires_grad, "zeros")


def ones(*size, dtype=None, device=None, requires_grad=False):
    return _filled(size, 1, dtype, device, requires_grad, "ones")


def empty(*size, dtype=None, device=None, requires_grad=False):
    return _filled(size, None, dtype, device, requires_grad, "empty")


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    if dtype is None:
        dtype = (dtypes.bool if isinstance(fill_value, builtins.bool)
                 else dtypes.int64 if isinstance(fill_value, (builtins.int, np.integer))
                 else dtypes.get_default_dtype())
    return _filled(size, fill_value, dtype, device, requires_grad, "full")


def _like(t, dtype, device):
    return (dtype if dtype is not None else t.dtype), (device if device is not None else t.device)


def zeros_like(t, dtype=None, device=None, requires_grad=False):
    dtype, device = _like(t, dtype, device)
    return zeros(t.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def ones_like(t, dtype=None, device=None, requires_grad=False):
    dtype, device = _like(t, dtype, device)
    return ones(t.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def empty_like(t, dtype=None, device=None, requires_grad=False):
    dtype, device = _like(t, dtype, device)
    return empty(t.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def full_like(t, fill_value, dtype=None, device=None, requires_grad=False):
    dtype, device = _like(t, dtype, device)
    return full(t.shape, fill_value, dtype=dtype, device=device, requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    values = (start, end, step)
    if dtype is None:
        is_int = all(isinstance(v, (builtins.int, np.integer)) and not isinstance(v, builtins.bool) for v in values)
        dtype = dtypes.int64 if is_int else dtypes.get_default_dtype()
    impl = _C.arange(builtins.float(start), builtins.float(end), builtins.float(step), dtypes.to_dtype(dtype)._c)
    return _finish(impl, device, requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    dt = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    return _finish(_C.linspace(builtins.float(start), builtins.float(end), builtins.int(steps), dt._c), device,
                   requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    dt = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    return _finish(_C.eye(builtins.int(n), builtins.int(n if m is None else m), dt._c), device, requires_grad)


def _random(size, dtype, device, requires_grad, fill, op, float_only=True):
    dt = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    if float_only and not dt.is_floating_point:
        raise TypeError(f"[{op}] expects a floating-point dtype, got {dt}")
    t = _filled(size, None, dt, "cpu", False, op)
    fill(t._impl)
    return _finish(t._impl, device, requires_grad)


def rand(*size, dtype=None, device=None, requires_grad=False, generator=None):
    return _random(size, dtype, device, requires_grad, lambda impl: _C.uniform_(impl, 0.0, 1.0), "rand")


def randn(*size, dtype=None, device=None, requires_grad=False, generator=None):
    return _random(size, dtype, device, requires_grad, lambda impl: _C.normal_(impl, 0.0, 1.0), "randn")


def randint(low, high=None, size=None, dtype=None, device=None, requires_grad=False, generator=None):
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("[randint] missing the size argument")
    dt = dtypes.to_dtype(dtype) if dtype is not None else dtypes.int64
    return _random(size, dt, device, requires_grad,
                   lambda impl: _C.randint_(impl, builtins.int(low), builtins.int(high)), "randint", float_only=False)


def rand_like(t, dtype=None, device=None, requires_grad=False):
    dtype, device = _like(t, dtype, device)
    return rand(t.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def randn_like(t, dtype=None, device=None, requires_grad=False):
    dtype, device = _like(t, dtype, device)
    return randn(t.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def randint_like(t, low, high=None, dtype=None, device=None):
    dtype, device = _like(t, dtype, device)
    return randint(low, high, t.shape, dtype=dtype, device=device)


def randperm(n, dtype=None, device=None):
    """A random permutation of 0..n-1: the order that sorts n uniform draws from the glassnet generator."""
    keys = rand(builtins.int(n), dtype=dtypes.float64)
    perm = np.argsort(keys.numpy(), kind="stable")
    return tensor(perm, dtype=dtype or dtypes.int64, device=device)


def manual_seed(seed):
    """Seeds glassnet's Philox generator (CPU and GPU share the stream)."""
    _C.manual_seed(builtins.int(seed) & 0xFFFFFFFFFFFFFFFF)


def get_rng_state():
    """The generator state: the (seed, offset) pair of the Philox stream."""
    return _C.get_rng_state()


def set_rng_state(state):
    seed, offset = state
    _C.set_rng_state(builtins.int(seed), builtins.int(offset))
