"""F.embedding against torch: lookups of any index shape, the dense weight
gradient with duplicates, padding_idx, scale_grad_by_freq and max_norm, and
the errors for out-of-range indices and bad shapes or dtypes."""
import numpy as np
import pytest

import glassnet as gn
import glassnet.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-14)}


def run_both(rng, dtype, idx, V, D, view=None, **kw):
    """Forward and weight gradient of glassnet and torch on the same weight and indices."""
    w = rng.standard_normal((V, D)).astype(dtype)
    gw, tw = gn.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    gi, ti = gn.tensor(np.asarray(idx, dtype=np.int64)), torch.tensor(np.asarray(idx, dtype=np.int64))
    if view is not None:
        gi, ti = view(gi), view(ti)
    gout, tout = F.embedding(gi, gw, **kw), TF.embedding(ti, tw, **kw)
    assert tuple(gout.shape) == tuple(tout.shape)
    np.testing.assert_allclose(gout.detach().numpy(), tout.detach().numpy(), **TOL[dtype])
    g = rng.standard_normal(tuple(tout.shape)).astype(dtype)
    gout.backward(gn.tensor(g))
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(gw.grad.numpy(), tw.grad.numpy(), **TOL[dtype])
    return gw, tw


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("idx", [[3, 1, 4, 1, 5], [[0, 9, 2], [9, 9, 0]], 7, [], [[[2]]]])
def test_embedding_matches_torch(rng, dtype, idx):
    run_both(rng, dtype, idx, 10, 4)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("padding_idx", [0, 3, -1, -10])
def test_embedding_padding_idx_gets_no_gradient(rng, dtype, padding_idx):
    idx = [[0, 3, 9, 3], [3, 2, 0, 9]]
    gw, _ = run_both(rng, dtype, idx, 10, 5, padding_idx=padding_idx)
    np.testing.assert_array_equal(gw.grad.numpy()[padding_idx], 0)


@pytest.mark.parametrize("padding_idx", [None, 1])
def test_embedding_scale_grad_by_freq(rng, padding_idx):
    idx = [[1, 2, 1, 1], [4, 2, 0, 1]]
    run_both(rng, np.float64, idx, 6, 3, padding_idx=padding_idx, scale_grad_by_freq=True)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
def test_embedding_max_norm_renormalises_weight_in_place(rng, norm_type):
    idx = [[0, 2, 2], [5, 1, 0]]
    gw, tw = run_both(rng, np.float64, idx, 7, 4, max_norm=1.0, norm_type=norm_type)
    np.testing.assert_allclose(gw.detach().numpy(), tw.detach().numpy(), rtol=1e-12)
    # Rows that were looked up now have norm <= max_norm; the others are untouched.
    norms = np.linalg.norm(gw.detach().numpy(), ord=norm_type, axis=1)
    assert np.all(norms[[0, 1, 2, 5]] <= 1.0 + 1e-9)


def test_embedding_non_contiguous_indices_and_weight(rng):
    run_both(rng, np.float32, [[1, 2, 3], [4, 5, 6]], 8, 3, view=lambda t: t.t())
    w = rng.standard_normal((6, 10))
    gw = gn.tensor(w, requires_grad=True)
    out = F.embedding(gn.tensor([[0, 5], [2, 2]]), gw[:, ::2])
    np.testing.assert_array_equal(out.detach().numpy(), w[:, ::2][[[0, 5], [2, 2]]])
    out.backward(gn.ones(2, 2, 5, dtype=gn.float64))
    expected = np.zeros((6, 10))
    expected[[0, 5], ::2] = 1
    expected[2, ::2] = 2
    np.testing.assert_array_equal(gw.grad.numpy(), expected)


def test_embedding_sparse_flag_gives_dense_gradient(rng):
    w = gn.tensor(rng.standard_normal((5, 2)), requires_grad=True)
    F.embedding(gn.tensor([1, 1, 3]), w, sparse=True).backward(gn.ones(3, 2, dtype=gn.float64))
    np.testing.assert_array_equal(w.grad.numpy(), [[0, 0], [2, 2], [0, 0], [1, 1], [0, 0]])


def test_embedding_gradcheck(rng):
    w = gn.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    idx = gn.tensor([[0, 4, 4], [2, 0, 1]])
    assert gn.autograd.gradcheck(lambda w: F.embedding(idx, w), (w,))


