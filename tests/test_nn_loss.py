"""glassnet.nn.functional losses against torch: forward values and the
gradients of a random weighting of the output with respect to every input,
for float32 and float64, all reductions, class weights, ignore_index, label
smoothing, broadcasting, non-contiguous views and empty batches; gradcheck in
float64; bad input raising typed errors."""
import warnings

import numpy as np
import pytest

import glassnet as gn
import glassnet.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

TOL = {np.float32: dict(rtol=1e-4, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}
DTYPES = [np.float32, np.float64]
REDUCTIONS = ["none", "mean", "sum"]


def check(gn_fn, torch_fn, inputs, dtype, view=None, tol=None, quiet_torch=False):
    """inputs: list of (array, requires_grad). Compares outputs, then the
    gradients of Σ w·out (w random, of the output's shape) for each input that
    requires grad. `view` maps each float input to a non-contiguous view."""
    tol = tol or TOL[dtype]
    g_leaves = [gn.tensor(a, requires_grad=rg) for a, rg in inputs]
    t_leaves = [torch.tensor(a, requires_grad=rg) for a, rg in inputs]
    if view is not None:
        g_in = [view(t) if t.dtype.is_floating_point else t for t in g_leaves]
        t_in = [view(t) if t.is_floating_point() else t for t in t_leaves]
    else:
        g_in, t_in = g_leaves, t_leaves
    g_out = gn_fn(*g_in)
    with warnings.catch_warnings():
        if quiet_torch:
            warnings.simplefilter("ignore")
        t_out = torch_fn(*t_in)
    assert tuple(g_out.shape) == tuple(t_out.shape)
    assert g_out.dtype.name == str(t_out.dtype).replace("torch.", "")
    np.testing.assert_allclose(g_out.detach().numpy(), t_out.detach().numpy(), equal_nan=True, **tol)
    if not any(rg for _, rg in inputs):
        return
    w = np.random.default_rng(7).standard_normal(tuple(t_out.shape)).astype(g_out.dtype.name)
    g_out.backward(gn.tensor(w))
    t_out.backward(torch.tensor(w))
    for g, t, (_, rg) in zip(g_leaves, t_leaves, inputs):
        if not rg:
            continue
        assert g.grad is not None, "glassnet gave no gradient where torch did"
        np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), equal_nan=True, **tol)


def transposed(t):
    """A non-contiguous view with the same shape: the data laid out transposed."""
    if t.ndim < 2:
        return t
    return t.transpose(0, t.ndim - 1).contiguous().transpose(0, t.ndim - 1)


# ---- cross entropy, class indices -----------------------------------------------------

CE_SHAPES = [(7, 5), (3, 4, 2, 3), (5,)]


