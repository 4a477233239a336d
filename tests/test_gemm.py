"""The GEMM behind every matrix product, checked against numpy in float64.

The C++ driver picks among kernels (AVX-512 small-problem kernel, AVX2
packed kernel, portable) and paths by shape, so the sizes here straddle every
tile edge (1..300, primes, 1×N, N×1, K = 1), every operand is also given as a
transposed, strided or offset view (the kernels read strides directly, no
copies), and the entry points are the ones the library uses: gn.matmul and
_C.matmul, _C.linear (x·Wᵀ + b), _C.mm_tn (gᵀ·x), _C.mm_nt (g·Wᵀ), _C.addmm.
tests/cpp/test_gemm.cpp covers the kernels' own contract (alpha, beta, C
strides, epilogue) edge tile by edge tile.
"""
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassnet as gn

DTYPES = [np.float32, np.float64]
SIZES = [1, 2, 3, 7, 8, 9, 10, 13, 16, 17, 31, 32, 33, 61, 64, 97, 127, 128, 257, 293, 300]


def _tol(dtype, k):
    # Entries are in [-1, 1]: a dot product of length k is at most k in size
    # and its rounding error a few eps·k.
    return 8 * np.finfo(dtype).eps * (k + 1)


def _np(t):
    return t.numpy() if isinstance(t, gn.Tensor) else gn.Tensor._wrap(t).numpy()


def _rand(rng, shape, dtype):
    return rng.uniform(-1, 1, size=shape).astype(dtype)


def _check(got, want64, dtype, k):
    got = _np(got)
    assert got.dtype == dtype
    assert got.shape == want64.shape
    np.testing.assert_allclose(got.astype(np.float64), want64, rtol=0, atol=_tol(dtype, k))


def _operand(rng, rows, cols, dtype, form):
    """A rows×cols operand as a glassnet view of the given form and its float64 value.

    form: "plain" (contiguous), "t" (the .t() of a cols×rows tensor),
    "strided" (every other column of a wider tensor, offset by one row),
    "t_strided" (the .t() of a strided view)."""
    if form == "plain":
        x = _rand(rng, (rows, cols), dtype)
        return gn.from_numpy(x), x.astype(np.float64)
    if form == "t":
        x = _rand(rng, (cols, rows), dtype)
        return gn.from_numpy(x).t(), x.T.astype(np.float64)
    if form == "strided":
        x = _rand(rng, (rows + 1, 2 * cols + 1), dtype)
        return gn.from_numpy(x)[1:, 1::2], x[1:, 1::2].astype(np.float64)
    x = _rand(rng, (cols + 1, 2 * rows), dtype)
    return gn.from_numpy(x)[1:, ::2].t(), x[1:, ::2].T.astype(np.float64)


FORMS = ["plain", "t", "strided", "t_strided"]


@pytest.fixture(params=[1, 2], ids=["1thread", "2threads"])
def threads(request):
    old = gn.get_num_threads()
    gn.set_num_threads(request.param)
    yield request.param
    gn.set_num_threads(old)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m,k,n", [(m, k, n) for m in (1, 8, 9, 33, 300) for k in (1, 17, 128)
                                   for n in (1, 10, 16, 31, 32, 33, 257)])
def test_matmul_sizes_across_tile_edges(rng, threads, dtype, m, k, n):
    a, a64 = _operand(rng, m, k, dtype, "plain")
    b, b64 = _operand(rng, k, n, dtype, "plain")
    _check(gn.matmul(a, b), a64 @ b64, dtype, k)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("fa", FORMS)
@pytest.mark.parametrize("fb", FORMS)
@pytest.mark.parametrize("m,k,n", [(32, 128, 10), (7, 1, 13), (61, 97, 33), (257, 64, 127)])
def test_matmul_every_transpose_and_view(rng, threads, dtype, fa, fb, m, k, n):
    a, a64 = _operand(rng, m, k, dtype, fa)
    b, b64 = _operand(rng, k, n, dtype, fb)
    _check(gn.matmul(a, b), a64 @ b64, dtype, k)
    _check(gn._C.matmul(a._impl, b._impl), a64 @ b64, dtype, k)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("fx", FORMS)
