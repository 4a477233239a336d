"""One training epoch of a 64-256-128-10 ReLU MLP on the 8x8 digits (batch 32,
SGD with momentum), glassnet against PyTorch on the same weights, data and
batches, timed alternately in this process (medians of repeats).

    python benchmarks/bench_mlp.py [--threads 1] [--repeats 15] [--profile]

--profile splits glassnet's step time into time inside C++ kernels (calls
into glassnet._C) and everything else (Python: autograd nodes, modules,
optimiser bookkeeping).

torch keeps its default OpenMP settings: only glassnet and torch compute here,
and glassnet's idle workers sleep, so nothing needs quietening (making torch's
workers passive would slow its many small ops, unfairly)."""
import argparse
import cProfile
import os
import pstats
import statistics
import time

import numpy as np  # noqa: E402

import glassnet as gn  # noqa: E402

SIZES = (64, 256, 128, 10)
BATCH = 32


def load():
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(0).permutation(len(x))
    n_train = int(0.8 * len(x))
    return x[order[:n_train]], y[order[:n_train]]


def initial_weights(rng):
    """torch.nn.Linear's default init, drawn once and given to both libraries."""
    weights = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        bound = 1.0 / np.sqrt(fan_in)
        weights.append((rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32),
                        rng.uniform(-bound, bound, fan_out).astype(np.float32)))
    return weights


def batches(n, rng):
    order = rng.permutation(n)
    return [order[i:i + BATCH] for i in range(0, n, BATCH)]


def build(lib, weights):
    """The model, optimiser and a one-epoch function for `lib` (glassnet or torch)."""
    nn = lib.nn
    layers = []
    for i, (w, b) in enumerate(weights):
        layer = nn.Linear(w.shape[1], w.shape[0])
        layer.load_state_dict({"weight": lib.from_numpy(w.copy()), "bias": lib.from_numpy(b.copy())})
        layers += [layer, nn.ReLU()] if i < len(weights) - 1 else [layer]
    model = nn.Sequential(*layers)
    opt = lib.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    cross_entropy = lib.nn.functional.cross_entropy

    def epoch(x, y, order):
        for idx in order:
            xb, yb = x[idx], y[idx]
            loss = cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return loss

    return model, epoch


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", 2)))
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)

    import torch

    gn.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    x, y = load()
    rng = np.random.default_rng(1)
    weights = initial_weights(rng)
    order = batches(len(x), rng)
    gx, gy = gn.from_numpy(x), gn.from_numpy(y)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    g_order = [gn.from_numpy(i) for i in order]
    t_order = [torch.from_numpy(i) for i in order]
    _, g_epoch = build(gn, weights)
    _, t_epoch = build(torch, weights)

    # Same start, same batches: the first epoch's final losses must agree.
    g_loss, t_loss = g_epoch(gx, gy, g_order).item(), t_epoch(tx, ty, t_order).item()
    print(f"first-epoch final loss: glassnet {g_loss:.5f}, torch {t_loss:.5f}")

    times = {"glassnet": [], "torch": []}
    for _ in range(args.repeats):
        for name, run in (("glassnet", lambda: g_epoch(gx, gy, g_order)), ("torch", lambda: t_epoch(tx, ty, t_order))):
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    g, t = statistics.median(times["glassnet"]), statistics.median(times["torch"])
    steps = len(order)
    print(f"MLP 64-256-128-10, digits ({len(x)} samples), batch {BATCH}, SGD momentum, {args.threads} thread(s), "
          f"medians of {args.repeats} alternating epochs")
    print(f"  glassnet {g * 1e3:7.1f} ms/epoch  ({g / steps * 1e6:6.0f} us/step)")
    print(f"  torch    {t * 1e3:7.1f} ms/epoch  ({t / steps * 1e6:6.0f} us/step)")
    print(f"  ratio glassnet/torch = {g / t:.2f}  (target <= 1.0)")

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(5):
            g_epoch(gx, gy, g_order)
        profiler.disable()
        stats = pstats.Stats(profiler)
        total = stats.total_tt
        in_c = sum(tt for (file, _, func), (_, _, tt, _, _) in stats.stats.items()
                   if file == "~" and "glassnet._C" in func)
        per_step = 1e6 / (5 * steps)
        print(f"  profile (cProfile inflates Python time): {total * per_step:.0f} us/step, of which C++ kernels "
              f"{in_c * per_step:.0f} us ({100 * in_c / total:.0f}%), Python {(total - in_c) * per_step:.0f} us")
        stats.sort_stats("tottime").print_stats(12)


if __name__ == "__main__":
    main()
