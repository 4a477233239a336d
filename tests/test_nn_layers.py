"""Every layer and loss module against torch's: torch's module is built, its
state_dict copied into glassnet's through load_state_dict (numpy arrays), then
the same inputs must give the same outputs, the same input gradients and the
same gradient for every parameter (and, for BatchNorm, the same running
statistics)."""
import math

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn

torch = pytest.importorskip("torch")

TOL = {np.float32: dict(rtol=1e-4, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}
DTYPES = [np.float32, np.float64]


def _copy_state(g_mod, t_mod):
    result = g_mod.load_state_dict({k: v.detach().cpu().numpy() for k, v in t_mod.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []


def check_module(g_mod, t_mod, inputs, dtype, rng, grad=True, train=True, steps=1, tol=None):
    """inputs: numpy arrays (float ones get requires_grad) or ("int", array) for index tensors."""
    tol = tol or TOL[dtype]
    if dtype == np.float64:
        t_mod.double()
        g_mod.double()
    _copy_state(g_mod, t_mod)
    g_mod.train(train)
    t_mod.train(train)
    for _ in range(steps):
        g_in, t_in = [], []
        for a in inputs:
            floating = a.dtype.kind == "f"
            g_in.append(gn.tensor(a, requires_grad=grad and floating))
            t_in.append(torch.tensor(a, requires_grad=grad and floating))
        g_out, t_out = g_mod(*g_in), t_mod(*t_in)
        assert tuple(g_out.shape) == tuple(t_out.shape)
        assert g_out.dtype.name == str(t_out.dtype).replace("torch.", "")
        np.testing.assert_allclose(g_out.detach().numpy(), t_out.detach().numpy(), **tol)
        if grad:
            w = rng.standard_normal(tuple(t_out.shape)).astype(dtype)
            (g_out * gn.tensor(w)).sum().backward()
            (t_out * torch.tensor(w)).sum().backward()
            for g, t in zip(g_in, t_in):
                if t.grad is not None:
                    assert g.grad is not None
                    np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), **tol)
            t_params = dict(t_mod.named_parameters())
            g_params = dict(g_mod.named_parameters())
            assert list(g_params) == list(t_params)
            for name, tp in t_params.items():
                gp = g_params[name]
                if tp.grad is None:
                    assert gp.grad is None or np.all(gp.grad.numpy() == 0), name
                else:
                    assert gp.grad is not None, name
                    np.testing.assert_allclose(gp.grad.numpy(), tp.grad.numpy(), err_msg=name, **tol)
    for name, tb in t_mod.state_dict().items():
        np.testing.assert_allclose(g_mod.state_dict()[name].numpy(), tb.numpy(), err_msg=name, **tol)
    return g_out, t_out


def rand(rng, shape, dtype, low=-2.0, high=2.0):
    return rng.uniform(low, high, size=shape).astype(dtype)


# ---- Linear, Bilinear, Identity, Flatten -------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 5), (5,), (0, 5)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear(rng, dtype, shape, bias):
    check_module(nn.Linear(5, 3, bias=bias), torch.nn.Linear(5, 3, bias=bias), [rand(rng, shape, dtype)], dtype, rng)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("lead", [(6,), (2, 3)])
def test_bilinear(rng, dtype, lead):
    check_module(nn.Bilinear(3, 4, 2), torch.nn.Bilinear(3, 4, 2),
                 [rand(rng, lead + (3,), dtype), rand(rng, lead + (4,), dtype)], dtype, rng)
    check_module(nn.Bilinear(3, 4, 2, bias=False), torch.nn.Bilinear(3, 4, 2, bias=False),
                 [rand(rng, lead + (3,), dtype), rand(rng, lead + (4,), dtype)], dtype, rng)


def test_linear_bad_input_raises():
    with pytest.raises((ValueError, RuntimeError), match="linear"):
        nn.Linear(5, 3)(gn.zeros(4, 6))


def test_mlp_end_to_end(rng):
    def build(n):
        return n.Sequential(n.Flatten(), n.Linear(12, 8), n.ReLU(), n.LayerNorm(8), n.Linear(8, 8), n.Tanh(),
                            n.Identity(), n.Linear(8, 3), n.LogSoftmax(dim=1))

    check_module(build(nn), build(torch.nn), [rand(rng, (5, 3, 4), np.float32)], np.float32, rng)


# ---- activations -----------------------------------------------------------------------------------
ACTIVATIONS = [
    ("ReLU", (), {}), ("ReLU6", (), {}), ("LeakyReLU", (), {}), ("LeakyReLU", (0.2,), {}), ("ELU", (), {}),
    ("ELU", (0.7,), {}), ("SELU", (), {}), ("GELU", (), {}), ("GELU", (), {"approximate": "tanh"}), ("SiLU", (), {}),
    ("Softplus", (), {}), ("Softplus", (2.0, 3.0), {}), ("Sigmoid", (), {}), ("Tanh", (), {}), ("Hardtanh", (), {}),
    ("Hardtanh", (-0.5, 1.5), {}), ("Softmax", (), {"dim": 1}), ("Softmax", (), {"dim": 0}),
    ("LogSoftmax", (), {"dim": -1}), ("LogSoftmax", (), {"dim": 0}),
]


@pytest.mark.parametrize("name, args, kwargs", ACTIVATIONS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 6), (2, 3, 5)])
def test_activation(rng, name, args, kwargs, dtype, shape):
    x = rand(rng, shape, dtype, -8.0, 8.0)
    check_module(getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs), [x], dtype, rng)


