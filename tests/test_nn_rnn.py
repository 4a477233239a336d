"""nn.RNN / LSTM / GRU and their cells against torch: outputs, final states and
every gradient (parameters, input, initial states) for each option, the
`lengths` extension against torch's pack_padded_sequence, gradcheck in
float64, and clear errors for bad input."""
import subprocess
import sys
import warnings

import numpy as np
import pytest

import glassnet as gn
import glassnet.nn as nn

torch = pytest.importorskip("torch")

TOL = {np.float32: dict(rtol=2e-4, atol=2e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}
GN_DTYPE = {np.float32: gn.float32, np.float64: gn.float64}
T_DTYPE = {np.float32: torch.float32, np.float64: torch.float64}
MODES = ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"]


def make_pair(mode, dtype, input_size, hidden_size, **kw):
    """A torch layer and a glassnet layer with the same weights."""
    if mode.startswith("RNN"):
        kw["nonlinearity"] = "tanh" if mode == "RNN_TANH" else "relu"
        tm, gm = torch.nn.RNN(input_size, hidden_size, **kw), nn.RNN(input_size, hidden_size, **kw)
    else:
        tm = getattr(torch.nn, mode)(input_size, hidden_size, **kw)
        gm = getattr(nn, mode)(input_size, hidden_size, **kw)
    tm = tm.to(T_DTYPE[dtype])
    gm = gm.to(GN_DTYPE[dtype])
    gm.load_state_dict({k: gn.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    return tm, gm


def close(g, t, dtype, what):
    assert g is not None, f"{what}: glassnet gave None"
    assert tuple(g.shape) == tuple(t.shape), f"{what}: shape {tuple(g.shape)} vs torch {tuple(t.shape)}"
    np.testing.assert_allclose(g.detach().numpy(), t.detach().numpy(), err_msg=what, **TOL[dtype])


def flat_states(mode, h):
    return list(h) if mode == "LSTM" else [h]


def run_parity(mode, dtype, rng, *, T=5, B=3, I=4, H=6, num_layers=1, bidirectional=False, batch_first=False,
               bias=True, with_h0=False, x_view=None, lengths=None, train=False, dropout=0.0, proj_size=0):
    """Forward and backward of the same layer and data in torch and glassnet;
    every output and gradient compared. Returns the glassnet layer."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's dropout-with-one-layer warning
        extra = dict(proj_size=proj_size) if proj_size else {}
        tm, gm = make_pair(mode, dtype, I, H, num_layers=num_layers, bidirectional=bidirectional,
                           batch_first=batch_first, bias=bias, dropout=dropout, **extra)
    tm.train(train)
    gm.train(train)
    D = 2 if bidirectional else 1
    shape = (B, T, I) if batch_first else (T, B, I)
    x = rng.standard_normal(shape).astype(dtype)
    gx, tx = gn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    gin, tin = (x_view(gx), x_view(tx)) if x_view else (gx, tx)
    states = []
    if with_h0:
        n_states = 2 if mode == "LSTM" else 1
        sizes = [proj_size or H, H]
        states = [rng.standard_normal((num_layers * D, B, sizes[k])).astype(dtype) for k in range(n_states)]
    gs = [gn.tensor(s, requires_grad=True) for s in states]
    ts = [torch.tensor(s, requires_grad=True) for s in states]
    ghx = (tuple(gs) if mode == "LSTM" else gs[0]) if states else None
    thx = (tuple(ts) if mode == "LSTM" else ts[0]) if states else None
    if lengths is None:
        gout, gh = gm(gin, ghx)
        tout, th = tm(tin, thx)
    else:
        gout, gh = gm(gin, ghx, lengths=lengths)
        packed = torch.nn.utils.rnn.pack_padded_sequence(tin, torch.tensor(lengths), batch_first=batch_first,
                                                         enforce_sorted=False)
        tpacked, th = tm(packed, thx)
        tout, _ = torch.nn.utils.rnn.pad_packed_sequence(tpacked, batch_first=batch_first, total_length=T)
    close(gout, tout, dtype, "output")
    for k, (g, t) in enumerate(zip(flat_states(mode, gh), flat_states(mode, th))):
        close(g, t, dtype, f"final state {k}")
    # One random weighting of every output, the same in both libraries.
    wo = rng.standard_normal(tuple(tout.shape)).astype(dtype)
    gl = (gout * gn.tensor(wo)).sum()
    tl = (tout * torch.tensor(wo)).sum()
    for g, t in zip(flat_states(mode, gh), flat_states(mode, th)):
        w = rng.standard_normal(tuple(t.shape)).astype(dtype)
        gl = gl + (g * gn.tensor(w)).sum()
        tl = tl + (t * torch.tensor(w)).sum()
    gl.backward()
    tl.backward()
    close(gx.grad, tx.grad, dtype, "input gradient")
    for k, (g, t) in enumerate(zip(gs, ts)):
        close(g.grad, t.grad, dtype, f"initial state {k} gradient")
    tparams = dict(tm.named_parameters())
    for name, p in gm.named_parameters():
        close(p.grad, tparams[name].grad, dtype, f"gradient of {name}")
    return gm


CONFIGS = [
    dict(),
    dict(num_layers=2, bidirectional=True, with_h0=True),
    dict(num_layers=2, batch_first=True, bias=False, with_h0=True),
    dict(num_layers=3, bidirectional=True, batch_first=True),
    dict(bidirectional=True, batch_first=True, with_h0=True, bias=False),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("config", range(len(CONFIGS)))
@pytest.mark.parametrize("mode", MODES)
def test_parity_with_torch(mode, config, dtype, rng):
    run_parity(mode, dtype, rng, **CONFIGS[config])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shape", [dict(T=1), dict(B=1), dict(T=1, B=1, H=1, I=1), dict(T=7, B=5, I=9, H=17)])
def test_edge_sizes(mode, shape, rng):
    run_parity(mode, np.float64, rng, bidirectional=True, with_h0=True, **shape)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("batch_first", [False, True])
def test_non_contiguous_input(mode, batch_first, rng):
    # The input arrives as a permuted view: (I, B, T) storage seen as (T, B, I) or (B, T, I).
    perm = (2, 0, 1) if batch_first else (1, 2, 0)
    inv = tuple(np.argsort(perm))
    run_parity(mode, np.float32, rng, num_layers=2, bidirectional=True, batch_first=batch_first,
               x_view=lambda t: t.permute(*perm).contiguous().permute(*inv) if isinstance(t, torch.Tensor)
               else t.permute(*perm).contiguous().permute(*inv))


@pytest.mark.parametrize("mode", MODES)
def test_large_batch_takes_the_threaded_paths(mode):
    # Large hidden sizes take the threaded paths of the gate kernels.
    run_parity(mode, np.float32, np.random.default_rng(0), T=3, B=64, I=8, H=160, bidirectional=True)


# Batch 64: with 2 or 3 threads the rows run in 4 or 6 chunks of 8 or 16
# rows, each chunk its whole sequence on one thread (rnn.cpp).
STEP_SHARED = dict(T=4, B=64, I=8, H=136)


@pytest.fixture(params=[2, 3], ids=["2-threads", "3-threads"])
def threads(request):
    before = gn.get_num_threads()
    gn.set_num_threads(request.param)
    yield request.param
    gn.set_num_threads(before)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode", MODES)
def test_steps_shared_by_threads_match_torch(mode, dtype, threads, rng):
    # One direction (two run side by side instead), unequal lengths, with and without h0.
    # Lengths with no period, so that a chunk reading another chunk's lengths shows.
    lengths = [int(n) for n in rng.integers(1, STEP_SHARED["T"] + 1, size=STEP_SHARED["B"])]
    run_parity(mode, dtype, rng, with_h0=True, lengths=lengths, **STEP_SHARED)
    run_parity(mode, dtype, rng, **STEP_SHARED)
    if mode == "LSTM":
        run_parity(mode, dtype, rng, with_h0=True, lengths=lengths[::-1], proj_size=24, **STEP_SHARED)


def layer_results(gm, x, h0, lengths, weights):
    """Output, final states and every gradient of one forward and backward."""
    gx = gn.tensor(x, requires_grad=True)
    hx = None
    if h0 is not None:
        hs = [gn.tensor(h, requires_grad=True) for h in h0]
        hx = tuple(hs) if len(hs) == 2 else hs[0]
    out, h = gm(gx, hx, lengths=lengths)
    states = list(h) if isinstance(h, tuple) else [h]
    loss = (out * gn.tensor(weights[0])).sum()
    for s, w in zip(states, weights[1:]):
        loss = loss + (s * gn.tensor(w)).sum()
    for p in gm.parameters():
        p.grad = None
    loss.backward()
    res = [out, *states, gx.grad] + ([s.grad for s in hs] if h0 is not None else [])
    res += [p.grad for p in gm.parameters()]
    return [r.detach().numpy().copy() for r in res]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("with_h0", [False, True])
def test_results_do_not_depend_on_the_thread_count(mode, with_h0, rng):
    # Each thread computes the same GEMM elements and gate values for its rows
    # as one thread would: the results are bitwise equal (the weight-gradient
    # products here are too small for the GEMM to split their depth K).
    _, gm = make_pair(mode, np.float32, STEP_SHARED["I"], STEP_SHARED["H"])
    T, B, H = STEP_SHARED["T"], STEP_SHARED["B"], STEP_SHARED["H"]
    x = rng.standard_normal((T, B, STEP_SHARED["I"])).astype(np.float32)
    h0 = [rng.standard_normal((1, B, H)).astype(np.float32) for _ in range(2 if mode == "LSTM" else 1)]
    weights = [rng.standard_normal((T, B, H)).astype(np.float32)] + [rng.standard_normal((1, B, H)).astype(np.float32)
                                                                    for _ in h0]
    lengths = [int(n) for n in rng.integers(0, T + 1, size=B)]
    before = gn.get_num_threads()
    try:
        results = {}
        for n in (1, 2, 3):
            gn.set_num_threads(n)
            results[n] = layer_results(gm, x, h0 if with_h0 else None, lengths, weights)
    finally:
        gn.set_num_threads(before)
    assert np.any(results[1][0])
    for n in (2, 3):
        for k, (a, b) in enumerate(zip(results[1], results[n])):
            np.testing.assert_array_equal(a, b, err_msg=f"result {k} with {n} threads")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("batch_first", [False, True])
def test_lengths_match_pack_padded_sequence(mode, batch_first, dtype, rng):
    run_parity(mode, dtype, rng, T=6, B=4, num_layers=2, bidirectional=True, batch_first=batch_first,
               with_h0=True, lengths=[3, 6, 1, 4])


@pytest.mark.parametrize("mode", MODES)
def test_lengths_as_tensor_and_full_length_is_plain(mode, rng):
    tm, gm = make_pair(mode, np.float64, 4, 5)
    x = gn.tensor(rng.standard_normal((4, 3, 4)))
    full, h_full = gm(x, lengths=gn.tensor([4, 4, 4]))
    plain, h_plain = gm(x)
    np.testing.assert_array_equal(full.detach().numpy(), plain.detach().numpy())
    # A zero length leaves the initial state and gives zero output.
    out, h = gm(x, lengths=np.array([0, 2, 4]))
    assert not np.any(out.detach().numpy()[:, 0])
    assert not np.any(out.detach().numpy()[2:, 1])
    h0 = h[0] if mode == "LSTM" else h
    assert not np.any(h0.detach().numpy()[:, 0])


@pytest.mark.parametrize("mode", MODES)
def test_dropout_between_layers(mode, rng):
    # p = 1 drops everything between layers in both libraries: exact parity.
    run_parity(mode, np.float64, rng, num_layers=3, bidirectional=True, train=True, dropout=1.0)
    # In eval mode dropout is off.
    run_parity(mode, np.float64, rng, num_layers=2, train=False, dropout=0.5)
    _, gm = make_pair(mode, np.float64, 4, 6, num_layers=2, dropout=0.5)
    x = gn.tensor(rng.standard_normal((5, 3, 4)))
    gn.manual_seed(3)
    a = gm(x)[0].detach().numpy()
    gn.manual_seed(3)
    b = gm(x)[0].detach().numpy()
    gm.eval()
    c = gm(x)[0].detach().numpy()
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 1e-3


def test_dropout_with_one_layer_warns_as_torch():
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.LSTM(3, 4, dropout=0.2)
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        torch.nn.LSTM(3, 4, dropout=0.2)


@pytest.mark.parametrize("mode", MODES)
def test_unbatched_input(mode, rng):
    tm, gm = make_pair(mode, np.float64, 3, 4, num_layers=2, bidirectional=True)
    x = rng.standard_normal((5, 3))
    h = [rng.standard_normal((4, 4)) for _ in range(2 if mode == "LSTM" else 1)]
    ghx = tuple(gn.tensor(a) for a in h) if mode == "LSTM" else gn.tensor(h[0])
    thx = tuple(torch.tensor(a) for a in h) if mode == "LSTM" else torch.tensor(h[0])
    gout, gh = gm(gn.tensor(x), ghx)
    tout, th = tm(torch.tensor(x), thx)
    close(gout, tout, np.float64, "output")
    for g, t in zip(flat_states(mode, gh), flat_states(mode, th)):
        close(g, t, np.float64, "state")


@pytest.mark.parametrize("mode", MODES)
def test_state_dict_names_and_init_as_torch(mode):
    kw = dict(num_layers=2, bidirectional=True, bias=True)
    tm = torch.nn.RNN(7, 50, **kw) if mode.startswith("RNN") else getattr(torch.nn, mode)(7, 50, **kw)
    gm = nn.RNN(7, 50, **kw) if mode.startswith("RNN") else getattr(nn, mode)(7, 50, **kw)
    assert list(gm.state_dict()) == list(tm.state_dict())
    for (gname, g), (tname, t) in zip(gm.named_parameters(), tm.named_parameters()):
        assert gname == tname and tuple(g.shape) == tuple(t.shape)
    values = np.concatenate([p.detach().numpy().ravel() for p in gm.parameters()])
    bound = 1 / np.sqrt(50)
    assert values.min() >= -bound and values.max() <= bound
    assert abs(values.std() - bound / np.sqrt(3)) < 0.02 * bound  # the std of U(-b, b)
    assert repr(gm).replace("glassnet.nn", "") == repr(tm)
    assert len(gm.all_weights) == 4 and gm._flat_weights_names == tm._flat_weights_names


CELLS = [("RNNCell", dict(nonlinearity="tanh")), ("RNNCell", dict(nonlinearity="relu")), ("LSTMCell", {}),
         ("GRUCell", {})]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_h", [True, False])
@pytest.mark.parametrize("cell", range(len(CELLS)))
def test_cells_match_torch(cell, with_h, batched, dtype, rng):
    name, kw = CELLS[cell]
    tc = getattr(torch.nn, name)(5, 7, **kw).to(T_DTYPE[dtype])
    gc = getattr(nn, name)(5, 7, **kw).to(GN_DTYPE[dtype])
    gc.load_state_dict({k: gn.tensor(v.detach().numpy()) for k, v in tc.state_dict().items()})
    lead = (3,) if batched else ()
    x = rng.standard_normal(lead + (5,)).astype(dtype)
    gx, tx = gn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    n = 2 if name == "LSTMCell" else 1
    hs = [rng.standard_normal(lead + (7,)).astype(dtype) for _ in range(n)] if with_h else []
    gh = [gn.tensor(h, requires_grad=True) for h in hs]
    th = [torch.tensor(h, requires_grad=True) for h in hs]
    arg = lambda s: (tuple(s) if n == 2 else s[0]) if s else None  # noqa: E731
    gout, tout = gc(gx, arg(gh)), tc(tx, arg(th))
    gouts, touts = (list(gout), list(tout)) if n == 2 else ([gout], [tout])
    gl = tl = 0
    for k, (g, t) in enumerate(zip(gouts, touts)):
        close(g, t, dtype, f"cell output {k}")
        w = rng.standard_normal(tuple(t.shape)).astype(dtype)
        gl = gl + (g * gn.tensor(w)).sum()
        tl = tl + (t * torch.tensor(w)).sum()
    gl.backward()
    tl.backward()
    close(gx.grad, tx.grad, dtype, "input gradient")
    for g, t in zip(gh, th):
        close(g.grad, t.grad, dtype, "state gradient")
    tparams = dict(tc.named_parameters())
    for pname, p in gc.named_parameters():
        close(p.grad, tparams[pname].grad, dtype, f"gradient of {pname}")


def test_cell_in_a_python_loop_matches_layer(rng):
    """An LSTMCell unrolled by hand gives the LSTM layer's numbers (same weights)."""
    layer = nn.LSTM(3, 4).double()
    cell = nn.LSTMCell(3, 4).double()
    cell.load_state_dict({k[:-3]: v for k, v in layer.state_dict().items()})
    x = gn.tensor(rng.standard_normal((6, 2, 3)))
    out, (h_n, c_n) = layer(x)
    h = c = gn.zeros(2, 4, dtype=gn.float64)
    for t in range(6):
        h, c = cell(x[t], (h, c))
        np.testing.assert_allclose(h.detach().numpy(), out[t].detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(c.detach().numpy(), c_n[0].detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("mode", MODES)
def test_gradcheck_float64(mode, rng):
    """Input, initial states and every parameter of a 2-layer bidirectional
    layer with unequal lengths, against central differences."""
    from glassnet.nn._functional.rnn import rnn

    G = {"LSTM": 4, "GRU": 3}.get(mode, 1)
    H = 3
    shapes = []
    for layer in range(2):
        for _ in range(2):
            shapes += [(G * H, 2 if layer == 0 else 2 * H), (G * H, H), (G * H,), (G * H,)]
    params = [gn.tensor(rng.uniform(-0.6, 0.6, s), requires_grad=True) for s in shapes]
    x = gn.tensor(rng.standard_normal((4, 2, 2)), requires_grad=True)
    h0 = gn.tensor(rng.standard_normal((4, 2, H)), requires_grad=True)
    c0 = gn.tensor(rng.standard_normal((4, 2, H)), requires_grad=True)
    lengths = gn.tensor([4, 3])

    def fn(x, h0, c0, *ps):
        hx = (h0, c0) if mode == "LSTM" else h0
        out, h = rnn(mode, x, hx, list(ps), num_layers=2, bias=True, dropout=0.0, training=False,
                     bidirectional=True, lengths=lengths)
        hs = list(h) if mode == "LSTM" else [h]
        return (out * out).sum() + sum((s * s * s).sum() for s in hs)

    assert gn.autograd.gradcheck(fn, (x, h0, c0, *params), eps=1e-6, atol=1e-6)


def test_double_backward_is_a_clear_error(rng):
    m = nn.GRU(2, 3).double()
    x = gn.tensor(rng.standard_normal((3, 1, 2)), requires_grad=True)
    out, _ = m(x)
    with pytest.raises(RuntimeError, match="double backward"):
        gn.autograd.grad(out.sum(), x, create_graph=True)


def test_no_grad_forward_matches(rng):
    m = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    x = gn.tensor(rng.standard_normal((5, 2, 3)).astype(np.float32))
    out, (h, c) = m(x)
    with gn.no_grad():
        out2, (h2, c2) = m(x)
    assert out2.grad_fn is None and out.grad_fn is not None
    np.testing.assert_array_equal(out.detach().numpy(), out2.numpy())
    np.testing.assert_array_equal(c.detach().numpy(), c2.numpy())


# ---- bad input ----------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
def test_bad_input_is_a_clear_error(mode):
    cls = nn.RNN if mode.startswith("RNN") else getattr(nn, mode)
    m = cls(4, 5, num_layers=2)
    with pytest.raises(ValueError, match=r"input_size. Expected 4, got 3.*\(6, 2, 3\)"):
        m(gn.zeros(6, 2, 3))
    with pytest.raises(ValueError, match=r"sequence length 0"):
        m(gn.zeros(0, 2, 4))
    with pytest.raises(ValueError, match=r"2D or 3D, got 4D"):
        m(gn.zeros(1, 6, 2, 4))
    bad_h = gn.zeros(1, 2, 5)
    with pytest.raises(ValueError, match=r"Expected hidden size \(2, 2, 5\).*got \(1, 2, 5\)"):
        m(gn.zeros(6, 2, 4), (bad_h, bad_h) if mode == "LSTM" else bad_h)
    with pytest.raises(ValueError, match=r"lengths\[1\] = 7 is out of range \[0, 6\]"):
        m(gn.zeros(6, 2, 4), lengths=[3, 7])
    with pytest.raises(ValueError, match=r"lengths\[0\] = -1"):
        m(gn.zeros(6, 2, 4), lengths=[-1, 2])
    with pytest.raises(ValueError, match=r"one length per batch element, shape \(2,\), got \(3,\)"):
        m(gn.zeros(6, 2, 4), lengths=[1, 2, 3])
    with pytest.raises(TypeError, match="lengths must be integers"):
        m(gn.zeros(6, 2, 4), lengths=[1.5, 2.0])
    with pytest.raises(ValueError, match="must have the type"):
        m(gn.zeros(6, 2, 4, dtype=gn.float64))


def test_bad_cell_input_and_constructor_arguments():
    cell = nn.GRUCell(4, 5)
    with pytest.raises(ValueError, match="inconsistent input_size: got 3 expected 4"):
        cell(gn.zeros(2, 3))
    with pytest.raises(ValueError, match=r"Expected hidden size \(2, 5\).*got \(3, 5\)"):
        cell(gn.zeros(2, 4), gn.zeros(3, 5))
    with pytest.raises(TypeError, match="tuple"):
        nn.LSTMCell(4, 5)(gn.zeros(2, 4), gn.zeros(2, 5))
    with pytest.raises(ValueError, match="hidden_size must be greater than zero"):
        nn.LSTM(3, 0)
    with pytest.raises(ValueError, match="Unknown nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="dropout should be a number"):
        nn.GRU(3, 4, num_layers=2, dropout=1.5)
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="only supported for LSTM"):
        nn.RNNBase("GRU", 3, 4, proj_size=2)


def test_core_checks_name_the_shapes():
    """The C++ boundary checks what the Python layer would not (direct calls)."""
    from glassnet import _C

    x = gn.zeros(3, 2, 4)
    w = (gn.zeros(20, 4)._impl, gn.zeros(20, 5)._impl, None, None, None)
    with pytest.raises(ValueError, match=r"\[lstm\] input of shape \(3, 2, 4\) has input_size 4, but weight_ih"):
        _C.rnn_layer_forward(_C.RnnMode.LSTM, x._impl, None, None, [(gn.zeros(20, 3)._impl,) + w[1:]], None)
    with pytest.raises(ValueError, match=r"\[gru\] expected weight_hh of shape \(3·hidden_size"):
        _C.rnn_layer_forward(_C.RnnMode.GRU, x._impl, None, None, [w], None)
    with pytest.raises(ValueError, match=r"expected h0 of shape \(1, 2, 5\)"):
        _C.rnn_layer_forward(_C.RnnMode.LSTM, x._impl, gn.zeros(1, 3, 5)._impl, None, [w], None)
    with pytest.raises(ValueError, match=r"expected weight_hr of shape \(3, 5\)"):
        w_p = (gn.zeros(20, 4)._impl, gn.zeros(20, 3)._impl, None, None, gn.zeros(3, 4)._impl)
        _C.rnn_layer_forward(_C.RnnMode.LSTM, x._impl, None, None, [w_p], None)
    with pytest.raises(ValueError, match=r"only an LSTM has a projection"):
        _C.rnn_layer_forward(_C.RnnMode.GRU, x._impl, None, None, [w[:4] + (gn.zeros(3, 5)._impl,)], None)
    with pytest.raises(TypeError, match="float32 or float64"):
        _C.rnn_layer_forward(_C.RnnMode.LSTM, gn.zeros(3, 2, 4, dtype=gn.int64)._impl, None, None, [w], None)


def test_bad_input_never_crashes_the_interpreter():
    code = ("import glassnet as gn\nfrom glassnet import _C\n"
            "for args in [(gn.zeros(0, 2, 4),), (gn.zeros(3, 0, 4),)]:\n"
            "    m = gn.nn.LSTM(4, 5, bidirectional=True)\n"
            "    try:\n        out, _ = m(*args); print(tuple(out.shape))\n"
            "    except ValueError as e:\n        print('ValueError', e)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "ValueError" in r.stdout and "(3, 0, 10)" in r.stdout


@pytest.mark.parametrize("mode", MODES)
def test_frozen_weights_still_give_input_gradients(mode, rng):
    tm, gm = make_pair(mode, np.float64, 3, 4, num_layers=2, bidirectional=True)
    tm.requires_grad_(False)
    gm.requires_grad_(False)
    x = rng.standard_normal((5, 2, 3))
    gx, tx = gn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (gm(gx)[0] ** 2).sum().backward()
    (tm(tx)[0] ** 2).sum().backward()
    close(gx.grad, tx.grad, np.float64, "input gradient")
    assert all(p.grad is None for p in gm.parameters())


@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("config", [dict(), dict(num_layers=2, bidirectional=True, with_h0=True),
                                    dict(num_layers=2, batch_first=True, bias=False, with_h0=True),
                                    dict(bidirectional=True, with_h0=True, lengths=[2, 5, 4])])
def test_lstm_projection_matches_torch(config, dtype, rng):
    gm = run_parity("LSTM", dtype, rng, proj_size=3, **config)
    assert tuple(gm.weight_hr_l0.shape) == (3, 6) and "proj_size=3" in repr(gm)


def test_gradcheck_lstm_projection_float64(rng):
    from glassnet.nn._functional.rnn import rnn

    H, P = 4, 2
    shapes = []
    for layer in range(2):
        for _ in range(2):
            shapes += [(4 * H, 3 if layer == 0 else 2 * P), (4 * H, P), (4 * H,), (4 * H,), (P, H)]
    params = [gn.tensor(rng.uniform(-0.6, 0.6, s), requires_grad=True) for s in shapes]
    x = gn.tensor(rng.standard_normal((3, 2, 3)), requires_grad=True)
    h0 = gn.tensor(rng.standard_normal((4, 2, P)), requires_grad=True)
    c0 = gn.tensor(rng.standard_normal((4, 2, H)), requires_grad=True)

    def fn(x, h0, c0, *ps):
        out, (h, c) = rnn("LSTM", x, (h0, c0), list(ps), num_layers=2, bias=True, dropout=0.0, training=False,
                          bidirectional=True, lengths=gn.tensor([3, 2]), proj=True)
        return (out * out).sum() + (h * h * h).sum() + (c * c * c).sum()

    assert gn.autograd.gradcheck(fn, (x, h0, c0, *params), eps=1e-6, atol=1e-6)
