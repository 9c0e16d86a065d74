"""TFDS loading on mock data (offline), tf.data export, and the missing-package message."""

import sys

import numpy as np
import pytest

from simclr_keras3.data import as_tf_dataset, load_dataset
from simclr_keras3.errors import UserInputError


@pytest.fixture(scope="module")
def tfds():
    return pytest.importorskip("tensorflow_datasets")


@pytest.mark.parametrize("name, size", [("mnist", 32), ("cifar10", 16)])
def test_fixed_size_dataset(tfds, name, size):
    with tfds.testing.mock_data(num_examples=6):
        ds = load_dataset(f"tfds:{name}", split="test", image_size=size, download=False, limit=4)
    assert ds.images.shape == (4, size, size, 3) and ds.images.dtype == np.float32
    assert 0.0 <= ds.images.min() and ds.images.max() <= 1.0
    if name == "mnist":  # gray → identical channels
        np.testing.assert_array_equal(ds.images[..., 0], ds.images[..., 2])
    assert ds.labels.dtype == np.int64 and ds.num_classes == 10
    assert ds.name == f"tfds:{name}" and ds.ids[0] == f"{name}/test/0"


def test_variable_size_dataset_gets_the_eval_crop(tfds):
    with tfds.testing.mock_data(num_examples=3):  # mock tf_flowers images have random sizes
        ds = load_dataset("tfds:tf_flowers", split="train", image_size=24, download=False)
    assert ds.images.shape == (3, 24, 24, 3) and ds.num_classes == 5
    assert 0.0 <= ds.images.min() and ds.images.max() <= 1.0


def test_unprepared_dataset_says_what_to_do(tfds, tmp_path):
    with pytest.raises(UserInputError, match="not prepared"):
        load_dataset("tfds:mnist", data_dir=str(tmp_path), download=False)


def test_as_tf_dataset():
    pytest.importorskip("tensorflow")
    ds = load_dataset("fashion_mnist_subset", split="test", limit=10)
    batches = list(as_tf_dataset(ds, batch_size=4, seed=1))
    assert [len(images) for images, _ in batches] == [4, 4, 2]
    assert tuple(batches[0][0].shape[1:]) == (32, 32, 3)
    labels = np.concatenate([labels.numpy() for _, labels in batches])
    assert sorted(labels) == sorted(ds.labels)


def test_missing_tfds_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorflow_datasets", None)  # import now raises ImportError
    with pytest.raises(UserInputError, match=r"pip install 'simclr-keras3\[tfds\]'"):
        load_dataset("tfds:mnist", download=False)
