"""integrated_gradients(): path attributions along the straight line from a
baseline x' to the input x (Sundararajan, Taly & Yan 2017, "Axiomatic
attribution for deep networks"):

    IG_i(x) = (x_i - x'_i) · ∫₀¹ ∂f(x' + α(x - x')) / ∂x_i dα

with the integral taken by a quadrature rule over `steps` intervals. By the
fundamental theorem of calculus for path integrals the attributions sum to
f(x) - f(x') ("completeness"); what the quadrature misses of that sum is
returned as the approximation error, the check the paper recommends for
choosing `steps`.
"""
import numpy as np

from .._tensor import Tensor
from ..autograd import no_grad
from ._common import as_input, check_output, check_positive_int, eval_mode, target_index, target_scores
from .saliency import input_gradients

METHODS = ("trapezoid", "riemann_left", "riemann_right", "riemann_middle")


def quadrature(method, steps):
    """(alphas, weights) of a rule on [0, 1] with `steps` intervals, float64 numpy."""
    k = np.arange(steps, dtype=np.float64)
    if method == "trapezoid":
        alphas = np.linspace(0.0, 1.0, steps + 1)
        weights = np.full(steps + 1, 1.0 / steps)
        weights[0] = weights[-1] = 0.5 / steps
        return alphas, weights
    offset = {"riemann_left": 0.0, "riemann_right": 1.0, "riemann_middle": 0.5}[method]
    return (k + offset) / steps, np.full(steps, 1.0 / steps)


class Attribution:
    """Result of integrated_gradients. attributions: a tensor shaped like x;
    approximation_error: |Σ attributions − (f(x) − f(baseline))| per sample
    (numpy); relative_error: that over |f(x) − f(baseline)|; delta: f(x) −
    f(baseline) per sample. Unpacks as (attributions, approximation_error)."""

    def __init__(self, attributions, approximation_error, relative_error, delta):
        self.attributions = attributions
        self.approximation_error = approximation_error
        self.relative_error = relative_error
        self.delta = delta

    def __iter__(self):
        return iter((self.attributions, self.approximation_error))

    def __len__(self):
        return 2

    def __repr__(self):
        return (f"Attribution(shape={tuple(self.attributions.shape)}, "
                f"max relative error={float(np.max(self.relative_error)):.3g})")


def _baseline(baseline, x):
    from .._creation import full, zeros_like
    if baseline is None:
        return zeros_like(x)
    if isinstance(baseline, (int, float)) and not isinstance(baseline, bool):
        return full(tuple(x.shape), float(baseline), dtype=x.dtype).to(x.device)
    if isinstance(baseline, np.ndarray):
        from .._creation import from_numpy
        baseline = from_numpy(np.ascontiguousarray(baseline))
    if not isinstance(baseline, Tensor):
        raise TypeError(f"[integrated_gradients] baseline must be None, a number, a tensor or an array, "
                        f"got {type(baseline).__name__}")
    shape, xs = tuple(baseline.shape), tuple(x.shape)
    if shape == xs[1:]:
        baseline = baseline.unsqueeze(0).expand(*xs)
    elif shape != xs:
        raise ValueError(f"[integrated_gradients] baseline must have the shape of x {xs} or of one sample "
                         f"{xs[1:]}, got {shape}")
    return baseline.detach().to(x.device).to(x.dtype).contiguous()


def integrated_gradients(model, x, target, baseline=None, steps=50, method="trapezoid", batch_size=None):
    """Integrated gradients of the target scores with respect to x.

    target: a class index or one per sample. baseline: None (zeros), a number,
    or a tensor shaped like x or like one sample. steps: intervals of the
    quadrature; method: "trapezoid" (steps + 1 evaluations), "riemann_left",
    "riemann_right" or "riemann_middle" (steps evaluations). The points along
    the path are evaluated in batches of at most `batch_size` samples
    (default: max(len(x), 1024)). Returns an `Attribution`, which unpacks as
    (attributions, approximation_error)."""
    who = "integrated_gradients"
    x = as_input(x, who)
    steps = check_positive_int(steps, "steps", who)
    if method not in METHODS:
        raise ValueError(f"[{who}] method must be one of {METHODS}, got {method!r}")
    base = _baseline(baseline, x)
    n = x.shape[0]
    chunk_points = max(1, (batch_size or max(n, 1024)) // n)
    alphas, weights = quadrature(method, steps)
    diff = x - base
    ones = (1,) * (x.ndim - 1)
    total = None
    with eval_mode(model):
        with no_grad():
            ends = check_output(model(_cat([x, base])), who)
        idx = target_index(target, n, ends.shape[1], who)
        f_x = target_scores(ends[:n], idx)
        f_base = target_scores(ends[n:], idx)
        for start in range(0, len(alphas), chunk_points):
            a = alphas[start:start + chunk_points]
            w = weights[start:start + chunk_points]
            k = len(a)
            a_t = _column(a, x, ones)
            points = (base.unsqueeze(0) + a_t * diff.unsqueeze(0)).reshape(k * n, *x.shape[1:])
            g, _, _ = input_gradients(model, points, idx.repeat(k), who)
            part = (g.reshape(k, *x.shape) * _column(w, x, ones)).sum(0)
            total = part if total is None else total + part
    attributions = diff * total
    delta = (f_x - f_base).double().cpu().numpy()
    sums = attributions.double().reshape(n, -1).sum(1).cpu().numpy()
    error = np.abs(sums - delta)
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(delta != 0, error / np.abs(delta), np.where(error == 0, 0.0, np.inf))
    return Attribution(attributions, error, relative, delta)


def _column(values, like, ones):
    from .._creation import tensor
    return tensor(np.asarray(values), dtype=like.dtype).reshape(len(values), 1, *ones).to(like.device)


def _cat(parts):
    from .._functions import cat
    return cat(parts, 0)
