"""glassnet.optim.lr_scheduler against torch.optim.lr_scheduler: the same
learning-rate (and momentum) sequence over 30+ steps for every schedule and
option, two parameter groups with different lrs, state_dict round trips and
the validation errors."""
import math

import numpy as np
import pytest

import glassnet as gn
from glassnet import optim
from glassnet.optim import lr_scheduler as sched

torch = pytest.importorskip("torch")
tsched = torch.optim.lr_scheduler


def make(lib, opt_name="SGD", **kw):
    """An optimiser over two groups (lr 0.1 and 0.02) in either library."""
    if lib == "torch":
        a, b = torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)
        cls = getattr(torch.optim, opt_name)
    else:
        a, b = gn.zeros(2, requires_grad=True), gn.zeros(3, requires_grad=True)
        cls = getattr(optim, opt_name)
    return cls([{"params": [a]}, {"params": [b], "lr": 0.02}], lr=0.1, **kw)


def momenta(opt):
    return [g["betas"][0] if "betas" in g else g.get("momentum") for g in opt.param_groups]


def assert_same_run(build, steps=30, opt_name="SGD", opt_kw=None, metrics=None, check_momentum=False):
    """Steps both schedules side by side; lrs must agree to rounding."""
    opt_kw = opt_kw or {}
    t_opt, g_opt = make("torch", opt_name, **opt_kw), make("gn", opt_name, **opt_kw)
    t_s, g_s = build(tsched, t_opt), build(sched, g_opt)
    seen = [g_s.get_last_lr()]
    for step in range(steps + 1):
        assert g_s.get_last_lr() == pytest.approx(t_s.get_last_lr(), rel=1e-12, abs=1e-15), step
        assert [g["lr"] for g in g_opt.param_groups] == pytest.approx([g["lr"] for g in t_opt.param_groups],
                                                                      rel=1e-12, abs=1e-15)
        if check_momentum:
            assert momenta(g_opt) == pytest.approx(momenta(t_opt), rel=1e-12), step
        if step == steps:
            break
        t_opt.step()
        g_opt.step()
        if metrics is None:
            t_s.step()
            g_s.step()
        else:
            t_s.step(metrics[step])
            g_s.step(metrics[step])
        seen.append(g_s.get_last_lr())
    return seen


class Warmup:
    """A callable object: LambdaLR saves its attributes in state_dict."""

    def __init__(self, n):
        self.n = n

    def __call__(self, epoch):
        return min(1.0, (epoch + 1) / self.n)


