"""nn.Module's API: registration, names, traversal, hooks, state_dict,
train/eval, dtype conversion, containers and Parameter."""
import copy
from collections import OrderedDict

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn


class Affine(nn.Module):
    """x W^T + b from tensor ops only, so these tests do not depend on nn.functional."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(gn.randn(n_out, n_in))
        self.bias = nn.Parameter(gn.randn(n_out))

    def forward(self, x):
        return x @ self.weight.t() + self.bias


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = Affine(4, 3)
        self.act = nn.Identity()
        self.fc2 = Affine(3, 2)
        self.register_buffer("steps", gn.zeros(1))
        self.register_buffer("scratch", gn.zeros(2), persistent=False)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


# ---- Parameter ---------------------------------------------------------------------------
def test_parameter_is_a_tensor_that_requires_grad():
    t = gn.randn(2, 3)
    p = nn.Parameter(t)
    assert isinstance(p, gn.Tensor) and isinstance(p, nn.Parameter)
    assert p.requires_grad and p.is_leaf
    assert p.data_ptr() == t.data_ptr()  # shares memory, as torch
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert not nn.Parameter(gn.randn(2), requires_grad=False).requires_grad
    # usable as any tensor: arithmetic, backward
    (p * 2).sum().backward()
    np.testing.assert_allclose(p.grad.numpy(), np.full((2, 3), 2.0))
    assert nn.Parameter().shape == (0,)


def test_parameter_rejects_non_tensors():
    with pytest.raises(TypeError, match="Parameter"):
        nn.Parameter([1.0, 2.0])


# ---- registration and attribute access --------------------------------------------------
def test_setattr_registers_parameters_modules_and_buffers():
    net = Net()
    assert set(net._parameters) == set()
    assert list(net._modules) == ["fc1", "act", "fc2"]
    assert set(net.fc1._parameters) == {"weight", "bias"}
    assert list(net._buffers) == ["steps", "scratch"]
    assert "fc1" not in net.__dict__ and "weight" not in net.fc1.__dict__
    assert net.fc1.weight is net.fc1._parameters["weight"]


def test_assigning_wrong_types_raises():
    lin = nn.Linear(2, 3)
    with pytest.raises(TypeError, match="parameter 'weight'"):
        lin.weight = gn.randn(3, 2)
    net = Net()
    with pytest.raises(TypeError, match="child module 'fc1'"):
        net.fc1 = 3
    with pytest.raises(TypeError, match="buffer 'steps'"):
        net.steps = 3.0
    lin.bias = None  # None is allowed and keeps the name registered
    assert "bias" in lin._parameters and lin.bias is None
    assert [n for n, _ in lin.named_parameters()] == ["weight"]


def test_register_errors():
    m = nn.Module()
    with pytest.raises(KeyError, match="contain"):
        m.register_parameter("a.b", nn.Parameter(gn.randn(1)))
    with pytest.raises(KeyError, match="empty"):
        m.register_buffer("", gn.zeros(1))
    with pytest.raises(TypeError, match="parameter 'p'"):
        m.register_parameter("p", gn.zeros(1))
    m.x = 5
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("x", gn.zeros(1))
    with pytest.raises(TypeError):
        m.add_module("c", 3)
    with pytest.raises(ValueError, match="non-leaf"):
        m.register_parameter("q", _non_leaf_param())
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        m.nope


def _non_leaf_param():
    p = nn.Parameter(gn.randn(2))
    q = nn.Parameter.__new__(nn.Parameter, gn.randn(2))
    q.grad_fn = (p * 2).grad_fn
    return q


def test_assign_before_init_raises():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(gn.randn(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()


def test_reassigning_a_name_moves_it_between_kinds():
    m = nn.Module()
    m.register_buffer("x", gn.zeros(2))
    m.x = nn.Parameter(gn.ones(2))
    assert "x" in m._parameters and "x" not in m._buffers
    m.y = 3
    m.y = nn.Linear(1, 1)
    assert "y" in m._modules and "y" not in m.__dict__
    del m.y
    assert "y" not in m._modules
    del m.x
    assert "x" not in m._parameters
    with pytest.raises(AttributeError):
        m.x


def test_init_rejects_arguments():
    with pytest.raises(TypeError):
        nn.Module(3)


# ---- traversal --------------------------------------------------------------------------------
def test_named_parameters_buffers_modules_children():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert [n for n, _ in net.named_parameters(recurse=False)] == []
    assert [n for n, _ in net.fc1.named_parameters(prefix="x")] == ["x.weight", "x.bias"]
    assert len(list(net.parameters())) == 4
    assert [n for n, _ in net.named_buffers()] == ["steps", "scratch"]
    assert [n for n, _ in net.named_modules()] == ["", "fc1", "act", "fc2"]
    assert [n for n, _ in net.named_children()] == ["fc1", "act", "fc2"]
    assert list(net.children()) == [net.fc1, net.act, net.fc2]
    assert list(net.modules())[0] is net


def test_shared_parameters_and_modules_are_reported_once():
    shared = nn.Linear(3, 3)
    seq = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(seq.parameters())) == 2
    assert [n for n, _ in seq.named_modules()] == ["", "0", "1"]
    assert len(list(seq.named_modules(remove_duplicate=False))) == 4
    assert len(list(seq.named_parameters(remove_duplicate=False))) == 4
    # tied weights across two different modules
    a, b = nn.Linear(2, 2), nn.Linear(2, 2)
    b.weight = a.weight
    m = nn.Sequential(a, b)
    assert [n for n, _ in m.named_parameters()] == ["0.weight", "0.bias", "1.bias"]
    assert list(m.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_get_submodule_parameter_buffer():
    net = nn.Sequential(OrderedDict(enc=nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))))
    assert net.get_submodule("enc.1") is net.enc[1]
    assert net.get_parameter("enc.0.bias") is net.enc[0].bias
    assert net.get_buffer("enc.1.running_var") is net.enc[1].running_var
    with pytest.raises(AttributeError):
        net.get_submodule("enc.7")
    with pytest.raises(AttributeError):
        net.get_parameter("enc.0.nope")


def test_dir_lists_registered_names():
    net = Net()
    names = dir(net)
    assert "fc1" in names and "steps" in names and "forward" in names


# ---- calling and hooks -------------------------------------------------------------------------
def test_forward_missing_raises():
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(gn.zeros(1))


def test_forward_pre_hook_and_forward_hook_can_replace_values():
    m = Affine(2, 2)
    x = gn.randn(3, 2)
    calls = []
    h1 = m.register_forward_pre_hook(lambda mod, args: calls.append(("pre", mod)) or (args[0] * 0,))
    h2 = m.register_forward_hook(lambda mod, args, out: calls.append(("post", out.shape)) or out + 1)
    out = m(x)
    np.testing.assert_allclose(out.detach().numpy(), m.bias.detach().numpy() + 1 + np.zeros((3, 2)), rtol=1e-6)
    assert calls == [("pre", m), ("post", (3, 2))]
    h1.remove()
    h2.remove()
    np.testing.assert_allclose(m(x).detach().numpy(), m.forward(x).detach().numpy())
    h2.remove()  # removing twice is harmless


def test_hook_order_prepend_and_kwargs():
    m = Affine(2, 2)
    order = []
    m.register_forward_hook(lambda *a: order.append("a"))
    m.register_forward_hook(lambda *a: order.append("b"), prepend=True)
    m.register_forward_pre_hook(lambda mod, args, kwargs: order.append(("kw", tuple(kwargs))) or None,
                                with_kwargs=True)
    m.register_forward_hook(lambda mod, args, kwargs, out: order.append("c"), with_kwargs=True)

    class KW(Affine):
        def forward(self, x, scale=1.0):
            return super().forward(x) * scale

    k = KW(2, 2)
    k.register_forward_pre_hook(lambda mod, args, kwargs: (args, {"scale": 0.0}), with_kwargs=True)
    assert np.all(k(gn.randn(2, 2), scale=5.0).detach().numpy() == 0)
    m(gn.randn(1, 2))
    assert order == [("kw", ()), "b", "a", "c"]


def test_hook_handle_context_manager_and_always_call():
    m = Affine(2, 2)
    seen = []
    with m.register_forward_hook(lambda mod, args, out: seen.append(out)):
        m(gn.randn(1, 2))
    m(gn.randn(1, 2))
    assert len(seen) == 1

    class Boom(nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    b = Boom()
    got = []
    b.register_forward_hook(lambda mod, args, out: got.append(out), always_call=True)
    with pytest.raises(ValueError, match="boom"):
        b(gn.zeros(1))
    assert got == [None]


def test_full_backward_hook_sees_input_and_output_grads():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    w = rng.standard_normal((3, 4)).astype(np.float32)
    x = rng.standard_normal((5, 4)).astype(np.float32)
    gw = rng.standard_normal((5, 3)).astype(np.float32)

    results = {}
    for lib in (gn, torch):
        class Mat(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.weight = lib.nn.Parameter(lib.tensor(w))

            def forward(self, x, scale):
                return (x @ self.weight.t()) * scale, x * 2

        m = Mat()
        captured = []
        m.register_full_backward_hook(
            lambda mod, gi, go: captured.append(([None if g is None else g.numpy().copy() for g in gi],
                                                 [None if g is None else g.numpy().copy() for g in go])))
        xt = lib.tensor(x, requires_grad=True)
        out, doubled = m(xt, 3.0)
        ((out * lib.tensor(gw)).sum() + doubled.sum()).backward()
        results[lib.__name__] = (captured, xt.grad.numpy())
    (gi, go), = results["glassnet"][0]
    (tgi, tgo), = results["torch"][0]
    # one grad_input entry per positional argument (None for the float), one grad_output per output
    assert len(gi) == len(tgi) == 2 and gi[1] is None and tgi[1] is None and len(go) == len(tgo) == 2
    for a, b in zip(go + gi[:1], tgo + tgi[:1]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(results["glassnet"][1], results["torch"][1], rtol=1e-5, atol=1e-6)


def test_full_backward_hook_can_replace_grad_input_and_pre_hook_grad_output():
    m = Affine(3, 3)
    x = gn.randn(2, 3, requires_grad=True)
    m.register_full_backward_hook(lambda mod, gi, go: (gi[0] * 0 + 7,))
    m(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full((2, 3), 7.0))

    m2 = Affine(3, 3)
    x2 = gn.randn(2, 3, requires_grad=True)
    m2.register_full_backward_pre_hook(lambda mod, go: (go[0] * 0,))
    m2(x2).sum().backward()
    np.testing.assert_allclose(x2.grad.numpy(), np.zeros((2, 3)))
    np.testing.assert_allclose(m2.weight.grad.numpy(), np.zeros((3, 3)))


def test_full_backward_hook_without_input_grad_gets_none():
    m = Affine(3, 2)
    seen = []
    h = m.register_full_backward_hook(lambda mod, gi, go: seen.append((gi, go[0].shape)))
    m(gn.randn(4, 3)).sum().backward()
    assert seen == [((None,), (4, 2))]
    assert m.weight.grad is not None
    h.remove()
    m(gn.randn(4, 3)).sum().backward()
    assert len(seen) == 1


def test_backward_hooks_are_skipped_under_no_grad():
    m = Affine(3, 2)
    m.register_full_backward_hook(lambda *a: pytest.fail("must not run"))
    with gn.no_grad():
        out = m(gn.randn(1, 3))
    assert not out.requires_grad


# ---- modes, grads, apply ---------------------------------------------------------------------------
def test_train_eval_propagate():
    net = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(), nn.BatchNorm1d(2)))
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net[1].train(False)
    assert net.training and not net[1][0].training
    with pytest.raises(ValueError, match="boolean"):
        net.train("yes")


def test_zero_grad_and_requires_grad_():
    m = Affine(2, 2)
    m(gn.randn(3, 2)).sum().backward()
    assert m.weight.grad is not None
    m.zero_grad(set_to_none=False)
    assert np.all(m.weight.grad.numpy() == 0)
    m.zero_grad()
    assert m.weight.grad is None and m.bias.grad is None
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())
    m.requires_grad_()
    assert all(p.requires_grad for p in m.parameters())


def test_apply_visits_children_first():
    net = Net()
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Affine", "Identity", "Affine", "Net"]


# ---- dtype and device ---------------------------------------------------------------------------------
def test_double_float_and_to_keep_parameter_identity():
    net = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    w = net[0].weight
    before = w.detach().numpy().copy()
    net[0].weight.grad = gn.ones(2, 3)
    assert net.double() is net
    assert net[0].weight is w and w.dtype == gn.float64 and w.requires_grad
    assert w.grad.dtype == gn.float64
    assert net[1].running_mean.dtype == gn.float64
    assert net[1].num_batches_tracked.dtype == gn.int64  # integer buffers keep their dtype
    np.testing.assert_allclose(w.detach().numpy(), before, rtol=1e-7)
    net.to(gn.float32)
    assert w.dtype == gn.float32
    net.to(dtype=gn.float64)
    assert w.dtype == gn.float64
    net.float()
    assert all(p.dtype == gn.float32 for p in net.parameters())
    net.to("cpu")
    net.cpu()
    assert w.device == gn.device("cpu")
    with pytest.raises(TypeError, match="floating point"):
        net.to(gn.int64)
    net.to(gn.zeros(1, dtype=gn.float64))
    assert w.dtype == gn.float64
    net.to("cpu", gn.float32, non_blocking=True)
    assert w.dtype == gn.float32
    net.to("cpu", True)
    with pytest.raises(TypeError, match="unexpected"):
        net.to(copy=True)


@pytest.mark.skipif(not gn.cuda.is_available(), reason="needs CUDA")
def test_cuda_moves_parameters_and_buffers():
    net = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2)).cuda()
    assert all(p.is_cuda for p in net.parameters())
    assert all(b.is_cuda for b in net.buffers())
    net.cpu()
    assert not any(p.is_cuda for p in net.parameters())


# ---- state_dict ----------------------------------------------------------------------------------------
def test_state_dict_names_order_and_sharing():
    net = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Linear(3, 2, bias=False))
    sd = net.state_dict()
    assert isinstance(sd, OrderedDict)
    assert list(sd) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                        "1.num_batches_tracked", "3.weight"]
    assert not sd["0.weight"].requires_grad
    assert sd["0.weight"].data_ptr() == net[0].weight.data_ptr()
    assert net.state_dict(keep_vars=True)["0.weight"] is net[0].weight
    assert list(net.state_dict(prefix="model."))[0] == "model.0.weight"
    # non-persistent buffers stay out
    assert list(Net().state_dict()) == ["steps", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]


def test_state_dict_matches_torch_names():
    torch = pytest.importorskip("torch")

    def build(lib):
        n = lib.nn
        return n.Sequential(OrderedDict(
            fc1=n.Linear(4, 3), bn=n.BatchNorm1d(3), blocks=n.ModuleList([n.LayerNorm(3), n.Linear(3, 3)]),
            heads=n.ModuleDict({"a": n.Linear(3, 1), "emb": n.Embedding(5, 3)}), gn=n.GroupNorm(1, 3)))

    assert list(build(gn).state_dict()) == list(build(torch).state_dict())


def test_load_state_dict_round_trip():
    src = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
    with gn.no_grad():
        src[1].running_mean.fill_(0.5)
        src[1].num_batches_tracked.fill_(7)
    dst = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
    w = dst[0].weight
    result = dst.load_state_dict(src.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    assert dst[0].weight is w  # copied into, not replaced
    for (k, a), (_, b) in zip(src.state_dict().items(), dst.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
        assert a.data_ptr() != b.data_ptr()
    assert dst[1].num_batches_tracked.item() == 7


def test_load_state_dict_from_numpy_and_other_dtype():
    lin = nn.Linear(2, 2)
    w = np.arange(4, dtype=np.float64).reshape(2, 2)
    lin.load_state_dict({"weight": w, "bias": np.array([1.0, 2.0], dtype=np.float32)})
    assert lin.weight.dtype == gn.float32
    np.testing.assert_array_equal(lin.weight.detach().numpy(), w.astype(np.float32))
    lin.load_state_dict({"weight": gn.ones(2, 2, dtype=gn.float64), "bias": gn.zeros(2)})
    np.testing.assert_array_equal(lin.weight.detach().numpy(), np.ones((2, 2), np.float32))


def test_load_state_dict_strict_and_non_strict():
    lin = nn.Linear(2, 2)
    sd = {"weight": gn.zeros(2, 2), "extra": gn.zeros(1)}
    with pytest.raises(RuntimeError) as e:
        lin.load_state_dict(sd)
    msg = str(e.value)
    assert "Error(s) in loading state_dict for Linear" in msg
    assert 'Missing key(s) in state_dict: "bias"' in msg
    assert 'Unexpected key(s) in state_dict: "extra"' in msg
    result = lin.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["extra"]
    missing, unexpected = result
    assert missing == ["bias"]
    assert np.all(lin.weight.detach().numpy() == 0)


def test_load_state_dict_nested_unexpected_and_missing_names():
    net = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Linear(2, 2)))
    sd = net.state_dict()
    del sd["1.0.bias"]
    sd["1.0.gamma"] = gn.zeros(1)
    sd["2.weight"] = gn.zeros(1)
    result = net.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["1.0.bias"]
    assert sorted(result.unexpected_keys) == ["1.0.gamma", "2.weight"]


def test_load_state_dict_shape_mismatch_is_a_clear_error():
    lin = nn.Linear(2, 3)
    with pytest.raises(RuntimeError, match=r"size mismatch for weight: copying a param with shape \(2, 3\) "
                                           r"from checkpoint, the shape in current model is \(3, 2\)"):
        lin.load_state_dict({"weight": gn.zeros(2, 3), "bias": gn.zeros(3)})
    with pytest.raises(RuntimeError, match="size mismatch"):  # strict=False does not excuse shapes
        lin.load_state_dict({"bias": np.zeros(4)}, strict=False)
    with pytest.raises(TypeError, match="dict-like"):
        lin.load_state_dict([1, 2])


def test_load_state_dict_assign_replaces_tensors():
    lin = nn.Linear(2, 2)
    new_w = gn.ones(2, 2)
    lin.load_state_dict({"weight": new_w, "bias": gn.zeros(2)}, assign=True)
    assert isinstance(lin.weight, nn.Parameter) and lin.weight.requires_grad
    assert lin.weight.data_ptr() == new_w.data_ptr()


def test_batchnorm_loads_state_dict_without_num_batches_tracked():
    bn = nn.BatchNorm1d(3)
    sd = {k: v for k, v in nn.BatchNorm1d(3).state_dict().items() if k != "num_batches_tracked"}
    assert bn.load_state_dict(sd).missing_keys == []


def test_state_dict_torch_round_trip():
    torch = pytest.importorskip("torch")
    tnet = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3), torch.nn.Linear(3, 2))
    with torch.no_grad():
        tnet[1].running_mean.uniform_()
    gnet = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Linear(3, 2))
    gnet.load_state_dict({k: v.numpy() for k, v in tnet.state_dict().items()})
    back = {k: torch.tensor(v.numpy()) for k, v in gnet.state_dict().items()}
    tnet2 = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3), torch.nn.Linear(3, 2))
    tnet2.load_state_dict(back)
    for (k, a), b in zip(tnet.state_dict().items(), tnet2.state_dict().values()):
        assert torch.equal(a, b), k
    # torch tensors are accepted directly as well
    gnet.load_state_dict(tnet.state_dict())


def test_state_dict_and_load_hooks():
    lin = nn.Linear(2, 2)
    def drop_bias(module, sd, prefix, meta):
        del sd[prefix + "bias"]

    lin.register_state_dict_hook(drop_bias)
    assert list(lin.state_dict()) == ["weight"]
    seen = []
    lin2 = nn.Linear(2, 2)
    lin2.register_load_state_dict_post_hook(lambda m, keys: seen.append(list(keys.missing_keys)))
    lin2.load_state_dict(lin.state_dict(), strict=False)
    assert seen == [["bias"]]


# ---- copy and repr ---------------------------------------------------------------------------------
def test_deepcopy_clones_parameters_and_buffers():
    net = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    twin = copy.deepcopy(net)
    assert twin[0].weight is not net[0].weight
    assert isinstance(twin[0].weight, nn.Parameter) and twin[0].weight.requires_grad
    assert twin[0].weight.data_ptr() != net[0].weight.data_ptr()
    np.testing.assert_array_equal(twin[0].weight.detach().numpy(), net[0].weight.detach().numpy())
    with gn.no_grad():
        twin[1].running_mean.fill_(3)
    assert np.all(net[1].running_mean.numpy() == 0)
    # a plain tensor attribute (not registered) is cloned too
    net[0].scale = gn.ones(2)
    twin = copy.deepcopy(net)
    assert twin[0].scale is not net[0].scale and twin[0].scale.data_ptr() != net[0].scale.data_ptr()


def test_repr_matches_torch():
    torch = pytest.importorskip("torch")

    def build(lib):
        n = lib.nn
        return n.Sequential(n.Linear(4, 3), n.ReLU(), n.Sequential(n.Dropout(0.2), n.BatchNorm1d(3)),
                            n.ModuleList([n.Tanh(), n.LeakyReLU(0.2)]), n.LayerNorm(3), n.GroupNorm(1, 3),
                            n.Embedding(10, 3, padding_idx=0), n.Flatten(), n.Unflatten(1, (3, 1)),
                            n.Softmax(dim=1), n.GELU(approximate="tanh"), n.Hardtanh(-2.0, 2.0), n.ReLU6(),
                            n.ELU(alpha=0.5), n.Softplus(), n.Bilinear(2, 3, 4), n.CrossEntropyLoss(),
                            n.ModuleList(), n.Identity())

    assert repr(build(gn)) == repr(build(torch))


# ---- containers --------------------------------------------------------------------------------------
def test_sequential_indexing_slicing_and_editing():
    layers = [nn.Linear(2, 2), nn.ReLU(), nn.Tanh(), nn.Sigmoid()]
    seq = nn.Sequential(*layers)
    assert len(seq) == 4 and seq[0] is layers[0] and seq[-1] is layers[3]
    sub = seq[1:3]
    assert isinstance(sub, nn.Sequential) and list(sub) == layers[1:3]
    assert list(sub._modules) == ["1", "2"]
    with pytest.raises(IndexError):
        seq[4]
    seq[1] = nn.ELU()
    assert isinstance(seq[1], nn.ELU)
    del seq[0]
    assert list(seq._modules) == ["0", "1", "2"] and isinstance(seq[0], nn.ELU)
    seq.append(nn.Identity())
    assert len(seq) == 4 and isinstance(seq[3], nn.Identity)
    seq.insert(0, nn.ReLU())
    assert isinstance(seq[0], nn.ReLU) and list(seq._modules) == ["0", "1", "2", "3", "4"]
    assert isinstance(seq.pop(0), nn.ReLU) and len(seq) == 4
    both = seq + nn.Sequential(nn.Tanh())
    assert len(both) == 5
    named = nn.Sequential(OrderedDict(first=nn.Identity(), second=nn.Identity()))
    assert list(named._modules) == ["first", "second"] and named.first is named[0]


def test_sequential_forward_chains():
    a, b = Affine(3, 4), Affine(4, 2)
    x = gn.randn(5, 3)
    np.testing.assert_allclose(nn.Sequential(a, b)(x).detach().numpy(), b(a(x)).detach().numpy())
    assert nn.Sequential()(x) is x


def test_module_list():
    ml = nn.ModuleList([nn.Linear(1, 1) for _ in range(3)])
    assert len(ml) == 3 and len(list(ml.parameters())) == 6
    ml.append(nn.ReLU())
    ml.extend([nn.Tanh()])
    ml += [nn.Sigmoid()]
    assert [type(m).__name__ for m in ml][-3:] == ["ReLU", "Tanh", "Sigmoid"]
    ml.insert(1, nn.Identity())
    assert isinstance(ml[1], nn.Identity) and len(ml) == 7 and list(ml._modules) == [str(i) for i in range(7)]
    del ml[1]
    assert list(ml._modules) == [str(i) for i in range(6)]
    assert isinstance(ml[-1], nn.Sigmoid)
    assert isinstance(ml[1:3], nn.ModuleList) and len(ml[1:3]) == 2
    ml[0] = nn.ELU()
    assert isinstance(ml[0], nn.ELU)
    with pytest.raises(TypeError):
        ml.append(3)
    with pytest.raises(NotImplementedError):
        ml(gn.zeros(1))


def test_module_dict():
    md = nn.ModuleDict({"a": nn.Linear(1, 1), "b": nn.ReLU()})
    assert list(md.keys()) == ["a", "b"] and "a" in md and len(md) == 2
    md["c"] = nn.Tanh()
    md.update([("d", nn.Identity())])
    assert list(md) == ["a", "b", "c", "d"]
    assert isinstance(md.pop("b"), nn.ReLU) and "b" not in md
    assert [k for k, _ in md.items()] == ["a", "c", "d"]
    assert list(md.state_dict()) == ["a.weight", "a.bias"]
    md.clear()
    assert len(md) == 0
    with pytest.raises(ValueError):
        md.update([1, 2])


def test_identity_flatten_unflatten():
    x = gn.randn(2, 3, 4)
    assert nn.Identity(1, foo=2)(x) is x
    assert nn.Flatten()(x).shape == (2, 12)
    assert nn.Flatten(0, 1)(x).shape == (6, 4)
    assert nn.Unflatten(1, (3, 1))(x).shape == (2, 3, 1, 4)
    with pytest.raises(TypeError):
        nn.Unflatten(1, 3)


def test_call_is_cheap_without_hooks():
    # The no-hook path calls forward directly; parameters come from _parameters.
    m = Affine(2, 2)
    assert "weight" not in m.__dict__
    called = []
    m.forward = lambda x: called.append(x) or x
    m(1)
    assert called == [1]


def test_parameter_list_and_dict():
    pl = nn.ParameterList([gn.zeros(2, 3), nn.Parameter(gn.ones(3))])
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in pl)
    pl.append(gn.zeros(1))
    pl += [gn.zeros(4)]
    assert len(pl) == 4 and pl[-1].shape == (4,) and len(pl[1:3]) == 2
    pd = nn.ParameterDict({"a": gn.zeros(2)})
    pd["b"] = gn.ones(1)
    assert list(pd) == ["a", "b"] and "a" in pd and isinstance(pd["b"], nn.Parameter)
    m = nn.Module()
    m.pl, m.pd = pl, pd
    assert list(m.state_dict()) == ["pl.0", "pl.1", "pl.2", "pl.3", "pd.a", "pd.b"]
    assert len(list(m.parameters())) == 6
    with pytest.raises(TypeError):
        pl.append(3.0)
    with pytest.raises(RuntimeError):
        pl()


def test_parameter_list_repr_matches_torch():
    torch = pytest.importorskip("torch")
    got = repr(nn.ParameterList([gn.zeros(2, 3), gn.ones(3)])).replace("glassnet", "torch")
    assert got == repr(torch.nn.ParameterList([torch.zeros(2, 3), torch.ones(3)]))


def test_gradcheck_through_a_hooked_model():
    """Hooks that return None leave the gradients exact (float64 finite differences)."""
    gn.manual_seed(1)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.LayerNorm(4), nn.Linear(4, 2)).double()
    for m in model:
        m.register_forward_hook(lambda mod, args, out: None)
        m.register_full_backward_hook(lambda mod, gi, go: None)
        m.register_full_backward_pre_hook(lambda mod, go: None)
    x = gn.randn(5, 3, dtype=gn.float64, requires_grad=True)
    assert gn.autograd.gradcheck(lambda x: model(x), (x,))
