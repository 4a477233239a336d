"""GEMM against numpy (OpenBLAS) and torch (MKL/oneDNN): float32 GFLOP/s for
the shapes issue 3 names — squares, the MNIST-MLP layer and its two backprop
forms, and small training shapes."""
import numpy as np

import glassnet as gn

# (label, M, K, N, form): form says which operand is read transposed,
# as backprop does (NT: x·Wᵀ, the linear forward; TN: gᵀ·x, the weight grad).
SQUARES = [(f"square {n}", n, n, n, "NN") for n in (256, 512, 1024, 2048)]
MLP_LAYER = [
    ("4096x784 · 784x256", 4096, 784, 256, "NN"),
    ("(784x4096)ᵀ · 4096x256", 784, 4096, 256, "TN"),
    ("4096x256 · (784x256)ᵀ", 4096, 256, 784, "NT"),
]
TRAINING = [
    (f"{m}x{k} · {k}x{n}", m, k, n, "NN")
    for m, k, n in [(32, 64, 256), (32, 256, 128), (32, 128, 10), (64, 784, 256), (128, 256, 256),
                    (256, 1024, 1024), (256, 64, 1024)]
]
SHAPES = {"squares": SQUARES, "mlp": MLP_LAYER, "training": TRAINING}


def _operands(m, k, n, form, rng):
    a = rng.standard_normal((k, m) if form == "TN" else (m, k)).astype(np.float32)
    b = rng.standard_normal((n, k) if form == "NT" else (k, n)).astype(np.float32)
    return a, b


def candidates(m, k, n, form, torch, rng):
    """{library: zero-argument callable computing the product}."""
    a, b = _operands(m, k, n, form, rng)
    ga, gb = gn.from_numpy(a), gn.from_numpy(b)
    if form == "TN":
        out = {"glassnet": lambda: ga.t() @ gb, "numpy": lambda: a.T @ b}
    elif form == "NT":
        out = {"glassnet": lambda: ga @ gb.t(), "numpy": lambda: a @ b.T}
    else:
        out = {"glassnet": lambda: ga @ gb, "numpy": lambda: a @ b}
    if torch is not None:
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        out["torch"] = {"TN": lambda: ta.t() @ tb, "NT": lambda: ta @ tb.t(), "NN": lambda: ta @ tb}[form]
    # The product must be right before its speed means anything.
    ref = candidates_reference(a, b, form)
    np.testing.assert_allclose(out["glassnet"]().numpy(), ref, rtol=2e-3, atol=2e-3 * np.sqrt(k))
    return out


def candidates_reference(a, b, form):
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    return (a64.T if form == "TN" else a64) @ (b64.T if form == "NT" else b64)


def flops(m, k, n):
    return 2.0 * m * k * n
