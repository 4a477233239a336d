"""Transformer encoder/decoder layers, stacks and nn.Transformer against torch:
torch's weights copied in by state_dict, outputs and every parameter and input
gradient compared in float32 and float64, post-norm and pre-norm, relu, gelu
and callable activations, with masks; eval-mode inference against torch's
fast path; bad input."""
import numpy as np
import pytest

import glassnet as gn
import glassnet.nn.functional as F

torch = pytest.importorskip("torch")

DTYPES = [np.float32, np.float64]
TORCH_DTYPE = {np.float32: torch.float32, np.float64: torch.float64}
GN_DTYPE = {np.float32: gn.float32, np.float64: gn.float64}
TOL = {np.float32: dict(rtol=5e-4, atol=5e-5), np.float64: dict(rtol=1e-9, atol=1e-11)}
D, NHEAD, FF, N, L, S = 8, 2, 16, 3, 5, 6


def copy_weights(gmod, tmod):
    gmod.load_state_dict({k: gn.tensor(v.detach().numpy()) for k, v in tmod.state_dict().items()})


def compare(gmod, tmod, g_args, t_args, g_kwargs, t_kwargs, dtype, rng, grads=True):
    tol = TOL[dtype]
    g_out, t_out = gmod(*g_args, **g_kwargs), tmod(*t_args, **t_kwargs)
    assert tuple(g_out.shape) == tuple(t_out.shape)
    np.testing.assert_allclose(g_out.detach().numpy(), t_out.detach().numpy(), **tol)
    if not grads:
        return
    w = rng.standard_normal(tuple(t_out.shape)).astype(dtype)
    g_out.backward(gn.tensor(w))
    t_out.backward(torch.tensor(w))
    gp, tp = dict(gmod.named_parameters()), dict(tmod.named_parameters())
    assert set(gp) == set(tp)
    for name, t in tp.items():
        assert t.grad is not None, name
        np.testing.assert_allclose(gp[name].grad.numpy(), t.grad.numpy(), err_msg=name, **tol)
    for i, (g, t) in enumerate(zip(g_args, t_args)):
        np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), err_msg=f"input {i}", **tol)


def inputs(rng, dtype, batch_first, *lengths):
    arrays = [rng.standard_normal((N, n, D) if batch_first else (n, N, D)).astype(dtype) for n in lengths]
    return ([gn.tensor(a, requires_grad=True) for a in arrays], [torch.tensor(a, requires_grad=True) for a in arrays])


def pair_masks(dtype, which):
    """{kwarg name: numpy mask}; torch's conventions (True / -inf = masked)."""
    out = {}
    if "causal" in which:
        out["causal"] = np.triu(np.full((L, L), -np.inf), k=1).astype(dtype)
    if "kpm" in which:
        kpm = np.zeros((N, L), dtype=bool)
        kpm[1, -2:] = True
        out["kpm"] = np.where(kpm, -np.inf, 0.0).astype(dtype)
    if "kpm_bool" in which:
        kpm = np.zeros((N, L), dtype=bool)
        kpm[2, -1] = True
        out["kpm"] = kpm
    if "src_bool" in which:
        out["causal"] = np.triu(np.ones((L, L), dtype=bool), k=1)
    if "mem" in which:
        m = np.zeros((N, S), dtype=bool)
        m[0, -3:] = True
        out["mem_kpm"] = m
        out["mem_mask"] = np.random.default_rng(3).random((L, S)) < 0.2
        out["mem_mask"][:, 0] = False
    return out


def both(m):
    return (None, None) if m is None else (gn.tensor(m), torch.tensor(m))


ACTIVATIONS = {"relu": ("relu", "relu"), "gelu": ("gelu", "gelu"),
               "callable": (lambda x: F.gelu(x, approximate="tanh"),
                            lambda x: torch.nn.functional.gelu(x, approximate="tanh"))}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("masks", ["", "causal", "causal+kpm", "src_bool+kpm_bool"])
def test_encoder_layer(rng, dtype, norm_first, activation, batch_first, masks):
    ga, ta = ACTIVATIONS[activation]
    kw = dict(dim_feedforward=FF, dropout=0.0, norm_first=norm_first, batch_first=batch_first)
    tmod = torch.nn.TransformerEncoderLayer(D, NHEAD, activation=ta, dtype=TORCH_DTYPE[dtype], **kw)
    gmod = gn.nn.TransformerEncoderLayer(D, NHEAD, activation=ga, dtype=GN_DTYPE[dtype], **kw)
    copy_weights(gmod, tmod)
    (gx,), (tx,) = inputs(rng, dtype, batch_first, L)
    m = pair_masks(dtype, masks)
    gm, tm = both(m.get("causal"))
    gk, tk = both(m.get("kpm"))
    causal = "causal" in masks
    compare(gmod, tmod, [gx], [tx], dict(src_mask=gm, src_key_padding_mask=gk, is_causal=causal),
            dict(src_mask=tm, src_key_padding_mask=tk, is_causal=causal), dtype, rng)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("masks", ["", "causal+kpm+mem"])
