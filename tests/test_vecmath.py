"""The SIMD float32 kernels (src/ops/vecmath_*.cpp: exp, log, tanh, sigmoid,
silu, relu, add/sub/mul/div) and the fast contiguous copy, against numpy
float64 over dense sweeps, random bit patterns and edge values, on every
length that exercises the vector tails, with one and two threads."""
import math

import numpy as np
import pytest

import glassnet as gn
import glassnet.nn.functional as F

FLT_MAX = np.finfo(np.float32).max
TINY = np.float32(2.0 ** -149)  # smallest denormal


@pytest.fixture(params=[1, 2], ids=["1thread", "2threads"])
def threads(request):
    before = gn.get_num_threads()
    gn.set_num_threads(request.param)
    yield request.param
    gn.set_num_threads(before)


LN_FLT_MAX = np.log(np.float64(FLT_MAX))


def _sigmoid64(x):
    # Like torch, float32 sigmoid is 1/(1+exp(-x)): once exp(-x) overflows
    # (x < -88.72) the answer is 0, not the denormal float64 would give.
    with np.errstate(over="ignore"):
        s = 1.0 / (1.0 + np.exp(-x))
    return np.where(-x > LN_FLT_MAX, 0.0, s)


def _near_overflow(name, x):
    """Inputs within 1e-5 of where exp's result (or exp(-x)'s) leaves float32
    range: the last representable one may round either way."""
    edge = {"exp": LN_FLT_MAX, "sigmoid": -LN_FLT_MAX, "silu": -LN_FLT_MAX}.get(name)
    if edge is None:
        return np.zeros(x.shape, bool)
    with np.errstate(invalid="ignore"):  # signalling NaNs in the bit patterns
        return np.abs(x.astype(np.float64) - edge) <= 1e-5


# name -> (glassnet fn, float64 reference, max error in float32 ulps)
UNARY = {
    "exp": (gn.exp, np.exp, 2),
    "log": (gn.log, np.log, 2),
    "tanh": (gn.tanh, np.tanh, 5),
    "sigmoid": (gn.sigmoid, _sigmoid64, 4),
    "silu": (F.silu, lambda x: x * _sigmoid64(x), 5),
    "relu": (gn.relu, lambda x: np.where((x > 0) | np.isnan(x), x, 0.0), 0),
}

# Dense sweeps over each function's interesting range: exp's from total
# underflow through the denormals to overflow, tanh's through saturation.
SWEEPS = {
    "exp": (-110.0, 95.0),
    "log": (1e-3, 50.0),
    "tanh": (-12.0, 12.0),
    "sigmoid": (-110.0, 110.0),
    "silu": (-110.0, 110.0),
    "relu": (-5.0, 5.0),
}

EDGES = np.array(
    [np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, FLT_MAX, -FLT_MAX, TINY, -TINY,
     1.17549435e-38, 1e-30, -1e-30, 3e-4, -3e-4, 4e-4, 7.9, -7.9, 8.5, -8.5, 9.0, 9.5, -9.5, 20.0,
     88.72, 88.7228, 88.73, 89.0, 100.0, -87.3, -88.0, -100.0, -103.2, -103.97, -103.98, -104.0,
     -150.0, 0.5, 0.7071067, 0.7071068, 1.4142135, 2.0, 1e-40, 5e-45, 1e38],
    dtype=np.float32)


def _gn_apply(fn, x):
    return fn(gn.from_numpy(x)).numpy()


def _ulp_errors(got, ref64):
    """|got - ref| in units of the float32 spacing at ref; matching infinities
    and NaN in both count as 0, a NaN or inf on one side only as inf."""
    with np.errstate(all="ignore"):  # signalling NaNs, overflow to inf
        got64 = got.astype(np.float64)
        ref32 = ref64.astype(np.float32)
        below_max = np.nextafter(FLT_MAX, np.float32(0))  # spacing(FLT_MAX) itself overflows
        spacing = np.spacing(np.minimum(np.abs(ref32), below_max)).astype(np.float64)
        err = np.abs(got64 - ref64) / spacing
    same_special = (np.isnan(got64) & np.isnan(ref64)) | (np.isinf(got64) & (got64 == ref32))
    err[same_special] = 0.0
    err[np.isnan(err)] = np.inf
    return err


def _check_close(name, x, got):
    _, ref_fn, max_ulps = UNARY[name]
    with np.errstate(all="ignore"):
        ref = ref_fn(x.astype(np.float64))
    err = _ulp_errors(got, ref)
    err[_near_overflow(name, x)] = 0.0
    worst = int(np.argmax(err))
    assert err[worst] <= max_ulps, (
        f"{name}({x[worst]!r}) = {got[worst]!r}, float64 says {ref[worst]!r} ({err[worst]:.1f} ulp)")


