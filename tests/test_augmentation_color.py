"""ColorJitter: each op against NumPy / colorsys, the per-image order, statistics, seeding."""

import colorsys

import keras
import numpy as np
from augmentation_testing import compiled, compiled_model
from keras import ops
from testing_utils import assert_serializable

from simclr_keras3.augmentation import ColorJitter, image_ops

N = 4000
IMAGES = np.random.default_rng(0).uniform(size=(8, 16, 16, 3)).astype("float32")
FACTORS = np.linspace(0.3, 1.7, 8).astype("float32")
HUES = np.linspace(-0.45, 0.45, 8).astype("float32")


# --- NumPy references (one image at a time) ---


def np_brightness(im, f):
    return np.clip(im * f, 0, 1)


def np_contrast(im, f):
    mean = im.mean(axis=(0, 1))
    return np.clip((im - mean) * f + mean, 0, 1)


def _per_pixel_hsv(im, change):
    out = [colorsys.hsv_to_rgb(*change(*colorsys.rgb_to_hsv(*px))) for px in im.reshape(-1, 3)]
    return np.clip(np.array(out).reshape(im.shape), 0, 1)


def np_saturation(im, f):
    return _per_pixel_hsv(im, lambda h, s, v: (h, min(s * f, 1.0), v))


def np_hue(im, d):
    return _per_pixel_hsv(im, lambda h, s, v: ((h + d) % 1.0, s, v))


NP_OPS = (np_brightness, np_contrast, np_saturation, np_hue)


def test_single_ops_match_numpy():
    def all_ops(images):  # one compiled function: each XLA build takes seconds
        return (
            image_ops.adjust_brightness(images, FACTORS),
            image_ops.adjust_contrast(images, FACTORS),
            image_ops.adjust_saturation(images, FACTORS),
            image_ops.adjust_hue(images, HUES),
        )

    outputs = compiled(all_ops)(IMAGES)
    values = (FACTORS, FACTORS, FACTORS, HUES)
    for out, reference, per_image in zip(outputs, NP_OPS, values):
        expected = np.stack([reference(im, v) for im, v in zip(IMAGES, per_image)])
        out = ops.convert_to_numpy(out)
        np.testing.assert_allclose(out, expected, atol=1e-4, err_msg=reference.__name__)


def _parameters(order, apply):
    return {
        "apply": np.asarray(apply),
        "brightness": FACTORS,
        "contrast": FACTORS[::-1].copy(),
        "saturation": np.roll(FACTORS, 3),
        "hue": HUES,
        "order": np.asarray(order, "int32"),
    }


ORDERS = [[0, 1, 2, 3], [3, 2, 1, 0], [1, 3, 0, 2], [2, 0, 3, 1], [3, 0, 2, 1], [1, 2, 3, 0]] + [
    [0, 1, 2, 3]
] * 2
APPLY = [True] * 6 + [False, True]
JITTER = compiled(ColorJitter().apply)  # compiled once: XLA builds of the jitter take seconds


def test_random_order_matches_numpy_composition():
    p = _parameters(ORDERS, APPLY)
    out = ops.convert_to_numpy(JITTER(IMAGES, p))
    for b in range(8):
        expected = IMAGES[b]
        if APPLY[b]:
            values = [p["brightness"][b], p["contrast"][b], p["saturation"][b], p["hue"][b]]
            for op in ORDERS[b]:
                expected = NP_OPS[op](expected, values[op])
        np.testing.assert_allclose(out[b], expected, atol=1e-4, err_msg=f"image {b}")
    assert out.min() >= 0 and out.max() <= 1
    # The order matters, so the check above really tests it.
    reversed_order = ops.convert_to_numpy(
        JITTER(IMAGES, _parameters([o[::-1] for o in ORDERS], APPLY))
    )
    assert not np.allclose(out[:6], reversed_order[:6], atol=1e-3)


def _sample(layer):
    return {k: ops.convert_to_numpy(v) for k, v in layer.sample_parameters(N).items()}


def test_sampled_parameters_statistics():
    p = _sample(ColorJitter(seed=1))
    assert abs(p["apply"].mean() - 0.8) < 0.03
    for name in ("brightness", "contrast", "saturation"):
        assert p[name].shape == (N,)
        assert p[name].min() >= 0.2 and p[name].max() <= 1.8
        assert p[name].min() < 0.25 and p[name].max() > 1.75, name
    assert p["hue"].min() >= -0.2 and p["hue"].max() <= 0.2
    assert p["hue"].min() < -0.19 and p["hue"].max() > 0.19
    order = p["order"]
    assert order.shape == (N, 4)
    np.testing.assert_array_equal(np.sort(order, axis=1), np.tile(np.arange(4), (N, 1)))
    assert len({tuple(row) for row in order}) == 24  # all permutations occur
    for position in range(4):  # each op equally likely at each step
        counts = np.bincount(order[:, position], minlength=4) / N
        np.testing.assert_allclose(counts, 0.25, atol=0.03)
    # Per image: neighbouring images draw different factors.
    assert np.all(p["brightness"][1:] != p["brightness"][:-1])


def test_strength_scales_ranges():
    weak = _sample(ColorJitter(strength=0.5, seed=2))
    assert weak["brightness"].min() >= 0.6 and weak["brightness"].max() <= 1.4
    assert np.abs(weak["hue"]).max() <= 0.1 and np.abs(weak["hue"]).max() > 0.09
    strong = _sample(ColorJitter(strength=1.5, seed=2))  # 1 - 1.2 < 0: lower end is 0
    assert strong["contrast"].min() >= 0 and strong["contrast"].min() < 0.05
    assert strong["contrast"].max() > 2.1


def test_call_fresh_draws_seed_and_inference():
    model = compiled_model(ColorJitter(seed=3))
    first, second = model.predict_on_batch(IMAGES), model.predict_on_batch(IMAGES)
    assert first.shape == IMAGES.shape and first.min() >= 0 and first.max() <= 1
    assert not np.allclose(first, second)
    same = [_sample(ColorJitter(seed=3)) for _ in range(2)]
    keras.tree.map_structure(np.testing.assert_array_equal, *same)
    assert not np.allclose(same[0]["brightness"], _sample(ColorJitter(seed=4))["brightness"])
    np.testing.assert_array_equal(
        ops.convert_to_numpy(ColorJitter(seed=3)(IMAGES, training=False)), IMAGES
    )


def test_serializable():
    jitter = ColorJitter(0.5, 0.9, 0.4, 0.3, 0.2, 0.1, seed=5)
    revived = assert_serializable(jitter)
    keras.tree.map_structure(np.testing.assert_array_equal, _sample(revived), _sample(jitter))
