"""Weight penalties to add to a loss: L1 (sparsity) and L2 (the loss-side form
of weight decay). Differentiable, so `loss + l1_penalty(model.parameters(),
1e-4)` trains as written.

L2 through the optimiser (weight_decay=) is cheaper and is what torch users
usually mean; the L2 form here is for when the penalty should show in the loss
or apply to some parameters only."""
from ..._tensor import Tensor


def _params(parameters):
    if isinstance(parameters, Tensor):
        return [parameters]
    params = list(parameters.parameters() if hasattr(parameters, "parameters") else parameters)
    if not params:
        raise ValueError("[penalty] no parameters to penalise")
    return params


def l1_penalty(parameters, weight=1.0):
    """weight · Σ |p| over every element of every parameter (a module works too)."""
    params = _params(parameters)
    total = params[0].abs().sum()
    for p in params[1:]:
        total = total + p.abs().sum()
    return total * weight


def l2_penalty(parameters, weight=1.0):
    """weight · ½ Σ p² — its gradient weight · p is what SGD's weight_decay adds."""
    params = _params(parameters)
    total = params[0].square().sum()
    for p in params[1:]:
        total = total + p.square().sum()
    return total * (0.5 * weight)
