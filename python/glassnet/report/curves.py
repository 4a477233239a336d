"""Section: loss, accuracy and learning rate per epoch."""
import numpy as np

from . import _mpl
from .page import Picture, Section

TRAIN_COLOR, VAL_COLOR, LR_COLOR = "#0b63ce", "#e8710a", "#6b7280"


def section(data):
    h = data.history
    if not h or not h.get("loss"):
        return None
    epochs = np.arange(1, len(h["loss"]) + 1)
    panels = [("loss", "Loss"), ("accuracy", "Accuracy")]
    panels = [(k, t) for k, t in panels if h.get(k) or h.get("val_" + k)]
    show_lr = bool(h.get("lr"))
    n = len(panels) + show_lr
    fig = _mpl.figure(3.4 * n, 2.8, layout=None)
    fig.subplots_adjust(left=0.06 * 3 / n, right=0.98, top=0.9, bottom=0.17, wspace=0.3)
    axes = fig.subplots(1, n, squeeze=False)[0]
    for ax, (key, title) in zip(axes, panels):
        for name, color, label in ((key, TRAIN_COLOR, "train"), ("val_" + key, VAL_COLOR, "test")):
            values = h.get(name)
            if values:
                ax.plot(epochs[:len(values)], values, color=color, lw=1.8, marker="o", ms=2.5, label=label)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("epoch", fontsize=9)
        _mpl.style_axes(ax)
        ax.legend(fontsize=8, frameon=False)
    if show_lr:
        ax = axes[-1]
        ax.plot(epochs[:len(h["lr"])], h["lr"], color=LR_COLOR, lw=1.8)
        ax.set_title("Learning rate", fontsize=10)
        ax.set_xlabel("epoch", fontsize=9)
        ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
        _mpl.style_axes(ax)
    notes = []
    if h.get("accuracy") and h.get("val_accuracy"):
        gap = h["accuracy"][-1] - h["val_accuracy"][-1]
        notes.append(f"Last epoch: train accuracy {100 * h['accuracy'][-1]:.2f}%, test accuracy "
                     f"{100 * h['val_accuracy'][-1]:.2f}% (gap {100 * gap:+.2f} points).")
    return Section("curves", "Training curves",
                   "Per epoch: the training loss and accuracy are averaged over that epoch's batches (while the "
                   "weights were still changing, and with any label smoothing or dropout in effect); the test "
                   "curves are measured on the held-out split after the epoch. Test curves that flatten or turn up "
                   "while the training loss keeps falling mean the network has started to memorise.",
                   [Picture(_mpl.to_data_uri(fig), "loss, accuracy and learning-rate curves per epoch")], notes)
