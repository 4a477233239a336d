"""occlusion(): how much the target score drops when a window of the image is
covered (Zeiler & Fergus 2014, "Visualizing and understanding convolutional
networks"). A window of `baseline` values slides over the last two dims of
the input (all channels at once); each pixel gets the mean drop
f(x) − f(x with the window covered) over the windows that cover it.
"""
import numpy as np

from .._creation import from_numpy
from ..autograd import no_grad
from ._common import as_input, check_output, eval_mode, target_index, target_scores


def _pair(value, name, limit):
    v = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(v) != 2 or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1 for s in v):
        raise ValueError(f"[occlusion] {name} must be a positive int or a pair of them, got {value!r}")
    if name == "window" and (v[0] > limit[0] or v[1] > limit[1]):
        raise ValueError(f"[occlusion] window {v} is larger than the input's spatial size {limit}")
    return int(v[0]), int(v[1])


def _starts(size, window, stride):
    # Every pixel is covered: the last window sits flush with the far edge.
    starts = list(range(0, size - window + 1, stride))
    if starts[-1] != size - window:
        starts.append(size - window)
    return starts


def occlusion(model, x, target, window, stride, baseline=0.0, *, batch_size=512):
    """Per-pixel drop of the target score under occlusion, numpy (N, H, W) for
    x of shape (N, C, H, W) or (N, H, W). window, stride: an int or (h, w).
    baseline: the value the window is filled with. The occluded copies run
    through the model (no_grad, eval mode) `batch_size` at a time."""
    x = as_input(x, "occlusion")
    if x.ndim < 3:
        raise ValueError(f"[occlusion] x must be images (N, C, H, W) or (N, H, W), got shape {tuple(x.shape)}")
    n, (h, w) = x.shape[0], tuple(x.shape[-2:])
    wh, ww = _pair(window, "window", (h, w))
    sh, sw = _pair(stride, "stride", (h, w))
    windows = [(i, j) for i in _starts(h, wh, sh) for j in _starts(w, ww, sw)]
    xa = x.cpu().numpy()
    drop_sum = np.zeros((n, h, w))
    covered = np.zeros((h, w))
    per_chunk = max(1, batch_size // n)
    with eval_mode(model), no_grad():
        out = check_output(model(x), "occlusion")
        idx = target_index(target, n, out.shape[1], "occlusion")
        base_scores = target_scores(out, idx).double().cpu().numpy()
        for start in range(0, len(windows), per_chunk):
            part = windows[start:start + per_chunk]
            batch = np.repeat(xa[None], len(part), axis=0)
            for k, (i, j) in enumerate(part):
                batch[k, ..., i:i + wh, j:j + ww] = baseline
            inp = from_numpy(batch.reshape(len(part) * n, *xa.shape[1:])).to(x.device)
            scores = target_scores(model(inp), idx.repeat(len(part))).double().cpu().numpy()
            drops = base_scores[None] - scores.reshape(len(part), n)
            for k, (i, j) in enumerate(part):
                drop_sum[:, i:i + wh, j:j + ww] += drops[k][:, None, None]
                covered[i:i + wh, j:j + ww] += 1
    return drop_sum / covered
