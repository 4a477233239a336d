"""Metrics that accumulate over batches on the tensors' device (no host sync
per batch) and report a float at the end: accuracy, top-k accuracy; and the
confusion matrix, computed on the host from predicted labels.

A metric has ``name``, ``reset()``, ``update(output, target)`` and
``result()``. Targets are class indices (int64, one dim fewer than the
output) or one-hot / probability rows (same shape as the output).
"""
import numpy as np

from .._tensor import Tensor


def _target_classes(output, target):
    if target.ndim == output.ndim and target.shape == output.shape and output.ndim >= 2:
        return target.argmax(-1)
    if target.ndim != output.ndim - 1:
        raise ValueError(f"[metrics] target of shape {tuple(target.shape)} does not match an output of shape "
                         f"{tuple(output.shape)} (expected class indices of shape {tuple(output.shape[:-1])})")
    return target


class Metric:
    name = "metric"

    def reset(self):
        raise NotImplementedError

    def update(self, output, target):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError


class Accuracy(Metric):
    """Share of samples whose arg-max output is the target class."""

    name = "accuracy"

    def __init__(self):
        self.reset()

    def reset(self):
        self._correct = None
        self._count = 0

    def update(self, output, target):
        hits = (output.argmax(-1) == _target_classes(output, target)).sum()
        self._correct = hits if self._correct is None else self._correct + hits
        self._count += target.shape[0] if output.ndim > 1 else 1

    def result(self):
        return float(self._correct.item()) / self._count if self._count else float("nan")


class TopKAccuracy(Metric):
    """Share of samples whose target class is among the k largest outputs."""

    def __init__(self, k=5):
        if k < 1:
            raise ValueError(f"[TopKAccuracy] k must be >= 1, got {k}")
        self.k = int(k)
        self.name = f"top{self.k}_accuracy"
        self.reset()

    def reset(self):
        self._correct = None
        self._count = 0

    def update(self, output, target):
        classes = _target_classes(output, target)
        if self.k > output.shape[-1]:
            raise ValueError(f"[TopKAccuracy] k={self.k} but the output has only {output.shape[-1]} classes")
        # The target is in the top k when fewer than k classes score strictly higher than it.
        target_score = output.gather(-1, classes.unsqueeze(-1))
        higher = (output > target_score).sum(-1)
        hits = (higher < self.k).sum()
        self._correct = hits if self._correct is None else self._correct + hits
        self._count += int(np.prod(classes.shape))

    def result(self):
        return float(self._correct.item()) / self._count if self._count else float("nan")


def confusion_matrix(target, predicted, num_classes=None):
    """counts[i, j] = samples of true class i predicted as class j (int64 numpy array)."""
    t = _as_labels(target)
    p = _as_labels(predicted)
    if t.shape != p.shape:
        raise ValueError(f"[confusion_matrix] {t.shape[0]} targets but {p.shape[0]} predictions")
    n = int(num_classes) if num_classes is not None else int(max(t.max(initial=-1), p.max(initial=-1)) + 1)
    if t.size and (t.min() < 0 or p.min() < 0 or t.max() >= n or p.max() >= n):
        raise ValueError(f"[confusion_matrix] labels must lie in [0, {n})")
    return np.bincount(t * n + p, minlength=n * n).reshape(n, n).astype(np.int64)


def _as_labels(x):
    a = x.detach().cpu().numpy() if isinstance(x, Tensor) else np.asarray(x)
    return a.reshape(-1).astype(np.int64)


class ConfusionMatrix(Metric):
    """Confusion matrix over all batches (``result()`` is an int64 numpy array, not a float)."""

    name = "confusion_matrix"

    def __init__(self, num_classes):
        self.num_classes = int(num_classes)
        self.reset()

    def reset(self):
        self._counts = np.zeros((self.num_classes, self.num_classes), dtype=np.int64)

    def update(self, output, target):
        classes = _target_classes(output, target)
        self._counts += confusion_matrix(classes, output.argmax(-1), self.num_classes)

    def result(self):
        return self._counts.copy()


_NAMES = {"accuracy": Accuracy, "acc": Accuracy}


def get_metric(spec):
    """A fresh Metric from a name ("accuracy", "top5_accuracy", "top_3_accuracy") or a Metric."""
    if isinstance(spec, Metric):
        return spec
    if isinstance(spec, str):
        if spec in _NAMES:
            return _NAMES[spec]()
        key = spec.replace("_", "")
        if key.startswith("top") and key.endswith("accuracy") and key[3:-8].isdigit():
            return TopKAccuracy(int(key[3:-8]))
    raise ValueError(f"[metrics] unknown metric {spec!r}; use 'accuracy', 'top<k>_accuracy' or a Metric")