SCHEDULES = {
    "StepLR": lambda m, o: m.StepLR(o, step_size=3, gamma=0.5),
    "StepLR-1": lambda m, o: m.StepLR(o, step_size=1),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[3, 7, 7, 15], gamma=0.3),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.9),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=10),
    "CosineAnnealingLR-eta_min": lambda m, o: m.CosineAnnealingLR(o, T_max=7, eta_min=0.001),
    "LambdaLR": lambda m, o: m.LambdaLR(o, lr_lambda=lambda e: 0.95 ** e),
    "LambdaLR-per-group": lambda m, o: m.LambdaLR(o, lr_lambda=[lambda e: 1 / (e + 1), Warmup(5)]),
    "LinearLR": lambda m, o: m.LinearLR(o, start_factor=0.25, total_iters=8),
    "LinearLR-decay": lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=12),
    "LinearLR-default": lambda m, o: m.LinearLR(o),
    "MultiplicativeLR": lambda m, o: m.MultiplicativeLR(o, lr_lambda=lambda e: 0.9 if e % 2 else 0.97),
    "ConstantLR": lambda m, o: m.ConstantLR(o, factor=0.5, total_iters=4),
    "PolynomialLR": lambda m, o: m.PolynomialLR(o, total_iters=20, power=2.0),
    "PolynomialLR-linear": lambda m, o: m.PolynomialLR(o),
    "CosineAnnealingWarmRestarts": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=7),
    "CosineAnnealingWarmRestarts-T_mult": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2,
                                                                                     eta_min=0.005),
    "SequentialLR-warmup-cosine": lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.1, total_iters=5), m.CosineAnnealingLR(o, T_max=20)], milestones=[5]),
    "SequentialLR-three": lambda m, o: m.SequentialLR(
        o, [m.ConstantLR(o, factor=0.5, total_iters=2), m.ExponentialLR(o, gamma=0.8), m.StepLR(o, 4, gamma=0.5)],
        milestones=[3, 10]),
    "SequentialLR-closed-forms": lambda m, o: m.SequentialLR(
        o, [m.MultiStepLR(o, [1, 2]), m.PolynomialLR(o, total_iters=6, power=0.5), m.LinearLR(o, 0.5, 1.0, 4),
            m.CosineAnnealingWarmRestarts(o, T_0=4)], milestones=[4, 12, 20]),
    "ChainedScheduler": lambda m, o: m.ChainedScheduler([m.ConstantLR(o, factor=0.5, total_iters=4),
                                                         m.ExponentialLR(o, gamma=0.9)]),
    "ChainedScheduler-with-optimizer": lambda m, o: m.ChainedScheduler(
        [m.LinearLR(o, start_factor=0.2, total_iters=6), m.MultiStepLR(o, [8, 16])], optimizer=o),
    "OneCycleLR": lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=30),
    "OneCycleLR-linear-3phase": lambda m, o: m.OneCycleLR(o, max_lr=[0.5, 0.2], total_steps=30,
                                                          anneal_strategy="linear", three_phase=True),
    "OneCycleLR-epochs": lambda m, o: m.OneCycleLR(o, max_lr=0.3, epochs=3, steps_per_epoch=10, pct_start=0.25,
                                                   div_factor=10.0, final_div_factor=100.0,
                                                   base_momentum=[0.8, 0.7], max_momentum=0.9),
}


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_lr_sequence_matches_torch(name):
    seen = assert_same_run(SCHEDULES[name], check_momentum=name.startswith("OneCycle"))
    assert len({tuple(lrs) for lrs in seen}) > 1  # the schedule did move


@pytest.mark.parametrize("three_phase", [False, True])
def test_one_cycle_cycles_adam_beta1(three_phase):
    build = lambda m, o: m.OneCycleLR(o, max_lr=0.01, total_steps=30, three_phase=three_phase)  # noqa: E731
    assert_same_run(build, opt_name="Adam", check_momentum=True)


def test_one_cycle_without_cycling_momentum_leaves_it():
    build = lambda m, o: m.OneCycleLR(o, max_lr=0.01, total_steps=30, cycle_momentum=False)  # noqa: E731
    assert_same_run(build, opt_kw=dict(momentum=0.5), check_momentum=True)


def test_one_cycle_past_total_steps_raises_like_torch():
    for m, opt in [(tsched, make("torch")), (sched, make("gn"))]:
        s = m.OneCycleLR(opt, max_lr=0.1, total_steps=4)
        for _ in range(4):
            opt.step()
            s.step()
        opt.step()
        with pytest.raises(ValueError, match="Tried to step 5 times"):
            s.step()


METRICS = [1.0, 0.9, 0.95, 0.95, 0.96, 0.97, 0.89, 0.9, 0.9, 0.9, 0.9, 0.9, 0.5, 0.6, 0.7, 0.8, 0.8, 0.8,
           0.8, 0.8, 0.4, 0.41, 0.42, 0.43, 0.44, 0.45, 0.46, 0.47, 0.48, 0.49]

PLATEAU = {
    "min": dict(patience=2),
    "min-abs-cooldown": dict(patience=1, threshold=0.05, threshold_mode="abs", cooldown=2),
    "max": dict(mode="max", patience=1, factor=0.5),
    "max-abs": dict(mode="max", threshold_mode="abs", threshold=0.01, patience=0),
    "min_lr-list": dict(patience=0, factor=0.5, min_lr=[0.02, 0.015]),
    "min_lr-eps": dict(patience=0, factor=0.9, min_lr=0.05, eps=1e-3),
}


@pytest.mark.parametrize("name", list(PLATEAU))
def test_reduce_on_plateau_matches_torch(name):
    kw = PLATEAU[name]
    seen = assert_same_run(lambda m, o: m.ReduceLROnPlateau(o, **kw), metrics=METRICS)
    assert len({tuple(lrs) for lrs in seen}) > 1


