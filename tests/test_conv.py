"""Convolutions: conv1d, conv2d, conv_transpose1d, conv_transpose2d and their
layers against torch (forward and the gradients of input, weight and bias),
gradcheck in float64, double backward, the layers' parameters and init, bad
input, and the conv models training on the digits."""
import numpy as np
import pytest

import glassnet as gn
import glassnet.nn.functional as F
from glassnet.nn.modules.conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from nn_parity import parity

torch = pytest.importorskip("torch")
TF = torch.nn.functional

DTYPES = [np.float32, np.float64]
CONV_TOL = {np.float32: dict(rtol=2e-4, atol=2e-4), np.float64: dict(rtol=1e-10, atol=1e-10)}

# (N, C_in, H, W, C_out, (kh, kw), stride, padding, dilation, groups, bias)
CONV2D_CASES = [
    (2, 3, 7, 9, 4, (3, 3), 1, 1, 1, 1, True),        # odd sizes, pad 1
    (1, 1, 5, 5, 1, (5, 5), 1, 0, 1, 1, True),        # batch 1, kernel = input
    (2, 4, 8, 8, 6, (3, 3), 2, 0, 2, 2, False),       # stride, dilation, groups
    (2, 4, 9, 6, 8, (1, 1), 1, 0, 1, 1, True),        # 1x1: plain GEMM
    (2, 6, 9, 6, 4, (1, 1), 2, 1, 1, 2, True),        # 1x1 with stride and padding: im2col
    (2, 4, 6, 7, 8, (3, 3), 1, 1, 1, 4, True),        # depthwise, channel multiplier 2
    (3, 5, 7, 7, 5, (3, 2), (2, 1), (1, 0), (1, 2), 5, True),  # depthwise, rectangular everything
    (2, 3, 10, 11, 5, (4, 3), (3, 2), (2, 1), (2, 1), 1, True),
    (4, 8, 16, 16, 8, (3, 3), 1, 1, 1, 1, True),      # large enough for threads over the batch
    (0, 3, 5, 5, 2, (3, 3), 1, 0, 1, 1, True),        # empty batch
]


