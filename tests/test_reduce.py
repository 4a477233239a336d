"""Reductions, index reductions and softmax against torch: forward values and
gradients over every dim set, keepdim, views, empty and size-1 dims."""
import math

import numpy as np
import pytest

import glassnet as gn
from op_helpers import compare

torch = pytest.importorskip("torch")

DTYPES = [np.float32, np.float64]

# name -> (glassnet fn(x, dim, keepdim), torch fn(x, dim, keepdim))
REDUCTIONS = {
    "sum": (lambda x, d, k: x.sum(d, keepdim=k), lambda x, d, k: x.sum(d, keepdim=k)),
    "mean": (lambda x, d, k: x.mean(d, keepdim=k), lambda x, d, k: x.mean(d, keepdim=k)),
    "amax": (lambda x, d, k: x.amax(d, keepdim=k), lambda x, d, k: x.amax(d, keepdim=k)),
    "amin": (lambda x, d, k: x.amin(d, keepdim=k), lambda x, d, k: x.amin(d, keepdim=k)),
    "var": (lambda x, d, k: x.var(d, keepdim=k), lambda x, d, k: x.var(d, keepdim=k)),
    "var_biased": (lambda x, d, k: x.var(d, keepdim=k, correction=0),
                   lambda x, d, k: x.var(d, keepdim=k, correction=0)),
    "std": (lambda x, d, k: x.std(d, keepdim=k), lambda x, d, k: x.std(d, keepdim=k)),
    "logsumexp": (lambda x, d, k: x.logsumexp(d, keepdim=k), lambda x, d, k: x.logsumexp(d, keepdim=k)),
    "norm2": (lambda x, d, k: x.norm(2, d, k), lambda x, d, k: x.norm(2, d, k)),
    "norm1": (lambda x, d, k: x.norm(1, d, k), lambda x, d, k: x.norm(1, d, k)),
    "norm3": (lambda x, d, k: x.norm(3, d, k), lambda x, d, k: x.norm(3, d, k)),
    "norm_inf": (lambda x, d, k: x.norm(math.inf, d, k), lambda x, d, k: x.norm(math.inf, d, k)),
    "prod": (lambda x, d, k: x.prod(d, keepdim=k), lambda x, d, k: x.prod(d, keepdim=k)),
}

DIMS = [None, 0, 1, -1, (0, 2), (1, 2), (0, 1, 2)]


# torch.prod reduces one dim (or all), so its tuple-dim cases are left out.
CASES = [(name, dim, keepdim) for name in sorted(REDUCTIONS) for dim in DIMS for keepdim in (False, True)
         if not (name == "prod" and (isinstance(dim, tuple) or (dim is None and keepdim)))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,dim,keepdim", CASES)
def test_reduction_matches_torch(name, dim, keepdim, dtype, rng):
    g, t = REDUCTIONS[name]
    x = rng.uniform(-2, 2, size=(3, 4, 5)).astype(dtype)
    if name == "prod" and dim is None:
        compare(lambda a: a.prod(), lambda a: a.prod(), [x], dtype, rng)
        return
    # Some torch reductions spell "all dims" as the full tuple rather than None.
    tdim = tuple(range(x.ndim)) if dim is None and name in ("amax", "amin", "logsumexp") else dim
    compare(lambda a: g(a, dim, keepdim), lambda a: t(a, tdim, keepdim), [x], dtype, rng)


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "var", "logsumexp", "norm2", "prod"])
def test_reduction_on_views(name, rng):
    g, t = REDUCTIONS[name]
    x = rng.uniform(-2, 2, size=(6, 5, 4))
    views = [lambda a: a.transpose(0, 2), lambda a: a[::2, 1:], lambda a: a.permute(1, 2, 0)]
    for view in views:
        for dim in [0, 1, 2] if name == "prod" else [0, 2, (0, 2), (1, 2)]:
            compare(lambda a: g(a, dim, False), lambda a: t(a, dim, False), [x], np.float64, rng, view=view)


