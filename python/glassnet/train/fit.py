"""The training loop: fit, evaluate, predict.

``fit`` runs epochs of forward, loss, backward and optimiser step over the
training batches, then evaluates the validation data, and reports through
callbacks with a ``logs`` dict of floats. Per batch it does no host sync:
the loss and metric sums stay on the device and become floats once per epoch
(unless a callback asks for the batch loss, as the progress bar does).

Data may be given as a DataLoader (or any iterable of (inputs, target)
batches), a Dataset, or a pair of tensors ``(x, y)``; the last two are batched
by `batch_size` (shuffled for training).
"""
import copy

from ..autograd import no_grad
from .._tensor import Tensor
from ..data import DataLoader, Dataset, TensorDataset
from .callbacks.base import Callback
from .callbacks.progress import ProgressBar
from .history import History
from .metrics import get_metric


class Trainer:
    """What callbacks see of a running `fit` (``callback.trainer``)."""

    def __init__(self, model, optimizer, loss, train_loader, val_loader, epochs, device):
        self.model = model
        self.optimizer = optimizer
        self.loss = loss
        self.train_loader = train_loader
        self.val_loader = val_loader
        self.epochs = epochs
        self.device = device
        self.scheduler = None
        self.history = None
        self.epoch = 0
        self.stop_training = False
        self.samples_seen_this_epoch = 0


def _as_loader(data, batch_size, shuffle, what):
    if data is None or isinstance(data, DataLoader):
        return data
    if isinstance(data, Dataset):
        return DataLoader(data, batch_size=batch_size, shuffle=shuffle)
    if isinstance(data, (tuple, list)) and len(data) == 2 and all(isinstance(t, Tensor) for t in data):
        return DataLoader(TensorDataset(*data), batch_size=batch_size, shuffle=shuffle)
    if hasattr(data, "__iter__"):
        return data
    raise TypeError(f"[fit] {what} must be a DataLoader, a Dataset, an (x, y) pair of tensors or an iterable "
                    f"of batches, got {type(data).__name__}")


def _loss_fn(loss):
    if callable(loss):
        return loss
    if isinstance(loss, str):
        from ..nn import functional as F
        fn = getattr(F, loss, None)
        if fn is None:
            raise ValueError(f"[fit] unknown loss {loss!r}: not a function in glassnet.nn.functional")
        return fn
    raise TypeError(f"[fit] loss must be a callable or the name of one in nn.functional, got {loss!r}")


def _model_device(model, device):
    if device is not None:
        from .._device import to_device
        return to_device(device)
    for p in model.parameters():
        return p.device
    return None


def _to(x, device):
    if device is None:
        return x
    if isinstance(x, Tensor):
        return x if x.device == device else x.to(device)
    if isinstance(x, (tuple, list)):
        return type(x)(_to(v, device) for v in x)
    if isinstance(x, dict):
        return {k: _to(v, device) for k, v in x.items()}
    return x


def _unpack(batch, device):
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        raise ValueError("[fit] each batch must be an (inputs, target) pair")
    x, y = _to(batch[0], device), _to(batch[1], device)
    return x, y


def _forward(model, x):
    return model(*x) if isinstance(x, (tuple, list)) else model(x)


def _current_lr(optimizer):
    groups = getattr(optimizer, "param_groups", None)
    return float(groups[0]["lr"]) if groups else None


def _batch_size(y):
    return y.shape[0] if isinstance(y, Tensor) and y.ndim > 0 else 1


def evaluate(model, data, loss=None, metrics=("accuracy",), batch_size=256, device=None):
    """Mean loss (when `loss` is given) and metrics of `model` over `data`,
    under no_grad and in eval mode (the model's mode is restored). Returns a
    dict: "loss" and each metric's name -> float (a ConfusionMatrix gives its
    array)."""
    loader = _as_loader(data, batch_size, False, "data")
    loss_fn = _loss_fn(loss) if loss is not None else None
    device = _model_device(model, device)
    metric_objs = [get_metric(m) for m in metrics]
    for m in metric_objs:
        m.reset()
    was_training = getattr(model, "training", False)
    model.eval()
    total, count = None, 0
    try:
        with no_grad():
            for batch in loader:
                x, y = _unpack(batch, device)
                out = _forward(model, x)
                n = _batch_size(y)
                count += n
                if loss_fn is not None:
                    part = loss_fn(out, y) * n
                    total = part if total is None else total.add_(part)
                for m in metric_objs:
                    m.update(out, y)
    finally:
        model.train(was_training)
    result = {}
    if loss_fn is not None:
        result["loss"] = float(total.item()) / count if count else float("nan")
    for m in metric_objs:
        result[m.name] = m.result()
    return result


def predict(model, data, batch_size=256, device=None):
    """The model's outputs for every sample of `data`, concatenated along dim 0
    (no_grad, eval mode). `data`: a tensor of inputs, a Dataset / DataLoader
    (batches may be (inputs, target) pairs; targets are ignored)."""
    from .._functions import cat

    if isinstance(data, Tensor):
        data = DataLoader(TensorDataset(data), batch_size=batch_size)
    loader = _as_loader(data, batch_size, False, "data")
    device = _model_device(model, device)
    was_training = getattr(model, "training", False)
    model.eval()
    outputs = []
    try:
        with no_grad():
            for batch in loader:
                x = batch[0] if isinstance(batch, (tuple, list)) else batch
                outputs.append(_forward(model, _to(x, device)))
    finally:
        model.train(was_training)
    if not outputs:
        raise ValueError("[predict] the data holds no samples")
    return cat(outputs, 0)


