"""Stochastic gradient descent with momentum (Sutskever et al. 2013, the
form torch.optim.SGD implements), Nesterov momentum and weight decay.

    g = ∇f(θ) (negated when maximize) + weight_decay · θ
    b = g on the first step, else momentum · b + (1 - dampening) · g
    θ ← θ - lr · (g + momentum · b if nesterov else b)
"""
from .. import _C
from .._tensor import Tensor
from .optimizer import Optimizer, _check_nonnegative


class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False):
        _check_nonnegative("SGD", "learning rate", lr)
        _check_nonnegative("SGD", "momentum value", momentum)
        _check_nonnegative("SGD", "weight_decay value", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("[SGD] Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _step_group(self, group):
        params, p_impls, g_impls = self._with_grads(group)
        if not params:
            return
        momentum = group["momentum"]
        buffers, fresh = [], []
        if momentum != 0:
            state = self.state
            for p in params:
                s = state[p]
                buf = s.get("momentum_buffer")
                if buf is None:
                    # Filled by the kernel with the first (decayed) gradient, as torch's clone is.
                    impl = p._impl
                    buf = s["momentum_buffer"] = Tensor._wrap(_C.empty(list(impl.shape), impl.dtype, impl.device))
                    fresh.append(True)
                else:
                    fresh.append(False)
                buffers.append(buf._impl)
        _C.sgd_step(p_impls, g_impls, buffers, fresh, group["lr"], momentum, group["dampening"],
                    group["weight_decay"], group["nesterov"], group["maximize"])
