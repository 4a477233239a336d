"""glassnet.optim against torch.optim, step for step.

Both libraries start from the same numpy weights and receive the same numpy
gradients on every step; parameters and optimiser state must agree after
each step, for every optimiser and option combination, in float32 and
float64. Also: parameter groups, skipped parameters, strided parameters,
state_dict round trips, zero_grad, closures, the one-call-per-group
contract and every validation error.
"""
import numpy as np
import pytest

import glassnet as gn
from glassnet import optim

torch = pytest.importorskip("torch")

SHAPES = [(5, 3), (7,), (2, 3, 2), (), (0, 4)]
TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-10, atol=1e-12)}

CASES = {
    "SGD": [
        dict(lr=0.1),
        dict(lr=0.1, momentum=0.9),
        dict(lr=0.05, momentum=0.9, dampening=0.3),
        dict(lr=0.05, momentum=0.8, nesterov=True),
        dict(lr=0.05, momentum=0.9, weight_decay=0.05, nesterov=True, maximize=True),
        dict(lr=0.1, weight_decay=0.1),
        dict(lr=0.1, maximize=True),
        dict(lr=0.02, momentum=0.5, dampening=0.5, weight_decay=0.2),
    ],
    "Adam": [
        dict(lr=0.01),
        dict(lr=0.05, weight_decay=0.1),
        dict(lr=0.05, amsgrad=True),
        dict(lr=0.05, maximize=True),
        dict(lr=0.02, betas=(0.8, 0.9), eps=1e-6),
        dict(lr=0.05, amsgrad=True, weight_decay=0.3, maximize=True),
    ],
    "AdamW": [
        dict(),
        dict(lr=0.05, weight_decay=0.1),
        dict(lr=0.05, amsgrad=True),
        dict(lr=0.05, weight_decay=0.5, amsgrad=True, maximize=True, betas=(0.5, 0.6)),
    ],
    "RMSprop": [
        dict(),
        dict(lr=0.01, momentum=0.9),
        dict(lr=0.01, centered=True),
        dict(lr=0.01, centered=True, momentum=0.5),
        dict(lr=0.01, weight_decay=0.1, alpha=0.9),
        dict(lr=0.01, maximize=True, eps=1e-4, momentum=0.3, centered=True, weight_decay=0.05),
    ],
    "Adagrad": [
        dict(),
        dict(lr=0.1, lr_decay=0.1),
        dict(lr=0.1, weight_decay=0.1),
        dict(lr=0.1, initial_accumulator_value=0.5),
        dict(lr=0.1, maximize=True, eps=1e-6),
        dict(lr=0.1, lr_decay=0.05, weight_decay=0.2, initial_accumulator_value=0.1, maximize=True),
    ],
}
PARAMS = [(name, kw) for name, cases in CASES.items() for kw in cases]


def ids(case):
    name, kw = case
    return name + "-" + ",".join(f"{k}={v}" for k, v in kw.items())


def torch_opt(name, params, **kw):
    return getattr(torch.optim, name)(params, foreach=False, **kw)


def as_np(t):
    return t.detach().numpy()


class Pair:
    """The same parameters in both libraries, fed the same gradients."""

    def __init__(self, dtype, shapes=SHAPES, seed=0):
        self.dtype = dtype
        self.shapes = shapes
        self.rng = np.random.default_rng(seed)
        inits = [self.rng.standard_normal(s).astype(dtype) for s in shapes]
        self.gn = [gn.tensor(w, requires_grad=True) for w in inits]
        self.torch = [torch.tensor(w, requires_grad=True) for w in inits]

    def set_grads(self, which=None):
        for i, s in enumerate(self.shapes):
            g = self.rng.standard_normal(s).astype(self.dtype)
            if which is not None and i not in which:
                self.gn[i].grad = None
                self.torch[i].grad = None
                continue
            self.gn[i].grad = gn.tensor(g)
            self.torch[i].grad = torch.tensor(g)

    def check(self):
        for a, b in zip(self.gn, self.torch):
            assert a.dtype.name == str(b.dtype).replace("torch.", "")
            np.testing.assert_allclose(as_np(a), as_np(b), **TOL[self.dtype])


