"""The embedded Fashion-MNIST subset: composition, format and provenance."""

import os
from importlib import resources

import numpy as np
import pytest

from simclr_keras3.data import FASHION_MNIST_CLASS_NAMES, idx, load_dataset
from simclr_keras3.data.embedded import subset_path


@pytest.fixture(scope="module")
def arrays():
    with subset_path().open("rb") as f, np.load(f) as npz:
        return dict(npz)


def test_file_is_small_and_ships_its_licence():
    assert os.path.getsize(subset_path()) < 4_000_000
    notice = (resources.files("simclr_keras3.data") / "NOTICE.fashion-mnist").read_text()
    assert "Zalando SE" in notice and "Permission is hereby granted" in notice


@pytest.mark.parametrize("split, per_class", [("train", 500), ("test", 100)])
def test_stratified_uint8_with_provenance(arrays, split, per_class):
    images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
    indices = arrays[f"{split}_source_indices"]
    assert images.dtype == np.uint8 and images.shape == (10 * per_class, 28, 28)
    np.testing.assert_array_equal(np.bincount(labels), [per_class] * 10)
    assert np.all(np.diff(indices) > 0)  # unique, in original order
    assert list(arrays[f"{split}_ids"]) == [f"fashion_mnist/{split}/{i}" for i in indices]


@pytest.mark.skipif(
    not os.path.isfile(os.path.join(idx.DEBIAN_FASHION_MNIST_DIR, "train-images-idx3-ubyte.gz")),
    reason="Debian Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)",
)
@pytest.mark.parametrize("split", ["train", "test"])
def test_images_equal_the_originals(arrays, split):
    images, labels = idx.read_fashion_mnist(split)
    indices = arrays[f"{split}_source_indices"]
    np.testing.assert_array_equal(arrays[f"{split}_images"], images[indices])
    np.testing.assert_array_equal(arrays[f"{split}_labels"], labels[indices])


def test_loads_as_float_rgb():
    ds = load_dataset("fashion_mnist_subset", split="test", image_size=32)
    assert ds.images.shape == (1000, 32, 32, 3) and ds.images.dtype == np.float32
    assert 0.0 <= ds.images.min() and ds.images.max() <= 1.0
    assert ds.labels.dtype == np.int64 and ds.num_classes == 10
    assert ds.class_names == FASHION_MNIST_CLASS_NAMES
    assert ds.name == "fashion_mnist_subset" and ds.ids[0].startswith("fashion_mnist/test/")
    assert len(load_dataset("fashion_mnist_subset", limit=7)) == 7
