"""The HTML report: it builds for an MLP and a CNN, holds every section with its
pictures, refers to nothing outside itself, draws the layer statistics the
HealthMonitor measured, and (with Debian's chromium) opens in a real browser
without errors, every picture rendered and non-blank. The CLI paths: `glassnet
train` writes report.html, `glassnet explain` rebuilds it from a checkpoint,
and without matplotlib both say what to install."""
import base64
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import glassnet as gn
from glassnet import optim
from glassnet.data import DataLoader, TensorDataset, load_digits
from glassnet.models import build
from glassnet.train import fit
from glassnet.train.callbacks import HealthMonitor

pytest.importorskip("matplotlib", reason='the report draws with matplotlib: pip install "glassnet[viz]"')

from glassnet import cli  # noqa: E402
from glassnet.report import INSTALL_HINT, MissingDependency, ReportData, build_report, image_shape_for  # noqa: E402
from glassnet.report import series_from_monitor, write_report  # noqa: E402
from glassnet.report.confusion import confusion_matrix  # noqa: E402

PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(gn.__file__)))
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SECTION_IDS = ["curves", "confusion", "health", "filters", "attributions", "features", "mistakes"]


# ---- a trained model per architecture, shared by the tests of this file -----------------------------

def _standardized_digits():
    train, test = load_digits("train"), load_digits("test")
    x = train.tensors[0].numpy()
    mean, std = x.mean(axis=0), x.std(axis=0) + 0.1

    def scaled(ds):
        return TensorDataset(gn.from_numpy(((ds.tensors[0].numpy() - mean) / std).astype(np.float32)),
                             ds.tensors[1])

    return scaled(train), scaled(test), mean, std


class Run:
    def __init__(self, name, epochs):
        train, test, self.mean, self.std = _standardized_digits()
        gn.manual_seed(0)
        self.model = build(name, in_features=64, num_classes=10)
        self.monitor = HealthMonitor()
        history = fit(self.model, DataLoader(train, batch_size=32, shuffle=True, seed=0), loss="cross_entropy",
                      optimizer=optim.Adam(self.model.parameters(), lr=2e-3), epochs=epochs, val_data=test,
                      callbacks=[self.monitor], progress=False)
        self.history = history.history
        self.health = series_from_monitor(self.monitor, self.model)
        self.x, self.y = (t.numpy() for t in test.tensors)
        self.data = ReportData(self.model, self.x, self.y, title=f"{name} test report", image_shape=(1, 8, 8),
                               input_mean=self.mean, input_std=self.std, history=self.history, health=self.health,
                               facts=[("epochs", str(epochs))])
        self.html = build_report(self.data)


@pytest.fixture(scope="module")
def mlp_run():
    return Run("mlp", epochs=3)


@pytest.fixture(scope="module")
def cnn_run():
    return Run("cnn", epochs=2)


# ---- reading the page back -------------------------------------------------------------------------

class _Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.sections, self.refs, self.tags = [], [], [], set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.add(tag)
        if tag == "img":
            self.images.append(a)
        if tag == "section":
            self.sections.append(a.get("id"))
        for key in ("src", "href", "srcset", "poster", "data"):
            if key in a and tag != "img":
                self.refs.append((tag, key, a[key]))


def _parse(text):
    p = _Page()
    p.feed(text)
    return p


def _png_size(uri):
    assert uri.startswith("data:image/png;base64,"), uri[:40]
    raw = base64.b64decode(uri.split(",", 1)[1], validate=True)
    assert raw[:8] == PNG_MAGIC
    return int.from_bytes(raw[16:20], "big"), int.from_bytes(raw[20:24], "big")


def _assert_self_contained(text):
    page = _parse(text)
    assert not re.search(r"https?://", text), "the report refers to the network"
    assert "<script" not in text.lower() and "<link" not in text.lower() and "@import" not in text
    assert "url(" not in text  # no CSS resources either
    # in-page anchors are the only links
    assert all(tag == "a" and value.startswith("#") for tag, _, value in page.refs), page.refs
    assert page.images, "no pictures"
    for img in page.images:
        w, h = _png_size(img["src"])
        assert w > 50 and h > 50, (w, h)
        assert img.get("alt")
    return page


