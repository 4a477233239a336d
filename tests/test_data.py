"""glassnet.data: datasets, DataLoader batching and seeded shuffling, splits,
IDX readers (MNIST / Fashion-MNIST files built here), digits, transforms."""
import gzip
import os
import struct

import numpy as np
import pytest

import glassnet as gn
from glassnet.data import (ConcatDataset, DataLoader, Dataset, FashionMNIST, MNIST, Subset, TensorDataset,
                           default_collate, load_digits, random_split, read_idx, transforms)


def _tensors(n=10, d=3):
    x = gn.tensor(np.arange(n * d, dtype=np.float32).reshape(n, d))
    y = gn.tensor(np.arange(n, dtype=np.int64))
    return x, y


class ListDataset(Dataset):
    """A dataset with no batch fast path: samples are read one by one."""

    def __init__(self, items):
        self.items = items

    def __getitem__(self, i):
        return self.items[i]

    def __len__(self):
        return len(self.items)


# ---- TensorDataset / Subset / ConcatDataset -------------------------------------------
def test_tensor_dataset_items_and_length():
    x, y = _tensors()
    ds = TensorDataset(x, y)
    assert len(ds) == 10
    xi, yi = ds[3]
    np.testing.assert_array_equal(xi.numpy(), x.numpy()[3])
    assert yi.item() == 3


def test_tensor_dataset_rejects_bad_input():
    x, y = _tensors()
    with pytest.raises(ValueError, match="first dimension"):
        TensorDataset(x, y[:5])
    with pytest.raises(TypeError, match="glassnet tensors"):
        TensorDataset(np.zeros(3))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()


def test_subset_and_concat():
    x, y = _tensors()
    ds = TensorDataset(x, y)
    sub = Subset(ds, [7, 2, 5])
    assert len(sub) == 3 and sub[0][1].item() == 7 and sub[2][1].item() == 5
    both = ConcatDataset([sub, ds])
    assert len(both) == 13
    assert both[3][1].item() == 0 and both[-1][1].item() == 9
    assert len(sub + ds) == 13
    with pytest.raises(IndexError):
        both[13]
    with pytest.raises(IndexError):
        Subset(ds, [10])


# ---- DataLoader -------------------------------------------------------------------
@pytest.mark.parametrize("n,bs,drop_last", [(10, 3, False), (10, 3, True), (9, 3, False), (10, 1, False),
                                            (10, 10, False), (10, 32, False), (10, 32, True), (0, 4, False)])
def test_loader_covers_every_sample_once(n, bs, drop_last):
    x = gn.tensor(np.arange(n * 2, dtype=np.float32).reshape(n, 2))
    y = gn.tensor(np.arange(n, dtype=np.int64))
    for shuffle in (False, True):
        dl = DataLoader(TensorDataset(x, y), batch_size=bs, shuffle=shuffle, drop_last=drop_last)
        batches = list(dl)
        assert len(batches) == len(dl)
        expected = n // bs if drop_last else -(-n // bs)
        assert len(dl) == expected
        got = np.concatenate([b[1].numpy() for b in batches]) if batches else np.zeros(0, np.int64)
        assert all(b[0].shape[0] == bs for b in batches[:-1])
        if drop_last:
            assert len(got) == expected * bs and len(set(got.tolist())) == len(got)
        else:
            assert sorted(got.tolist()) == list(range(n))
        for xb, yb in batches:  # rows stay paired with their labels
            np.testing.assert_array_equal(xb.numpy()[:, 0], 2 * yb.numpy())
        if not shuffle:
            assert got.tolist() == list(range(len(got)))


def test_loader_fast_path_matches_sample_path():
    x, y = _tensors(23, 4)
    fast = DataLoader(TensorDataset(x, y), batch_size=5, shuffle=True, seed=3)
    items = [(gn.tensor(x.numpy()[i]), int(y.numpy()[i])) for i in range(23)]
    slow = DataLoader(ListDataset(items), batch_size=5, shuffle=True, seed=3)
    for (fx, fy), (sx, sy) in zip(fast, slow):
        np.testing.assert_array_equal(fx.numpy(), sx.numpy())
        np.testing.assert_array_equal(fy.numpy(), sy.numpy())


