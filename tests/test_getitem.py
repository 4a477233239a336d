"""x[key], x[key] = v and the joining/gathering ops through the Python layer,
with gradients, against torch."""
import numpy as np
import pytest

import glassnet as gn
from glassnet._ops.index import one_hot
from op_helpers import compare

torch = pytest.importorskip("torch")

KEYS = [
    (1,), (-1,), (slice(1, 3),), (slice(None, None, 2),), (Ellipsis, 1), (None, 0), (1, slice(None), None),
    ([0, 2],), ((slice(None), [1, 1, 3])), ([[0, 1], [2, 0]],), ([0, 2], slice(None), [1, 0]),
    (slice(None), [0, 1], [2, 3]), (0, [1, 2]), ([1], Ellipsis, [0]), (Ellipsis, [3, 0]),
]


def _tkey(key, lib):
    """The same key with lists turned into index tensors of `lib`."""
    out = []
    for k in key if isinstance(key, tuple) else (key,):
        out.append(lib.tensor(k) if isinstance(k, list) else k)
    return tuple(out)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("key", KEYS, ids=[repr(k) for k in KEYS])
def test_getitem_matches_torch(key, dtype, rng):
    x = rng.uniform(-2, 2, size=(3, 4, 5)).astype(dtype)
    compare(lambda a: a[_tkey(key, gn)], lambda a: a[_tkey(key, torch)], [x], dtype, rng)


def test_getitem_lists_and_masks(rng):
    x = rng.uniform(-2, 2, size=(4, 5))
    compare(lambda a: a[[0, 3]], lambda a: a[[0, 3]], [x], np.float64, rng)
    mask = x[:, 0] > 0
    compare(lambda a: a[gn.tensor(mask)], lambda a: a[torch.tensor(mask)], [x], np.float64, rng)
    compare(lambda a: a[a > 0], lambda a: a[a > 0], [x], np.float64, rng)
    compare(lambda a: a[1:, [0, 0, 2]], lambda a: a[1:, [0, 0, 2]], [x], np.float64, rng, view=lambda a: a * 1)
    compare(lambda a: a.t()[::2, -1], lambda a: a.t()[::2, -1], [x], np.float64, rng)


def test_getitem_errors():
    x = gn.zeros(3, 4)
    with pytest.raises(IndexError, match="out of bounds"):
        x[3]
    with pytest.raises(IndexError, match="too many indices"):
        x[0, 0, 0]
    with pytest.raises(IndexError):
        x[gn.tensor([0, 7])]
    with pytest.raises(ValueError, match="step"):
        x[::-1]
    with pytest.raises(IndexError, match="ellipsis"):
        x[..., ...]
    with pytest.raises(TypeError):
        x["a"]


def test_setitem_matches_numpy(rng):
    a = rng.uniform(-2, 2, size=(4, 5))
    cases = [
        ((1,), 7.0), ((slice(None), 2), np.arange(4.0)), ((Ellipsis, slice(1, 3)), -1.0),
        (([0, 3],), np.ones(5)), ((a > 0.5,), 0.0), (([1, 2], [0, 4]), np.array([9.0, 8.0])),
    ]
    for key, value in cases:
        ref = a.copy()
        ref[key] = value
        t = gn.tensor(a)
        gkey = tuple(gn.tensor(k) if isinstance(k, (list, np.ndarray)) else k for k in key)
        t[gkey] = value if np.isscalar(value) else gn.tensor(value)
        np.testing.assert_array_equal(t.numpy(), ref)


def test_setitem_refuses_graph_tensors():
    leaf = gn.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        leaf[0] = 1.0
    with gn.no_grad():
        leaf[0] = 1.0
    assert leaf.tolist() == [1.0, 0.0, 0.0]


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat_and_stack_match_torch(dim, rng):
    shapes = [(2, 3), (2, 3), (2, 3)]
    arrays = [rng.uniform(-1, 1, size=s) for s in shapes]
    compare(lambda *t: gn.cat(t, dim), lambda *t: torch.cat(t, dim), arrays, np.float64, rng)
    compare(lambda *t: gn.stack(t, dim), lambda *t: torch.stack(t, dim), arrays, np.float64, rng)
    uneven = [rng.uniform(-1, 1, size=(2, 1)), rng.uniform(-1, 1, size=(2, 4))]
    compare(lambda *t: gn.cat(t, 1), lambda *t: torch.cat(t, 1), uneven, np.float64, rng)


def test_gather_scatter_index_select_repeat(rng):
    x = rng.uniform(-1, 1, size=(3, 4))
    idx = np.array([[0, 3], [1, 1], [2, 0]])
    compare(lambda a: a.gather(1, gn.tensor(idx)), lambda a: a.gather(1, torch.tensor(idx)), [x], np.float64, rng)
    compare(lambda a: a.index_select(1, gn.tensor([3, 0, 3])), lambda a: a.index_select(1, torch.tensor([3, 0, 3])),
            [x], np.float64, rng)
    src = rng.uniform(-1, 1, size=(3, 2))
    compare(lambda a, s: a.scatter_add(1, gn.tensor(idx), s), lambda a, s: a.scatter_add(1, torch.tensor(idx), s),
            [x, src], np.float64, rng)
    uniq = np.array([[0, 3], [1, 2], [2, 0]])
    compare(lambda a, s: a.scatter(1, gn.tensor(uniq), s), lambda a, s: a.scatter(1, torch.tensor(uniq), s),
            [x, src], np.float64, rng)
    compare(lambda a: a.repeat(2, 1, 3), lambda a: a.repeat(2, 1, 3), [x], np.float64, rng)
    labels = gn.tensor([0, 2, 1])
    np.testing.assert_array_equal(one_hot(labels, 4).numpy(), np.eye(4, dtype=np.int64)[[0, 2, 1]])


def test_nonzero_and_masked_select(rng):
    x = rng.uniform(-1, 1, size=(3, 4))
    np.testing.assert_array_equal(gn.tensor(x).nonzero().numpy(), np.argwhere(x))
    m = x > 0
    np.testing.assert_array_equal(gn.masked_select(gn.tensor(x), gn.tensor(m)).numpy(), x[m])
    compare(lambda a: a.masked_select(gn.tensor(m)), lambda a: a.masked_select(torch.tensor(m)), [x], np.float64, rng)
