"""glassnet.train: fit / evaluate / predict on real modules, metrics against
numpy and scikit-learn, each callback, the progress bar, and resuming an
interrupted run to the same weights as an uninterrupted one."""
import csv
import io
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn, optim
from glassnet.data import DataLoader, TensorDataset, load_digits
from glassnet.nn import functional as F
from glassnet.train import (Accuracy, CSVLogger, Callback, ConfusionMatrix, EarlyStopping, History,
                            LRSchedulerCallback, ModelCheckpoint, ProgressBar, TerminateOnNaN, TopKAccuracy,
                            Trainer, confusion_matrix, evaluate, fit, get_metric, predict)

TESTS = os.path.dirname(os.path.abspath(__file__))
# Subprocesses import the same glassnet as this process (the source tree or an installed wheel).
PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(gn.__file__)))


def _blobs(n=120, d=4, k=3, seed=0):
    """k well-separated Gaussian clusters: any working training loop gets them all right."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((k, d)) * 4
    y = rng.integers(0, k, n)
    x = centres[y] + rng.standard_normal((n, d)) * 0.5
    return gn.tensor(x.astype(np.float32)), gn.tensor(y.astype(np.int64))


def _net(d=4, k=3):
    return nn.Sequential(nn.Linear(d, 16), nn.ReLU(), nn.Linear(16, k))


def _csv_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _weights(model):
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


# ---- fit / evaluate / predict ---------------------------------------------------------------
def test_fit_learns_and_records_history():
    x, y = _blobs()
    model = _net()
    opt = optim.Adam(model.parameters(), lr=0.05)
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True)
    hist = fit(model, loader, loss=F.cross_entropy, optimizer=opt, epochs=8, val_data=(x, y), progress=False)
    assert isinstance(hist, History)
    h = hist.history
    assert set(h) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}
    assert all(len(v) == 8 for v in h.values()) and hist.epoch == list(range(8))
    assert h["loss"][-1] < h["loss"][0] / 3
    assert h["val_accuracy"][-1] == 1.0 and h["lr"] == [0.05] * 8
    assert all(isinstance(v, float) for vals in h.values() for v in vals)
    result = evaluate(model, (x, y), loss="cross_entropy", metrics=("accuracy", "top2_accuracy"))
    assert result["accuracy"] == 1.0 and result["top2_accuracy"] == 1.0
    assert result["loss"] == pytest.approx(h["val_loss"][-1], rel=1e-5)
    out = predict(model, x)
    assert out.shape == (120, 3) and not out.requires_grad
    assert (out.numpy().argmax(1) == y.numpy()).all()
    assert model.training  # evaluate/predict put the model back in training mode


def test_epoch_loss_is_sample_weighted_mean():
    x, y = _blobs(n=50)
    model = _net()
    opt = optim.SGD(model.parameters(), lr=0.0)  # lr 0: the weights never move
    h = fit(model, (x, y), loss=nn.CrossEntropyLoss(), optimizer=opt, epochs=1, batch_size=16, progress=False)
    with gn.no_grad():
        full = F.cross_entropy(model(x), y).item()
    assert h.history["loss"][0] == pytest.approx(full, rel=1e-5)  # 16+16+16+2 samples, weighted by size
    assert h.history["accuracy"][0] == pytest.approx((model(x).detach().numpy().argmax(1) == y.numpy()).mean())


def test_fit_with_dataset_and_mse_loss_without_metrics():
    rng = np.random.default_rng(0)
    x = gn.tensor(rng.standard_normal((64, 3)).astype(np.float32))
    w = np.array([[1.0], [-2.0], [0.5]], np.float32)
    y = gn.tensor(x.numpy() @ w)
    model = nn.Linear(3, 1)
    opt = optim.SGD(model.parameters(), lr=0.1)
    h = fit(model, TensorDataset(x, y), loss=F.mse_loss, optimizer=opt, epochs=30, batch_size=8, metrics=(),
            progress=False)
    assert set(h.history) == {"loss", "lr"}
    assert h.history["loss"][-1] < 1e-4
    np.testing.assert_allclose(model.weight.detach().numpy(), w.T, atol=1e-2)


def test_fit_bad_arguments():
    x, y = _blobs()
    model = _net()
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="unknown loss"):
        fit(model, (x, y), loss="no_such_loss", optimizer=opt, epochs=1, progress=False)
    with pytest.raises(TypeError, match="train_data"):
        fit(model, 3, loss=F.cross_entropy, optimizer=opt, epochs=1, progress=False)
    with pytest.raises(TypeError, match="Callback"):
        fit(model, (x, y), loss=F.cross_entropy, optimizer=opt, epochs=1, callbacks=[object()], progress=False)
    with pytest.raises(ValueError, match="unknown metric"):
        fit(model, (x, y), loss=F.cross_entropy, optimizer=opt, epochs=1, metrics=("f1",), progress=False)
    with pytest.raises(KeyError, match="val_loss"):
        fit(model, (x, y), loss=F.cross_entropy, optimizer=opt, epochs=1, callbacks=[EarlyStopping()],
            progress=False)


def test_no_host_sync_per_batch(monkeypatch):
    """Per batch the loop leaves loss and metric sums on the device: .item() runs
    a fixed number of times per epoch, not once per batch."""
    x, y = _blobs(n=200)
    model = _net()
    opt = optim.SGD(model.parameters(), lr=0.01)
    calls = []
    real_item = gn.Tensor.item
    monkeypatch.setattr(gn.Tensor, "item", lambda self: calls.append(1) or real_item(self))
    fit(model, (x, y), loss=F.cross_entropy, optimizer=opt, epochs=2, batch_size=10, progress=False)
    assert len(calls) <= 2 * 3  # 20 batches per epoch; loss and accuracy once each per epoch


# ---- metrics --------------------------------------------------------------------------------
def test_accuracy_and_topk_against_numpy(rng):
    logits = rng.standard_normal((50, 6)).astype(np.float32)
    target = rng.integers(0, 6, 50)
    acc, top3 = Accuracy(), TopKAccuracy(3)
    for lo in range(0, 50, 20):  # over batches
        acc.update(gn.tensor(logits[lo:lo + 20]), gn.tensor(target[lo:lo + 20]))
        top3.update(gn.tensor(logits[lo:lo + 20]), gn.tensor(target[lo:lo + 20]))
    assert acc.result() == pytest.approx((logits.argmax(1) == target).mean())
    ranks = (logits > logits[np.arange(50), target][:, None]).sum(1)
    assert top3.result() == pytest.approx((ranks < 3).mean())
    assert top3.name == "top3_accuracy" and get_metric("top_3_accuracy").k == 3
    one_hot = np.eye(6, dtype=np.float32)[target]
    acc2 = Accuracy()
    acc2.update(gn.tensor(logits), gn.tensor(one_hot))
    assert acc2.result() == acc.result()
    with pytest.raises(ValueError, match="target of shape"):
        Accuracy().update(gn.tensor(logits), gn.tensor(target[:, None, None]))
    with pytest.raises(ValueError, match="k=7"):
        TopKAccuracy(7).update(gn.tensor(logits), gn.tensor(target))


def test_confusion_matrix_against_sklearn(rng):
    sk = pytest.importorskip("sklearn.metrics")
    t = rng.integers(0, 4, 100)
    p = rng.integers(0, 4, 100)
    np.testing.assert_array_equal(confusion_matrix(gn.tensor(t), p, 4), sk.confusion_matrix(t, p, labels=range(4)))
    cm = ConfusionMatrix(4)
    logits = np.eye(4, dtype=np.float32)[p]
    cm.update(gn.tensor(logits[:60]), gn.tensor(t[:60]))
    cm.update(gn.tensor(logits[60:]), gn.tensor(t[60:]))
    np.testing.assert_array_equal(cm.result(), sk.confusion_matrix(t, p, labels=range(4)))
    with pytest.raises(ValueError, match="lie in"):
        confusion_matrix([0, 5], [0, 1], 3)


# ---- callbacks, driven directly ----------------------------------------------------------------
class FakeModel:
    def __init__(self):
        self.w = gn.zeros(2)

    def state_dict(self):
        return {"w": self.w}

    def load_state_dict(self, sd, strict=True):
        self.w = sd["w"].clone()


def _bind(cb, model=None):
    trainer = Trainer(model or FakeModel(), None, None, None, None, 10, None)
    trainer.history = History()
    cb.bind(trainer)
    return trainer


def test_early_stopping_patience_and_restore():
    cb = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    trainer = _bind(cb)
    cb.on_train_begin()
    losses = [1.0, 0.5, 0.6, 0.55, 0.7]
    for epoch, v in enumerate(losses):
        trainer.model.w = gn.full((2,), float(epoch))
        cb.on_epoch_end(epoch, {"val_loss": v})
        if trainer.stop_training:
            break
    assert epoch == 3 and cb.stopped_epoch == 3 and cb.best_epoch == 1
    cb.on_train_end()
    assert trainer.model.w.tolist() == [1.0, 1.0]


def test_early_stopping_modes_and_min_delta():
    cb = EarlyStopping(monitor="val_accuracy", patience=0, min_delta=0.01)
    assert cb.mode == "max"
    trainer = _bind(cb)
    cb.on_train_begin()
    cb.on_epoch_end(0, {"val_accuracy": 0.5})
    cb.on_epoch_end(1, {"val_accuracy": 0.505})  # not better by more than min_delta
    assert trainer.stop_training
    with pytest.raises(ValueError, match="mode"):
        EarlyStopping(mode="up")


def test_model_checkpoint_best_only(tmp_path):
    path = str(tmp_path / "best-{epoch:02d}.safetensors")
    cb = ModelCheckpoint(path, monitor="val_loss", save_best_only=True)
    trainer = _bind(cb)
    for epoch, v in enumerate([0.9, 0.7, 0.8, 0.6]):
        trainer.model.w = gn.full((2,), float(epoch))
        cb.on_epoch_end(epoch, {"val_loss": v})
    assert sorted(os.listdir(tmp_path)) == ["best-01.safetensors", "best-02.safetensors", "best-04.safetensors"]
    assert gn.serialization.load(cb.last_saved)["w"].tolist() == [3.0, 3.0]
    every = ModelCheckpoint(str(tmp_path / "sub" / "last.safetensors"))
    _bind(every)
    every.on_epoch_end(0, {})
    assert os.path.isfile(tmp_path / "sub" / "last.safetensors")


def test_csv_logger(tmp_path):
    path = tmp_path / "log.csv"
    cb = CSVLogger(path)
    _bind(cb)
    cb.on_train_begin()
    cb.on_epoch_end(0, {"loss": 1.5, "accuracy": 0.25})
    cb.on_epoch_end(1, {"loss": 0.5, "accuracy": 0.75})
    cb.on_train_end()
    rows = _csv_rows(path)
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert [float(r["loss"]) for r in rows] == [1.5, 0.5] and float(rows[1]["accuracy"]) == 0.75
    again = CSVLogger(path, append=True)
    _bind(again)
    again.on_train_begin()
    again.on_epoch_end(2, {"loss": 0.25, "accuracy": 1.0})
    again.on_train_end()
    rows = _csv_rows(path)
    assert len(rows) == 3 and rows[2]["epoch"] == "3"


def test_terminate_on_nan_in_fit():
    x, y = _blobs()
    model = _net()
    opt = optim.SGD(model.parameters(), lr=1e30)  # diverges to inf/nan within a few steps
    cb = TerminateOnNaN()
    h = fit(model, (x, y), loss=F.cross_entropy, optimizer=opt, epochs=50, batch_size=8, callbacks=[cb],
            progress=False)
    assert cb.terminated_at is not None
    assert len(h.history["loss"]) == cb.terminated_at[0] + 1 < 50


def test_lr_scheduler_callback_epoch_and_plateau():
    x, y = _blobs()
    model = _net()
    opt = optim.SGD(model.parameters(), lr=0.1)
    step = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    h = fit(model, (x, y), loss=F.cross_entropy, optimizer=opt, epochs=5, callbacks=[LRSchedulerCallback(step)],
            progress=False)
    assert h.history["lr"] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])
    opt = optim.SGD(model.parameters(), lr=0.1)
    plateau = optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=0)
    cb = LRSchedulerCallback(plateau, monitor="loss")
    assert cb.plateau
    _bind(cb).optimizer = opt
    for epoch, v in enumerate([1.0, 1.0, 1.0]):
        cb.on_epoch_end(epoch, {"loss": v})
    assert opt.param_groups[0]["lr"] == pytest.approx(0.025)
    with pytest.raises(ValueError, match="interval"):
        LRSchedulerCallback(step, interval="step")


def test_batch_interval_scheduler():
    x, y = _blobs(n=64)
    model = _net()
    opt = optim.SGD(model.parameters(), lr=0.1)
    sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=8)
    fit(model, (x, y), loss=F.cross_entropy, optimizer=opt, epochs=2, batch_size=16,
        callbacks=[LRSchedulerCallback(sched, interval="batch")], progress=False)
    assert sched.last_epoch == 8


def test_callback_hook_order():
    events = []

    class Recorder(Callback):
        def on_train_begin(self, logs=None):
            events.append("train_begin")

        def on_epoch_begin(self, epoch, logs=None):
            events.append(f"epoch_begin{epoch}")

        def on_batch_end(self, batch, logs=None):
            events.append(f"batch{batch}:{logs['size']}")

        def on_epoch_end(self, epoch, logs=None):
            events.append(f"epoch_end{epoch}")

        def on_train_end(self, logs=None):
            events.append("train_end")

    x, y = _blobs(n=10)
    model = _net()
    fit(model, (x, y), loss=F.cross_entropy, optimizer=optim.SGD(model.parameters(), lr=0.1), epochs=2,
        batch_size=6, callbacks=[Recorder()], progress=False)
    assert events == ["train_begin", "epoch_begin0", "batch0:6", "batch1:4", "epoch_end0", "epoch_begin1",
                      "batch0:6", "batch1:4", "epoch_end1", "train_end"]


# ---- progress bar ------------------------------------------------------------------------------
def test_progress_bar_draws_when_forced():
    x, y = _blobs()
    model = _net()
    out = io.StringIO()
    fit(model, (x, y), loss=F.cross_entropy, optimizer=optim.Adam(model.parameters(), lr=0.01), epochs=2,
        callbacks=[ProgressBar(file=out, force=True)])
    text = out.getvalue()
    assert "epoch 2/2" in text and "loss" in text and "samples/s" in text and "accuracy" in text


def test_progress_off_without_a_terminal(capsys):
    x, y = _blobs()
    model = _net()
    fit(model, (x, y), loss=F.cross_entropy, optimizer=optim.Adam(model.parameters(), lr=0.01), epochs=1,
        progress=True)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    out = io.StringIO()
    fit(model, (x, y), loss=F.cross_entropy, optimizer=optim.Adam(model.parameters(), lr=0.01), epochs=2,
        callbacks=[ProgressBar(file=out, lines=True)], progress=False)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and lines[1].startswith("epoch 2/2") and "samples/s" in lines[1]


def test_progress_bar_and_csv_logger_let_go_when_training_raises(tmp_path):
    class FailInEpoch1(Callback):
        def on_batch_end(self, batch, logs=None):
            if self.trainer.epoch == 1:
                raise RuntimeError("stop here")

    x, y = _blobs()
    model = _net()
    bar, log = ProgressBar(file=io.StringIO(), force=True), CSVLogger(tmp_path / "log.csv")
    with pytest.raises(RuntimeError, match="stop here"):
        fit(model, (x, y), loss=F.cross_entropy, optimizer=optim.SGD(model.parameters(), lr=0.1), epochs=3,
            batch_size=6, callbacks=[bar, log, FailInEpoch1()], progress=False)
    assert bar._bar is None and log._file is None  # the bar closed, the file closed
    assert [r["epoch"] for r in _csv_rows(tmp_path / "log.csv")] == ["1"]  # the finished epoch's row kept


# ---- resuming ----------------------------------------------------------------------------------
class StopAfter(Callback):
    """Simulates a kill: raises once `epoch` has ended (after ModelCheckpoint saved it)."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


