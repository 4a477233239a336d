"""F.linear and F.bilinear against torch: forward and every gradient, any
leading batch dims, non-contiguous operands, empty batches, gradcheck, and
the errors for mismatched shapes."""
import numpy as np
import pytest

import glassnet as gn
import glassnet.nn.functional as F
from nn_parity import parity

torch = pytest.importorskip("torch")
TF = torch.nn.functional

DTYPES = [np.float32, np.float64]


def rand(rng, shape, dtype):
    return rng.uniform(-1, 1, size=shape).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x_shape", [(32, 64), (1, 7), (7,), (2, 3, 5, 7), (0, 7), (4, 0, 7)])
@pytest.mark.parametrize("with_bias", [True, False])
def test_linear_matches_torch(rng, dtype, x_shape, with_bias):
    out_f = 6 if x_shape[-1] == 7 else 10
    arrays = [rand(rng, x_shape, dtype), rand(rng, (out_f, x_shape[-1]), dtype),
              rand(rng, (out_f,), dtype) if with_bias else None]
    parity(F.linear, TF.linear, arrays, dtype, rng)


@pytest.mark.parametrize("dtype", DTYPES)
def test_linear_mlp_benchmark_shapes(rng, dtype):
    # The MLP benchmark's layers: batch 32 through 64-256-128-10.
    for fan_in, fan_out in [(64, 256), (256, 128), (128, 10)]:
        arrays = [rand(rng, (32, fan_in), dtype), rand(rng, (fan_out, fan_in), dtype), rand(rng, (fan_out,), dtype)]
        parity(F.linear, TF.linear, arrays, dtype, rng)


@pytest.mark.parametrize("dtype", DTYPES)
def test_linear_non_contiguous_operands(rng, dtype):
    # x and W as step-sliced views, bias as a strided view, grads flow back into the bases.
    arrays = [rand(rng, (3, 5, 16), dtype), rand(rng, (6, 16), dtype), rand(rng, (12,), dtype)]
    views = [lambda t: t[..., ::2], lambda t: t[:, ::2], lambda t: t[::2]]
    parity(F.linear, TF.linear, arrays, dtype, rng, views=views)
    # A transposed input (x.T is (rows, in) with unit row stride).
    arrays = [rand(rng, (8, 5), dtype), rand(rng, (3, 8), dtype), None]
    parity(F.linear, TF.linear, arrays, dtype, rng, views=[lambda t: t.t(), lambda t: t, None])


def test_linear_gradient_only_where_asked(rng):
    x = gn.tensor(rand(rng, (4, 3), np.float64))
    w = gn.tensor(rand(rng, (2, 3), np.float64), requires_grad=True)
    b = gn.tensor(rand(rng, (2,), np.float64))
    F.linear(x, w, b).backward(gn.ones(4, 2, dtype=gn.float64))
    assert x.grad is None and b.grad is None
    np.testing.assert_allclose(w.grad.numpy(), np.ones((2, 4)) @ x.numpy())


def test_linear_vector_weight(rng):
    arrays = [rand(rng, (4, 3), np.float64), rand(rng, (3,), np.float64), None]
    parity(F.linear, TF.linear, arrays, np.float64, rng)


def test_linear_gradcheck(rng):
    x = gn.tensor(rand(rng, (2, 3, 4), np.float64), requires_grad=True)
    w = gn.tensor(rand(rng, (5, 4), np.float64), requires_grad=True)
    b = gn.tensor(rand(rng, (5,), np.float64), requires_grad=True)
    assert gn.autograd.gradcheck(F.linear, (x, w, b))


