"""Bad input gives a Python exception naming the op, never a crash. Each case
runs in a fresh interpreter, so a segfault fails the test instead of the run."""
import subprocess
import sys
import textwrap

import pytest

CASES = [
    ("shape mismatch", "gn.ones(2, 3) + gn.ones(4)", "ValueError", "[add]"),
    ("matmul mismatch", "gn.ones(2, 3) @ gn.ones(4, 5)", "ValueError", "matmul"),
    ("bad dim", "gn.ones(2, 3).transpose(0, 7)", "IndexError", "[transpose]"),
    ("out of range index", "gn.ones(2, 3)[5]", "IndexError", "out of bounds"),
    ("wrong dtype", "gn.tensor([1, 2]).exp().requires_grad_(True); gn.ones(2) @ gn.ones(2, dtype=gn.float64)",
     "TypeError", "matmul"),
    ("where condition dtype", "gn.where(gn.ones(2), gn.ones(2), gn.ones(2))", "TypeError", "[where]"),
    ("view too large", "gn.ones(4).view(2, 3)", "ValueError", "[view]"),
    ("as_strided out of bounds", "gn.Tensor._wrap(gn.ones(4)._impl.as_strided([10], [1], 0))", "IndexError",
     "as_strided"),
    ("negative shape", "gn.zeros(2, -3)", "ValueError", "negative"),
    ("huge allocation", "gn.zeros(1 << 40, 1 << 20)", "ValueError", "too large"),
    ("int division by zero", "gn.tensor([4]) // gn.tensor([0])", "ValueError", "division by zero"),
    ("item of many", "gn.ones(3).item()", "ValueError", "[item]"),
    ("int pow negative", "gn.tensor([2]) ** gn.tensor([-1])", "ValueError", "[pow]"),
    ("bool neg", "-gn.tensor([True])", "TypeError", "[neg]"),
]


@pytest.mark.parametrize("name,code,exc,fragment", CASES, ids=[c[0] for c in CASES])
def test_bad_input_raises_cleanly(name, code, exc, fragment):
    script = textwrap.dedent(f"""
        import glassnet as gn
        try:
            {code}
        except {exc} as e:
            print("RAISED", e)
        else:
            print("NO ERROR")
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"interpreter died (code {proc.returncode}): {proc.stderr[-2000:]}"
    assert "RAISED" in proc.stdout, proc.stdout + proc.stderr
    assert fragment in proc.stdout, proc.stdout
