"""History: the per-epoch logs of a `fit` run, as Keras keeps them."""
from .callbacks.base import Callback


class History(Callback):
    """``history.history`` maps each log name ("loss", "accuracy", "val_loss",
    "lr", ...) to its list of per-epoch values; ``history.epoch`` lists the
    epoch numbers."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def __repr__(self):
        return f"History(epochs={len(self.epoch)}, keys={sorted(self.history)})"
