"""gn.save / gn.load: safetensors files, round trips, interop with torch both
ways, metadata, atomic writes, and no pickle."""
import os
import pickle

import numpy as np
import pytest

import glassnet as gn
from glassnet.serialization import atomic_write, load, load_metadata, save


def _state(rng):
    return {
        "layer.weight": gn.tensor(rng.standard_normal((4, 3)).astype(np.float32)),
        "layer.bias": gn.tensor(rng.standard_normal(4).astype(np.float32)),
        "double": gn.tensor(rng.standard_normal((2, 2, 2))),
        "steps": gn.tensor(np.array([3, -7, 2 ** 40], dtype=np.int64)),
        "mask": gn.tensor(np.array([True, False, True])),
        "scalar": gn.tensor(np.float32(2.5)),
        "empty": gn.zeros(0, 5),
    }


def _assert_same(a, b):
    assert list(sorted(a)) == list(sorted(b))
    for k in a:
        x, y = a[k], b[k]
        xa = x.numpy() if isinstance(x, gn.Tensor) else np.asarray(x)
        ya = y.numpy() if isinstance(y, gn.Tensor) else np.asarray(y)
        assert xa.dtype == ya.dtype, k
        assert xa.shape == ya.shape, k
        np.testing.assert_array_equal(xa, ya)


def test_round_trip_all_dtypes(tmp_path, rng):
    state = _state(rng)
    path = tmp_path / "w.safetensors"
    save(state, path)
    back = load(path)
    _assert_same(state, back)
    assert all(isinstance(v, gn.Tensor) for v in back.values())
    assert back["double"].dtype == gn.float64 and back["mask"].dtype == gn.bool
    assert back["steps"].dtype == gn.int64 and back["scalar"].shape == ()


def test_top_level_names():
    assert gn.save is save and gn.load is load  # torch's spelling: gn.save(sd, path), gn.load(path)


def test_metadata(tmp_path, rng):
    path = str(tmp_path / "w.safetensors")
    save({"a": gn.ones(2)}, path, metadata={"epoch": "3", "note": "hello"})
    assert load_metadata(path) == {"epoch": "3", "note": "hello"}
    assert load(path)["a"].tolist() == [1.0, 1.0]
    with pytest.raises(TypeError, match="metadata"):
        save({"a": gn.ones(2)}, path, metadata={"epoch": 3})


def test_non_contiguous_and_grad_tensors(tmp_path, rng):
    a = gn.tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    t = gn.tensor(rng.standard_normal((3, 4)).astype(np.float32)).t()
    assert not t.is_contiguous()
    save({"a": a, "t": t}, tmp_path / "x.safetensors")
    back = load(tmp_path / "x.safetensors")
    np.testing.assert_array_equal(back["a"].numpy(), a.detach().numpy())
    np.testing.assert_array_equal(back["t"].numpy(), t.numpy())
    assert not back["a"].requires_grad


def test_loadable_by_torch(tmp_path, rng):
    torch = pytest.importorskip("torch")
    st_torch = pytest.importorskip("safetensors.torch")
    state = _state(rng)
    path = str(tmp_path / "gn.safetensors")
    save(state, path)
    loaded = st_torch.load_file(path)
    expected_dtypes = {"layer.weight": torch.float32, "double": torch.float64, "steps": torch.int64,
                       "mask": torch.bool}
    for k, dt in expected_dtypes.items():
        assert loaded[k].dtype == dt
    for k, v in state.items():
        np.testing.assert_array_equal(loaded[k].numpy(), v.numpy())


