"""Tensor creation, metadata, dtypes, numpy interop and printing."""
import numpy as np
import pytest

import glassnet as gn


def test_tensor_infers_dtypes_like_torch():
    assert gn.tensor([1.0, 2.0]).dtype is gn.float32
    assert gn.tensor([1, 2]).dtype is gn.int64
    assert gn.tensor([True, False]).dtype is gn.bool
    assert gn.tensor(np.zeros(2)).dtype is gn.float64
    assert gn.tensor(np.zeros(2, np.int32)).dtype is gn.int64
    assert gn.tensor(3.5).shape == ()
    assert gn.tensor([[1, 2], [3, 4]], dtype=gn.float64).dtype is gn.float64
    assert gn.Tensor([1, 2]).dtype is gn.float32


def test_from_numpy_and_numpy_share_memory():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = gn.from_numpy(a)
    a[0, 0] = 42
    assert t[0, 0].item() == 42
    back = t.numpy()
    back[1, 2] = -1
    assert a[1, 2] == -1
    assert np.shares_memory(np.asarray(t), a)
    for dtype in (np.float64, np.int64, np.bool_):
        arr = np.zeros(3, dtype)
        assert np.shares_memory(gn.from_numpy(arr).numpy(), arr)


def test_from_numpy_keeps_the_array_alive():
    t = gn.from_numpy(np.arange(1000, dtype=np.float64))
    import gc

    gc.collect()
    assert t.sum().item() == sum(range(1000))


def test_numpy_view_keeps_tensor_memory_alive():
    a = gn.arange(10, dtype=gn.float32).numpy()
    import gc

    gc.collect()
    assert a.tolist() == list(range(10))


def test_from_numpy_handles_strided_and_odd_arrays():
    a = np.arange(24, dtype=np.float64).reshape(4, 6)[::2, 1::2]
    np.testing.assert_array_equal(gn.from_numpy(a).numpy(), a)
    rev = np.arange(5.0)[::-1]
    np.testing.assert_array_equal(gn.from_numpy(rev).numpy(), rev)
    big_endian = np.arange(3, dtype=">f8")
    np.testing.assert_array_equal(gn.from_numpy(big_endian).numpy(), big_endian)
    with pytest.raises(TypeError, match="unsupported numpy dtype"):
        gn.from_numpy(np.array(["a"]))


def test_numpy_refuses_tensors_that_require_grad():
    t = gn.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        t.numpy()
    assert t.detach().numpy().tolist() == [1.0, 1.0]


def test_creation_functions():
    assert gn.zeros(2, 3).tolist() == [[0.0] * 3] * 2
    assert gn.ones((2,), dtype=gn.int64).tolist() == [1, 1]
    assert gn.full((2,), 7).dtype is gn.int64
    assert gn.full((2,), 7.5).tolist() == [7.5, 7.5]
    assert gn.arange(5).tolist() == [0, 1, 2, 3, 4]
    assert gn.arange(0, 1, 0.25).tolist() == [0.0, 0.25, 0.5, 0.75]
    np.testing.assert_allclose(gn.linspace(-1, 1, 5).numpy(), np.linspace(-1, 1, 5))
    assert gn.eye(2, 3).tolist() == [[1, 0, 0], [0, 1, 0]]
    x = gn.ones(2, 2, dtype=gn.float64)
    assert gn.zeros_like(x).dtype is gn.float64 and gn.rand_like(x).shape == (2, 2)
    with pytest.raises(ValueError, match="negative dimension"):
        gn.zeros(-1)
    with pytest.raises(ValueError, match="step"):
        gn.arange(0, 1, 0)


def test_random_is_seeded_and_well_distributed():
    gn.manual_seed(7)
    a = gn.rand(10000)
    gn.manual_seed(7)
    b = gn.rand(10000)
    assert a.tolist() == b.tolist()
    assert 0 <= a.min().item() and a.max().item() < 1
    assert abs(a.mean().item() - 0.5) < 0.02
    n = gn.randn(20000, dtype=gn.float64)
    assert abs(n.mean().item()) < 0.05 and abs(n.std().item() - 1) < 0.05
    r = gn.randint(3, 7, (1000,))
    assert r.dtype is gn.int64 and set(r.tolist()) == {3, 4, 5, 6}
    assert sorted(gn.randperm(10).tolist()) == list(range(10))


def test_rng_state_round_trip():
    state = gn.get_rng_state()
    a = gn.randn(5)
    gn.set_rng_state(state)
    assert gn.randn(5).tolist() == a.tolist()


def test_metadata():
    x = gn.zeros(2, 3, 4)
    assert x.shape == (2, 3, 4) and x.size() == (2, 3, 4) and x.size(-1) == 4
    assert x.dim() == 3 and x.ndim == 3 and x.numel() == 24 and len(x) == 2
    assert x.stride() == (12, 4, 1) and x.is_contiguous()
    assert not x.transpose(0, 2).is_contiguous()
    assert x.device == gn.device("cpu") and str(x.device) == "cpu"
    assert x.is_leaf and x.grad is None and not x.requires_grad
    assert repr(x.shape) == "glassnet.Size([2, 3, 4])"


def test_conversions():
    x = gn.tensor([1.7, -2.2])
    assert x.long().tolist() == [1, -2]
    assert x.double().dtype is gn.float64
    assert x.bool().tolist() == [True, True]
    assert x.to(gn.float64).to(gn.float32).tolist() == pytest.approx([1.7, -2.2])
    assert float(gn.tensor(2.5)) == 2.5 and int(gn.tensor(3)) == 3
    with pytest.raises(ValueError, match="cannot be converted"):
        gn.ones(2).item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(gn.ones(2))


def test_repr_looks_like_torch():
    torch = pytest.importorskip("torch")
    for values in ([1.0, 2.5], [1.0, 2.0], [[0.9573, 1.1849], [1.453, -2.0]], 3.25):
        assert repr(gn.tensor(values)) == repr(torch.tensor(values))
    assert "requires_grad=True" in repr(gn.ones(1, requires_grad=True))
    assert "dtype=glassnet.float64" in repr(gn.ones(1, dtype=gn.float64))
    assert "grad_fn=<" in repr(gn.ones(1, requires_grad=True) * 2)


def test_cuda_unavailable_is_clear():
    assert isinstance(gn.cuda.is_available(), bool)
    if not gn.cuda.is_available():
        with pytest.raises(RuntimeError, match="cuda"):
            gn.ones(2).to("cuda")
        with pytest.raises(RuntimeError, match="cuda"):
            gn.ones(2, device="cuda")


def test_bad_device_string():
    with pytest.raises(ValueError, match="device"):
        gn.device("tpu")
    with pytest.raises(ValueError, match="device"):
        gn.device("cuda:x")


def test_threads_setting():
    old = gn.get_num_threads()
    gn.set_num_threads(1)
    assert gn.get_num_threads() == 1
    big = gn.ones(1 << 20)
    assert (big + big).sum().item() == 2 * (1 << 20)
    gn.set_num_threads(old)
    with pytest.raises(ValueError):
        gn.set_num_threads(0)
