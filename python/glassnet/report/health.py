"""Section: per-layer statistics over the epochs (from the HealthMonitor callback).

The section draws one small panel per statistic with a line per layer. Its
input is plain data, {statistic: {layer: [one value per epoch]}}, so a run's
statistics can be saved as JSON next to the checkpoint and drawn again later
by `glassnet explain`; `series_from_monitor` makes it from a HealthMonitor.
"""
import math

import numpy as np

from . import _mpl
from .page import Picture, Section

# statistic -> (panel title, log-scale y axis, what it tells)
KNOWN = {
    "weight_norm": ("Weight norm", False, "the L2 norm of the layer's weight; steady growth without limit hints at "
                    "a learning rate or weight decay that is off"),
    "weight_std": ("Weight spread (std)", False, "the standard deviation of the weight entries"),
    "activation_mean": ("Activation mean", False, "the mean of the layer's output over the epoch's samples"),
    "activation_std": ("Activation spread (std)", False, "the standard deviation of the layer's output; values "
                       "collapsing to zero or exploding across layers mean signals die out or blow up with depth"),
    "gradient_rms": ("Weight gradient (RMS)", True, "the root mean square of the loss gradient's entries for the "
                     "layer's weight over the epoch's steps; layers whose gradients are orders of magnitude below "
                     "the others learn slowly (vanishing gradients)"),
    "dead_fraction": ("Dead ReLU fraction", False, "the share of ReLU units (features, or channels of a "
                      "convolution) that output zero for every training sample the monitor saw in the epoch: "
                      "they pass no gradient and have stopped learning"),
    "update_ratio": ("Update / weight ratio", True, "how far one optimiser step moves the weights relative to "
                     "their size (‖Δw‖ / ‖w‖); around 1e-3 is the usual healthy range, far above means unstable "
                     "steps, far below means the layer barely moves"),
}


RELU_TYPES = ("ReLU", "ReLU6")
ACTIVATION_TYPES = RELU_TYPES + ("LeakyReLU", "ELU", "SELU", "GELU", "SiLU", "Softplus", "Sigmoid", "Tanh",
                                 "Hardtanh")


def series_from_monitor(monitor, model=None):
    """{statistic: {layer: [float per epoch]}} from a HealthMonitor's history (see
    glassnet.train.callbacks.health): weight norm and spread, gradient RMS and mean
    update-to-weight ratio of each weight matrix / kernel (parameters with 2+ dims,
    named by their module), activation mean and spread of the activation layers, and
    the dead fraction of the ReLU layers. Epochs without a value hold NaN."""
    h = monitor.history or {}
    model = model if model is not None else monitor.model
    kinds = {name: type(m).__name__ for name, m in model.named_modules()} if model is not None else {}
    out = {}

    def put(stat, layer, values):
        if values:
            label = f"{layer} {kinds[layer]}" if layer in kinds else layer   # "0 Linear", "1 ReLU"
            out.setdefault(stat, {})[label] = [float("nan") if v is None else float(v) for v in values]

    # Weight matrices and kernels only: biases and norm scales would double the lines for little news.
    matrices = [p for p, st in h.get("weights", {}).items() if len((st.get("shape") or [()])[-1] or ()) >= 2]
    for p in matrices:
        layer = p[:-len(".weight")] if p.endswith(".weight") else p
        put("weight_norm", layer, [_get(v, "norm") for v in _rows(h["weights"][p])])
        put("weight_std", layer, [_get(v, "std") for v in _rows(h["weights"][p])])
        put("gradient_rms", layer, [_get(v, "rms") for v in _rows(h.get("weight_grads", {}).get(p, {}))])
        put("update_ratio", layer, h.get("update_ratio_mean", {}).get(p))
    layers = h.get("layers", {})
    acts = [n for n in layers if kinds.get(n) in ACTIVATION_TYPES] or list(layers)
    for name in acts:
        a = layers[name].get("activation", {})
        put("activation_mean", name, a.get("mean"))
        put("activation_std", name, a.get("std"))
        if kinds.get(name) in RELU_TYPES:
            put("dead_fraction", name, a.get("dead_fraction"))
    return out


