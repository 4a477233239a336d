"""All parameters as one flat vector and back, as torch.nn.utils."""
from ..._tensor import Tensor


def _check_same_device(params):
    device = None
    for p in params:
        if device is None:
            device = p.device
        elif p.device != device:
            raise TypeError(f"Found two parameters on different devices, this is currently not supported "
                            f"({device} and {p.device})")


def parameters_to_vector(parameters):
    """The parameters flattened and concatenated into one 1-D tensor (differentiable)."""
    from ... import _functions

    if isinstance(parameters, Tensor):
        parameters = [parameters]
    params = list(parameters)
    _check_same_device(params)
    if not params:
        raise ValueError("[parameters_to_vector] got no parameters")
    return _functions.cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec, parameters):
    """Points each parameter's data at its slice of `vec` (1-D), in order.
    As in torch, the parameters then share vec's memory."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected vec to be a Tensor, but got: {type(vec).__name__}")
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    params = list(parameters)
    _check_same_device(params)
    total = sum(p.numel() for p in params)
    if vec.dim() != 1 or vec.numel() != total:
        raise ValueError(f"[vector_to_parameters] vec of shape {tuple(vec.shape)} does not hold the {total} "
                         "elements of the parameters")
    pointer = 0
    for p in params:
        n = p.numel()
        p.data = vec[pointer:pointer + n].view_as(p).data
        pointer += n
