"""gn.cuda and cuda tensors. The first tests hold on every machine: without a
GPU (or without CUDA in the build) queries answer "none" and anything that
needs a GPU raises a RuntimeError saying why. The rest run only where a GPU is
available and compare every cuda kernel with the CPU on the same inputs."""
import numpy as np
import pytest

import glassnet as gn
import glassnet.nn.functional as F

needs_gpu = pytest.mark.skipif(not gn.cuda.is_available(), reason="needs a CUDA GPU")


# ---- on every machine ---------------------------------------------------------------------


def test_queries_are_consistent():
    assert isinstance(gn.cuda.is_compiled(), bool)
    assert isinstance(gn.cuda.is_available(), bool)
    count = gn.cuda.device_count()
    assert isinstance(count, int) and count >= 0
    assert gn.cuda.is_available() == (count > 0)
    if not gn.cuda.is_compiled():
        assert not gn.cuda.is_available() and count == 0


def test_queries_are_harmless_without_a_gpu():
    # None of these may raise, GPU or not.
    gn.cuda.synchronize()
    gn.cuda.empty_cache()
    assert gn.cuda.memory_allocated() >= 0
    if not gn.cuda.is_available():
        assert gn.cuda.memory_allocated() == 0
        assert gn.cuda.memory_allocated(3) == 0


def test_device_arguments_take_torch_spellings():
    for spec in (0, "cuda", "cuda:0", gn.device("cuda:0")):
        assert gn.cuda.memory_allocated(spec) == gn.cuda.memory_allocated(0)
        gn.cuda.synchronize(spec)
    with pytest.raises(ValueError, match="expected a cuda device"):
        gn.cuda.memory_allocated("cpu")


def _unavailable_reason():
    return "no GPU or driver" if gn.cuda.is_compiled() else "built without CUDA"


@pytest.mark.skipif(gn.cuda.is_available(), reason="a GPU is present")
@pytest.mark.parametrize("move", [
    lambda x: x.to("cuda"),
    lambda x: x.to("cuda:0"),
    lambda x: x.to(gn.device("cuda")),
    lambda x: x.to(device="cuda", dtype=gn.float64),
    lambda x: x.cuda(),
    lambda x: x.cuda(1),
])
def test_moving_to_cuda_without_a_gpu_raises_clearly(move):
    x = gn.arange(6.0).reshape(2, 3)
    with pytest.raises(RuntimeError, match=r"\[to\] cannot move a tensor to cuda:\d") as info:
        move(x)
    assert _unavailable_reason() in str(info.value)
    # The source is untouched and still usable.
    np.testing.assert_array_equal(x.numpy(), np.arange(6.0).reshape(2, 3))


@pytest.mark.skipif(gn.cuda.is_available(), reason="a GPU is present")
@pytest.mark.parametrize("make", [
    lambda: gn.zeros(2, 3, device="cuda"),
    lambda: gn.ones(4, device="cuda:0"),
    lambda: gn.empty(0, device="cuda"),
    lambda: gn.full((2,), 7.0, device="cuda"),
    lambda: gn.tensor([1.0, 2.0], device="cuda"),
])
def test_creating_on_cuda_without_a_gpu_raises_clearly(make):
    with pytest.raises(RuntimeError, match="cuda") as info:
        make()
    message = str(info.value)
    assert message.startswith("[")
    assert "not available" in message or "without CUDA" in message


def test_cpu_work_is_unaffected_by_the_cuda_build():
    a = gn.tensor([[1.0, -2.0], [3.0, 4.0]])
    assert (a + 1).tolist() == [[2.0, -1.0], [4.0, 5.0]]
    assert a.to("cpu") is a or a.to("cpu").tolist() == a.tolist()
    assert a.cpu().device == gn.device("cpu")
    assert not a.is_cuda


DEVICES = ["cpu"] + (["cuda"] if gn.cuda.is_available() else [])


