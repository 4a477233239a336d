"""What watching a network costs: one training epoch of glassnet's small CNN
(conv_models.small_cnn: 3x3 conv → BatchNorm → ReLU blocks, 32/32/64
channels) on the 8x8 digits, batch 64, Adam, run through glassnet.train.fit
with and without statistics collection, timed in rounds (each variant once
per round, in a shuffled order): the median wall time, and the least CPU
time of the process over the rounds (on a shared machine neighbours only
ever add to it, so the least is the closest to the work itself; with one
thread that is what it measures). "paired" is the median over the rounds of
each variant's CPU time over that round's plain epoch, run within seconds of
it: a neighbour that slows the machine for a while slows both, so the ratio
moves less than either time when the machine is never quiet for long.

    python benchmarks/bench_record.py [--threads 1] [--repeats 9] [--batch 64] [--size 8]

--size 28 resizes the digits (bilinear) to 28x28, MNIST's size: 12 times the
convolution work per sample, for a network whose convolutions dominate.

This network is a hard case for the monitor: its layers are small (8x8 and
4x4 maps), so BatchNorm, ReLU and pooling cost about as much as the
convolutions, and statistics of every layer's output and gradient are a
noticeable share of the work.

Variants:
  plain           fit alone
  record stats    glassnet.explain.record(stats_only=True) on every leaf
                  layer: running statistics of outputs and output gradients
  HealthMonitor   the callback with activations and gradients of the
                  parameter and activation layers, weight statistics per
                  epoch, but no update ratios
  + update ratio  the callback in full (‖Δw‖/‖w‖ every step, which keeps a
                  copy of the weights)
  every=4         the full callback gathering layer statistics on every
                  fourth batch

The issue's target: recording statistics only adds < 10% to an epoch.
"""
import argparse
import os
import random
import statistics
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

import glassnet as gn  # noqa: E402
import glassnet.explain as gx  # noqa: E402
from glassnet.conv_models import small_cnn  # noqa: E402
from glassnet.train.callbacks import HealthMonitor  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--size", type=int, default=8)
    args = parser.parse_args(argv)
    gn.set_num_threads(args.threads)
    gn.manual_seed(0)
    x, y = gn.data.datasets.load_digits("train", flatten=False)[:]
    if args.size != 8:
        x = gn.from_numpy(gx.resize_bilinear(x.numpy(), (args.size, args.size)).astype("float32"))
    model = small_cnn(10, 1, args.size)
    opt = gn.optim.Adam(model.parameters(), lr=1e-3)

    def epoch(callbacks=()):
        gn.train.fit(model, (x, y), loss="cross_entropy", optimizer=opt, epochs=1, batch_size=args.batch,
                     progress=False, callbacks=list(callbacks))

    def recorded():
        with gx.record(model, stats_only=True, training_only=True) as rec:
            epoch()
        return rec

    rec = recorded()
    monitor = HealthMonitor(update_ratio=False)
    epoch([monitor])
    layers = len(rec.layers)
    watched = len(monitor.history["layers"])
    variants = {
        "plain": epoch,
        "record stats": recorded,
        "HealthMonitor": lambda: epoch([HealthMonitor(update_ratio=False)]),
        "+ update ratio": lambda: epoch([HealthMonitor()]),
        "every=4": lambda: epoch([HealthMonitor(every=4)]),
    }
    wall = {name: [] for name in variants}
    cpu = {name: [] for name in variants}
    # Each round in a fresh random order: the epoch after a recorded one
    # tended to run slower (its page faults), so a fixed order would charge
    # that to whichever variant always came next.
    order = random.Random(0)
    for _ in range(args.repeats):
        names = list(variants)
        order.shuffle(names)
        for name in names:
            fn = variants[name]
            w0, c0 = time.perf_counter(), time.process_time()
            fn()
            wall[name].append(time.perf_counter() - w0)
            cpu[name].append(time.process_time() - c0)
    print(f"{args.threads} thread(s); small_cnn on {x.shape[0]} {args.size}x{args.size} digits, batch {args.batch}; "
          f"load average {os.getloadavg()[0]:.2f}; {args.repeats} rounds, each in a random order")
    print(f"  record stats: {layers} leaf layers; HealthMonitor: {watched} layers and "
          f"{sum(1 for _ in model.parameters())} parameters")
    base_w, base_c = statistics.median(wall["plain"]), min(cpu["plain"])
    for name in variants:
        w, c = statistics.median(wall[name]), min(cpu[name])
        paired = statistics.median(v / p for v, p in zip(cpu[name], cpu["plain"]))
        extra = "" if name == "plain" else \
            f"   overhead: cpu {100 * (c / base_c - 1):+6.1f}%  wall {100 * (w / base_w - 1):+6.1f}%  " \
            f"paired {100 * (paired - 1):+6.1f}%"
        print(f"  {name:<16} cpu (least) {c * 1e3:8.1f} ms  wall (median) {w * 1e3:8.1f} ms{extra}", flush=True)
    # The reductions' own time, measured inside one recorded epoch: the
    # direct figure for what statistics cost, which neighbours on a shared
    # machine disturb far less than a difference of two epoch timings.
    spent = [0.0]
    update = gx.RunningStats.update

    def timed(self, t):
        c0 = time.process_time()
        update(self, t)
        spent[0] += time.process_time() - c0

    gx.RunningStats.update = timed
    try:
        c0 = time.process_time()
        recorded()
        total = time.process_time() - c0
    finally:
        gx.RunningStats.update = update
    print(f"  inside one recorded epoch, RunningStats.update took {spent[0] * 1e3:.1f} ms of {total * 1e3:.1f} ms "
          f"cpu ({100 * spent[0] / (total - spent[0]):.1f}% on top of the rest)", flush=True)


if __name__ == "__main__":
    main()
