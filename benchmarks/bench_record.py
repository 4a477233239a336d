"""What watching a network costs: one training epoch of glassnet's small CNN
(conv_models.small_cnn: 3x3 conv → BatchNorm → ReLU blocks, 32/32/64
channels) on the 8x8 digits, batch 64, Adam, run through glassnet.train.fit
with and without statistics collection, timed in alternating rounds (medians).

    python benchmarks/bench_record.py [--threads 2] [--repeats 7] [--batch 64]

Variants:
  plain           fit alone
  record stats    glassnet.explain.record(stats_only=True) on every leaf
                  layer: running statistics of outputs and output gradients
  HealthMonitor   the callback with activations and gradients of the
                  parameter and activation layers, weight statistics per
                  epoch, but no update ratios
  + update ratio  the callback in full (‖Δw‖/‖w‖ every step, which keeps a
                  copy of the weights)

The issue's target: recording statistics only adds < 10% to an epoch.
"""
import argparse
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

import glassnet as gn  # noqa: E402
import glassnet.explain as gx  # noqa: E402
from glassnet.bench.timing import alternate  # noqa: E402
from glassnet.conv_models import small_cnn  # noqa: E402
from glassnet.train.callbacks import HealthMonitor  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", 2)))
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args(argv)
    gn.set_num_threads(args.threads)
    gn.manual_seed(0)
    x, y = gn.data.datasets.load_digits("train", flatten=False)[:]
    model = small_cnn(10, 1, 8)
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
    times = alternate({
        "plain": epoch,
        "record stats": recorded,
        "HealthMonitor": lambda: epoch([HealthMonitor(update_ratio=False)]),
        "+ update ratio": lambda: epoch([HealthMonitor()]),
    }, repeats=args.repeats, min_seconds=0.2)
    base = times["plain"]
    print(f"{args.threads} thread(s); small_cnn on {x.shape[0]} 8x8 digits, batch {args.batch}; "
          f"load average {os.getloadavg()[0]:.2f}; medians of {args.repeats} alternating rounds")
    print(f"  record stats: {layers} leaf layers; HealthMonitor: {watched} layers and "
          f"{sum(1 for _ in model.parameters())} parameters")
    for name, t in times.items():
        extra = "" if name == "plain" else f"   overhead {100 * (t / base - 1):+6.1f}%  (ratio {t / base:.3f})"
        print(f"  {name:<16} {t * 1e3:9.1f} ms per epoch{extra}", flush=True)


if __name__ == "__main__":
    main()