@pytest.mark.filterwarnings("ignore::UserWarning")  # torch's, for var over one element
@pytest.mark.parametrize("name", ["sum", "mean", "prod", "var", "logsumexp", "norm2", "amax"])
def test_reduction_size_one_and_empty(name, rng):
    g, t = REDUCTIONS[name]
    compare(lambda a: g(a, 1, False), lambda a: t(a, 1, False), [rng.uniform(-2, 2, (3, 1))], np.float64, rng)
    compare(lambda a: g(a, 0, True), lambda a: t(a, 0, True), [rng.uniform(-2, 2, (1, 4))], np.float64, rng)
    # Reducing a non-empty dim of an empty tensor gives an empty result.
    compare(lambda a: g(a, 1, False), lambda a: t(a, 1, False), [np.zeros((0, 3))], np.float64, rng)


def test_empty_reductions_follow_torch():
    z = gn.zeros(0, 3)
    assert gn.sum(z).item() == 0
    assert gn.prod(z).item() == 1
    assert math.isnan(gn.mean(z).item())
    np.testing.assert_array_equal(z.sum(0).numpy(), np.zeros(3))
    with pytest.raises(IndexError, match="amax"):
        z.amax(0)
    with pytest.raises(IndexError, match="max"):
        z.max()
    with pytest.raises(IndexError, match="argmax"):
        z.argmax()


def test_long_float32_sum_is_accurate(rng):
    x = rng.uniform(0, 1, size=3_000_001).astype(np.float32)
    got = gn.from_numpy(x).sum().item()
    assert abs(got - x.astype(np.float64).sum()) / x.sum() < 1e-6


