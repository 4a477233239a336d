"""glassnet: a deep-learning library with C++ kernels under a readable,
PyTorch-shaped Python layer."""
from . import _C
from ._dtype import (bool, double, dtype, float, float32, float64, get_default_dtype, int64, long,
                     set_default_dtype)
from ._device import device
from ._tensor import Size, Tensor
from ._creation import (arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like, get_rng_state,
                        linspace, manual_seed, ones, ones_like, rand, rand_like, randint, randint_like, randn,
                        randn_like, randperm, set_rng_state, tensor, zeros, zeros_like)
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from . import autograd, cuda
from ._functions import *  # noqa: F401,F403  gn.exp, gn.cat, gn.sum, ... as torch's top level

from . import nn, optim  # noqa: E402  (after the tensor layer they build on)
from . import data, train  # noqa: E402
from .serialization import load, save  # noqa: E402

__version__ = "0.1.0"


def set_num_threads(n):
    """Threads used by glassnet's kernels (the caller included)."""
    _C.set_num_threads(int(n))


def get_num_threads():
    return _C.get_num_threads()


def is_tensor(obj):
    return isinstance(obj, Tensor)


def numel(t):
    return t.numel()
