"""`glassnet bench` runs and prints its tables (its numbers are for people, not asserts)."""
import json
import subprocess
import sys


def test_bench_gemm_training_shapes(tmp_path):
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, "-m", "glassnet.cli", "bench", "--section", "gemm", "--gemm-shapes", "training",
         "--threads", "1", "--repeats", "1", "--json", str(out)],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "GEMM float32, training" in result.stdout
    assert "FMA peak" in result.stdout
    records = json.loads(out.read_text())["records"]
    assert {r["shape"] for r in records} >= {"32x128 · 128x10", "256x1024 · 1024x1024"}
    assert all(r["gflops"]["glassnet"] > 0 for r in records)


def test_bench_rejects_unknown_section():
    result = subprocess.run([sys.executable, "-m", "glassnet.cli", "bench", "--section", "nope"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
