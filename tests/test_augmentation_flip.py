"""RandomHorizontalFlip: per-image flags, mirror against NumPy, statistics, seeding."""

import numpy as np
from augmentation_testing import compiled
from keras import ops
from testing_utils import assert_serializable

from simclr_keras3.augmentation import RandomHorizontalFlip

N = 4000
IMAGES = np.random.default_rng(0).uniform(size=(8, 16, 16, 3)).astype("float32")


def test_apply_flips_flagged_images_only():
    flags = np.array([True, False] * 4)
    out = ops.convert_to_numpy(compiled(RandomHorizontalFlip().apply)(IMAGES, {"flip": flags}))
    np.testing.assert_array_equal(out[flags], IMAGES[flags][:, :, ::-1])
    np.testing.assert_array_equal(out[~flags], IMAGES[~flags])


def test_flip_probability_and_independence():
    flags = ops.convert_to_numpy(RandomHorizontalFlip(seed=1).sample_parameters(N)["flip"])
    assert flags.shape == (N,) and flags.dtype == bool
    assert abs(flags.mean() - 0.5) < 0.04
    # Independent per image: neighbours agree about half the time, not always.
    assert abs((flags[1:] == flags[:-1]).mean() - 0.5) < 0.04
    never = ops.convert_to_numpy(RandomHorizontalFlip(0.0, seed=1).sample_parameters(N)["flip"])
    assert not never.any()


def test_call_and_seed_determinism():
    a = ops.convert_to_numpy(RandomHorizontalFlip(seed=2)(IMAGES))
    b = ops.convert_to_numpy(RandomHorizontalFlip(seed=2)(IMAGES))
    np.testing.assert_array_equal(a, b)
    flipped = np.array([np.array_equal(o, i[:, ::-1]) for o, i in zip(a, IMAGES)])
    kept = np.array([np.array_equal(o, i) for o, i in zip(a, IMAGES)])
    assert np.all(flipped ^ kept)  # every image is either mirrored or untouched
    seeds = [RandomHorizontalFlip(seed=s).sample_parameters(N)["flip"] for s in (3, 4)]
    assert not np.array_equal(*map(ops.convert_to_numpy, seeds))
    np.testing.assert_array_equal(
        ops.convert_to_numpy(RandomHorizontalFlip()(IMAGES, training=False)), IMAGES
    )


def test_serializable():
    assert_serializable(RandomHorizontalFlip(0.3, seed=5), IMAGES)
