"""glassnet.nn.functional activations against torch: values and gradients for
float32 and float64 on plain, 0-d, empty and non-contiguous inputs, the
inplace= forms, softmax/log_softmax, normalize, cosine_similarity, one_hot."""
import warnings

import numpy as np
import pytest

import glassnet as gn
import glassnet.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

TOL = {np.float32: dict(rtol=1e-4, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}
DTYPES = [np.float32, np.float64]
SHAPES = [(3, 4), (), (0, 3), (2, 3, 4)]


def check(gn_fn, torch_fn, arrays, dtype, view=None, quiet_torch=False):
    """Same inputs to both libraries; outputs, then the gradients of Σ w·out."""
    g_leaves = [gn.tensor(a, requires_grad=True) for a in arrays]
    t_leaves = [torch.tensor(a, requires_grad=True) for a in arrays]
    g_in = [view(t) for t in g_leaves] if view else g_leaves
    t_in = [view(t) for t in t_leaves] if view else t_leaves
    g_out = gn_fn(*g_in)
    with warnings.catch_warnings():
        if quiet_torch:
            warnings.simplefilter("ignore")
        t_out = torch_fn(*t_in)
    assert tuple(g_out.shape) == tuple(t_out.shape)
    assert g_out.dtype.name == str(t_out.dtype).replace("torch.", "")
    np.testing.assert_allclose(g_out.detach().numpy(), t_out.detach().numpy(), **TOL[dtype])
    w = np.random.default_rng(3).standard_normal(tuple(t_out.shape)).astype(dtype)
    g_out.backward(gn.tensor(w))
    t_out.backward(torch.tensor(w))
    for g, t in zip(g_leaves, t_leaves):
        np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), **TOL[dtype])


def transposed(t):
    if t.ndim < 2:
        return t
    return t.transpose(0, t.ndim - 1).contiguous().transpose(0, t.ndim - 1)


