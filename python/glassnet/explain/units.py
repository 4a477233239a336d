"""What "a unit" of a layer is, and its activation per sample.

unit: an int picks a channel of an (N, C, ...) output (its mean over the
remaining dims, the usual objective for a conv channel) or a feature of an
(N, F) output; a tuple picks one element of a sample, e.g. (channel, i, j)."""
import numbers

from ..autograd import no_grad
from .._tensor import Tensor
from ._common import eval_mode, resolve_layer


def check_unit(unit, shape, name, who):
    per_sample = tuple(shape[1:])
    index = (unit,) if isinstance(unit, numbers.Integral) and not isinstance(unit, bool) else tuple(unit) \
        if isinstance(unit, (tuple, list)) else None
    if index is None or not index or len(index) > len(per_sample) or \
            any(isinstance(i, bool) or not isinstance(i, numbers.Integral) or not 0 <= i < s
                for i, s in zip(index, per_sample)):
        raise ValueError(f"[{who}] unit {unit!r} is not in layer {name!r}, whose output per sample has shape "
                         f"{per_sample}")
    return tuple(int(i) for i in index)


def unit_activation(output, index):
    """(N,) activation of the unit `index` (from check_unit) in `output`."""
    a = output
    for i in index:
        a = a.select(1, i)
    return a.reshape(a.shape[0], -1).mean(1) if a.ndim > 1 else a


class LayerTap:
    """Keeps the latest output of one layer while it is open (a forward hook)."""

    def __init__(self, model, layer, who):
        self.name, self.module = resolve_layer(model, layer, who)
        self.output = None
        self._handle = None

    def __enter__(self):
        def hook(module, args, output):
            self.output = output[0] if isinstance(output, (tuple, list)) else output
        self._handle = self.module.register_forward_hook(hook)
        return self

    def __exit__(self, *exc):
        self._handle.remove()
        return False


def _batches(data, batch_size):
    from ..data import DataLoader, Dataset
    if isinstance(data, Tensor):
        for start in range(0, data.shape[0], batch_size):
            yield data[start:start + batch_size]
        return
    if isinstance(data, Dataset):
        data = DataLoader(data, batch_size=batch_size, shuffle=False)
    for batch in data:
        yield batch[0] if isinstance(batch, (tuple, list)) else batch


def unit_activations(model, layer, unit, data, *, batch_size=256):
    """The unit's activation for every sample of `data` (a tensor of inputs, a
    Dataset or a DataLoader of (inputs, target)), numpy float64 (N,), in
    order (a DataLoader should not shuffle)."""
    import numpy as np
    values = []
    with LayerTap(model, layer, "unit_activations") as tap, eval_mode(model), no_grad():
        index = None
        for x in _batches(data, batch_size):
            model(x)
            if index is None:
                index = check_unit(unit, tuple(tap.output.shape), tap.name, "unit_activations")
            values.append(unit_activation(tap.output, index).double().cpu().numpy())
    if not values:
        raise ValueError("[unit_activations] the data holds no samples")
    return np.concatenate(values)


def top_k_inputs(model, layer, unit, data, k, *, batch_size=256):
    """(indices, activations): the k samples of `data` that excite the unit
    most, highest first (numpy int64 and float64)."""
    import numpy as np
    from ._common import check_positive_int
    k = check_positive_int(k, "k", "top_k_inputs")
    acts = unit_activations(model, layer, unit, data, batch_size=batch_size)
    order = np.argsort(-acts, kind="stable")[:k]
    return order.astype(np.int64), acts[order]