@pytest.mark.parametrize("device", DEVICES)
def test_copy_onto_an_overlapping_view_reads_a_snapshot(device):
    # A transpose starts at the same address as its base; a shifted slice overlaps it.
    sq = gn.tensor(np.arange(9.0).reshape(3, 3)).to(device)
    sq.copy_(sq.t())
    np.testing.assert_array_equal(sq.cpu().numpy(), np.arange(9.0).reshape(3, 3).T)
    row = gn.tensor(np.arange(6.0)).to(device)
    row[1:] = row[:-1]
    np.testing.assert_array_equal(row.cpu().numpy(), [0, 0, 1, 2, 3, 4])
    same = gn.tensor(np.arange(4.0)).to(device)
    same.copy_(same)
    np.testing.assert_array_equal(same.cpu().numpy(), np.arange(4.0))


# ---- with a GPU ---------------------------------------------------------------------------

DTYPES = [np.float32, np.float64, np.int64, np.bool_]


def _random(rng, shape, dtype):
    if dtype == np.bool_:
        return rng.random(shape) > 0.5
    if dtype == np.int64:
        return rng.integers(-5, 6, size=shape).astype(np.int64)
    return rng.uniform(-3, 3, size=shape).astype(dtype)


def _check(cuda_out, cpu_out, rtol=None):
    assert cuda_out.is_cuda
    assert cuda_out.dtype == cpu_out.dtype
    assert tuple(cuda_out.shape) == tuple(cpu_out.shape)
    got, want = cuda_out.cpu().numpy(), cpu_out.numpy()
    if np.issubdtype(want.dtype, np.floating):
        tol = rtol if rtol is not None else (2e-6 if want.dtype == np.float32 else 1e-13)
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol, equal_nan=True)
    else:
        np.testing.assert_array_equal(got, want)


@needs_gpu
@pytest.mark.parametrize("dtype", DTYPES)
def test_round_trip_copies(rng, dtype):
    a = _random(rng, (5, 7), dtype)
    c = gn.tensor(a).to("cuda")
    assert c.is_cuda and c.device == gn.device("cuda:0")
    np.testing.assert_array_equal(c.cpu().numpy(), a)
    np.testing.assert_array_equal(c.clone().cpu().numpy(), a)               # device to device
    np.testing.assert_array_equal(gn.tensor(a).t().cuda().cpu().numpy(), a.T)  # strided host source
    np.testing.assert_array_equal(c.t().contiguous().cpu().numpy(), a.T)     # strided device source
    np.testing.assert_array_equal(c.t().cpu().numpy(), a.T)
    np.testing.assert_array_equal(c[1:4, ::2].cpu().numpy(), a[1:4, ::2])


@needs_gpu
def test_copies_cast_broadcast_and_write_views_on_the_device(rng):
    a = rng.uniform(-3, 3, size=(4, 6))
    c = gn.tensor(a).cuda()
    for dtype in (gn.float32, gn.int64, gn.bool):
        _check(c.to(dtype), gn.tensor(a).to(dtype))
    dst = gn.zeros(4, 6, device="cuda")
    dst[:, 1::2] = gn.tensor([1.0, 2.0, 3.0]).cuda()                     # broadcast into a strided view
    want = np.zeros((4, 6), np.float32)
    want[:, 1::2] = [1.0, 2.0, 3.0]
    np.testing.assert_array_equal(dst.cpu().numpy(), want)
    dst[0] = gn.tensor([9.0] * 6)                                          # host source into a view
    want[0] = 9.0
    np.testing.assert_array_equal(dst.cpu().numpy(), want)


@needs_gpu
@pytest.mark.parametrize("dtype", [gn.float32, gn.float64, gn.int64, gn.bool])
def test_fill(dtype):
    for value in (0, 1, -2.5, 3):
        _check(gn.full((3, 5), value, dtype=dtype, device="cuda"), gn.full((3, 5), value, dtype=dtype))
    t = gn.zeros(4, 6, dtype=dtype, device="cuda")
    t[:, ::3].fill_(1)
    want = gn.zeros(4, 6, dtype=dtype)
    want[:, ::3].fill_(1)
    _check(t, want)