def test_decoder_layer(rng, dtype, norm_first, activation, batch_first, masks):
    kw = dict(dim_feedforward=FF, dropout=0.0, norm_first=norm_first, batch_first=batch_first, activation=activation)
    tmod = torch.nn.TransformerDecoderLayer(D, NHEAD, dtype=TORCH_DTYPE[dtype], **kw)
    gmod = gn.nn.TransformerDecoderLayer(D, NHEAD, dtype=GN_DTYPE[dtype], **kw)
    copy_weights(gmod, tmod)
    g_in, t_in = inputs(rng, dtype, batch_first, L, S)
    m = pair_masks(dtype, masks)
    names = dict(causal="tgt_mask", kpm="tgt_key_padding_mask", mem_kpm="memory_key_padding_mask",
                 mem_mask="memory_mask")
    gkw, tkw = {}, {}
    for k, v in m.items():
        gkw[names[k]], tkw[names[k]] = both(v)
    gkw["tgt_is_causal"] = tkw["tgt_is_causal"] = "causal" in masks
    compare(gmod, tmod, g_in, t_in, gkw, tkw, dtype, rng)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_and_decoder_stacks(rng, dtype, norm_first):
    kw = dict(dim_feedforward=FF, dropout=0.0, norm_first=norm_first, batch_first=True)
    t_enc = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(D, NHEAD, dtype=TORCH_DTYPE[dtype], **kw),
                                        3, norm=torch.nn.LayerNorm(D, dtype=TORCH_DTYPE[dtype]),
                                        enable_nested_tensor=False)
    g_enc = gn.nn.TransformerEncoder(gn.nn.TransformerEncoderLayer(D, NHEAD, dtype=GN_DTYPE[dtype], **kw), 3,
                                     norm=gn.nn.LayerNorm(D, dtype=GN_DTYPE[dtype]))
    # The layers are independent copies: give them different weights before copying.
    with torch.no_grad():
        for p in t_enc.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    copy_weights(g_enc, t_enc)
    (gx,), (tx,) = inputs(rng, dtype, True, L)
    gm, tm = both(np.triu(np.full((L, L), -np.inf), k=1).astype(dtype))
    # mask equal to the causal mask and is_causal=None: detected as causal, as torch
    compare(g_enc, t_enc, [gx], [tx], dict(mask=gm), dict(mask=tm), dtype, rng)

    t_dec = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(D, NHEAD, dtype=TORCH_DTYPE[dtype], **kw),
                                        2, norm=torch.nn.LayerNorm(D, dtype=TORCH_DTYPE[dtype]))
    g_dec = gn.nn.TransformerDecoder(gn.nn.TransformerDecoderLayer(D, NHEAD, dtype=GN_DTYPE[dtype], **kw), 2,
                                     norm=gn.nn.LayerNorm(D, dtype=GN_DTYPE[dtype]))
    copy_weights(g_dec, t_dec)
    g_in, t_in = inputs(rng, dtype, True, L, S)
    compare(g_dec, t_dec, g_in, t_in, dict(tgt_mask=gm), dict(tgt_mask=tm), dtype, rng)


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")  # torch's own note on its nested-tensor path
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer(rng, dtype, batch_first):
    kw = dict(d_model=D, nhead=NHEAD, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=FF, dropout=0.0,
              batch_first=batch_first)
    tmod = torch.nn.Transformer(dtype=TORCH_DTYPE[dtype], **kw)
    gmod = gn.nn.Transformer(dtype=GN_DTYPE[dtype], **kw)
    assert list(gmod.state_dict()) == list(tmod.state_dict())
    copy_weights(gmod, tmod)
    g_in, t_in = inputs(rng, dtype, batch_first, S, L)  # src of length S, tgt of length L
    gm = gn.nn.Transformer.generate_square_subsequent_mask(L, dtype=GN_DTYPE[dtype])
    tm = torch.nn.Transformer.generate_square_subsequent_mask(L, dtype=TORCH_DTYPE[dtype])
    np.testing.assert_array_equal(gm.numpy(), tm.numpy())
    kpm = np.zeros((N, S), dtype=bool)
    kpm[1, -2:] = True
    compare(gmod, tmod, g_in, t_in, dict(tgt_mask=gm, src_key_padding_mask=gn.tensor(kpm),
                                         memory_key_padding_mask=gn.tensor(kpm)),
            dict(tgt_mask=tm, src_key_padding_mask=torch.tensor(kpm), memory_key_padding_mask=torch.tensor(kpm)),
            dtype, rng)