@pytest.mark.parametrize("name", ["ReLU", "ReLU6", "LeakyReLU", "ELU", "SELU", "SiLU", "Hardtanh"])
def test_inplace_activation_values(rng, name):
    # In place on a tensor that needs no grad: same values as torch, written into the input.
    x = rand(rng, (3, 4), np.float32, -8.0, 8.0)
    g_in, t_in = gn.tensor(x), torch.tensor(x)
    g_out = getattr(nn, name)(inplace=True)(g_in)
    t_out = getattr(torch.nn, name)(inplace=True)(t_in)
    np.testing.assert_allclose(g_out.numpy(), t_out.numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(g_in.numpy(), t_in.numpy(), rtol=1e-6, atol=1e-7)


def test_softmax_implicit_dim_warns_as_torch(rng):
    x = rand(rng, (2, 3), np.float32)
    with pytest.warns(UserWarning, match="Implicit dimension"):
        out = nn.Softmax()(gn.tensor(x))
    with pytest.warns(UserWarning):
        ref = torch.nn.Softmax()(torch.tensor(x))
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-5)


def test_activation_argument_errors():
    with pytest.raises(ValueError):
        nn.GELU(approximate="fast")
    with pytest.raises(ValueError):
        nn.Hardtanh(1.0, -1.0)


# ---- dropout ------------------------------------------------------------------------------------------
def test_dropout_train_statistics_and_gradient():
    p = 0.3
    x = gn.ones(400, 250, requires_grad=True)
    out = nn.Dropout(p)(x)
    a = out.detach().numpy()
    kept = a != 0
    assert kept.mean() == pytest.approx(1 - p, abs=0.01)
    np.testing.assert_allclose(a[kept], 1 / (1 - p), rtol=1e-6)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), kept / (1 - p), rtol=1e-6)


def test_dropout_eval_and_edge_probabilities(rng):
    x = gn.tensor(rand(rng, (5, 5), np.float32))
    d = nn.Dropout(0.5).eval()
    np.testing.assert_array_equal(d(x).numpy(), x.numpy())
    np.testing.assert_array_equal(nn.Dropout(0.0)(x).numpy(), x.numpy())
    assert np.all(nn.Dropout(1.0)(x).numpy() == 0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)
    gn.manual_seed(3)
    a = nn.Dropout(0.5)(x).numpy()
    gn.manual_seed(3)
    np.testing.assert_array_equal(nn.Dropout(0.5)(x).numpy(), a)


