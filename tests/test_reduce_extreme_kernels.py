"""The hand-vectorised float32 max/min row kernels (src/ops/reduce_avx2.cpp and,
on AVX-512 CPUs, src/ops/reduce_avx512.cpp) against numpy: every length
around the vector and unroll widths (64-element blocks, 16-wide vectors, masked
tails), NaN in the body, the unrolled block and the tail, infinities, and rows
of a 2-D tensor."""
import numpy as np
import pytest

import glassnet as gn

LENGTHS = list(range(1, 140)) + [255, 256, 257, 1000, 4099, 1 << 20]


@pytest.mark.parametrize("n", LENGTHS)
@pytest.mark.parametrize("op", ["max", "min"])
def test_extreme_matches_numpy(n, op):
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n).astype(np.float32) * 100
    got = getattr(gn.from_numpy(x), op)().item()
    assert got == getattr(np, op)(x)


@pytest.mark.parametrize("n", [1, 15, 16, 17, 63, 64, 65, 100, 129, 1000])
@pytest.mark.parametrize("op", ["max", "min"])
def test_nan_anywhere_propagates(n, op):
    rng = np.random.default_rng(7)
    for pos in sorted({0, n // 2, n - 1, max(0, n - 17), min(n - 1, 63)}):
        x = rng.standard_normal(n).astype(np.float32)
        x[pos] = np.nan
        assert np.isnan(getattr(gn.from_numpy(x), op)().item()), (n, pos)


@pytest.mark.parametrize("op", ["max", "min"])
def test_infinities_and_extreme_position(op):
    for n in [16, 64, 65, 200]:
        for pos in range(n):
            x = np.zeros(n, np.float32)
            x[pos] = np.inf if op == "max" else -np.inf
            assert getattr(gn.from_numpy(x), op)().item() == x[pos]
        x = np.full(n, -np.inf if op == "max" else np.inf, np.float32)
        assert getattr(gn.from_numpy(x), op)().item() == x[0]


@pytest.mark.parametrize("shape", [(3, 1000), (64, 65), (7, 16)])
def test_rows_of_a_matrix(shape):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(np.float32)
    x[1, shape[1] // 3] = np.nan
    np.testing.assert_array_equal(gn.from_numpy(x).amax(1).numpy(), x.max(1))
    np.testing.assert_array_equal(gn.from_numpy(x).amin(1).numpy(), x.min(1))
