"""CSVLogger: one CSV row per epoch with every value in the logs."""
import csv
import math
import os

from .base import Callback


class CSVLogger(Callback):
    """Write "epoch" (from 1) and the epoch's logs to `path`, a row per epoch,
    flushed as it goes so a crashed run keeps its rows. Columns are fixed by
    the first epoch; ``append=True`` continues an existing file."""

    def __init__(self, path, separator=",", append=False):
        super().__init__()
        self.path = os.fspath(path)
        self.separator = separator
        self.append = append
        self._file = None
        self._writer = None
        self._keys = None

    def on_train_begin(self, logs=None):
        folder = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(folder, exist_ok=True)
        continuing = self.append and os.path.isfile(self.path) and os.path.getsize(self.path) > 0
        if continuing:
            with open(self.path, newline="") as f:
                header = next(csv.reader(f, delimiter=self.separator), None)
            self._keys = header[1:] if header else None
        self._file = open(self.path, "a" if continuing else "w", newline="")
        self._writer = csv.writer(self._file, delimiter=self.separator)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self._keys is None:
            self._keys = sorted(logs)
            self._writer.writerow(["epoch"] + self._keys)
        row = [epoch + 1] + [_fmt(logs.get(k, "")) for k in self._keys]
        self._writer.writerow(row)
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None

    def on_exception(self, exc):
        self.on_train_end()  # the rows of finished epochs are already flushed


def _fmt(value):
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return repr(value) if isinstance(value, float) else value
