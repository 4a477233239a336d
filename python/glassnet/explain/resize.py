"""Bilinear resizing of (..., H, W) numpy maps, with the half-pixel centres of
torch's ``interpolate(mode="bilinear", align_corners=False)``."""
import numpy as np


def _axis(n_in, n_out):
    # Output pixel i has its centre at (i + 0.5) · n_in / n_out - 0.5 in input
    # coordinates, clamped to the first pixel below 0 as torch does.
    pos = (np.arange(n_out, dtype=np.float64) + 0.5) * (n_in / n_out) - 0.5
    pos = np.maximum(pos, 0.0)
    lo = np.minimum(np.floor(pos).astype(np.int64), n_in - 1)
    hi = np.minimum(lo + 1, n_in - 1)
    return lo, hi, pos - lo


def resize_bilinear(a, size):
    """Resize the last two dims of `a` to `size` = (H, W); float64 result."""
    a = np.asarray(a, dtype=np.float64)
    h, w = int(size[0]), int(size[1])
    y0, y1, fy = _axis(a.shape[-2], h)
    x0, x1, fx = _axis(a.shape[-1], w)
    rows = a[..., y0, :] * (1 - fy)[:, None] + a[..., y1, :] * fy[:, None]
    return rows[..., x0] * (1 - fx) + rows[..., x1] * fx
