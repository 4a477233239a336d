"""TerminateOnNaN: stop as soon as a batch's loss is NaN or infinite."""
import math

from .base import Callback


class TerminateOnNaN(Callback):
    """Stops training (after the current batch) when the batch loss is not finite."""

    needs_batch_loss = True

    def __init__(self):
        super().__init__()
        self.terminated_at = None

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            self.terminated_at = (self.trainer.epoch, batch)
            self.trainer.stop_training = True
