"""Data input: every source becomes an ``ImageDataset`` of float32 (N, S, S, 3) images in [0, 1].

Nothing here imports TensorFlow except the TFDS loader and ``as_tf_dataset``, and those only
when called, so JAX and PyTorch users never need it.

Example:
    >>> from simclr_keras3.data import load_dataset
    >>> train = load_dataset("fashion_mnist_subset", split="train", image_size=32)
    >>> train.images.shape, train.class_names[0]
    ((5000, 32, 32, 3), 'T-shirt/top')
"""

from simclr_keras3.data.embedded import load_fashion_mnist_subset
from simclr_keras3.data.idx import (
    FASHION_MNIST_CLASS_NAMES,
    load_fashion_mnist,
    parse_idx,
    read_fashion_mnist,
    read_idx,
)
from simclr_keras3.data.image_dataset import ImageDataset
from simclr_keras3.data.image_folder import load_image_folder
from simclr_keras3.data.npz import load_npz
from simclr_keras3.data.preprocess import eval_preprocess, preprocess_images
from simclr_keras3.data.registry import known_datasets, load_dataset, load_digits
from simclr_keras3.data.tf_data import as_tf_dataset
from simclr_keras3.data.tfds_source import load_tfds

__all__ = [
    "FASHION_MNIST_CLASS_NAMES",
    "ImageDataset",
    "as_tf_dataset",
    "eval_preprocess",
    "known_datasets",
    "load_dataset",
    "load_digits",
    "load_fashion_mnist",
    "load_fashion_mnist_subset",
    "load_image_folder",
    "load_npz",
    "load_tfds",
    "parse_idx",
    "preprocess_images",
    "read_fashion_mnist",
    "read_idx",
]
