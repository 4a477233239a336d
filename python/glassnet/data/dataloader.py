"""DataLoader: batches from a dataset, optionally shuffled, with a state that a
checkpoint can save so a resumed run sees the same batches.

Shuffling. Each epoch draws one seed and permutes the sample indices with a
numpy PCG64 generator seeded by it. The seed comes from, in order: `seed`
(then epoch e uses the pair (seed, e), so a loader's stream does not depend on
anything else), a numpy `generator`, or glassnet's global generator, which
makes the order reproducible under ``gn.manual_seed`` like torch's loader.

Speed. Datasets that can fetch a whole batch at once (`TensorDataset`, and
`Subset`s of one) get it with one ``index_select`` per tensor (a view when the
indices are consecutive); other datasets are read sample by sample and
collated by `default_collate`.
"""
import collections.abc
import numbers

import numpy as np

from .. import _dtype as dtypes
from .._tensor import Tensor
from .dataset import _draw_seed


def _permutation(n, seed):
    return np.random.default_rng(seed).permutation(n).astype(np.int64)


def default_collate(samples):
    """Stack a list of samples into a batch, keeping the samples' structure:
    tensors and numpy arrays are stacked along a new first dim, Python ints,
    floats and bools become int64, float64 and bool tensors (as in torch),
    tuples/lists and dicts are collated field by field; strings stay lists."""
    from .._creation import from_numpy, tensor
    from .._functions import stack

    first = samples[0]
    if isinstance(first, Tensor):
        return stack(list(samples), 0)
    if isinstance(first, np.ndarray):
        return from_numpy(np.asarray(np.stack(samples), order="C"))
    if isinstance(first, np.generic):
        return from_numpy(np.asarray(samples, order="C"))
    if isinstance(first, bool):
        return tensor(list(samples), dtype=dtypes.bool)
    if isinstance(first, numbers.Integral):
        return tensor(list(samples), dtype=dtypes.int64)
    if isinstance(first, numbers.Real):
        return tensor(list(samples), dtype=dtypes.float64)
    if isinstance(first, (str, bytes)):
        return list(samples)
    if isinstance(first, collections.abc.Mapping):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    if isinstance(first, tuple) and hasattr(first, "_fields"):  # namedtuple
        return type(first)(*(default_collate(list(field)) for field in zip(*samples)))
    if isinstance(first, collections.abc.Sequence):
        if any(len(s) != len(first) for s in samples):
            raise ValueError("[default_collate] samples in a batch have different lengths")
        fields = [default_collate(list(field)) for field in zip(*samples)]
        return tuple(fields) if isinstance(first, tuple) else fields
    raise TypeError(f"[default_collate] don't know how to batch samples of type {type(first).__name__}")


class DataLoader:
    """Iterate over `dataset` in batches of `batch_size` samples.

    ``DataLoader(dataset, batch_size=1, shuffle=False, drop_last=False,
    collate_fn=None, generator=None, seed=None)``; `generator` is a
    ``numpy.random.Generator``. ``state_dict()``/``load_state_dict()`` save
    and restore the epoch count and the position inside the current epoch.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, collate_fn=None,
                 generator=None, seed=None, **unused):
        ignored = set(unused) - {"num_workers", "pin_memory", "persistent_workers", "prefetch_factor"}
        if ignored:
            raise TypeError(f"[DataLoader] unexpected arguments {sorted(ignored)}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
            raise ValueError(f"[DataLoader] batch_size must be a positive int, got {batch_size!r}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self.generator = generator
        self.seed = seed
        self.epoch = 0              # epochs started so far
        self._epoch_seed = None     # seed of the current epoch's permutation
        self._position = 0          # batches handed out in the current epoch
        self._resume = False        # load_state_dict asked to continue an epoch

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _order(self):
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n, dtype=np.int64)
        return _permutation(n, self._epoch_seed)

    def _batches(self, order, first):
        fetch = getattr(self.dataset, "_fetch_batch", None) if self.collate_fn is None else None
        bs, n = self.batch_size, len(order)
        stop = n - n % bs if self.drop_last else n
        for start in range(first * bs, stop, bs):
            idx = order[start:start + bs]
            self._position += 1
            if fetch is not None:
                yield fetch(idx)
            else:
                collate = self.collate_fn or default_collate
                yield collate([self.dataset[int(i)] for i in idx])

    def __iter__(self):
        if self._resume:
            self._resume = False
            first = self._position
        else:
            if self.shuffle:
                seed = self.seed
                if seed is not None:
                    seed = [int(seed), self.epoch]
                self._epoch_seed = _draw_seed(self.generator, None) if seed is None else seed
            self.epoch += 1
            self._position = first = 0
        return self._batches(self._order(), first)

    def state_dict(self):
        """Where the loader is: epochs started, batches handed out in the current
        one, and the seed of its shuffle (plain ints, JSON-friendly)."""
        seed = self._epoch_seed
        return {"epoch": self.epoch, "position": self._position,
                "epoch_seed": list(seed) if isinstance(seed, (list, tuple)) else seed}

    def load_state_dict(self, state):
        self.epoch = int(state["epoch"])
        self._position = int(state["position"])
        seed = state.get("epoch_seed")
        self._epoch_seed = list(seed) if isinstance(seed, (list, tuple)) else seed
        # A position past the end means that epoch finished: the next iter starts a new one.
        self._resume = self.epoch > 0 and 0 < self._position < len(self)