# ---- the page ----------------------------------------------------------------------------------------

def test_mlp_report_has_every_section_and_is_self_contained(mlp_run):
    page = _assert_self_contained(mlp_run.html)
    assert page.sections == SECTION_IDS
    assert len(page.images) == len(SECTION_IDS)
    text = mlp_run.html
    assert "First-layer weights" in text and "8×8" in text      # 64 weights per unit shown as 8x8 images
    assert "Grad-CAM" not in text                                # no conv layer: no Grad-CAM column
    assert "mlp test report" in text and "50,826 parameters" in text
    # the nav links every section
    for key in SECTION_IDS:
        assert f'href="#{key}"' in text


def test_cnn_report_has_filters_and_grad_cam(cnn_run):
    page = _assert_self_contained(cnn_run.html)
    assert page.sections == SECTION_IDS
    text = cnn_run.html
    assert "First-layer filters" in text and "The 32 filters of the first convolution" in text
    assert "Grad-CAM" in text


def test_report_numbers_match_the_model(mlp_run):
    d = mlp_run.data
    right = int((d.predicted == d.y).sum())
    assert f"{right} of {len(d.y)} test samples right" in mlp_run.html
    wrong = len(d.y) - right
    assert f"got wrong ({wrong} of {len(d.y)})" in mlp_run.html
    # integrated gradients' completeness is reported, and small
    m = re.search(r"score difference from the baseline within ([0-9.e+-]+)%", mlp_run.html)
    assert m and float(m.group(1)) < 1.0


def test_confusion_matrix_counts():
    y = np.array([0, 0, 1, 2, 2, 2])
    p = np.array([0, 1, 1, 2, 0, 2])
    cm = confusion_matrix(y, p, 3)
    expected = np.zeros((3, 3), dtype=int)
    for t, q in zip(y, p):
        expected[t, q] += 1
    np.testing.assert_array_equal(cm, expected)


def test_image_shapes():
    assert image_shape_for(64) == (1, 8, 8)
    assert image_shape_for(784) == (1, 28, 28)
    assert image_shape_for(3 * 32 * 32) == (3, 32, 32)
    assert image_shape_for((1, 28, 28)) == (1, 28, 28)
    assert image_shape_for((28, 28)) == (1, 28, 28)
    assert image_shape_for(10) is None


def test_display_undoes_the_standardisation(mlp_run):
    raw = load_digits("test").tensors[0].numpy()
    shown = mlp_run.data.display(mlp_run.x[:5])
    assert shown.shape == (5, 8, 8)
    np.testing.assert_allclose(shown, raw[:5].reshape(5, 8, 8), atol=1e-5)


def test_health_series_are_the_monitors_numbers(mlp_run):
    """The plotted statistics are the HealthMonitor's, by layer, one per epoch; the last weight norm is
    the model's own."""
    h, s = mlp_run.monitor.history, mlp_run.health
    assert set(s) >= {"weight_norm", "weight_std", "activation_mean", "activation_std", "gradient_rms",
                      "dead_fraction", "update_ratio"}
    assert sorted(s["dead_fraction"]) == ["1 ReLU", "3 ReLU"]
    assert s["dead_fraction"]["3 ReLU"] == h["layers"]["3"]["activation"]["dead_fraction"]
    assert s["activation_std"]["1 ReLU"] == h["layers"]["1"]["activation"]["std"]
    assert s["update_ratio"]["2 Linear"] == h["update_ratio_mean"]["2.weight"]
    assert sorted(s["weight_norm"]) == ["0 Linear", "2 Linear", "4 Linear"]   # matrices only, no biases
    for layer, values in s.items():
        for v in values.values():
            assert len(v) == 3, (layer, len(v))
    w = mlp_run.model[4].weight.detach().numpy().astype(np.float64)
    assert s["weight_norm"]["4 Linear"][-1] == pytest.approx(np.linalg.norm(w), rel=1e-6)


