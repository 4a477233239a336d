"""Convolution speed, glassnet against PyTorch's CPU convolution (oneDNN) on
the same float32 inputs in one process, timed alternately (medians):

  - LeNet's layers at N=64: conv 1→6 5×5 on 28×28 (the first layer: no input
    gradient) and 6→16 5×5 on 14×14, forward+backward;
  - N=16, 64→64 3×3 pad 1 on 32×32, forward and forward+backward;
  - one LeNet-5 training step on 128×1×28×28 (forward, cross-entropy,
    backward, SGD) with the same initial weights.

    python benchmarks/bench_conv.py [--threads 2] [--repeats 9]

Each line: both times, the ratio glassnet/torch (target <= 1.0), GFLOP/s and
the fraction of the measured FMA peak for the threads used. GFLOP/s count a
direct convolution's multiply-adds (2·N·C_out·H_out·W_out·C_in·k²), whatever
the algorithm: glassnet's Winograd path for the 64-channel 3×3 layer does
2.25× fewer, so its rate there is an effective one and may pass the peak.
Outputs and gradients are compared before anything is timed. The machine's
load average is printed: on a shared machine, compare ratios, not times."""
import argparse
import os

# Idle OpenBLAS/OpenMP workers must sleep, or the libraries timed in turn steal
# each other's cores; both read this only when they load.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

import numpy as np  # noqa: E402

import glassnet as gn  # noqa: E402
from glassnet.bench.timing import alternate  # noqa: E402
from glassnet import _C  # noqa: E402
from glassnet.conv_models import lenet5  # noqa: E402


