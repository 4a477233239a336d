"""Training checkpoints: everything needed to continue a run exactly.

One safetensors file holds the model's state_dict, the optimiser's and the
scheduler's state, the epoch, glassnet's RNG state and the DataLoader's
position. Nested states (an optimiser's ``{"state": {0: {...}}, "param_groups":
[...]}``) are flattened: each tensor is stored under a path-like name
(``optimizer/state/0/exp_avg``) and the rest of the structure goes to the
header's metadata as JSON, with a marker where each tensor was. Dict keys keep
their type (ints stay ints) and tuples stay tuples. Written atomically; no
pickle.
"""
import json
import numbers

import numpy as np

from ._tensor import Tensor
from .serialization import load, load_metadata, save

FORMAT = "glassnet.checkpoint/1"


def _flatten(obj, prefix, tensors):
    """A JSON-able skeleton of `obj`; tensors are moved into `tensors` under path names."""
    if isinstance(obj, (Tensor, np.ndarray)):
        tensors[prefix] = obj
        return {"__tensor__": prefix}
    if isinstance(obj, dict):
        return {"__dict__": [[_key(k, prefix), _flatten(v, f"{prefix}/{k}", tensors)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"__tuple__": [_flatten(v, f"{prefix}/{i}", tensors) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_flatten(v, f"{prefix}/{i}", tensors) for i, v in enumerate(obj)]
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, numbers.Integral):
        return int(obj)
    if isinstance(obj, numbers.Real):
        return float(obj)
    raise TypeError(f"[save_checkpoint] can't store {prefix!r} of type {type(obj).__name__} "
                    f"(tensors, numbers, strings, None, lists, tuples and dicts only)")


def _key(k, prefix):
    if isinstance(k, bool) or not isinstance(k, (str, numbers.Integral)):
        raise TypeError(f"[save_checkpoint] dict key {k!r} under {prefix!r} is not a str or int")
    return k if isinstance(k, str) else int(k)


def _unflatten(skeleton, tensors):
    if isinstance(skeleton, dict):
        if "__tensor__" in skeleton:
            return tensors[skeleton["__tensor__"]]
        if "__tuple__" in skeleton:
            return tuple(_unflatten(v, tensors) for v in skeleton["__tuple__"])
        return {k: _unflatten(v, tensors) for k, v in skeleton["__dict__"]}
    if isinstance(skeleton, list):
        return [_unflatten(v, tensors) for v in skeleton]
    return skeleton


def save_checkpoint(path, *, model=None, optimizer=None, scheduler=None, epoch=None, loader=None, extra=None):
    """Write a checkpoint of a training run to `path` (safetensors, atomic).

    Any of model / optimizer / scheduler / loader (a DataLoader) may be left
    out; each given one is saved through its ``state_dict()``. glassnet's RNG
    state is always saved. `extra`: any JSON-able value (with tensors allowed).
    """
    from ._creation import get_rng_state

    tensors = {}
    parts = {}
    for name, obj in (("model", model), ("optimizer", optimizer), ("scheduler", scheduler), ("loader", loader)):
        if obj is not None:
            parts[name] = _flatten(obj.state_dict(), name, tensors)
    if extra is not None:
        parts["extra"] = _flatten(extra, "extra", tensors)
    seed, offset = get_rng_state()
    info = {"format": FORMAT, "epoch": epoch, "rng_state": [int(seed), int(offset)], "parts": parts}
    save(tensors, path, metadata={"glassnet.checkpoint": json.dumps(info)})


def checkpoint_info(path):
    """The checkpoint's JSON header: "epoch", "rng_state" and "parts" (the saved parts' structure)."""
    meta = load_metadata(path)
    if "glassnet.checkpoint" not in meta:
        raise ValueError(f"[load_checkpoint] {path!r} is a plain safetensors file, not a glassnet checkpoint "
                         f"(load weights with gn.load and model.load_state_dict)")
    info = json.loads(meta["glassnet.checkpoint"])
    if info.get("format") != FORMAT:
        raise ValueError(f"[load_checkpoint] {path!r} has format {info.get('format')!r}, expected {FORMAT!r}")
    return info


def load_checkpoint(path, *, model=None, optimizer=None, scheduler=None, loader=None, restore_rng=True,
                    device=None, strict=True):
    """Restore what `save_checkpoint` wrote into the given objects (each optional).

    Restores glassnet's RNG state too unless ``restore_rng=False``. Returns a
    dict with "epoch", "extra" and the raw states of any parts not restored.
    """
    from ._creation import set_rng_state

    info = checkpoint_info(path)
    tensors = load(path, device=device)
    states = {name: _unflatten(skel, tensors) for name, skel in info["parts"].items()}
    targets = {"model": model, "optimizer": optimizer, "scheduler": scheduler, "loader": loader}
    for name, obj in targets.items():
        if obj is None:
            continue
        if name not in states:
            raise KeyError(f"[load_checkpoint] {path!r} holds no {name} state (it has {sorted(states)})")
        if name == "model":
            obj.load_state_dict(states[name], strict=strict)
        else:
            obj.load_state_dict(states[name])
    if restore_rng:
        set_rng_state(info["rng_state"])
    result = {"epoch": info["epoch"], "extra": states.get("extra"), "rng_state": tuple(info["rng_state"])}
    result.update({k: v for k, v in states.items() if k != "extra" and targets.get(k) is None})
    return result