@pytest.mark.parametrize("name", sorted(UNARY))
def test_dense_sweep_matches_float64(name, threads):
    lo, hi = SWEEPS[name]
    x = np.linspace(lo, hi, 1_000_003).astype(np.float32)
    _check_close(name, x, _gn_apply(UNARY[name][0], x))


@pytest.mark.parametrize("name", sorted(UNARY))
def test_random_bit_patterns(name, rng):
    # Every float32 class at once: NaN payloads, infinities, denormals, both signs.
    x = rng.integers(0, 2 ** 32, size=200_000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    _check_close(name, x, _gn_apply(UNARY[name][0], x))


@pytest.mark.parametrize("name", sorted(UNARY))
def test_edge_values(name):
    got = _gn_apply(UNARY[name][0], EDGES)
    _check_close(name, EDGES, got)
    assert np.isnan(got[:2]).all(), "NaN in must give NaN out"


def test_exp_edges_exactly():
    x = np.array([np.inf, -np.inf, 89.0, 88.73, -104.0, -1000.0, 0.0, -0.0, -100.0, -103.2], np.float32)
    got = _gn_apply(gn.exp, x)
    assert got[0] == np.inf and got[1] == 0.0 and got[2] == np.inf and got[3] == np.inf
    assert got[4] == 0.0 and got[5] == 0.0 and got[6] == 1.0 and got[7] == 1.0
    # exp(-100) and exp(-103.2) are denormals in float32, not flushed to 0.
    assert 0 < got[8] < np.finfo(np.float32).tiny and 0 < got[9] < np.finfo(np.float32).tiny
    assert got[8] == np.float32(np.exp(np.float64(x[8])))


def test_log_edges_exactly():
    x = np.array([0.0, -0.0, -1.0, np.inf, -np.inf, TINY, 1.0], np.float32)
    got = _gn_apply(gn.log, x)
    assert got[0] == -np.inf and got[1] == -np.inf and np.isnan(got[2]) and got[3] == np.inf
    assert np.isnan(got[4]) and got[6] == 0.0
    assert got[5] == np.float32(np.log(np.float64(TINY)))  # denormal input


def test_tanh_and_relu_signs():
    x = np.array([-0.0, 0.0, -np.inf, np.inf, -1e-30, 1e-30], np.float32)
    t = _gn_apply(gn.tanh, x)
    np.testing.assert_array_equal(t, np.array([-0.0, 0.0, -1.0, 1.0, -1e-30, 1e-30], np.float32))
    assert np.signbit(t[0]) and not np.signbit(t[1])
    r = _gn_apply(gn.relu, x)
    np.testing.assert_array_equal(r, np.array([0.0, 0.0, 0.0, np.inf, 0.0, 1e-30], np.float32))
    assert not np.signbit(r).any(), "relu(-0.0) is +0.0, as in torch"


@pytest.mark.parametrize("name", sorted(UNARY))
def test_every_tail_length_matches_the_long_run(name, rng):
    # Lengths 0..70 cover the masked/padded tails of the 8-, 16- and 32-lane
    # loops; an elementwise kernel must give each element the same bits
    # whatever the length around it.
    fn = UNARY[name][0]
    x = rng.uniform(-20, 20, size=70).astype(np.float32)
    if name == "log":
        x = np.abs(x)
    full = _gn_apply(fn, x)
    for n in range(0, 71):
        np.testing.assert_array_equal(_gn_apply(fn, x[:n].copy()), full[:n], err_msg=f"length {n}")


@pytest.mark.parametrize("name", sorted(UNARY))
def test_threads_and_layouts_agree(name, rng):
    fn = UNARY[name][0]
    x = rng.uniform(-30, 30, size=(1024, 1031)).astype(np.float32)
    if name == "log":
        x = np.abs(x)
    before = gn.get_num_threads()
    try:
        gn.set_num_threads(1)
        one = _gn_apply(fn, x)
        gn.set_num_threads(2)
        two = _gn_apply(fn, x)
        # A transposed view runs the portable strided loop instead of SIMD.
        strided = fn(gn.from_numpy(x.T.copy()).transpose(0, 1)).numpy()
    finally:
        gn.set_num_threads(before)
    np.testing.assert_array_equal(one, two)
    _check_close(name, x.ravel(), one.ravel())
    _check_close(name, x.ravel(), strided.ravel())


@pytest.mark.parametrize("name", ["exp", "log", "tanh", "sigmoid", "silu", "relu"])
def test_float64_stays_accurate(name, rng):
    fn, ref, _ = UNARY[name]
    x = rng.uniform(-30, 30, size=100_003)
    if name == "log":
        x = np.abs(x) + 1e-300
    got = fn(gn.from_numpy(x)).numpy()
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, ref(x), rtol=1e-14, atol=1e-300)


