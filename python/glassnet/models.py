"""Ready-made models by name, for the CLI and quick experiments.

``build("mlp", in_features=64, num_classes=10)`` looks a factory up in
`MODELS`; each factory takes the input's feature count (or shape) and the
number of classes, plus its own options.
"""
from . import nn

_ACTIVATIONS = {"relu": "ReLU", "gelu": "GELU", "tanh": "Tanh", "silu": "SiLU", "sigmoid": "Sigmoid",
                "leaky_relu": "LeakyReLU", "elu": "ELU"}


def mlp(in_features=64, num_classes=10, hidden=(256, 128), activation="relu", dropout=0.0):
    """Linear layers of widths in_features -> *hidden -> num_classes with an
    activation (and optional dropout) between them; outputs logits. The
    default is the 64-256-128-10 ReLU net that the CLI trains on the digits."""
    if activation not in _ACTIVATIONS:
        raise ValueError(f"[mlp] unknown activation {activation!r}; choose from {sorted(_ACTIVATIONS)}")
    if isinstance(in_features, (tuple, list)):
        size = 1
        for d in in_features:
            size *= int(d)
        layers, in_features = [nn.Flatten()], size
    else:
        layers = []
    widths = [int(in_features)] + [int(h) for h in hidden]
    for a, b in zip(widths[:-1], widths[1:]):
        layers.append(nn.Linear(a, b))
        layers.append(getattr(nn, _ACTIVATIONS[activation])())
        if dropout:
            layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(widths[-1], int(num_classes)))
    return nn.Sequential(*layers)


from .conv_models import lenet5_for_input, small_cnn_for_input  # noqa: E402

# lenet and cnn take the same in_features (64, 784 or an image shape) as mlp.
MODELS = {"mlp": mlp, "lenet": lenet5_for_input, "cnn": small_cnn_for_input}


def build(name, **kwargs):
    """The model called `name` in MODELS, built with `kwargs`."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(sorted(MODELS))}")
    return MODELS[name](**kwargs)
