"""record(): what it captures, that it cleans up, and that its statistics
(and HealthMonitor's during fit) equal numpy's on the recorded tensors."""
import copy
import json

import numpy as np
import pytest

import glassnet as gn
import glassnet.explain as gx
from glassnet import nn
from glassnet.nn import functional as F
from glassnet.train.callbacks import Callback, HealthMonitor
from test_explain_helpers import digits, digits_cnn_layers, trained_digits_cnn


def _hook_count(model):
    return sum(len(m._forward_hooks) + len(m._backward_hooks) for m in model.modules())


def _model_with_a_dead_channel():
    model = copy.deepcopy(trained_digits_cnn())
    with gn.no_grad():
        model[0].bias[2] = -1e3  # channel 2 of the first ReLU can never be positive
    return model


def test_record_captures_outputs_and_their_gradients_by_name():
    model = trained_digits_cnn()
    x, y = digits()[2][:5], digits()[3][:5]
    with gx.record(model, ["0", model[4], "6"]) as rec:
        out = model(x)
        F.cross_entropy(out, y, reduction="sum").backward()
    assert rec.layers == ["0", "4", "6"]
    np.testing.assert_array_equal(rec.activations["6"].numpy(), out.detach().numpy())
    # the gradient into the logits of a summed cross entropy: softmax - one_hot
    p = np.exp(out.detach().numpy())
    p /= p.sum(1, keepdims=True)
    p[np.arange(5), y.numpy()] -= 1
    np.testing.assert_allclose(rec.gradients["6"].numpy(), p, rtol=1e-5, atol=1e-6)
    # layer 4 (ReLU) output, recomputed by hand from layer 3's input chain
    with gn.no_grad():
        h = model[3](model[2](model[1](model[0](x))))
    np.testing.assert_allclose(rec.activations["4"].numpy(), np.maximum(h.numpy(), 0), rtol=1e-6)
    assert tuple(rec.gradients["0"].shape) == (5, 8, 8, 8)
    assert not rec.activations["0"].requires_grad
    for prm in model.parameters():
        prm.grad = None


def test_record_without_copies_shares_memory_and_copy_true_does_not():
    model = trained_digits_cnn()
    x = digits()[2][:2]
    seen = {}
    handle = model[1].register_forward_hook(lambda m, a, out: seen.setdefault("out", out))
    try:
        with gx.record(model, "1") as live, gn.no_grad():
            model(x)
        with gx.record(model, "1", copy=True) as copied, gn.no_grad():
            model(x)
    finally:
        handle.remove()
    assert live.activations["1"].data_ptr() == seen["out"].data_ptr()
    assert copied.activations["1"].data_ptr() != seen["out"].data_ptr()
    np.testing.assert_array_equal(live.activations["1"].numpy(), copied.activations["1"].numpy())


def test_record_default_layers_are_the_leaves():
    model = nn.Sequential(nn.Sequential(nn.Linear(3, 4), nn.ReLU()), nn.Linear(4, 2))
    with gx.record(model) as rec, gn.no_grad():
        model(gn.randn(2, 3))
    assert rec.layers == ["0.0", "0.1", "1"]
    assert sorted(rec.activations) == ["0.0", "0.1", "1"]
    assert rec.gradients == {}


def test_hooks_are_removed_after_the_block_even_on_error():
    model = trained_digits_cnn()
    before = _hook_count(model)
    x = digits()[2][:2]
    with gx.record(model) as rec:
        out = model(x)
    assert _hook_count(model) == before
    out.sum().backward()  # the output's tensor hooks went too: nothing is recorded any more
    assert rec.gradients == {}
    for prm in model.parameters():
        prm.grad = None
    with pytest.raises(RuntimeError, match="boom"):
        with gx.record(model, stats=True):
            model(x)
            raise RuntimeError("boom")
    assert _hook_count(model) == before
    with gx.record(model, "2") as rec, gn.no_grad():
        model(x)
    assert rec.layers == ["2"] and _hook_count(model) == before


