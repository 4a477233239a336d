"""Ready datasets, all offline.

- `load_digits`: the 1,797 8×8 handwritten digits that scikit-learn ships,
  split 80/20 per class with a fixed seed.
- `MNIST` / `FashionMNIST`: the standard IDX files (gzipped or not) from a
  folder the user names. Nothing is ever downloaded.

IDX format (LeCun et al., http://yann.lecun.com/exdb/mnist/): a big-endian
header -- two zero bytes, a type code (0x08 = unsigned byte), the number of
dimensions -- then one big-endian uint32 per dimension, then the data.
"""
import gzip
import os

import numpy as np

from .. import _dtype as dtypes
from .._creation import from_numpy
from .dataset import Dataset, TensorDataset


def _stratified_split(labels, test_fraction, seed):
    """Indices (train, test): a `test_fraction` share of each class goes to test."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        idx = idx[rng.permutation(len(idx))]
        k = int(round(len(idx) * test_fraction))
        test.append(idx[:k])
        train.append(idx[k:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def load_digits(split="train", test_fraction=0.2, seed=0, flatten=True, dtype=None):
    """scikit-learn's 8×8 digits as a `TensorDataset` (images, labels).

    split: "train" (80%), "test" (20%) or "all"; the split is stratified by
    class and fixed by `seed`, so "train" and "test" never overlap.
    Images are float32 in [0, 1] (pixel counts 0..16 divided by 16), shape
    (N, 64), or (N, 1, 8, 8) with ``flatten=False``; labels are int64.
    """
    try:
        from sklearn.datasets import load_digits as _sk_load_digits
    except ImportError as e:  # pragma: no cover - sklearn is a declared extra
        raise ImportError("load_digits needs scikit-learn: pip install scikit-learn") from e
    if split not in ("train", "test", "all"):
        raise ValueError(f"[load_digits] split must be 'train', 'test' or 'all', got {split!r}")
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"[load_digits] test_fraction must lie in (0, 1), got {test_fraction}")
    bunch = _sk_load_digits()
    images = (bunch.data / 16.0).astype(dtypes.to_dtype(dtype).numpy if dtype is not None else np.float32)
    labels = bunch.target.astype(np.int64)
    if split != "all":
        train, test = _stratified_split(labels, test_fraction, seed)
        keep = train if split == "train" else test
        images, labels = images[keep], labels[keep]
    if not flatten:
        images = images.reshape(-1, 1, 8, 8)
    return TensorDataset(from_numpy(np.asarray(images, order="C")), from_numpy(np.asarray(labels, order="C")))


_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
              0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_idx(path):
    """The array stored in one IDX file (gzipped when the name ends in .gz)."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    name = os.path.basename(path)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"[read_idx] {name}: not an IDX file (bad magic number {raw[:4].hex() or 'empty'})")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_TYPES:
        raise ValueError(f"[read_idx] {name}: unknown IDX type code 0x{code:02x}")
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise ValueError(f"[read_idx] {name}: truncated header ({len(raw)} bytes for {ndim} dimensions)")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_TYPES[code])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise ValueError(f"[read_idx] {name}: header says shape {shape} ({expected} bytes of data) "
                         f"but the file holds {len(raw) - header}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


class MNIST(Dataset):
    """MNIST from the four IDX files in `root` (or `root/MNIST/raw`, the
    torchvision layout), each gzipped or not. Never downloads.

    ``ds[i]`` is (image, label): a float32 tensor of shape (1, 28, 28) in
    [0, 1] (after `transform`, if given) and an int label (after
    `target_transform`). ``ds.data`` (uint8 numpy, (N, 28, 28)) and
    ``ds.targets`` (int64 numpy) hold everything.
    """

    files = {True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
             False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}

    def __init__(self, root, train=True, transform=None, target_transform=None):
        self.root = os.fspath(root)
        self.train = bool(train)
        self.transform = transform
        self.target_transform = target_transform
        images_name, labels_name = self.files[self.train]
        images = read_idx(self._find(images_name))
        labels = read_idx(self._find(labels_name))
        if images.ndim != 3:
            raise ValueError(f"[{type(self).__name__}] {images_name}: expected 3 dimensions (N, H, W), "
                             f"got shape {images.shape}")
        if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
            raise ValueError(f"[{type(self).__name__}] {labels_name} holds {labels.shape} labels "
                             f"for {images.shape[0]} images")
        self.data = np.asarray(images, dtype=np.uint8, order="C")
        self.targets = labels.astype(np.int64)
        self._tensors = None

    def _find(self, name):
        folders = [self.root, os.path.join(self.root, type(self).__name__, "raw")]
        for folder in folders:
            for candidate in (name, name + ".gz"):
                path = os.path.join(folder, candidate)
                if os.path.isfile(path):
                    return path
        raise FileNotFoundError(f"[{type(self).__name__}] {name} (or {name}.gz) not found in {self.root!r} "
                                f"(also looked in {folders[1]!r}); glassnet never downloads, "
                                f"put the IDX files there")

    def __len__(self):
        return len(self.targets)

    def as_tensor_dataset(self):
        """All images (float32, (N, 1, 28, 28), in [0, 1]) and labels as one `TensorDataset`."""
        if self._tensors is None:
            images = (self.data.astype(np.float32) / 255.0)[:, None]
            self._tensors = TensorDataset(from_numpy(np.asarray(images, order="C")), from_numpy(self.targets))
        return self._tensors

    def __getitem__(self, index):
        image = from_numpy((self.data[index].astype(np.float32) / 255.0)[None])
        label = int(self.targets[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            label = self.target_transform(label)
        return image, label

    @property
    def _fetch_batch(self):
        # Without per-sample transforms a batch is one index_select of the whole image tensor.
        if self.transform is not None or self.target_transform is not None:
            raise AttributeError("_fetch_batch")
        return self.as_tensor_dataset()._fetch_batch


class FashionMNIST(MNIST):
    """Fashion-MNIST (Xiao et al., 2017): same files and layout as MNIST."""
