"""The core's thread pool (src/parallel.h) in C++: tests/cpp/test_parallel.cpp
is compiled with src/parallel.cpp and the fork handlers it registers
(src/fork_guard.cpp, src/host_cache.cpp) and run (also under ThreadSanitizer).
It checks parallel_for for 1-4 threads: every index once, the grain, nesting,
exceptions, and a stalled worker holding no more than its one chunk (the
recurrent layers run one sequence chunk per thread on it)."""
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("flags", [["-O2"], ["-O1", "-g", "-fsanitize=thread"]], ids=["O2", "tsan"])
def test_parallel_for_in_cpp(flags, tmp_path):
    cxx = shutil.which("c++") or shutil.which("g++") or shutil.which("clang++")
    if cxx is None:
        pytest.skip("no C++ compiler")
    exe = tmp_path / "test_parallel"
    build = subprocess.run([cxx, *flags, "-std=c++17", "-pthread", f"-I{ROOT / 'src'}",
                            str(ROOT / "tests/cpp/test_parallel.cpp"), str(ROOT / "src/parallel.cpp"),
                            str(ROOT / "src/fork_guard.cpp"), str(ROOT / "src/host_cache.cpp"),
                            "-o", str(exe)], capture_output=True, text=True)
    if build.returncode != 0 and "sanitize" in " ".join(flags):
        pytest.skip(f"this compiler cannot build with ThreadSanitizer: {build.stderr[-300:]}")
    assert build.returncode == 0, build.stderr
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert " 0 failures" in run.stdout
    assert "WARNING: ThreadSanitizer" not in run.stderr, run.stderr
