"""Training step of a recurrent layer, glassnet against PyTorch on the same
weights and data, timed alternately in this process (medians of repeats).

One step: forward over the whole sequence, MSE loss against a target,
backward, SGD step. Default: LSTM(32→128) and GRU(32→128), one layer,
batch 32 × 50 time steps, float32.

    python benchmarks/bench_rnn.py [--threads 2] [--repeats 30] [--modes LSTM GRU]
                                   [--batch 32] [--steps 50] [--input 32] [--hidden 128]
                                   [--layers 1] [--bidirectional] [--block 4] [--processes N]

Before timing, the first step's loss and every gradient are compared between
the two libraries, so both compute the same thing. torch runs its own CPU
LSTM (oneDNN when built with it) with its default settings.

The libraries alternate in blocks of --block steps run back to back, as in a
training loop, and the first step of each block is not timed: a thread pool
keeps its idle threads spinning for a while after a parallel region, so that
step shares its cores with the other library's spinning threads (torch's
OpenMP threads spin ~16 ms after each region here, libgomp's 300000 spins of
a 54 ns pause: longer than a whole glassnet step; glassnet's pool ~1 ms).
--block 1 times strictly alternating single steps instead.

--processes N runs each library in a process of its own instead, N rounds
alternating between the two, and reports the median of the rounds' medians:
the way to compare with nothing of one library in the other's process."""
import argparse
import os
import statistics
import time

import numpy as np

import glassnet as gn