def test_loader_unshuffled_batches_are_views():
    x, y = _tensors(12, 2)
    xb, _ = next(iter(DataLoader(TensorDataset(x, y), batch_size=4)))
    assert xb.data_ptr() == x.data_ptr()  # a narrow view, no copy


def test_shuffle_reproducible_under_manual_seed():
    x, y = _tensors(50, 1)
    ds = TensorDataset(x, y)

    def order():
        return np.concatenate([b[1].numpy() for b in DataLoader(ds, batch_size=7, shuffle=True)])

    gn.manual_seed(11)
    a1, a2 = order(), order()
    gn.manual_seed(11)
    b1, b2 = order(), order()
    np.testing.assert_array_equal(a1, b1)
    np.testing.assert_array_equal(a2, b2)
    assert not np.array_equal(a1, a2)  # a new order each epoch
    assert not np.array_equal(a1, np.arange(50))


def test_seeded_loader_independent_of_global_rng():
    x, y = _tensors(40, 1)
    ds = TensorDataset(x, y)
    gn.manual_seed(1)
    dl1 = DataLoader(ds, batch_size=8, shuffle=True, seed=5)
    first = [np.concatenate([b[1].numpy() for b in dl1]) for _ in range(3)]
    gn.manual_seed(2)
    dl2 = DataLoader(ds, batch_size=8, shuffle=True, seed=5)
    second = [np.concatenate([b[1].numpy() for b in dl2]) for _ in range(3)]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], first[1])
    other = np.concatenate([b[1].numpy() for b in DataLoader(ds, batch_size=8, shuffle=True, seed=6)])
    assert not np.array_equal(first[0], other)


def test_numpy_generator():
    x, y = _tensors(30, 1)
    ds = TensorDataset(x, y)
    a = [b[1].numpy() for b in DataLoader(ds, batch_size=30, shuffle=True, generator=np.random.default_rng(4))]
    b = [b[1].numpy() for b in DataLoader(ds, batch_size=30, shuffle=True, generator=np.random.default_rng(4))]
    np.testing.assert_array_equal(a[0], b[0])


def test_loader_state_resumes_mid_epoch():
    x, y = _tensors(30, 1)
    ds = TensorDataset(x, y)
    gn.manual_seed(3)
    ref = DataLoader(ds, batch_size=4, shuffle=True)
    epoch1 = [b[1].numpy() for b in ref]
    epoch2 = [b[1].numpy() for b in ref]

    gn.manual_seed(3)
    dl = DataLoader(ds, batch_size=4, shuffle=True)
    list(dl)
    it = iter(dl)
    for _ in range(3):
        next(it)
    state = dl.state_dict()
    gn.manual_seed(99)  # the restored loader must not depend on the global stream
    fresh = DataLoader(ds, batch_size=4, shuffle=True)
    fresh.load_state_dict(state)
    rest = [b[1].numpy() for b in fresh]
    assert len(rest) == len(epoch2) - 3
    for a, b in zip(rest, epoch2[3:]):
        np.testing.assert_array_equal(a, b)
    assert fresh.epoch == 2
    assert not np.array_equal(np.concatenate(epoch1), np.concatenate(epoch2))


def test_loader_state_at_epoch_end_starts_next_epoch():
    x, y = _tensors(12, 1)
    dl = DataLoader(TensorDataset(x, y), batch_size=4, shuffle=True, seed=0)
    list(dl)
    state = dl.state_dict()
    nxt = [b[1].numpy() for b in dl]
    fresh = DataLoader(TensorDataset(x, y), batch_size=4, shuffle=True, seed=0)
    fresh.load_state_dict(state)
    for a, b in zip(fresh, nxt):
        np.testing.assert_array_equal(a[1].numpy(), b)


def test_loader_bad_arguments():
    x, y = _tensors()
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(TensorDataset(x, y), batch_size=0)
    with pytest.raises(TypeError, match="unexpected"):
        DataLoader(TensorDataset(x, y), batchsize=3)
    DataLoader(TensorDataset(x, y), num_workers=0)  # torch's worker options are accepted


def test_custom_collate_fn():
    x, y = _tensors(6, 2)
    dl = DataLoader(TensorDataset(x, y), batch_size=4, collate_fn=lambda samples: len(samples))
    assert list(dl) == [4, 2]


