"""Training checkpoints: nested states flattened into safetensors + JSON and
restored exactly, RNG and loader position included, written atomically.
(Resuming real training runs is tested in test_train.py and test_cli.py.)"""
import json
import os

import numpy as np
import pytest

import glassnet as gn
from glassnet.checkpoint import load_checkpoint, save_checkpoint
from glassnet.data import DataLoader, TensorDataset
from glassnet.serialization import load_metadata, save


class Holder:
    """Anything with state_dict/load_state_dict: stands in for a model, optimiser or scheduler."""

    def __init__(self, state=None):
        self.state = state
        self.loaded = None

    def state_dict(self):
        return self.state

    def load_state_dict(self, state, strict=True):
        self.loaded = state


def _optimizer_like_state(rng):
    return {
        "state": {0: {"step": gn.tensor(np.array(3.0)), "exp_avg": gn.tensor(rng.standard_normal((2, 3)))},
                  1: {"step": 3, "momentum_buffer": None}},
        "param_groups": [{"lr": 0.01, "betas": (0.9, 0.999), "eps": 1e-8, "nesterov": False, "params": [0, 1],
                          "name": "main", "nan": float("inf")}],
    }


def test_nested_state_round_trip(tmp_path, rng):
    model = Holder({"w": gn.tensor(rng.standard_normal((3, 2)).astype(np.float32)), "n": gn.tensor([1, 2])})
    opt = Holder(_optimizer_like_state(rng))
    sched = Holder({"last_epoch": 4, "base_lrs": [0.1], "_last_lr": [0.05]})
    path = tmp_path / "ckpt.safetensors"
    save_checkpoint(path, model=model, optimizer=opt, scheduler=sched, epoch=5, extra={"note": "x", "v": [1, 2]})
    m2, o2, s2 = Holder(), Holder(), Holder()
    info = load_checkpoint(path, model=m2, optimizer=o2, scheduler=s2)
    assert info["epoch"] == 5 and info["extra"] == {"note": "x", "v": [1, 2]}
    np.testing.assert_array_equal(m2.loaded["w"].numpy(), model.state["w"].numpy())
    assert m2.loaded["n"].dtype == gn.int64
    st = o2.loaded
    assert set(st["state"]) == {0, 1}  # int keys stay ints
    np.testing.assert_array_equal(st["state"][0]["exp_avg"].numpy(), opt.state["state"][0]["exp_avg"].numpy())
    assert st["state"][0]["exp_avg"].dtype == gn.float64 and st["state"][0]["step"].shape == ()
    assert st["state"][1] == {"step": 3, "momentum_buffer": None}
    group = st["param_groups"][0]
    assert group["betas"] == (0.9, 0.999) and isinstance(group["betas"], tuple)
    assert group["params"] == [0, 1] and group["nesterov"] is False and group["nan"] == float("inf")
    assert s2.loaded == sched.state


def test_checkpoint_is_plain_safetensors_with_json_metadata(tmp_path, rng):
    st_numpy = pytest.importorskip("safetensors.numpy")
    path = str(tmp_path / "ckpt.safetensors")
    save_checkpoint(path, model=Holder({"w": gn.ones(2)}), optimizer=Holder(_optimizer_like_state(rng)), epoch=1)
    arrays = st_numpy.load_file(path)
    assert set(arrays) == {"model/w", "optimizer/state/0/step", "optimizer/state/0/exp_avg"}
    info = json.loads(load_metadata(path)["glassnet.checkpoint"])
    assert info["epoch"] == 1 and len(info["rng_state"]) == 2


def test_rng_state_restored(tmp_path):
    gn.manual_seed(7)
    gn.rand(10)
    save_checkpoint(tmp_path / "c.safetensors", epoch=0)
    expected = gn.rand(5).numpy()
    gn.manual_seed(123)
    load_checkpoint(tmp_path / "c.safetensors")
    np.testing.assert_array_equal(gn.rand(5).numpy(), expected)
    gn.manual_seed(123)
    load_checkpoint(tmp_path / "c.safetensors", restore_rng=False)
    assert not np.array_equal(gn.rand(5).numpy(), expected)


def test_loader_position_restored(tmp_path):
    x = gn.tensor(np.arange(20, dtype=np.float32).reshape(20, 1))
    ds = TensorDataset(x, gn.tensor(np.arange(20)))
    gn.manual_seed(1)
    dl = DataLoader(ds, batch_size=3, shuffle=True)
    list(dl)
    it = iter(dl)
    next(it), next(it)
    save_checkpoint(tmp_path / "c.safetensors", loader=dl)
    rest = [b[1].numpy() for b in it]
    fresh = DataLoader(ds, batch_size=3, shuffle=True)
    load_checkpoint(tmp_path / "c.safetensors", loader=fresh)
    got = [b[1].numpy() for b in fresh]
    assert len(got) == len(rest) == 5
    for a, b in zip(got, rest):
        np.testing.assert_array_equal(a, b)


def test_errors(tmp_path):
    with pytest.raises(TypeError, match="can't store 'model/f'"):
        save_checkpoint(tmp_path / "c.safetensors", model=Holder({"f": object()}))
    with pytest.raises(TypeError, match="not a str or int"):
        save_checkpoint(tmp_path / "c.safetensors", model=Holder({(1, 2): 3}))
    assert not os.path.exists(tmp_path / "c.safetensors")
    save({"w": gn.ones(1)}, tmp_path / "w.safetensors")
    with pytest.raises(ValueError, match="not a glassnet checkpoint"):
        load_checkpoint(tmp_path / "w.safetensors", model=Holder())
    save_checkpoint(tmp_path / "c.safetensors", model=Holder({"w": gn.ones(1)}))
    with pytest.raises(KeyError, match="no optimizer state"):
        load_checkpoint(tmp_path / "c.safetensors", optimizer=Holder())
    info = load_checkpoint(tmp_path / "c.safetensors")
    assert "model" in info  # parts not restored into an object come back raw


def test_overwrite_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "c.safetensors"
    save_checkpoint(path, model=Holder({"w": gn.ones(2)}), epoch=1)
    before = path.read_bytes()

    def boom(src, dst):
        raise OSError("killed")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        save_checkpoint(path, model=Holder({"w": gn.zeros(2)}), epoch=2)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert load_checkpoint(path)["epoch"] == 1