@pytest.mark.parametrize("fw", ["plain", "strided"])
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("batch,inp,out", [(32, 64, 256), (32, 128, 10), (64, 784, 256), (1, 3, 1),
                                           (256, 1024, 33), (5, 300, 1)])
def test_linear_forward(rng, threads, dtype, fx, fw, bias, batch, inp, out):
    x, x64 = _operand(rng, batch, inp, dtype, fx)
    w, w64 = _operand(rng, out, inp, dtype, fw)
    want = x64 @ w64.T
    b = None
    if bias:
        b64 = _rand(rng, (out,), dtype)
        b = gn.from_numpy(b64)
        want = want + b64.astype(np.float64)
    _check(gn._C.linear(x._impl, w._impl, None if b is None else b._impl), want, dtype, inp)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch,inp,out", [(32, 64, 256), (32, 128, 10), (256, 1024, 64),
                                           (4096, 784, 16), (1, 5, 7), (97, 1, 3)])
def test_weight_and_input_gradient_forms(rng, threads, dtype, batch, inp, out):
    # gᵀ·x (TN, the weight gradient) and g·W (NN, the input gradient), and
    # g·Wᵀ through mm_nt with W stored (in, out).
    g64, x64 = _rand(rng, (batch, out), dtype), _rand(rng, (batch, inp), dtype)
    w64 = _rand(rng, (out, inp), dtype)
    g, x, w = gn.from_numpy(g64), gn.from_numpy(x64), gn.from_numpy(w64)
    g64, x64, w64 = (v.astype(np.float64) for v in (g64, x64, w64))
    _check(gn._C.mm_tn(g._impl, x._impl), g64.T @ x64, dtype, batch)
    _check(gn._C.matmul(g._impl, w._impl), g64 @ w64, dtype, out)
    wt = gn.from_numpy(np.ascontiguousarray(w64.T).astype(dtype))
    _check(gn._C.mm_nt(g._impl, wt._impl), g64 @ w64, dtype, out)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("input_shape", [(10,), (1, 10), (32, 10), (32, 1), (1, 1), ()])
@pytest.mark.parametrize("beta,alpha", [(1.0, 1.0), (0.5, 2.0), (0.0, 1.0)])
def test_addmm(rng, dtype, input_shape, beta, alpha):
    a64, b64 = _rand(rng, (32, 128), dtype), _rand(rng, (128, 10), dtype)
    i64 = _rand(rng, input_shape, dtype)
    out = gn._C.addmm(gn.from_numpy(i64)._impl, gn.from_numpy(a64)._impl, gn.from_numpy(b64)._impl,
                      beta=beta, alpha=alpha)
    want = beta * i64.astype(np.float64) + alpha * (a64.astype(np.float64) @ b64.astype(np.float64))
    _check(out, want, dtype, 2 * 128)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sa,sb", [((4, 9, 17), (17, 10)), ((2, 1, 33, 8), (3, 8, 31)), ((17,), (3, 17, 5)),
                                   ((6, 5, 2), (2,)), ((3, 1, 1), (1, 1, 4)), ((17,), (17,)),
                                   ((33,), (33, 10)), ((10, 33), (33,))])
def test_batched_broadcasting(rng, threads, dtype, sa, sb):
    a64, b64 = _rand(rng, sa, dtype), _rand(rng, sb, dtype)
    got = gn.matmul(gn.from_numpy(a64), gn.from_numpy(b64))
    _check(got, np.matmul(a64.astype(np.float64), b64.astype(np.float64)), dtype, sa[-1])


@pytest.mark.parametrize("dtype", DTYPES)
def test_batched_transposed_views(rng, dtype):
    a64, b64 = _rand(rng, (3, 40, 9), dtype), _rand(rng, (3, 33, 40), dtype)
    a, b = gn.from_numpy(a64), gn.from_numpy(b64)
    got = gn.matmul(a.transpose(1, 2), b.transpose(1, 2))
    want = np.matmul(a64.transpose(0, 2, 1).astype(np.float64), b64.transpose(0, 2, 1).astype(np.float64))
    _check(got, want, dtype, 40)


