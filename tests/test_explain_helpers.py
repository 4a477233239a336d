"""The small digits CNN the explain tests look inside, trained once per test
session (a few seconds), and checks that it did learn."""
import functools

import numpy as np

import glassnet as gn
from glassnet import nn


def digits_cnn_layers():
    return [nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(16 * 4 * 4, 10)]


@functools.lru_cache(maxsize=None)
def digits():
    """(train images (N, 1, 8, 8), train labels, test images, test labels)."""
    train = gn.data.datasets.load_digits("train", flatten=False)[:]
    test = gn.data.datasets.load_digits("test", flatten=False)[:]
    return train[0], train[1], test[0], test[1]


@functools.lru_cache(maxsize=None)
def trained_digits_cnn():
    """conv 8 → ReLU → max pool → conv 16 → ReLU → linear, trained for six
    epochs with Adam (layer names "0" ... "6")."""
    gn.manual_seed(0)
    x, y, _, _ = digits()
    model = nn.Sequential(*digits_cnn_layers())
    opt = gn.optim.Adam(model.parameters(), lr=1e-2)
    gn.train.fit(model, (x, y), loss="cross_entropy", optimizer=opt, epochs=6, batch_size=64, progress=False)
    opt.zero_grad()  # no .grad left over: the tests check that explaining leaves none
    model.eval()
    return model


def test_the_digits_cnn_learned():
    model = trained_digits_cnn()
    _, _, xt, yt = digits()
    acc = gn.train.evaluate(model, (xt, yt))["accuracy"]
    assert acc > 0.9


def test_the_digits_cnn_is_shared_and_untouched_by_the_tests():
    # The explain functions must leave the model's weights and .grad alone.
    import glassnet.explain as gx
    model = trained_digits_cnn()
    before = [p.detach().numpy().copy() for p in model.parameters()]
    x = digits()[2][:4]
    gx.saliency(model, x, 1)
    gx.integrated_gradients(model, x, 1, steps=4)
    gx.grad_cam(model, x, 1, "3")
    assert trained_digits_cnn() is model
    assert all(p.grad is None for p in model.parameters())
    for b, p in zip(before, model.parameters()):
        np.testing.assert_array_equal(b, p.detach().numpy())
