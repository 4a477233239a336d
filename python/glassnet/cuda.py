"""gn.cuda: whether a GPU can be used, and the CUDA caching allocator."""
from . import _C


def is_available():
    return _C.cuda.is_available()


def device_count():
    return _C.cuda.device_count()


def is_compiled():
    """Whether this build of glassnet includes the CUDA kernels."""
    return _C.cuda.compiled()


def synchronize(device=0):
    if is_available():
        _C.cuda.synchronize(device)


def empty_cache():
    _C.cuda.empty_cache()


def memory_allocated(device=0):
    return _C.cuda.memory_allocated(device)