def _rows(columns):
    """Per-key lists {key: [per epoch]} -> one dict per epoch."""
    n = max((len(v) for v in columns.values()), default=0)
    return [{k: v[i] if i < len(v) else None for k, v in columns.items()} for i in range(n)]


def _get(row, key):
    return row.get(key) if row is not None else None


def section(data):
    stats = {k: v for k, v in (data.health or {}).items() if any(len(vals) for vals in v.values())}
    if not stats:
        return None
    names = [k for k in KNOWN if k in stats] + sorted(k for k in stats if k not in KNOWN)
    cols = min(3, len(names))
    rows = math.ceil(len(names) / cols)
    layers = sorted({layer for k in names for layer in stats[k]}, key=_layer_order)
    legend_rows = math.ceil(len(layers) / min(6, len(layers)))
    height = 2.4 * rows + 0.55 + 0.22 * legend_rows
    fig = _mpl.figure(3.5 * cols, height, layout=None)
    fig.subplots_adjust(left=0.07, right=0.98, top=1 - 0.3 / height, bottom=(0.6 + 0.22 * legend_rows) / height,
                        wspace=0.28, hspace=0.55)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    colors = _colors(len(layers))
    for ax, name in zip(axes, names):
        title, log, _ = KNOWN.get(name, (name.replace("_", " "), False, ""))
        for layer, color in zip(layers, colors):
            values = np.asarray(stats[name].get(layer, []), dtype=np.float64)
            if values.size:
                ax.plot(np.arange(1, values.size + 1), values, color=color, lw=1.6, label=layer)
        if log and _positive(stats[name]):
            ax.set_yscale("log")
        if name == "dead_fraction":   # a share: from 0, and a flat zero line stays at the bottom
            top = np.nanmax([np.nanmax(v) if len(v) else 0 for v in stats[name].values()] + [0.0])
            ax.set_ylim(0, max(0.05, 1.15 * top))
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("epoch", fontsize=8)
        _mpl.style_axes(ax)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    seen = dict(zip(labels, handles))
    for ax in axes[1:len(names)]:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(lab, h)
    fig.legend([seen[k] for k in layers if k in seen], [k for k in layers if k in seen], loc="lower center",
               ncol=min(6, len(seen)), fontsize=8, frameon=False)
    notes = [f"{KNOWN[k][0]}: {KNOWN[k][2]}." for k in names if k in KNOWN]
    dead = stats.get("dead_fraction")
    if dead:
        last = {layer: v[-1] for layer, v in dead.items() if len(v) and np.isfinite(v[-1])}
        worst = max(last, key=last.get) if last else None
        if worst is not None and last[worst] > 0:
            notes.append(f"In the last epoch {100 * last[worst]:.1f}% of the units of {worst} never fired "
                         f"(the most of any ReLU layer).")
        elif worst is not None:
            notes.append("In the last epoch every ReLU unit fired for some training sample: none is dead.")
    return Section("health", "Layer statistics over training",
                   "How each layer's weights, outputs and gradients evolved, one value per epoch and a line per "
                   "layer (collected during training by the HealthMonitor callback). Healthy training shows "
                   "smoothly settling curves of similar magnitude across layers.",
                   [Picture(_mpl.to_data_uri(fig), "per-layer weight, activation and gradient statistics per epoch")],
                   notes)


def _positive(per_layer):
    values = [v for vals in per_layer.values() for v in vals]
    return bool(values) and min(values) > 0


def _layer_order(name):
    """Layer labels such as "0 Linear", "3.conv ReLU", "fc" in model order: numeric parts of the
    module path compare as numbers."""
    path = str(name).split(" ")[0]
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in path.split(".")]


def _colors(n):
    from matplotlib import colormaps

    cmap = colormaps["viridis" if n > 10 else "tab10"]
    return [cmap(i / max(1, n - 1)) if n > 10 else cmap(i) for i in range(n)]
