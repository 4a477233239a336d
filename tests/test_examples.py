"""The examples run as a user would run them, and do what they say."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(name):
    env = dict(os.environ, OMP_NUM_THREADS="2")
    result = subprocess.run([sys.executable, str(EXAMPLES / name)], capture_output=True, text=True, timeout=300,
                            env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_mlp_digits_learns():
    pytest.importorskip("sklearn")
    accuracies = [float(a) for a in re.findall(r"test accuracy (\d\.\d+)", run("mlp_digits.py"))]
    assert len(accuracies) == 20
    assert accuracies[-1] >= 0.97


def test_custom_function_passes_gradcheck():
    assert "gradcheck: True" in run("custom_function.py")