def check_state(gn_opt, t_opt, dtype):
    gs, ts = gn_opt.state_dict(), t_opt.state_dict()
    assert sorted(gs["state"]) == sorted(ts["state"])
    for i, tstate in ts["state"].items():
        assert set(gs["state"][i]) == set(tstate)
        for key, tv in tstate.items():
            gv = gs["state"][i][key]
            assert isinstance(gv, gn.Tensor)
            np.testing.assert_allclose(as_np(gv), as_np(tv), **TOL[dtype])
    for gg, tg in zip(gs["param_groups"], ts["param_groups"]):
        assert gg["params"] == tg["params"]
        for key, value in gg.items():
            assert tg[key] == value, key


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", PARAMS, ids=[ids(c) for c in PARAMS])
def test_matches_torch_step_for_step(case, dtype):
    name, kw = case
    pair = Pair(dtype)
    g_opt = getattr(optim, name)(pair.gn, **kw)
    t_opt = torch_opt(name, pair.torch, **kw)
    for _ in range(8):
        pair.set_grads()
        g_opt.step()
        t_opt.step()
        pair.check()
    check_state(g_opt, t_opt, dtype)


def test_defaults_match_torch():
    p = gn.zeros(3, requires_grad=True)
    tp = torch.zeros(3, requires_grad=True)
    for name in CASES:
        g_group = getattr(optim, name)([p]).param_groups[0]
        t_group = getattr(torch.optim, name)([tp]).param_groups[0]
        for key, value in g_group.items():
            if key != "params":
                assert t_group[key] == value, (name, key)


@pytest.mark.parametrize("name", list(CASES))
def test_param_groups_with_their_own_options(name):
    pair = Pair(np.float64)
    overrides = {"SGD": dict(momentum=0.5), "Adam": dict(betas=(0.7, 0.8)), "AdamW": dict(weight_decay=0.3),
                 "RMSprop": dict(centered=True), "Adagrad": dict(lr_decay=0.2)}[name]
    base = dict(lr=0.05, momentum=0.9) if name == "SGD" else dict(lr=0.05)

    def groups(params):
        return [{"params": params[:2]}, dict(params=params[2:], lr=0.01, **overrides)]

    g_opt = getattr(optim, name)(groups(pair.gn), **base)
    t_opt = torch_opt(name, groups(pair.torch), **base)
    assert len(g_opt.param_groups) == 2 and g_opt.param_groups[1]["lr"] == 0.01
    for _ in range(6):
        pair.set_grads()
        g_opt.step()
        t_opt.step()
        pair.check()
    check_state(g_opt, t_opt, np.float64)


@pytest.mark.parametrize("name", list(CASES))
def test_add_param_group_later(name):
    pair = Pair(np.float64)
    g_opt = getattr(optim, name)(pair.gn[:2], lr=0.05)
    t_opt = torch_opt(name, pair.torch[:2], lr=0.05)
    for step in range(6):
        if step == 2:
            g_opt.add_param_group({"params": pair.gn[2:], "lr": 0.02})
            t_opt.add_param_group({"params": pair.torch[2:], "lr": 0.02})
        pair.set_grads()
        g_opt.step()
        t_opt.step()
        pair.check()


@pytest.mark.parametrize("name", list(CASES))
def test_params_without_grad_are_skipped(name):
    pair = Pair(np.float32)
    kw = dict(lr=0.1, momentum=0.9) if name == "SGD" else dict(lr=0.1)
    g_opt = getattr(optim, name)(pair.gn, **kw)
    t_opt = torch_opt(name, pair.torch, **kw)
    before = [as_np(p).copy() for p in pair.gn]
    for step, which in enumerate([{0, 2}, {0, 1, 2}, {1}, {0, 1, 2, 3, 4}]):
        pair.set_grads(which)
        g_opt.step()
        t_opt.step()
        pair.check()
        if step == 0:
            np.testing.assert_array_equal(as_np(pair.gn[1]), before[1])
            np.testing.assert_array_equal(as_np(pair.gn[3]), before[3])
    check_state(g_opt, t_opt, np.float32)


