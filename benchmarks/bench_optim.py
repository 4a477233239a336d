"""optimizer.step() time, glassnet against torch, in one process.

Two workloads: the six parameters of the 64-256-128-10 MLP (where the
per-step overhead dominates) and a 4M-element group (where memory bandwidth
does). Both libraries get identical weights and gradients; one step's results
are compared before anything is timed. Each line prints the medians of
repeated steps after warm-up, the bandwidth glassnet reaches (bytes of
parameters, gradients and state read and written per step) and the ratio.

    PYTHONPATH=python python3 benchmarks/bench_optim.py [--threads N]
"""
import argparse
import statistics
import time

import numpy as np
import torch

import glassnet as gn
from glassnet import optim

MLP = [(256, 64), (256,), (128, 256), (128,), (10, 128), (10,)]
LARGE = [(2048, 1024), (1024, 2048)]

# name, options, arrays touched per element: read p, g, state; write p, state.
CASES = [
    ("SGD", dict(lr=0.01, momentum=0.9), 5),
    ("Adam", dict(lr=1e-3), 7),
    ("AdamW", dict(lr=1e-3, weight_decay=1e-2), 7),
    ("RMSprop", dict(lr=1e-3), 5),
    ("Adagrad", dict(lr=1e-2), 5),
]


def median_time(fn, repeats, inner):
    for _ in range(3):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - t) / inner)
    return statistics.median(times)


def run(label, shapes, name, kw, arrays, repeats, inner):
    rng = np.random.default_rng(0)
    inits = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    grads = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    gp = [gn.tensor(w, requires_grad=True) for w in inits]
    tp = [torch.tensor(w, requires_grad=True) for w in inits]
    for p, g in zip(gp, grads):
        p.grad = gn.tensor(g)
    for p, g in zip(tp, grads):
        p.grad = torch.tensor(g)
    g_opt = getattr(optim, name)(gp, **kw)
    t_opt = getattr(torch.optim, name)(tp, foreach=False, **kw)
    g_opt.step()
    t_opt.step()
    for a, b in zip(gp, tp):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)
    g_time = median_time(g_opt.step, repeats, inner)
    t_time = median_time(t_opt.step, repeats, inner)
    numel = sum(int(np.prod(s)) for s in shapes)
    gbs = arrays * 4 * numel / g_time / 1e9
    print(f"{label:5s} {name:8s} {numel:>9,d} elems  glassnet {g_time * 1e6:9.1f} us  torch {t_time * 1e6:9.1f} us  "
          f"glassnet {gbs:6.1f} GB/s  torch/glassnet {t_time / g_time:5.2f}x")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    gn.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    print(f"threads: glassnet {gn.get_num_threads()}, torch {torch.get_num_threads()} (torch runs foreach=False, "
          "its CPU default)")
    for name, kw, arrays in CASES:
        run("mlp", MLP, name, kw, arrays, repeats=15, inner=50)
    for name, kw, arrays in CASES:
        run("large", LARGE, name, kw, arrays, repeats=7, inner=3)


if __name__ == "__main__":
    main()
