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
    "gradient_norm": ("Gradient norm", True, "the L2 norm of the loss gradient for the layer's weight; layers "
                      "whose gradients are orders of magnitude below the others learn slowly (vanishing gradients)"),
    "dead_fraction": ("Dead ReLU fraction", False, "the share of ReLU units that output zero for every sample: "
                      "they pass no gradient and have stopped learning"),
    "update_ratio": ("Update / weight ratio", True, "how far one optimiser step moves the weights relative to "
                     "their size (‖Δw‖ / ‖w‖); around 1e-3 is the usual healthy range, far above means unstable "
                     "steps, far below means the layer barely moves"),
}


def series_from_monitor(monitor):
    """{statistic: {layer: [float per epoch]}} from a HealthMonitor (see glassnet.train.callbacks.health)."""
    out = {}
    for stat, per_layer in monitor.history.items():
        out[stat] = {layer: [float(v) for v in values] for layer, values in per_layer.items()}
    return out


def section(data):
    stats = {k: v for k, v in (data.health or {}).items() if any(len(vals) for vals in v.values())}
    if not stats:
        return None
    names = [k for k in KNOWN if k in stats] + sorted(k for k in stats if k not in KNOWN)
    cols = min(3, len(names))
    rows = math.ceil(len(names) / cols)
    fig = _mpl.figure(3.5 * cols, 2.6 * rows + 0.5)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    layers = sorted({layer for k in names for layer in stats[k]}, key=_layer_order)
    colors = _colors(len(layers))
    for ax, name in zip(axes, names):
        title, log, _ = KNOWN.get(name, (name.replace("_", " "), False, ""))
        for layer, color in zip(layers, colors):
            values = np.asarray(stats[name].get(layer, []), dtype=np.float64)
            if values.size:
                ax.plot(np.arange(1, values.size + 1), values, color=color, lw=1.6, label=layer)
        if log and _positive(stats[name]):
            ax.set_yscale("log")
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
    fig.legend([seen[k] for k in layers if k in seen], [k for k in layers if k in seen], loc="outside lower center",
               ncol=min(6, len(seen)), fontsize=8, frameon=False, title="layer", title_fontsize=8)
    notes = [f"{KNOWN[k][0]}: {KNOWN[k][2]}." for k in names if k in KNOWN]
    dead = stats.get("dead_fraction")
    if dead:
        last = {layer: v[-1] for layer, v in dead.items() if len(v)}
        worst = max(last, key=last.get)
        notes.append(f"After the last epoch the most dead ReLU layer is {worst} ({100 * last[worst]:.1f}% of its "
                     f"units never fire).")
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
    """Layer names such as "0", "3.conv", "fc" in model order: numeric parts compare as numbers."""
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in str(name).split(".")]


def _colors(n):
    from matplotlib import colormaps

    cmap = colormaps["viridis" if n > 10 else "tab10"]
    return [cmap(i / max(1, n - 1)) if n > 10 else cmap(i) for i in range(n)]