@pytest.mark.parametrize("name", list(CASES))
def test_strided_params_and_grads(name):
    """A transposed parameter is updated through its view, and its storage
    holds the result; a transposed gradient reads correctly."""
    rng = np.random.default_rng(3)
    w = rng.standard_normal((4, 6))
    base = gn.tensor(w.T.copy())
    p = base.transpose(0, 1).requires_grad_(True)
    assert not p.is_contiguous()
    tp = torch.tensor(w, requires_grad=True)
    kw = dict(lr=0.1, momentum=0.9, nesterov=True) if name == "SGD" else dict(lr=0.1)
    if name == "RMSprop":
        kw.update(momentum=0.5, centered=True)
    g_opt = getattr(optim, name)([p], **kw)
    t_opt = torch_opt(name, [tp], **kw)
    for _ in range(5):
        g = rng.standard_normal((4, 6))
        p.grad = gn.tensor(g.T.copy()).transpose(0, 1)
        tp.grad = torch.tensor(g)
        g_opt.step()
        t_opt.step()
        np.testing.assert_allclose(as_np(p), as_np(tp), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(as_np(base), as_np(tp).T, rtol=1e-10, atol=1e-12)


def test_updates_write_through_shared_storage():
    """The step writes into the parameter's storage: other views see it."""
    p = gn.tensor(np.ones(6), requires_grad=True)
    alias = p.detach()
    p.grad = gn.tensor(np.arange(6.0))
    optim.SGD([p], lr=0.5).step()
    np.testing.assert_array_equal(as_np(alias), 1 - 0.5 * np.arange(6.0))


@pytest.mark.parametrize("case", PARAMS, ids=[ids(c) for c in PARAMS])
def test_state_dict_round_trip_continues_identically(case):
    name, kw = case
    a = Pair(np.float32, seed=5)
    opt = getattr(optim, name)(a.gn, **kw)
    grads = [[a.rng.standard_normal(s).astype(np.float32) for s in a.shapes] for _ in range(8)]

    def feed(params, step):
        for p, g in zip(params, grads[step]):
            p.grad = gn.tensor(g)

    for step in range(4):
        feed(a.gn, step)
        opt.step()
    saved = opt.state_dict()
    resumed_params = [gn.tensor(as_np(p).copy(), requires_grad=True) for p in a.gn]
    resumed = getattr(optim, name)(resumed_params, lr=123.0)  # hyper-parameters come from the checkpoint
    resumed.load_state_dict(saved)
    assert resumed.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    for step in range(4, 8):
        feed(a.gn, step)
        opt.step()
        feed(resumed_params, step)
        resumed.step()
        for x, y in zip(a.gn, resumed_params):
            np.testing.assert_array_equal(as_np(x), as_np(y))


def test_loaded_state_is_a_copy_and_cast_to_the_param_dtype():
    a = Pair(np.float64)
    opt = optim.Adam(a.gn, lr=0.1)
    a.set_grads()
    opt.step()
    saved = opt.state_dict()
    b = [gn.tensor(as_np(p).astype(np.float32), requires_grad=True) for p in a.gn]
    other = optim.Adam(b, lr=0.1)
    other.load_state_dict(saved)
    exp_avg = other.state[b[0]]["exp_avg"]
    assert exp_avg.dtype == gn.float32
    assert other.state[b[0]]["step"].dtype == gn.float32
    before = as_np(saved["state"][0]["exp_avg"]).copy()
    a.set_grads()
    opt.step()  # mutates the original buffers, not the loaded copies
    np.testing.assert_allclose(as_np(exp_avg), before.astype(np.float32))


def test_state_dict_survives_a_json_style_round_trip():
    """String indices, numpy arrays and a plain number for "step", as a
    checkpoint written as safetensors + JSON gives them back."""
    a = Pair(np.float64, seed=2)
    opt = optim.RMSprop(a.gn, lr=0.01, momentum=0.9, centered=True)
    a.set_grads()
    opt.step()
    a.set_grads()
    opt.step()
    sd = opt.state_dict()
    plain = {
        "state": {str(i): {k: (as_np(v).copy() if k != "step" else float(v.item())) for k, v in s.items()}
                  for i, s in sd["state"].items()},
        "param_groups": [dict(g) for g in sd["param_groups"]],
    }
    copy = [gn.tensor(as_np(p).copy(), requires_grad=True) for p in a.gn]
    other = optim.RMSprop(copy)
    other.load_state_dict(plain)
    a.set_grads()
    for p, q in zip(a.gn, copy):
        q.grad = p.grad
    opt.step()
    other.step()
    for p, q in zip(a.gn, copy):
        np.testing.assert_array_equal(as_np(p), as_np(q))
    assert other.state[copy[0]]["step"].item() == 3


def test_state_dict_layout_matches_torch_for_sgd_momentum():
    a = Pair(np.float32)
    g_opt = optim.SGD([{"params": a.gn[:3]}, {"params": a.gn[3:], "lr": 0.5}], lr=0.1, momentum=0.9)
    t_opt = torch_opt("SGD", [{"params": a.torch[:3]}, {"params": a.torch[3:], "lr": 0.5}], lr=0.1, momentum=0.9)
    a.set_grads({0, 2, 4})
    g_opt.step()
    t_opt.step()
    gs, ts = g_opt.state_dict(), t_opt.state_dict()
    assert [g["params"] for g in gs["param_groups"]] == [[0, 1, 2], [3, 4]]
    assert sorted(gs["state"]) == sorted(ts["state"]) == [0, 2, 4]
    check_state(g_opt, t_opt, np.float32)


def test_load_state_dict_rejects_a_mismatched_layout():
    a = Pair(np.float32)
    opt = optim.SGD(a.gn, lr=0.1, momentum=0.9)
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="parameter groups"):
        optim.SGD([{"params": a.gn[:2]}, {"params": a.gn[2:]}]).load_state_dict(sd)
    with pytest.raises(ValueError, match="group 0 has 5 parameters"):
        optim.SGD(a.gn[:3]).load_state_dict(sd)
    a.set_grads()
    opt.step()
    sd = opt.state_dict()
    sd["state"][0]["momentum_buffer"] = gn.zeros(2, 2)
    with pytest.raises(ValueError, match="momentum_buffer"):
        optim.SGD(a.gn, momentum=0.9).load_state_dict(sd)


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    a = Pair(np.float32)
    opt = optim.SGD(a.gn, lr=0.1)
    a.set_grads({0, 1})
    kept = a.gn[0].grad
    opt.zero_grad(set_to_none=set_to_none)
    if set_to_none:
        assert all(p.grad is None for p in a.gn)
    else:
        assert a.gn[0].grad is kept
        np.testing.assert_array_equal(as_np(a.gn[0].grad), np.zeros(SHAPES[0], np.float32))
        assert a.gn[2].grad is None