def _run(ckpt=None, stop_after=None, resume=False, epochs=4):
    """Builds everything from scratch with the same seed, as a new process would."""
    gn.manual_seed(0)
    train = load_digits("train")
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 10))
    opt = optim.Adam(model.parameters(), lr=3e-3)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    loader = DataLoader(train, batch_size=64, shuffle=True)  # shuffles from the global generator
    callbacks = [LRSchedulerCallback(sched)]
    if ckpt:
        callbacks.append(ModelCheckpoint(ckpt, save_weights_only=False))
    if stop_after is not None:
        callbacks.append(StopAfter(stop_after))
    if resume:
        gn.manual_seed(12345)  # the checkpoint, not this, must decide what happens next
    h = fit(model, loader, loss=F.cross_entropy, optimizer=opt, epochs=epochs, val_data=load_digits("test"),
            callbacks=callbacks, progress=False, resume_from=ckpt if resume else None)
    return model, h


def test_resume_gives_same_weights_as_uninterrupted(tmp_path):
    straight, h_straight = _run()
    ckpt = str(tmp_path / "run.safetensors")
    with pytest.raises(KeyboardInterrupt):
        _run(ckpt, stop_after=1)
    resumed, h_resumed = _run(ckpt, resume=True)
    a, b = _weights(straight), _weights(resumed)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert h_resumed.history == h_straight.history
    assert h_resumed.epoch == [0, 1, 2, 3]