def test_linear_bad_input(rng):
    x = gn.tensor(rand(rng, (4, 3), np.float32))
    with pytest.raises(ValueError, match=r"\[linear\].*\(4, 3\).*\(5, 2\)"):
        F.linear(x, gn.zeros(5, 2))
    with pytest.raises(ValueError, match=r"\[linear\] expected bias of shape \(5,\)"):
        F.linear(x, gn.zeros(5, 3), gn.zeros(4))
    with pytest.raises(TypeError, match=r"\[linear\].*same dtype"):
        F.linear(x, gn.zeros(5, 3, dtype=gn.float64))
    with pytest.raises(TypeError, match=r"\[linear\] expected input to be a Tensor"):
        F.linear(np.zeros((4, 3)), gn.zeros(5, 3))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", [(6,), (2, 3), (1,), ()])
@pytest.mark.parametrize("with_bias", [True, False])
def test_bilinear_matches_torch(rng, dtype, batch, with_bias):
    arrays = [rand(rng, batch + (3,), dtype), rand(rng, batch + (4,), dtype), rand(rng, (5, 3, 4), dtype),
              rand(rng, (5,), dtype) if with_bias else None]
    parity(F.bilinear, TF.bilinear, arrays, dtype, rng)


def test_bilinear_gradcheck(rng):
    args = [gn.tensor(rand(rng, s, np.float64), requires_grad=True) for s in [(3, 2), (3, 4), (2, 2, 4), (2,)]]
    assert gn.autograd.gradcheck(F.bilinear, tuple(args))


def test_bilinear_bad_input():
    with pytest.raises(ValueError, match=r"\[bilinear\].*\(2, 3\).*\(1, 4\)"):
        F.bilinear(gn.zeros(2, 3), gn.zeros(1, 4), gn.zeros(5, 3, 4))
    with pytest.raises(ValueError, match=r"\[bilinear\] expected weight of shape \(out, 3, 4\)"):
        F.bilinear(gn.zeros(2, 3), gn.zeros(2, 4), gn.zeros(5, 4, 3))
    with pytest.raises(ValueError, match=r"\[bilinear\] expected bias of shape \(5,\)"):
        F.bilinear(gn.zeros(2, 3), gn.zeros(2, 4), gn.zeros(5, 3, 4), gn.zeros(4))


def test_linear_double_backward_matches_torch(rng):
    # create_graph=True: the gradient is built from differentiable ops and can be differentiated again.
    x, w, b = rand(rng, (3, 4), np.float64), rand(rng, (2, 4), np.float64), rand(rng, (2,), np.float64)
    gx, gw, gb = (gn.tensor(a, requires_grad=True) for a in (x, w, b))
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    (g_gx,) = gn.autograd.grad(F.linear(gx, gw, gb).tanh(), [gx], grad_outputs=[gn.ones(3, 2, dtype=gn.float64)],
                               create_graph=True)
    (t_gx,) = torch.autograd.grad(TF.linear(tx, tw, tb).tanh(), [tx], grad_outputs=[torch.ones(3, 2, dtype=torch.float64)],
                                  create_graph=True)
    np.testing.assert_allclose(g_gx.detach().numpy(), t_gx.detach().numpy(), rtol=1e-12)
    (g_gx * g_gx).backward(gn.ones(3, 4, dtype=gn.float64))
    (t_gx * t_gx).backward(torch.ones(3, 4, dtype=torch.float64))
    np.testing.assert_allclose(gw.grad.numpy(), tw.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(gb.grad.numpy(), tb.grad.numpy(), rtol=1e-10)


def test_linear_backward_kernel_rejects_inconsistent_arguments():
    from glassnet import _C

    def T(*s):
        return _C.from_numpy(np.ones(s))

    with pytest.raises(ValueError, match=r"\[linear_backward\] grad \(4, 6\), input \(4, 3\) and weight \(5, 3\)"):
        _C.linear_backward(T(4, 6), T(4, 3), T(5, 3), True, True, True)
    with pytest.raises(ValueError, match=r"\[linear_backward\].*differ in the batch dims"):
        _C.linear_backward(T(2, 5), T(4, 3), T(5, 3), True, True, True)
    with pytest.raises(TypeError, match=r"\[linear_backward\].*one dtype"):
        _C.linear_backward(_C.from_numpy(np.ones((4, 5), np.float32)), T(4, 3), T(5, 3), True, True, True)
