"""Feature visualisation: activation maximisation (Erhan, Bengio, Courville &
Vincent 2009; with the regularisers of Mahendran & Vedaldi 2015 and Olah et
al. 2017) and images of convolution filters.

activation_maximization climbs the gradient of one unit's activation with
respect to the input, starting from faint noise, under
  - an L2 penalty on the input (keeps its values bounded),
  - total variation (the mean squared difference of neighbouring pixels:
    favours smooth images over the high-frequency patterns gradients alone
    produce),
  - jitter (each step looks at the image shifted by a random offset of up to
    `jitter` pixels, so the image must work wherever the pattern sits).
"""
import numpy as np

from .. import _dtype as dtypes
from .._tensor import Tensor
from ..autograd import enable_grad, grad, no_grad
from ._common import check_positive_int, eval_mode
from .units import LayerTap, check_unit, unit_activation

DEFAULT_REGULARISERS = {"l2": 1e-3, "tv": 1e-2, "jitter": 1}


class Visualisation:
    """image: numpy array of input_shape; activation: the unit's activation for
    it (no jitter); history: the objective's activation per step. Unpacks as
    (image, activation)."""

    def __init__(self, image, activation, history):
        self.image, self.activation, self.history = image, activation, history

    def __iter__(self):
        return iter((self.image, self.activation))

    def __len__(self):
        return 2

    def __repr__(self):
        return f"Visualisation(image={self.image.shape}, activation={self.activation:.4g})"


def _regularisers(regularisers):
    weights = dict(DEFAULT_REGULARISERS)
    if regularisers is not None:
        unknown = set(regularisers) - set(weights)
        if unknown:
            raise ValueError(f"[activation_maximization] unknown regularisers {sorted(unknown)}; "
                             f"known: {sorted(weights)}")
        weights.update(regularisers)
    for key in ("l2", "tv"):
        if not float(weights[key]) >= 0:
            raise ValueError(f"[activation_maximization] regulariser {key!r} must be >= 0, got {weights[key]!r}")
    jitter = weights["jitter"]
    if isinstance(jitter, bool) or not isinstance(jitter, (int, np.integer)) or jitter < 0:
        raise ValueError(f"[activation_maximization] jitter must be an int >= 0 (pixels), got {jitter!r}")
    return float(weights["l2"]), float(weights["tv"]), int(jitter)


def _spatial(ndim):
    """The dims of a (1, *input_shape) tensor that count as space."""
    return (ndim - 2, ndim - 1) if ndim >= 3 else (ndim - 1,)


def roll(x, shift, dim):
    """x rolled by `shift` along `dim` (differentiable: two narrows and a cat)."""
    from .._functions import cat
    n = x.shape[dim]
    shift %= n
    if shift == 0:
        return x
    return cat([x.narrow(dim, n - shift, shift), x.narrow(dim, 0, n - shift)], dim)


def total_variation(x, dims):
    tv = None
    for d in dims:
        n = x.shape[d]
        if n < 2:
            continue
        diff = x.narrow(d, 1, n - 1) - x.narrow(d, 0, n - 1)
        term = (diff * diff).mean()
        tv = term if tv is None else tv + term
    return tv


def activation_maximization(model, layer, unit, *, steps=256, lr=0.05, regularisers=None, input_shape=None,
                            init=None, seed=0, dtype=None):
    """An input that makes `unit` of `layer` fire strongly.

    unit: a channel / feature index or a tuple index (see units.py).
    regularisers: weights overriding {"l2": 1e-3, "tv": 1e-2, "jitter": 1}
    (jitter in pixels; 0 turns a term off). input_shape: one sample's shape,
    e.g. (1, 8, 8); or init: the starting sample (else faint noise from
    `seed`). Adam with step size `lr` for `steps` steps. Returns a
    `Visualisation` (image, activation, history)."""
    who = "activation_maximization"
    steps = check_positive_int(steps, "steps", who)
    if not float(lr) > 0:
        raise ValueError(f"[{who}] lr must be > 0, got {lr!r}")
    l2, tv_weight, jitter = _regularisers(regularisers)
    if dtype is None:
        params = list(model.parameters())
        dtype = params[0].dtype if params else dtypes.float32
    if init is not None:
        start = np.asarray(init.detach().cpu().numpy() if isinstance(init, Tensor) else init, dtype=np.float64)
        if input_shape is not None and tuple(start.shape) != tuple(input_shape):
            raise ValueError(f"[{who}] init has shape {start.shape} but input_shape is {tuple(input_shape)}")
    elif input_shape is None:
        raise ValueError(f"[{who}] give input_shape (one sample's shape, e.g. (1, 8, 8)) or init")
    else:
        start = np.random.default_rng(seed).normal(0.0, 0.01, size=tuple(int(s) for s in input_shape))
    from .._creation import from_numpy
    from ..optim import Adam
    first = next(iter(model.parameters()), None)
    x = from_numpy(np.ascontiguousarray(start[None])).to(dtype)
    if first is not None:
        x = x.to(first.device)
    x.requires_grad_(True)
    opt = Adam([x], lr=float(lr))
    dims = _spatial(x.ndim)
    rng = np.random.default_rng(seed + 1)
    history = []
    with LayerTap(model, layer, who) as tap, eval_mode(model):
        index = None
        for _ in range(steps):
            xj = x
            if jitter:
                for d in dims:
                    xj = roll(xj, int(rng.integers(-jitter, jitter + 1)), d)
            with enable_grad():
                model(xj)
                if index is None:
                    index = check_unit(unit, tuple(tap.output.shape), tap.name, who)
                act = unit_activation(tap.output, index)[0]
                loss = -act
                if l2:
                    loss = loss + l2 * (x * x).mean()
                tv = total_variation(x, dims) if tv_weight else None
                if tv is not None:
                    loss = loss + tv_weight * tv
                (g,) = grad(loss, x)
            history.append(float(act.item()))
            x.grad = g
            opt.step()
        with no_grad():
            model(x.detach())
        final = float(unit_activation(tap.output, index)[0].item())
    return Visualisation(x.detach().cpu().double().numpy()[0], final, history)


def filters(conv_layer, *, per_filter=True):
    """The weights of a convolution as images in [0, 1], numpy float64 of the
    weight's shape (out, in, kh, kw) (or (out, in, k) for 1-d). Each filter
    is scaled by its own min and max (per_filter=False: by the whole
    layer's, so filters compare); a constant filter becomes 0.5."""
    weight = conv_layer if isinstance(conv_layer, Tensor) else getattr(conv_layer, "weight", None)
    if not isinstance(weight, Tensor) or weight.ndim < 3:
        what = tuple(weight.shape) if isinstance(weight, Tensor) else "no weight"
        raise ValueError(f"[filters] needs a convolution layer (weight of shape (out, in, *kernel)); got "
                         f"{type(conv_layer).__name__} with {what}")
    w = weight.detach().cpu().double().numpy()
    axes = tuple(range(1, w.ndim)) if per_filter else None
    lo = w.min(axis=axes, keepdims=True)
    hi = w.max(axis=axes, keepdims=True)
    span = hi - lo
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(span > 0, (w - lo) / np.where(span > 0, span, 1.0), 0.5)
    return out
