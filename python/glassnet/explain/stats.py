"""Network health from numpy: statistics of weights and of recorded tensors.

tensor_stats gives the keys of RunningStats.summary (running.py) with the same
definitions, and "min" besides, so statistics gathered on the fly during
training can be checked against these computed afterwards.
"""
import numpy as np

from .._tensor import Tensor
from .running import histogram


def tensor_stats(t, bins=30):
    """mean, std (population), norm (L2), rms, norm_per_sample (root mean
    squared per-sample norm, dim 0 = samples), min, max, zero_fraction (values
    <= 0), dead_units / dead_fraction / units (units along dim 1 never
    positive), count, hist and edges, computed in float64."""
    a = np.asarray(t.detach().cpu().numpy() if isinstance(t, Tensor) else t, dtype=np.float64)
    if a.size == 0:
        raise ValueError(f"[tensor_stats] cannot summarise an empty tensor of shape {a.shape}")
    flat = a.ravel()
    sumsq = sum_of_squares(flat)
    samples = a.shape[0] if a.ndim else 1
    unit_max = a.max(axis=tuple(d for d in range(a.ndim) if d != 1)) if a.ndim >= 2 else np.array([a.max()])
    dead = int(np.count_nonzero(unit_max <= 0))
    hist, edges = histogram(t if isinstance(t, Tensor) else _as_tensor(a), bins)
    return {
        "mean": float(flat.mean()), "std": float(flat.std()), "norm": float(np.sqrt(sumsq)),
        "rms": float(np.sqrt(sumsq / flat.size)), "norm_per_sample": float(np.sqrt(sumsq / samples)),
        "min": float(flat.min()), "max": float(flat.max()),
        "zero_fraction": float(np.count_nonzero(flat <= 0)) / flat.size, "dead_fraction": dead / unit_max.size,
        "dead_units": dead, "units": int(unit_max.size), "count": int(flat.size), "hist": hist, "edges": edges,
    }


def sum_of_squares(a):
    """Σ a² of a 1-D array, as a float, in its dtype. Not np.dot: that goes
    to BLAS, whose threads cost milliseconds (not microseconds) for a vector
    of a few thousand values when the cores are busy, as they are in training."""
    return float(np.einsum("i,i->", a, a))


def _as_tensor(a):
    from .._creation import from_numpy
    return from_numpy(np.ascontiguousarray(a))


def weight_stats(model, bins=30, *, gradients=False):
    """Per parameter (named as in named_parameters()): shape, mean, std, norm,
    rms, min, max, hist and edges (numpy). gradients=True adds "grad": the
    same statistics of ``.grad`` (None where a parameter has no gradient)."""
    out = {}
    for name, p in model.named_parameters():
        if p.numel() == 0:
            continue
        s = _param_summary(p, bins)
        if gradients:
            s["grad"] = _param_summary(p.grad, bins) if p.grad is not None else None
        out[name] = s
    return out


def _param_summary(t, bins):
    a = np.asarray(t.detach().cpu().numpy(), dtype=np.float64).ravel()
    hist, edges = histogram(a, bins)
    norm = float(np.sqrt(sum_of_squares(a)))
    return {"shape": tuple(t.shape), "mean": float(a.mean()), "std": float(a.std()), "norm": norm,
            "rms": norm / np.sqrt(a.size), "min": float(a.min()), "max": float(a.max()), "hist": hist,
            "edges": edges}


def activation_stats(recording, bins=30, *, gradients=False):
    """tensor_stats of every activation a `Recording` holds, by layer name;
    gradients=True: of its recorded gradients instead."""
    source = recording.gradients if gradients else recording.activations
    return {name: tensor_stats(t, bins) for name, t in source.items()}


def dead_relu_fraction(source, layer=None):
    """Share of units (dim 1: channels or features) that are never positive
    over the batch: for a tensor, a float; for a Recording, a dict by layer
    name over its activations (or the float for `layer`). Applied to ReLU
    outputs, these are the units that passed no gradient for the batch."""
    from .record import Recording
    if isinstance(source, Recording):
        if layer is not None:
            if layer not in source.activations:
                raise ValueError(f"[dead_relu_fraction] layer {layer!r} was not recorded; recorded: "
                                 f"{sorted(source.activations)}")
            return dead_relu_fraction(source.activations[layer])
        return {name: dead_relu_fraction(t) for name, t in source.activations.items()}
    a = np.asarray(source.detach().cpu().numpy() if isinstance(source, Tensor) else source)
    if a.ndim < 2:
        raise ValueError(f"[dead_relu_fraction] needs a batch of shape (N, units, ...), got {a.shape}")
    unit_max = a.max(axis=tuple(d for d in range(a.ndim) if d != 1))
    return float(np.count_nonzero(unit_max <= 0)) / unit_max.size