def test_reduce_on_plateau_accepts_tensor_metrics():
    opt = make("gn")
    s = sched.ReduceLROnPlateau(opt, patience=0)
    s.step(gn.tensor(1.0))
    s.step(gn.tensor(2.0))
    assert s.get_last_lr() == pytest.approx([0.01, 0.002])


@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "CosineAnnealingLR", "LambdaLR-per-group", "LinearLR",
                                  "OneCycleLR", "ExponentialLR", "CosineAnnealingWarmRestarts-T_mult",
                                  "PolynomialLR", "ConstantLR", "MultiplicativeLR", "SequentialLR-three",
                                  "ChainedScheduler"])
def test_state_dict_round_trip_resumes_the_schedule(name):
    build = SCHEDULES[name]
    opt = make("gn", momentum=0.9)
    s = build(sched, opt)
    for _ in range(10):
        opt.step()
        s.step()
    opt_state, s_state = opt.state_dict(), s.state_dict()
    assert "optimizer" not in s_state
    resumed_opt = make("gn", momentum=0.9)
    resumed = build(sched, resumed_opt)
    resumed_opt.load_state_dict(opt_state)
    resumed.load_state_dict(s_state)
    for _ in range(15):
        opt.step()
        s.step()
        resumed_opt.step()
        resumed.step()
        assert resumed.get_last_lr() == s.get_last_lr()
        assert [g["lr"] for g in resumed_opt.param_groups] == [g["lr"] for g in opt.param_groups]


def test_lambda_lr_state_dict_keeps_callable_objects_but_not_functions():
    opt = make("gn")
    warm = Warmup(5)
    s = sched.LambdaLR(opt, [lambda e: 1.0, warm])
    state = s.state_dict()
    assert state["lr_lambdas"] == [None, {"n": 5}]
    warm.n = 99
    s.load_state_dict(state)
    assert warm.n == 5 and callable(s.lr_lambdas[0])


def test_reduce_on_plateau_state_dict_round_trip():
    kw = PLATEAU["min-abs-cooldown"]
    opt = make("gn")
    s = sched.ReduceLROnPlateau(opt, **kw)
    for m in METRICS[:12]:
        s.step(m)
    resumed_opt = make("gn")
    resumed = sched.ReduceLROnPlateau(resumed_opt, **kw)
    resumed_opt.load_state_dict(opt.state_dict())
    resumed.load_state_dict(s.state_dict())
    for m in METRICS[12:]:
        s.step(m)
        resumed.step(m)
        assert resumed.get_last_lr() == s.get_last_lr()


def test_scheduler_resumes_with_last_epoch():
    """last_epoch >= 0 needs initial_lr in the groups, as torch requires."""
    with pytest.raises(KeyError, match="initial_lr"):
        sched.StepLR(make("gn"), step_size=2, last_epoch=3)
    opt = make("gn")
    s = sched.StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(3):
        s.step()
    again = sched.StepLR(opt, step_size=2, gamma=0.5, last_epoch=s.last_epoch)
    assert again.base_lrs == [0.1, 0.02]


def test_cosine_closed_form_within_the_first_period():
    opt = make("gn")
    s = sched.CosineAnnealingLR(opt, T_max=12, eta_min=0.01)
    for t in range(1, 13):
        opt.step()
        s.step()
        expected = [0.01 + (b - 0.01) * (1 + math.cos(math.pi * t / 12)) / 2 for b in (0.1, 0.02)]
        assert s.get_last_lr() == pytest.approx(expected, rel=1e-12)


def test_schedulers_drive_the_optimiser_update():
    """The lr a scheduler sets is the one the next step uses."""
    p = gn.tensor(np.zeros(1), requires_grad=True)
    opt = optim.SGD([p], lr=1.0)
    s = sched.StepLR(opt, step_size=1, gamma=0.5)
    for lr in (1.0, 0.5, 0.25):
        before = p.detach().numpy().copy()
        p.grad = gn.tensor(np.ones(1))
        opt.step()
        assert p.detach().numpy() == pytest.approx(before - lr)
        s.step()


# ---- validation ---------------------------------------------------------------------