def test_resume_in_a_fresh_process_after_a_hard_kill(tmp_path):
    script = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {TESTS!r})
        import numpy as np, glassnet as gn
        import test_train as t

        class Kill(t.Callback):
            def on_epoch_end(self, epoch, logs=None):
                if epoch == 1:
                    os._exit(17)  # no cleanup, as a killed process

        mode, ckpt, out = sys.argv[1:]
        if mode == "kill":
            t.StopAfter = lambda epoch: Kill()
            t._run(ckpt, stop_after=1)
        model, _ = t._run(ckpt if mode == "resume" else None, resume=mode == "resume")
        np.savez(out, **t._weights(model))
    """)
    env = dict(os.environ, PYTHONPATH=PACKAGE_PARENT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    ckpt = str(tmp_path / "ckpt.safetensors")

    def run(mode, out):
        return subprocess.run([sys.executable, "-c", script, mode, ckpt, str(out)], env=env, capture_output=True,
                              text=True, timeout=300)

    killed = run("kill", tmp_path / "never.npz")
    assert killed.returncode == 17, killed.stderr
    assert os.path.isfile(ckpt) and not (tmp_path / "never.npz").exists()
    assert [f for f in os.listdir(tmp_path) if f.endswith(".tmp")] == []
    for mode in ("resume", "straight"):
        r = run(mode, tmp_path / f"{mode}.npz")
        assert r.returncode == 0, r.stderr
    a, b = np.load(tmp_path / "resume.npz"), np.load(tmp_path / "straight.npz")
    assert set(a.files) == set(b.files)
    for k in a.files:
        np.testing.assert_array_equal(a[k], b[k])


def test_resume_mid_epoch_checkpoint(tmp_path):
    """A checkpoint taken inside an epoch (loader position saved) resumes that epoch's remaining batches."""
    from glassnet.checkpoint import save_checkpoint

    class SaveMidEpoch(Callback):
        def on_batch_end(self, batch, logs=None):
            if self.trainer.epoch == 1 and batch == 3:
                save_checkpoint(path, model=self.model, optimizer=self.trainer.optimizer, epoch=1,
                                loader=self.trainer.train_loader)
                raise KeyboardInterrupt

    path = str(tmp_path / "mid.safetensors")
    x, y = _blobs(n=100)

    def make():
        gn.manual_seed(3)
        model = _net()
        return model, optim.SGD(model.parameters(), lr=0.05, momentum=0.9), \
            DataLoader(TensorDataset(x, y), batch_size=10, shuffle=True)

    model, opt, loader = make()
    fit(model, loader, loss=F.cross_entropy, optimizer=opt, epochs=3, progress=False)
    expected = _weights(model)
    model, opt, loader = make()
    with pytest.raises(KeyboardInterrupt):
        fit(model, loader, loss=F.cross_entropy, optimizer=opt, epochs=3, callbacks=[SaveMidEpoch()],
            progress=False)
    model, opt, loader = make()
    fit(model, loader, loss=F.cross_entropy, optimizer=opt, epochs=3, progress=False, resume_from=path)
    got = _weights(model)
    for k in expected:
        np.testing.assert_allclose(got[k], expected[k], rtol=0, atol=0)


# ---- models ------------------------------------------------------------------------------------
def test_mlp_factory():
    from glassnet.models import MODELS, build, mlp

    net = mlp()
    widths = [(m.in_features, m.out_features) for m in net.modules() if isinstance(m, nn.Linear)]
    assert widths == [(64, 256), (256, 128), (128, 10)]
    assert sum(isinstance(m, nn.ReLU) for m in net.modules()) == 2
    img = build("mlp", in_features=(1, 28, 28), num_classes=5, hidden=(32,), dropout=0.1)
    assert isinstance(img[0], nn.Flatten) and img(gn.zeros(3, 1, 28, 28)).shape == (3, 5)
    assert "mlp" in MODELS
    with pytest.raises(ValueError, match="unknown model"):
        build("transformer9000")
    with pytest.raises(ValueError, match="activation"):
        mlp(activation="swish2")
