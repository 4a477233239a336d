"""nn.utils: gradient clipping against torch, parameter vectors."""
import math

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn


def _params_with_grads(rng, shapes, dtype=np.float32, scale=1.0):
    arrays = [(rng.standard_normal(s) * scale).astype(dtype) for s in shapes]
    grads = [(rng.standard_normal(s) * scale).astype(dtype) for s in shapes]
    params = []
    for a, g in zip(arrays, grads):
        p = nn.Parameter(gn.tensor(a))
        p.grad = gn.tensor(g)
        params.append(p)
    return arrays, grads, params


SHAPES = [(3, 4), (4,), (2, 2, 2), (1,)]


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_clip_grad_norm_matches_torch(rng, norm_type, max_norm, dtype):
    torch = pytest.importorskip("torch")
    arrays, grads, params = _params_with_grads(rng, SHAPES, dtype)
    tparams = []
    for a, g in zip(arrays, grads):
        p = torch.nn.Parameter(torch.tensor(a))
        p.grad = torch.tensor(g)
        tparams.append(p)
    total = nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(tparams, max_norm, norm_type=norm_type)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)
    assert total.shape == ()
    np.testing.assert_allclose(total.numpy(), ttotal.numpy(), **tol)
    for p, tp in zip(params, tparams):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), **tol)
    if max_norm < 1:
        clipped = np.concatenate([p.grad.numpy().ravel() for p in params]).astype(np.float64)
        ord_ = np.inf if norm_type == math.inf else norm_type
        assert np.linalg.norm(clipped, ord=ord_) <= max_norm * (1 + 1e-5)


def test_clip_grad_norm_single_tensor_generator_and_missing_grads(rng):
    _, grads, params = _params_with_grads(rng, [(5,), (3,)])
    params[1].grad = None
    total = nn.utils.clip_grad_norm_(params[0], 1e6)
    assert total.item() == pytest.approx(np.linalg.norm(grads[0]), rel=1e-6)
    total = nn.utils.clip_grad_norm_((p for p in params), 1e6)
    assert total.item() == pytest.approx(np.linalg.norm(grads[0]), rel=1e-6)
    assert params[1].grad is None
    empty = nn.utils.clip_grad_norm_([nn.Parameter(gn.zeros(2))], 1.0)
    assert empty.item() == 0.0


def test_clip_grad_norm_nonfinite(rng):
    _, _, params = _params_with_grads(rng, [(3,)])
    with gn.no_grad():
        params[0].grad.fill_(float("nan"))
    total = nn.utils.clip_grad_norm_(params, 1.0)
    assert math.isnan(total.item())
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)


def test_clip_grad_norm_on_a_trained_module_matches_torch(rng):
    torch = pytest.importorskip("torch")
    g_model, t_model = nn.Linear(6, 3), torch.nn.Linear(6, 3)
    g_model.load_state_dict({k: v.detach().numpy() for k, v in t_model.state_dict().items()})
    x = rng.standard_normal((8, 6)).astype(np.float32) * 10
    (g_model(gn.tensor(x)) ** 2).sum().backward()
    (t_model(torch.tensor(x)) ** 2).sum().backward()
    total = nn.utils.clip_grad_norm_(g_model.parameters(), 0.1)
    ttotal = torch.nn.utils.clip_grad_norm_(t_model.parameters(), 0.1)
    np.testing.assert_allclose(total.numpy(), ttotal.numpy(), rtol=1e-5)
    np.testing.assert_allclose(g_model.weight.grad.numpy(), t_model.weight.grad.numpy(), rtol=1e-4, atol=1e-7)


def test_get_total_norm_and_clip_grads_with_norm(rng):
    _, grads, params = _params_with_grads(rng, SHAPES)
    total = nn.utils.get_total_norm([p.grad for p in params])
    flat = np.concatenate([g.ravel() for g in grads]).astype(np.float64)
    assert total.item() == pytest.approx(np.linalg.norm(flat), rel=1e-6)
    nn.utils.clip_grads_with_norm_(params, 1.0, total)
    clipped = np.concatenate([p.grad.numpy().ravel() for p in params])
    assert np.linalg.norm(clipped) == pytest.approx(1.0, rel=1e-5)


def test_clip_grad_value(rng):
    torch = pytest.importorskip("torch")
    arrays, grads, params = _params_with_grads(rng, SHAPES, scale=2.0)
    tparams = []
    for a, g in zip(arrays, grads):
        p = torch.nn.Parameter(torch.tensor(a))
        p.grad = torch.tensor(g)
        tparams.append(p)
    nn.utils.clip_grad_value_(params, 0.7)
    torch.nn.utils.clip_grad_value_(tparams, 0.7)
    for p, tp in zip(params, tparams):
        np.testing.assert_array_equal(p.grad.numpy(), tp.grad.numpy())
        assert np.abs(p.grad.numpy()).max() <= 0.7


def test_parameters_to_vector_and_back(rng):
    arrays, _, params = _params_with_grads(rng, SHAPES)
    vec = nn.utils.parameters_to_vector(params)
    np.testing.assert_array_equal(vec.detach().numpy(), np.concatenate([a.ravel() for a in arrays]))
    assert vec.requires_grad  # differentiable, as torch
    (vec * 2).sum().backward()
    new = gn.arange(vec.numel(), dtype=gn.float32)
    nn.utils.vector_to_parameters(new, params)
    offset = 0
    for p, s in zip(params, SHAPES):
        n = int(np.prod(s))
        assert tuple(p.shape) == s and isinstance(p, nn.Parameter)
        np.testing.assert_array_equal(p.detach().numpy(), np.arange(offset, offset + n).reshape(s))
        offset += n
    with pytest.raises(TypeError, match="expected vec to be a Tensor"):
        nn.utils.vector_to_parameters(np.zeros(3), params)
    with pytest.raises(ValueError, match="does not hold"):
        nn.utils.vector_to_parameters(gn.zeros(3), params)


def test_parameters_to_vector_matches_torch_on_a_module():
    torch = pytest.importorskip("torch")
    t_model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2))
    g_model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    g_model.load_state_dict({k: v.numpy() for k, v in t_model.state_dict().items()})
    np.testing.assert_array_equal(nn.utils.parameters_to_vector(g_model.parameters()).detach().numpy(),
                                  torch.nn.utils.parameters_to_vector(t_model.parameters()).detach().numpy())


def test_l1_and_l2_penalties_value_and_gradient(rng):
    from glassnet.nn.utils import l1_penalty, l2_penalty

    model = gn.nn.Linear(4, 3)
    weights = [p.detach().numpy().copy() for p in model.parameters()]
    l1 = l1_penalty(model, 0.01)
    np.testing.assert_allclose(l1.item(), 0.01 * sum(np.abs(w).sum() for w in weights), rtol=1e-6)
    l1.backward()
    for p, w in zip(model.parameters(), weights):
        np.testing.assert_allclose(p.grad.numpy(), 0.01 * np.sign(w), rtol=1e-6)
    model.zero_grad()
    l2 = l2_penalty(model.parameters(), 0.1)
    np.testing.assert_allclose(l2.item(), 0.05 * sum((w ** 2).sum() for w in weights), rtol=1e-6)
    l2.backward()
    for p, w in zip(model.parameters(), weights):
        np.testing.assert_allclose(p.grad.numpy(), 0.1 * w, rtol=1e-6)
    with pytest.raises(ValueError, match="penal"):
        l1_penalty([])