# ---- GELU (exact, from an erfc fit, and the tanh form), forward and backward ----
# Measured against float64, the exact form's relative error is ≤ 1.2e-6 for
# |x| < 3 (about 15 ulp at worst, at x ≈ -2.85) and ≤ 6.3e-6 out to -9, where
# the values are below 1e-18 (the float32 rounding of x² or u moves exp's
# argument): far below float32 torch's own, whose 1 + erf(x/√2) cancels in
# the negative tail. The tanh form, computed as x·σ(2u), does not cancel either.

def _gelu64(x):
    erfc = np.frompyfunc(math.erfc, 1, 1)
    z = np.abs(x) / np.sqrt(2.0)
    half_erfc = 0.5 * erfc(z).astype(np.float64)
    cdf = np.where(x < 0, half_erfc, 1.0 - half_erfc)
    pdf = np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)
    return x * cdf, cdf + x * pdf


def _gelu_tanh64(x):
    # ½·x·(1 + tanh(u)) = x·σ(2u): the second form keeps float64 exact in the tail too.
    k = np.sqrt(2 / np.pi)
    with np.errstate(over="ignore"):
        s = 1.0 / (1.0 + np.exp(-2 * k * (x + 0.044715 * x ** 3)))
    return x * s, s + x * s * (1 - s) * 2 * k * (1 + 3 * 0.044715 * x * x)


GELU = {"exact": (None, _gelu64), "tanh": ("tanh", _gelu_tanh64)}


def _gelu_value_and_grad(x, approximate):
    t = gn.from_numpy(x.copy()).requires_grad_()
    y = F.gelu(t, approximate=approximate or "none")
    y.backward(gn.ones_like(y))
    return y.detach().numpy(), t.grad.numpy()


@pytest.mark.parametrize("form", sorted(GELU))
def test_gelu_forward_and_grad_match_float64(form, threads):
    approximate, ref_fn = GELU[form]
    x = np.linspace(-9, 9, 400_003).astype(np.float32)
    y, g = _gelu_value_and_grad(x, approximate)
    ref_y, ref_g = ref_fn(x.astype(np.float64))
    core = np.abs(x) < 3
    np.testing.assert_allclose(y[core], ref_y[core], rtol=1.5e-6, atol=1e-30)
    np.testing.assert_allclose(y, ref_y, rtol=1e-5, atol=1e-30)
    np.testing.assert_allclose(g, ref_g, rtol=2e-6, atol=2e-7)


@pytest.mark.parametrize("form", sorted(GELU))
def test_gelu_tails_and_specials(form, rng):
    approximate, _ = GELU[form]
    x = rng.uniform(-20, 20, size=70).astype(np.float32)
    full_y, full_g = _gelu_value_and_grad(x, approximate)
    for n in (1, 7, 8, 9, 15, 16, 17, 31, 33, 69):
        y, g = _gelu_value_and_grad(x[:n], approximate)
        np.testing.assert_array_equal(y, full_y[:n], err_msg=f"length {n}")
        np.testing.assert_array_equal(g, full_g[:n], err_msg=f"length {n}")
    specials = np.array([np.nan, 0.0, -0.0, np.inf, 40.0, -40.0] * 3, np.float32)
    y, _ = _gelu_value_and_grad(specials, approximate)
    assert np.isnan(y[0]) and y[3] == np.inf and y[4] == 40.0
    assert y[1] == 0 and np.signbit(y[2]) and y[5] == 0  # -0 stays -0; the far tail is ±0


def test_gelu_strided_and_broadcast_grads_use_the_same_maths(rng):
    # A transposed input and a broadcast gradient take the portable loops.
    x = rng.uniform(-6, 6, size=(64, 33)).astype(np.float32)
    contiguous = F.gelu(gn.from_numpy(x)).numpy()
    strided = F.gelu(gn.from_numpy(x.T.copy()).transpose(0, 1)).numpy()
    np.testing.assert_allclose(strided, contiguous, rtol=2e-6, atol=1e-7)


# ---- binary ops: IEEE add/sub/mul/div round once, so float32 results must
# equal numpy's bit for bit ----------------------------------------------------

BINARY = {
    "add": (lambda a, b: a + b, np.add),
    "sub": (lambda a, b: a - b, np.subtract),
    "mul": (lambda a, b: a * b, np.multiply),
    "div": (lambda a, b: a / b, np.divide),
}

SPECIALS = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, TINY, FLT_MAX, -FLT_MAX, 1.0, -3.5], np.float32)


def _operands(rng, shape):
    a = rng.standard_normal(shape).astype(np.float32)
    b = rng.standard_normal(shape).astype(np.float32)
    flat_a, flat_b = a.reshape(-1), b.reshape(-1)
    k = min(flat_a.size, SPECIALS.size)
    flat_a[:k] = SPECIALS[:k]
    flat_b[:k] = SPECIALS[::-1][:k]
    return a, b


