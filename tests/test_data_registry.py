"""load_dataset dispatch, argument checks, digits, and the ImageDataset container."""

import pathlib

import numpy as np
import pytest

from simclr_keras3.data import ImageDataset, known_datasets, load_dataset
from simclr_keras3.errors import UserInputError


def test_unknown_dataset_lists_the_known_ones():
    with pytest.raises(UserInputError) as err:
        load_dataset("imagenet_please")
    message = str(err.value)
    assert "imagenet_please" in message and "\n" not in message
    for known in known_datasets():
        assert known in message


@pytest.mark.parametrize("limit", [0, -1, 1.5, "10"])
def test_bad_limit(limit):
    with pytest.raises(UserInputError, match="limit"):
        load_dataset("fashion_mnist_subset", limit=limit)


def test_digits_split_is_deterministic_and_disjoint():
    pytest.importorskip("sklearn")
    train, test = load_dataset("digits", "train", 8), load_dataset("digits", "test", 8)
    assert (len(train), len(test)) == (1437, 360)
    assert not set(train.ids) & set(test.ids)
    np.testing.assert_array_equal(load_dataset("digits", "test", 8).ids, test.ids)
    assert train.images.shape == (1437, 8, 8, 3) and train.images.max() == 1.0
    assert train.num_classes == 10


def test_path_objects_are_accepted(tmp_path):
    path = tmp_path / "p.npz"
    np.savez(path, images=np.zeros((2, 4, 4), np.uint8))
    assert len(load_dataset(pathlib.Path(path), image_size=4)) == 2


def test_image_dataset_take_and_checks():
    ds = ImageDataset.from_arrays(
        np.arange(4, dtype=np.uint8)[:, None, None] * np.ones((4, 2, 2), np.uint8),
        labels=[3, 1, 0, 1],
        name="toy",
        class_names=["a", "b", "c", "d"],
        image_size=2,
    )
    subset = ds.take([2, 0])
    assert list(subset.ids) == ["toy/2", "toy/0"] and list(subset.labels) == [0, 3]
    np.testing.assert_allclose(subset.images[:, 0, 0, 0], [2 / 255, 0.0])
    assert subset.num_classes == 4 and len(ds.take(ds.labels == 1)) == 2
    with pytest.raises(UserInputError, match="one id per image"):
        ImageDataset(images=np.zeros((2, 4, 4, 3)), labels=None, ids=["x"], name="bad")
    with pytest.raises(UserInputError, match=r"\(N, H, W, 3\)"):
        ImageDataset(images=np.zeros((2, 4, 4)), labels=None, ids=["x", "y"], name="bad")