def test_record_stats_over_batches_equal_numpy_on_the_recorded_tensors():
    model = _model_with_a_dead_channel()
    x = digits()[0][:300]
    seen = {}

    def keep(name, kind, t):
        seen.setdefault((name, kind), []).append(t.numpy().astype(np.float64).copy())

    with gx.record(model, ["1", "4", "6"], stats=True, callback=keep) as rec:
        for part in (x[:128], x[128:200], x[200:]):
            out = model(part)
            out.logsumexp(1).sum().backward()
    for prm in model.parameters():
        prm.grad = None
    for name in ["1", "4", "6"]:
        for kind in ["activation", "gradient"]:
            a = np.concatenate(seen[(name, kind)])
            got = getattr(rec.stats[name], kind).summary()
            unit_max = a.max(axis=tuple(d for d in range(a.ndim) if d != 1))
            assert got["count"] == a.size
            np.testing.assert_allclose(got["mean"], a.mean(), rtol=1e-6, atol=1e-9)
            np.testing.assert_allclose(got["std"], a.std(), rtol=1e-5)
            np.testing.assert_allclose(got["norm"], np.sqrt((a ** 2).sum()), rtol=1e-5)
            np.testing.assert_allclose(got["max"], a.max(), rtol=1e-6)
            if kind == "activation":
                assert got["zero_fraction"] == np.count_nonzero(a <= 0) / a.size
                assert got["dead_units"] == np.count_nonzero(unit_max <= 0)
            else:  # unit statistics describe activations only
                assert "dead_units" not in got and "zero_fraction" not in got
            last = seen[(name, kind)][-1].reshape(-1)
            stride = -(-last.size // gx.running.HIST_VALUES)  # a strided sample of at most HIST_VALUES
            counts, edges = np.histogram(last[::stride], bins=30)
            np.testing.assert_array_equal(got["hist"], counts)
            np.testing.assert_allclose(got["edges"], edges)
            full = gx.tensor_stats(a)
            for key in ["mean", "std", "norm", "rms", "norm_per_sample", "max", "zero_fraction", "dead_fraction",
                        "units"]:
                if key in got:
                    np.testing.assert_allclose(got[key], full[key], rtol=1e-5, atol=1e-9)
    assert rec.stats["1"].activation.summary()["dead_units"] == 1  # the channel we killed


def test_dead_relu_fraction_and_activation_stats_equal_numpy():
    model = _model_with_a_dead_channel()
    x = digits()[2][:64]
    with gx.record(model, ["1", "4"]) as rec, gn.no_grad():
        model(x)
    dead = gx.dead_relu_fraction(rec)
    for name in ["1", "4"]:
        a = rec.activations[name].numpy()
        assert dead[name] == np.mean(a.max(axis=(0, 2, 3)) <= 0)
        s = gx.activation_stats(rec)[name]
        np.testing.assert_allclose(s["mean"], a.astype(np.float64).mean(), rtol=1e-12)
        np.testing.assert_allclose(s["std"], a.astype(np.float64).std(), rtol=1e-12)
        np.testing.assert_allclose(s["norm"], np.linalg.norm(a.astype(np.float64)), rtol=1e-12)
        assert s["min"] == a.min() and s["max"] == a.max()
    assert dead["1"] >= 1 / 8
    assert gx.dead_relu_fraction(rec, "1") == dead["1"]
    with pytest.raises(ValueError, match=r"\[dead_relu_fraction\] layer '6' was not recorded"):
        gx.dead_relu_fraction(rec, "6")


def test_weight_stats_equal_numpy():
    model = trained_digits_cnn()
    stats = gx.weight_stats(model, bins=10)
    assert list(stats) == [n for n, _ in model.named_parameters()]
    for name, p in model.named_parameters():
        w = p.detach().numpy().astype(np.float64)
        s = stats[name]
        assert s["shape"] == w.shape
        np.testing.assert_allclose([s["mean"], s["std"], s["norm"], s["min"], s["max"]],
                                   [w.mean(), w.std(), np.linalg.norm(w), w.min(), w.max()], rtol=1e-12)
        counts, edges = np.histogram(w, bins=10)
        np.testing.assert_array_equal(s["hist"], counts)
        np.testing.assert_allclose(s["edges"], edges)


def test_record_stats_only_keeps_no_tensors_and_skips_eval_calls_when_asked():
    model = copy.deepcopy(trained_digits_cnn())
    x = digits()[2][:10]
    with gx.record(model, "1", stats_only=True, training_only=True) as rec:
        model.train()
        model(x)
        model.eval()
        model(x)
    assert rec.activations == {} and rec.gradients == {}
    assert rec.stats["1"].activation.count == 10 * 8 * 64
    assert rec.stats["1"].gradient.summary() is None


def test_record_rejects_unknown_layers_by_name():
    model = trained_digits_cnn()
    with pytest.raises(ValueError, match=r"\[record\] unknown layer 'conv1': the model's layers are \['0', '1'"):
        with gx.record(model, ["0", "conv1"]):
            pass
    with pytest.raises(ValueError, match=r"\[record\] layer Linear is not a module of this model"):
        with gx.record(model, nn.Linear(2, 2)):
            pass
    assert _hook_count(model) == 0


# ---- HealthMonitor -----------------------------------------------------------------------------
class _Snapshots(Callback):
    """Copies of the weights after each step, taken just before HealthMonitor runs."""
    order = -1

    def __init__(self):
        super().__init__()
        self.weights = []

    def on_batch_end(self, batch, logs=None):
        self.weights.append([p.detach().numpy().copy() for p in self.model.parameters()])


@pytest.mark.parametrize("on_device", [None, True])
def test_health_monitor_update_ratios_equal_numpy_on_weight_snapshots(on_device):
    gn.manual_seed(3)
    model = nn.Sequential(*digits_cnn_layers())
    x, y = digits()[0][:256], digits()[1][:256]
    start = [p.detach().numpy().copy() for p in model.parameters()]
    snaps, monitor = _Snapshots(), HealthMonitor(bins=12, on_device=on_device)
    gn.train.fit(model, (x, y), loss="cross_entropy", optimizer=gn.optim.SGD(model.parameters(), lr=0.1),
                 epochs=2, batch_size=64, progress=False, callbacks=[monitor, snaps])
    h = monitor.history
    names = [n for n, _ in model.named_parameters()]
    assert h["epochs"] == [0, 1] and h["steps"] == list(range(8))
    previous = start
    for step, now in enumerate(snaps.weights):
        for name, w_old, w in zip(names, previous, now):
            want = np.linalg.norm(w.astype(np.float64) - w_old) / np.linalg.norm(w.astype(np.float64))
            np.testing.assert_allclose(h["update_ratio"][name][step], want, rtol=1e-4)
        previous = now
    for name, p in model.named_parameters():
        w = p.detach().numpy().astype(np.float64)
        np.testing.assert_allclose(h["weights"][name]["norm"][-1], np.linalg.norm(w), rtol=1e-12)
        assert len(h["weights"][name]["hist"]) == 2 and len(h["weights"][name]["hist"][0]) == 12
        np.testing.assert_allclose(h["update_ratio_mean"][name][0], np.mean(h["update_ratio"][name][:4]))
        g = p.grad.numpy().astype(np.float64)  # the last step's gradient is in the epoch's statistics
        assert h["weight_grads"][name]["count"][-1] == 4 * g.size
        assert h["weight_grads"][name]["max"][-1] >= g.max()
    assert _hook_count(model) == 0


def test_health_monitor_layer_statistics_equal_numpy_over_an_epoch():
    # lr = 0: the network stays put, so an epoch's statistics are those of the
    # training set through the fixed network; validation data stays out.
    model = _model_with_a_dead_channel()
    x, y = digits()[0][:200], digits()[1][:200]
    monitor = HealthMonitor(update_ratio=False)
    gn.train.fit(model, (x, y), val_data=(digits()[2][:50], digits()[3][:50]), loss="cross_entropy",
                 optimizer=gn.optim.SGD(model.parameters(), lr=0.0), epochs=2, batch_size=64, progress=False,
                 callbacks=[monitor])
    h = monitor.history
    assert sorted(h["layers"]) == ["0", "1", "3", "4", "6"]  # parameter and activation layers
    with gx.record(model, ["1", "4"], gradients=False) as rec, gn.no_grad():
        model(x)
    for name in ["1", "4"]:
        a = rec.activations[name].numpy().astype(np.float64)
        got = h["layers"][name]["activation"]
        for epoch in range(2):
            assert got["count"][epoch] == a.size
            np.testing.assert_allclose(got["mean"][epoch], a.mean(), rtol=1e-5)
            np.testing.assert_allclose(got["std"][epoch], a.std(), rtol=1e-5)
            np.testing.assert_allclose(got["dead_fraction"][epoch], np.mean(a.max(axis=(0, 2, 3)) <= 0))
        grads = h["layers"][name]["gradient"]
        assert grads["count"] == [a.size, a.size] and grads["norm"][0] > 0
    assert h["layers"]["1"]["activation"]["dead_units"] == [1, 1]
    plain = json.loads(json.dumps(monitor.history_json()))
    assert plain["layers"]["1"]["activation"]["hist"][0] == list(h["layers"]["1"]["activation"]["hist"][0])
    assert plain["weights"]["0.weight"]["norm"] == h["weights"]["0.weight"]["norm"]
    assert h["update_ratio"] == {} and len(h["weight_grads"]["0.weight"]["mean"]) == 2
    assert _hook_count(model) == 0


def test_health_monitor_rejects_bad_settings():
    with pytest.raises(ValueError, match=r"\[HealthMonitor\] update_every"):
        HealthMonitor(update_every=0)


@pytest.mark.parametrize("on_device", [False, True])
@pytest.mark.parametrize("units", [True, False])
def test_running_stats_both_reduction_paths_equal_numpy_across_folds(monkeypatch, on_device, units):
    from glassnet.explain import running
    monkeypatch.setattr(running, "_FOLD", 3)  # fold the device path's lists several times
    rng = np.random.default_rng(5)
    parts = [rng.normal(0.2, 1.0, size=(n, 6, 3)).astype(np.float32) for n in (4, 1, 7, 2, 5, 3, 8)]
    parts[2][:, 4] = -1.0  # unit 4 is not positive in one batch only: not dead
    for p in parts:
        p[:, 1] = -np.abs(p[:, 1])  # unit 1 is never positive: dead
    rs = gx.RunningStats(bins=7, units=units, on_device=on_device)
    for p in parts:
        rs.update(gn.from_numpy(p))
    got = rs.summary()
    a = np.concatenate(parts).astype(np.float64)
    assert got["count"] == a.size and rs.samples == a.shape[0] and rs.updates == len(parts)
    np.testing.assert_allclose([got["mean"], got["std"], got["norm"], got["max"]],
                               [a.mean(), a.std(), np.linalg.norm(a), a.max()], rtol=1e-6)
    np.testing.assert_array_equal(got["hist"], np.histogram(parts[-1], bins=7)[0])
    if units:
        assert got["dead_units"] == 1 and got["units"] == 6
        assert got["zero_fraction"] == np.count_nonzero(a <= 0) / a.size
    else:
        assert "dead_units" not in got
    assert gx.RunningStats().summary() is None


def test_running_stats_rejects_a_stream_whose_units_change():
    rs = gx.RunningStats()
    rs.update(gn.zeros(2, 6))
    with pytest.raises(ValueError, match=r"\[RunningStats\] .* 6 units \(dim 1\) but one of shape \(2, 5\)"):
        rs.update(gn.zeros(2, 5))


def test_health_monitor_sampling_every_and_update_every():
    gn.manual_seed(4)
    model = nn.Sequential(*digits_cnn_layers())
    x, y = digits()[0][:448], digits()[1][:448]  # 7 steps of 64
    snaps, monitor = _Snapshots(), HealthMonitor(update_every=3, every=2)
    gn.train.fit(model, (x, y), loss="cross_entropy", optimizer=gn.optim.SGD(model.parameters(), lr=0.1),
                 epochs=1, batch_size=64, progress=False, callbacks=[monitor, snaps])
    h = monitor.history
    assert h["steps"] == [0, 3, 6]
    w = snaps.weights
    for k, step in enumerate([3, 6]):
        want = np.linalg.norm(w[step][0].astype(np.float64) - w[step - 1][0]) / np.linalg.norm(w[step][0])
        np.testing.assert_allclose(h["update_ratio"]["0.weight"][k + 1], want, rtol=1e-4)
    # layer statistics from batches 1, 3, 5, 7 only: 4 of the 7
    assert h["layers"]["1"]["activation"]["count"] == [4 * 64 * 8 * 64]
    assert h["weight_grads"]["0.weight"]["count"] == [4 * 8 * 9]


def test_record_every_samples_calls():
    model = trained_digits_cnn()
    x = digits()[2][:5]
    with gx.record(model, "1", every=3, stats=True) as rec, gn.no_grad():
        for _ in range(7):
            model(x)
    assert rec.stats["1"].activation.updates == 3  # calls 1, 4 and 7
    with pytest.raises(ValueError, match=r"\[record\] every must be an int >= 1, got 0"):
        with gx.record(model, "1", every=0):
            pass


class _FailAt(Callback):
    """Raises in on_batch_end of the given batch of the given epoch."""

    def __init__(self, epoch, batch, exc=RuntimeError):
        super().__init__()
        self.at = (epoch, batch)
        self.exc = exc

    def on_batch_end(self, batch, logs=None):
        if (self.trainer.epoch, batch) == self.at:
            raise self.exc("stop here")


class _Ends(Callback):
    def __init__(self):
        super().__init__()
        self.ended = 0
        self.seen = []

    def on_train_end(self, logs=None):
        self.ended += 1

    def on_exception(self, exc):
        self.seen.append(exc)


@pytest.mark.parametrize("exc", [RuntimeError, KeyboardInterrupt])
def test_health_monitor_removes_its_hooks_when_fit_stops_by_an_exception(exc):
    gn.manual_seed(6)
    model = nn.Sequential(*digits_cnn_layers())
    x, y = digits()[0][:192], digits()[1][:192]
    monitor, ends = HealthMonitor(), _Ends()
    with pytest.raises(exc, match="stop here"):
        gn.train.fit(model, (x, y), loss="cross_entropy", optimizer=gn.optim.SGD(model.parameters(), lr=0.1),
                     epochs=3, batch_size=64, progress=False, callbacks=[monitor, _FailAt(1, 1, exc), ends])
    assert _hook_count(model) == 0
    # on_train_end is for runs that finish (as in Keras); on_exception hears the error itself
    assert ends.ended == 0 and len(ends.seen) == 1 and isinstance(ends.seen[0], exc)
    assert monitor.history["epochs"] == [0]  # what the finished epoch gathered stays
    # the model trains on without recording anything more
    out = model(x[:4])
    out.sum().backward()
    assert _hook_count(model) == 0


def test_fit_reports_a_failing_on_exception_as_a_warning_and_raises_the_training_error():
    class Broken(Callback):
        def on_exception(self, exc):
            raise ValueError("cleanup failed")

    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    x, y = digits()[0][:128], digits()[1][:128]
    monitor = HealthMonitor()
    with pytest.warns(RuntimeWarning, match=r"\[fit\] Broken.on_exception raised ValueError: cleanup failed"):
        with pytest.raises(RuntimeError, match="stop here"):
            gn.train.fit(model, (x, y), loss="cross_entropy", optimizer=gn.optim.SGD(model.parameters(), lr=0.1),
                         epochs=1, batch_size=64, progress=False, callbacks=[Broken(), _FailAt(0, 0), monitor])
    assert _hook_count(model) == 0


def test_running_stats_copy_mid_stream_carries_on_alone():
    rng = np.random.default_rng(8)
    parts = [rng.normal(size=(3, 4, 5)).astype(np.float32) for _ in range(4)]
    rs = gx.RunningStats(bins=5)
    for p in parts[:2]:
        rs.update(gn.from_numpy(p))
    twin = copy.deepcopy(rs)
    for p in parts[2:]:
        rs.update(gn.from_numpy(p))
    a = np.concatenate(parts[:2]).astype(np.float64)
    got = twin.summary()
    assert got["count"] == a.size and twin.updates == 2
    np.testing.assert_allclose([got["mean"], got["max"]], [a.mean(), a.max()], rtol=1e-6)
    np.testing.assert_array_equal(got["hist"], np.histogram(parts[1], bins=5)[0])
    assert rs.summary()["count"] == 2 * a.size


def test_running_stats_of_a_non_contiguous_tensor_histogram_its_values_in_order():
    a = np.random.default_rng(9).normal(size=(80, 6, 20)).astype(np.float32)
    rs = gx.RunningStats(bins=9)
    rs.update(gn.from_numpy(a).permute(1, 0, 2))  # (6, 80, 20), not contiguous
    b = np.ascontiguousarray(a.transpose(1, 0, 2)).reshape(-1)
    got = rs.summary()
    assert got["units"] == 80 and got["count"] == b.size
    np.testing.assert_array_equal(got["hist"], np.histogram(b[::-(-b.size // gx.running.HIST_VALUES)], bins=9)[0])
    np.testing.assert_allclose(got["max"], b.max())
