"""Pooling and padding: max_pool1d/2d (with indices), avg_pool1d/2d,
adaptive_avg_pool1d/2d and F.pad against torch (forward and input gradient),
gradcheck and double backward in float64, the layers, and bad input."""
import numpy as np
import pytest

import glassnet as gn
import glassnet.nn.functional as F
from glassnet.nn.modules.pooling import (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d,
                                         MaxPool2d)
from nn_parity import parity

torch = pytest.importorskip("torch")
TF = torch.nn.functional
DTYPES = [np.float32, np.float64]


def _x(shape, dtype, rng):
    return rng.standard_normal(shape).astype(dtype)


# (shape, kernel, stride, padding, dilation, ceil_mode)
MAX_CASES = [
    ((2, 3, 8, 8), 2, None, 0, 1, False),
    ((1, 2, 7, 9), 3, 2, 1, 1, False),
    ((2, 2, 7, 9), 3, 2, 1, 1, True),
    ((2, 1, 10, 11), (3, 2), (2, 3), (1, 1), (2, 1), True),
    ((3, 2, 5, 5), 5, 1, 2, 1, False),
    ((0, 2, 4, 4), 2, 2, 0, 1, False),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", MAX_CASES)
def test_max_pool2d_matches_torch(case, dtype, rng):
    shape, k, s, p, d, ceil = case
    # Distinct values: ties would make the argmax (and so the gradient) ambiguous.
    x = rng.permutation(np.prod(shape)).reshape(shape).astype(dtype)
    parity(lambda x: F.max_pool2d(x, k, s, p, d, ceil), lambda x: TF.max_pool2d(x, k, s, p, d, ceil), [x], dtype,
           rng)
    ours = F.max_pool2d(gn.tensor(x), k, s, p, d, ceil, return_indices=True)[1]
    ref = TF.max_pool2d(torch.tensor(x), k, s, p, d, ceil, return_indices=True)[1]
    np.testing.assert_array_equal(ours.numpy(), ref.numpy())
    assert ours.dtype == gn.int64


def test_max_pool2d_non_contiguous_and_unbatched(rng):
    x = rng.permutation(2 * 3 * 6 * 7).reshape(2, 3, 7, 6).astype(np.float64)
    parity(lambda x: F.max_pool2d(x, 3, 2, 1), lambda x: TF.max_pool2d(x, 3, 2, 1), [x], np.float64, rng,
           views=[lambda t: t.transpose(-1, -2)])
    x3 = rng.permutation(3 * 6 * 6).reshape(3, 6, 6).astype(np.float64)
    parity(lambda x: F.max_pool2d(x, 2), lambda x: TF.max_pool2d(x, 2), [x3], np.float64, rng)


def test_max_pool2d_propagates_nan_and_infinity():
    x = np.full((1, 1, 4, 4), -np.inf)
    x[0, 0, 0, 1] = np.nan
    out = F.max_pool2d(gn.tensor(x), 2).numpy()
    ref = TF.max_pool2d(torch.tensor(x), 2).numpy()
    np.testing.assert_array_equal(np.isnan(out), np.isnan(ref))
    np.testing.assert_array_equal(out[~np.isnan(out)], ref[~np.isnan(ref)])


@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pool1d_matches_torch(dtype, rng):
    x = rng.permutation(2 * 3 * 11).reshape(2, 3, 11).astype(dtype)
    for args in [(3,), (3, 2, 1), (2, 2, 0, 2, True)]:
        parity(lambda x: F.max_pool1d(x, *args), lambda x: TF.max_pool1d(x, *args), [x], dtype, rng)
    ours = F.max_pool1d(gn.tensor(x), 3, 2, 1, return_indices=True)[1].numpy()
    np.testing.assert_array_equal(ours, TF.max_pool1d(torch.tensor(x), 3, 2, 1, return_indices=True)[1].numpy())


# (shape, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
AVG_CASES = [
    ((2, 3, 8, 8), 2, None, 0, False, True, None),
    ((1, 2, 7, 9), 3, 2, 1, False, True, None),
    ((1, 2, 7, 9), 3, 2, 1, False, False, None),
    ((2, 2, 7, 9), 3, 2, 1, True, True, None),
    ((2, 2, 7, 9), 3, 2, 1, True, False, None),
    ((2, 1, 10, 11), (3, 2), (2, 3), (1, 1), True, False, None),
    ((2, 2, 6, 6), 3, 2, 1, False, True, 4),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", AVG_CASES)
def test_avg_pool2d_matches_torch(case, dtype, rng):
    shape, k, s, p, ceil, cip, div = case
    parity(lambda x: F.avg_pool2d(x, k, s, p, ceil, cip, div), lambda x: TF.avg_pool2d(x, k, s, p, ceil, cip, div),
           [_x(shape, dtype, rng)], dtype, rng)


@pytest.mark.parametrize("dtype", DTYPES)
def test_avg_pool1d_matches_torch(dtype, rng):
    x = _x((2, 3, 11), dtype, rng)
    for args in [(3,), (3, 2, 1), (3, 2, 1, True, False)]:
        parity(lambda x: F.avg_pool1d(x, *args), lambda x: TF.avg_pool1d(x, *args), [x], dtype, rng)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,size", [((2, 3, 8, 8), 1), ((2, 3, 7, 9), (3, 4)), ((1, 2, 5, 5), (7, 2)),
                                        ((2, 2, 6, 10), (None, 3)), ((3, 5, 5), 2)])