def test_defaults_and_names():
    t = torch.nn.TransformerEncoderLayer(16, 4)
    g = gn.nn.TransformerEncoderLayer(16, 4)
    assert list(g.state_dict()) == list(t.state_dict())
    assert g.linear1.out_features == 2048 and g.dropout.p == 0.1 and not g.self_attn.batch_first
    assert g.norm1.eps == 1e-5 and not g.norm_first
    td, gd = torch.nn.TransformerDecoderLayer(16, 4, bias=False), gn.nn.TransformerDecoderLayer(16, 4, bias=False)
    assert list(gd.state_dict()) == list(td.state_dict())
    gm = gn.nn.Transformer(d_model=16, nhead=4, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=8)
    for name, p in gm.named_parameters():  # xavier_uniform on every matrix, as torch's _reset_parameters
        if p.dim() > 1:
            bound = np.sqrt(6 / (p.shape[0] + p.shape[1]))
            assert np.abs(p.detach().numpy()).max() <= bound + 1e-7, name


def test_eval_inference_matches_torch_fast_path(rng):
    """torch in eval mode under no_grad takes its fused fast path; glassnet's
    fused SDPA route must give the same numbers."""
    kw = dict(dim_feedforward=32, batch_first=True)
    t_enc = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(16, 4, **kw), 2, enable_nested_tensor=False)
    g_enc = gn.nn.TransformerEncoder(gn.nn.TransformerEncoderLayer(16, 4, **kw), 2)
    copy_weights(g_enc, t_enc)
    t_enc.eval()
    g_enc.eval()
    x = rng.standard_normal((4, 9, 16)).astype(np.float32)
    with torch.no_grad():
        ref = t_enc(torch.tensor(x)).numpy()
    with gn.no_grad():
        out = g_enc(gn.tensor(x)).numpy()
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-5)


def test_dropout_active_in_training(rng):
    layer = gn.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.3, batch_first=True)
    x = gn.tensor(rng.standard_normal((2, 5, 8)).astype(np.float32))
    a, b = layer(x).detach().numpy(), layer(x).detach().numpy()
    assert not np.allclose(a, b)
    layer.eval()
    np.testing.assert_array_equal(layer(x).detach().numpy(), layer(x).detach().numpy())


def test_training_step_reduces_loss(rng):
    """A few Adam steps of a tiny encoder on a fixed batch: the loss falls, so
    every gradient path (attention kernel backward included) is wired."""
    gn.manual_seed(0)
    model = gn.nn.TransformerEncoder(gn.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.1, batch_first=True), 2)
    x = gn.tensor(rng.standard_normal((4, 6, 8)).astype(np.float32))
    y = gn.tensor(rng.standard_normal((4, 6, 8)).astype(np.float32))
    opt = gn.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]


@pytest.mark.parametrize("make,exc,words", [
    (lambda: gn.nn.TransformerEncoderLayer(10, 3), ValueError, ["10", "3"]),
    (lambda: gn.nn.TransformerDecoderLayer(8, 3), ValueError, ["8", "3"]),
    (lambda: gn.nn.TransformerEncoderLayer(8, 2, activation="tanh"), ValueError, ["tanh"]),
])
def test_bad_construction(make, exc, words):
    with pytest.raises(exc) as info:
        make()
    for w in words:
        assert w in str(info.value)


def test_bad_forward():
    layer = gn.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)
    with pytest.raises(ValueError, match=r"\(2, 5, 6\)"):
        layer(gn.zeros(2, 5, 6))
    with pytest.raises(ValueError, match="sequence length 0"):
        layer(gn.zeros(2, 0, 8))
    with pytest.raises(ValueError, match=r"\(4, 4\)"):
        layer(gn.zeros(2, 5, 8), src_mask=gn.zeros(4, 4))
    with pytest.raises(TypeError, match="int64"):
        layer(gn.zeros(2, 5, 8), src_key_padding_mask=gn.zeros(2, 5, dtype=gn.int64))
    model = gn.nn.Transformer(8, 2, 1, 1, 16)
    with pytest.raises(ValueError, match="batch"):
        model(gn.zeros(5, 2, 8), gn.zeros(4, 3, 8))
    with pytest.raises(ValueError, match="d_model"):
        model(gn.zeros(5, 2, 8), gn.zeros(4, 2, 6))


@pytest.mark.slow
def test_sort_example_reaches_99_percent():
    """examples/transformer_sort.py: ≥ 99% token accuracy on held-out sequences."""
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).resolve().parents[1] / "examples" / "transformer_sort.py"
    spec = importlib.util.spec_from_file_location("transformer_sort", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--steps", "3000"]) >= 0.99
