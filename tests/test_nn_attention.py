"""F.scaled_dot_product_attention (the fused kernel) and nn.MultiheadAttention
against torch: outputs and every input/parameter gradient, float32 and
float64, with masks, causality, broadcasting, non-contiguous views and size-1
dims; dropout against the unfused route with the kernel's own decisions;
gradcheck; bad input; attention_maps."""
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
    score matrix would show in the peak RSS; the blocked kernel stays far below."""
    code = textwrap.dedent("""
        import resource, numpy as np, glassnet as gn
        import glassnet.nn.functional as F
        n = 4096
        q, k, v = (gn.randn(1, 1, n, 32, requires_grad=True) for _ in range(3))
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        out.sum().backward()
        print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024)
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    grown_mib = float(r.stdout.strip())
    assert grown_mib < 24, grown_mib


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


# ---- MultiheadAttention -------------------------------------------------------------

TORCH_DTYPE = {np.float32: torch.float32, np.float64: torch.float64}
GN_DTYPE = {np.float32: gn.float32, np.float64: gn.float64}
TOL = {np.float32: dict(rtol=2e-4, atol=2e-5), np.float64: dict(rtol=1e-9, atol=1e-11)}


def copy_weights(gmod, tmod):
    """torch's state_dict into the glassnet module (same names, strict)."""
    gmod.load_state_dict({k: gn.tensor(v.detach().numpy()) for k, v in tmod.state_dict().items()})


def check_grads(gmod, tmod, g_inputs, t_inputs, dtype):
    tol = TOL[dtype]
    gp, tp = dict(gmod.named_parameters()), dict(tmod.named_parameters())
    assert set(gp) == set(tp)
    for name, t in tp.items():
        if t.grad is None:
            assert gp[name].grad is None or not np.any(gp[name].grad.numpy()), name
            continue
        np.testing.assert_allclose(gp[name].grad.numpy(), t.grad.numpy(), err_msg=name, **tol)
    for i, (g, t) in enumerate(zip(g_inputs, t_inputs)):
        if t is not None and t.requires_grad:
            np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), err_msg=f"input {i}", **tol)


def mha_parity(rng, dtype, ctor=None, sharing="self", batched=True, kpm=None, attn_mask=None, **call):
    ctor = dict(ctor or {})
    E, H, N, L = ctor.pop("E", 8), ctor.pop("H", 2), 3, 5
    S = L if sharing == "self" else 6
    bf = ctor.get("batch_first", False)
    tmod = torch.nn.MultiheadAttention(E, H, dtype=TORCH_DTYPE[dtype], **ctor)
    gmod = gn.nn.MultiheadAttention(E, H, dtype=GN_DTYPE[dtype], **ctor)
    copy_weights(gmod, tmod)

    def shape(n, d):
        if not batched:
            return (n, d)
        return (N, n, d) if bf else (n, N, d)

    q = rng.standard_normal(shape(L, E)).astype(dtype)
    k = rng.standard_normal(shape(S, ctor.get("kdim") or E)).astype(dtype)
    v = rng.standard_normal(shape(S, ctor.get("vdim") or E)).astype(dtype)
    arrays = {"self": [q], "kv": [q, k], "all": [q, k, v]}[sharing]
    g_in = [gn.tensor(a, requires_grad=True) for a in arrays]
    t_in = [torch.tensor(a, requires_grad=True) for a in arrays]

    def qkv(xs):
        if sharing == "self":
            return xs[0], xs[0], xs[0]
        return (xs[0], xs[1], xs[1]) if sharing == "kv" else tuple(xs)

    def masks(lib):
        out = {}
        for name, m in (("key_padding_mask", kpm), ("attn_mask", attn_mask)):
            if m is not None:
                m = m(N, H, L, S, batched)
                out[name] = gn.tensor(m) if lib == "gn" else torch.tensor(m)
        return out

    g_out, g_w = gmod(*qkv(g_in), **masks("gn"), **call)
    t_out, t_w = tmod(*qkv(t_in), **masks("torch"), **call)
    tol = TOL[dtype]
    assert tuple(g_out.shape) == tuple(t_out.shape)
    np.testing.assert_allclose(g_out.detach().numpy(), t_out.detach().numpy(), **tol)
    assert (g_w is None) == (t_w is None)
    loss_g = (g_out * gn.tensor(w1 := rng.standard_normal(tuple(t_out.shape)).astype(dtype))).sum()
    loss_t = (t_out * torch.tensor(w1)).sum()
    if t_w is not None:
        assert tuple(g_w.shape) == tuple(t_w.shape)
        np.testing.assert_allclose(g_w.detach().numpy(), t_w.detach().numpy(), **tol)
        w2 = rng.standard_normal(tuple(t_w.shape)).astype(dtype)
        loss_g = loss_g + (g_w * gn.tensor(w2)).sum()
        loss_t = loss_t + (t_w * torch.tensor(w2)).sum()
    loss_g.backward()
    loss_t.backward()
    check_grads(gmod, tmod, g_in, t_in, dtype)
    return gmod, tmod