def class_targets(rng, shape, ignore_index):
    """Valid class indices for input `shape`, a few replaced by ignore_index."""
    C = shape[0] if len(shape) == 1 else shape[1]
    tshape = () if len(shape) == 1 else (shape[0],) + shape[2:]
    y = rng.integers(0, C, size=tshape)
    if y.ndim and y.size > 2:
        y.flat[[0, y.size // 2]] = ignore_index
    return y, C


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore_index", [-100, 1])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
@pytest.mark.parametrize("shape", CE_SHAPES)
def test_cross_entropy_class_indices(rng, dtype, reduction, weighted, ignore_index, label_smoothing, shape):
    x = rng.standard_normal(shape).astype(dtype) * 3
    y, C = class_targets(rng, shape, ignore_index)
    w = rng.uniform(0.2, 2.0, size=C).astype(dtype) if weighted else None
    kw = dict(ignore_index=ignore_index, reduction=reduction, label_smoothing=label_smoothing)
    check(lambda a, t: F.cross_entropy(a, t, weight=None if w is None else gn.tensor(w), **kw),
          lambda a, t: TF.cross_entropy(a, t, weight=None if w is None else torch.tensor(w), **kw),
          [(x, True), (y, False)], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_non_contiguous(rng, dtype):
    x = rng.standard_normal((6, 4, 3)).astype(dtype)
    y = rng.integers(0, 4, size=(6, 3))
    check(lambda a, t: F.cross_entropy(a, t), lambda a, t: TF.cross_entropy(a, t), [(x, True), (y, False)], dtype,
          view=transposed)
    # A non-contiguous target too.
    yt = np.ascontiguousarray(y.T)
    check(lambda a, t: F.cross_entropy(a, t.t(), reduction="none"),
          lambda a, t: TF.cross_entropy(a, t.t(), reduction="none"), [(x, True), (yt, False)], dtype)


def test_cross_entropy_is_stable_for_huge_scores(rng):
    x = (rng.standard_normal((4, 6)) * 1e4).astype(np.float32)
    y = rng.integers(0, 6, size=4)
    check(lambda a, t: F.cross_entropy(a, t, label_smoothing=0.1),
          lambda a, t: TF.cross_entropy(a, t, label_smoothing=0.1), [(x, True), (y, False)], np.float32)
    assert np.isfinite(F.cross_entropy(gn.tensor(x), gn.tensor(y)).item())


def test_cross_entropy_keeps_small_losses_at_large_scores():
    # -log p = log(1 + e^-12) ≈ 6e-6 at scores near 1000, below float32's
    # spacing there (6e-5): computing (max - x_y) + log Σ keeps it.
    x = np.array([[1000.0, 988.0], [988.0, 1000.0]], np.float32)
    y = np.array([0, 1])
    check(lambda a, t: F.cross_entropy(a, t, reduction="none"),
          lambda a, t: TF.cross_entropy(a, t, reduction="none"), [(x, True), (y, False)], np.float32)
    assert F.cross_entropy(gn.tensor(x), gn.tensor(y)).item() == pytest.approx(np.log1p(np.exp(-12.0)), rel=1e-4)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_all_ignored(rng, reduction):
    x = rng.standard_normal((3, 4)).astype(np.float32)
    y = np.full(3, -100)
    check(lambda a, t: F.cross_entropy(a, t, reduction=reduction, label_smoothing=0.2),
          lambda a, t: TF.cross_entropy(a, t, reduction=reduction, label_smoothing=0.2), [(x, True), (y, False)],
          np.float32)
    if reduction == "mean":
        assert np.isnan(F.cross_entropy(gn.tensor(x), gn.tensor(y)).item())


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(0, 4), (0, 4, 3), (2, 3, 0)])
def test_cross_entropy_empty_batch(reduction, shape):
    x = np.zeros(shape, np.float32)
    y = np.zeros((shape[0],) + shape[2:], np.int64)
    check(lambda a, t: F.cross_entropy(a, t, reduction=reduction),
          lambda a, t: TF.cross_entropy(a, t, reduction=reduction), [(x, True), (y, False)], np.float32)
    check(lambda a, t: F.cross_entropy(a, t.float(), reduction=reduction),
          lambda a, t: TF.cross_entropy(a, t.float(), reduction=reduction),
          [(x, True), (np.zeros(shape, np.int64), False)], np.float32)


# ---- cross entropy, class probabilities -----------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
@pytest.mark.parametrize("shape", [(6, 4), (2, 3, 5), (4,)])
def test_cross_entropy_probabilities(rng, dtype, reduction, weighted, label_smoothing, shape):
    C = shape[0] if len(shape) == 1 else shape[1]
    x = rng.standard_normal(shape).astype(dtype)
    p = rng.uniform(0, 1, size=shape).astype(dtype)
    w = rng.uniform(0.2, 2.0, size=C).astype(dtype) if weighted else None
    kw = dict(reduction=reduction, label_smoothing=label_smoothing)
    check(lambda a, t: F.cross_entropy(a, t, weight=None if w is None else gn.tensor(w), **kw),
          lambda a, t: TF.cross_entropy(a, t, weight=None if w is None else torch.tensor(w), **kw),
          [(x, True), (p, True)], dtype)


def test_cross_entropy_probabilities_promote_dtype(rng):
    x = rng.standard_normal((3, 4)).astype(np.float32)
    p = rng.uniform(0, 1, size=(3, 4))
    check(F.cross_entropy, TF.cross_entropy, [(x, True), (p, True)], np.float32)


# ---- nll_loss ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore_index", [-100, 2])
@pytest.mark.parametrize("shape", CE_SHAPES)
def test_nll_loss(rng, dtype, reduction, weighted, ignore_index, shape):
    x = rng.standard_normal(shape).astype(dtype)
    y, C = class_targets(rng, shape, ignore_index)
    w = rng.uniform(0.2, 2.0, size=C).astype(dtype) if weighted else None
    kw = dict(ignore_index=ignore_index, reduction=reduction)
    check(lambda a, t: F.nll_loss(a, t, weight=None if w is None else gn.tensor(w), **kw),
          lambda a, t: TF.nll_loss(a, t, weight=None if w is None else torch.tensor(w), **kw),
          [(x, True), (y, False)], dtype)


def test_nll_loss_non_contiguous_and_empty(rng):
    x = rng.standard_normal((5, 3, 2)).astype(np.float64)
    y = rng.integers(0, 3, size=(5, 2))
    check(F.nll_loss, TF.nll_loss, [(x, True), (y, False)], np.float64, view=transposed)
    check(F.nll_loss, TF.nll_loss, [(np.zeros((0, 3)), True), (np.zeros(0, np.int64), False)], np.float64)


# ---- regression losses --------------------------------------------------------------------

REGRESSION = [
    ("mse", lambda a, b, r: F.mse_loss(a, b, reduction=r), lambda a, b, r: TF.mse_loss(a, b, reduction=r)),
    ("l1", lambda a, b, r: F.l1_loss(a, b, reduction=r), lambda a, b, r: TF.l1_loss(a, b, reduction=r)),
    ("smooth_l1", lambda a, b, r: F.smooth_l1_loss(a, b, reduction=r),
     lambda a, b, r: TF.smooth_l1_loss(a, b, reduction=r)),
    ("smooth_l1_beta0.4", lambda a, b, r: F.smooth_l1_loss(a, b, reduction=r, beta=0.4),
     lambda a, b, r: TF.smooth_l1_loss(a, b, reduction=r, beta=0.4)),
    ("smooth_l1_beta0", lambda a, b, r: F.smooth_l1_loss(a, b, reduction=r, beta=0.0),
     lambda a, b, r: TF.smooth_l1_loss(a, b, reduction=r, beta=0.0)),
    ("huber", lambda a, b, r: F.huber_loss(a, b, reduction=r), lambda a, b, r: TF.huber_loss(a, b, reduction=r)),
    ("huber_delta2.5", lambda a, b, r: F.huber_loss(a, b, reduction=r, delta=2.5),
     lambda a, b, r: TF.huber_loss(a, b, reduction=r, delta=2.5)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,gn_fn,torch_fn", REGRESSION, ids=[r[0] for r in REGRESSION])
@pytest.mark.parametrize("shapes", [((4, 5), (4, 5)), ((3, 4), (4,)), ((2, 1, 3), (4, 1)), ((0, 3), (0, 3)),
                                    ((), ())])
def test_regression_losses(rng, dtype, reduction, name, gn_fn, torch_fn, shapes):
    a = np.asarray(rng.standard_normal(shapes[0]) * 2).astype(dtype)
    b = np.asarray(rng.standard_normal(shapes[1]) * 2).astype(dtype)
    if a.shape == b.shape and a.size > 2:
        b.flat[0] = a.flat[0]  # a zero difference: the kink of l1 and the boundary cases
    check(lambda x, t: gn_fn(x, t, reduction), lambda x, t: torch_fn(x, t, reduction), [(a, True), (b, True)],
          dtype, quiet_torch=True)


@pytest.mark.parametrize("name,gn_fn,torch_fn", REGRESSION, ids=[r[0] for r in REGRESSION])
def test_regression_losses_non_contiguous(rng, name, gn_fn, torch_fn):
    a, b = rng.standard_normal((2, 5, 3))
    check(lambda x, t: gn_fn(x, t, "mean"), lambda x, t: torch_fn(x, t, "mean"), [(a, True), (b, True)],
          np.float64, view=transposed)


def test_regression_losses_promote_dtypes(rng):
    a = rng.standard_normal((3, 4)).astype(np.float32)
    b = rng.standard_normal((3, 4))
    check(F.mse_loss, TF.mse_loss, [(a, True), (b, True)], np.float32)
    out = F.l1_loss(gn.tensor(a), gn.tensor(np.ones((3, 4), np.int64)))
    assert out.dtype is gn.float32
    np.testing.assert_allclose(out.item(), np.abs(a - 1).mean(), rtol=1e-6)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("fn", ["mse_loss", "l1_loss", "huber_loss"])
def test_weighted_regression_losses(rng, reduction, fn):
    a, b = rng.standard_normal((2, 3, 4))
    w = rng.uniform(0.1, 2, size=(3, 4))
    check(lambda x, t: getattr(F, fn)(x, t, reduction=reduction, weight=gn.tensor(w)),
          lambda x, t: getattr(TF, fn)(x, t, reduction=reduction, weight=torch.tensor(w)),
          [(a, True), (b, True)], np.float64)


# ---- binary cross entropy ------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight_shape", [None, (4,), (3, 4)])
def test_binary_cross_entropy(rng, dtype, reduction, weight_shape):
    p = rng.uniform(0.02, 0.98, size=(3, 4)).astype(dtype)
    t = rng.uniform(0, 1, size=(3, 4)).astype(dtype)
    w = None if weight_shape is None else rng.uniform(0.1, 2, size=weight_shape).astype(dtype)
    check(lambda x, y: F.binary_cross_entropy(x, y, weight=None if w is None else gn.tensor(w), reduction=reduction),
          lambda x, y: TF.binary_cross_entropy(x, y, weight=None if w is None else torch.tensor(w),
                                               reduction=reduction),
          [(p, True), (t, True)], dtype)


def test_binary_cross_entropy_clamps_log_at_the_ends():
    # p = 0 or 1 against the opposite label: log clamped to -100, gradient by the 1e-12 floor.
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.5])
    t = np.array([1.0, 0.0, 0.0, 1.0, 0.5])
    for r in REDUCTIONS:
        check(lambda x, y: F.binary_cross_entropy(x, y, reduction=r),
              lambda x, y: TF.binary_cross_entropy(x, y, reduction=r), [(p, True), (t, False)], np.float64)
    assert F.binary_cross_entropy(gn.tensor([0.0]), gn.tensor([1.0])).item() == 100.0


def test_binary_cross_entropy_non_contiguous_and_empty(rng):
    p = rng.uniform(0.05, 0.95, size=(4, 3))
    t = rng.uniform(0, 1, size=(4, 3))
    check(F.binary_cross_entropy, TF.binary_cross_entropy, [(p, True), (t, True)], np.float64, view=transposed)
    check(F.binary_cross_entropy, TF.binary_cross_entropy, [(np.zeros((0, 2)), True), (np.zeros((0, 2)), True)],
          np.float64)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight_shape", [None, (5,), (4, 5)])
@pytest.mark.parametrize("pos_weight", [False, True])
def test_binary_cross_entropy_with_logits(rng, dtype, reduction, weight_shape, pos_weight):
    x = (rng.standard_normal((4, 5)) * 4).astype(dtype)
    x[0, :2] = [60.0, -60.0]  # far into both tails: no overflow
    t = rng.uniform(0, 1, size=(4, 5)).astype(dtype)
    w = None if weight_shape is None else rng.uniform(0.1, 2, size=weight_shape).astype(dtype)
    pw = rng.uniform(0.5, 3, size=5).astype(dtype) if pos_weight else None

    def run(lib, fn):
        def f(a, b):
            return fn(a, b, weight=None if w is None else lib.tensor(w),
                      pos_weight=None if pw is None else lib.tensor(pw), reduction=reduction)
        return f

    check(run(gn, F.binary_cross_entropy_with_logits), run(torch, TF.binary_cross_entropy_with_logits),
          [(x, True), (t, True)], dtype)


def test_binary_cross_entropy_with_logits_non_contiguous(rng):
    x, t = rng.standard_normal((2, 3, 6))
    check(F.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits, [(x, True), (t, True)],
          np.float64, view=transposed)


def test_binary_cross_entropy_with_logits_weight_must_not_require_grad():
    x, t = gn.zeros(2, 3, requires_grad=True), gn.ones(2, 3)
    w = gn.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="weight"):
        F.binary_cross_entropy_with_logits(x, t, weight=w)
    assert F.binary_cross_entropy_with_logits(x, t, weight=w.detach()).item() == pytest.approx(np.log(2))


