"""Attributions on a trained digits CNN: integrated gradients' completeness,
saliency against finite differences, Grad-CAM and occlusion against
references computed by hand."""
import copy

import numpy as np
import pytest

import glassnet as gn
import glassnet.explain as gx
from test_explain_helpers import digits, trained_digits_cnn


def _predicted(model, x):
    with gn.no_grad():
        return model(x).argmax(1)


# ---- integrated gradients ----------------------------------------------------------------
@pytest.mark.parametrize("method", ["trapezoid", "riemann_middle"])
def test_integrated_gradients_completeness_within_one_percent_at_64_steps(method):
    model = trained_digits_cnn()
    x = digits()[2][:24]
    target = _predicted(model, x)
    result = gx.integrated_gradients(model, x, target, steps=64, method=method)
    attributions, error = result
    assert tuple(attributions.shape) == tuple(x.shape)
    # f(x) - f(0), recomputed here, against the attributions' sums.
    with gn.no_grad():
        fx = model(x).numpy()[np.arange(24), target.numpy()]
        f0 = model(gn.zeros_like(x)).numpy()[:, target.numpy()][0]
    delta = fx - f0
    np.testing.assert_allclose(result.delta, delta, rtol=1e-5, atol=1e-5)
    sums = np.asarray(attributions, dtype=np.float64).reshape(24, -1).sum(1)
    np.testing.assert_allclose(error, np.abs(sums - delta), rtol=1e-4, atol=1e-5)
    assert np.all(np.abs(delta) > 1.0)  # a trained net: the evidence is far from the baseline's
    assert np.max(np.abs(sums - delta) / np.abs(delta)) < 0.01
    np.testing.assert_allclose(result.relative_error, error / np.abs(delta), rtol=1e-6)


def test_integrated_gradients_error_shrinks_with_steps_and_rules_agree():
    model = trained_digits_cnn()
    x = digits()[2][:8]
    coarse = gx.integrated_gradients(model, x, 3, steps=2, method="riemann_left")
    fine = gx.integrated_gradients(model, x, 3, steps=128, method="riemann_left")
    assert fine.approximation_error.mean() < coarse.approximation_error.mean()
    a = np.asarray(gx.integrated_gradients(model, x, 3, steps=96, method="riemann_right").attributions)
    b = np.asarray(gx.integrated_gradients(model, x, 3, steps=96, method="trapezoid").attributions)
    assert np.abs(a - b).max() < 0.05 * np.abs(b).max()


def test_integrated_gradients_matches_a_hand_written_riemann_sum():
    # riemann_right with 4 steps, written out: mean of the input gradients at
    # baseline + k/4 (x - baseline), k = 1..4, times (x - baseline).
    model = trained_digits_cnn()
    x = digits()[2][:3]
    baseline = gn.full((1, 8, 8), 0.25)
    got = gx.integrated_gradients(model, x, [1, 2, 3], baseline=baseline, steps=4,
                                  method="riemann_right", batch_size=3)
    diff = x.numpy() - 0.25
    total = 0
    for k in range(1, 5):
        point = gn.from_numpy((0.25 + k / 4 * diff).astype(np.float32))
        total = total + gx.saliency(model, point, gn.tensor([1, 2, 3])).numpy()
    np.testing.assert_allclose(np.asarray(got.attributions), diff * total / 4, rtol=1e-4, atol=1e-6)


def test_integrated_gradients_of_a_linear_model_is_exact():
    gn.manual_seed(1)
    lin = gn.nn.Linear(5, 3).double()
    x = gn.randn(4, 5, dtype=gn.float64)
    result = gx.integrated_gradients(lin, x, 2, steps=1, method="riemann_left")
    w = lin.weight.detach().numpy()[2]
    np.testing.assert_allclose(np.asarray(result.attributions), x.numpy() * w, rtol=1e-12)
    assert result.approximation_error.max() < 1e-12


