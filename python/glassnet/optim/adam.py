"""Adam (Kingma & Ba 2015, with the AMSGrad variant of Reddi et al. 2018)
and AdamW (decoupled weight decay, Loshchilov & Hutter 2019), as
torch.optim's single-tensor implementation computes them.

    t ← t + 1;  g = ∇f(θ) (negated when maximize)
    Adam:  g ← g + weight_decay · θ        AdamW:  θ ← θ · (1 - lr · weight_decay)
    m ← β1 m + (1 - β1) g;   v ← β2 v + (1 - β2) g²;   v̂ = max(v̂, v) with amsgrad
    θ ← θ - lr / (1 - β1ᵗ) · m / (√v / √(1 - β2ᵗ) + eps)
"""
from .. import _C
from .optimizer import Optimizer, _check_nonnegative


class Adam(Optimizer):
    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 maximize=False):
        name = type(self).__name__
        _check_nonnegative(name, "learning rate", lr)
        _check_nonnegative(name, "epsilon value", eps)
        betas = tuple(betas)
        if len(betas) != 2:
            raise ValueError(f"[{name}] betas must hold two values, got {betas}")
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"[{name}] Invalid beta parameter at index {i}: {beta}")
        _check_nonnegative(name, "weight_decay value", weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize)
        super().__init__(params, defaults)

    def _step_group(self, group):
        params, p_impls, g_impls = self._with_grads(group)
        if not params:
            return
        amsgrad = group["amsgrad"]
        exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps = [], [], [], []
        state = self.state
        for p in params:
            s = state[p]
            if not s:
                s["step"] = self._new_step()
                s["exp_avg"] = self._full_like(p, 0.0)
                s["exp_avg_sq"] = self._full_like(p, 0.0)
            exp_avgs.append(s["exp_avg"]._impl)
            exp_avg_sqs.append(s["exp_avg_sq"]._impl)
            steps.append(s["step"]._impl)
            if amsgrad:
                if "max_exp_avg_sq" not in s:
                    s["max_exp_avg_sq"] = self._full_like(p, 0.0)
                max_exp_avg_sqs.append(s["max_exp_avg_sq"]._impl)
        beta1, beta2 = group["betas"]
        _C.adam_step(p_impls, g_impls, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, group["lr"], beta1, beta2,
                     group["eps"], group["weight_decay"], amsgrad, group["maximize"], self._decoupled)


class AdamW(Adam):
    """Adam with decoupled weight decay (default 1e-2)."""

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)
