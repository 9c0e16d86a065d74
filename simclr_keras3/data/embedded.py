"""The Fashion-MNIST subset shipped inside the package: real data that needs no download.

6,000 images from Fashion-MNIST (Zalando Research, MIT licence; see NOTICE.fashion-mnist):
500 per class from the training set and 100 per class from the test set, 28×28 uint8, drawn
with a fixed seed by ``scripts/make_embedded_subset.py``. The file also records, as
``{split}_source_indices``, the position of every image in the original IDX files.
"""

from importlib import resources

from simclr_keras3.data.npz import load_npz
from simclr_keras3.errors import UserInputError

SUBSET_NAME = "fashion_mnist_subset"
SUBSET_FILE = "fashion_mnist_subset.npz"


def subset_path():
    """Return a traversable path to the embedded ``.npz`` (inside the installed package)."""
    return resources.files("simclr_keras3.data") / SUBSET_FILE


def load_fashion_mnist_subset(split="train", image_size=32, limit=None):
    """Load the embedded Fashion-MNIST subset.

    Args:
        split: "train" (5,000 images, 500 per class) or "test" (1,000, 100 per class).
        image_size: side of the square output images (28 → 32 by default, bilinear).
        limit: keep only the first ``limit`` images (the original order, so classes stay mixed).

    Example:
        >>> ds = load_fashion_mnist_subset("test")
        >>> len(ds), ds.num_classes, ds.ids[0]
        (1000, 10, 'fashion_mnist/test/9')
    """
    if split not in ("train", "test"):
        raise UserInputError(f"{SUBSET_NAME} has splits 'train' and 'test', not {split!r}")
    with subset_path().open("rb") as f:
        return load_npz(f, split=split, image_size=image_size, limit=limit, name=SUBSET_NAME)
