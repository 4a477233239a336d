"""F.scaled_dot_product_attention (the fused kernel) against torch: outputs and
every input gradient, float32 and float64, with masks, causality, scale,
L ≠ S, broadcasting, non-contiguous views and size-0/1 dims; dropout against
the unfused route with the kernel's own decisions; gradcheck; linear memory;
bad input. (nn.MultiheadAttention: test_nn_multihead_attention.py.)"""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import glassnet as gn
import glassnet.nn.functional as F
from glassnet.nn._functional.attention import _attention_math, _dropout_keep
from nn_parity import parity

torch = pytest.importorskip("torch")
TF = torch.nn.functional

DTYPES = [np.float32, np.float64]


def _sdpa_case(rng, dtype, qs, ks, vs, mask=None, causal=False, scale=None, views=None):
    arrays = [rng.standard_normal(qs).astype(dtype), rng.standard_normal(ks).astype(dtype),
              rng.standard_normal(vs).astype(dtype)]
    if mask is not None:
        arrays.append(mask)

    def g(q, k, v, m=None):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=m, is_causal=causal, scale=scale)

    def t(q, k, v, m=None):
        return TF.scaled_dot_product_attention(q, k, v, attn_mask=m, is_causal=causal, scale=scale)

    grads = [True, True, True] + ([mask.dtype != np.bool_] if mask is not None else [])
    return parity(g, t, arrays, dtype, rng, grads=grads, views=views)


SHAPES = {
    "4d": ((2, 3, 5, 8), (2, 3, 7, 8), (2, 3, 7, 6)),
    "3d": ((4, 5, 8), (4, 9, 8), (4, 9, 8)),
    "2d": ((5, 4), (6, 4), (6, 3)),
    "broadcast_batch": ((2, 3, 5, 8), (1, 3, 7, 8), (3, 7, 6)),
    "size1": ((1, 1, 1, 1), (1, 1, 1, 1), (1, 1, 1, 1)),
    "L1": ((2, 1, 8), (2, 7, 8), (2, 7, 2)),
    "S1": ((2, 5, 8), (2, 1, 8), (2, 1, 8)),
    "blocks": ((1, 2, 150, 16), (1, 2, 300, 16), (1, 2, 300, 12)),  # several query and key blocks
    "5d": ((2, 1, 2, 3, 4), (2, 3, 2, 5, 4), (1, 3, 2, 5, 4)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(SHAPES))
def test_sdpa_shapes(rng, dtype, name):
    _sdpa_case(rng, dtype, *SHAPES[name])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["4d", "blocks", "2d", "L1", "S1"])
@pytest.mark.parametrize("L_vs_S", ["same", "as_given"])
def test_sdpa_causal(rng, dtype, name, L_vs_S):
    qs, ks, vs = SHAPES[name]
    if L_vs_S == "same":
        ks, vs = ks[:-2] + (qs[-2],) + ks[-1:], vs[:-2] + (qs[-2],) + vs[-1:]
    _sdpa_case(rng, dtype, qs, ks, vs, causal=True)


