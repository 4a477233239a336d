"""HealthMonitor: per-layer statistics of a network while `fit` trains it.

Per epoch, for each monitored layer: the statistics of its outputs and of the
gradients flowing back into them over every training batch (mean, std, norm,
rms, max, share of non-positive values, dead units — units never positive in
the epoch — and a histogram of the epoch's last batch), gathered on the fly
by `glassnet.explain.record` in statistics-only mode; for each parameter: its
statistics at the end of the epoch and those of its gradients over the
epoch's steps. Per step: the update-to-weight ratio ‖Δw‖/‖w‖ of each
parameter (around 1e-3 is the usual healthy figure for SGD-like training;
much larger means the learning rate is too high, much smaller too low).

Everything lands in ``monitor.history``, a plain dict of lists (one entry per
epoch, or per step for the update ratios) that a report can plot:

    history["epochs"]                           [0, 1, ...]
    history["layers"][name]["activation"][key]  per epoch (key: mean, std, ...)
    history["layers"][name]["gradient"][key]    per epoch
    history["weights"][param][key]              per epoch (mean, std, norm, hist, edges, ...)
    history["weight_grads"][param][key]         per epoch
    history["update_ratio"][param]              per step
    history["update_ratio_mean"][param]         per epoch (mean over its steps)
    history["steps"]                            the global step of each ratio

The reductions stay on the device and become floats once per epoch, so the
monitor adds no host sync per step. Only forward calls in training mode are
recorded (fit's validation pass runs in eval mode and is left out).
"""
import math

import numpy as np

from ...autograd import no_grad
from .base import Callback

_ACTIVATION_MODULES = ("ReLU", "ReLU6", "LeakyReLU", "ELU", "SELU", "GELU", "SiLU", "Softplus", "Sigmoid",
                       "Tanh", "Hardtanh")


def default_layers(model):
    """Leaf modules that hold parameters or are activation functions."""
    names = []
    for name, m in model.named_modules():
        if any(True for _ in m.children()):
            continue
        if any(True for _ in m.parameters(recurse=False)) or type(m).__name__ in _ACTIVATION_MODULES:
            names.append(name)
    return names


