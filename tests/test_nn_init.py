"""nn.init: each distribution's bounds and moments against its formula,
fan computation and gains against torch, reproducibility from gn.manual_seed."""
import math

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn
from glassnet.nn import init


def _values(t):
    return t.detach().numpy().astype(np.float64).ravel()


@pytest.mark.parametrize("shape, fans", [((3, 5), (5, 3)), ((8, 4, 3, 3), (36, 72)), ((2, 6, 5), (30, 10)),
                                         ((7, 0), (0, 7))])
def test_fan_in_and_fan_out(shape, fans):
    assert init._calculate_fan_in_and_fan_out(gn.empty(*shape)) == fans


def test_fan_needs_two_dims():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(gn.empty(4))


def test_fans_match_torch():
    torch = pytest.importorskip("torch")
    from torch.nn import init as tinit

    for shape in [(3, 5), (8, 4, 3, 3), (2, 6, 5), (1, 1)]:
        assert init._calculate_fan_in_and_fan_out(gn.empty(*shape)) == \
            tinit._calculate_fan_in_and_fan_out(torch.empty(*shape))


@pytest.mark.parametrize("name, param", [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None),
                                         ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2),
                                         ("leaky_relu", 3), ("selu", None), ("conv_transpose1d", None)])
def test_calculate_gain_matches_torch(name, param):
    torch = pytest.importorskip("torch")
    assert init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param), rel=1e-12)


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", "x")
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)


def _check_uniform(values, bound):
    assert values.min() >= -bound and values.max() <= bound
    # A uniform on [-b, b] has std b / sqrt(3); fills most of the interval.
    assert values.std() == pytest.approx(bound / math.sqrt(3), rel=0.03)
    assert abs(values.mean()) < 0.02 * bound
    assert values.min() < -0.95 * bound and values.max() > 0.95 * bound


def _check_normal(values, std, mean=0.0):
    assert values.mean() == pytest.approx(mean, abs=0.03 * std)
    assert values.std() == pytest.approx(std, rel=0.03)


def test_uniform_and_normal():
    t = init.uniform_(gn.empty(200, 100), -3.0, 5.0)
    v = _values(t)
    assert v.min() >= -3 and v.max() <= 5 and v.mean() == pytest.approx(1.0, abs=0.05)
    t = init.normal_(gn.empty(200, 100, dtype=gn.float64), 2.0, 0.5)
    assert t.dtype == gn.float64
    _check_normal(_values(t), 0.5, 2.0)


def test_constant_zeros_ones_eye():
    assert np.all(_values(init.constant_(gn.empty(3, 4), 0.25)) == 0.25)
    assert np.all(_values(init.zeros_(gn.ones(3))) == 0)
    assert np.all(_values(init.ones_(gn.zeros(3))) == 1)
    np.testing.assert_array_equal(init.eye_(gn.empty(3, 5)).numpy(), np.eye(3, 5))
    with pytest.raises(ValueError, match="2 dimensions"):
        init.eye_(gn.empty(2, 2, 2))


def test_init_runs_without_recording_a_graph():
    p = nn.Parameter(gn.empty(20, 30))
    for fn in (init.uniform_, init.normal_, init.xavier_uniform_, init.kaiming_normal_, init.orthogonal_,
               init.trunc_normal_, init.ones_):
        out = fn(p)
        assert out is p and p.is_leaf and p.requires_grad


