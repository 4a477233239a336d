"""gn.save / gn.load: tensors to and from safetensors files.

safetensors (https://github.com/huggingface/safetensors) is a JSON header
naming each tensor's dtype, shape and byte range, then the raw bytes: no code
runs on load, unlike pickle, which glassnet never uses. Files written here
load with ``safetensors.torch.load_file`` and files written by PyTorch load
here, state_dict names kept.

Writes are atomic: the bytes go to a temporary file in the target's folder,
are flushed to disk, and replace the target in one ``os.replace``, so a crash
leaves either the old file or the new one, never half of one.
"""
import os
import tempfile

import numpy as np

from ._tensor import Tensor

# What glassnet holds natively; other dtypes in a foreign file are widened on load.
_NATIVE = {np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int64), np.dtype(np.bool_)}


def _safetensors_numpy():
    try:
        import safetensors.numpy
    except ImportError as e:
        raise ImportError("saving and loading need the safetensors package: pip install safetensors") from e
    return safetensors.numpy


def _to_array(name, value):
    if isinstance(value, Tensor):
        return np.asarray(value.detach().cpu().numpy(), order="C")
    if isinstance(value, np.ndarray):
        return np.asarray(value, order="C")
    raise TypeError(f"[save] {name!r} is a {type(value).__name__}; gn.save stores tensors only "
                    f"(use glassnet.checkpoint.save_checkpoint for optimiser states and other values)")


def atomic_write(path, data):
    """Write `data` (bytes) to `path` via a flushed temporary file and os.replace."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save(state_dict, path, metadata=None):
    """Save a dict of name -> tensor to `path` as safetensors (atomically).

    metadata: optional dict of str -> str stored in the file's header.
    """
    if not isinstance(state_dict, dict):
        raise TypeError(f"[save] expects a dict of name -> tensor, got {type(state_dict).__name__}")
    arrays = {}
    for name, value in state_dict.items():
        if not isinstance(name, str):
            raise TypeError(f"[save] tensor names must be strings, got {name!r}")
        arrays[name] = _to_array(name, value)
    if metadata is not None:
        bad = [k for k, v in metadata.items() if not isinstance(k, str) or not isinstance(v, str)]
        if bad:
            raise TypeError(f"[save] metadata must map str to str; bad entries for keys {bad}")
    data = _safetensors_numpy().save(arrays, metadata=metadata)
    atomic_write(path, data)


def _to_native(name, a):
    if a.dtype in _NATIVE:
        return a
    if a.dtype.kind in "iu":
        return a.astype(np.int64)
    if a.dtype.kind == "f":
        return a.astype(np.float32)
    raise TypeError(f"[load] tensor {name!r} has dtype {a.dtype}, which glassnet cannot hold")


def load(path, device=None, map_location=None):
    """Read a safetensors file into a dict of name -> glassnet tensor, in file order.

    float16 tensors become float32 and other integer types int64 (glassnet's
    dtypes are float32, float64, int64 and bool); `device` (or torch's
    `map_location`) moves them, e.g. to "cuda".
    """
    from ._creation import from_numpy

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"[load] no such file: {path!r}")
    st = _safetensors_numpy()
    try:
        arrays = st.load_file(path)
    except Exception as e:  # the Rust side raises its own SafetensorError for bad headers
        raise ValueError(f"[load] {path!r} is not a readable safetensors file: {e}") from e
    device = device if device is not None else map_location
    out = {}
    for name in _header_order(path, arrays):
        t = from_numpy(np.asarray(_to_native(name, arrays[name]), order="C"))
        out[name] = t.to(device) if device is not None else t
    return out


def load_metadata(path):
    """The str -> str metadata stored in a safetensors file's header ({} when none)."""
    from safetensors import safe_open

    with safe_open(os.fspath(path), framework="numpy") as f:
        return dict(f.metadata() or {})


def _header_order(path, arrays):
    """Tensor names in the order of their bytes in the file (the order they were saved in)."""
    import json
    import struct

    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    names = [k for k in header if k != "__metadata__"]
    names.sort(key=lambda k: header[k]["data_offsets"][0])
    return [k for k in names if k in arrays]