def build(lib, mode, weights, args):
    cls = getattr(lib.nn, mode)
    model = cls(args.input, args.hidden, num_layers=args.layers, bidirectional=args.bidirectional)
    model.load_state_dict({k: lib.from_numpy(v.copy()) for k, v in weights.items()})
    opt = lib.optim.SGD(model.parameters(), lr=0.01)
    mse = lib.nn.functional.mse_loss

    def step(x, target):
        out, _ = model(x)
        loss = mse(out, target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return model, step


def bench(mode, args):
    import torch

    ref = getattr(torch.nn, mode)(args.input, args.hidden, num_layers=args.layers, bidirectional=args.bidirectional)
    weights = {k: v.detach().numpy().copy() for k, v in ref.state_dict().items()}
    rng = np.random.default_rng(0)
    D = 2 if args.bidirectional else 1
    x = rng.standard_normal((args.steps, args.batch, args.input)).astype(np.float32)
    y = rng.standard_normal((args.steps, args.batch, D * args.hidden)).astype(np.float32)
    gx, gy = gn.from_numpy(x), gn.from_numpy(y)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    g_model, g_step = build(gn, mode, weights, args)
    t_model, t_step = build(torch, mode, weights, args)

    # The same first step: equal losses and gradients (float32 rounding).
    g_loss, t_loss = g_step(gx, gy).item(), t_step(tx, ty).item()
    assert abs(g_loss - t_loss) <= 1e-4 * abs(t_loss), (g_loss, t_loss)
    t_grads = dict(t_model.named_parameters())
    for name, p in g_model.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), t_grads[name].grad.numpy(), rtol=1e-3, atol=1e-6, err_msg=name)

    times = {"glassnet": [], "torch": []}
    cpu = {"glassnet": [], "torch": []}
    for _ in range(3):  # warm-up
        g_step(gx, gy)
        t_step(tx, ty)
    rounds = -(-args.repeats // max(args.block - 1, 1))
    for _ in range(rounds):
        for name, run in (("glassnet", lambda: g_step(gx, gy)), ("torch", lambda: t_step(tx, ty))):
            for k in range(args.block):
                start, start_cpu = time.perf_counter(), time.thread_time()
                run()
                if k > 0 or args.block == 1:
                    times[name].append(time.perf_counter() - start)
                    cpu[name].append(time.thread_time() - start_cpu)
    g, t = statistics.median(times["glassnet"]), statistics.median(times["torch"])
    shape = (f"{mode}({args.input}→{args.hidden}{', layers=' + str(args.layers) if args.layers > 1 else ''}"
             f"{', bidirectional' if args.bidirectional else ''}), batch {args.batch} × {args.steps} steps")
    # Flops of the GEMMs: forward 2·T·B·G·(I+H), backward twice that.
    G = {"LSTM": 4, "GRU": 3, "RNN": 1}[mode] * args.hidden
    flops = 3 * 2 * args.steps * args.batch * G * (args.input + args.hidden) * D * args.layers
    runs = "alternating single runs" if args.block == 1 else f"runs in alternating blocks of {args.block}"
    print(f"{shape}: training step (forward + MSE + backward + SGD), float32, {args.threads} thread(s), "
          f"medians of {len(times['glassnet'])} {runs}")
    print(f"  glassnet {g * 1e3:8.2f} ms/step  ({flops / g / 1e9:5.1f} GFLOP/s)")
    print(f"  torch    {t * 1e3:8.2f} ms/step  ({flops / t / 1e9:5.1f} GFLOP/s)")
    print(f"  ratio glassnet/torch = {g / t:.2f}  (target <= 1.0)")
    if args.threads == 1:
        # On one thread all work runs on this thread: its CPU time is the
        # work itself, untouched by other processes holding the cores.
        gc, tc = statistics.median(cpu["glassnet"]), statistics.median(cpu["torch"])
        print(f"  thread CPU time: glassnet {gc * 1e3:.2f} ms, torch {tc * 1e3:.2f} ms, ratio {gc / tc:.2f}")
    return g / t


def one_library(mode, args):
    """Median seconds per step of one library alone in this process (--only):
    the weights drawn from numpy as torch's init draws them, so both
    processes of a round train the same network on the same data."""
    import importlib

    lib = importlib.import_module("glassnet" if args.only == "glassnet" else "torch")
    lib.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    model = getattr(lib.nn, mode)(args.input, args.hidden, num_layers=args.layers, bidirectional=args.bidirectional)
    bound = 1.0 / np.sqrt(args.hidden)
    weights = {k: rng.uniform(-bound, bound, tuple(v.shape)).astype(np.float32) for k, v in model.state_dict().items()}
    _, step = build(lib, mode, weights, args)
    D = 2 if args.bidirectional else 1
    x = lib.from_numpy(rng.standard_normal((args.steps, args.batch, args.input)).astype(np.float32))
    y = lib.from_numpy(rng.standard_normal((args.steps, args.batch, D * args.hidden)).astype(np.float32))
    for _ in range(5):
        step(x, y)
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        step(x, y)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_processes(mode, args):
    """Each library in a process of its own, the processes alternating
    (--processes rounds): no library's idle threads share a process with the
    other's timed steps, and torch keeps its default OpenMP settings."""
    import json
    import subprocess
    import sys

    medians = {"glassnet": [], "torch": []}
    for _ in range(args.processes):
        for name in medians:
            cmd = [sys.executable, __file__, "--only", name, "--modes", mode] + [
                f"--{k}={v}" for k, v in vars(args).items()
                if k in ("threads", "repeats", "batch", "steps", "input", "hidden", "layers")]
            if args.bidirectional:
                cmd.append("--bidirectional")
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            medians[name].append(json.loads(out.strip().splitlines()[-1])["seconds"])
    g, t = statistics.median(medians["glassnet"]), statistics.median(medians["torch"])
    print(f"{mode}({args.input}→{args.hidden}), batch {args.batch} × {args.steps} steps, {args.threads} thread(s): "
          f"one process per library and round, {args.processes} alternating rounds of {args.repeats} steps "
          f"(medians of the rounds' medians)")
    print(f"  glassnet {g * 1e3:8.2f} ms/step   rounds: {' '.join(f'{v * 1e3:.2f}' for v in medians['glassnet'])}")
    print(f"  torch    {t * 1e3:8.2f} ms/step   rounds: {' '.join(f'{v * 1e3:.2f}' for v in medians['torch'])}")
    print(f"  ratio glassnet/torch = {g / t:.2f}  (target <= 1.0)")
    return g / t


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", 2)))
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--modes", nargs="+", default=["LSTM", "GRU"], choices=["LSTM", "GRU", "RNN"])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--input", type=int, default=32)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--bidirectional", action="store_true")
    parser.add_argument("--block", type=int, default=4,
                        help="steps per library back to back; the first of each block is not timed (1: strict "
                             "alternation, every step timed)")
    parser.add_argument("--processes", type=int, default=0,
                        help="instead: this many rounds of one process per library, alternating")
    parser.add_argument("--only", choices=["glassnet", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.only:
        import json

        print(json.dumps({"seconds": one_library(args.modes[0], args)}))
        return
    if args.processes:
        print(f"load average {os.getloadavg()[0]:.2f}")
        for mode in args.modes:
            bench_processes(mode, args)
        return

    import torch

    gn.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    print(f"load average {os.getloadavg()[0]:.2f}, glassnet GEMM kernels: {gn._C.gemm_kernel_name()}"
          if hasattr(gn._C, "gemm_kernel_name") else f"load average {os.getloadavg()[0]:.2f}")
    for mode in args.modes:
        bench(mode, args)


if __name__ == "__main__":
    main()