def _bool_mask(rng, shape, dead_row=False):
    m = rng.random(shape) < 0.7
    m[..., 0] = True  # every row sees a key
    if dead_row:
        m[..., 1, :] = False  # ... but this one: torch and glassnet give zeros there
    return m


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mask_shape", [(5, 7), (2, 1, 5, 7), (2, 3, 5, 7), (1, 1, 1, 7), (3, 5, 1)])
@pytest.mark.parametrize("kind", ["bool", "bool_dead_row", "float", "float_inf"])
def test_sdpa_masks(rng, dtype, mask_shape, kind):
    if kind.startswith("bool"):
        if len(mask_shape) < 2 or mask_shape[-2] == 1:
            kind = "bool"  # a broadcast row dim can't hold one dead row
        mask = _bool_mask(rng, mask_shape, dead_row=kind == "bool_dead_row")
    else:
        mask = rng.standard_normal(mask_shape).astype(dtype)
        if kind == "float_inf":
            mask[rng.random(mask_shape) < 0.3] = -np.inf
            mask[..., 0] = 0.0
    _sdpa_case(rng, dtype, *SHAPES["4d"], mask=mask)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sdpa_mask_across_blocks(rng, dtype):
    qs, ks, vs = SHAPES["blocks"]
    _sdpa_case(rng, dtype, qs, ks, vs, mask=_bool_mask(rng, (150, 300), dead_row=True))
    _sdpa_case(rng, dtype, qs, ks, vs, mask=rng.standard_normal((1, 2, 150, 300)).astype(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scale", [0.3, 2.0, -0.5])
def test_sdpa_scale(rng, dtype, scale):
    _sdpa_case(rng, dtype, *SHAPES["4d"], scale=scale)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sdpa_non_contiguous(rng, dtype):
    # Heads split out of (N, L, H, E): strided batch and rows, unit-stride features.
    heads = lambda t: t.transpose(1, 2)  # noqa: E731
    _sdpa_case(rng, dtype, (2, 5, 3, 8), (2, 7, 3, 8), (2, 7, 3, 6), views=[heads] * 3)
    # Features not unit-stride (the kernel copies those), and a mask view.
    swap = lambda t: t.transpose(-1, -2)  # noqa: E731
    _sdpa_case(rng, dtype, (2, 8, 5), (2, 8, 7), (2, 6, 7), mask=rng.standard_normal((2, 7, 5)).astype(dtype),
               views=[swap] * 4)
    # A strided slice of every other row.
    rows = lambda t: t[:, ::2]  # noqa: E731
    _sdpa_case(rng, dtype, (2, 10, 4), (2, 14, 4), (2, 14, 4), views=[rows] * 3)


@pytest.mark.parametrize("threads", [1, 3, 4])
def test_sdpa_threads(rng, threads):
    """The backward's per-thread dQ buffers: one batch entry's key blocks
    split across thread groups must still sum to torch's gradient."""
    before = gn.get_num_threads()
    gn.set_num_threads(threads)
    try:
        for shapes in [((1, 1, 150, 16), (1, 1, 300, 16), (1, 1, 300, 8)),
                       ((3, 70, 16), (3, 520, 16), (3, 520, 16))]:
            _sdpa_case(rng, np.float64, *shapes)
            _sdpa_case(rng, np.float64, *shapes, causal=True)
    finally:
        gn.set_num_threads(before)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sdpa_empty(rng, dtype):
    for qs, ks in [((2, 0, 4), (2, 3, 4)), ((0, 5, 4), (0, 3, 4)), ((2, 5, 4), (2, 0, 4))]:
        q = gn.tensor(rng.standard_normal(qs).astype(dtype), requires_grad=True)
        k = gn.tensor(rng.standard_normal(ks).astype(dtype), requires_grad=True)
        v = gn.tensor(rng.standard_normal(ks).astype(dtype), requires_grad=True)
        out = F.scaled_dot_product_attention(q, k, v)
        ref = TF.scaled_dot_product_attention(torch.tensor(q.detach().numpy()), torch.tensor(k.detach().numpy()),
                                              torch.tensor(v.detach().numpy()))
        assert tuple(out.shape) == tuple(ref.shape)
        np.testing.assert_array_equal(out.detach().numpy(), ref.numpy())
        out.sum().backward()
        assert q.grad.shape == q.shape and not np.any(q.grad.numpy())


@pytest.mark.parametrize("dtype", DTYPES)
def test_sdpa_same_tensor_thrice(rng, dtype):
    """q = k = v one tensor: the three gradients add up in it."""
    x = rng.standard_normal((2, 3, 6, 4)).astype(dtype)
    parity(lambda t: F.scaled_dot_product_attention(t, t, t, is_causal=True),
           lambda t: TF.scaled_dot_product_attention(t, t, t, is_causal=True), [x], dtype, rng)


def test_sdpa_output_layout_is_head_major(rng):
    """With (N, H, L, E) inputs the output is stored as (N, L, H, E), so merging
    the heads is a free view."""
    q = gn.tensor(rng.standard_normal((2, 3, 5, 4)).astype(np.float32))
    out = F.scaled_dot_product_attention(q, q, q)
    assert out.transpose(1, 2).is_contiguous()
    assert not out.is_contiguous()


def test_sdpa_gradcheck(rng):
    q = gn.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    k = gn.tensor(rng.standard_normal((2, 5, 4)), requires_grad=True)
    v = gn.tensor(rng.standard_normal((2, 5, 3)), requires_grad=True)
    m = gn.tensor(rng.standard_normal((3, 5)), requires_grad=True)
    assert gn.autograd.gradcheck(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
                                 (q, k, v, m))
    assert gn.autograd.gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True), (q, k, v))


