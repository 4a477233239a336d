"""Helpers shared by the explain functions: layer lookup, targets, inputs,
evaluation mode and the target score f_c(x).

Every explain function runs the model in eval mode (dropout off, batch norm on
its running statistics) so that an explanation describes the deterministic
function the network computes, and restores the model's mode afterwards. They
differentiate with ``autograd.grad`` with respect to the input only, so the
parameters' ``.grad`` are never touched.
"""
import contextlib
import numbers

import numpy as np

from .. import _dtype as dtypes
from .._tensor import Tensor


def as_input(x, who):
    """`x` as a floating glassnet tensor with a batch dim (numpy arrays accepted)."""
    if isinstance(x, np.ndarray):
        from .._creation import from_numpy
        x = from_numpy(np.ascontiguousarray(x))
    if not isinstance(x, Tensor):
        raise TypeError(f"[{who}] x must be a glassnet Tensor or a numpy array, got {type(x).__name__}")
    if not x.is_floating_point():
        raise ValueError(f"[{who}] x must be floating point, got dtype {x.dtype}")
    if x.ndim < 1 or x.shape[0] == 0:
        raise ValueError(f"[{who}] x must be a non-empty batch (N, ...), got shape {tuple(x.shape)}")
    return x.detach()


def resolve_layers(model, layers, who):
    """[(name, module)] for `layers`: None (every leaf module), one name or
    module, or a list of names/modules. Names are those of named_modules()."""
    named = list(model.named_modules())
    if layers is None:
        return [(n, m) for n, m in named if not any(True for _ in m.children())]
    if isinstance(layers, str) or not isinstance(layers, (list, tuple)):
        layers = [layers]
    by_name = dict(named)
    by_id = {id(m): n for n, m in named}
    out = []
    for layer in layers:
        if isinstance(layer, str):
            if layer not in by_name:
                shown = [n for n, _ in named if n][:12]
                more = " ..." if len(named) > 13 else ""
                raise ValueError(f"[{who}] unknown layer {layer!r}: the model's layers are {shown}{more}")
            out.append((layer, by_name[layer]))
        elif id(layer) in by_id:
            out.append((by_id[id(layer)], layer))
        else:
            raise ValueError(f"[{who}] layer {type(layer).__name__} is not a module of this model "
                             f"(give a name from named_modules() or one of its modules)")
    return out


def resolve_layer(model, layer, who):
    if layer is None or isinstance(layer, (list, tuple)):
        raise ValueError(f"[{who}] layer must be one layer name or module, got {layer!r}")
    return resolve_layers(model, layer, who)[0]


def target_index(target, n, num_classes, who):
    """Per-sample class indices as an int64 tensor of shape (n,)."""
    from .._creation import full, tensor
    if isinstance(target, numbers.Integral) and not isinstance(target, bool):
        idx = full((n,), int(target), dtype=dtypes.int64)
    else:
        if isinstance(target, Tensor):
            idx = target.detach()
        else:
            try:
                idx = tensor(np.asarray(target).astype(np.int64))
            except (TypeError, ValueError):
                raise TypeError(f"[{who}] target must be a class index or one index per sample, got {target!r}")
        if idx.is_floating_point():
            raise ValueError(f"[{who}] target must hold integer class indices, got dtype {idx.dtype}")
        if tuple(idx.shape) != (n,):
            raise ValueError(f"[{who}] target must be an int or hold one index per sample, shape ({n},); "
                             f"got shape {tuple(idx.shape)}")
        idx = idx.long()
    if n:
        lo, hi = int(idx.min().item()), int(idx.max().item())
        if lo < 0 or hi >= num_classes:
            raise ValueError(f"[{who}] target indices must lie in [0, {num_classes}) for an output of "
                             f"{num_classes} classes, got values in [{lo}, {hi}]")
    return idx


def check_output(out, who):
    if not isinstance(out, Tensor) or out.ndim != 2:
        shape = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
        raise ValueError(f"[{who}] the model must return scores of shape (N, classes), got {shape}")
    return out


def target_scores(out, idx):
    """out[i, idx[i]] for each sample: shape (N,), differentiable."""
    if idx.device != out.device:
        idx = idx.to(out.device)
    return out.gather(1, idx.unsqueeze(1)).squeeze(1)


@contextlib.contextmanager
def eval_mode(model):
    was_training = getattr(model, "training", False)
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def check_positive_int(value, name, who, minimum=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"[{who}] {name} must be an integer >= {minimum}, got {value!r}")
    return int(value)
