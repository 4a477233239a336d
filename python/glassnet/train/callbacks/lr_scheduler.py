"""LRSchedulerCallback: step a learning-rate scheduler from the training loop."""
from .base import Callback, monitored


def _is_plateau(scheduler):
    try:
        from ...optim.lr_scheduler import ReduceLROnPlateau
    except ImportError:
        return type(scheduler).__name__ == "ReduceLROnPlateau"
    return isinstance(scheduler, ReduceLROnPlateau)


class LRSchedulerCallback(Callback):
    """Call ``scheduler.step()`` after each epoch (``interval="epoch"``) or each
    batch (``interval="batch"``, for OneCycleLR and the like). A
    ReduceLROnPlateau scheduler gets the epoch's `monitor` value.
    Runs before other callbacks, so a checkpoint saved at the same epoch end
    holds the scheduler's and optimiser's next-epoch state."""

    order = -10

    def __init__(self, scheduler, monitor="val_loss", interval="epoch"):
        super().__init__()
        if interval not in ("epoch", "batch"):
            raise ValueError(f"[LRSchedulerCallback] interval must be 'epoch' or 'batch', got {interval!r}")
        self.scheduler = scheduler
        self.monitor = monitor
        self.interval = interval
        self.plateau = _is_plateau(scheduler)
        if self.plateau and interval == "batch":
            raise ValueError("[LRSchedulerCallback] ReduceLROnPlateau steps per epoch, on a monitored value")

    def bind(self, trainer):
        super().bind(trainer)
        if trainer is not None and trainer.scheduler is None:
            trainer.scheduler = self.scheduler  # so full checkpoints include it

    def on_epoch_end(self, epoch, logs=None):
        if self.interval != "epoch":
            return
        if self.plateau:
            self.scheduler.step(monitored(logs or {}, self.monitor, "LRSchedulerCallback"))
        else:
            self.scheduler.step()

    def on_batch_end(self, batch, logs=None):
        if self.interval == "batch":
            self.scheduler.step()
