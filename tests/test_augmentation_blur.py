"""RandomGaussianBlur: per-image kernels against a NumPy 2-D convolution, sizes, statistics."""

import keras
import numpy as np
import pytest
from augmentation_testing import compiled, compiled_model
from keras import ops
from testing_utils import assert_serializable

from simclr_keras3.augmentation import RandomGaussianBlur

N = 4000
IMAGES = np.random.default_rng(0).uniform(size=(8, 16, 16, 3)).astype("float32")
SIGMAS = np.linspace(0.3, 2.0, 8).astype("float32")


def np_blur(image, sigma, kernel_size, padding):
    """Direct 2-D convolution with the outer-product Gaussian (not separable, no shifts)."""
    r = kernel_size // 2
    x = np.arange(-r, r + 1)
    k1 = np.exp(-(x**2) / (2 * sigma**2))
    k2 = np.outer(k1, k1) / k1.sum() ** 2
    mode = {"reflect": "reflect", "zeros": "constant"}[padding]
    padded = np.pad(image, ((r, r), (r, r), (0, 0)), mode=mode)
    out = np.zeros_like(image, dtype="float64")
    for i in range(kernel_size):
        for j in range(kernel_size):
            out += k2[i, j] * padded[i : i + image.shape[0], j : j + image.shape[1]]
    return out


@pytest.mark.parametrize("padding", ["reflect", "zeros"])
def test_apply_matches_numpy_convolution(padding):
    layer = RandomGaussianBlur(kernel_size=5, padding=padding)
    flags = np.array([True] * 6 + [False, True])
    out = ops.convert_to_numpy(compiled(layer.apply)(IMAGES, {"apply": flags, "sigma": SIGMAS}))
    for b in range(8):
        expected = np_blur(IMAGES[b], SIGMAS[b], 5, padding) if flags[b] else IMAGES[b]
        np.testing.assert_allclose(out[b], expected, atol=1e-5, err_msg=f"image {b}")


def test_tiny_sigma_is_identity_and_default_kernel_size():
    layer = RandomGaussianBlur(kernel_size=5)
    p = {"apply": np.ones(8, bool), "sigma": np.full(8, 0.1, "float32")}
    np.testing.assert_allclose(ops.convert_to_numpy(layer.apply(IMAGES, p)), IMAGES, atol=1e-6)
    default = RandomGaussianBlur()
    assert [default.kernel_size_for(s) for s in (224, 64, 32, 16)] == [23, 7, 3, 1]
    assert RandomGaussianBlur(kernel_size=4).kernel_size_for(224) == 5
    # 16-px images get a 1-tap kernel: the identity.
    p["sigma"] = SIGMAS
    np.testing.assert_array_equal(ops.convert_to_numpy(default.apply(IMAGES, p)), IMAGES)


def _sample(layer):
    return {k: ops.convert_to_numpy(v) for k, v in layer.sample_parameters(N).items()}


def test_sampled_parameters_statistics():
    p = _sample(RandomGaussianBlur(seed=1))
    assert abs(p["apply"].mean() - 0.5) < 0.04
    assert p["sigma"].shape == (N,)
    assert p["sigma"].min() >= 0.1 and p["sigma"].max() <= 2.0
    assert p["sigma"].min() < 0.12 and p["sigma"].max() > 1.98
    assert abs(np.median(p["sigma"]) - 1.05) < 0.1  # uniform
    assert np.all(p["sigma"][1:] != p["sigma"][:-1])  # one sigma per image


def test_call_fresh_draws_seed_and_inference():
    model = compiled_model(RandomGaussianBlur(kernel_size=3, seed=2))
    first, second = model.predict_on_batch(IMAGES), model.predict_on_batch(IMAGES)
    assert first.shape == IMAGES.shape and first.min() >= 0 and first.max() <= 1
    assert not np.allclose(first, second)
    blurred = ~np.all(first == IMAGES, axis=(1, 2, 3))
    assert blurred.any() and first[blurred].std() < IMAGES[blurred].std()
    same = [_sample(RandomGaussianBlur(seed=2)) for _ in range(2)]
    keras.tree.map_structure(np.testing.assert_array_equal, *same)
    assert not np.array_equal(same[0]["sigma"], _sample(RandomGaussianBlur(seed=3))["sigma"])
    layer = RandomGaussianBlur(kernel_size=3, seed=2)
    np.testing.assert_array_equal(ops.convert_to_numpy(layer(IMAGES, training=False)), IMAGES)


def test_serializable():
    blur = RandomGaussianBlur(0.7, (0.5, 1.5), 5, "zeros", seed=5)
    revived = assert_serializable(blur)
    keras.tree.map_structure(np.testing.assert_array_equal, _sample(revived), _sample(blur))