BAD = [
    ("LinearLR", dict(start_factor=0.0), ValueError, "Starting multiplicative factor"),
    ("LinearLR", dict(start_factor=1.5), ValueError, "Starting multiplicative factor"),
    ("LinearLR", dict(end_factor=-0.1), ValueError, "Ending multiplicative factor"),
    ("ReduceLROnPlateau", dict(factor=1.0), ValueError, "Factor should be < 1.0"),
    ("ReduceLROnPlateau", dict(mode="avg"), ValueError, "mode avg is unknown"),
    ("ReduceLROnPlateau", dict(threshold_mode="pct"), ValueError, "threshold mode pct is unknown"),
    ("ReduceLROnPlateau", dict(min_lr=[0.1]), ValueError, "expected 2 min_lrs, got 1"),
    ("OneCycleLR", dict(max_lr=0.1), ValueError, "You must define either total_steps"),
    ("OneCycleLR", dict(max_lr=0.1, total_steps=0), ValueError, "Expected positive integer total_steps"),
    ("OneCycleLR", dict(max_lr=0.1, epochs=2, steps_per_epoch=-1), ValueError,
     "Expected positive integer steps_per_epoch"),
    ("OneCycleLR", dict(max_lr=0.1, total_steps=10, pct_start=1.5), ValueError, "pct_start"),
    ("OneCycleLR", dict(max_lr=0.1, total_steps=10, anneal_strategy="exp"), ValueError, "anneal_strategy"),
    ("OneCycleLR", dict(max_lr=[0.1, 0.2, 0.3], total_steps=10), ValueError, "max_lr"),
    ("LambdaLR", dict(lr_lambda=[lambda e: 1.0]), ValueError, "Expected 2 lr_lambdas, but got 1"),
    ("MultiplicativeLR", dict(lr_lambda=0.5), TypeError, "lr_lambda should be a function"),
    ("ConstantLR", dict(factor=1.5), ValueError, "Constant multiplicative factor"),
    ("CosineAnnealingWarmRestarts", dict(T_0=0), ValueError, "Expected positive integer T_0"),
    ("CosineAnnealingWarmRestarts", dict(T_0=5, T_mult=0), ValueError, "Expected integer T_mult >= 1"),
]


@pytest.mark.parametrize("name,kw,exc,message", BAD, ids=[f"{b[0]}-{b[3]}" for b in BAD])
def test_bad_arguments_raise_like_torch(name, kw, exc, message):
    with pytest.raises(exc, match=message):
        getattr(tsched, name)(make("torch"), **kw)
    with pytest.raises(exc, match=message):
        getattr(sched, name)(make("gn"), **kw)


def test_composite_schedulers_validate_their_members():
    for m, opt, other in [(tsched, make("torch"), make("torch")), (sched, make("gn"), make("gn"))]:
        a, b = m.StepLR(opt, 2), m.ExponentialLR(opt, 0.9)
        with pytest.raises(ValueError, match="number of milestones to be equal to 2"):
            m.SequentialLR(opt, [a, b], milestones=[2, 4])
        with pytest.raises(ValueError, match="at least one scheduler"):
            m.SequentialLR(opt, [], milestones=[])
        with pytest.raises(ValueError, match="does not support `ReduceLROnPlateau`"):
            m.ChainedScheduler([a, m.ReduceLROnPlateau(opt)])
        with pytest.raises(ValueError, match="same optimizer"):
            m.SequentialLR(opt, [a, m.StepLR(other, 2)], milestones=[3])


def test_one_cycle_needs_momentum_to_cycle():
    p = gn.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="momentum or beta1"):
        sched.OneCycleLR(optim.Adagrad([p]), max_lr=0.1, total_steps=10)
    sched.OneCycleLR(optim.Adagrad([p]), max_lr=0.1, total_steps=10, cycle_momentum=False)


def test_scheduler_needs_an_optimizer():
    for cls, kw in [(sched.StepLR, dict(step_size=2)), (sched.ReduceLROnPlateau, {}),
                    (sched.OneCycleLR, dict(max_lr=0.1, total_steps=5))]:
        with pytest.raises(TypeError, match="is not an Optimizer"):
            cls(object(), **kw)