# nn.functional's activations are looked up when a test runs, not at collection.
UNARY = {
    "neg": gn.neg, "abs": gn.abs, "exp": gn.exp, "log": gn.log, "log1p": gn.log1p, "expm1": gn.expm1,
    "sqrt": gn.sqrt, "rsqrt": gn.rsqrt, "sin": gn.sin, "cos": gn.cos, "sign": gn.sign,
    "reciprocal": gn.reciprocal, "relu": gn.relu, "sigmoid": gn.sigmoid, "tanh": gn.tanh,
    "square": gn.square, "floor": gn.floor, "ceil": gn.ceil, "round": gn.round, "trunc": gn.trunc,
    "silu": lambda x: F.silu(x), "selu": lambda x: F.selu(x), "relu6": lambda x: F.relu6(x),
    "gelu": lambda x: F.gelu(x), "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "leaky_relu": lambda x: F.leaky_relu(x, 0.2), "elu": lambda x: F.elu(x, 0.7),
    "softplus": lambda x: F.softplus(x, 2.0, 3.0), "hardtanh": lambda x: F.hardtanh(x, -0.5, 1.5),
    "clamp": lambda x: gn.clamp(x, -1, 2), "clamp_min": lambda x: gn.clamp(x, min=0.5),
    "clamp_max": lambda x: gn.clamp(x, max=0.5), "isnan": gn.isnan, "isinf": gn.isinf,
    "isfinite": gn.isfinite, "logical_not": gn.logical_not,
}


@needs_gpu
@pytest.mark.parametrize("name", UNARY)
def test_unary_matches_cpu(rng, name):
    fn = UNARY[name]
    for dtype in (np.float32, np.float64, np.int64):
        a = _random(rng, (6, 33), dtype)
        if dtype != np.int64:
            a[0, :4] = [np.nan, np.inf, -np.inf, 0.5]  # NaN and inf follow the CPU's rules
            a[1, :6] = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5]  # round: half to even
        x = gn.tensor(a)
        rtol = 2e-5 if dtype == np.float32 else None
        _check(fn(x.cuda()), fn(x), rtol=rtol)
        _check(fn(x.cuda().t()), fn(x.t()), rtol=rtol)  # strided input


BINARY = [gn.add, gn.sub, gn.mul, gn.div, gn.pow, gn.maximum, gn.minimum, gn.atan2, gn.remainder,
          gn.floor_divide, gn.eq, gn.ne, gn.lt, gn.le, gn.gt, gn.ge, gn.logical_and, gn.logical_or,
          gn.logical_xor]


def _binary_case(fn, a, b, view=lambda t: t):
    ga, gb = gn.tensor(a), gn.tensor(b)
    try:
        want = fn(view(ga), gb)
    except (TypeError, ValueError) as err:  # the same refusal on both devices
        with pytest.raises(type(err)):
            fn(view(ga.cuda()), gb.cuda())
        return
    _check(fn(view(ga.cuda()), gb.cuda()), want)


@needs_gpu
@pytest.mark.parametrize("fn", BINARY)
def test_binary_matches_cpu_with_broadcasting(rng, fn):
    shapes = [((4, 5), (4, 5)), ((3, 1), (1, 6)), ((2, 3, 4), (4,)), ((), (3, 2)), ((0, 3), (1, 3))]
    for dtype in DTYPES:
        for sa, sb in shapes:
            a, b = _random(rng, sa, dtype), _random(rng, sb, dtype)
            if dtype == np.int64 and fn in (gn.remainder, gn.floor_divide, gn.pow):
                b = np.abs(b) + 1  # integer errors have their own test
            _binary_case(fn, a, b)
        b = _random(rng, (4, 5), dtype)
        if dtype == np.int64 and fn in (gn.remainder, gn.floor_divide, gn.pow):
            b = np.abs(b) + 1
        _binary_case(fn, _random(rng, (5, 4), dtype), b, view=lambda t: t.t())  # non-contiguous operand


@needs_gpu
def test_binary_mixed_dtypes_and_scalars_promote_as_on_cpu(rng):
    a = gn.tensor(rng.integers(-4, 5, size=(3, 4)))
    b = gn.tensor(rng.uniform(-1, 1, size=(4,)).astype(np.float32))
    _check(a.cuda() + b.cuda(), a + b)
    _check(a.cuda() * 2.5, a * 2.5)
    _check(a.cuda() / 3, a / 3)
    _check(b.cuda() > 0, b > 0)


