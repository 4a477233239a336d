"""Elementwise ops, activations and reductions on large float32 tensors against
numpy (and torch), plus the bandwidth of a memory-bound op next to a plain
copy of the same bytes."""
import numpy as np

import glassnet as gn

SIZE = 1 << 20  # 1M elements, issue 3's threshold
ROWS = (1024, 1024)  # softmax over rows


def _sigmoid_np(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softmax_np(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def ops(rng):
    """(label, bytes moved per call, {library: fn}) for each op."""
    x = rng.standard_normal(SIZE).astype(np.float32)
    y = rng.standard_normal(SIZE).astype(np.float32)
    m = rng.standard_normal(ROWS).astype(np.float32)
    gx, gy, gm = gn.from_numpy(x), gn.from_numpy(y), gn.from_numpy(m)
    nbytes = x.nbytes
    table = [
        ("add", 3 * nbytes, {"glassnet": lambda: gx + gy, "numpy": lambda: x + y}),
        ("mul", 3 * nbytes, {"glassnet": lambda: gx * gy, "numpy": lambda: x * y}),
        ("exp", 2 * nbytes, {"glassnet": lambda: gx.exp(), "numpy": lambda: np.exp(x)}),
        ("tanh", 2 * nbytes, {"glassnet": lambda: gx.tanh(), "numpy": lambda: np.tanh(x)}),
        ("relu", 2 * nbytes, {"glassnet": lambda: gx.relu(), "numpy": lambda: np.maximum(x, 0)}),
        ("sigmoid", 2 * nbytes, {"glassnet": lambda: gx.sigmoid(), "numpy": lambda: _sigmoid_np(x)}),
        ("sum", nbytes, {"glassnet": lambda: gx.sum(), "numpy": lambda: x.sum()}),
        ("max", nbytes, {"glassnet": lambda: gx.amax(), "numpy": lambda: x.max()}),
        ("softmax rows 1024x1024", 2 * m.nbytes, {"glassnet": lambda: gm.softmax(1), "numpy": lambda: _softmax_np(m)}),
        ("copy (clone)", 2 * nbytes, {"glassnet": lambda: gx.clone(), "numpy": lambda: x.copy()}),
    ]
    return table


def torch_ops(torch, rng_state):
    """The same ops in torch, on the same data (rebuilt from the same seed)."""
    rng = np.random.default_rng(rng_state)
    x = torch.from_numpy(rng.standard_normal(SIZE).astype(np.float32))
    y = torch.from_numpy(rng.standard_normal(SIZE).astype(np.float32))
    m = torch.from_numpy(rng.standard_normal(ROWS).astype(np.float32))
    return {
        "add": lambda: x + y, "mul": lambda: x * y, "exp": lambda: x.exp(), "tanh": lambda: x.tanh(),
        "relu": lambda: x.relu(), "sigmoid": lambda: x.sigmoid(), "sum": lambda: x.sum(), "max": lambda: x.max(),
        "softmax rows 1024x1024": lambda: m.softmax(1), "copy (clone)": lambda: x.clone(),
    }


def memcpy_candidate(rng):
    """A plain copy into a preallocated buffer: the bandwidth a memory-bound op can hope for."""
    src = rng.standard_normal(SIZE).astype(np.float32)
    dst = np.empty_like(src)
    return 2 * src.nbytes, lambda: np.copyto(dst, src)