# ---- saliency --------------------------------------------------------------------------
def test_saliency_equals_finite_difference_input_gradients_float64():
    model = copy.deepcopy(trained_digits_cnn()).double()
    # The digits' blank borders give exact ties inside max-pool windows, where
    # the network is not differentiable; a little noise breaks them.
    noise = np.random.default_rng(0).normal(0, 0.01, size=(3, 1, 8, 8))
    x = gn.from_numpy(digits()[2][:3].numpy().astype(np.float64) + noise)
    target = gn.tensor([0, 5, 9])
    got = gx.saliency(model, x, target).numpy()
    eps = 1e-6
    xa = x.numpy()
    n = xa[0].size
    expected = np.zeros_like(xa)
    for i in range(3):
        # all 2·64 perturbed copies of sample i in one batch
        basis = np.eye(n).reshape(n, *xa.shape[1:]) * eps
        batch = np.concatenate([xa[i] + basis, xa[i] - basis])
        with gn.no_grad():
            out = model(gn.from_numpy(batch)).numpy()[:, target.numpy()[i]]
        expected[i] = ((out[:n] - out[n:]) / (2 * eps)).reshape(xa.shape[1:])
    assert np.abs(expected).max() > 1e-2
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)


def test_saliency_times_input_and_one_target_for_all():
    model = trained_digits_cnn()
    x = digits()[2][:5]
    g = gx.saliency(model, x, 4)
    gi = gx.saliency(model, x, 4, times_input=True)
    np.testing.assert_allclose(gi.numpy(), g.numpy() * x.numpy(), rtol=1e-6)
    per_sample = gx.saliency(model, x, gn.full((5,), 4, dtype=gn.int64))
    np.testing.assert_allclose(per_sample.numpy(), g.numpy(), rtol=1e-6)
    assert model.training is False


def test_explaining_restores_training_mode():
    model = trained_digits_cnn()
    model.train()
    try:
        gx.saliency(model, digits()[2][:2], 1)
        assert model.training
    finally:
        model.eval()


# ---- Grad-CAM ----------------------------------------------------------------------------
def _bilinear_reference(a, size):
    """Bilinear resize with half-pixel centres, one output pixel at a time."""
    n, h, w = a.shape
    out = np.zeros((n, *size))
    for i in range(size[0]):
        for j in range(size[1]):
            y = max((i + 0.5) * h / size[0] - 0.5, 0.0)
            xq = max((j + 0.5) * w / size[1] - 0.5, 0.0)
            y0, x0 = min(int(y), h - 1), min(int(xq), w - 1)
            y1, x1 = min(y0 + 1, h - 1), min(x0 + 1, w - 1)
            fy, fx = y - y0, xq - x0
            out[:, i, j] = ((1 - fy) * (1 - fx) * a[:, y0, x0] + (1 - fy) * fx * a[:, y0, x1]
                            + fy * (1 - fx) * a[:, y1, x0] + fy * fx * a[:, y1, x1])
    return out


@pytest.mark.parametrize("layer", ["3", "4", "0"])
def test_grad_cam_equals_a_reference_from_recorded_activations_and_gradients(layer):
    model = trained_digits_cnn()
    x = digits()[2][:6]
    target = gn.tensor([0, 1, 2, 3, 4, 5])
    cam = gx.grad_cam(model, x, target, layer)
    with gx.record(model, layer) as rec:
        out = model(x)
        out.gather(1, target.unsqueeze(1)).sum().backward()
    for p in model.parameters():
        p.grad = None
    a = rec.activations[layer].numpy().astype(np.float64)
    g = rec.gradients[layer].numpy().astype(np.float64)
    alpha = g.mean(axis=(2, 3))
    raw = np.maximum((alpha[:, :, None, None] * a).sum(1), 0)
    np.testing.assert_allclose(cam.weights, alpha, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(cam.raw, raw, rtol=1e-5, atol=1e-7)
    assert cam.heatmap.shape == (6, 8, 8)
    np.testing.assert_allclose(cam.heatmap, _bilinear_reference(raw, (8, 8)), rtol=1e-5, atol=1e-7)
    assert cam.raw.max() > 0
    heat, raw2 = cam
    assert heat is cam.heatmap and raw2 is cam.raw


def test_resize_bilinear_matches_torch_interpolate():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).normal(size=(2, 3, 4, 5))
    for size in [(8, 10), (7, 3), (4, 5), (13, 11)]:
        want = torch.nn.functional.interpolate(torch.from_numpy(a), size=size, mode="bilinear",
                                               align_corners=False).numpy()
        np.testing.assert_allclose(gx.resize_bilinear(a, size), want, rtol=1e-12, atol=1e-12)


