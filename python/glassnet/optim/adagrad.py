"""Adagrad (Duchi, Hazan & Singer 2011) with torch's learning-rate decay, as
torch.optim's single-tensor implementation computes it.

    t ← t + 1;  g = ∇f(θ) (negated when maximize) + weight_decay · θ
    s ← s + g²  (s starts at initial_accumulator_value)
    θ ← θ - lr / (1 + (t - 1) · lr_decay) · g / (√s + eps)
"""
from .. import _C
from .optimizer import Optimizer, _check_nonnegative


class Adagrad(Optimizer):
    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, *,
                 maximize=False):
        _check_nonnegative("Adagrad", "learning rate", lr)
        _check_nonnegative("Adagrad", "lr_decay value", lr_decay)
        _check_nonnegative("Adagrad", "weight_decay value", weight_decay)
        _check_nonnegative("Adagrad", "initial_accumulator_value value", initial_accumulator_value)
        _check_nonnegative("Adagrad", "epsilon value", eps)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize)
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        s = self.state[p]
        s["step"] = self._new_step()
        s["sum"] = self._full_like(p, group["initial_accumulator_value"])
        return s

    def _on_new_group(self, group):
        # torch creates Adagrad's state when the group is added, not on the first step.
        for p in group["params"]:
            self._init_state(p, group)

    def _step_group(self, group):
        params, p_impls, g_impls = self._with_grads(group)
        if not params:
            return
        sums, steps = [], []
        state = self.state
        for p in params:
            s = state[p]
            if not s:
                s = self._init_state(p, group)
            sums.append(s["sum"]._impl)
            steps.append(s["step"]._impl)
        _C.adagrad_step(p_impls, g_impls, sums, steps, group["lr"], group["lr_decay"], group["weight_decay"],
                        group["eps"], group["maximize"])
