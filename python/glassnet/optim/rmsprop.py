"""RMSprop (Hinton, Neural Networks for Machine Learning, lecture 6e), with
the centred variant of Graves 2013 and heavy-ball momentum, as torch.optim's
single-tensor implementation computes it.

    g = ∇f(θ) (negated when maximize) + weight_decay · θ
    v ← α v + (1 - α) g²;   centred: ḡ ← α ḡ + (1 - α) g, v' = v - ḡ², else v' = v
    momentum > 0:  b ← momentum · b + g / (√v' + eps);  θ ← θ - lr · b
    otherwise:     θ ← θ - lr · g / (√v' + eps)
"""
from .. import _C
from .optimizer import Optimizer, _check_nonnegative


class RMSprop(Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, *,
                 maximize=False):
        _check_nonnegative("RMSprop", "learning rate", lr)
        _check_nonnegative("RMSprop", "epsilon value", eps)
        _check_nonnegative("RMSprop", "momentum value", momentum)
        _check_nonnegative("RMSprop", "weight_decay value", weight_decay)
        _check_nonnegative("RMSprop", "alpha value", alpha)
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                        centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def _step_group(self, group):
        params, p_impls, g_impls = self._with_grads(group)
        if not params:
            return
        momentum, centered = group["momentum"], group["centered"]
        square_avgs, grad_avgs, buffers, steps = [], [], [], []
        state = self.state
        for p in params:
            s = state[p]
            if not s:
                s["step"] = self._new_step()
                s["square_avg"] = self._full_like(p, 0.0)
            square_avgs.append(s["square_avg"]._impl)
            steps.append(s["step"]._impl)
            if momentum > 0:
                if "momentum_buffer" not in s:
                    s["momentum_buffer"] = self._full_like(p, 0.0)
                buffers.append(s["momentum_buffer"]._impl)
            if centered:
                if "grad_avg" not in s:
                    s["grad_avg"] = self._full_like(p, 0.0)
                grad_avgs.append(s["grad_avg"]._impl)
        _C.rmsprop_step(p_impls, g_impls, square_avgs, grad_avgs, buffers, steps, group["lr"], group["alpha"],
                        group["eps"], group["weight_decay"], momentum, centered, group["maximize"])