def kpm_bool(N, H, L, S, batched):
    m = np.zeros((N, S) if batched else (S,), dtype=bool)
    m[..., -2:] = True  # padding at the end
    if batched:
        m[0, 1] = True
    return m


def kpm_float(N, H, L, S, batched):
    return np.where(kpm_bool(N, H, L, S, batched), -np.inf, 0.0).astype(np.float64) + 0.1 * np.arange(S)


def mask2d_bool(N, H, L, S, batched):
    return np.triu(np.ones((L, S), dtype=bool), k=1)  # causal-style: True = not allowed


def mask2d_float(N, H, L, S, batched):
    return np.random.default_rng(0).standard_normal((L, S))


def mask3d_bool(N, H, L, S, batched):
    m = np.random.default_rng(1).random(((N if batched else 1) * H, L, S)) < 0.3
    m[..., 0] = False
    return m


def mask3d_float(N, H, L, S, batched):
    return np.random.default_rng(2).standard_normal(((N if batched else 1) * H, L, S))


def _cast_masks(fn, dtype):
    def make(*a):
        m = fn(*a)
        return m if m.dtype == bool else m.astype(dtype)
    return make


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("sharing", ["self", "kv", "all"])
@pytest.mark.parametrize("need_weights,average", [(True, True), (True, False), (False, True)])
def test_mha_basic(rng, dtype, batch_first, sharing, need_weights, average):
    mha_parity(rng, dtype, dict(batch_first=batch_first), sharing=sharing, need_weights=need_weights,
               average_attn_weights=average)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ctor", [dict(bias=False), dict(add_bias_kv=True), dict(add_zero_attn=True),
                                  dict(add_bias_kv=True, add_zero_attn=True), dict(kdim=5, vdim=7),
                                  dict(kdim=5, vdim=7, bias=False, batch_first=True), dict(E=12, H=3),
                                  dict(E=6, H=1)])
@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_options(rng, dtype, ctor, need_weights):
    sharing = "all" if "kdim" in ctor else "self"
    mha_parity(rng, dtype, ctor, sharing=sharing, need_weights=need_weights, kpm=_cast_masks(kpm_float, dtype),
               attn_mask=_cast_masks(mask2d_float, dtype))


def test_mha_mixed_mask_types_warn_as_torch(rng):
    with pytest.warns(UserWarning, match="mismatched key_padding_mask and attn_mask"):
        mha_parity(rng, np.float64, sharing="self", kpm=kpm_bool, attn_mask=mask2d_float, need_weights=False)


MASKS = {"kpm_bool": (kpm_bool, None), "kpm_float": (kpm_float, None), "2d_bool": (None, mask2d_bool),
         "2d_float": (None, mask2d_float), "3d_bool": (None, mask3d_bool), "3d_float": (None, mask3d_float),
         "kpm_bool+3d_bool": (kpm_bool, mask3d_bool), "kpm_float+2d_float": (kpm_float, mask2d_float)}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("masks", list(MASKS))
