"""The Optimizer base class: parameter groups, per-parameter state and
checkpoints, with torch.optim.Optimizer's names and state_dict layout.

Subclasses keep their hyper-parameters in the groups and their buffers in
``self.state[param]``; their ``step`` gathers each group's tensors and makes
one fused call into the C++ core (``glassnet._C.*_step``), which updates the
parameters and buffers in place.
"""
from collections import defaultdict

import numpy as np

from .. import _C
from .._tensor import Tensor
from ..autograd.grad_mode import state as _grad_state

_CPU = _C.Device("cpu")


class _RequiredParameter:
    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


def _check_nonnegative(optimizer, name, value):
    """torch's checks read ``if not 0.0 <= value``, which also rejects NaN."""
    if not 0.0 <= value:
        raise ValueError(f"[{optimizer}] Invalid {name}: {value}")


class Optimizer:
    """Base class of every optimiser.

    params: an iterable of Tensors, or of dicts each holding ``"params"`` and
    any per-group options that override ``defaults``.

    A subclass validates its hyper-parameters, passes them as ``defaults``
    and implements ``_step_group(group)``, which updates the group's
    parameters that have a gradient.
    """

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError(f"[{type(self).__name__}] params should be an iterable of Tensors or dicts, "
                            "but got a Tensor")
        if isinstance(params, (set, frozenset)):
            raise TypeError(f"[{type(self).__name__}] params must be an ordered collection, not a set: the order of "
                            "a set changes between runs")
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError(f"[{type(self).__name__}] optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    # ---- groups -------------------------------------------------------------------
    def add_param_group(self, param_group):
        """Adds a group of parameters with its own options (missing options
        take the optimiser's defaults)."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"[{name}] param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(f"[{name}] parameters must be an ordered collection, not a set: the order of a set "
                            "changes between runs")
        else:
            params = list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"[{name}] can only optimize Tensors, but one of the params is {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"[{name}] can't optimize a non-leaf Tensor")
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"[{name}] a parameter group contains the same parameter more than once")
        group = dict(param_group)
        group["params"] = params
        for key, default in self.defaults.items():
            if default is required and key not in group:
                raise ValueError(f"[{name}] parameter group didn't specify a value of required optimization "
                                 f"parameter {key}")
            group.setdefault(key, default)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError(f"[{name}] some parameters appear in more than one parameter group")
        self.param_groups.append(group)
        self._on_new_group(group)

    def _on_new_group(self, group):
        """Hook for optimisers that create state eagerly (Adagrad)."""

    # ---- the step -----------------------------------------------------------------
    def step(self, closure=None):
        """Performs one update of every parameter that has a gradient.
        closure: re-evaluates the model and returns the loss (run with grad
        enabled); its result is returned."""
        loss = None
        if closure is not None:
            previous = _grad_state.grad_enabled
            _grad_state.grad_enabled = True
            try:
                loss = closure()
            finally:
                _grad_state.grad_enabled = previous
        previous = _grad_state.grad_enabled
        _grad_state.grad_enabled = False
        try:
            for group in self.param_groups:
                self._step_group(group)
        finally:
            _grad_state.grad_enabled = previous
        return loss

    def _step_group(self, group):
        raise NotImplementedError

    @staticmethod
    def _with_grads(group):
        """The group's parameters that have a gradient, and the C++ tensors of
        both. Gathered on every step: a backward pass makes new gradient
        tensors, and ``p.data = ...`` can replace a parameter's storage."""
        params, p_impls, g_impls = [], [], []
        for p in group["params"]:
            g = p.grad
            if g is not None:
                params.append(p)
                p_impls.append(p._impl)
                g_impls.append(g._impl)
        return params, p_impls, g_impls

    @staticmethod
    def _full_like(p, value):
        impl = p._impl
        return Tensor._wrap(_C.full(list(impl.shape), float(value), impl.dtype, impl.device))

    @staticmethod
    def _new_step():
        """torch's state["step"]: a float32 scalar on the CPU."""
        return Tensor._wrap(_C.full([], 0.0, _C.DType.float32, _CPU))

    def zero_grad(self, set_to_none=True):
        """Clears every parameter's gradient: drops it (the default), or fills
        it with zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if g.grad_fn is not None:
                        g.detach_()
                    else:
                        g.requires_grad_(False)
                    g._impl.fill_(0.0)

    # ---- checkpoints --------------------------------------------------------------
    def state_dict(self):
        """{"state": {index: {name: value}}, "param_groups": [{option: value,
        "params": [index, ...]}]}, parameters numbered in group order as torch
        does. State tensors are shared with the optimiser, not copied."""
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {}
        for p, s in self.state.items():
            if id(p) in index and s:
                state[index[id(p)]] = dict(s)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restores a state_dict from this optimiser class. Tensors are copied
        (and cast to their parameter's dtype; "step" stays a float32 scalar);
        numpy arrays, array-likes such as torch tensors, and numbers are
        accepted too, and indices may be strings, as a JSON round trip leaves
        them. Group options glassnet does not use (torch's "foreach", ...)
        are kept and ignored."""
        name = type(self).__name__
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"[{name}] loaded state dict has {len(saved_groups)} parameter groups, the optimizer "
                             f"has {len(self.param_groups)}")
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(f"[{name}] loaded parameter group {i} has {len(saved['params'])} parameters, the "
                                 f"optimizer's group has {len(group['params'])}")
        by_index = {}
        for group, saved in zip(self.param_groups, saved_groups):
            for p, i in zip(group["params"], saved["params"]):
                by_index[int(i)] = p
        state = defaultdict(dict)
        for key, values in state_dict["state"].items():
            k = int(key)
            if k not in by_index:
                raise ValueError(f"[{name}] loaded state refers to parameter {key}, which no parameter group holds")
            p = by_index[k]
            state[p] = {n: self._restore_value(p, n, v) for n, v in values.items()}
        new_groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            new_group = {k: v for k, v in saved.items() if k != "params"}
            for k, v in new_group.items():
                if isinstance(v, list) and k in ("betas",):
                    new_group[k] = tuple(v)
            new_group["params"] = group["params"]
            new_groups.append(new_group)
        self.state = state
        self.param_groups = new_groups

    @staticmethod
    def _restore_value(p, key, value):
        if key == "step":
            if isinstance(value, Tensor):
                value = value.item()
            return Tensor._wrap(_C.full([], float(np.asarray(value).reshape(())), _C.DType.float32, _CPU))
        if not isinstance(value, (Tensor, np.ndarray)) and hasattr(value, "__array__"):
            value = np.asarray(value)  # e.g. a torch.Tensor from a torch optimiser's state_dict
        if isinstance(value, np.ndarray):
            value = Tensor._wrap(_C.from_numpy(np.array(value, order="C")))  # keeps 0-d arrays 0-d
        if isinstance(value, Tensor):
            impl = value._impl
            if tuple(impl.shape) != tuple(p._impl.shape):
                raise ValueError(f"[load_state_dict] state {key!r} has shape {tuple(impl.shape)} but its parameter "
                                 f"has shape {tuple(p._impl.shape)}")
            impl = impl.to_dtype(p._impl.dtype, True)
            if not (impl.device == p._impl.device):
                impl = impl.to_device(p._impl.device)
            return Tensor._wrap(impl)
        return value

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)
