"""RandomResizedCrop: box sampling statistics and crop-and-resize against NumPy references."""

import keras
import numpy as np
import pytest
from augmentation_testing import compiled, compiled_model
from keras import ops
from testing_utils import assert_serializable

from simclr_keras3.augmentation import RandomResizedCrop

N = 4000  # draws for statistics; one batch size per file keeps JAX's eager op cache warm
RNG = np.random.default_rng(0)
IMAGES = RNG.uniform(size=(8, 16, 16, 3)).astype("float32")


def np_resize_bilinear(image, out_size):
    """Half-pixel-centre bilinear resize of one (h, w, c) image, edge taps clamped."""

    def axis_matrix(n_in):
        m = np.zeros((out_size, n_in))
        for i in range(out_size):
            c = (i + 0.5) * n_in / out_size - 0.5
            lo = int(np.floor(c))
            t = c - lo
            m[i, min(max(lo, 0), n_in - 1)] += 1 - t
            m[i, min(max(lo + 1, 0), n_in - 1)] += t
        return m

    rows, cols = axis_matrix(image.shape[0]), axis_matrix(image.shape[1])
    return np.einsum("ih,hwc,jw->ijc", rows, image, cols)


def params(boxes):
    return {"boxes": ops.convert_to_tensor(np.asarray(boxes, "float32"))}


def test_known_box_same_size_is_exact_crop():
    crop = RandomResizedCrop(8, seed=0)
    boxes = [[2 / 16, 4 / 16, 8 / 16, 8 / 16]] * 4 + [[0, 0, 0.5, 0.5]] * 4
    out = ops.convert_to_numpy(compiled(crop.apply)(IMAGES, params(boxes)))
    np.testing.assert_allclose(out[:4], IMAGES[:4, 2:10, 4:12], atol=1e-6)
    np.testing.assert_allclose(out[4:], IMAGES[4:, :8, :8], atol=1e-6)


@pytest.mark.parametrize("interpolation", ["bilinear", "bicubic"])
def test_known_box_upsampled_matches_crop_then_resize(interpolation):
    crop = RandomResizedCrop(16, interpolation=interpolation)
    # Non-square box: rows 3..8 (6 px), columns 5..14 (10 px).
    boxes = [[3 / 16, 5 / 16, 6 / 16, 10 / 16]] * 8
    out = ops.convert_to_numpy(compiled(crop.apply)(IMAGES, params(boxes)))
    expected = np.stack([_np_resize(im[3:9, 5:15], 16, interpolation) for im in IMAGES])
    np.testing.assert_allclose(out, np.clip(expected, 0, 1), atol=1e-5)
    if keras.backend.backend() == "tensorflow":  # the official pipeline: crop, then tf.image.resize
        import tensorflow as tf

        official = tf.image.resize(IMAGES[:, 3:9, 5:15], (16, 16), method=interpolation)
        # TF's bicubic reads its weights from a 1024-entry table: a looser tolerance.
        np.testing.assert_allclose(out, np.clip(official, 0, 1), atol=2e-3)


def _np_resize(image, out_size, interpolation):
    if interpolation == "bilinear":
        return np_resize_bilinear(image, out_size)
    return np_resize_bicubic(image, out_size)


def np_resize_bicubic(image, out_size, a=-0.5):
    """Keys bicubic, half-pixel centres, out-of-range taps dropped and weights renormalised."""

    def kernel(x):
        x = abs(x)
        if x <= 1:
            return (a + 2) * x**3 - (a + 3) * x**2 + 1
        return a * x**3 - 5 * a * x**2 + 8 * a * x - 4 * a if x < 2 else 0.0

    def axis_matrix(n_in):
        m = np.zeros((out_size, n_in))
        for i in range(out_size):
            c = (i + 0.5) * n_in / out_size - 0.5
            base = int(np.floor(c))
            for j in range(base - 1, base + 3):
                if 0 <= j < n_in:
                    m[i, j] = kernel(c - j)
            m[i] /= m[i].sum()
        return m

    rows, cols = axis_matrix(image.shape[0]), axis_matrix(image.shape[1])
    return np.einsum("ih,hwc,jw->ijc", rows, image, cols)