def _assert_same_bits(got, want):
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got.view(np.uint32) if got.dtype == np.float32 else got,
                                  want.view(np.uint32) if want.dtype == np.float32 else want)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_contiguous_every_length(name, rng):
    g, ref = BINARY[name]
    for n in list(range(0, 70)) + [1 << 20, (1 << 20) + 5]:
        a, b = _operands(rng, (n,))
        with np.errstate(all="ignore"):
            want = ref(a, b)
        _assert_same_bits(g(gn.from_numpy(a), gn.from_numpy(b)).numpy(), want)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_with_scalars_and_broadcasts(name, rng, threads):
    g, ref = BINARY[name]
    a, b = _operands(rng, (517, 263))
    ga, gb = gn.from_numpy(a), gn.from_numpy(b)
    s = np.float32(1.75)
    with np.errstate(all="ignore"):
        cases = [
            (g(ga, 1.75), ref(a, s)),                                # tensor op python scalar
            (g(1.75, ga), ref(s, a)),                                # python scalar op tensor
            (g(ga, gn.tensor(1.75)), ref(a, s)),                     # tensor op 0-d tensor
            (g(ga, gb[:, :1]), ref(a, b[:, :1])),                    # column broadcast
            (g(ga[:1], gb), ref(a[:1], b)),                          # row broadcast
            (g(ga[:, 5:9], gb[0, :4]), ref(a[:, 5:9], b[0, :4])),    # short rows, offset views
            (g(ga.transpose(0, 1), gb.transpose(0, 1)), ref(a.T, b.T)),  # strided loop
            (g(ga[:1, :1], gb[:1, :1]), ref(a[:1, :1], b[:1, :1])),  # a single element
        ]
    for got, want in cases:
        _assert_same_bits(got.numpy(), np.ascontiguousarray(want))


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_in_place(name, rng, threads):
    g, ref = BINARY[name]
    a, b = _operands(rng, (300_001,))
    with np.errstate(all="ignore"):
        want_tensor = ref(a, b)
        want_scalar = ref(a, np.float32(0.3))
        want_overlap = ref(a[1:], a[:-1])
    ops = {"add": "__iadd__", "sub": "__isub__", "mul": "__imul__", "div": "__itruediv__"}
    t = gn.from_numpy(a.copy())
    getattr(t, ops[name])(gn.from_numpy(b))
    _assert_same_bits(t.numpy(), want_tensor)
    t = gn.from_numpy(a.copy())
    getattr(t, ops[name])(0.3)
    _assert_same_bits(t.numpy(), want_scalar)
    # Reading a shifted view of the tensor being written must see old values.
    t = gn.from_numpy(a.copy())
    view = t[1:]
    getattr(view, ops[name])(t[:-1])
    _assert_same_bits(t.numpy()[1:], want_overlap)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_float64_unchanged(name, rng):
    g, ref = BINARY[name]
    a = rng.standard_normal(100_003)
    b = rng.standard_normal(100_003)
    np.testing.assert_array_equal(g(gn.from_numpy(a), gn.from_numpy(b)).numpy(), ref(a, b))
    np.testing.assert_array_equal(g(gn.from_numpy(a), 0.3).numpy(), ref(a, 0.3))


# ---- copies --------------------------------------------------------------------

@pytest.mark.parametrize("n", [0, 1, 17, 65_536, (1 << 20) + 7])
def test_clone_and_copy_contiguous(n, rng, threads):
    x = rng.standard_normal(n + 3).astype(np.float32)
    src = gn.from_numpy(x)[3:]  # contiguous with a storage offset
    c = src.clone()
    np.testing.assert_array_equal(c.numpy(), x[3:])
    c.add_(1.0)  # a real copy: the source is untouched
    np.testing.assert_array_equal(src.numpy(), x[3:])
    dst = gn.zeros(n)
    dst.copy_(src)
    np.testing.assert_array_equal(dst.numpy(), x[3:])
    d64 = gn.zeros(n, dtype=gn.float64)
    d64.copy_(src)  # a cast goes through the element loop
    np.testing.assert_array_equal(d64.numpy(), x[3:].astype(np.float64))


def test_copy_of_views_and_overlap(rng, threads):
    x = rng.standard_normal((700, 900)).astype(np.float32)
    t = gn.from_numpy(x)
    np.testing.assert_array_equal(t.transpose(0, 1).clone().numpy(), x.T)
    dst = gn.zeros(700, 900)
    dst.copy_(t[0])  # broadcast source
    np.testing.assert_array_equal(dst.numpy(), np.broadcast_to(x[0], x.shape))
    flat = gn.from_numpy(x.reshape(-1).copy())
    flat[1:].copy_(flat[:-1])  # overlapping shift reads a snapshot
    np.testing.assert_array_equal(flat.numpy()[1:], x.reshape(-1)[:-1])
