"""SimCLRAugment: two independent views, stage order, global-batch sampling, compiled models."""

import colorsys

import keras
import numpy as np
import pytest
from augmentation_testing import compiled, compiled_model
from keras import ops
from testing_utils import assert_serializable

from simclr_keras3.augmentation import SimCLRAugment, image_ops

IMAGES = np.random.default_rng(0).uniform(size=(8, 16, 16, 3)).astype("float32")
STAGES = ["crop", "flip", "color_jitter", "grayscale", "blur"]


def np_hue(images, delta):
    pixels = [colorsys.rgb_to_hsv(*px) for px in images.reshape(-1, 3)]
    shifted = [colorsys.hsv_to_rgb((h + delta) % 1.0, s, v) for h, s, v in pixels]
    return np.array(shifted, "float32").reshape(images.shape)


def to_numpy(tree):
    return keras.tree.map_structure(ops.convert_to_numpy, tree)


APPLY_VIEW = compiled(SimCLRAugment(16).apply_view)  # shared: each compilation takes seconds


def test_sample_parameters_layout_and_seeding():
    p = to_numpy(SimCLRAugment(12, seed=0).sample_parameters(8, 16, 16))
    assert sorted(p) == ["view_a", "view_b"]
    for view in p.values():
        assert list(view) == STAGES
        assert view["crop"]["boxes"].shape == (8, 4)
        assert view["flip"]["flip"].shape == (8,)
        assert view["color_jitter"]["order"].shape == (8, 4)
        assert view["blur"]["sigma"].shape == (8,)
    # Independent draws for the two views, reproducible from the seed.
    assert not np.allclose(p["view_a"]["crop"]["boxes"], p["view_b"]["crop"]["boxes"])
    again = to_numpy(SimCLRAugment(12, seed=0).sample_parameters(8, 16, 16))
    keras.tree.map_structure(np.testing.assert_array_equal, p, again)
    other = to_numpy(SimCLRAugment(12, seed=1).sample_parameters(8, 16, 16))
    assert not np.allclose(p["view_a"]["crop"]["boxes"], other["view_a"]["crop"]["boxes"])
    no_blur = SimCLRAugment(12, blur_probability=0.0, seed=0).sample_parameters(8, 16, 16)
    assert list(no_blur["view_a"]) == STAGES[:-1]


def _fixed_view(hue, gray):
    """Whole image, flip every other image, only a hue shift in the jitter, no blur."""
    ones = np.ones(8, "float32")
    return {
        "crop": {"boxes": np.tile(np.array([[0, 0, 1, 1]], "float32"), (8, 1))},
        "flip": {"flip": np.array([True, False] * 4)},
        "color_jitter": {
            "apply": np.ones(8, bool),
            "brightness": ones,
            "contrast": ones,
            "saturation": ones,
            "hue": np.full(8, hue, "float32"),
            "order": np.tile(np.arange(4, dtype="int32"), (8, 1)),
        },
        "grayscale": {"apply": np.asarray(gray)},
        "blur": {"apply": np.zeros(8, bool), "sigma": ones},
    }


def test_apply_view_runs_stages_in_order():
    gray = np.array([True] * 4 + [False] * 4)
    out = ops.convert_to_numpy(APPLY_VIEW(IMAGES, _fixed_view(0.3, gray)))
    flipped = IMAGES.copy()
    flipped[::2] = flipped[::2, :, ::-1]
    jittered = np_hue(flipped, 0.3)
    luma = jittered @ np.array(image_ops.LUMA_WEIGHTS, "float32")
    np.testing.assert_allclose(out[:4], np.repeat(luma[:4, ..., None], 3, -1), atol=1e-5)
    np.testing.assert_allclose(out[4:], jittered[4:], atol=1e-5)
    # Grayscale came after the hue shift: converting first would have erased the shift.
    plain = flipped[:4] @ np.array(image_ops.LUMA_WEIGHTS, "float32")
    assert not np.allclose(luma[:4], plain, atol=1e-3)


def test_global_batch_parameters_slice_per_replica():
    # Parameters drawn for a global batch of 8 are split over two "replicas" of 4: each image
    # must come out the same whichever slice it lands in. Swapping the halves (images and
    # parameters together) checks that without a second compilation for batch 4.
    view = to_numpy(SimCLRAugment(16, seed=1).sample_parameters(8, 16, 16)["view_a"])
    whole = ops.convert_to_numpy(APPLY_VIEW(IMAGES, view))
    swap = np.r_[4:8, 0:4]
    swapped = ops.convert_to_numpy(
        APPLY_VIEW(IMAGES[swap], keras.tree.map_structure(lambda t: t[swap], view))
    )
    np.testing.assert_allclose(swapped, whole[swap], atol=1e-5)
    assert not np.allclose(whole[:4], whole[4:])


def test_compiled_model_draws_two_fresh_views_per_step():
    images = np.random.default_rng(1).uniform(size=(8, 32, 32, 3)).astype("float32")
    # jit on JAX, a graph on TF (an XLA build of both views takes ~30 s on a busy 2-core CPU;
    # every op is XLA-compiled in the other tests, the samplers in the TF-only test below).
    model = compiled_model(SimCLRAugment(32, seed=4))  # 32 px: the blur kernel has 3 taps
    first = to_numpy(model.predict_on_batch(images))
    second = to_numpy(model.predict_on_batch(images))
    for view in first + second:
        assert view.shape == (8, 32, 32, 3) and view.min() >= 0 and view.max() <= 1
    for i in range(8):  # two different views of every image...
        assert not np.allclose(first[0][i], first[1][i])
    # ...and fresh parameters at every step.
    assert not np.allclose(first[0], second[0]) and not np.allclose(first[1], second[1])
    # The functional API works too (symbolic shapes come from compute_output_shape).
    view_a, view_b = SimCLRAugment(16)(keras.Input((32, 32, 3)))
    assert tuple(view_a.shape) == (None, 16, 16, 3) and tuple(view_b.shape) == (None, 16, 16, 3)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TF XLA only")
def test_samplers_compile_under_tf_xla():
    import tensorflow as tf

    augment = SimCLRAugment(32, seed=6)
    draw = tf.function(lambda: augment.sample_parameters(8, 40, 40), jit_compile=True)
    first, second = to_numpy(draw()), to_numpy(draw())
    assert first["view_a"]["crop"]["boxes"].shape == (8, 4)
    assert not np.allclose(first["view_a"]["crop"]["boxes"], second["view_a"]["crop"]["boxes"])


def test_inference_gives_the_resized_image_twice():
    augment = SimCLRAugment(8)
    view_a, view_b = to_numpy(compiled(lambda x: augment(x, training=False))(IMAGES))
    expected = IMAGES.reshape(8, 8, 2, 8, 2, 3).mean(axis=(2, 4))  # whole image, resized
    np.testing.assert_allclose(view_a, expected, atol=1e-6)
    np.testing.assert_array_equal(view_a, view_b)


def test_serializable():
    augment = SimCLRAugment(
        12, (0.2, 0.9), (0.5, 2.0), 0.4, 0.5, 0.7, 0.1, 0.0, (0.2, 1.0), seed=5
    )
    revived = assert_serializable(augment)
    assert revived.crop.area_range == (0.2, 0.9) and revived.color_jitter.strength == 0.5
    assert revived.blur.sigma_range == (0.2, 1.0) and revived.grayscale.probability == 0.1
    keras.tree.map_structure(
        np.testing.assert_array_equal,
        to_numpy(revived.sample_parameters(8, 16, 16)),
        to_numpy(augment.sample_parameters(8, 16, 16)),
    )