def test_loads_torch_files(tmp_path):
    torch = pytest.importorskip("torch")
    st_torch = pytest.importorskip("safetensors.torch")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.ReLU(), torch.nn.Linear(7, 2))
    extra = {"flags": torch.tensor([True, False]), "count": torch.tensor([5], dtype=torch.int64),
             "half": torch.tensor([1.5, -2.0], dtype=torch.float16), "i32": torch.tensor([1, 2], dtype=torch.int32)}
    sd = {**net.state_dict(), **extra}
    path = str(tmp_path / "torch.safetensors")
    st_torch.save_file(sd, path, metadata={"format": "pt"})
    back = load(path)
    assert set(back) == set(sd)
    for k in net.state_dict():
        np.testing.assert_array_equal(back[k].numpy(), sd[k].numpy())
        assert back[k].dtype == gn.float32
    assert back["flags"].dtype == gn.bool and back["flags"].tolist() == [True, False]
    # dtypes glassnet lacks are widened: float16 -> float32, int32 -> int64
    assert back["half"].dtype == gn.float32 and back["half"].tolist() == [1.5, -2.0]
    assert back["i32"].dtype == gn.int64 and back["i32"].tolist() == [1, 2]
    assert load_metadata(path) == {"format": "pt"}


def test_load_state_dict_into_module_from_torch(tmp_path):
    torch = pytest.importorskip("torch")
    st_torch = pytest.importorskip("safetensors.torch")
    nn = pytest.importorskip("glassnet.nn")
    if not hasattr(nn, "Linear"):
        pytest.skip("glassnet.nn.Linear is not merged into this branch yet")
    torch.manual_seed(0)
    tnet = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.ReLU(), torch.nn.Linear(7, 2))
    path = str(tmp_path / "torch.safetensors")
    st_torch.save_file(tnet.state_dict(), path)
    gnet = nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 2))
    gnet.load_state_dict(load(path))
    x = np.random.default_rng(0).standard_normal((3, 5)).astype(np.float32)
    with torch.no_grad():
        expected = tnet(torch.from_numpy(x)).numpy()
    with gn.no_grad():
        got = gnet(gn.tensor(x)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    # and back: glassnet's file loads into the torch module
    save(gnet.state_dict(), tmp_path / "gn.safetensors")
    tnet2 = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.ReLU(), torch.nn.Linear(7, 2))
    tnet2.load_state_dict(st_torch.load_file(str(tmp_path / "gn.safetensors")))
    with torch.no_grad():
        np.testing.assert_allclose(tnet2(torch.from_numpy(x)).numpy(), expected, rtol=1e-6)


def test_bad_inputs(tmp_path):
    with pytest.raises(TypeError, match="dict"):
        save([gn.ones(2)], tmp_path / "a.safetensors")
    with pytest.raises(TypeError, match="'lr' is a float"):
        save({"w": gn.ones(2), "lr": 0.1}, tmp_path / "a.safetensors")
    with pytest.raises(TypeError, match="names must be strings"):
        save({0: gn.ones(2)}, tmp_path / "a.safetensors")
    assert not os.path.exists(tmp_path / "a.safetensors")
    with pytest.raises(FileNotFoundError, match="no such file"):
        load(tmp_path / "missing.safetensors")
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x05\x00\x00\x00\x00\x00\x00\x00{abc}")
    with pytest.raises(ValueError, match="not a readable safetensors"):
        load(junk)


def test_atomic_write_keeps_old_file_on_failure(tmp_path, rng, monkeypatch):
    path = tmp_path / "w.safetensors"
    save({"a": gn.ones(3)}, path)
    before = path.read_bytes()

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        save({"a": gn.zeros(3)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["w.safetensors"]  # no temporary file left behind
    atomic_write(path, b"xyz")
    assert path.read_bytes() == b"xyz"


def test_never_pickles(tmp_path):
    with pytest.raises(TypeError, match="not pickled"):
        pickle.dumps(gn.ones(2))
    path = tmp_path / "w.safetensors"
    save({"a": gn.ones(2)}, path)
    raw = path.read_bytes()
    assert not raw.startswith(b"\x80")  # no pickle protocol header
    header_len = int.from_bytes(raw[:8], "little")
    assert raw[8:9] == b"{" and raw[8 + header_len - 1:8 + header_len].strip() in (b"}", b"")
