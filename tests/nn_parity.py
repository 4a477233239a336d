"""Parity helper for the nn.functional tests: the same arrays through a
glassnet function and a torch function, forward values compared, then the
gradients of every input that requires grad after backpropagating one random
output gradient through both (Tensor.backward(gradient), no reduction op)."""
import numpy as np

import glassnet as gn

TOL = {np.float32: dict(rtol=1e-4, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}


def parity(gn_fn, torch_fn, arrays, dtype, rng, grads=None, views=None, tol=None, grad_tol=None):
    """arrays: numpy inputs (None passes None); grads[i]: input i requires grad
    (default: every float array); views[i]: a function turning input i into a
    view on both sides (same function, applied to gn and torch tensors).
    Returns the glassnet and torch outputs."""
    import torch

    tol = dict(tol or TOL[dtype])
    grad_tol = dict(grad_tol or tol)
    n = len(arrays)
    grads = grads if grads is not None else [a is not None and np.issubdtype(np.asarray(a).dtype, np.floating)
                                             for a in arrays]
    views = views or [None] * n
    gx = [None if a is None else gn.tensor(a, requires_grad=bool(g)) for a, g in zip(arrays, grads)]
    tx = [None if a is None else torch.tensor(a, requires_grad=bool(g)) for a, g in zip(arrays, grads)]
    gin = [t if v is None or t is None else v(t) for t, v in zip(gx, views)]
    tin = [t if v is None or t is None else v(t) for t, v in zip(tx, views)]
    gout, tout = gn_fn(*gin), torch_fn(*tin)
    assert tuple(gout.shape) == tuple(tout.shape)
    assert gout.dtype.name == str(tout.dtype).replace("torch.", "")
    np.testing.assert_allclose(gout.detach().numpy(), tout.detach().numpy(), **tol)
    if not any(grads) or not tout.requires_grad:
        return gout, tout
    w = rng.standard_normal(tuple(tout.shape)).astype(dtype)
    gout.backward(gn.tensor(w))
    tout.backward(torch.tensor(w))
    for i, (g, t) in enumerate(zip(gx, tx)):
        if t is None or not grads[i]:
            continue
        if t.grad is None:
            assert g.grad is None or not np.any(g.grad.numpy()), f"input {i}: torch gave no gradient"
            continue
        assert g.grad is not None, f"input {i}: glassnet produced no gradient where torch did"
        np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), err_msg=f"gradient of input {i}", **grad_tol)
    return gout, tout


def transposed(t):
    """A non-contiguous view with the same contents as the original layout:
    the caller passes arrays whose last two dims are swapped."""
    return t.transpose(-1, -2)