# ---- default_collate ------------------------------------------------------------------
def test_default_collate_structures():
    samples = [{"img": np.full((2, 2), i, np.float32), "label": i, "w": 0.5 * i, "ok": i % 2 == 0,
                "name": f"s{i}", "pair": (gn.tensor([float(i)]), i)} for i in range(3)]
    batch = default_collate(samples)
    assert batch["img"].shape == (3, 2, 2) and batch["img"].dtype == gn.float32
    assert batch["label"].dtype == gn.int64 and batch["label"].tolist() == [0, 1, 2]
    assert batch["w"].dtype == gn.float64 and batch["w"].tolist() == [0.0, 0.5, 1.0]
    assert batch["ok"].dtype == gn.bool and batch["ok"].tolist() == [True, False, True]
    assert batch["name"] == ["s0", "s1", "s2"]
    assert isinstance(batch["pair"], tuple) and batch["pair"][0].shape == (3, 1)
    assert batch["pair"][1].tolist() == [0, 1, 2]
    with pytest.raises(TypeError, match="default_collate"):
        default_collate([object(), object()])
    with pytest.raises(ValueError, match="different lengths"):
        default_collate([[1, 2], [1]])


# ---- random_split -----------------------------------------------------------------------
def test_random_split_lengths_and_fractions():
    x, y = _tensors(10, 1)
    ds = TensorDataset(x, y)
    a, b = random_split(ds, [7, 3])
    ids = sorted([a[i][1].item() for i in range(len(a))] + [b[i][1].item() for i in range(len(b))])
    assert (len(a), len(b)) == (7, 3) and ids == list(range(10))
    parts = random_split(ds, [0.5, 0.3, 0.2])
    assert [len(p) for p in parts] == [5, 3, 2]
    parts = random_split(TensorDataset(*_tensors(11, 1)), [0.5, 0.5])
    assert [len(p) for p in parts] == [6, 5]  # the leftover sample goes to the first split, as in torch
    s1 = random_split(ds, [5, 5], seed=1)
    s2 = random_split(ds, [5, 5], seed=1)
    assert s1[0].indices == s2[0].indices
    with pytest.raises(ValueError, match="sum to"):
        random_split(ds, [5, 4])
    with pytest.raises(ValueError, match="non-negative"):
        random_split(ds, [11, -1])


def test_subset_of_tensor_dataset_uses_fast_path():
    x, y = _tensors(20, 2)
    train, _ = random_split(TensorDataset(x, y), [15, 5], seed=0)
    batches = list(DataLoader(train, batch_size=4))
    got = np.concatenate([b[1].numpy() for b in batches])
    assert got.tolist() == train.indices
    assert isinstance(batches[0], tuple)


# ---- load_digits ---------------------------------------------------------------------------
def test_load_digits_split():
    train, test, full = load_digits("train"), load_digits("test"), load_digits("all")
    assert len(train) + len(test) == len(full) == 1797
    assert 0.19 < len(test) / len(full) < 0.21
    xtr, ytr = train.tensors
    xte, yte = test.tensors
    assert xtr.shape == (len(train), 64) and xtr.dtype == gn.float32 and ytr.dtype == gn.int64
    assert 0.0 <= float(xtr.numpy().min()) and float(xtr.numpy().max()) <= 1.0
    # stratified: every class has about 20% of its samples in test
    for c in range(10):
        share = (yte.numpy() == c).sum() / (full.tensors[1].numpy() == c).sum()
        assert 0.17 < share < 0.23
    # disjoint: no test image is a training image row (the digits have no exact duplicates across)
    train_rows = {r.tobytes() for r in xtr.numpy()}
    overlap = sum(r.tobytes() in train_rows for r in xte.numpy())
    assert overlap <= 2
    again = load_digits("test")
    np.testing.assert_array_equal(again.tensors[1].numpy(), yte.numpy())
    other = load_digits("test", seed=1)
    assert not np.array_equal(other.tensors[0].numpy(), xte.numpy())
    assert load_digits("train", flatten=False).tensors[0].shape == (len(train), 1, 8, 8)
    assert load_digits("test", dtype=gn.float64).tensors[0].dtype == gn.float64
    with pytest.raises(ValueError, match="split"):
        load_digits("validation")


