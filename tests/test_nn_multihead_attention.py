"""nn.MultiheadAttention against torch (weights copied by state_dict): output,
returned weights and every parameter and input gradient, float32 and
float64, for every constructor option, mask kind and forward flag; bad
input; glassnet.explain's attention_maps."""
import numpy as np
import pytest

import glassnet as gn

torch = pytest.importorskip("torch")

DTYPES = [np.float32, np.float64]


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

    # dropout 0.3: attention_maps must run in eval mode for the rows to sum to 1
    layer = gn.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.3, batch_first=True)
    model = gn.nn.TransformerEncoder(layer, 2)
    x = gn.tensor(rng.standard_normal((3, 5, 8)).astype(np.float32))
    kpm = gn.tensor(np.array([[False] * 5, [False] * 3 + [True] * 2, [False] * 4 + [True]]))
    model.eval()
    before = model(x, src_key_padding_mask=kpm).detach().numpy()
    model.train()
    maps = attention_maps(model, x, src_key_padding_mask=kpm)
    assert model.training and model.layers[0].self_attn.training  # mode restored
    model.eval()
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
    assert gn.is_grad_enabled() and m.training
    with pytest.raises(ValueError, match="no nn.MultiheadAttention"):
        attention_maps(gn.nn.Linear(4, 4), x)
    with pytest.raises(TypeError, match="nn.Module"):
        attention_maps(lambda t: t, x)
