"""RandomGrayscale: luma against NumPy, probability, seeding."""

import numpy as np
from augmentation_testing import compiled
from keras import ops
from testing_utils import assert_serializable

from simclr_keras3.augmentation import RandomGrayscale

N = 4000
IMAGES = np.random.default_rng(0).uniform(size=(8, 16, 16, 3)).astype("float32")


def test_apply_matches_luma():
    flags = np.array([True, True, False, True, False, False, True, False])
    out = ops.convert_to_numpy(compiled(RandomGrayscale().apply)(IMAGES, {"apply": flags}))
    luma = IMAGES @ np.array([0.2989, 0.5870, 0.1140], "float32")
    np.testing.assert_allclose(out[flags], np.repeat(luma[flags][..., None], 3, -1), atol=1e-6)
    np.testing.assert_array_equal(out[~flags], IMAGES[~flags])


def test_probability_and_independence():
    flags = ops.convert_to_numpy(RandomGrayscale(seed=1).sample_parameters(N)["apply"])
    assert flags.shape == (N,)
    assert abs(flags.mean() - 0.2) < 0.03
    assert abs((flags[1:] & flags[:-1]).mean() - 0.04) < 0.02  # independent neighbours


def test_call_and_seed_determinism():
    layer = RandomGrayscale(0.5, seed=2)
    a = ops.convert_to_numpy(layer(IMAGES))
    b = ops.convert_to_numpy(RandomGrayscale(0.5, seed=2)(IMAGES))
    np.testing.assert_array_equal(a, b)
    gray = np.all(np.abs(a - a[..., :1]) < 1e-6, axis=(1, 2, 3))
    untouched = np.all(a == IMAGES, axis=(1, 2, 3))
    assert np.all(gray ^ untouched)
    assert a.min() >= 0 and a.max() <= 1
    seeds = [RandomGrayscale(seed=s).sample_parameters(N)["apply"] for s in (3, 4)]
    assert not np.array_equal(*map(ops.convert_to_numpy, seeds))
    np.testing.assert_array_equal(ops.convert_to_numpy(layer(IMAGES, training=False)), IMAGES)


def test_serializable():
    assert_serializable(RandomGrayscale(0.7, seed=5), IMAGES)
