"""record(): capture what chosen layers compute (their outputs) and the
gradients flowing back into those outputs, by layer name.

    with gx.record(model, ["conv1", "fc"]) as rec:
        loss = F.cross_entropy(model(x), y)
        loss.backward()
    rec.activations["conv1"], rec.gradients["conv1"]

A forward hook on each chosen module keeps its output (detached: the same
memory, no copy unless ``copy=True``) and, when gradients are wanted and the
output is part of a graph, puts a tensor hook on it that keeps the gradient
the backward pass computes for it. Leaving the block removes every hook, even
when it is left by an exception.

Without copies a recorded tensor is the layer's own output, so an in-place
op later in the network (``ReLU(inplace=True)``) changes it: pass copy=True
there. A module called more than once per forward keeps its last output (and
the gradient computed last, which belongs to its first call).

For statistics over many batches, ``stats=True`` folds every output and
gradient into a `RunningStats` per layer (``rec.stats[name].activation`` /
``.gradient``) as it arrives; ``stats_only=True`` does that and keeps no
tensors. ``callback(name, kind, tensor)`` (kind "activation" or "gradient")
sees each tensor as it arrives, for reductions of one's own.
"""
import contextlib

from .._tensor import Tensor
from ..autograd import is_grad_enabled
from ._common import resolve_layers
from .running import RunningStats


class LayerStats:
    """Running statistics of one layer: `.activation` and `.gradient`."""

    def __init__(self, bins):
        self.activation = RunningStats(bins)
        self.gradient = RunningStats(bins, units=False)

    def summary(self, bins=None):
        return {"activation": self.activation.summary(bins), "gradient": self.gradient.summary(bins)}


class Recording:
    """What `record` captured. `activations[name]` / `gradients[name]`: the
    layers' outputs and output gradients (glassnet tensors, detached);
    `stats[name]`: `LayerStats` when statistics were asked for; `layers`: the
    recorded layer names in model order; `modules[name]`: the module."""

    def __init__(self, names, modules):
        self.layers = list(names)
        self.modules = dict(zip(names, modules))
        self.activations = {}
        self.gradients = {}
        self.stats = {}
        self._handles = []
        self._grad_handles = {}   # tensor hooks not yet fired, by a counter
        self._next = 0
        self._closed = False

    def __repr__(self):
        return (f"Recording(layers={self.layers}, activations={sorted(self.activations)}, "
                f"gradients={sorted(self.gradients)})")

    def clear(self):
        """Forget the captured tensors and reset the statistics (hooks stay)."""
        self.activations.clear()
        self.gradients.clear()
        for s in self.stats.values():
            s.activation.reset()
            s.gradient.reset()

    def remove(self):
        """Remove every hook this recording put on the model or its tensors."""
        for h in self._handles:
            h.remove()
        for h in self._grad_handles.values():
            h.remove()
        self._handles.clear()
        self._grad_handles.clear()
        self._closed = True


def _tensors(output):
    """(suffix, tensor) for each floating tensor an output holds: "" for a
    tensor output; "", "[1]", "[2]"... for the elements of a tuple/list."""
    if isinstance(output, Tensor):
        return [("", output)] if output.is_floating_point() else []
    if isinstance(output, (tuple, list)):
        out = []
        for i, t in enumerate(output):
            if isinstance(t, Tensor) and t.is_floating_point():
                out.append(("" if i == 0 else f"[{i}]", t))
        return out
    return []


def _make_hooks(rec, name, gradients, copy, keep, collect, callback, bins, training_only, every):
    # These run for every recorded layer on every batch of a training epoch,
    # so the common case (one tensor output, statistics only) goes straight
    # to the running statistics with the tensors as they come: RunningStats
    # reads the C++ tensor and builds no detached wrapper.
    wrap = keep or callback is not None

    def deliver(kept, kind, key, t):
        # What keep= and callback= ask for, for an activation or a gradient.
        d = t.detach()
        if keep:
            kept[key] = d.clone() if copy else d
        if callback is not None:
            callback(key, kind, d)

    def keep_grad(key, slot):
        def hook(grad):
            if rec._closed:
                return None
            # A fired hook's graph is usually freed right after; forgetting its
            # handle keeps a long recording (a training epoch) from piling them up.
            rec._grad_handles.pop(slot, None)
            if collect:
                rec.stats[key].gradient.update(grad)
            if wrap:
                deliver(rec.gradients, "gradient", key, grad)
            return None
        return hook

    calls = [0]

    def forward_hook(module, args, output):
        if rec._closed or (training_only and not module.training):
            return None
        if every > 1:
            calls[0] += 1
            if (calls[0] - 1) % every:
                return None
        if isinstance(output, Tensor):
            pairs = (("", output),) if output.is_floating_point() else ()
        else:
            pairs = _tensors(output)
        for suffix, t in pairs:
            key = name + suffix if suffix else name
            if collect:
                stats = rec.stats.get(key)
                if stats is None:
                    stats = rec.stats[key] = LayerStats(bins)
                stats.activation.update(t)
            if wrap:
                deliver(rec.activations, "activation", key, t)
            if gradients and t.requires_grad and is_grad_enabled():
                slot = rec._next
                rec._next = slot + 1
                rec._grad_handles[slot] = t.register_hook(keep_grad(key, slot))
        return None

    return forward_hook


@contextlib.contextmanager
def record(model, layers=None, *, gradients=True, copy=False, stats=False, stats_only=False, callback=None,
           bins=30, training_only=False, every=1):
    """Record the outputs (and, after a backward pass, output gradients) of
    `layers` of `model` while the block runs; yields a `Recording`.

    layers: None (every leaf module), a name from ``model.named_modules()``,
    a module of the model, or a list of them. gradients: also keep the
    gradients of the outputs. copy: keep copies instead of the live tensors.
    stats: also fold every tensor into running statistics (``rec.stats``);
    stats_only: statistics only, no tensors kept. callback(name, kind,
    tensor): called with each output ("activation") and gradient
    ("gradient") as it arrives. bins: histogram bins of the statistics.
    training_only: skip forward calls made in eval mode (the validation
    passes inside fit). every: record only every this many calls of each
    layer (the 1st, the 1+every-th, ...), to sample a long run cheaply."""
    chosen = resolve_layers(model, layers, "record")
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise ValueError(f"[record] every must be an int >= 1, got {every!r}")
    rec = Recording([n for n, _ in chosen], [m for _, m in chosen])
    keep = not stats_only
    collect = bool(stats or stats_only)
    if collect:
        for n in rec.layers:
            rec.stats[n] = LayerStats(bins)
    try:
        for name, module in chosen:
            hook = _make_hooks(rec, name, gradients, copy, keep, collect, callback, bins, training_only, every)
            rec._handles.append(module.register_forward_hook(hook))
        yield rec
    finally:
        rec.remove()