@pytest.mark.parametrize("cls, shape", [("Dropout1d", (8, 30, 40)), ("Dropout2d", (8, 30, 5, 6)),
                                        ("Dropout3d", (4, 30, 2, 3, 4))])
def test_channel_dropout_zeroes_whole_channels(cls, shape):
    out = getattr(nn, cls)(0.5)(gn.ones(*shape)).numpy()
    per_channel = out.reshape(shape[0], shape[1], -1)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2.0).all(-1))
    assert 0.3 < (per_channel == 0).all(-1).mean() < 0.7
    np.testing.assert_array_equal(getattr(nn, cls)(0.5).eval()(gn.ones(*shape)).numpy(), np.ones(shape))


# ---- normalisation ------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(8, 4), (6, 4, 5)])
@pytest.mark.parametrize("kwargs", [{}, {"momentum": None}, {"momentum": 0.3}, {"affine": False},
                                    {"track_running_stats": False}, {"eps": 1e-3}, {"bias": False}])
def test_batchnorm1d_training_steps_and_eval(rng, dtype, shape, kwargs):
    g_mod, t_mod = nn.BatchNorm1d(4, **kwargs), torch.nn.BatchNorm1d(4, **kwargs)
    # Start from non-trivial parameters and statistics.
    with torch.no_grad():
        if t_mod.weight is not None:
            t_mod.weight.uniform_(0.5, 1.5)
        if t_mod.bias is not None:
            t_mod.bias.uniform_(-1, 1)
        if t_mod.running_mean is not None:
            t_mod.running_mean.uniform_(-1, 1)
            t_mod.running_var.uniform_(0.5, 2)
    x = rand(rng, shape, dtype, -3, 3) + 1.5
    check_module(g_mod, t_mod, [x], dtype, rng, train=True, steps=3)
    if kwargs.get("track_running_stats", True):
        assert g_mod.num_batches_tracked.item() == 3
    g_mod.zero_grad()
    t_mod.zero_grad()
    # check_module copies torch's state again before evaluating
    check_module(g_mod, t_mod, [rand(rng, shape, dtype)], dtype, rng, train=False)


@pytest.mark.parametrize("dtype", DTYPES)
def test_batchnorm2d_and_3d(rng, dtype):
    check_module(nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3), [rand(rng, (4, 3, 5, 2), dtype)], dtype, rng, steps=2)
    check_module(nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3), [rand(rng, (4, 3, 5, 2), dtype)], dtype, rng,
                 train=False)
    check_module(nn.BatchNorm3d(2), torch.nn.BatchNorm3d(2), [rand(rng, (3, 2, 2, 3, 2), dtype)], dtype, rng)


def test_batchnorm_checks_input_dims():
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        nn.BatchNorm1d(3)(gn.zeros(2, 3, 4, 5))
    with pytest.raises(ValueError, match="expected 4D input"):
        nn.BatchNorm2d(3)(gn.zeros(2, 3))