# ---- kl_div --------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["none", "sum", "batchmean", "mean"])
@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("shapes", [((3, 5), (3, 5)), ((3, 5), (5,)), ((0, 4), (0, 4))])
def test_kl_div(rng, dtype, reduction, log_target, shapes):
    x = np.log(rng.uniform(0.05, 1, size=shapes[0])).astype(dtype)
    t = rng.uniform(0.05, 1, size=shapes[1]).astype(dtype)
    if log_target:
        t = np.log(t)
    elif t.size > 1:
        t.flat[1] = 0.0  # 0 log 0 = 0; torch's target gradient there is nan
    gn_fn = lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target)  # noqa: E731
    if reduction == "mean":
        with pytest.warns(UserWarning, match="batchmean"):
            check(gn_fn, lambda a, b: TF.kl_div(a, b, reduction=reduction, log_target=log_target),
                  [(x, True), (t, True)], dtype, quiet_torch=True)
    else:
        check(gn_fn, lambda a, b: TF.kl_div(a, b, reduction=reduction, log_target=log_target),
              [(x, True), (t, True)], dtype)


def test_kl_div_non_contiguous(rng):
    x = np.log(rng.uniform(0.05, 1, size=(4, 3)))
    t = rng.uniform(0.05, 1, size=(4, 3))
    check(lambda a, b: F.kl_div(a, b, reduction="batchmean"), lambda a, b: TF.kl_div(a, b, reduction="batchmean"),
          [(x, True), (t, True)], np.float64, view=transposed)