@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("batched", [True, False])
def test_mha_masks(rng, dtype, masks, need_weights, batched):
    kpm, am = MASKS[masks]
    mha_parity(rng, dtype, dict(batch_first=True), sharing="kv", batched=batched,
               kpm=kpm and _cast_masks(kpm, dtype), attn_mask=am and _cast_masks(am, dtype),
               need_weights=need_weights)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("with_kpm", [False, True])
def test_mha_is_causal(rng, dtype, need_weights, with_kpm):
    causal = lambda N, H, L, S, b: np.triu(np.full((L, S), -np.inf), k=1).astype(dtype)  # noqa: E731
    mha_parity(rng, dtype, dict(batch_first=True), attn_mask=causal, kpm=_cast_masks(kpm_float, dtype) if with_kpm else None,
               need_weights=need_weights, is_causal=True)


def test_mha_dead_rows_give_zeros_without_weights(rng):
    """A query whose every key is masked: zeros from the fused path (as torch's SDPA route)."""
    dead = lambda N, H, L, S, b: np.ones((N, S), dtype=bool) * (np.arange(N)[:, None] == 1)  # noqa: E731
    mha_parity(rng, np.float64, dict(batch_first=True), sharing="kv", kpm=dead, need_weights=False)


def test_mha_dropout_in_training_only(rng):
    m = gn.nn.MultiheadAttention(8, 2, dropout=0.5, batch_first=True)
    x = gn.tensor(rng.standard_normal((2, 6, 8)).astype(np.float32))
    a = m(x, x, x, need_weights=False)[0].detach().numpy()
    b = m(x, x, x, need_weights=False)[0].detach().numpy()
    assert not np.allclose(a, b)  # a fresh dropout mask each call
    _, w = m(x, x, x, average_attn_weights=False)
    assert (w.detach().numpy() == 0).mean() > 0.3  # the returned weights are the dropped ones, as torch
    m.eval()
    e1 = m(x, x, x, need_weights=False)[0].detach().numpy()
    e2, w = m(x, x, x)
    np.testing.assert_allclose(e1, e2.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(w.detach().numpy().sum(-1), 1.0, rtol=1e-5)


def test_mha_parameters_and_init():
    tmod = torch.nn.MultiheadAttention(16, 4, kdim=8, vdim=8, add_bias_kv=True)
    gmod = gn.nn.MultiheadAttention(16, 4, kdim=8, vdim=8, add_bias_kv=True)
    assert list(gmod.state_dict()) == list(tmod.state_dict())
    assert {k: tuple(v.shape) for k, v in gmod.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in tmod.state_dict().items()}
    g = gn.nn.MultiheadAttention(64, 4)
    assert list(g.state_dict()) == ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
    assert not np.any(g.in_proj_bias.detach().numpy()) and not np.any(g.out_proj.bias.detach().numpy())
    bound = np.sqrt(6 / (64 + 192))  # xavier_uniform on (3E, E)
    w = g.in_proj_weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound


def test_mha_module_double_precision_gradcheck(rng):
    m = gn.nn.MultiheadAttention(4, 2, batch_first=True, dtype=gn.float64)
    x = gn.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    mem = gn.tensor(rng.standard_normal((2, 4, 4)), requires_grad=True)
    kpm = gn.tensor(np.array([[False, False, False, True], [False, True, False, False]]))
    assert gn.autograd.gradcheck(lambda a, b: m(a, b, b, key_padding_mask=kpm, need_weights=False)[0], (x, mem))
    assert gn.autograd.gradcheck(lambda a, b: m(a, b, b, key_padding_mask=kpm)[1], (x, mem))


@pytest.mark.parametrize("call,exc,words", [
    (lambda m, x: m(x[:, :, :6], x, x), ValueError, ["(2, 5, 6)", "8"]),
    (lambda m, x: m(x, x[:, :4], x), ValueError, ["(2, 4, 8)", "(2, 5, 8)"]),
    (lambda m, x: m(x, x, x, attn_mask=gn.zeros(5, 4)), ValueError, ["(5, 4)", "(5, 5)"]),
    (lambda m, x: m(x, x, x, attn_mask=gn.zeros(3, 5, 5)), ValueError, ["(3, 5, 5)", "(4, 5, 5)"]),
    (lambda m, x: m(x, x, x, attn_mask=gn.zeros(5, 5, dtype=gn.int64)), TypeError, ["int64"]),
    (lambda m, x: m(x, x, x, key_padding_mask=gn.zeros(2, 4, dtype=gn.bool)), ValueError, ["(2, 4)", "(2, 5)"]),
    (lambda m, x: m(x, x, x, key_padding_mask=gn.zeros(2, 5, dtype=gn.int64)), TypeError, ["int64"]),
    (lambda m, x: m(x[:, :0], x[:, :0], x[:, :0]), ValueError, ["sequence length 0", "(2, 0, 8)"]),
    (lambda m, x: m(x, x[:, :0], x[:, :0]), ValueError, ["sequence length 0", "(2, 0, 8)"]),
    (lambda m, x: m(x[0, 0], x, x), ValueError, ["(8,)"]),
    (lambda m, x: m(x, x, x, is_causal=True), RuntimeError, ["attn_mask"]),
])
def test_mha_bad_input(call, exc, words):
    m = gn.nn.MultiheadAttention(8, 2, batch_first=True)
    x = gn.zeros(2, 5, 8)
    with pytest.raises(exc) as info:
        call(m, x)
    for w in words:
        assert w in str(info.value)


@pytest.mark.parametrize("E,H", [(10, 3), (8, 0), (0, 2)])
def test_mha_bad_heads(E, H):
    with pytest.raises(ValueError, match=str(E)):
        gn.nn.MultiheadAttention(E, H)


# ---- attention_maps -------------------------------------------------------------------

def test_attention_maps_encoder(rng):
    from glassnet.explain.attention import attention_maps

    layer = gn.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True)
    model = gn.nn.TransformerEncoder(layer, 2)
    model.eval()
    x = gn.tensor(rng.standard_normal((3, 5, 8)).astype(np.float32))
    kpm = gn.tensor(np.array([[False] * 5, [False] * 3 + [True] * 2, [False] * 4 + [True]]))
    before = model(x, src_key_padding_mask=kpm).detach().numpy()
    maps = attention_maps(model, x, src_key_padding_mask=kpm)
    assert list(maps) == ["layers.0.self_attn", "layers.1.self_attn"]
    for w in maps.values():
        assert tuple(w.shape) == (3, 2, 5, 5)
        np.testing.assert_allclose(w.numpy().sum(-1), 1.0, rtol=1e-5)
        assert not np.any(w.numpy()[1, :, :, 3:])  # padded keys get no attention
    # The first layer's maps equal the weights its attention returns when asked directly.
    _, direct = model.layers[0].self_attn(x, x, x, key_padding_mask=kpm, average_attn_weights=False)
    np.testing.assert_allclose(maps["layers.0.self_attn"].numpy(), direct.detach().numpy(), rtol=1e-6)
    # The model is unchanged afterwards: no hooks left, same output.
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())
    np.testing.assert_allclose(model(x, src_key_padding_mask=kpm).detach().numpy(), before, rtol=1e-6, atol=1e-7)


def test_attention_maps_restores_on_error_and_counts_repeated_calls(rng):
    from glassnet.explain.attention import attention_maps

    class Twice(gn.nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = gn.nn.MultiheadAttention(4, 2)

        def forward(self, x, fail=False):
            y = self.attn(x, x, x)[0]
            y = self.attn(y, y, y, need_weights=False)[0]
            if fail:
                raise RuntimeError("boom")
            return y

    m = Twice()
    x = gn.tensor(rng.standard_normal((3, 4)).astype(np.float32))  # unbatched (L, E)
    maps = attention_maps(m, x)
    assert list(maps) == ["attn", "attn:1"] and tuple(maps["attn"].shape) == (1, 2, 3, 3)
    with pytest.raises(RuntimeError, match="boom"):
        attention_maps(m, x, fail=True)
    assert not m.attn._forward_hooks and not m.attn._forward_pre_hooks
    assert gn.is_grad_enabled()