def test_batchnorm_cumulative_average_matches_mean_of_batch_stats(rng):
    bn = nn.BatchNorm1d(3, momentum=None)
    batches = [rand(rng, (10, 3), np.float64) for _ in range(4)]
    for b in batches:
        bn(gn.tensor(b, dtype=gn.float32))
    expected = np.mean([b.mean(0) for b in batches], axis=0)
    np.testing.assert_allclose(bn.running_mean.numpy(), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("normalized_shape, shape", [(5, (4, 5)), ((3, 5), (2, 3, 5)), ((5,), (2, 2, 5))])
@pytest.mark.parametrize("kwargs", [{}, {"elementwise_affine": False}, {"bias": False}, {"eps": 1e-2}])
def test_layernorm(rng, dtype, normalized_shape, shape, kwargs):
    g_mod, t_mod = nn.LayerNorm(normalized_shape, **kwargs), torch.nn.LayerNorm(normalized_shape, **kwargs)
    with torch.no_grad():
        for p in t_mod.parameters():
            p.uniform_(0.5, 1.5)
    check_module(g_mod, t_mod, [rand(rng, shape, dtype)], dtype, rng)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("groups, channels, shape", [(2, 4, (3, 4, 5)), (1, 4, (3, 4)), (4, 4, (2, 4, 3, 2)),
                                                      (3, 6, (2, 6, 7))])
@pytest.mark.parametrize("affine", [True, False])
def test_groupnorm(rng, dtype, groups, channels, shape, affine):
    g_mod, t_mod = nn.GroupNorm(groups, channels, affine=affine), torch.nn.GroupNorm(groups, channels, affine=affine)
    with torch.no_grad():
        for p in t_mod.parameters():
            p.uniform_(0.5, 1.5)
    check_module(g_mod, t_mod, [rand(rng, shape, dtype)], dtype, rng)


def test_groupnorm_needs_divisible_channels():
    with pytest.raises(ValueError, match="divisible"):
        nn.GroupNorm(3, 4)


# ---- embedding -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("padding_idx", [None, 0, -1])
def test_embedding(rng, dtype, padding_idx):
    idx = rng.integers(0, 10, size=(3, 5)).astype(np.int64)
    idx[0, 0] = 0
    idx[1, 1] = 9
    g_mod = nn.Embedding(10, 4, padding_idx=padding_idx)
    t_mod = torch.nn.Embedding(10, 4, padding_idx=padding_idx)
    assert g_mod.padding_idx == t_mod.padding_idx
    check_module(g_mod, t_mod, [idx], dtype, rng)


def test_embedding_max_norm_renormalises_like_torch(rng):
    idx = np.array([[1, 2, 2], [4, 1, 0]], dtype=np.int64)
    g_mod, t_mod = nn.Embedding(6, 3, max_norm=1.0), torch.nn.Embedding(6, 3, max_norm=1.0)
    with torch.no_grad():
        t_mod.weight.mul_(3)
    check_module(g_mod, t_mod, [idx], np.float32, rng)


def test_embedding_from_pretrained():
    w = gn.tensor(np.arange(12, dtype=np.float32).reshape(4, 3))
    emb = nn.Embedding.from_pretrained(w)
    assert not emb.weight.requires_grad and emb.num_embeddings == 4 and emb.embedding_dim == 3
    np.testing.assert_array_equal(emb(gn.tensor([3, 0])).numpy(), w.numpy()[[3, 0]])
    assert nn.Embedding.from_pretrained(w, freeze=False).weight.requires_grad
    with pytest.raises(ValueError, match="2-dimensional"):
        nn.Embedding.from_pretrained(gn.zeros(3))
    with pytest.raises(ValueError, match="Padding_idx"):
        nn.Embedding(3, 2, padding_idx=3)


# ---- losses -------------------------------------------------------------------------------------------
REDUCTIONS = ["mean", "sum", "none"]


@pytest.mark.parametrize("name, kwargs", [("MSELoss", {}), ("L1Loss", {}), ("SmoothL1Loss", {}),
                                          ("SmoothL1Loss", {"beta": 0.5}), ("HuberLoss", {}),
                                          ("HuberLoss", {"delta": 0.7})])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_regression_losses(rng, name, kwargs, reduction, dtype):
    x, y = rand(rng, (4, 5), dtype), rand(rng, (4, 5), dtype)
    check_module(getattr(nn, name)(reduction=reduction, **kwargs),
                 getattr(torch.nn, name)(reduction=reduction, **kwargs), [x, y], dtype, rng)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs", [{}, {"weight": True}, {"ignore_index": 1}, {"label_smoothing": 0.1},
                                    {"weight": True, "ignore_index": 2, "label_smoothing": 0.2}])