def test_grad_cam_with_flat_inputs_needs_input_size():
    model = gn.nn.Sequential(gn.nn.Unflatten(1, (1, 8, 8)), *trained_digits_cnn())
    x = digits()[2][:2].reshape(2, 64)
    cam = gx.grad_cam(model, x, 1, "4", input_size=(8, 8))
    want = gx.grad_cam(trained_digits_cnn(), x.reshape(2, 1, 8, 8), 1, "3")
    np.testing.assert_allclose(cam.heatmap, want.heatmap, rtol=1e-6)
    with pytest.raises(ValueError, match=r"\[grad_cam\].*\(2, 64\).*input_size"):
        gx.grad_cam(model, x, 1, "4")


# ---- occlusion -------------------------------------------------------------------------------
def test_occlusion_equals_a_loop_over_windows():
    model = trained_digits_cnn()
    x = digits()[2][:2]
    target = gn.tensor([7, 2])
    got = gx.occlusion(model, x, target, window=3, stride=2, baseline=0.5, batch_size=7)
    xa = x.numpy()
    with gn.no_grad():
        base = model(x).numpy()[[0, 1], [7, 2]]
    total, count = np.zeros((2, 8, 8)), np.zeros((8, 8))
    for i in [0, 2, 4, 5]:  # the last window sits flush with the edge
        for j in [0, 2, 4, 5]:
            occ = xa.copy()
            occ[:, :, i:i + 3, j:j + 3] = 0.5
            with gn.no_grad():
                s = model(gn.from_numpy(occ)).numpy()[[0, 1], [7, 2]]
            total[:, i:i + 3, j:j + 3] += (base - s)[:, None, None]
            count[i:i + 3, j:j + 3] += 1
    np.testing.assert_allclose(got, total / count, rtol=1e-5, atol=1e-6)


# ---- bad input ---------------------------------------------------------------------------------
def test_bad_input_raises_clear_value_errors():
    model = trained_digits_cnn()
    x = digits()[2][:2]
    with pytest.raises(ValueError, match=r"\[integrated_gradients\] steps must be .*got 0"):
        gx.integrated_gradients(model, x, 1, steps=0)
    with pytest.raises(ValueError, match=r"\[integrated_gradients\] baseline .*\(2, 1, 8, 8\).*\(1, 8, 8\).*\(3, 8\)"):
        gx.integrated_gradients(model, x, 1, baseline=gn.zeros(3, 8))
    with pytest.raises(ValueError, match=r"\[integrated_gradients\] method"):
        gx.integrated_gradients(model, x, 1, method="simpson")
    with pytest.raises(ValueError, match=r"\[grad_cam\] .*'5' \(Flatten\) gives \(2, 256\)"):
        gx.grad_cam(model, x, 1, "5")
    with pytest.raises(ValueError, match=r"\[grad_cam\] .*'6' \(Linear\) gives \(2, 10\)"):
        gx.grad_cam(model, x, 1, model[6])
    with pytest.raises(ValueError, match=r"\[grad_cam\] unknown layer 'conv9'"):
        gx.grad_cam(model, x, 1, "conv9")
    with pytest.raises(ValueError, match=r"\[saliency\] target indices must lie in \[0, 10\).*\[0, 10\]"):
        gx.saliency(model, x, gn.tensor([0, 10]))
    with pytest.raises(ValueError, match=r"\[saliency\] target .*shape \(2,\); got shape \(3,\)"):
        gx.saliency(model, x, gn.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match=r"\[occlusion\] window \(9, 9\) is larger .*\(8, 8\)"):
        gx.occlusion(model, x, 1, 9, 1)
    with pytest.raises(ValueError, match=r"\[occlusion\] stride"):
        gx.occlusion(model, x, 1, 2, 0)
    with pytest.raises(ValueError, match=r"\[saliency\] x must be floating point"):
        gx.saliency(model, gn.zeros(2, 1, 8, 8, dtype=gn.int64), 1)