def test_sections_left_out_when_they_do_not_apply(mlp_run):
    d = mlp_run.data
    bare = ReportData(d.model, d.x, d.y, image_shape=None)   # no history, no statistics, not images
    page = _parse(build_report(bare))
    assert page.sections == ["confusion"]


def test_write_report_is_atomic_and_complete(tmp_path, mlp_run):
    path = write_report(mlp_run.data, str(tmp_path / "r.html"))
    with open(path, encoding="utf-8") as f:
        text = f.read()
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert os.listdir(tmp_path) == ["r.html"]


def test_missing_matplotlib_names_the_extra(monkeypatch, mlp_run):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(MissingDependency, match=re.escape('pip install "glassnet[viz]"')):
        build_report(mlp_run.data)
    assert INSTALL_HINT == 'pip install "glassnet[viz]"'


def test_bad_inputs():
    model = build("mlp", in_features=64, num_classes=10)
    with pytest.raises(ValueError, match=r"\[report\] 3 test inputs but 2 labels"):
        ReportData(model, np.zeros((3, 64), np.float32), np.zeros(2))


# ---- the command line --------------------------------------------------------------------------------

def _glassnet(*args, env_extra=None, timeout=300):
    env = dict(os.environ, PYTHONPATH=PACKAGE_PARENT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "glassnet.cli", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    r = _glassnet("train", "--epochs", "2", "--out", str(out), "--no-progress")
    assert r.returncode == 0, r.stderr
    return out, r


def test_train_writes_the_report(trained_run):
    out, r = trained_run
    assert "report.html" in r.stdout and "skipped" not in r.stdout
    text = (out / "report.html").read_text(encoding="utf-8")
    page = _assert_self_contained(text)
    assert page.sections == SECTION_IDS
    summary = json.loads((out / "summary.json").read_text())
    assert f"{100 * summary['test_accuracy']:.2f}%" in text
    health = json.loads((out / "health.json").read_text())
    assert len(health["dead_fraction"]["1 ReLU"]) == 2
    config = json.loads((out / "model_config.json").read_text())
    assert config["model"] == "mlp" and config["in_features"] == 64 and len(config["input_mean"]) == 64


def test_explain_is_a_subcommand():
    assert "explain" in cli.SUBCOMMANDS
    args = cli.build_parser().parse_args(["explain", "run", "--dataset", "digits", "--out", "o"])
    assert args.checkpoint == "run" and args.dataset == "digits" and args.out == "o"
    args = cli.build_parser().parse_args(["train", "--no-report"])
    assert args.no_report


def test_no_report_flag(tmp_path, capsys):
    assert cli.main(["train", "--epochs", "1", "--out", str(tmp_path), "--no-progress", "--no-report"]) == 0
    assert not (tmp_path / "report.html").exists() and not (tmp_path / "health.json").exists()
    assert "skipped" not in capsys.readouterr().out


def test_resumed_run_continues_the_layer_statistics(tmp_path, capsys):
    """--resume appends the new epochs' statistics to those of the epochs the checkpoint holds."""
    out = str(tmp_path)
    assert cli.main(["train", "--epochs", "2", "--out", out, "--no-progress"]) == 0
    first = json.loads((tmp_path / "health.json").read_text())
    assert cli.main(["train", "--epochs", "3", "--out", out, "--no-progress", "--resume"]) == 0
    capsys.readouterr()
    resumed = json.loads((tmp_path / "health.json").read_text())
    assert set(resumed) == set(first)
    for stat in resumed:
        for layer, values in resumed[stat].items():
            assert len(values) == 3 and values[:2] == first[stat][layer], (stat, layer)
            assert values[2] is not None
    page = _parse((tmp_path / "report.html").read_text(encoding="utf-8"))
    assert page.sections == SECTION_IDS


@pytest.mark.parametrize("target", ["folder", "model.safetensors", "checkpoint.safetensors"])
def test_explain_rebuilds_the_report(trained_run, tmp_path, capsys, target):
    out, _ = trained_run
    where = out if target == "folder" else out / target
    assert cli.main(["explain", str(where), "--out", str(tmp_path)]) == 0
    assert "wrote" in capsys.readouterr().out
    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    page = _assert_self_contained(text)
    assert page.sections == SECTION_IDS     # history from summary.json / the checkpoint, statistics from health.json
    summary = json.loads((out / "summary.json").read_text())
    assert f"{100 * summary['test_accuracy']:.2f}%" in text  # the same weights give the same accuracy


def test_explain_errors(trained_run, tmp_path, capsys):
    assert cli.main(["explain", str(tmp_path / "nothing")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert cli.main(["explain", str(tmp_path)]) == 2   # an empty folder
    assert "holds no model.safetensors" in capsys.readouterr().err
    plain = tmp_path / "plain.safetensors"
    gn.save({"w": gn.zeros(2)}, str(plain))
    assert cli.main(["explain", str(plain)]) == 2
    assert "does not say which model" in capsys.readouterr().err
    out, _ = trained_run
    assert cli.main(["explain", str(out), "--dataset", "fashion-mnist:" + str(tmp_path / "none")]) == 2
    assert "train-images-idx3-ubyte" in capsys.readouterr().err


def test_explain_refuses_a_dataset_of_another_shape(trained_run, tmp_path, capsys, monkeypatch):
    out, _ = trained_run
    from glassnet.data import TensorDataset as TD

    fake = TD(gn.zeros(4, 784), gn.zeros(4).long())
    monkeypatch.setattr(cli, "_load_dataset", lambda spec: (fake, fake, (1, 28, 28), 10, "fake"))
    assert cli.main(["explain", str(out), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "takes inputs of shape 64" in err and "(1, 28, 28)" in err


def test_without_matplotlib_train_succeeds_and_explain_says_what_to_install(tmp_path):
    fake = tmp_path / "no_mpl" / "matplotlib"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text('raise ImportError("No module named \'matplotlib\' (simulated)")\n')
    env = {"PYTHONPATH": str(tmp_path / "no_mpl") + os.pathsep + PACKAGE_PARENT}
    r = _glassnet("train", "--epochs", "1", "--out", str(tmp_path / "run"), "--no-progress", env_extra=env)
    assert r.returncode == 0, r.stderr
    assert "test accuracy" in r.stdout
    assert "report.html skipped" in r.stdout and 'pip install "glassnet[viz]"' in r.stdout
    assert not (tmp_path / "run" / "report.html").exists() and (tmp_path / "run" / "model.safetensors").exists()
    r = _glassnet("explain", str(tmp_path / "run"), env_extra=env)
    assert r.returncode == 2 and 'pip install "glassnet[viz]"' in r.stderr and "Traceback" not in r.stderr


# ---- in a real browser -------------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="headless check needs Debian's chromium package "
                                                              "(apt-get install chromium); not installed")

# Collects load errors (a broken image fires "error" on the element) from the start of the page.
ERROR_PROBE = ('<script>window.__errors=[];window.addEventListener("error",function(e){'
               'window.__errors.push(String(e.message||(e.target&&e.target.tagName)||"error"));},true);</script>')
# After load: for every <img>, did it decode (naturalWidth) and what does it hold (luminance spread, drawn
# to a canvas). The verdict goes into the DOM, which --dump-dom prints.
IMAGE_PROBE = """<script>
window.addEventListener("load", function () {
  var out = [];
  for (var i = 0; i < document.images.length; i++) {
    var im = document.images[i];
    var r = {w: im.naturalWidth, h: im.naturalHeight, complete: im.complete, shown: im.getBoundingClientRect().width};
    try {
      var c = document.createElement("canvas"); c.width = Math.max(1, im.naturalWidth); c.height = Math.max(1, im.naturalHeight);
      var g = c.getContext("2d"); g.drawImage(im, 0, 0);
      var d = g.getImageData(0, 0, c.width, c.height).data, n = 0, s = 0, s2 = 0;
      for (var k = 0; k < d.length; k += 4) { var y = 0.299 * d[k] + 0.587 * d[k + 1] + 0.114 * d[k + 2]; s += y; s2 += y * y; n++; }
      r.mean = s / n; r.std = Math.sqrt(Math.max(s2 / n - r.mean * r.mean, 0));
    } catch (e) { r.error = String(e); }
    out.push(r);
  }
  var pre = document.createElement("pre"); pre.id = "glassnet-verdict";
  pre.textContent = JSON.stringify({images: out, errors: window.__errors});
  document.body.appendChild(pre);
});
</script>"""


def _chromium(tmp_path, *args, timeout=120):
    """Run headless chromium; a hang is killed by the timeout (and fails the test)."""
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
           "--hide-scrollbars", f"--user-data-dir={tmp_path / 'chromium-profile'}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def _verdict(tmp_path, page_html, name):
    probe = tmp_path / name
    probe.write_text(page_html.replace("<head>", "<head>" + ERROR_PROBE, 1).replace("</body>", IMAGE_PROBE + "</body>", 1),
                     encoding="utf-8")
    r = _chromium(tmp_path, "--virtual-time-budget=10000", "--dump-dom", probe.as_uri())
    m = re.search(r'<pre id="glassnet-verdict">(.*?)</pre>', r.stdout, re.S)
    assert m, f"no verdict from chromium (rc {r.returncode}): {r.stderr[-2000:]}"
    return json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">"))


@needs_chromium
def test_the_image_check_catches_a_broken_picture(tmp_path):
    good = base64.b64encode(_tiny_png()).decode()
    page = ('<!DOCTYPE html><html><head><title>t</title></head><body>'
            f'<img src="data:image/png;base64,{good}" alt="ok">'
            '<img src="data:image/png;base64,AAAA" alt="broken"></body></html>')
    v = _verdict(tmp_path, page, "probe.html")
    assert v["images"][0]["w"] == 16 and v["images"][0]["std"] > 10
    assert v["images"][1]["w"] == 0
    assert v["errors"], "the broken image's error event was not seen"


def _tiny_png():
    """A 16x16 checkerboard PNG, written by matplotlib."""
    import io

    from matplotlib.image import imsave

    buf = io.BytesIO()
    imsave(buf, (np.indices((16, 16)).sum(axis=0) % 2).astype(float), cmap="gray", format="png")
    return buf.getvalue()


@needs_chromium
@pytest.mark.parametrize("which", ["mlp", "cnn"])
def test_report_renders_in_headless_chromium(tmp_path, which, request):
    run = request.getfixturevalue(f"{which}_run")
    report = tmp_path / "report.html"
    report.write_text(run.html, encoding="utf-8")

    # 1. every picture decodes, is laid out on the page and is not blank; nothing raised an error
    v = _verdict(tmp_path, run.html, "checked.html")
    assert not v["errors"], v["errors"]
    assert len(v["images"]) == len(SECTION_IDS)
    for i, img in enumerate(v["images"]):
        assert img["complete"] and img["w"] > 50 and img["h"] > 50, (i, img)
        assert img["shown"] > 50, (i, img)
        assert "error" not in img, (i, img)
        assert img["std"] > 5.0, f"picture {i} is blank: {img}"

    # 2. the unmodified page opens without console errors, and its screenshot is not blank
    shot = tmp_path / f"{which}-report.png"
    r = _chromium(tmp_path, "--window-size=1200,3000", "--enable-logging=stderr", "--v=0",
                  f"--screenshot={shot}", report.as_uri())
    assert r.returncode == 0 and shot.is_file(), r.stderr[-2000:]
    console = [line for line in r.stderr.splitlines() if "CONSOLE" in line]
    assert not console, console
    from matplotlib.image import imread

    pixels = imread(str(shot))[..., :3]
    assert pixels.shape[:2] == (3000, 1200)
    assert pixels.std() > 0.05
    assert len(np.unique((pixels * 255).astype(np.uint8).reshape(-1, 3), axis=0)) > 200
    keep = os.environ.get("GLASSNET_REPORT_SCREENSHOTS")
    if keep:  # a place to look at the pictures after the run
        os.makedirs(keep, exist_ok=True)
        shutil.copy(shot, keep)
