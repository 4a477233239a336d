"""Section: what the first layer looks for.

A convolution's first-layer filters are small images (glassnet.explain.filters
scales them to [0, 1]). A first Linear layer on image inputs has, for each
hidden unit, one weight per pixel: reshaped to the image it is a template the
unit matches the input against (red pixels push the unit up, blue down).
"""
import numpy as np

from . import _mpl
from .page import Picture, Section

MAX_UNITS = 64


def first_layer(model):
    """The first Conv2d or Linear module (in registration order) and its name, or (None, None)."""
    from ..nn.modules.conv import Conv2d
    from ..nn.modules.linear import Linear

    for name, m in model.named_modules():
        if isinstance(m, (Conv2d, Linear)):
            return name, m
    return None, None


def section(data):
    from ..nn.modules.conv import Conv2d

    name, layer = first_layer(data.model)
    if layer is None or data.image_shape is None:
        return None
    if isinstance(layer, Conv2d):
        return _conv_section(name, layer)
    return _linear_section(data, name, layer)


def _conv_section(name, layer):
    from ..explain import filters

    images = np.asarray(filters(layer), dtype=np.float64)  # (out, in, kh, kw), each filter in [0, 1]
    if images.shape[1] == 3:
        images = images.transpose(0, 2, 3, 1)  # colour filters as RGB pictures
    else:
        images = images.mean(axis=1)
    n = min(len(images), MAX_UNITS)
    cols = min(16, n)
    tile = _mpl.mosaic(images[:n], cols, pad=1, fill=1.0)
    fig = _mpl.figure(min(10, 0.62 * cols + 0.4), min(10, 0.62 * (-(-n // cols)) + 0.3))
    ax = fig.subplots()
    ax.imshow(tile, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    _mpl.bare_axes(ax)
    k = layer.weight.shape
    return Section("filters", "First-layer filters",
                   f"The {k[0]} filters of the first convolution (layer {name}: {k[1]} input "
                   f"channel{'s' if k[1] > 1 else ''}, {k[2]}×{k[3]} kernels), each scaled to the full grey range: bright pixels are large positive weights, dark "
                   f"ones negative. Early filters of a trained network tend to be edge, stroke and blob detectors; "
                   f"filters that still look like noise have learned little.",
                   [Picture(_mpl.to_data_uri(fig), "first-layer convolution filters",
                            f"{n} of {k[0]} filters" if n < k[0] else f"all {k[0]} filters")])


def _linear_section(data, name, layer):
    w = layer.weight.detach().cpu().numpy().astype(np.float64)
    c, h, wd = data.image_shape
    if w.shape[1] != c * h * wd:
        return None
    norms = np.linalg.norm(w, axis=1)
    order = np.argsort(-norms, kind="stable")[:MAX_UNITS]
    images = data.as_images(w[order])
    if images.ndim == 4:
        images = np.abs(images).sum(axis=-1)  # colour inputs: one map of weight magnitude per unit
    # Each unit on its own symmetric scale, so units with small weights still show their pattern.
    scale = np.abs(images).reshape(len(images), -1).max(axis=1).reshape(-1, 1, 1)
    images = images / np.where(scale > 0, scale, 1)
    cols = min(16, len(images))
    rows = -(-len(images) // cols)
    tile = _mpl.mosaic(images, cols, pad=1, fill=np.nan)
    fig = _mpl.figure(min(10, 0.62 * cols + 0.9), min(10, 0.62 * rows + 0.3))
    ax = fig.subplots()
    im = ax.imshow(np.ma.masked_invalid(tile), cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
    _mpl.bare_axes(ax)
    cb = fig.colorbar(im, ax=ax, shrink=0.7, ticks=[-1, 0, 1])
    cb.ax.set_yticklabels(["−max", "0", "+max"], fontsize=7)
    return Section("filters", "First-layer weights",
                   f"Each tile is one hidden unit of the first layer (layer {name}, {w.shape[0]} units): its {w.shape[1]} "
                   f"input weights laid out as the {h}×{wd} image they multiply. Red pixels raise the unit's "
                   f"activation when inked, blue ones lower it, so each tile is the template the unit matches "
                   f"the (standardised) input against. Units are sorted by weight norm, largest first; each tile "
                   f"is scaled to its own largest weight.",
                   [Picture(_mpl.to_data_uri(fig), "first-layer weights of each hidden unit as images",
                            f"the {len(images)} units with the largest weights" if len(images) < w.shape[0]
                            else f"all {w.shape[0]} units")])
