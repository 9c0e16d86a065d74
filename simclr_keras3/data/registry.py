"""One entry point, ``load_dataset(name)``, over every data source."""

import os

import numpy as np

from simclr_keras3.data.embedded import SUBSET_NAME, load_fashion_mnist_subset
from simclr_keras3.data.idx import load_fashion_mnist
from simclr_keras3.data.image_dataset import ImageDataset
from simclr_keras3.data.image_folder import load_image_folder
from simclr_keras3.data.npz import load_npz
from simclr_keras3.data.preprocess import check_image_size, check_positive_int
from simclr_keras3.errors import UserInputError

TFDS_PREFIX = "tfds:"
# Fraction of scikit-learn's digits used for training; the rest is the test split.
_DIGITS_TRAIN_FRACTION = 0.8


def known_datasets():
    """The dataset names and name patterns ``load_dataset`` accepts, for help and error messages.

    Example:
        >>> known_datasets()[:2]
        ['fashion_mnist_subset', 'fashion_mnist']
    """
    return [SUBSET_NAME, "fashion_mnist", "digits", "tfds:NAME", "PATH.npz", "PATH/ (image folder)"]


def load_digits(split="train", image_size=32, limit=None):
    """scikit-learn's 8×8 digits (1,797 images), split 80/20 by a fixed permutation; for tests.

    Args:
        split: "train" (1,437 images) or "test" (360).
        image_size: side of the square output images.
        limit: keep only the first ``limit`` images.

    Example:
        >>> load_digits("test").images.shape
        (360, 32, 32, 3)
    """
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError as err:
        raise UserInputError(
            f"the digits dataset needs scikit-learn ({err}): pip install scikit-learn"
        ) from err
    if split not in ("train", "test"):
        raise UserInputError(f"digits has splits 'train' and 'test', not {split!r}")
    digits = sklearn_digits()
    order = np.random.default_rng(0).permutation(len(digits.images))
    n_train = int(_DIGITS_TRAIN_FRACTION * len(order))
    indices = np.sort(order[:n_train] if split == "train" else order[n_train:])[:limit]
    return ImageDataset.from_arrays(
        digits.images[indices] / 16.0,  # pixel values are 0..16
        digits.target[indices],
        ids=np.array([f"digits/{i}" for i in indices]),
        name="digits",
        class_names=[str(d) for d in range(10)],
        image_size=image_size,
    )


def load_dataset(
    name, split="train", image_size=32, data_dir=None, limit=None, *, download=True, skip_bad=False
):
    """Load a dataset by name or path as an ``ImageDataset`` (float32 (N, S, S, 3) in [0, 1]).

    Args:
        name: one of
            "fashion_mnist_subset" (embedded, 5,000 train / 1,000 test, no files needed);
            "fashion_mnist" (full, from the IDX files in ``data_dir`` or the Debian package);
            "digits" (scikit-learn's 8×8 digits, tiny);
            "tfds:NAME" (any TFDS image dataset, e.g. "tfds:cifar10");
            a path ending in ".npz" (see ``load_npz``);
            a folder of images (see ``load_image_folder``; classes from subfolder names).
        split: "train" or "test" (a TFDS split string for TFDS; a folder's ``split``
            subfolder when it has one, else the folder itself for "train").
        image_size: side of the square output images.
        data_dir: folder with the Fashion-MNIST IDX files, or the TFDS data folder.
        limit: keep only the first ``limit`` images (deterministic order).
        download: TFDS only: allow downloading a dataset that is not prepared.
        skip_bad: image folders only: skip undecodable files (listed in ``skipped``).

    Example:
        >>> train = load_dataset("fashion_mnist_subset", split="train", image_size=32)
        >>> train.images.shape, train.num_classes
        ((5000, 32, 32, 3), 10)
    """
    name = os.fspath(name)
    image_size = check_image_size(image_size)
    limit = None if limit is None else check_positive_int(limit, "limit")
    if name == SUBSET_NAME:
        return load_fashion_mnist_subset(split, image_size, limit)
    if name == "fashion_mnist":
        return load_fashion_mnist(split, image_size, data_dir, limit)
    if name == "digits":
        return load_digits(split, image_size, limit)
    if name.startswith(TFDS_PREFIX):
        # Imported here so that TensorFlow stays out of array-only workflows.
        from simclr_keras3.data.tfds_source import load_tfds

        return load_tfds(name[len(TFDS_PREFIX) :], split, image_size, data_dir, limit, download)
    path = os.path.expanduser(name)
    if name.lower().endswith(".npz"):
        return load_npz(path, split, image_size, limit, name=name)
    if os.path.isdir(path):
        return _load_folder_split(path, split, image_size, limit, skip_bad, name)
    raise UserInputError(
        f"unknown dataset {name!r} (not a known name, .npz file or folder): use one of "
        + ", ".join(known_datasets())
    )


def _load_folder_split(root, split, image_size, limit, skip_bad, name):
    # A folder with train/ and test/ subfolders holds its splits; a plain folder is one split,
    # given only for "train" so that evaluation never silently tests on the training images.
    split_dir = os.path.join(root, split)
    if os.path.isdir(split_dir):
        return load_image_folder(split_dir, image_size, skip_bad, limit, name=name)
    if split == "train":
        return load_image_folder(root, image_size, skip_bad, limit, name=name)
    raise UserInputError(
        f"image folder {root} is a single (train) split with no {split!r} subfolder: "
        f"arrange it as {os.path.join(root, 'train')}/ and {os.path.join(root, split)}/"
    )
