"""grad_cam(): where in the image a convolutional layer saw evidence for a
class (Selvaraju et al. 2017, "Grad-CAM: visual explanations from deep
networks via gradient-based localization").

For the layer's output maps A (N, C, h, w) and the target score y_c, each
channel gets the weight α_k = mean over (i, j) of ∂y_c/∂A_k[i, j], and the
map is ReLU(Σ_k α_k A_k): the places whose activation raises the score. It is
returned at the layer's resolution and resized bilinearly to the input's.
"""
import numpy as np

from ..autograd import enable_grad, grad
from ._common import as_input, check_output, eval_mode, resolve_layer, target_index, target_scores
from .resize import resize_bilinear


class GradCAM:
    """heatmap (N, H, W): the map resized to the input; raw (N, h, w): at the
    layer's resolution; weights (N, C): the channel weights α. numpy float64.
    Unpacks as (heatmap, raw)."""

    def __init__(self, heatmap, raw, weights, layer):
        self.heatmap, self.raw, self.weights, self.layer = heatmap, raw, weights, layer

    def __iter__(self):
        return iter((self.heatmap, self.raw))

    def __len__(self):
        return 2

    def __repr__(self):
        return f"GradCAM(layer={self.layer!r}, heatmap={self.heatmap.shape}, raw={self.raw.shape})"


def _input_size(x, input_size):
    if input_size is not None:
        return tuple(int(s) for s in input_size)
    if x.ndim >= 3:
        return tuple(x.shape[-2:])
    raise ValueError(f"[grad_cam] cannot tell the image size of an input of shape {tuple(x.shape)}: pass "
                     f"input_size=(H, W) or give x as (N, C, H, W)")


def grad_cam(model, x, target, layer, *, input_size=None):
    """Grad-CAM maps of the target class for each sample of x at `layer` (a
    name from named_modules() or the module) whose output is (N, C, h, w).
    input_size: the (H, W) to resize to (default: x's last two dims).
    Returns a `GradCAM` (heatmap, raw, weights: numpy arrays)."""
    x = as_input(x, "grad_cam")
    name, module = resolve_layer(model, layer, "grad_cam")
    size = _input_size(x, input_size)
    captured = {}

    def hook(mod, args, output):
        captured["A"] = output

    handle = module.register_forward_hook(hook)
    try:
        with eval_mode(model), enable_grad():
            out = check_output(model(x), "grad_cam")
            if "A" not in captured:
                raise ValueError(f"[grad_cam] layer {name!r} did not run in the model's forward pass")
            maps = captured["A"]
            if not hasattr(maps, "ndim") or maps.ndim != 4:
                shape = tuple(maps.shape) if hasattr(maps, "shape") else type(maps).__name__
                raise ValueError(f"[grad_cam] needs a convolutional layer with (N, C, h, w) output; layer "
                                 f"{name!r} ({type(module).__name__}) gives {shape}")
            if not maps.requires_grad:
                raise ValueError(f"[grad_cam] the output of layer {name!r} does not depend on parameters "
                                 f"or inputs that take gradients")
            idx = target_index(target, out.shape[0], out.shape[1], "grad_cam")
            (g,) = grad(target_scores(out, idx).sum(), maps)
    finally:
        handle.remove()
    a = maps.detach().double().cpu().numpy()
    g = g.detach().double().cpu().numpy()
    weights = g.mean(axis=(2, 3))
    raw = np.maximum(np.einsum("nc,nchw->nhw", weights, a), 0.0)
    return GradCAM(resize_bilinear(raw, size), raw, weights, name)
