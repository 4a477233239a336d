"""glassnet.nn.init: fill a tensor in place with the distributions that
keep activations well scaled, named as torch.nn.init.

Xavier/Glorot: Glorot & Bengio, "Understanding the difficulty of training deep
feedforward neural networks" (2010). Kaiming/He: He et al., "Delving Deep into
Rectifiers" (2015). Orthogonal: Saxe et al., "Exact solutions to the nonlinear
dynamics of learning in deep linear neural networks" (2013).

Every function draws from glassnet's generator (gn.manual_seed makes it
reproducible), runs without recording a graph and returns the tensor.
"""
import math
import warnings

import numpy as np

from .._tensor import Tensor
from ..autograd.grad_mode import no_grad

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_",
           "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_",
           "sparse_"]


def calculate_gain(nonlinearity, param=None):
    """The factor by which a nonlinearity shrinks the standard deviation, as torch's:
    1 for linear/conv/sigmoid, 5/3 for tanh, sqrt(2) for relu,
    sqrt(2 / (1 + slope^2)) for leaky_relu, 3/4 for selu."""
    linear_fns = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"]
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    """fan_in = size(1) * receptive field, fan_out = size(0) * receptive field."""
    dimensions = tensor.dim()
    if dimensions < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    shape = tuple(tensor.shape)
    receptive_field_size = 1
    for s in shape[2:]:
        receptive_field_size *= s
    return shape[1] * receptive_field_size, shape[0] * receptive_field_size


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _check_tensor(tensor, fn):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"[{fn}] expected a glassnet Tensor, got {type(tensor).__name__}")


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fills with values drawn from U(a, b)."""
    _check_tensor(tensor, "uniform_")
    with no_grad():
        return tensor.uniform_(a, b)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fills with values drawn from N(mean, std^2)."""
    _check_tensor(tensor, "normal_")
    with no_grad():
        return tensor.normal_(mean, std)