def test_step_runs_closure_with_grad_enabled_and_returns_its_loss():
    p = gn.tensor(np.ones(3), requires_grad=True)
    opt = optim.SGD([p], lr=0.5)
    seen = []

    def closure():
        seen.append(gn.is_grad_enabled())
        p.grad = gn.tensor(np.full(3, 2.0))
        return 7.5

    with gn.no_grad():
        assert opt.step(closure) == 7.5
        assert not gn.is_grad_enabled()  # the caller's mode is restored
    assert seen == [True]
    assert gn.is_grad_enabled()
    np.testing.assert_array_equal(as_np(p), np.zeros(3))
    assert opt.step() is None


def test_training_reduces_a_quadratic():
    """Minimising ||W - target||² through autograd-free gradients converges."""
    target = np.random.default_rng(0).standard_normal((4, 4))
    for cls, kw in [(optim.SGD, dict(lr=0.1, momentum=0.9)), (optim.Adam, dict(lr=0.1)),
                    (optim.RMSprop, dict(lr=0.01)), (optim.Adagrad, dict(lr=0.5)), (optim.AdamW, dict(lr=0.1))]:
        w = gn.zeros(4, 4, dtype=gn.float64, requires_grad=True)
        opt = cls([w], **kw)
        for _ in range(300):
            w.grad = gn.tensor(2 * (as_np(w) - target))
            opt.step()
        assert np.abs(as_np(w) - target).max() < 0.05, cls.__name__


