"""The autograd engine: accumulation, retain_graph, grad(), create_graph,
hooks, custom Functions, no_grad, gradcheck."""
import numpy as np
import pytest

import glassnet as gn


def test_leaf_gradients_accumulate_across_backward_calls():
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (3 * x).sum().backward()
    assert x.grad.tolist() == [5.0, 7.0]


def test_shared_subexpression_gets_summed_gradient():
    x = gn.tensor([2.0], requires_grad=True)
    y = x * x
    z = y + y * 3  # dz/dx = 4 * 2x
    z.backward()
    assert x.grad.tolist() == [16.0]


def test_backward_twice_needs_retain_graph():
    x = gn.tensor([1.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [4.0]
    z = (x.exp()).sum()
    z.backward()
    with pytest.raises(RuntimeError, match="second time"):
        z.backward()


def test_backward_of_non_scalar_needs_gradient():
    x = gn.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="scalar outputs"):
        (x * 2).backward()
    (x * 2).backward(gn.tensor([1.0, 2.0, 3.0]))
    assert x.grad.tolist() == [2.0, 4.0, 6.0]


def test_grad_does_not_touch_dot_grad_and_supports_create_graph():
    x = gn.tensor([1.5], dtype=gn.float64, requires_grad=True)
    y = x ** 3
    (dy,) = gn.autograd.grad(y, x, create_graph=True)
    assert x.grad is None
    assert dy.tolist() == pytest.approx([3 * 1.5 ** 2])
    (d2y,) = gn.autograd.grad(dy, x)
    assert d2y.tolist() == pytest.approx([6 * 1.5])


def test_grad_of_non_leaf_input():
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    y = (h * h).sum()
    (gh,) = gn.autograd.grad(y, h)
    assert gh.tolist() == [6.0, 12.0]


def test_grad_unused_input_raises_unless_allowed():
    x = gn.ones(2, requires_grad=True)
    w = gn.ones(2, requires_grad=True)
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="not used"):
        gn.autograd.grad(y, [x, w], retain_graph=True)
    gx, gw = gn.autograd.grad(y, [x, w], allow_unused=True)
    assert gw is None and gx.tolist() == [2.0, 2.0]


def test_no_grad_and_enable_grad():
    x = gn.ones(2, requires_grad=True)
    with gn.no_grad():
        y = x * 2
        with gn.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad
    assert gn.is_grad_enabled()

    @gn.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad


def test_detach_shares_memory_and_stops_gradient():
    x = gn.ones(3, requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.data_ptr() == x.data_ptr()
    y = (x * d).sum()
    y.backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0]


def test_requires_grad_only_for_floats():
    with pytest.raises(RuntimeError, match="floating point"):
        gn.tensor([1, 2], requires_grad=True)


def test_tensor_hooks_see_and_replace_gradients():
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    h = x * 2
    h.register_hook(lambda g: seen.append(g.tolist()))
    x.register_hook(lambda g: g * 10)
    (h * h).sum().backward()
    assert seen == [[4.0, 8.0]]
    assert x.grad.tolist() == [80.0, 160.0]


def test_retain_grad_keeps_non_leaf_gradient():
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.retain_grad()
    (h * h).sum().backward()
    assert h.grad.tolist() == [4.0, 8.0]


def test_custom_function():
    class Cube(gn.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale):
            ctx.save_for_backward(x)
            ctx.scale = scale
            return x * x * x * scale

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x * x * ctx.scale, None

    x = gn.tensor([1.0, -2.0], dtype=gn.float64, requires_grad=True)
    y = Cube.apply(x, 2.0)
    assert y.grad_fn is not None and "Cube" in repr(y)
    assert gn.autograd.gradcheck(lambda t: Cube.apply(t, 2.0), (x,))


def test_custom_function_returning_its_input_keeps_graph_sane():
    class Identity(gn.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    x = gn.ones(2, requires_grad=True)
    y = Identity.apply(x)
    assert y is not x and x.is_leaf
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_gradcheck_catches_a_wrong_gradient():
    class Wrong(gn.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * x

        @staticmethod
        def backward(ctx, grad):
            return grad  # should be 2x·grad

    x = gn.tensor([1.0, 3.0], dtype=gn.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        gn.autograd.gradcheck(Wrong.apply, (x,))
    assert gn.autograd.gradcheck(Wrong.apply, (x,), raise_exception=False) is False


def test_deep_graph_does_not_recurse():
    x = gn.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0
    y.sum().backward()
    assert x.grad.tolist() == [1.0]


def test_broadcast_gradient_reduced_to_input_shape():
    a = gn.ones(3, 1, requires_grad=True)
    b = gn.ones(4, requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.shape == (3, 1) and a.grad.tolist() == [[4.0]] * 3
    assert b.grad.shape == (4,) and b.grad.tolist() == [3.0] * 4


def test_gradient_dtype_matches_input_dtype():
    a = gn.ones(2, requires_grad=True)
    b = gn.ones(2, dtype=gn.float64, requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.dtype is gn.float32 and b.grad.dtype is gn.float64


def test_leaf_grad_is_not_shared_between_leaves():
    a = gn.ones(2, requires_grad=True)
    b = gn.ones(2, requires_grad=True)
    (a + b).sum().backward()
    with gn.no_grad():
        a.grad.mul_(5)
    assert b.grad.tolist() == [1.0, 1.0]


def test_matmul_gradients(rng):
    torch = pytest.importorskip("torch")
    from op_helpers import compare

    for sa, sb in [((3, 4), (4, 5)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)), ((2, 3, 4), (4, 5)),
                   ((2, 1, 3, 4), (5, 4, 2)), ((0, 4), (4, 3)), ((3, 0), (0, 2))]:
        compare(lambda a, b: a @ b, lambda a, b: a @ b, [rng.standard_normal(sa), rng.standard_normal(sb)],
                np.float64, rng)
    compare(lambda a, b: a.t() @ b.t(), lambda a, b: a.t() @ b.t(),
            [rng.standard_normal((5, 3)).astype(np.float32), rng.standard_normal((4, 5)).astype(np.float32)],
            np.float32, rng)
