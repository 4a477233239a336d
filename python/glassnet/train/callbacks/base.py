"""Callback: hooks the training loop calls, all no-ops by default (as in Keras).

The loop calls ``bind(trainer)`` first; afterwards ``self.trainer`` has the
run's ``model``, ``optimizer``, ``train_loader``, ``history``, ``epoch`` and a
``stop_training`` flag a callback may set. ``logs`` is a dict of floats:
per epoch "loss", the metrics, "val_*" and "lr"; per batch "size", and
"loss" when a callback sets ``needs_batch_loss``.
"""


class Callback:
    # Set True by a callback that reads logs["loss"] in on_batch_end: the batch
    # loss as a float costs a host sync per batch, so the loop computes it only then.
    needs_batch_loss = False
    # Callbacks run in this order (stable for equal values): ones that change the
    # training state (schedulers, -10) before ones that record it (checkpoints, 0).
    order = 0

    def __init__(self):
        self.trainer = None

    def bind(self, trainer):
        self.trainer = trainer

    @property
    def model(self):
        return self.trainer.model if self.trainer is not None else None

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass

    def on_exception(self, exc):
        """Called instead of on_train_end when an exception ends the run:
        let go of what the callback holds (files, progress bars, hooks)."""


def monitor_mode(monitor, mode, who):
    """"min" or "max": explicit, or guessed from the name (accuracies go up, losses down)."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"[{who}] mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode != "auto":
        return mode
    return "max" if ("acc" in monitor or "auc" in monitor) else "min"


def monitored(logs, monitor, who):
    if monitor not in logs:
        raise KeyError(f"[{who}] monitors {monitor!r} but the epoch logs hold only {sorted(logs)} "
                       f"(val_* keys need val_data in fit)")
    return float(logs[monitor])