@needs_gpu
def test_integer_errors_raise_like_the_cpu():
    a = gn.tensor([4, 5, 6]).cuda()
    with pytest.raises(ValueError, match="division by zero"):
        gn.remainder(a, gn.tensor([1, 0, 2]).cuda())
    with pytest.raises(ValueError, match="division by zero"):
        gn.floor_divide(a, gn.tensor([1, 0, 2]).cuda())
    with pytest.raises(ValueError, match="negative integer powers"):
        gn.pow(a, gn.tensor([1, -1, 2]).cuda())
    # The device is fine afterwards.
    _check(a + 1, gn.tensor([5, 6, 7]))


@needs_gpu
def test_binary_refuses_mixed_devices():
    with pytest.raises(RuntimeError, match="same device"):
        gn.ones(3).cuda() + gn.ones(3)


REDUCTIONS = [gn.sum, gn.mean, gn.prod, gn.max, gn.min, gn.all, gn.any]


@needs_gpu
@pytest.mark.parametrize("fn", REDUCTIONS)
def test_full_reductions_match_cpu(rng, fn):
    for dtype in DTYPES:
        for shape in [(1,), (7, 13), (1000, 1001), (3, 0)]:
            a = _random(rng, shape, dtype)
            if fn is gn.prod and np.issubdtype(a.dtype, np.floating):
                a = 1 + a / 1000  # keep the product finite
            if fn is gn.prod and dtype == np.int64:
                a = np.clip(a, -1, 1)
            x = gn.tensor(a)
            try:
                want = fn(x)
            except (TypeError, ValueError, RuntimeError, IndexError) as err:  # mean of int64, max of empty
                with pytest.raises(type(err)):
                    fn(x.cuda())
                continue
            rtol = 1e-4 if dtype == np.float32 else 1e-11
            _check(fn(x.cuda()), want, rtol=rtol)
            _check(fn(x.cuda().t() if x.ndim == 2 else x.cuda()), want, rtol=rtol)  # strided input


@needs_gpu
def test_reductions_propagate_nan():
    x = gn.tensor([1.0, float("nan"), 3.0]).cuda()
    for fn in (gn.sum, gn.mean, gn.max, gn.min):
        assert np.isnan(fn(x).item())
    assert gn.all(x).item() and gn.any(x).item()


@needs_gpu
def test_allocator_reuses_freed_blocks():
    gn.cuda.synchronize()
    gn.cuda.empty_cache()
    base = gn.cuda.memory_allocated()
    a = gn.empty(1000, device="cuda")
    grown = gn.cuda.memory_allocated() - base
    assert grown >= 4000
    ptr = a.data_ptr()
    del a
    assert gn.cuda.memory_allocated() == base
    b = gn.empty(1000, device="cuda")  # the cached block comes back, no cudaMalloc
    assert b.data_ptr() == ptr
    c = gn.empty(1000, device="cuda")  # b still holds it: a different block
    assert c.data_ptr() != ptr
    assert gn.cuda.memory_allocated() - base == 2 * grown
    del b, c
    gn.cuda.empty_cache()
    assert gn.cuda.memory_allocated() == base
    assert gn.empty(0, device="cuda").numel() == 0


@needs_gpu
def test_out_of_memory_is_a_runtime_error():
    with pytest.raises(RuntimeError, match="out of memory"):
        gn.empty(1 << 50, dtype=gn.float64, device="cuda")
    _check(gn.ones(3, device="cuda") * 2, gn.ones(3) * 2)


@needs_gpu
def test_nonexistent_device_is_named():
    n = gn.cuda.device_count()
    with pytest.raises(RuntimeError, match=f"cuda:{n} does not exist"):
        gn.ones(2).to(f"cuda:{n}")


@pytest.mark.skipif(gn.cuda.device_count() < 2, reason="needs two GPUs")
def test_copies_between_gpus(rng):
    a = rng.uniform(size=(3, 4))
    x = gn.tensor(a).to("cuda:0")
    y = x.to("cuda:1")
    assert y.device == gn.device("cuda:1")
    np.testing.assert_array_equal(y.cpu().numpy(), a)
    np.testing.assert_array_equal(x.t().to("cuda:1").cpu().numpy(), a.T)