def test_adaptive_avg_pool2d_matches_torch(shape, size, dtype, rng):
    parity(lambda x: F.adaptive_avg_pool2d(x, size), lambda x: TF.adaptive_avg_pool2d(x, size),
           [_x(shape, dtype, rng)], dtype, rng)


def test_adaptive_avg_pool1d_matches_torch(rng):
    parity(lambda x: F.adaptive_avg_pool1d(x, 4), lambda x: TF.adaptive_avg_pool1d(x, 4),
           [_x((2, 3, 10), np.float64, rng)], np.float64, rng)


# (shape, pad, mode)
PAD_CASES = [
    ((2, 3, 4), (1, 2), "constant"),
    ((2, 3, 4, 5), (1, 2, 0, 3), "constant"),
    ((2, 3, 4, 5), (-1, 2, 1, -2), "constant"),
    ((3, 4), (1, 1, 2, 0), "constant"),
    ((2, 3, 4, 5), (1, 1, 2, 2, 1, 0), "constant"),
    ((2, 3, 5), (2, 3), "reflect"),
    ((2, 3, 4, 5), (1, 2, 3, 1), "reflect"),
    ((1, 2, 3, 4, 5), (1, 2, 2, 1, 1, 1), "reflect"),
    ((2, 3, 5), (2, 4), "replicate"),
    ((2, 3, 4, 5), (3, 0, 1, 4), "replicate"),
    ((1, 2, 3, 4, 5), (1, 2, 0, 1, 3, 1), "replicate"),
    ((2, 3, 4, 5), (2, 1, 4, 3), "circular"),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,pad,mode", PAD_CASES)
def test_pad_matches_torch(shape, pad, mode, dtype, rng):
    parity(lambda x: F.pad(x, pad, mode), lambda x: TF.pad(x, pad, mode), [_x(shape, dtype, rng)], dtype, rng)


def test_pad_value_non_contiguous_and_int(rng):
    x = _x((2, 5, 4), np.float64, rng)
    parity(lambda x: F.pad(x, (1, 2, 3, 0), value=2.5), lambda x: TF.pad(x, (1, 2, 3, 0), value=2.5), [x],
           np.float64, rng, views=[lambda t: t.transpose(-1, -2)])
    i = np.arange(12).reshape(3, 4)
    np.testing.assert_array_equal(F.pad(gn.tensor(i), (1, 1), value=7).numpy(),
                                  TF.pad(torch.tensor(i), (1, 1), value=7).numpy())


def _requires_grad(shape, rng):
    return gn.tensor(rng.standard_normal(shape), requires_grad=True)


@pytest.mark.parametrize("fn", [
    lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True),
    lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
    lambda x: F.adaptive_avg_pool2d(x, (3, 2)),
    lambda x: F.pad(x, (1, 2, 2, 1), mode="reflect"),
    lambda x: F.pad(x, (1, 2, 2, 1), mode="replicate"),
    lambda x: F.pad(x, (-1, 2, 2, 0), value=1.0),
])
def test_gradcheck(fn, rng):
    assert gn.autograd.gradcheck(fn, (_requires_grad((2, 2, 5, 6), rng),))


