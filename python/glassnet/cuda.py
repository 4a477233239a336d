"""gn.cuda: whether a GPU can be used, and the CUDA caching allocator.

Freed cuda tensors return their memory to a per-device cache that later
tensors reuse; `memory_allocated` counts the bytes held by live tensors and
`empty_cache` hands the cached, unused blocks back to the driver."""
from . import _C


def _index(device):
    """The CUDA device number of 0, 1, "cuda", "cuda:1" or gn.device("cuda:1")."""
    if device is None:
        return 0
    if isinstance(device, int) and not isinstance(device, bool):
        return device
    from ._device import device as device_cls

    d = device_cls(device)
    if d.type != "cuda":
        raise ValueError(f"[cuda] expected a cuda device, got {d}")
    return d.index


def is_compiled():
    """Whether this build of glassnet includes the CUDA kernels."""
    return _C.cuda.compiled()


def is_available():
    """Whether cuda tensors can be made: CUDA compiled in and at least one GPU found."""
    return _C.cuda.is_available()


def device_count():
    """The number of usable GPUs; 0 without a driver or a GPU."""
    return _C.cuda.device_count()


def synchronize(device=None):
    """Waits for all queued work on the device; does nothing without a GPU."""
    if is_available():
        _C.cuda.synchronize(_index(device))


def empty_cache():
    """Returns the allocator's cached, unused blocks to the driver."""
    _C.cuda.empty_cache()


def memory_allocated(device=None):
    """Bytes held by live tensors on the device (block sizes, rounded up as allocated)."""
    return _C.cuda.memory_allocated(_index(device))