def test_cross_entropy_and_nll(rng, reduction, dtype, kwargs):
    x = rand(rng, (6, 4), dtype, -3, 3)
    y = rng.integers(0, 4, size=6).astype(np.int64)
    y[0] = kwargs.get("ignore_index", 0)
    w = rng.uniform(0.5, 2.0, size=4).astype(dtype)
    g_kw, t_kw = dict(kwargs), dict(kwargs)
    if kwargs.get("weight"):
        g_kw["weight"], t_kw["weight"] = gn.tensor(w), torch.tensor(w)
    check_module(nn.CrossEntropyLoss(reduction=reduction, **g_kw), torch.nn.CrossEntropyLoss(reduction=reduction, **t_kw),
                 [x, y], dtype, rng)
    g_kw.pop("label_smoothing", None)
    t_kw.pop("label_smoothing", None)
    logp = torch.log_softmax(torch.tensor(x), 1).numpy()
    check_module(nn.NLLLoss(reduction=reduction, **g_kw), torch.nn.NLLLoss(reduction=reduction, **t_kw),
                 [logp, y], dtype, rng)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_spatial_and_probability_targets(rng, dtype):
    x = rand(rng, (3, 5, 2, 4), dtype)
    y = rng.integers(0, 5, size=(3, 2, 4)).astype(np.int64)
    check_module(nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss(), [x, y], dtype, rng)
    probs = rng.dirichlet(np.ones(5), size=6).astype(dtype)
    check_module(nn.CrossEntropyLoss(label_smoothing=0.1), torch.nn.CrossEntropyLoss(label_smoothing=0.1),
                 [rand(rng, (6, 5), dtype), probs], dtype, rng)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weighted", [False, True])