# ---- gradcheck in float64 -------------------------------------------------------------------


def _leaf(a, rg=True):
    return gn.tensor(np.asarray(a, np.float64), requires_grad=rg)


def test_gradcheck_classification(rng):
    x = _leaf(rng.standard_normal((4, 3, 2)))
    y = gn.tensor(np.array([[0, 2], [1, -100], [2, 2], [0, 1]]))
    w = gn.tensor(rng.uniform(0.5, 2, size=3))
    assert gn.autograd.gradcheck(lambda a: F.cross_entropy(a, y, weight=w, label_smoothing=0.2), (x,))
    assert gn.autograd.gradcheck(lambda a: F.cross_entropy(a, y, reduction="none"), (x,))
    assert gn.autograd.gradcheck(lambda a: F.nll_loss(a, y, weight=w, reduction="sum"), (x,))
    p = _leaf(rng.uniform(0, 1, size=(4, 3, 2)))
    assert gn.autograd.gradcheck(lambda a, b: F.cross_entropy(a, b, weight=w, label_smoothing=0.1), (x, p))


def test_gradcheck_regression_and_binary(rng):
    a = _leaf(rng.standard_normal((3, 4)))
    b = _leaf(rng.standard_normal((4,)))
    for fn in (F.mse_loss, F.l1_loss, lambda x, t: F.smooth_l1_loss(x, t, beta=0.7),
               lambda x, t: F.huber_loss(x, t, delta=0.8, reduction="sum")):
        assert gn.autograd.gradcheck(fn, (a, b))
    p = _leaf(rng.uniform(0.1, 0.9, size=(3, 4)))
    t = _leaf(rng.uniform(0, 1, size=(3, 4)))
    w = gn.tensor(rng.uniform(0.5, 2, size=4))
    assert gn.autograd.gradcheck(lambda x, y: F.binary_cross_entropy(x, y, weight=w), (p, t))
    assert gn.autograd.gradcheck(lambda x, y: F.binary_cross_entropy_with_logits(x, y, weight=w, pos_weight=w),
                                 (a, t))
    lx = _leaf(np.log(rng.uniform(0.1, 1, size=(3, 4))))
    assert gn.autograd.gradcheck(lambda x, y: F.kl_div(x, y, reduction="batchmean"), (lx, t))
    assert gn.autograd.gradcheck(lambda x, y: F.kl_div(x, y, reduction="sum", log_target=True), (lx, a))