@pytest.mark.parametrize("shape", [(300, 200), (64, 32, 3, 3)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_xavier(shape, gain):
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(gn.empty(*shape))
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    _check_uniform(_values(init.xavier_uniform_(gn.empty(*shape), gain=gain)), math.sqrt(3) * std)
    _check_normal(_values(init.xavier_normal_(gn.empty(*shape), gain=gain)), std)


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("nonlinearity, a", [("relu", 0), ("leaky_relu", 0), ("leaky_relu", math.sqrt(5)),
                                             ("tanh", 0), ("linear", 0)])
def test_kaiming(mode, nonlinearity, a):
    shape = (128, 64, 3, 3)
    fan_in, fan_out = 64 * 9, 128 * 9
    fan = fan_in if mode == "fan_in" else fan_out
    std = init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    t = init.kaiming_uniform_(gn.empty(*shape), a=a, mode=mode, nonlinearity=nonlinearity)
    _check_uniform(_values(t), math.sqrt(3) * std)
    t = init.kaiming_normal_(gn.empty(*shape), a=a, mode=mode, nonlinearity=nonlinearity)
    _check_normal(_values(t), std)


def test_kaiming_errors_and_zero_element():
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(gn.empty(3, 3), mode="fan_avg")
    with pytest.warns(UserWarning, match="zero-element"):
        init.kaiming_uniform_(gn.empty(0, 3))
    with pytest.raises(TypeError, match="glassnet Tensor"):
        init.kaiming_normal_(np.zeros((3, 3)))


@pytest.mark.parametrize("shape", [(6, 6), (4, 10), (10, 4), (8, 3, 2, 2)])
@pytest.mark.parametrize("dtype", [gn.float32, gn.float64])
def test_orthogonal(shape, dtype):
    t = init.orthogonal_(gn.empty(*shape, dtype=dtype), gain=2.0)
    assert t.dtype == dtype
    q = t.numpy().reshape(shape[0], -1).astype(np.float64) / 2.0
    rows, cols = q.shape
    gram = q @ q.T if rows <= cols else q.T @ q
    np.testing.assert_allclose(gram, np.eye(min(rows, cols)), atol=1e-5 if dtype == gn.float32 else 1e-12)
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(gn.empty(5))


@pytest.mark.parametrize("mean, std, a, b", [(0.0, 1.0, -2.0, 2.0), (1.0, 2.0, -1.0, 5.0), (0.0, 0.02, -0.04, 0.04),
                                             (0.0, 1.0, 1.5, 4.0)])
def test_trunc_normal_moments(mean, std, a, b):
    t = init.trunc_normal_(gn.empty(400, 500, dtype=gn.float64), mean, std, a, b)
    v = _values(t)
    assert v.min() >= a and v.max() <= b
    # Moments of the truncated normal, from the normal pdf and cdf.
    alpha, beta = (a - mean) / std, (b - mean) / std
    pdf = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda x: (1 + math.erf(x / math.sqrt(2))) / 2  # noqa: E731
    z = cdf(beta) - cdf(alpha)
    exp_mean = mean + std * (pdf(alpha) - pdf(beta)) / z
    exp_var = std ** 2 * (1 + (alpha * pdf(alpha) - beta * pdf(beta)) / z - ((pdf(alpha) - pdf(beta)) / z) ** 2)
    assert v.mean() == pytest.approx(exp_mean, abs=0.01 * std)
    assert v.std() == pytest.approx(math.sqrt(exp_var), rel=0.01)


def test_trunc_normal_float32_and_warning():
    v = _values(init.trunc_normal_(gn.empty(1000), std=0.02))
    assert np.all(np.abs(v) <= 2.0) and v.std() == pytest.approx(0.02, rel=0.1)
    with pytest.warns(UserWarning, match="more than 2 std"):
        init.trunc_normal_(gn.empty(10), mean=10.0, a=-1.0, b=1.0)
    with pytest.raises(ValueError, match="a < b"):
        init.trunc_normal_(gn.empty(10), a=1.0, b=-1.0)


def test_dirac_is_identity_convolution_weight():
    w = init.dirac_(gn.empty(4, 3, 3, 3))
    a = w.numpy()
    assert a.sum() == 3
    for d in range(3):
        assert a[d, d, 1, 1] == 1
    w2 = init.dirac_(gn.empty(4, 2, 3), groups=2).numpy()
    assert w2[0, 0, 1] == 1 and w2[1, 1, 1] == 1 and w2[2, 0, 1] == 1 and w2[3, 1, 1] == 1 and w2.sum() == 4


def test_sparse_zeroes_a_fraction_of_each_column():
    a = init.sparse_(gn.empty(10, 6), sparsity=0.3).numpy()
    assert np.all((a == 0).sum(axis=0) >= 3)


def test_seeded_reproducibility():
    gn.manual_seed(123)
    a = init.kaiming_uniform_(gn.empty(5, 7)).numpy().copy()
    b = init.trunc_normal_(gn.empty(5, 7)).numpy().copy()
    c = init.orthogonal_(gn.empty(5, 7)).numpy().copy()
    gn.manual_seed(123)
    np.testing.assert_array_equal(init.kaiming_uniform_(gn.empty(5, 7)).numpy(), a)
    np.testing.assert_array_equal(init.trunc_normal_(gn.empty(5, 7)).numpy(), b)
    np.testing.assert_array_equal(init.orthogonal_(gn.empty(5, 7)).numpy(), c)
    assert not np.array_equal(init.kaiming_uniform_(gn.empty(5, 7)).numpy(), a)


# ---- default initialisation of the layers ---------------------------------------------------------
def test_linear_default_init_bounds():
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)  # kaiming_uniform_(a=sqrt(5)) reduces to U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    _check_uniform(_values(lin.weight), bound)
    b = _values(lin.bias)
    assert b.min() >= -bound and b.max() <= bound and b.std() > 0.4 * bound
    assert nn.Linear(3, 2, bias=False).bias is None
    gn.manual_seed(5)
    w1 = nn.Linear(4, 4).weight.detach().numpy().copy()
    gn.manual_seed(5)
    np.testing.assert_array_equal(nn.Linear(4, 4).weight.detach().numpy(), w1)


def test_layer_default_inits():
    bil = nn.Bilinear(50, 30, 40)
    _check_uniform(_values(bil.weight), 1 / math.sqrt(50))
    assert _values(bil.bias).max() <= 1 / math.sqrt(50)
    emb = nn.Embedding(500, 64, padding_idx=3)
    v = emb.weight.detach().numpy()
    assert np.all(v[3] == 0)
    _check_normal(np.delete(v, 3, axis=0).ravel().astype(np.float64), 1.0)
    for norm in (nn.BatchNorm1d(5), nn.LayerNorm((2, 5)), nn.GroupNorm(1, 5)):
        assert np.all(_values(norm.weight) == 1) and np.all(_values(norm.bias) == 0)
    bn = nn.BatchNorm1d(5)
    assert np.all(bn.running_mean.numpy() == 0) and np.all(bn.running_var.numpy() == 1)
    assert bn.num_batches_tracked.item() == 0 and bn.num_batches_tracked.dtype == gn.int64


def test_layer_dtype_argument():
    for layer in (nn.Linear(3, 2, dtype=gn.float64), nn.Bilinear(2, 2, 2, dtype=gn.float64),
                  nn.BatchNorm1d(3, dtype=gn.float64), nn.LayerNorm(3, dtype=gn.float64),
                  nn.GroupNorm(1, 3, dtype=gn.float64), nn.Embedding(4, 3, dtype=gn.float64)):
        assert all(p.dtype == gn.float64 for p in layer.parameters()), type(layer).__name__
