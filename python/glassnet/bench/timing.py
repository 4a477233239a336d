"""Timing that survives a shared, noisy machine: each candidate is calibrated
to run long enough to time, then the candidates are sampled in turn, round
after round, so that a slow spell hits all of them alike; medians are
reported."""
import os
import statistics
import time


def _per_call_seconds(fn, number):
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def calibrate(fn, min_seconds):
    """Calls per sample so that one sample lasts at least `min_seconds`."""
    fn()  # warm up: first-touch allocations, lazy initialisation
    number = 1
    while True:
        t = _per_call_seconds(fn, number) * number
        if t >= min_seconds or number >= 1 << 20:
            return number
        number = max(number * 2, int(number * min_seconds / max(t, 1e-9) * 1.2))


def alternate(candidates, repeats=7, min_seconds=0.02):
    """{name: fn} -> {name: median seconds per call}, sampled alternately."""
    numbers = {name: calibrate(fn, min_seconds) for name, fn in candidates.items()}
    samples = {name: [] for name in candidates}
    for _ in range(repeats):
        for name, fn in candidates.items():
            samples[name].append(_per_call_seconds(fn, numbers[name]))
    return {name: statistics.median(s) for name, s in samples.items()}


QUIET_POOLS = {"OMP_WAIT_POLICY": "PASSIVE", "OPENBLAS_THREAD_TIMEOUT": "4"}


def peer_pools_are_quiet():
    """True when OpenBLAS and OpenMP were told to let idle workers sleep, so the
    libraries timed in turn don't steal each other's cores. They read this
    only when they load, and numpy is loaded with glassnet: a process that
    lacks it must start again with it (see bench.run)."""
    return all(name in os.environ for name in QUIET_POOLS)


class ThreadLimits:
    """Sets every library's thread count to n for the duration of a `with`."""

    def __init__(self, n, torch=None):
        self.n, self.torch = n, torch
        self._blas = None

    def __enter__(self):
        import glassnet as gn

        self._gn_before = gn.get_num_threads()
        gn.set_num_threads(self.n)
        try:
            from threadpoolctl import threadpool_limits

            self._blas = threadpool_limits(limits=self.n)
        except ImportError:  # numpy's BLAS then uses its own default
            self._blas = None
        if self.torch is not None:
            self._torch_before = self.torch.get_num_threads()
            self.torch.set_num_threads(self.n)
        return self

    def __exit__(self, *exc):
        import glassnet as gn

        gn.set_num_threads(self._gn_before)
        if self._blas is not None:
            self._blas.restore_original_limits()
        if self.torch is not None:
            self.torch.set_num_threads(self._torch_before)
        return False