def _erfinv(y):
    """Inverse error function of a float64 tensor in (-1, 1), elementwise.

    Giles, "Approximating the erfinv function" (GPU Computing Gems, 2011):
    one polynomial in w = -log(1 - y^2) for the centre, another in sqrt(w)
    for the tails; relative error below 4e-9 in double precision."""
    from .. import _functions as gnf

    w = -gnf.log((1.0 - y) * (1.0 + y))
    # Central region, w < 6.25.
    wc = w - 3.125
    p = -3.6444120640178196996e-21
    for c in (-1.685059138182016589e-19, 1.2858480715256400167e-18, 1.115787767802518096e-17,
              -1.333171662854620906e-16, 2.0972767875968561637e-17, 6.6376381343583238325e-15,
              -4.0545662729752068639e-14, -8.1519341976054721522e-14, 2.6335093153082322977e-12,
              -1.2975133253453532498e-11, -5.4154120542946279317e-11, 1.051212273321532285e-09,
              -4.1126339803469836976e-09, -2.9070369957882005086e-08, 4.2347877827932403518e-07,
              -1.3654692000834678645e-06, -1.3882523362786468719e-05, 0.0001867342080340571352,
              -0.00074070253416626697512, -0.0060336708714301490533, 0.24015818242558961693,
              1.6536545626831027356):
        p = c + p * wc
    central = p * y
    # Tails, 6.25 <= w < 16.
    wt = gnf.sqrt(gnf.maximum(w, w * 0.0 + 6.25)) - 3.25
    q = 2.2137376921775787049e-09
    for c in (9.0756561938885390979e-08, -2.7517406297064545428e-07, 1.8239629214389227755e-08,
              1.5027403968909827627e-06, -4.013867526981545969e-06, 2.9234449089955446044e-06,
              1.2475304481671778723e-05, -4.7318229009055733981e-05, 6.8284851459573175448e-05,
              2.4031110387097893999e-05, -0.0003550375203628474796, 0.00095328937973738049703,
              -0.0016882755560235047313, 0.0024914420961078508066, -0.0037512085075692412107,
              0.005370914553590063617, 1.0052589676941592334, 3.0838856104922207635):
        q = c + q * wt
    tail = q * y
    # Far tails, w >= 16.
    wf = gnf.sqrt(gnf.maximum(w, w * 0.0 + 16.0)) - 5.0
    r = -2.7109920616438573243e-11
    for c in (-2.5556418169965252055e-10, 1.5076572693500548083e-09, -3.7894654401267369937e-09,
              7.6157012080783393804e-09, -1.4960026627149240478e-08, 2.9147953450901080826e-08,
              -6.7711997758452339498e-08, 2.2900482228026654717e-07, -9.9298272942317002539e-07,
              4.5260625972231537039e-06, -1.9681778105531670567e-05, 7.5995277030017761139e-05,
              -0.00021503011930044477347, -0.00013871931833623122026, 1.0103004648645343977,
              4.8499064014085844221):
        r = c + r * wf
    far = r * y
    return gnf.where(w < 6.25, central, gnf.where(w < 16.0, tail, far))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fills with N(mean, std^2) truncated to [a, b], by inverting the normal
    CDF of a uniform draw restricted to [cdf(a), cdf(b)]: exact, no rejection
    loop, any interval."""
    _check_tensor(tensor, "trunc_normal_")
    if not a < b:
        raise ValueError(f"[trunc_normal_] needs a < b, got a={a}, b={b}")
    if (mean < a - 2 * std) or (mean > b + 2 * std):
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
                      "The distribution of values may be incorrect.", stacklevel=2)

    def norm_cdf(x):
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    lo, hi = norm_cdf((a - mean) / std), norm_cdf((b - mean) / std)
    with no_grad():
        from .._creation import empty
        from .._dtype import float64

        u = empty(tuple(tensor.shape), dtype=float64, device=tensor.device).uniform_(2 * lo - 1, 2 * hi - 1)
        # Keep y strictly inside (-1, 1) so erfinv stays finite.
        eps = np.finfo(np.float64).eps
        u = u.clamp(-1 + eps, 1 - eps)
        x = _erfinv(u) * (std * math.sqrt(2.0)) + mean
        x = x.clamp(a, b)
        tensor.copy_(x.to(tensor.dtype))
    return tensor


def constant_(tensor, val):
    """Fills with the value val."""
    _check_tensor(tensor, "constant_")
    with no_grad():
        return tensor.fill_(val)


def ones_(tensor):
    return constant_(tensor, 1.0)


def zeros_(tensor):
    with no_grad():
        return tensor.zero_()


def eye_(tensor):
    """Fills a 2-D tensor with the identity matrix (ones on the diagonal)."""
    _check_tensor(tensor, "eye_")
    if tensor.dim() != 2:
        raise ValueError(f"[eye_] only tensors with 2 dimensions are supported, got {tensor.dim()}")
    from .._creation import eye

    with no_grad():
        rows, cols = tuple(tensor.shape)
        tensor.copy_(eye(rows, cols, dtype=tensor.dtype, device=tensor.device))
    return tensor


def dirac_(tensor, groups=1):
    """Fills a {3,4,5}-D convolution weight with the Dirac delta, so that the
    convolution is the identity on the first min(out, in) channels of each group."""
    _check_tensor(tensor, "dirac_")
    dims = tensor.dim()
    if dims not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = tuple(tensor.shape)
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    out_chans_per_grp = sizes[0] // groups
    min_dim = min(out_chans_per_grp, sizes[1])
    w = np.zeros(sizes, dtype=tensor.dtype.numpy)
    centre = tuple(s // 2 for s in sizes[2:])
    for g in range(groups):
        for d in range(min_dim):
            w[(g * out_chans_per_grp + d, d) + centre] = 1
    return _copy_from_numpy(tensor, w)


def _copy_from_numpy(tensor, array):
    from .._creation import from_numpy

    with no_grad():
        tensor.copy_(from_numpy(np.ascontiguousarray(array)).to(tensor.device))
    return tensor


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    _check_tensor(tensor, "xavier_uniform_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return uniform_(tensor, -a, a)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    _check_tensor(tensor, "xavier_normal_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std)


def _zero_element(tensor):
    if tensor.numel() == 0:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return True
    return False


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """U(-bound, bound) with bound = gain * sqrt(3 / fan), fan chosen by mode."""
    _check_tensor(tensor, "kaiming_uniform_")
    if _zero_element(tensor):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    bound = math.sqrt(3.0) * gain / math.sqrt(fan)
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """N(0, std^2) with std = gain / sqrt(fan), fan chosen by mode."""
    _check_tensor(tensor, "kaiming_normal_")
    if _zero_element(tensor):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    return normal_(tensor, 0.0, gain / math.sqrt(fan))


def orthogonal_(tensor, gain=1, generator=None):
    """A (semi-)orthogonal matrix: Q of the QR decomposition of a Gaussian draw,
    signs fixed by diag(R) so the result is uniformly distributed; trailing
    dimensions are flattened. The QR runs in numpy: it is done once per
    weight, never in a training step."""
    _check_tensor(tensor, "orthogonal_")
    if tensor.dim() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    from .._creation import randn

    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    with no_grad():
        flat = randn(rows, cols, dtype=tensor.dtype).numpy().astype(np.float64)
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    d = np.sign(np.diag(r))
    d[d == 0] = 1
    q = q * d
    if rows < cols:
        q = q.T
    return _copy_from_numpy(tensor, (gain * q).reshape(tuple(tensor.shape)).astype(tensor.dtype.numpy))


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """A 2-D tensor with N(0, std^2) entries, a `sparsity` fraction of each column zeroed."""
    _check_tensor(tensor, "sparse_")
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    from .._creation import randperm

    rows, cols = tuple(tensor.shape)
    num_zeros = int(math.ceil(sparsity * rows))
    with no_grad():
        tensor.normal_(0, std)
        values = tensor.detach().cpu().numpy().copy()
        for c in range(cols):
            zero_rows = randperm(rows).numpy()[:num_zeros]
            values[zero_rows, c] = 0
    return _copy_from_numpy(tensor, values)