@settings(max_examples=60, deadline=None)
@given(m=st.integers(1, 300), k=st.integers(1, 300), n=st.integers(1, 300),
       fa=st.sampled_from(FORMS), fb=st.sampled_from(FORMS), f64=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_matmul_hypothesis_shapes(m, k, n, fa, fb, f64, seed):
    dtype = np.float64 if f64 else np.float32
    rng = np.random.default_rng(seed)
    a, a64 = _operand(rng, m, k, dtype, fa)
    b, b64 = _operand(rng, k, n, dtype, fb)
    _check(gn.matmul(a, b), a64 @ b64, dtype, k)


@settings(max_examples=30, deadline=None)
@given(batch=st.integers(1, 260), inp=st.integers(1, 300), out=st.integers(1, 70), seed=st.integers(0, 2**32 - 1))
def test_linear_hypothesis_shapes(batch, inp, out, seed):
    rng = np.random.default_rng(seed)
    x64, w64, b64 = _rand(rng, (batch, inp), np.float32), _rand(rng, (out, inp), np.float32), _rand(rng, (out,), np.float32)
    got = gn._C.linear(gn.from_numpy(x64)._impl, gn.from_numpy(w64)._impl, gn.from_numpy(b64)._impl)
    want = x64.astype(np.float64) @ w64.T.astype(np.float64) + b64.astype(np.float64)
    _check(got, want, np.float32, inp)


def test_size_zero_dims(rng):
    for sa, sb in [((0, 5), (5, 3)), ((4, 0), (0, 3)), ((4, 5), (5, 0))]:
        got = gn.matmul(gn.from_numpy(_rand(rng, sa, np.float32)), gn.from_numpy(_rand(rng, sb, np.float32)))
        assert tuple(got.shape) == (sa[0], sb[1])
        np.testing.assert_array_equal(got.numpy(), np.zeros((sa[0], sb[1]), np.float32))


_OTHER_KERNEL_SCRIPT = r"""
import numpy as np, glassnet as gn
rng = np.random.default_rng(0)
for m, k, n in [(32, 128, 10), (32, 64, 256), (9, 17, 33), (300, 61, 127)]:
    for dtype in (np.float32, np.float64):
        a, b = rng.uniform(-1, 1, (k, m)).astype(dtype), rng.uniform(-1, 1, (n, k)).astype(dtype)
        got = (gn.from_numpy(a).t() @ gn.from_numpy(b).t()).numpy().astype(np.float64)
        want = a.T.astype(np.float64) @ b.T.astype(np.float64)
        assert np.abs(got - want).max() <= 8 * np.finfo(dtype).eps * (k + 1), (m, k, n, dtype)
print(gn._C.gemm_kernel_name())
"""


@pytest.mark.parametrize("kernel", ["avx2", "portable"])
def test_other_kernels_in_subprocess(kernel):
    # The kernel is picked once per process: GLASSNET_GEMM_KERNEL forces the
    # AVX2-only or the portable one in a fresh interpreter.
    env = dict(os.environ, GLASSNET_GEMM_KERNEL=kernel)
    res = subprocess.run([sys.executable, "-c", _OTHER_KERNEL_SCRIPT], env=env, capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    assert "avx512" not in res.stdout


def test_matmul_operator_records_the_graph_only_when_needed():
    # a @ b takes a shortcut past autograd when nothing needs a gradient;
    # it must still record the graph whenever an operand does.
    rng = np.random.default_rng(3)
    an, bn = rng.standard_normal((5, 4)), rng.standard_normal((4, 3))
    a, b = gn.from_numpy(an), gn.from_numpy(bn)
    plain = a @ b
    assert plain.grad_fn is None and not plain.requires_grad
    np.testing.assert_allclose(plain.numpy(), an @ bn, rtol=1e-12)
    b.requires_grad_()
    out = a @ b
    assert out.requires_grad
    out.sum().backward()
    np.testing.assert_allclose(b.grad.numpy(), an.T @ np.ones((5, 3)), rtol=1e-12)
    with gn.no_grad():
        assert (a @ b).grad_fn is None
    h = (a @ b) * 2.0  # an operand with a grad_fn but no requires_grad flag of its own
    out2 = h @ gn.from_numpy(np.ones((3, 2)))
    assert out2.grad_fn is not None
    w = gn.nn.Parameter(gn.from_numpy(bn))  # a Tensor subclass on the right
    out3 = a @ w
    out3.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), an.T @ np.ones((5, 3)), rtol=1e-12)
    with pytest.raises(TypeError, match=r"\[matmul\]"):
        gn.matmul(a, an)