# ---- MNIST / IDX ---------------------------------------------------------------------------
def _idx_bytes(array, code=0x08):
    header = bytes([0, 0, code, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.astype(">u1" if code == 0x08 else array.dtype).tobytes()


def _write_mnist(folder, n_train=6, n_test=4, gz=False, size=28):
    rng = np.random.default_rng(0)
    data = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, size, size)).astype(np.uint8)
        labels = rng.integers(0, 10, n).astype(np.uint8)
        data[prefix] = (images, labels)
        for kind, arr in (("images-idx3-ubyte", images), ("labels-idx1-ubyte", labels)):
            name = os.path.join(folder, f"{prefix}-{kind}")
            raw = _idx_bytes(arr)
            if gz:
                with gzip.open(name + ".gz", "wb") as f:
                    f.write(raw)
            else:
                with open(name, "wb") as f:
                    f.write(raw)
    return data


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("cls", [MNIST, FashionMNIST])
def test_mnist_reads_idx_files(tmp_path, gz, cls):
    data = _write_mnist(tmp_path, gz=gz)
    train, test = cls(tmp_path), cls(str(tmp_path), train=False)
    assert (len(train), len(test)) == (6, 4)
    image, label = train[2]
    assert image.shape == (1, 28, 28) and image.dtype == gn.float32
    np.testing.assert_allclose(image.numpy()[0], data["train"][0][2] / 255.0, rtol=1e-6)
    assert label == int(data["train"][1][2])
    np.testing.assert_array_equal(test.targets, data["t10k"][1])
    xb, yb = next(iter(DataLoader(train, batch_size=4, shuffle=True, seed=0)))
    assert xb.shape == (4, 1, 28, 28) and yb.dtype == gn.int64


