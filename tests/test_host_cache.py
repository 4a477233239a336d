"""The cache of large CPU blocks behind tensor storage (src/host_cache.h):
freed blocks from 64 KiB up come back for the next tensor of their size
class, small ones and anything past the 256 MiB cap go back to malloc, and
a reused block never leaks old values into tensors that promise contents."""
import os
import subprocess
import sys
import textwrap
import threading

import numpy as np

import glassnet as gn
from glassnet import _C

MIB = 1 << 20


def setup_function():
    _C.host_cache_clear()


def test_a_freed_large_block_is_reused_by_the_next_tensor_of_its_size():
    t = gn.empty(256 * 1024)  # 1 MiB of float32
    address = t._impl.data_ptr()
    del t
    held = _C.host_cache_bytes()
    assert MIB <= held <= MIB + MIB // 4
    u = gn.empty(256 * 1024 - 3)  # same size class
    assert u._impl.data_ptr() == address
    assert _C.host_cache_bytes() == 0  # taken back out
    del u
    _C.host_cache_clear()
    assert _C.host_cache_bytes() == 0


def test_small_blocks_are_not_cached():
    t = gn.empty(1000)
    del t
    assert _C.host_cache_bytes() == 0


def test_the_cache_keeps_at_most_256_mib():
    blocks = [gn.empty(16 * MIB // 4) for _ in range(20)]  # 20 × 16 MiB
    del blocks
    held = _C.host_cache_bytes()
    assert 240 * MIB <= held <= 256 * MIB


def test_reused_blocks_hold_what_each_op_promises():
    a = gn.full((512, 512), 7.0)
    del a
    z = gn.zeros((512, 512))
    assert float(z.abs().max()) == 0.0
    x = gn.from_numpy(np.arange(512 * 512, dtype=np.float32).reshape(512, 512))
    y = x * 2
    np.testing.assert_array_equal(y.numpy(), np.arange(512 * 512, dtype=np.float32).reshape(512, 512) * 2)


def test_tensors_made_and_freed_on_many_threads_stay_correct():
    errors = []

    def work(seed):
        rng = np.random.default_rng(seed)
        for _ in range(50):
            n = int(rng.integers(16_000, 200_000))
            values = rng.standard_normal(n).astype(np.float32)
            t = gn.from_numpy(values) + 1.0
            if not np.array_equal(t.numpy(), values + np.float32(1.0)):
                errors.append(seed)
            del t

    threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert _C.host_cache_bytes() <= 256 * MIB


def test_a_fork_while_other_threads_run_ops_leaves_the_child_working():
    # A child forked while another thread holds the cache's lock, or the
    # thread pool's (src/parallel.cpp), would block on its first large tensor
    # or parallel op; run in a subprocess so that a hang fails by timeout.
    script = textwrap.dedent("""
        import os, threading
        import glassnet as gn
        stop = False
        def churn():
            while not stop:
                t = gn.empty(100_000) + 1.0
                del t
        threads = [threading.Thread(target=churn) for _ in range(2)]
        for th in threads:
            th.start()
        for _ in range(20):
            pid = os.fork()
            if pid == 0:
                t = gn.ones(300_000) * 2.0
                os._exit(0 if float(t.sum()) == 600_000.0 else 3)
            _, status = os.waitpid(pid, 0)
            assert os.WEXITSTATUS(status) == 0, status
        stop = True
        for th in threads:
            th.join()
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
