"""Devices: gn.device("cpu"), gn.device("cuda:0")."""
from . import _C


class device:
    __slots__ = ("_c",)

    def __init__(self, spec="cpu", index=None):
        if isinstance(spec, device):
            self._c = spec._c
            return
        if not isinstance(spec, str):
            raise TypeError(f"[device] expected a string like 'cpu' or 'cuda:0', got {spec!r}")
        if index is not None:
            spec = f"{spec}:{index}"
        self._c = _C.Device(spec)

    @classmethod
    def _from_c(cls, c_device):
        d = object.__new__(cls)
        d._c = c_device
        return d

    @property
    def type(self):
        return self._c.type

    @property
    def index(self):
        return self._c.index

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and self._c == other._c

    def __hash__(self):
        return hash(str(self))

    def __str__(self):
        return "cpu" if self.type == "cpu" else f"cuda:{self.index}"

    def __repr__(self):
        if self.type == "cpu":
            return "device(type='cpu')"
        return f"device(type='cuda', index={self.index})"


CPU = device("cpu")


def to_device(value):
    if value is None or isinstance(value, device):
        return value
    return device(value)