def _conv2d_args(case):
    n, c, h, w, k, (kh, kw), stride, padding, dilation, groups, bias = case
    shapes = [(n, c, h, w), (k, c // groups, kh, kw), (k,) if bias else None]
    return shapes, dict(stride=stride, padding=padding, dilation=dilation, groups=groups)


def _arrays(shapes, dtype, rng):
    return [None if s is None else rng.standard_normal(s).astype(dtype) for s in shapes]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CONV2D_CASES)
def test_conv2d_matches_torch(case, dtype, rng):
    shapes, kw = _conv2d_args(case)
    parity(lambda x, w, b: F.conv2d(x, w, b, **kw), lambda x, w, b: TF.conv2d(x, w, b, **kw),
           _arrays(shapes, dtype, rng), dtype, rng, tol=CONV_TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv2d_non_contiguous_input_and_weight(dtype, rng):
    x = rng.standard_normal((2, 3, 9, 7)).astype(dtype)   # (N, C, W, H): transposed to (N, C, H, W)
    w = rng.standard_normal((4, 3, 2, 3)).astype(dtype)   # (K, C, kw, kh)
    b = rng.standard_normal(4).astype(dtype)
    tr = lambda t: t.transpose(-1, -2)  # noqa: E731
    parity(lambda x, w, b: F.conv2d(x, w, b, padding=1), lambda x, w, b: TF.conv2d(x, w, b, padding=1),
           [x, w, b], dtype, rng, views=[tr, tr, None], tol=CONV_TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv2d_channels_last_view(dtype, rng):
    x = rng.standard_normal((2, 6, 5, 3)).astype(dtype)   # NHWC memory, viewed as NCHW
    w = rng.standard_normal((4, 3, 3, 3)).astype(dtype)
    view = lambda t: t.permute(0, 3, 1, 2)  # noqa: E731
    parity(lambda x, w: F.conv2d(x, w, stride=2), lambda x, w: TF.conv2d(x, w, stride=2), [x, w], dtype, rng,
           views=[view, None], tol=CONV_TOL[dtype])


TORCH_SAME_WARNING = "ignore:Using padding='same' with even kernel:UserWarning"


@pytest.mark.filterwarnings(TORCH_SAME_WARNING)
@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("kernel,dilation", [((3, 3), 1), ((4, 2), 1), ((2, 3), (2, 3))])
def test_conv2d_string_padding(padding, kernel, dilation, rng):
    x, w, b = _arrays([(2, 3, 8, 7), (4, 3) + kernel, (4,)], np.float64, rng)
    parity(lambda x, w, b: F.conv2d(x, w, b, padding=padding, dilation=dilation),
           lambda x, w, b: TF.conv2d(x, w, b, padding=padding, dilation=dilation), [x, w, b], np.float64, rng)


def test_conv2d_unbatched_input(rng):
    x, w = _arrays([(3, 6, 6), (2, 3, 3, 3)], np.float64, rng)
    out, ref = parity(lambda x, w: F.conv2d(x, w, padding=1), lambda x, w: TF.conv2d(x, w, padding=1), [x, w],
                      np.float64, rng)
    assert tuple(out.shape) == (2, 6, 6)


# (N, C_in, L, C_out, k, stride, padding, dilation, groups, bias)
CONV1D_CASES = [
    (2, 3, 11, 4, 3, 1, 1, 1, 1, True),
    (1, 4, 9, 8, 2, 2, 0, 3, 2, False),
    (3, 4, 10, 4, 5, 1, "same", 1, 4, True),
    (2, 2, 7, 3, 4, 1, "same", 2, 1, True),
    (2, 2, 7, 3, 4, 3, "valid", 1, 1, True),
]


@pytest.mark.filterwarnings(TORCH_SAME_WARNING)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CONV1D_CASES)
def test_conv1d_matches_torch(case, dtype, rng):
    n, c, length, k, ks, stride, padding, dilation, groups, bias = case
    arrays = _arrays([(n, c, length), (k, c // groups, ks), (k,) if bias else None], dtype, rng)
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    parity(lambda x, w, b: F.conv1d(x, w, b, **kw), lambda x, w, b: TF.conv1d(x, w, b, **kw), arrays, dtype, rng,
           tol=CONV_TOL[dtype])


# (N, C_in, H, W, C_out, (kh, kw), stride, padding, output_padding, groups, dilation, bias)
CONVT2D_CASES = [
    (2, 3, 5, 6, 4, (3, 3), 1, 0, 0, 1, 1, True),
    (2, 4, 4, 5, 6, (3, 3), 2, 1, 1, 2, 1, True),
    (1, 4, 3, 3, 2, (2, 2), 2, 0, 0, 1, 1, False),
    (2, 6, 4, 4, 3, (3, 2), (2, 3), (1, 0), (1, 2), 3, (1, 2), True),
    (2, 4, 5, 5, 4, (3, 3), 1, 1, (1, 0), 4, 2, True),   # depthwise, output_padding < dilation
    (2, 8, 6, 6, 4, (1, 1), 1, 0, 0, 1, 1, True),        # 1x1
    (0, 3, 4, 4, 2, (3, 3), 2, 1, 1, 1, 1, True),        # empty batch
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CONVT2D_CASES)
def test_conv_transpose2d_matches_torch(case, dtype, rng):
    n, c, h, w, k, (kh, kw), stride, padding, output_padding, groups, dilation, bias = case
    arrays = _arrays([(n, c, h, w), (c, k // groups, kh, kw), (k,) if bias else None], dtype, rng)
    kwargs = dict(stride=stride, padding=padding, output_padding=output_padding, groups=groups, dilation=dilation)
    parity(lambda x, w, b: F.conv_transpose2d(x, w, b, **kwargs),
           lambda x, w, b: TF.conv_transpose2d(x, w, b, **kwargs), arrays, dtype, rng, tol=CONV_TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv_transpose1d_matches_torch(dtype, rng):
    arrays = _arrays([(2, 4, 7), (4, 3, 3), (6,)], dtype, rng)
    kwargs = dict(stride=2, padding=1, output_padding=1, groups=2, dilation=1)
    parity(lambda x, w, b: F.conv_transpose1d(x, w, b, **kwargs),
           lambda x, w, b: TF.conv_transpose1d(x, w, b, **kwargs), arrays, dtype, rng, tol=CONV_TOL[dtype])


def _gn_inputs(arrays):
    return [None if a is None else gn.tensor(a, requires_grad=True) for a in arrays]


@pytest.mark.parametrize("kw", [dict(stride=1, padding=1), dict(stride=2, padding=0, dilation=2, groups=2),
                                dict(padding=1, groups=4)])
def test_conv2d_gradcheck(kw, rng):
    x, w, b = _gn_inputs(_arrays([(2, 4, 6, 5), (4, 4 // kw.get("groups", 1), 3, 3), (4,)], np.float64, rng))
    assert gn.autograd.gradcheck(lambda x, w, b: F.conv2d(x, w, b, **kw), (x, w, b))


def test_conv_transpose2d_gradcheck(rng):
    x, w, b = _gn_inputs(_arrays([(2, 4, 3, 4), (4, 3, 3, 2), (6,)], np.float64, rng))
    kw = dict(stride=2, padding=1, output_padding=1, groups=2)
    assert gn.autograd.gradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, **kw), (x, w, b))


def test_conv1d_gradcheck(rng):
    x, w, b = _gn_inputs(_arrays([(2, 3, 8), (2, 3, 3), (2,)], np.float64, rng))
    assert gn.autograd.gradcheck(lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1), (x, w, b))


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("groups", [1, 2])
def test_double_backward_matches_torch(transposed, groups, rng):
    """create_graph=True: the gradients are built from differentiable convolutions."""
    x, w, b = _arrays([(2, 4, 6, 5), (4, 4 // groups, 3, 3), (4,)], np.float64, rng)
    kw = (dict(stride=2, padding=1, output_padding=1, groups=groups) if transposed
          else dict(stride=2, padding=1, dilation=1, groups=groups))
    gn_fn, t_fn = (F.conv_transpose2d, TF.conv_transpose2d) if transposed else (F.conv2d, TF.conv2d)
    results = []
    for lib, fn, make in ((gn, gn_fn, gn.tensor), (torch, t_fn, torch.tensor)):
        xs, ws, bs = (make(a, requires_grad=True) for a in (x, w, b))
        y = fn(xs, ws, bs, **kw)
        gx, gw = lib.autograd.grad((y * y).sum(), (xs, ws), create_graph=True)
        ((gx * gx).sum() + (gw * gw).sum()).backward()
        results.append([t.grad.detach().numpy() for t in (xs, ws, bs)])
    for a, r in zip(*results):
        np.testing.assert_allclose(a, r, rtol=1e-9, atol=1e-9)


# ---- layers --------------------------------------------------------------------------


def test_conv2d_layer_parameters_and_init():
    layer = Conv2d(6, 8, (3, 5), stride=2, padding=1, groups=2)
    assert tuple(layer.weight.shape) == (8, 3, 3, 5) and tuple(layer.bias.shape) == (8,)
    assert list(layer.state_dict()) == ["weight", "bias"]
    bound = 1 / np.sqrt(3 * 3 * 5)   # kaiming_uniform_(a=sqrt(5)) and the bias share 1/sqrt(fan_in)
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert np.abs(b).max() <= bound
    assert Conv2d(2, 2, 1, bias=False).bias is None
    assert ConvTranspose2d(4, 6, 3, groups=2).weight.shape == (4, 3, 3, 3)
    assert Conv1d(3, 5, 4).weight.shape == (5, 3, 4)
    assert "kernel_size=(3, 5), stride=(2, 2), padding=(1, 1), groups=2" in repr(layer)


def _copy_params(src, dst):
    with torch.no_grad():
        for name, p in dst.named_parameters():
            p.copy_(torch.tensor(dict(src.named_parameters())[name].detach().numpy()))


@pytest.mark.parametrize("padding_mode", ["zeros", "reflect", "replicate", "circular"])
def test_conv2d_layer_padding_modes_match_torch(padding_mode, rng):
    ours = Conv2d(3, 4, 3, padding=(1, 2), dilation=(1, 2), padding_mode=padding_mode, dtype=gn.float64)
    ref = torch.nn.Conv2d(3, 4, 3, padding=(1, 2), dilation=(1, 2), padding_mode=padding_mode, dtype=torch.float64)
    _copy_params(ours, ref)
    x = rng.standard_normal((2, 3, 6, 7))
    np.testing.assert_allclose(ours(gn.tensor(x)).detach().numpy(), ref(torch.tensor(x)).detach().numpy(),
                               rtol=1e-10, atol=1e-12)


def test_conv1d_and_transposed_layers_match_torch(rng):
    pairs = [(Conv1d(3, 4, 3, padding="same", dtype=gn.float64), torch.nn.Conv1d(3, 4, 3, padding="same",
                                                                                 dtype=torch.float64), (2, 3, 9)),
             (ConvTranspose1d(3, 4, 3, stride=2, dtype=gn.float64),
              torch.nn.ConvTranspose1d(3, 4, 3, stride=2, dtype=torch.float64), (2, 3, 5)),
             (ConvTranspose2d(3, 4, 3, stride=2, padding=1, dtype=gn.float64),
              torch.nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, dtype=torch.float64), (2, 3, 4, 5))]
    for ours, ref, shape in pairs:
        _copy_params(ours, ref)
        x = rng.standard_normal(shape)
        np.testing.assert_allclose(ours(gn.tensor(x)).detach().numpy(), ref(torch.tensor(x)).detach().numpy(),
                                   rtol=1e-10, atol=1e-12)


def test_conv_transpose2d_output_size(rng):
    ours = ConvTranspose2d(2, 3, 3, stride=2, padding=1, dtype=gn.float64)
    ref = torch.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, dtype=torch.float64)
    _copy_params(ours, ref)
    x = rng.standard_normal((1, 2, 4, 4))
    out = ours(gn.tensor(x), output_size=(8, 8))
    assert tuple(out.shape) == (1, 3, 8, 8)
    np.testing.assert_allclose(out.detach().numpy(), ref(torch.tensor(x), output_size=(8, 8)).detach().numpy(),
                               rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="not reachable"):
        ours(gn.tensor(x), output_size=(12, 12))


# ---- bad input -------------------------------------------------------------------------


def test_conv2d_kernel_larger_than_padded_input():
    with pytest.raises(ValueError, match=r"\(5, 5\).*larger than the padded input size \(4, 4\).*\(1, 1, 2, 2\)"):
        F.conv2d(gn.zeros(1, 1, 2, 2), gn.zeros(1, 1, 5, 5), padding=1)


def test_conv2d_channels_not_divisible_by_groups():
    with pytest.raises(ValueError, match=r"input channels 3 of input \(1, 3, 4, 4\).*groups=2"):
        F.conv2d(gn.zeros(1, 3, 4, 4), gn.zeros(2, 1, 3, 3), groups=2)
    with pytest.raises(ValueError, match=r"output channels 3.*groups=2"):
        F.conv2d(gn.zeros(1, 4, 4, 4), gn.zeros(3, 2, 3, 3), groups=2)
    with pytest.raises(ValueError, match="divisible by groups"):
        Conv2d(3, 4, 3, groups=2)


def test_conv2d_weight_channel_mismatch():
    with pytest.raises(ValueError, match=r"weight \(2, 3, 3, 3\).*3 input channels.*\(1, 4, 5, 5\)"):
        F.conv2d(gn.zeros(1, 4, 5, 5), gn.zeros(2, 3, 3, 3))


@pytest.mark.parametrize("fn,x,w", [(F.conv2d, (4, 4), (1, 1, 3, 3)), (F.conv2d, (1, 1, 1, 4, 4), (1, 1, 3, 3)),
                                    (F.conv1d, (4,), (1, 1, 3)), (F.conv1d, (1, 1, 4), (1, 3)),
                                    (F.conv_transpose2d, (2, 2), (1, 1, 3, 3))])
def test_wrong_rank(fn, x, w):
    with pytest.raises(ValueError, match=r"expected .*got (input|weight) of shape"):
        fn(gn.zeros(*x), gn.zeros(*w))


def test_bad_arguments():
    x, w = gn.zeros(1, 2, 5, 5), gn.zeros(2, 2, 3, 3)
    with pytest.raises(ValueError, match="strided"):
        F.conv2d(x, w, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding must be"):
        F.conv2d(x, w, padding="full")
    with pytest.raises(ValueError, match="positive stride"):
        F.conv2d(x, w, stride=0)
    with pytest.raises(TypeError, match="dtype"):
        F.conv2d(x, gn.zeros(2, 2, 3, 3, dtype=gn.float64))
    with pytest.raises(ValueError, match=r"bias of shape \(2,\)"):
        F.conv2d(x, w, gn.zeros(3))
    with pytest.raises(ValueError, match="output_padding"):
        F.conv_transpose2d(x, w, stride=2, output_padding=2)
    with pytest.raises(TypeError, match="stride"):
        F.conv2d(x, w, stride=(1, 2, 3))


# ---- models ----------------------------------------------------------------------------


@pytest.mark.parametrize("size", [8, 28, 32])
def test_lenet5_shapes(size):
    from glassnet.conv_models import lenet5, lenet5_for_input
    model = lenet5(num_classes=10, input_size=size)
    assert tuple(model(gn.zeros(3, 1, size, size)).shape) == (3, 10)
    assert tuple(model(gn.zeros(3, size * size)).shape) == (3, 10)   # flat rows, as the digits come
    assert tuple(lenet5_for_input((1, size, size))(gn.zeros(2, size, size)).shape) == (2, 10)
    if size == 28:   # LeNet-5 with a fully connected C3: 61,706 parameters
        assert sum(p.numel() for p in model.parameters()) == 61706


def test_small_cnn_trains_on_digits():
    """small_cnn on the 8x8 digits: four epochs of Adam with a one-cycle schedule
    reach 99% or more on the 360 held-out digits (three seeds tried); 98% leaves room."""
    sklearn = pytest.importorskip("sklearn.datasets")
    from glassnet.conv_models import small_cnn
    digits = sklearn.load_digits()
    x = (digits.data / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(0).permutation(len(x))
    train, test = order[:1437], order[1437:]
    model = small_cnn(num_classes=10, input_size=8)
    opt = gn.optim.Adam(model.parameters(), lr=3e-3)
    epochs, batch = 4, 32
    sched = gn.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=epochs * -(-len(train) // batch))
    batch_rng = np.random.default_rng(1)
    for _ in range(epochs):
        model.train()
        perm = batch_rng.permutation(train)
        for i in range(0, len(perm), batch):
            idx = perm[i:i + batch]
            loss = F.cross_entropy(model(gn.tensor(x[idx])), gn.tensor(y[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    model.eval()
    with gn.no_grad():
        pred = model(gn.tensor(x[test])).numpy().argmax(1)
    assert (pred == y[test]).mean() >= 0.98
