"""ProgressBar: a live tqdm bar per epoch (samples done, samples/s, running
loss) that gives way to one summary line with the epoch's metrics and
throughput. Off when the output is not a terminal, unless ``lines=True``,
which prints just the summary lines (what the CLI does when its output goes
to a file or a pipe)."""
import sys
import time

from .base import Callback


def _format_logs(logs):
    return "  ".join(f"{k} {v:.4g}" for k, v in logs.items() if k not in ("size", "batch"))


class ProgressBar(Callback):
    def __init__(self, file=None, force=False, lines=False):
        super().__init__()
        self.file = file
        self.force = force
        self.lines = lines
        self._bar = None

    def _stream(self):
        return self.file if self.file is not None else sys.stdout

    def _use_bar(self):
        stream = self._stream()
        return self.force or (hasattr(stream, "isatty") and stream.isatty())

    def on_train_begin(self, logs=None):
        self.bar_enabled = self._use_bar()
        self.needs_batch_loss = self.bar_enabled  # only a visible bar shows the running loss

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()
        self._seen = 0
        self._loss_sum = 0.0
        if self.bar_enabled:
            from tqdm import tqdm

            loader = self.trainer.train_loader
            total = len(loader.dataset) if hasattr(loader, "dataset") else None
            self._bar = tqdm(total=total, desc=f"epoch {epoch + 1}/{self.trainer.epochs}", unit="sample",
                             unit_scale=True, file=self._stream(), leave=False, dynamic_ncols=True,
                             mininterval=0.1)

    def on_batch_end(self, batch, logs=None):
        if self._bar is None:
            return
        n = int(logs.get("size", 0))
        self._seen += n
        self._loss_sum += logs.get("loss", 0.0) * n
        self._bar.update(n)
        if self._bar.n == self._bar.total or batch % 5 == 0:
            self._bar.set_postfix_str(f"loss {self._loss_sum / max(self._seen, 1):.4f}", refresh=False)

    def on_epoch_end(self, epoch, logs=None):
        elapsed = time.perf_counter() - self._start
        samples = self.trainer.samples_seen_this_epoch
        rate = samples / elapsed if elapsed > 0 else float("inf")
        line = f"epoch {epoch + 1}/{self.trainer.epochs}  {_format_logs(logs or {})}  {rate:,.0f} samples/s  " \
               f"({elapsed:.2f}s)"
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if self.bar_enabled or self.lines:
            print(line, file=self._stream(), flush=True)

    def on_train_end(self, logs=None):
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def on_exception(self, exc):
        self.on_train_end()  # close the bar so the traceback starts on a clean line