# ---- bad input --------------------------------------------------------------------------------


def test_target_out_of_range_names_value_and_classes():
    x = gn.zeros(3, 4)
    for bad in (7, -3):
        with pytest.raises(IndexError, match=rf"target {bad} .*4 classes"):
            F.cross_entropy(x, gn.tensor([0, bad, 1]))
        with pytest.raises(IndexError, match=rf"target {bad} .*4 classes"):
            F.nll_loss(x, gn.tensor([0, 1, bad]))


def test_shape_mismatches_name_both_shapes():
    with pytest.raises(ValueError, match=r"\(2,\).*\(3, 4\)|\(3, 4\).*\(2,\)"):
        F.cross_entropy(gn.zeros(3, 4), gn.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"\(3, 5\).*\(3, 4, 5\)"):
        F.nll_loss(gn.zeros(3, 4, 5), gn.zeros(3, 4, dtype=gn.int64))
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(3, 5\)|\(3, 5\).*\(3, 4\)"):
        F.cross_entropy(gn.zeros(3, 4), gn.zeros(3, 5))
    with pytest.raises(ValueError, match=r"\(3,\)"):
        F.cross_entropy(gn.zeros(3, 4), gn.tensor([0, 1, 2]), weight=gn.ones(3))
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(5,\)|\(5,\).*\(3, 4\)"):
        F.mse_loss(gn.zeros(3, 4), gn.zeros(5))
    with pytest.raises(ValueError, match=r"\(4,\).*\(3, 4\)"):
        F.binary_cross_entropy(gn.full((3, 4), 0.5), gn.zeros(4))
    with pytest.raises(ValueError, match=r"\(4,\).*\(3, 4\)"):
        F.binary_cross_entropy_with_logits(gn.zeros(3, 4), gn.zeros(4))
    with pytest.raises(ValueError, match=r"\(3, 4\)"):
        F.mse_loss(gn.zeros(3, 4), gn.zeros(3, 4), weight=gn.ones(4))


