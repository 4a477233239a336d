"""F.batch_norm, F.layer_norm and F.group_norm against torch: outputs, the
gradients of input, weight and bias, running-stat updates in training,
evaluation with running stats, float32 and float64, non-contiguous inputs,
batch 1 and empty batches where torch allows them, gradcheck, and the errors
for wrong ranks and mismatched feature sizes."""
import numpy as np
import pytest

import glassnet as gn
import glassnet.nn.functional as F
from nn_parity import parity

torch = pytest.importorskip("torch")
TF = torch.nn.functional

DTYPES = [np.float32, np.float64]
# Normalising divides by a batch std: float32 gradients carry a little more rounding.
GRAD_TOL = {np.float32: dict(rtol=1e-4, atol=5e-5), np.float64: dict(rtol=1e-9, atol=1e-11)}


def rand(rng, shape, dtype, scale=1.0, shift=0.0):
    return (rng.standard_normal(shape) * scale + shift).astype(dtype)


# ------------------------------------------------------------------ batch_norm
BN_SHAPES = [(16, 5), (4, 5, 7), (3, 5, 4, 3), (2, 5, 1, 2, 3), (1, 5, 4), (2, 5)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", BN_SHAPES)
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_matches_torch(rng, dtype, shape, training, affine):
    C = shape[1]
    x = rand(rng, shape, dtype, 2.0, 3.0)
    w, b = (rand(rng, (C,), dtype), rand(rng, (C,), dtype)) if affine else (None, None)
    rm, rv = rand(rng, (C,), dtype), rng.uniform(0.5, 2.0, C).astype(dtype)
    g_rm, g_rv = gn.tensor(rm), gn.tensor(rv)
    t_rm, t_rv = torch.tensor(rm), torch.tensor(rv)
    parity(lambda x, w, b: F.batch_norm(x, g_rm, g_rv, w, b, training, 0.2, 1e-4),
           lambda x, w, b: TF.batch_norm(x, t_rm, t_rv, w, b, training, 0.2, 1e-4),
           [x, w, b], dtype, rng, grad_tol=GRAD_TOL[dtype])
    # Running stats: updated in place in training (unbiased variance), untouched in evaluation.
    np.testing.assert_allclose(g_rm.numpy(), t_rm.numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(g_rv.numpy(), t_rv.numpy(), rtol=1e-6, atol=1e-6)
    if not training:
        np.testing.assert_array_equal(g_rm.numpy(), rm)


def test_batch_norm_running_var_is_unbiased(rng):
    x = rand(rng, (6, 3, 5), np.float64)
    rm, rv = gn.zeros(3, dtype=gn.float64), gn.ones(3, dtype=gn.float64)
    F.batch_norm(gn.tensor(x), rm, rv, training=True, momentum=0.25)
    np.testing.assert_allclose(rm.numpy(), 0.25 * x.mean(axis=(0, 2)), rtol=1e-12)
    np.testing.assert_allclose(rv.numpy(), 0.75 + 0.25 * x.var(axis=(0, 2), ddof=1), rtol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_batch_norm_without_running_stats(rng, dtype):
    x, w, b = rand(rng, (8, 4, 3), dtype), rand(rng, (4,), dtype), rand(rng, (4,), dtype)
    parity(lambda x, w, b: F.batch_norm(x, None, None, w, b, True),
           lambda x, w, b: TF.batch_norm(x, None, None, w, b, True), [x, w, b], dtype, rng,
           grad_tol=GRAD_TOL[dtype])


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_non_contiguous_input(rng, training):
    # x seen through a transpose of its last two dims, and as a step slice.
    rm, rv = rand(rng, (4,), np.float64), rng.uniform(0.5, 2, 4)
    for shape, view in [((3, 4, 6, 5), lambda t: t.transpose(-1, -2)), ((6, 8), lambda t: t[:, ::2])]:
        x = rand(rng, shape, np.float64)
        g_rm, g_rv, t_rm, t_rv = gn.tensor(rm), gn.tensor(rv), torch.tensor(rm), torch.tensor(rv)
        parity(lambda x: F.batch_norm(x, g_rm, g_rv, training=training),
               lambda x: TF.batch_norm(x, t_rm, t_rv, training=training), [x], np.float64, rng, views=[view])
        np.testing.assert_allclose(g_rv.numpy(), t_rv.numpy(), rtol=1e-12)


def test_batch_norm_empty_batch_leaves_running_stats(rng):
    rm, rv = gn.tensor([1.0, 2.0]), gn.tensor([3.0, 4.0])
    out = F.batch_norm(gn.zeros(0, 2, 3), rm, rv, training=True)
    assert tuple(out.shape) == (0, 2, 3)
    np.testing.assert_array_equal(rm.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(rv.numpy(), [3.0, 4.0])


def test_batch_norm_no_grad_into_running_stats(rng):
    rm = gn.zeros(3, requires_grad=False)
    rv = gn.ones(3)
    x = gn.tensor(rand(rng, (5, 3), np.float32), requires_grad=True)
    F.batch_norm(x, rm, rv, training=True).backward(gn.ones(5, 3))
    assert rm.grad is None and rv.grad is None and rm.grad_fn is None
    # Gradient of a normalised batch with a constant upstream gradient is zero.
    np.testing.assert_allclose(x.grad.numpy(), 0, atol=1e-5)


def test_batch_norm_gradcheck(rng):
    for training in (True, False):
        x = gn.tensor(rand(rng, (4, 3, 2), np.float64), requires_grad=True)
        w = gn.tensor(rand(rng, (3,), np.float64), requires_grad=True)
        b = gn.tensor(rand(rng, (3,), np.float64), requires_grad=True)
        rm, rv = gn.tensor(rand(rng, (3,), np.float64)), gn.tensor(rng.uniform(0.5, 2, 3))
        # momentum 0 keeps the running stats fixed across gradcheck's many calls.
        assert gn.autograd.gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training, 0.0), (x, w, b))


def test_batch_norm_bad_input():
    C = 3
    rm, rv = gn.zeros(C), gn.ones(C)
    with pytest.raises(ValueError, match=r"\[batch_norm\] expected more than 1 value per channel.*\(1, 3\)"):
        F.batch_norm(gn.zeros(1, C), rm, rv, training=True)
    with pytest.raises(ValueError, match=r"\[batch_norm\] expected input of shape \(N, C\).*got \(4,\)"):
        F.batch_norm(gn.zeros(4), rm, rv)
    with pytest.raises(ValueError, match=r"\[batch_norm\] expected running_mean of shape \(3,\).*\(4, 3\), got \(4,\)"):
        F.batch_norm(gn.zeros(4, C), gn.zeros(4), rv, training=True)
    with pytest.raises(ValueError, match=r"\[batch_norm\] expected running_var of shape \(3,\)"):
        F.batch_norm(gn.zeros(4, C), rm, gn.ones(2, 2))
    with pytest.raises(ValueError, match=r"\[batch_norm\] expected weight of shape \(3,\).*got \(4,\)"):
        F.batch_norm(gn.zeros(4, C), rm, rv, weight=gn.ones(4))
    with pytest.raises(ValueError, match=r"\[batch_norm\] expected bias of shape \(3,\)"):
        F.batch_norm(gn.zeros(4, C, 2), rm, rv, bias=gn.ones(2))
    with pytest.raises(ValueError, match=r"running_mean and running_var must be given in evaluation mode"):
        F.batch_norm(gn.zeros(4, C), None, None, training=False)
    with pytest.raises(TypeError, match=r"\[batch_norm\] expected running_mean to have the input's dtype float32"):
        F.batch_norm(gn.zeros(4, C), gn.zeros(C, dtype=gn.float64), gn.ones(C, dtype=gn.float64), training=True)
    with pytest.raises(TypeError, match=r"\[batch_norm\] expected a float32 or float64 input, got int64"):
        F.batch_norm(gn.zeros(4, C, dtype=gn.int64), rm, rv)


# ------------------------------------------------------------------ layer_norm
LN_CASES = [((4, 6), (6,)), ((3, 4, 5), (4, 5)), ((2, 3, 7), (7,)), ((1, 9), (9,)), ((5,), (5,)), ((0, 5), (5,)),
            ((2, 3, 4), (2, 3, 4)), ((4, 0), (0,))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,normalized", LN_CASES)
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_matches_torch(rng, dtype, shape, normalized, affine):
    x = rand(rng, shape, dtype, 2.0, 5.0)
    w, b = (rand(rng, normalized, dtype), rand(rng, normalized, dtype)) if affine else (None, None)
    parity(lambda x, w, b: F.layer_norm(x, normalized, w, b, 1e-5),
           lambda x, w, b: TF.layer_norm(x, normalized, w, b, 1e-5), [x, w, b], dtype, rng,
           grad_tol=GRAD_TOL[dtype])


def test_layer_norm_weight_only_and_int_shape(rng):
    x, w = rand(rng, (3, 4), np.float64), rand(rng, (4,), np.float64)
    parity(lambda x, w: F.layer_norm(x, 4, w), lambda x, w: TF.layer_norm(x, (4,), w), [x, w], np.float64, rng)


def test_layer_norm_non_contiguous(rng):
    x, w, b = rand(rng, (3, 8, 5), np.float64), rand(rng, (8,), np.float64), rand(rng, (16,), np.float64)
    parity(lambda x, w, b: F.layer_norm(x, (8,), w, b), lambda x, w, b: TF.layer_norm(x, (8,), w, b),
           [x, w, b], np.float64, rng, views=[lambda t: t.transpose(-1, -2), None, lambda t: t[::2]])


def test_layer_norm_gradcheck(rng):
    x = gn.tensor(rand(rng, (3, 2, 4), np.float64), requires_grad=True)
    w = gn.tensor(rand(rng, (2, 4), np.float64), requires_grad=True)
    b = gn.tensor(rand(rng, (2, 4), np.float64), requires_grad=True)
    assert gn.autograd.gradcheck(lambda x, w, b: F.layer_norm(x, (2, 4), w, b), (x, w, b))


def test_layer_norm_bad_input():
    with pytest.raises(ValueError, match=r"\[layer_norm\] given normalized_shape=\(4,\), expected input of shape "
                                         r"\(\*, 4\), got \(4, 5\)"):
        F.layer_norm(gn.zeros(4, 5), (4,))
    with pytest.raises(ValueError, match=r"\[layer_norm\] expected weight of shape \(5,\).*got \(4,\)"):
        F.layer_norm(gn.zeros(4, 5), (5,), weight=gn.ones(4))
    with pytest.raises(ValueError, match=r"\[layer_norm\] given normalized_shape=\(2, 3, 5\)"):
        F.layer_norm(gn.zeros(3, 5), (2, 3, 5))


# ------------------------------------------------------------------ group_norm
GN_CASES = [((4, 6, 5), 3), ((3, 4), 2), ((2, 6, 2, 3), 6), ((2, 6, 2, 3), 1), ((1, 4, 3), 2), ((0, 6, 2), 3),
            ((2, 6, 0), 3)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,groups", GN_CASES)
@pytest.mark.parametrize("affine", [True, False])
def test_group_norm_matches_torch(rng, dtype, shape, groups, affine):
    C = shape[1]
    x = rand(rng, shape, dtype, 2.0, -3.0)
    w, b = (rand(rng, (C,), dtype), rand(rng, (C,), dtype)) if affine else (None, None)
    # Over empty groups torch's weight gradient is NaN (0/0 statistics) and
    # glassnet's the empty sum, 0: compare the input's gradient only there.
    grads = [True, affine, affine] if shape[-1] else [True, False, False]
    tol = GRAD_TOL[dtype]
    if shape == (3, 4):  # two values per group: rstd is large and amplifies rounding
        tol = dict(rtol=1e-3, atol=1e-3) if dtype == np.float32 else dict(rtol=1e-8, atol=1e-10)
    parity(lambda x, w, b: F.group_norm(x, groups, w, b, 1e-5),
           lambda x, w, b: TF.group_norm(x, groups, w, b, 1e-5), [x, w, b], dtype, rng, grads=grads, grad_tol=tol)


def test_group_norm_non_contiguous(rng):
    x, w, b = rand(rng, (2, 6, 5, 4), np.float64), rand(rng, (6,), np.float64), rand(rng, (6,), np.float64)
    parity(lambda x, w, b: F.group_norm(x, 2, w, b), lambda x, w, b: TF.group_norm(x, 2, w, b), [x, w, b],
           np.float64, rng, views=[lambda t: t.transpose(-1, -2), None, None])


def test_group_norm_gradcheck(rng):
    x = gn.tensor(rand(rng, (2, 4, 3), np.float64), requires_grad=True)
    w = gn.tensor(rand(rng, (4,), np.float64), requires_grad=True)
    b = gn.tensor(rand(rng, (4,), np.float64), requires_grad=True)
    assert gn.autograd.gradcheck(lambda x, w, b: F.group_norm(x, 2, w, b), (x, w, b))


def test_group_norm_bad_input():
    with pytest.raises(ValueError, match=r"\[group_norm\] expected the number of channels of input \(4, 6, 3\) "
                                         r"to be divisible by num_groups=4"):
        F.group_norm(gn.zeros(4, 6, 3), 4)
    with pytest.raises(ValueError, match=r"\[group_norm\] expected weight of shape \(6,\).*got \(5,\)"):
        F.group_norm(gn.zeros(4, 6, 3), 3, weight=gn.ones(5))
    with pytest.raises(ValueError, match=r"\[group_norm\] expected input of shape \(N, C, \*\).*got \(4,\)"):
        F.group_norm(gn.zeros(4), 1)
    with pytest.raises(ValueError, match=r"num_groups=0"):
        F.group_norm(gn.zeros(2, 4), 0)


# ------------------------------------------------------------------ multi-threaded sizes
@pytest.mark.parametrize("threads", [1, 4])
def test_norms_at_sizes_that_use_threads(rng, threads):
    # Large enough that every kernel splits its loops across the pool.
    before = gn.get_num_threads()
    gn.set_num_threads(threads)
    try:
        x = rand(rng, (32, 48, 12, 12), np.float64, 1.5, 0.5)
        w, b = rand(rng, (48,), np.float64), rand(rng, (48,), np.float64)
        rm, rv = rand(rng, (48,), np.float64), rng.uniform(0.5, 2, 48)
        g_rm, g_rv, t_rm, t_rv = gn.tensor(rm), gn.tensor(rv), torch.tensor(rm), torch.tensor(rv)
        parity(lambda x, w, b: F.batch_norm(x, g_rm, g_rv, w, b, True),
               lambda x, w, b: TF.batch_norm(x, t_rm, t_rv, w, b, True), [x, w, b], np.float64, rng)
        np.testing.assert_allclose(g_rv.numpy(), t_rv.numpy(), rtol=1e-12)
        parity(lambda x, w, b: F.group_norm(x, 8, w, b), lambda x, w, b: TF.group_norm(x, 8, w, b), [x, w, b],
               np.float64, rng)
        x2, w2, b2 = rand(rng, (4096, 96), np.float64), rand(rng, (96,), np.float64), rand(rng, (96,), np.float64)
        parity(lambda x, w, b: F.batch_norm(x, None, None, w, b, True),
               lambda x, w, b: TF.batch_norm(x, None, None, w, b, True), [x2, w2, b2], np.float64, rng)
        parity(lambda x, w, b: F.layer_norm(x, (96,), w, b), lambda x, w, b: TF.layer_norm(x, (96,), w, b),
               [x2, w2, b2], np.float64, rng)
    finally:
        gn.set_num_threads(before)


@pytest.mark.parametrize("case", ["batch_train", "batch_eval", "layer", "group"])
def test_norms_double_backward_matches_torch(rng, case):
    # create_graph=True: the gradient is built from differentiable ops; a
    # gradient penalty Σ(∂L/∂x)² is then differentiated into x, weight and bias.
    x, w, b = rand(rng, (4, 6, 3), np.float64), rand(rng, (6,), np.float64), rand(rng, (6,), np.float64)
    rm, rv = rand(rng, (6,), np.float64), rng.uniform(0.5, 2, 6)
    fns = {
        "batch_train": (lambda m, x, w, b, s: m.batch_norm(x, None, None, w, b, True)),
        "batch_eval": (lambda m, x, w, b, s: m.batch_norm(x, s.tensor(rm), s.tensor(rv), w, b, False)),
        "layer": (lambda m, x, w, b, s: m.layer_norm(x, (3,), w[:3], b[:3])),
        "group": (lambda m, x, w, b, s: m.group_norm(x, 3, w, b)),
    }
    fn = fns[case]
    results = []
    for lib, mod in ((gn, F), (torch, TF)):
        xs, ws, bs = (lib.tensor(a, requires_grad=True) for a in (x, w, b))
        out = fn(mod, xs, ws, bs, lib)
        loss_grad = lib.tensor(rng.standard_normal(tuple(out.shape)) if lib is gn else results[0][0])
        (gx,) = lib.autograd.grad(out.tanh(), [xs], grad_outputs=[loss_grad], create_graph=True)
        (gx * gx).backward(lib.ones(*gx.shape, dtype=lib.float64))
        results.append((loss_grad.numpy(), gx.detach().numpy(), xs.grad.numpy(), ws.grad.numpy(), bs.grad.numpy()))
    for got, want in zip(results[0][1:], results[1][1:]):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11)


def test_backward_kernels_reject_inconsistent_arguments():
    # Straight into _C with statistics or gradients of the wrong shape: typed
    # errors, never a crash (run in a subprocess so a crash fails the test only).
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent("""
        import numpy as np
        from glassnet import _C
        T = lambda *s: _C.from_numpy(np.ones(s))
        x, g = T(4, 3, 2), T(4, 3, 2)
        cases = [
            lambda: _C.batch_norm_backward(g, x, None, T(2), T(3), True, True, True, True),
            lambda: _C.batch_norm_backward(T(4, 3), x, None, T(3), T(3), True, True, True, True),
            lambda: _C.layer_norm_backward(g, x, [2], None, T(3), T(12), True, True, True),
            lambda: _C.layer_norm_backward(g, x, [5], None, T(12), T(12), True, True, True),
            lambda: _C.group_norm_backward(g, x, 3, None, T(4), T(12), True, True, True),
            lambda: _C.group_norm_backward(g, x, 2, T(3), T(8), T(8), True, True, True),
            lambda: _C.batch_norm_forward(x, T(3), T(3), None, None, True, 0.1, 1e-5) and
                    _C.batch_norm_forward(x, T(3), T(2), None, None, True, 0.1, 1e-5),
        ]
        for i, case in enumerate(cases):
            try:
                case()
            except (ValueError, TypeError) as e:
                assert str(e).startswith("["), e
            else:
                raise SystemExit(f"case {i} did not raise")
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr + result.stdout
