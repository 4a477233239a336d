"""The glassnet command: help, argument errors, and real training runs in a
subprocess writing their files; the default digits run reaches the promised
accuracy."""
import csv
import gzip
import importlib.util
import json
import os
import re
import struct
import subprocess
import sys

import numpy as np
import pytest

import glassnet as gn
from glassnet.cli import SUBCOMMANDS, build_parser

# Subprocesses import the same glassnet as this process (the source tree or an installed wheel).
PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(gn.__file__)))
ACCURACY = re.compile(r"test accuracy: ([0-9.]+)% \((\d+)/(\d+)\)")


def glassnet(*args, timeout=300, threads=None):
    env = dict(os.environ, PYTHONPATH=PACKAGE_PARENT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    return subprocess.run([sys.executable, "-m", "glassnet.cli", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def _csv_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _accuracy(stdout):
    m = ACCURACY.search(stdout)
    assert m, stdout
    return float(m.group(1)) / 100, int(m.group(2)), int(m.group(3))


def test_help():
    r = glassnet("--help")
    assert r.returncode == 0 and "train" in r.stdout
    r = glassnet("train", "--help")
    assert r.returncode == 0
    for flag in ("--model", "--dataset", "--epochs", "--batch-size", "--lr", "--optimizer", "--seed", "--device",
                 "--threads", "--out"):
        assert flag in r.stdout


def test_argument_errors():
    r = glassnet("train", "--epochs", "zero")
    assert r.returncode == 2 and "--epochs" in r.stderr and "invalid" in r.stderr
    r = glassnet("train", "--no-such-flag")
    assert r.returncode == 2 and "unrecognized arguments" in r.stderr
    r = glassnet("train", "--optimizer", "lbfgs")
    assert r.returncode == 2 and "invalid choice" in r.stderr
    r = glassnet()
    assert r.returncode == 2 and "required" in r.stderr
    r = glassnet("fly")
    assert r.returncode == 2 and "invalid choice" in r.stderr


def test_unknown_dataset_and_model(tmp_path):
    r = glassnet("train", "--dataset", "cifar", "--out", str(tmp_path / "o"))
    assert r.returncode != 0 and "unknown dataset 'cifar'" in r.stderr and "Traceback" not in r.stderr
    r = glassnet("train", "--dataset", "mnist:" + str(tmp_path / "nowhere"), "--out", str(tmp_path / "o"))
    assert r.returncode != 0 and "train-images-idx3-ubyte" in r.stderr and "Traceback" not in r.stderr
    r = glassnet("train", "--model", "resnet999", "--out", str(tmp_path / "o"))
    assert r.returncode != 0 and "unknown model" in r.stderr
    if not gn.cuda.is_available():
        r = glassnet("train", "--device", "cuda", "--out", str(tmp_path / "o"))
        assert r.returncode != 0 and "CUDA is not available" in r.stderr and "Traceback" not in r.stderr


def test_subcommand_table_is_open():
    assert "train" in SUBCOMMANDS
    parser = build_parser()
    args = parser.parse_args(["train", "--epochs", "3", "--lr", "0.01"])
    assert args.epochs == 3 and args.lr == 0.01 and args.dataset == "digits"


def test_short_train_run_writes_everything(tmp_path):
    out = tmp_path / "run"
    r = glassnet("train", "--epochs", "3", "--out", str(out), "--threads", "1")
    assert r.returncode == 0, r.stderr
    acc, correct, total = _accuracy(r.stdout)
    assert total == 359 and correct == round(acc * total) and acc > 0.85
    assert "epoch 3/3" in r.stdout
    for name in ("checkpoint.safetensors", "model.safetensors", "model_config.json", "history.csv", "summary.json",
                 "summary.md"):
        assert (out / name).is_file(), name
    if importlib.util.find_spec("matplotlib") is not None:  # the report itself: tests/test_report.py
        assert (out / "report.html").is_file() and (out / "health.json").is_file()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["test_accuracy"] == pytest.approx(acc, abs=1e-4) and summary["epochs_run"] == 3
    assert np.array(summary["confusion_matrix"]).sum() == total
    rows = _csv_rows(out / "history.csv")
    assert [r_["epoch"] for r_ in rows] == ["1", "2", "3"]
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "lr"} <= set(rows[0])
    weights = gn.serialization.load(out / "model.safetensors")
    assert weights["0.weight"].shape == (256, 64) and weights["4.weight"].shape == (10, 128)
    assert "test accuracy" in (out / "summary.md").read_text()


def test_killed_run_resumes_to_the_same_result(tmp_path):
    """SIGKILL a run once it reports epoch 2, resume it with --resume: the final weights and accuracy
    equal those of an uninterrupted run."""
    from glassnet.checkpoint import load_checkpoint

    args = ["train", "--epochs", "6", "--threads", "1", "--no-report"]
    straight = glassnet(*args, "--out", str(tmp_path / "a"))
    assert straight.returncode == 0, straight.stderr
    env = dict(os.environ, PYTHONPATH=PACKAGE_PARENT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "glassnet.cli", *args, "--out", str(tmp_path / "b")], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in proc.stdout:
        if line.startswith("epoch 2/6"):
            proc.kill()
            break
    proc.wait(timeout=60)
    proc.stdout.close()
    assert proc.returncode != 0  # killed, not finished
    info = load_checkpoint(tmp_path / "b" / "checkpoint.safetensors", restore_rng=False)
    assert 2 <= info["epoch"] < 6
    again = glassnet(*args, "--out", str(tmp_path / "b"), "--resume")
    assert again.returncode == 0, again.stderr
    assert f"epoch {info['epoch'] + 1}/6" in again.stdout and "epoch 1/6" not in again.stdout
    assert _accuracy(again.stdout) == _accuracy(straight.stdout)
    a = gn.serialization.load(tmp_path / "a" / "model.safetensors")
    b = gn.serialization.load(tmp_path / "b" / "model.safetensors")
    for k in a:
        np.testing.assert_array_equal(a[k].numpy(), b[k].numpy())
    rows_a = _csv_rows(tmp_path / "a" / "history.csv")
    rows_b = _csv_rows(tmp_path / "b" / "history.csv")
    assert rows_a == rows_b  # one row per epoch, none repeated by the restart
    r = glassnet("train", "--resume", "--out", str(tmp_path / "empty"))
    assert r.returncode != 0 and "no checkpoint" in r.stderr


def _write_idx(folder, prefix, n, rng):
    images = rng.integers(0, 256, (n, 28, 28)).astype(np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    images[np.arange(n), labels, :] = 255  # a learnable mark: row = label
    for kind, arr in (("images-idx3-ubyte", images), ("labels-idx1-ubyte", labels)):
        header = bytes([0, 0, 8, arr.ndim]) + b"".join(struct.pack(">I", d) for d in arr.shape)
        with gzip.open(os.path.join(folder, f"{prefix}-{kind}.gz"), "wb") as f:
            f.write(header + arr.tobytes())


def test_train_on_mnist_files(tmp_path):
    rng = np.random.default_rng(0)
    _write_idx(tmp_path, "train", 200, rng)
    _write_idx(tmp_path, "t10k", 50, rng)
    r = glassnet("train", "--dataset", f"fashion-mnist:{tmp_path}", "--epochs", "2", "--out", str(tmp_path / "o"))
    assert r.returncode == 0, r.stderr
    acc, _, total = _accuracy(r.stdout)
    assert total == 50 and acc >= 0.0
    w = gn.serialization.load(tmp_path / "o" / "model.safetensors")
    assert w["1.weight"].shape == (256, 784)  # Flatten, then Linear(784, 256)
    if importlib.util.find_spec("matplotlib") is not None:  # each hidden unit's weights drawn as a 28x28 image
        assert "28×28 image they multiply" in (tmp_path / "o" / "report.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_default_run_meets_accuracy(tmp_path):
    """The promise in the issue: defaults reach >= 97.5% on the digits' held-out 20%. (Its other half,
    under 30 s on 2 cores, is a timing: measured and reported, not asserted on a shared machine.)"""
    r = glassnet("train", "--threads", "2", "--out", str(tmp_path / "run"), threads=2)
    assert r.returncode == 0, r.stderr
    acc, _, _ = _accuracy(r.stdout)
    assert acc >= 0.975, r.stdout
