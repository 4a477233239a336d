"""Feature visualisation: activation maximisation, top-k inputs, filter images."""
import numpy as np
import pytest

import glassnet as gn
import glassnet.explain as gx
from glassnet import nn
from test_explain_helpers import digits, trained_digits_cnn


def _liveliest_channel(model, layer):
    x = digits()[0]
    with gx.record(model, layer, gradients=False) as rec, gn.no_grad():
        model(x)
    return int(np.argmax(rec.activations[layer].numpy().mean(axis=(0, 2, 3))))


@pytest.mark.parametrize("layer", ["4", "1"])
def test_activation_maximization_raises_the_unit_tenfold_above_its_data_mean(layer):
    model = trained_digits_cnn()
    unit = _liveliest_channel(model, layer)
    data_mean = gx.unit_activations(model, layer, unit, digits()[0]).mean()
    assert data_mean > 0
    result = gx.activation_maximization(model, layer, unit, input_shape=(1, 8, 8), steps=200, lr=0.05)
    image, activation = result
    assert image.shape == (1, 8, 8) and np.all(np.isfinite(image))
    assert activation >= 10 * data_mean
    # the reported activation is the unit's for the returned image
    with gx.record(model, layer, gradients=False) as rec, gn.no_grad():
        model(gn.from_numpy(image[None].astype(np.float32)))
    np.testing.assert_allclose(activation, rec.activations[layer].numpy()[0, unit].mean(), rtol=1e-4)
    assert result.history[-1] > result.history[0]


def test_activation_maximization_regularisers_shape_the_image():
    model = trained_digits_cnn()
    plain = gx.activation_maximization(model, "6", 3, input_shape=(1, 8, 8), steps=60,
                                       regularisers={"l2": 0, "tv": 0, "jitter": 0})
    smooth = gx.activation_maximization(model, "6", 3, input_shape=(1, 8, 8), steps=60,
                                        regularisers={"l2": 0, "tv": 5.0, "jitter": 0})
    small = gx.activation_maximization(model, "6", 3, input_shape=(1, 8, 8), steps=60,
                                       regularisers={"l2": 5.0, "tv": 0, "jitter": 0})

    def tv(a):
        return np.mean(np.diff(a, axis=-1) ** 2) + np.mean(np.diff(a, axis=-2) ** 2)

    assert tv(smooth.image) < tv(plain.image)
    assert np.mean(small.image ** 2) < np.mean(plain.image ** 2)
    # a logit (unit of a Linear output) is a unit too, and climbs
    assert plain.activation > plain.history[0]


def test_top_k_inputs_are_the_most_exciting_samples():
    model = trained_digits_cnn()
    x = digits()[2]
    idx, acts = gx.top_k_inputs(model, "6", 4, x, 5, batch_size=50)
    with gn.no_grad():
        logits = model(x).numpy()[:, 4]
    np.testing.assert_array_equal(idx, np.argsort(-logits, kind="stable")[:5])
    np.testing.assert_allclose(acts, logits[idx], rtol=1e-6)
    # from a Dataset too, and a (channel, i, j) unit
    ds = gn.data.datasets.load_digits("test", flatten=False)
    idx2, _ = gx.top_k_inputs(model, "6", 4, ds, 5)
    np.testing.assert_array_equal(idx, idx2)
    with gx.record(model, "1", gradients=False) as rec, gn.no_grad():
        model(x)
    a = rec.activations["1"].numpy()[:, 3, 2, 5]
    idx3, acts3 = gx.top_k_inputs(model, "1", (3, 2, 5), x, 3)
    np.testing.assert_allclose(acts3, np.sort(a)[::-1][:3], rtol=1e-6)


def test_filters_are_weights_scaled_to_unit_range():
    model = trained_digits_cnn()
    w = model[3].weight.detach().numpy().astype(np.float64)
    imgs = gx.filters(model[3])
    assert imgs.shape == w.shape
    for k in range(w.shape[0]):
        f = w[k]
        np.testing.assert_allclose(imgs[k], (f - f.min()) / (f.max() - f.min()), rtol=1e-12)
    together = gx.filters(model[3], per_filter=False)
    np.testing.assert_allclose(together, (w - w.min()) / (w.max() - w.min()), rtol=1e-12)
    conv = nn.Conv2d(1, 2, 2)
    with gn.no_grad():
        conv.weight.fill_(0.3)
    np.testing.assert_array_equal(gx.filters(conv), np.full((2, 1, 2, 2), 0.5))


def test_feature_visualisation_bad_input():
    model = trained_digits_cnn()
    with pytest.raises(ValueError, match=r"\[filters\] needs a convolution layer.*Linear with \(10, 256\)"):
        gx.filters(model[6])
    with pytest.raises(ValueError, match=r"\[activation_maximization\] give input_shape"):
        gx.activation_maximization(model, "1", 0)
    with pytest.raises(ValueError, match=r"\[activation_maximization\] unit 8 is not in layer '1'.*\(8, 8, 8\)"):
        gx.activation_maximization(model, "1", 8, input_shape=(1, 8, 8), steps=2)
    with pytest.raises(ValueError, match=r"\[activation_maximization\] steps must be .*got 0"):
        gx.activation_maximization(model, "1", 0, input_shape=(1, 8, 8), steps=0)
    with pytest.raises(ValueError, match=r"\[activation_maximization\] unknown regularisers \['blur'\]"):
        gx.activation_maximization(model, "1", 0, input_shape=(1, 8, 8), regularisers={"blur": 1})
    with pytest.raises(ValueError, match=r"\[activation_maximization\] unknown layer 'fc'"):
        gx.activation_maximization(model, "fc", 0, input_shape=(1, 8, 8))
    with pytest.raises(ValueError, match=r"\[top_k_inputs\] k must be .*got 0"):
        gx.top_k_inputs(model, "6", 0, digits()[2], 0)
    with pytest.raises(ValueError, match=r"\[unit_activations\] unit \(0, 9\) is not in layer '1'"):
        gx.unit_activations(model, "1", (0, 9), digits()[2][:4])
