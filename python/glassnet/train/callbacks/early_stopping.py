"""EarlyStopping: stop when a monitored value has not improved for `patience` epochs."""
import math

from .base import Callback, monitor_mode, monitored


class EarlyStopping(Callback):
    """Stop training once `monitor` fails to improve by more than `min_delta`
    for `patience` epochs in a row. With ``restore_best_weights`` the model
    gets back the weights of its best epoch when training ends."""

    def __init__(self, monitor="val_loss", patience=0, min_delta=0.0, mode="auto", restore_best_weights=False,
                 baseline=None):
        super().__init__()
        self.monitor = monitor
        self.patience = int(patience)
        self.min_delta = abs(float(min_delta))
        self.mode = monitor_mode(monitor, mode, "EarlyStopping")
        self.restore_best_weights = restore_best_weights
        self.baseline = baseline

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = None
        self.best_epoch = None
        self.best = (math.inf if self.mode == "min" else -math.inf) if self.baseline is None else float(self.baseline)
        self.best_weights = None

    def _improved(self, value):
        if math.isnan(value):
            return False
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, epoch, logs=None):
        value = monitored(logs or {}, self.monitor, "EarlyStopping")
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.trainer.stop_training = True

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            self.model.load_state_dict(self.best_weights)
