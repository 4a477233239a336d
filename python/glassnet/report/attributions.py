"""Section: why the network chose its answer, for a few test inputs.

Beside each input: the saliency map (how strongly each pixel's gradient moves
the class score), integrated gradients (each pixel's share of the score's
change from a baseline input, Sundararajan et al. 2017) and, for
convolutional models, Grad-CAM (which regions of a late convolutional layer's
maps support the class, Selvaraju et al. 2017). All come from
glassnet.explain; this file only picks the samples and draws.
"""
import numpy as np

from . import _mpl
from .page import Picture, Section

SAMPLES = 6
IG_STEPS = 64


def pick_samples(data, count=SAMPLES):
    """Indices of correctly classified test samples of distinct classes, spread over the classes."""
    right = data.predicted == data.y
    chosen = []
    classes = np.unique(data.y)
    for c in classes[np.linspace(0, len(classes) - 1, min(count, len(classes))).round().astype(int)]:
        idx = np.flatnonzero(right & (data.y == c))
        if len(idx):
            chosen.append(int(idx[0]))
    return chosen


def gradcam_layer(model, x):
    """(name, module): the last leaf module whose output is a 4-D feature map at least 3×3
    (the last 4-D one if none is that large), found by one forward pass with hooks; (None, None)
    when the model makes no 4-D maps."""
    from ..autograd import no_grad

    seen = []
    handles = []
    for name, m in model.named_modules():
        if not any(True for _ in m.children()):
            handles.append(m.register_forward_hook(
                lambda mod, args, out, name=name: seen.append((name, mod, tuple(out.shape)))))
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    maps = [(n, m, s) for n, m, s in seen if len(s) == 4]
    if not maps:
        return None, None
    large = [(n, m) for n, m, s in maps if min(s[2], s[3]) >= 3]
    return large[-1] if large else maps[-1][:2]


def _np(v):
    if hasattr(v, "detach"):
        v = v.detach().cpu().numpy()
    return np.asarray(v, dtype=np.float64)


def _tensor(data, rows):
    from .._creation import from_numpy

    x = from_numpy(np.ascontiguousarray(data.x[rows]))
    device = next((p.device for p in data.model.parameters()), None)
    return x.to(device) if device is not None and x.device != device else x


def section(data):
    if data.image_shape is None or len(data.y) == 0:
        return None
    from ..explain import grad_cam, integrated_gradients, saliency

    samples = pick_samples(data)
    if not samples:
        return None
    layer_name, layer = gradcam_layer(data.model, _tensor(data, samples[:1]))
    kinds = ["input", "saliency", "integrated gradients"] + (["Grad-CAM"] if layer is not None else [])
    images = data.display(data.x[samples])
    x = _tensor(data, samples)
    targets = data.predicted[samples]
    sal = [_magnitude(data, g) for g in _np(saliency(data.model, x, targets))]
    ig = integrated_gradients(data.model, x, targets, steps=IG_STEPS)
    ig_maps = [_signed(data, a) for a in _np(ig.attributions)]
    if layer is not None:
        h, w = images.shape[1:3]
        cams = _np(grad_cam(data.model, x, targets, layer, input_size=(h, w)).heatmap)
    # One column per sample, one row per kind of map, each map on its own colour scale.
    tiles = [[_mpl.as_rgb_input(im) for im in images],
             [_mpl.colorize(m, "inferno", 0.0, max(m.max(), 1e-12)) for m in sal],
             [_mpl.colorize(m, "RdBu_r", -_peak(m), _peak(m)) for m in ig_maps]]
    if layer is not None:
        tiles.append([_overlay(images[c], cams[c]) for c in range(len(samples))])
    fig = _mpl.grid_figure(tiles, col_titles=[_class_title(data.class_names[t]) for t in targets], row_titles=kinds)
    baseline = ("the all-zero input, which after the run's standardisation is the average training image"
                if data.input_mean is not None else "the all-zero (blank) input")
    intro = ("Why the network chose its answer for a few correctly classified test inputs (one per class). "
             "Saliency: the size of the class score's gradient at each pixel — where a small change would move "
             "the score most. Integrated gradients: each pixel's contribution to the score relative to a baseline "
             f"({baseline}); red pixels pushed the score up, blue pushed it down, and the contributions add up to "
             "the score's difference from the baseline's.")
    if layer is not None:
        intro += (f" Grad-CAM: where the feature maps of layer {layer_name} ({type(layer).__name__}) hold evidence "
                  f"for the class (the maps weighted by the class score's gradient), laid over the input: the "
                  f"stronger the evidence, the redder and more opaque.")
    worst = float(np.max(ig.relative_error))
    notes = [f"Integrated gradients with {IG_STEPS} trapezoid steps: the attributions of each sample add up to its "
             f"score difference from the baseline within {100 * worst:.2g}% (the completeness check)."]
    return Section("attributions", "Attribution maps", intro,
                   [Picture(_mpl.to_data_uri(fig), "test inputs above their " + ", ".join(k for k in kinds[1:]) + " maps")],
                   notes)



def _class_title(name):
    """"class 3" for a bare number, the name itself for "Sneaker"."""
    return f"class {name}" if len(str(name)) <= 3 else str(name)


def _peak(m):
    return max(float(np.abs(m).max()), 1e-12)


def _overlay(image, cam):
    """The input in grey with the Grad-CAM map over it: opaque red-yellow where the map is strong,
    fading to the bare input where it is zero."""
    base = _mpl.as_rgb_input(image)
    strength = np.clip(cam / max(float(cam.max()), 1e-12), 0, 1)
    heat = _mpl.colorize(strength, "autumn_r", 0.0, 1.0)   # yellow (weak) to red (strong)
    alpha = (0.75 * strength)[..., None]
    return (1 - alpha) * base + alpha * heat

def _magnitude(data, grads):
    """|gradient| of one sample as one (H, W) map (largest over colour channels)."""
    img = np.abs(data.as_images(grads.reshape(1, -1)))[0]
    return img if img.ndim == 2 else img.max(axis=-1)


def _signed(data, attributions):
    """Signed attributions as one (H, W) map (summed over colour channels)."""
    img = data.as_images(attributions.reshape(1, -1))[0]
    return img if img.ndim == 2 else img.sum(axis=-1)
