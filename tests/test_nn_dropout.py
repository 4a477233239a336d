"""F.dropout and the channel-wise dropout1d/2d/3d: the fraction zeroed is
near p, kept elements are scaled by exactly 1/(1-p), masks are reproducible
under gn.manual_seed, the gradient is mask·scale, and the p = 0, p = 1,
evaluation and in-place cases behave as torch's."""
import numpy as np
import pytest

import glassnet as gn
import glassnet.nn.functional as F

DTYPES = [np.float32, np.float64]


def scale_of(p, dtype):
    # torch rounds the multiplier in the tensor's dtype: 1 / (1 - p).
    return dtype(1) / dtype(1 - p)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_statistics_and_exact_scaling(rng, dtype, p):
    x = rng.uniform(0.5, 2.0, size=(200, 300)).astype(dtype)  # no zeros: a zero output means dropped
    out = F.dropout(gn.tensor(x), p, training=True).numpy()
    dropped = out == 0
    n = x.size
    # Binomial(n, p): 5 standard deviations.
    assert abs(dropped.mean() - p) < 5 * np.sqrt(p * (1 - p) / n)
    np.testing.assert_array_equal(out[~dropped], x[~dropped] * scale_of(p, dtype))
    assert out.dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout_gradient_is_mask_times_scale(rng, dtype):
    p = 0.3
    x = gn.tensor(rng.uniform(0.5, 2.0, size=(50, 40)).astype(dtype), requires_grad=True)
    out = F.dropout(x, p)
    g = rng.standard_normal((50, 40)).astype(dtype)
    out.backward(gn.tensor(g))
    kept = out.detach().numpy() != 0
    expected = np.where(kept, g * scale_of(p, dtype), 0).astype(dtype)
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_dropout_reproducible_under_manual_seed(rng):
    x = gn.tensor(rng.standard_normal((64, 33)))
    gn.manual_seed(1234)
    a = F.dropout(x, 0.5).numpy()
    b = F.dropout(x, 0.5).numpy()
    gn.manual_seed(1234)
    a2 = F.dropout(x, 0.5).numpy()
    b2 = F.dropout(x, 0.5).numpy()
    np.testing.assert_array_equal(a, a2)
    np.testing.assert_array_equal(b, b2)
    assert not np.array_equal(a == 0, b == 0)  # consecutive calls draw fresh masks
    gn.manual_seed(99)
    assert not np.array_equal(F.dropout(x, 0.5).numpy() == 0, a == 0)


def test_dropout_mask_independent_of_thread_count(rng):
    x = gn.tensor(rng.standard_normal((512, 512)).astype(np.float32))
    threads = gn.get_num_threads()
    try:
        gn.set_num_threads(1)
        gn.manual_seed(7)
        one = F.dropout(x, 0.4).numpy()
        gn.set_num_threads(4)
        gn.manual_seed(7)
        four = F.dropout(x, 0.4).numpy()
    finally:
        gn.set_num_threads(threads)
    np.testing.assert_array_equal(one, four)


def test_dropout_edge_probabilities(rng):
    x = gn.tensor(rng.standard_normal((10, 10)), requires_grad=True)
    assert F.dropout(x, 0.0) is x  # torch returns the input itself
    assert F.dropout(x, 0.7, training=False) is x
    out = F.dropout(x, 1.0)
    np.testing.assert_array_equal(out.detach().numpy(), 0)
    out.backward(gn.ones(10, 10, dtype=gn.float64))
    np.testing.assert_array_equal(x.grad.numpy(), 0)
    # As torch, p = 1 multiplies by zero: NaN stays NaN.
    y = F.dropout(gn.tensor([float("nan"), 1.0]), 1.0).numpy()
    assert np.isnan(y[0]) and y[1] == 0
    empty = gn.zeros(0, 3)
    assert tuple(F.dropout(empty, 0.5).shape) == (0, 3)


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan")])
def test_dropout_rejects_bad_probability(p):
    for fn in (F.dropout, F.dropout1d, F.dropout2d, F.dropout3d):
        shape = {F.dropout1d: (2, 3, 4), F.dropout3d: (2, 3, 2, 2, 2)}.get(fn, (2, 3, 4, 4))
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
            fn(gn.ones(*shape), p)


def test_dropout_matches_torch_api_errors():
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError):
        torch.nn.functional.dropout(torch.ones(3), 1.5)
    with pytest.raises(ValueError):
        F.dropout(gn.ones(3), 1.5)