def test_sdpa_double_backward(rng):
    arrays = [rng.standard_normal(s) for s in ((2, 3, 4), (2, 5, 4), (2, 5, 3))]
    g = [gn.tensor(a, requires_grad=True) for a in arrays]
    t = [torch.tensor(a, requires_grad=True) for a in arrays]
    gq, = gn.autograd.grad(F.scaled_dot_product_attention(*g).pow(2).sum(), g[0], create_graph=True)
    tq, = torch.autograd.grad(TF.scaled_dot_product_attention(*t).pow(2).sum(), t[0], create_graph=True)
    np.testing.assert_allclose(gq.detach().numpy(), tq.detach().numpy(), rtol=1e-10, atol=1e-12)
    gq.sum().backward()
    tq.sum().backward()
    for a, b in zip(g, t):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-11)


def test_sdpa_gqa(rng):
    q = rng.standard_normal((2, 6, 5, 4))
    k = rng.standard_normal((2, 2, 7, 4))
    v = rng.standard_normal((2, 2, 7, 3))
    parity(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, enable_gqa=True),
           lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, enable_gqa=True), [q, k, v], np.float64, rng)


# ---- dropout ------------------------------------------------------------------

def _dropout_run(rng, dtype, p, causal=False, mask=None, shape=(2, 3, 70, 8), S=140):
    q = gn.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)
    k = gn.tensor(rng.standard_normal(shape[:-2] + (S, shape[-1])).astype(dtype), requires_grad=True)
    v = gn.tensor(rng.standard_normal(shape[:-2] + (S, 5)).astype(dtype), requires_grad=True)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p, is_causal=causal)
    return q, k, v, out


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("causal", [False, True])
def test_sdpa_dropout_matches_unfused(rng, dtype, causal):
    """The fused kernel's dropout equals the unfused route with the same keep
    decisions, forward and backward (the backward regenerates them)."""
    p = 0.3
    mask = None if causal else gn.tensor(_bool_mask(rng, (70, 140)))
    q, k, v, out = _dropout_run(rng, dtype, p, causal, mask)
    scale, _, _, seed, offset = out.grad_fn.args
    keep = _dropout_keep((2, 3), 70, 140, p, seed, offset)
    frac = keep.numpy().mean()
    assert abs(frac - (1 - p)) < 0.01, frac
    q2, k2, v2 = (t.detach().requires_grad_() for t in (q, k, v))
    ref = _attention_math(q2, k2, v2, mask, 1 / np.sqrt(8), causal, keep, p)
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), **tol)
    w = gn.tensor(rng.standard_normal(tuple(out.shape)).astype(dtype))
    out.backward(w)
    ref.backward(w)
    for a, b in ((q, q2), (k, k2), (v, v2)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), **tol)


def test_sdpa_dropout_stream():
    """Dropout draws from gn.manual_seed's stream: same seed, same output;
    a second call moves on to new decisions."""
    rng = np.random.default_rng(0)
    args = [gn.tensor(rng.standard_normal((1, 2, 9, 4)).astype(np.float32)) for _ in range(3)]
    gn.manual_seed(3)
    a = F.scaled_dot_product_attention(*args, dropout_p=0.5).numpy()
    b = F.scaled_dot_product_attention(*args, dropout_p=0.5).numpy()
    gn.manual_seed(3)
    c = F.scaled_dot_product_attention(*args, dropout_p=0.5).numpy()
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, b)
    full = F.scaled_dot_product_attention(*args).numpy()
    assert not np.allclose(a, full)
    np.testing.assert_array_equal(F.scaled_dot_product_attention(*args, dropout_p=1.0).numpy(), 0 * full)


