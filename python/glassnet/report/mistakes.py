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
    cols = -(-len(order) // -(-len(order) // 8))   # at most 8 a row, rows as even as they can be
    names = data.class_names
    tiles, titles = [], []
    for k, i in enumerate(order):
        if k % cols == 0:
            tiles.append([])
            titles.append([])
        p, t = data.predicted[i], data.y[i]
        tiles[-1].append(_mpl.as_rgb_input(images[k]))
        titles[-1].append(f"{names[t]} → {names[p]}\n{100 * probs[i, p]:.0f}% sure")
    fig = _mpl.grid_figure(tiles, cell_titles=titles, cell_color="#b3261e", title_lines=2)
    return Section("mistakes", "Misclassified examples",
                   f"The test samples the network got wrong ({len(wrong)} of {len(data.y)}), the most confidently "
                   f"wrong first: above each, the true class → the predicted one and the probability the network "
                   f"gave its prediction. Confident mistakes on clear inputs point at something the network has not "
                   f"learned; mistakes on ambiguous scribbles are forgivable.",
                   [Picture(_mpl.to_data_uri(fig), "misclassified test samples",
                            f"{len(order)} shown" + (f" of {len(wrong)}" if len(wrong) > len(order) else ""))])