def fit(model, train_data, *, loss, optimizer, epochs, val_data=None, callbacks=(), metrics=("accuracy",),
        progress=True, device=None, batch_size=32, val_batch_size=256, initial_epoch=0, resume_from=None):
    """Train `model` for `epochs` epochs; returns a `History`.

    loss: a callable ``loss(output, target)`` (``F.cross_entropy``,
    ``nn.CrossEntropyLoss()``) or a name in nn.functional ("cross_entropy").
    metrics: names ("accuracy", "top5_accuracy") or Metric objects; each is
    logged per epoch, with "val_" in front for `val_data`, beside "loss" and
    "lr". progress: a tqdm bar when stdout is a terminal. device: where the
    model and batches go (default: where the model's parameters are).
    resume_from: a full checkpoint (``ModelCheckpoint(save_weights_only=False)``
    or ``glassnet.checkpoint.save_checkpoint``): model, optimiser, scheduler,
    RNG, loader position and history are restored and training continues from
    the epoch after the saved one, giving the weights an uninterrupted run gets.
    """
    loss_fn = _loss_fn(loss)
    if device is not None:
        model.to(device)
    device = _model_device(model, device)
    train_loader = _as_loader(train_data, batch_size, True, "train_data")
    val_loader = _as_loader(val_data, val_batch_size, False, "val_data")
    trainer = Trainer(model, optimizer, loss_fn, train_loader, val_loader, int(epochs), device)
    history = History()
    trainer.history = history
    callbacks = [history] + list(callbacks)
    if progress and not any(isinstance(cb, ProgressBar) for cb in callbacks):
        callbacks.append(ProgressBar())
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"[fit] callbacks must be Callback instances, got {type(cb).__name__}")
        cb.bind(trainer)
    callbacks.sort(key=lambda cb: cb.order)

    if resume_from is not None:
        from ..checkpoint import checkpoint_info, load_checkpoint
        saved = checkpoint_info(resume_from)["parts"]
        has_state = hasattr(train_loader, "load_state_dict") and "loader" in saved
        state = load_checkpoint(resume_from, model=model, optimizer=optimizer,
                                scheduler=trainer.scheduler if "scheduler" in saved else None,
                                loader=train_loader if has_state else None)
        initial_epoch = int(state["epoch"])
        for key, values in ((state.get("extra") or {}).get("history") or {}).items():
            history.history[key] = list(values)
        history.epoch = list(range(initial_epoch))

    train_metrics = [get_metric(m) for m in metrics]
    val_metrics = [copy.deepcopy(m) for m in train_metrics]
    # The callbacks hear of an exception that ends the run (on_exception, when
    # they define it) so that they can let go of what they hold (HealthMonitor's
    # hooks on the model); on_train_end stays for runs that finish, as in Keras.
    try:
        for cb in callbacks:
            cb.on_train_begin({})
        batch_loss_needed = any(cb.needs_batch_loss for cb in callbacks)
        logs = {}
        for epoch in range(int(initial_epoch), int(epochs)):
            trainer.epoch = epoch
            model.train()
            for m in train_metrics:
                m.reset()
            for cb in callbacks:
                cb.on_epoch_begin(epoch, {})
            lr = _current_lr(optimizer)
            total, seen = None, 0
            trainer.samples_seen_this_epoch = 0
            for batch_index, batch in enumerate(train_loader):
                x, y = _unpack(batch, device)
                optimizer.zero_grad()
                out = _forward(model, x)
                batch_loss = loss_fn(out, y)
                batch_loss.backward()
                optimizer.step()
                n = _batch_size(y)
                seen += n
                trainer.samples_seen_this_epoch = seen
                with no_grad():
                    value = batch_loss.detach()
                    total = value * n if total is None else total.add_(value, alpha=n)
                    for m in train_metrics:
                        m.update(out.detach(), y)
                batch_logs = {"size": n}
                if batch_loss_needed:
                    batch_logs["loss"] = float(value.item())
                for cb in callbacks:
                    cb.on_batch_end(batch_index, batch_logs)
                if trainer.stop_training:
                    break
            logs = {"loss": float(total.item()) / seen if seen else float("nan")}
            for m in train_metrics:
                result = m.result()
                if isinstance(result, float):  # array-valued metrics (confusion matrix) stay out of the logs
                    logs[m.name] = result
            if val_loader is not None:
                val = evaluate(model, val_loader, loss_fn, val_metrics, device=device)
                logs.update({"val_" + k: v for k, v in val.items() if isinstance(v, float)})
                model.train()
            if lr is not None:
                logs["lr"] = lr
            for cb in callbacks:
                cb.on_epoch_end(epoch, logs)
            if trainer.stop_training:
                break
        for cb in callbacks:
            cb.on_train_end(logs)
    except BaseException as exc:
        _tell_exception(callbacks, exc)
        raise
    return history


def _tell_exception(callbacks, exc):
    """Call ``on_exception(exc)`` of each callback that has one (every
    Callback does; duck-typed ones may not); an error in one of them is
    reported as a warning so that `exc` is what propagates."""
    import warnings

    for cb in callbacks:
        handler = getattr(cb, "on_exception", None)
        if handler is None:
            continue
        try:
            handler(exc)
        except Exception as err:  # noqa: BLE001 - the training error matters more
            warnings.warn(f"[fit] {type(cb).__name__}.on_exception raised {type(err).__name__}: {err}",
                          RuntimeWarning, stacklevel=3)
