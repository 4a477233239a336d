"""Convolutional models for images: LeNet-5 and a small modern CNN.

Both take any input holding in_channels·input_size² values per sample (flat
rows as the digits come, (N, H, W) or (N, C, H, W)) and reshape it to
(N, C, H, W) first, so one model serves the CLI's flat and image datasets.
`lenet5_for_input` and `small_cnn_for_input` build them from the CLI's
`in_features` (a feature count such as 64 or 784, or a shape such as
(1, 28, 28)).
"""
import math
import numbers

from . import nn
# The layers are imported from their files, so the models work whether or not
# glassnet.nn re-exports them yet.
from .nn.modules.conv import Conv2d
from .nn.modules.pooling import AvgPool2d, MaxPool2d

__all__ = ["lenet5", "small_cnn", "lenet5_for_input", "small_cnn_for_input"]


def _image_input(in_channels, size):
    return [nn.Flatten(), nn.Unflatten(1, (in_channels, size, size))]


def lenet5(num_classes=10, in_channels=1, input_size=28):
    """LeNet-5 (LeCun, Bottou, Bengio & Haffner, Gradient-based learning applied
    to document recognition, Proc. IEEE 1998, §II.B): C1 6@5×5, S2 2×2
    subsampling, C3 16@5×5, S4 2×2, C5 120@5×5, F6 84, output layer, with tanh
    squashing and average pooling as the paper's subsampling layers.

    Adapted to the input size: the paper feeds 32×32 images (28×28 digits with
    a 2-pixel border), so inputs under 32 get that border as zero padding of
    C1; C3 is padded too when the map after S2 is smaller than 10 (8×8 digits),
    and C5's kernel shrinks to the map left after S4, so C5 still sees the
    whole map (1×1 output) as in the paper. Simplifications, as is usual
    today: C3 connects to all six S2 maps (the paper's Table I sparsity
    dropped), pooling has no trainable coefficient, and the output layer is
    linear (logits for cross-entropy) instead of Euclidean RBF units."""
    if input_size < 4:
        raise ValueError(f"[lenet5] input_size must be at least 4, got {input_size}")
    pad1 = 2 if input_size < 32 else 0
    s1 = input_size + 2 * pad1 - 4
    s2 = s1 // 2
    pad3 = 0 if s2 >= 10 else 2
    s4 = (s2 + 2 * pad3 - 4) // 2
    k5 = min(5, s4)
    s5 = s4 - k5 + 1
    return nn.Sequential(
        *_image_input(in_channels, input_size),
        Conv2d(in_channels, 6, 5, padding=pad1), nn.Tanh(),          # C1
        AvgPool2d(2),                                                 # S2
        Conv2d(6, 16, 5, padding=pad3), nn.Tanh(),                    # C3
        AvgPool2d(2),                                                 # S4
        Conv2d(16, 120, k5), nn.Tanh(),                               # C5
        nn.Flatten(),
        nn.Linear(120 * s5 * s5, 84), nn.Tanh(),                         # F6
        nn.Linear(84, num_classes),                                      # output
    )


def _block(c_in, c_out):
    # No conv bias: the batch norm right after it has its own.
    return [Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]


def small_cnn(num_classes=10, in_channels=1, input_size=8):
    """A small modern CNN: two stages of 3×3 conv → BatchNorm → ReLU, each
    ending in 2×2 max pooling (32 then 64 channels), dropout and a linear
    classifier. Sized for the 8×8 digits (about 60k parameters); larger
    inputs keep the same layers with a wider classifier."""
    if input_size < 4:
        raise ValueError(f"[small_cnn] input_size must be at least 4, got {input_size}")
    s = input_size // 2 // 2
    return nn.Sequential(
        *_image_input(in_channels, input_size),
        *_block(in_channels, 32), *_block(32, 32), MaxPool2d(2),
        *_block(32, 64), MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.25),
        nn.Linear(64 * s * s, num_classes),
    )


def _channels_and_size(in_features, name):
    """(channels, square side) from a feature count (C·side², C = 1, or 3 when
    that fits) or a shape (H, W) / (C, H, W) with H == W."""
    if isinstance(in_features, numbers.Integral):
        for c in (1, 3):
            side = math.isqrt(int(in_features) // c)
            if c * side * side == in_features:
                return c, side
        raise ValueError(f"[{name}] cannot read {in_features} input features as square images")
    shape = tuple(int(d) for d in in_features)
    if len(shape) == 2:
        shape = (1,) + shape
    if len(shape) != 3 or shape[1] != shape[2]:
        raise ValueError(f"[{name}] expected an input shape (H, W) or (C, H, W) with H == W, got {in_features!r}")
    return shape[0], shape[1]


def lenet5_for_input(in_features=784, num_classes=10):
    """lenet5 for the CLI: `in_features` is 64, 784, (1, 28, 28), ..."""
    c, size = _channels_and_size(in_features, "lenet5")
    return lenet5(num_classes=num_classes, in_channels=c, input_size=size)


def small_cnn_for_input(in_features=64, num_classes=10):
    """small_cnn for the CLI: `in_features` is 64, 784, (1, 28, 28), ..."""
    c, size = _channels_and_size(in_features, "small_cnn")
    return small_cnn(num_classes=num_classes, in_channels=c, input_size=size)