@pytest.mark.parametrize("name,kernel", [("SGD", "sgd_step"), ("Adam", "adam_step"), ("AdamW", "adam_step"),
                                         ("RMSprop", "rmsprop_step"), ("Adagrad", "adagrad_step")])
def test_one_kernel_call_per_group(name, kernel, monkeypatch):
    a = Pair(np.float32)
    opt = getattr(optim, name)([{"params": a.gn[:2]}, {"params": a.gn[2:], "lr": 0.01}], lr=0.1)
    calls = []
    real = getattr(gn._C, kernel)

    def counting(params, *rest):
        calls.append(len(params))
        return real(params, *rest)

    monkeypatch.setattr(gn._C, kernel, counting)
    a.set_grads()
    opt.step()
    assert calls == [2, 3]
    a.set_grads({0, 1})
    opt.step()  # a group with no gradients makes no call
    assert calls == [2, 3, 2]


def test_params_given_as_a_generator_and_a_single_group_dict():
    a = Pair(np.float32)
    opt = optim.SGD((p for p in a.gn), lr=0.1)
    assert len(opt.param_groups[0]["params"]) == len(a.gn)
    opt = optim.SGD({"params": a.gn[0], "lr": 0.2} for _ in range(1))
    assert opt.param_groups[0]["params"] == [a.gn[0]] and opt.param_groups[0]["lr"] == 0.2


# ---- validation ---------------------------------------------------------------------

