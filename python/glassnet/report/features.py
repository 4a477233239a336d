"""Section: activation maximisation — the input each unit likes best.

Starting from faint noise, glassnet.explain.activation_maximization climbs
the gradient of one unit's activation with respect to the input, under the
usual regularisers (an L2 penalty, total variation and random jitter, which
keep the picture from turning into high-frequency noise). Shown for every
output class (the input the network finds most "3"-like, ...) and for a few
units of the last hidden layer.
"""
import numpy as np

from . import _mpl
from .health import ACTIVATION_TYPES
from .page import Picture, Section

HIDDEN_UNITS = 5
MAX_CLASSES = 10
STEPS = 64


def output_and_hidden_layers(model):
    """(name of the last Linear, name of the last activation module before it or None)."""
    from ..nn.modules.linear import Linear

    leaves = [(n, m) for n, m in model.named_modules() if n and not any(True for _ in m.children())]
    last = max((i for i, (_, m) in enumerate(leaves) if isinstance(m, Linear)), default=None)
    if last is None:
        return None, None
    hidden = None
    for n, m in reversed(leaves[:last]):
        if type(m).__name__ in ACTIVATION_TYPES:
            hidden = n
            break
    return leaves[last][0], hidden


def unit_activations(model, name, x, batch_size=512):
    """(N, units): each unit's activation of layer `name` for every input of x (forward passes in
    eval mode, `batch_size` inputs at a time); a channel's activation is its map's mean, as
    activation_maximization counts it."""
    from ..autograd import no_grad

    module = dict(model.named_modules())[name]
    parts = []

    def hook(mod, args, out):
        a = out.detach().cpu().double().numpy()
        parts.append(a.reshape(a.shape[0], a.shape[1], -1).mean(axis=2))   # returns None: output unchanged

    handle = module.register_forward_hook(hook)
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            for start in range(0, x.shape[0], batch_size):
                model(x[start:start + batch_size])
    finally:
        handle.remove()
        model.train(was_training)
    return np.concatenate(parts)


def section(data):
    if data.image_shape is None or len(data.x) == 0:
        return None
    from .._creation import from_numpy
    from ..explain import activation_maximization

    out_name, hidden_name = output_and_hidden_layers(data.model)
    if out_name is None:
        return None
    x = from_numpy(np.ascontiguousarray(data.x))
    device = next((p.device for p in data.model.parameters()), None)
    if device is not None and x.device != device:
        x = x.to(device)
    rows = [(out_name, list(range(min(MAX_CLASSES, len(data.class_names)))), "class")]
    on_data = {out_name: unit_activations(data.model, out_name, x)}
    if hidden_name is not None:
        on_data[hidden_name] = unit_activations(data.model, hidden_name, x)
        n = on_data[hidden_name].shape[1]
        rows.append((hidden_name, list(np.linspace(0, n - 1, min(HIDDEN_UNITS, n)).round().astype(int)), "unit"))
    shape = tuple(data.x.shape[1:])
    # Jitter shifts the image in space; on flat rows (an MLP's input) a shift would wrap pixels
    # from one image row into the next, so it is left off there.
    regularisers = {"jitter": 0} if len(shape) == 1 else None
    tiles, titles, row_titles = [], [], []
    above = total = 0   # units the picture drives higher than any test input does
    for layer, units, kind in rows:
        tiles.append([])
        titles.append([])
        row_titles.append("output" if kind == "class" else "hidden")
        for unit in units:
            result = activation_maximization(data.model, layer, int(unit), steps=STEPS, input_shape=shape,
                                             regularisers=regularisers)
            total += 1
            above += result.activation > on_data[layer][:, unit].max()
            picture = data.display(np.asarray(result.image, dtype=np.float64).reshape(1, -1))[0]
            lo, hi = np.percentile(picture, [1, 99])
            shown = np.clip((picture - lo) / max(hi - lo, 1e-12), 0, 1)
            tiles[-1].append(_mpl.colorize(shown, "gray_r", 0, 1) if shown.ndim == 2 else shown)
            titles[-1].append(data.class_names[unit] if kind == "class" else f"unit {unit}")
    fig = _mpl.grid_figure(tiles, cell_titles=titles, row_titles=row_titles)
    intro = ("The input each unit responds to most: starting from faint noise, the pixels are changed step by "
             "step along the gradient of the unit's activation, with an L2 penalty and a total-variation penalty "
             "(and random jitter for image-shaped inputs) keeping the picture smooth. Top row: the output unit "
             "of each class, the network's idea of a prototypical example")
    intro += (f"; bottom row: {len(rows[1][1])} units of the last hidden layer ({hidden_name})."
              if len(rows) > 1 else ".")
    return Section("features", "Activation maximisation", intro,
                   [Picture(_mpl.to_data_uri(fig), "inputs that maximise chosen units",
                            "each image shown in input pixel units, stretched to its own 1st-99th percentile range")],
                   [f"{above} of these {total} images drive their unit higher than any of the {len(data.x)} test "
                    f"inputs does ({STEPS} gradient steps each)."])