@pytest.mark.parametrize("name,args", [("max_pool2d", (3, 2, 1)), ("avg_pool2d", (3, 2, 1)),
                                       ("adaptive_avg_pool2d", ((3, 2),)), ("pad", ((1, 2, 2, 1), "reflect"))])
def test_double_backward_matches_torch(name, args, rng):
    x = rng.permutation(2 * 2 * 5 * 6).reshape(2, 2, 5, 6).astype(np.float64) / 10
    w = rng.standard_normal(x.shape)
    results = []
    for lib, fn in ((gn, getattr(F, name)), (torch, getattr(TF, name))):
        xs = lib.tensor(x, requires_grad=True)
        y = fn(xs, *args)
        (g,) = lib.autograd.grad((y * y).sum(), (xs,), create_graph=True)
        (g * lib.tensor(w)).sum().backward()
        results.append(xs.grad.numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-10, atol=1e-12)


def test_layers_match_functional(rng):
    x = gn.tensor(rng.standard_normal((2, 3, 9, 8)))
    x1 = gn.tensor(rng.standard_normal((2, 3, 9)))
    pairs = [(MaxPool2d(3, 2, 1), lambda t: F.max_pool2d(t, 3, 2, 1), x),
             (AvgPool2d(2, count_include_pad=False), lambda t: F.avg_pool2d(t, 2), x),
             (AdaptiveAvgPool2d((2, 3)), lambda t: F.adaptive_avg_pool2d(t, (2, 3)), x),
             (MaxPool1d(2), lambda t: F.max_pool1d(t, 2), x1),
             (AvgPool1d(3, 2, 1), lambda t: F.avg_pool1d(t, 3, 2, 1), x1),
             (AdaptiveAvgPool1d(4), lambda t: F.adaptive_avg_pool1d(t, 4), x1)]
    for layer, fn, inp in pairs:
        np.testing.assert_array_equal(layer(inp).numpy(), fn(inp).numpy())
    out, idx = MaxPool2d(2, return_indices=True)(x)
    assert tuple(out.shape) == tuple(idx.shape) == (2, 3, 4, 4)
    assert repr(MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    assert list(MaxPool2d(2).state_dict()) == []


def test_bad_input():
    with pytest.raises(ValueError, match=r"expected a 3-D \(unbatched\) or 4-D \(batched\) input.*\(4, 4\)"):
        F.max_pool2d(gn.zeros(4, 4), 2)
    with pytest.raises(ValueError, match=r"kernel size \(5, 5\) is larger than the padded input size \(4, 4\)"):
        F.max_pool2d(gn.zeros(1, 1, 4, 4), 5)
    with pytest.raises(ValueError, match="at most half of the kernel size"):
        F.avg_pool2d(gn.zeros(1, 1, 4, 4), 2, padding=2)
    with pytest.raises(ValueError, match="positive output_size"):
        F.adaptive_avg_pool2d(gn.zeros(1, 1, 4, 4), 0)
    with pytest.raises(ValueError, match=r"reflect padding \(4, 1\).*too large"):
        F.pad(gn.zeros(1, 2, 4), (4, 1), mode="reflect")
    with pytest.raises(ValueError, match="must be even"):
        F.pad(gn.zeros(1, 2, 4), (1,))
    with pytest.raises(ValueError, match="unknown mode"):
        F.pad(gn.zeros(1, 2, 4), (1, 1), mode="wrap")
    with pytest.raises(TypeError, match="kernel_size"):
        F.max_pool2d(gn.zeros(1, 1, 4, 4), (2, 2, 2))