@pytest.mark.parametrize("shape,dim", [((2_000_000,), 0), ((3, 700_001), 1), ((700_001, 3), 0), ((50, 40, 30), 1)])
def test_large_reductions_match_numpy(shape, dim, rng):
    x = rng.standard_normal(shape)
    t = gn.from_numpy(x)
    np.testing.assert_allclose(t.sum(dim).numpy(), x.sum(dim), rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(t.amax(dim).numpy(), x.max(dim))
    np.testing.assert_array_equal(t.argmin(dim).numpy(), x.argmin(dim))


def test_integer_and_bool_reductions():
    x = gn.tensor([[1, 2, 3], [4, 5, 6]])
    assert x.sum().dtype is gn.int64 and x.sum().item() == 21
    assert x.prod(1).tolist() == [6, 120]
    assert x.amax(0).tolist() == [4, 5, 6]
    b = gn.tensor([[True, False], [True, True]])
    assert b.sum().dtype is gn.int64 and b.sum().item() == 3
    assert b.all(1).tolist() == [False, True]
    assert b.any(0).tolist() == [True, True]
    assert x.gt(3).any().item() is True
    with pytest.raises(TypeError, match="mean"):
        x.mean()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_min_with_indices(dim, keepdim, dtype, rng):
    x = rng.uniform(-2, 2, size=(4, 5, 3)).astype(dtype)
    for gname in ["max", "min"]:
        compare(lambda a: getattr(a, gname)(dim, keepdim).values,
                lambda a: getattr(a, gname)(dim, keepdim).values, [x], dtype, rng)
        gv, gi = getattr(gn.tensor(x), gname)(dim, keepdim)
        tv, ti = getattr(torch.tensor(x), gname)(dim, keepdim)
        np.testing.assert_array_equal(gi.numpy(), ti.numpy())
        np.testing.assert_array_equal(gn.tensor(x).argmax(dim, keepdim).numpy(),
                                      torch.tensor(x).argmax(dim, keepdim).numpy())


def test_ties_nan_and_flat_argmax():
    x = gn.tensor([[1.0, 3.0, 3.0], [float("nan"), 2.0, float("nan")]])
    assert x.argmax(1).tolist() == [1, 0]
    assert math.isnan(x.amax(1)[1].item())
    assert x.argmax().item() == 3
    assert gn.tensor([[5.0, 1.0], [0.0, 9.0]]).argmin().item() == 2
    # amax splits the gradient evenly between ties, as torch does.
    a = gn.tensor([1.0, 3.0, 3.0], requires_grad=True)
    a.amax().backward()
    assert a.grad.tolist() == [0.0, 0.5, 0.5]
    ta = torch.tensor([1.0, 3.0, 3.0], requires_grad=True)
    ta.amax().backward()
    assert ta.grad.tolist() == a.grad.tolist()


def test_prod_over_several_dims(rng):
    # torch has no multi-dim prod; one dim after another is the same product.
    x = rng.uniform(0.5, 1.5, size=(3, 4, 5))
    compare(lambda a: a.prod((0, 2)), lambda a: a.prod(2).prod(0), [x], np.float64, rng)
    compare(lambda a: a.prod((0, 2), keepdim=True), lambda a: a.prod(2, keepdim=True).prod(0, keepdim=True), [x],
            np.float64, rng)


def test_prod_gradient_with_zeros(rng):
    x = rng.uniform(-2, 2, size=(4, 5))
    x[1, 2] = 0.0
    x[2, [0, 3]] = 0.0
    compare(lambda a: a.prod(1), lambda a: a.prod(1), [x], np.float64, rng)
    compare(lambda a: a.prod(0), lambda a: a.prod(0), [x], np.float64, rng)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape,dim", [((4, 7), -1), ((4, 7), 0), ((2, 3, 5), 1), ((3, 1), 1), ((0, 4), 1), ((5,), 0)])
def test_softmax_matches_torch(fn, shape, dim, dtype, rng):
    x = rng.uniform(-3, 3, size=shape).astype(dtype)
    compare(lambda a: getattr(gn, fn)(a, dim), lambda a: getattr(torch, fn)(a, dim), [x], dtype, rng)


def test_softmax_on_views_large_values_and_inf(rng):
    x = rng.uniform(-3, 3, size=(6, 8))
    compare(lambda a: a.softmax(0), lambda a: a.softmax(0), [x], np.float64, rng, view=lambda a: a.t())
    big = gn.tensor([[1000.0, 1001.0, -1000.0]])
    np.testing.assert_allclose(big.softmax(1).numpy(), torch.tensor([[1000.0, 1001.0, -1000.0]]).softmax(1).numpy())
    np.testing.assert_allclose(big.log_softmax(1).numpy(),
                               torch.tensor([[1000.0, 1001.0, -1000.0]]).log_softmax(1).numpy(), rtol=1e-6)
    ninf = gn.tensor([[0.0, float("-inf")]])
    assert ninf.softmax(1).tolist() == [[1.0, 0.0]]


def test_softmax_double_backward_matches_torch(rng):
    x = rng.uniform(-2, 2, size=(3, 4))
    w = rng.uniform(-1, 1, size=(3, 4))
    g = gn.tensor(x, requires_grad=True)
    (dg,) = gn.autograd.grad((gn.softmax(g, 1) * gn.tensor(w)).sum(), g, create_graph=True)
    dg.square().sum().backward()
    t = torch.tensor(x, requires_grad=True)
    (dt,) = torch.autograd.grad((torch.softmax(t, 1) * torch.tensor(w)).sum(), t, create_graph=True)
    dt.square().sum().backward()
    np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize("name", ["sum", "mean", "var", "logsumexp", "norm2", "prod", "amax"])
def test_gradcheck(name, rng):
    g, _ = REDUCTIONS[name]
    x = gn.tensor(rng.uniform(0.5, 2, size=(3, 4)), requires_grad=True)
    assert gn.autograd.gradcheck(lambda a: g(a, 1, False), (x,))
    assert gn.autograd.gradcheck(lambda a: gn.log_softmax(a, 0), (x,))


def test_bad_dims_raise_clear_errors():
    x = gn.ones(2, 3)
    with pytest.raises(IndexError, match=r"\[sum\] dim 2 is out of range"):
        x.sum(2)
    with pytest.raises(ValueError, match="appears multiple times"):
        x.sum((1, -1))
    with pytest.raises(TypeError, match="dim"):
        x.sum("a")
    with pytest.raises(TypeError, match="softmax"):
        gn.softmax(x)
    with pytest.raises(TypeError, match="softmax"):
        gn.tensor([1, 2]).softmax(0)
    with pytest.raises(IndexError, match="max"):
        x.max(5)
