"""What a report is drawn from: a model, labelled test samples, and the run's record.

`ReportData` holds the test inputs as the model takes them (after any
standardisation) next to a function that turns model-space arrays back into
pictures (undoing the standardisation, reshaping flat rows to H x W), so the
attribution and feature-visualisation sections can show model-space results
in the same frame as the raw inputs.
"""
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np


def image_shape_for(in_shape):
    """(C, H, W) to display one sample of a model input of `in_shape`: a feature count
    that is C·side² (C = 1 or 3), or an (H, W) / (C, H, W) shape. None when inputs are
    not images (then the picture sections that need images are left out)."""
    if isinstance(in_shape, (int, np.integer)):
        for c in (1, 3):
            side = int(round((int(in_shape) // c) ** 0.5))
            if c * side * side == int(in_shape):
                return (c, side, side)
        return None
    shape = tuple(int(d) for d in in_shape)
    if len(shape) == 2:
        return (1,) + shape
    if len(shape) == 3 and shape[0] in (1, 3):
        return shape
    return None


@dataclass
class ReportData:
    """Inputs of `build_report`.

    model: the trained model; x: test inputs as the model takes them (numpy, N x ...);
    y: int labels (N,); image_shape: (C, H, W) of one input, or None;
    input_mean / input_std: the standardisation applied to raw inputs (model input =
    (raw - mean) / std), or None; history: fit's history dict ("loss", "val_accuracy",
    ... -> per-epoch lists) or None; health: per-layer statistics as
    {statistic: {layer: [per-epoch values]}} (see `health.series_from_monitor`) or None;
    facts: (label, value) pairs shown at the top of the page.
    """
    model: object
    x: np.ndarray
    y: np.ndarray
    title: str = "glassnet report"
    subtitle: str = ""
    image_shape: Optional[tuple] = None
    input_mean: Optional[np.ndarray] = None
    input_std: Optional[np.ndarray] = None
    history: Optional[dict] = None
    health: Optional[dict] = None
    class_names: Optional[list] = None
    facts: list = field(default_factory=list)
    _logits: Optional[np.ndarray] = field(default=None, repr=False)

    def __post_init__(self):
        self.x = np.ascontiguousarray(self.x, dtype=np.float32)
        self.y = np.asarray(self.y).astype(np.int64).reshape(-1)
        if len(self.x) != len(self.y):
            raise ValueError(f"[report] {len(self.x)} test inputs but {len(self.y)} labels")
        if self.class_names is None:
            n = int(max(self.y.max(initial=0) + 1, self.logits.shape[1] if len(self.x) else 0))
            self.class_names = [str(i) for i in range(n)]

    @property
    def logits(self):
        """The model's outputs on every test input (computed once, eval mode, no grad)."""
        if self._logits is None:
            from .._creation import from_numpy
            from ..train import predict

            device = next((p.device for p in self.model.parameters()), None)
            x = from_numpy(self.x)
            if device is not None and x.device != device:
                x = x.to(device)
            self._logits = predict(self.model, x).detach().cpu().numpy()
        return self._logits

    @property
    def predicted(self):
        return self.logits.argmax(axis=1)

    @property
    def probabilities(self):
        z = self.logits - self.logits.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def display(self, arrays):
        """Model-space arrays (N, *input shape) as pictures in raw pixel units: (N, H, W)
        for one channel, (N, H, W, 3) for colour."""
        a = np.asarray(arrays, dtype=np.float64).reshape(len(arrays), -1)
        if self.input_std is not None:
            a = a * np.asarray(self.input_std, dtype=np.float64).reshape(1, -1)
        if self.input_mean is not None:
            a = a + np.asarray(self.input_mean, dtype=np.float64).reshape(1, -1)
        return self.as_images(a)

    def as_images(self, arrays):
        """Reshape model-space arrays (no unit change) to (N, H, W) or (N, H, W, 3)."""
        c, h, w = self.image_shape
        a = np.asarray(arrays, dtype=np.float64).reshape(len(arrays), c, h, w)
        return a[:, 0] if c == 1 else a.transpose(0, 2, 3, 1)
