"""Elementwise ops against torch (forward and gradients) and numpy."""
import math

import numpy as np
import pytest

import glassnet as gn
from op_helpers import compare

torch = pytest.importorskip("torch")

DTYPES = [np.float32, np.float64]

# (glassnet op, torch op, input range) — ranges keep the maths defined.
UNARY = {
    "neg": (lambda x: -x, lambda x: -x, (-2, 2)),
    "abs": (lambda x: x.abs(), lambda x: x.abs(), (-2, 2)),
    "exp": (gn.exp, torch.exp, (-2, 2)),
    "log": (gn.log, torch.log, (0.1, 3)),
    "log1p": (gn.log1p, torch.log1p, (-0.5, 3)),
    "expm1": (lambda x: x.expm1(), torch.expm1, (-2, 2)),
    "sqrt": (gn.sqrt, torch.sqrt, (0.1, 3)),
    "rsqrt": (gn.rsqrt, torch.rsqrt, (0.1, 3)),
    "sin": (gn.sin, torch.sin, (-3, 3)),
    "cos": (gn.cos, torch.cos, (-3, 3)),
    "reciprocal": (gn.reciprocal, torch.reciprocal, (0.2, 3)),
    "sigmoid": (gn.sigmoid, torch.sigmoid, (-4, 4)),
    "tanh": (gn.tanh, torch.tanh, (-3, 3)),
    "relu": (gn.relu, torch.relu, (-2, 2)),
    "square": (gn.square, torch.square, (-2, 2)),
    "sign": (gn.sign, torch.sign, (-2, 2)),
    "floor": (gn.floor, torch.floor, (-3, 3)),
    "log2": (gn.log2, torch.log2, (0.1, 3)),
    "clamp": (lambda x: x.clamp(-0.5, 0.7), lambda x: x.clamp(-0.5, 0.7), (-2, 2)),
    "clamp_min": (lambda x: x.clamp(min=0.1), lambda x: x.clamp(min=0.1), (-2, 2)),
    "pow_scalar": (lambda x: x ** 3, lambda x: x ** 3, (-2, 2)),
    "rpow": (lambda x: 2.0 ** x, lambda x: 2.0 ** x, (-2, 2)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_matches_torch(name, dtype, rng):
    g, t, (lo, hi) = UNARY[name]
    compare(g, t, [rng.uniform(lo, hi, size=(3, 5)).astype(dtype)], dtype, rng)


@pytest.mark.parametrize("name", ["exp", "tanh", "relu", "log"])
def test_unary_on_views_and_edge_shapes(name, rng):
    g, t, (lo, hi) = UNARY[name]
    for shape, view in [((4, 6), lambda x: x.transpose(0, 1)), ((8, 3), lambda x: x[::2]),
                        ((0, 3), None), ((1, 1), None), ((), None)]:
        compare(g, t, [rng.uniform(lo, hi, size=shape).astype(np.float64)], np.float64, rng, view=view)


BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (lambda a, b: a / b, lambda a, b: a / b),
    "pow": (lambda a, b: a.abs() ** b, lambda a, b: a.abs() ** b),
    "maximum": (gn.maximum, torch.maximum),
    "minimum": (gn.minimum, torch.minimum),
}

BROADCAST_SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((1,), (5, 2)), ((3, 4), ()),
                    ((0, 4), (4,)), ((2, 0), (1, 1))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", BROADCAST_SHAPES, ids=str)
def test_binary_broadcasting_matches_torch(name, shapes, dtype, rng):
    g, t = BINARY[name]
    arrays = [rng.uniform(0.5, 2.0, size=s).astype(dtype) * rng.choice([-1, 1], size=s) for s in shapes]
    compare(g, t, arrays, dtype, rng)


def test_binary_on_non_contiguous_views(rng):
    a = rng.standard_normal((6, 4))
    b = rng.standard_normal((4, 6))
    compare(lambda x, y: x * y.t() + x, lambda x, y: x * y.t() + x, [a, b], np.float64, rng)
    compare(lambda x, y: x[::2] - y.t()[1::2], lambda x, y: x[::2] - y.t()[1::2], [a, b], np.float64, rng)


def test_maximum_splits_gradient_on_ties():
    a = gn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = gn.tensor([1.0, 1.0, 4.0], requires_grad=True)
    gn.maximum(a, b).sum().backward()
    assert a.grad.tolist() == [0.5, 1.0, 0.0]
    assert b.grad.tolist() == [0.5, 0.0, 1.0]


@pytest.mark.parametrize("op", ["eq", "ne", "lt", "le", "gt", "ge"])
def test_comparisons(op, rng):
    a = rng.integers(0, 3, size=(4, 5)).astype(np.float32)
    b = rng.integers(0, 3, size=(5,)).astype(np.float32)
    out = getattr(gn.tensor(a), op)(gn.tensor(b))
    assert out.dtype is gn.bool
    np.testing.assert_array_equal(out.numpy(), getattr(np, {"eq": "equal", "ne": "not_equal", "lt": "less",
                                                            "le": "less_equal", "gt": "greater",
                                                            "ge": "greater_equal"}[op])(a, b))


def test_type_promotion_follows_torch():
    cases = [
        (gn.tensor([1, 2]), 2.5), (gn.tensor([1, 2]), 2), (gn.tensor([True]), 1), (gn.tensor([True]), True),
        (gn.tensor([1.0], dtype=gn.float64), 2), (gn.tensor([1.0]), gn.tensor(2.0, dtype=gn.float64)),
        (gn.tensor([1, 2]), gn.tensor(2.0, dtype=gn.float64)), (gn.tensor([1.0]), gn.tensor([2.0], dtype=gn.float64)),
        (gn.tensor([1, 2]), gn.tensor([True, False])),
    ]
    for a, b in cases:
        ta = torch.tensor(a.numpy())
        tb = torch.tensor(b.numpy()) if isinstance(b, gn.Tensor) else b
        got = (a + b).dtype.name
        assert got == str((ta + tb).dtype).replace("torch.", ""), (a, b)
    assert (gn.tensor([1, 2]) / gn.tensor([2, 4])).dtype is gn.float32
    assert (gn.tensor([3, -3]) // 2).tolist() == [1, -2]
    assert (gn.tensor([3, -3]) % 2).tolist() == [1, 1]


def test_where_and_masked_fill(rng):
    a = rng.standard_normal((3, 4))
    b = rng.standard_normal((4,))
    cond = a > 0
    compare(lambda x, y: gn.where(gn.tensor(cond), x, y), lambda x, y: torch.where(torch.tensor(cond), x, y),
            [a, b], np.float64, rng)
    x = gn.tensor(a)
    np.testing.assert_array_equal(x.masked_fill(x > 0, 0.0).numpy(), np.where(a > 0, 0.0, a))


def test_nan_propagates_like_torch():
    x = gn.tensor([float("nan"), -1.0, 2.0])
    assert math.isnan(x.relu().tolist()[0])
    assert math.isnan(gn.maximum(x, gn.zeros(3)).tolist()[0])
    assert math.isnan(x.clamp(0, 1).tolist()[0])
    assert x.isnan().tolist() == [True, False, False]
    assert gn.tensor([float("inf"), 1.0]).isinf().tolist() == [True, False]


def test_double_backward_of_elementwise_chain():
    x = gn.tensor([0.3, -0.7, 1.2], dtype=gn.float64, requires_grad=True)
    assert gn.autograd.gradgradcheck(lambda v: (v.tanh() * v.exp() + v.sin() / (1 + v * v)).sigmoid(), (x,))


def test_inplace_ops_and_their_guards():
    x = gn.ones(3)
    x += 2
    x.mul_(gn.tensor([1.0, 2.0, 3.0]))
    assert x.tolist() == [3.0, 6.0, 9.0]
    leaf = gn.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        leaf.add_(1)
    with gn.no_grad():
        leaf.add_(1)
    assert leaf.tolist() == [2.0, 2.0]
    ints = gn.tensor([1, 2])
    with pytest.raises(TypeError, match="can't be cast"):
        ints.add_(0.5)


def test_broadcast_error_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"\[add\] shapes \(2, 3\) and \(4,\) cannot be broadcast"):
        gn.ones(2, 3) + gn.ones(4)


def test_integer_division_by_zero_raises():
    with pytest.raises(ValueError, match="division by zero"):
        gn.tensor([1, 2]) // gn.tensor([1, 0])
