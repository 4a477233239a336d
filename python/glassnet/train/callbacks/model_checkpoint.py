"""ModelCheckpoint: save the model (or the whole run) after epochs, atomically."""
import math
import os

from .base import Callback, monitor_mode, monitored


class ModelCheckpoint(Callback):
    """Save after every epoch, or with ``save_best_only`` only when `monitor`
    improves. `path` may hold format fields from the epoch and its logs, e.g.
    ``"ckpt/epoch{epoch:03d}-{val_loss:.3f}.safetensors"`` (epoch counts from 1).

    ``save_weights_only=True`` writes the model's state_dict with gn.save (a
    plain safetensors file PyTorch can read); ``False`` writes a full
    `glassnet.checkpoint` (model, optimiser, scheduler, epoch, RNG and the
    loader's position) that `fit(..., resume_from=path)` continues from.
    """

    def __init__(self, path, monitor="val_loss", save_best_only=False, mode="auto", save_weights_only=True,
                 scheduler=None):
        super().__init__()
        self.path = os.fspath(path)
        self.monitor = monitor
        self.save_best_only = save_best_only
        self.mode = monitor_mode(monitor, mode, "ModelCheckpoint")
        self.save_weights_only = save_weights_only
        self.scheduler = scheduler
        self.best = math.inf if self.mode == "min" else -math.inf
        self.last_saved = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.save_best_only:
            value = monitored(logs, self.monitor, "ModelCheckpoint")
            better = value < self.best if self.mode == "min" else value > self.best
            if not better:
                return
            self.best = value
        path = self.path.format(epoch=epoch + 1, **logs)
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        if self.save_weights_only:
            from ...serialization import save
            save(self.model.state_dict(), path, metadata={"epoch": str(epoch + 1)})
        else:
            from ...checkpoint import save_checkpoint
            trainer = self.trainer
            save_checkpoint(path, model=self.model, optimizer=trainer.optimizer,
                            scheduler=self.scheduler or trainer.scheduler, epoch=epoch + 1,
                            loader=trainer.train_loader if hasattr(trainer.train_loader, "state_dict") else None,
                            extra={"history": trainer.history.history})
        self.last_saved = path