ELEMENTWISE = [
    ("relu", lambda f: lambda x: f.relu(x)),
    ("relu6", lambda f: lambda x: f.relu6(x * 4)),
    ("leaky_relu", lambda f: lambda x: f.leaky_relu(x, 0.2)),
    ("leaky_relu_default", lambda f: lambda x: f.leaky_relu(x)),
    ("elu", lambda f: lambda x: f.elu(x, alpha=0.5)),
    ("selu", lambda f: lambda x: f.selu(x)),
    ("gelu", lambda f: lambda x: f.gelu(x)),
    ("gelu_tanh", lambda f: lambda x: f.gelu(x, approximate="tanh")),
    ("silu", lambda f: lambda x: f.silu(x)),
    ("softplus", lambda f: lambda x: f.softplus(x)),
    ("softplus_beta", lambda f: lambda x: f.softplus(x * 4, beta=2.0, threshold=5.0)),
    ("sigmoid", lambda f: lambda x: f.sigmoid(x)),
    ("tanh", lambda f: lambda x: f.tanh(x)),
    ("hardtanh", lambda f: lambda x: f.hardtanh(x)),
    ("hardtanh_bounds", lambda f: lambda x: f.hardtanh(x, -0.5, 2.0)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name,make", ELEMENTWISE, ids=[e[0] for e in ELEMENTWISE])
def test_elementwise_activations(rng, dtype, shape, name, make):
    x = np.asarray(rng.standard_normal(shape) * 2).astype(dtype)
    check(make(F), make(TF), [x], dtype)


@pytest.mark.parametrize("name,make", ELEMENTWISE, ids=[e[0] for e in ELEMENTWISE])
def test_elementwise_activations_non_contiguous(rng, name, make):
    x = rng.standard_normal((4, 5, 3))
    check(make(F), make(TF), [x], np.float64, view=transposed)


INPLACE = [
    ("relu", {}), ("relu6", {}), ("leaky_relu", {"negative_slope": 0.3}), ("elu", {"alpha": 0.7}), ("selu", {}),
    ("silu", {}), ("hardtanh", {"min_val": -0.5, "max_val": 0.5}),
]


@pytest.mark.parametrize("name,kw", INPLACE, ids=[i[0] for i in INPLACE])
def test_inplace_writes_into_the_input(rng, name, kw):
    a = rng.standard_normal((3, 4)).astype(np.float32)
    x = gn.tensor(a)
    view = x[1:]  # shares x's memory: sees the write
    out = getattr(F, name)(x, inplace=True, **kw)
    expected = getattr(TF, name)(torch.tensor(a), **kw).numpy()
    assert out is x
    np.testing.assert_allclose(x.numpy(), expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(view.numpy(), expected[1:], rtol=1e-6, atol=1e-7)


def test_inplace_on_tensors_autograd_tracks():
    x = gn.tensor([-1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        F.relu(x, inplace=True)
    # Inside a graph (a layer's output): the value and gradient torch gives,
    # computed out of place so no saved tensor can be overwritten.
    h = x * 2
    out = F.elu(h, inplace=True, alpha=0.5)
    out.backward(gn.tensor([1.0, 1.0]))
    t = torch.tensor([-1.0, 2.0], requires_grad=True)
    TF.elu(t * 2, inplace=True, alpha=0.5).backward(torch.tensor([1.0, 1.0]))
    np.testing.assert_allclose(out.detach().numpy(), TF.elu(torch.tensor([-2.0, 4.0]), alpha=0.5).numpy(), rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-6)
    np.testing.assert_array_equal(h.detach().numpy(), [-2.0, 4.0])
    with gn.no_grad():  # allowed, as in torch, while grad is off
        F.relu(x, inplace=True)
    np.testing.assert_array_equal(x.detach().numpy(), [0.0, 2.0])
    y = gn.tensor([-3.0, 0.5])
    assert F.relu_(y) is y and y.tolist() == [0.0, 0.5]
    assert F.hardtanh_(gn.tensor([-3.0, 0.5, 4.0])).tolist() == [-1.0, 0.5, 1.0]


def test_activation_argument_errors():
    with pytest.raises(ValueError, match="approximate"):
        F.gelu(gn.zeros(2), approximate="fast")
    with pytest.raises(ValueError, match="min_val"):
        F.hardtanh(gn.zeros(2), 1.0, -1.0)
    with pytest.raises(TypeError, match="Tensor"):
        F.relu([1.0, 2.0])


def test_gradcheck_activations(rng):
    x = gn.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    for name, make in ELEMENTWISE:
        if name.startswith(("relu", "hardtanh", "leaky")):
            continue  # kinks at 0 and the bounds; covered against torch above
        assert gn.autograd.gradcheck(make(F), (x,)), name


# ---- along a dim ----------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape,dim", [((3, 5), 1), ((3, 5), 0), ((2, 3, 4), -1), ((2, 3, 4), 1), ((0, 4), 1),
                                       ((4,), 0)])
def test_softmax_family(rng, dtype, fn, shape, dim):
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    check(lambda a: getattr(F, fn)(a, dim=dim), lambda a: getattr(TF, fn)(a, dim=dim), [x], dtype)


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax_family_implicit_dim_and_dtype(rng, fn):
    for shape in [(4,), (3, 5), (2, 3, 4), (2, 3, 4, 5)]:
        x = rng.standard_normal(shape).astype(np.float32)
        with pytest.warns(UserWarning, match="Implicit dimension"):
            g = getattr(F, fn)(gn.tensor(x))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = getattr(TF, fn)(torch.tensor(x))
        np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-5, atol=1e-6)
    x = rng.standard_normal((3, 4)).astype(np.float32)
    g = getattr(F, fn)(gn.tensor(x), dim=1, dtype=gn.float64)
    assert g.dtype is gn.float64
    np.testing.assert_allclose(g.numpy(), getattr(TF, fn)(torch.tensor(x), dim=1, dtype=torch.float64).numpy(),
                               rtol=1e-10)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p,dim", [(2.0, 1), (1.0, 1), (3.0, 0), (2.0, -1)])
def test_normalize(rng, dtype, p, dim):
    x = rng.standard_normal((4, 5)).astype(dtype)
    x[1] = 0.0  # a zero row: divided by eps, not by zero
    check(lambda a: F.normalize(a, p=p, dim=dim), lambda a: TF.normalize(a, p=p, dim=dim), [x], dtype)


def test_normalize_non_contiguous_out_and_gradcheck(rng):
    x = rng.standard_normal((3, 4, 2))
    check(lambda a: F.normalize(a, dim=1), lambda a: TF.normalize(a, dim=1), [x], np.float64, view=transposed)
    out = gn.empty(3, 4, 2, dtype=gn.float64)
    res = F.normalize(gn.tensor(x), dim=2, out=out)
    assert res is out
    np.testing.assert_allclose(out.numpy(), TF.normalize(torch.tensor(x), dim=2).numpy(), rtol=1e-12)
    assert gn.autograd.gradcheck(lambda a: F.normalize(a, p=2.0, dim=1), (gn.tensor(x, requires_grad=True),))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes,dim", [(((4, 5), (4, 5)), 1), (((4, 5), (5,)), -1), (((3, 1, 4), (2, 4)), 2),
                                        (((4, 5), (4, 5)), 0)])
def test_cosine_similarity(rng, dtype, shapes, dim):
    a = rng.standard_normal(shapes[0]).astype(dtype)
    b = rng.standard_normal(shapes[1]).astype(dtype)
    check(lambda x, y: F.cosine_similarity(x, y, dim=dim), lambda x, y: TF.cosine_similarity(x, y, dim=dim),
          [a, b], dtype)


def test_cosine_similarity_zero_vector_and_gradcheck(rng):
    # A zero row: torch clamps the norm to eps for the value but lets the
    # gradient flow as if unclamped; glassnet matches both.
    a = rng.standard_normal((3, 4))
    b = rng.standard_normal((3, 4))
    a[1] = 0.0
    check(lambda x, y: F.cosine_similarity(x, y, eps=1e-3), lambda x, y: TF.cosine_similarity(x, y, eps=1e-3),
          [a, b], np.float64)
    x = gn.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    y = gn.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    assert gn.autograd.gradcheck(F.cosine_similarity, (x, y))
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(5,\)"):
        F.cosine_similarity(x, gn.zeros(5, dtype=gn.float64))


def test_one_hot(rng):
    y = rng.integers(0, 5, size=(3, 4))
    np.testing.assert_array_equal(F.one_hot(gn.tensor(y)).numpy(), TF.one_hot(torch.tensor(y)).numpy())
    np.testing.assert_array_equal(F.one_hot(gn.tensor(y), num_classes=7).numpy(),
                                  TF.one_hot(torch.tensor(y), num_classes=7).numpy())
    assert F.one_hot(gn.tensor(y)).dtype is gn.int64