def test_mnist_torchvision_layout(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    _write_mnist(raw)
    assert len(MNIST(tmp_path)) == 6


def test_mnist_transform_applies_per_sample(tmp_path):
    _write_mnist(tmp_path)
    ds = MNIST(tmp_path, transform=transforms.Normalize(0.5, 0.25), target_transform=lambda t: t + 100)
    image, label = ds[0]
    raw_image, raw_label = MNIST(tmp_path)[0]
    np.testing.assert_allclose(image.numpy(), (raw_image.numpy() - 0.5) / 0.25, rtol=1e-5, atol=1e-6)
    assert label == raw_label + 100
    xb, yb = next(iter(DataLoader(ds, batch_size=3)))
    assert xb.shape == (3, 1, 28, 28) and (yb.numpy() >= 100).all()


def test_mnist_missing_file_names_file_and_folder(tmp_path):
    _write_mnist(tmp_path)
    os.remove(tmp_path / "t10k-labels-idx1-ubyte")
    MNIST(tmp_path)  # the training files are all there
    with pytest.raises(FileNotFoundError) as e:
        MNIST(tmp_path, train=False)
    assert "t10k-labels-idx1-ubyte" in str(e.value) and str(tmp_path) in str(e.value)
    with pytest.raises(FileNotFoundError, match="never downloads"):
        MNIST(tmp_path / "nowhere")


def test_idx_corrupt_headers(tmp_path):
    path = tmp_path / "f"
    good = _idx_bytes(np.zeros((2, 3, 3), np.uint8))
    cases = {
        "bad magic": b"\x01\x02" + good[2:],
        "unknown IDX type": good[:2] + b"\x07" + good[3:],
        "truncated header": good[:4 + 4],
        "holds": good[:-1],
        "holds ": good + b"\x00",
        "magic ": b"",
    }
    for message, raw in cases.items():
        path.write_bytes(raw)
        with pytest.raises(ValueError, match=message.strip()):
            read_idx(str(path))
    path.write_bytes(good)
    assert read_idx(str(path)).shape == (2, 3, 3)


def test_mnist_label_count_mismatch(tmp_path):
    _write_mnist(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(_idx_bytes(np.zeros(5, np.uint8)))
    with pytest.raises(ValueError, match="5"):
        MNIST(tmp_path)


# ---- transforms ------------------------------------------------------------------------------
def _image(rng, c=1, h=6, w=5):
    return rng.uniform(0, 1, (c, h, w)).astype(np.float32)


def test_normalize_per_channel(rng):
    a = _image(rng, c=3)
    out = transforms.Normalize([0.1, 0.2, 0.3], [1.0, 2.0, 4.0])(gn.tensor(a))
    assert isinstance(out, gn.Tensor) and out.dtype == gn.float32
    expected = (a - np.array([0.1, 0.2, 0.3])[:, None, None]) / np.array([1.0, 2.0, 4.0])[:, None, None]
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    with pytest.raises(ValueError, match="channel"):
        transforms.Normalize([0.1, 0.2], [1.0, 1.0])(gn.tensor(a))
    with pytest.raises(ValueError, match="non-zero"):
        transforms.Normalize(0.0, 0.0)


def test_random_crop_is_a_shifted_window(rng):
    a = _image(rng)
    crop = transforms.RandomCrop((6, 5), padding=2, seed=0)
    padded = np.pad(a, [(0, 0), (2, 2), (2, 2)])
    seen = set()
    for _ in range(30):
        out = crop(a)
        assert out.shape == a.shape
        windows = [(i, j) for i in range(5) for j in range(5)
                   if np.array_equal(padded[:, i:i + 6, j:j + 5], out)]
        assert windows
        seen.add(windows[0])
    assert len(seen) > 5
    with pytest.raises(ValueError, match="larger"):
        transforms.RandomCrop(9)(a)


def test_random_horizontal_flip(rng):
    a = _image(rng)
    assert np.array_equal(transforms.RandomHorizontalFlip(p=1.0)(gn.tensor(a)).numpy(), a[..., ::-1])
    assert transforms.RandomHorizontalFlip(p=0.0)(a) is a
    flip = transforms.RandomHorizontalFlip(seed=0)
    flips = sum(np.array_equal(flip(a), a[..., ::-1]) for _ in range(200))
    assert 60 < flips < 140


def test_random_affine_identity_shift_and_rotation():
    img = np.zeros((1, 9, 9), np.float32)
    img[0, 4, 2] = 1.0
    same = transforms.RandomAffine(0)(img)
    np.testing.assert_allclose(same, img, atol=1e-6)
    # a shift of exactly one pixel right: translate range ±1/9 of the width, drawn at an extreme
    shifted = transforms._affine(img, 0.0, 1.0, 0.0, 1.0, 0.0)
    assert shifted[0, 4, 3] == pytest.approx(1.0) and shifted.sum() == pytest.approx(1.0)
    # 90 degrees about the centre moves (row 4, col 2) to (row 2, col 4) or (row 6, col 4)
    rotated = transforms._affine(img, np.pi / 2, 0.0, 0.0, 1.0, 0.0)
    assert max(rotated[0, 2, 4], rotated[0, 6, 4]) == pytest.approx(1.0, abs=1e-6)
    t = transforms.RandomAffine(degrees=15, translate=(0.1, 0.1), scale=(0.9, 1.1), seed=0)
    outs = [t(gn.tensor(img)).numpy() for _ in range(5)]
    assert all(o.shape == img.shape for o in outs)
    assert not np.allclose(outs[0], outs[1])
    with pytest.raises(ValueError, match="scale"):
        transforms.RandomAffine(scale=(0, 1))


def test_gaussian_noise_statistics():
    x = np.zeros((1, 100, 100), np.float32)
    out = transforms.GaussianNoise(std=0.5, seed=0)(x)
    assert out.dtype == np.float32
    assert abs(float(out.mean())) < 0.02 and abs(float(out.std()) - 0.5) < 0.02


def test_random_transforms_follow_manual_seed(rng):
    a = gn.tensor(_image(rng, h=8, w=8))
    t = transforms.Compose([transforms.RandomCrop(8, padding=1), transforms.RandomHorizontalFlip(),
                            transforms.RandomAffine(10, translate=(0.1, 0.1)), transforms.GaussianNoise(0.1)])
    gn.manual_seed(5)
    first = [t(a).numpy() for _ in range(3)]
    gn.manual_seed(5)
    second = [t(a).numpy() for _ in range(3)]
    for p, q in zip(first, second):
        np.testing.assert_array_equal(p, q)
    assert not np.array_equal(first[0], first[1])
    seeded = [transforms.GaussianNoise(0.1, seed=3)(a).numpy() for _ in range(2)]
    np.testing.assert_array_equal(seeded[0], seeded[1])


def test_transforms_reject_bad_shapes():
    with pytest.raises(ValueError, match="RandomCrop"):
        transforms.RandomCrop(2)(np.zeros(5, np.float32))
    with pytest.raises(ValueError, match="RandomAffine"):
        transforms.RandomAffine(5)(np.zeros((1, 1, 4, 4), np.float32))
