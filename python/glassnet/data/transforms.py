"""Transforms for one sample (an image of shape (H, W) or (C, H, W), as a
glassnet tensor or a numpy array); each returns the same kind it was given.

Random transforms draw from glassnet's global generator (so
``gn.manual_seed`` fixes them) unless built with their own `seed`. One call
draws one set of parameters, applied to the whole input, as in torchvision.
The geometry is done with whole-array numpy operations.
"""
import math
import numbers

import numpy as np

from .._tensor import Tensor


def _to_numpy(x):
    if isinstance(x, Tensor):
        return x.detach().cpu().numpy(), True
    return np.asarray(x), False


def _back(a, was_tensor, like=None):
    if not was_tensor:
        return a
    from .._creation import from_numpy
    t = from_numpy(np.asarray(a, order="C"))
    if like is not None and like.device != t.device:
        t = t.to(like.device)
    return t


def _check_image(a, op):
    if a.ndim not in (2, 3):
        raise ValueError(f"[{op}] expects an image of shape (H, W) or (C, H, W), got shape {tuple(a.shape)}")


class _Random:
    """Uniform and normal draws from a transform's own numpy stream or from glassnet's."""

    def __init__(self, seed):
        self._rng = None if seed is None else np.random.default_rng(seed)

    def uniform(self, n):
        if self._rng is not None:
            return self._rng.random(n)
        from .. import _dtype
        from .._creation import rand
        return rand(n, dtype=_dtype.float64).numpy()

    def normal(self, shape):
        if self._rng is not None:
            return self._rng.standard_normal(shape)
        from .. import _dtype
        from .._creation import randn
        return randn(*shape, dtype=_dtype.float64).numpy()