BAD = [
    ("SGD", dict(lr=-1), "Invalid learning rate: -1"),
    ("SGD", dict(momentum=-0.5), "Invalid momentum value: -0.5"),
    ("SGD", dict(weight_decay=-1e-3), "Invalid weight_decay value"),
    ("SGD", dict(nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    ("SGD", dict(nesterov=True, momentum=0.9, dampening=0.1), "Nesterov"),
    ("Adam", dict(lr=-0.1), "Invalid learning rate: -0.1"),
    ("Adam", dict(eps=-1.0), "Invalid epsilon value"),
    ("Adam", dict(betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    ("Adam", dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1"),
    ("Adam", dict(weight_decay=-1.0), "Invalid weight_decay value"),
    ("AdamW", dict(lr=-1e-3), "Invalid learning rate"),
    ("AdamW", dict(betas=(0.9, 1.5)), "Invalid beta parameter at index 1"),
    ("RMSprop", dict(lr=-1.0), "Invalid learning rate"),
    ("RMSprop", dict(alpha=-0.5), "Invalid alpha value"),
    ("RMSprop", dict(eps=-1.0), "Invalid epsilon value"),
    ("RMSprop", dict(momentum=-1.0), "Invalid momentum value"),
    ("RMSprop", dict(weight_decay=-1.0), "Invalid weight_decay value"),
    ("Adagrad", dict(lr=-1.0), "Invalid learning rate"),
    ("Adagrad", dict(lr_decay=-1.0), "Invalid lr_decay value"),
    ("Adagrad", dict(weight_decay=-1.0), "Invalid weight_decay value"),
    ("Adagrad", dict(initial_accumulator_value=-1.0), "Invalid initial_accumulator_value value"),
    ("Adagrad", dict(eps=-1.0), "Invalid epsilon value"),
]


@pytest.mark.parametrize("name,kw,message", BAD, ids=[f"{n}-{m}" for n, _, m in BAD])
def test_bad_hyper_parameters_raise_like_torch(name, kw, message):
    with pytest.raises(ValueError, match=message):
        getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kw)
    with pytest.raises(ValueError, match=message) as info:
        getattr(optim, name)([gn.zeros(2, requires_grad=True)], **kw)
    assert f"[{name}]" in str(info.value)


def test_bad_params_raise():
    p = gn.zeros(3, requires_grad=True)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([])
    with pytest.raises(TypeError, match="iterable of Tensors"):
        optim.SGD(p)
    with pytest.raises(TypeError, match="not a set"):
        optim.SGD({p})
    with pytest.raises(TypeError, match="can only optimize Tensors.*ndarray"):
        optim.SGD([np.zeros(3)])
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([p * 2])
    with pytest.raises(ValueError, match="more than once"):
        optim.SGD([p, p])
    opt = optim.SGD([p])
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [p]})
    with pytest.raises(TypeError, match="must be a dict"):
        opt.add_param_group([p])


@pytest.mark.parametrize("name,kernel", [("SGD", "sgd_step"), ("Adam", "adam_step"), ("RMSprop", "rmsprop_step"),
                                         ("Adagrad", "adagrad_step")])
def test_mismatched_gradients_raise_naming_the_kernel(name, kernel):
    p = gn.zeros(2, 3, requires_grad=True)
    opt = getattr(optim, name)([p], lr=0.1)
    p.grad = gn.zeros(3, 2)
    with pytest.raises(ValueError, match=rf"\[{kernel}\] gradient 0 has shape \(3, 2\) but its parameter has shape "
                                         r"\(2, 3\)"):
        opt.step()
    p.grad = gn.zeros(2, 3, dtype=gn.float64)
    with pytest.raises(TypeError, match=rf"\[{kernel}\] gradient 0 has dtype float64 but its parameter has dtype "
                                        "float32"):
        opt.step()
    np.testing.assert_array_equal(as_np(p), np.zeros((2, 3), np.float32))


def test_kernels_reject_bad_lists():
    from glassnet import _C

    p = gn.zeros(3)._impl
    with pytest.raises(ValueError, match=r"\[sgd_step\] expected 1 gradients \(one per parameter\), got 0"):
        _C.sgd_step([p], [], [], [], 0.1, 0.0, 0.0, 0.0, False, False)
    with pytest.raises(ValueError, match=r"\[sgd_step\] expected 1 momentum buffers"):
        _C.sgd_step([p], [p], [], [], 0.1, 0.9, 0.0, 0.0, False, False)
    with pytest.raises(ValueError, match=r"\[adam_step\] step counter 0 must be a one-element float32"):
        _C.adam_step([p], [p], [p], [p], [], [gn.zeros(2)._impl], 0.1, 0.9, 0.99, 1e-8, 0.0, False, False, False)
    i = gn.zeros(3, dtype=gn.int64)._impl
    with pytest.raises(TypeError, match=r"\[adagrad_step\] parameter 0 has dtype int64"):
        _C.adagrad_step([i], [i], [i], [gn.zeros(())._impl], 0.1, 0.0, 0.0, 1e-10, False)


@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)), ("Adam", dict(lr=0.01)),
                                     ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)),
                                     ("Adagrad", dict(lr=0.1))])
def test_large_params_split_across_threads_match_torch(name, kw):
    """Above the kernels' grain (2^15 elements) the update runs as a parallel-for."""
    pair = Pair(np.float32, shapes=[(300, 250), (70001,)])
    g_opt = getattr(optim, name)(pair.gn, **kw)
    t_opt = torch_opt(name, pair.torch, **kw)
    threads = gn.get_num_threads()
    gn.set_num_threads(4)
    try:
        for _ in range(3):
            pair.set_grads()
            g_opt.step()
            t_opt.step()
            pair.check()
    finally:
        gn.set_num_threads(threads)


@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.1, momentum=0.9)), ("AdamW", dict(lr=0.01, amsgrad=True)),
                                     ("RMSprop", dict(lr=0.01, momentum=0.5)), ("Adagrad", dict(lr=0.1))])
def test_many_small_params_split_by_parameter_match_torch(name, kw):
    """A group of many small parameters is split across threads by parameter."""
    shapes = [(60, 70)] * 16 + [(3,), (0,), ()] + [(17, 101)] * 8  # 81k elements, none dominant
    pair = Pair(np.float32, shapes=shapes)
    g_opt = getattr(optim, name)(pair.gn, **kw)
    t_opt = torch_opt(name, pair.torch, **kw)
    threads = gn.get_num_threads()
    gn.set_num_threads(4)
    try:
        for step in range(3):
            pair.set_grads(None if step != 1 else set(range(0, len(shapes), 2)))
            g_opt.step()
            t_opt.step()
            pair.check()
    finally:
        gn.set_num_threads(threads)


