"""RunningStats: statistics of a stream of tensors, reduced as they arrive.

A layer's outputs (or their gradients) over many batches are folded into a
few numbers per batch: a sum, a sum of squares, the count of non-positive
values and the per-unit maximum (gradient streams, ``units=False``, take the
global maximum instead and skip the count: those two describe activations).
Nothing is kept of a batch but these and, for the histogram, a strided
sample of its values (at most HIST_VALUES; the last batch's).

Two ways to reduce, same results:
- tensors in CPU memory go through one C++ call, ``_C.stream_stats``, which
  reads the tensor once (AVX2 for float32) for all four numbers, sums in
  double: 3-9x faster than the same four reductions through numpy, which is
  what keeps statistics of every layer cheap enough to leave on in training.
- tensors on a GPU are reduced by glassnet ops into device scalars kept in
  lists (folded every 256 batches), so there is no host sync until
  `summary()`. ``on_device=True`` forces this path for CPU tensors too.

Units are indexed by dim 1 (channels of (N, C, H, W), features of (N, F));
a unit is "dead" when it was never positive for any sample seen, which for a
ReLU layer means it passed no gradient for the whole stream.
"""
import math

import numpy as np

from .. import _C
from .._tensor import Tensor

_FOLD = 256
# Running statistics histogram a strided sample of this many values of the
# last tensor: the same picture as all of them (about 140 values a bin at 30
# bins) for a small, fixed cost per summary.
HIST_VALUES = 4096