def test_embedding_bad_input(rng):
    w = gn.tensor(rng.standard_normal((10, 3)))
    with pytest.raises(IndexError, match=r"\[embedding\] index 10 is out of range .*num_embeddings=10"):
        F.embedding(gn.tensor([1, 10]), w)
    with pytest.raises(IndexError, match=r"\[embedding\] index -1 is out of range .*num_embeddings=10"):
        F.embedding(gn.tensor([-1]), w)
    with pytest.raises(TypeError, match=r"\[embedding\] expected int64 indices, got float32"):
        F.embedding(gn.tensor([1.0]), w)
    with pytest.raises(ValueError, match=r"\[embedding\] expected a 2-D weight .*got shape \(10,\)"):
        F.embedding(gn.tensor([1]), gn.zeros(10))
    with pytest.raises(ValueError, match=r"\[embedding\] padding_idx=10 must be within num_embeddings=10"):
        F.embedding(gn.tensor([1]), w, padding_idx=10)
    with pytest.raises(ValueError, match=r"padding_idx=-11"):
        F.embedding(gn.tensor([1]), w, padding_idx=-11)


@pytest.mark.parametrize("kw", [{}, {"padding_idx": 2}])
def test_embedding_double_backward(rng, kw):
    # The weight gradient is linear in the output gradient: differentiating it
    # with respect to an upstream parameter must match torch.
    w, idx, s = rng.standard_normal((5, 3)), [[1, 2, 2], [4, 1, 1]], rng.standard_normal((2, 3, 3))
    results = []
    for lib, mod in ((gn, F), (torch, TF)):
        ws, ss = lib.tensor(w, requires_grad=True), lib.tensor(s, requires_grad=True)
        out = mod.embedding(lib.tensor(idx), ws, **kw) * ss
        (gw,) = lib.autograd.grad(out, [ws], grad_outputs=[lib.ones(2, 3, 3, dtype=lib.float64)], create_graph=True)
        (gw * gw).backward(lib.ones(5, 3, dtype=lib.float64))
        results.append((gw.detach().numpy(), ss.grad.numpy()))
    for got, want in zip(*results):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_embedding_double_backward_with_frequency_scaling(rng):
    # gw[v] = Σ_{i: idx_i = v} s_i / count(v), so ∂Σ gw²/∂s_i = 2·gw[idx_i] / count(idx_i).
    # (torch's double backward leaves out the 1/count here, so the reference is the formula.)
    w, idx, s = rng.standard_normal((5, 3)), np.array([1, 2, 2, 4, 1, 1]), rng.standard_normal((6, 3))
    ws, ss = gn.tensor(w, requires_grad=True), gn.tensor(s, requires_grad=True)
    out = F.embedding(gn.tensor(idx), ws, scale_grad_by_freq=True) * ss
    (gw,) = gn.autograd.grad(out, [ws], grad_outputs=[gn.ones(6, 3, dtype=gn.float64)], create_graph=True)
    count = np.bincount(idx, minlength=5)
    expected_gw = np.zeros((5, 3))
    np.add.at(expected_gw, idx, s / count[idx][:, None])
    np.testing.assert_allclose(gw.detach().numpy(), expected_gw, rtol=1e-12)
    (gw * gw).backward(gn.ones(5, 3, dtype=gn.float64))
    np.testing.assert_allclose(ss.grad.numpy(), 2 * expected_gw[idx] / count[idx][:, None], rtol=1e-12)


def test_embedding_backward_kernel_rejects_inconsistent_arguments():
    from glassnet import _C

    idx = _C.from_numpy(np.array([[1, 2], [0, 3]]))
    with pytest.raises(ValueError, match=r"\[embedding_backward\] grad of shape \(2, 3, 4\) does not fit indices"):
        _C.embedding_backward(_C.from_numpy(np.ones((2, 3, 4))), idx, 5, None, False)
    with pytest.raises(IndexError, match=r"\[embedding_backward\] index 3 is out of range"):
        _C.embedding_backward(_C.from_numpy(np.ones((2, 2, 4))), idx, 3, None, False)
    with pytest.raises(ValueError, match=r"\[embedding_backward\] padding_idx=5"):
        _C.embedding_backward(_C.from_numpy(np.ones((2, 2, 4))), idx, 5, 5, False)