def test_sdpa_dropout_gradcheck(rng):
    q, k, v = (gn.tensor(rng.standard_normal(s), requires_grad=True) for s in ((2, 3, 4), (2, 5, 4), (2, 5, 3)))

    def fn(q, k, v):
        gn.manual_seed(5)  # the same decisions on every evaluation
        return F.scaled_dot_product_attention(q, k, v, dropout_p=0.4)

    assert gn.autograd.gradcheck(fn, (q, k, v))


# ---- memory ---------------------------------------------------------------------

def test_sdpa_memory_is_linear_in_length():
    """Forward and backward at L = S = 4096 with one head: the 64 MiB float32
    score matrix would show in the peak RSS; the blocked kernel adds a few
    MiB (outputs, gradients, per-thread blocks)."""
    code = textwrap.dedent("""
        import numpy as np, glassnet as gn
        import glassnet.nn.functional as F
        def status(key):
            for line in open("/proc/self/status"):
                if line.startswith(key):
                    return int(line.split()[1]) / 1024
        rng = np.random.default_rng(0)
        q, k, v = (gn.from_numpy(rng.standard_normal((1, 1, 4096, 32), dtype=np.float32)).requires_grad_()
                   for _ in range(3))
        F.scaled_dot_product_attention(q[..., :64, :], k, v).sum().backward()  # warm up
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # peak RSS := current RSS
        base = status("VmRSS:")
        out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        out.sum().backward()
        print(status("VmHWM:") - base)
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    if r.returncode != 0 and "clear_refs" in r.stderr:
        pytest.skip("needs Linux's /proc/self/clear_refs to reset the peak RSS")
    assert r.returncode == 0, r.stderr
    grown_mib = float(r.stdout.strip())
    assert 0.5 < grown_mib < 24, grown_mib


# ---- bad input --------------------------------------------------------------------

def _t(*shape, dtype=np.float32):
    return gn.tensor(np.zeros(shape, dtype=dtype))


@pytest.mark.parametrize("args,kwargs,exc,words", [
    ((_t(2, 5, 8), _t(2, 7, 6), _t(2, 7, 6)), {}, ValueError, ["(2, 5, 8)", "(2, 7, 6)"]),
    ((_t(2, 5, 8), _t(2, 7, 8), _t(2, 6, 8)), {}, ValueError, ["(2, 7, 8)", "(2, 6, 8)"]),
    ((_t(2, 5, 8), _t(3, 7, 8), _t(3, 7, 8)), {}, ValueError, ["scaled_dot_product_attention"]),
    ((_t(2, 5, 8), _t(2, 7, 8), _t(2, 7, 8)), {"attn_mask": _t(5, 6)}, ValueError, ["(5, 6)", "(2, 5, 7)"]),
    ((_t(2, 5, 8), _t(2, 7, 8), _t(2, 7, 8)), {"attn_mask": _t(3, 2, 5, 7)}, ValueError, ["(3, 2, 5, 7)"]),
    ((_t(2, 5, 8), _t(2, 7, 8), _t(2, 7, 8)), {"attn_mask": _t(5, 7, dtype=np.int64)}, TypeError, ["int64"]),
    ((_t(2, 5, 8), _t(2, 7, 8), _t(2, 7, 8)), {"attn_mask": _t(5, 7), "is_causal": True}, ValueError,
     ["is_causal"]),
    ((_t(2, 5, 8), _t(2, 7, 8), _t(2, 7, 8)), {"dropout_p": 1.5}, ValueError, ["1.5"]),
    ((_t(2, 5, 8), _t(2, 7, 8, dtype=np.float64), _t(2, 7, 8)), {}, TypeError, ["float64"]),
    ((_t(2, 5, 8, dtype=np.int64),) * 3, {}, TypeError, ["int64"]),
    ((_t(8), _t(8), _t(8)), {}, ValueError, ["(8,)"]),
])
def test_sdpa_bad_input(args, kwargs, exc, words):
    with pytest.raises(exc) as info:
        F.scaled_dot_product_attention(*args, **kwargs)
    for w in words:
        assert w in str(info.value)


def test_sdpa_rejects_non_tensors():
    with pytest.raises(TypeError, match="query"):
        F.scaled_dot_product_attention(np.zeros((2, 2)), _t(2, 2), _t(2, 2))
