"""Attention against PyTorch on the CPU, in one process, timed alternately
(medians of repeats, glassnet.bench.timing):

1. a 6-layer TransformerEncoder (d_model 384, 12 heads, ff 1536, batch_first)
   forward on 8 × 128 tokens under no_grad in eval mode — torch's own fast
   path (its fused native encoder layer) against glassnet's modules on the
   fused attention kernel; same weights, outputs checked first;
2. scaled_dot_product_attention alone at that shape, forward and
   forward + backward;
3. peak memory of SDPA forward + backward at sequence 2048, 4096 and 8192
   (2 heads of 64 features, one subprocess per size; the peak RSS, VmHWM, is
   reset once the inputs exist and its growth read after each call): the fused kernel's extra
   memory grows linearly with the length; the L×S scores alone would be
   2·L²·4 bytes (32 MiB, 128 MiB, 512 MiB).

    python benchmarks/bench_attention.py [--threads 2] [--repeats 7] [--skip-memory]
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

import glassnet as gn
from glassnet.bench.timing import alternate

D_MODEL, HEADS, FF, LAYERS, BATCH, TOKENS = 384, 12, 1536, 6, 8, 128


def encoder(lib, **kw):
    layer = lib.nn.TransformerEncoderLayer(D_MODEL, HEADS, dim_feedforward=FF, batch_first=True, **kw)
    return lib.nn.TransformerEncoder(layer, LAYERS, **({"enable_nested_tensor": False} if lib is not gn else {}))


def bench_encoder(torch, repeats):
    t_model = encoder(torch).eval()
    g_model = encoder(gn).eval()
    g_model.load_state_dict({k: gn.tensor(v.detach().numpy()) for k, v in t_model.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((BATCH, TOKENS, D_MODEL)).astype(np.float32)
    gx, tx = gn.from_numpy(x), torch.from_numpy(x)

    def g_run():
        with gn.no_grad():
            return g_model(gx)

    def t_run():
        with torch.no_grad():
            return t_model(tx)

    err = np.abs(g_run().numpy() - t_run().numpy()).max()
    times = alternate({"glassnet": g_run, "torch": t_run}, repeats=repeats, min_seconds=0.2)
    g, t = times["glassnet"], times["torch"]
    print(f"TransformerEncoder {LAYERS}×(d_model {D_MODEL}, {HEADS} heads, ff {FF}), batch_first, eval, no_grad, "
          f"{BATCH}×{TOKENS} tokens (max |diff| {err:.1e})")
    print(f"  glassnet {g * 1e3:8.2f} ms   torch {t * 1e3:8.2f} ms   ratio {g / t:.2f}  (target <= 1.0)")


def bench_sdpa(torch, repeats):
    shape = (BATCH, HEADS, TOKENS, D_MODEL // HEADS)
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(shape).astype(np.float32) for _ in range(3)]
    g_in = [gn.tensor(a, requires_grad=True) for a in arrays]
    t_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    F, TF = gn.nn.functional, torch.nn.functional
    for causal in (False, True):
        def g_fwd():
            with gn.no_grad():
                return F.scaled_dot_product_attention(*g_in, is_causal=causal)

        def t_fwd():
            with torch.no_grad():
                return TF.scaled_dot_product_attention(*t_in, is_causal=causal)

        def g_step():
            F.scaled_dot_product_attention(*g_in, is_causal=causal).sum().backward()

        def t_step():
            TF.scaled_dot_product_attention(*t_in, is_causal=causal).sum().backward()

        err = np.abs(g_fwd().numpy() - t_fwd().numpy()).max()
        times = alternate({"g_fwd": g_fwd, "t_fwd": t_fwd, "g_step": g_step, "t_step": t_step}, repeats=repeats)
        print(f"scaled_dot_product_attention {shape}, is_causal={causal} (max |diff| {err:.1e})")
        for label, g, t in (("forward", "g_fwd", "t_fwd"), ("forward+backward", "g_step", "t_step")):
            print(f"  {label:17s} glassnet {times[g] * 1e3:7.2f} ms   torch {times[t] * 1e3:7.2f} ms   "
                  f"ratio {times[g] / times[t]:.2f}")


MEMORY_CHILD = """
import json, sys
import numpy as np
lib, n, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if lib == "glassnet":
    import glassnet as m
else:
    import torch as m
m.set_num_threads(threads)
sdpa = m.nn.functional.scaled_dot_product_attention
rng = np.random.default_rng(0)
def leaf(length):  # float32 drawn straight into numpy, shared zero-copy
    return m.from_numpy(rng.standard_normal((1, 2, length, 64), dtype=np.float32)).requires_grad_()
def status(key):  # kB
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1])
def reset_peak():  # Linux: VmHWM := VmRSS
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
q, k, v = (leaf(n) for _ in range(3))
warm = [leaf(256) for _ in range(3)]
sdpa(*warm).sum().backward()  # first-call allocations (thread pool, buffers) before the baseline
reset_peak()
base = status("VmRSS:")
out = sdpa(q, k, v)
fwd = status("VmHWM:")
out.sum().backward()
end = status("VmHWM:")
print(json.dumps({"forward": (fwd - base) / 1024, "total": (end - base) / 1024}))
"""


def bench_memory(threads):
    print("peak RSS growth of SDPA forward + backward, (1, 2, L, 64) float32, one subprocess per size "
          "(MiB of peak RSS above the process after its inputs exist; the 2·L·L float32 scores alone: 32 / 128 / 512 MiB)")
    rows = {}
    for lib in ("glassnet", "torch"):
        for n in (2048, 4096, 8192):
            r = subprocess.run([sys.executable, "-c", MEMORY_CHILD, lib, str(n), str(threads)], capture_output=True,
                               text=True, check=True)
            rows[lib, n] = json.loads(r.stdout)
        g = [rows[lib, n] for n in (2048, 4096, 8192)]
        growth = " ".join(f"{r['total']:7.1f}" for r in g)
        fwd = " ".join(f"{r['forward']:6.1f}" for r in g)
        print(f"  {lib:8s} L=2048/4096/8192: forward {fwd} MiB; "
              f"forward+backward {growth} MiB; growth 4096/2048 {g[1]['total'] / max(g[0]['total'], 1e-9):.1f}×, "
              f"8192/4096 {g[2]['total'] / max(g[1]['total'], 1e-9):.1f}× (linear 2×, quadratic 4×)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", 2)))
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args(argv)
    import torch

    gn.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    print(f"{args.threads} thread(s), load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    bench_encoder(torch, args.repeats)
    bench_sdpa(torch, args.repeats)
    if not args.skip_memory:
        bench_memory(args.threads)


if __name__ == "__main__":
    main()
