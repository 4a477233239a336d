"""The recurrent examples run as a user would run them (shortened), and learn."""
import os
import re
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(name, *args):
    env = dict(os.environ, OMP_NUM_THREADS="2")
    result = subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True, text=True,
                            timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_char_lstm_loss_falls_and_samples():
    out = run("char_lstm.py", "--steps", "40")
    first, last = map(float, re.search(r"loss fell from (\d+\.\d+) to (\d+\.\d+)", out).groups())
    assert last < 0.8 * first
    sample = out.split("sample:\n", 1)[1]
    assert sample.startswith("Alice ") and len(sample.strip()) > 250


def test_gru_classify_reaches_its_stated_accuracy():
    out = run("gru_classify.py", "--epochs", "2")
    accuracies = [float(a) for a in re.findall(r"test accuracy (\d\.\d+)", out)]
    assert len(accuracies) == 2
    assert accuracies[-1] >= 0.95
