"""One helper compares a glassnet op with a reference on the same inputs, as
tinygrad's helper_test_op: forward values, then the gradients of a weighted
sum of the output with respect to every input."""
import numpy as np

import glassnet as gn

TOLERANCES = {np.float32: dict(rtol=1e-4, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}


def torch_or_none():
    try:
        import torch
    except ImportError:
        return None
    return torch


def make_inputs(shapes, dtype, rng, low=-2.0, high=2.0, views=None):
    """Random float arrays; views[i] (a function) turns input i into a non-contiguous view."""
    arrays = [rng.uniform(low, high, size=s).astype(dtype) for s in shapes]
    return arrays


def compare(gn_fn, ref_fn, arrays, dtype, rng, grad=True, view=None, atol=None, rtol=None):
    """Runs gn_fn on glassnet tensors and ref_fn on torch tensors made from the
    same arrays; `view` (optional) is applied to every input on both sides
    first, to exercise non-contiguous strides."""
    import torch

    tol = dict(TOLERANCES[dtype])
    if atol is not None:
        tol["atol"] = atol
    if rtol is not None:
        tol["rtol"] = rtol
    gx = [gn.tensor(a, requires_grad=grad) for a in arrays]
    tx = [torch.tensor(a, requires_grad=grad) for a in arrays]
    gin = [view(t) if view else t for t in gx]
    tin = [view(t) if view else t for t in tx]
    gout, tout = gn_fn(*gin), ref_fn(*tin)
    np.testing.assert_allclose(gout.detach().numpy(), tout.detach().numpy(), **tol)
    assert tuple(gout.shape) == tuple(tout.shape)
    assert gout.dtype.name == str(tout.dtype).replace("torch.", "")
    if not grad or not gout.dtype.is_floating_point:
        return
    weights = rng.standard_normal(tuple(tout.shape)).astype(dtype)
    (gout * gn.tensor(weights)).sum().backward()
    (tout * torch.tensor(weights)).sum().backward()
    for g, t in zip(gx, tx):
        if t.grad is None:
            assert g.grad is None or np.all(g.grad.numpy() == 0)
            continue
        assert g.grad is not None, "glassnet produced no gradient where torch did"
        np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), **tol)