def test_bce_losses(rng, reduction, dtype, weighted):
    p = rng.uniform(0.05, 0.95, size=(4, 3)).astype(dtype)
    t = rng.uniform(0, 1, size=(4, 3)).astype(dtype)
    w = rng.uniform(0.5, 2, size=(3,)).astype(dtype)
    gw = {"weight": gn.tensor(w)} if weighted else {}
    tw = {"weight": torch.tensor(w)} if weighted else {}
    check_module(nn.BCELoss(reduction=reduction, **gw), torch.nn.BCELoss(reduction=reduction, **tw), [p, t], dtype,
                 rng)
    logits = rand(rng, (4, 3), dtype, -4, 4)
    check_module(nn.BCEWithLogitsLoss(reduction=reduction, **gw), torch.nn.BCEWithLogitsLoss(reduction=reduction, **tw),
                 [logits, t], dtype, rng)
    pw = rng.uniform(0.5, 3, size=(3,)).astype(dtype)
    check_module(nn.BCEWithLogitsLoss(reduction=reduction, pos_weight=gn.tensor(pw), **gw),
                 torch.nn.BCEWithLogitsLoss(reduction=reduction, pos_weight=torch.tensor(pw), **tw),
                 [logits, t], dtype, rng)


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss")  # torch's (and glassnet's) notice
@pytest.mark.parametrize("reduction", ["mean", "sum", "none", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
def test_kl_div_loss(rng, reduction, log_target, dtype):
    logq = torch.log_softmax(torch.tensor(rand(rng, (4, 5), dtype)), 1).numpy()
    p = rng.dirichlet(np.ones(5), size=4).astype(dtype)
    target = np.log(p) if log_target else p
    check_module(nn.KLDivLoss(reduction=reduction, log_target=log_target),
                 torch.nn.KLDivLoss(reduction=reduction, log_target=log_target), [logq, target], dtype, rng)


def test_loss_weight_is_a_buffer_and_moves_with_the_module():
    loss = nn.CrossEntropyLoss(weight=gn.ones(3))
    assert [n for n, _ in loss.named_buffers()] == ["weight"]
    assert list(loss.state_dict()) == list(torch.nn.CrossEntropyLoss(weight=torch.ones(3)).state_dict())
    loss.double()
    assert loss.weight.dtype == gn.float64
    assert nn.BCEWithLogitsLoss(pos_weight=gn.ones(2)).pos_weight.shape == (2,)


def test_legacy_size_average_and_reduce(rng):
    with pytest.warns(UserWarning, match="reduction='sum'"):
        loss = nn.MSELoss(size_average=False)
    assert loss.reduction == "sum"
    with pytest.warns(UserWarning):
        assert nn.L1Loss(reduce=False).reduction == "none"


def test_bad_reduction_raises():
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")(gn.zeros(2), gn.zeros(2))


def test_train_a_small_model_in_step_with_torch(rng):
    """Five SGD steps written out by hand: the parameters stay equal to torch's."""
    def build(n):
        return n.Sequential(n.Linear(4, 6), n.BatchNorm1d(6), n.GELU(), n.Linear(6, 3))

    g_model, t_model = build(nn), build(torch.nn)
    _copy_state(g_model, t_model)
    x = rand(rng, (16, 4), np.float32)
    y = rng.integers(0, 3, size=16).astype(np.int64)
    g_loss, t_loss = nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    for _ in range(5):
        gl = g_loss(g_model(gn.tensor(x)), gn.tensor(y))
        tl = t_loss(t_model(torch.tensor(x)), torch.tensor(y))
        np.testing.assert_allclose(gl.item(), tl.item(), rtol=1e-4)
        g_model.zero_grad()
        t_model.zero_grad()
        gl.backward()
        tl.backward()
        with gn.no_grad():
            for p in g_model.parameters():
                p.sub_(p.grad * 0.1)
        with torch.no_grad():
            for p in t_model.parameters():
                p.sub_(p.grad * 0.1)
    for (name, a), b in zip(g_model.state_dict().items(), t_model.state_dict().values()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-5, err_msg=name)
    assert math.isfinite(gl.item())


@pytest.mark.parametrize("make", [lambda n: n.Linear(4, 3), lambda n: n.LayerNorm(4), lambda n: n.BatchNorm1d(4),
                                  lambda n: n.GELU(), lambda n: n.Softmax(dim=1), lambda n: n.GroupNorm(1, 4)])
def test_layers_accept_non_contiguous_input(rng, make):
    """A transposed (non-contiguous) input gives torch's values and gradients.
    (GroupNorm gets one group of 4: groups of 2 values make float32 gradients
    ill-conditioned enough that torch itself is off by 1e-3 from float64.)"""
    g_mod, t_mod = make(nn), make(torch.nn)
    _copy_state(g_mod, t_mod)
    a = rand(rng, (4, 6), np.float32)
    g_leaf, t_leaf = gn.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    g_x, t_x = g_leaf.transpose(0, 1), t_leaf.transpose(0, 1)
    assert not g_x.is_contiguous()
    g_out, t_out = g_mod(g_x), t_mod(t_x)
    np.testing.assert_allclose(g_out.detach().numpy(), t_out.detach().numpy(), rtol=1e-4, atol=1e-5)
    w = rng.standard_normal(tuple(t_out.shape)).astype(np.float32)
    (g_out * gn.tensor(w)).sum().backward()
    (t_out * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(g_leaf.grad.numpy(), t_leaf.grad.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("call, error, op", [
    (lambda: nn.Embedding(3, 2)(gn.tensor([5])), IndexError, "embedding"),
    (lambda: nn.CrossEntropyLoss()(gn.zeros(2, 3), gn.tensor([0, 7])), IndexError, "cross_entropy"),
    (lambda: nn.LayerNorm(4)(gn.zeros(2, 3)), ValueError, "layer_norm"),
    (lambda: nn.GroupNorm(2, 4)(gn.zeros(2, 6)), ValueError, "group_norm"),
    (lambda: nn.BatchNorm1d(3)(gn.zeros(2, 4)), ValueError, "batch_norm"),
    (lambda: nn.Bilinear(2, 3, 4)(gn.zeros(5, 2), gn.zeros(4, 3)), ValueError, "bilinear"),
    (lambda: nn.MSELoss()(gn.zeros(2, 3), gn.zeros(3, 2)), ValueError, "mse_loss"),
])
def test_bad_input_names_the_op_and_shapes(call, error, op):
    with pytest.raises(error, match=rf"\[{op}\]"):
        call()