class Compose:
    """Apply transforms one after another."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self):
        return "Compose(" + ", ".join(repr(t) for t in self.transforms) + ")"


class Normalize:
    """(x - mean) / std per channel (dim -3 of a (C, H, W) image; scalars for any shape)."""

    def __init__(self, mean, std):
        self.mean = np.atleast_1d(np.asarray(mean, dtype=np.float64))
        self.std = np.atleast_1d(np.asarray(std, dtype=np.float64))
        if np.any(self.std == 0):
            raise ValueError(f"[Normalize] std must be non-zero, got {std}")

    def __call__(self, x):
        a, was_tensor = _to_numpy(x)
        if self.mean.size > 1 or self.std.size > 1:
            if a.ndim < 3 or a.shape[-3] not in (self.mean.size, self.std.size):
                raise ValueError(f"[Normalize] {self.mean.size} channel means for an input of shape {tuple(a.shape)}")
            shape = (-1, 1, 1)
        else:
            shape = ()
        dtype = a.dtype if np.issubdtype(a.dtype, np.floating) else np.float32
        out = ((a - self.mean.reshape(shape)) / self.std.reshape(shape)).astype(dtype, copy=False)
        return _back(out, was_tensor, x if was_tensor else None)

    def __repr__(self):
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"


class RandomCrop:
    """Pad by `padding` pixels (zeros) and cut a random `size` window."""

    def __init__(self, size, padding=0, fill=0.0, seed=None):
        self.size = (size, size) if isinstance(size, numbers.Integral) else tuple(size)
        self.padding = int(padding)
        self.fill = fill
        self._random = _Random(seed)

    def __call__(self, x):
        a, was_tensor = _to_numpy(x)
        _check_image(a, "RandomCrop")
        p = self.padding
        if p:
            pad = [(0, 0)] * (a.ndim - 2) + [(p, p), (p, p)]
            a = np.pad(a, pad, constant_values=self.fill)
        h, w = a.shape[-2:]
        th, tw = self.size
        if th > h or tw > w:
            raise ValueError(f"[RandomCrop] crop {self.size} is larger than the padded image {(h, w)}")
        u = self._random.uniform(2)
        top = min(int(u[0] * (h - th + 1)), h - th)
        left = min(int(u[1] * (w - tw + 1)), w - tw)
        return _back(a[..., top:top + th, left:left + tw], was_tensor, x if was_tensor else None)


class RandomHorizontalFlip:
    """Mirror left-right with probability p."""

    def __init__(self, p=0.5, seed=None):
        self.p = float(p)
        self._random = _Random(seed)

    def __call__(self, x):
        if self._random.uniform(1)[0] >= self.p:
            return x
        a, was_tensor = _to_numpy(x)
        _check_image(a, "RandomHorizontalFlip")
        return _back(a[..., ::-1], was_tensor, x if was_tensor else None)


class RandomAffine:
    """Random rotation (degrees, ±), shift (fraction of height/width, ±) and
    scale (a (lo, hi) range) about the image centre, sampled with bilinear
    interpolation; pixels from outside the image are `fill`."""

    def __init__(self, degrees=0.0, translate=None, scale=None, fill=0.0, seed=None):
        self.degrees = (-float(degrees), float(degrees)) if isinstance(degrees, numbers.Real) else tuple(degrees)
        self.translate = tuple(translate) if translate is not None else (0.0, 0.0)
        self.scale = tuple(scale) if scale is not None else (1.0, 1.0)
        if self.scale[0] <= 0 or self.scale[1] < self.scale[0]:
            raise ValueError(f"[RandomAffine] scale must be a range 0 < lo <= hi, got {scale}")
        self.fill = float(fill)
        self._random = _Random(seed)

    def __call__(self, x):
        a, was_tensor = _to_numpy(x)
        _check_image(a, "RandomAffine")
        h, w = a.shape[-2:]
        u = self._random.uniform(4)
        angle = math.radians(self.degrees[0] + u[0] * (self.degrees[1] - self.degrees[0]))
        dx = (2 * u[1] - 1) * self.translate[0] * w
        dy = (2 * u[2] - 1) * self.translate[1] * h
        s = self.scale[0] + u[3] * (self.scale[1] - self.scale[0])
        out = _affine(a, angle, dx, dy, s, self.fill)
        return _back(out.astype(a.dtype if np.issubdtype(a.dtype, np.floating) else np.float32, copy=False),
                     was_tensor, x if was_tensor else None)


def _affine(a, angle, dx, dy, s, fill):
    """Output pixel (i, j) reads the input at the inverse map of rotate-scale-shift about the centre."""
    h, w = a.shape[-2:]
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    ii, jj = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij")
    y, x = ii - cy - dy, jj - cx - dx
    cos, sin = math.cos(angle) / s, math.sin(angle) / s
    src_x = cos * x + sin * y + cx
    src_y = -sin * x + cos * y + cy
    x0, y0 = np.floor(src_x).astype(np.int64), np.floor(src_y).astype(np.int64)
    fx, fy = src_x - x0, src_y - y0
    padded = np.pad(a.astype(np.float64), [(0, 0)] * (a.ndim - 2) + [(1, 1), (1, 1)], constant_values=fill)

    def at(yy, xx):
        inside = (yy >= -1) & (yy <= h) & (xx >= -1) & (xx <= w)
        v = padded[..., np.clip(yy + 1, 0, h + 1), np.clip(xx + 1, 0, w + 1)]
        return np.where(inside, v, fill)

    return ((1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1))
            + fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1)))


class GaussianNoise:
    """Add N(mean, std²) noise."""

    def __init__(self, std=0.1, mean=0.0, seed=None):
        self.std = float(std)
        self.mean = float(mean)
        self._random = _Random(seed)

    def __call__(self, x):
        a, was_tensor = _to_numpy(x)
        dtype = a.dtype if np.issubdtype(a.dtype, np.floating) else np.float32
        out = (a + self.mean + self.std * self._random.normal(a.shape)).astype(dtype, copy=False)
        return _back(out, was_tensor, x if was_tensor else None)