def test_kernel_updates_strided_state_buffers_in_place():
    """State buffers that are views (not made by the optimiser) are written back."""
    from glassnet import _C

    rng = np.random.default_rng(1)
    w, g, b = (rng.standard_normal((3, 5)) for _ in range(3))
    p = gn.tensor(w.T.copy()).transpose(0, 1)
    buf_base = gn.tensor(b.T.copy())
    buf = buf_base.transpose(0, 1)
    _C.sgd_step([p._impl], [gn.tensor(g)._impl], [buf._impl], [False], 0.1, 0.9, 0.25, 0.0, False, False)
    expected_buf = 0.9 * b + 0.75 * g
    np.testing.assert_allclose(as_np(buf_base).T, expected_buf, rtol=1e-12)
    np.testing.assert_allclose(as_np(p), w - 0.1 * expected_buf, rtol=1e-12)


@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.05, amsgrad=True)),
                                     ("AdamW", dict(lr=0.05)), ("RMSprop", dict(lr=0.01, centered=True)),
                                     ("Adagrad", dict(lr=0.1))])
def test_loads_a_torch_optimizer_state_dict(name, kw):
    """The layouts match: a torch checkpoint resumes in glassnet."""
    pair = Pair(np.float64, seed=4)
    t_opt = torch_opt(name, pair.torch, **kw)
    for _ in range(3):
        pair.set_grads()
        t_opt.step()
    for p, tp in zip(pair.gn, pair.torch):
        p.detach()._impl.copy_(gn.tensor(as_np(tp))._impl)
    g_opt = getattr(optim, name)(pair.gn, **kw)
    g_opt.load_state_dict(t_opt.state_dict())
    for _ in range(3):
        pair.set_grads()
        t_opt.step()
        g_opt.step()
        pair.check()


@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)),
                                     ("Adam", dict(lr=0.01, amsgrad=True)), ("AdamW", dict(lr=0.01)),
                                     ("RMSprop", dict(lr=0.005, centered=True)), ("Adagrad", dict(lr=0.1))])
def test_training_loop_with_autograd_matches_torch(name, kw):
    """zero_grad / backward / step on a small regression, gradients from each
    library's own autograd."""
    rng = np.random.default_rng(7)
    x, y = rng.standard_normal((32, 5)), rng.standard_normal((32, 2))
    w0, b0 = rng.standard_normal((5, 2)), rng.standard_normal(2)
    gw, gb = gn.tensor(w0, requires_grad=True), gn.tensor(b0, requires_grad=True)
    tw, tb = torch.tensor(w0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    g_opt = getattr(optim, name)([gw, gb], **kw)
    t_opt = torch_opt(name, [tw, tb], **kw)
    gx, gy, tx, ty = gn.tensor(x), gn.tensor(y), torch.tensor(x), torch.tensor(y)
    losses = []
    for _ in range(10):
        g_opt.zero_grad()
        t_opt.zero_grad()
        g_loss = ((gx @ gw + gb - gy) ** 2).mean()
        t_loss = ((tx @ tw + tb - ty) ** 2).mean()
        g_loss.backward()
        t_loss.backward()
        g_opt.step()
        t_opt.step()
        losses.append(g_loss.item())
        assert g_loss.item() == pytest.approx(t_loss.item(), rel=1e-10)
        np.testing.assert_allclose(as_np(gw), as_np(tw), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(as_np(gb), as_np(tb), rtol=1e-10, atol=1e-12)
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.05, momentum=0.9)), ("Adam", dict(lr=0.01))])
def test_module_parameters_train_like_torch(name, kw):
    """nn.Parameters of a module, grouped by name, trained against torch.nn."""
    nn = pytest.importorskip("glassnet.nn")
    rng = np.random.default_rng(11)
    g_model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))
    t_model = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    with torch.no_grad(), gn.no_grad():
        for gp, tp in zip(g_model.parameters(), t_model.parameters()):
            gp.copy_(gn.tensor(tp.numpy()))

    def groups(model):
        named = dict(model.named_parameters())
        return [{"params": [p for n, p in named.items() if n.endswith("weight")]},
                {"params": [p for n, p in named.items() if n.endswith("bias")], "lr": kw["lr"] / 2}]

    g_opt = getattr(optim, name)(groups(g_model), **kw)
    t_opt = torch_opt(name, groups(t_model), **kw)
    x = rng.standard_normal((16, 6)).astype(np.float32)
    y = rng.standard_normal((16, 3)).astype(np.float32)
    for _ in range(6):
        g_opt.zero_grad()
        t_opt.zero_grad()
        nn.MSELoss()(g_model(gn.tensor(x)), gn.tensor(y)).backward()
        torch.nn.MSELoss()(t_model(torch.tensor(x)), torch.tensor(y)).backward()
        g_opt.step()
        t_opt.step()
    for gp, tp in zip(g_model.parameters(), t_model.parameters()):
        np.testing.assert_allclose(as_np(gp), as_np(tp), rtol=1e-4, atol=1e-5)


