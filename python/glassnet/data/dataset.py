"""Datasets: the map-style `Dataset` protocol (``len`` and ``[i]``), tensors
held in memory (`TensorDataset`), views (`Subset`, `ConcatDataset`) and
`random_split`, with torch's names and semantics.

A dataset may also offer ``_fetch_batch(indices)`` (indices: an int64 numpy
array) that returns a whole collated batch at once; `DataLoader` uses it and
skips the per-sample Python loop. `TensorDataset` does it with one
``index_select`` per tensor.
"""
import bisect
import math

import numpy as np

from .._tensor import Tensor


class Dataset:
    """Base class of map-style datasets: subclasses define ``__getitem__`` and ``__len__``."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __add__(self, other):
        return ConcatDataset([self, other])


def _as_index_tensor(indices):
    from .._creation import from_numpy
    return from_numpy(np.asarray(indices, dtype=np.int64, order="C"))


class TensorDataset(Dataset):
    """Samples are the i-th rows of equally long tensors: ``ds[i] == (t0[i], t1[i], ...)``."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("[TensorDataset] needs at least one tensor")
        for t in tensors:
            if not isinstance(t, Tensor):
                raise TypeError(f"[TensorDataset] expects glassnet tensors, got {type(t).__name__}")
            if t.ndim == 0:
                raise ValueError("[TensorDataset] tensors need a first (sample) dimension, got a 0-d tensor")
        n = tensors[0].shape[0]
        if any(t.shape[0] != n for t in tensors):
            sizes = [tuple(t.shape) for t in tensors]
            raise ValueError(f"[TensorDataset] tensors differ in their first dimension: {sizes}")
        self.tensors = tuple(tensors)

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]

    def _fetch_batch(self, indices):
        n = len(indices)
        start = int(indices[0]) if n else 0
        # A run of consecutive indices (no shuffling) is a view: no copy at all.
        if n and int(indices[-1]) - start == n - 1 and (n == 1 or np.all(np.diff(indices) == 1)):
            return tuple(t.narrow(0, start, n) for t in self.tensors)
        idx = _as_index_tensor(indices)
        return tuple(t.index_select(0, idx) for t in self.tensors)


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = [int(i) for i in indices]
        n = len(dataset)
        for i in self.indices:
            if not -n <= i < n:
                raise IndexError(f"[Subset] index {i} out of range for a dataset of {n} samples")

    def __getitem__(self, index):
        if isinstance(index, (list, tuple, np.ndarray)):
            return [self.dataset[self.indices[int(i)]] for i in index]
        return self.dataset[self.indices[index]]

    def __len__(self):
        return len(self.indices)

    @property
    def _fetch_batch(self):
        inner = getattr(self.dataset, "_fetch_batch", None)
        if inner is None:
            raise AttributeError("_fetch_batch")
        if getattr(self, "_table", None) is None or len(self._table) != len(self.indices):
            self._table = np.asarray(self.indices, dtype=np.int64) % max(len(self.dataset), 1)
        table = self._table
        return lambda indices: inner(table[np.asarray(indices, dtype=np.int64)])


class ConcatDataset(Dataset):
    """Datasets one after another."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("[ConcatDataset] needs at least one dataset")
        self.cumulative_sizes = list(np.cumsum([len(d) for d in self.datasets]))

    def __len__(self):
        return int(self.cumulative_sizes[-1])

    def __getitem__(self, index):
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(f"[ConcatDataset] index {index} out of range for {n} samples")
        which = bisect.bisect_right(self.cumulative_sizes, index)
        offset = index - (self.cumulative_sizes[which - 1] if which else 0)
        return self.datasets[which][int(offset)]


def _split_lengths(n, lengths):
    lengths = list(lengths)
    if lengths and all(isinstance(x, float) for x in lengths) and math.isclose(sum(lengths), 1.0) \
            and sum(lengths) <= 1.0 + 1e-9:
        if any(x < 0 for x in lengths):
            raise ValueError(f"[random_split] fractions must be non-negative, got {lengths}")
        counts = [int(math.floor(n * f)) for f in lengths]
        # The samples that flooring left over go one each to the first splits, as torch does.
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        return counts
    if any(not isinstance(x, (int, np.integer)) or x < 0 for x in lengths):
        raise ValueError(f"[random_split] lengths must be non-negative ints or fractions summing to 1, got {lengths}")
    if sum(lengths) != n:
        raise ValueError(f"[random_split] lengths {lengths} sum to {sum(lengths)}, but the dataset has {n} samples")
    return [int(x) for x in lengths]


def random_split(dataset, lengths, generator=None, seed=None):
    """Split `dataset` into non-overlapping `Subset`s of the given lengths (or
    fractions summing to 1). The permutation comes from glassnet's global
    generator (reproducible under ``gn.manual_seed``) unless `seed` or a numpy
    `generator` is given."""
    from .dataloader import _permutation

    counts = _split_lengths(len(dataset), lengths)
    perm = _permutation(len(dataset), _draw_seed(generator, seed))
    out, start = [], 0
    for c in counts:
        out.append(Subset(dataset, perm[start:start + c].tolist()))
        start += c
    return out


def _draw_seed(generator, seed):
    """A 62-bit seed for one permutation: from `seed`, a numpy Generator, or glassnet's stream."""
    if seed is not None:
        return int(seed)
    if generator is not None:
        return int(generator.integers(0, 2 ** 62))
    from .._creation import randint
    hi, lo = randint(0, 2 ** 31, (2,)).tolist()
    return (hi << 31) | lo