def conv_flops(n, c_in, c_out, k, h_out, w_out, groups=1):
    """Multiply-adds of one forward convolution, counted as 2 flops each."""
    return 2.0 * n * c_out * h_out * w_out * (c_in // groups) * k * k


class ConvCase:
    """One conv2d layer in both libraries with the same input, weight, bias and output gradient."""

    def __init__(self, torch, n, c_in, c_out, k, size, padding, input_grad, rng):
        self.torch = torch
        x = rng.standard_normal((n, c_in, size, size)).astype(np.float32)
        bound = 1 / np.sqrt(c_in * k * k)
        w = rng.uniform(-bound, bound, (c_out, c_in, k, k)).astype(np.float32)
        b = rng.uniform(-bound, bound, c_out).astype(np.float32)
        out = size + 2 * padding - k + 1
        g = rng.standard_normal((n, c_out, out, out)).astype(np.float32)
        self.padding = padding
        self.gn = [gn.tensor(x, requires_grad=input_grad), gn.tensor(w, requires_grad=True),
                   gn.tensor(b, requires_grad=True), gn.tensor(g)]
        self.th = [torch.tensor(x, requires_grad=input_grad), torch.tensor(w, requires_grad=True),
                   torch.tensor(b, requires_grad=True), torch.tensor(g)]
        self.fwd_flops = conv_flops(n, c_in, c_out, k, out, out)
        # Backward: the weight gradient always, the input gradient when asked for.
        self.fb_flops = self.fwd_flops * (3 if input_grad else 2)

    def forward(self, lib):
        x, w, b, _ = self.gn if lib is gn else self.th
        conv = gn.nn.functional.conv2d if lib is gn else self.torch.nn.functional.conv2d
        with (gn.no_grad() if lib is gn else self.torch.no_grad()):
            return conv(x, w, b, padding=self.padding)

    def forward_backward(self, lib):
        x, w, b, g = self.gn if lib is gn else self.th
        conv = gn.nn.functional.conv2d if lib is gn else self.torch.nn.functional.conv2d
        for t in (x, w, b):
            t.grad = None
        y = conv(x, w, b, padding=self.padding)
        y.backward(g)
        return [t.grad for t in (x, w, b) if t.requires_grad]

    def check(self):
        np.testing.assert_allclose(self.forward(gn).numpy(), self.forward(self.torch).numpy(), rtol=1e-3, atol=1e-3)
        for a, r in zip(self.forward_backward(gn), self.forward_backward(self.torch)):
            np.testing.assert_allclose(a.numpy(), r.numpy(), rtol=1e-3, atol=1e-2)


def lenet_step(lib, model, x, y):
    opt = lib.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = lib.nn.functional.cross_entropy

    def step():
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return step


def lenet_flops(n):
    """Forward flops of LeNet-5 on 28×28 (convolutions and linear layers), ×3 for a training step."""
    fwd = conv_flops(n, 1, 6, 5, 28, 28) + conv_flops(n, 6, 16, 5, 10, 10) + conv_flops(n, 16, 120, 5, 1, 1)
    fwd += 2.0 * n * (120 * 84 + 84 * 10)
    # The first layer has no input gradient: its backward is one GEMM, not two.
    return 3 * fwd - conv_flops(n, 1, 6, 5, 28, 28)


def report(name, times, flops, peak):
    g, t = times["glassnet"], times["torch"]
    print(f"{name:<44} glassnet {g * 1e3:8.3f} ms  torch {t * 1e3:8.3f} ms  ratio {g / t:5.2f}  "
          f"GFLOP/s {flops / g / 1e9:6.1f} vs {flops / t / 1e9:6.1f}  "
          f"({100 * flops / g / 1e9 / peak:4.1f}% vs {100 * flops / t / 1e9 / peak:4.1f}% of peak)", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", 2)))
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args(argv)

    import torch

    gn.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    peak = _C.measure_fma_peak_gflops(threads=args.threads)
    print(f"{args.threads} thread(s), float32, GEMM micro-kernel {_C.gemm_kernel_name()}, measured FMA peak "
          f"{peak:.1f} GFLOP/s, load average {os.getloadavg()[0]:.2f}; medians of {args.repeats} alternating rounds")
    rng = np.random.default_rng(0)

    cases = [("LeNet C1 1->6 5x5 28x28 N=64 fwd+bwd", ConvCase(torch, 64, 1, 6, 5, 28, 0, False, rng), "fb"),
             ("LeNet C3 6->16 5x5 14x14 N=64 fwd+bwd", ConvCase(torch, 64, 6, 16, 5, 14, 0, True, rng), "fb"),
             ("64->64 3x3 pad 1 32x32 N=16 fwd", ConvCase(torch, 16, 64, 64, 3, 32, 1, True, rng), "f"),
             ("64->64 3x3 pad 1 32x32 N=16 fwd+bwd", None, "fb")]
    cases[3] = (cases[3][0], cases[2][1], "fb")
    for _, case, _ in cases[:3]:
        case.check()
    for name, case, kind in cases:
        if kind == "f":
            times = alternate({"glassnet": lambda: case.forward(gn), "torch": lambda: case.forward(torch)},
                              repeats=args.repeats)
            report(name, times, case.fwd_flops, peak)
        else:
            times = alternate({"glassnet": lambda: case.forward_backward(gn),
                               "torch": lambda: case.forward_backward(torch)}, repeats=args.repeats)
            report(name, times, case.fb_flops, peak)

    # LeNet-5 training step: the same initial weights in both libraries.
    n = 128
    g_model = lenet5(num_classes=10, in_channels=1, input_size=28)
    t_model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 5, padding=2), torch.nn.Tanh(), torch.nn.AvgPool2d(2),
        torch.nn.Conv2d(6, 16, 5), torch.nn.Tanh(), torch.nn.AvgPool2d(2),
        torch.nn.Conv2d(16, 120, 5), torch.nn.Tanh(), torch.nn.Flatten(),
        torch.nn.Linear(120, 84), torch.nn.Tanh(), torch.nn.Linear(84, 10))
    g_params = [p for p in g_model.parameters()]
    with torch.no_grad():
        for tp, gp in zip(t_model.parameters(), g_params):
            tp.copy_(torch.tensor(gp.detach().numpy()))
    x = rng.standard_normal((n, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, n)
    g_step = lenet_step(gn, g_model, gn.tensor(x), gn.tensor(y))
    t_step = lenet_step(torch, t_model, torch.tensor(x), torch.tensor(y))
    np.testing.assert_allclose(g_step().item(), t_step().item(), rtol=1e-4)
    times = alternate({"glassnet": g_step, "torch": t_step}, repeats=args.repeats)
    report(f"LeNet-5 training step N={n} 1x28x28 (SGD)", times, lenet_flops(n), peak)


if __name__ == "__main__":
    main()
