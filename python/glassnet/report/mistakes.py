"""Section: test samples the network got wrong, most confident first."""
import numpy as np

from . import _mpl
from .page import Picture, Section

MAX_SHOWN = 16


def section(data):
    if data.image_shape is None:
        return None
    wrong = np.flatnonzero(data.predicted != data.y)
    if len(wrong) == 0:
        return Section("mistakes", "Misclassified examples",
                       "Test samples whose predicted class differs from the label.",
                       notes=["None: every test sample was classified correctly."])
    probs = data.probabilities
    confidence = probs[wrong, data.predicted[wrong]]
    order = wrong[np.argsort(-confidence, kind="stable")][:MAX_SHOWN]
    images = data.display(data.x[order])
    cols = min(8, len(order))
    rows = -(-len(order) // cols)
    fig = _mpl.figure(1.25 * cols, 1.45 * rows)
    axes = fig.subplots(rows, cols, squeeze=False)
    names = data.class_names
    for k, ax in enumerate(axes.ravel()):
        _mpl.bare_axes(ax)
        if k >= len(order):
            ax.set_visible(False)
            continue
        i = order[k]
        _show(ax, images[k])
        p, t = data.predicted[i], data.y[i]
        ax.set_title(f"{names[t]} → {names[p]}\n{100 * probs[i, p]:.0f}% sure", fontsize=8, color="#b3261e")
    return Section("mistakes", "Misclassified examples",
                   f"The test samples the network got wrong ({len(wrong)} of {len(data.y)}), the most confidently "
                   f"wrong first: above each, the true class → the predicted one and the probability the network "
                   f"gave its prediction. Confident mistakes on clear inputs point at something the network has not "
                   f"learned; mistakes on ambiguous scribbles are forgivable.",
                   [Picture(_mpl.to_data_uri(fig), "misclassified test samples",
                            f"{len(order)} shown" + (f" of {len(wrong)}" if len(wrong) > len(order) else ""))])


def _show(ax, image):
    """A raw input: dark ink on white for one channel, colours clipped to [0, 1] for three."""
    if image.ndim == 2:
        ax.imshow(image, cmap="gray_r", interpolation="nearest")
    else:
        ax.imshow(np.clip(image, 0, 1), interpolation="nearest")