class HealthMonitor(Callback):
    """Collect layer and parameter statistics during `fit` into `history`.

    layers: names or modules to watch (default: leaf modules with parameters
    and activation layers). activations / gradients / weights / update_ratio:
    which parts to collect. update_every: measure ‖Δw‖/‖w‖ every this many
    steps (it keeps a copy of the weights). every: gather the layer and
    parameter-gradient statistics on every this many training batches only
    (a sample that costs proportionally less). bins: histogram bins. on_device: reduce
    with glassnet ops into device scalars (default: only for GPU weights;
    CPU ones go through numpy views, which is cheaper)."""

    def __init__(self, layers=None, *, activations=True, gradients=True, weights=True, update_ratio=True,
                 update_every=1, every=1, bins=30, on_device=None):
        super().__init__()
        if isinstance(update_every, bool) or not isinstance(update_every, int) or update_every < 1:
            raise ValueError(f"[HealthMonitor] update_every must be an int >= 1, got {update_every!r}")
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"[HealthMonitor] every must be an int >= 1, got {every!r}")
        self.every = every
        self.on_device = on_device
        self.layers = layers
        self.activations = activations
        self.gradients = gradients
        self.weights = weights
        self.update_ratio = update_ratio
        self.update_every = update_every
        self.bins = int(bins)
        self.history = None
        self._ctx = None
        self._rec = None
        self._params = []
        self._prev = None
        self._grad_stats = None
        self._ratios = None
        self._step = 0

    # ---- lifecycle -----------------------------------------------------------------
    def on_train_begin(self, logs=None):
        from ...explain.running import RunningStats
        from ...explain.stats import sum_of_squares
        self._sum_of_squares = sum_of_squares  # for _ratio, every step: bound once
        model = self.model
        self._params = [(n, p) for n, p in model.named_parameters() if p.numel() > 0]
        self.history = {"epochs": [], "layers": {}, "weights": {}, "weight_grads": {}, "update_ratio": {},
                        "update_ratio_mean": {}, "steps": []}
        self._grad_stats = {n: RunningStats(self.bins, units=False, on_device=self.on_device) for n, _ in self._params}
        self._step = 0
        # CPU weights are compared through numpy views (a few microseconds a
        # parameter); GPU ones by glassnet ops into device scalars (no sync per step).
        self._host = not self.on_device and not any(p.is_cuda for _, p in self._params)
        if self.update_ratio:
            with no_grad():
                self._prev = [p.detach().numpy().copy() if self._host else p.detach().clone()
                              for _, p in self._params]

    def on_epoch_begin(self, epoch, logs=None):
        from ...explain.record import record
        self._close()
        if self.activations or self.gradients:
            layers = self.layers if self.layers is not None else default_layers(self.model)
            if layers:
                self._ctx = record(self.model, layers, gradients=self.gradients, stats_only=True, bins=self.bins,
                                   training_only=True, every=self.every)
                self._rec = self._ctx.__enter__()
        for s in self._grad_stats.values():
            s.reset()
        self._ratios = []

    def on_batch_end(self, batch, logs=None):
        with no_grad():
            if self.gradients and self._step % self.every == 0:
                for n, p in self._params:
                    if p.grad is not None:
                        self._grad_stats[n].update(p.grad)
            if self.update_ratio and self._step % self.update_every == 0:
                self._ratios.append((self._step, [self._ratio(p, prev) for (_, p), prev in
                                                  zip(self._params, self._prev)]))
            elif self.update_ratio and (self._step + 1) % self.update_every == 0:
                for (_, p), prev in zip(self._params, self._prev):
                    if self._host:
                        np.copyto(prev, p.detach().numpy())
                    else:
                        prev.copy_(p.detach())
        self._step += 1

    def on_epoch_end(self, epoch, logs=None):
        h = self.history
        h["epochs"].append(int(epoch))
        if self._rec is not None:
            for name, stats in self._rec.stats.items():
                entry = h["layers"].setdefault(name, {"activation": {}, "gradient": {}})
                for kind, running in (("activation", stats.activation), ("gradient", stats.gradient)):
                    if kind == "activation" and not self.activations or kind == "gradient" and not self.gradients:
                        continue
                    _append(entry[kind], running.summary(), len(h["epochs"]))
        self._close()
        if self.weights:
            from ...explain.stats import _param_summary
            for n, p in self._params:
                _append(h["weights"].setdefault(n, {}), _param_summary(p, self.bins), len(h["epochs"]))
        if self.gradients:
            for n, _ in self._params:
                _append(h["weight_grads"].setdefault(n, {}), self._grad_stats[n].summary(), len(h["epochs"]))
        if self.update_ratio:
            self._flush_ratios()

    def on_train_end(self, logs=None):
        self._close()

    def on_exception(self, exc):
        """fit calls this when an exception ends the run: the hooks go, the
        history gathered so far stays."""
        self._close()

    def history_json(self):
        """`history` with its numpy arrays as lists (and NaN as None), ready
        for ``json.dump``."""
        return _builtin(self.history)

    def close(self):
        """Remove the recording hooks (fit does it when the run ends, also by
        an exception; call this when driving the callback by hand)."""
        self._close()

    def __del__(self):
        try:
            self._close()
        except Exception:
            pass

    # ---- helpers -------------------------------------------------------------------
    def _ratio(self, p, prev):
        """‖w − prev‖/‖w‖, then prev := w."""
        if self._host:
            w = p.detach().numpy().reshape(-1)
            flat = prev.reshape(-1)
            np.subtract(w, flat, out=flat)  # prev holds Δw for a moment
            ratio = math.sqrt(self._sum_of_squares(flat)) / math.sqrt(self._sum_of_squares(w) or math.nan)
            np.copyto(flat, w)
            return ratio
        w = p.detach()
        ratio = (w - prev).norm() / w.norm()
        prev.copy_(w)
        return ratio

    def _close(self):
        if self._ctx is not None:
            ctx, self._ctx, self._rec = self._ctx, None, None
            ctx.__exit__(None, None, None)

    def _flush_ratios(self):
        from ..._functions import stack
        h = self.history
        names = [n for n, _ in self._params]
        if self._ratios and self._host:
            table = np.array([row for _, row in self._ratios], dtype=np.float64)
        elif self._ratios:
            table = stack([stack(row) for _, row in self._ratios]).double().cpu().numpy()
        else:
            table = np.zeros((0, len(names)))
        h["steps"].extend(step for step, _ in self._ratios)
        for j, n in enumerate(names):
            h["update_ratio"].setdefault(n, []).extend(float(v) for v in table[:, j])
            mean = float(table[:, j].mean()) if len(table) else float("nan")
            h["update_ratio_mean"].setdefault(n, []).append(mean)
        self._ratios = []


def _append(columns, summary, epochs_so_far):
    """Append one epoch's summary (a dict or None when nothing was seen) to
    per-key lists, padding with None so every list has one entry per epoch."""
    if summary is None:
        for values in columns.values():
            values.append(None)
        return
    for key, value in summary.items():
        values = columns.setdefault(key, [None] * (epochs_so_far - 1))
        values.append(value)


def _builtin(value):
    if isinstance(value, dict):
        return {k: _builtin(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_builtin(v) for v in value]
    if isinstance(value, np.ndarray):
        return _builtin(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
