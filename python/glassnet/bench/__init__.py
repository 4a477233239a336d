"""`glassnet bench`: kernel throughput beside numpy's and (if installed)
torch's, measured alternately in this one process, as one table per section.

    glassnet bench                       # every section, 1 and 2 threads
    glassnet bench --section gemm --threads 1
    python -m glassnet.bench --json out.json

Ratios are glassnet's speed over the best peer's (above 1: glassnet is
faster); GEMM rows also give the fraction of this CPU's measured FMA peak."""
import argparse
import json
import os
import sys

import numpy as np

from .timing import QUIET_POOLS, ThreadLimits, alternate, peer_pools_are_quiet

SECTIONS = ("gemm", "elementwise")


def _import_torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def _row(cells, widths):
    return "  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))


def _print_table(title, header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    print(f"\n{title}")
    print(_row(header, widths))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(_row(r, widths))
    sys.stdout.flush()


def bench_gemm(threads, torch, peak_per_core, repeats, groups):
    from . import gemm

    rng = np.random.default_rng(0)
    header = ["shape", "thr", "glassnet GF/s", "numpy GF/s", "torch GF/s", "vs best", "% peak"]
    rows, records = [], []
    for group in groups:
        for label, m, k, n, form in gemm.SHAPES[group]:
            for t in threads:
                with ThreadLimits(t, torch):
                    fns = gemm.candidates(m, k, n, form, torch, rng)
                    times = alternate(fns, repeats=repeats)
                rate = {lib: gemm.flops(m, k, n) / s * 1e-9 for lib, s in times.items()}
                best_peer = max(v for lib, v in rate.items() if lib != "glassnet")
                peak = peak_per_core * t
                rows.append([label, t, f"{rate['glassnet']:.1f}", f"{rate['numpy']:.1f}",
                             f"{rate['torch']:.1f}" if "torch" in rate else "-",
                             f"{rate['glassnet'] / best_peer:.2f}",
                             f"{100 * rate['glassnet'] / peak:.0f}%" if peak else "-"])
                records.append(dict(section="gemm", shape=label, threads=t, gflops=rate,
                                    ratio=rate["glassnet"] / best_peer, peak_gflops=peak))
        _print_table(f"GEMM float32, {group} (GFLOP/s, medians of {repeats} alternating samples)", header, rows)
        rows = []
    return records


def bench_elementwise(threads, torch, repeats):
    from . import elementwise

    header = ["op (1M float32)", "thr", "glassnet us", "numpy us", "torch us", "vs numpy", "vs best", "glassnet GB/s"]
    rows, records = [], []
    for t in threads:
        with ThreadLimits(t, torch):
            rng = np.random.default_rng(1)
            table = elementwise.ops(rng)
            extra = elementwise.torch_ops(torch, 1) if torch is not None else {}
            copy_bytes, memcpy = elementwise.memcpy_candidate(rng)
            memcpy_s = alternate({"memcpy": memcpy}, repeats=repeats)["memcpy"]
            for label, nbytes, fns in table:
                if label in extra:
                    fns = dict(fns, torch=extra[label])
                times = alternate(fns, repeats=repeats)
                best_peer = min(v for lib, v in times.items() if lib != "glassnet")
                rows.append([label, t, f"{times['glassnet'] * 1e6:.0f}", f"{times['numpy'] * 1e6:.0f}",
                             f"{times['torch'] * 1e6:.0f}" if "torch" in times else "-",
                             f"{times['numpy'] / times['glassnet']:.2f}", f"{best_peer / times['glassnet']:.2f}",
                             f"{nbytes / times['glassnet'] * 1e-9:.1f}"])
                records.append(dict(section="elementwise", op=label, threads=t, seconds=times,
                                    gbytes_per_s=nbytes / times["glassnet"] * 1e-9))
            rows.append(["memcpy (numpy copyto)", t, f"{memcpy_s * 1e6:.0f}", "-", "-", "-", "-",
                         f"{copy_bytes / memcpy_s * 1e-9:.1f}"])
            records.append(dict(section="elementwise", op="memcpy", threads=t, gbytes_per_s=copy_bytes / memcpy_s * 1e-9))
    _print_table(f"Elementwise and reductions (microseconds per call, medians of {repeats})", header, rows)
    return records


def add_arguments(parser):
    parser.add_argument("--section", choices=SECTIONS + ("all",), default="all")
    parser.add_argument("--gemm-shapes", default="squares,mlp,training",
                        help="comma-separated groups: squares, mlp, training")
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--no-torch", action="store_true", help="leave torch out even if it is installed")
    parser.add_argument("--json", metavar="PATH", help="also write every measurement as JSON")


def _argv(args):
    out = ["--section", args.section, "--gemm-shapes", args.gemm_shapes, "--threads", args.threads,
           "--repeats", str(args.repeats)]
    return out + (["--no-torch"] if args.no_torch else []) + (["--json", args.json] if args.json else [])


def run(args):
    if not peer_pools_are_quiet():
        # numpy's OpenBLAS is already running with spinning idle threads; start
        # over in a process whose peers were told to sleep when idle.
        env = {**QUIET_POOLS, **os.environ}
        os.execve(sys.executable, [sys.executable, "-m", "glassnet.bench", *_argv(args)], env)
    import glassnet as gn

    torch = None if args.no_torch else _import_torch()
    threads = [int(t) for t in args.threads.split(",") if t]
    peak = gn._C.measure_fma_peak_gflops(1, 0.5)
    print(f"glassnet {gn.__version__}: gemm kernel {gn._C.gemm_kernel_name()}, "
          f"fp32 FMA peak {peak:.1f} GFLOP/s per core (measured), "
          f"numpy {np.__version__}" + (f", torch {torch.__version__}" if torch is not None else ", torch not installed"))
    records = []
    if args.section in ("gemm", "all"):
        records += bench_gemm(threads, torch, peak, args.repeats, args.gemm_shapes.split(","))
    if args.section in ("elementwise", "all"):
        records += bench_elementwise(threads, torch, args.repeats)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(fma_peak_gflops_per_core=peak, records=records), f, indent=1)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="glassnet bench", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
