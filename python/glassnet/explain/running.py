"""RunningStats: statistics of a stream of tensors, reduced as they arrive.

A layer's outputs (or their gradients) over many batches are folded into a
few device scalars per batch (a float64 sum, the L2 norm, the count of
non-positive values, and the per-unit maximum), so nothing is copied, nothing
is kept but the last batch (for its histogram) and there is no host sync until
`summary()` is asked for. Four passes over each tensor, against the many a
forward and backward pass make, is what keeps recording statistics cheap.

Units are indexed by dim 1 (channels of (N, C, H, W), features of (N, F));
a unit is "dead" when it was never positive for any sample seen, which for a
ReLU layer means it passed no gradient for the whole stream.
"""
import math

import numpy as np

from .. import _dtype as dtypes


class RunningStats:
    def __init__(self, bins=30):
        self.bins = int(bins)
        self.reset()

    def reset(self):
        self.count = 0          # elements seen (from shapes: no sync)
        self.samples = 0        # batch entries seen (dim 0)
        self.updates = 0
        self._sum = None        # 0-d float64
        self._sumsq = None      # 0-d float64
        self._nonpos = None     # 0-d int64: values <= 0
        self._unit_max = None   # (units,)
        self.last = None        # the last tensor seen, for the histogram

    def update(self, t):
        """Fold tensor `t` (any shape, floating) into the statistics."""
        t = t.detach()
        if t.numel() == 0:
            return
        total = t.sum(dtype=dtypes.float64)
        sq = t.norm().double()
        sq = sq * sq
        nonpos = (t <= 0).sum()
        unit_max = t.amax(dim=tuple(d for d in range(t.ndim) if d != 1)) if t.ndim >= 2 else t.amax().reshape(1)
        if self._sum is None or self._unit_max.shape != unit_max.shape:
            if self._sum is not None:
                raise ValueError(f"[RunningStats] tensors of this stream have {self._unit_max.shape[0]} units "
                                 f"(dim 1) but one of shape {tuple(t.shape)} came")
            self._sum, self._sumsq, self._nonpos, self._unit_max = total, sq, nonpos, unit_max
        else:
            self._sum = self._sum + total
            self._sumsq = self._sumsq + sq
            self._nonpos = self._nonpos + nonpos
            from .._functions import maximum
            self._unit_max = maximum(self._unit_max, unit_max)
        self.count += t.numel()
        self.samples += t.shape[0] if t.ndim else 1
        self.updates += 1
        self.last = t

    def summary(self, bins=None):
        """A dict of floats (and histogram arrays): mean, std (population),
        norm (L2 norm of everything seen), rms, norm_per_sample (root mean
        squared per-sample norm), max, zero_fraction (share of values <= 0),
        dead_fraction and dead_units (units never positive), units, count,
        hist and edges (numpy histogram of the last tensor seen)."""
        if self._sum is None:
            return None
        n = self.count
        total = float(self._sum.item())
        sumsq = float(self._sumsq.item())
        mean = total / n
        var = max(sumsq / n - mean * mean, 0.0)
        unit_max = self._unit_max.detach().cpu().numpy()
        dead = int(np.count_nonzero(unit_max <= 0))
        hist, edges = histogram(self.last, self.bins if bins is None else bins)
        return {
            "mean": mean, "std": math.sqrt(var), "norm": math.sqrt(sumsq), "rms": math.sqrt(sumsq / n),
            "norm_per_sample": math.sqrt(sumsq / max(self.samples, 1)), "max": float(unit_max.max()),
            "zero_fraction": int(self._nonpos.item()) / n, "dead_fraction": dead / unit_max.size,
            "dead_units": dead, "units": int(unit_max.size), "count": n, "hist": hist, "edges": edges,
        }


def histogram(t, bins=30):
    """(counts, edges) of a tensor's finite values as numpy arrays (int64, float64)."""
    a = np.asarray(t.detach().cpu().numpy(), dtype=np.float64).ravel()
    a = a[np.isfinite(a)]
    if a.size == 0:
        return np.zeros(bins, dtype=np.int64), np.linspace(0.0, 1.0, bins + 1)
    counts, edges = np.histogram(a, bins=bins)
    return counts.astype(np.int64), edges
