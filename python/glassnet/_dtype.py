"""glassnet's dtypes: gn.float32 (the default), gn.float64, gn.int64, gn.bool."""
import builtins

import numpy as np

from . import _C


class dtype:
    """An element type, printed and compared like torch's (``gn.float32``)."""

    __slots__ = ("name", "_c", "itemsize", "is_floating_point", "numpy")

    def __init__(self, name, c_dtype, itemsize, is_floating_point, numpy_dtype):
        self.name = name
        self._c = c_dtype
        self.itemsize = itemsize
        self.is_floating_point = is_floating_point
        self.numpy = np.dtype(numpy_dtype)

    def __repr__(self):
        return f"glassnet.{self.name}"

    def __reduce__(self):
        return (_by_name, (self.name,))


float32 = dtype("float32", _C.DType.float32, 4, True, np.float32)
float64 = dtype("float64", _C.DType.float64, 8, True, np.float64)
int64 = dtype("int64", _C.DType.int64, 8, False, np.int64)
bool = dtype("bool", _C.DType.bool, 1, False, np.bool_)
float = float32
double = float64
long = int64

_FROM_C = {d._c: d for d in (float32, float64, int64, bool)}
_BY_NAME = {d.name: d for d in (float32, float64, int64, bool)}
_default_dtype = float32


def _by_name(name):
    return _BY_NAME[name]


def from_c(c_dtype):
    return _FROM_C[c_dtype]


# Indexed by the C++ DType's value (bool 0, int64 1, float32 2, float64 3).
BY_CODE = sorted((float32, float64, int64, bool), key=lambda d: int(d._c))


def to_dtype(value):
    """Accepts a gn.dtype, a numpy dtype or a Python type and returns a gn.dtype."""
    if isinstance(value, dtype):
        return value
    if value is builtins.float:
        return _default_dtype
    if value is builtins.int:
        return int64
    if value is builtins.bool:
        return bool
    try:
        npd = np.dtype(value)
    except TypeError:
        npd = None
    if npd is not None:
        if npd.kind == "f":
            return float64 if npd.itemsize == 8 else float32
        if npd.kind in "iu":
            return int64
        if npd.kind == "b":
            return bool
    raise TypeError(f"[dtype] unsupported dtype {value!r}; glassnet supports float32, float64, int64 and bool")


def get_default_dtype():
    return _default_dtype


def set_default_dtype(d):
    global _default_dtype
    d = to_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"[set_default_dtype] only floating-point types can be the default, got {d}")
    _default_dtype = d
