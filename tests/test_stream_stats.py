"""_C.stream_stats, the one-pass statistics under glassnet.explain's
RunningStats: sum, sum of squares, count of values <= 0 and per-unit maxima
against numpy float64, over the row lengths that exercise the vector loops'
tails, both dtypes, empty tensors, NaN and bad input."""
import numpy as np
import pytest

import glassnet as gn
from glassnet import _C

SHAPES = [(32, 16, 8, 8), (64, 10), (64, 13), (5, 3, 7), (6, 5, 2, 2), (4, 9, 1, 1), (3, 2, 17), (1000,), (7,), (1, 1), (),
          (0, 4), (5, 3, 0), (600, 8)]


def _stats(a, per_unit):
    s, q, c, m = _C.stream_stats(gn.from_numpy(a)._impl, per_unit)
    return s, q, c, gn.Tensor._wrap(m).numpy()


def _reference_max(a, per_unit):
    if per_unit and a.ndim >= 2:
        if a.size == 0:
            return np.full(a.shape[1], -np.inf, dtype=a.dtype)
        return np.maximum.reduce(a.reshape(a.shape[0], a.shape[1], -1), axis=0).max(axis=1)
    return np.array([a.max() if a.size else -np.inf], dtype=a.dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("per_unit", [True, False], ids=["units", "global"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_matches_numpy(shape, per_unit, dtype, rng):
    a = rng.standard_normal(shape).astype(dtype)
    s, q, c, m = _stats(a, per_unit)
    a64 = a.astype(np.float64)
    assert s == pytest.approx(a64.sum(), rel=1e-6, abs=1e-4)
    assert q == pytest.approx((a64 * a64).sum(), rel=1e-6, abs=1e-6)
    assert c == int(np.count_nonzero(a <= 0))
    np.testing.assert_array_equal(m, _reference_max(a, per_unit))


def test_non_contiguous_input_reads_its_values(rng):
    a = rng.standard_normal((8, 6, 5)).astype(np.float32)
    t = gn.from_numpy(a).permute(1, 0, 2)  # (6, 8, 5), not contiguous
    s, _, c, m = _C.stream_stats(t._impl, True)
    b = np.ascontiguousarray(a.transpose(1, 0, 2))
    assert s == pytest.approx(b.astype(np.float64).sum(), rel=1e-6, abs=1e-5)
    assert c == int(np.count_nonzero(b <= 0))
    np.testing.assert_array_equal(gn.Tensor._wrap(m).numpy(), _reference_max(b, True))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nan_reaches_the_maximum_of_its_unit_only(dtype, rng):
    a = rng.standard_normal((4, 3, 19)).astype(dtype)
    a[2, 1, 11] = np.nan
    s, _, _, m = _stats(a, True)
    assert np.isnan(s)
    assert np.isnan(m[1]) and not np.isnan(m[[0, 2]]).any()
    np.testing.assert_array_equal(m[[0, 2]], _reference_max(a, True)[[0, 2]])


def test_long_streams_keep_double_precision():
    # 4M values of 0.1, where every rounding errs the same way: one float32
    # running sum would be off by about 4%; 128 terms per lane before each
    # fold into double keep it within a few 1e-6.
    a = np.full((64, 16, 64, 64), 0.1, dtype=np.float32)
    s, q, c, _ = _stats(a, True)
    n = a.size
    assert s == pytest.approx(n * float(np.float32(0.1)), rel=3e-6)
    assert q == pytest.approx(n * float(np.float32(0.1)) ** 2, rel=3e-6)
    assert c == 0


def test_bad_input():
    with pytest.raises(TypeError, match=r"\[stream_stats\].*int64"):
        _C.stream_stats(gn.arange(6)._impl, True)
