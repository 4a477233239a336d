"""Section: the confusion matrix on the test split."""
import numpy as np

from . import _mpl
from .page import Picture, Section


def confusion_matrix(y, predicted, n):
    """(n, n) counts: row = true class, column = predicted class."""
    return np.bincount(np.asarray(y) * n + np.asarray(predicted), minlength=n * n).reshape(n, n)


def section(data):
    n = len(data.class_names)
    cm = confusion_matrix(data.y, data.predicted, n)
    rows = cm.sum(axis=1, keepdims=True)
    share = np.divide(cm, rows, out=np.zeros(cm.shape), where=rows > 0)
    size = min(5.0, 1.5 + 0.35 * n)
    fig = _mpl.figure(size + 0.8, size)
    ax = fig.subplots()
    im = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    if n <= 20:
        for i in range(n):
            for j in range(n):
                if cm[i, j]:
                    ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=8,
                            color="white" if share[i, j] > 0.55 else ("#b3261e" if i != j else "#1f2328"))
        ax.set_xticks(range(n), data.class_names, fontsize=8)
        ax.set_yticks(range(n), data.class_names, fontsize=8)
    ax.set_xlabel("predicted class", fontsize=9)
    ax.set_ylabel("true class", fontsize=9)
    cb = fig.colorbar(im, ax=ax, shrink=0.8)
    cb.set_label("share of the true class", fontsize=8)
    cb.ax.tick_params(labelsize=7)
    correct = int(np.trace(cm))
    off = cm.copy()
    np.fill_diagonal(off, 0)
    notes = [f"{correct} of {int(cm.sum())} test samples right ({100 * correct / max(1, cm.sum()):.2f}%)."]
    if off.any():
        i, j = np.unravel_index(off.argmax(), off.shape)
        notes.append(f"Most frequent confusion: true {data.class_names[i]} predicted as {data.class_names[j]} "
                     f"({off[i, j]} times).")
    recall = np.divide(np.diag(cm), rows[:, 0], out=np.full(n, np.nan), where=rows[:, 0] > 0)
    if np.isfinite(recall).any():
        k = int(np.nanargmin(recall))
        notes.append(f"Hardest class: {data.class_names[k]} ({100 * recall[k]:.1f}% of its samples right).")
    return Section("confusion", "Confusion matrix",
                   "Each row is a true class, each column the class the network predicted; the numbers are counts "
                   "of test samples and the colour is the share of the row. A perfect classifier fills only the "
                   "diagonal; bright cells off it show which classes the network mixes up.",
                   [Picture(_mpl.to_data_uri(fig), "confusion matrix of the test split")], notes)