class RunningStats:
    def __init__(self, bins=30, units=True, on_device=None):
        self.bins = int(bins)
        self.units = bool(units)
        self.on_device = on_device
        self.reset()

    def reset(self):
        self.count = 0          # elements seen (from shapes: no sync)
        self.samples = 0        # batch entries seen (dim 0)
        self.updates = 0
        self._parts = {"sum": [], "sumsq": [], "nonpos": [], "max": []}
        self._acc = {}          # what earlier folds left, by the same keys
        # The host path's totals, and its per-batch maxima (numpy views of
        # the kernel's results) waiting to be folded into _max: one numpy
        # maximum per _FOLD batches instead of one per batch.
        self._sum = 0.0
        self._sumsq = 0.0
        self._nonpos = 0
        self._max = None
        self._tops = []
        self._zero = None
        self._units = None      # units per tensor (dim 1)
        # What the histogram is made of: the last batch's strided sample
        # (host path) or the last tensor itself (device path: no copy to the host per batch).
        self._hist = None

    def update(self, t):
        """Fold tensor `t` (any shape, floating) into the statistics."""
        # Called for every layer's output and gradient of every training
        # batch, so the host path works on the C++ tensor alone: no wrapper,
        # no numpy view, one kernel call.
        if self.on_device:
            self._update_device(t.detach())
            return
        impl = t._impl
        shape = impl.shape
        size = impl.numel()
        if size == 0:
            return
        units = shape[1] if len(shape) >= 2 else 1
        if units != self._units:
            self._check_units(units, shape)
        try:
            total, sumsq, nonpos, top = _C.stream_stats(impl, self.units)
        except RuntimeError:
            # The kernel reads CPU memory only and says so for a GPU tensor;
            # asking every tensor for its device first would cost about as
            # much as the kernel does on a small layer.
            if impl.device.type != "cuda":
                raise
            if self.on_device is None:
                self._update_device(t.detach())
                return
            impl = impl.to_device(_C.Device("cpu"))
            total, sumsq, nonpos, top = _C.stream_stats(impl, self.units)
        self._sum += total
        self._sumsq += sumsq
        self._nonpos += nonpos
        tops = self._tops
        tops.append(top.numpy())
        if len(tops) >= _FOLD:
            self._fold_tops()
        self.count += size
        self.samples += shape[0] if shape else 1
        self.updates += 1
        # A copy of a few thousand values, not a reference to the tensor:
        # holding every layer's last output and gradient until its next
        # batch keeps that memory from being reused meanwhile, which cost
        # more than this copy in bench_record (gradients most: they are
        # otherwise freed as soon as the layer below has used them).
        flat = impl.numpy().reshape(-1)
        if size > HIST_VALUES:
            flat = flat[::-(-size // HIST_VALUES)]
        self._hist = flat.copy()

    def _check_units(self, units, shape):
        if self._units is None:
            self._units = units
        elif self.units:
            raise ValueError(f"[RunningStats] tensors of this stream have {self._units} units (dim 1) but one "
                             f"of shape {shape} came")

    def _fold_tops(self):
        if not self._tops:
            return
        m = np.maximum.reduce(self._tops)
        self._max = m if self._max is None else np.maximum(self._max, m)
        self._tops.clear()

    def _update_device(self, t):
        shape = tuple(t.shape)
        size = math.prod(shape)
        if size == 0:
            return
        units = shape[1] if len(shape) >= 2 else 1
        if units != self._units:
            self._check_units(units, shape)
        if self._zero is None:
            self._zero = _zero_like(t)
        parts = self._parts
        parts["sum"].append(t.sum())
        parts["sumsq"].append((t * t).sum())
        if self.units:
            parts["nonpos"].append((t <= self._zero).sum())
            m = t.amax(dim=0) if t.ndim >= 2 else t.amax().reshape(1)
            parts["max"].append(m.amax(dim=tuple(range(1, m.ndim))) if m.ndim > 1 else m)
        else:
            parts["max"].append(t.amax())
        if len(parts["sum"]) >= _FOLD:
            self._fold()
        self.count += size
        self.samples += shape[0] if shape else 1
        self.updates += 1
        self._hist = t

    def _fold(self):
        from .._functions import maximum, stack
        for key, values in self._parts.items():
            if not values:
                continue
            stacked = stack(values)
            if key == "max":
                part = stacked.amax(dim=0)
                self._acc[key] = part if key not in self._acc else maximum(self._acc[key], part)
            else:
                part = stacked.sum() if key == "nonpos" else stacked.double().sum()
                self._acc[key] = part if key not in self._acc else self._acc[key] + part
            values.clear()

    def summary(self, bins=None):
        """A dict of floats (and histogram arrays), or None before any update:
        mean, std (population), norm (L2 norm of everything seen), rms,
        norm_per_sample (root mean squared per-sample norm), max, count,
        hist and edges (numpy histogram of the last tensor seen); for unit
        streams also zero_fraction (share of values <= 0), dead_units and
        dead_fraction (units never positive) and units. The histogram is of
        at most HIST_VALUES evenly strided values of the last tensor."""
        if self.count == 0:
            return None
        self._fold()
        self._fold_tops()
        n = self.count
        acc = self._acc
        total = self._sum + (float(acc["sum"].item()) if "sum" in acc else 0.0)
        sumsq = self._sumsq + (float(acc["sumsq"].item()) if "sumsq" in acc else 0.0)
        nonpos = self._nonpos + (int(acc["nonpos"].item()) if "nonpos" in acc else 0)
        tops = [np.asarray(x, dtype=np.float64).reshape(-1) for x in
                (self._max, acc["max"].detach().cpu().double().numpy() if "max" in acc else None) if x is not None]
        top = tops[0] if len(tops) == 1 else np.maximum(tops[0], tops[1])
        mean = total / n
        var = max(sumsq / n - mean * mean, 0.0)
        hist, edges = histogram(self._hist, self.bins if bins is None else bins, max_values=HIST_VALUES)
        out = {"mean": mean, "std": math.sqrt(var), "norm": math.sqrt(sumsq), "rms": math.sqrt(sumsq / n),
               "norm_per_sample": math.sqrt(sumsq / max(self.samples, 1)), "max": float(top.max()), "count": n}
        if self.units:
            dead = int(np.count_nonzero(top <= 0))
            out.update({"zero_fraction": nonpos / n, "dead_fraction": dead / top.size,
                        "dead_units": dead, "units": int(top.size)})
        out.update({"hist": hist, "edges": edges})
        return out


def _zero_like(t):
    from .._creation import zeros
    return zeros((), dtype=t.dtype, device=t.device)


def histogram(t, bins=30, max_values=None):
    """(counts, edges) of the finite values of a tensor (or numpy array) as
    numpy arrays (int64, float64). max_values: histogram an evenly strided
    sample of at most this many values (``flat[::ceil(n / max_values)]``)
    instead of all of them."""
    a = np.asarray(t.detach().cpu().numpy() if isinstance(t, Tensor) else t).reshape(-1)
    if max_values is not None and a.size > max_values:
        a = a[::-(-a.size // max_values)]
    a = a.astype(np.float64, copy=False)  # nothing below writes to it
    finite = np.isfinite(a)
    if not finite.all():
        a = a[finite]
    if a.size == 0:
        return np.zeros(bins, dtype=np.int64), np.linspace(0.0, 1.0, bins + 1)
    counts, edges = np.histogram(a, bins=bins)
    return counts.astype(np.int64), edges
