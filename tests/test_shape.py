"""View and shape ops: values, memory sharing, gradients, errors."""
import numpy as np
import pytest

import glassnet as gn
from op_helpers import compare

torch = pytest.importorskip("torch")

CASES = {
    "view": (lambda x: x.view(4, 6), lambda x: x.view(4, 6)),
    "view_infer": (lambda x: x.view(-1, 3), lambda x: x.view(-1, 3)),
    "reshape_of_transpose": (lambda x: x.t().reshape(-1), lambda x: x.t().reshape(-1)),
    "permute": (lambda x: x.reshape(2, 3, 4).permute(2, 0, 1), lambda x: x.reshape(2, 3, 4).permute(2, 0, 1)),
    "transpose": (lambda x: x.transpose(0, 1), lambda x: x.transpose(0, 1)),
    "T": (lambda x: x.T, lambda x: x.T),
    "unsqueeze": (lambda x: x.unsqueeze(1), lambda x: x.unsqueeze(1)),
    "squeeze": (lambda x: x.reshape(1, 6, 1, 4).squeeze(), lambda x: x.reshape(1, 6, 1, 4).squeeze()),
    "squeeze_dim": (lambda x: x.reshape(1, 6, 1, 4).squeeze(2), lambda x: x.reshape(1, 6, 1, 4).squeeze(2)),
    "expand": (lambda x: x[:1].expand(3, 6, 4), lambda x: x[:1].expand(3, 6, 4)),
    "flatten": (lambda x: x.reshape(2, 3, 4).flatten(1), lambda x: x.reshape(2, 3, 4).flatten(1)),
    "slice_step": (lambda x: x[1::2], lambda x: x[1::2]),
    "select": (lambda x: x[2], lambda x: x[2]),
    "narrow": (lambda x: x.narrow(1, 1, 2), lambda x: x.narrow(1, 1, 2)),
    "split": (lambda x: x.split(2, dim=0)[1], lambda x: x.split(2, dim=0)[1]),
    "chunk": (lambda x: x.chunk(3, 0)[2], lambda x: x.chunk(3, 0)[2]),
    "unbind": (lambda x: x.unbind(1)[3], lambda x: x.unbind(1)[3]),
    "contiguous": (lambda x: x.t().contiguous(), lambda x: x.t().contiguous()),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(CASES))
def test_shape_op_matches_torch(name, dtype, rng):
    g, t = CASES[name]
    compare(g, t, [rng.standard_normal((6, 4)).astype(dtype)], dtype, rng)


def test_views_share_storage():
    x = gn.arange(12, dtype=gn.float32).reshape(3, 4)
    for v in (x.view(4, 3), x.t(), x[1], x[:, ::2], x.unsqueeze(0), x.expand(2, 3, 4), x.narrow(0, 1, 1)):
        assert v._impl.storage_id() == x._impl.storage_id()
    v = x[1]
    with gn.no_grad():
        v.mul_(0)
    assert x[1].tolist() == [0.0] * 4


def test_reshape_copies_only_when_needed():
    x = gn.arange(12.0).reshape(3, 4)
    assert x.reshape(4, 3)._impl.storage_id() == x._impl.storage_id()
    y = x.t().reshape(12)
    assert y._impl.storage_id() != x._impl.storage_id()
    assert y.tolist() == x.numpy().T.reshape(12).tolist()


def test_view_of_incompatible_layout_raises():
    x = gn.zeros(3, 4).t()
    with pytest.raises(ValueError, match="use reshape"):
        x.view(12)


@pytest.mark.parametrize("fn,exc,match", [
    (lambda x: x.view(5, 5), ValueError, r"invalid for input of size 12"),
    (lambda x: x.view(-1, -1), ValueError, "only one dimension"),
    (lambda x: x.permute(0, 0), ValueError, "repeated dim"),
    (lambda x: x.permute(1), ValueError, "number of dims"),
    (lambda x: x.transpose(0, 5), IndexError, "out of range"),
    (lambda x: x.unsqueeze(4), IndexError, "out of range"),
    (lambda x: x.expand(3, 5), ValueError, "expanded size"),
    (lambda x: x[3], IndexError, "out of bounds"),
    (lambda x: x.narrow(0, 2, 5), ValueError, "exceeds dimension size"),
    (lambda x: x.flatten(1, 0), ValueError, "cannot come after"),
])
def test_shape_errors(fn, exc, match):
    with pytest.raises(exc, match=match):
        fn(gn.zeros(3, 4))


def test_size_zero_and_one_dims():
    x = gn.zeros(0, 3)
    assert x.reshape(3, 0).shape == (3, 0) and x.t().shape == (3, 0)
    assert x.reshape(-1, 3).shape == (0, 3)
    assert x[1:].shape == (0, 3)
    s = gn.tensor(5.0)
    assert s.reshape(1, 1).shape == (1, 1) and s.unsqueeze(0).shape == (1,)
    assert s.t().shape == () and s.T.shape == ()