def test_inference_resizes_whole_image():
    bilinear, bicubic = RandomResizedCrop(8), RandomResizedCrop(16, interpolation="bicubic")
    both = compiled(lambda x: (bilinear(x, training=False), bicubic(x, training=False)))
    down, same = both(IMAGES)
    # A 2x bilinear downsample with half-pixel centres is the mean of each 2x2 block.
    expected = IMAGES.reshape(8, 8, 2, 8, 2, 3).mean(axis=(2, 4))
    np.testing.assert_allclose(ops.convert_to_numpy(down), expected, atol=1e-6)
    np.testing.assert_allclose(ops.convert_to_numpy(same), IMAGES, atol=1e-6)


def _sample(layer, height=224, width=224):
    return ops.convert_to_numpy(layer.sample_parameters(N, height, width)["boxes"])


def test_sampled_boxes_in_range_and_spread():
    boxes = _sample(RandomResizedCrop(224, seed=1))
    y, x, h, w = boxes.T
    assert boxes.shape == (N, 4)
    assert np.all(y >= 0) and np.all(x >= 0)
    assert np.all(y + h <= 1 + 1e-6) and np.all(x + w <= 1 + 1e-6)
    np.testing.assert_allclose(boxes * 224, np.round(boxes * 224), atol=1e-3)  # whole pixels
    area, aspect = h * w, w / h
    # Rounding to whole pixels moves area and aspect slightly past the range ends.
    assert area.min() >= 0.079 and area.max() <= 1.0
    assert aspect.min() >= 0.75 * 0.98 and aspect.max() <= 4 / 3 * 1.02
    assert np.quantile(area, 0.05) < 0.15 and np.quantile(area, 0.95) > 0.7
    assert area.max() > 0.95
    assert np.quantile(aspect, 0.05) < 0.8 and np.quantile(aspect, 0.95) > 1.25
    # Uniform offsets: small crops land all over the image.
    small = area < 0.2
    centre_y, centre_x = (y + h / 2)[small], (x + w / 2)[small]
    assert centre_y.min() < 0.25 and centre_y.max() > 0.75
    assert centre_x.min() < 0.25 and centre_x.max() > 0.75
    # Per-image draws: (almost) every image gets its own box.
    assert len(np.unique(boxes, axis=0)) > N - 100


def test_falls_back_to_whole_image():
    # Area 1 at aspect 2 never fits in a square image.
    boxes = _sample(RandomResizedCrop(8, area_range=(1.0, 1.0), aspect_ratio_range=(2, 2)))
    np.testing.assert_allclose(boxes, np.tile([[0, 0, 1, 1]], (N, 1)), atol=1e-6)


def test_seed_determinism():
    a = _sample(RandomResizedCrop(8, seed=3))
    b = _sample(RandomResizedCrop(8, seed=3))
    c = _sample(RandomResizedCrop(8, seed=4))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_call_shape_range_and_fresh_draws():
    crop = compiled_model(RandomResizedCrop(8, seed=0))
    first, second = crop.predict_on_batch(IMAGES), crop.predict_on_batch(IMAGES)
    assert first.shape == (8, 8, 8, 3)
    assert crop.layer.compute_output_shape((None, 16, 16, 3)) == (None, 8, 8, 3)
    assert first.min() >= 0 and first.max() <= 1
    assert not np.allclose(first, second)


def test_serializable():
    crop = RandomResizedCrop(8, (0.2, 0.9), (0.5, 2.0), 10, "bicubic", seed=5)
    revived = assert_serializable(crop)
    np.testing.assert_array_equal(_sample(revived), _sample(crop))  # same seed, same draws