def test_wrong_dtypes_raise_type_error():
    with pytest.raises(TypeError, match="bool"):
        F.cross_entropy(gn.zeros(3, 4), gn.tensor([True, False, True]))
    with pytest.raises(TypeError, match="int64"):
        F.nll_loss(gn.zeros(3, 4), gn.zeros(3))
    with pytest.raises(TypeError, match="int64"):
        F.cross_entropy(gn.zeros(3, 4, dtype=gn.int64), gn.tensor([0, 1, 2]))
    with pytest.raises(TypeError, match="float64"):
        F.cross_entropy(gn.zeros(3, 4, dtype=gn.float64), gn.tensor([0, 1, 2]), weight=gn.ones(4))
    with pytest.raises(TypeError):
        F.mse_loss(gn.zeros(3, dtype=gn.int64), gn.zeros(3, dtype=gn.int64))
    with pytest.raises(TypeError, match="Tensor"):
        F.mse_loss([1.0], gn.zeros(1))


def test_bad_arguments():
    x, y = gn.zeros(3, 4), gn.tensor([0, 1, 2])
    with pytest.raises(ValueError, match="foo is not a valid value for reduction"):
        F.cross_entropy(x, y, reduction="foo")
    with pytest.raises(ValueError, match="batchmean"):
        F.mse_loss(x, x, reduction="batchmean")
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(x, y, label_smoothing=1.5)
    with pytest.raises(ValueError, match="beta"):
        F.smooth_l1_loss(x, x, beta=-1.0)
    with pytest.raises(ValueError, match="delta"):
        F.huber_loss(x, x, delta=0.0)
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(gn.full((2,), 1.5), gn.zeros(2))
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(gn.full((2,), 0.5), gn.full((2,), -0.5))
    with pytest.raises(ValueError, match="ignore_index"):
        F.cross_entropy(x, gn.zeros(3, 4), ignore_index=1)
    with pytest.raises(RuntimeError, match="weight"):
        F.nll_loss(x, y, weight=gn.ones(4, requires_grad=True))
    with pytest.raises(ValueError, match="0-d"):
        F.cross_entropy(gn.tensor(1.0), gn.tensor(0))