def test_dropout_inplace(rng):
    x = rng.uniform(0.5, 2.0, size=(30, 30))
    t = gn.tensor(x)
    out = F.dropout(t, 0.5, inplace=True)
    assert out is t
    got = t.numpy()
    kept = got != 0
    np.testing.assert_array_equal(got[kept], x[kept] * 2.0)
    assert 0 < kept.mean() < 1
    # A strided view is written through to its base.
    base = gn.tensor(rng.uniform(0.5, 2.0, size=(8, 8)))
    before = base.numpy().copy()
    F.dropout(base[:, ::2], 0.5, inplace=True)
    after = base.numpy()
    np.testing.assert_array_equal(after[:, 1::2], before[:, 1::2])
    changed = after[:, ::2]
    assert np.all((changed == 0) | (changed == before[:, ::2] * 2))
    # In place on a leaf that requires grad is refused, as every in-place op.
    leaf = gn.ones(3, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        F.dropout(leaf, 0.5, inplace=True)


def test_dropout_non_contiguous_input(rng):
    x = rng.uniform(0.5, 2.0, size=(20, 40))
    t = gn.tensor(x, requires_grad=True)
    view = t.t()[::2]
    out = F.dropout(view, 0.25)
    kept = out.detach().numpy() != 0
    np.testing.assert_array_equal(out.detach().numpy()[kept], x.T[::2][kept] * (1 / 0.75))
    out.backward(gn.ones(*out.shape, dtype=gn.float64))
    expected = np.zeros_like(x.T)
    expected[::2] = np.where(kept, 1 / 0.75, 0)
    np.testing.assert_array_equal(t.grad.numpy(), expected.T)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout2d_zeroes_whole_channels(rng, dtype):
    p = 0.5
    x = rng.uniform(0.5, 2.0, size=(16, 32, 5, 4)).astype(dtype)
    t = gn.tensor(x, requires_grad=True)
    out = F.dropout2d(t, p)
    o = out.detach().numpy()
    channel_dropped = (o == 0).all(axis=(2, 3))
    channel_kept = (o != 0).all(axis=(2, 3))
    assert np.all(channel_dropped | channel_kept)  # never a partly zeroed channel
    assert abs(channel_dropped.mean() - p) < 5 * np.sqrt(p * (1 - p) / channel_dropped.size)
    np.testing.assert_array_equal(o[channel_kept], x[channel_kept] * scale_of(p, dtype))
    g = rng.standard_normal(x.shape).astype(dtype)
    out.backward(gn.tensor(g))
    expected = np.where(channel_kept[:, :, None, None], g * scale_of(p, dtype), 0).astype(dtype)
    np.testing.assert_array_equal(t.grad.numpy(), expected)


def test_dropout2d_three_dims_warns_like_torch(rng):
    x = gn.tensor(rng.uniform(0.5, 2, size=(4, 6, 10)))
    with pytest.warns(UserWarning, match="dropout2d: Received a 3D input"):
        o = F.dropout2d(x, 0.5).numpy()
    dropped = (o == 0).all(axis=2)
    assert np.all(dropped | (o != 0).all(axis=2))  # (N, C, L): channels of length L


def test_dropout1d_and_3d_channel_layouts(rng):
    # Unbatched (C, L): one decision per channel.
    o = F.dropout1d(gn.tensor(rng.uniform(0.5, 2, size=(40, 7))), 0.5).numpy()
    assert np.all((o == 0).all(axis=1) | (o != 0).all(axis=1))
    o = F.dropout1d(gn.tensor(rng.uniform(0.5, 2, size=(3, 40, 7))), 0.5).numpy()
    assert np.all((o == 0).all(axis=2) | (o != 0).all(axis=2))
    o = F.dropout3d(gn.tensor(rng.uniform(0.5, 2, size=(2, 20, 2, 3, 2))), 0.5).numpy()
    assert np.all((o == 0).all(axis=(2, 3, 4)) | (o != 0).all(axis=(2, 3, 4)))
    o = F.dropout3d(gn.tensor(rng.uniform(0.5, 2, size=(20, 2, 3, 2))), 0.5).numpy()
    assert np.all((o == 0).all(axis=(1, 2, 3)) | (o != 0).all(axis=(1, 2, 3)))
    with pytest.raises(ValueError, match=r"\[dropout1d\] expected a 2-D or 3-D input, got shape \(2, 3, 4, 5\)"):
        F.dropout1d(gn.ones(2, 3, 4, 5))


def test_dropout_gradcheck_with_fixed_mask(rng):
    x = gn.tensor(rng.standard_normal((4, 5)), requires_grad=True)

    def fn(t):
        gn.manual_seed(5)  # the same mask on every call
        return F.dropout(t, 0.4)

    assert gn.autograd.gradcheck(fn, (x,))


def test_dropout_double_backward(rng):
    x = gn.tensor(rng.standard_normal((6, 5)), requires_grad=True)
    y = F.dropout(x, 0.5)
    (g,) = gn.autograd.grad(y * y, [x], grad_outputs=[gn.ones(6, 5, dtype=gn.float64)], create_graph=True)
    kept = (y.detach().numpy() != 0)
    # d/dx (m·x)² = 2·m²·x, and its derivative with respect to x is 2·m².
    np.testing.assert_allclose(g.detach().numpy(), 2 * kept * 4.0 * x.detach().numpy(), rtol=1e-12)
    g.backward(gn.ones(6, 5, dtype=gn.float64))
    np.testing.assert_allclose(x.grad.numpy(), 2 * kept * 4.0, rtol=1e-12)


def test_dropout_backward_kernel_rejects_a_mask_that_does_not_fit():
    from glassnet import _C

    grad = _C.from_numpy(np.ones((4, 3, 2)))
    with pytest.raises(ValueError, match=r"\[dropout_backward\] mask of shape \(4, 2, 1\) does not fit grad of shape"):
        _C.dropout_backward(grad, _C.from_numpy(np.ones((4, 2, 1), bool)), 0.5)
    with pytest.raises(ValueError, match=r"\[dropout_backward\] expected a bool mask"):
        _C.dropout_backward(grad, _C.from_numpy(np.ones((4, 3, 2))), 0.5)
    with pytest.raises(ValueError, match=r"\[dropout\] mask_dims=4 out of range"):
        _C.dropout_forward(grad, 0.5, 4)