# ---- CUDA: the same updates on GPU parameters (skipped without a GPU) ---------------------

needs_gpu = pytest.mark.skipif(not gn.cuda.is_available(), reason="needs a CUDA GPU")
GPU_CASES = [(name, kw) for name, cases in CASES.items() for kw in cases[:1] + cases[-1:]]


@needs_gpu
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", GPU_CASES, ids=[ids(c) for c in GPU_CASES])
def test_cuda_params_match_torch(case, dtype):
    """Parameters, gradients and state on the GPU; step counters stay on the
    CPU as torch keeps them."""
    name, kw = case
    shapes = [(5, 3), (7,), (), (0, 4), (300, 257)]
    pair = Pair(dtype, shapes=shapes)
    params = [p.detach().cuda().requires_grad_(True) for p in pair.gn]
    g_opt = getattr(optim, name)(params, **kw)
    t_opt = torch_opt(name, pair.torch, **kw)
    for _ in range(5):
        pair.set_grads()
        for p, cpu_param in zip(params, pair.gn):
            p.grad = cpu_param.grad.cuda()
        g_opt.step()
        t_opt.step()
        for p, tp in zip(params, pair.torch):
            # FMA contraction on the GPU moves the last bit or two.
            np.testing.assert_allclose(p.detach().cpu().numpy(), as_np(tp), rtol=1e-4 if dtype == np.float32 else 1e-9,
                                       atol=1e-5 if dtype == np.float32 else 1e-11)
    for p in params:
        for key, value in g_opt.state[p].items():
            assert value.device.type == ("cpu" if key == "step" else "cuda"), key


@needs_gpu
def test_cuda_strided_param_is_updated_through_its_view():
    rng = np.random.default_rng(9)
    w, g = rng.standard_normal((4, 6)), rng.standard_normal((4, 6))
    base = gn.tensor(w.T.copy()).cuda()
    p = base.transpose(0, 1).requires_grad_(True)
    p.grad = gn.tensor(g).cuda()
    optim.SGD([p], lr=0.5, momentum=0.9).step()
    np.testing.assert_allclose(base.cpu().numpy().T, w - 0.5 * g, rtol=1e-12)


@needs_gpu
def test_cuda_and_cpu_params_in_one_group():
    a = gn.tensor(np.ones(3), requires_grad=True)
    b = gn.tensor(np.ones(3)).cuda().requires_grad_(True)
    a.grad = gn.tensor(np.full(3, 2.0))
    b.grad = gn.tensor(np.full(3, 2.0)).cuda()
    optim.Adam([a, b], lr=0.1).step()
    np.testing.assert_allclose(b.detach().cpu().numpy(), as_np(a), rtol=1e-12)


@needs_gpu
def test_cuda_gradient_on_the_wrong_device_raises():
    p = gn.zeros(3).cuda().requires_grad_(True)
    p.grad = gn.zeros(3)
    with pytest.raises(RuntimeError, match=r"\[sgd_step\] gradient 0 is on cpu but its parameter is on cuda:0"):
        optim.SGD([p], lr=0.1).step()