def test_legacy_size_average_and_reduce(rng):
    a, b = gn.tensor(rng.standard_normal(5)), gn.tensor(rng.standard_normal(5))
    with pytest.warns(UserWarning, match="reduction"):
        s = F.mse_loss(a, b, size_average=False)
    with pytest.warns(UserWarning, match="reduction"):
        n = F.mse_loss(a, b, reduce=False)
    assert s.item() == pytest.approx(((a.numpy() - b.numpy()) ** 2).sum())
    assert tuple(n.shape) == (5,)


def test_double_backward_is_refused():
    x = gn.tensor([[0.5, -1.0, 2.0]], requires_grad=True)
    loss = F.cross_entropy(x, gn.tensor([2]))
    with pytest.raises(RuntimeError, match="double backward"):
        gn.autograd.grad(loss, x, create_graph=True)


@pytest.mark.parametrize("name", ["mse", "bce", "bce_logits", "kl", "ce_prob"])
def test_gradient_for_the_target_alone(rng, name):
    x = rng.uniform(0.1, 0.9, size=(3, 4))
    t = rng.uniform(0.1, 0.9, size=(3, 4))
    fns = {"mse": (F.mse_loss, TF.mse_loss),
           "bce": (F.binary_cross_entropy, TF.binary_cross_entropy),
           "bce_logits": (F.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits),
           "kl": (lambda a, b: F.kl_div(a, b, reduction="sum"), lambda a, b: TF.kl_div(a, b, reduction="sum")),
           "ce_prob": (F.cross_entropy, TF.cross_entropy)}
    check(*fns[name], [(x, False), (t, True)], np.float64)


def test_large_inputs_split_over_threads_match_torch_and_each_other(rng):
    # Sizes past the kernels' per-thread grains and the 4096-element sum
    # blocks; the result must not depend on the thread count.
    x = rng.standard_normal((3000, 7))
    y = rng.integers(0, 7, size=3000)
    a, b = rng.standard_normal((2, 200, 100))
    for r in REDUCTIONS:
        check(lambda s, t: F.cross_entropy(s, t, reduction=r, label_smoothing=0.1),
              lambda s, t: TF.cross_entropy(s, t, reduction=r, label_smoothing=0.1), [(x, True), (y, False)],
              np.float64)
        check(lambda s, t: F.mse_loss(s, t, reduction=r), lambda s, t: TF.mse_loss(s, t, reduction=r),
              [(a, True), (b, True)], np.float64)
    threads = gn.get_num_threads()
    try:
        results = []
        for n in (1, 4):
            gn.set_num_threads(n)
            xs = gn.tensor(x.astype(np.float32))
            results.append((F.cross_entropy(xs, gn.tensor(y)).item(),
                            F.mse_loss(gn.tensor(a.astype(np.float32)), gn.tensor(b.astype(np.float32))).item()))
        assert results[0] == results[1]
    finally:
        gn.set_num_threads(threads)
