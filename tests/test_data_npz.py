"""Datasets from .npz files: layouts, conversions and mistakes."""

import numpy as np
import pytest

from simclr_keras3.data import load_dataset, load_npz
from simclr_keras3.errors import UserInputError


def test_gray_uint8_with_labels(tmp_path):
    images = np.zeros((4, 28, 28), np.uint8)
    images[1] = 255
    path = tmp_path / "toy.npz"
    np.savez(path, images=images, labels=np.array([0, 1, 2, 1], np.uint8))
    ds = load_dataset(str(path), image_size=28)
    assert ds.images.shape == (4, 28, 28, 3) and ds.images.dtype == np.float32
    np.testing.assert_array_equal(ds.images[1], 1.0)
    np.testing.assert_array_equal(ds.images[0], 0.0)
    assert ds.labels.dtype == np.int64 and list(ds.labels) == [0, 1, 2, 1]
    assert ds.num_classes == 3 and ds.class_names is None
    assert list(ds.ids) == [f"toy.npz/train/{i}" for i in range(4)]


def test_missing_labels_and_given_ids(tmp_path):
    path = tmp_path / "unlabelled.npz"
    np.savez(path, images=np.full((3, 8, 8, 3), 0.5, np.float32), ids=np.array(["a", "b", "c"]))
    ds = load_npz(path, image_size=4)
    assert ds.labels is None and ds.num_classes is None
    assert list(ds.ids) == ["a", "b", "c"]
    np.testing.assert_allclose(ds.images, 0.5)


def test_split_prefixed_arrays_and_class_names(tmp_path):
    path = tmp_path / "splits.npz"
    np.savez(
        path,
        train_images=np.zeros((5, 4, 4), np.uint8),
        train_labels=np.arange(5) % 2,
        test_images=np.ones((2, 4, 4), np.uint8),
        test_labels=np.array([1, 0]),
        class_names=np.array(["cat", "dog"]),
    )
    test = load_dataset(str(path), split="test", image_size=4)
    assert len(test) == 2 and list(test.labels) == [1, 0]
    assert test.class_names == ["cat", "dog"]
    assert len(load_dataset(str(path), split="train", limit=3)) == 3


def test_single_split_file_has_no_test_split(tmp_path):
    path = tmp_path / "one.npz"
    np.savez(path, images=np.zeros((2, 4, 4), np.uint8))
    with pytest.raises(UserInputError, match="test_images"):
        load_dataset(str(path), split="test")


@pytest.mark.parametrize(
    "arrays, message",
    [
        ({"pixels": np.zeros((2, 4, 4), np.uint8)}, "no 'images'"),
        ({"images": np.zeros((2, 4, 4), np.uint8), "labels": np.array([0.5, 1.0])}, "integers"),
        ({"images": np.zeros((2, 4, 4), np.uint8), "labels": np.array([0, 1, 2])}, "labels"),
        ({"images": np.array([[None]], dtype=object)}, "plain arrays"),
        ({"images": np.full((2, 4, 4), 7.0)}, r"\[0, 1\]"),
    ],
    ids=["no-images", "float-labels", "label-count", "pickled", "float-range"],
)
def test_bad_contents(tmp_path, arrays, message):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(UserInputError, match=message):
        load_npz(path)


def test_missing_or_not_an_archive(tmp_path):
    with pytest.raises(UserInputError, match="no such .npz file"):
        load_dataset(str(tmp_path / "absent.npz"))
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"this is not a zip archive")
    with pytest.raises(UserInputError, match="garbage.npz"):
        load_npz(garbage)
    single = tmp_path / "single.npz"
    with open(single, "wb") as f:
        np.save(f, np.zeros((2, 4, 4), np.uint8))
    with pytest.raises(UserInputError, match="np.savez"):
        load_npz(single)
